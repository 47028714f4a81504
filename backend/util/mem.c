/* mem.c: aborting allocators and secret wiping. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util/mem.h"

static void __attribute__((noreturn))
mem_oom(size_t n)
{
    /* No allocation here: we are out of memory. */
    fprintf(stderr, "certward: out of memory allocating %lu bytes\n",
            (unsigned long)n);
    abort();
}

void *
cw_xmalloc(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);

    if (p == NULL)
        mem_oom(n);
    return p;
}

void *
cw_xcalloc(size_t n, size_t size)
{
    void *p;

    if (size != 0 && n > SIZE_MAX / size)
        mem_oom(SIZE_MAX);
    p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
    if (p == NULL)
        mem_oom(n * size);
    return p;
}

void *
cw_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n == 0 ? 1 : n);

    if (q == NULL)
        mem_oom(n);
    return q;
}

char *
cw_xstrdup(const char *s)
{
    return cw_xstrndup(s, strlen(s));
}

char *
cw_xstrndup(const char *s, size_t n)
{
    char *p;

    if (n == SIZE_MAX)
        mem_oom(n);
    p = cw_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void
cw_free_secret(void *p, size_t n)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, n);
    free(p);
}

void
cw_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "certward: assertion failed: %s (%s:%d)\n", expr, file,
            line);
    abort();
}

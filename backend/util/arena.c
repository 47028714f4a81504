/* arena.c: chunked bump allocator with deferred destructors. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/mem.h"

#define ARENA_CHUNK 8192u
#define ARENA_ALIGN 16u

struct arena_chunk {
    struct arena_chunk *next;
    size_t              size;
    size_t              off;
    _Alignas(16) unsigned char data[];
};

struct arena_defer {
    struct arena_defer *next;
    arena_free_fn       fn;
    void               *p;
};

void
arena_init(struct arena *a)
{
    a->chunks = NULL;
    a->defers = NULL;
    a->used = 0;
}

void
arena_reset(struct arena *a)
{
    struct arena_defer *d = a->defers;
    struct arena_chunk *c = a->chunks;

    /* Destructors first: they may reference arena memory. */
    a->defers = NULL;
    while (d != NULL) {
        struct arena_defer *next = d->next;

        d->fn(d->p);
        d = next;
    }
    while (c != NULL) {
        struct arena_chunk *next = c->next;

        free(c);
        c = next;
    }
    a->chunks = NULL;
    a->used = 0;
}

void
arena_recycle(struct arena *a)
{
    struct arena_defer *d = a->defers;
    struct arena_chunk *c = a->chunks;
    struct arena_chunk *keep = NULL;

    a->defers = NULL;
    while (d != NULL) {
        struct arena_defer *next = d->next;

        d->fn(d->p);
        d = next;
    }
    while (c != NULL) {
        struct arena_chunk *next = c->next;

        if (keep == NULL && c->size == ARENA_CHUNK) {
            /* What the last request left there is not kept readable. */
            memset(c->data, 0, c->off);
            c->off = 0;
            c->next = NULL;
            keep = c;
        } else {
            free(c);
        }
        c = next;
    }
    a->chunks = keep;
    a->used = 0;
}

void *
arena_alloc(struct arena *a, size_t n)
{
    struct arena_chunk *c = a->chunks;
    size_t              sz;
    void               *p;

    if (n > SIZE_MAX - ARENA_ALIGN)
        cw_assert_fail("arena size overflow", __FILE__, __LINE__);
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (n == 0)
        n = ARENA_ALIGN;
    if (c == NULL || c->size - c->off < n) {
        sz = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = cw_xmalloc(sizeof(*c) + sz);
        c->size = sz;
        c->off = 0;
        /* A large one-off allocation goes behind the current chunk so the
         * remaining space of the current chunk stays usable. */
        if (n > ARENA_CHUNK && a->chunks != NULL) {
            c->next = a->chunks->next;
            a->chunks->next = c;
        } else {
            c->next = a->chunks;
            a->chunks = c;
        }
    }
    p = c->data + c->off;
    c->off += n;
    a->used += n;
    return p;
}

void *
arena_zalloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);

    memset(p, 0, n);
    return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p;

    if (n == SIZE_MAX)
        cw_assert_fail("arena size overflow", __FILE__, __LINE__);
    p = arena_alloc(a, n + 1);
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    int     n;
    char   *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void
arena_defer(struct arena *a, arena_free_fn fn, void *p)
{
    struct arena_defer *d;

    if (p == NULL)
        return;
    d = arena_alloc(a, sizeof(*d));
    d->fn = fn;
    d->p = p;
    d->next = a->defers;
    a->defers = d;
}

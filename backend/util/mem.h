/*
 * mem.h: allocation. Out of memory aborts the process (STYLE 3): inputs are
 * capped before anything is allocated, the pool restarts a dead worker and
 * MariaDB rolls back an open transaction on disconnect. Raw malloc() is not
 * used outside util/.
 */
#ifndef CW_UTIL_MEM_H
#define CW_UTIL_MEM_H

#include <stddef.h>

void *cw_xmalloc(size_t n) __attribute__((malloc, returns_nonnull));
void *cw_xcalloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull));
void *cw_xrealloc(void *p, size_t n) __attribute__((returns_nonnull));
char *cw_xstrdup(const char *s) __attribute__((malloc, returns_nonnull, nonnull));
char *cw_xstrndup(const char *s, size_t n)
    __attribute__((malloc, returns_nonnull, nonnull));
/* Wipe then free; for buffers that held secrets. NULL-safe. */
void cw_free_secret(void *p, size_t n);

/* Assertion that stays on in release builds. Never used on input. */
#define CW_ASSERT(x)                                                        \
    do {                                                                    \
        if (!(x))                                                           \
            cw_assert_fail(#x, __FILE__, __LINE__);                         \
    } while (0)
void cw_assert_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));

#endif

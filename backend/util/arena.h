/*
 * arena.h: per-request memory. Everything a request allocates comes from its
 * arena and is released once after the response; foreign objects (jansson,
 * OpenSSL) are attached with arena_defer() and freed at the same point.
 */
#ifndef CW_UTIL_ARENA_H
#define CW_UTIL_ARENA_H

#include <stddef.h>

typedef void (*arena_free_fn)(void *);

struct arena_chunk;
struct arena_defer;

struct arena {
    struct arena_chunk *chunks;
    struct arena_defer *defers;
    size_t              used;   /* bytes handed out, for accounting */
};

void arena_init(struct arena *a);
/* Release everything; the arena can be used again afterwards. */
void arena_reset(struct arena *a);
/* Release everything but one standard chunk, wiped and kept for the next
 * use (a worker thread's request arena: no malloc and free per request).
 * arena_reset() frees that one too. */
void arena_recycle(struct arena *a);
void *arena_alloc(struct arena *a, size_t n)
    __attribute__((malloc, returns_nonnull));
void *arena_zalloc(struct arena *a, size_t n)
    __attribute__((malloc, returns_nonnull));
char *arena_strndup(struct arena *a, const char *s, size_t n)
    __attribute__((returns_nonnull));
char *arena_strdup(struct arena *a, const char *s)
    __attribute__((returns_nonnull));
char *arena_printf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), returns_nonnull));
/* Call fn(p) at arena_reset(), in reverse order of registration. */
void arena_defer(struct arena *a, arena_free_fn fn, void *p);

#endif

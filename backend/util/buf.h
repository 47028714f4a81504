/*
 * buf.h: a growable byte buffer with a hard maximum set at init. Growing
 * past the maximum fails with CW_E_TOOLARGE and resets the buffer, so no
 * input can grow memory without bound. The contents are always followed by
 * a NUL byte (not counted in len) so text can be handed to C APIs.
 */
#ifndef CW_UTIL_BUF_H
#define CW_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct buf {
    uint8_t *p;
    size_t   len;
    size_t   cap;
    size_t   max;
};

/* A borrowed byte range; never assumed NUL-terminated. */
struct str {
    const char *p;
    size_t      len;
};

#define STR_LIT(s) ((struct str){ (s), sizeof(s) - 1 })

void buf_init(struct buf *b, size_t max);
void buf_cleanup(struct buf *b);
void buf_reset(struct buf *b);
/* Wipe the contents (secrets) then free. */
void buf_cleanup_secret(struct buf *b);
enum cw_err buf_append(struct buf *b, const void *p, size_t n);
enum cw_err buf_puts(struct buf *b, const char *s);
enum cw_err buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Make room for n more bytes; returns a pointer to write into. */
enum cw_err buf_reserve(struct buf *b, size_t n, uint8_t **out);
/* Hand the storage to the caller (NUL-terminated); buf becomes empty. */
uint8_t *buf_take(struct buf *b, size_t *len);

int str_eq(struct str a, const char *b);

#endif

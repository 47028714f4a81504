/* buf.c: capped growable buffers. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util/buf.h"
#include "util/mem.h"

void
buf_init(struct buf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
buf_cleanup(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void
buf_cleanup_secret(struct buf *b)
{
    if (b->p != NULL)
        OPENSSL_cleanse(b->p, b->cap);
    buf_cleanup(b);
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->p != NULL)
        b->p[0] = '\0';
}

enum cw_err
buf_reserve(struct buf *b, size_t n, uint8_t **out)
{
    size_t need;
    size_t ncap;

    if (n > SIZE_MAX - b->len - 1 || b->len + n > b->max) {
        buf_reset(b);
        return CW_E_TOOLARGE;
    }
    need = b->len + n + 1;
    if (need > b->cap) {
        ncap = b->cap < 64 ? 64 : b->cap;
        while (ncap < need)
            ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
        if (ncap > b->max + 1)
            ncap = b->max + 1;
        b->p = cw_xrealloc(b->p, ncap);
        b->cap = ncap;
    }
    *out = b->p + b->len;
    return CW_OK;
}

enum cw_err
buf_append(struct buf *b, const void *p, size_t n)
{
    uint8_t    *dst;
    enum cw_err err;

    err = buf_reserve(b, n, &dst);
    if (err != CW_OK)
        return err;
    if (n > 0)
        memcpy(dst, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return CW_OK;
}

enum cw_err
buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

enum cw_err
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list     ap;
    uint8_t    *dst;
    int         n;
    enum cw_err err;

    /* Try the free space first: one formatting pass in the common case. */
    if (b->p != NULL && b->cap > b->len + 1) {
        size_t room = b->cap - b->len;

        va_start(ap, fmt);
        n = vsnprintf((char *)b->p + b->len, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->p[b->len] = '\0';
            return CW_E_INTERNAL;
        }
        if ((size_t)n < room) {
            if (b->len + (size_t)n > b->max) {
                buf_reset(b);
                return CW_E_TOOLARGE;
            }
            b->len += (size_t)n;
            return CW_OK;
        }
        b->p[b->len] = '\0';
    }
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CW_E_INTERNAL;
    err = buf_reserve(b, (size_t)n, &dst);
    if (err != CW_OK)
        return err;
    va_start(ap, fmt);
    vsnprintf((char *)dst, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CW_OK;
}

uint8_t *
buf_take(struct buf *b, size_t *len)
{
    uint8_t *p = b->p;

    if (p == NULL)
        p = cw_xcalloc(1, 1);
    if (len != NULL)
        *len = b->len;
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

int
str_eq(struct str a, const char *b)
{
    size_t n = strlen(b);

    return a.len == n && (n == 0 || memcmp(a.p, b, n) == 0);
}

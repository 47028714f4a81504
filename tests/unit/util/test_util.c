/*
 * test_util.c: unit tests for backend/util (buf, arena, sp, log_escape,
 * jsonx, err) and the migration splitter of backend/store/migrate.c.
 * Table-driven: every row carries __LINE__ so a failure names its row.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "cw_limits.h"
#include "store/migrate.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/jsonx.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sp.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
/* Length of a row's input: -1 means strlen(). */
#define ROW_LEN(s, l) ((l) < 0 ? strlen(s) : (size_t)(l))

/* Is p[0..n) well-formed UTF-8 (no overlongs, no surrogates)? */
static int
utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = p[i];
        size_t        k;
        uint32_t      cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
        i += k + 1;
    }
    return 1;
}

/* ==== buf =============================================================== */

struct buf_cap_case {
    int         line;
    size_t      max;
    const char *first;      /* appended first (must fit)                 */
    const char *add;        /* then this                                 */
    enum cw_err err;        /* expected result of the second append      */
    const char *want;       /* contents afterwards                       */
};

static const struct buf_cap_case buf_cap_cases[] = {
    { __LINE__, 16, "", "", CW_OK, "" },
    { __LINE__, 16, "", "0123456789abcdef", CW_OK, "0123456789abcdef" },
    { __LINE__, 16, "", "0123456789abcdefg", CW_E_TOOLARGE, "" },
    { __LINE__, 16, "0123456789", "abcdef", CW_OK, "0123456789abcdef" },
    { __LINE__, 16, "0123456789", "abcdefg", CW_E_TOOLARGE, "" },
    { __LINE__, 16, "0123456789abcdef", "", CW_OK, "0123456789abcdef" },
    { __LINE__, 16, "0123456789abcdef", "x", CW_E_TOOLARGE, "" },
    { __LINE__, 0, "", "", CW_OK, "" },
    { __LINE__, 0, "", "x", CW_E_TOOLARGE, "" },
    { __LINE__, 1, "", "x", CW_OK, "x" },
    { __LINE__, 200, "abc", "def", CW_OK, "abcdef" },
};

START_TEST(test_buf_cap)
{
    const struct buf_cap_case *c = &buf_cap_cases[_i];
    struct buf  b;
    enum cw_err err;

    buf_init(&b, c->max);
    ck_assert_msg(buf_puts(&b, c->first) == CW_OK, "line %d: first append",
                  c->line);
    err = buf_append(&b, c->add, strlen(c->add));
    ck_assert_msg(err == c->err, "line %d: err %d, want %d", c->line,
                  (int)err, (int)c->err);
    ck_assert_msg(b.len == strlen(c->want), "line %d: len %zu, want %zu",
                  c->line, b.len, strlen(c->want));
    ck_assert_msg(b.len <= b.max, "line %d: len over max", c->line);
    if (b.p != NULL) {
        ck_assert_msg(memcmp(b.p, c->want, b.len) == 0 && b.p[b.len] == '\0',
                      "line %d: contents '%s', want '%s'", c->line,
                      (const char *)b.p, c->want);
        ck_assert_msg(b.cap <= b.max + 1, "line %d: cap %zu over max+1",
                      c->line, b.cap);
    } else {
        ck_assert_msg(c->want[0] == '\0', "line %d: no storage", c->line);
    }
    /* After a refusal the buffer is usable again. */
    if (c->max > 0) {
        ck_assert_msg(buf_puts(&b, "") == CW_OK, "line %d: reuse", c->line);
    }
    buf_cleanup(&b);
    ck_assert(b.p == NULL && b.len == 0 && b.cap == 0);
}
END_TEST

START_TEST(test_buf_reset_after_refusal)
{
    struct buf b;
    char       big[64];

    memset(big, 'x', sizeof(big));
    buf_init(&b, 32);
    ck_assert_int_eq(buf_puts(&b, "hello"), CW_OK);
    ck_assert_int_eq(buf_append(&b, big, sizeof(big)), CW_E_TOOLARGE);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq((const char *)b.p, "");
    ck_assert_int_eq(buf_puts(&b, "again"), CW_OK);
    ck_assert_str_eq((const char *)b.p, "again");
    /* A length that would overflow size_t is refused, not wrapped. */
    ck_assert_int_eq(buf_append(&b, big, SIZE_MAX), CW_E_TOOLARGE);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(buf_puts(&b, "ok"), CW_OK);
    ck_assert_str_eq((const char *)b.p, "ok");
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_buf_nul_terminated)
{
    static const uint8_t bin[] = { 'a', 0, 'b', 0xff, 0 };
    struct buf           b;
    uint8_t             *dst = NULL;

    buf_init(&b, 300 * sizeof(bin));
    for (size_t i = 0; i < 300; i++) {
        ck_assert_int_eq(buf_append(&b, bin, sizeof(bin)), CW_OK);
        ck_assert_uint_eq(b.len, (i + 1) * sizeof(bin));
        ck_assert_msg(b.p[b.len] == '\0', "no NUL after %zu bytes", b.len);
        ck_assert(b.cap >= b.len + 1);
    }
    ck_assert_int_eq(buf_append(&b, bin, sizeof(bin)), CW_E_TOOLARGE);
    ck_assert_uint_eq(b.len, 0);
    ck_assert(b.p[0] == '\0');
    /* Reserve hands out room but does not change the length. */
    ck_assert_int_eq(buf_reserve(&b, 10, &dst), CW_OK);
    ck_assert(dst == b.p);
    ck_assert_uint_eq(b.len, 0);
    memcpy(dst, "0123456789", 10);
    b.len += 10;
    ck_assert_int_eq(buf_puts(&b, "!"), CW_OK);
    ck_assert_str_eq((const char *)b.p, "0123456789!");
    buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq((const char *)b.p, "");
    buf_cleanup_secret(&b);
    ck_assert(b.p == NULL && b.len == 0 && b.cap == 0);
    buf_reset(&b);      /* on an empty buffer: no crash */
    buf_cleanup(&b);
}
END_TEST

/* Each row appends pre, then buf_printf(b, "%s=%d", arg, num). */
struct buf_printf_case {
    int         line;
    size_t      max;
    const char *pre;
    const char *arg;
    int         num;
    enum cw_err err;
    const char *want;
};

static const struct buf_printf_case buf_printf_cases[] = {
    { __LINE__, 64, "", "key", 42, CW_OK, "key=42" },
    { __LINE__, 64, "a:", "key", -1, CW_OK, "a:key=-1" },
    { __LINE__, 64, "", "", 0, CW_OK, "=0" },
    { __LINE__, 8, "", "1234", 567, CW_OK, "1234=567" },
    { __LINE__, 8, "", "1234", 5678, CW_E_TOOLARGE, "" },
    { __LINE__, 8, "abc", "12", 5678, CW_E_TOOLARGE, "" },
    { __LINE__, 8, "abc", "1", 234, CW_OK, "abc1=234" },
    { __LINE__, 100000, "", "0123456789012345678901234567890123456789"
      "0123456789012345678901234567890123456789", 7, CW_OK,
      "0123456789012345678901234567890123456789"
      "0123456789012345678901234567890123456789=7" },
};

START_TEST(test_buf_printf)
{
    const struct buf_printf_case *c = &buf_printf_cases[_i];
    struct buf  b;
    enum cw_err err;

    buf_init(&b, c->max);
    ck_assert_int_eq(buf_puts(&b, c->pre), CW_OK);
    err = buf_printf(&b, "%s=%d", c->arg, c->num);
    ck_assert_msg(err == c->err, "line %d: err %d want %d", c->line,
                  (int)err, (int)c->err);
    ck_assert_msg(b.len == strlen(c->want), "line %d: len %zu", c->line,
                  b.len);
    ck_assert_msg(b.p != NULL && strcmp((const char *)b.p, c->want) == 0,
                  "line %d: got '%s' want '%s'", c->line,
                  b.p ? (const char *)b.p : "(null)", c->want);
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_buf_take)
{
    struct buf b;
    uint8_t   *p;
    size_t     len = 99;

    /* Taking from a buffer that never allocated yields "" (not NULL). */
    buf_init(&b, 64);
    p = buf_take(&b, &len);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(len, 0);
    ck_assert(p[0] == '\0');
    free(p);

    ck_assert_int_eq(buf_printf(&b, "%s-%u", "abc", 7u), CW_OK);
    p = buf_take(&b, &len);
    ck_assert_uint_eq(len, 5);
    ck_assert_str_eq((const char *)p, "abc-7");
    ck_assert(b.p == NULL && b.len == 0 && b.cap == 0);
    ck_assert_uint_eq(b.max, 64);
    /* The buffer is empty and usable after the take. */
    ck_assert_int_eq(buf_puts(&b, "next"), CW_OK);
    ck_assert_str_eq((const char *)b.p, "next");
    ck_assert_str_eq((const char *)p, "abc-7");
    free(p);
    p = buf_take(&b, NULL);
    ck_assert_str_eq((const char *)p, "next");
    free(p);
    buf_cleanup(&b);
}
END_TEST

struct str_eq_case {
    int         line;
    const char *p;
    size_t      len;
    const char *b;
    int         eq;
};

static const struct str_eq_case str_eq_cases[] = {
    { __LINE__, "abc", 3, "abc", 1 },
    { __LINE__, "abc", 2, "ab", 1 },
    { __LINE__, "abc", 2, "abc", 0 },
    { __LINE__, "abc", 3, "abd", 0 },
    { __LINE__, "", 0, "", 1 },
    { __LINE__, NULL, 0, "", 1 },
    { __LINE__, NULL, 0, "a", 0 },
    { __LINE__, "a\0b", 3, "a", 0 },
};

START_TEST(test_str_eq)
{
    const struct str_eq_case *c = &str_eq_cases[_i];
    struct str s = { c->p, c->len };

    ck_assert_msg(str_eq(s, c->b) == c->eq, "line %d", c->line);
    ck_assert(str_eq(STR_LIT("lit"), "lit"));
}
END_TEST

/* ==== arena ============================================================= */

START_TEST(test_arena_alignment)
{
    static const size_t sizes[] = { 0,    1,    2,    3,     7,    8,
                                    15,   16,   17,   31,    33,   100,
                                    1000, 4095, 8191, 8192,  8193, 20000,
                                    1,    5,    9,    65536, 3,    1 };
    struct arena a;
    void        *ptrs[N_ELEMS(sizes)];

    arena_init(&a);
    for (size_t i = 0; i < N_ELEMS(sizes); i++) {
        ptrs[i] = arena_alloc(&a, sizes[i]);
        ck_assert_msg(((uintptr_t)ptrs[i] % 16) == 0,
                      "allocation %zu (%zu bytes) at %p not 16-aligned", i,
                      sizes[i], ptrs[i]);
        ck_assert_msg(((uintptr_t)ptrs[i] % _Alignof(max_align_t)) == 0,
                      "allocation %zu not max_align_t aligned", i);
        memset(ptrs[i], (int)(i + 1), sizes[i]);
    }
    /* Nothing overlapped: every block still holds its pattern. */
    for (size_t i = 0; i < N_ELEMS(sizes); i++) {
        const unsigned char *p = ptrs[i];

        for (size_t j = 0; j < sizes[i]; j++)
            ck_assert_msg(p[j] == (unsigned char)(i + 1),
                          "allocation %zu byte %zu overwritten", i, j);
    }
    ck_assert(a.used > 0);
    arena_reset(&a);
    ck_assert_uint_eq(a.used, 0);
    ck_assert_ptr_null(a.chunks);
    ck_assert_ptr_null(a.defers);
}
END_TEST

START_TEST(test_arena_large)
{
    struct arena   a;
    unsigned char *small1;
    unsigned char *big;
    unsigned char *small2;
    unsigned char *huge;

    arena_init(&a);
    small1 = arena_alloc(&a, 100);
    memset(small1, 0x11, 100);
    big = arena_alloc(&a, 100000);
    memset(big, 0x22, 100000);
    /* The small allocation after a large one still comes from the arena
     * and does not overlap. */
    small2 = arena_alloc(&a, 100);
    memset(small2, 0x33, 100);
    huge = arena_zalloc(&a, 4u * 1024 * 1024);
    for (size_t i = 0; i < 4u * 1024 * 1024; i += 4096)
        ck_assert(huge[i] == 0);
    huge[4u * 1024 * 1024 - 1] = 0x44;
    for (size_t i = 0; i < 100; i++) {
        ck_assert(small1[i] == 0x11);
        ck_assert(small2[i] == 0x33);
    }
    for (size_t i = 0; i < 100000; i++)
        ck_assert(big[i] == 0x22);
    ck_assert(a.used >= 100000 + 4u * 1024 * 1024 + 200);
    arena_reset(&a);
    /* Usable again after reset. */
    small1 = arena_zalloc(&a, 10);
    for (size_t i = 0; i < 10; i++)
        ck_assert(small1[i] == 0);
    arena_reset(&a);
}
END_TEST

static char defer_log[64];

static void
defer_note(void *p)
{
    const char *tag = p;
    size_t      n = strlen(defer_log);

    /* Destructors may still read arena memory (tag lives there). */
    snprintf(defer_log + n, sizeof(defer_log) - n, "%s", tag);
}

START_TEST(test_arena_defer)
{
    struct arena a;
    char        *tag;

    defer_log[0] = '\0';
    arena_init(&a);
    arena_defer(&a, defer_note, (void *)(uintptr_t)"1");
    tag = arena_strdup(&a, "2");
    arena_defer(&a, defer_note, tag);
    arena_defer(&a, defer_note, NULL);          /* ignored */
    (void)arena_alloc(&a, 50000);               /* a big chunk in between */
    arena_defer(&a, defer_note, arena_strdup(&a, "3"));
    ck_assert_str_eq(defer_log, "");
    arena_reset(&a);
    /* Reverse order of registration, each exactly once. */
    ck_assert_str_eq(defer_log, "321");
    arena_reset(&a);
    ck_assert_str_eq(defer_log, "321");
    /* A second request on the same arena. */
    arena_defer(&a, defer_note, arena_strdup(&a, "4"));
    arena_defer(&a, free, cw_xstrdup("heap"));       /* foreign object */
    arena_reset(&a);
    ck_assert_str_eq(defer_log, "3214");
}
END_TEST

/* A worker's request arena: destructors run, one standard chunk is kept
 * (wiped) and reused, big chunks are freed; arena_reset() frees the rest
 * (valgrind and ASan see no leak). */
START_TEST(test_arena_recycle)
{
    struct arena a;
    char        *first;
    char        *again;

    defer_log[0] = '\0';
    arena_init(&a);
    arena_recycle(&a);                          /* empty: nothing to do */
    first = arena_strdup(&a, "secret");
    arena_defer(&a, defer_note, arena_strdup(&a, "5"));
    (void)arena_alloc(&a, 50000);               /* freed, not kept */
    arena_defer(&a, free, cw_xstrdup("heap"));
    arena_recycle(&a);
    ck_assert_str_eq(defer_log, "5");
    ck_assert_uint_eq(a.used, 0);
    ck_assert_ptr_null(a.defers);
    ck_assert_ptr_nonnull(a.chunks);
    /* The same chunk again, from its start, with nothing left in it. */
    again = arena_alloc(&a, 16);
    ck_assert_ptr_eq(again, first);
    ck_assert_int_eq(again[0], 0);
    arena_defer(&a, defer_note, arena_strdup(&a, "6"));
    arena_recycle(&a);
    ck_assert_str_eq(defer_log, "56");
    arena_reset(&a);
    ck_assert_ptr_null(a.chunks);
}
END_TEST

struct arena_strndup_case {
    int         line;
    const char *s;
    size_t      n;
    const char *want;
};

static const struct arena_strndup_case arena_strndup_cases[] = {
    { __LINE__, "hello", 5, "hello" },
    { __LINE__, "hello", 3, "hel" },
    { __LINE__, "hello", 0, "" },
    { __LINE__, "", 0, "" },
    { __LINE__, NULL, 0, "" },
};

START_TEST(test_arena_strndup)
{
    const struct arena_strndup_case *c = &arena_strndup_cases[_i];
    struct arena a;
    char        *p;

    arena_init(&a);
    p = arena_strndup(&a, c->s, c->n);
    ck_assert_msg(strcmp(p, c->want) == 0, "line %d: got '%s'", c->line, p);
    ck_assert_msg(strlen(p) == c->n, "line %d", c->line);
    if (c->s != NULL) {
        p = arena_strdup(&a, c->s);
        ck_assert_msg(strcmp(p, c->s) == 0 && p != c->s, "line %d", c->line);
    }
    arena_reset(&a);
}
END_TEST

START_TEST(test_arena_printf)
{
    struct arena a;
    char        *p;
    char        *longs;
    char         want[20001];

    arena_init(&a);
    p = arena_printf(&a, "%s=%d;%u", "x", -5, 7u);
    ck_assert_str_eq(p, "x=-5;7");
    p = arena_printf(&a, "%s", "");
    ck_assert_str_eq(p, "");
    memset(want, 'q', 20000);
    want[20000] = '\0';
    /* Longer than a chunk. */
    longs = arena_printf(&a, "%s", want);
    ck_assert_uint_eq(strlen(longs), 20000);
    ck_assert_str_eq(longs, want);
    ck_assert_str_eq(p, "");
    arena_reset(&a);
}
END_TEST

/* ==== sp ================================================================ */

struct sp_u64_case {
    int         line;
    const char *s;
    int         len;        /* -1: strlen */
    uint64_t    max;
    enum cw_err err;
    uint64_t    want;
};

static const struct sp_u64_case sp_u64_cases[] = {
    { __LINE__, "0", -1, UINT64_MAX, CW_OK, 0 },
    { __LINE__, "1", -1, UINT64_MAX, CW_OK, 1 },
    { __LINE__, "42", -1, UINT64_MAX, CW_OK, 42 },
    { __LINE__, "1234567890", -1, UINT64_MAX, CW_OK, 1234567890 },
    /* leading zeros: only "0" itself */
    { __LINE__, "00", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "01", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "007", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "0000000000000000000001", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    /* 2^64 - 1 is the largest; 2^64 and beyond overflow */
    { __LINE__, "18446744073709551615", -1, UINT64_MAX, CW_OK, UINT64_MAX },
    { __LINE__, "18446744073709551616", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "18446744073709551620", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "19999999999999999999", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "99999999999999999999", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "184467440737095516150", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "9223372036854775807", -1, (uint64_t)INT64_MAX, CW_OK,
      (uint64_t)INT64_MAX },
    { __LINE__, "9223372036854775808", -1, (uint64_t)INT64_MAX, CW_E_BADREQ,
      0 },
    /* max bound */
    { __LINE__, "9", -1, 9, CW_OK, 9 },
    { __LINE__, "10", -1, 9, CW_E_BADREQ, 0 },
    { __LINE__, "0", -1, 0, CW_OK, 0 },
    { __LINE__, "1", -1, 0, CW_E_BADREQ, 0 },
    { __LINE__, "65535", -1, 65535, CW_OK, 65535 },
    { __LINE__, "65536", -1, 65535, CW_E_BADREQ, 0 },
    /* empty, signs, spaces, trailing bytes */
    { __LINE__, "", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "+1", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "-1", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "-0", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, " 1", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "1 ", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "\t1", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "1\n", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "1a", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "1.0", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "1e3", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "0x10", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "1_000", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "1\0", 2, UINT64_MAX, CW_E_BADREQ, 0 },
    { __LINE__, "\xd9\xa1", -1, UINT64_MAX, CW_E_BADREQ, 0 },
    /* the length is what counts, not the NUL */
    { __LINE__, "123456", 3, UINT64_MAX, CW_OK, 123 },
    { __LINE__, "123", 0, UINT64_MAX, CW_E_BADREQ, 0 },
};

START_TEST(test_sp_u64)
{
    const struct sp_u64_case *c = &sp_u64_cases[_i];
    uint64_t    v = 0xdeadbeef;
    enum cw_err err;

    err = sp_u64(c->s, ROW_LEN(c->s, c->len), c->max, &v);
    ck_assert_msg(err == c->err, "line %d: '%s' err %d want %d", c->line,
                  c->s, (int)err, (int)c->err);
    if (c->err == CW_OK)
        ck_assert_msg(v == c->want, "line %d: got %llu want %llu", c->line,
                      (unsigned long long)v, (unsigned long long)c->want);
    else
        ck_assert_msg(v == 0xdeadbeef, "line %d: output written on error",
                      c->line);
}
END_TEST

struct sp_bool_case {
    int         line;
    const char *s;
    int         len;
    enum cw_err err;
    int         want;
};

static const struct sp_bool_case sp_bool_cases[] = {
    { __LINE__, "true", -1, CW_OK, 1 },
    { __LINE__, "TRUE", -1, CW_OK, 1 },
    { __LINE__, "True", -1, CW_OK, 1 },
    { __LINE__, "yes", -1, CW_OK, 1 },
    { __LINE__, "on", -1, CW_OK, 1 },
    { __LINE__, "1", -1, CW_OK, 1 },
    { __LINE__, "false", -1, CW_OK, 0 },
    { __LINE__, "FALSE", -1, CW_OK, 0 },
    { __LINE__, "no", -1, CW_OK, 0 },
    { __LINE__, "Off", -1, CW_OK, 0 },
    { __LINE__, "0", -1, CW_OK, 0 },
    { __LINE__, "", -1, CW_E_BADREQ, 0 },
    { __LINE__, "t", -1, CW_E_BADREQ, 0 },
    { __LINE__, "y", -1, CW_E_BADREQ, 0 },
    { __LINE__, "tru", -1, CW_E_BADREQ, 0 },
    { __LINE__, "truee", -1, CW_E_BADREQ, 0 },
    { __LINE__, " true", -1, CW_E_BADREQ, 0 },
    { __LINE__, "true ", -1, CW_E_BADREQ, 0 },
    { __LINE__, "2", -1, CW_E_BADREQ, 0 },
    { __LINE__, "01", -1, CW_E_BADREQ, 0 },
    { __LINE__, "enabled", -1, CW_E_BADREQ, 0 },
    { __LINE__, "true", 3, CW_E_BADREQ, 0 },
    { __LINE__, "true\0", 5, CW_E_BADREQ, 0 },
    { __LINE__, "no\0x", 4, CW_E_BADREQ, 0 },
    { __LINE__, "yesno", 3, CW_OK, 1 },
};

START_TEST(test_sp_bool)
{
    const struct sp_bool_case *c = &sp_bool_cases[_i];
    int         v = -7;
    enum cw_err err;

    err = sp_bool(c->s, ROW_LEN(c->s, c->len), &v);
    ck_assert_msg(err == c->err, "line %d: err %d want %d", c->line, (int)err,
                  (int)c->err);
    if (err == CW_OK)
        ck_assert_msg(v == c->want, "line %d: got %d", c->line, v);
    else
        ck_assert_msg(v == -7, "line %d: output written on error", c->line);
}
END_TEST

struct sp_octal_case {
    int         line;
    const char *s;
    unsigned    max;
    enum cw_err err;
    unsigned    want;
};

static const struct sp_octal_case sp_octal_cases[] = {
    { __LINE__, "0660", 0777, CW_OK, 0660 },
    { __LINE__, "660", 0777, CW_OK, 0660 },
    { __LINE__, "0", 0777, CW_OK, 0 },
    { __LINE__, "0777", 0777, CW_OK, 0777 },
    { __LINE__, "777", 0777, CW_OK, 0777 },
    { __LINE__, "1000", 0777, CW_E_BADREQ, 0 },
    { __LINE__, "1777", 0777, CW_E_BADREQ, 0 },
    { __LINE__, "8", 0777, CW_E_BADREQ, 0 },
    { __LINE__, "0689", 0777, CW_E_BADREQ, 0 },
    { __LINE__, "0o660", 0777, CW_E_BADREQ, 0 },
    { __LINE__, "0x1ff", 0777, CW_E_BADREQ, 0 },
    { __LINE__, "", 0777, CW_E_BADREQ, 0 },
    { __LINE__, "-1", 0777, CW_E_BADREQ, 0 },
    { __LINE__, "+660", 0777, CW_E_BADREQ, 0 },
    { __LINE__, " 0660", 0777, CW_E_BADREQ, 0 },
    { __LINE__, "0660 ", 0777, CW_E_BADREQ, 0 },
    { __LINE__, "777777", 0777777, CW_OK, 0777777 },
    { __LINE__, "7777777", 07777777, CW_E_BADREQ, 0 },
};

START_TEST(test_sp_octal)
{
    const struct sp_octal_case *c = &sp_octal_cases[_i];
    unsigned    v = 12345;
    enum cw_err err;

    err = sp_octal(c->s, strlen(c->s), c->max, &v);
    ck_assert_msg(err == c->err, "line %d: '%s' err %d want %d", c->line,
                  c->s, (int)err, (int)c->err);
    if (err == CW_OK)
        ck_assert_msg(v == c->want, "line %d: got %o want %o", c->line, v,
                      c->want);
    else
        ck_assert_msg(v == 12345, "line %d: output written", c->line);
}
END_TEST

struct sp_hex_decode_case {
    int         line;
    const char *hex;
    size_t      n;          /* bytes wanted */
    enum cw_err err;
    const char *bytes;      /* expected, n bytes */
};

static const struct sp_hex_decode_case sp_hex_decode_cases[] = {
    { __LINE__, "", 0, CW_OK, "" },
    { __LINE__, "00", 1, CW_OK, "\x00" },
    { __LINE__, "ff", 1, CW_OK, "\xff" },
    { __LINE__, "FF", 1, CW_OK, "\xff" },
    { __LINE__, "aB", 1, CW_OK, "\xab" },
    { __LINE__, "0123456789abcdef", 8, CW_OK,
      "\x01\x23\x45\x67\x89\xab\xcd\xef" },
    { __LINE__, "0123456789ABCDEF", 8, CW_OK,
      "\x01\x23\x45\x67\x89\xab\xcd\xef" },
    /* odd length */
    { __LINE__, "abc", 1, CW_E_BADREQ, NULL },
    { __LINE__, "abc", 2, CW_E_BADREQ, NULL },
    { __LINE__, "a", 0, CW_E_BADREQ, NULL },
    /* length mismatch */
    { __LINE__, "abcd", 1, CW_E_BADREQ, NULL },
    { __LINE__, "ab", 2, CW_E_BADREQ, NULL },
    { __LINE__, "", 1, CW_E_BADREQ, NULL },
    /* bad digits */
    { __LINE__, "0g", 1, CW_E_BADREQ, NULL },
    { __LINE__, "g0", 1, CW_E_BADREQ, NULL },
    { __LINE__, "zz", 1, CW_E_BADREQ, NULL },
    { __LINE__, " 0", 1, CW_E_BADREQ, NULL },
    { __LINE__, "0x", 1, CW_E_BADREQ, NULL },
    { __LINE__, "-1", 1, CW_E_BADREQ, NULL },
    { __LINE__, "00\n0", 2, CW_E_BADREQ, NULL },
    { __LINE__, "0011223344556677889900aabbccddeeffgg", 18, CW_E_BADREQ,
      NULL },
};

START_TEST(test_sp_hex_decode)
{
    const struct sp_hex_decode_case *c = &sp_hex_decode_cases[_i];
    uint8_t     out[32];
    enum cw_err err;

    memset(out, 0x5a, sizeof(out));
    err = sp_hex_decode(c->hex, strlen(c->hex), out, c->n);
    ck_assert_msg(err == c->err, "line %d: '%s' err %d want %d", c->line,
                  c->hex, (int)err, (int)c->err);
    if (err == CW_OK)
        ck_assert_msg(memcmp(out, c->bytes, c->n) == 0, "line %d: bytes",
                      c->line);
    ck_assert_msg(out[c->n] == 0x5a, "line %d: wrote past n", c->line);
}
END_TEST

/* sp_u64_text() against snprintf, over the edges and a spread. */
START_TEST(test_sp_u64_text)
{
    static const uint64_t edges[] = { 0, 1, 9, 10, 99, 100, 86400,
                                      4294967295ULL, 4294967296ULL,
                                      UINT64_MAX - 1, UINT64_MAX };
    char     num[21];
    char     want[32];
    uint64_t x = 0x2545F4914F6CDD1DULL;

    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]) + 10000; i++) {
        uint64_t v;

        if (i < sizeof(edges) / sizeof(edges[0])) {
            v = edges[i];
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v = x >> (x % 64);
        }
        snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
        ck_assert_str_eq(sp_u64_text(v, num), want);
    }
}
END_TEST

START_TEST(test_sp_hex_roundtrip)
{
    uint8_t in[256];
    uint8_t back[256];
    char    hex[513];

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)i;
    memset(hex, 'X', sizeof(hex));
    sp_hex_encode(in, sizeof(in), hex);
    ck_assert_uint_eq(strlen(hex), 512);
    ck_assert(strncmp(hex, "000102", 6) == 0);
    ck_assert_str_eq(hex + 500, "fafbfcfdfeff");
    for (size_t i = 0; i < 512; i++)
        ck_assert_msg((hex[i] >= '0' && hex[i] <= '9') ||
                          (hex[i] >= 'a' && hex[i] <= 'f'),
                      "encode is lower-case hex only (byte %zu)", i);
    ck_assert_int_eq(sp_hex_decode(hex, 512, back, sizeof(back)), CW_OK);
    ck_assert(memcmp(in, back, sizeof(in)) == 0);
    /* Empty input gives an empty string. */
    hex[0] = 'X';
    sp_hex_encode(in, 0, hex);
    ck_assert_str_eq(hex, "");
}
END_TEST

START_TEST(test_sp_random_hex)
{
    char a[201];
    char b[201];

    memset(a, 'X', sizeof(a));
    sp_random_hex(a, 100);    /* more than one internal block of 64 */
    sp_random_hex(b, 100);
    ck_assert_uint_eq(strlen(a), 200);
    for (size_t i = 0; i < 200; i++)
        ck_assert((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
    ck_assert_str_ne(a, b);
    /* n == 0: out has 2n+1 = 1 byte, which must hold "". */
    sp_random_hex(a, 0);
    ck_assert_msg(a[0] == '\0',
                  "sp_random_hex(out, 0) left out unterminated");
}
END_TEST

struct sp_trim_case {
    int         line;
    const char *in;
    const char *want;
};

static const struct sp_trim_case sp_trim_cases[] = {
    { __LINE__, "abc", "abc" },
    { __LINE__, "  abc", "abc" },
    { __LINE__, "abc  ", "abc" },
    { __LINE__, " \t a b \t ", "a b" },
    { __LINE__, "\ta\tb\t", "a\tb" },
    { __LINE__, "", "" },
    { __LINE__, "   ", "" },
    { __LINE__, "\t", "" },
    { __LINE__, "a\n", "a\n" },
    { __LINE__, "\r a", "\r a" },
    { __LINE__, "x", "x" },
};

START_TEST(test_sp_trim)
{
    const struct sp_trim_case *c = &sp_trim_cases[_i];
    const char *s = c->in;
    size_t      n = strlen(c->in);

    sp_trim(&s, &n);
    ck_assert_msg(n == strlen(c->want) && memcmp(s, c->want, n) == 0,
                  "line %d: got '%.*s' want '%s'", c->line, (int)n, s,
                  c->want);
    ck_assert_msg(s >= c->in && s + n <= c->in + strlen(c->in),
                  "line %d: result outside the input", c->line);
}
END_TEST

/* ==== log_escape ======================================================== */

struct log_escape_case {
    int         line;
    const char *in;
    int         len;
    size_t      outsize;
    const char *want;
};

static const struct log_escape_case log_escape_cases[] = {
    { __LINE__, "plain text", -1, 64, "plain text" },
    { __LINE__, "", -1, 64, "" },
    { __LINE__, "a\nb", -1, 64, "a\\x0ab" },
    { __LINE__, "a\r\nb", -1, 64, "a\\x0d\\x0ab" },
    { __LINE__, "\t", -1, 64, "\\x09" },
    { __LINE__, "\x1b[31m", -1, 64, "\\x1b[31m" },
    { __LINE__, "\x7f", -1, 64, "\\x7f" },
    { __LINE__, "\"quoted\"", -1, 64, "\\x22quoted\\x22" },
    { __LINE__, "back\\slash", -1, 64, "back\\x5cslash" },
    { __LINE__, "'single'", -1, 64, "'single'" },
    { __LINE__, "\xc3\xa9", -1, 64, "\\xc3\\xa9" },
    { __LINE__, "a\0b", 3, 64, "a\\x00b" },
    /* truncation: never past n-1, never half an escape */
    { __LINE__, "abcdef", -1, 4, "abc" },
    { __LINE__, "abcdef", -1, 7, "abcdef" },
    { __LINE__, "abcdef", -1, 6, "abcde" },
    { __LINE__, "abc", -1, 1, "" },
    { __LINE__, "ab\n", -1, 5, "ab" },
    { __LINE__, "ab\n", -1, 6, "ab" },
    { __LINE__, "ab\n", -1, 7, "ab\\x0a" },
    { __LINE__, "\n\n", -1, 8, "\\x0a" },
    { __LINE__, "\n\n", -1, 9, "\\x0a\\x0a" },
    { __LINE__, "\nabc", -1, 4, "" },
};

START_TEST(test_log_escape)
{
    const struct log_escape_case *c = &log_escape_cases[_i];
    char        out[80];
    const char *r;

    memset(out, 'Z', sizeof(out));
    r = log_escape(c->in, ROW_LEN(c->in, c->len), out, c->outsize);
    ck_assert_msg(r == out, "line %d: returns out", c->line);
    ck_assert_msg(strlen(out) < c->outsize, "line %d: not terminated in n",
                  c->line);
    ck_assert_msg(strcmp(out, c->want) == 0, "line %d: got '%s' want '%s'",
                  c->line, out, c->want);
    ck_assert_msg(out[c->outsize] == 'Z', "line %d: wrote past n", c->line);
}
END_TEST

START_TEST(test_log_escape_all_bytes)
{
    char   in[256];
    char   out[1100];
    size_t n;

    for (size_t i = 0; i < 256; i++)
        in[i] = (char)i;
    log_escape(in, sizeof(in), out, sizeof(out));
    n = strlen(out);
    /* 95 printable minus '"' and '\\' pass; 163 others become \xHH. */
    ck_assert_uint_eq(n, 93 + 163 * 4);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];

        ck_assert_msg(c >= 0x20 && c < 0x7f && c != '"',
                      "byte %zu of the output is 0x%02x", i, c);
    }
    /* n == 0: nothing is written. */
    out[0] = 'Q';
    ck_assert_ptr_eq(log_escape("abc", 3, out, 0), out);
    ck_assert(out[0] == 'Q');
}
END_TEST

/* ==== jsonx_parse_object ================================================ */

struct json_parse_case {
    int         line;
    const char *text;
    int         len;
    enum cw_err err;
};

static const struct json_parse_case json_parse_cases[] = {
    { __LINE__, "{}", -1, CW_OK },
    { __LINE__, " { } ", -1, CW_OK },
    { __LINE__, "{\"a\":1}", -1, CW_OK },
    { __LINE__, "{\"a\":{\"b\":[1,2,{\"c\":null}]}}", -1, CW_OK },
    { __LINE__, "{\"a\":1,\"b\":1}", -1, CW_OK },
    { __LINE__, "{\"a\":\"\\u00e9\\ud83d\\ude00\"}", -1, CW_OK },
    /* empty body */
    { __LINE__, "", -1, CW_E_JSON },
    { __LINE__, " ", -1, CW_E_JSON },
    { __LINE__, "\n", -1, CW_E_JSON },
    /* top level must be an object */
    { __LINE__, "[]", -1, CW_E_JSON },
    { __LINE__, "[{}]", -1, CW_E_JSON },
    { __LINE__, "1", -1, CW_E_JSON },
    { __LINE__, "\"s\"", -1, CW_E_JSON },
    { __LINE__, "null", -1, CW_E_JSON },
    { __LINE__, "true", -1, CW_E_JSON },
    /* duplicate keys, at any level */
    { __LINE__, "{\"a\":1,\"a\":1}", -1, CW_E_JSON },
    { __LINE__, "{\"a\":1,\"a\":2}", -1, CW_E_JSON },
    { __LINE__, "{\"o\":{\"k\":1,\"k\":2}}", -1, CW_E_JSON },
    { __LINE__, "{\"l\":[{\"k\":1,\"k\":2}]}", -1, CW_E_JSON },
    { __LINE__, "{\"a\":1,\"\\u0061\":2}", -1, CW_E_JSON },
    /* trailing garbage */
    { __LINE__, "{} x", -1, CW_E_JSON },
    { __LINE__, "{}{}", -1, CW_E_JSON },
    { __LINE__, "{},", -1, CW_E_JSON },
    { __LINE__, "{\"a\":1}]", -1, CW_E_JSON },
    /* NUL bytes */
    { __LINE__, "{}\0", 3, CW_E_JSON },
    { __LINE__, "\0{}", 3, CW_E_JSON },
    { __LINE__, "{\"a\":\"x\0y\"}", 11, CW_E_JSON },
    { __LINE__, "{\"a\0\":1}", 8, CW_E_JSON },
    { __LINE__, "{\"a\":\"\\u0000\"}", -1, CW_E_JSON },
    { __LINE__, "{\"\\u0000\":1}", -1, CW_E_JSON },
    /* plain syntax errors */
    { __LINE__, "{", -1, CW_E_JSON },
    { __LINE__, "{\"a\":1", -1, CW_E_JSON },
    { __LINE__, "{\"a\":1,}", -1, CW_E_JSON },
    { __LINE__, "{'a':1}", -1, CW_E_JSON },
    { __LINE__, "{a:1}", -1, CW_E_JSON },
    { __LINE__, "{\"a\":01}", -1, CW_E_JSON },
    { __LINE__, "{\"a\":NaN}", -1, CW_E_JSON },
    { __LINE__, "{\"a\":\"\xff\"}", -1, CW_E_JSON },
    { __LINE__, "{\"a\":\"\xc3\"}", -1, CW_E_JSON },
    { __LINE__, "{\"a\":\"\\ud800\"}", -1, CW_E_JSON },
    { __LINE__, "{\"a\":\"raw\ttab\"}", -1, CW_E_JSON },
    { __LINE__, "/* c */{}", -1, CW_E_JSON },
};

START_TEST(test_jsonx_parse)
{
    const struct json_parse_case *c = &json_parse_cases[_i];
    struct jsonx_why why = { "x", "" };
    json_t          *obj = (json_t *)(uintptr_t)1;
    enum cw_err      err;

    err = jsonx_parse_object((const uint8_t *)c->text,
                             ROW_LEN(c->text, c->len), &obj, &why);
    ck_assert_msg(err == c->err, "line %d: err %d want %d (%s)", c->line,
                  (int)err, (int)c->err, why.reason);
    if (err == CW_OK) {
        ck_assert_msg(json_is_object(obj), "line %d: not an object", c->line);
        json_decref(obj);
    } else {
        ck_assert_msg(obj == NULL, "line %d: *out not NULL on error",
                      c->line);
        ck_assert_msg(why.reason[0] != '\0', "line %d: no reason", c->line);
        ck_assert_msg(why.field[0] == '\0', "line %d: field '%s'", c->line,
                      why.field);
    }
}
END_TEST

START_TEST(test_jsonx_parse_empty_reason)
{
    struct jsonx_why why;
    json_t          *obj;

    ck_assert_int_eq(jsonx_parse_object((const uint8_t *)"", 0, &obj, &why),
                     CW_E_JSON);
    ck_assert_str_eq(why.reason, "empty body");
    ck_assert_ptr_null(obj);
    /* why may be NULL. */
    ck_assert_int_eq(jsonx_parse_object((const uint8_t *)"[]", 2, &obj, NULL),
                     CW_E_JSON);
    ck_assert_int_eq(jsonx_parse_object((const uint8_t *)"{}", 2, &obj, NULL),
                     CW_OK);
    json_decref(obj);
}
END_TEST

/*
 * Depth: "containers" counts nested objects/arrays including the top-level
 * object; leaf is "" (innermost container empty) or a scalar member.
 */
struct json_depth_case {
    int         line;
    int         containers;
    int         arrays;     /* inner containers are arrays */
    int         scalar;     /* innermost holds a value */
    enum cw_err err;
};

static const struct json_depth_case json_depth_cases[] = {
    { __LINE__, 1, 0, 0, CW_OK },
    { __LINE__, 2, 0, 1, CW_OK },
    { __LINE__, LIM_JSON_DEPTH - 1, 0, 1, CW_OK },
    { __LINE__, LIM_JSON_DEPTH, 0, 0, CW_OK },
    { __LINE__, LIM_JSON_DEPTH, 0, 1, CW_OK },
    { __LINE__, LIM_JSON_DEPTH, 1, 1, CW_OK },
    { __LINE__, LIM_JSON_DEPTH + 1, 0, 0, CW_E_JSON },
    { __LINE__, LIM_JSON_DEPTH + 1, 0, 1, CW_E_JSON },
    { __LINE__, LIM_JSON_DEPTH + 1, 1, 0, CW_E_JSON },
    { __LINE__, LIM_JSON_DEPTH + 1, 1, 1, CW_E_JSON },
    { __LINE__, LIM_JSON_DEPTH + 2, 0, 0, CW_E_JSON },
    { __LINE__, 100, 1, 1, CW_E_JSON },
    { __LINE__, 5000, 1, 1, CW_E_JSON },
};

START_TEST(test_jsonx_depth)
{
    const struct json_depth_case *c = &json_depth_cases[_i];
    struct buf       b;
    struct jsonx_why why;
    json_t          *obj = NULL;
    enum cw_err      err;

    buf_init(&b, 1u << 20);
    /* Top-level object, then (containers - 1) nested ones. */
    buf_puts(&b, "{");
    for (int i = 1; i < c->containers; i++)
        buf_puts(&b, c->arrays ? (i == 1 ? "\"a\":[" : "[") : "\"a\":{");
    if (c->scalar)
        buf_puts(&b, c->arrays && c->containers > 1 ? "1" : "\"v\":1");
    for (int i = c->containers - 1; i >= 1; i--)
        buf_puts(&b, c->arrays ? "]" : "}");
    buf_puts(&b, "}");
    err = jsonx_parse_object(b.p, b.len, &obj, &why);
    if (obj != NULL)
        json_decref(obj);
    buf_cleanup(&b);
    ck_assert_msg(err == c->err,
                  "line %d: %d nested containers (%s, %s) -> err %d, want "
                  "%d (LIM_JSON_DEPTH %d)",
                  c->line, c->containers, c->arrays ? "arrays" : "objects",
                  c->scalar ? "scalar leaf" : "empty leaf", (int)err,
                  (int)c->err, LIM_JSON_DEPTH);
}
END_TEST

/* ==== jsonx_check ======================================================= */

static const struct jsonx_field check_fields[] = {
    { "name", JSONX_STRING, 1, 8, 0, 0 },
    { "note", JSONX_STRING, 0, 0, 0, 0 },
    { "count", JSONX_INT, 0, 0, 1, 10 },
    { "delta", JSONX_INT, 0, 0, -5, 5 },
    { "n", JSONX_INT, 0, 0, 0, 0 },
    { "flag", JSONX_BOOL, 0, 0, 0, 0 },
    { "tags", JSONX_ARRAY, 0, 2, 0, 0 },
    { "meta", JSONX_OBJECT, 0, 0, 0, 0 },
    { "any", JSONX_ANY, 0, 0, 0, 0 },
};

struct check_case {
    int         line;
    const char *json;
    enum cw_err err;
    const char *field;
    const char *reason;     /* substring */
};

static const struct check_case check_cases[] = {
    { __LINE__, "{\"name\":\"bob\"}", CW_OK, "", "" },
    { __LINE__, "{\"name\":\"12345678\"}", CW_OK, "", "" },
    { __LINE__, "{\"name\":\"\"}", CW_OK, "", "" },
    { __LINE__, "{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\"}", CW_OK, "",
      "" },
    /* unknown field, named */
    { __LINE__, "{\"name\":\"bob\",\"extra\":1}", CW_E_BADREQ, "extra",
      "unknown field" },
    { __LINE__, "{\"Name\":\"bob\"}", CW_E_BADREQ, "Name", "unknown field" },
    { __LINE__, "{\"name\":\"bob\",\"\":1}", CW_E_BADREQ, "",
      "unknown field" },
    { __LINE__, "{\"a\\u0001b\":1}", CW_E_BADREQ, "a?b", "unknown field" },
    { __LINE__, "{\"a\\u007fb\":1}", CW_E_BADREQ, "a?b", "unknown field" },
    /* required missing or null */
    { __LINE__, "{}", CW_E_BADREQ, "name", "required" },
    { __LINE__, "{\"name\":null}", CW_E_BADREQ, "name", "" },
    { __LINE__, "{\"note\":\"x\"}", CW_E_BADREQ, "name", "required" },
    /* null for optional is fine */
    { __LINE__, "{\"name\":\"b\",\"note\":null,\"count\":null,\"flag\":null,"
      "\"tags\":null,\"meta\":null,\"any\":null}", CW_OK, "", "" },
    /* wrong types */
    { __LINE__, "{\"name\":1}", CW_E_BADREQ, "name", "must be a string" },
    { __LINE__, "{\"name\":[\"bob\"]}", CW_E_BADREQ, "name",
      "must be a string" },
    { __LINE__, "{\"name\":\"b\",\"count\":\"5\"}", CW_E_BADREQ, "count",
      "must be an integer" },
    { __LINE__, "{\"name\":\"b\",\"count\":5.0}", CW_E_BADREQ, "count",
      "must be an integer" },
    { __LINE__, "{\"name\":\"b\",\"count\":true}", CW_E_BADREQ, "count",
      "must be an integer" },
    { __LINE__, "{\"name\":\"b\",\"flag\":1}", CW_E_BADREQ, "flag",
      "must be true or false" },
    { __LINE__, "{\"name\":\"b\",\"flag\":\"true\"}", CW_E_BADREQ, "flag",
      "must be true or false" },
    { __LINE__, "{\"name\":\"b\",\"tags\":{}}", CW_E_BADREQ, "tags",
      "must be an array" },
    { __LINE__, "{\"name\":\"b\",\"meta\":[]}", CW_E_BADREQ, "meta",
      "must be an object" },
    { __LINE__, "{\"name\":\"b\",\"any\":[1,{\"x\":null},\"s\"]}", CW_OK, "",
      "" },
    /* string too long (bytes, not characters) */
    { __LINE__, "{\"name\":\"123456789\"}", CW_E_BADREQ, "name", "too long" },
    { __LINE__, "{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}",
      CW_E_BADREQ, "name", "too long" },
    /* control characters */
    { __LINE__, "{\"name\":\"a\\u0001b\"}", CW_E_BADREQ, "name", "control" },
    { __LINE__, "{\"name\":\"a\\nb\"}", CW_E_BADREQ, "name", "control" },
    { __LINE__, "{\"name\":\"a\\tb\"}", CW_E_BADREQ, "name", "control" },
    { __LINE__, "{\"name\":\"\\u001f\"}", CW_E_BADREQ, "name", "control" },
    { __LINE__, "{\"name\":\"a\\u007f\"}", CW_E_BADREQ, "name", "control" },
    /* integer range */
    { __LINE__, "{\"name\":\"b\",\"count\":1}", CW_OK, "", "" },
    { __LINE__, "{\"name\":\"b\",\"count\":10}", CW_OK, "", "" },
    { __LINE__, "{\"name\":\"b\",\"count\":0}", CW_E_BADREQ, "count",
      "out of range" },
    { __LINE__, "{\"name\":\"b\",\"count\":11}", CW_E_BADREQ, "count",
      "out of range" },
    { __LINE__, "{\"name\":\"b\",\"count\":-1}", CW_E_BADREQ, "count",
      "out of range" },
    { __LINE__, "{\"name\":\"b\",\"count\":9223372036854775807}",
      CW_E_BADREQ, "count", "out of range" },
    { __LINE__, "{\"name\":\"b\",\"delta\":-5}", CW_OK, "", "" },
    { __LINE__, "{\"name\":\"b\",\"delta\":5}", CW_OK, "", "" },
    { __LINE__, "{\"name\":\"b\",\"delta\":-6}", CW_E_BADREQ, "delta",
      "out of range" },
    { __LINE__, "{\"name\":\"b\",\"delta\":0}", CW_OK, "", "" },
    { __LINE__, "{\"name\":\"b\",\"n\":-9223372036854775808}", CW_OK, "", "" },
    /* array item cap */
    { __LINE__, "{\"name\":\"b\",\"tags\":[1,2]}", CW_OK, "", "" },
    { __LINE__, "{\"name\":\"b\",\"tags\":[]}", CW_OK, "", "" },
    { __LINE__, "{\"name\":\"b\",\"tags\":[1,2,3]}", CW_E_BADREQ, "tags",
      "too many" },
};

static void
check_one_case(int line, const char *text, const struct jsonx_field *fields,
               size_t nfields, enum cw_err want, const char *field,
               const char *reason)
{
    struct jsonx_why why;
    json_t          *obj = NULL;
    enum cw_err      err;

    memset(&why, 0, sizeof(why));
    ck_assert_msg(jsonx_parse_object((const uint8_t *)text, strlen(text),
                                     &obj, &why) == CW_OK,
                  "line %d: parse: %s", line, why.reason);
    err = jsonx_check(obj, fields, nfields, &why);
    json_decref(obj);
    ck_assert_msg(err == want, "line %d: err %d want %d (%s: %s)", line,
                  (int)err, (int)want, why.field, why.reason);
    if (want != CW_OK) {
        ck_assert_msg(strcmp(why.field, field) == 0,
                      "line %d: field '%s' want '%s'", line, why.field, field);
        ck_assert_msg(strstr(why.reason, reason) != NULL,
                      "line %d: reason '%s' lacks '%s'", line, why.reason,
                      reason);
    }
}

START_TEST(test_jsonx_check)
{
    const struct check_case *c = &check_cases[_i];

    check_one_case(c->line, c->json, check_fields, N_ELEMS(check_fields),
                   c->err, c->field, c->reason);
}
END_TEST

START_TEST(test_jsonx_check_default_string_cap)
{
    static const struct jsonx_field f[] = {
        { "s", JSONX_STRING, 0, 0, 0, 0 },
    };
    struct buf b;
    json_t    *obj;
    struct jsonx_why why;

    /* max 0 means LIM_JSON_STRING bytes. */
    for (int extra = 0; extra <= 1; extra++) {
        buf_init(&b, LIM_JSON_STRING + 64);
        buf_puts(&b, "{\"s\":\"");
        for (int i = 0; i < LIM_JSON_STRING + extra; i++)
            buf_puts(&b, "x");
        buf_puts(&b, "\"}");
        ck_assert_int_eq(jsonx_parse_object(b.p, b.len, &obj, &why), CW_OK);
        ck_assert_int_eq(jsonx_check(obj, f, 1, &why),
                         extra ? CW_E_BADREQ : CW_OK);
        json_decref(obj);
        buf_cleanup(&b);
    }
    /* A string with an embedded NUL built in code is refused too. */
    obj = json_object();
    json_object_set_new(obj, "s", json_stringn("a\0b", 3));
    ck_assert_int_eq(jsonx_check(obj, f, 1, &why), CW_E_BADREQ);
    ck_assert_str_eq(why.field, "s");
    json_decref(obj);
}
END_TEST

/* The unknown-field name is client text: it must come back short and
 * printable, and (it ends up in a JSON problem document) valid UTF-8. */
struct check_key_case {
    int         line;
    const char *key;        /* JSON-escaped key text */
};

static const struct check_key_case check_key_cases[] = {
    { __LINE__, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
                "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk" },
    { __LINE__, "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                "\\u00e9\\u00e9\\u00e9\\u00e9" },
    /* 59 ASCII bytes, then a 2-byte character across the 60-byte cut */
    { __LINE__, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
                "\\u00e9zz" },
    /* 58 ASCII bytes, then a 3-byte character across the cut */
    { __LINE__, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
                "\\u20aczz" },
};

START_TEST(test_jsonx_check_unknown_key_text)
{
    const struct check_key_case *c = &check_key_cases[_i];
    struct jsonx_why why;
    json_t          *obj;
    char             text[1024];

    snprintf(text, sizeof(text), "{\"%s\":1}", c->key);
    ck_assert_int_eq(jsonx_parse_object((const uint8_t *)text, strlen(text),
                                        &obj, &why),
                     CW_OK);
    ck_assert_int_eq(jsonx_check(obj, check_fields, N_ELEMS(check_fields),
                                 &why),
                     CW_E_BADREQ);
    json_decref(obj);
    ck_assert_str_eq(why.reason, "unknown field");
    ck_assert_msg(strlen(why.field) > 0 && strlen(why.field) <= 60,
                  "line %d: field length %zu", c->line, strlen(why.field));
    ck_assert_msg(utf8_valid((const unsigned char *)why.field,
                             strlen(why.field)),
                  "line %d: why.field is not valid UTF-8 (a multi-byte "
                  "character was cut at the 60-byte limit)",
                  c->line);
}
END_TEST

START_TEST(test_jsonx_helpers)
{
    json_t *obj = json_pack("{s:s, s:i, s:n}", "s", "v\xc3\xa9", "i", 1, "z");
    json_t *back;
    char   *s;

    ck_assert_ptr_nonnull(obj);
    ck_assert_str_eq(jsonx_str(obj, "s"), "v\xc3\xa9");
    ck_assert_ptr_null(jsonx_str(obj, "i"));
    ck_assert_ptr_null(jsonx_str(obj, "z"));
    ck_assert_ptr_null(jsonx_str(obj, "missing"));
    s = jsonx_dumps(obj);
    /* Compact and ASCII-only, and it reads back to the same value. */
    ck_assert_ptr_null(strpbrk(s, " \n"));
    for (const char *c = s; *c != '\0'; c++)
        ck_assert((unsigned char)*c < 0x80);
    back = json_loads(s, 0, NULL);
    ck_assert(json_equal(obj, back));
    json_decref(back);
    free(s);
    json_decref(obj);
    /* Never NULL. */
    s = jsonx_dumps(NULL);
    ck_assert_ptr_nonnull(s);
    free(s);
}
END_TEST

/* ==== cw_err ============================================================ */

/* Codes are append-only: the numbers are cited by logs and docs. */
struct err_pinned_case {
    int         line;
    enum cw_err err;
    int         num;
    const char *code;
    int         status;
};

static const struct err_pinned_case err_pinned[] = {
    { __LINE__, CW_OK, 0, "ok", 200 },
    { __LINE__, CW_E_INTERNAL, 1, "internal_error", 500 },
    { __LINE__, CW_E_BADREQ, 2, "bad_request", 400 },
    { __LINE__, CW_E_JSON, 3, "malformed_json", 400 },
    { __LINE__, CW_E_TOOLARGE, 4, "payload_too_large", 413 },
    { __LINE__, CW_E_NOLENGTH, 5, "length_required", 411 },
    { __LINE__, CW_E_NOTFOUND, 6, "not_found", 404 },
    { __LINE__, CW_E_METHOD, 7, "method_not_allowed", 405 },
    { __LINE__, CW_E_UNAUTH, 8, "unauthorized", 401 },
    { __LINE__, CW_E_FORBIDDEN, 9, "forbidden", 403 },
    { __LINE__, CW_E_CONFLICT, 10, "conflict", 409 },
    { __LINE__, CW_E_DB, 11, "database_error", 500 },
    { __LINE__, CW_E_DB_RETRY, 12, "database_busy", 503 },
    { __LINE__, CW_E_DB_DOWN, 13, "database_unavailable", 503 },
    { __LINE__, CW_E_MEDIATYPE, 14, "unsupported_media_type", 415 },
    { __LINE__, CW_E_RATELIMIT, 15, "rate_limited", 429 },
    { __LINE__, CW_E_CONFIG, 16, "config_error", 500 },
    { __LINE__, CW_E_IO, 17, "io_error", 500 },
    { __LINE__, CW_E_CRYPTO, 18, "crypto_error", 500 },
    { __LINE__, CW_E_SCHEMA, 19, "schema_mismatch", 503 },
    { __LINE__, CW_E_CSRF, 20, "csrf_failed", 403 },
    { __LINE__, CW_E_LOCKED, 21, "locked", 423 },
    { __LINE__, CW_E_BUSY, 22, "busy", 503 },
    { __LINE__, CW_E_UNAVAILABLE, 23, "unavailable", 503 },
    { __LINE__, CW_E_PASSWORD, 24, "weak_password", 400 },
};

START_TEST(test_err_pinned)
{
    const struct err_pinned_case *c = &err_pinned[_i];
    const struct cw_err_info *info = cw_err_info(c->err);

    ck_assert_msg((int)c->err == c->num, "line %d: %s renumbered to %d",
                  c->line, c->code, (int)c->err);
    ck_assert_msg(strcmp(info->code, c->code) == 0,
                  "line %d: code '%s' want '%s'", c->line, info->code,
                  c->code);
    ck_assert_msg(info->status == c->status, "line %d: status %d want %d",
                  c->line, info->status, c->status);
    ck_assert_msg(strcmp(cw_err_name(c->err), c->code) == 0, "line %d",
                  c->line);
}
END_TEST

START_TEST(test_err_table_complete)
{
    ck_assert_uint_le(N_ELEMS(err_pinned), CW_E__MAX);
    for (int e = 0; e < CW_E__MAX; e++) {
        const struct cw_err_info *info = cw_err_info((enum cw_err)e);

        ck_assert_msg(info->code != NULL && info->code[0] != '\0',
                      "code %d has no name", e);
        ck_assert_msg(strspn(info->code, "abcdefghijklmnopqrstuvwxyz_") ==
                          strlen(info->code),
                      "code %d name '%s' is not [a-z_]", e, info->code);
        ck_assert_msg(info->title != NULL && info->title[0] != '\0',
                      "code %d has no title", e);
        ck_assert_msg(info->status >= 100 && info->status <= 599,
                      "code %d status %d", e, info->status);
        ck_assert_msg(e == CW_OK || info->status >= 400,
                      "error %d maps to success status %d", e, info->status);
        ck_assert_str_eq(cw_err_name((enum cw_err)e), info->code);
        /* Unique names (a missing entry would alias internal_error). */
        for (int f = 0; f < e; f++)
            ck_assert_msg(strcmp(cw_err_info((enum cw_err)f)->code,
                                 info->code) != 0,
                          "codes %d and %d share the name '%s'", f, e,
                          info->code);
    }
    /* Out of range falls back to internal_error, never NULL. */
    ck_assert_str_eq(cw_err_info(CW_E__MAX)->code, "internal_error");
    ck_assert_str_eq(cw_err_info((enum cw_err)1000)->code, "internal_error");
    ck_assert_str_eq(cw_err_info((enum cw_err)-1)->code, "internal_error");
    ck_assert_str_eq(cw_err_name((enum cw_err)-1), "internal_error");
}
END_TEST

/* ==== store_migration_split ============================================= */

#define SPLIT_MAX 8

struct split_log {
    char       *stmts[SPLIT_MAX];
    size_t      n;
    size_t      calls;
    size_t      fail_at;    /* 1-based call number that fails; 0 = never */
};

static enum cw_err
split_collect(const char *sql, size_t len, void *arg)
{
    struct split_log *l = arg;

    l->calls++;
    if (l->fail_at != 0 && l->calls == l->fail_at)
        return CW_E_DB;
    if (l->n < SPLIT_MAX)
        l->stmts[l->n++] = cw_xstrndup(sql, len);
    return CW_OK;
}

static void
split_free(struct split_log *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->stmts[i]);
    l->n = 0;
}

struct split_case {
    int         line;
    const char *text;
    size_t      fail_at;
    enum cw_err err;
    size_t      calls;
    const char *want[SPLIT_MAX];
};

static const struct split_case split_cases[] = {
    { __LINE__, "", 0, CW_OK, 0, { NULL } },
    { __LINE__, "\n\n  \n", 0, CW_OK, 0, { NULL } },
    { __LINE__, "-- only a comment\n", 0, CW_OK, 0, { NULL } },
    { __LINE__, "-- a;\n  -- b;\n", 0, CW_OK, 0, { NULL } },
    { __LINE__, "SELECT 1;", 0, CW_OK, 1, { "SELECT 1" } },
    { __LINE__, "SELECT 1;\n", 0, CW_OK, 1, { "SELECT 1" } },
    { __LINE__, "SELECT 1;  \t\n", 0, CW_OK, 1, { "SELECT 1" } },
    { __LINE__, "-- head\nSELECT 1;\n-- tail\n", 0, CW_OK, 1,
      { "SELECT 1" } },
    { __LINE__, "CREATE TABLE t (\n    id INT,\n    v TEXT\n);\n", 0, CW_OK,
      1, { "CREATE TABLE t (\n    id INT,\n    v TEXT\n)" } },
    { __LINE__,
      "-- two tables\n"
      "CREATE TABLE a (\n  id INT\n);\n"
      "\n"
      "-- second\n"
      "CREATE TABLE b (\n  id INT\n) ENGINE=InnoDB;\n",
      0, CW_OK, 2,
      { "CREATE TABLE a (\n  id INT\n)",
        "CREATE TABLE b (\n  id INT\n) ENGINE=InnoDB" } },
    /* a ';' inside a line does not end the statement */
    { __LINE__, "INSERT INTO t VALUES ('a;b'),\n  ('c');\n", 0, CW_OK, 1,
      { "INSERT INTO t VALUES ('a;b'),\n  ('c')" } },
    { __LINE__, "A;\nB;\nC;\n", 0, CW_OK, 3, { "A", "B", "C" } },
    /* missing final ';' */
    { __LINE__, "SELECT 1", 0, CW_E_INTERNAL, 0, { NULL } },
    { __LINE__, "SELECT 1\n", 0, CW_E_INTERNAL, 0, { NULL } },
    { __LINE__, "A;\nCREATE TABLE t (\n  id INT\n)\n-- end\n", 0,
      CW_E_INTERNAL, 1, { "A" } },
    /* only whole "--" lines are comments */
    { __LINE__, "A;\nB -- ;\n", 0, CW_OK, 2, { "A", "B -- " } },
    /* the callback's error stops the split */
    { __LINE__, "A;\nB;\nC;\n", 2, CW_E_DB, 2, { "A" } },
    { __LINE__, "A;\nB;\nC;\n", 1, CW_E_DB, 1, { NULL } },
};

START_TEST(test_migration_split)
{
    const struct split_case *c = &split_cases[_i];
    struct split_log l;
    enum cw_err      err;
    size_t           nwant = 0;

    memset(&l, 0, sizeof(l));
    l.fail_at = c->fail_at;
    err = store_migration_split(c->text, split_collect, &l);
    while (nwant < SPLIT_MAX && c->want[nwant] != NULL)
        nwant++;
    ck_assert_msg(err == c->err, "line %d: err %d want %d", c->line,
                  (int)err, (int)c->err);
    ck_assert_msg(l.calls == c->calls, "line %d: %zu calls want %zu",
                  c->line, l.calls, c->calls);
    ck_assert_msg(l.n == nwant, "line %d: %zu statements want %zu", c->line,
                  l.n, nwant);
    for (size_t i = 0; i < nwant; i++)
        ck_assert_msg(strcmp(l.stmts[i], c->want[i]) == 0,
                      "line %d: statement %zu is '%s' want '%s'", c->line, i,
                      l.stmts[i], c->want[i]);
    split_free(&l);
}
END_TEST

static enum cw_err
split_count(const char *sql, size_t len, void *arg)
{
    (void)sql;
    (void)len;
    (*(size_t *)arg)++;
    return CW_OK;
}

START_TEST(test_migration_split_cap)
{
    struct buf b;
    size_t     n = 0;

    buf_init(&b, 1u << 20);
    for (int i = 0; i < LIM_MIGRATION_STMTS; i++)
        buf_puts(&b, "SELECT 1;\n");
    ck_assert_int_eq(store_migration_split((const char *)b.p, split_count, &n),
                     CW_OK);
    ck_assert_uint_eq(n, LIM_MIGRATION_STMTS);
    buf_puts(&b, "SELECT 1;\n");
    n = 0;
    ck_assert_int_eq(store_migration_split((const char *)b.p, split_count, &n),
                     CW_E_INTERNAL);
    ck_assert_uint_eq(n, LIM_MIGRATION_STMTS);
    buf_cleanup(&b);
}
END_TEST

static enum cw_err
split_check_stmt(const char *sql, size_t len, void *arg)
{
    size_t     *n = arg;
    const char *t = sql;
    size_t      tl = len;

    sp_trim(&t, &tl);
    while (tl > 0 && (*t == '\n' || *t == ' ')) {
        t++;
        tl--;
    }
    if (tl == 0 || (tl >= 2 && t[0] == '-' && t[1] == '-'))
        return CW_E_INTERNAL;
    (*n)++;
    return CW_OK;
}

/* Every migration compiled into the binary splits cleanly. */
START_TEST(test_migrations_embedded)
{
    unsigned prev = 0;

    ck_assert_uint_gt(store_nmigrations, 0);
    for (unsigned i = 0; i < store_nmigrations; i++) {
        const struct store_migration *m = &store_migrations[i];
        size_t                        n = 0;

        /* Ascending and unique; a number may be missing (migrations are
         * numbered when they are written, and applied by number). */
        ck_assert_msg(m->version > prev, "migration %u has version %u "
                      "after %u", i, m->version, prev);
        prev = m->version;
        ck_assert_msg(m->name != NULL && m->name[0] != '\0', "migration %u",
                      i);
        ck_assert_msg(store_migration_split(m->sql, split_check_stmt, &n) ==
                          CW_OK,
                      "migration %s does not split", m->name);
        ck_assert_msg(n > 0, "migration %s has no statements", m->name);
    }
}
END_TEST

/* ==== runner ============================================================ */

#define LOOP(tc, t, arr) tcase_add_loop_test(tc, t, 0, (int)N_ELEMS(arr))

static Suite *
util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc;

    tc = tcase_create("buf");
    LOOP(tc, test_buf_cap, buf_cap_cases);
    tcase_add_test(tc, test_buf_reset_after_refusal);
    tcase_add_test(tc, test_buf_nul_terminated);
    LOOP(tc, test_buf_printf, buf_printf_cases);
    tcase_add_test(tc, test_buf_take);
    LOOP(tc, test_str_eq, str_eq_cases);
    suite_add_tcase(s, tc);

    tc = tcase_create("arena");
    tcase_add_test(tc, test_arena_alignment);
    tcase_add_test(tc, test_arena_large);
    tcase_add_test(tc, test_arena_defer);
    tcase_add_test(tc, test_arena_recycle);
    LOOP(tc, test_arena_strndup, arena_strndup_cases);
    tcase_add_test(tc, test_arena_printf);
    suite_add_tcase(s, tc);

    tc = tcase_create("sp");
    LOOP(tc, test_sp_u64, sp_u64_cases);
    LOOP(tc, test_sp_bool, sp_bool_cases);
    LOOP(tc, test_sp_octal, sp_octal_cases);
    LOOP(tc, test_sp_hex_decode, sp_hex_decode_cases);
    tcase_add_test(tc, test_sp_u64_text);
    tcase_add_test(tc, test_sp_hex_roundtrip);
    tcase_add_test(tc, test_sp_random_hex);
    LOOP(tc, test_sp_trim, sp_trim_cases);
    suite_add_tcase(s, tc);

    tc = tcase_create("log");
    LOOP(tc, test_log_escape, log_escape_cases);
    tcase_add_test(tc, test_log_escape_all_bytes);
    suite_add_tcase(s, tc);

    tc = tcase_create("jsonx");
    tcase_set_timeout(tc, 30);
    LOOP(tc, test_jsonx_parse, json_parse_cases);
    tcase_add_test(tc, test_jsonx_parse_empty_reason);
    LOOP(tc, test_jsonx_depth, json_depth_cases);
    LOOP(tc, test_jsonx_check, check_cases);
    tcase_add_test(tc, test_jsonx_check_default_string_cap);
    LOOP(tc, test_jsonx_check_unknown_key_text, check_key_cases);
    tcase_add_test(tc, test_jsonx_helpers);
    suite_add_tcase(s, tc);

    tc = tcase_create("err");
    LOOP(tc, test_err_pinned, err_pinned);
    tcase_add_test(tc, test_err_table_complete);
    suite_add_tcase(s, tc);

    tc = tcase_create("migration_split");
    LOOP(tc, test_migration_split, split_cases);
    tcase_add_test(tc, test_migration_split_cap);
    tcase_add_test(tc, test_migrations_embedded);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr;
    int      failed;

    /* The code under test logs refusals; keep the test output readable. */
    log_set_level(LOG_CRIT);
    sr = srunner_create(util_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

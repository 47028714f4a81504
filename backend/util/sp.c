/* sp.c: strict parsers for untrusted text. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "util/sp.h"

enum cw_err
sp_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 20)
        return CW_E_BADREQ;
    /* A leading zero is allowed only for "0" itself. */
    if (len > 1 && s[0] == '0')
        return CW_E_BADREQ;
    for (size_t i = 0; i < len; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return CW_E_BADREQ;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return CW_E_BADREQ;
        v = v * 10 + d;
    }
    if (v > max)
        return CW_E_BADREQ;
    *out = v;
    return CW_OK;
}

enum cw_err
sp_bool(const char *s, size_t len, int *out)
{
    static const struct {
        const char *word;
        int         val;
    } words[] = {
        { "true", 1 }, { "yes", 1 }, { "on", 1 },   { "1", 1 },
        { "false", 0 }, { "no", 0 }, { "off", 0 }, { "0", 0 },
    };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strlen(words[i].word) == len &&
            strncasecmp(words[i].word, s, len) == 0) {
            *out = words[i].val;
            return CW_OK;
        }
    }
    return CW_E_BADREQ;
}

enum cw_err
sp_octal(const char *s, size_t len, unsigned max, unsigned *out)
{
    unsigned v = 0;

    if (len == 0 || len > 6)
        return CW_E_BADREQ;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '7')
            return CW_E_BADREQ;
        v = v * 8 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return CW_E_BADREQ;
    *out = v;
    return CW_OK;
}

const char *
sp_u64_text(uint64_t v, char num[21])
{
    char *p = num + 20;

    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return p;
}

void
sp_hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* -1, or the value of the octet as a hex digit (either case) */
const int8_t sp_hex_table[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
     0,  1,  2,  3,  4,  5,  6,  7,  8,  9, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

enum cw_err
sp_hex_decode(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (n > SIZE_MAX / 2 || len != 2 * n)
        return CW_E_BADREQ;
    for (size_t i = 0; i < n; i++) {
        int hi = sp_hexval(s[2 * i]);
        int lo = sp_hexval(s[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return CW_E_BADREQ;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return CW_OK;
}

void
sp_random_hex(char *out, size_t n)
{
    uint8_t tmp[64];

    out[0] = '\0';
    while (n > 0) {
        size_t k = n > sizeof(tmp) ? sizeof(tmp) : n;

        randombytes_buf(tmp, k);
        sp_hex_encode(tmp, k, out);
        out += 2 * k;
        n -= k;
    }
    sodium_memzero(tmp, sizeof(tmp));
}

void
sp_trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* -1, or the value of the octet in base64's standard alphabet (RFC 4648
 * section 4) */
const int8_t sp_b64_table[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

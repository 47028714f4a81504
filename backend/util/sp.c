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

int
sp_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

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

int
sp_b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * sp.h: strict parsing of untrusted text into numbers and flags. Every
 * function takes (pointer, length) and accepts the whole input or nothing:
 * no leading spaces, no sign where none belongs, no trailing bytes.
 */
#ifndef CW_UTIL_SP_H
#define CW_UTIL_SP_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Decimal unsigned integer <= max. */
enum cw_err sp_u64(const char *s, size_t len, uint64_t max, uint64_t *out);
/* true/false/yes/no/on/off/1/0 */
enum cw_err sp_bool(const char *s, size_t len, int *out);
/* Octal number (file modes) <= max. */
enum cw_err sp_octal(const char *s, size_t len, unsigned max, unsigned *out);
/* v in decimal, written at the end of num; returns where it starts (no
 * printf: response heads and OCSP cache headers use it per request). */
const char *sp_u64_text(uint64_t v, char num[21]);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void sp_hex_encode(const uint8_t *p, size_t n, char *out);
/* Value of one base64 character (RFC 4648 section 4 alphabet), or -1;
 * of one hex digit, or -1. Table lookups, inline: they run per character
 * of every OCSP GET and every escaped path. */
extern const int8_t sp_b64_table[256];
extern const int8_t sp_hex_table[256];

static inline int
sp_b64val(int c)
{
    return c >= 0 && c < 256 ? sp_b64_table[c] : -1;
}

static inline int
sp_hexval(int c)
{
    return c >= 0 && c < 256 ? sp_hex_table[c] : -1;
}
/* Exactly 2n hex digits (either case) into n bytes. */
enum cw_err sp_hex_decode(const char *s, size_t len, uint8_t *out, size_t n);
/* n random bytes as 2n lower-case hex characters (out has 2n+1 bytes). */
void sp_random_hex(char *out, size_t n);
/* Trim ASCII spaces and tabs from both ends. */
void sp_trim(const char **s, size_t *len);

#endif

/* totp.c: RFC 6238 / RFC 4226 one-time passwords. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/totp.h"

unsigned
auth_totp_code(const uint8_t *secret, size_t len, uint64_t step)
{
    uint8_t      msg[8];
    uint8_t      md[20];
    unsigned int mdlen = 0;
    unsigned     off;
    uint32_t     bin;

    for (int i = 7; i >= 0; i--) {
        msg[i] = (uint8_t)(step & 0xff);
        step >>= 8;
    }
    HMAC(EVP_sha1(), secret, (int)len, msg, sizeof(msg), md, &mdlen);
    /* Dynamic truncation, RFC 4226 section 5.3. */
    off = md[19] & 0x0f;
    bin = (uint32_t)(md[off] & 0x7f) << 24 | (uint32_t)md[off + 1] << 16 |
          (uint32_t)md[off + 2] << 8 | md[off + 3];
    return bin % 1000000u;
}

int64_t
auth_totp_match(const uint8_t *secret, size_t len, const char *code,
                uint64_t now)
{
    uint64_t step = now / AUTH_TOTP_STEP;
    int64_t  found = -1;
    char     want[8];
    char     got[8];

    if (code == NULL || strlen(code) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        if (code[i] < '0' || code[i] > '9')
            return -1;
    memcpy(got, code, 7);
    for (int d = -1; d <= 1; d++) {
        unsigned c = auth_totp_code(secret, len, step + (uint64_t)(int64_t)d);

        for (int i = 5; i >= 0; i--) {
            want[i] = (char)('0' + c % 10);
            c /= 10;
        }
        /* Check every window position: no early exit on a match. */
        if (CRYPTO_memcmp(want, got, 6) == 0)
            found = (int64_t)(step + (uint64_t)(int64_t)d);
    }
    return found;
}

void
auth_base32(const uint8_t *p, size_t len, char *out, size_t n)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t            o = 0;
    unsigned          buf = 0;
    int               bits = 0;

    for (size_t i = 0; i < len; i++) {
        buf = buf << 8 | p[i];
        bits += 8;
        while (bits >= 5 && o + 1 < n) {
            out[o++] = alpha[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0 && o + 1 < n)
        out[o++] = alpha[(buf << (5 - bits)) & 31];
    out[o] = '\0';
}

/* wrap.c: authenticated encryption of secrets at rest (libsodium). */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "signer/wrap.h"
#include "util/log.h"

void
signer_key_id(const uint8_t key[32], uint8_t id[4])
{
    uint8_t h[16];

    crypto_generichash(h, sizeof(h), key, 32,
                       (const uint8_t *)"certward-key-id", 15);
    memcpy(id, h, 4);
}

enum cw_err
signer_wrap(const uint8_t key[32], const char *ad, const uint8_t *pt,
            size_t len, struct buf *out)
{
    uint8_t           *dst;
    unsigned long long clen = 0;
    enum cw_err        err;

    err = buf_reserve(out, len + SIGNER_WRAP_OVERHEAD, &dst);
    if (err != CW_OK)
        return err;
    dst[0] = SIGNER_WRAP_VERSION;
    signer_key_id(key, dst + 1);
    randombytes_buf(dst + 5, 24);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        dst + 29, &clen, pt, len, (const uint8_t *)ad, strlen(ad), NULL,
        dst + 5, key);
    out->len += 29 + (size_t)clen;
    out->p[out->len] = '\0';
    return CW_OK;
}

enum cw_err
signer_unwrap(const uint8_t key[32], const char *ad, const uint8_t *blob,
              size_t len, struct buf *out)
{
    uint8_t            id[4];
    uint8_t           *dst;
    unsigned long long plen = 0;
    enum cw_err        err;

    if (len < SIGNER_WRAP_OVERHEAD || blob[0] != SIGNER_WRAP_VERSION) {
        log_err("wrapped secret for %s: unknown format", ad);
        return CW_E_CRYPTO;
    }
    signer_key_id(key, id);
    if (memcmp(id, blob + 1, 4) != 0) {
        log_err("wrapped secret for %s: wrapped under another master key",
                ad);
        return CW_E_CRYPTO;
    }
    err = buf_reserve(out, len - SIGNER_WRAP_OVERHEAD, &dst);
    if (err != CW_OK)
        return err;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            dst, &plen, NULL, blob + 29, len - 29, (const uint8_t *)ad,
            strlen(ad), blob + 5, key) != 0) {
        log_err("wrapped secret for %s: authentication failed (moved, "
                "tampered or corrupt)", ad);
        return CW_E_CRYPTO;
    }
    out->len += (size_t)plen;
    out->p[out->len] = '\0';
    return CW_OK;
}

/*
 * signer.c: in-process signer. Trusts its caller for the row identity
 * (the wrapping binds the blob to it, so a wrong pairing fails to unwrap);
 * plaintext keys exist only inside these functions and are wiped.
 */
#include "config.h"

#include <stdio.h>

#include "pki/key.h"
#include "pki/sign.h"
#include "signer/signer.h"
#include "signer/wrap.h"
#include "util/log.h"

static void
key_ad(const char *table, uint64_t id, char *out, size_t n)
{
    snprintf(out, n, "%s:%llu:key", table, (unsigned long long)id);
}

enum cw_err
signer_key_wrap(const struct cw_config *cfg, const char *table, uint64_t id,
                EVP_PKEY *key, struct buf *out)
{
    struct buf  der;
    char        ad[96];
    enum cw_err err;

    buf_init(&der, 65536);
    key_ad(table, id, ad, sizeof(ad));
    err = pki_key_to_pkcs8_der(key, &der);
    if (err == CW_OK)
        err = signer_wrap(cfg->master_key, ad, der.p, der.len, out);
    buf_cleanup_secret(&der);
    return err;
}

static enum cw_err
unwrap_key(const struct cw_config *cfg, const char *table, uint64_t id,
           const uint8_t *blob, size_t len, EVP_PKEY **out)
{
    struct buf  der;
    char        ad[96];
    enum cw_err err;

    buf_init(&der, 65536);
    key_ad(table, id, ad, sizeof(ad));
    err = signer_unwrap(cfg->master_key, ad, blob, len, &der);
    if (err == CW_OK)
        err = pki_key_parse_pkcs8_der(der.p, der.len, out);
    buf_cleanup_secret(&der);
    if (err != CW_OK)
        log_err("signer: the key of %s %llu is not usable", table,
                (unsigned long long)id);
    return err == CW_OK ? CW_OK : CW_E_CRYPTO;
}

enum cw_err
signer_sign_cert(const struct cw_config *cfg, const char *table, uint64_t id,
                 const uint8_t *blob, size_t len, X509 *tbs)
{
    EVP_PKEY   *key = NULL;
    enum cw_err err;

    err = unwrap_key(cfg, table, id, blob, len, &key);
    if (err == CW_OK)
        err = pki_cert_sign(tbs, key);
    EVP_PKEY_free(key);   /* OpenSSL clears private key material */
    return err;
}

enum cw_err
signer_key_export(const struct cw_config *cfg, const char *table,
                  uint64_t id, const uint8_t *blob, size_t len,
                  EVP_PKEY **out)
{
    return unwrap_key(cfg, table, id, blob, len, out);
}

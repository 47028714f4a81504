/*
 * sign.c: X509_sign and X509_REQ_sign with the digest chosen from the key.
 * Runs inside the signer for CA keys; trusts its callers to pass a
 * certificate built by pki_build_cert().
 */
#include "config.h"

#include <limits.h>

#include <openssl/err.h>

#include "pki/key.h"
#include "pki/pki-int.h"
#include "pki/sign.h"

enum cw_err
pki_sign_md(const EVP_PKEY *key, const EVP_MD **md)
{
    struct pki_key_info info;
    enum cw_err         err;

    err = pki_key_describe(key, &info);
    if (err != CW_OK)
        return err;
    switch (info.alg) {
    case PKI_ALG_RSA:
        *md = EVP_sha256();
        return CW_OK;
    case PKI_ALG_EC:
        *md = info.type == PKI_KEY_EC_P384   ? EVP_sha384()
              : info.type == PKI_KEY_EC_P521 ? EVP_sha512()
                                             : EVP_sha256();
        return CW_OK;
    case PKI_ALG_ED25519:
        *md = NULL;
        return CW_OK;
    case PKI_ALG__MAX:
        break;
    }
    return CW_E_BADKEY;
}

enum cw_err
pki_cert_sign(X509 *tbs, EVP_PKEY *key)
{
    const EVP_MD *md = NULL;
    enum cw_err   err;

    err = pki_sign_md(key, &md);
    if (err != CW_OK)
        return err;
    ERR_clear_error();
    if (X509_sign(tbs, key, md) <= 0) {
        pki_ssl_failed("X509_sign");
        return CW_E_CRYPTO;
    }
    return CW_OK;
}

enum cw_err
pki_csr_sign(X509_REQ *req, EVP_PKEY *key)
{
    const EVP_MD *md = NULL;
    enum cw_err   err;

    err = pki_sign_md(key, &md);
    if (err != CW_OK)
        return err;
    ERR_clear_error();
    if (X509_REQ_sign(req, key, md) <= 0) {
        pki_ssl_failed("X509_REQ_sign");
        return CW_E_CRYPTO;
    }
    return CW_OK;
}

/*
 * sign.c: X509_sign, X509_REQ_sign, OCSP response and raw byte signatures
 * with the digest chosen from the key. Runs inside the signer for CA keys;
 * trusts its callers to pass a certificate built by pki_build_cert(), a
 * TBSCertList built by pki_crl_tbs() and a response built with
 * pki_ocsp_add().
 */
#include "config.h"

#include <limits.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "pki/key.h"
#include "pki/pki-int.h"
#include "pki/sign.h"
#include "util/log.h"

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

/* A DigestSign context for key with the digest of pki_sign_md. RSA gets
 * PKCS#1 v1.5 padding explicitly: the AlgorithmIdentifier that
 * pki_sig_algid() writes says sha256WithRSAEncryption, whatever a future
 * default may be. */
static enum cw_err
sign_ctx_new(EVP_PKEY *key, EVP_MD_CTX **out)
{
    EVP_MD_CTX   *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = NULL;
    enum cw_err   err;

    err = pki_sign_md(key, &md);
    if (err != CW_OK)
        return err;
    ERR_clear_error();
    ctx = EVP_MD_CTX_new();
    /* md NULL is what Ed25519 needs: pure EdDSA hashes internally. */
    if (ctx == NULL || EVP_DigestSignInit(ctx, &pctx, md, NULL, key) != 1) {
        pki_ssl_failed("EVP_DigestSignInit");
        err = CW_E_CRYPTO;
        goto out;
    }
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
        pki_ssl_failed("EVP_PKEY_CTX_set_rsa_padding");
        err = CW_E_CRYPTO;
        goto out;
    }
    *out = ctx;
    ctx = NULL;
out:
    EVP_MD_CTX_free(ctx);
    return err;
}

enum cw_err
pki_sign_bytes(EVP_PKEY *key, const uint8_t *tbs, size_t len, struct buf *sig)
{
    EVP_MD_CTX *ctx = NULL;
    uint8_t    *dst;
    size_t      siglen;
    int         max;
    enum cw_err err;

    err = sign_ctx_new(key, &ctx);
    if (err != CW_OK)
        return err;
    /* The largest signature the key makes; ECDSA's DER is often shorter. */
    max = EVP_PKEY_get_size(key);
    if (max <= 0) {
        pki_ssl_failed("EVP_PKEY_get_size");
        err = CW_E_CRYPTO;
        goto out;
    }
    err = buf_reserve(sig, (size_t)max, &dst);
    if (err != CW_OK)
        goto out;
    siglen = (size_t)max;
    /* One-shot: Ed25519 cannot sign in parts, and the others do not mind. */
    if (EVP_DigestSign(ctx, dst, &siglen, len > 0 ? tbs : (const uint8_t *)"",
                       len) != 1 ||
        siglen == 0 || siglen > (size_t)max) {
        pki_ssl_failed("EVP_DigestSign");
        err = CW_E_CRYPTO;
        goto out;
    }
    sig->len += siglen;
    sig->p[sig->len] = '\0';
out:
    EVP_MD_CTX_free(ctx);
    return err;
}

enum cw_err
pki_sig_algid(EVP_PKEY *pub, struct buf *der)
{
    /* SEQUENCE { OID, NULL } and SEQUENCE { OID }, DER. */
    static const uint8_t rsa_sha256[] = {
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
        0x01, 0x01, 0x0b, 0x05, 0x00,
    };
    static const uint8_t ecdsa_sha256[] = {
        0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
        0x03, 0x02,
    };
    static const uint8_t ecdsa_sha384[] = {
        0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
        0x03, 0x03,
    };
    static const uint8_t ecdsa_sha512[] = {
        0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
        0x03, 0x04,
    };
    static const uint8_t ed25519[] = { 0x30, 0x05, 0x06, 0x03,
                                       0x2b, 0x65, 0x70 };
    const EVP_MD *md = NULL;
    enum cw_err   err;

    /* Derived from the digest pki_sign_bytes() will use, so that the two
     * cannot disagree. */
    err = pki_sign_md(pub, &md);
    if (err != CW_OK)
        return err;
    switch (EVP_PKEY_get_base_id(pub)) {
    case EVP_PKEY_RSA:
        if (md != NULL && EVP_MD_get_type(md) == NID_sha256)
            return buf_append(der, rsa_sha256, sizeof(rsa_sha256));
        break;
    case EVP_PKEY_EC:
        if (md == NULL)
            break;
        switch (EVP_MD_get_type(md)) {
        case NID_sha256:
            return buf_append(der, ecdsa_sha256, sizeof(ecdsa_sha256));
        case NID_sha384:
            return buf_append(der, ecdsa_sha384, sizeof(ecdsa_sha384));
        case NID_sha512:
            return buf_append(der, ecdsa_sha512, sizeof(ecdsa_sha512));
        default:
            break;
        }
        break;
    case EVP_PKEY_ED25519:
        if (md == NULL)
            return buf_append(der, ed25519, sizeof(ed25519));
        break;
    default:
        break;
    }
    /* pki_sign_md() chose a pairing this table does not know. */
    log_err("no AlgorithmIdentifier for this key and digest");
    return CW_E_INTERNAL;
}

/* Is signer someone else than the issuer every SingleResponse of bs is
 * about? The CA answers for itself; anyone else must be a delegated
 * responder (RFC 6960 section 4.2.2.2) whose certificate the client needs.
 * The CertIDs we build use SHA-1 or SHA-256 (pki_ocsp_certid(), requests
 * pki_ocsp_req_parse() reports with a known hash); a CertID with another
 * hash counts as not matching, which only costs a certificate too many. */
static enum cw_err
ocsp_signer_delegated(OCSP_BASICRESP *bs, X509 *signer, int *delegated)
{
    OCSP_CERTID  *mine[2] = { NULL, NULL };
    const EVP_MD *mds[2];
    int           n;
    enum cw_err   err = CW_E_CRYPTO;

    mds[0] = EVP_sha1();
    mds[1] = EVP_sha256();
    ERR_clear_error();
    for (int k = 0; k < 2; k++) {
        /* The serial is not compared by OCSP_id_issuer_cmp(). */
        mine[k] = OCSP_cert_id_new(mds[k], X509_get_subject_name(signer),
                                   X509_get0_pubkey_bitstr(signer), NULL);
        if (mine[k] == NULL) {
            pki_ssl_failed("OCSP_cert_id_new");
            goto out;
        }
    }
    *delegated = 0;
    n = OCSP_resp_count(bs);
    for (int i = 0; i < n; i++) {
        const OCSP_CERTID *id = OCSP_SINGLERESP_get0_id(OCSP_resp_get0(bs, i));

        if (id == NULL || (OCSP_id_issuer_cmp(id, mine[0]) != 0 &&
                           OCSP_id_issuer_cmp(id, mine[1]) != 0)) {
            *delegated = 1;
            break;
        }
    }
    err = CW_OK;
out:
    OCSP_CERTID_free(mine[0]);
    OCSP_CERTID_free(mine[1]);
    return err;
}

enum cw_err
pki_ocsp_sign(OCSP_BASICRESP *bs, X509 *signer_cert, EVP_PKEY *key,
              STACK_OF(X509) *extra_certs)
{
    EVP_MD_CTX *ctx = NULL;
    int         delegated = 0;
    enum cw_err err;

    err = sign_ctx_new(key, &ctx);      /* refuses keys we do not sign with */
    if (err != CW_OK)
        return err;
    if (X509_check_private_key(signer_cert, key) != 1) {
        pki_ssl_refused("X509_check_private_key");
        err = CW_E_BADKEY;
        goto out;
    }
    err = ocsp_signer_delegated(bs, signer_cert, &delegated);
    if (err != CW_OK)
        goto out;
    err = CW_E_CRYPTO;
    /* The certs field is outside tbsResponseData: we fill it ourselves and
     * sign with OCSP_NOCERTS, because OpenSSL's own filling puts the signer
     * in always or never, and we want it for delegated responders only. */
    if (delegated && OCSP_basic_add1_cert(bs, signer_cert) != 1) {
        pki_ssl_failed("OCSP_basic_add1_cert");
        goto out;
    }
    for (int i = 0; extra_certs != NULL && i < sk_X509_num(extra_certs);
         i++) {
        if (OCSP_basic_add1_cert(bs, sk_X509_value(extra_certs, i)) != 1) {
            pki_ssl_failed("OCSP_basic_add1_cert");
            goto out;
        }
    }
    /* The _ctx variant signs with the context every signature of ours
     * uses (digest per key, none for Ed25519, RSA padding pinned).
     * Without OCSP_RESPID_KEY the responderID is byName. */
    if (OCSP_basic_sign_ctx(bs, signer_cert, ctx, NULL, OCSP_NOCERTS) != 1) {
        pki_ssl_failed("OCSP_basic_sign_ctx");
        goto out;
    }
    err = CW_OK;
out:
    EVP_MD_CTX_free(ctx);
    return err;
}

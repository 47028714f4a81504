/*
 * csr_fast.c: the common PKCS#10 request (RFC 2986) read without OpenSSL
 * 3.0's decoders. d2i_X509_REQ() decodes the subject's key through
 * OSSL_DECODER_CTX_new_for_pkey(), which looks through every provider's
 * decoders on each call: two thirds of the cost of reading, checking and
 * verifying a P-256 request. Here the request is split by an ASN.1
 * template that leaves the SubjectPublicKeyInfo undecoded, the key is
 * imported from its parts (EVP_PKEY_fromdata(): a named curve and its
 * point, or an RSA modulus and exponent, or 32 raw Ed25519 octets) and the
 * signature is verified over the request info exactly as it was received.
 *
 * Only what this file knows is taken: ECDSA with SHA-2 over P-256, P-384
 * or P-521, RSA PKCS#1 v1.5 with SHA-2, Ed25519. For anything else, and
 * for any doubt (a bad signature, a negative exponent, bits left over),
 * pki_csr_fast() answers "not mine" and the caller reads the request with
 * d2i_X509_REQ(), which decides and explains. So this reader may refuse
 * more than OpenSSL, never less; tests/fuzz/fuzz_csr.c checks that every
 * request it takes, OpenSSL takes too, with the same subject, key and
 * attributes.
 */
#include "config.h"

#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "cw_limits.h"
#include "pki/csr.h"
#include "pki/key.h"
#include "pki/pki-int.h"

typedef struct {
    X509_ALGOR      *algor;
    ASN1_BIT_STRING *public_key;
} CW_SPKI;

ASN1_SEQUENCE(CW_SPKI) = {
    ASN1_SIMPLE(CW_SPKI, algor, X509_ALGOR),
    ASN1_SIMPLE(CW_SPKI, public_key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CW_SPKI)

/* As OpenSSL's X509_REQ_INFO (crypto/x509/x_req.c), the key kept as
 * parts; the received encoding is kept (enc) for the signature check. */
typedef struct {
    ASN1_ENCODING             enc;
    ASN1_INTEGER             *version;
    X509_NAME                *subject;
    CW_SPKI                  *pubkey;
    STACK_OF(X509_ATTRIBUTE) *attributes;
} CW_REQ_INFO;

ASN1_SEQUENCE_enc(CW_REQ_INFO, enc, NULL) = {
    ASN1_SIMPLE(CW_REQ_INFO, version, ASN1_INTEGER),
    ASN1_SIMPLE(CW_REQ_INFO, subject, X509_NAME),
    ASN1_SIMPLE(CW_REQ_INFO, pubkey, CW_SPKI),
    ASN1_IMP_SET_OF_OPT(CW_REQ_INFO, attributes, X509_ATTRIBUTE, 0),
} static_ASN1_SEQUENCE_END_ref(CW_REQ_INFO, CW_REQ_INFO)

typedef struct {
    CW_REQ_INFO     *info;
    X509_ALGOR      *sig_alg;
    ASN1_BIT_STRING *signature;
} CW_REQ;

ASN1_SEQUENCE(CW_REQ) = {
    ASN1_SIMPLE(CW_REQ, info, CW_REQ_INFO),
    ASN1_SIMPLE(CW_REQ, sig_alg, X509_ALGOR),
    ASN1_SIMPLE(CW_REQ, signature, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CW_REQ)

/* RSAPublicKey (RFC 8017 A.1.1). */
typedef struct {
    ASN1_INTEGER *n;
    ASN1_INTEGER *e;
} CW_RSAPUB;

ASN1_SEQUENCE(CW_RSAPUB) = {
    ASN1_SIMPLE(CW_RSAPUB, n, ASN1_INTEGER),
    ASN1_SIMPLE(CW_RSAPUB, e, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(CW_RSAPUB)

/* Is the bit string whole octets (no unused bits)? */
static int
bits_whole(const ASN1_BIT_STRING *b)
{
    return (b->flags & ASN1_STRING_FLAG_BITS_LEFT) == 0 ||
           (b->flags & 0x07) == 0;
}

/* Parameters absent (RFC 5758 3.2, RFC 8410 3), or NULL where RFC 4055
 * 5 allows it (null_ok). */
static int
params_ok(const X509_ALGOR *a, int null_ok)
{
    int ptype;

    X509_ALGOR_get0(NULL, &ptype, NULL, a);
    return ptype == V_ASN1_UNDEF || (null_ok && ptype == V_ASN1_NULL);
}

static EVP_PKEY *
key_ec(const CW_SPKI *spki)
{
    const void    *pval = NULL;
    int            ptype;
    int            nid;
    EVP_PKEY_CTX  *ctx = NULL;
    EVP_PKEY      *key = NULL;
    OSSL_PARAM     params[3];
    const char    *group;

    X509_ALGOR_get0(NULL, &ptype, &pval, spki->algor);
    if (ptype != V_ASN1_OBJECT)
        return NULL;               /* explicit parameters: not here */
    nid = OBJ_obj2nid(pval);
    if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1 &&
        nid != NID_secp521r1)
        return NULL;
    group = OBJ_nid2sn(nid);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)(uintptr_t)group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(
        OSSL_PKEY_PARAM_PUB_KEY, spki->public_key->data,
        (size_t)spki->public_key->length);
    params[2] = OSSL_PARAM_construct_end();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static EVP_PKEY *
key_rsa(const CW_SPKI *spki)
{
    const unsigned char *p = spki->public_key->data;
    long                 len = spki->public_key->length;
    CW_RSAPUB           *rp = NULL;
    BIGNUM              *n = NULL;
    BIGNUM              *e = NULL;
    OSSL_PARAM_BLD      *bld = NULL;
    OSSL_PARAM          *params = NULL;
    EVP_PKEY_CTX        *ctx = NULL;
    EVP_PKEY            *key = NULL;

    if (!params_ok(spki->algor, 1))
        return NULL;
    rp = (CW_RSAPUB *)ASN1_item_d2i(NULL, &p, len, ASN1_ITEM_rptr(CW_RSAPUB));
    if (rp == NULL || p != spki->public_key->data + len ||
        ASN1_STRING_type(rp->n) != V_ASN1_INTEGER ||
        ASN1_STRING_type(rp->e) != V_ASN1_INTEGER)
        goto out;
    n = ASN1_INTEGER_to_BN(rp->n, NULL);
    e = ASN1_INTEGER_to_BN(rp->e, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (n == NULL || e == NULL || bld == NULL || BN_is_zero(n) ||
        BN_is_zero(e) ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL;
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    ASN1_item_free((ASN1_VALUE *)rp, ASN1_ITEM_rptr(CW_RSAPUB));
    return key;
}

/* The key and the digest its signature algorithm names ("" for Ed25519),
 * or NULL when this file does not take the pair. */
static EVP_PKEY *
key_and_md(const CW_REQ *r, const char **md)
{
    const ASN1_OBJECT *kobj;
    const ASN1_OBJECT *sobj;
    int                knid;
    int                snid;

    X509_ALGOR_get0(&kobj, NULL, NULL, r->info->pubkey->algor);
    X509_ALGOR_get0(&sobj, NULL, NULL, r->sig_alg);
    knid = OBJ_obj2nid(kobj);
    snid = OBJ_obj2nid(sobj);
    switch (snid) {
    case NID_ecdsa_with_SHA256:
    case NID_ecdsa_with_SHA384:
    case NID_ecdsa_with_SHA512:
        if (knid != NID_X9_62_id_ecPublicKey || !params_ok(r->sig_alg, 0))
            return NULL;
        *md = snid == NID_ecdsa_with_SHA256   ? "SHA256"
              : snid == NID_ecdsa_with_SHA384 ? "SHA384"
                                              : "SHA512";
        return key_ec(r->info->pubkey);
    case NID_sha256WithRSAEncryption:
    case NID_sha384WithRSAEncryption:
    case NID_sha512WithRSAEncryption:
        if (knid != NID_rsaEncryption || !params_ok(r->sig_alg, 1))
            return NULL;
        *md = snid == NID_sha256WithRSAEncryption   ? "SHA256"
              : snid == NID_sha384WithRSAEncryption ? "SHA384"
                                                    : "SHA512";
        return key_rsa(r->info->pubkey);
    case NID_ED25519:
        if (knid != NID_ED25519 || !params_ok(r->sig_alg, 0) ||
            !params_ok(r->info->pubkey->algor, 0) ||
            r->info->pubkey->public_key->length != 32)
            return NULL;
        *md = "";
        return EVP_PKEY_new_raw_public_key_ex(
            NULL, "ED25519", NULL, r->info->pubkey->public_key->data, 32);
    default:
        return NULL;
    }
}

static int
signature_ok(const CW_REQ *r, EVP_PKEY *key, const char *md)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    int         ok;

    ok = mctx != NULL &&
         EVP_DigestVerifyInit_ex(mctx, NULL, md[0] ? md : NULL, NULL, NULL,
                                 key, NULL) == 1 &&
         EVP_DigestVerify(mctx, r->signature->data,
                          (size_t)r->signature->length, r->info->enc.enc,
                          (size_t)r->info->enc.len) == 1;
    EVP_MD_CTX_free(mctx);
    return ok;
}

/* An X509_REQ with the same fields; its X509_PUBKEY holds the key as it
 * was encoded, not decoded (see csr.h). */
static X509_REQ *
req_build(const CW_REQ *r)
{
    X509_REQ        *req = X509_REQ_new();
    X509_ALGOR      *sig_alg = NULL;
    ASN1_BIT_STRING *sig = NULL;

    if (req == NULL || X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
        X509_REQ_set_subject_name(req, r->info->subject) != 1 ||
        pki_spki_set(X509_REQ_get_X509_PUBKEY(req), r->info->pubkey->algor,
                     r->info->pubkey->public_key->data,
                     r->info->pubkey->public_key->length) != CW_OK)
        goto fail;
    for (int i = 0; i < sk_X509_ATTRIBUTE_num(r->info->attributes); i++)
        if (X509_REQ_add1_attr(req,
                               sk_X509_ATTRIBUTE_value(r->info->attributes,
                                                       i)) != 1)
            goto fail;
    sig_alg = X509_ALGOR_dup(r->sig_alg);
    sig = ASN1_STRING_dup(r->signature);
    if (sig_alg == NULL || sig == NULL ||
        X509_REQ_set1_signature_algo(req, sig_alg) != 1)
        goto fail;
    X509_REQ_set0_signature(req, sig);
    X509_ALGOR_free(sig_alg);
    return req;
fail:
    X509_ALGOR_free(sig_alg);
    ASN1_BIT_STRING_free(sig);
    X509_REQ_free(req);
    return NULL;
}

int
pki_csr_fast(const uint8_t *p, size_t len, X509_REQ **out, EVP_PKEY **pub)
{
    const unsigned char *q = p;
    CW_REQ              *r = NULL;
    EVP_PKEY            *key = NULL;
    X509_REQ            *req = NULL;
    const char          *md = NULL;
    int                  ok = 0;

    if (len == 0 || len > LIM_CSR_DER)
        return 0;
    ERR_set_mark();
    r = (CW_REQ *)ASN1_item_d2i(NULL, &q, (long)len, ASN1_ITEM_rptr(CW_REQ));
    if (r == NULL || q != p + len)
        goto out;
    if (ASN1_STRING_type(r->info->version) != V_ASN1_INTEGER ||
        ASN1_INTEGER_get(r->info->version) != X509_REQ_VERSION_1 ||
        !bits_whole(r->signature) || !bits_whole(r->info->pubkey->public_key))
        goto out;
    key = key_and_md(r, &md);
    if (key == NULL || pki_key_check(key) != CW_OK ||
        !signature_ok(r, key, md))
        goto out;
    req = req_build(r);
    if (req == NULL)
        goto out;
    *out = req;
    *pub = key;
    req = NULL;
    key = NULL;
    ok = 1;
out:
    /* A request not taken here is read again by OpenSSL, which reports
     * what is wrong with it; nothing of this attempt is left queued. */
    ERR_pop_to_mark();
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    ASN1_item_free((ASN1_VALUE *)r, ASN1_ITEM_rptr(CW_REQ));
    return ok;
}

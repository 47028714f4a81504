/*
 * csr.c: PKCS#10 parsing (untrusted input from every enrollment protocol)
 * and building. Never sees a CA key.
 */
#include "config.h"

#include <limits.h>

#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "cw_limits.h"
#include "pki/csr.h"
#include "pki/key.h"
#include "pki/name.h"
#include "pki/pki-int.h"
#include "pki/san.h"
#include "pki/sign.h"
#include "util/log.h"

enum cw_err
pki_csr_parse_der(const uint8_t *p, size_t len, X509_REQ **out)
{
    const unsigned char *q = p;
    X509_REQ            *req = NULL;
    EVP_PKEY            *pub;
    enum cw_err          err = CW_E_BADCSR;

    if (len == 0)
        return CW_E_BADCSR;
    if (len > LIM_CSR_DER)              /* LIM_CSR_DER << LONG_MAX */
        return CW_E_TOOLARGE;
    ERR_clear_error();
    req = d2i_X509_REQ(NULL, &q, (long)len);
    if (req == NULL || q != p + len) {  /* garbage or trailing bytes */
        pki_ssl_refused("d2i_X509_REQ");
        goto out;
    }
    if (X509_REQ_get_version(req) != X509_REQ_VERSION_1) {
        log_info("CSR version %ld refused", X509_REQ_get_version(req));
        goto out;
    }
    pub = X509_REQ_get0_pubkey(req);
    if (pub == NULL) {
        pki_ssl_refused("X509_REQ_get0_pubkey");
        goto out;
    }
    if (pki_key_check(pub) != CW_OK)
        goto out;
    if (X509_REQ_verify(req, pub) != 1) {
        pki_ssl_refused("X509_REQ_verify");
        goto out;
    }
    *out = req;
    req = NULL;
    err = CW_OK;
out:
    X509_REQ_free(req);
    return err;
}

enum cw_err
pki_csr_parse_der_key(const uint8_t *p, size_t len, X509_REQ **out,
                      EVP_PKEY **pub)
{
    enum cw_err err;

    if (pki_csr_fast(p, len, out, pub))
        return CW_OK;
    err = pki_csr_parse_der(p, len, out);
    if (err != CW_OK)
        return err;
    *pub = X509_REQ_get0_pubkey(*out);
    if (*pub == NULL || EVP_PKEY_up_ref(*pub) != 1) {
        X509_REQ_free(*out);
        *out = NULL;
        *pub = NULL;
        return CW_E_CRYPTO;
    }
    return CW_OK;
}

/* PEM or DER; with pub, through pki_csr_parse_der_key(). */
static enum cw_err
csr_parse(const uint8_t *p, size_t len, X509_REQ **out, EVP_PKEY **pub)
{
    static const char *const labels[] = {
        "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST",
    };
    unsigned char *der = NULL;
    long           der_len = 0;
    size_t         which;
    enum cw_err    err;

    if (len == 0)
        return CW_E_BADCSR;
    if (!pki_is_pem(p, len))
        return pub != NULL ? pki_csr_parse_der_key(p, len, out, pub)
                           : pki_csr_parse_der(p, len, out);
    if (len > LIM_CSR_PEM)
        return CW_E_TOOLARGE;
    err = pki_pem_decode(p, len, labels, 2, LIM_CSR_DER, &der, &der_len,
                         &which);
    if (err != CW_OK)
        return err == CW_E_TOOLARGE ? err : CW_E_BADCSR;
    err = pub != NULL ? pki_csr_parse_der_key(der, (size_t)der_len, out, pub)
                      : pki_csr_parse_der(der, (size_t)der_len, out);
    OPENSSL_free(der);
    return err;
}

enum cw_err
pki_csr_parse(const uint8_t *p, size_t len, X509_REQ **out)
{
    return csr_parse(p, len, out, NULL);
}

enum cw_err
pki_csr_parse_key(const uint8_t *p, size_t len, X509_REQ **out,
                  EVP_PKEY **pub)
{
    return csr_parse(p, len, out, pub);
}

EVP_PKEY *
pki_csr_pubkey_get(X509_REQ *req)
{
    return X509_REQ_get0_pubkey(req);
}

enum cw_err
pki_csr_subject_take(X509_REQ *req, X509_NAME **out)
{
    const X509_NAME *subj = X509_REQ_get_subject_name(req);
    GENERAL_NAMES   *gens = NULL;
    X509_NAME       *name = NULL;
    struct buf       cn;
    enum cw_err      err;

    buf_init(&cn, 64);
    ERR_clear_error();
    if (X509_NAME_entry_count(subj) > 0) {
        name = X509_NAME_dup(subj);
        if (name == NULL) {
            pki_ssl_failed("X509_NAME_dup");
            err = CW_E_CRYPTO;
            goto out;
        }
    } else {
        err = pki_san_get_csr(req, &gens);
        if (err != CW_OK)
            goto out;
        if (gens == NULL) {
            err = CW_E_NOTFOUND;
            goto out;
        }
        err = pki_san_cn_fallback(gens, &cn);
        if (err != CW_OK)
            goto out;
        name = X509_NAME_new();
        if (name == NULL ||
            X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                       cn.p, (int)cn.len, -1, 0) != 1) {
            pki_ssl_failed("X509_NAME_add_entry_by_NID");
            err = CW_E_CRYPTO;
            goto out;
        }
    }
    err = CW_OK;
    *out = name;
    name = NULL;
out:
    X509_NAME_free(name);
    GENERAL_NAMES_free(gens);
    buf_cleanup(&cn);
    return err;
}

enum cw_err
pki_csr_to_json(X509_REQ *req, json_t **out)
{
    json_t        *o = json_object();
    json_t        *v = NULL;
    GENERAL_NAMES *gens = NULL;
    struct buf     dn;
    enum cw_err    err;

    buf_init(&dn, LIM_JSON_STRING);
    err = pki_name_to_json(X509_REQ_get_subject_name(req), &v);
    if (err != CW_OK)
        goto out;
    json_object_set_new(o, "subject", v);
    err = pki_name_to_string(X509_REQ_get_subject_name(req), &dn);
    if (err != CW_OK)
        goto out;
    json_object_set_new(o, "subject_dn",
                        json_stringn(dn.len ? (const char *)dn.p : "",
                                     dn.len));
    err = pki_san_get_csr(req, &gens);
    if (err != CW_OK)
        goto out;
    v = NULL;
    if (gens != NULL) {
        err = pki_san_to_json(gens, &v);
        if (err != CW_OK) {
            err = CW_E_BADCSR;
            goto out;
        }
    }
    json_object_set_new(o, "sans", v != NULL ? v : json_array());
    err = pki_key_info_json(X509_REQ_get0_pubkey(req), &v);
    if (err != CW_OK)
        goto out;
    json_object_set_new(o, "key", v);
    *out = o;
    o = NULL;
out:
    json_decref(o);
    GENERAL_NAMES_free(gens);
    buf_cleanup(&dn);
    return err;
}

/* Add ext (NID, value) to exts; takes nothing. */
static int
exts_add(STACK_OF(X509_EXTENSION) *exts, int nid, int crit, void *value)
{
    X509_EXTENSION *ext = X509V3_EXT_i2d(nid, crit, value);

    if (ext == NULL)
        return 0;
    if (sk_X509_EXTENSION_push(exts, ext) <= 0) {
        X509_EXTENSION_free(ext);
        return 0;
    }
    return 1;
}

enum cw_err
pki_csr_new(EVP_PKEY *pub, const X509_NAME *subject,
            const GENERAL_NAMES *sans, int is_ca, X509_REQ **out)
{
    X509_REQ                 *req = NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    BASIC_CONSTRAINTS        *bc = NULL;
    ASN1_BIT_STRING          *ku = NULL;
    enum cw_err               err = CW_E_CRYPTO;

    err = pki_key_check(pub);
    if (err != CW_OK)
        return err;
    err = CW_E_CRYPTO;
    if (X509_NAME_entry_count(subject) == 0 &&
        (sans == NULL || sk_GENERAL_NAME_num(sans) == 0)) {
        log_info("a request needs a subject or a SAN");
        return CW_E_BADREQ;
    }
    ERR_clear_error();
    req = X509_REQ_new();
    exts = sk_X509_EXTENSION_new_null();
    if (req == NULL || exts == NULL ||
        X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
        X509_REQ_set_subject_name(req, subject) != 1 ||
        X509_REQ_set_pubkey(req, pub) != 1) {
        pki_ssl_failed("X509_REQ_new");
        goto out;
    }
    /* X509V3_EXT_i2d() only reads the value; its prototype is not const.
     * The SAN is critical when the subject is empty (RFC 5280 4.2.1.6). */
    if (sans != NULL && sk_GENERAL_NAME_num(sans) > 0 &&
        !exts_add(exts, NID_subject_alt_name,
                  X509_NAME_entry_count(subject) == 0,
                  (void *)(uintptr_t)sans)) {
        pki_ssl_failed("subjectAltName");
        goto out;
    }
    if (is_ca) {
        bc = BASIC_CONSTRAINTS_new();
        ku = ASN1_BIT_STRING_new();
        if (bc == NULL || ku == NULL ||
            ASN1_BIT_STRING_set_bit(ku, 0, 1) != 1 ||   /* digitalSig. */
            ASN1_BIT_STRING_set_bit(ku, 5, 1) != 1 ||   /* keyCertSign */
            ASN1_BIT_STRING_set_bit(ku, 6, 1) != 1) {   /* cRLSign     */
            pki_ssl_failed("CA extensions");
            goto out;
        }
        bc->ca = 0xff;
        if (!exts_add(exts, NID_basic_constraints, 1, bc) ||
            !exts_add(exts, NID_key_usage, 1, ku)) {
            pki_ssl_failed("CA extensions");
            goto out;
        }
    }
    if (sk_X509_EXTENSION_num(exts) > 0 &&
        X509_REQ_add_extensions(req, exts) != 1) {
        pki_ssl_failed("X509_REQ_add_extensions");
        goto out;
    }
    *out = req;
    req = NULL;
    err = CW_OK;
out:
    X509_REQ_free(req);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    BASIC_CONSTRAINTS_free(bc);
    ASN1_BIT_STRING_free(ku);
    return err;
}

enum cw_err
pki_csr_create(EVP_PKEY *key, const X509_NAME *subject,
               const GENERAL_NAMES *sans, int is_ca, X509_REQ **out)
{
    X509_REQ   *req = NULL;
    enum cw_err err;

    err = pki_csr_new(key, subject, sans, is_ca, &req);
    if (err != CW_OK)
        return err;
    err = pki_csr_sign(req, key);
    if (err != CW_OK) {
        X509_REQ_free(req);
        return err;
    }
    *out = req;
    return CW_OK;
}

enum cw_err
pki_csr_to_der(X509_REQ *req, struct buf *out)
{
    unsigned char *der = NULL;
    int            n;
    enum cw_err    err;

    ERR_clear_error();
    n = i2d_X509_REQ(req, &der);
    if (n <= 0) {
        pki_ssl_failed("i2d_X509_REQ");
        return CW_E_CRYPTO;
    }
    err = buf_append(out, der, (size_t)n);
    OPENSSL_free(der);
    return err;
}

enum cw_err
pki_csr_to_pem(X509_REQ *req, struct buf *out)
{
    BIO        *bio;
    enum cw_err err = CW_E_CRYPTO;

    ERR_clear_error();
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_X509_REQ(bio, req) != 1)
        pki_ssl_failed("PEM_write_bio_X509_REQ");
    else
        err = pki_bio_to_buf(bio, out);
    BIO_free(bio);
    return err;
}

/*
 * cert.c: certificate parsing, encoding and field extraction, and random
 * serial numbers. Input certificates are untrusted.
 */
#include "config.h"

#include <limits.h>

#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cw_limits.h"
#include "pki/cert.h"
#include "pki/key.h"
#include "pki/name.h"
#include "pki/pki-int.h"
#include "pki/san.h"
#include "util/log.h"
#include "util/sp.h"

static const char *const ku_names[PKI_KU__MAX] = {
    [PKI_KU_DIGITAL_SIGNATURE] = "digitalSignature",
    [PKI_KU_NON_REPUDIATION] = "nonRepudiation",
    [PKI_KU_KEY_ENCIPHERMENT] = "keyEncipherment",
    [PKI_KU_DATA_ENCIPHERMENT] = "dataEncipherment",
    [PKI_KU_KEY_AGREEMENT] = "keyAgreement",
    [PKI_KU_KEY_CERT_SIGN] = "keyCertSign",
    [PKI_KU_CRL_SIGN] = "cRLSign",
    [PKI_KU_ENCIPHER_ONLY] = "encipherOnly",
    [PKI_KU_DECIPHER_ONLY] = "decipherOnly",
};

/* The longest key identifier we render (SHA-256 based ones are 32). */
#define KEYID_MAX 64

const char *
pki_ku_name(enum pki_ku_bit bit)
{
    if ((unsigned)bit >= PKI_KU__MAX)
        return NULL;
    return ku_names[bit];
}

/* One element header at *q (before end): on success *q is at its
 * contents, *n their length. Definite lengths only (DER). */
static int
der_header(const unsigned char **q, const unsigned char *end, long *n,
           int *tag, int *cls)
{
    int r;

    if (*q >= end)
        return 0;
    r = ASN1_get_object(q, n, tag, cls, (long)(end - *q));
    return !(r & 0x80) && r != 0x21 && *n <= end - *q;
}

enum cw_err
pki_cert_subject_get(const uint8_t *p, size_t len, X509_NAME **out)
{
    const unsigned char *q = p;
    const unsigned char *end = p + len;
    const unsigned char *name;
    X509_NAME           *subject;
    long                 n;
    int                  tag;
    int                  cls;

    if (len == 0 || len > LIM_CERT_DER)
        return CW_E_BADCERT;
    ERR_clear_error();
    /* Certificate and TBSCertificate (RFC 5280 4.1): two SEQUENCEs. */
    for (int i = 0; i < 2; i++) {
        if (!der_header(&q, end, &n, &tag, &cls) || tag != V_ASN1_SEQUENCE ||
            cls != V_ASN1_UNIVERSAL)
            goto bad;
        end = q + n;
    }
    /* [0] version (optional), serialNumber, signature, issuer, validity. */
    for (int i = 0; i < 5; i++) {
        const unsigned char *at = q;

        if (!der_header(&q, end, &n, &tag, &cls))
            goto bad;
        if (i == 0 && !(cls == V_ASN1_CONTEXT_SPECIFIC && tag == 0)) {
            q = at;             /* no version: v1 */
            continue;
        }
        q += n;
    }
    name = q;
    subject = d2i_X509_NAME(NULL, &name, (long)(end - q));
    if (subject == NULL)
        goto bad;
    *out = subject;
    return CW_OK;
bad:
    pki_ssl_refused("certificate subject");
    return CW_E_BADCERT;
}

enum cw_err
pki_cert_parse_der(const uint8_t *p, size_t len, X509 **out)
{
    const unsigned char *q = p;
    X509                *cert = NULL;
    enum cw_err          err = CW_E_BADCERT;

    if (len == 0)
        return CW_E_BADCERT;
    if (len > LIM_CERT_DER)             /* LIM_CERT_DER << LONG_MAX */
        return CW_E_TOOLARGE;
    ERR_clear_error();
    cert = d2i_X509(NULL, &q, (long)len);
    if (cert == NULL || q != p + len) {
        pki_ssl_refused("d2i_X509");
        goto out;
    }
    /* Malformed or duplicated extensions, bad basicConstraints... */
    if (X509_get_extension_flags(cert) & EXFLAG_INVALID) {
        pki_ssl_refused("certificate extensions");
        goto out;
    }
    ERR_clear_error();
    *out = cert;
    cert = NULL;
    err = CW_OK;
out:
    X509_free(cert);
    return err;
}

enum cw_err
pki_cert_parse(const uint8_t *p, size_t len, X509 **out)
{
    static const char *const labels[] = { "CERTIFICATE" };
    unsigned char           *der = NULL;
    long                     der_len = 0;
    size_t                   which;
    enum cw_err              err;

    if (len == 0)
        return CW_E_BADCERT;
    if (!pki_is_pem(p, len))
        return pki_cert_parse_der(p, len, out);
    if (len > LIM_CERT_PEM)
        return CW_E_TOOLARGE;
    err = pki_pem_decode(p, len, labels, 1, LIM_CERT_DER, &der, &der_len,
                         &which);
    if (err != CW_OK)
        return err == CW_E_TOOLARGE ? err : CW_E_BADCERT;
    err = pki_cert_parse_der(der, (size_t)der_len, out);
    OPENSSL_free(der);
    return err;
}

/* Append every "CERTIFICATE" block of a PEM bundle to chain. */
static enum cw_err
chain_read_pem(const uint8_t *p, size_t len, STACK_OF(X509) *chain)
{
    BIO        *bio = NULL;
    X509       *cert = NULL;
    enum cw_err err = CW_E_BADCERT;

    bio = pki_bio_mem(p, len);
    if (bio == NULL)
        return CW_E_INTERNAL;
    for (;;) {
        char          *name = NULL;
        char          *header = NULL;
        unsigned char *data = NULL;
        long           n = 0;
        unsigned long  e;

        if (PEM_read_bio(bio, &name, &header, &data, &n) != 1) {
            e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
                ERR_GET_REASON(e) == PEM_R_NO_START_LINE &&
                sk_X509_num(chain) > 0) {
                ERR_clear_error();      /* the end of the bundle */
                err = CW_OK;
            } else {
                pki_ssl_refused("PEM_read_bio");
                err = CW_E_BADCERT;
            }
            goto out;
        }
        if (strcmp(name, "CERTIFICATE") != 0 || header[0] != '\0' ||
            n <= 0) {
            log_info("PEM bundle holds something else than certificates");
            err = CW_E_BADCERT;
        } else if (sk_X509_num(chain) >= LIM_CHAIN_CERTS) {
            err = CW_E_TOOLARGE;
        } else {
            err = pki_cert_parse_der(data, (size_t)n, &cert);
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (err != CW_OK)
            goto out;
        if (sk_X509_push(chain, cert) <= 0) {
            pki_ssl_failed("sk_X509_push");
            err = CW_E_CRYPTO;
            goto out;
        }
        cert = NULL;
    }
out:
    X509_free(cert);
    BIO_free(bio);
    return err;
}

enum cw_err
pki_cert_chain_parse(const uint8_t *p, size_t len, STACK_OF(X509) **out)
{
    STACK_OF(X509) *chain = NULL;
    X509           *cert = NULL;
    enum cw_err     err;

    if (len == 0)
        return CW_E_BADCERT;
    if (len > LIM_CHAIN_PEM)
        return CW_E_TOOLARGE;
    ERR_clear_error();
    chain = sk_X509_new_null();
    if (chain == NULL) {
        pki_ssl_failed("sk_X509_new_null");
        return CW_E_CRYPTO;
    }
    if (pki_is_pem(p, len)) {
        err = chain_read_pem(p, len, chain);
    } else {
        err = pki_cert_parse_der(p, len, &cert);
        if (err == CW_OK && sk_X509_push(chain, cert) <= 0) {
            pki_ssl_failed("sk_X509_push");
            err = CW_E_CRYPTO;
        } else {
            cert = NULL;
        }
    }
    if (err != CW_OK)
        goto out;
    *out = chain;
    chain = NULL;
out:
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    return err;
}

enum cw_err
pki_cert_to_der(X509 *cert, struct buf *out)
{
    unsigned char *der = NULL;
    int            n;
    enum cw_err    err;

    ERR_clear_error();
    n = i2d_X509(cert, &der);
    if (n <= 0) {
        pki_ssl_failed("i2d_X509");
        return CW_E_CRYPTO;
    }
    err = buf_append(out, der, (size_t)n);
    OPENSSL_free(der);
    return err;
}

enum cw_err
pki_cert_to_pem(X509 *cert, struct buf *out)
{
    BIO        *bio;
    enum cw_err err = CW_E_CRYPTO;

    ERR_clear_error();
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1)
        pki_ssl_failed("PEM_write_bio_X509");
    else
        err = pki_bio_to_buf(bio, out);
    BIO_free(bio);
    return err;
}

enum cw_err
pki_chain_to_pem(STACK_OF(X509) *chain, struct buf *out)
{
    enum cw_err err = CW_OK;

    for (int i = 0; i < sk_X509_num(chain) && err == CW_OK; i++)
        err = pki_cert_to_pem(sk_X509_value(chain, i), out);
    return err;
}

enum cw_err
pki_serial_random(uint8_t out[PKI_SERIAL_LEN])
{
    uint8_t any;

    ERR_clear_error();
    do {
        if (RAND_bytes(out, PKI_SERIAL_LEN) != 1) {
            pki_ssl_failed("RAND_bytes");
            return CW_E_CRYPTO;
        }
        out[0] &= 0x7f;         /* positive in 20 octets */
        any = 0;
        for (size_t i = 0; i < PKI_SERIAL_LEN; i++)
            any |= out[i];
    } while (any == 0);
    return CW_OK;
}

enum cw_err
pki_serial_random_hex(uint8_t out[PKI_SERIAL_LEN],
                      char hex[PKI_SERIAL_HEX_SIZE])
{
    size_t      skip = 0;
    enum cw_err err = pki_serial_random(out);

    if (err != CW_OK)
        return err;
    while (skip < PKI_SERIAL_LEN - 1 && out[skip] == 0)
        skip++;
    sp_hex_encode(out + skip, PKI_SERIAL_LEN - skip, hex);
    return CW_OK;
}

enum cw_err
pki_serial_hex(const ASN1_INTEGER *serial, char out[PKI_SERIAL_HEX_SIZE])
{
    BIGNUM     *bn = NULL;
    uint8_t     bin[PKI_SERIAL_LEN];
    int         n;
    enum cw_err err = CW_E_BADCERT;

    ERR_clear_error();
    bn = ASN1_INTEGER_to_BN(serial, NULL);
    if (bn == NULL) {
        pki_ssl_refused("ASN1_INTEGER_to_BN");
        goto out;
    }
    /* Positive and at most 20 octets including the sign bit. */
    if (BN_is_negative(bn) || BN_is_zero(bn) ||
        BN_num_bits(bn) > 8 * PKI_SERIAL_LEN - 1) {
        log_info("serial number is not positive or longer than 20 octets");
        goto out;
    }
    n = BN_bn2bin(bn, bin);
    if (n <= 0 || n > PKI_SERIAL_LEN) {
        pki_ssl_failed("BN_bn2bin");
        goto out;
    }
    sp_hex_encode(bin, (size_t)n, out);
    err = CW_OK;
out:
    BN_free(bn);
    return err;
}

enum cw_err
pki_cert_serial_hex(const X509 *cert, char out[PKI_SERIAL_HEX_SIZE])
{
    return pki_serial_hex(X509_get0_serialNumber(cert), out);
}

enum cw_err
pki_cert_fingerprint(const X509 *cert, const EVP_MD *md, char *out,
                     size_t n)
{
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int  len = 0;

    ERR_clear_error();
    if (X509_digest(cert, md, dig, &len) != 1) {
        pki_ssl_failed("X509_digest");
        return CW_E_CRYPTO;
    }
    if (n < 2 * (size_t)len + 1)
        return CW_E_INTERNAL;
    sp_hex_encode(dig, len, out);
    return CW_OK;
}

enum cw_err
pki_time_get(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    ERR_clear_error();
    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        pki_ssl_refused("ASN1_TIME_to_tm");
        return CW_E_BADCERT;
    }
    *out = timegm(&tm);
    return CW_OK;
}

void
pki_time_rfc3339(time_t t, char out[PKI_RFC3339_SIZE])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    if (strftime(out, PKI_RFC3339_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        out[0] = '\0';      /* a year beyond 9999 */
}

static enum cw_err
keyid_hex(const ASN1_OCTET_STRING *id, struct buf *out)
{
    char hex[2 * KEYID_MAX + 1];
    int  n = ASN1_STRING_length(id);

    if (n <= 0 || n > KEYID_MAX)
        return CW_E_BADCERT;
    sp_hex_encode(ASN1_STRING_get0_data(id), (size_t)n, hex);
    return buf_append(out, hex, 2 * (size_t)n);
}

enum cw_err
pki_cert_ski_hex(const X509 *cert, struct buf *out)
{
    ASN1_OCTET_STRING *ski;
    int                crit = 0;
    enum cw_err        err;

    ERR_clear_error();
    ski = X509_get_ext_d2i(cert, NID_subject_key_identifier, &crit, NULL);
    if (ski == NULL) {
        ERR_clear_error();
        return crit == -1 ? CW_E_NOTFOUND : CW_E_BADCERT;
    }
    err = keyid_hex(ski, out);
    ASN1_OCTET_STRING_free(ski);
    return err;
}

enum cw_err
pki_cert_aki_hex(const X509 *cert, struct buf *out)
{
    AUTHORITY_KEYID *aki;
    int              crit = 0;
    enum cw_err      err = CW_E_NOTFOUND;

    ERR_clear_error();
    aki = X509_get_ext_d2i(cert, NID_authority_key_identifier, &crit, NULL);
    if (aki == NULL) {
        ERR_clear_error();
        return crit == -1 ? CW_E_NOTFOUND : CW_E_BADCERT;
    }
    if (aki->keyid != NULL)
        err = keyid_hex(aki->keyid, out);
    AUTHORITY_KEYID_free(aki);
    return err;
}

enum cw_err
pki_cert_info_get(const X509 *cert, struct pki_cert_info *out)
{
    struct pki_cert_info info;
    BASIC_CONSTRAINTS   *bc = NULL;
    ASN1_BIT_STRING     *ku = NULL;
    int                  crit = 0;
    enum cw_err          err;

    memset(&info, 0, sizeof(info));
    info.path_len = -1;
    err = pki_cert_serial_hex(cert, info.serial);
    if (err != CW_OK)
        goto out;
    err = pki_cert_fingerprint(cert, EVP_sha1(), info.sha1, sizeof(info.sha1));
    if (err != CW_OK)
        goto out;
    err = pki_cert_fingerprint(cert, EVP_sha256(), info.sha256,
                               sizeof(info.sha256));
    if (err != CW_OK)
        goto out;
    err = pki_time_get(X509_get0_notBefore(cert), &info.not_before);
    if (err != CW_OK)
        goto out;
    err = pki_time_get(X509_get0_notAfter(cert), &info.not_after);
    if (err != CW_OK)
        goto out;
    err = CW_E_BADCERT;
    ERR_clear_error();
    bc = X509_get_ext_d2i(cert, NID_basic_constraints, &crit, NULL);
    if (bc == NULL && crit != -1) {
        pki_ssl_refused("basicConstraints");
        goto out;
    }
    if (bc != NULL) {
        info.is_ca = bc->ca != 0;
        if (bc->pathlen != NULL) {
            int64_t v;

            if (ASN1_INTEGER_get_int64(&v, bc->pathlen) != 1 || v < 0 ||
                v > INT_MAX) {
                pki_ssl_refused("pathLenConstraint");
                goto out;
            }
            info.path_len = (long)v;
        }
    }
    ku = X509_get_ext_d2i(cert, NID_key_usage, &crit, NULL);
    if (ku == NULL && crit != -1) {
        pki_ssl_refused("keyUsage");
        goto out;
    }
    if (ku != NULL) {
        info.has_ku = 1;
        for (int b = 0; b < PKI_KU__MAX; b++) {
            if (ASN1_BIT_STRING_get_bit(ku, b))
                info.key_usage |= PKI_KU(b);
        }
    }
    ERR_clear_error();
    *out = info;
    err = CW_OK;
out:
    BASIC_CONSTRAINTS_free(bc);
    ASN1_BIT_STRING_free(ku);
    return err;
}

enum cw_err
pki_cert_eku_json(const X509 *cert, json_t **out)
{
    EXTENDED_KEY_USAGE *eku;
    json_t             *arr;
    int                 crit = 0;

    ERR_clear_error();
    eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
    if (eku == NULL && crit != -1) {
        pki_ssl_refused("extendedKeyUsage");
        return CW_E_BADCERT;
    }
    ERR_clear_error();
    arr = json_array();
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
        const ASN1_OBJECT *obj = sk_ASN1_OBJECT_value(eku, i);
        int                nid = OBJ_obj2nid(obj);
        char               txt[128];

        if (nid != NID_undef && OBJ_nid2sn(nid) != NULL)
            snprintf(txt, sizeof(txt), "%s", OBJ_nid2sn(nid));
        else if (OBJ_obj2txt(txt, sizeof(txt), obj, 1) <= 0)
            snprintf(txt, sizeof(txt), "unknown");
        json_array_append_new(arr, json_string(txt));
    }
    EXTENDED_KEY_USAGE_free(eku);
    *out = arr;
    return CW_OK;
}

static enum cw_err
json_set_name(json_t *o, const char *key, const char *dnkey,
              const X509_NAME *name)
{
    json_t     *v = NULL;
    struct buf  dn;
    enum cw_err err;

    buf_init(&dn, LIM_JSON_STRING);
    err = pki_name_to_json(name, &v);
    if (err != CW_OK)
        goto out;
    json_object_set_new(o, key, v);
    err = pki_name_to_string(name, &dn);
    if (err != CW_OK)
        goto out;
    v = json_stringn(dn.len ? (const char *)dn.p : "", dn.len);
    if (v == NULL) {
        err = CW_E_BADCERT;
        goto out;
    }
    json_object_set_new(o, dnkey, v);
out:
    buf_cleanup(&dn);
    return err;
}

enum cw_err
pki_cert_to_json(const X509 *cert, json_t **out)
{
    struct pki_cert_info info;
    json_t              *o = json_object();
    json_t              *v = NULL;
    GENERAL_NAMES       *gens = NULL;
    struct buf           hex;
    char                 ts[PKI_RFC3339_SIZE];
    enum cw_err          err;

    buf_init(&hex, 2 * KEYID_MAX);
    err = pki_cert_info_get(cert, &info);
    if (err != CW_OK)
        goto out;
    json_object_set_new(o, "serial", json_string(info.serial));
    json_object_set_new(o, "sha1", json_string(info.sha1));
    json_object_set_new(o, "sha256", json_string(info.sha256));
    pki_time_rfc3339(info.not_before, ts);
    json_object_set_new(o, "not_before", json_string(ts));
    pki_time_rfc3339(info.not_after, ts);
    json_object_set_new(o, "not_after", json_string(ts));
    err = json_set_name(o, "subject", "subject_dn",
                        X509_get_subject_name(cert));
    if (err != CW_OK)
        goto out;
    err = json_set_name(o, "issuer", "issuer_dn", X509_get_issuer_name(cert));
    if (err != CW_OK)
        goto out;
    err = pki_cert_ski_hex(cert, &hex);
    if (err != CW_OK && err != CW_E_NOTFOUND)
        goto out;
    json_object_set_new(o, "ski", err == CW_OK ? json_string((char *)hex.p)
                                               : json_null());
    buf_reset(&hex);
    err = pki_cert_aki_hex(cert, &hex);
    if (err != CW_OK && err != CW_E_NOTFOUND)
        goto out;
    json_object_set_new(o, "aki", err == CW_OK ? json_string((char *)hex.p)
                                               : json_null());
    json_object_set_new(o, "is_ca", json_boolean(info.is_ca));
    json_object_set_new(o, "path_len", info.path_len >= 0
                                           ? json_integer(info.path_len)
                                           : json_null());
    v = json_array();
    for (int b = 0; b < PKI_KU__MAX; b++) {
        if (info.key_usage & PKI_KU(b))
            json_array_append_new(v, json_string(ku_names[b]));
    }
    json_object_set_new(o, "key_usage", v);
    err = pki_cert_eku_json(cert, &v);
    if (err != CW_OK)
        goto out;
    json_object_set_new(o, "eku", v);
    err = pki_san_get_cert(cert, &gens);
    if (err != CW_OK)
        goto out;
    v = NULL;
    if (gens != NULL && pki_san_to_json(gens, &v) != CW_OK) {
        err = CW_E_BADCERT;
        goto out;
    }
    json_object_set_new(o, "sans", v != NULL ? v : json_array());
    /* Keys certward would refuse (RSA 1024 in an old root) are shown
     * without details rather than failing the whole view. */
    ERR_clear_error();
    if (X509_get0_pubkey(cert) == NULL ||
        pki_key_info_json(X509_get0_pubkey(cert), &v) != CW_OK)
        v = json_null();
    ERR_clear_error();
    json_object_set_new(o, "key", v);
    *out = o;
    o = NULL;
    err = CW_OK;
out:
    json_decref(o);
    GENERAL_NAMES_free(gens);
    buf_cleanup(&hex);
    return err;
}

/*
 * tools.c (api): POST /api/v2/tools/decode: what a certificate, PKCS#10
 * request, CRL or certs-only PKCS#7 holds, given as PEM or as base64 of
 * DER. Nothing is stored and no key is involved.
 *
 * Runs in a worker thread. The input is untrusted, of any origin (other
 * CAs included): it is capped at LIM_DECODE_INPUT (413 above), unwrapped
 * from PEM or base64 here, its outer DER object must span the whole input
 * (truncated objects and trailing bytes are named as such), and it is
 * then parsed by backend/pki. Every refusal is a 400 naming "data" (or
 * "type") with the reason; a decoder answers about bad input and never
 * fails on it.
 *
 * Two parts are local rather than in pki/: the CRL reader (pki/ has no
 * CRL module yet; it moves there when CRL issuance arrives) and the CSR
 * reader, because a decoder reports a bad signature ("signature_valid")
 * where pki_csr_parse_der(), written for enrollment, refuses the request.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api/api.h"
#include "util/sp.h"
#include "cw_limits.h"
#include "pki/cert.h"
#include "pki/csr.h"
#include "pki/name.h"
#include "pki/p12.h"
#include "util/jsonx.h"
#include "util/log.h"

enum decode_type {
    DECODE_AUTO,
    DECODE_CERT,
    DECODE_CSR,
    DECODE_CRL,
    DECODE_PKCS7,
    DECODE__MAX
};

static const char *const decode_type_names[DECODE__MAX] = {
    [DECODE_AUTO] = "auto",
    [DECODE_CERT] = "certificate",
    [DECODE_CSR] = "csr",
    [DECODE_CRL] = "crl",
    [DECODE_PKCS7] = "pkcs7",
};

/* PEM labels of RFC 7468 (and the legacy ones OpenSSL writes). */
static const struct {
    const char       *label;
    enum decode_type  type;
} pem_labels[] = {
    { "CERTIFICATE", DECODE_CERT },
    { "CERTIFICATE REQUEST", DECODE_CSR },
    { "NEW CERTIFICATE REQUEST", DECODE_CSR },
    { "X509 CRL", DECODE_CRL },
    { "PKCS7", DECODE_PKCS7 },
    { "PKCS #7 SIGNED DATA", DECODE_PKCS7 },
};

/* RFC 5280 5.3.1 CRLReason names; 7 is unused. */
static const char *const crl_reasons[] = {
    "unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
    "superseded", "cessationOfOperation", "certificateHold", NULL,
    "removeFromCRL", "privilegeWithdrawn", "aACompromise",
};

#define PEM_BEGIN "-----BEGIN "
#define PEM_DASHES "-----"
/* Longest label we look at; the accepted ones are far shorter. */
#define PEM_LABEL_MAX 64

/* Why a decoder refused its input: the status code and the reason. */
struct decode_why {
    enum cw_err err;
    const char *msg;
};

static enum cw_err
why_set(struct decode_why *why, enum cw_err err, const char *msg)
{
    why->err = err;
    why->msg = msg;
    return err;
}

/* Strict base64 (RFC 4648 section 4) with line breaks and blanks ignored:
 * only the alphabet, padding only at the end, whole quanta. The output
 * comes from the arena. */
static enum cw_err
b64_decode(struct arena *a, const char *p, size_t len, uint8_t **out,
           size_t *out_len)
{
    uint8_t  *dst = arena_alloc(a, len / 4 * 3 + 3);
    uint32_t  acc = 0;
    size_t    nchar = 0;
    size_t    pad = 0;
    size_t    o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        int           v;

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            if (++pad > 2)
                return CW_E_BADREQ;
            nchar++;
            continue;
        }
        v = sp_b64val(c);
        if (v < 0 || pad > 0)
            return CW_E_BADREQ;
        acc = acc << 6 | (uint32_t)v;
        if (++nchar % 4 == 0) {
            dst[o++] = (uint8_t)(acc >> 16);
            dst[o++] = (uint8_t)(acc >> 8);
            dst[o++] = (uint8_t)acc;
            acc = 0;
        }
    }
    if (nchar == 0 || nchar % 4 != 0)
        return CW_E_BADREQ;
    if (pad == 1) {              /* 3 characters: 18 bits, 2 octets */
        dst[o++] = (uint8_t)(acc >> 10);
        dst[o++] = (uint8_t)(acc >> 2);
    } else if (pad == 2) {       /* 2 characters: 12 bits, 1 octet  */
        dst[o++] = (uint8_t)(acc >> 4);
    }
    *out = dst;
    *out_len = o;
    return CW_OK;
}

static const char *
mem_find(const char *hay, size_t n, const char *needle)
{
    return memmem(hay, n, needle, strlen(needle));
}

/* Unwrap the PEM block of p[0..len) (text before and after it is allowed,
 * as in `openssl x509 -text` output; a second block is not) into DER, and
 * tell which object its label announces. */
static enum cw_err
pem_unwrap(struct http_req *req, const char *p, size_t len,
           enum decode_type *type, uint8_t **der, size_t *der_len,
           struct decode_why *why)
{
    const char *begin = mem_find(p, len, PEM_BEGIN);
    const char *label;
    const char *label_end;
    const char *body;
    const char *end;
    const char *rest;
    char       *end_line;
    size_t      label_len;
    size_t      i;

    if (begin == NULL)
        return why_set(why, CW_E_BADREQ, "no PEM block");
    label = begin + strlen(PEM_BEGIN);
    label_end = mem_find(label, (size_t)(p + len - label), PEM_DASHES);
    if (label_end == NULL || label_end - label > PEM_LABEL_MAX)
        return why_set(why, CW_E_BADREQ, "malformed PEM BEGIN line");
    label_len = (size_t)(label_end - label);
    for (i = 0; i < label_len; i++) {
        if (label[i] < 0x20 || label[i] > 0x7e)
            return why_set(why, CW_E_BADREQ, "malformed PEM BEGIN line");
    }
    for (i = 0; i < sizeof(pem_labels) / sizeof(pem_labels[0]); i++) {
        if (strlen(pem_labels[i].label) == label_len &&
            memcmp(pem_labels[i].label, label, label_len) == 0)
            break;
    }
    if (i == sizeof(pem_labels) / sizeof(pem_labels[0])) {
        why->err = CW_E_BADREQ;
        why->msg = arena_printf(req->arena,
                                "PEM label \"%.*s\" is not a certificate, "
                                "CSR, CRL or PKCS#7",
                                (int)label_len, label);
        return why->err;
    }
    body = label_end + strlen(PEM_DASHES);
    end_line = arena_printf(req->arena, "-----END %.*s-----", (int)label_len,
                            label);
    end = mem_find(body, (size_t)(p + len - body), end_line);
    if (end == NULL)
        return why_set(why, CW_E_BADREQ,
                       "the PEM block has no matching END line (truncated?)");
    rest = end + strlen(end_line);
    if (mem_find(rest, (size_t)(p + len - rest), PEM_BEGIN) != NULL)
        return why_set(why, CW_E_BADREQ,
                       "more than one PEM block; decode one object at a "
                       "time");
    if (b64_decode(req->arena, body, (size_t)(end - body), der, der_len) !=
        CW_OK)
        return why_set(why, CW_E_BADREQ,
                       "the PEM body is not valid base64 (PEM headers are "
                       "not supported)");
    *type = pem_labels[i].type;
    return CW_OK;
}

/* The input must be exactly one DER object: a SEQUENCE (every type we
 * decode is one) with a definite length that ends where the input ends. */
static enum cw_err
der_span_check(struct http_req *req, const uint8_t *p, size_t len,
               struct decode_why *why)
{
    size_t hdr = 2;
    size_t body;

    if (len < 2)
        return why_set(why, CW_E_BADREQ, "truncated DER (under 2 bytes)");
    if (p[0] != 0x30)
        return why_set(why, CW_E_BADREQ,
                       "not DER: the object does not begin with a SEQUENCE");
    if (p[1] < 0x80) {
        body = p[1];
    } else if (p[1] == 0x80) {
        return why_set(why, CW_E_BADREQ,
                       "indefinite length (BER) is not DER");
    } else {
        size_t k = p[1] & 0x7fu;

        if (k > 4)
            return why_set(why, CW_E_BADREQ, "DER length field too long");
        if (len < 2 + k)
            return why_set(why, CW_E_BADREQ, "truncated DER length field");
        body = 0;
        for (size_t i = 0; i < k; i++)
            body = body << 8 | p[2 + i];
        hdr += k;
    }
    /* hdr <= len was checked above; compare without adding. */
    if (body > len - hdr) {
        why->err = CW_E_BADREQ;
        why->msg = arena_printf(req->arena,
                                "truncated DER: the object announces %zu "
                                "bytes, %zu are given",
                                body, len - hdr);
        return why->err;
    }
    if (body < len - hdr) {
        why->err = CW_E_BADREQ;
        why->msg = arena_printf(req->arena,
                                "%zu trailing byte%s after the DER object",
                                len - hdr - body,
                                len - hdr - body == 1 ? "" : "s");
        return why->err;
    }
    return CW_OK;
}

/* "pem" of a certificate or request appended to o. */
static enum cw_err
set_pem(json_t *o, enum cw_err (*enc)(void *, struct buf *), void *obj,
        size_t max)
{
    struct buf  pem;
    enum cw_err err;

    buf_init(&pem, max);
    err = enc(obj, &pem);
    if (err == CW_OK)
        json_object_set_new(o, "pem", json_stringn((const char *)pem.p,
                                                   pem.len));
    buf_cleanup(&pem);
    return err;
}

static enum cw_err
cert_pem_fn(void *obj, struct buf *out)
{
    return pki_cert_to_pem(obj, out);
}

static enum cw_err
csr_pem_fn(void *obj, struct buf *out)
{
    return pki_csr_to_pem(obj, out);
}

/* One certificate as pki_cert_to_json() shows it, with its PEM. */
static enum cw_err
cert_json(X509 *cert, json_t **out, struct decode_why *why)
{
    json_t     *o = NULL;
    enum cw_err err;

    err = pki_cert_to_json(cert, &o);
    if (err != CW_OK)
        return why_set(why, CW_E_BADREQ,
                       "the certificate has a field that cannot be shown "
                       "(a zero, negative or over 20-octet serial, a "
                       "malformed name or subjectAltName)");
    err = set_pem(o, cert_pem_fn, cert, LIM_CERT_PEM);
    if (err != CW_OK) {
        json_decref(o);
        return why_set(why, err, "the certificate cannot be re-encoded");
    }
    *out = o;
    return CW_OK;
}

static enum cw_err
decode_cert(const uint8_t *der, size_t len, json_t **out,
            struct decode_why *why)
{
    X509       *cert = NULL;
    enum cw_err err;

    err = pki_cert_parse_der(der, len, &cert);
    if (err == CW_E_TOOLARGE)
        return why_set(why, err, "a certificate is at most 32 KiB of DER");
    if (err != CW_OK)
        return why_set(why, CW_E_BADREQ,
                       "not a well-formed X.509 certificate (or its "
                       "extensions are malformed or duplicated)");
    err = cert_json(cert, out, why);
    X509_free(cert);
    return err;
}

static enum cw_err
decode_csr(const uint8_t *der, size_t len, json_t **out,
           struct decode_why *why)
{
    const unsigned char *q = der;
    X509_REQ            *csr = NULL;
    EVP_PKEY            *pub;
    json_t              *o = NULL;
    int                  sig_ok;
    enum cw_err          err;

    if (len > LIM_CSR_DER)              /* LIM_CSR_DER << LONG_MAX */
        return why_set(why, CW_E_TOOLARGE,
                       "a CSR is at most 32 KiB of DER");
    ERR_clear_error();
    csr = d2i_X509_REQ(NULL, &q, (long)len);
    if (csr == NULL || q != der + len ||
        X509_REQ_get_version(csr) != X509_REQ_VERSION_1) {
        ERR_clear_error();              /* the client's input: no log */
        err = why_set(why, CW_E_BADREQ,
                      "not a well-formed PKCS#10 certificate request");
        goto out;
    }
    pub = X509_REQ_get0_pubkey(csr);
    if (pub == NULL) {
        ERR_clear_error();
        err = why_set(why, CW_E_BADREQ,
                      "the CSR's public key cannot be read");
        goto out;
    }
    sig_ok = X509_REQ_verify(csr, pub) == 1;
    ERR_clear_error();
    err = pki_csr_to_json(csr, &o);
    if (err != CW_OK) {
        ERR_clear_error();
        err = why_set(why, CW_E_BADREQ,
                      "the CSR's key is not one certward reads (RSA "
                      "2048-8192 bits, EC P-256/P-384/P-521, Ed25519) or "
                      "its subjectAltName is malformed");
        goto out;
    }
    json_object_set_new(o, "signature_valid", json_boolean(sig_ok));
    err = set_pem(o, csr_pem_fn, csr, LIM_CSR_PEM);
    if (err != CW_OK) {
        why_set(why, err, "the CSR cannot be re-encoded");
        goto out;
    }
    *out = o;
    o = NULL;
out:
    json_decref(o);
    X509_REQ_free(csr);
    return err;
}

/* An ASN1_TIME as RFC 3339 text, or JSON null when t is NULL. */
static enum cw_err
time_json(const ASN1_TIME *t, json_t **out)
{
    char   ts[PKI_RFC3339_SIZE];
    time_t v;

    if (t == NULL) {
        *out = json_null();
        return CW_OK;
    }
    if (pki_time_get(t, &v) != CW_OK)
        return CW_E_BADREQ;
    pki_time_rfc3339(v, ts);
    *out = json_string(ts);
    return CW_OK;
}

/* One revokedCertificates entry: serial, date, reason, invalidity date. */
static enum cw_err
crl_entry_json(const X509_REVOKED *rev, json_t **out,
               struct decode_why *why)
{
    char                 serial[PKI_SERIAL_HEX_SIZE];
    ASN1_ENUMERATED     *reason = NULL;
    ASN1_GENERALIZEDTIME *inv = NULL;
    json_t              *o = json_object();
    json_t              *v = NULL;
    int                  crit = 0;
    long                 code = 0;
    enum cw_err          err = CW_E_BADREQ;

    if (pki_serial_hex(X509_REVOKED_get0_serialNumber(rev), serial) !=
        CW_OK) {
        why_set(why, CW_E_BADREQ,
                "a revoked entry has a zero, negative or over 20-octet "
                "serial number (RFC 5280 4.1.2.2)");
        goto out;
    }
    json_object_set_new(o, "serial", json_string(serial));
    if (time_json(X509_REVOKED_get0_revocationDate(rev), &v) != CW_OK) {
        why_set(why, CW_E_BADREQ, "a revocation date is malformed");
        goto out;
    }
    json_object_set_new(o, "revocation_date", v);
    reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL);
    if (reason == NULL && crit != -1) { /* -2: twice; >= 0: malformed */
        why_set(why, CW_E_BADREQ, "a reasonCode extension is malformed or "
                                  "repeated");
        goto out;
    }
    if (reason != NULL) {
        code = ASN1_ENUMERATED_get(reason);   /* -1 when out of range */
        if (code < 0 ||
            code >= (long)(sizeof(crl_reasons) / sizeof(crl_reasons[0])) ||
            crl_reasons[code] == NULL) {
            why_set(why, CW_E_BADREQ, "a reasonCode is not an RFC 5280 "
                                      "CRLReason");
            goto out;
        }
    }
    json_object_set_new(o, "reason", reason != NULL
                                         ? json_string(crl_reasons[code])
                                         : json_null());
    inv = X509_REVOKED_get_ext_d2i(rev, NID_invalidity_date, &crit, NULL);
    if (inv == NULL && crit != -1) {
        why_set(why, CW_E_BADREQ, "an invalidityDate extension is malformed "
                                  "or repeated");
        goto out;
    }
    if (time_json(inv, &v) != CW_OK) {
        why_set(why, CW_E_BADREQ, "an invalidity date is malformed");
        goto out;
    }
    json_object_set_new(o, "invalidity_date", v);
    *out = o;
    o = NULL;
    err = CW_OK;
out:
    ERR_clear_error();
    ASN1_ENUMERATED_free(reason);
    ASN1_GENERALIZEDTIME_free(inv);
    json_decref(o);
    return err;
}

/* The CRL number (or delta CRL indicator, RFC 5280 5.2.3/5.2.4) as a
 * decimal string, JSON null when absent. */
static enum cw_err
crl_number_json(X509_CRL *crl, int nid, json_t **out)
{
    ASN1_INTEGER *n;
    BIGNUM       *bn = NULL;
    char         *dec = NULL;
    int           crit = 0;
    enum cw_err   err = CW_E_BADREQ;

    n = X509_CRL_get_ext_d2i(crl, nid, &crit, NULL);
    if (n == NULL) {
        ERR_clear_error();
        if (crit != -1)
            return CW_E_BADREQ;
        *out = json_null();
        return CW_OK;
    }
    bn = ASN1_INTEGER_to_BN(n, NULL);
    if (bn == NULL || BN_is_negative(bn) || BN_num_bytes(bn) > 20)
        goto out;                       /* RFC 5280: 0..2^159, 20 octets */
    dec = BN_bn2dec(bn);
    if (dec == NULL)
        goto out;
    *out = json_string(dec);
    err = CW_OK;
out:
    ERR_clear_error();
    OPENSSL_free(dec);
    BN_free(bn);
    ASN1_INTEGER_free(n);
    return err;
}

static enum cw_err
crl_pem(X509_CRL *crl, json_t *o)
{
    BIO        *bio = BIO_new(BIO_s_mem());
    char       *p = NULL;
    long        n;
    enum cw_err err = CW_E_CRYPTO;

    if (bio == NULL || PEM_write_bio_X509_CRL(bio, crl) != 1) {
        log_err("PEM_write_bio_X509_CRL failed");
        ERR_clear_error();
        goto out;
    }
    n = BIO_get_mem_data(bio, &p);
    if (n <= 0 || p == NULL) {
        log_err("BIO_get_mem_data: no PEM");
        goto out;
    }
    json_object_set_new(o, "pem", json_stringn(p, (size_t)n));
    err = CW_OK;
out:
    BIO_free(bio);
    return err;
}

/* issuer, this_update, next_update, crl_number, delta_base, the revoked
 * entries (at most LIM_CRL_ENTRIES_SHOWN, then "truncated": true) and
 * revoked_count. The signature is not checked: we do not know the issuer
 * certificate. (An entry takes at least 20 octets, so today's
 * LIM_DECODE_INPUT stays below the listing cap; the cap keeps the answer
 * bounded should the input cap grow.) */
static enum cw_err
decode_crl(const uint8_t *der, size_t len, json_t **out,
           struct decode_why *why)
{
    const unsigned char     *q = der;
    X509_CRL                *crl = NULL;
    STACK_OF(X509_REVOKED)  *revs;
    struct buf               dn;
    json_t                  *o = json_object();
    json_t                  *v = NULL;
    json_t                  *arr;
    int                      nrev;
    enum cw_err              err = CW_E_BADREQ;

    buf_init(&dn, LIM_JSON_STRING);
    ERR_clear_error();
    crl = d2i_X509_CRL(NULL, &q, (long)len);   /* len <= LIM_DECODE_INPUT */
    if (crl == NULL || q != der + len) {
        ERR_clear_error();
        why_set(why, CW_E_BADREQ, "not a well-formed X.509 CRL");
        goto out;
    }
    json_object_set_new(o, "version", json_integer(
                                          X509_CRL_get_version(crl) + 1));
    if (pki_name_to_json(X509_CRL_get_issuer(crl), &v) != CW_OK ||
        pki_name_to_string(X509_CRL_get_issuer(crl), &dn) != CW_OK) {
        why_set(why, CW_E_BADREQ, "the CRL issuer name is malformed");
        goto out;
    }
    json_object_set_new(o, "issuer", v);
    json_object_set_new(o, "issuer_dn",
                        json_stringn(dn.len ? (const char *)dn.p : "",
                                     dn.len));
    if (time_json(X509_CRL_get0_lastUpdate(crl), &v) != CW_OK) {
        why_set(why, CW_E_BADREQ, "thisUpdate is malformed");
        goto out;
    }
    json_object_set_new(o, "this_update", v);
    if (time_json(X509_CRL_get0_nextUpdate(crl), &v) != CW_OK) {
        why_set(why, CW_E_BADREQ, "nextUpdate is malformed");
        goto out;
    }
    json_object_set_new(o, "next_update", v);
    if (crl_number_json(crl, NID_crl_number, &v) != CW_OK) {
        why_set(why, CW_E_BADREQ, "the cRLNumber extension is malformed");
        goto out;
    }
    json_object_set_new(o, "crl_number", v);
    if (crl_number_json(crl, NID_delta_crl, &v) != CW_OK) {
        why_set(why, CW_E_BADREQ,
                "the deltaCRLIndicator extension is malformed");
        goto out;
    }
    json_object_set_new(o, "delta_base", v);
    revs = X509_CRL_get_REVOKED(crl);
    nrev = revs == NULL ? 0 : sk_X509_REVOKED_num(revs);
    arr = json_array();
    json_object_set_new(o, "revoked", arr);
    for (int i = 0; i < nrev && i < LIM_CRL_ENTRIES_SHOWN; i++) {
        err = crl_entry_json(sk_X509_REVOKED_value(revs, i), &v, why);
        if (err != CW_OK)
            goto out;
        json_array_append_new(arr, v);
    }
    json_object_set_new(o, "revoked_count", json_integer(nrev));
    json_object_set_new(o, "truncated",
                        json_boolean(nrev > LIM_CRL_ENTRIES_SHOWN));
    err = crl_pem(crl, o);
    if (err != CW_OK) {
        why_set(why, err, "the CRL cannot be re-encoded");
        goto out;
    }
    *out = o;
    o = NULL;
out:
    json_decref(o);
    buf_cleanup(&dn);
    X509_CRL_free(crl);
    return err;
}

static enum cw_err
decode_pkcs7(const uint8_t *der, size_t len, json_t **out,
             struct decode_why *why)
{
    STACK_OF(X509) *certs = NULL;
    json_t         *o = NULL;
    json_t         *arr;
    json_t         *one = NULL;
    enum cw_err     err;

    err = pki_p7b_parse(der, len, &certs);
    if (err == CW_E_TOOLARGE)
        return why_set(why, err, "a PKCS#7 bundle holds at most 16 "
                                 "certificates");
    if (err != CW_OK)
        return why_set(why, CW_E_BADREQ,
                       "not a certs-only PKCS#7 SignedData with at least one "
                       "well-formed certificate");
    o = json_object();
    arr = json_array();
    json_object_set_new(o, "certificates", arr);
    for (int i = 0; i < sk_X509_num(certs); i++) {
        err = cert_json(sk_X509_value(certs, i), &one, why);
        if (err != CW_OK)
            goto out;
        json_array_append_new(arr, one);
    }
    json_object_set_new(o, "count", json_integer(sk_X509_num(certs)));
    *out = o;
    o = NULL;
out:
    json_decref(o);
    sk_X509_pop_free(certs, X509_free);
    return err;
}

typedef enum cw_err (*decode_fn)(const uint8_t *, size_t, json_t **,
                                 struct decode_why *);

static const decode_fn decoders[DECODE__MAX] = {
    [DECODE_CERT] = decode_cert,
    [DECODE_CSR] = decode_csr,
    [DECODE_CRL] = decode_crl,
    [DECODE_PKCS7] = decode_pkcs7,
};

/* DER of unknown type: the first decoder that reads it wins. The types'
 * outer structures differ early, so at most one can succeed. */
static enum cw_err
decode_any(const uint8_t *der, size_t len, enum decode_type *type,
           json_t **out, struct decode_why *why)
{
    struct decode_why ignored;

    for (int t = DECODE_CERT; t < DECODE__MAX; t++) {
        if (decoders[t](der, len, out, &ignored) == CW_OK) {
            *type = (enum decode_type)t;
            return CW_OK;
        }
    }
    return why_set(why, CW_E_BADREQ,
                   "not a certificate, CSR, CRL or PKCS#7 that can be read");
}

static enum cw_err
tools_decode(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "data", JSONX_TEXT, 1, LIM_BODY_DECODE, 0, 0 },
        { "type", JSONX_STRING, 0, 16, 0, 0 },
    };
    struct decode_why why = { CW_E_BADREQ, "" };
    enum decode_type  want = DECODE_AUTO;
    enum decode_type  got = DECODE_AUTO;
    json_t           *body;
    json_t           *out = NULL;
    const char       *data;
    const char       *type;
    uint8_t          *der = NULL;
    size_t            der_len = 0;
    size_t            len;
    enum cw_err       err;

    err = http_req_json(req, fields, sizeof(fields) / sizeof(fields[0]),
                        &body);
    if (err != CW_OK)
        return err;
    type = jsonx_str(body, "type");
    if (type != NULL) {
        int t;

        for (t = 0; t < DECODE__MAX; t++) {
            if (strcmp(type, decode_type_names[t]) == 0)
                break;
        }
        if (t == DECODE__MAX)
            return http_fail(req, CW_E_BADREQ, "type",
                             "type must be auto, certificate, csr, crl or "
                             "pkcs7");
        want = (enum decode_type)t;
    }
    data = jsonx_str(body, "data");
    len = json_string_length(json_object_get(body, "data"));
    if (len > LIM_DECODE_INPUT)
        return http_fail(req, CW_E_TOOLARGE, "data",
                         "data is over %u KiB", LIM_DECODE_INPUT / 1024);
    if (len == 0)
        return http_fail(req, CW_E_BADREQ, "data", "data is empty");

    if (mem_find(data, len, PEM_BEGIN) != NULL) {
        err = pem_unwrap(req, data, len, &got, &der, &der_len, &why);
        if (err == CW_OK && want != DECODE_AUTO && got != want)
            return http_fail(req, CW_E_BADREQ, "data",
                             "the PEM label announces a %s, not a %s",
                             decode_type_names[got],
                             decode_type_names[want]);
    } else {
        err = b64_decode(req->arena, data, len, &der, &der_len);
        if (err != CW_OK)
            why_set(&why, err, "data must be PEM or base64 of DER");
        got = want;
    }
    if (err == CW_OK)
        err = der_span_check(req, der, der_len, &why);
    if (err == CW_OK && got == DECODE_AUTO)
        err = decode_any(der, der_len, &got, &out, &why);
    else if (err == CW_OK)
        err = decoders[got](der, der_len, &out, &why);
    if (err != CW_OK)
        return http_fail(req, why.err, "data", "%s", why.msg);
    json_object_set_new(out, "type", json_string(decode_type_names[got]));
    return http_resp_data(resp, 200, out, NULL);
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_POST, .pattern = "/api/v2/tools/decode",
      .handler = tools_decode, .auth = AUTH_USER,
      .perm = "read:certificates", .body_max = LIM_BODY_DECODE },
};

const struct http_route_table api_tools_table = HTTP_TABLE("tools", routes);

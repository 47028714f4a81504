/*
 * crl.c: X.509 v2 CRLs (RFC 5280 section 5) encoded by hand into DER.
 * Runs in the worker that publishes CRLs; its input comes from the CA's
 * database and configuration. OpenSSL encodes the issuer Name only.
 *
 * The encoder writes each revoked entry into a fixed stack array (at most
 * CRL_ENTRY_MAX octets, all lengths short-form) and appends it to one
 * growing buffer, so an entry costs one memcpy and the buffer doubles a
 * few dozen times for a million entries. The TBSCertList is assembled
 * into a buffer of exactly its size once the entries are in.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cw_limits.h"
#include "pki/cert.h"
#include "pki/crl.h"
#include "pki/key.h"
#include "pki/pki-int.h"
#include "pki/san.h"
#include "pki/sign.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sp.h"

/* DER tags (X.690 8.1.2). */
#define TAG_BOOLEAN     0x01
#define TAG_INTEGER     0x02
#define TAG_BIT_STRING  0x03
#define TAG_OCTET       0x04
#define TAG_ENUMERATED  0x0a
#define TAG_UTCTIME     0x17
#define TAG_GENTIME     0x18
#define TAG_SEQUENCE    0x30
#define TAG_CTX0        0xa0    /* [0] constructed                  */
#define TAG_CTX0_PRIM   0x80    /* [0] primitive (IMPLICIT OCTETS)  */
#define TAG_URI         0x86    /* GeneralName uniformResourceIdentifier */

/* Largest encoded entry: SEQUENCE { INTEGER of 21 octets (a 20-octet
 * magnitude with its top bit set gets a 0x00), GeneralizedTime, SEQUENCE {
 * reasonCode (12 octets), invalidityDate (26 octets) } } = 2 + 23 + 17 +
 * 40 = 82. */
#define CRL_ENTRY_MAX   96
/* UTCTime "YYMMDDHHMMSSZ" and GeneralizedTime "YYYYMMDDHHMMSSZ". */
#define UTCTIME_LEN     13
#define GENTIME_LEN     15
/* A uint64 INTEGER: 8 octets and a 0x00 for the sign. */
#define U64_INT_MAX     9
/* The crlExtensions and the head before the entries: an issuer
 * certificate's Name and key identifier come from a certificate of at
 * most LIM_CERT_DER octets, the URLs are at most LIM_URI each. */
#define CRL_PART_MAX    (LIM_CERT_DER + 2 * LIM_URI + 1024)
/* The longest signature of a key we sign with: RSA at LIM_RSA_BITS_MAX. */
#define CRL_SIG_MAX     (LIM_RSA_BITS_MAX / 8)

/* Extension OIDs, whole TLVs (RFC 5280 section 4.2.1.1, 5.2, 5.3). */
static const uint8_t oid_aki[] = { 0x06, 0x03, 0x55, 0x1d, 0x23 };
static const uint8_t oid_crl_number[] = { 0x06, 0x03, 0x55, 0x1d, 0x14 };
static const uint8_t oid_delta[] = { 0x06, 0x03, 0x55, 0x1d, 0x1b };
static const uint8_t oid_idp[] = { 0x06, 0x03, 0x55, 0x1d, 0x1c };
static const uint8_t oid_freshest[] = { 0x06, 0x03, 0x55, 0x1d, 0x2e };

struct pki_crl {
    X509       *issuer;     /* up-referenced                          */
    struct buf  head;       /* version, signature, issuer, times      */
    struct buf  algid;      /* signature AlgorithmIdentifier          */
    struct buf  exts;       /* [0] crlExtensions                      */
    struct buf  entries;    /* contents of revokedCertificates        */
    struct buf  tbs;        /* the assembled TBSCertList              */
    size_t      n;
    int         delta;
    int         built;
};

/* ==== DER writing ====================================================== */

/* Octets of a definite length in minimal form (X.690 10.1, 8.1.3). */
static size_t
der_len_size(size_t n)
{
    size_t k = 1;

    if (n < 0x80)
        return 1;
    while (n > 0) {
        k++;
        n >>= 8;
    }
    return k;
}

/* Octets of a whole TLV with n content octets (single-octet tags only). */
static size_t
der_tlv_size(size_t n)
{
    return 1 + der_len_size(n) + n;
}

/* Tag and length at p; returns the octets written (at most 10). */
static size_t
der_hdr(uint8_t *p, uint8_t tag, size_t n)
{
    size_t k;

    p[0] = tag;
    if (n < 0x80) {
        p[1] = (uint8_t)n;
        return 2;
    }
    k = der_len_size(n) - 1;
    p[1] = (uint8_t)(0x80 | k);
    for (size_t i = 0; i < k; i++)
        p[2 + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
    return 2 + k;
}

static enum cw_err
buf_der_hdr(struct buf *b, uint8_t tag, size_t n)
{
    uint8_t h[2 + sizeof(size_t)];

    return buf_append(b, h, der_hdr(h, tag, n));
}

static enum cw_err
buf_der_tlv(struct buf *b, uint8_t tag, const void *p, size_t n)
{
    enum cw_err err = buf_der_hdr(b, tag, n);

    return err == CW_OK ? buf_append(b, p, n) : err;
}

/* The contents of an INTEGER for a non-negative value given as a
 * big-endian magnitude: leading zero octets stripped, a 0x00 put back
 * when the top bit is set (X.690 8.3.2). out has n + 1 octets; returns
 * the length (0 for a zero value, which callers refuse or special-case). */
static size_t
der_uint_content(const uint8_t *mag, size_t n, uint8_t *out)
{
    size_t k = 0;

    while (n > 0 && mag[0] == 0) {
        mag++;
        n--;
    }
    if (n == 0)
        return 0;
    if (mag[0] & 0x80)
        out[k++] = 0x00;
    memcpy(out + k, mag, n);
    return k + n;
}

/* An INTEGER for v (INTEGER 0 is 02 01 00). */
static enum cw_err
buf_der_u64(struct buf *b, uint64_t v)
{
    uint8_t mag[8];
    uint8_t c[U64_INT_MAX];
    size_t  n;

    for (int i = 0; i < 8; i++)
        mag[i] = (uint8_t)(v >> (56 - 8 * i));
    n = der_uint_content(mag, sizeof(mag), c);
    if (n == 0) {
        c[0] = 0;
        n = 1;
    }
    return buf_der_tlv(b, TAG_INTEGER, c, n);
}

static void
put_digits(uint8_t *p, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)('0' + v % 10);
        v /= 10;
    }
}

/* A Time at p: UTCTime for 1950..2049, GeneralizedTime otherwise or when
 * gen is set (RFC 5280 section 5.1.2.4 and 4.1.2.5: always "Z", always
 * seconds, no fractions). Returns the TLV's size; 0 for a time before
 * 1950 (nothing to revoke then) or after 9999. */
static size_t
der_time(uint8_t *p, time_t t, int gen)
{
    struct tm tm;
    long      year;
    size_t    k;

    if (gmtime_r(&t, &tm) == NULL)
        return 0;
    year = (long)tm.tm_year + 1900;
    if (year < 1950 || year > 9999)
        return 0;
    if (year >= 2050)
        gen = 1;
    if (gen) {
        p[0] = TAG_GENTIME;
        p[1] = GENTIME_LEN;
        put_digits(p + 2, (unsigned)year, 4);
        k = 6;
    } else {
        p[0] = TAG_UTCTIME;
        p[1] = UTCTIME_LEN;
        put_digits(p + 2, (unsigned)(year % 100), 2);
        k = 4;
    }
    put_digits(p + k, (unsigned)tm.tm_mon + 1, 2);
    put_digits(p + k + 2, (unsigned)tm.tm_mday, 2);
    put_digits(p + k + 4, (unsigned)tm.tm_hour, 2);
    put_digits(p + k + 6, (unsigned)tm.tm_min, 2);
    /* A leap second (tm_sec 60) cannot come out of a time_t. */
    put_digits(p + k + 8, (unsigned)tm.tm_sec, 2);
    p[k + 10] = 'Z';
    return k + 11;
}

/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE,
 * extnValue OCTET STRING } (RFC 5280 section 4.1); DER omits a FALSE
 * critical (X.690 11.5). */
static enum cw_err
buf_der_ext(struct buf *b, const uint8_t *oid, size_t oid_len, int critical,
            const struct buf *value)
{
    static const uint8_t crit[] = { TAG_BOOLEAN, 0x01, 0xff };
    size_t               n;
    enum cw_err          err;

    n = oid_len + (critical ? sizeof(crit) : 0) + der_tlv_size(value->len);
    err = buf_der_hdr(b, TAG_SEQUENCE, n);
    if (err == CW_OK)
        err = buf_append(b, oid, oid_len);
    if (err == CW_OK && critical)
        err = buf_append(b, crit, sizeof(crit));
    if (err == CW_OK)
        err = buf_der_tlv(b, TAG_OCTET, value->p, value->len);
    return err;
}

/* DistributionPoint.distributionPoint [0] { fullName [0] { URI } }, the
 * part the IDP (5.2.5) and freshestCRL (5.2.6, as CRLDistributionPoints,
 * 4.2.1.13) have in common. The module uses implicit tags, but a tag on
 * a CHOICE is always explicit (X.680), hence [0] wrapping [0]. */
static enum cw_err
buf_der_dp_name(struct buf *b, const char *url, size_t u)
{
    size_t      g = der_tlv_size(u);    /* the GeneralName      */
    size_t      f = der_tlv_size(g);    /* fullName [0]         */
    enum cw_err err;

    err = buf_der_hdr(b, TAG_CTX0, f);
    if (err == CW_OK)
        err = buf_der_hdr(b, TAG_CTX0, g);
    if (err == CW_OK)
        err = buf_der_tlv(b, TAG_URI, url, u);
    return err;
}

static size_t
dp_name_size(size_t u)
{
    return der_tlv_size(der_tlv_size(der_tlv_size(u)));
}

/* ==== the builder ====================================================== */

/* AKI keyIdentifier: the issuer's SKI, so that clients match the two
 * byte for byte (RFC 5280 section 5.2.1); when the issuer has none, the
 * SHA-1 of its subjectPublicKey (4.2.1.2 method 1), which is what it
 * would have had. */
static enum cw_err
crl_aki(X509 *issuer, struct buf *value)
{
    const ASN1_OCTET_STRING *ski;
    uint8_t                  id[PKI_KEYID_LEN];
    const uint8_t           *p = id;
    size_t                   n = sizeof(id);
    enum cw_err              err;

    ski = X509_get0_subject_key_id(issuer);
    if (ski != NULL && ASN1_STRING_length(ski) > 0) {
        p = ASN1_STRING_get0_data(ski);
        n = (size_t)ASN1_STRING_length(ski);
    } else {
        err = pki_key_id(X509_get0_pubkey(issuer), id);
        if (err != CW_OK)
            return err;
    }
    /* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT
     * OCTET STRING OPTIONAL, ... } */
    err = buf_der_hdr(value, TAG_SEQUENCE, der_tlv_size(n));
    if (err == CW_OK)
        err = buf_der_tlv(value, TAG_CTX0_PRIM, p, n);
    return err;
}

/* crlExtensions [0] EXPLICIT Extensions into c->exts. */
static enum cw_err
crl_extensions(struct pki_crl *c, const struct pki_crl_params *p)
{
    struct buf  all;
    struct buf  v;
    size_t      u;
    enum cw_err err;

    buf_init(&all, CRL_PART_MAX);
    buf_init(&v, CRL_PART_MAX);
    err = crl_aki(c->issuer, &v);
    if (err == CW_OK)
        err = buf_der_ext(&all, oid_aki, sizeof(oid_aki), 0, &v);
    buf_reset(&v);
    /* CRLNumber ::= INTEGER (0..MAX), non-critical (5.2.3). */
    if (err == CW_OK)
        err = buf_der_u64(&v, p->number);
    if (err == CW_OK)
        err = buf_der_ext(&all, oid_crl_number, sizeof(oid_crl_number), 0,
                          &v);
    buf_reset(&v);
    /* BaseCRLNumber, critical (5.2.4). */
    if (err == CW_OK && p->delta_base > 0) {
        err = buf_der_u64(&v, p->delta_base);
        if (err == CW_OK)
            err = buf_der_ext(&all, oid_delta, sizeof(oid_delta), 1, &v);
        buf_reset(&v);
    }
    /* IssuingDistributionPoint ::= SEQUENCE { distributionPoint [0] ... },
     * critical (5.2.5); none of the only* flags: this CRL covers every
     * certificate of the CA. */
    if (err == CW_OK && p->idp_url != NULL) {
        u = strlen(p->idp_url);
        err = buf_der_hdr(&v, TAG_SEQUENCE, dp_name_size(u));
        if (err == CW_OK)
            err = buf_der_dp_name(&v, p->idp_url, u);
        if (err == CW_OK)
            err = buf_der_ext(&all, oid_idp, sizeof(oid_idp), 1, &v);
        buf_reset(&v);
    }
    /* FreshestCRL ::= CRLDistributionPoints, non-critical (5.2.6). */
    if (err == CW_OK && p->freshest_url != NULL) {
        u = strlen(p->freshest_url);
        err = buf_der_hdr(&v, TAG_SEQUENCE, der_tlv_size(dp_name_size(u)));
        if (err == CW_OK)
            err = buf_der_hdr(&v, TAG_SEQUENCE, dp_name_size(u));
        if (err == CW_OK)
            err = buf_der_dp_name(&v, p->freshest_url, u);
        if (err == CW_OK)
            err = buf_der_ext(&all, oid_freshest, sizeof(oid_freshest), 0,
                              &v);
    }
    if (err == CW_OK)
        err = buf_der_hdr(&c->exts, TAG_CTX0, der_tlv_size(all.len));
    if (err == CW_OK)
        err = buf_der_tlv(&c->exts, TAG_SEQUENCE, all.p, all.len);
    buf_cleanup(&all);
    buf_cleanup(&v);
    return err;
}

/* version, signature, issuer, thisUpdate, nextUpdate into c->head. */
static enum cw_err
crl_head(struct pki_crl *c, const struct pki_crl_params *p)
{
    static const uint8_t v2[] = { TAG_INTEGER, 0x01, 0x01 };
    unsigned char       *name = NULL;
    uint8_t              t[2 + GENTIME_LEN];
    size_t               n;
    int                  len;
    enum cw_err          err;

    err = buf_append(&c->head, v2, sizeof(v2));
    if (err == CW_OK)
        err = buf_append(&c->head, c->algid.p, c->algid.len);
    if (err != CW_OK)
        return err;
    ERR_clear_error();
    len = i2d_X509_NAME(X509_get_subject_name(c->issuer), &name);
    if (len <= 0) {
        pki_ssl_failed("i2d_X509_NAME");
        return CW_E_CRYPTO;
    }
    err = buf_append(&c->head, name, (size_t)len);
    OPENSSL_free(name);
    if (err != CW_OK)
        return err;
    n = der_time(t, p->this_update, 0);
    if (n == 0) {
        log_info("CRL thisUpdate out of range");
        return CW_E_BADREQ;
    }
    err = buf_append(&c->head, t, n);
    if (err != CW_OK)
        return err;
    n = der_time(t, p->next_update, 0);
    if (n == 0) {
        log_info("CRL nextUpdate out of range");
        return CW_E_BADREQ;
    }
    return buf_append(&c->head, t, n);
}

static enum cw_err
crl_params_check(const struct pki_crl_params *p)
{
    uint32_t ku;

    /* Conforming CRL issuers MUST include nextUpdate (5.1.2.5). */
    if (p->next_update <= p->this_update) {
        log_info("CRL nextUpdate not after thisUpdate");
        return CW_E_BADREQ;
    }
    /* A delta CRL is built on an earlier, complete CRL whose number is
     * smaller, from the same sequence (5.2.3, 5.2.4). */
    if (p->delta_base > 0 && p->delta_base >= p->number) {
        log_info("delta CRL base number not below the CRL number");
        return CW_E_BADREQ;
    }
    /* "The freshest CRL extension MUST NOT appear in delta CRLs" (5.2.6). */
    if (p->delta_base > 0 && p->freshest_url != NULL) {
        log_info("freshestCRL on a delta CRL");
        return CW_E_BADREQ;
    }
    if ((p->idp_url != NULL &&
         pki_uri_check(p->idp_url, strlen(p->idp_url)) != CW_OK) ||
        (p->freshest_url != NULL &&
         pki_uri_check(p->freshest_url, strlen(p->freshest_url)) != CW_OK)) {
        log_info("CRL distribution point URL refused");
        return CW_E_BADREQ;
    }
    /* Clients refuse CRLs signed by a key whose certificate's keyUsage
     * lacks cRLSign (RFC 5280 section 4.2.1.3, 6.3.3 (f)). UINT32_MAX is
     * OpenSSL's "no keyUsage extension": anything goes. */
    ku = X509_get_key_usage(p->issuer);
    if (ku != UINT32_MAX && (ku & KU_CRL_SIGN) == 0) {
        log_info("CA certificate without cRLSign");
        return CW_E_POLICY;
    }
    return CW_OK;
}

enum cw_err
pki_crl_begin(const struct pki_crl_params *p, struct pki_crl **out)
{
    struct pki_crl *c = NULL;
    EVP_PKEY       *pub;
    enum cw_err     err;

    err = crl_params_check(p);
    if (err != CW_OK)
        return err;
    ERR_clear_error();
    pub = X509_get0_pubkey(p->issuer);
    if (pub == NULL) {
        pki_ssl_refused("X509_get0_pubkey");
        return CW_E_BADCERT;
    }
    c = cw_xcalloc(1, sizeof(*c));
    buf_init(&c->head, CRL_PART_MAX);
    buf_init(&c->algid, CRL_PART_MAX);
    buf_init(&c->exts, CRL_PART_MAX);
    /* A cap, not an allocation: the buffer doubles as entries come. */
    buf_init(&c->entries, (size_t)LIM_CRL_ENTRIES * CRL_ENTRY_MAX);
    buf_init(&c->tbs, 0);
    if (X509_up_ref(p->issuer) != 1) {
        pki_ssl_failed("X509_up_ref");
        err = CW_E_CRYPTO;
        goto out;
    }
    c->issuer = p->issuer;
    c->delta = p->delta_base > 0;
    err = pki_sig_algid(pub, &c->algid);
    if (err == CW_OK)
        err = crl_head(c, p);
    if (err == CW_OK)
        err = crl_extensions(c, p);
    if (err != CW_OK)
        goto out;
    *out = c;
    c = NULL;
out:
    pki_crl_free(c);
    return err;
}

enum cw_err
pki_crl_add(struct pki_crl *c, const struct pki_crl_entry *e)
{
    /* reasonCode (5.3.1): SEQUENCE { id-ce 21, OCTET STRING { ENUMERATED
     * } }; the last octet is the code. */
    static const uint8_t reason_ext[] = { 0x30, 0x0a, 0x06, 0x03, 0x55,
                                          0x1d, 0x15, 0x04, 0x03, 0x0a,
                                          0x01, 0x00 };
    /* invalidityDate (5.3.2): SEQUENCE { id-ce 24, OCTET STRING {
     * GeneralizedTime } }, the time follows. */
    static const uint8_t inval_ext[] = { 0x30, 0x18, 0x06, 0x03, 0x55,
                                         0x1d, 0x18, 0x04, 0x11 };
    uint8_t ent[CRL_ENTRY_MAX];
    uint8_t serial[PKI_SERIAL_LEN + 1];
    uint8_t when[2 + GENTIME_LEN];
    uint8_t inval[2 + GENTIME_LEN];
    size_t  slen;
    size_t  wlen;
    size_t  xlen = 0;
    size_t  body;
    size_t  k;

    if (c->built) {
        log_err("CRL entry added after the TBS was built");
        return CW_E_INTERNAL;
    }
    if (c->n >= LIM_CRL_ENTRIES)
        return CW_E_TOOLARGE;
    if (e->serial == NULL || e->serial_len == 0 ||
        e->serial_len > PKI_SERIAL_LEN) {
        log_info("CRL entry serial of %zu octets", e->serial_len);
        return CW_E_BADREQ;
    }
    slen = der_uint_content(e->serial, e->serial_len, serial);
    if (slen == 0) {
        log_info("CRL entry with serial zero");
        return CW_E_BADREQ;
    }
    wlen = der_time(when, e->revoked_at, 0);
    if (wlen == 0) {
        log_info("CRL revocationDate out of range");
        return CW_E_BADREQ;
    }
    switch (e->reason) {
    case -1:
    case PKI_CRL_REASON_UNSPECIFIED:    /* SHOULD be absent (5.3.1) */
        break;
    case PKI_CRL_REASON_REMOVE_FROM_CRL:
        /* "only found in delta CRLs" (5.3.1) */
        if (!c->delta) {
            log_info("removeFromCRL on a base CRL");
            return CW_E_BADREQ;
        }
        xlen += sizeof(reason_ext);
        break;
    case PKI_CRL_REASON_KEY_COMPROMISE:
    case PKI_CRL_REASON_CA_COMPROMISE:
    case PKI_CRL_REASON_AFFILIATION_CHANGED:
    case PKI_CRL_REASON_SUPERSEDED:
    case PKI_CRL_REASON_CESSATION:
    case PKI_CRL_REASON_CERTIFICATE_HOLD:
    case PKI_CRL_REASON_PRIVILEGE_WITHDRAWN:
    case PKI_CRL_REASON_AA_COMPROMISE:
        xlen += sizeof(reason_ext);
        break;
    default:
        log_info("CRL reason code %d", e->reason);
        return CW_E_BADREQ;
    }
    if (e->invalidity != 0) {
        /* InvalidityDate ::= GeneralizedTime, whatever the year. */
        if (der_time(inval, e->invalidity, 1) == 0) {
            log_info("CRL invalidityDate out of range");
            return CW_E_BADREQ;
        }
        xlen += sizeof(inval_ext) + sizeof(inval);
    }
    body = der_tlv_size(slen) + wlen + (xlen > 0 ? der_tlv_size(xlen) : 0);
    CW_ASSERT(der_tlv_size(body) <= sizeof(ent));
    k = der_hdr(ent, TAG_SEQUENCE, body);
    k += der_hdr(ent + k, TAG_INTEGER, slen);
    memcpy(ent + k, serial, slen);
    k += slen;
    memcpy(ent + k, when, wlen);
    k += wlen;
    if (xlen > 0) {
        k += der_hdr(ent + k, TAG_SEQUENCE, xlen);
        if (e->reason > 0) {
            memcpy(ent + k, reason_ext, sizeof(reason_ext));
            ent[k + sizeof(reason_ext) - 1] = (uint8_t)e->reason;
            k += sizeof(reason_ext);
        }
        if (e->invalidity != 0) {
            memcpy(ent + k, inval_ext, sizeof(inval_ext));
            k += sizeof(inval_ext);
            memcpy(ent + k, inval, sizeof(inval));
            k += sizeof(inval);
        }
    }
    CW_ASSERT(k == der_tlv_size(body));
    if (buf_append(&c->entries, ent, k) != CW_OK)
        return CW_E_TOOLARGE;       /* cannot happen below the count cap */
    c->n++;
    return CW_OK;
}

/* The TBSCertList into c->tbs, sized exactly: with the cap equal to the
 * size, buf_reserve() allocates it once instead of rounding up to a power
 * of two (tens of megabytes for a large CRL). */
static enum cw_err
crl_build(struct pki_crl *c)
{
    size_t      body;
    size_t      total;
    size_t      k;
    uint8_t    *dst;
    enum cw_err err;

    body = c->head.len + c->exts.len;
    if (c->n > 0)       /* an empty SEQUENCE OF is left out (5.1.2.6) */
        body += der_tlv_size(c->entries.len);
    total = der_tlv_size(body);
    buf_init(&c->tbs, total);
    err = buf_reserve(&c->tbs, total, &dst);
    if (err != CW_OK)
        return err;
    k = der_hdr(dst, TAG_SEQUENCE, body);
    memcpy(dst + k, c->head.p, c->head.len);
    k += c->head.len;
    if (c->n > 0) {
        k += der_hdr(dst + k, TAG_SEQUENCE, c->entries.len);
        memcpy(dst + k, c->entries.p, c->entries.len);
        k += c->entries.len;
    }
    memcpy(dst + k, c->exts.p, c->exts.len);
    k += c->exts.len;
    CW_ASSERT(k == total);
    c->tbs.len = total;
    c->tbs.p[total] = '\0';
    /* The entries live on in the TBS only; halve the peak. */
    buf_cleanup(&c->entries);
    c->built = 1;
    return CW_OK;
}

enum cw_err
pki_crl_tbs(struct pki_crl *c, const uint8_t **tbs, size_t *len)
{
    enum cw_err err;

    if (!c->built) {
        err = crl_build(c);
        if (err != CW_OK)
            return err;
    }
    *tbs = c->tbs.p;
    *len = c->tbs.len;
    return CW_OK;
}

/* Does sig verify over the TBS with the issuer's key? */
static enum cw_err
crl_sig_check(struct pki_crl *c, const uint8_t *sig, size_t siglen)
{
    EVP_MD_CTX   *ctx = NULL;
    EVP_PKEY     *pub = X509_get0_pubkey(c->issuer);
    const EVP_MD *md = NULL;
    enum cw_err   err;

    err = pki_sign_md(pub, &md);
    if (err != CW_OK)
        return err;
    ERR_clear_error();
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL ||
        EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub) != 1) {
        pki_ssl_failed("EVP_DigestVerifyInit");
        err = CW_E_CRYPTO;
        goto out;
    }
    if (EVP_DigestVerify(ctx, sig, siglen, c->tbs.p, c->tbs.len) != 1) {
        pki_ssl_failed("CRL signature check");
        err = CW_E_CRYPTO;
        goto out;
    }
out:
    EVP_MD_CTX_free(ctx);
    return err;
}

enum cw_err
pki_crl_finish(struct pki_crl *c, const uint8_t *sig, size_t siglen,
               struct buf *der)
{
    const uint8_t *tbs;
    size_t         tbs_len;
    size_t         bits;
    size_t         body;
    size_t         total;
    size_t         k;
    uint8_t       *dst;
    enum cw_err    err;

    err = pki_crl_tbs(c, &tbs, &tbs_len);
    if (err != CW_OK)
        return err;
    if (siglen == 0 || siglen > CRL_SIG_MAX) {
        log_err("CRL signature of %zu octets", siglen);
        return CW_E_INTERNAL;
    }
    err = crl_sig_check(c, sig, siglen);
    if (err != CW_OK)
        return err;
    /* signatureValue BIT STRING: a leading 0 unused-bits octet. */
    bits = siglen + 1;
    body = tbs_len + c->algid.len + der_tlv_size(bits);
    total = der_tlv_size(body);
    err = buf_reserve(der, total, &dst);
    if (err != CW_OK)
        return err;
    k = der_hdr(dst, TAG_SEQUENCE, body);
    memcpy(dst + k, tbs, tbs_len);
    k += tbs_len;
    memcpy(dst + k, c->algid.p, c->algid.len);
    k += c->algid.len;
    k += der_hdr(dst + k, TAG_BIT_STRING, bits);
    dst[k++] = 0x00;
    memcpy(dst + k, sig, siglen);
    k += siglen;
    CW_ASSERT(k == total);
    der->len += total;
    der->p[der->len] = '\0';
    return CW_OK;
}

void
pki_crl_free(struct pki_crl *c)
{
    if (c == NULL)
        return;
    X509_free(c->issuer);
    buf_cleanup(&c->head);
    buf_cleanup(&c->algid);
    buf_cleanup(&c->exts);
    buf_cleanup(&c->entries);
    buf_cleanup(&c->tbs);
    free(c);
}

size_t
pki_crl_count(const struct pki_crl *c)
{
    return c->n;
}

enum cw_err
pki_serial_from_hex(const char *hex, uint8_t out[20], size_t *len)
{
    uint8_t bin[PKI_SERIAL_LEN];
    size_t  n = strlen(hex);
    size_t  nb = (n + 1) / 2;
    size_t  skip = 0;
    int     hi;
    int     lo;

    if (n == 0 || n > 2 * PKI_SERIAL_LEN)
        return CW_E_BADREQ;
    /* An odd count: the first digit is a low nibble. */
    for (size_t i = 0, j = 0; i < nb; i++) {
        hi = (n % 2 == 1 && i == 0) ? 0 : sp_hexval((unsigned char)hex[j++]);
        lo = sp_hexval((unsigned char)hex[j++]);
        if (hi < 0 || lo < 0)
            return CW_E_BADREQ;
        bin[i] = (uint8_t)(hi << 4 | lo);
    }
    while (skip < nb && bin[skip] == 0)
        skip++;
    if (skip == nb)
        return CW_E_BADREQ;         /* zero is no serial (RFC 5280 4.1.2.2) */
    memcpy(out, bin + skip, nb - skip);
    *len = nb - skip;
    return CW_OK;
}

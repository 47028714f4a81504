/*
 * test_ocsp.c: unit tests for backend/pki/ocsp.c and pki_ocsp_sign()
 * (backend/pki/sign.c). Requests are built with OpenSSL's client API and
 * parsed by ours, including malformed, truncated and mutated ones;
 * responses built by ours are verified by OCSP_basic_verify and, where
 * installed, by `openssl ocsp`.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>

#include <check.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cw_limits.h"
#include "pki/build.h"
#include "pki/cert.h"
#include "pki/key.h"
#include "pki/ocsp.h"
#include "pki/sign.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "util/mem.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define LOOP(tc, t, arr) tcase_add_loop_test(tc, t, 0, (int)N_ELEMS(arr))

enum ca_kind { CA_P256, CA_ED25519, CA_RSA, CA__MAX };
static const enum pki_key_type ca_key_type[CA__MAX] = {
    [CA_P256] = PKI_KEY_EC_P256,
    [CA_ED25519] = PKI_KEY_ED25519,
    [CA_RSA] = PKI_KEY_RSA2048,
};
static EVP_PKEY *ca_key[CA__MAX];
static X509     *ca_cert[CA__MAX];
static X509     *leaf[CA__MAX];     /* one leaf of each CA               */
static EVP_PKEY *resp_key;          /* delegated responder (P-256)       */
static X509     *resp_cert;         /* issued by CA_P256, OCSPSigning    */
static EVP_PKEY *other_key;         /* a key nobody has a certificate of */
static char      tmpdir[64];

/* ==== helpers ========================================================== */

static X509 *
reparse(X509 *x)
{
    unsigned char       *der = NULL;
    const unsigned char *p;
    int                  n = i2d_X509(x, &der);
    X509                *y;

    ck_assert_int_gt(n, 0);
    p = der;
    y = d2i_X509(NULL, &p, n);
    ck_assert_ptr_nonnull(y);
    OPENSSL_free(der);
    X509_free(x);
    return y;
}

/* A self-signed CA (issuer NULL) or a certificate issued by issuer. */
static X509 *
make_cert(EVP_PKEY *pub, const char *cn, X509 *issuer, EVP_PKEY *sign_key,
          const char *eku)
{
    struct pki_cert_spec s;
    X509_NAME           *subj = X509_NAME_new();
    X509                *x = NULL;
    time_t               now = time(NULL);

    ck_assert_ptr_nonnull(subj);
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
                                                (const unsigned char *)cn,
                                                -1, -1, 0),
                     1);
    pki_build_spec_init(&s);
    s.subject = subj;
    s.pubkey = pub;
    ck_assert_int_eq(pki_serial_random(s.serial), CW_OK);
    s.serial_len = PKI_SERIAL_LEN;
    s.not_before = now - 3600;
    /* A CA outlives its leaves, also when the clock ticks in between. */
    s.not_after = now + (issuer == NULL ? 3650 : 365) * 86400L;
    s.is_ca = issuer == NULL;
    s.issuer = issuer;
    if (eku != NULL) {
        s.eku = &eku;
        s.n_eku = 1;
        s.ocsp_nocheck = 1;     /* RFC 6960 4.2.2.2.1 */
    }
    ck_assert_int_eq(pki_build_cert(&s, &x), CW_OK);
    ck_assert_int_eq(pki_cert_sign(x, sign_key), CW_OK);
    X509_NAME_free(subj);
    return reparse(x);
}

/* The magnitude of a certificate's serial. */
static size_t
serial_of(X509 *x, uint8_t out[PKI_SERIAL_LEN])
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    int     n;

    ck_assert_ptr_nonnull(bn);
    n = BN_bn2bin(bn, out);
    BN_free(bn);
    ck_assert_int_gt(n, 0);
    return (size_t)n;
}

/* A CertID for issuer and a serial given as an ASN1_INTEGER. */
static OCSP_CERTID *
certid_raw(const EVP_MD *md, X509 *issuer, const ASN1_INTEGER *serial)
{
    OCSP_CERTID *id = OCSP_cert_id_new(md, X509_get_subject_name(issuer),
                                       X509_get0_pubkey_bitstr(issuer),
                                       serial);

    ck_assert_ptr_nonnull(id);
    return id;
}

static void
req_der(OCSP_REQUEST *req, struct buf *out)
{
    unsigned char *der = NULL;
    int            n = i2d_OCSP_REQUEST(req, &der);

    ck_assert_int_gt(n, 0);
    buf_reset(out);
    ck_assert_int_eq(buf_append(out, der, (size_t)n), CW_OK);
    OPENSSL_free(der);
}

/* A request for n CertIDs (leaf of CA k for the first, then made-up
 * serials), nonce_len 0 for none. */
static OCSP_REQUEST *
make_req(const EVP_MD *md, int k, int n, int nonce_len)
{
    OCSP_REQUEST *req = OCSP_REQUEST_new();

    ck_assert_ptr_nonnull(req);
    for (int i = 0; i < n; i++) {
        OCSP_CERTID *id;

        if (i == 0) {
            id = OCSP_cert_to_id(md, leaf[k], ca_cert[k]);
        } else {
            ASN1_INTEGER *sn = ASN1_INTEGER_new();

            ck_assert_int_eq(ASN1_INTEGER_set(sn, 1000 + i), 1);
            id = certid_raw(md, ca_cert[k], sn);
            ASN1_INTEGER_free(sn);
        }
        ck_assert_ptr_nonnull(id);
        ck_assert_ptr_nonnull(OCSP_request_add0_id(req, id));
    }
    if (nonce_len > 0)
        ck_assert_int_eq(OCSP_request_add1_nonce(req, NULL, nonce_len), 1);
    return req;
}

/* A nonce extension whose extnValue is exactly value[0..n). */
static void
add_raw_nonce(OCSP_REQUEST *req, const uint8_t *value, int n)
{
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION    *ext;

    ck_assert_ptr_nonnull(os);
    ck_assert_int_eq(ASN1_OCTET_STRING_set(os, value, n), 1);
    ext = X509_EXTENSION_create_by_NID(NULL, NID_id_pkix_OCSP_Nonce, 0, os);
    ck_assert_ptr_nonnull(ext);
    ck_assert_int_eq(OCSP_REQUEST_add_ext(req, ext, -1), 1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
}

static enum cw_err
parse_buf(const struct buf *b, struct pki_ocsp_req *r)
{
    return pki_ocsp_req_parse(b->p, b->len, r);
}

static void
write_file(const char *name, const void *p, size_t len, char *path,
           size_t n)
{
    FILE *f;

    snprintf(path, n, "%s/%s", tmpdir, name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void
write_cert(const char *name, X509 *x, char *path, size_t n)
{
    FILE *f;

    snprintf(path, n, "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_X509(f, x), 1);
    ck_assert_int_eq(fclose(f), 0);
}

/* ==== requests ========================================================= */

static const struct {
    int line;
    int sha256;
    int n;
    int nonce;
} req_ok_cases[] = {
    { __LINE__, 0, 1, 0 },
    { __LINE__, 1, 1, 0 },
    { __LINE__, 0, 1, 16 },
    { __LINE__, 1, 3, 32 },
    { __LINE__, 0, 5, 1 },
    { __LINE__, 1, LIM_OCSP_CERTIDS, 128 },
    { __LINE__, 0, LIM_OCSP_CERTIDS, 20 },
};

START_TEST(test_req_parse)
{
    const EVP_MD       *md = req_ok_cases[_i].sha256 ? EVP_sha256()
                                                     : EVP_sha1();
    int                 nid = req_ok_cases[_i].sha256 ? NID_sha256
                                                      : NID_sha1;
    OCSP_REQUEST       *req = make_req(md, CA_P256, req_ok_cases[_i].n,
                                       req_ok_cases[_i].nonce);
    struct pki_ocsp_req r;
    struct buf          der;
    uint8_t             nh[PKI_OCSP_HASH_MAX];
    uint8_t             kh[PKI_OCSP_HASH_MAX];
    uint8_t             sn[PKI_SERIAL_LEN];
    size_t              hlen = 0;
    size_t              snlen;

    buf_init(&der, LIM_OCSP_REQ);
    req_der(req, &der);
    ck_assert_msg(parse_buf(&der, &r) == CW_OK, "line %d",
                  req_ok_cases[_i].line);
    ck_assert_uint_eq(r.nids, (size_t)req_ok_cases[_i].n);
    ck_assert_int_eq(r.has_nonce, req_ok_cases[_i].nonce > 0);
    ck_assert_int_eq(pki_ocsp_issuer_hashes(ca_cert[CA_P256], nid, nh, kh,
                                            &hlen),
                     CW_OK);
    ck_assert_uint_eq(hlen, req_ok_cases[_i].sha256 ? 32 : 20);
    snlen = serial_of(leaf[CA_P256], sn);
    for (size_t i = 0; i < r.nids; i++) {
        const struct pki_ocsp_id *id = &r.ids[i];

        ck_assert_int_eq(id->hash_nid, nid);
        ck_assert_uint_eq(id->hash_len, hlen);
        ck_assert_mem_eq(id->name_hash, nh, hlen);
        ck_assert_mem_eq(id->key_hash, kh, hlen);
        ck_assert_ptr_eq(id->certid,
                         OCSP_onereq_get0_id(
                             OCSP_request_onereq_get0(r.req, (int)i)));
        if (i == 0) {
            ck_assert_uint_eq(id->serial_len, snlen);
            ck_assert_mem_eq(id->serial, sn, snlen);
        } else {
            uint8_t want[2] = { (uint8_t)((1000 + i) >> 8),
                                (uint8_t)(1000 + i) };

            ck_assert_uint_eq(id->serial_len, 2);
            ck_assert_mem_eq(id->serial, want, 2);
        }
    }
    pki_ocsp_req_free(&r);
    ck_assert_ptr_null(r.req);
    ck_assert_uint_eq(r.nids, 0);
    pki_ocsp_req_free(&r);      /* twice is fine */
    pki_ocsp_req_free(NULL);
    OCSP_REQUEST_free(req);
    buf_cleanup(&der);
}
END_TEST

/* A refused parse leaves *out as it was. */
static void
expect_refused(const uint8_t *p, size_t len, enum cw_err want, int line)
{
    struct pki_ocsp_req r;
    struct pki_ocsp_req before;
    enum cw_err         err;

    memset(&r, 0xa5, sizeof(r));
    before = r;
    err = pki_ocsp_req_parse(p, len, &r);
    ck_assert_msg(err == want, "line %d: %s, want %s", line,
                  cw_err_name(err), cw_err_name(want));
    ck_assert_msg(memcmp(&r, &before, sizeof(r)) == 0,
                  "line %d: out written", line);
}

START_TEST(test_req_refused)
{
    static const uint8_t garbage[] = "GET /ocsp HTTP/1.1\r\n\r\n";
    static const uint8_t seq0[] = { 0x30, 0x00 };
    static const uint8_t seq_long[] = { 0x30, 0x84, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t nonce0[] = { 0x04, 0x00 };
    static const uint8_t nonce_raw[] = { 0x01, 0x02, 0x03, 0x04 };
    static const uint8_t nonce_trail[] = { 0x04, 0x01, 0x01, 0x00 };
    uint8_t              big[LIM_OCSP_REQ + 1];
    OCSP_REQUEST        *req;
    struct buf           der;

    buf_init(&der, LIM_OCSP_REQ + 16);

    expect_refused(NULL, 0, CW_E_BADREQ, __LINE__);
    expect_refused(garbage, 0, CW_E_BADREQ, __LINE__);
    expect_refused(garbage, sizeof(garbage) - 1, CW_E_BADREQ, __LINE__);
    expect_refused(seq0, sizeof(seq0), CW_E_BADREQ, __LINE__);
    expect_refused(seq_long, sizeof(seq_long), CW_E_BADREQ, __LINE__);
    memset(big, 0x30, sizeof(big));
    expect_refused(big, sizeof(big), CW_E_TOOLARGE, __LINE__);

    /* A valid request with a byte more, and every truncation of it. */
    req = make_req(EVP_sha1(), CA_P256, 2, 16);
    req_der(req, &der);
    ck_assert_int_eq(buf_append(&der, "\0", 1), CW_OK);
    expect_refused(der.p, der.len, CW_E_BADREQ, __LINE__);
    for (size_t n = 0; n < der.len - 1; n++)
        expect_refused(der.p, n, CW_E_BADREQ, __LINE__);
    OCSP_REQUEST_free(req);

    /* No CertID at all. */
    req = OCSP_REQUEST_new();
    req_der(req, &der);
    expect_refused(der.p, der.len, CW_E_BADREQ, __LINE__);
    OCSP_REQUEST_free(req);

    /* One CertID too many. */
    req = make_req(EVP_sha256(), CA_P256, LIM_OCSP_CERTIDS + 1, 0);
    req_der(req, &der);
    ck_assert_uint_le(der.len, LIM_OCSP_REQ);
    expect_refused(der.p, der.len, CW_E_TOOLARGE, __LINE__);
    OCSP_REQUEST_free(req);

    /* Nonces: empty, too long, not an OCTET STRING inside, trailing
     * bytes inside, twice. */
    req = make_req(EVP_sha1(), CA_P256, 1, 0);
    add_raw_nonce(req, nonce0, sizeof(nonce0));
    req_der(req, &der);
    expect_refused(der.p, der.len, CW_E_BADREQ, __LINE__);
    OCSP_REQUEST_free(req);
    req = make_req(EVP_sha1(), CA_P256, 1, LIM_OCSP_NONCE + 1);
    req_der(req, &der);
    expect_refused(der.p, der.len, CW_E_BADREQ, __LINE__);
    OCSP_REQUEST_free(req);
    req = make_req(EVP_sha1(), CA_P256, 1, 0);
    add_raw_nonce(req, nonce_raw, sizeof(nonce_raw));
    req_der(req, &der);
    expect_refused(der.p, der.len, CW_E_BADREQ, __LINE__);
    OCSP_REQUEST_free(req);
    req = make_req(EVP_sha1(), CA_P256, 1, 0);
    add_raw_nonce(req, nonce_trail, sizeof(nonce_trail));
    req_der(req, &der);
    expect_refused(der.p, der.len, CW_E_BADREQ, __LINE__);
    OCSP_REQUEST_free(req);
    /* (OCSP_request_add1_nonce() replaces; OCSP_REQUEST_add_ext() adds.) */
    req = make_req(EVP_sha1(), CA_P256, 1, 16);
    add_raw_nonce(req, nonce_trail, 3);
    req_der(req, &der);
    expect_refused(der.p, der.len, CW_E_BADREQ, __LINE__);
    OCSP_REQUEST_free(req);

    buf_cleanup(&der);
}
END_TEST

/* Hash lengths that do not fit the algorithm, or each other. */
START_TEST(test_req_hash_lengths)
{
    static const uint8_t h32[32] = { 1 };
    static const uint8_t h20[20] = { 2 };
    static const uint8_t h65[65] = { 3 };
    static const struct {
        int            line;
        int            sha256;
        const uint8_t *name;
        int            nlen;
        const uint8_t *key;
        int            klen;
    } cases[] = {
        { __LINE__, 0, h32, 32, h32, 32 },  /* SHA-1 of 32 octets */
        { __LINE__, 1, h20, 20, h20, 20 },  /* SHA-256 of 20      */
        { __LINE__, 0, h20, 20, h20, 20 },  /* fine: the control */
        { __LINE__, 0, h20, 20, h32, 32 },  /* mismatch           */
        { __LINE__, 0, h20, 0, h20, 0 },    /* empty              */
    };
    struct buf der;

    buf_init(&der, LIM_OCSP_REQ);
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        OCSP_REQUEST      *req = make_req(cases[i].sha256 ? EVP_sha256()
                                                          : EVP_sha1(),
                                          CA_P256, 1, 0);
        OCSP_CERTID       *id = OCSP_onereq_get0_id(
            OCSP_request_onereq_get0(req, 0));
        ASN1_OCTET_STRING *nh = NULL;
        ASN1_OCTET_STRING *kh = NULL;

        ck_assert_int_eq(OCSP_id_get0_info(&nh, NULL, &kh, NULL, id), 1);
        ck_assert_int_eq(ASN1_OCTET_STRING_set(nh, cases[i].name,
                                               cases[i].nlen),
                         1);
        ck_assert_int_eq(ASN1_OCTET_STRING_set(kh, cases[i].key,
                                               cases[i].klen),
                         1);
        req_der(req, &der);
        if (i == 2) {
            struct pki_ocsp_req r;

            ck_assert_int_eq(parse_buf(&der, &r), CW_OK);
            pki_ocsp_req_free(&r);
        } else {
            expect_refused(der.p, der.len, CW_E_BADREQ, cases[i].line);
        }
        OCSP_REQUEST_free(req);
    }
    /* Another hash of 65 octets is more than any we would compare. */
    {
        OCSP_REQUEST      *req = make_req(EVP_sha512(), CA_P256, 1, 0);
        OCSP_CERTID       *id = OCSP_onereq_get0_id(
            OCSP_request_onereq_get0(req, 0));
        ASN1_OCTET_STRING *nh = NULL;
        ASN1_OCTET_STRING *kh = NULL;

        ck_assert_int_eq(OCSP_id_get0_info(&nh, NULL, &kh, NULL, id), 1);
        ck_assert_int_eq(ASN1_OCTET_STRING_set(nh, h65, 65), 1);
        ck_assert_int_eq(ASN1_OCTET_STRING_set(kh, h65, 65), 1);
        req_der(req, &der);
        expect_refused(der.p, der.len, CW_E_BADREQ, __LINE__);
        OCSP_REQUEST_free(req);
    }
    buf_cleanup(&der);
}
END_TEST

/* Hashes we do not know are reported, not refused: the answer is
 * "unknown" for them. */
START_TEST(test_req_unknown_hash)
{
    static const uint8_t sha1_oid[] = { 0x06, 0x05, 0x2b, 0x0e,
                                        0x03, 0x02, 0x1a };
    static const uint8_t made_up[] = { 0x06, 0x05, 0x2a, 0x03,
                                       0x04, 0x05, 0x06 };
    static const struct {
        int           line;
        const char   *md;
        size_t        len;
    } cases[] = {
        { __LINE__, "MD5", 16 },
        { __LINE__, "SHA384", 48 },
        { __LINE__, "SHA512", 64 },
        { __LINE__, "SHA224", 28 },
    };
    struct pki_ocsp_req r;
    struct buf          der;
    uint8_t            *at;

    buf_init(&der, LIM_OCSP_REQ);
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        EVP_MD       *md = EVP_MD_fetch(NULL, cases[i].md, NULL);
        OCSP_REQUEST *req;

        if (md == NULL) {           /* MD5 may be left out of a build */
            ERR_clear_error();
            continue;
        }
        req = make_req(md, CA_RSA, 2, 0);
        req_der(req, &der);
        ck_assert_msg(parse_buf(&der, &r) == CW_OK, "line %d",
                      cases[i].line);
        ck_assert_int_eq(r.ids[0].hash_nid, 0);
        ck_assert_uint_eq(r.ids[0].hash_len, cases[i].len);
        ck_assert_uint_gt(r.ids[0].serial_len, 0);
        pki_ocsp_req_free(&r);
        OCSP_REQUEST_free(req);
        EVP_MD_free(md);
    }

    /* An OID no one knows, of the same length as SHA-1's. */
    {
        OCSP_REQUEST *req = make_req(EVP_sha1(), CA_P256, 1, 0);

        req_der(req, &der);
        at = memmem(der.p, der.len, sha1_oid, sizeof(sha1_oid));
        ck_assert_ptr_nonnull(at);
        memcpy(at, made_up, sizeof(made_up));
        ck_assert_int_eq(parse_buf(&der, &r), CW_OK);
        ck_assert_int_eq(r.ids[0].hash_nid, 0);
        ck_assert_uint_eq(r.ids[0].hash_len, 20);
        pki_ocsp_req_free(&r);
        OCSP_REQUEST_free(req);
    }
    buf_cleanup(&der);
}
END_TEST

/* Serials: what is reported for each kind of INTEGER. */
START_TEST(test_req_serials)
{
    static const struct {
        int         line;
        const char *bn_hex;     /* BN_hex2bn, "-" for negative */
        size_t      want_len;
    } cases[] = {
        { __LINE__, "01", 1 },
        { __LINE__, "80", 1 },
        { __LINE__, "7fffffffffffffffffffffffffffffffffffffff", 20 },
        { __LINE__, "ffffffffffffffffffffffffffffffffffffffff", 20 },
        { __LINE__, "01ffffffffffffffffffffffffffffffffffffffff", 0 },
        { __LINE__, "0", 0 },
        { __LINE__, "-05", 0 },
    };
    struct buf der;

    buf_init(&der, LIM_OCSP_REQ);
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        BIGNUM             *bn = NULL;
        ASN1_INTEGER       *ai;
        OCSP_REQUEST       *req = OCSP_REQUEST_new();
        struct pki_ocsp_req r;

        ck_assert_int_gt(BN_hex2bn(&bn, cases[i].bn_hex), 0);
        ai = BN_to_ASN1_INTEGER(bn, NULL);
        ck_assert_ptr_nonnull(ai);
        ck_assert_ptr_nonnull(OCSP_request_add0_id(
            req, certid_raw(EVP_sha1(), ca_cert[CA_P256], ai)));
        req_der(req, &der);
        ck_assert_msg(parse_buf(&der, &r) == CW_OK, "line %d",
                      cases[i].line);
        ck_assert_msg(r.ids[0].serial_len == cases[i].want_len,
                      "line %d: %zu", cases[i].line, r.ids[0].serial_len);
        if (cases[i].want_len > 0) {
            uint8_t want[PKI_SERIAL_LEN + 1];

            ck_assert_int_eq(BN_bn2bin(bn, want), (int)cases[i].want_len);
            ck_assert_mem_eq(r.ids[0].serial, want, cases[i].want_len);
        }
        pki_ocsp_req_free(&r);
        OCSP_REQUEST_free(req);
        ASN1_INTEGER_free(ai);
        BN_free(bn);
    }
    buf_cleanup(&der);
}
END_TEST

/* Every single-octet change of a valid request: parsed or refused, never
 * a crash or a leak (ASan, valgrind). */
START_TEST(test_req_mutations)
{
    static const uint8_t vals[] = { 0x00, 0x01, 0x7f, 0x80, 0x81, 0xff };
    OCSP_REQUEST        *req = make_req(EVP_sha256(), CA_ED25519, 3, 32);
    struct buf           der;
    size_t               ok = 0;

    buf_init(&der, LIM_OCSP_REQ);
    req_der(req, &der);
    for (size_t i = 0; i < der.len; i++) {
        uint8_t orig = der.p[i];

        for (size_t v = 0; v < N_ELEMS(vals) + 1; v++) {
            struct pki_ocsp_req r;

            der.p[i] = v < N_ELEMS(vals) ? vals[v] : (uint8_t)(orig ^ 0x20);
            if (pki_ocsp_req_parse(der.p, der.len, &r) == CW_OK) {
                ck_assert_uint_ge(r.nids, 1);
                ck_assert_uint_le(r.nids, LIM_OCSP_CERTIDS);
                for (size_t k = 0; k < r.nids; k++) {
                    ck_assert_uint_le(r.ids[k].hash_len, PKI_OCSP_HASH_MAX);
                    ck_assert_uint_le(r.ids[k].serial_len, 20);
                }
                pki_ocsp_req_free(&r);
                ok++;
            }
        }
        der.p[i] = orig;
    }
    ck_assert_uint_gt(ok, 0);       /* some changes hit hash or serial */
    OCSP_REQUEST_free(req);
    buf_cleanup(&der);
}
END_TEST

/* The hand parser of the common request: what it accepts equals the full
 * parse; the rest (nonce, several CertIDs, other hashes, odd serials) is
 * left to pki_ocsp_req_parse(). */
static void
simple_matches_full(const struct buf *der, int line)
{
    struct pki_ocsp_id  id;
    struct pki_ocsp_req r;

    ck_assert_msg(pki_ocsp_simple_parse(der->p, der->len, &id) == CW_OK,
                  "line %d", line);
    ck_assert_int_eq(parse_buf(der, &r), CW_OK);
    ck_assert_uint_eq(r.nids, 1);
    ck_assert_int_eq(r.has_nonce, 0);
    ck_assert_int_eq(id.hash_nid, r.ids[0].hash_nid);
    ck_assert_uint_eq(id.hash_len, r.ids[0].hash_len);
    ck_assert_mem_eq(id.name_hash, r.ids[0].name_hash, id.hash_len);
    ck_assert_mem_eq(id.key_hash, r.ids[0].key_hash, id.hash_len);
    ck_assert_uint_eq(id.serial_len, r.ids[0].serial_len);
    ck_assert_mem_eq(id.serial, r.ids[0].serial, id.serial_len);
    ck_assert_ptr_null(id.certid);
    pki_ocsp_req_free(&r);
}

START_TEST(test_simple_parse)
{
    static const struct {
        int         line;
        int         sha256;
        const char *bn_hex;
        int         simple;
    } cases[] = {
        { __LINE__, 0, "01", 1 },
        { __LINE__, 1, "80", 1 },           /* 02 02 00 80 */
        { __LINE__, 0, "7fffffffffffffffffffffffffffffffffffffff", 1 },
        { __LINE__, 1, "ffffffffffffffffffffffffffffffffffffffff", 1 },
        { __LINE__, 0, "01ffffffffffffffffffffffffffffffffffffffff", 0 },
        { __LINE__, 0, "0", 0 },
        { __LINE__, 1, "-05", 0 },
    };
    struct buf der;

    buf_init(&der, LIM_OCSP_REQ);
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        BIGNUM            *bn = NULL;
        ASN1_INTEGER      *ai;
        OCSP_REQUEST      *req = OCSP_REQUEST_new();
        struct pki_ocsp_id id;

        ck_assert_int_gt(BN_hex2bn(&bn, cases[i].bn_hex), 0);
        ai = BN_to_ASN1_INTEGER(bn, NULL);
        ck_assert_ptr_nonnull(ai);
        ck_assert_ptr_nonnull(OCSP_request_add0_id(
            req, certid_raw(cases[i].sha256 ? EVP_sha256() : EVP_sha1(),
                            ca_cert[CA_P256], ai)));
        req_der(req, &der);
        if (cases[i].simple)
            simple_matches_full(&der, cases[i].line);
        else
            ck_assert_msg(pki_ocsp_simple_parse(der.p, der.len, &id) ==
                              CW_E_NOTFOUND, "line %d", cases[i].line);
        OCSP_REQUEST_free(req);
        ASN1_INTEGER_free(ai);
        BN_free(bn);
    }
    buf_cleanup(&der);
}
END_TEST

START_TEST(test_simple_parse_refused)
{
    struct pki_ocsp_id id;
    OCSP_REQUEST      *req;
    struct buf         der;
    uint8_t           *copy;

    buf_init(&der, LIM_OCSP_REQ);
    /* A nonce, several CertIDs, an unknown hash: for the full parser. */
    req = make_req(EVP_sha1(), CA_P256, 1, 16);
    req_der(req, &der);
    ck_assert_int_eq(pki_ocsp_simple_parse(der.p, der.len, &id),
                     CW_E_NOTFOUND);
    OCSP_REQUEST_free(req);
    req = make_req(EVP_sha256(), CA_P256, 2, 0);
    req_der(req, &der);
    ck_assert_int_eq(pki_ocsp_simple_parse(der.p, der.len, &id),
                     CW_E_NOTFOUND);
    OCSP_REQUEST_free(req);
    req = make_req(EVP_sha512(), CA_P256, 1, 0);
    req_der(req, &der);
    ck_assert_int_eq(pki_ocsp_simple_parse(der.p, der.len, &id),
                     CW_E_NOTFOUND);
    OCSP_REQUEST_free(req);
    /* The common request itself, then cut, extended, and with a long
     * form length where the short one fits. */
    req = make_req(EVP_sha1(), CA_P256, 1, 0);
    req_der(req, &der);
    simple_matches_full(&der, __LINE__);
    for (size_t n = 0; n < der.len; n++)
        ck_assert_int_eq(pki_ocsp_simple_parse(der.p, n, &id),
                         CW_E_NOTFOUND);
    ck_assert_int_eq(buf_append(&der, "\0", 1), CW_OK);
    ck_assert_int_eq(pki_ocsp_simple_parse(der.p, der.len, &id),
                     CW_E_NOTFOUND);
    ck_assert_int_eq(pki_ocsp_simple_parse(NULL, 0, &id), CW_E_NOTFOUND);
    copy = cw_xmalloc(der.len + 1);
    ck_assert_uint_lt(der.p[1], 0x80);
    copy[0] = 0x30;
    copy[1] = 0x81;
    copy[2] = der.p[1];
    memcpy(copy + 3, der.p + 2, der.len - 3);   /* without the extra 0 */
    ck_assert_int_eq(pki_ocsp_simple_parse(copy, der.len, &id),
                     CW_E_NOTFOUND);
    free(copy);
    OCSP_REQUEST_free(req);
    buf_cleanup(&der);
}
END_TEST

/* Every single-octet change of the common request: when the hand parser
 * accepts it, the full parser agrees field by field. */
START_TEST(test_simple_parse_mutations)
{
    static const uint8_t vals[] = { 0x00, 0x01, 0x02, 0x04, 0x05, 0x30,
                                    0x7f, 0x80, 0x81, 0x82, 0xff };
    OCSP_REQUEST        *req = make_req(EVP_sha256(), CA_P256, 1, 0);
    struct buf           der;
    size_t               simple = 0;

    buf_init(&der, LIM_OCSP_REQ);
    req_der(req, &der);
    for (size_t i = 0; i < der.len; i++) {
        uint8_t orig = der.p[i];

        for (size_t v = 0; v < N_ELEMS(vals) + 1; v++) {
            struct pki_ocsp_id id;

            der.p[i] = v < N_ELEMS(vals) ? vals[v] : (uint8_t)(orig ^ 0x20);
            if (pki_ocsp_simple_parse(der.p, der.len, &id) == CW_OK) {
                simple_matches_full(&der, __LINE__);
                simple++;
            }
        }
        der.p[i] = orig;
    }
    ck_assert_uint_gt(simple, 0);   /* changes of hashes and serial */
    OCSP_REQUEST_free(req);
    buf_cleanup(&der);
}
END_TEST

/* ==== CertIDs ========================================================== */

START_TEST(test_certid)
{
    static const int nids[] = { NID_sha1, NID_sha256 };
    uint8_t          sn[PKI_SERIAL_LEN + 1];
    size_t           snlen = serial_of(leaf[_i], sn);

    for (size_t h = 0; h < N_ELEMS(nids); h++) {
        const EVP_MD      *md = nids[h] == NID_sha1 ? EVP_sha1()
                                                    : EVP_sha256();
        OCSP_CERTID       *ours = NULL;
        OCSP_CERTID       *theirs = OCSP_cert_to_id(md, leaf[_i],
                                                    ca_cert[_i]);
        ASN1_OCTET_STRING *nh = NULL;
        ASN1_OCTET_STRING *kh = NULL;
        uint8_t            name_hash[PKI_OCSP_HASH_MAX];
        uint8_t            key_hash[PKI_OCSP_HASH_MAX];
        size_t             len = 0;

        ck_assert_ptr_nonnull(theirs);
        ck_assert_int_eq(pki_ocsp_certid(ca_cert[_i], sn, snlen, nids[h],
                                         &ours),
                         CW_OK);
        ck_assert_int_eq(OCSP_id_cmp(ours, theirs), 0);
        ck_assert_int_eq(pki_ocsp_issuer_hashes(ca_cert[_i], nids[h],
                                                name_hash, key_hash, &len),
                         CW_OK);
        ck_assert_int_eq(OCSP_id_get0_info(&nh, NULL, &kh, NULL, theirs),
                         1);
        ck_assert_uint_eq(len, (size_t)EVP_MD_get_size(md));
        ck_assert_int_eq(ASN1_STRING_length(nh), (int)len);
        ck_assert_mem_eq(ASN1_STRING_get0_data(nh), name_hash, len);
        ck_assert_mem_eq(ASN1_STRING_get0_data(kh), key_hash, len);
        OCSP_CERTID_free(ours);
        OCSP_CERTID_free(theirs);
    }

    /* Leading zero octets are not part of the number. */
    {
        static const uint8_t padded[] = { 0x00, 0x00, 0x00, 0x85 };
        ASN1_INTEGER        *ai = ASN1_INTEGER_new();
        OCSP_CERTID         *a = NULL;
        OCSP_CERTID         *b;

        ck_assert_int_eq(ASN1_INTEGER_set(ai, 0x85), 1);
        b = certid_raw(EVP_sha1(), ca_cert[_i], ai);
        ck_assert_int_eq(pki_ocsp_certid(ca_cert[_i], padded,
                                         sizeof(padded), NID_sha1, &a),
                         CW_OK);
        ck_assert_int_eq(OCSP_id_cmp(a, b), 0);
        OCSP_CERTID_free(a);
        OCSP_CERTID_free(b);
        ASN1_INTEGER_free(ai);
    }
}
END_TEST

START_TEST(test_certid_refused)
{
    static const uint8_t zero[] = { 0, 0 };
    static const uint8_t s21[21] = { 1 };
    static const uint8_t one[] = { 1 };
    OCSP_CERTID         *id = NULL;
    uint8_t              nh[PKI_OCSP_HASH_MAX];
    uint8_t              kh[PKI_OCSP_HASH_MAX];
    size_t               len = 0;

    ck_assert_int_eq(pki_ocsp_certid(ca_cert[0], one, 1, NID_md5, &id),
                     CW_E_BADREQ);
    ck_assert_int_eq(pki_ocsp_certid(ca_cert[0], one, 1, 0, &id),
                     CW_E_BADREQ);
    ck_assert_int_eq(pki_ocsp_certid(ca_cert[0], one, 0, NID_sha1, &id),
                     CW_E_BADREQ);
    ck_assert_int_eq(pki_ocsp_certid(ca_cert[0], s21, 21, NID_sha1, &id),
                     CW_E_BADREQ);
    ck_assert_int_eq(pki_ocsp_certid(ca_cert[0], zero, 2, NID_sha1, &id),
                     CW_E_BADREQ);
    ck_assert_ptr_null(id);
    ck_assert_int_eq(pki_ocsp_issuer_hashes(ca_cert[0], NID_sha384, nh, kh,
                                            &len),
                     CW_E_BADREQ);
    ck_assert_uint_eq(len, 0);
}
END_TEST

/* ==== responses ======================================================== */

static const struct {
    int  line;
    int  ca;
    int  delegated;
    int  sig_nid;
} resp_cases[] = {
    { __LINE__, CA_P256, 0, NID_ecdsa_with_SHA256 },
    { __LINE__, CA_ED25519, 0, NID_ED25519 },
    { __LINE__, CA_RSA, 0, NID_sha256WithRSAEncryption },
    { __LINE__, CA_P256, 1, NID_ecdsa_with_SHA256 },
};

/* Request with three CertIDs and a nonce -> parse -> good, revoked,
 * unknown -> sign -> DER; then read back and verified as a client would:
 * OCSP_basic_verify against a store holding only the CA, the nonce, and
 * every status with its times. */
START_TEST(test_resp_roundtrip)
{
    int                  k = resp_cases[_i].ca;
    int                  delegated = resp_cases[_i].delegated;
    X509                *signer = delegated ? resp_cert : ca_cert[k];
    EVP_PKEY            *skey = delegated ? resp_key : ca_key[k];
    OCSP_REQUEST        *req = make_req(EVP_sha256(), k, 3, 32);
    struct pki_ocsp_req  r;
    OCSP_BASICRESP      *bs = NULL;
    OCSP_BASICRESP      *got;
    OCSP_RESPONSE       *resp;
    struct buf           der;
    struct buf           rder;
    const unsigned char *p;
    X509_STORE          *store;
    STACK_OF(X509)      *issuer;
    const ASN1_OCTET_STRING *rid_key = NULL;
    const X509_NAME     *rid_name = NULL;
    time_t               now = time(NULL);
    time_t               revoked = now - 86400;
    char                 req_path[256];
    char                 resp_path[256];
    char                 ca_path[256];
    char                 cmd[1200];

    buf_init(&der, LIM_OCSP_REQ);
    buf_init(&rder, LIM_OCSP_RESP);
    req_der(req, &der);
    ck_assert_int_eq(parse_buf(&der, &r), CW_OK);
    ck_assert_int_eq(r.has_nonce, 1);

    ck_assert_int_eq(pki_ocsp_basic_new(&bs), CW_OK);
    ck_assert_int_eq(pki_ocsp_add(bs, r.ids[0].certid,
                                  V_OCSP_CERTSTATUS_GOOD, 0, -1, now,
                                  now + 3600),
                     CW_OK);
    ck_assert_int_eq(pki_ocsp_add(bs, r.ids[1].certid,
                                  V_OCSP_CERTSTATUS_REVOKED, revoked,
                                  OCSP_REVOKED_STATUS_KEYCOMPROMISE, now,
                                  now + 3600),
                     CW_OK);
    ck_assert_int_eq(pki_ocsp_add(bs, r.ids[2].certid,
                                  V_OCSP_CERTSTATUS_UNKNOWN, 0, -1, now, 0),
                     CW_OK);
    ck_assert_int_eq(pki_ocsp_copy_nonce(bs, r.req), CW_OK);
    ck_assert_int_eq(pki_ocsp_sign(bs, signer, skey, NULL), CW_OK);
    ck_assert_int_eq(pki_ocsp_resp_der(bs, &rder), CW_OK);

    p = rder.p;
    resp = d2i_OCSP_RESPONSE(NULL, &p, (long)rder.len);
    ck_assert_ptr_nonnull(resp);
    ck_assert_ptr_eq(p, rder.p + rder.len);
    ck_assert_int_eq(OCSP_response_status(resp),
                     OCSP_RESPONSE_STATUS_SUCCESSFUL);
    got = OCSP_response_get1_basic(resp);
    ck_assert_ptr_nonnull(got);

    /* The signer's certificate travels with delegated responses only. */
    if (delegated) {
        ck_assert_int_eq(sk_X509_num(OCSP_resp_get0_certs(got)), 1);
        ck_assert_int_eq(X509_cmp(sk_X509_value(OCSP_resp_get0_certs(got), 0),
                                  resp_cert),
                         0);
    } else {
        ck_assert_ptr_null(OCSP_resp_get0_certs(got));
    }
    ck_assert_int_eq(OBJ_obj2nid(OCSP_resp_get0_tbs_sigalg(got)->algorithm),
                     resp_cases[_i].sig_nid);
    ck_assert_int_eq(OCSP_resp_get0_id(got, &rid_key, &rid_name), 1);
    ck_assert_ptr_null(rid_key);
    ck_assert_ptr_nonnull(rid_name);
    ck_assert_int_eq(X509_NAME_cmp(rid_name, X509_get_subject_name(signer)),
                     0);

    store = X509_STORE_new();
    ck_assert_int_eq(X509_STORE_add_cert(store, ca_cert[k]), 1);
    issuer = sk_X509_new_null();
    ck_assert_int_gt(sk_X509_push(issuer, ca_cert[k]), 0);
    if (delegated) {
        ck_assert_int_eq(OCSP_basic_verify(got, NULL, store, 0), 1);
    } else {
        /* OpenSSL looks for the signer in certs and the response, not in
         * the store: a client passes the issuer it asked about. */
        ck_assert_int_le(OCSP_basic_verify(got, NULL, store, 0), 0);
        ERR_clear_error();
        ck_assert_int_eq(OCSP_basic_verify(got, issuer, store, 0), 1);
    }
    ck_assert_int_eq(OCSP_check_nonce(r.req, got), 1);

    for (size_t i = 0; i < 3; i++) {
        int                   status = -9;
        int                   reason = -9;
        ASN1_GENERALIZEDTIME *rev = NULL;
        ASN1_GENERALIZEDTIME *thisu = NULL;
        ASN1_GENERALIZEDTIME *nextu = NULL;
        static const int      want[] = { V_OCSP_CERTSTATUS_GOOD,
                                         V_OCSP_CERTSTATUS_REVOKED,
                                         V_OCSP_CERTSTATUS_UNKNOWN };

        ck_assert_int_eq(OCSP_resp_find_status(got, r.ids[i].certid, &status,
                                               &reason, &rev, &thisu,
                                               &nextu),
                         1);
        ck_assert_int_eq(status, want[i]);
        ck_assert_int_eq(ASN1_TIME_cmp_time_t(thisu, now), 0);
        ck_assert_int_eq(ASN1_STRING_type(thisu), V_ASN1_GENERALIZEDTIME);
        ck_assert_int_eq(OCSP_check_validity(thisu, nextu, 300, -1), 1);
        if (i == 2)
            ck_assert_ptr_null(nextu);
        else
            ck_assert_int_eq(ASN1_TIME_cmp_time_t(nextu, now + 3600), 0);
        if (i == 1) {
            ck_assert_int_eq(reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
            ck_assert_int_eq(ASN1_TIME_cmp_time_t(rev, revoked), 0);
        } else {
            ck_assert_ptr_null(rev);
        }
    }

    /* openssl ocsp, as a client on the command line would. */
    write_file("req.der", der.p, der.len, req_path, sizeof(req_path));
    write_file("resp.der", rder.p, rder.len, resp_path, sizeof(resp_path));
    write_cert("ca.pem", ca_cert[k], ca_path, sizeof(ca_path));
    snprintf(cmd, sizeof(cmd),
             "openssl ocsp -reqin '%s' -respin '%s' -CAfile '%s' "
             "-issuer '%s' 2>&1 | grep -q '^Response verify OK'",
             req_path, resp_path, ca_path, ca_path);
    ck_assert_msg(system(cmd) == 0, "line %d: openssl ocsp",
                  resp_cases[_i].line);

    sk_X509_free(issuer);
    X509_STORE_free(store);
    OCSP_BASICRESP_free(got);
    OCSP_RESPONSE_free(resp);
    OCSP_BASICRESP_free(bs);
    pki_ocsp_req_free(&r);
    OCSP_REQUEST_free(req);
    buf_cleanup(&der);
    buf_cleanup(&rder);
}
END_TEST

/* No nonce in the request: none in the response; reason 0 (unspecified)
 * is left out; extra certificates are carried. */
START_TEST(test_resp_no_nonce_extra_certs)
{
    OCSP_REQUEST        *req = make_req(EVP_sha1(), CA_P256, 1, 0);
    struct pki_ocsp_req  r;
    OCSP_BASICRESP      *bs = NULL;
    STACK_OF(X509)      *extra = sk_X509_new_null();
    struct buf           der;
    int                  status = -9;
    int                  reason = -9;
    time_t               now = time(NULL);

    buf_init(&der, LIM_OCSP_REQ);
    req_der(req, &der);
    ck_assert_int_eq(parse_buf(&der, &r), CW_OK);
    ck_assert_int_eq(r.has_nonce, 0);
    ck_assert_int_eq(pki_ocsp_basic_new(&bs), CW_OK);
    ck_assert_int_eq(pki_ocsp_add(bs, r.ids[0].certid,
                                  V_OCSP_CERTSTATUS_REVOKED, now - 10, 0,
                                  now, now + 60),
                     CW_OK);
    ck_assert_int_eq(pki_ocsp_copy_nonce(bs, r.req), CW_OK);
    ck_assert_int_lt(OCSP_BASICRESP_get_ext_by_NID(bs, NID_id_pkix_OCSP_Nonce,
                                                   -1),
                     0);
    ck_assert_int_gt(sk_X509_push(extra, leaf[CA_RSA]), 0);
    ck_assert_int_eq(pki_ocsp_sign(bs, ca_cert[CA_P256], ca_key[CA_P256],
                                   extra),
                     CW_OK);
    ck_assert_int_eq(sk_X509_num(OCSP_resp_get0_certs(bs)), 1);
    ck_assert_int_eq(OCSP_resp_find_status(bs, r.ids[0].certid, &status,
                                           &reason, NULL, NULL, NULL),
                     1);
    ck_assert_int_eq(status, V_OCSP_CERTSTATUS_REVOKED);
    ck_assert_int_eq(reason, OCSP_REVOKED_STATUS_NOSTATUS);
    ck_assert_int_eq(OCSP_check_nonce(r.req, bs), 2);   /* neither has one */

    sk_X509_free(extra);
    OCSP_BASICRESP_free(bs);
    pki_ocsp_req_free(&r);
    OCSP_REQUEST_free(req);
    buf_cleanup(&der);
}
END_TEST

START_TEST(test_resp_refused)
{
    OCSP_BASICRESP *bs = NULL;
    OCSP_CERTID    *id = NULL;
    uint8_t         sn[PKI_SERIAL_LEN + 1];
    size_t          snlen = serial_of(leaf[CA_P256], sn);
    time_t          now = time(NULL);
    static const int bad_reasons[] = { -2, 7, 8, 11 };

    ck_assert_int_eq(pki_ocsp_certid(ca_cert[CA_P256], sn, snlen, NID_sha1,
                                     &id),
                     CW_OK);
    ck_assert_int_eq(pki_ocsp_basic_new(&bs), CW_OK);
    ck_assert_int_eq(pki_ocsp_add(bs, id, 3, 0, -1, now, 0), CW_E_INTERNAL);
    ck_assert_int_eq(pki_ocsp_add(bs, id, -1, 0, -1, now, 0), CW_E_INTERNAL);
    for (size_t i = 0; i < N_ELEMS(bad_reasons); i++)
        ck_assert_int_eq(pki_ocsp_add(bs, id, V_OCSP_CERTSTATUS_REVOKED, now,
                                      bad_reasons[i], now, 0),
                         CW_E_INTERNAL);
    ck_assert_int_eq(pki_ocsp_add(bs, id, V_OCSP_CERTSTATUS_REVOKED, 0, 1,
                                  now, 0),
                     CW_E_INTERNAL);
    ck_assert_int_eq(pki_ocsp_add(bs, id, V_OCSP_CERTSTATUS_GOOD, 0, -1, 0,
                                  0),
                     CW_E_INTERNAL);
    ck_assert_int_eq(pki_ocsp_add(bs, id, V_OCSP_CERTSTATUS_GOOD, 0, -1, now,
                                  now - 1),
                     CW_E_INTERNAL);
    ck_assert_int_eq(OCSP_resp_count(bs), 0);
    for (int i = 0; i < LIM_OCSP_CERTIDS; i++)
        ck_assert_int_eq(pki_ocsp_add(bs, id, V_OCSP_CERTSTATUS_GOOD, 0, -1,
                                      now, 0),
                         CW_OK);
    ck_assert_int_eq(pki_ocsp_add(bs, id, V_OCSP_CERTSTATUS_GOOD, 0, -1, now,
                                  0),
                     CW_E_TOOLARGE);

    /* A key that is not the signer certificate's; a key we do not sign
     * with. */
    ck_assert_int_eq(pki_ocsp_sign(bs, ca_cert[CA_P256], other_key, NULL),
                     CW_E_BADKEY);
    {
        EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");

        ck_assert_ptr_nonnull(k1);
        ck_assert_int_eq(pki_ocsp_sign(bs, ca_cert[CA_P256], k1, NULL),
                         CW_E_BADKEY);
        EVP_PKEY_free(k1);
    }
    OCSP_CERTID_free(id);
    OCSP_BASICRESP_free(bs);
}
END_TEST

START_TEST(test_error_der)
{
    static const struct {
        int line;
        int status;
        int ok;
    } cases[] = {
        { __LINE__, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, 1 },
        { __LINE__, OCSP_RESPONSE_STATUS_INTERNALERROR, 1 },
        { __LINE__, OCSP_RESPONSE_STATUS_TRYLATER, 1 },
        { __LINE__, OCSP_RESPONSE_STATUS_SIGREQUIRED, 1 },
        { __LINE__, OCSP_RESPONSE_STATUS_UNAUTHORIZED, 1 },
        { __LINE__, OCSP_RESPONSE_STATUS_SUCCESSFUL, 0 },
        { __LINE__, 4, 0 },
        { __LINE__, 7, 0 },
        { __LINE__, -1, 0 },
        { __LINE__, 255, 0 },
    };

    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        size_t               len = 99;
        const uint8_t       *der = pki_ocsp_error_der(cases[i].status, &len);
        const unsigned char *p;
        OCSP_RESPONSE       *resp;

        if (!cases[i].ok) {
            ck_assert_msg(der == NULL && len == 0, "line %d", cases[i].line);
            continue;
        }
        ck_assert_ptr_nonnull(der);
        ck_assert_uint_eq(len, 5);
        ck_assert_int_eq(der[4], cases[i].status);
        p = der;
        resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
        ck_assert_ptr_nonnull(resp);
        ck_assert_ptr_eq(p, der + len);
        ck_assert_int_eq(OCSP_response_status(resp), cases[i].status);
        ck_assert_ptr_null(OCSP_response_get1_basic(resp));
        ERR_clear_error();
        OCSP_RESPONSE_free(resp);
    }
}
END_TEST

/* ==== base64 =========================================================== */

static const struct {
    int         line;
    const char *in;
    size_t      len;        /* 0: strlen */
    enum cw_err err;
    const char *hex;
} b64_cases[] = {
    { __LINE__, "MAA=", 0, CW_OK, "3000" },
    { __LINE__, "MAA", 0, CW_OK, "3000" },
    { __LINE__, "MA==", 0, CW_OK, "30" },
    { __LINE__, "MA", 0, CW_OK, "30" },
    { __LINE__, "MAAA", 0, CW_OK, "300000" },
    { __LINE__, "+/+/", 0, CW_OK, "fbffbf" },
    { __LINE__, "AAECAwQF", 0, CW_OK, "000102030405" },
    { __LINE__, "AAECAwQFBg", 0, CW_OK, "00010203040506" },
    { __LINE__, "AAECAwQFBg==", 0, CW_OK, "00010203040506" },
    { __LINE__, "", 0, CW_E_BADREQ, NULL },
    { __LINE__, "M", 0, CW_E_BADREQ, NULL },
    { __LINE__, "MAAAM", 0, CW_E_BADREQ, NULL },
    { __LINE__, "=", 0, CW_E_BADREQ, NULL },
    { __LINE__, "==", 0, CW_E_BADREQ, NULL },
    { __LINE__, "====", 0, CW_E_BADREQ, NULL },
    { __LINE__, "MA=", 0, CW_E_BADREQ, NULL },       /* half padded */
    { __LINE__, "MAA==", 0, CW_E_BADREQ, NULL },
    { __LINE__, "M===", 0, CW_E_BADREQ, NULL },
    { __LINE__, "MA=A", 0, CW_E_BADREQ, NULL },
    { __LINE__, "MA==MA==", 0, CW_E_BADREQ, NULL },
    { __LINE__, "MB==", 0, CW_E_BADREQ, NULL },      /* bits after the end */
    { __LINE__, "MAB=", 0, CW_E_BADREQ, NULL },
    { __LINE__, "MA A", 0, CW_E_BADREQ, NULL },
    { __LINE__, "MAA=\n", 0, CW_E_BADREQ, NULL },
    { __LINE__, "-_-_", 0, CW_E_BADREQ, NULL },      /* URL-safe alphabet */
    { __LINE__, "MA%3D", 0, CW_E_BADREQ, NULL },     /* not percent-decoded */
    { __LINE__, "MA\0A", 4, CW_E_BADREQ, NULL },
    { __LINE__, "MA\xc3\xa9", 0, CW_E_BADREQ, NULL },
};

START_TEST(test_b64)
{
    struct buf out;
    size_t     len = b64_cases[_i].len ? b64_cases[_i].len
                                       : strlen(b64_cases[_i].in);
    char       hex[64];
    enum cw_err err;

    buf_init(&out, LIM_OCSP_REQ);
    ck_assert_int_eq(buf_append(&out, "xy", 2), CW_OK);   /* appends */
    err = pki_ocsp_b64_decode(b64_cases[_i].in, len, &out);
    ck_assert_msg(err == b64_cases[_i].err, "line %d: %s",
                  b64_cases[_i].line, cw_err_name(err));
    if (err != CW_OK) {
        ck_assert_uint_eq(out.len, 2);
    } else {
        ck_assert_mem_eq(out.p, "xy", 2);
        for (size_t i = 2; i < out.len; i++)
            snprintf(hex + 2 * (i - 2), 3, "%02x", out.p[i]);
        hex[2 * (out.len - 2)] = '\0';
        ck_assert_msg(strcmp(hex, b64_cases[_i].hex) == 0, "line %d: %s",
                      b64_cases[_i].line, hex);
    }
    buf_cleanup(&out);
}
END_TEST

/* A real request through GET: base64 with and without padding, then
 * parsed; over-long input refused before decoding. */
START_TEST(test_b64_request)
{
    OCSP_REQUEST       *req = make_req(EVP_sha1(), CA_P256, 1, 16);
    struct buf          der;
    struct buf          out;
    struct pki_ocsp_req r;
    unsigned char       b64[4 * LIM_OCSP_REQ / 3 + 8];
    int                 n;
    char               *big;

    buf_init(&der, LIM_OCSP_REQ);
    buf_init(&out, LIM_OCSP_REQ);
    for (int extra = 0; extra < 3; extra++) {
        /* Lengths of every residue mod 3, so that padding varies. */
        OCSP_REQUEST_free(req);
        req = make_req(EVP_sha1(), CA_P256, 1, 16 + extra);
        req_der(req, &der);
        n = EVP_EncodeBlock(b64, der.p, (int)der.len);
        ck_assert_int_gt(n, 0);
        buf_reset(&out);
        ck_assert_int_eq(pki_ocsp_b64_decode((char *)b64, (size_t)n, &out),
                         CW_OK);
        ck_assert_uint_eq(out.len, der.len);
        ck_assert_mem_eq(out.p, der.p, der.len);
        while (n > 0 && b64[n - 1] == '=')
            n--;
        buf_reset(&out);
        ck_assert_int_eq(pki_ocsp_b64_decode((char *)b64, (size_t)n, &out),
                         CW_OK);
        ck_assert_mem_eq(out.p, der.p, der.len);
        ck_assert_int_eq(pki_ocsp_req_parse(out.p, out.len, &r), CW_OK);
        ck_assert_int_eq(r.has_nonce, 1);
        pki_ocsp_req_free(&r);
    }
    big = cw_xmalloc(4 * ((LIM_OCSP_REQ + 2) / 3) + 8);
    memset(big, 'A', 4 * ((LIM_OCSP_REQ + 2) / 3) + 8);
    buf_reset(&out);
    ck_assert_int_eq(pki_ocsp_b64_decode(big, 4 * ((LIM_OCSP_REQ + 2) / 3) + 4,
                                         &out),
                     CW_E_TOOLARGE);
    /* Just over LIM_OCSP_REQ octets once decoded. */
    ck_assert_int_eq(pki_ocsp_b64_decode(big, 4 * (LIM_OCSP_REQ / 3) + 4,
                                         &out),
                     CW_E_TOOLARGE);
    ck_assert_int_eq(pki_ocsp_b64_decode(big, 4 * (LIM_OCSP_REQ / 3), &out),
                     CW_OK);
    ck_assert_uint_eq(out.len, LIM_OCSP_REQ / 3 * 3);
    free(big);
    OCSP_REQUEST_free(req);
    buf_cleanup(&der);
    buf_cleanup(&out);
}
END_TEST

/* ==== suite ============================================================ */

static void
make_certs(void)
{
    if (ca_cert[0] != NULL)
        return;
    for (int k = 0; k < CA__MAX; k++) {
        ca_cert[k] = make_cert(ca_key[k], "certward OCSP test CA", NULL,
                               ca_key[k], NULL);
        leaf[k] = make_cert(other_key, "leaf.example.com", ca_cert[k],
                            ca_key[k], NULL);
    }
    resp_cert = make_cert(resp_key, "certward OCSP responder",
                          ca_cert[CA_P256], ca_key[CA_P256], "OCSPSigning");
}

static Suite *
ocsp_suite(void)
{
    Suite *s = suite_create("ocsp");
    TCase *tc;

    tc = tcase_create("request");
    tcase_add_unchecked_fixture(tc, make_certs, NULL);
    tcase_set_timeout(tc, 60);
    LOOP(tc, test_req_parse, req_ok_cases);
    tcase_add_test(tc, test_req_refused);
    tcase_add_test(tc, test_req_hash_lengths);
    tcase_add_test(tc, test_req_unknown_hash);
    tcase_add_test(tc, test_req_serials);
    tcase_add_test(tc, test_req_mutations);
    tcase_add_test(tc, test_simple_parse);
    tcase_add_test(tc, test_simple_parse_refused);
    tcase_add_test(tc, test_simple_parse_mutations);
    suite_add_tcase(s, tc);

    tc = tcase_create("certid");
    tcase_add_unchecked_fixture(tc, make_certs, NULL);
    tcase_add_loop_test(tc, test_certid, 0, CA__MAX);
    tcase_add_test(tc, test_certid_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("response");
    tcase_add_unchecked_fixture(tc, make_certs, NULL);
    tcase_set_timeout(tc, 60);
    LOOP(tc, test_resp_roundtrip, resp_cases);
    tcase_add_test(tc, test_resp_no_nonce_extra_certs);
    tcase_add_test(tc, test_resp_refused);
    tcase_add_test(tc, test_error_der);
    suite_add_tcase(s, tc);

    tc = tcase_create("base64");
    LOOP(tc, test_b64, b64_cases);
    tcase_add_unchecked_fixture(tc, make_certs, NULL);
    tcase_add_test(tc, test_b64_request);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr;
    int      failed;
    char     cmd[128];

    log_set_level(LOG_CRIT);
    for (int k = 0; k < CA__MAX; k++) {
        if (pki_key_generate(ca_key_type[k], &ca_key[k]) != CW_OK)
            return EXIT_FAILURE;
    }
    if (pki_key_generate(PKI_KEY_EC_P256, &resp_key) != CW_OK ||
        pki_key_generate(PKI_KEY_EC_P256, &other_key) != CW_OK)
        return EXIT_FAILURE;
    snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/certward-ocsp-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    sr = srunner_create(ocsp_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    for (int k = 0; k < CA__MAX; k++) {
        X509_free(ca_cert[k]);
        X509_free(leaf[k]);
        EVP_PKEY_free(ca_key[k]);
    }
    X509_free(resp_cert);
    EVP_PKEY_free(resp_key);
    EVP_PKEY_free(other_key);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * test_crl.c: unit tests for backend/pki/crl.c and the raw signature
 * functions of backend/pki/sign.c it relies on (pki_sign_bytes,
 * pki_sig_algid). Every CRL built here is signed, then read back by
 * OpenSSL (d2i_X509_CRL, X509_CRL_verify, the extension decoders, an
 * X509_STORE revocation check) and, where installed, by `openssl crl`,
 * GnuTLS certtool and python3-cryptography, whose DER reader refuses any
 * non-canonical encoding.
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
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Valgrind runs the encoder some fifty times slower: no time budget then. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "cw_limits.h"
#include "pki/build.h"
#include "pki/cert.h"
#include "pki/crl.h"
#include "pki/key.h"
#include "pki/sign.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define LOOP(tc, t, arr) tcase_add_loop_test(tc, t, 0, (int)N_ELEMS(arr))

#define IDP_URL      "http://pki.example.com/crl/test.crl"
#define FRESHEST_URL "http://pki.example.com/crl/test-delta.crl"

/* CA keys and certificates, made once before the tests fork. */
enum ca_kind { CA_P256, CA_RSA, CA_ED25519, CA_P384, CA__MAX };
static const enum pki_key_type ca_key_type[CA__MAX] = {
    [CA_P256] = PKI_KEY_EC_P256,
    [CA_RSA] = PKI_KEY_RSA2048,
    [CA_ED25519] = PKI_KEY_ED25519,
    [CA_P384] = PKI_KEY_EC_P384,
};
static const int ca_sig_nid[CA__MAX] = {
    [CA_P256] = NID_ecdsa_with_SHA256,
    [CA_RSA] = NID_sha256WithRSAEncryption,
    [CA_ED25519] = NID_ED25519,
    [CA_P384] = NID_ecdsa_with_SHA384,
};
static EVP_PKEY *ca_key[CA__MAX];
static X509     *ca_cert[CA__MAX];
static X509     *ca_noski;          /* P-256, no subjectKeyIdentifier     */
static X509     *ca_nocrlsign;      /* P-256, keyUsage without cRLSign    */
static char      tmpdir[64];

/* ==== helpers ========================================================== */

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return timegm(&tm);
}

/* An X509 as the store would hand it over: through DER, so that no
 * extension cache from building survives. */
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

static X509_NAME *
cn_name(const char *cn)
{
    X509_NAME *n = X509_NAME_new();

    ck_assert_ptr_nonnull(n);
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                                                (const unsigned char *)cn,
                                                -1, -1, 0),
                     1);
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
                                                (const unsigned char *)
                                                "certward tests",
                                                -1, -1, 0),
                     1);
    return n;
}

/* A certificate for pub: a self-signed CA when issuer is NULL, else a leaf
 * of issuer (with a CDP of crl_url). ku 0: the default. */
static X509 *
make_cert(EVP_PKEY *pub, const char *cn, X509 *issuer, EVP_PKEY *sign_key,
          unsigned ku, const char *crl_url, int drop_ski)
{
    struct pki_cert_spec s;
    X509_NAME           *subj = cn_name(cn);
    X509                *x = NULL;
    time_t               now = time(NULL);

    pki_build_spec_init(&s);
    s.subject = subj;
    s.pubkey = pub;
    ck_assert_int_eq(pki_serial_random(s.serial), CW_OK);
    s.serial_len = PKI_SERIAL_LEN;
    s.not_before = now - 3600;
    s.not_after = now + (issuer == NULL ? 3650 : 30) * 86400L;
    s.is_ca = issuer == NULL;
    s.issuer = issuer;
    s.key_usage = ku;
    s.crl_url = crl_url;
    ck_assert_int_eq(pki_build_cert(&s, &x), CW_OK);
    if (drop_ski) {
        int loc = X509_get_ext_by_NID(x, NID_subject_key_identifier, -1);

        ck_assert_int_ge(loc, 0);
        X509_EXTENSION_free(X509_delete_ext(x, loc));
    }
    ck_assert_int_eq(pki_cert_sign(x, sign_key), CW_OK);
    X509_NAME_free(subj);
    return reparse(x);
}

static void
params_init(struct pki_crl_params *p, X509 *issuer, uint64_t number)
{
    time_t now = time(NULL);

    memset(p, 0, sizeof(*p));
    p->issuer = issuer;
    p->number = number;
    p->this_update = now - 600;
    p->next_update = now + 7 * 86400;
}

/* begin, add all, tbs, pki_sign_bytes, finish: the DER CRL into der. */
static void
crl_make(const struct pki_crl_params *p, EVP_PKEY *key,
         const struct pki_crl_entry *e, size_t n, struct buf *der)
{
    struct pki_crl *c = NULL;
    const uint8_t  *tbs = NULL;
    size_t          tbs_len = 0;
    struct buf      sig;

    buf_init(&sig, 1024);
    ck_assert_int_eq(pki_crl_begin(p, &c), CW_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(pki_crl_add(c, &e[i]), CW_OK);
    ck_assert_uint_eq(pki_crl_count(c), n);
    ck_assert_int_eq(pki_crl_tbs(c, &tbs, &tbs_len), CW_OK);
    ck_assert_int_eq(pki_sign_bytes(key, tbs, tbs_len, &sig), CW_OK);
    ck_assert_int_eq(pki_crl_finish(c, sig.p, sig.len, der), CW_OK);
    pki_crl_free(c);
    buf_cleanup(&sig);
}

/* d2i with the whole input consumed, signature verified. */
static X509_CRL *
crl_parse(const struct buf *der, X509 *issuer)
{
    const unsigned char *p = der->p;
    X509_CRL            *crl = d2i_X509_CRL(NULL, &p, (long)der->len);

    ck_assert_ptr_nonnull(crl);
    ck_assert_ptr_eq(p, der->p + der->len);
    ck_assert_int_eq(X509_CRL_verify(crl, X509_get0_pubkey(issuer)), 1);
    return crl;
}

/* The tags of the top-level elements of the TBSCertList of a DER CRL. */
static size_t
tbs_tags(const struct buf *der, int *tags, size_t max)
{
    const unsigned char *p = der->p;
    const unsigned char *end;
    long                 len;
    int                  tag;
    int                  cls;
    size_t               n = 0;

    /* CertificateList, then TBSCertList */
    ck_assert_int_eq(ASN1_get_object(&p, &len, &tag, &cls, (long)der->len),
                     V_ASN1_CONSTRUCTED);
    ck_assert_int_eq(ASN1_get_object(&p, &len, &tag, &cls, len),
                     V_ASN1_CONSTRUCTED);
    end = p + len;
    while (p < end && n < max) {
        const unsigned char *start = p;
        int                  r = ASN1_get_object(&p, &len, &tag, &cls,
                                                 end - p);

        ck_assert_int_eq(r & 0x80, 0);
        tags[n++] = cls == V_ASN1_CONTEXT_SPECIFIC ? 0x80 | tag : tag;
        p += len;
        ck_assert(p > start);
    }
    ck_assert_ptr_eq(p, end);
    return n;
}

static ASN1_INTEGER *
int_from_mag(const uint8_t *p, size_t n)
{
    BIGNUM       *bn = BN_bin2bn(p, (int)n, NULL);
    ASN1_INTEGER *ai;

    ck_assert_ptr_nonnull(bn);
    ai = BN_to_ASN1_INTEGER(bn, NULL);
    ck_assert_ptr_nonnull(ai);
    BN_free(bn);
    return ai;
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
write_pem(const char *name, X509 *x, X509_CRL *crl, char *path, size_t n)
{
    FILE *f;

    snprintf(path, n, "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    if (x != NULL)
        ck_assert_int_eq(PEM_write_X509(f, x), 1);
    if (crl != NULL)
        ck_assert_int_eq(PEM_write_X509_CRL(f, crl), 1);
    ck_assert_int_eq(fclose(f), 0);
}

/* ==== pki_sign_bytes, pki_sig_algid ==================================== */

static const struct {
    int               line;
    enum pki_key_type type;
    const char       *algid_hex;
} algid_cases[] = {
    { __LINE__, PKI_KEY_RSA2048, "300d06092a864886f70d01010b0500" },
    { __LINE__, PKI_KEY_EC_P256, "300a06082a8648ce3d040302" },
    { __LINE__, PKI_KEY_EC_P384, "300a06082a8648ce3d040303" },
    { __LINE__, PKI_KEY_EC_P521, "300a06082a8648ce3d040304" },
    { __LINE__, PKI_KEY_ED25519, "300506032b6570" },
};

static void
hex_of(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
    out[2 * n] = '\0';
}

/* Our AlgorithmIdentifier equals what X509_sign writes for the same key,
 * and pki_sign_bytes makes signatures EVP_DigestVerify accepts with the
 * digest that AlgorithmIdentifier names. */
START_TEST(test_sign_bytes_and_algid)
{
    static const uint8_t msg[] = "certward signs these bytes";
    EVP_PKEY            *key = NULL;
    X509                *cert;
    struct buf           algid;
    struct buf           sig;
    struct buf           small;
    unsigned char       *x509_algid = NULL;
    int                  n;
    char                 hex[128];
    EVP_MD_CTX          *ctx;
    const EVP_MD        *md = NULL;

    buf_init(&algid, 256);
    buf_init(&sig, 1024);
    ck_assert_int_eq(pki_key_generate(algid_cases[_i].type, &key), CW_OK);
    ck_assert_int_eq(pki_sig_algid(key, &algid), CW_OK);
    hex_of(algid.p, algid.len, hex);
    ck_assert_msg(strcmp(hex, algid_cases[_i].algid_hex) == 0,
                  "line %d: %s", algid_cases[_i].line, hex);

    cert = make_cert(key, "algid", NULL, key, 0, NULL, 0);
    n = i2d_X509_ALGOR(X509_get0_tbs_sigalg(cert), &x509_algid);
    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq((size_t)n, algid.len);
    ck_assert_mem_eq(x509_algid, algid.p, algid.len);

    ck_assert_int_eq(pki_sign_bytes(key, msg, sizeof(msg), &sig), CW_OK);
    ck_assert_uint_gt(sig.len, 0);
    ck_assert_uint_le(sig.len, (size_t)EVP_PKEY_get_size(key));
    ck_assert_int_eq(pki_sign_md(key, &md), CW_OK);
    ctx = EVP_MD_CTX_new();
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, md, NULL, key), 1);
    ck_assert_int_eq(EVP_DigestVerify(ctx, sig.p, sig.len, msg, sizeof(msg)),
                     1);
    EVP_MD_CTX_free(ctx);

    /* Appends: a second signature after the first. */
    n = (int)sig.len;
    ck_assert_int_eq(pki_sign_bytes(key, msg, 0, &sig), CW_OK);
    ck_assert_uint_gt(sig.len, (size_t)n);

    /* No room in the caller's buffer. */
    buf_init(&small, 8);
    ck_assert_int_eq(pki_sign_bytes(key, msg, sizeof(msg), &small),
                     CW_E_TOOLARGE);
    buf_cleanup(&small);

    OPENSSL_free(x509_algid);
    X509_free(cert);
    EVP_PKEY_free(key);
    buf_cleanup(&algid);
    buf_cleanup(&sig);
}
END_TEST

START_TEST(test_sign_bytes_refused_key)
{
    EVP_PKEY  *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    struct buf b;

    ck_assert_ptr_nonnull(k);
    buf_init(&b, 1024);
    ck_assert_int_eq(pki_sign_bytes(k, (const uint8_t *)"x", 1, &b),
                     CW_E_BADKEY);
    ck_assert_int_eq(pki_sig_algid(k, &b), CW_E_BADKEY);
    ck_assert_uint_eq(b.len, 0);
    buf_cleanup(&b);
    EVP_PKEY_free(k);
}
END_TEST

/* ==== serials ========================================================== */

static const struct {
    int         line;
    const char *hex;
    enum cw_err err;
    const char *want;   /* hex of the magnitude */
} serial_cases[] = {
    { __LINE__, "01", CW_OK, "01" },
    { __LINE__, "1", CW_OK, "01" },
    { __LINE__, "abc", CW_OK, "0abc" },
    { __LINE__, "00ff", CW_OK, "ff" },
    { __LINE__, "000000000000000000000000000000000000007f", CW_OK, "7f" },
    { __LINE__, "7fffffffffffffffffffffffffffffffffffffff", CW_OK,
      "7fffffffffffffffffffffffffffffffffffffff" },
    { __LINE__, "ffffffffffffffffffffffffffffffffffffffff", CW_OK,
      "ffffffffffffffffffffffffffffffffffffffff" },
    { __LINE__, "DEADBEEF", CW_OK, "deadbeef" },
    { __LINE__, "", CW_E_BADREQ, NULL },
    { __LINE__, "0", CW_E_BADREQ, NULL },
    { __LINE__, "0000", CW_E_BADREQ, NULL },
    { __LINE__, "0x01", CW_E_BADREQ, NULL },
    { __LINE__, "-1", CW_E_BADREQ, NULL },
    { __LINE__, " 01", CW_E_BADREQ, NULL },
    { __LINE__, "01 ", CW_E_BADREQ, NULL },
    { __LINE__, "0g", CW_E_BADREQ, NULL },
    { __LINE__, "01:02", CW_E_BADREQ, NULL },
    { __LINE__, "0ffffffffffffffffffffffffffffffffffffffff", CW_E_BADREQ,
      NULL },
    { __LINE__, "00ffffffffffffffffffffffffffffffffffffffff", CW_E_BADREQ,
      NULL },
};

START_TEST(test_serial_from_hex)
{
    uint8_t out[20];
    size_t  len = 99;
    char    hex[41];

    ck_assert_msg(pki_serial_from_hex(serial_cases[_i].hex, out, &len) ==
                      serial_cases[_i].err,
                  "line %d", serial_cases[_i].line);
    if (serial_cases[_i].err != CW_OK) {
        ck_assert_uint_eq(len, 99);     /* untouched */
        return;
    }
    ck_assert_uint_ge(len, 1);
    ck_assert_uint_le(len, 20);
    hex_of(out, len, hex);
    ck_assert_msg(strcmp(hex, serial_cases[_i].want) == 0, "line %d: %s",
                  serial_cases[_i].line, hex);
}
END_TEST

/* ==== CRLs ============================================================= */

/* No entries: no revokedCertificates at all (5.1.2.6), the extensions
 * right after nextUpdate; for every CA key type. */
START_TEST(test_crl_empty)
{
    struct pki_crl_params p;
    struct buf            der;
    X509_CRL             *crl;
    ASN1_INTEGER         *num;
    AUTHORITY_KEYID      *aki;
    const ASN1_OCTET_STRING *ski;
    int                   crit = -2;
    int                   tags[8];
    size_t                n;

    buf_init(&der, 1u << 20);
    params_init(&p, ca_cert[_i], 42);
    crl_make(&p, ca_key[_i], NULL, 0, &der);
    crl = crl_parse(&der, ca_cert[_i]);

    ck_assert_int_eq(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
    ck_assert_int_eq(X509_CRL_get_signature_nid(crl), ca_sig_nid[_i]);
    ck_assert_int_eq(X509_NAME_cmp(X509_CRL_get_issuer(crl),
                                   X509_get_subject_name(ca_cert[_i])),
                     0);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl),
                                          p.this_update),
                     0);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl),
                                          p.next_update),
                     0);
    ck_assert_ptr_null(X509_CRL_get_REVOKED(crl));     /* absent */

    n = tbs_tags(&der, tags, N_ELEMS(tags));
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(tags[0], V_ASN1_INTEGER);
    ck_assert_int_eq(tags[1], V_ASN1_SEQUENCE);
    ck_assert_int_eq(tags[2], V_ASN1_SEQUENCE);
    ck_assert_int_eq(tags[3], V_ASN1_UTCTIME);
    ck_assert_int_eq(tags[4], V_ASN1_UTCTIME);
    ck_assert_int_eq(tags[5], 0x80);            /* [0] crlExtensions */

    num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
    ck_assert_ptr_nonnull(num);
    ck_assert_int_eq(crit, 0);
    ck_assert_int_eq(ASN1_INTEGER_get(num), 42);
    ASN1_INTEGER_free(num);

    aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit,
                               NULL);
    ck_assert_ptr_nonnull(aki);
    ck_assert_int_eq(crit, 0);
    ski = X509_get0_subject_key_id(ca_cert[_i]);
    ck_assert_ptr_nonnull(ski);
    ck_assert_ptr_nonnull(aki->keyid);
    ck_assert_int_eq(ASN1_OCTET_STRING_cmp(aki->keyid, ski), 0);
    ck_assert_ptr_null(aki->issuer);
    ck_assert_ptr_null(aki->serial);
    AUTHORITY_KEYID_free(aki);

    /* Neither delta nor distribution point extensions. */
    ck_assert_int_lt(X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1), 0);
    ck_assert_int_lt(
        X509_CRL_get_ext_by_NID(crl, NID_issuing_distribution_point, -1), 0);
    ck_assert_int_lt(X509_CRL_get_ext_by_NID(crl, NID_freshest_crl, -1), 0);
    ck_assert_int_eq(X509_CRL_get_ext_count(crl), 2);

    X509_CRL_free(crl);
    buf_cleanup(&der);
}
END_TEST

/* Serials: the INTEGER contents each entry must carry, whatever the
 * magnitude looked like. */
static const uint8_t s_one[] = { 0x01 };
static const uint8_t s_top[] = { 0x80 };
static const uint8_t s_lead0[] = { 0x00, 0x00, 0x7f, 0x01 };
static const uint8_t s_lead0_top[] = { 0x00, 0x90, 0x01 };
static const uint8_t s_20top[20] = { 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa,
                                     0x99, 0x88, 0x77, 0x66, 0x55, 0x44,
                                     0x33, 0x22, 0x11, 0x00, 0x01, 0x02,
                                     0x03, 0x04 };
static const uint8_t s_20[20] = { 0x7f, 0xee, 0xdd, 0xcc, 0xbb, 0xaa,
                                  0x99, 0x88, 0x77, 0x66, 0x55, 0x44,
                                  0x33, 0x22, 0x11, 0x00, 0x01, 0x02,
                                  0x03, 0x04 };
static const uint8_t s_r[11][2] = {
    { 0x10, 0x00 }, { 0x10, 0x01 }, { 0x10, 0x02 }, { 0x10, 0x03 },
    { 0x10, 0x04 }, { 0x10, 0x05 }, { 0x10, 0x06 }, { 0x10, 0x07 },
    { 0x10, 0x08 }, { 0x10, 0x09 }, { 0x10, 0x0a },
};

static const struct {
    int            line;
    const uint8_t *serial;
    size_t         len;
    const char    *int_hex;     /* the INTEGER's DER */
    int            reason;      /* -1, 0..10 but 7 */
    int            y, mo, d;    /* revocationDate (12:34:56) */
    int            iy;          /* invalidityDate year (03-04 05:06:07); 0 */
} entry_cases[] = {
    { __LINE__, s_one, 1, "020101", -1, 2024, 1, 2, 0 },
    { __LINE__, s_top, 1, "02020080", 1, 2024, 1, 2, 2023 },
    { __LINE__, s_lead0, 4, "02027f01", 0, 2025, 6, 7, 0 },
    { __LINE__, s_lead0_top, 3, "0203009001", 4, 2049, 12, 31, 0 },
    { __LINE__, s_20top, 20,
      "021500ffeeddccbbaa99887766554433221100010203" "04", 1, 2050, 1, 1,
      2049 },
    { __LINE__, s_20, 20, "02147feeddccbbaa998877665544332211000102030" "4",
      -1, 2051, 3, 4, 2051 },
    { __LINE__, s_r[0], 2, "02021000", 0, 2024, 3, 1, 0 },
    { __LINE__, s_r[1], 2, "02021001", 1, 2024, 3, 1, 2024 },
    { __LINE__, s_r[2], 2, "02021002", 2, 2024, 3, 1, 0 },
    { __LINE__, s_r[3], 2, "02021003", 3, 2024, 3, 1, 0 },
    { __LINE__, s_r[4], 2, "02021004", 4, 2024, 3, 1, 0 },
    { __LINE__, s_r[5], 2, "02021005", 5, 2024, 3, 1, 0 },
    { __LINE__, s_r[6], 2, "02021006", 6, 2024, 3, 1, 0 },
    { __LINE__, s_r[9], 2, "02021009", 9, 2024, 3, 1, 0 },
    { __LINE__, s_r[10], 2, "0202100a", 10, 2024, 3, 1, 2099 },
    { __LINE__, s_r[8], 2, "02021008", -1, 1950, 1, 1, 1950 },
};

static void
entries_of_cases(struct pki_crl_entry *e)
{
    for (size_t i = 0; i < N_ELEMS(entry_cases); i++) {
        e[i].serial = entry_cases[i].serial;
        e[i].serial_len = entry_cases[i].len;
        e[i].reason = entry_cases[i].reason;
        e[i].revoked_at = utc(entry_cases[i].y, entry_cases[i].mo,
                              entry_cases[i].d, 12, 34, 56);
        e[i].invalidity = entry_cases[i].iy == 0
                              ? 0
                              : utc(entry_cases[i].iy, 3, 4, 5, 6, 7);
    }
}

/* Every entry reads back exactly: serial DER, date and its type, reason,
 * invalidity date; for every CA key type. */
START_TEST(test_crl_entries)
{
    struct pki_crl_entry  e[N_ELEMS(entry_cases)];
    struct pki_crl_params p;
    struct buf            der;
    X509_CRL             *crl;
    int                   tags[8];

    entries_of_cases(e);
    buf_init(&der, 1u << 20);
    params_init(&p, ca_cert[_i], 7);
    crl_make(&p, ca_key[_i], e, N_ELEMS(e), &der);
    crl = crl_parse(&der, ca_cert[_i]);
    ck_assert_int_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)),
                     (int)N_ELEMS(e));
    ck_assert_uint_eq(tbs_tags(&der, tags, N_ELEMS(tags)), 7);
    ck_assert_int_eq(tags[5], V_ASN1_SEQUENCE);     /* revokedCertificates */
    ck_assert_int_eq(tags[6], 0x80);

    for (size_t i = 0; i < N_ELEMS(entry_cases); i++) {
        X509_REVOKED         *rev = NULL;
        ASN1_INTEGER         *want = int_from_mag(e[i].serial,
                                                  e[i].serial_len);
        const ASN1_TIME      *when;
        ASN1_ENUMERATED      *reason;
        ASN1_GENERALIZEDTIME *inval;
        unsigned char        *sder = NULL;
        char                  hex[64];
        int                   crit = -2;
        int                   n;
        int                   line = entry_cases[i].line;

        ck_assert_msg(X509_CRL_get0_by_serial(crl, &rev, want) == 1,
                      "line %d: not found", line);
        n = i2d_ASN1_INTEGER(X509_REVOKED_get0_serialNumber(rev), &sder);
        ck_assert_int_gt(n, 0);
        hex_of(sder, (size_t)n, hex);
        ck_assert_msg(strcmp(hex, entry_cases[i].int_hex) == 0,
                      "line %d: serial %s", line, hex);
        OPENSSL_free(sder);

        when = X509_REVOKED_get0_revocationDate(rev);
        ck_assert_int_eq(ASN1_TIME_cmp_time_t(when, e[i].revoked_at), 0);
        ck_assert_msg(ASN1_STRING_type(when) ==
                          (entry_cases[i].y >= 2050 ? V_ASN1_GENERALIZEDTIME
                                                    : V_ASN1_UTCTIME),
                      "line %d: time type", line);

        reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL);
        if (e[i].reason <= 0) {
            ck_assert_msg(reason == NULL && crit == -1,
                          "line %d: reason present", line);
        } else {
            ck_assert_msg(reason != NULL, "line %d: no reason", line);
            ck_assert_int_eq(crit, 0);
            ck_assert_int_eq(ASN1_ENUMERATED_get(reason), e[i].reason);
        }
        ASN1_ENUMERATED_free(reason);

        inval = X509_REVOKED_get_ext_d2i(rev, NID_invalidity_date, &crit,
                                         NULL);
        if (e[i].invalidity == 0) {
            ck_assert_msg(inval == NULL && crit == -1,
                          "line %d: invalidityDate present", line);
        } else {
            ck_assert_msg(inval != NULL, "line %d: no invalidityDate", line);
            ck_assert_int_eq(crit, 0);
            ck_assert_int_eq(ASN1_STRING_type(inval),
                             V_ASN1_GENERALIZEDTIME);
            ck_assert_int_eq(ASN1_TIME_cmp_time_t(inval, e[i].invalidity),
                             0);
        }
        ASN1_GENERALIZEDTIME_free(inval);
        ck_assert_int_eq(X509_REVOKED_get_ext_count(rev),
                         (e[i].reason > 0) + (e[i].invalidity != 0));
        ASN1_INTEGER_free(want);
    }
    X509_CRL_free(crl);
    buf_cleanup(&der);
}
END_TEST

/* thisUpdate/nextUpdate in 2050 and later are GeneralizedTime; 2049 is
 * the last UTCTime year. */
START_TEST(test_crl_times)
{
    struct pki_crl_params p;
    struct buf            der;
    X509_CRL             *crl;
    int                   tags[8];

    buf_init(&der, 1u << 20);
    params_init(&p, ca_cert[CA_P256], 1);
    p.this_update = utc(2049, 12, 31, 23, 59, 59);
    p.next_update = utc(2050, 1, 1, 0, 0, 0);
    crl_make(&p, ca_key[CA_P256], NULL, 0, &der);
    crl = crl_parse(&der, ca_cert[CA_P256]);
    ck_assert_uint_eq(tbs_tags(&der, tags, N_ELEMS(tags)), 6);
    ck_assert_int_eq(tags[3], V_ASN1_UTCTIME);
    ck_assert_int_eq(tags[4], V_ASN1_GENERALIZEDTIME);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl),
                                          p.this_update),
                     0);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl),
                                          p.next_update),
                     0);
    /* The exact text: seconds and Z, no fractions. */
    ck_assert_str_eq(
        (const char *)ASN1_STRING_get0_data(X509_CRL_get0_lastUpdate(crl)),
        "491231235959Z");
    ck_assert_str_eq(
        (const char *)ASN1_STRING_get0_data(X509_CRL_get0_nextUpdate(crl)),
        "20500101000000Z");
    X509_CRL_free(crl);
    buf_cleanup(&der);
}
END_TEST

/* A CA without subjectKeyIdentifier: the AKI is the SHA-1 of its key. */
START_TEST(test_crl_aki_without_ski)
{
    struct pki_crl_params p;
    struct buf            der;
    X509_CRL             *crl;
    AUTHORITY_KEYID      *aki;
    uint8_t               id[PKI_KEYID_LEN];

    ck_assert_ptr_null(X509_get0_subject_key_id(ca_noski));
    buf_init(&der, 1u << 20);
    params_init(&p, ca_noski, 3);
    crl_make(&p, ca_key[CA_P256], NULL, 0, &der);
    crl = crl_parse(&der, ca_noski);
    aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL,
                               NULL);
    ck_assert_ptr_nonnull(aki);
    ck_assert_int_eq(pki_key_id(X509_get0_pubkey(ca_noski), id), CW_OK);
    ck_assert_int_eq(ASN1_STRING_length(aki->keyid), PKI_KEYID_LEN);
    ck_assert_mem_eq(ASN1_STRING_get0_data(aki->keyid), id, PKI_KEYID_LEN);
    AUTHORITY_KEYID_free(aki);
    X509_CRL_free(crl);
    buf_cleanup(&der);
}
END_TEST

static void
check_dp_uri(DIST_POINT_NAME *dpn, const char *url)
{
    GENERAL_NAME *gn;

    ck_assert_ptr_nonnull(dpn);
    ck_assert_int_eq(dpn->type, 0);     /* fullName */
    ck_assert_int_eq(sk_GENERAL_NAME_num(dpn->name.fullname), 1);
    gn = sk_GENERAL_NAME_value(dpn->name.fullname, 0);
    ck_assert_int_eq(gn->type, GEN_URI);
    ck_assert_int_eq(ASN1_STRING_length(gn->d.uniformResourceIdentifier),
                     (int)strlen(url));
    ck_assert_mem_eq(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
                     url, strlen(url));
}

/* A base CRL with IDP and freshestCRL, and its delta with
 * deltaCRLIndicator, the same IDP and a removeFromCRL entry. */
START_TEST(test_crl_delta_idp)
{
    static const uint8_t  s1[] = { 0x11 };
    static const uint8_t  s2[] = { 0x22 };
    struct pki_crl_entry  e[2];
    struct pki_crl_params p;
    struct buf            der;
    X509_CRL             *crl;
    ISSUING_DIST_POINT   *idp;
    CRL_DIST_POINTS      *fresh;
    ASN1_INTEGER         *base;
    X509_REVOKED         *rev = NULL;
    ASN1_INTEGER         *ai;
    int                   crit = -2;

    memset(e, 0, sizeof(e));
    e[0].serial = s1;
    e[0].serial_len = 1;
    e[0].revoked_at = time(NULL) - 60;
    e[0].reason = PKI_CRL_REASON_CERTIFICATE_HOLD;
    e[1] = e[0];
    e[1].serial = s2;
    e[1].reason = PKI_CRL_REASON_REMOVE_FROM_CRL;

    /* base */
    buf_init(&der, 1u << 20);
    params_init(&p, ca_cert[CA_ED25519], 10);
    p.idp_url = IDP_URL;
    p.freshest_url = FRESHEST_URL;
    crl_make(&p, ca_key[CA_ED25519], e, 1, &der);
    crl = crl_parse(&der, ca_cert[CA_ED25519]);
    idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit,
                               NULL);
    ck_assert_ptr_nonnull(idp);
    ck_assert_int_eq(crit, 1);
    check_dp_uri(idp->distpoint, IDP_URL);
    ck_assert_int_eq(idp->onlyuser, 0);
    ck_assert_int_eq(idp->onlyCA, 0);
    ck_assert_int_eq(idp->onlyattr, 0);
    ck_assert_int_eq(idp->indirectCRL, 0);
    ck_assert_ptr_null(idp->onlysomereasons);
    ISSUING_DIST_POINT_free(idp);
    fresh = X509_CRL_get_ext_d2i(crl, NID_freshest_crl, &crit, NULL);
    ck_assert_ptr_nonnull(fresh);
    ck_assert_int_eq(crit, 0);
    ck_assert_int_eq(sk_DIST_POINT_num(fresh), 1);
    check_dp_uri(sk_DIST_POINT_value(fresh, 0)->distpoint, FRESHEST_URL);
    ck_assert_ptr_null(sk_DIST_POINT_value(fresh, 0)->reasons);
    ck_assert_ptr_null(sk_DIST_POINT_value(fresh, 0)->CRLissuer);
    CRL_DIST_POINTS_free(fresh);
    ck_assert_int_lt(X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1), 0);
    /* OpenSSL understood every critical extension. */
    ck_assert_int_eq(X509_CRL_get_ext_count(crl), 4);
    X509_CRL_free(crl);

    /* delta */
    buf_reset(&der);
    params_init(&p, ca_cert[CA_ED25519], 11);
    p.delta_base = 10;
    p.idp_url = IDP_URL;
    crl_make(&p, ca_key[CA_ED25519], e, 2, &der);
    crl = crl_parse(&der, ca_cert[CA_ED25519]);
    base = X509_CRL_get_ext_d2i(crl, NID_delta_crl, &crit, NULL);
    ck_assert_ptr_nonnull(base);
    ck_assert_int_eq(crit, 1);
    ck_assert_int_eq(ASN1_INTEGER_get(base), 10);
    ASN1_INTEGER_free(base);
    ck_assert_int_lt(X509_CRL_get_ext_by_NID(crl, NID_freshest_crl, -1), 0);
    ai = int_from_mag(s2, 1);
    /* 2: found, and it is a removeFromCRL entry */
    ck_assert_int_eq(X509_CRL_get0_by_serial(crl, &rev, ai), 2);
    ASN1_INTEGER_free(ai);
    X509_CRL_free(crl);
    buf_cleanup(&der);
}
END_TEST

/* The extnValue of extension nid, as hex. */
static void
ext_value_hex(X509_CRL *crl, int nid, char *hex)
{
    int                      loc = X509_CRL_get_ext_by_NID(crl, nid, -1);
    const ASN1_OCTET_STRING *v;

    ck_assert_int_ge(loc, 0);
    v = X509_EXTENSION_get_data(X509_CRL_get_ext(crl, loc));
    ck_assert_int_lt(ASN1_STRING_length(v), 32);
    hex_of(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), hex);
}

/* cRLNumber and BaseCRLNumber INTEGERs, exactly: 0 is one octet, a set
 * top bit gets a 0x00. */
START_TEST(test_crl_numbers)
{
    static const struct {
        int         line;
        uint64_t    number;
        uint64_t    base;
        const char *num_der;
        const char *base_der;
    } cases[] = {
        { __LINE__, 0, 0, "020100", NULL },
        { __LINE__, 127, 0, "02017f", NULL },
        { __LINE__, 128, 127, "02020080", "02017f" },
        { __LINE__, 256, 255, "02020100", "020200ff" },
        { __LINE__, UINT64_MAX, UINT64_MAX - 1, "020900ffffffffffffffff",
          "020900fffffffffffffffe" },
        { __LINE__, (UINT64_C(1) << 63) + 1, 1, "0209008000000000000001",
          "020101" },
    };

    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct pki_crl_params p;
        struct buf            der;
        X509_CRL             *crl;
        char                  hex[64];

        buf_init(&der, 1u << 20);
        params_init(&p, ca_cert[CA_P256], cases[i].number);
        p.delta_base = cases[i].base;
        crl_make(&p, ca_key[CA_P256], NULL, 0, &der);
        crl = crl_parse(&der, ca_cert[CA_P256]);
        ext_value_hex(crl, NID_crl_number, hex);
        ck_assert_msg(strcmp(hex, cases[i].num_der) == 0, "line %d: %s",
                      cases[i].line, hex);
        if (cases[i].base_der != NULL) {
            ext_value_hex(crl, NID_delta_crl, hex);
            ck_assert_msg(strcmp(hex, cases[i].base_der) == 0,
                          "line %d: %s", cases[i].line, hex);
        } else {
            ck_assert_int_lt(X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1),
                             0);
        }
        X509_CRL_free(crl);
        buf_cleanup(&der);
    }
}
END_TEST

/* X509_verify_cert with CRL checking: the listed leaf is revoked, the
 * other is fine; with deltas on, a leaf listed only in the delta is
 * revoked too. The leaves carry a CDP equal to the IDP, as OpenSSL
 * matches the two. */
START_TEST(test_crl_store_verify)
{
    X509                 *ca = ca_cert[CA_P256];
    EVP_PKEY             *k = ca_key[CA_P256];
    X509                 *leaf[3];
    struct pki_crl_entry  e;
    struct pki_crl_params p;
    struct buf            base_der;
    struct buf            delta_der;
    X509_CRL             *base;
    X509_CRL             *delta;
    uint8_t               serial[3][PKI_SERIAL_LEN];
    static const struct {
        int           line;
        int           leaf;
        unsigned long flags;
        int           with_delta;
        int           want;
    } cases[] = {
        { __LINE__, 0, X509_V_FLAG_CRL_CHECK, 0, X509_V_ERR_CERT_REVOKED },
        { __LINE__, 1, X509_V_FLAG_CRL_CHECK, 0, X509_V_OK },
        { __LINE__, 2, X509_V_FLAG_CRL_CHECK, 0, X509_V_OK },
        { __LINE__, 2, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_USE_DELTAS, 1,
          X509_V_ERR_CERT_REVOKED },
        { __LINE__, 0, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_USE_DELTAS, 1,
          X509_V_ERR_CERT_REVOKED },
        { __LINE__, 1, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_USE_DELTAS, 1,
          X509_V_OK },
    };

    for (int i = 0; i < 3; i++) {
        const ASN1_INTEGER *sn;
        BIGNUM             *bn;

        leaf[i] = make_cert(ca_key[CA_RSA], "leaf.example.com", ca, k, 0,
                            IDP_URL, 0);
        sn = X509_get0_serialNumber(leaf[i]);
        bn = ASN1_INTEGER_to_BN(sn, NULL);
        ck_assert_int_eq(BN_bn2binpad(bn, serial[i], PKI_SERIAL_LEN),
                         PKI_SERIAL_LEN);
        BN_free(bn);
    }
    memset(&e, 0, sizeof(e));
    e.serial_len = PKI_SERIAL_LEN;
    e.revoked_at = time(NULL) - 120;
    e.reason = PKI_CRL_REASON_KEY_COMPROMISE;

    buf_init(&base_der, 1u << 20);
    params_init(&p, ca, 100);
    p.idp_url = IDP_URL;
    p.freshest_url = FRESHEST_URL;
    e.serial = serial[0];
    crl_make(&p, k, &e, 1, &base_der);
    base = crl_parse(&base_der, ca);

    buf_init(&delta_der, 1u << 20);
    params_init(&p, ca, 101);
    p.delta_base = 100;
    p.idp_url = IDP_URL;
    e.serial = serial[2];
    crl_make(&p, k, &e, 1, &delta_der);
    delta = crl_parse(&delta_der, ca);

    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        X509_STORE     *store = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        int             r;

        ck_assert_int_eq(X509_STORE_add_cert(store, ca), 1);
        ck_assert_int_eq(X509_STORE_add_crl(store, base), 1);
        if (cases[i].with_delta)
            ck_assert_int_eq(X509_STORE_add_crl(store, delta), 1);
        X509_STORE_set_flags(store, cases[i].flags | X509_V_FLAG_X509_STRICT);
        ck_assert_int_eq(X509_STORE_CTX_init(ctx, store, leaf[cases[i].leaf],
                                             NULL),
                         1);
        r = X509_verify_cert(ctx) == 1 ? X509_V_OK
                                       : X509_STORE_CTX_get_error(ctx);
        ck_assert_msg(r == cases[i].want, "line %d: %s", cases[i].line,
                      X509_verify_cert_error_string(r));
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(store);
        ERR_clear_error();
    }
    for (int i = 0; i < 3; i++)
        X509_free(leaf[i]);
    X509_CRL_free(base);
    X509_CRL_free(delta);
    buf_cleanup(&base_der);
    buf_cleanup(&delta_der);
}
END_TEST

static int
run(const char *cmd)
{
    int st = system(cmd);

    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Other implementations read what we wrote: openssl crl and verify,
 * certtool, and python3-cryptography (rust-asn1: strict DER). */
START_TEST(test_crl_external)
{
    static const char py[] =
        "import sys\n"
        "from cryptography import x509\n"
        "crl = x509.load_der_x509_crl(open(sys.argv[1], 'rb').read())\n"
        "ca = x509.load_pem_x509_certificate(open(sys.argv[2], 'rb').read())\n"
        "assert crl.is_signature_valid(ca.public_key())\n"
        "n = 0\n"
        "for r in crl:\n"
        "    for e in r.extensions: pass\n"
        "    n += 1\n"
        "assert n == int(sys.argv[3]), n\n"
        "names = sorted(e.oid.dotted_string for e in crl.extensions)\n"
        "print(' '.join(names))\n";
    struct pki_crl_entry  e[N_ELEMS(entry_cases) + 1];
    struct pki_crl_params p;
    struct buf            der;
    X509_CRL             *crl;
    X509                 *leaf;
    char                  crl_path[256];
    char                  crl_pem[256];
    char                  ca_path[256];
    char                  leaf_path[256];
    char                  py_path[256];
    char                  cmd[1600];
    BIGNUM               *bn;
    uint8_t               lserial[PKI_SERIAL_LEN];

    for (int k = 0; k < CA__MAX; k++) {
        leaf = make_cert(ca_key[CA_P256], "ext.example.com", ca_cert[k],
                         ca_key[k], 0, IDP_URL, 0);
        bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
        ck_assert_int_eq(BN_bn2binpad(bn, lserial, PKI_SERIAL_LEN),
                         PKI_SERIAL_LEN);
        BN_free(bn);
        entries_of_cases(e);
        e[N_ELEMS(entry_cases)] = e[0];
        e[N_ELEMS(entry_cases)].serial = lserial;
        e[N_ELEMS(entry_cases)].serial_len = PKI_SERIAL_LEN;

        buf_init(&der, 1u << 20);
        params_init(&p, ca_cert[k], 5000 + (uint64_t)k);
        p.idp_url = IDP_URL;
        p.freshest_url = FRESHEST_URL;
        crl_make(&p, ca_key[k], e, N_ELEMS(e), &der);
        crl = crl_parse(&der, ca_cert[k]);
        write_file("crl.der", der.p, der.len, crl_path, sizeof(crl_path));
        write_pem("crl.pem", NULL, crl, crl_pem, sizeof(crl_pem));
        write_pem("ca.pem", ca_cert[k], NULL, ca_path, sizeof(ca_path));
        write_pem("leaf.pem", leaf, NULL, leaf_path, sizeof(leaf_path));

        snprintf(cmd, sizeof(cmd),
                 "openssl crl -inform DER -in '%s' -CAfile '%s' -noout "
                 ">/dev/null 2>&1",
                 crl_path, ca_path);
        ck_assert_msg(run(cmd) == 0, "openssl crl, CA %d", k);
        /* openssl verify: revoked (exit 2) with the CRL, fine without. */
        snprintf(cmd, sizeof(cmd),
                 "openssl verify -crl_check -CAfile '%s' -CRLfile '%s' '%s' "
                 "2>&1 | grep -q 'certificate revoked'",
                 ca_path, crl_pem, leaf_path);
        ck_assert_msg(run(cmd) == 0, "openssl verify, CA %d", k);
        snprintf(cmd, sizeof(cmd),
                 "openssl verify -CAfile '%s' '%s' >/dev/null 2>&1", ca_path,
                 leaf_path);
        ck_assert_msg(run(cmd) == 0, "openssl verify without CRL, CA %d", k);

        if (run("certtool --version >/dev/null 2>&1") == 0) {
            snprintf(cmd, sizeof(cmd),
                     "certtool --crl-info --inder --infile '%s' "
                     ">/dev/null 2>&1 && "
                     "certtool --verify-crl --load-ca-certificate '%s' "
                     "--infile '%s' >/dev/null 2>&1",
                     crl_path, ca_path, crl_pem);
            ck_assert_msg(run(cmd) == 0, "certtool, CA %d", k);
        }
        if (run("python3 -c 'import cryptography' >/dev/null 2>&1") == 0) {
            write_file("check.py", py, sizeof(py) - 1, py_path,
                       sizeof(py_path));
            /* AKI, cRLNumber, IDP, freshestCRL */
            snprintf(cmd, sizeof(cmd),
                     "python3 '%s' '%s' '%s' %zu 2>&1 | grep -qx "
                     "'2.5.29.20 2.5.29.28 2.5.29.35 2.5.29.46'",
                     py_path, crl_path, ca_path, N_ELEMS(e));
            ck_assert_msg(run(cmd) == 0, "python3-cryptography, CA %d", k);
        }
        X509_CRL_free(crl);
        X509_free(leaf);
        buf_cleanup(&der);
    }
}
END_TEST

/* ==== refusals ========================================================= */

START_TEST(test_crl_params_refused)
{
    struct pki_crl_params p;
    struct pki_crl       *c = NULL;

    params_init(&p, ca_cert[CA_P256], 5);
    p.next_update = p.this_update;
    ck_assert_int_eq(pki_crl_begin(&p, &c), CW_E_BADREQ);

    params_init(&p, ca_cert[CA_P256], 5);
    p.delta_base = 5;
    ck_assert_int_eq(pki_crl_begin(&p, &c), CW_E_BADREQ);

    params_init(&p, ca_cert[CA_P256], 5);
    p.delta_base = 4;
    p.freshest_url = FRESHEST_URL;
    ck_assert_int_eq(pki_crl_begin(&p, &c), CW_E_BADREQ);

    params_init(&p, ca_cert[CA_P256], 5);
    p.idp_url = "http://pki.example.com/a crl";
    ck_assert_int_eq(pki_crl_begin(&p, &c), CW_E_BADREQ);

    params_init(&p, ca_cert[CA_P256], 5);
    p.freshest_url = "no-scheme";
    ck_assert_int_eq(pki_crl_begin(&p, &c), CW_E_BADREQ);

    params_init(&p, ca_cert[CA_P256], 5);
    p.this_update = utc(1949, 12, 31, 23, 59, 59);
    ck_assert_int_eq(pki_crl_begin(&p, &c), CW_E_BADREQ);

    params_init(&p, ca_cert[CA_P256], 5);
    p.next_update = utc(9999, 12, 31, 23, 59, 59) + 1;
    ck_assert_int_eq(pki_crl_begin(&p, &c), CW_E_BADREQ);

    params_init(&p, ca_nocrlsign, 5);
    ck_assert_int_eq(pki_crl_begin(&p, &c), CW_E_POLICY);
    ck_assert_ptr_null(c);

    /* The limits themselves are fine. */
    params_init(&p, ca_cert[CA_P256], 5);
    p.this_update = utc(1950, 1, 1, 0, 0, 0);
    p.next_update = utc(9999, 12, 31, 23, 59, 59);
    ck_assert_int_eq(pki_crl_begin(&p, &c), CW_OK);
    pki_crl_free(c);
    pki_crl_free(NULL);
}
END_TEST

START_TEST(test_crl_entries_refused)
{
    static const uint8_t  zero[] = { 0x00, 0x00 };
    static const uint8_t  s21[21] = { 0x01 };
    static const uint8_t  one[] = { 0x01 };
    struct pki_crl_params p;
    struct pki_crl       *c = NULL;
    struct pki_crl_entry  e;
    struct pki_crl_entry  ok;
    const uint8_t        *tbs;
    size_t                len;
    static const int      bad_reasons[] = { -2, 7, 11, 100, INT32_MIN };

    params_init(&p, ca_cert[CA_P256], 5);
    ck_assert_int_eq(pki_crl_begin(&p, &c), CW_OK);
    memset(&ok, 0, sizeof(ok));
    ok.serial = one;
    ok.serial_len = 1;
    ok.revoked_at = time(NULL);
    ok.reason = -1;

    e = ok;
    e.serial_len = 0;
    ck_assert_int_eq(pki_crl_add(c, &e), CW_E_BADREQ);
    e = ok;
    e.serial = s21;
    e.serial_len = sizeof(s21);
    ck_assert_int_eq(pki_crl_add(c, &e), CW_E_BADREQ);
    e = ok;
    e.serial = NULL;
    ck_assert_int_eq(pki_crl_add(c, &e), CW_E_BADREQ);
    e = ok;
    e.serial = zero;
    e.serial_len = sizeof(zero);
    ck_assert_int_eq(pki_crl_add(c, &e), CW_E_BADREQ);
    for (size_t i = 0; i < N_ELEMS(bad_reasons); i++) {
        e = ok;
        e.reason = bad_reasons[i];
        ck_assert_int_eq(pki_crl_add(c, &e), CW_E_BADREQ);
    }
    e = ok;     /* removeFromCRL belongs in delta CRLs */
    e.reason = PKI_CRL_REASON_REMOVE_FROM_CRL;
    ck_assert_int_eq(pki_crl_add(c, &e), CW_E_BADREQ);
    e = ok;
    e.revoked_at = utc(1949, 1, 1, 0, 0, 0);
    ck_assert_int_eq(pki_crl_add(c, &e), CW_E_BADREQ);
    e = ok;
    e.invalidity = utc(10000, 1, 1, 0, 0, 0);
    ck_assert_int_eq(pki_crl_add(c, &e), CW_E_BADREQ);
    ck_assert_uint_eq(pki_crl_count(c), 0);

    ck_assert_int_eq(pki_crl_add(c, &ok), CW_OK);
    ck_assert_int_eq(pki_crl_tbs(c, &tbs, &len), CW_OK);
    /* Built: no more entries; the TBS stays the same. */
    ck_assert_int_eq(pki_crl_add(c, &ok), CW_E_INTERNAL);
    {
        const uint8_t *tbs2;
        size_t         len2;

        ck_assert_int_eq(pki_crl_tbs(c, &tbs2, &len2), CW_OK);
        ck_assert_ptr_eq(tbs, tbs2);
        ck_assert_uint_eq(len, len2);
    }
    pki_crl_free(c);
}
END_TEST

/* A signature by another key, or a broken one, is not wrapped. */
START_TEST(test_crl_bad_signature)
{
    struct pki_crl_params p;
    struct pki_crl       *c = NULL;
    const uint8_t        *tbs;
    size_t                len;
    struct buf            sig;
    struct buf            der;

    buf_init(&sig, 1024);
    buf_init(&der, 1u << 20);
    params_init(&p, ca_cert[CA_P256], 5);
    ck_assert_int_eq(pki_crl_begin(&p, &c), CW_OK);
    ck_assert_int_eq(pki_crl_tbs(c, &tbs, &len), CW_OK);
    ck_assert_int_eq(pki_sign_bytes(ca_key[CA_P384], tbs, len, &sig), CW_OK);
    ck_assert_int_eq(pki_crl_finish(c, sig.p, sig.len, &der), CW_E_CRYPTO);
    buf_reset(&sig);
    ck_assert_int_eq(pki_sign_bytes(ca_key[CA_P256], tbs, len, &sig), CW_OK);
    sig.p[sig.len / 2] ^= 0x01;
    ck_assert_int_eq(pki_crl_finish(c, sig.p, sig.len, &der), CW_E_CRYPTO);
    ck_assert_uint_eq(der.len, 0);
    sig.p[sig.len / 2] ^= 0x01;
    ck_assert_int_eq(pki_crl_finish(c, sig.p, sig.len, &der), CW_OK);
    ck_assert_uint_gt(der.len, len);
    pki_crl_free(c);
    buf_cleanup(&sig);
    buf_cleanup(&der);
}
END_TEST

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 200,000 entries of 20-octet serials with reasons and invalidity dates:
 * built, signed and wrapped in well under the budget; OpenSSL reads the
 * result and finds an entry from the middle. */
START_TEST(test_crl_large)
{
    enum { N = 200000 };
    struct pki_crl_params p;
    struct pki_crl       *c = NULL;
    struct pki_crl_entry  e;
    uint8_t               serial[PKI_SERIAL_LEN];
    const uint8_t        *tbs;
    size_t                len;
    struct buf            sig;
    struct buf            der;
    X509_CRL             *crl;
    X509_REVOKED         *rev = NULL;
    ASN1_INTEGER         *ai;
    double                t0;
    double                dt;
    time_t                now = time(NULL);

    buf_init(&sig, 1024);
    buf_init(&der, 64u * 1024 * 1024);
    memset(&e, 0, sizeof(e));
    memset(serial, 0xa5, sizeof(serial));
    e.serial = serial;
    e.serial_len = sizeof(serial);

    t0 = now_s();
    params_init(&p, ca_cert[CA_P256], 77);
    p.idp_url = IDP_URL;
    ck_assert_int_eq(pki_crl_begin(&p, &c), CW_OK);
    for (uint32_t i = 0; i < N; i++) {
        serial[16] = (uint8_t)(i >> 24);
        serial[17] = (uint8_t)(i >> 16);
        serial[18] = (uint8_t)(i >> 8);
        serial[19] = (uint8_t)i;
        e.revoked_at = now - (time_t)i;
        e.reason = (int)(i % 4) + 1;
        e.invalidity = i % 3 == 0 ? now - (time_t)i - 86400 : 0;
        /* Not ck_assert: check records every passed assertion through
         * its pipe, which would cost more than the encoding. */
        if (pki_crl_add(c, &e) != CW_OK)
            ck_abort_msg("entry %u refused", (unsigned)i);
    }
    ck_assert_int_eq(pki_crl_tbs(c, &tbs, &len), CW_OK);
    ck_assert_int_eq(pki_sign_bytes(ca_key[CA_P256], tbs, len, &sig), CW_OK);
    ck_assert_int_eq(pki_crl_finish(c, sig.p, sig.len, &der), CW_OK);
    dt = now_s() - t0;
    pki_crl_free(c);
    /* About 0.07 s here, 0.1 s with ASan: the budget catches a quadratic
     * regression, not a slow machine. */
    if (!RUNNING_ON_VALGRIND)
        ck_assert_msg(dt < 2.0, "200,000 entries took %.2f s", dt);

    crl = crl_parse(&der, ca_cert[CA_P256]);
    ck_assert_int_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), N);
    serial[16] = 0;
    serial[17] = (uint8_t)(N / 2 >> 16);
    serial[18] = (uint8_t)(N / 2 >> 8);
    serial[19] = (uint8_t)(N / 2);
    ai = int_from_mag(serial, sizeof(serial));
    ck_assert_int_eq(X509_CRL_get0_by_serial(crl, &rev, ai), 1);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(
                                              rev),
                                          now - N / 2),
                     0);
    ASN1_INTEGER_free(ai);
    X509_CRL_free(crl);
    buf_cleanup(&sig);
    buf_cleanup(&der);
}
END_TEST

/* The cap: LIM_CRL_ENTRIES entries fit, one more does not. Small entries
 * (20 octets) keep this near 100 MB. */
START_TEST(test_crl_cap)
{
    static const uint8_t  one[] = { 0x01 };
    struct pki_crl_params p;
    struct pki_crl       *c = NULL;
    struct pki_crl_entry  e;

    memset(&e, 0, sizeof(e));
    e.serial = one;
    e.serial_len = 1;
    e.revoked_at = time(NULL);
    e.reason = -1;
    params_init(&p, ca_cert[CA_P256], 1);
    ck_assert_int_eq(pki_crl_begin(&p, &c), CW_OK);
    for (size_t i = 0; i < LIM_CRL_ENTRIES; i++) {
        if (pki_crl_add(c, &e) != CW_OK)
            ck_abort_msg("entry %zu refused", i);
    }
    ck_assert_int_eq(pki_crl_add(c, &e), CW_E_TOOLARGE);
    ck_assert_uint_eq(pki_crl_count(c), LIM_CRL_ENTRIES);
    pki_crl_free(c);
}
END_TEST

/* ==== suite ============================================================ */

/* The CA certificates are built by the code under test, so in an
 * unchecked fixture (once, in the runner, before the tests fork) where a
 * failure is reported like a test's. */
static void
make_cas(void)
{
    if (ca_cert[0] != NULL)
        return;
    for (int k = 0; k < CA__MAX; k++)
        ca_cert[k] = make_cert(ca_key[k], "certward CRL test CA", NULL,
                               ca_key[k], 0, NULL, 0);
    ca_noski = make_cert(ca_key[CA_P256], "certward CRL test CA", NULL,
                         ca_key[CA_P256], 0, NULL, 1);
    ca_nocrlsign = make_cert(ca_key[CA_P256], "certward CRL test CA", NULL,
                             ca_key[CA_P256],
                             PKI_KU(PKI_KU_KEY_CERT_SIGN) |
                                 PKI_KU(PKI_KU_DIGITAL_SIGNATURE),
                             NULL, 0);
}

static Suite *
crl_suite(void)
{
    Suite *s = suite_create("crl");
    TCase *tc;

    tc = tcase_create("sign");
    tcase_set_timeout(tc, 60);
    LOOP(tc, test_sign_bytes_and_algid, algid_cases);
    tcase_add_test(tc, test_sign_bytes_refused_key);
    suite_add_tcase(s, tc);

    tc = tcase_create("serial");
    LOOP(tc, test_serial_from_hex, serial_cases);
    suite_add_tcase(s, tc);

    tc = tcase_create("crl");
    tcase_add_unchecked_fixture(tc, make_cas, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_crl_empty, 0, CA__MAX);
    tcase_add_loop_test(tc, test_crl_entries, 0, CA__MAX);
    tcase_add_test(tc, test_crl_times);
    tcase_add_test(tc, test_crl_aki_without_ski);
    tcase_add_test(tc, test_crl_delta_idp);
    tcase_add_test(tc, test_crl_numbers);
    tcase_add_test(tc, test_crl_store_verify);
    tcase_add_test(tc, test_crl_external);
    tcase_add_test(tc, test_crl_params_refused);
    tcase_add_test(tc, test_crl_entries_refused);
    tcase_add_test(tc, test_crl_bad_signature);
    suite_add_tcase(s, tc);

    tc = tcase_create("large");
    tcase_add_unchecked_fixture(tc, make_cas, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_crl_large);
    tcase_add_test(tc, test_crl_cap);
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
        if (pki_key_generate(ca_key_type[k], &ca_key[k]) != CW_OK) {
            fprintf(stderr, "cannot generate a CA key\n");
            return EXIT_FAILURE;
        }
    }
    snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/certward-crl-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    sr = srunner_create(crl_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    for (int k = 0; k < CA__MAX; k++) {
        X509_free(ca_cert[k]);
        EVP_PKEY_free(ca_key[k]);
    }
    X509_free(ca_noski);
    X509_free(ca_nocrlsign);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

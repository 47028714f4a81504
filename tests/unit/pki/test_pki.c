/*
 * test_pki.c: unit tests for backend/pki: keys, names, SANs, CSRs,
 * certificates, building and signing, name constraints, PKCS#12 and P7B.
 * Table-driven: every row carries __LINE__ so a failure names its row.
 * Certificates made here are also written to a temporary directory and
 * verified by `openssl verify` and GnuTLS `certtool`, so that what we
 * build is checked by implementations other than the one that built it.
 */
#include "config.h"

#include <limits.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cw_limits.h"
#include "pki/build.h"
#include "pki/cert.h"
#include "pki/csr.h"
#include "pki/key.h"
#include "pki/name.h"
#include "pki/p12.h"
#include "pki/san.h"
#include "pki/sign.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sp.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define LOOP(tc, t, arr) tcase_add_loop_test(tc, t, 0, (int)N_ELEMS(arr))

/* Keys are generated once, before the tests fork, and shared read-only. */
static EVP_PKEY *keys[PKI_KEY__MAX];
static EVP_PKEY *rsa1024;       /* below the minimum                  */
static EVP_PKEY *k256k1;        /* an unsupported curve               */
static char      tmpdir[64];
static int       have_certtool;

/* ==== helpers ========================================================== */

static json_t *
J(const char *text)
{
    json_error_t e;
    json_t      *v = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                                &e);

    ck_assert_msg(v != NULL, "bad test JSON %s: %s", text, e.text);
    return v;
}

static int
json_eq_text(const json_t *v, const char *text)
{
    json_t *want = J(text);
    int     eq = json_equal(v, want);

    json_decref(want);
    return eq;
}

static char *
dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
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
write_cert(const char *name, X509 *cert, char *path, size_t n)
{
    struct buf b;

    buf_init(&b, LIM_CERT_PEM);
    ck_assert_int_eq(pki_cert_to_pem(cert, &b), CW_OK);
    write_file(name, b.p, b.len, path, n);
    buf_cleanup(&b);
}

/* Run a shell command; returns its exit status. Output goes to out
 * (may be NULL) as text. */
static int
run(const char *cmd, struct buf *out)
{
    FILE  *f;
    char   chunk[4096];
    size_t n;
    int    st;

    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (out != NULL)
            ck_assert_int_eq(buf_append(out, chunk, n), CW_OK);
    }
    st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static X509_NAME *
name_of(const char *json)
{
    json_t    *o = J(json);
    X509_NAME *n = NULL;

    ck_assert_int_eq(pki_name_from_json(o, &n, NULL), CW_OK);
    json_decref(o);
    return n;
}

static GENERAL_NAMES *
sans_of(const char *json)
{
    json_t        *a = J(json);
    GENERAL_NAMES *g = NULL;

    ck_assert_int_eq(pki_san_from_json(a, &g, NULL), CW_OK);
    json_decref(a);
    return g;
}

/* A spec with a fresh serial and a validity of days from an hour ago. */
static void
spec_base(struct pki_cert_spec *s, EVP_PKEY *pub, const X509_NAME *subj,
          long days)
{
    time_t now = time(NULL);

    pki_build_spec_init(s);
    s->subject = subj;
    s->pubkey = pub;
    ck_assert_int_eq(pki_serial_random(s->serial), CW_OK);
    s->serial_len = PKI_SERIAL_LEN;
    s->not_before = now - 3600;
    s->not_after = now + days * 86400;
}

/* A self-signed root for key with the given CN. */
static X509 *
make_root(EVP_PKEY *key, const char *cn, int path_len,
          const struct pki_nc_entry *perm, size_t nperm,
          const struct pki_nc_entry *excl, size_t nexcl)
{
    struct pki_cert_spec s;
    char                 json[256];
    X509_NAME           *subj;
    X509                *x = NULL;

    snprintf(json, sizeof(json),
             "{\"CN\": \"%s\", \"O\": \"certward tests\", \"C\": \"DE\"}",
             cn);
    subj = name_of(json);
    spec_base(&s, key, subj, 3650);
    s.is_ca = 1;
    s.path_len = path_len;
    s.crl_url = "http://pki.example.com/cdp/root.crl";
    s.nc_permitted = perm;
    s.n_permitted = nperm;
    s.nc_excluded = excl;
    s.n_excluded = nexcl;
    ck_assert_int_eq(pki_build_cert(&s, &x), CW_OK);
    ck_assert_int_eq(pki_cert_sign(x, key), CW_OK);
    X509_NAME_free(subj);
    return x;
}

/* A leaf for pub issued by (issuer, ikey). */
static X509 *
make_leaf(EVP_PKEY *pub, X509 *issuer, EVP_PKEY *ikey, const char *subj_json,
          const char *sans_json, long days)
{
    static const char *const eku[] = { "serverAuth", "clientAuth" };
    struct pki_cert_spec     s;
    X509_NAME               *subj = name_of(subj_json);
    GENERAL_NAMES           *sans = sans_json ? sans_of(sans_json) : NULL;
    X509                    *x = NULL;

    spec_base(&s, pub, subj, days);
    s.sans = sans;
    s.eku = eku;
    s.n_eku = 2;
    s.issuer = issuer;
    s.crl_url = "http://pki.example.com/cdp/test.crl";
    s.ocsp_url = "http://pki.example.com/ocsp";
    s.ca_issuers_url = "http://pki.example.com/ca/test.cer";
    ck_assert_int_eq(pki_build_cert(&s, &x), CW_OK);
    ck_assert_int_eq(pki_cert_sign(x, ikey), CW_OK);
    X509_NAME_free(subj);
    GENERAL_NAMES_free(sans);
    return x;
}

/* X509_verify_cert of leaf against the trust anchor root with the
 * intermediates untrusted. Returns the verify error (X509_V_OK). */
static int
verify(X509 *leaf, X509 *root, STACK_OF(X509) *untrusted)
{
    X509_STORE     *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int             r;

    ck_assert_ptr_nonnull(store);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(X509_STORE_add_cert(store, root), 1);
    X509_STORE_set_flags(store, X509_V_FLAG_X509_STRICT);
    ck_assert_int_eq(X509_STORE_CTX_init(ctx, store, leaf, untrusted), 1);
    r = X509_verify_cert(ctx) == 1 ? X509_V_OK
                                   : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    ERR_clear_error();
    return r;
}

/* openssl verify and certtool on leaf issued by root, through inter when
 * not NULL; want_ok says whether both must accept or both refuse. tag
 * names the files. */
static void
verify_external(const char *tag, X509 *leaf, X509 *inter, X509 *root,
                int want_ok)
{
    char       root_path[256];
    char       leaf_path[256];
    char       inter_path[256];
    char       chain_path[256];
    char       name[96];
    char       cmd[1400];
    struct buf chain;
    int        r;

    snprintf(name, sizeof(name), "%s-root.pem", tag);
    write_cert(name, root, root_path, sizeof(root_path));
    snprintf(name, sizeof(name), "%s-leaf.pem", tag);
    write_cert(name, leaf, leaf_path, sizeof(leaf_path));
    buf_init(&chain, 3 * LIM_CERT_PEM);
    ck_assert_int_eq(pki_cert_to_pem(leaf, &chain), CW_OK);
    if (inter != NULL) {
        snprintf(name, sizeof(name), "%s-inter.pem", tag);
        write_cert(name, inter, inter_path, sizeof(inter_path));
        ck_assert_int_eq(pki_cert_to_pem(inter, &chain), CW_OK);
    }
    ck_assert_int_eq(pki_cert_to_pem(root, &chain), CW_OK);
    snprintf(name, sizeof(name), "%s-chain.pem", tag);
    write_file(name, chain.p, chain.len, chain_path, sizeof(chain_path));
    buf_cleanup(&chain);

    snprintf(cmd, sizeof(cmd),
             "openssl verify -x509_strict -CAfile '%s' %s%s%s '%s' "
             ">/dev/null 2>&1",
             root_path, inter ? "-untrusted '" : "", inter ? inter_path : "",
             inter ? "'" : "", leaf_path);
    r = system(cmd);
    ck_assert_msg((r == 0) == want_ok, "%s: openssl verify: %d", tag, r);
    if (!have_certtool)
        return;
    snprintf(cmd, sizeof(cmd),
             "certtool --verify-chain --infile '%s' >/dev/null 2>&1",
             chain_path);
    r = system(cmd);
    ck_assert_msg((r == 0) == want_ok, "%s: certtool --verify-chain: %d",
                  tag, r);
    if (inter != NULL)
        return;
    snprintf(cmd, sizeof(cmd),
             "certtool --verify --load-ca-certificate '%s' --infile '%s' "
             ">/dev/null 2>&1",
             root_path, leaf_path);
    r = system(cmd);
    ck_assert_msg((r == 0) == want_ok, "%s: certtool --verify: %d", tag, r);
}

static int
ext_critical(const X509 *x, int nid)
{
    int idx = X509_get_ext_by_NID(x, nid, -1);

    ck_assert_msg(idx >= 0, "extension %s missing", OBJ_nid2sn(nid));
    return X509_EXTENSION_get_critical(X509_get_ext(x, idx));
}

/* ==== keys ============================================================= */

static const struct {
    int               line;
    enum pki_key_type type;
    const char       *name;
    enum pki_key_alg  alg;
    int               bits;
    const char       *curve;
    int               md_nid;       /* signature digest, NID_undef: none */
    int               sig_nid;      /* certificate signature algorithm  */
} key_cases[] = {
    { __LINE__, PKI_KEY_RSA2048, "rsa2048", PKI_ALG_RSA, 2048, NULL,
      NID_sha256, NID_sha256WithRSAEncryption },
    { __LINE__, PKI_KEY_RSA3072, "rsa3072", PKI_ALG_RSA, 3072, NULL,
      NID_sha256, NID_sha256WithRSAEncryption },
    { __LINE__, PKI_KEY_RSA4096, "rsa4096", PKI_ALG_RSA, 4096, NULL,
      NID_sha256, NID_sha256WithRSAEncryption },
    { __LINE__, PKI_KEY_EC_P256, "ec-p256", PKI_ALG_EC, 256, "P-256",
      NID_sha256, NID_ecdsa_with_SHA256 },
    { __LINE__, PKI_KEY_EC_P384, "ec-p384", PKI_ALG_EC, 384, "P-384",
      NID_sha384, NID_ecdsa_with_SHA384 },
    { __LINE__, PKI_KEY_EC_P521, "ec-p521", PKI_ALG_EC, 521, "P-521",
      NID_sha512, NID_ecdsa_with_SHA512 },
    { __LINE__, PKI_KEY_ED25519, "ed25519", PKI_ALG_ED25519, 253, NULL,
      NID_undef, NID_ED25519 },
};

START_TEST(test_key_generate)
{
    const __typeof__(key_cases[0]) *c = &key_cases[_i];
    struct pki_key_info info;
    enum pki_key_type   t;
    const EVP_MD       *md = NULL;
    uint8_t             id[PKI_KEYID_LEN];
    uint8_t             zero[PKI_KEYID_LEN] = { 0 };

    ck_assert_msg(keys[c->type] != NULL, "line %d: not generated", c->line);
    ck_assert_int_eq(pki_key_describe(keys[c->type], &info), CW_OK);
    ck_assert_msg(info.alg == c->alg && info.bits == c->bits &&
                      info.type == c->type,
                  "line %d: alg %d bits %d type %d", c->line, info.alg,
                  info.bits, info.type);
    if (c->curve == NULL)
        ck_assert_ptr_null(info.curve);
    else
        ck_assert_str_eq(info.curve, c->curve);
    ck_assert_str_eq(pki_key_type_name(c->type), c->name);
    ck_assert_int_eq(pki_key_type_parse(c->name, strlen(c->name), &t), CW_OK);
    ck_assert_int_eq(t, c->type);
    ck_assert_int_eq(pki_sign_md(keys[c->type], &md), CW_OK);
    ck_assert_int_eq(md != NULL ? EVP_MD_get_type(md) : NID_undef,
                     c->md_nid);
    ck_assert_int_eq(pki_key_id(keys[c->type], id), CW_OK);
    ck_assert_mem_ne(id, zero, sizeof(id));
    /* SubjectPublicKeyInfo and the display form. */
    {
        struct buf           der;
        const unsigned char *p;
        EVP_PKEY            *pub;
        json_t              *j = NULL;

        buf_init(&der, LIM_KEY_DER);
        ck_assert_int_eq(pki_key_pub_to_der(keys[c->type], &der), CW_OK);
        p = der.p;
        pub = d2i_PUBKEY(NULL, &p, (long)der.len);
        ck_assert_ptr_nonnull(pub);
        ck_assert_int_eq(EVP_PKEY_eq(pub, keys[c->type]), 1);
        ck_assert_int_eq(pki_key_info_json(pub, &j), CW_OK);
        ck_assert_str_eq(json_string_value(json_object_get(j, "type")),
                         pki_key_alg_name(c->alg));
        ck_assert_int_eq(json_integer_value(json_object_get(j, "bits")),
                         c->bits);
        if (c->curve != NULL)
            ck_assert_str_eq(json_string_value(json_object_get(j, "curve")),
                             c->curve);
        else
            ck_assert_ptr_null(json_object_get(j, "curve"));
        json_decref(j);
        EVP_PKEY_free(pub);
        buf_cleanup(&der);
    }
}
END_TEST

START_TEST(test_key_pkcs8_roundtrip)
{
    const __typeof__(key_cases[0]) *c = &key_cases[_i];
    struct buf der;
    EVP_PKEY  *back = NULL;

    buf_init(&der, LIM_KEY_DER);
    ck_assert_int_eq(pki_key_to_pkcs8_der(keys[c->type], &der), CW_OK);
    ck_assert_int_eq(pki_key_parse_pkcs8_der(der.p, der.len, &back), CW_OK);
    ck_assert_int_eq(EVP_PKEY_eq(back, keys[c->type]), 1);
    EVP_PKEY_free(back);
    back = NULL;
    /* The generic parser takes the same DER. */
    ck_assert_int_eq(pki_key_parse(der.p, der.len, NULL, &back), CW_OK);
    ck_assert_int_eq(EVP_PKEY_eq(back, keys[c->type]), 1);
    EVP_PKEY_free(back);
    back = NULL;
    /* Trailing byte, truncation. */
    ck_assert_int_eq(buf_append(&der, "", 1), CW_OK);
    ck_assert_int_eq(pki_key_parse_pkcs8_der(der.p, der.len, &back),
                     CW_E_BADKEY);
    ck_assert_int_eq(pki_key_parse_pkcs8_der(der.p, der.len - 2, &back),
                     CW_E_BADKEY);
    ck_assert_ptr_null(back);
    buf_cleanup_secret(&der);
}
END_TEST

START_TEST(test_key_export_encrypted)
{
    const __typeof__(key_cases[0]) *c = &key_cases[_i];
    struct buf pem;
    struct buf asn;
    EVP_PKEY  *back = NULL;
    char       path[256];
    char       name[64];
    char       cmd[512];

    buf_init(&pem, LIM_KEY_PEM);
    buf_init(&asn, 64 * 1024);
    ck_assert_int_eq(pki_key_export_pem(keys[c->type], "s3cret pass", &pem),
                     CW_OK);
    ck_assert_ptr_nonnull(strstr((char *)pem.p,
                                 "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    ck_assert_int_eq(pki_key_parse(pem.p, pem.len, "s3cret pass", &back),
                     CW_OK);
    ck_assert_int_eq(EVP_PKEY_eq(back, keys[c->type]), 1);
    EVP_PKEY_free(back);
    back = NULL;
    ck_assert_int_eq(pki_key_parse(pem.p, pem.len, "wrong", &back),
                     CW_E_DECRYPT);
    ck_assert_int_eq(pki_key_parse(pem.p, pem.len, NULL, &back),
                     CW_E_DECRYPT);
    ck_assert_ptr_null(back);
    ck_assert_int_eq(pki_key_export_pem(keys[c->type], "", &pem),
                     CW_E_BADREQ);

    /* OpenSSL's own tool reads it, and it is PBES2/PBKDF2-SHA256/AES. */
    snprintf(name, sizeof(name), "key-%s.pem", c->name);
    write_file(name, pem.p, pem.len, path, sizeof(path));
    snprintf(cmd, sizeof(cmd),
             "openssl pkey -in '%s' -passin 'pass:s3cret pass' -noout 2>&1",
             path);
    ck_assert_msg(run(cmd, NULL) == 0, "line %d: openssl pkey", c->line);
    snprintf(cmd, sizeof(cmd), "openssl asn1parse -in '%s' 2>&1", path);
    ck_assert_int_eq(run(cmd, &asn), 0);
    ck_assert_ptr_nonnull(strstr((char *)asn.p, "PBES2"));
    ck_assert_ptr_nonnull(strstr((char *)asn.p, "PBKDF2"));
    ck_assert_ptr_nonnull(strstr((char *)asn.p, "hmacWithSHA256"));
    ck_assert_ptr_nonnull(strstr((char *)asn.p, "aes-256-cbc"));
    buf_cleanup(&asn);
    buf_cleanup(&pem);
}
END_TEST

/* Keys in the forms other software writes them. */
enum key_form {
    FORM_PKCS8_PEM,
    FORM_TRAD_PEM,
    FORM_TRAD_PEM_ENC,
    FORM_ENC_PKCS8_DER,
    FORM_TRAD_DER,
};

static const struct {
    int               line;
    enum pki_key_type type;
    enum key_form     form;
} key_form_cases[] = {
    { __LINE__, PKI_KEY_RSA2048, FORM_PKCS8_PEM },
    { __LINE__, PKI_KEY_RSA2048, FORM_TRAD_PEM },
    { __LINE__, PKI_KEY_RSA2048, FORM_TRAD_PEM_ENC },
    { __LINE__, PKI_KEY_RSA2048, FORM_ENC_PKCS8_DER },
    { __LINE__, PKI_KEY_RSA2048, FORM_TRAD_DER },
    { __LINE__, PKI_KEY_EC_P256, FORM_PKCS8_PEM },
    { __LINE__, PKI_KEY_EC_P256, FORM_TRAD_PEM },
    { __LINE__, PKI_KEY_EC_P384, FORM_TRAD_PEM_ENC },
    { __LINE__, PKI_KEY_EC_P521, FORM_ENC_PKCS8_DER },
    { __LINE__, PKI_KEY_EC_P256, FORM_TRAD_DER },
    { __LINE__, PKI_KEY_ED25519, FORM_PKCS8_PEM },
    { __LINE__, PKI_KEY_ED25519, FORM_ENC_PKCS8_DER },
};

START_TEST(test_key_parse_forms)
{
    const __typeof__(key_form_cases[0]) *c = &key_form_cases[_i];
    EVP_PKEY      *k = keys[c->type];
    EVP_PKEY      *back = NULL;
    BIO           *bio = BIO_new(BIO_s_mem());
    char          *data = NULL;
    long           n;
    const char    *pw = NULL;
    unsigned char *der = NULL;

    ck_assert_ptr_nonnull(bio);
    switch (c->form) {
    case FORM_PKCS8_PEM:
        ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0,
                                                  NULL, NULL), 1);
        break;
    case FORM_TRAD_PEM:
        ck_assert_int_eq(PEM_write_bio_PrivateKey_traditional(
                             bio, k, NULL, NULL, 0, NULL, NULL), 1);
        break;
    case FORM_TRAD_PEM_ENC:
        pw = "legacy";
        ck_assert_int_eq(PEM_write_bio_PrivateKey_traditional(
                             bio, k, EVP_aes_128_cbc(),
                             (const unsigned char *)pw, 6, NULL, NULL), 1);
        break;
    case FORM_ENC_PKCS8_DER:
        pw = "der pass";
        ck_assert_int_eq(i2d_PKCS8PrivateKey_bio(bio, k, EVP_aes_256_cbc(),
                                                 NULL, 0, NULL,
                                                 (void *)(uintptr_t)pw), 1);
        break;
    case FORM_TRAD_DER: {
        int len = i2d_PrivateKey(k, &der);

        ck_assert_int_gt(len, 0);
        ck_assert_int_eq(BIO_write(bio, der, len), len);
        OPENSSL_free(der);
        break;
    }
    }
    n = BIO_get_mem_data(bio, &data);
    ck_assert_int_gt(n, 0);
    ck_assert_msg(pki_key_parse((uint8_t *)data, (size_t)n, pw, &back) ==
                      CW_OK,
                  "line %d", c->line);
    ck_assert_int_eq(EVP_PKEY_eq(back, k), 1);
    EVP_PKEY_free(back);
    back = NULL;
    /* Wrong passwords: CBC padding lets about one in 256 decrypt to
     * garbage without an error, which must still read as a wrong
     * password, so try enough of them to meet that case. */
    for (int i = 0; pw != NULL && i < 400; i++) {
        char wrong[32];

        snprintf(wrong, sizeof(wrong), "nope%d", i);
        ck_assert_msg(pki_key_parse((uint8_t *)data, (size_t)n, wrong,
                                    &back) == CW_E_DECRYPT,
                      "line %d: %s", c->line, wrong);
        ck_assert_ptr_null(back);
    }
    BIO_free(bio);
}
END_TEST

static const struct {
    int         line;
    const char *input;
    long        len;        /* -1: strlen */
    enum cw_err err;
} key_bad_cases[] = {
    { __LINE__, "", 0, CW_E_BADKEY },
    { __LINE__, "garbage", -1, CW_E_BADKEY },
    { __LINE__, "\x30\x03\x02\x01\x00", 5, CW_E_BADKEY },
    { __LINE__, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
      -1, CW_E_BADKEY },
    { __LINE__, "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
      -1, CW_E_BADKEY },
    { __LINE__, "-----BEGIN PRIVATE KEY-----\n", -1, CW_E_BADKEY },
};

START_TEST(test_key_parse_bad)
{
    const __typeof__(key_bad_cases[0]) *c = &key_bad_cases[_i];
    size_t    len = c->len < 0 ? strlen(c->input) : (size_t)c->len;
    EVP_PKEY *k = NULL;

    ck_assert_msg(pki_key_parse((const uint8_t *)c->input, len, "x", &k) ==
                      c->err,
                  "line %d", c->line);
    ck_assert_ptr_null(k);
}
END_TEST

START_TEST(test_key_refused)
{
    struct buf der;
    EVP_PKEY  *k = NULL;
    struct pki_key_info info;

    /* RSA 1024 and secp256k1: well-formed, but not accepted. */
    ck_assert_int_eq(pki_key_check(rsa1024), CW_E_BADKEY);
    ck_assert_int_eq(pki_key_describe(k256k1, &info), CW_E_BADKEY);
    buf_init(&der, LIM_KEY_DER);
    ck_assert_int_eq(pki_key_to_pkcs8_der(rsa1024, &der), CW_OK);
    ck_assert_int_eq(pki_key_parse(der.p, der.len, NULL, &k), CW_E_BADKEY);
    buf_reset(&der);
    ck_assert_int_eq(pki_key_to_pkcs8_der(k256k1, &der), CW_OK);
    ck_assert_int_eq(pki_key_parse(der.p, der.len, NULL, &k), CW_E_BADKEY);
    ck_assert_ptr_null(k);
    buf_cleanup_secret(&der);
    /* RSA with e = 3. */
    {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        BIGNUM       *e3 = BN_new();
        EVP_PKEY     *k3 = NULL;

        ck_assert_int_eq(BN_set_word(e3, 3), 1);
        ck_assert_int_eq(EVP_PKEY_keygen_init(ctx), 1);
        ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
        ck_assert_int_eq(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e3), 1);
        ck_assert_int_eq(EVP_PKEY_keygen(ctx, &k3), 1);
        ck_assert_int_eq(pki_key_check(k3), CW_E_BADKEY);
        EVP_PKEY_free(k3);
        BN_free(e3);
        EVP_PKEY_CTX_free(ctx);
    }
    /* Oversized input is refused before it is parsed. */
    {
        uint8_t *big = cw_xcalloc(1, LIM_KEY_PEM + 1);

        big[0] = 0x30;
        ck_assert_int_eq(pki_key_parse(big, LIM_KEY_DER + 1, NULL, &k),
                         CW_E_TOOLARGE);
        memcpy(big, "-----BEGIN PRIVATE KEY-----\n", 28);
        ck_assert_int_eq(pki_key_parse(big, LIM_KEY_PEM + 1, NULL, &k),
                         CW_E_TOOLARGE);
        free(big);
    }
}
END_TEST

static const struct {
    int               line;
    const char       *alg;
    long              bits;
    const char       *curve;
    enum cw_err       err;
    enum pki_key_type want;
} key_select_cases[] = {
    { __LINE__, "rsa", 0, NULL, CW_OK, PKI_KEY_RSA3072 },
    { __LINE__, "rsa", 2048, NULL, CW_OK, PKI_KEY_RSA2048 },
    { __LINE__, "rsa", 4096, NULL, CW_OK, PKI_KEY_RSA4096 },
    { __LINE__, "rsa", 1024, NULL, CW_E_BADREQ, 0 },
    { __LINE__, "rsa", 2047, NULL, CW_E_BADREQ, 0 },
    { __LINE__, "rsa", 2048, "P-256", CW_E_BADREQ, 0 },
    { __LINE__, "ec", 0, NULL, CW_OK, PKI_KEY_EC_P256 },
    { __LINE__, "ec", 0, "P-384", CW_OK, PKI_KEY_EC_P384 },
    { __LINE__, "ec", 0, "P-521", CW_OK, PKI_KEY_EC_P521 },
    { __LINE__, "ec", 0, "secp256k1", CW_E_BADREQ, 0 },
    { __LINE__, "ec", 0, "p-256", CW_E_BADREQ, 0 },
    { __LINE__, "ec", 256, NULL, CW_E_BADREQ, 0 },
    { __LINE__, "ed25519", 0, NULL, CW_OK, PKI_KEY_ED25519 },
    { __LINE__, "ed25519", 0, "P-256", CW_E_BADREQ, 0 },
    { __LINE__, "ed448", 0, NULL, CW_E_BADREQ, 0 },
    { __LINE__, "dsa", 2048, NULL, CW_E_BADREQ, 0 },
    { __LINE__, "RSA", 2048, NULL, CW_E_BADREQ, 0 },
};

START_TEST(test_key_select)
{
    const __typeof__(key_select_cases[0]) *c = &key_select_cases[_i];
    enum pki_key_type t = PKI_KEY__MAX;

    ck_assert_msg(pki_key_type_select(c->alg, c->bits, c->curve, &t) ==
                      c->err,
                  "line %d", c->line);
    if (c->err == CW_OK)
        ck_assert_msg(t == c->want, "line %d: %d", c->line, t);
}
END_TEST

static const struct {
    int               line;
    const char       *json;
    enum cw_err       err;
    enum pki_key_type want;
} key_json_cases[] = {
    { __LINE__, "{\"type\": \"rsa\", \"bits\": 3072}", CW_OK,
      PKI_KEY_RSA3072 },
    { __LINE__, "{\"type\": \"ec\", \"curve\": \"P-256\"}", CW_OK,
      PKI_KEY_EC_P256 },
    { __LINE__, "{\"type\": \"ed25519\"}", CW_OK, PKI_KEY_ED25519 },
    { __LINE__, "{\"type\": \"rsa\"}", CW_OK, PKI_KEY_RSA3072 },
    { __LINE__, "{\"type\": \"rsa\", \"bits\": 1024}", CW_E_BADREQ, 0 },
    { __LINE__, "{\"type\": \"rsa\", \"bits\": \"2048\"}", CW_E_BADREQ, 0 },
    { __LINE__, "{\"type\": \"ec\", \"curve\": \"secp256k1\"}", CW_E_BADREQ,
      0 },
    { __LINE__, "{\"type\": \"ec\", \"size\": 256}", CW_E_BADREQ, 0 },
    { __LINE__, "{}", CW_E_BADREQ, 0 },
    { __LINE__, "[\"rsa\"]", CW_E_BADREQ, 0 },
};

START_TEST(test_key_json)
{
    const __typeof__(key_json_cases[0]) *c = &key_json_cases[_i];
    json_t           *v = J(c->json);
    struct jsonx_why  why;
    enum pki_key_type t = PKI_KEY__MAX;

    memset(&why, 0, sizeof(why));
    ck_assert_msg(pki_key_type_from_json(v, &t, &why) == c->err, "line %d",
                  c->line);
    if (c->err == CW_OK)
        ck_assert_int_eq(t, c->want);
    else
        ck_assert_msg(why.reason[0] != '\0', "line %d: no reason", c->line);
    json_decref(v);
}
END_TEST

/* ==== names ============================================================ */

#define S65 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
    int         line;
    const char *json;
    enum cw_err err;
    const char *dn;         /* RFC 4514 form when accepted            */
    const char *field;      /* why.field when refused                 */
} name_cases[] = {
    { __LINE__, "{\"CN\": \"www.example.com\"}", CW_OK, "CN=www.example.com",
      NULL },
    { __LINE__,
      "{\"CN\": \"Root\", \"O\": \"Example\", \"OU\": \"PKI\", \"C\": \"DE\","
      " \"ST\": \"Berlin\", \"L\": \"Berlin\","
      " \"emailAddress\": \"pki@example.com\", \"serialNumber\": \"42\"}",
      CW_OK,
      "emailAddress=pki@example.com,serialNumber=42,CN=Root,OU=PKI,"
      "O=Example,L=Berlin,ST=Berlin,C=DE",
      NULL },
    { __LINE__, "{\"CN\": \"M\\u00fcller, \\\"Q\\\" + Co\"}", CW_OK,
      "CN=M\xc3\xbcller\\, \\\"Q\\\" \\+ Co", NULL },
    { __LINE__, "{}", CW_OK, "", NULL },
    { __LINE__, "{\"CN\": \"" S65 "\"}", CW_E_BADREQ, NULL, "CN" },
    { __LINE__, "{\"CN\": \"\"}", CW_E_BADREQ, NULL, "CN" },
    { __LINE__, "{\"CN\": \"a\\u0001b\"}", CW_E_BADREQ, NULL, "CN" },
    { __LINE__, "{\"CN\": \"a\\u0085b\"}", CW_E_BADREQ, NULL, "CN" },
    { __LINE__, "{\"CN\": \"a\\u0000b\"}", CW_E_BADREQ, NULL, "CN" },
    { __LINE__, "{\"CN\": 5}", CW_E_BADREQ, NULL, "CN" },
    { __LINE__, "{\"CN\": [\"a\"]}", CW_E_BADREQ, NULL, "CN" },
    { __LINE__, "{\"cn\": \"a\"}", CW_E_BADREQ, NULL, "cn" },
    { __LINE__, "{\"DC\": \"example\"}", CW_E_BADREQ, NULL, "DC" },
    { __LINE__, "{\"C\": \"de\"}", CW_E_BADREQ, NULL, "C" },
    { __LINE__, "{\"C\": \"DEU\"}", CW_E_BADREQ, NULL, "C" },
    { __LINE__, "{\"C\": \"D\"}", CW_E_BADREQ, NULL, "C" },
    { __LINE__, "{\"O\": \"" S65 "\"}", CW_E_BADREQ, NULL, "O" },
    { __LINE__, "{\"emailAddress\": \"nobody\"}", CW_E_BADREQ, NULL,
      "emailAddress" },
    { __LINE__, "{\"emailAddress\": \"m\\u00fc@example.com\"}", CW_E_BADREQ,
      NULL, "emailAddress" },
    { __LINE__, "{\"serialNumber\": \"a*b\"}", CW_E_BADREQ, NULL,
      "serialNumber" },
    { __LINE__, "[]", CW_E_BADREQ, NULL, "subject" },
};

START_TEST(test_name_from_json)
{
    const __typeof__(name_cases[0]) *c = &name_cases[_i];
    json_t          *v = J(c->json);
    X509_NAME       *n = NULL;
    struct jsonx_why why;
    struct buf       dn;
    json_t          *back = NULL;
    enum cw_err      err;

    memset(&why, 0, sizeof(why));
    buf_init(&dn, 4096);
    err = pki_name_from_json(v, &n, &why);
    ck_assert_msg(err == c->err, "line %d: %d (%s: %s)", c->line, err,
                  why.field, why.reason);
    if (err != CW_OK) {
        ck_assert_msg(strcmp(why.field, c->field) == 0, "line %d: field %s",
                      c->line, why.field);
        ck_assert_ptr_null(n);
        goto out;
    }
    ck_assert_int_eq(pki_name_to_string(n, &dn), CW_OK);
    ck_assert_msg(strcmp(dn.len ? (char *)dn.p : "", c->dn) == 0,
                  "line %d: %s", c->line, dn.len ? (char *)dn.p : "");
    /* Back to JSON gives the input. */
    ck_assert_int_eq(pki_name_to_json(n, &back), CW_OK);
    ck_assert_msg(json_equal(back, v), "line %d", c->line);
out:
    json_decref(back);
    json_decref(v);
    X509_NAME_free(n);
    buf_cleanup(&dn);
}
END_TEST

START_TEST(test_name_control_and_utf8)
{
    json_t    *o = json_object();
    X509_NAME *n = NULL;

    /* Invalid UTF-8 can only arrive through the C API. */
    json_object_set_new(o, "CN", json_stringn_nocheck("a\xff", 2));
    ck_assert_int_eq(pki_name_from_json(o, &n, NULL), CW_E_BADREQ);
    json_object_set_new(o, "CN", json_stringn_nocheck("\xc0\xaf", 2));
    ck_assert_int_eq(pki_name_from_json(o, &n, NULL), CW_E_BADREQ);
    json_object_set_new(o, "CN", json_string("a\x7f"));
    ck_assert_int_eq(pki_name_from_json(o, &n, NULL), CW_E_BADREQ);
    /* 64 two-byte characters are 128 bytes but 64 characters: fine. */
    {
        char s[129];

        for (int i = 0; i < 64; i++)
            memcpy(s + 2 * i, "\xc3\xa4", 2);
        s[128] = '\0';
        json_object_set_new(o, "CN", json_string(s));
        ck_assert_int_eq(pki_name_from_json(o, &n, NULL), CW_OK);
        X509_NAME_free(n);
    }
    json_decref(o);
}
END_TEST

START_TEST(test_name_repeated_and_unknown)
{
    X509_NAME *n = X509_NAME_new();
    json_t    *j = NULL;
    struct buf cn;

    buf_init(&cn, 64);
    ck_assert_int_eq(pki_name_cn(n, &cn), CW_E_NOTFOUND);
    X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
                               (const unsigned char *)"a", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
                               (const unsigned char *)"b", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "DC", MBSTRING_ASC,
                               (const unsigned char *)"example", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "1.2.3.4", MBSTRING_ASC,
                               (const unsigned char *)"x", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                               (const unsigned char *)"c", -1, -1, 0);
    ck_assert_int_eq(pki_name_to_json(n, &j), CW_OK);
    ck_assert_msg(json_eq_text(j, "{\"OU\": [\"a\", \"b\"], \"DC\": \"example\","
                                  " \"1.2.3.4\": \"x\", \"CN\": \"c\"}"),
                  "%s", dump(j));
    ck_assert_int_eq(pki_name_cn(n, &cn), CW_OK);
    ck_assert_str_eq((char *)cn.p, "c");
    json_decref(j);
    X509_NAME_free(n);
    buf_cleanup(&cn);
}
END_TEST

/* ==== SANs ============================================================= */

#define L63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
    int               line;
    enum pki_san_type type;
    const char       *value;
    enum cw_err       err;
    const char       *norm;     /* value read back; NULL = unchanged */
} san_cases[] = {
    /* DNS */
    { __LINE__, PKI_SAN_DNS, "example.com", CW_OK, NULL },
    { __LINE__, PKI_SAN_DNS, "WWW.Example.COM", CW_OK, "www.example.com" },
    { __LINE__, PKI_SAN_DNS, "*.example.com", CW_OK, NULL },
    { __LINE__, PKI_SAN_DNS, "localhost", CW_OK, NULL },
    { __LINE__, PKI_SAN_DNS, "xn--bcher-kva.example", CW_OK, NULL },
    { __LINE__, PKI_SAN_DNS, "a-b.c-d.e", CW_OK, NULL },
    { __LINE__, PKI_SAN_DNS, "1.example.com", CW_OK, NULL },
    { __LINE__, PKI_SAN_DNS, L63 ".com", CW_OK, NULL },
    { __LINE__, PKI_SAN_DNS, "", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, ".", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "a..b", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, ".example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "example.com.", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, L63 "a.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "a_b.example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "_acme-challenge.example.com", CW_E_BADREQ,
      NULL },
    { __LINE__, PKI_SAN_DNS, "-a.example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "a-.example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "*.*.example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "a*.example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "a.*.example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "*", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "*.", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "*.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "ex ample.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "b\xc3\xbc" "cher.example", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "example.com/", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_DNS, "192.0.2.1:443", CW_E_BADREQ, NULL },
    /* IP */
    { __LINE__, PKI_SAN_IP, "192.0.2.1", CW_OK, NULL },
    { __LINE__, PKI_SAN_IP, "2001:db8::1", CW_OK, NULL },
    { __LINE__, PKI_SAN_IP, "2001:DB8:0:0:0:0:0:2", CW_OK, "2001:db8::2" },
    { __LINE__, PKI_SAN_IP, "::1", CW_OK, NULL },
    { __LINE__, PKI_SAN_IP, "::ffff:192.0.2.1", CW_OK, NULL },
    { __LINE__, PKI_SAN_IP, "256.1.1.1", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_IP, "1.2.3", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_IP, "01.2.3.4", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_IP, "1.2.3.4 ", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_IP, "1.2.3.4/24", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_IP, "fe80::1%eth0", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_IP, "2001:db8:::1", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_IP, "example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_IP, "", CW_E_BADREQ, NULL },
    /* email */
    { __LINE__, PKI_SAN_EMAIL, "a@example.com", CW_OK, NULL },
    { __LINE__, PKI_SAN_EMAIL, "First.Last+tag@Example.COM", CW_OK,
      "First.Last+tag@example.com" },
    { __LINE__, PKI_SAN_EMAIL, "a", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_EMAIL, "@example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_EMAIL, "a@", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_EMAIL, "a..b@example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_EMAIL, ".a@example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_EMAIL, "a b@example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_EMAIL, "a@b@example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_EMAIL, "a@exa_mple.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_EMAIL, "a@*.example.com", CW_E_BADREQ, NULL },
    /* URI */
    { __LINE__, PKI_SAN_URI, "https://example.com/a?b=c#d", CW_OK, NULL },
    { __LINE__, PKI_SAN_URI, "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
      CW_OK, NULL },
    { __LINE__, PKI_SAN_URI, "spiffe://example.org/ns/prod/sa/web", CW_OK,
      NULL },
    { __LINE__, PKI_SAN_URI, "example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_URI, "/relative/path", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_URI, "http:", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_URI, ":x", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_URI, "1http://x", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_URI, "http://x y", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_URI, "http://x/\x01", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_URI, "http://x/<script>", CW_E_BADREQ, NULL },
    /* UPN */
    { __LINE__, PKI_SAN_UPN, "jdoe@corp.example.com", CW_OK, NULL },
    { __LINE__, PKI_SAN_UPN, "J\xc3\xb6rg@CORP.example.com", CW_OK,
      "J\xc3\xb6rg@corp.example.com" },
    { __LINE__, PKI_SAN_UPN, "jdoe", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_UPN, "@corp.example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_UPN, "j doe@corp.example.com", CW_E_BADREQ, NULL },
    { __LINE__, PKI_SAN_UPN, "jdoe@corp_example", CW_E_BADREQ, NULL },
};

START_TEST(test_san_validate)
{
    const __typeof__(san_cases[0]) *c = &san_cases[_i];
    GENERAL_NAMES *g = sk_GENERAL_NAME_new_null();
    json_t        *back = NULL;
    enum cw_err    err;

    err = pki_san_add(g, c->type, c->value, strlen(c->value));
    ck_assert_msg(err == c->err, "line %d: %s -> %d", c->line, c->value, err);
    if (err == CW_OK) {
        json_t *want = json_pack("[{s:s, s:s}]", "type",
                                 pki_san_type_name(c->type), "value",
                                 c->norm != NULL ? c->norm : c->value);

        ck_assert_int_eq(pki_san_to_json(g, &back), CW_OK);
        ck_assert_msg(json_equal(back, want), "line %d: %s", c->line,
                      dump(back));
        json_decref(want);
        /* The same name again is a duplicate. */
        ck_assert_msg(pki_san_add(g, c->type, c->value, strlen(c->value)) ==
                          CW_E_BADREQ,
                      "line %d: duplicate accepted", c->line);
    } else {
        ck_assert_int_eq(sk_GENERAL_NAME_num(g), 0);
    }
    json_decref(back);
    GENERAL_NAMES_free(g);
}
END_TEST

START_TEST(test_san_dns_lengths)
{
    char name[300];
    char out[LIM_DNS_NAME + 1];

    /* 253 bytes in labels of 63: accepted; 254: refused. */
    memset(name, 'a', sizeof(name));
    name[63] = name[127] = name[191] = '.';
    ck_assert_int_eq(pki_dns_name_check(name, 253, 0, out), CW_OK);
    ck_assert_int_eq(pki_dns_name_check(name, 254, 0, out), CW_E_BADREQ);
    /* A 63-byte label alone, a 64-byte one. */
    ck_assert_int_eq(pki_dns_name_check(name, 63, 0, out), CW_OK);
    memset(name, 'b', 64);
    ck_assert_int_eq(pki_dns_name_check(name, 64, 0, out), CW_E_BADREQ);
    /* Wildcards only when allowed. */
    ck_assert_int_eq(pki_dns_name_check("*.a.b", 5, 0, out), CW_E_BADREQ);
    ck_assert_int_eq(pki_dns_name_check("*.a.b", 5, 1, out), CW_OK);
    /* An embedded NUL never passes. */
    {
        GENERAL_NAMES *g = sk_GENERAL_NAME_new_null();

        ck_assert_int_eq(pki_san_add(g, PKI_SAN_DNS, "a\0b.com", 7),
                         CW_E_BADREQ);
        GENERAL_NAMES_free(g);
    }
}
END_TEST

static const struct {
    int         line;
    const char *json;
    enum cw_err err;
} san_json_cases[] = {
    { __LINE__, "[]", CW_OK },
    { __LINE__, "[{\"type\": \"dns\", \"value\": \"a.example.com\"},"
                " {\"type\": \"dns\", \"value\": \"A.example.com\"}]",
      CW_E_BADREQ },
    { __LINE__, "[{\"type\": \"ip\", \"value\": \"::1\"},"
                " {\"type\": \"ip\", \"value\": \"0:0::1\"}]",
      CW_E_BADREQ },
    { __LINE__, "[{\"type\": \"dns\", \"value\": \"a.example.com\"},"
                " {\"type\": \"email\", \"value\": \"a@a.example.com\"}]",
      CW_OK },
    { __LINE__, "[{\"type\": \"DNS\", \"value\": \"a.example.com\"}]",
      CW_E_BADREQ },
    { __LINE__, "[{\"type\": \"rid\", \"value\": \"1.2.3\"}]", CW_E_BADREQ },
    { __LINE__, "[{\"type\": \"dns\"}]", CW_E_BADREQ },
    { __LINE__, "[{\"type\": \"dns\", \"value\": 1}]", CW_E_BADREQ },
    { __LINE__, "[{\"type\": \"dns\", \"value\": \"a.com\", \"x\": 1}]",
      CW_E_BADREQ },
    { __LINE__, "[\"a.example.com\"]", CW_E_BADREQ },
    { __LINE__, "{\"type\": \"dns\", \"value\": \"a.com\"}", CW_E_BADREQ },
};

START_TEST(test_san_json)
{
    const __typeof__(san_json_cases[0]) *c = &san_json_cases[_i];
    json_t          *v = J(c->json);
    GENERAL_NAMES   *g = NULL;
    struct jsonx_why why;

    memset(&why, 0, sizeof(why));
    ck_assert_msg(pki_san_from_json(v, &g, &why) == c->err, "line %d",
                  c->line);
    if (c->err == CW_OK)
        ck_assert_ptr_nonnull(g);
    else
        ck_assert_msg(why.field[0] != '\0', "line %d: no field", c->line);
    GENERAL_NAMES_free(g);
    json_decref(v);
}
END_TEST

START_TEST(test_san_count_cap)
{
    json_t        *arr = json_array();
    GENERAL_NAMES *g = NULL;
    char           name[64];

    for (int i = 0; i < 10000; i++) {
        snprintf(name, sizeof(name), "h%d.example.com", i);
        json_array_append_new(arr, json_pack("{s:s, s:s}", "type", "dns",
                                             "value", name));
    }
    ck_assert_int_eq(pki_san_from_json(arr, &g, NULL), CW_E_TOOLARGE);
    ck_assert_ptr_null(g);
    /* Exactly LIM_SANS is fine; one more through pki_san_add is not. */
    while (json_array_size(arr) > LIM_SANS)
        json_array_remove(arr, json_array_size(arr) - 1);
    ck_assert_int_eq(pki_san_from_json(arr, &g, NULL), CW_OK);
    ck_assert_int_eq(sk_GENERAL_NAME_num(g), LIM_SANS);
    ck_assert_int_eq(pki_san_add(g, PKI_SAN_DNS, "z.example.com", 13),
                     CW_E_TOOLARGE);
    GENERAL_NAMES_free(g);
    json_decref(arr);
}
END_TEST

static const struct {
    int         line;
    const char *json;
    enum cw_err err;
    const char *cn;
} san_cn_cases[] = {
    { __LINE__, "[{\"type\": \"dns\", \"value\": \"www.example.com\"},"
                " {\"type\": \"ip\", \"value\": \"192.0.2.1\"}]",
      CW_OK, "www.example.com" },
    { __LINE__, "[{\"type\": \"uri\", \"value\": \"https://x.example\"},"
                " {\"type\": \"ip\", \"value\": \"2001:db8::1\"}]",
      CW_OK, "2001:db8::1" },
    { __LINE__, "[{\"type\": \"upn\", \"value\": \"a@example.com\"},"
                " {\"type\": \"email\", \"value\": \"b@example.com\"}]",
      CW_OK, "b@example.com" },
    { __LINE__, "[{\"type\": \"dns\", \"value\": \"" L63 "." L63 "\"},"
                " {\"type\": \"dns\", \"value\": \"short.example\"}]",
      CW_OK, "short.example" },
    { __LINE__, "[{\"type\": \"uri\", \"value\": \"https://x.example\"}]",
      CW_E_NOTFOUND, NULL },
    { __LINE__, "[]", CW_E_NOTFOUND, NULL },
};

START_TEST(test_san_cn_fallback)
{
    const __typeof__(san_cn_cases[0]) *c = &san_cn_cases[_i];
    GENERAL_NAMES *g = sans_of(c->json);
    struct buf     cn;

    buf_init(&cn, 256);
    ck_assert_msg(pki_san_cn_fallback(g, &cn) == c->err, "line %d", c->line);
    if (c->cn != NULL)
        ck_assert_str_eq((char *)cn.p, c->cn);
    buf_cleanup(&cn);
    GENERAL_NAMES_free(g);
}
END_TEST

/* ==== CSRs ============================================================= */

static X509_REQ *
csr_for(EVP_PKEY *key, const char *subj_json, const char *sans_json)
{
    X509_NAME     *subj = name_of(subj_json);
    GENERAL_NAMES *sans = sans_json ? sans_of(sans_json) : NULL;
    X509_REQ      *req = NULL;

    ck_assert_int_eq(pki_csr_create(key, subj, sans, 0, &req), CW_OK);
    X509_NAME_free(subj);
    GENERAL_NAMES_free(sans);
    return req;
}

static void
csr_der(X509_REQ *req, struct buf *out)
{
    buf_init(out, LIM_CSR_DER);
    ck_assert_int_eq(pki_csr_to_der(req, out), CW_OK);
}

/* A CSR signed with any key, bypassing pki_csr_new's key check. */
static X509_REQ *
raw_csr(EVP_PKEY *key)
{
    X509_REQ  *req = X509_REQ_new();
    X509_NAME *n = name_of("{\"CN\": \"weak.example.com\"}");

    ck_assert_int_eq(X509_REQ_set_subject_name(req, n), 1);
    ck_assert_int_eq(X509_REQ_set_pubkey(req, key), 1);
    ck_assert_int_gt(X509_REQ_sign(req, key, EVP_sha256()), 0);
    X509_NAME_free(n);
    return req;
}

START_TEST(test_csr_roundtrip)
{
    const __typeof__(key_cases[0]) *c = &key_cases[_i];
    X509_REQ  *req = csr_for(keys[c->type],
                             "{\"CN\": \"www.example.com\", \"O\": \"Ex\"}",
                             "[{\"type\": \"dns\", \"value\": \"www.example.com\"},"
                             " {\"type\": \"ip\", \"value\": \"192.0.2.7\"},"
                             " {\"type\": \"upn\", \"value\": \"u@example.com\"}]");
    X509_REQ  *back = NULL;
    X509_NAME *subj = NULL;
    json_t    *j = NULL;
    struct buf der;
    struct buf pem;
    char       path[256];
    char       cmd[512];
    char       name[64];

    csr_der(req, &der);
    buf_init(&pem, LIM_CSR_PEM);
    ck_assert_int_eq(pki_csr_to_pem(req, &pem), CW_OK);
    ck_assert_int_eq(pki_csr_parse(der.p, der.len, &back), CW_OK);
    ck_assert_int_eq(EVP_PKEY_eq(pki_csr_pubkey_get(back), keys[c->type]), 1);
    X509_REQ_free(back);
    back = NULL;
    ck_assert_int_eq(pki_csr_parse(pem.p, pem.len, &back), CW_OK);
    ck_assert_int_eq(pki_csr_to_json(back, &j), CW_OK);
    ck_assert_msg(json_eq_text(json_object_get(j, "sans"),
                               "[{\"type\": \"dns\", \"value\": \"www.example.com\"},"
                               " {\"type\": \"ip\", \"value\": \"192.0.2.7\"},"
                               " {\"type\": \"upn\", \"value\": \"u@example.com\"}]"),
                  "line %d: %s", c->line, dump(j));
    ck_assert_str_eq(json_string_value(json_object_get(j, "subject_dn")),
                     "CN=www.example.com,O=Ex");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(j, "key"), "type")),
                     pki_key_alg_name(c->alg));
    ck_assert_int_eq(pki_csr_subject_take(back, &subj), CW_OK);
    ck_assert_int_eq(X509_NAME_cmp(subj, X509_REQ_get_subject_name(req)), 0);
    /* openssl req verifies our signature too. */
    snprintf(name, sizeof(name), "csr-%s.pem", c->name);
    write_file(name, pem.p, pem.len, path, sizeof(path));
    snprintf(cmd, sizeof(cmd),
             "openssl req -in '%s' -verify -noout >/dev/null 2>&1", path);
    ck_assert_msg(system(cmd) == 0, "line %d: openssl req -verify", c->line);
    json_decref(j);
    X509_NAME_free(subj);
    X509_REQ_free(back);
    X509_REQ_free(req);
    buf_cleanup(&der);
    buf_cleanup(&pem);
}
END_TEST

/* The fast reader takes every key type certward issues for, and gives
 * what OpenSSL's reader gives: subject, key, encoded key, names. */
START_TEST(test_csr_fast)
{
    const __typeof__(key_cases[0]) *c = &key_cases[_i];
    X509_REQ            *req = csr_for(keys[c->type],
                                       "{\"CN\": \"fast.example.com\"}",
                                       "[{\"type\": \"dns\", \"value\": "
                                       "\"fast.example.com\"}]");
    X509_REQ            *fast = NULL;
    X509_REQ            *full = NULL;
    EVP_PKEY            *pub = NULL;
    GENERAL_NAMES       *g1 = NULL;
    GENERAL_NAMES       *g2 = NULL;
    const unsigned char *b1;
    const unsigned char *b2;
    int                  l1;
    int                  l2;
    struct buf           der;

    csr_der(req, &der);
    ck_assert_msg(pki_csr_fast(der.p, der.len, &fast, &pub) == 1, "line %d",
                  c->line);
    ck_assert_int_eq(pki_csr_parse_der(der.p, der.len, &full), CW_OK);
    ck_assert_int_eq(EVP_PKEY_eq(pub, keys[c->type]), 1);
    ck_assert_int_eq(pki_key_check(pub), CW_OK);
    ck_assert_int_eq(X509_NAME_cmp(X509_REQ_get_subject_name(fast),
                                   X509_REQ_get_subject_name(full)), 0);
    ck_assert_int_eq(X509_PUBKEY_get0_param(NULL, &b1, &l1, NULL,
                                            X509_REQ_get_X509_PUBKEY(fast)),
                     1);
    ck_assert_int_eq(X509_PUBKEY_get0_param(NULL, &b2, &l2, NULL,
                                            X509_REQ_get_X509_PUBKEY(full)),
                     1);
    ck_assert_int_eq(l1, l2);
    ck_assert_int_eq(memcmp(b1, b2, (size_t)l1), 0);
    ck_assert_int_eq(pki_san_get_csr(fast, &g1), CW_OK);
    ck_assert_int_eq(pki_san_get_csr(full, &g2), CW_OK);
    ck_assert_ptr_nonnull(g1);
    ck_assert_int_eq(sk_GENERAL_NAME_num(g1), 1);
    ck_assert_int_eq(GENERAL_NAME_cmp(sk_GENERAL_NAME_value(g1, 0),
                                      sk_GENERAL_NAME_value(g2, 0)), 0);
    GENERAL_NAMES_free(g1);
    GENERAL_NAMES_free(g2);
    EVP_PKEY_free(pub);
    X509_REQ_free(fast);
    X509_REQ_free(full);
    X509_REQ_free(req);
    buf_cleanup(&der);
}
END_TEST

START_TEST(test_csr_subjectless)
{
    X509_REQ      *req = csr_for(keys[PKI_KEY_EC_P256], "{}",
                                 "[{\"type\": \"dns\", \"value\": \"a.example.org\"},"
                                 " {\"type\": \"dns\", \"value\": \"b.example.org\"}]");
    X509_REQ      *back = NULL;
    X509_NAME     *subj = NULL;
    GENERAL_NAMES *g = NULL;
    struct buf     der;
    struct buf     cn;

    buf_init(&cn, 64);
    csr_der(req, &der);
    ck_assert_int_eq(pki_csr_parse(der.p, der.len, &back), CW_OK);
    ck_assert_int_eq(X509_NAME_entry_count(X509_REQ_get_subject_name(back)),
                     0);
    ck_assert_int_eq(pki_san_get_csr(back, &g), CW_OK);
    ck_assert_int_eq(sk_GENERAL_NAME_num(g), 2);
    ck_assert_int_eq(pki_csr_subject_take(back, &subj), CW_OK);
    ck_assert_int_eq(pki_name_cn(subj, &cn), CW_OK);
    ck_assert_str_eq((char *)cn.p, "a.example.org");
    /* A request with neither subject nor SANs cannot be built. */
    {
        X509_NAME *empty = X509_NAME_new();
        X509_REQ  *none = NULL;

        ck_assert_int_eq(pki_csr_create(keys[PKI_KEY_EC_P256], empty, NULL, 0,
                                        &none),
                         CW_E_BADREQ);
        ck_assert_ptr_null(none);
        X509_NAME_free(empty);
    }
    GENERAL_NAMES_free(g);
    X509_NAME_free(subj);
    X509_REQ_free(back);
    X509_REQ_free(req);
    buf_cleanup(&der);
    buf_cleanup(&cn);
}
END_TEST

START_TEST(test_csr_ca_request)
{
    X509_NAME *subj = name_of("{\"CN\": \"Issuing CA 1\", \"O\": \"Ex\"}");
    X509_REQ  *req = NULL;
    STACK_OF(X509_EXTENSION) *exts;
    BASIC_CONSTRAINTS *bc;
    int        crit = 0;

    ck_assert_int_eq(pki_csr_create(keys[PKI_KEY_EC_P384], subj, NULL, 1,
                                    &req),
                     CW_OK);
    exts = X509_REQ_get_extensions(req);
    bc = X509V3_get_d2i(exts, NID_basic_constraints, &crit, NULL);
    ck_assert_ptr_nonnull(bc);
    ck_assert_int_ne(bc->ca, 0);
    ck_assert_int_eq(crit, 1);
    BASIC_CONSTRAINTS_free(bc);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
    X509_NAME_free(subj);
}
END_TEST

enum csr_mangle {
    MANGLE_NONE,
    MANGLE_TRUNCATE_1,
    MANGLE_TRUNCATE_HALF,
    MANGLE_TRAILING,
    MANGLE_FLIP_SIG,
    MANGLE_FLIP_SUBJECT,
    MANGLE_PEM_WRONG_LABEL,
    MANGLE_PEM_TWO_BLOCKS,
    MANGLE_PEM_HEADERS,
    MANGLE_PEM_BROKEN_SECOND,
    MANGLE_PEM_TEXT_AROUND,
};

static const struct {
    int               line;
    enum pki_key_type type;
    enum csr_mangle   mangle;
    enum cw_err       err;
} csr_bad_cases[] = {
    { __LINE__, PKI_KEY_EC_P256, MANGLE_NONE, CW_OK },
    { __LINE__, PKI_KEY_EC_P256, MANGLE_TRUNCATE_1, CW_E_BADCSR },
    { __LINE__, PKI_KEY_RSA2048, MANGLE_TRUNCATE_HALF, CW_E_BADCSR },
    { __LINE__, PKI_KEY_EC_P256, MANGLE_TRAILING, CW_E_BADCSR },
    { __LINE__, PKI_KEY_RSA2048, MANGLE_FLIP_SIG, CW_E_BADCSR },
    { __LINE__, PKI_KEY_EC_P384, MANGLE_FLIP_SIG, CW_E_BADCSR },
    { __LINE__, PKI_KEY_ED25519, MANGLE_FLIP_SIG, CW_E_BADCSR },
    { __LINE__, PKI_KEY_ED25519, MANGLE_FLIP_SUBJECT, CW_E_BADCSR },
    { __LINE__, PKI_KEY_EC_P256, MANGLE_PEM_WRONG_LABEL, CW_E_BADCSR },
    { __LINE__, PKI_KEY_EC_P256, MANGLE_PEM_TWO_BLOCKS, CW_E_BADCSR },
    { __LINE__, PKI_KEY_EC_P256, MANGLE_PEM_HEADERS, CW_E_BADCSR },
    { __LINE__, PKI_KEY_EC_P256, MANGLE_PEM_BROKEN_SECOND, CW_E_BADCSR },
    { __LINE__, PKI_KEY_RSA2048, MANGLE_PEM_TEXT_AROUND, CW_OK },
};

START_TEST(test_csr_bad)
{
    const __typeof__(csr_bad_cases[0]) *c = &csr_bad_cases[_i];
    X509_REQ  *req = csr_for(keys[c->type], "{\"CN\": \"bad.example.com\"}",
                             NULL);
    X509_REQ  *back = NULL;
    struct buf der;
    struct buf in;
    size_t     len;
    enum cw_err err;

    csr_der(req, &der);
    buf_init(&in, 2 * LIM_CSR_PEM);
    len = der.len;
    switch (c->mangle) {
    case MANGLE_NONE:
        break;
    case MANGLE_TRUNCATE_1:
        len--;
        break;
    case MANGLE_TRUNCATE_HALF:
        len /= 2;
        break;
    case MANGLE_TRAILING:
        ck_assert_int_eq(buf_append(&der, "\0", 1), CW_OK);
        len++;
        break;
    case MANGLE_FLIP_SIG:
        der.p[der.len - 1] ^= 0x01;      /* the signature is last */
        break;
    case MANGLE_FLIP_SUBJECT: {
        uint8_t *hit = memmem(der.p, der.len, "bad.example", 11);

        ck_assert_ptr_nonnull(hit);
        hit[0] = 'c';
        break;
    }
    case MANGLE_PEM_WRONG_LABEL:
    case MANGLE_PEM_TWO_BLOCKS:
    case MANGLE_PEM_HEADERS:
    case MANGLE_PEM_BROKEN_SECOND:
    case MANGLE_PEM_TEXT_AROUND: {
        BIO  *bio = BIO_new(BIO_s_mem());
        char *data = NULL;
        long  n;

        if (c->mangle == MANGLE_PEM_WRONG_LABEL)
            PEM_write_bio(bio, "CERTIFICATE", "", der.p, (long)der.len);
        else if (c->mangle == MANGLE_PEM_HEADERS)
            PEM_write_bio(bio, "CERTIFICATE REQUEST", "X-Note: y\n", der.p,
                          (long)der.len);
        else if (c->mangle == MANGLE_PEM_BROKEN_SECOND) {
            PEM_write_bio_X509_REQ(bio, req);
            BIO_puts(bio, "-----BEGIN CERTIFICATE REQUEST-----\n!!\n");
        } else if (c->mangle == MANGLE_PEM_TEXT_AROUND) {
            BIO_puts(bio, "Certificate Request:\n    Data: ...\n");
            PEM_write_bio_X509_REQ(bio, req);
            BIO_puts(bio, "\n-- \nsent from a phone\n");
        } else {
            PEM_write_bio_X509_REQ(bio, req);
            PEM_write_bio_X509_REQ(bio, req);
        }
        n = BIO_get_mem_data(bio, &data);
        ck_assert_int_eq(buf_append(&in, data, (size_t)n), CW_OK);
        BIO_free(bio);
        break;
    }
    }
    if (in.len > 0)
        err = pki_csr_parse(in.p, in.len, &back);
    else
        err = pki_csr_parse(der.p, len, &back);
    ck_assert_msg(err == c->err, "line %d: %d", c->line, err);
    if (c->err != CW_OK)
        ck_assert_ptr_null(back);
    X509_REQ_free(back);
    back = NULL;
    /* The issuance reader (fast, then OpenSSL's) decides the same, and the
     * fast one takes none of the bad requests. */
    {
        EVP_PKEY *pub = NULL;

        if (in.len > 0)
            err = pki_csr_parse_key(in.p, in.len, &back, &pub);
        else
            err = pki_csr_parse_key(der.p, len, &back, &pub);
        ck_assert_msg(err == c->err, "line %d: parse_key %d", c->line, err);
        ck_assert_int_eq(pub != NULL, c->err == CW_OK);
        EVP_PKEY_free(pub);
        X509_REQ_free(back);
        back = NULL;
        pub = NULL;
        if (in.len == 0)
            ck_assert_int_eq(pki_csr_fast(der.p, len, &back, &pub),
                             c->err == CW_OK);
        EVP_PKEY_free(pub);
    }
    X509_REQ_free(back);
    X509_REQ_free(req);
    buf_cleanup(&der);
    buf_cleanup(&in);
}
END_TEST

START_TEST(test_csr_refused_keys)
{
    X509_REQ  *weak = raw_csr(rsa1024);
    X509_REQ  *k1 = raw_csr(k256k1);
    X509_REQ  *back = NULL;
    struct buf der;
    X509_NAME *n = name_of("{\"CN\": \"x\"}");

    csr_der(weak, &der);
    ck_assert_int_eq(pki_csr_parse(der.p, der.len, &back), CW_E_BADCSR);
    {
        EVP_PKEY *pub = NULL;

        ck_assert_int_eq(pki_csr_fast(der.p, der.len, &back, &pub), 0);
        ck_assert_ptr_null(pub);
    }
    buf_cleanup(&der);
    csr_der(k1, &der);
    ck_assert_int_eq(pki_csr_parse(der.p, der.len, &back), CW_E_BADCSR);
    ck_assert_ptr_null(back);
    /* Nor does pki_csr_create sign for them. */
    ck_assert_int_eq(pki_csr_create(rsa1024, n, NULL, 0, &back), CW_E_BADKEY);
    buf_cleanup(&der);
    X509_NAME_free(n);
    X509_REQ_free(weak);
    X509_REQ_free(k1);
}
END_TEST

START_TEST(test_csr_garbage)
{
    static const char *const inputs[] = {
        "garbage", "\x30", "\x30\x82\xff\xff", "-----BEGIN CERTIFICATE REQUEST-----\n",
        ("-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n"
         "-----END CERTIFICATE REQUEST-----\n"),
    };
    X509_REQ *req = NULL;
    uint8_t  *big;

    for (size_t i = 0; i < N_ELEMS(inputs); i++) {
        ck_assert_msg(pki_csr_parse((const uint8_t *)inputs[i],
                                    strlen(inputs[i]), &req) == CW_E_BADCSR,
                      "input %zu", i);
    }
    ck_assert_int_eq(pki_csr_parse((const uint8_t *)"", 0, &req),
                     CW_E_BADCSR);
    big = cw_xcalloc(1, LIM_CSR_PEM + 1);
    big[0] = 0x30;
    ck_assert_int_eq(pki_csr_parse(big, LIM_CSR_DER + 1, &req),
                     CW_E_TOOLARGE);
    memcpy(big, "-----BEGIN CERTIFICATE REQUEST-----\n", 36);
    ck_assert_int_eq(pki_csr_parse(big, LIM_CSR_PEM + 1, &req),
                     CW_E_TOOLARGE);
    ck_assert_ptr_null(req);
    free(big);
}
END_TEST

/* ==== certificates: build, sign, verify ================================ */

#define LEAF_SANS                                                           \
    "[{\"type\": \"dns\", \"value\": \"www.example.com\"},"                 \
    " {\"type\": \"dns\", \"value\": \"*.Example.com\"},"                   \
    " {\"type\": \"ip\", \"value\": \"192.0.2.10\"},"                       \
    " {\"type\": \"ip\", \"value\": \"2001:db8::10\"},"                     \
    " {\"type\": \"email\", \"value\": \"admin@example.com\"},"             \
    " {\"type\": \"uri\", \"value\": \"https://www.example.com/\"},"        \
    " {\"type\": \"upn\", \"value\": \"host$@corp.example.com\"}]"
#define LEAF_SANS_BACK                                                      \
    "[{\"type\": \"dns\", \"value\": \"www.example.com\"},"                 \
    " {\"type\": \"dns\", \"value\": \"*.example.com\"},"                   \
    " {\"type\": \"ip\", \"value\": \"192.0.2.10\"},"                       \
    " {\"type\": \"ip\", \"value\": \"2001:db8::10\"},"                     \
    " {\"type\": \"email\", \"value\": \"admin@example.com\"},"             \
    " {\"type\": \"uri\", \"value\": \"https://www.example.com/\"},"        \
    " {\"type\": \"upn\", \"value\": \"host$@corp.example.com\"}]"

static const struct {
    int               line;
    enum pki_key_type ca;
    enum pki_key_type leaf;
} pair_cases[] = {
    { __LINE__, PKI_KEY_RSA2048, PKI_KEY_RSA2048 },
    { __LINE__, PKI_KEY_RSA3072, PKI_KEY_EC_P256 },
    { __LINE__, PKI_KEY_RSA4096, PKI_KEY_ED25519 },
    { __LINE__, PKI_KEY_EC_P256, PKI_KEY_RSA3072 },
    { __LINE__, PKI_KEY_EC_P384, PKI_KEY_EC_P384 },
    { __LINE__, PKI_KEY_EC_P521, PKI_KEY_EC_P521 },
    { __LINE__, PKI_KEY_ED25519, PKI_KEY_EC_P256 },
    { __LINE__, PKI_KEY_EC_P256, PKI_KEY_RSA4096 },
};

static int
sig_nid_of(enum pki_key_type t)
{
    for (size_t i = 0; i < N_ELEMS(key_cases); i++) {
        if (key_cases[i].type == t)
            return key_cases[i].sig_nid;
    }
    return NID_undef;
}

static char *
hex_of(enum cw_err (*fn)(const X509 *, struct buf *), const X509 *x)
{
    struct buf b;
    char      *s;

    buf_init(&b, 256);
    ck_assert_int_eq(fn(x, &b), CW_OK);
    s = cw_xstrdup((char *)b.p);
    buf_cleanup(&b);
    return s;
}

START_TEST(test_cert_issue_and_verify)
{
    const __typeof__(pair_cases[0]) *c = &pair_cases[_i];
    EVP_PKEY            *cakey = keys[c->ca];
    EVP_PKEY            *lkey = keys[c->leaf];
    struct pki_key_info  linfo;
    struct pki_cert_info ci;
    struct pki_cert_info li;
    X509                *root;
    X509                *leaf;
    json_t              *j = NULL;
    char                *ski_root;
    char                *aki_root;
    char                *ski_leaf;
    char                *aki_leaf;
    char                 want_ski[2 * PKI_KEYID_LEN + 1];
    uint8_t              id[PKI_KEYID_LEN];
    char                 tag[64];
    unsigned             want_ku;
    STACK_OF(OPENSSL_STRING) *ocsp;

    root = make_root(cakey, "certward Test Root", 0, NULL, 0, NULL, 0);
    leaf = make_leaf(lkey, root, cakey,
                     "{\"CN\": \"www.example.com\", \"O\": \"Example\"}",
                     LEAF_SANS, 30);
    ck_assert_msg(verify(root, root, NULL) == X509_V_OK, "line %d: root",
                  c->line);
    ck_assert_msg(verify(leaf, root, NULL) == X509_V_OK, "line %d: %s",
                  c->line, X509_verify_cert_error_string(
                               verify(leaf, root, NULL)));
    ck_assert_int_eq(X509_get_signature_nid(leaf), sig_nid_of(c->ca));
    ck_assert_int_eq(X509_get_signature_nid(root), sig_nid_of(c->ca));

    /* Key identifiers: leaf SKI from its key, AKI = issuer SKI. */
    ski_root = hex_of(pki_cert_ski_hex, root);
    aki_root = hex_of(pki_cert_aki_hex, root);
    ski_leaf = hex_of(pki_cert_ski_hex, leaf);
    aki_leaf = hex_of(pki_cert_aki_hex, leaf);
    ck_assert_int_eq(pki_key_id(lkey, id), CW_OK);
    sp_hex_encode(id, sizeof(id), want_ski);
    ck_assert_str_eq(ski_leaf, want_ski);
    ck_assert_str_eq(aki_leaf, ski_root);
    ck_assert_str_eq(aki_root, ski_root);

    /* basicConstraints and keyUsage. */
    ck_assert_int_eq(pki_cert_info_get(root, &ci), CW_OK);
    ck_assert_int_eq(pki_cert_info_get(leaf, &li), CW_OK);
    ck_assert_int_eq(ci.is_ca, 1);
    ck_assert_int_eq(ci.path_len, 0);
    ck_assert_int_eq(li.is_ca, 0);
    ck_assert_int_eq(li.path_len, -1);
    ck_assert_int_eq(ext_critical(root, NID_basic_constraints), 1);
    ck_assert_int_eq(ext_critical(leaf, NID_basic_constraints), 0);
    ck_assert_int_eq(ext_critical(root, NID_key_usage), 1);
    ck_assert_int_eq(ext_critical(leaf, NID_key_usage), 1);
    ck_assert_int_eq(ext_critical(leaf, NID_subject_alt_name), 0);
    ck_assert_uint_eq(ci.key_usage, PKI_KU(PKI_KU_KEY_CERT_SIGN) |
                                        PKI_KU(PKI_KU_CRL_SIGN) |
                                        PKI_KU(PKI_KU_DIGITAL_SIGNATURE));
    ck_assert_int_eq(pki_key_describe(lkey, &linfo), CW_OK);
    want_ku = PKI_KU(PKI_KU_DIGITAL_SIGNATURE);
    if (linfo.alg == PKI_ALG_RSA)
        want_ku |= PKI_KU(PKI_KU_KEY_ENCIPHERMENT);
    ck_assert_msg(li.key_usage == want_ku, "line %d: ku %x", c->line,
                  li.key_usage);

    /* Validity, serial. */
    ck_assert_int_eq(li.not_after - li.not_before, 30 * 86400 + 3600);
    ck_assert_uint_le(strlen(li.serial), 40);
    ck_assert_uint_eq(strspn(li.serial, "0123456789abcdef"),
                      strlen(li.serial));
    ck_assert_str_ne(li.serial, ci.serial);

    /* The whole view. */
    ck_assert_int_eq(pki_cert_to_json(leaf, &j), CW_OK);
    ck_assert_msg(json_eq_text(json_object_get(j, "sans"), LEAF_SANS_BACK),
                  "line %d: %s", c->line, dump(json_object_get(j, "sans")));
    ck_assert_msg(json_eq_text(json_object_get(j, "eku"),
                               "[\"serverAuth\", \"clientAuth\"]"),
                  "line %d", c->line);
    ck_assert_str_eq(json_string_value(json_object_get(j, "subject_dn")),
                     "CN=www.example.com,O=Example");
    ck_assert_str_eq(json_string_value(json_object_get(j, "issuer_dn")),
                     "CN=certward Test Root,O=certward tests,C=DE");
    ck_assert_str_eq(json_string_value(json_object_get(j, "serial")),
                     li.serial);
    ck_assert_str_eq(json_string_value(json_object_get(j, "aki")), ski_root);
    ck_assert(json_is_false(json_object_get(j, "is_ca")));
    json_decref(j);
    j = NULL;
    ck_assert_int_eq(pki_cert_to_json(root, &j), CW_OK);
    ck_assert_msg(json_eq_text(json_object_get(j, "key_usage"),
                               "[\"digitalSignature\", \"keyCertSign\","
                               " \"cRLSign\"]"),
                  "line %d", c->line);
    json_decref(j);

    /* AIA and CDP. */
    ocsp = X509_get1_ocsp(leaf);
    ck_assert_int_eq(sk_OPENSSL_STRING_num(ocsp), 1);
    ck_assert_str_eq(sk_OPENSSL_STRING_value(ocsp, 0),
                     "http://pki.example.com/ocsp");
    X509_email_free(ocsp);
    {
        CRL_DIST_POINTS       *cdp;
        AUTHORITY_INFO_ACCESS *aia;

        cdp = X509_get_ext_d2i(leaf, NID_crl_distribution_points, NULL,
                               NULL);
        aia = X509_get_ext_d2i(leaf, NID_info_access, NULL, NULL);
        ck_assert_int_eq(sk_DIST_POINT_num(cdp), 1);
        ck_assert_int_eq(sk_ACCESS_DESCRIPTION_num(aia), 2);
        CRL_DIST_POINTS_free(cdp);
        AUTHORITY_INFO_ACCESS_free(aia);
    }

    /* Other implementations agree. */
    snprintf(tag, sizeof(tag), "pair%d-%s-%s", c->line,
             pki_key_type_name(c->ca), pki_key_type_name(c->leaf));
    verify_external(tag, leaf, NULL, root, 1);

    free(ski_root);
    free(aki_root);
    free(ski_leaf);
    free(aki_leaf);
    X509_free(leaf);
    X509_free(root);
}
END_TEST

START_TEST(test_cert_intermediate)
{
    EVP_PKEY            *rk = keys[PKI_KEY_EC_P384];
    EVP_PKEY            *ik = keys[PKI_KEY_EC_P256];
    X509                *root = make_root(rk, "certward Root 2", 1, NULL, 0,
                                          NULL, 0);
    X509_NAME           *isubj = name_of("{\"CN\": \"certward Issuing\","
                                         " \"O\": \"certward tests\"}");
    struct pki_cert_spec s;
    X509                *inter = NULL;
    X509                *sub = NULL;
    X509                *leaf;
    STACK_OF(X509)      *untrusted = sk_X509_new_null();

    spec_base(&s, ik, isubj, 1825);
    s.is_ca = 1;
    s.path_len = 0;
    s.issuer = root;
    s.ocsp_url = "http://pki.example.com/ocsp";
    ck_assert_int_eq(pki_build_cert(&s, &inter), CW_OK);
    ck_assert_int_eq(pki_cert_sign(inter, rk), CW_OK);
    leaf = make_leaf(keys[PKI_KEY_RSA2048], inter, ik,
                     "{\"CN\": \"www.example.com\"}", LEAF_SANS, 90);
    sk_X509_push(untrusted, inter);
    ck_assert_int_eq(verify(leaf, root, untrusted), X509_V_OK);
    verify_external("intermediate", leaf, inter, root, 1);

    /* The intermediate's pathlen 0 forbids another CA below it, and the
     * root's pathlen 1 a pathlen of 1 below it. */
    s.issuer = inter;
    s.path_len = -1;
    ck_assert_int_eq(pki_build_cert(&s, &sub), CW_E_POLICY);
    s.issuer = root;
    s.path_len = 1;
    ck_assert_int_eq(pki_build_cert(&s, &sub), CW_E_POLICY);
    /* A leaf cannot issue. */
    s.issuer = leaf;
    s.is_ca = 0;
    s.path_len = -1;
    ck_assert_int_eq(pki_build_cert(&s, &sub), CW_E_POLICY);
    ck_assert_ptr_null(sub);

    sk_X509_free(untrusted);
    X509_NAME_free(isubj);
    X509_free(leaf);
    X509_free(inter);
    X509_free(root);
}
END_TEST

START_TEST(test_cert_subjectless)
{
    X509 *root = make_root(keys[PKI_KEY_EC_P256], "certward Root 3", -1, NULL,
                           0, NULL, 0);
    X509 *leaf = make_leaf(keys[PKI_KEY_EC_P256], root, keys[PKI_KEY_EC_P256],
                           "{}",
                           "[{\"type\": \"dns\", \"value\": \"acme.example.net\"}]",
                           7);

    ck_assert_int_eq(X509_NAME_entry_count(X509_get_subject_name(leaf)), 0);
    /* RFC 5280 4.2.1.6: an empty subject makes the SAN critical. */
    ck_assert_int_eq(ext_critical(leaf, NID_subject_alt_name), 1);
    ck_assert_int_eq(verify(leaf, root, NULL), X509_V_OK);
    verify_external("subjectless", leaf, NULL, root, 1);
    X509_free(leaf);
    X509_free(root);
}
END_TEST

START_TEST(test_cert_validity_clip)
{
    EVP_PKEY            *k = keys[PKI_KEY_EC_P256];
    X509                *root = make_root(k, "certward Root 4", -1, NULL, 0,
                                          NULL, 0);
    X509_NAME           *subj = name_of("{\"CN\": \"long.example.com\"}");
    struct pki_cert_spec s;
    X509                *leaf = NULL;
    time_t               root_na;
    time_t               nb;
    time_t               na;

    spec_base(&s, k, subj, 5000);           /* beyond the root's 3650 */
    s.issuer = root;
    ck_assert_int_eq(pki_build_cert(&s, &leaf), CW_E_POLICY);
    ck_assert_ptr_null(leaf);
    s.flags = PKI_BUILD_CLIP_VALIDITY;
    ck_assert_int_eq(pki_build_cert(&s, &leaf), CW_OK);
    ck_assert_int_eq(pki_time_get(X509_get0_notAfter(root), &root_na), CW_OK);
    ck_assert_int_eq(pki_time_get(X509_get0_notAfter(leaf), &na), CW_OK);
    ck_assert_int_eq(pki_time_get(X509_get0_notBefore(leaf), &nb), CW_OK);
    ck_assert_int_eq(na, root_na);
    ck_assert_int_eq(nb, s.not_before);
    X509_free(leaf);
    X509_NAME_free(subj);
    X509_free(root);
}
END_TEST

enum spec_mutation {
    MUT_EC_KEY_ENCIPHERMENT,
    MUT_ED_KEY_AGREEMENT,
    MUT_RSA_KEY_AGREEMENT,
    MUT_LEAF_KEY_CERT_SIGN,
    MUT_CA_NO_KEY_CERT_SIGN,
    MUT_ENCIPHER_ONLY_ALONE,
    MUT_EMPTY_SUBJECT_NO_SANS,
    MUT_CA_EMPTY_SUBJECT,
    MUT_VALIDITY_BACKWARDS,
    MUT_SERIAL_ZERO,
    MUT_SERIAL_TOP_BIT,
    MUT_SERIAL_TOO_LONG,
    MUT_SERIAL_EMPTY,
    MUT_LEAF_PATHLEN,
    MUT_LEAF_NAME_CONSTRAINTS,
    MUT_EKU_UNKNOWN,
    MUT_EKU_DUPLICATE,
    MUT_EKU_BAD_OID,
    MUT_CDP_NOT_URL,
    MUT_OCSP_SPACE,
    MUT_NC_HOST_BITS,
    MUT_NC_PREFIX_TOO_LONG,
    MUT_NC_WILDCARD,
    MUT_NC_URI,
    MUT_WEAK_KEY,
    MUT_EC_KEY_AGREEMENT_OK,
    MUT_RSA_EXPLICIT_OK,
};

static const struct {
    int                line;
    enum spec_mutation mut;
    enum cw_err        err;
} spec_cases[] = {
    { __LINE__, MUT_EC_KEY_ENCIPHERMENT, CW_E_BADREQ },
    { __LINE__, MUT_ED_KEY_AGREEMENT, CW_E_BADREQ },
    { __LINE__, MUT_RSA_KEY_AGREEMENT, CW_E_BADREQ },
    { __LINE__, MUT_LEAF_KEY_CERT_SIGN, CW_E_BADREQ },
    { __LINE__, MUT_CA_NO_KEY_CERT_SIGN, CW_E_BADREQ },
    { __LINE__, MUT_ENCIPHER_ONLY_ALONE, CW_E_BADREQ },
    { __LINE__, MUT_EMPTY_SUBJECT_NO_SANS, CW_E_BADREQ },
    { __LINE__, MUT_CA_EMPTY_SUBJECT, CW_E_BADREQ },
    { __LINE__, MUT_VALIDITY_BACKWARDS, CW_E_BADREQ },
    { __LINE__, MUT_SERIAL_ZERO, CW_E_BADREQ },
    { __LINE__, MUT_SERIAL_TOP_BIT, CW_E_BADREQ },
    { __LINE__, MUT_SERIAL_TOO_LONG, CW_E_BADREQ },
    { __LINE__, MUT_SERIAL_EMPTY, CW_E_BADREQ },
    { __LINE__, MUT_LEAF_PATHLEN, CW_E_BADREQ },
    { __LINE__, MUT_LEAF_NAME_CONSTRAINTS, CW_E_BADREQ },
    { __LINE__, MUT_EKU_UNKNOWN, CW_E_BADREQ },
    { __LINE__, MUT_EKU_DUPLICATE, CW_E_BADREQ },
    { __LINE__, MUT_EKU_BAD_OID, CW_E_BADREQ },
    { __LINE__, MUT_CDP_NOT_URL, CW_E_BADREQ },
    { __LINE__, MUT_OCSP_SPACE, CW_E_BADREQ },
    { __LINE__, MUT_NC_HOST_BITS, CW_E_BADREQ },
    { __LINE__, MUT_NC_PREFIX_TOO_LONG, CW_E_BADREQ },
    { __LINE__, MUT_NC_WILDCARD, CW_E_BADREQ },
    { __LINE__, MUT_NC_URI, CW_E_BADREQ },
    { __LINE__, MUT_WEAK_KEY, CW_E_BADKEY },
    { __LINE__, MUT_EC_KEY_AGREEMENT_OK, CW_OK },
    { __LINE__, MUT_RSA_EXPLICIT_OK, CW_OK },
};

START_TEST(test_build_refusals)
{
    static const char *const eku_bad[] = { "fooAuth" };
    static const char *const eku_dup[] = { "serverAuth", "1.3.6.1.5.5.7.3.1" };
    static const char *const eku_oid[] = { "1..2" };
    static const struct pki_nc_entry nc_dns[] = {
        { PKI_SAN_DNS, "example.com" },
    };
    static const struct pki_nc_entry nc_host_bits[] = {
        { PKI_SAN_IP, "10.0.0.1/8" },
    };
    static const struct pki_nc_entry nc_prefix[] = {
        { PKI_SAN_IP, "10.0.0.0/33" },
    };
    static const struct pki_nc_entry nc_wild[] = {
        { PKI_SAN_DNS, "*.example.com" },
    };
    static const struct pki_nc_entry nc_uri[] = {
        { PKI_SAN_URI, "https://example.com" },
    };
    const __typeof__(spec_cases[0]) *c = &spec_cases[_i];
    X509_NAME           *subj = name_of("{\"CN\": \"spec.example.com\"}");
    X509_NAME           *empty = X509_NAME_new();
    GENERAL_NAMES       *sans = sans_of(
        "[{\"type\": \"dns\", \"value\": \"spec.example.com\"}]");
    struct pki_cert_spec s;
    X509                *x = NULL;
    enum cw_err          err;

    spec_base(&s, keys[PKI_KEY_EC_P256], subj, 30);
    s.sans = sans;
    switch (c->mut) {
    case MUT_EC_KEY_ENCIPHERMENT:
        s.key_usage = PKI_KU(PKI_KU_DIGITAL_SIGNATURE) |
                      PKI_KU(PKI_KU_KEY_ENCIPHERMENT);
        break;
    case MUT_ED_KEY_AGREEMENT:
        s.pubkey = keys[PKI_KEY_ED25519];
        s.key_usage = PKI_KU(PKI_KU_KEY_AGREEMENT);
        break;
    case MUT_RSA_KEY_AGREEMENT:
        s.pubkey = keys[PKI_KEY_RSA2048];
        s.key_usage = PKI_KU(PKI_KU_KEY_AGREEMENT);
        break;
    case MUT_LEAF_KEY_CERT_SIGN:
        s.key_usage = PKI_KU(PKI_KU_KEY_CERT_SIGN);
        break;
    case MUT_CA_NO_KEY_CERT_SIGN:
        s.is_ca = 1;
        s.key_usage = PKI_KU(PKI_KU_DIGITAL_SIGNATURE);
        break;
    case MUT_ENCIPHER_ONLY_ALONE:
        s.key_usage = PKI_KU(PKI_KU_DIGITAL_SIGNATURE) |
                      PKI_KU(PKI_KU_ENCIPHER_ONLY);
        break;
    case MUT_EMPTY_SUBJECT_NO_SANS:
        s.subject = empty;
        s.sans = NULL;
        break;
    case MUT_CA_EMPTY_SUBJECT:
        s.subject = empty;
        s.is_ca = 1;
        break;
    case MUT_VALIDITY_BACKWARDS:
        s.not_after = s.not_before;
        break;
    case MUT_SERIAL_ZERO:
        memset(s.serial, 0, sizeof(s.serial));
        break;
    case MUT_SERIAL_TOP_BIT:
        s.serial[0] = 0x80;
        break;
    case MUT_SERIAL_TOO_LONG:
        s.serial_len = PKI_SERIAL_LEN + 1;
        break;
    case MUT_SERIAL_EMPTY:
        s.serial_len = 0;
        break;
    case MUT_LEAF_PATHLEN:
        s.path_len = 0;
        break;
    case MUT_LEAF_NAME_CONSTRAINTS:
        s.nc_permitted = nc_dns;
        s.n_permitted = 1;
        break;
    case MUT_EKU_UNKNOWN:
        s.eku = eku_bad;
        s.n_eku = 1;
        break;
    case MUT_EKU_DUPLICATE:
        s.eku = eku_dup;
        s.n_eku = 2;
        break;
    case MUT_EKU_BAD_OID:
        s.eku = eku_oid;
        s.n_eku = 1;
        break;
    case MUT_CDP_NOT_URL:
        s.crl_url = "pki.example.com/x.crl";
        break;
    case MUT_OCSP_SPACE:
        s.ocsp_url = "http://pki.example.com/o csp";
        break;
    case MUT_NC_HOST_BITS:
        s.is_ca = 1;
        s.nc_permitted = nc_host_bits;
        s.n_permitted = 1;
        break;
    case MUT_NC_PREFIX_TOO_LONG:
        s.is_ca = 1;
        s.nc_excluded = nc_prefix;
        s.n_excluded = 1;
        break;
    case MUT_NC_WILDCARD:
        s.is_ca = 1;
        s.nc_permitted = nc_wild;
        s.n_permitted = 1;
        break;
    case MUT_NC_URI:
        s.is_ca = 1;
        s.nc_permitted = nc_uri;
        s.n_permitted = 1;
        break;
    case MUT_WEAK_KEY:
        s.pubkey = rsa1024;
        break;
    case MUT_EC_KEY_AGREEMENT_OK:
        s.key_usage = PKI_KU(PKI_KU_DIGITAL_SIGNATURE) |
                      PKI_KU(PKI_KU_KEY_AGREEMENT);
        break;
    case MUT_RSA_EXPLICIT_OK:
        s.pubkey = keys[PKI_KEY_RSA3072];
        s.key_usage = PKI_KU(PKI_KU_DIGITAL_SIGNATURE);
        break;
    }
    err = pki_build_cert(&s, &x);
    ck_assert_msg(err == c->err, "line %d: %d", c->line, err);
    if (err == CW_OK) {
        struct pki_cert_info info;

        /* Fingerprints need a signed certificate: self-sign it. */
        ck_assert_int_eq(pki_cert_sign(x, s.pubkey), CW_OK);
        ck_assert_int_eq(pki_cert_info_get(x, &info), CW_OK);
        ck_assert_uint_eq(info.key_usage, s.key_usage);
    } else {
        ck_assert_ptr_null(x);
    }
    X509_free(x);
    GENERAL_NAMES_free(sans);
    X509_NAME_free(subj);
    X509_NAME_free(empty);
}
END_TEST

/* ==== name constraints ================================================= */

static const struct {
    int         line;
    const char *subject;
    const char *sans;
    enum cw_err err;
} nc_cases[] = {
    { __LINE__, "{\"CN\": \"www.example.com\"}",
      "[{\"type\": \"dns\", \"value\": \"www.example.com\"},"
      " {\"type\": \"ip\", \"value\": \"10.1.2.3\"}]",
      CW_OK },
    { __LINE__, "{\"CN\": \"example.com\"}",
      "[{\"type\": \"dns\", \"value\": \"example.com\"},"
      " {\"type\": \"email\", \"value\": \"a@example.com\"}]",
      CW_OK },
    { __LINE__, "{}", "[{\"type\": \"dns\", \"value\": \"api.example.com\"}]",
      CW_OK },
    { __LINE__, "{\"CN\": \"www.other.org\"}",
      "[{\"type\": \"dns\", \"value\": \"www.other.org\"}]", CW_E_POLICY },
    { __LINE__, "{\"CN\": \"www.example.com\"}",
      "[{\"type\": \"dns\", \"value\": \"www.example.com\"},"
      " {\"type\": \"dns\", \"value\": \"evil.org\"}]",
      CW_E_POLICY },
    { __LINE__, "{\"CN\": \"www.example.com\"}",
      "[{\"type\": \"dns\", \"value\": \"www.example.com.evil.org\"}]",
      CW_E_POLICY },
    { __LINE__, "{\"CN\": \"x.bad.example.com\"}",
      "[{\"type\": \"dns\", \"value\": \"x.bad.example.com\"}]",
      CW_E_POLICY },
    { __LINE__, "{\"CN\": \"www.example.com\"}",
      "[{\"type\": \"dns\", \"value\": \"www.example.com\"},"
      " {\"type\": \"ip\", \"value\": \"192.168.1.1\"}]",
      CW_E_POLICY },
    { __LINE__, "{\"CN\": \"www.example.com\"}",
      "[{\"type\": \"dns\", \"value\": \"www.example.com\"},"
      " {\"type\": \"email\", \"value\": \"a@other.org\"}]",
      CW_E_POLICY },
    { __LINE__, "{\"CN\": \"evil.org\"}", NULL, CW_E_POLICY },
};

START_TEST(test_name_constraints)
{
    static const struct pki_nc_entry permitted[] = {
        { PKI_SAN_DNS, "example.com" },
        { PKI_SAN_IP, "10.0.0.0/8" },
        { PKI_SAN_IP, "2001:db8::/32" },
        { PKI_SAN_EMAIL, "example.com" },
    };
    static const struct pki_nc_entry excluded[] = {
        { PKI_SAN_DNS, "bad.example.com" },
    };
    const __typeof__(nc_cases[0]) *c = &nc_cases[_i];
    EVP_PKEY            *k = keys[PKI_KEY_EC_P256];
    X509                *root = make_root(k, "certward Constrained", -1,
                                          permitted, N_ELEMS(permitted),
                                          excluded, N_ELEMS(excluded));
    X509                *leaf;
    STACK_OF(X509)      *chain = sk_X509_new_null();
    NAME_CONSTRAINTS    *nc;
    int                  crit = 0;
    char                 tag[64];

    /* The extension is critical and carries what was asked for. */
    nc = X509_get_ext_d2i(root, NID_name_constraints, &crit, NULL);
    ck_assert_ptr_nonnull(nc);
    ck_assert_int_eq(crit, 1);
    ck_assert_int_eq(sk_GENERAL_SUBTREE_num(nc->permittedSubtrees), 4);
    ck_assert_int_eq(sk_GENERAL_SUBTREE_num(nc->excludedSubtrees), 1);
    {
        GENERAL_SUBTREE *ip = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees,
                                                       1);
        static const uint8_t want[8] = { 10, 0, 0, 0, 255, 0, 0, 0 };

        ck_assert_int_eq(ip->base->type, GEN_IPADD);
        ck_assert_int_eq(ASN1_STRING_length(ip->base->d.ip), 8);
        ck_assert_mem_eq(ASN1_STRING_get0_data(ip->base->d.ip), want, 8);
    }
    NAME_CONSTRAINTS_free(nc);

    leaf = make_leaf(k, root, k, c->subject, c->sans, 30);
    sk_X509_push(chain, root);
    ck_assert_msg(pki_build_nc_check(leaf, chain) == c->err, "line %d",
                  c->line);
    /* Verifiers agree with the check. */
    ck_assert_msg((verify(leaf, root, NULL) == X509_V_OK) == (c->err == CW_OK),
                  "line %d: X509_verify_cert", c->line);
    snprintf(tag, sizeof(tag), "nc%d", c->line);
    verify_external(tag, leaf, NULL, root, c->err == CW_OK);
    sk_X509_free(chain);
    X509_free(leaf);
    X509_free(root);
}
END_TEST

/* ==== serials, parsing ================================================= */

START_TEST(test_serial)
{
    uint8_t              a[PKI_SERIAL_LEN];
    uint8_t              b[PKI_SERIAL_LEN];
    char                 hex[PKI_SERIAL_HEX_SIZE];
    X509_NAME           *subj = name_of("{\"CN\": \"serial.example.com\"}");
    struct pki_cert_spec s;
    X509                *x = NULL;
    ASN1_INTEGER        *ai;

    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(pki_serial_random(a), CW_OK);
        ck_assert_int_eq(a[0] & 0x80, 0);
        ck_assert_int_eq(pki_serial_random(b), CW_OK);
        ck_assert_mem_ne(a, b, sizeof(a));
    }
    /* The hex of a random serial is what a certificate with it says
     * (one in 128 starts with a zero octet, which the hex drops). */
    for (int i = 0; i < 200; i++) {
        char mine[PKI_SERIAL_HEX_SIZE];

        ck_assert_int_eq(pki_serial_random_hex(a, mine), CW_OK);
        spec_base(&s, keys[PKI_KEY_EC_P256], subj, 1);
        memcpy(s.serial, a, PKI_SERIAL_LEN);
        s.serial_len = PKI_SERIAL_LEN;
        ck_assert_int_eq(pki_build_cert(&s, &x), CW_OK);
        ck_assert_int_eq(pki_cert_serial_hex(x, hex), CW_OK);
        ck_assert_str_eq(hex, mine);
        X509_free(x);
        x = NULL;
    }
    /* Leading zero octets are not part of the number. */
    spec_base(&s, keys[PKI_KEY_EC_P256], subj, 1);
    memcpy(s.serial, "\x00\x01\x02", 3);
    s.serial_len = 3;
    ck_assert_int_eq(pki_build_cert(&s, &x), CW_OK);
    ck_assert_int_eq(pki_cert_serial_hex(x, hex), CW_OK);
    ck_assert_str_eq(hex, "0102");
    X509_free(x);
    x = NULL;
    memset(s.serial, 0x7f, PKI_SERIAL_LEN);
    s.serial_len = PKI_SERIAL_LEN;
    ck_assert_int_eq(pki_build_cert(&s, &x), CW_OK);
    ck_assert_int_eq(pki_cert_serial_hex(x, hex), CW_OK);
    ck_assert_str_eq(hex, "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f");
    X509_free(x);
    /* Serials other software may write: zero, negative, 21 octets. */
    ai = ASN1_INTEGER_new();
    ck_assert_int_eq(ASN1_INTEGER_set(ai, 0), 1);
    ck_assert_int_eq(pki_serial_hex(ai, hex), CW_E_BADCERT);
    ck_assert_int_eq(ASN1_INTEGER_set(ai, -5), 1);
    ck_assert_int_eq(pki_serial_hex(ai, hex), CW_E_BADCERT);
    ck_assert_int_eq(ASN1_INTEGER_set(ai, 255), 1);
    ck_assert_int_eq(pki_serial_hex(ai, hex), CW_OK);
    ck_assert_str_eq(hex, "ff");
    {
        BIGNUM *bn = BN_new();

        ck_assert_int_eq(BN_set_bit(bn, 159), 1);   /* 21 octets encoded */
        ck_assert_ptr_nonnull(BN_to_ASN1_INTEGER(bn, ai));
        ck_assert_int_eq(pki_serial_hex(ai, hex), CW_E_BADCERT);
        BN_free(bn);
    }
    ASN1_INTEGER_free(ai);
    X509_NAME_free(subj);
}
END_TEST

START_TEST(test_time)
{
    char       ts[PKI_RFC3339_SIZE];
    ASN1_TIME *t = ASN1_TIME_new();
    time_t     back = 0;

    pki_time_rfc3339((time_t)1700000000, ts);
    ck_assert_str_eq(ts, "2023-11-14T22:13:20Z");
    /* UTCTime before 2050, GeneralizedTime after. */
    ck_assert_ptr_nonnull(ASN1_TIME_set(t, (time_t)2556143999));
    ck_assert_int_eq(pki_time_get(t, &back), CW_OK);
    ck_assert_int_eq(back, (time_t)2556143999);
    ck_assert_ptr_nonnull(ASN1_TIME_set(t, (time_t)2556144000 + 86400));
    ck_assert_int_eq(ASN1_STRING_type(t), V_ASN1_GENERALIZEDTIME);
    ck_assert_int_eq(pki_time_get(t, &back), CW_OK);
    ck_assert_int_eq(back, (time_t)2556144000 + 86400);
    ASN1_TIME_free(t);
}
END_TEST

enum cert_mangle {
    CM_NONE,
    CM_PEM,
    CM_TRUNCATE,
    CM_TRAILING,
    CM_PEM_CSR_LABEL,
    CM_GARBAGE,
    CM_EMPTY,
    CM_OVERSIZE_DER,
    CM_OVERSIZE_PEM,
};

static const struct {
    int              line;
    enum cert_mangle mangle;
    enum cw_err      err;
} cert_parse_cases[] = {
    { __LINE__, CM_NONE, CW_OK },
    { __LINE__, CM_PEM, CW_OK },
    { __LINE__, CM_TRUNCATE, CW_E_BADCERT },
    { __LINE__, CM_TRAILING, CW_E_BADCERT },
    { __LINE__, CM_PEM_CSR_LABEL, CW_E_BADCERT },
    { __LINE__, CM_GARBAGE, CW_E_BADCERT },
    { __LINE__, CM_EMPTY, CW_E_BADCERT },
    { __LINE__, CM_OVERSIZE_DER, CW_E_TOOLARGE },
    { __LINE__, CM_OVERSIZE_PEM, CW_E_TOOLARGE },
};

/* The subject read alone from the DER equals the parsed certificate's;
 * a v1 certificate (no version field) too; cut or garbage DER fails. */
START_TEST(test_cert_subject_get)
{
    X509          *root = make_root(keys[PKI_KEY_EC_P256], "certward Subject",
                                    -1, NULL, 0, NULL, 0);
    X509          *leaf = make_leaf(keys[PKI_KEY_RSA2048], root,
                                    keys[PKI_KEY_EC_P256],
                                    "{\"CN\": \"s.example.com\", \"O\": \"Ex\"}",
                                    "[{\"type\": \"dns\", \"value\": "
                                    "\"s.example.com\"}]", 30);
    X509          *v1 = X509_new();
    X509          *certs[3];
    X509_NAME     *name = NULL;
    struct buf     der;

    /* v1: version absent from the encoding */
    ck_assert_int_eq(X509_set_version(v1, X509_VERSION_1), 1);
    ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(v1), 7), 1);
    ck_assert_int_eq(X509_set_issuer_name(v1, X509_get_subject_name(root)), 1);
    ck_assert_int_eq(X509_set_subject_name(v1, X509_get_subject_name(leaf)),
                     1);
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(v1), 0));
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(v1), 3600));
    ck_assert_int_eq(X509_set_pubkey(v1, keys[PKI_KEY_EC_P256]), 1);
    ck_assert_int_ne(X509_sign(v1, keys[PKI_KEY_EC_P256], EVP_sha256()), 0);
    certs[0] = root;
    certs[1] = leaf;
    certs[2] = v1;
    buf_init(&der, LIM_CERT_DER);
    for (int i = 0; i < 3; i++) {
        buf_reset(&der);
        ck_assert_int_eq(pki_cert_to_der(certs[i], &der), CW_OK);
        ck_assert_int_eq(pki_cert_subject_get(der.p, der.len, &name), CW_OK);
        ck_assert_int_eq(X509_NAME_cmp(name, X509_get_subject_name(certs[i])),
                         0);
        X509_NAME_free(name);
        name = NULL;
        /* cut inside the subject or before it */
        for (size_t cut = 1; cut < 60; cut++) {
            ck_assert_int_eq(pki_cert_subject_get(der.p, cut, &name),
                             CW_E_BADCERT);
            ck_assert_ptr_null(name);
        }
    }
    ck_assert_int_eq(pki_cert_subject_get((const uint8_t *)"\x30\x80\x30",
                                          3, &name),
                     CW_E_BADCERT);
    ck_assert_int_eq(pki_cert_subject_get((const uint8_t *)"garbage", 7,
                                          &name),
                     CW_E_BADCERT);
    ck_assert_ptr_null(name);
    buf_cleanup(&der);
    X509_free(v1);
    X509_free(leaf);
    X509_free(root);
}
END_TEST

START_TEST(test_cert_parse)
{
    const __typeof__(cert_parse_cases[0]) *c = &cert_parse_cases[_i];
    X509      *root = make_root(keys[PKI_KEY_EC_P256], "certward Parse", -1,
                                NULL, 0, NULL, 0);
    X509      *back = NULL;
    struct buf in;
    enum cw_err err;

    buf_init(&in, LIM_CHAIN_PEM);
    switch (c->mangle) {
    case CM_NONE:
    case CM_TRUNCATE:
    case CM_TRAILING:
        ck_assert_int_eq(pki_cert_to_der(root, &in), CW_OK);
        if (c->mangle == CM_TRUNCATE)
            in.len -= 1;
        if (c->mangle == CM_TRAILING)
            ck_assert_int_eq(buf_append(&in, "\0", 1), CW_OK);
        break;
    case CM_PEM:
        ck_assert_int_eq(pki_cert_to_pem(root, &in), CW_OK);
        break;
    case CM_PEM_CSR_LABEL: {
        struct buf der;
        BIO       *bio = BIO_new(BIO_s_mem());
        char      *data = NULL;
        long       n;

        buf_init(&der, LIM_CERT_DER);
        ck_assert_int_eq(pki_cert_to_der(root, &der), CW_OK);
        PEM_write_bio(bio, "CERTIFICATE REQUEST", "", der.p, (long)der.len);
        n = BIO_get_mem_data(bio, &data);
        ck_assert_int_eq(buf_append(&in, data, (size_t)n), CW_OK);
        BIO_free(bio);
        buf_cleanup(&der);
        break;
    }
    case CM_GARBAGE:
        ck_assert_int_eq(buf_puts(&in, "\x30\x82\x01\x00garbage"), CW_OK);
        break;
    case CM_EMPTY:
        break;
    case CM_OVERSIZE_DER:
    case CM_OVERSIZE_PEM: {
        uint8_t *dst;
        size_t   n = c->mangle == CM_OVERSIZE_DER ? LIM_CERT_DER + 1
                                                  : LIM_CERT_PEM + 1;

        ck_assert_int_eq(buf_reserve(&in, n, &dst), CW_OK);
        memset(dst, 'A', n);
        if (c->mangle == CM_OVERSIZE_PEM)
            memcpy(dst, "-----BEGIN CERTIFICATE-----\n", 28);
        else
            dst[0] = 0x30;
        in.len = n;
        break;
    }
    }
    err = pki_cert_parse(in.len ? in.p : (const uint8_t *)"", in.len, &back);
    ck_assert_msg(err == c->err, "line %d: %d", c->line, err);
    if (err == CW_OK)
        ck_assert_int_eq(X509_cmp(back, root), 0);
    else
        ck_assert_ptr_null(back);
    X509_free(back);
    X509_free(root);
    buf_cleanup(&in);
}
END_TEST

START_TEST(test_cert_chain_parse)
{
    X509           *a = make_root(keys[PKI_KEY_EC_P256], "certward A", -1,
                                  NULL, 0, NULL, 0);
    X509           *b = make_root(keys[PKI_KEY_ED25519], "certward B", -1,
                                  NULL, 0, NULL, 0);
    STACK_OF(X509) *chain = NULL;
    struct buf      in;
    struct buf      out;

    buf_init(&in, LIM_CHAIN_PEM);
    buf_init(&out, LIM_CHAIN_PEM);
    ck_assert_int_eq(buf_puts(&in, "leaf certificate:\n"), CW_OK);
    ck_assert_int_eq(pki_cert_to_pem(a, &in), CW_OK);
    ck_assert_int_eq(buf_puts(&in, "\nissuer:\n"), CW_OK);
    ck_assert_int_eq(pki_cert_to_pem(b, &in), CW_OK);
    ck_assert_int_eq(pki_cert_chain_parse(in.p, in.len, &chain), CW_OK);
    ck_assert_int_eq(sk_X509_num(chain), 2);
    ck_assert_int_eq(X509_cmp(sk_X509_value(chain, 0), a), 0);
    ck_assert_int_eq(X509_cmp(sk_X509_value(chain, 1), b), 0);
    ck_assert_int_eq(pki_chain_to_pem(chain, &out), CW_OK);
    sk_X509_pop_free(chain, X509_free);
    chain = NULL;

    /* LIM_CHAIN_CERTS + 1 certificates. */
    buf_reset(&in);
    for (int i = 0; i <= LIM_CHAIN_CERTS; i++)
        ck_assert_int_eq(pki_cert_to_pem(a, &in), CW_OK);
    ck_assert_int_eq(pki_cert_chain_parse(in.p, in.len, &chain),
                     CW_E_TOOLARGE);
    /* A private key in the bundle. */
    buf_reset(&in);
    ck_assert_int_eq(pki_cert_to_pem(a, &in), CW_OK);
    ck_assert_int_eq(pki_key_export_pem(keys[PKI_KEY_EC_P256], "x", &in),
                     CW_OK);
    ck_assert_int_eq(pki_cert_chain_parse(in.p, in.len, &chain),
                     CW_E_BADCERT);
    /* A truncated second block. */
    buf_reset(&in);
    ck_assert_int_eq(pki_cert_to_pem(a, &in), CW_OK);
    ck_assert_int_eq(pki_cert_to_pem(b, &in), CW_OK);
    ck_assert_int_eq(pki_cert_chain_parse(in.p, in.len - 30, &chain),
                     CW_E_BADCERT);
    ck_assert_int_eq(pki_cert_chain_parse((const uint8_t *)"no pem", 6,
                                          &chain),
                     CW_E_BADCERT);
    ck_assert_ptr_null(chain);
    /* One DER certificate is a chain of one. */
    buf_reset(&in);
    ck_assert_int_eq(pki_cert_to_der(b, &in), CW_OK);
    ck_assert_int_eq(pki_cert_chain_parse(in.p, in.len, &chain), CW_OK);
    ck_assert_int_eq(sk_X509_num(chain), 1);
    sk_X509_pop_free(chain, X509_free);
    buf_cleanup(&in);
    buf_cleanup(&out);
    X509_free(a);
    X509_free(b);
}
END_TEST

START_TEST(test_key_match_cert)
{
    X509 *root = make_root(keys[PKI_KEY_EC_P256], "certward Match", -1, NULL,
                           0, NULL, 0);

    ck_assert_int_eq(pki_key_match_cert(keys[PKI_KEY_EC_P256], root), CW_OK);
    ck_assert_int_eq(pki_key_match_cert(keys[PKI_KEY_EC_P384], root),
                     CW_E_BADKEY);
    ck_assert_int_eq(pki_key_match_cert(keys[PKI_KEY_RSA2048], root),
                     CW_E_BADKEY);
    X509_free(root);
}
END_TEST

/* ==== PKCS#12 and P7B ================================================== */

static const struct {
    int               line;
    enum pki_key_type type;
} p12_cases[] = {
    { __LINE__, PKI_KEY_RSA2048 },
    { __LINE__, PKI_KEY_EC_P256 },
    { __LINE__, PKI_KEY_ED25519 },
};

START_TEST(test_p12_roundtrip)
{
    const __typeof__(p12_cases[0]) *c = &p12_cases[_i];
    EVP_PKEY       *cakey = keys[PKI_KEY_EC_P384];
    EVP_PKEY       *lkey = keys[c->type];
    X509           *root = make_root(cakey, "certward P12 Root", -1, NULL, 0,
                                     NULL, 0);
    X509           *leaf = make_leaf(lkey, root, cakey,
                                     "{\"CN\": \"p12.example.com\"}", NULL, 30);
    STACK_OF(X509) *chain = sk_X509_new_null();
    STACK_OF(X509) *chain_back = NULL;
    EVP_PKEY       *key_back = NULL;
    X509           *cert_back = NULL;
    struct buf      der;
    struct buf      info;
    char            path[256];
    char            name[64];
    char            cmd[600];

    buf_init(&der, LIM_P12);
    buf_init(&info, 64 * 1024);
    sk_X509_push(chain, root);
    ck_assert_int_eq(pki_p12_export(lkey, leaf, chain, "p12 pass", "my cert",
                                    &der),
                     CW_OK);
    ck_assert_int_eq(pki_p12_parse(der.p, der.len, "p12 pass", &key_back,
                                   &cert_back, &chain_back),
                     CW_OK);
    ck_assert_int_eq(EVP_PKEY_eq(key_back, lkey), 1);
    ck_assert_int_eq(X509_cmp(cert_back, leaf), 0);
    ck_assert_int_eq(sk_X509_num(chain_back), 1);
    ck_assert_int_eq(X509_cmp(sk_X509_value(chain_back, 0), root), 0);
    EVP_PKEY_free(key_back);
    X509_free(cert_back);
    sk_X509_pop_free(chain_back, X509_free);
    key_back = NULL;
    cert_back = NULL;
    chain_back = NULL;

    /* Wrong password, damaged container, trailing byte. */
    ck_assert_int_eq(pki_p12_parse(der.p, der.len, "wrong", &key_back,
                                   &cert_back, &chain_back),
                     CW_E_DECRYPT);
    ck_assert_int_eq(pki_p12_parse(der.p, der.len - 1, "p12 pass", &key_back,
                                   &cert_back, NULL),
                     CW_E_BADCERT);
    ck_assert_int_eq(pki_p12_parse(der.p, 10, "p12 pass", &key_back,
                                   &cert_back, NULL),
                     CW_E_BADCERT);
    ck_assert_ptr_null(key_back);
    ck_assert_ptr_null(cert_back);
    ck_assert_ptr_null(chain_back);
    /* The key must belong to the certificate; passwords are needed. */
    ck_assert_int_eq(pki_p12_export(keys[PKI_KEY_EC_P521], leaf, NULL, "x",
                                    NULL, &der),
                     CW_E_BADKEY);
    ck_assert_int_eq(pki_p12_export(lkey, leaf, NULL, "", NULL, &der),
                     CW_E_BADREQ);

    /* openssl pkcs12 reads it and reports the algorithms we promise. */
    snprintf(name, sizeof(name), "p12-%d.p12", c->line);
    write_file(name, der.p, der.len, path, sizeof(path));
    snprintf(cmd, sizeof(cmd),
             "openssl pkcs12 -in '%s' -passin 'pass:p12 pass' -nodes "
             ">/dev/null 2>&1",
             path);
    ck_assert_msg(system(cmd) == 0, "line %d: openssl pkcs12 -nodes",
                  c->line);
    snprintf(cmd, sizeof(cmd),
             "openssl pkcs12 -in '%s' -passin 'pass:p12 pass' -info -noout "
             "2>&1",
             path);
    ck_assert_int_eq(run(cmd, &info), 0);
    ck_assert_msg(strstr((char *)info.p, "MAC: sha256") != NULL, "%s",
                  (char *)info.p);
    ck_assert_msg(strstr((char *)info.p,
                         "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC") !=
                      NULL,
                  "%s", (char *)info.p);
    ck_assert_msg(strstr((char *)info.p,
                         "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC") !=
                      NULL,
                  "%s", (char *)info.p);
    ck_assert_msg(strstr((char *)info.p, "PRF hmacWithSHA256") != NULL, "%s",
                  (char *)info.p);
    ck_assert_ptr_null(strstr((char *)info.p, "RC2"));
    ck_assert_ptr_null(strstr((char *)info.p, "3DES"));
    if (have_certtool) {
        snprintf(cmd, sizeof(cmd),
                 "certtool --p12-info --inder --infile '%s' "
                 "--password 'p12 pass' >/dev/null 2>&1",
                 path);
        ck_assert_msg(system(cmd) == 0, "line %d: certtool --p12-info",
                      c->line);
    }
    sk_X509_free(chain);
    X509_free(leaf);
    X509_free(root);
    buf_cleanup(&der);
    buf_cleanup(&info);
}
END_TEST

START_TEST(test_p7b_roundtrip)
{
    X509           *root = make_root(keys[PKI_KEY_RSA2048], "certward P7B Root",
                                     -1, NULL, 0, NULL, 0);
    X509           *leaf = make_leaf(keys[PKI_KEY_EC_P256], root,
                                     keys[PKI_KEY_RSA2048],
                                     "{\"CN\": \"p7b.example.com\"}", NULL, 30);
    STACK_OF(X509) *certs = sk_X509_new_null();
    STACK_OF(X509) *back = NULL;
    struct buf      der;
    struct buf      pem;
    struct buf      txt;
    char            path[256];
    char            cmd[512];

    buf_init(&der, LIM_P7B);
    buf_init(&pem, LIM_P7B_PEM);
    buf_init(&txt, 64 * 1024);
    sk_X509_push(certs, leaf);
    sk_X509_push(certs, root);
    ck_assert_int_eq(pki_p7b_export(certs, 0, &der), CW_OK);
    ck_assert_int_eq(pki_p7b_export(certs, 1, &pem), CW_OK);
    ck_assert_ptr_nonnull(strstr((char *)pem.p, "-----BEGIN PKCS7-----"));
    ck_assert_int_eq(pki_p7b_parse(der.p, der.len, &back), CW_OK);
    ck_assert_int_eq(sk_X509_num(back), 2);
    ck_assert_int_eq(X509_cmp(sk_X509_value(back, 0), leaf), 0);
    ck_assert_int_eq(X509_cmp(sk_X509_value(back, 1), root), 0);
    sk_X509_pop_free(back, X509_free);
    back = NULL;
    ck_assert_int_eq(pki_p7b_parse(pem.p, pem.len, &back), CW_OK);
    ck_assert_int_eq(sk_X509_num(back), 2);
    sk_X509_pop_free(back, X509_free);
    back = NULL;

    /* Malformed. */
    ck_assert_int_eq(pki_p7b_parse(der.p, der.len - 1, &back), CW_E_BADCERT);
    ck_assert_int_eq(buf_append(&der, "\0", 1), CW_OK);
    ck_assert_int_eq(pki_p7b_parse(der.p, der.len, &back), CW_E_BADCERT);
    der.len--;
    ck_assert_int_eq(pki_p7b_parse((const uint8_t *)"junk", 4, &back),
                     CW_E_BADCERT);
    {
        struct buf cpem;

        buf_init(&cpem, LIM_CERT_PEM);
        ck_assert_int_eq(pki_cert_to_pem(root, &cpem), CW_OK);
        ck_assert_int_eq(pki_p7b_parse(cpem.p, cpem.len, &back),
                         CW_E_BADCERT);
        buf_cleanup(&cpem);
    }
    ck_assert_ptr_null(back);
    {
        STACK_OF(X509) *none = sk_X509_new_null();

        ck_assert_int_eq(pki_p7b_export(none, 0, &der), CW_E_BADREQ);
        sk_X509_free(none);
    }

    /* openssl pkcs7 reads both encodings. */
    write_file("certs.p7b", der.p, der.len, path, sizeof(path));
    snprintf(cmd, sizeof(cmd),
             "openssl pkcs7 -inform DER -in '%s' -print_certs 2>/dev/null",
             path);
    ck_assert_int_eq(run(cmd, &txt), 0);
    ck_assert_ptr_nonnull(strstr((char *)txt.p, "CN = p7b.example.com"));
    ck_assert_ptr_nonnull(strstr((char *)txt.p, "CN = certward P7B Root"));
    write_file("certs-pem.p7b", pem.p, pem.len, path, sizeof(path));
    snprintf(cmd, sizeof(cmd),
             "openssl pkcs7 -in '%s' -print_certs >/dev/null 2>&1", path);
    ck_assert_int_eq(system(cmd), 0);
    sk_X509_free(certs);
    X509_free(leaf);
    X509_free(root);
    buf_cleanup(&der);
    buf_cleanup(&pem);
    buf_cleanup(&txt);
}
END_TEST

/* ==== suite ============================================================ */

static Suite *
pki_suite(void)
{
    Suite *s = suite_create("pki");
    TCase *tc;

    tc = tcase_create("key");
    tcase_set_timeout(tc, 120);
    LOOP(tc, test_key_generate, key_cases);
    LOOP(tc, test_key_pkcs8_roundtrip, key_cases);
    LOOP(tc, test_key_export_encrypted, key_cases);
    LOOP(tc, test_key_parse_forms, key_form_cases);
    LOOP(tc, test_key_parse_bad, key_bad_cases);
    tcase_add_test(tc, test_key_refused);
    LOOP(tc, test_key_select, key_select_cases);
    LOOP(tc, test_key_json, key_json_cases);
    tcase_add_test(tc, test_key_match_cert);
    suite_add_tcase(s, tc);

    tc = tcase_create("name");
    LOOP(tc, test_name_from_json, name_cases);
    tcase_add_test(tc, test_name_control_and_utf8);
    tcase_add_test(tc, test_name_repeated_and_unknown);
    suite_add_tcase(s, tc);

    tc = tcase_create("san");
    tcase_set_timeout(tc, 60);
    LOOP(tc, test_san_validate, san_cases);
    tcase_add_test(tc, test_san_dns_lengths);
    LOOP(tc, test_san_json, san_json_cases);
    tcase_add_test(tc, test_san_count_cap);
    LOOP(tc, test_san_cn_fallback, san_cn_cases);
    suite_add_tcase(s, tc);

    tc = tcase_create("csr");
    tcase_set_timeout(tc, 120);
    LOOP(tc, test_csr_roundtrip, key_cases);
    LOOP(tc, test_csr_fast, key_cases);
    tcase_add_test(tc, test_csr_subjectless);
    tcase_add_test(tc, test_csr_ca_request);
    LOOP(tc, test_csr_bad, csr_bad_cases);
    tcase_add_test(tc, test_csr_refused_keys);
    tcase_add_test(tc, test_csr_garbage);
    suite_add_tcase(s, tc);

    tc = tcase_create("cert");
    tcase_set_timeout(tc, 120);
    LOOP(tc, test_cert_issue_and_verify, pair_cases);
    tcase_add_test(tc, test_cert_intermediate);
    tcase_add_test(tc, test_cert_subjectless);
    tcase_add_test(tc, test_cert_validity_clip);
    LOOP(tc, test_build_refusals, spec_cases);
    LOOP(tc, test_name_constraints, nc_cases);
    tcase_add_test(tc, test_serial);
    tcase_add_test(tc, test_time);
    tcase_add_test(tc, test_cert_subject_get);
    LOOP(tc, test_cert_parse, cert_parse_cases);
    tcase_add_test(tc, test_cert_chain_parse);
    suite_add_tcase(s, tc);

    tc = tcase_create("p12");
    tcase_set_timeout(tc, 120);
    LOOP(tc, test_p12_roundtrip, p12_cases);
    tcase_add_test(tc, test_p7b_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr;
    int      failed;
    char     cmd[128];

    /* The code under test logs refusals; keep the test output readable. */
    log_set_level(LOG_CRIT);
    for (int t = 0; t < PKI_KEY__MAX; t++) {
        if (pki_key_generate((enum pki_key_type)t, &keys[t]) != CW_OK) {
            fprintf(stderr, "cannot generate %s\n",
                    pki_key_type_name((enum pki_key_type)t));
            return EXIT_FAILURE;
        }
    }
    rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    k256k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    if (rsa1024 == NULL || k256k1 == NULL) {
        fprintf(stderr, "cannot generate the refused keys\n");
        return EXIT_FAILURE;
    }
    snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/certward-pki-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    have_certtool = system("certtool --version >/dev/null 2>&1") == 0;
    if (!have_certtool)
        fprintf(stderr, "certtool (gnutls-bin) not found: GnuTLS checks "
                        "skipped\n");

    sr = srunner_create(pki_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    for (int t = 0; t < PKI_KEY__MAX; t++)
        EVP_PKEY_free(keys[t]);
    EVP_PKEY_free(rsa1024);
    EVP_PKEY_free(k256k1);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

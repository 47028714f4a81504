/*
 * key.c: key generation, description and policy checks, PKCS#8 encoding,
 * private key parsing (untrusted: imports and PKCS#12) and export, key
 * identifiers. Runs in workers and in the signer; never stores a key.
 */
#include "config.h"

#include <limits.h>

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "cw_limits.h"
#include "pki/key.h"
#include "pki/pki-int.h"
#include "util/log.h"

static const struct {
    const char       *name;
    enum pki_key_alg  alg;
    int               bits;
    const char       *curve;     /* API name                               */
    const char       *group;     /* OpenSSL group name                     */
} key_types[PKI_KEY__MAX] = {
    [PKI_KEY_RSA2048] = { "rsa2048", PKI_ALG_RSA, 2048, NULL, NULL },
    [PKI_KEY_RSA3072] = { "rsa3072", PKI_ALG_RSA, 3072, NULL, NULL },
    [PKI_KEY_RSA4096] = { "rsa4096", PKI_ALG_RSA, 4096, NULL, NULL },
    [PKI_KEY_EC_P256] = { "ec-p256", PKI_ALG_EC, 256, "P-256", "prime256v1" },
    [PKI_KEY_EC_P384] = { "ec-p384", PKI_ALG_EC, 384, "P-384", "secp384r1" },
    [PKI_KEY_EC_P521] = { "ec-p521", PKI_ALG_EC, 521, "P-521", "secp521r1" },
    [PKI_KEY_ED25519] = { "ed25519", PKI_ALG_ED25519, 253, NULL, NULL },
};

static const char *const alg_names[PKI_ALG__MAX] = {
    [PKI_ALG_RSA] = "rsa",
    [PKI_ALG_EC] = "ec",
    [PKI_ALG_ED25519] = "ed25519",
};

const char *
pki_key_type_name(enum pki_key_type t)
{
    if ((unsigned)t >= PKI_KEY__MAX)
        return NULL;
    return key_types[t].name;
}

const char *
pki_key_alg_name(enum pki_key_alg a)
{
    if ((unsigned)a >= PKI_ALG__MAX)
        return NULL;
    return alg_names[a];
}

enum cw_err
pki_key_type_parse(const char *s, size_t len, enum pki_key_type *out)
{
    for (int t = 0; t < PKI_KEY__MAX; t++) {
        if (strlen(key_types[t].name) == len &&
            memcmp(key_types[t].name, s, len) == 0) {
            *out = (enum pki_key_type)t;
            return CW_OK;
        }
    }
    return CW_E_BADREQ;
}

enum cw_err
pki_key_type_select(const char *alg, long bits, const char *curve,
                    enum pki_key_type *out)
{
    if (strcmp(alg, "rsa") == 0) {
        if (curve != NULL)
            return CW_E_BADREQ;
        if (bits == 0)
            bits = 3072;
        for (int t = 0; t < PKI_KEY__MAX; t++) {
            if (key_types[t].alg == PKI_ALG_RSA && key_types[t].bits == bits) {
                *out = (enum pki_key_type)t;
                return CW_OK;
            }
        }
        return CW_E_BADREQ;
    }
    if (strcmp(alg, "ec") == 0) {
        if (bits != 0)
            return CW_E_BADREQ;
        if (curve == NULL)
            curve = "P-256";
        for (int t = 0; t < PKI_KEY__MAX; t++) {
            if (key_types[t].alg == PKI_ALG_EC &&
                strcmp(key_types[t].curve, curve) == 0) {
                *out = (enum pki_key_type)t;
                return CW_OK;
            }
        }
        return CW_E_BADREQ;
    }
    if (strcmp(alg, "ed25519") == 0) {
        if (bits != 0 || curve != NULL)
            return CW_E_BADREQ;
        *out = PKI_KEY_ED25519;
        return CW_OK;
    }
    return CW_E_BADREQ;
}

enum cw_err
pki_key_type_from_json(json_t *obj, enum pki_key_type *out,
                       struct jsonx_why *why)
{
    static const struct jsonx_field fields[] = {
        { "type", JSONX_STRING, 1, 16, 0, 0 },
        { "bits", JSONX_INT, 0, 0, 2048, 4096 },
        { "curve", JSONX_STRING, 0, 16, 0, 0 },
    };
    struct jsonx_why w;
    enum cw_err      err;

    if (why == NULL)
        why = &w;
    if (!json_is_object(obj)) {
        snprintf(why->field, sizeof(why->field), "key");
        snprintf(why->reason, sizeof(why->reason), "must be an object");
        return CW_E_BADREQ;
    }
    err = jsonx_check(obj, fields, sizeof(fields) / sizeof(fields[0]), why);
    if (err != CW_OK)
        return CW_E_BADREQ;
    err = pki_key_type_select(
        jsonx_str(obj, "type"),
        (long)json_integer_value(json_object_get(obj, "bits")),
        jsonx_str(obj, "curve"), out);
    if (err != CW_OK) {
        snprintf(why->field, sizeof(why->field), "type");
        snprintf(why->reason, sizeof(why->reason),
                 "unsupported key type, size or curve");
    }
    return err;
}

enum cw_err
pki_key_generate(enum pki_key_type t, EVP_PKEY **out)
{
    EVP_PKEY *key = NULL;

    if ((unsigned)t >= PKI_KEY__MAX)
        return CW_E_BADREQ;
    ERR_clear_error();
    switch (key_types[t].alg) {
    case PKI_ALG_RSA:
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)key_types[t].bits);
        break;
    case PKI_ALG_EC:
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", key_types[t].group);
        break;
    case PKI_ALG_ED25519:
        key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    case PKI_ALG__MAX:
        break;
    }
    if (key == NULL) {
        pki_ssl_failed("EVP_PKEY_Q_keygen");
        return CW_E_CRYPTO;
    }
    *out = key;
    return CW_OK;
}

/* The public exponent is odd and 2^16 < e < 2^256 (CA/Browser Forum BR
 * 6.1.6): e = 1 or 3 makes signatures forgeable or fragile. */
static int
rsa_exponent_ok(const EVP_PKEY *key)
{
    BIGNUM *e = NULL;
    int     ok;

    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
        pki_ssl_refused("RSA public exponent");
        return 0;
    }
    ok = BN_is_odd(e) && BN_num_bits(e) > 16 && BN_num_bits(e) <= 256;
    BN_free(e);
    if (!ok)
        log_info("RSA public exponent refused");
    return ok;
}

enum cw_err
pki_key_describe(const EVP_PKEY *key, struct pki_key_info *out)
{
    struct pki_key_info info = { PKI_ALG__MAX, PKI_KEY__MAX, 0, NULL };
    char                group[64];
    size_t              glen = 0;

    ERR_clear_error();
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        info.alg = PKI_ALG_RSA;
        info.bits = EVP_PKEY_get_bits(key);
        if (info.bits < LIM_RSA_BITS_MIN || info.bits > LIM_RSA_BITS_MAX) {
            log_info("RSA key of %d bits refused", info.bits);
            return CW_E_BADKEY;
        }
        if (!rsa_exponent_ok(key))
            return CW_E_BADKEY;
        break;
    case EVP_PKEY_EC:
        info.alg = PKI_ALG_EC;
        /* Explicit curve parameters have no group name and are refused. */
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, sizeof(group),
                                           &glen) != 1) {
            pki_ssl_refused("EC key without a named curve");
            return CW_E_BADKEY;
        }
        for (int t = 0; t < PKI_KEY__MAX; t++) {
            if (key_types[t].group != NULL &&
                strcmp(key_types[t].group, group) == 0) {
                info.curve = key_types[t].curve;
                info.bits = key_types[t].bits;
                info.type = (enum pki_key_type)t;
            }
        }
        if (info.curve == NULL) {
            log_info("EC curve not supported");
            return CW_E_BADKEY;
        }
        break;
    case EVP_PKEY_ED25519:
        info.alg = PKI_ALG_ED25519;
        info.bits = key_types[PKI_KEY_ED25519].bits;
        info.type = PKI_KEY_ED25519;
        break;
    default:
        log_info("key algorithm not supported");
        return CW_E_BADKEY;
    }
    if (info.alg == PKI_ALG_RSA) {
        for (int t = 0; t < PKI_KEY__MAX; t++) {
            if (key_types[t].alg == PKI_ALG_RSA && key_types[t].bits == info.bits)
                info.type = (enum pki_key_type)t;
        }
    }
    *out = info;
    return CW_OK;
}

enum cw_err
pki_key_check(const EVP_PKEY *key)
{
    struct pki_key_info info;

    return pki_key_describe(key, &info);
}

enum cw_err
pki_key_to_pkcs8_der(const EVP_PKEY *key, struct buf *out)
{
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    unsigned char       *der = NULL;
    int                  n;
    enum cw_err          err = CW_E_CRYPTO;

    ERR_clear_error();
    p8 = EVP_PKEY2PKCS8(key);
    if (p8 == NULL) {
        pki_ssl_failed("EVP_PKEY2PKCS8");
        goto out;
    }
    n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
    if (n <= 0) {
        pki_ssl_failed("i2d_PKCS8_PRIV_KEY_INFO");
        goto out;
    }
    err = buf_append(out, der, (size_t)n);
    OPENSSL_clear_free(der, (size_t)n);
out:
    PKCS8_PRIV_KEY_INFO_free(p8);
    return err;
}

/* Run OpenSSL's consistency checks on a private key that came from outside;
 * a key whose public half does not belong to its private half would sign
 * things nobody can verify. */
static enum cw_err
key_validate(EVP_PKEY *key)
{
    EVP_PKEY_CTX *ctx;
    int           r;
    enum cw_err   err;

    err = pki_key_check(key);
    if (err != CW_OK)
        return err;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (ctx == NULL) {
        pki_ssl_failed("EVP_PKEY_CTX_new_from_pkey");
        return CW_E_CRYPTO;
    }
    r = EVP_PKEY_pairwise_check(ctx);
    EVP_PKEY_CTX_free(ctx);
    if (r == -2) {
        ERR_clear_error();      /* not implemented for this type */
        return CW_OK;
    }
    if (r != 1) {
        pki_ssl_refused("EVP_PKEY_pairwise_check");
        return CW_E_BADKEY;
    }
    return CW_OK;
}

enum cw_err
pki_key_parse_pkcs8_der(const uint8_t *p, size_t len, EVP_PKEY **out)
{
    const unsigned char *q = p;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    EVP_PKEY            *key = NULL;
    enum cw_err          err = CW_E_BADKEY;

    if (len == 0)
        return CW_E_BADKEY;
    if (len > LIM_KEY_DER)
        return CW_E_TOOLARGE;
    ERR_clear_error();
    p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q, (long)len);
    if (p8 == NULL || q != p + len) {
        pki_ssl_refused("d2i_PKCS8_PRIV_KEY_INFO");
        goto out;
    }
    key = EVP_PKCS82PKEY(p8);
    if (key == NULL) {
        pki_ssl_refused("EVP_PKCS82PKEY");
        goto out;
    }
    err = key_validate(key);
    if (err != CW_OK)
        goto out;
    *out = key;
    key = NULL;
out:
    PKCS8_PRIV_KEY_INFO_free(p8);
    EVP_PKEY_free(key);
    return err;
}

/* Encrypted PKCS#8 (EncryptedPrivateKeyInfo) DER. */
static enum cw_err
key_parse_encrypted_der(const uint8_t *p, size_t len, const char *password,
                        EVP_PKEY **out)
{
    const unsigned char *q = p;
    X509_SIG            *sig = NULL;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    EVP_PKEY            *key = NULL;
    enum cw_err          err = CW_E_BADKEY;

    ERR_clear_error();
    sig = d2i_X509_SIG(NULL, &q, (long)len);
    if (sig == NULL || q != p + len) {
        pki_ssl_refused("d2i_X509_SIG");
        goto out;
    }
    if (password == NULL || strlen(password) > LIM_PASSWORD) {
        log_info("encrypted key without a usable password");
        err = CW_E_DECRYPT;
        goto out;
    }
    p8 = PKCS8_decrypt_ex(sig, password, (int)strlen(password), NULL, NULL);
    if (p8 == NULL) {
        pki_ssl_refused("PKCS8_decrypt");
        err = CW_E_DECRYPT;
        goto out;
    }
    key = EVP_PKCS82PKEY(p8);
    if (key == NULL) {
        pki_ssl_refused("EVP_PKCS82PKEY");
        goto out;
    }
    err = key_validate(key);
    if (err != CW_OK)
        goto out;
    *out = key;
    key = NULL;
out:
    X509_SIG_free(sig);
    PKCS8_PRIV_KEY_INFO_free(p8);
    EVP_PKEY_free(key);
    return err;
}

/* Traditional ("RSA PRIVATE KEY", "EC PRIVATE KEY") DER of type. A
 * structure that does not parse is reported as malformed (undecodable),
 * which after legacy PEM decryption means a wrong password: CBC padding
 * alone lets one wrong password in 256 through. */
static enum cw_err
key_parse_traditional_der(int type, const uint8_t *p, size_t len,
                          enum cw_err malformed, EVP_PKEY **out)
{
    const unsigned char *q = p;
    EVP_PKEY            *key;
    enum cw_err          err;

    ERR_clear_error();
    key = d2i_PrivateKey(type, NULL, &q, (long)len);
    if (key == NULL || q != p + len || EVP_PKEY_get_base_id(key) != type) {
        pki_ssl_refused("d2i_PrivateKey");
        EVP_PKEY_free(key);
        return malformed;
    }
    err = key_validate(key);
    if (err != CW_OK) {
        EVP_PKEY_free(key);
        return err;
    }
    *out = key;
    return CW_OK;
}

static int
key_pass_cb(char *buf, int size, int rwflag, void *u)
{
    const char *pw = u;
    size_t      n;

    (void)rwflag;
    if (pw == NULL)
        return -1;              /* never prompt */
    n = strlen(pw);
    if (size < 0 || n > (size_t)size)
        return -1;
    memcpy(buf, pw, n);
    return (int)n;
}

static enum cw_err
key_parse_pem(const uint8_t *p, size_t len, const char *password,
              EVP_PKEY **out)
{
    static const char *const labels[] = {
        "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
    };
    BIO              *bio = NULL;
    char             *name = NULL;
    char             *header = NULL;
    unsigned char    *data = NULL;
    long              n = 0;
    size_t            i;
    EVP_CIPHER_INFO   cipher;
    enum cw_err       err = CW_E_BADKEY;

    ERR_clear_error();
    bio = pki_bio_mem(p, len);
    if (bio == NULL) {
        err = CW_E_INTERNAL;
        goto out;
    }
    if (PEM_read_bio(bio, &name, &header, &data, &n) != 1) {
        pki_ssl_refused("PEM_read_bio");
        goto out;
    }
    for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        if (strcmp(name, labels[i]) == 0)
            break;
    }
    if (i == sizeof(labels) / sizeof(labels[0]) || n <= 0) {
        log_info("PEM block is not a private key");
        goto out;
    }
    if ((unsigned long)n > LIM_KEY_DER) {
        err = CW_E_TOOLARGE;
        goto out;
    }
    if (i < 2 && header[0] != '\0') {
        log_info("PKCS#8 PEM with headers refused");
        goto out;
    }
    switch (i) {
    case 0:
        err = pki_key_parse_pkcs8_der(data, (size_t)n, out);
        break;
    case 1:
        err = key_parse_encrypted_der(data, (size_t)n, password, out);
        break;
    default:
        /* Traditional PEM encryption (Proc-Type/DEK-Info headers). */
        if (header[0] != '\0') {
            if (PEM_get_EVP_CIPHER_INFO(header, &cipher) != 1) {
                pki_ssl_refused("PEM_get_EVP_CIPHER_INFO");
                goto out;
            }
            if (password == NULL) {
                log_info("encrypted key without a password");
                err = CW_E_DECRYPT;
                goto out;
            }
            if (PEM_do_header(&cipher, data, &n, key_pass_cb,
                              (void *)(uintptr_t)password) != 1) {
                pki_ssl_refused("PEM_do_header");
                err = CW_E_DECRYPT;
                goto out;
            }
        }
        err = key_parse_traditional_der(
            i == 2 ? EVP_PKEY_RSA : EVP_PKEY_EC, data, (size_t)n,
            header[0] != '\0' ? CW_E_DECRYPT : CW_E_BADKEY, out);
        break;
    }
out:
    OPENSSL_free(name);
    OPENSSL_free(header);
    if (data != NULL)
        OPENSSL_clear_free(data, n > 0 ? (size_t)n : 0);
    BIO_free(bio);
    return err;
}

enum cw_err
pki_key_parse(const uint8_t *p, size_t len, const char *password,
              EVP_PKEY **out)
{
    enum cw_err err;

    if (len == 0)
        return CW_E_BADKEY;
    if (pki_is_pem(p, len)) {
        if (len > LIM_KEY_PEM)
            return CW_E_TOOLARGE;
        return key_parse_pem(p, len, password, out);
    }
    if (len > LIM_KEY_DER)
        return CW_E_TOOLARGE;
    /* DER carries no label: try the forms in order of likelihood. A
     * decryption failure is final (the input was encrypted PKCS#8). */
    err = pki_key_parse_pkcs8_der(p, len, out);
    if (err != CW_E_BADKEY)
        return err;
    err = key_parse_encrypted_der(p, len, password, out);
    if (err != CW_E_BADKEY)
        return err;
    err = key_parse_traditional_der(EVP_PKEY_RSA, p, len, CW_E_BADKEY, out);
    if (err != CW_E_BADKEY)
        return err;
    return key_parse_traditional_der(EVP_PKEY_EC, p, len, CW_E_BADKEY, out);
}

enum cw_err
pki_key_export_pem(const EVP_PKEY *key, const char *password,
                   struct buf *out)
{
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    X509_SIG            *sig = NULL;
    BIO                 *bio = NULL;
    size_t               plen = strlen(password);
    enum cw_err          err = CW_E_CRYPTO;

    if (plen == 0 || plen > LIM_PASSWORD)
        return CW_E_BADREQ;
    ERR_clear_error();
    p8 = EVP_PKEY2PKCS8(key);
    if (p8 == NULL) {
        pki_ssl_failed("EVP_PKEY2PKCS8");
        goto out;
    }
    /* pbe_nid -1 with a cipher selects PBES2; its PRF defaults to
     * hmacWithSHA256 and the salt is random. */
    sig = PKCS8_encrypt_ex(-1, EVP_aes_256_cbc(), password, (int)plen, NULL,
                           0, PKI_PBE_ITER, p8, NULL, NULL);
    if (sig == NULL) {
        pki_ssl_failed("PKCS8_encrypt_ex");
        goto out;
    }
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_PKCS8(bio, sig) != 1) {
        pki_ssl_failed("PEM_write_bio_PKCS8");
        goto out;
    }
    err = pki_bio_to_buf(bio, out);
out:
    PKCS8_PRIV_KEY_INFO_free(p8);
    X509_SIG_free(sig);
    BIO_free(bio);
    return err;
}

enum cw_err
pki_key_pub_to_der(const EVP_PKEY *key, struct buf *out)
{
    unsigned char *der = NULL;
    int            n;
    enum cw_err    err;

    ERR_clear_error();
    n = i2d_PUBKEY(key, &der);
    if (n <= 0) {
        pki_ssl_failed("i2d_PUBKEY");
        return CW_E_CRYPTO;
    }
    err = buf_append(out, der, (size_t)n);
    OPENSSL_free(der);
    return err;
}

enum cw_err
pki_key_match_cert(const EVP_PKEY *key, X509 *cert)
{
    EVP_PKEY *pub;

    ERR_clear_error();
    pub = X509_get0_pubkey(cert);
    if (pub == NULL) {
        pki_ssl_refused("X509_get0_pubkey");
        return CW_E_BADCERT;
    }
    if (EVP_PKEY_eq(pub, key) != 1) {
        ERR_clear_error();
        log_info("key does not match the certificate");
        return CW_E_BADKEY;
    }
    return CW_OK;
}

enum cw_err
pki_key_id(const EVP_PKEY *key, uint8_t id[PKI_KEYID_LEN])
{
    unsigned char       *der = NULL;
    const unsigned char *q;
    X509_PUBKEY         *xpk = NULL;
    const unsigned char *pk = NULL;
    int                  pklen = 0;
    int                  n;
    unsigned int         mdlen = 0;
    enum cw_err          err = CW_E_CRYPTO;

    ERR_clear_error();
    n = i2d_PUBKEY(key, &der);
    if (n <= 0) {
        pki_ssl_failed("i2d_PUBKEY");
        goto out;
    }
    q = der;
    xpk = d2i_X509_PUBKEY(NULL, &q, n);
    if (xpk == NULL ||
        X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, xpk) != 1 ||
        pk == NULL || pklen <= 0) {
        pki_ssl_failed("X509_PUBKEY_get0_param");
        goto out;
    }
    if (EVP_Digest(pk, (size_t)pklen, id, &mdlen, EVP_sha1(), NULL) != 1 ||
        mdlen != PKI_KEYID_LEN) {
        pki_ssl_failed("EVP_Digest");
        goto out;
    }
    err = CW_OK;
out:
    X509_PUBKEY_free(xpk);
    OPENSSL_free(der);
    return err;
}

enum cw_err
pki_key_info_json(const EVP_PKEY *key, json_t **out)
{
    struct pki_key_info info;
    json_t             *o;
    enum cw_err         err;

    err = pki_key_describe(key, &info);
    if (err != CW_OK)
        return err;
    o = json_object();
    json_object_set_new(o, "type", json_string(alg_names[info.alg]));
    json_object_set_new(o, "bits", json_integer(info.bits));
    if (info.curve != NULL)
        json_object_set_new(o, "curve", json_string(info.curve));
    *out = o;
    return CW_OK;
}

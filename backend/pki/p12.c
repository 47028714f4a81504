/*
 * p12.c: PKCS#12 export/import and certs-only PKCS#7. Imports are
 * untrusted (CA and certificate imports); exports carry a private key
 * encrypted under the client's password.
 */
#include "config.h"

#include <limits.h>

#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "cw_limits.h"
#include "pki/cert.h"
#include "pki/key.h"
#include "pki/p12.h"
#include "pki/pki-int.h"
#include "util/log.h"

enum cw_err
pki_p12_export(EVP_PKEY *key, X509 *cert, STACK_OF(X509) *chain,
               const char *password, const char *name, struct buf *out)
{
    PKCS12        *p12 = NULL;
    unsigned char *der = NULL;
    size_t         plen = strlen(password);
    int            n;
    enum cw_err    err;

    if (plen == 0 || plen > LIM_PASSWORD)
        return CW_E_BADREQ;
    if (name != NULL && (strlen(name) > LIM_NAME_STRING ||
                         pki_utf8_text_len(name, strlen(name)) < 0))
        return CW_E_BADREQ;
    if (chain != NULL && sk_X509_num(chain) > LIM_CHAIN_CERTS)
        return CW_E_TOOLARGE;
    err = pki_key_match_cert(key, cert);
    if (err != CW_OK)
        return err;
    err = CW_E_CRYPTO;
    ERR_clear_error();
    /* A cipher NID selects PBES2 (PBKDF2, PRF hmacWithSHA256) for both
     * bags; mac_iter -1 leaves the MAC to PKCS12_set_mac() below, which
     * can use SHA-256 instead of the SHA-1 default. */
    p12 = PKCS12_create_ex(password, name, key, cert, chain, NID_aes_256_cbc,
                           NID_aes_256_cbc, PKI_P12_ITER, -1, 0, NULL, NULL);
    if (p12 == NULL) {
        pki_ssl_failed("PKCS12_create_ex");
        goto out;
    }
    if (PKCS12_set_mac(p12, password, (int)plen, NULL, 0, PKI_P12_ITER,
                       EVP_sha256()) != 1) {
        pki_ssl_failed("PKCS12_set_mac");
        goto out;
    }
    n = i2d_PKCS12(p12, &der);
    if (n <= 0) {
        pki_ssl_failed("i2d_PKCS12");
        goto out;
    }
    err = buf_append(out, der, (size_t)n);
out:
    OPENSSL_free(der);
    PKCS12_free(p12);
    return err;
}

enum cw_err
pki_p12_parse(const uint8_t *p, size_t len, const char *password,
              EVP_PKEY **key, X509 **cert, STACK_OF(X509) **chain)
{
    const unsigned char *q = p;
    PKCS12              *p12 = NULL;
    EVP_PKEY            *k = NULL;
    X509                *c = NULL;
    STACK_OF(X509)      *ca = NULL;
    size_t               plen = strlen(password);
    int                  mac_ok;
    enum cw_err          err = CW_E_BADCERT;

    if (len == 0)
        return CW_E_BADCERT;
    if (len > LIM_P12)
        return CW_E_TOOLARGE;
    if (plen > LIM_PASSWORD)
        return CW_E_BADREQ;
    ERR_clear_error();
    p12 = d2i_PKCS12(NULL, &q, (long)len);
    if (p12 == NULL || q != p + len) {
        pki_ssl_refused("d2i_PKCS12");
        goto out;
    }
    mac_ok = PKCS12_mac_present(p12);
    if (mac_ok && PKCS12_verify_mac(p12, password, (int)plen) != 1) {
        pki_ssl_refused("PKCS12_verify_mac");
        err = CW_E_DECRYPT;
        goto out;
    }
    if (PKCS12_parse(p12, password, &k, &c, &ca) != 1) {
        /* With the MAC verified the password was right: the container
         * uses something OpenSSL cannot read (legacy algorithms). */
        pki_ssl_refused("PKCS12_parse");
        err = mac_ok ? CW_E_BADCERT : CW_E_DECRYPT;
        goto out;
    }
    if (k == NULL || c == NULL) {
        log_info("PKCS#12 without a key or its certificate");
        goto out;
    }
    if (X509_get_extension_flags(c) & EXFLAG_INVALID) {
        pki_ssl_refused("certificate extensions");
        goto out;
    }
    if (sk_X509_num(ca) > LIM_CHAIN_CERTS) {
        err = CW_E_TOOLARGE;
        goto out;
    }
    err = pki_key_check(k);
    if (err != CW_OK)
        goto out;
    err = pki_key_match_cert(k, c);
    if (err != CW_OK)
        goto out;
    if (chain != NULL) {
        if (ca == NULL)
            ca = sk_X509_new_null();
        if (ca == NULL) {
            pki_ssl_failed("sk_X509_new_null");
            err = CW_E_CRYPTO;
            goto out;
        }
        *chain = ca;
        ca = NULL;
    }
    ERR_clear_error();
    *key = k;
    k = NULL;
    *cert = c;
    c = NULL;
    err = CW_OK;
out:
    PKCS12_free(p12);
    EVP_PKEY_free(k);
    X509_free(c);
    sk_X509_pop_free(ca, X509_free);
    return err;
}

enum cw_err
pki_p7b_export(STACK_OF(X509) *certs, int pem, struct buf *out)
{
    PKCS7         *p7 = NULL;
    BIO           *bio = NULL;
    unsigned char *der = NULL;
    int            n;
    enum cw_err    err = CW_E_CRYPTO;

    if (sk_X509_num(certs) <= 0)
        return CW_E_BADREQ;
    if (sk_X509_num(certs) > LIM_CHAIN_CERTS)
        return CW_E_TOOLARGE;
    ERR_clear_error();
    p7 = PKCS7_new();
    if (p7 == NULL || PKCS7_set_type(p7, NID_pkcs7_signed) != 1 ||
        PKCS7_content_new(p7, NID_pkcs7_data) != 1) {
        pki_ssl_failed("PKCS7_set_type");
        goto out;
    }
    for (int i = 0; i < sk_X509_num(certs); i++) {
        if (PKCS7_add_certificate(p7, sk_X509_value(certs, i)) != 1) {
            pki_ssl_failed("PKCS7_add_certificate");
            goto out;
        }
    }
    if (pem) {
        bio = BIO_new(BIO_s_mem());
        if (bio == NULL || PEM_write_bio_PKCS7(bio, p7) != 1) {
            pki_ssl_failed("PEM_write_bio_PKCS7");
            goto out;
        }
        err = pki_bio_to_buf(bio, out);
        goto out;
    }
    n = i2d_PKCS7(p7, &der);
    if (n <= 0) {
        pki_ssl_failed("i2d_PKCS7");
        goto out;
    }
    err = buf_append(out, der, (size_t)n);
out:
    OPENSSL_free(der);
    BIO_free(bio);
    PKCS7_free(p7);
    return err;
}

static enum cw_err
p7b_parse_der(const uint8_t *p, size_t len, STACK_OF(X509) **out)
{
    const unsigned char *q = p;
    PKCS7               *p7 = NULL;
    STACK_OF(X509)      *certs = NULL;
    STACK_OF(X509)      *src;
    enum cw_err          err = CW_E_BADCERT;

    if (len == 0)
        return CW_E_BADCERT;
    if (len > LIM_P7B)
        return CW_E_TOOLARGE;
    ERR_clear_error();
    p7 = d2i_PKCS7(NULL, &q, (long)len);
    if (p7 == NULL || q != p + len) {
        pki_ssl_refused("d2i_PKCS7");
        goto out;
    }
    if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL) {
        log_info("PKCS#7 is not SignedData");
        goto out;
    }
    src = p7->d.sign->cert;
    if (sk_X509_num(src) <= 0) {
        log_info("PKCS#7 without certificates");
        goto out;
    }
    if (sk_X509_num(src) > LIM_CHAIN_CERTS) {
        err = CW_E_TOOLARGE;
        goto out;
    }
    certs = sk_X509_new_null();
    if (certs == NULL) {
        err = CW_E_CRYPTO;
        goto out;
    }
    for (int i = 0; i < sk_X509_num(src); i++) {
        X509 *c = sk_X509_value(src, i);

        if (X509_get_extension_flags(c) & EXFLAG_INVALID) {
            pki_ssl_refused("certificate extensions");
            goto out;
        }
        if (X509_up_ref(c) != 1 || sk_X509_push(certs, c) <= 0) {
            pki_ssl_failed("sk_X509_push");
            err = CW_E_CRYPTO;
            goto out;
        }
    }
    ERR_clear_error();
    *out = certs;
    certs = NULL;
    err = CW_OK;
out:
    sk_X509_pop_free(certs, X509_free);
    PKCS7_free(p7);
    return err;
}

enum cw_err
pki_p7b_parse(const uint8_t *p, size_t len, STACK_OF(X509) **out)
{
    static const char *const labels[] = { "PKCS7", "PKCS #7 SIGNED DATA" };
    unsigned char           *der = NULL;
    long                     der_len = 0;
    size_t                   which;
    enum cw_err              err;

    if (len == 0)
        return CW_E_BADCERT;
    if (!pki_is_pem(p, len))
        return p7b_parse_der(p, len, out);
    if (len > LIM_P7B_PEM)
        return CW_E_TOOLARGE;
    err = pki_pem_decode(p, len, labels, 2, LIM_P7B, &der, &der_len, &which);
    if (err != CW_OK)
        return err == CW_E_TOOLARGE ? err : CW_E_BADCERT;
    err = p7b_parse_der(der, (size_t)der_len, out);
    OPENSSL_free(der);
    return err;
}

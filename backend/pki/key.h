/*
 * key.h: private and public keys. Generation of the key types certward
 * issues with, description and policy checks of keys that arrive from
 * outside (CSRs, CA imports, PKCS#12), PKCS#8 encoding for wrapping at rest
 * (signer_wrap), password-protected PKCS#8 export, and the RFC 5280 key
 * identifier.
 *
 * Ownership: functions named _generate/_parse hand a new EVP_PKEY to the
 * caller (EVP_PKEY_free); the rest borrow their arguments. Encoders append
 * to a caller-initialised struct buf; buffers that received private key
 * material must be released with buf_cleanup_secret().
 *
 * Errors: CW_E_BADKEY for malformed, unsupported or too weak keys and for
 * a key that does not match a certificate; CW_E_DECRYPT for a wrong
 * password; CW_E_TOOLARGE over a LIM_KEY_* cap; CW_E_BADREQ for a bad key
 * specification; CW_E_CRYPTO when OpenSSL fails on good input.
 */
#ifndef CW_PKI_KEY_H
#define CW_PKI_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/jsonx.h"

/* Key types certward generates. */
enum pki_key_type {
    PKI_KEY_RSA2048,
    PKI_KEY_RSA3072,
    PKI_KEY_RSA4096,
    PKI_KEY_EC_P256,
    PKI_KEY_EC_P384,
    PKI_KEY_EC_P521,
    PKI_KEY_ED25519,
    PKI_KEY__MAX
};

/* Key algorithms certward accepts. */
enum pki_key_alg {
    PKI_ALG_RSA,
    PKI_ALG_EC,
    PKI_ALG_ED25519,
    PKI_ALG__MAX
};

/* PBKDF2-HMAC-SHA256 iterations for password-protected exports. */
#define PKI_PBE_ITER 100000
/* Key identifier length (SHA-1). */
#define PKI_KEYID_LEN 20

struct pki_key_info {
    enum pki_key_alg  alg;
    enum pki_key_type type;   /* PKI_KEY__MAX when not a generated size   */
    int               bits;   /* modulus or field size                    */
    const char       *curve;  /* "P-256", "P-384", "P-521"; NULL if none  */
};

/* "rsa2048", "ec-p256", "ed25519"... NULL for an out-of-range value. */
const char *pki_key_type_name(enum pki_key_type t);
/* "rsa", "ec", "ed25519"; NULL for an out-of-range value. */
const char *pki_key_alg_name(enum pki_key_alg a);
/* Inverse of pki_key_type_name(). CW_E_BADREQ for an unknown name. */
enum cw_err pki_key_type_parse(const char *s, size_t len,
                               enum pki_key_type *out);
/* From the API's parts: alg "rsa" with bits 2048/3072/4096 (0 = 3072),
 * "ec" with curve "P-256"/"P-384"/"P-521" (NULL = P-256), "ed25519" with
 * neither. CW_E_BADREQ otherwise. */
enum cw_err pki_key_type_select(const char *alg, long bits,
                                const char *curve, enum pki_key_type *out)
    __attribute__((nonnull(1, 4)));
/* From a JSON object {"type": "rsa", "bits": 3072} | {"type": "ec",
 * "curve": "P-256"} | {"type": "ed25519"}; unknown members are refused.
 * why (may be NULL) names the offending field. */
enum cw_err pki_key_type_from_json(json_t *obj, enum pki_key_type *out,
                                   struct jsonx_why *why)
    __attribute__((nonnull(2)));

/* Generate a new key. */
enum cw_err pki_key_generate(enum pki_key_type t, EVP_PKEY **out)
    __attribute__((nonnull));
/* Describe a key; CW_E_BADKEY when it is not one certward accepts: RSA
 * below LIM_RSA_BITS_MIN or above LIM_RSA_BITS_MAX or with a public
 * exponent that is even or outside 2^16..2^256, EC other than P-256,
 * P-384, P-521 by name, anything but RSA, EC and Ed25519. */
enum cw_err pki_key_describe(const EVP_PKEY *key, struct pki_key_info *out)
    __attribute__((nonnull));
/* pki_key_describe() without the description. */
enum cw_err pki_key_check(const EVP_PKEY *key) __attribute__((nonnull));

/* Unencrypted PKCS#8 PrivateKeyInfo DER, for signer_wrap(). */
enum cw_err pki_key_to_pkcs8_der(const EVP_PKEY *key, struct buf *out)
    __attribute__((nonnull));
/* The inverse; whole input consumed, key checked. */
enum cw_err pki_key_parse_pkcs8_der(const uint8_t *p, size_t len,
                                    EVP_PKEY **out)
    __attribute__((nonnull(3)));
/* A private key from PEM (PRIVATE KEY, ENCRYPTED PRIVATE KEY, RSA PRIVATE
 * KEY, EC PRIVATE KEY, with password when encrypted; the first PEM block
 * is read, text and blocks after it are ignored) or DER (PKCS#8, encrypted
 * PKCS#8, traditional RSA/EC, consumed completely). password may be NULL;
 * it is never prompted for. The key is checked with pki_key_check() and
 * its halves against each other. */
enum cw_err pki_key_parse(const uint8_t *p, size_t len, const char *password,
                          EVP_PKEY **out) __attribute__((nonnull(4)));
/* Encrypted PKCS#8 PEM: PBES2, PBKDF2-HMAC-SHA256 (PKI_PBE_ITER), AES-256-
 * CBC. password: 1..LIM_PASSWORD bytes, else CW_E_BADREQ. */
enum cw_err pki_key_export_pem(const EVP_PKEY *key, const char *password,
                               struct buf *out) __attribute__((nonnull));
/* SubjectPublicKeyInfo DER of a (public or private) key. */
enum cw_err pki_key_pub_to_der(const EVP_PKEY *key, struct buf *out)
    __attribute__((nonnull));
/* CW_OK when key's public part is the certificate's, else CW_E_BADKEY. */
enum cw_err pki_key_match_cert(const EVP_PKEY *key, X509 *cert)
    __attribute__((nonnull));
/* RFC 5280 4.2.1.2 (1): SHA-1 of the subjectPublicKey BIT STRING. */
enum cw_err pki_key_id(const EVP_PKEY *key, uint8_t id[PKI_KEYID_LEN])
    __attribute__((nonnull));
/* {"type": "ec", "curve": "P-256", "bits": 256} for display. */
enum cw_err pki_key_info_json(const EVP_PKEY *key, json_t **out)
    __attribute__((nonnull));

#endif

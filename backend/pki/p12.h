/*
 * p12.h: PKCS#12 and PKCS#7 certs-only containers. PKCS#12 exports a key
 * with its certificate and chain under a password using PBES2 (PBKDF2-
 * HMAC-SHA256, AES-256-CBC) for both the key and the certificate bags and
 * an HMAC-SHA256 MAC; imports accept what OpenSSL can read (legacy
 * algorithms included where the default provider has them) and check the
 * key and that it matches the certificate. P7B is the certs-only
 * SignedData used for chains (export ?format=p7b, SCEP/EST CA
 * certificates).
 *
 * Ownership: arguments are borrowed; _parse functions hand new objects to
 * the caller (EVP_PKEY_free, X509_free, sk_X509_pop_free(s, X509_free)).
 * The PKCS#12 output holds an encrypted private key; it is appended to out.
 *
 * Errors: CW_E_BADREQ for an empty or overlong password or friendly name;
 * CW_E_DECRYPT for a wrong password (MAC or decryption failure);
 * CW_E_BADCERT for malformed containers or certificates; CW_E_BADKEY for a
 * refused key or a key that does not match the certificate; CW_E_TOOLARGE
 * over LIM_P12, LIM_P7B or LIM_CHAIN_CERTS; CW_E_CRYPTO when OpenSSL fails
 * on good input.
 */
#ifndef CW_PKI_P12_H
#define CW_PKI_P12_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "util/buf.h"
#include "util/err.h"

/* PBKDF2 iterations for PKCS#12 bags and the MAC. */
#define PKI_P12_ITER 100000

/* DER PKCS#12. chain (may be NULL) is the issuers, leaf's issuer first;
 * name (may be NULL) becomes the friendlyName of key and certificate. */
enum cw_err pki_p12_export(EVP_PKEY *key, X509 *cert, STACK_OF(X509) *chain,
                           const char *password, const char *name,
                           struct buf *out)
    __attribute__((nonnull(1, 2, 4, 6)));
/* Read a DER PKCS#12 protected by password. chain may be NULL when the
 * caller does not want the other certificates (an empty stack otherwise). */
enum cw_err pki_p12_parse(const uint8_t *p, size_t len, const char *password,
                          EVP_PKEY **key, X509 **cert, STACK_OF(X509) **chain)
    __attribute__((nonnull(3, 4, 5)));

/* Certs-only PKCS#7 of certs (at least one), DER or PEM ("PKCS7"). */
enum cw_err pki_p7b_export(STACK_OF(X509) *certs, int pem, struct buf *out)
    __attribute__((nonnull));
/* The certificates of a certs-only PKCS#7, PEM ("PKCS7") or DER. */
enum cw_err pki_p7b_parse(const uint8_t *p, size_t len,
                          STACK_OF(X509) **out) __attribute__((nonnull(3)));

#endif

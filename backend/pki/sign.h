/*
 * sign.h: the signature step of certificates and requests. These are the
 * only functions of backend/pki that take a private key that may be a CA
 * key; they are called by the signer (backend/signer), which alone holds
 * CA keys, and by pki_csr_create() for keys generated for a client.
 *
 * The digest follows the key: SHA-256 for RSA and P-256, SHA-384 for
 * P-384, SHA-512 for P-521, none (pure EdDSA) for Ed25519.
 *
 * Errors: CW_E_BADKEY for a key pki_key_check() refuses, CW_E_CRYPTO when
 * signing fails. Arguments are borrowed; the signature is written into tbs.
 */
#ifndef CW_PKI_SIGN_H
#define CW_PKI_SIGN_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "util/err.h"

/* The digest for key; *md = NULL for Ed25519. */
enum cw_err pki_sign_md(const EVP_PKEY *key, const EVP_MD **md)
    __attribute__((nonnull));
enum cw_err pki_cert_sign(X509 *tbs, EVP_PKEY *key) __attribute__((nonnull));
enum cw_err pki_csr_sign(X509_REQ *req, EVP_PKEY *key)
    __attribute__((nonnull));

#endif

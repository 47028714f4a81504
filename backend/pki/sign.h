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
 * signing fails. Arguments are borrowed; the signature is written into tbs
 * (certificates, requests, OCSP responses) or appended to a buffer (bytes
 * of a CRL that backend/pki/crl.c encoded itself).
 */
#ifndef CW_PKI_SIGN_H
#define CW_PKI_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "util/buf.h"
#include "util/err.h"

/* The digest for key; *md = NULL for Ed25519. */
enum cw_err pki_sign_md(const EVP_PKEY *key, const EVP_MD **md)
    __attribute__((nonnull));
enum cw_err pki_cert_sign(X509 *tbs, EVP_PKEY *key) __attribute__((nonnull));
enum cw_err pki_csr_sign(X509_REQ *req, EVP_PKEY *key)
    __attribute__((nonnull));

/* Sign tbs[0..len) with key, digest per pki_sign_md (pure EdDSA for
 * Ed25519, PKCS#1 v1.5 for RSA, a DER ECDSA-Sig-Value for EC); appends the
 * signature to sig. Any len: a CRL of millions of entries is signed in one
 * call. CW_E_TOOLARGE when sig's cap has no room for the signature. */
enum cw_err pki_sign_bytes(EVP_PKEY *key, const uint8_t *tbs, size_t len,
                           struct buf *sig) __attribute__((nonnull(1, 4)));
/* The DER AlgorithmIdentifier of the signatures pki_sign_bytes makes with
 * the key whose public half is pub, appended to der: RSA
 * sha256WithRSAEncryption with NULL parameters (RFC 4055 section 5);
 * ECDSA ecdsa-with-SHA256/384/512 by curve, parameters absent (RFC 5758
 * section 3.2); Ed25519 id-Ed25519, parameters absent (RFC 8410 section
 * 3). */
enum cw_err pki_sig_algid(EVP_PKEY *pub, struct buf *der)
    __attribute__((nonnull));
/* Sign an OCSP response built with pki_ocsp_basic_new()/pki_ocsp_add():
 * producedAt now, responderID byName (RFC 6960 section 4.2.2.3), the
 * digest per pki_sign_md (pure EdDSA for Ed25519). signer_cert is the CA
 * itself or a delegated responder it issued (RFC 6960 section 4.2.2.2);
 * it is a delegated one when it is not the issuer the CertIDs of bs name,
 * and only then it is put into the response's certs (a client has the
 * issuer already). extra_certs (may be NULL) are appended in either case.
 * CW_E_BADKEY also when key is not signer_cert's. Call it once per bs. */
enum cw_err pki_ocsp_sign(OCSP_BASICRESP *bs, X509 *signer_cert,
                          EVP_PKEY *key, STACK_OF(X509) *extra_certs)
    __attribute__((nonnull(1, 2, 3)));

#endif

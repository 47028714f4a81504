/*
 * csr.h: PKCS#10 certificate requests. Parsing is for untrusted input
 * (REST, ACME finalize, SCEP, EST): length capped, DER consumed completely,
 * signature verified (proof of possession) and the key checked against
 * pki_key_check() before the request is handed out. Building is for keys
 * generated server-side and for intermediates exported for signing by an
 * outside CA (the signer then calls pki_csr_sign()).
 *
 * Ownership: _parse, _parse_der, _new, _create and _subject_take hand new
 * objects to the caller (X509_REQ_free, X509_NAME_free, json_decref); the
 * rest borrow. Encoders append to out.
 *
 * Errors: CW_E_BADCSR for malformed requests, bad signatures and refused
 * keys; CW_E_TOOLARGE over LIM_CSR_PEM/LIM_CSR_DER; CW_E_BADREQ for bad
 * build arguments; CW_E_NOTFOUND when a subject-less request has no SAN to
 * take a CN from; CW_E_CRYPTO when OpenSSL fails on good input.
 */
#ifndef CW_PKI_CSR_H
#define CW_PKI_CSR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util/buf.h"
#include "util/err.h"

/* PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST") or DER. */
enum cw_err pki_csr_parse(const uint8_t *p, size_t len, X509_REQ **out)
    __attribute__((nonnull(3)));
enum cw_err pki_csr_parse_der(const uint8_t *p, size_t len, X509_REQ **out)
    __attribute__((nonnull(3)));
/* The common request (ECDSA/SHA-2 on P-256/384/521, RSA PKCS#1 v1.5 with
 * SHA-2, Ed25519) read and verified without OpenSSL 3.0's key decoders:
 * 1 with *out and *pub (the caller frees both), 0 when the request is not
 * taken (anything else, or anything wrong: read it with
 * pki_csr_parse_der(), which decides). In *out the X509_PUBKEY carries the
 * key as encoded, not decoded: X509_REQ_get0_pubkey(*out) is NULL; use
 * *pub. Never takes a request pki_csr_parse_der() refuses. */
int pki_csr_fast(const uint8_t *p, size_t len, X509_REQ **out,
                 EVP_PKEY **pub) __attribute__((nonnull(3, 4)));
/* pki_csr_fast(), else pki_csr_parse_der() and its key (up-referenced).
 * For issuance: see pki_csr_fast() about *out's X509_PUBKEY. */
enum cw_err pki_csr_parse_der_key(const uint8_t *p, size_t len,
                                  X509_REQ **out, EVP_PKEY **pub)
    __attribute__((nonnull(3, 4)));
/* pki_csr_parse() through pki_csr_parse_der_key(). */
enum cw_err pki_csr_parse_key(const uint8_t *p, size_t len, X509_REQ **out,
                              EVP_PKEY **pub) __attribute__((nonnull(3, 4)));
/* The request's key (borrowed; the request owns it). */
EVP_PKEY *pki_csr_pubkey_get(X509_REQ *req) __attribute__((nonnull));
/* The subject to issue for: the request's subject, or when it is empty a
 * copy with CN set from the first DNS/IP/email SAN (certbot sends
 * subject-less requests). */
enum cw_err pki_csr_subject_take(X509_REQ *req, X509_NAME **out)
    __attribute__((nonnull));
/* {"subject": {...}, "subject_dn": "...", "sans": [...], "key": {...}}. */
enum cw_err pki_csr_to_json(X509_REQ *req, json_t **out)
    __attribute__((nonnull));

/* An unsigned request for pub with subject (may be empty) and sans (may
 * be NULL). With is_ca the request asks for basicConstraints CA:TRUE
 * (critical) and keyUsage keyCertSign, cRLSign, digitalSignature. */
enum cw_err pki_csr_new(EVP_PKEY *pub, const X509_NAME *subject,
                        const GENERAL_NAMES *sans, int is_ca, X509_REQ **out)
    __attribute__((nonnull(1, 2, 5)));
/* pki_csr_new() and pki_csr_sign() with key. */
enum cw_err pki_csr_create(EVP_PKEY *key, const X509_NAME *subject,
                           const GENERAL_NAMES *sans, int is_ca,
                           X509_REQ **out) __attribute__((nonnull(1, 2, 5)));
enum cw_err pki_csr_to_der(X509_REQ *req, struct buf *out)
    __attribute__((nonnull));
enum cw_err pki_csr_to_pem(X509_REQ *req, struct buf *out)
    __attribute__((nonnull));

#endif

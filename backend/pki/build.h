/*
 * build.h: the to-be-signed certificate. A struct pki_cert_spec describes
 * what the CA service decided to issue (after policy and profile checks);
 * pki_build_cert() turns it into an unsigned X509 with the RFC 5280
 * extensions, which the signer then signs with pki_cert_sign(). No key
 * but the subject's public key is involved.
 *
 * Extensions: subjectKeyIdentifier (method 1); authorityKeyIdentifier with
 * keyIdentifier only (the issuer's SKI, or the certificate's own when
 * self-signed); basicConstraints (critical CA:TRUE[, pathlen] on CAs,
 * CA:FALSE on leaves); keyUsage (critical, consistent with the key type);
 * extendedKeyUsage; subjectAltName (critical when the subject is empty,
 * RFC 5280 4.2.1.6); cRLDistributionPoints; authorityInfoAccess (OCSP,
 * caIssuers); nameConstraints (critical, CAs only, RFC 5280 4.2.1.10).
 * Validity never ends after the issuer's notAfter (an error, or clipped
 * with PKI_BUILD_CLIP_VALIDITY) and never starts before its notBefore
 * (moved up silently: that costs the subject nothing).
 *
 * Ownership: the spec and everything it points to are borrowed;
 * pki_build_cert() hands a new X509 to the caller (X509_free).
 *
 * Errors: CW_E_BADREQ for an inconsistent spec (key usage that does not
 * fit the key, empty subject without SANs, bad URLs, EKUs or constraints,
 * validity that ends before it starts); CW_E_BADKEY for a refused subject
 * key; CW_E_POLICY when the issuer cannot issue it (not a CA, pathlen,
 * validity beyond the issuer's notAfter without PKI_BUILD_CLIP_VALIDITY,
 * names outside the issuer's constraints); CW_E_CRYPTO when OpenSSL fails.
 */
#ifndef CW_PKI_BUILD_H
#define CW_PKI_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki/cert.h"
#include "pki/san.h"
#include "util/err.h"

/* Shorten notAfter to the issuer's instead of refusing. */
#define PKI_BUILD_CLIP_VALIDITY 0x1u

/* A name constraint subtree (RFC 5280 4.2.1.10):
 *   PKI_SAN_DNS   "example.com" (the domain and below) or ".example.com"
 *                 (below only);
 *   PKI_SAN_EMAIL "user@example.com", "example.com" (that host) or
 *                 ".example.com" (hosts below);
 *   PKI_SAN_IP    "10.0.0.0/8", "2001:db8::/32" (host bits zero). */
struct pki_nc_entry {
    enum pki_san_type type;
    const char       *value;
};

struct pki_cert_spec {
    const X509_NAME            *subject;     /* may be empty            */
    const GENERAL_NAMES        *sans;        /* NULL or empty: none     */
    EVP_PKEY                   *pubkey;      /* the subject's key       */
    /* The same key as a CSR encoded it, or NULL. When set, it is copied
     * into the certificate as it is: OpenSSL 3.0 would otherwise encode
     * pubkey through its encoders and decode the result once more, which
     * costs more than building and signing the rest of the certificate. */
    const X509_PUBKEY          *spki;
    uint8_t                     serial[PKI_SERIAL_LEN];
    size_t                      serial_len;  /* 1..PKI_SERIAL_LEN       */
    time_t                      not_before;
    time_t                      not_after;
    int                         is_ca;
    int                         path_len;    /* -1: no pathLenConstraint */
    unsigned                    key_usage;   /* PKI_KU() bits; 0: default */
    const char *const          *eku;         /* "serverAuth", dotted OID */
    size_t                      n_eku;
    const char                 *crl_url;     /* NULL: no CDP            */
    const char                 *ocsp_url;    /* NULL: no OCSP in AIA    */
    const char                 *ca_issuers_url; /* NULL: none           */
    const struct pki_nc_entry  *nc_permitted;
    size_t                      n_permitted;
    const struct pki_nc_entry  *nc_excluded;
    size_t                      n_excluded;
    X509                       *issuer;      /* NULL: self-signed       */
    int                         ocsp_nocheck; /* id-pkix-ocsp-nocheck   */
    unsigned                    flags;       /* PKI_BUILD_*             */
};

/* Zero the spec; path_len = -1. */
void pki_build_spec_init(struct pki_cert_spec *spec) __attribute__((nonnull));
/* The default keyUsage for a key and role: CAs keyCertSign, cRLSign,
 * digitalSignature; RSA leaves digitalSignature, keyEncipherment; EC and
 * Ed25519 leaves digitalSignature. */
enum cw_err pki_build_default_ku(const EVP_PKEY *key, int is_ca,
                                 unsigned *ku) __attribute__((nonnull));
/* Build the unsigned certificate. */
enum cw_err pki_build_cert(const struct pki_cert_spec *spec, X509 **out)
    __attribute__((nonnull));
/* Do the subject and SANs of tbs satisfy the nameConstraints of every
 * certificate in chain (its issuer first, up to the root)? CW_E_POLICY
 * when not. tbs need not be signed. */
enum cw_err pki_build_nc_check(const X509 *tbs, STACK_OF(X509) *chain)
    __attribute__((nonnull));

#endif

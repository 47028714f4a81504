/*
 * crl.h: a streaming encoder of X.509 v2 CRLs (RFC 5280 section 5). A CA
 * may list millions of revoked certificates, so entries are not built as
 * X509_REVOKED objects (hundreds of bytes of heap each) but encoded as DER
 * straight into one buffer, 20 to 82 octets each; the TBSCertList is
 * assembled once at the end, when the length of its outer SEQUENCE is
 * known. The signature is made elsewhere (pki_sign_bytes() in the signer)
 * over the bytes pki_crl_tbs() returns.
 *
 *   pki_crl_begin(&params, &c);
 *   for each revoked certificate: pki_crl_add(c, &entry);
 *   pki_crl_tbs(c, &tbs, &tbs_len);           -> signer: pki_sign_bytes()
 *   pki_crl_finish(c, sig, sig_len, &der);
 *   pki_crl_free(c);
 *
 * Inputs come from the CA's own database and configuration and are trusted
 * to be what they say (serials unique, URLs the CA's); they are still
 * checked for ranges, so that what we sign is a conforming CRL.
 *
 * Ownership: the builder keeps a reference to params->issuer (no copy of
 * params is needed afterwards); entries are copied when added. The TBS
 * pointer stays valid until pki_crl_free(). pki_crl_finish() appends to a
 * caller-initialised buffer.
 *
 * Errors: CW_E_BADREQ for out-of-range input (times before 1950 or after
 * 9999, nextUpdate not after thisUpdate, a serial that is zero or over 20
 * octets, an unknown reason code, removeFromCRL on a base CRL, a delta
 * base that is not below the CRL number, freshestCRL on a delta CRL, a
 * malformed URL); CW_E_TOOLARGE past LIM_CRL_ENTRIES entries or a full
 * output buffer; CW_E_POLICY for an issuer whose keyUsage lacks cRLSign;
 * CW_E_BADCERT for an issuer certificate whose key cannot be read;
 * CW_E_BADKEY for an issuer key we do not sign with; CW_E_CRYPTO when the
 * signature does not verify with the issuer's key; CW_E_INTERNAL for
 * adding after pki_crl_tbs().
 */
#ifndef CW_PKI_CRL_H
#define CW_PKI_CRL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "util/buf.h"
#include "util/err.h"

/* CRLReason codes (RFC 5280 section 5.3.1); 7 is not used. */
#define PKI_CRL_REASON_UNSPECIFIED          0
#define PKI_CRL_REASON_KEY_COMPROMISE       1
#define PKI_CRL_REASON_CA_COMPROMISE        2
#define PKI_CRL_REASON_AFFILIATION_CHANGED  3
#define PKI_CRL_REASON_SUPERSEDED           4
#define PKI_CRL_REASON_CESSATION            5
#define PKI_CRL_REASON_CERTIFICATE_HOLD     6
#define PKI_CRL_REASON_REMOVE_FROM_CRL      8
#define PKI_CRL_REASON_PRIVILEGE_WITHDRAWN  9
#define PKI_CRL_REASON_AA_COMPROMISE        10

struct pki_crl_params {
    X509       *issuer;        /* the CA certificate: issuer name and key  */
    uint64_t    number;        /* cRLNumber (5.2.3)                        */
    uint64_t    delta_base;    /* > 0: a delta CRL, deltaCRLIndicator =
                                  this BaseCRLNumber (5.2.4); < number     */
    time_t      this_update;   /* 5.1.2.4                                  */
    time_t      next_update;   /* 5.1.2.5; required, after this_update     */
    const char *idp_url;       /* issuingDistributionPoint fullName URI
                                  (5.2.5), critical; NULL: none            */
    const char *freshest_url;  /* freshestCRL (5.2.6), non-critical, on a
                                  base CRL when deltas are on; NULL: none  */
};

struct pki_crl_entry {
    const uint8_t *serial;     /* big-endian magnitude, 1..20 octets;
                                  leading zero octets are ignored          */
    size_t         serial_len;
    time_t         revoked_at; /* revocationDate                           */
    int            reason;     /* CRLReason code (5.3.1); -1 and 0
                                  (unspecified, which SHOULD be absent):
                                  no reasonCode extension                  */
    time_t         invalidity; /* 0: none; else invalidityDate (5.3.2)     */
};

struct pki_crl;

/* A builder for the CRL params describe. The signature AlgorithmIdentifier
 * follows the issuer's key (pki_sig_algid()). */
enum cw_err pki_crl_begin(const struct pki_crl_params *p, struct pki_crl **out)
    __attribute__((nonnull));
/* Append one revokedCertificates entry. Order is the caller's; RFC 5280
 * asks for none. */
enum cw_err pki_crl_add(struct pki_crl *c, const struct pki_crl_entry *e)
    __attribute__((nonnull));
/* The complete TBSCertList DER: version v2, signature, issuer, thisUpdate,
 * nextUpdate, revokedCertificates when there are entries, crlExtensions
 * [0] (authorityKeyIdentifier with the issuer's subjectKeyIdentifier, or
 * the SHA-1 of its public key bits when it has none; cRLNumber;
 * deltaCRLIndicator; issuingDistributionPoint; freshestCRL). Built on the
 * first call, after which pki_crl_add() is refused; *tbs is valid until
 * pki_crl_free(). */
enum cw_err pki_crl_tbs(struct pki_crl *c, const uint8_t **tbs, size_t *len)
    __attribute__((nonnull));
/* CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm,
 * signatureValue BIT STRING }, appended to der. sig is the signature over
 * the bytes pki_crl_tbs() gave; it is verified with the issuer's public
 * key first, so that a CRL no client would accept is never published. */
enum cw_err pki_crl_finish(struct pki_crl *c, const uint8_t *sig,
                           size_t siglen, struct buf *der)
    __attribute__((nonnull));
/* NULL-safe. */
void pki_crl_free(struct pki_crl *c);
/* Number of entries added so far. */
size_t pki_crl_count(const struct pki_crl *c) __attribute__((nonnull));

/* A serial as the certificate store keeps it (hex, lower-case as
 * pki_serial_hex() writes it; upper-case is accepted too; 1..40 digits, an
 * odd count meaning a leading zero nibble) to its magnitude: leading zero
 * octets stripped, so *len is 1..20. CW_E_BADREQ for anything else,
 * including a zero serial. */
enum cw_err pki_serial_from_hex(const char *hex, uint8_t out[20], size_t *len)
    __attribute__((nonnull));

#endif

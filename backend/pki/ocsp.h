/*
 * ocsp.h: OCSP (RFC 6960) requests from clients, bounded and checked, and
 * the pieces of an answer: CertIDs for matching, unsigned BasicOCSPResponse
 * building, the OCSPResponse wrapping and the fixed error responses. The
 * signature is made by pki_ocsp_sign() (sign.h), with the CA's key or a
 * delegated responder's.
 *
 * Requests are untrusted (anyone may send them, POST body or GET path);
 * they are parsed structurally only: a signed request's signature is not
 * checked (we do not require signed requests, RFC 6960 section 4.1.2).
 *
 * Ownership: pki_ocsp_req_parse() fills caller storage that owns an
 * OCSP_REQUEST (pki_ocsp_req_free()); the CertID pointers in it are
 * borrowed from that request. _new and pki_ocsp_certid() hand new objects
 * to the caller (OCSP_BASICRESP_free, OCSP_CERTID_free); the rest borrow.
 * Encoders append to caller-initialised buffers.
 *
 * Errors: CW_E_BADREQ for malformed input (RFC 6960 malformedRequest);
 * CW_E_TOOLARGE over LIM_OCSP_REQ, LIM_OCSP_CERTIDS or LIM_OCSP_RESP;
 * CW_E_CRYPTO when OpenSSL fails on good input.
 */
#ifndef CW_PKI_OCSP_H
#define CW_PKI_OCSP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "cw_limits.h"
#include "util/buf.h"
#include "util/err.h"

/* The longest hash a CertID may carry (SHA-512). */
#define PKI_OCSP_HASH_MAX 64

struct pki_ocsp_id {
    int          hash_nid;              /* NID_sha1 or NID_sha256; 0:
                                           another algorithm            */
    uint8_t      name_hash[PKI_OCSP_HASH_MAX]; /* issuerNameHash        */
    uint8_t      key_hash[PKI_OCSP_HASH_MAX];  /* issuerKeyHash         */
    size_t       hash_len;              /* 20 or 32 for the known ones
                                           (checked); 1..64 otherwise   */
    uint8_t      serial[20];            /* magnitude, no leading zeros  */
    size_t       serial_len;            /* 0 when the serial is not a
                                           positive INTEGER of <= 20
                                           octets: answer "unknown"     */
    OCSP_CERTID *certid;                /* owned by the request (for
                                           building the answer)         */
};

struct pki_ocsp_req {
    OCSP_REQUEST      *req;
    size_t             nids;
    struct pki_ocsp_id ids[LIM_OCSP_CERTIDS];
    int                has_nonce;       /* a well-formed nonce to copy  */
};

/* A DER OCSPRequest: whole input consumed (trailing bytes refused), at
 * most LIM_OCSP_REQ octets, 1..LIM_OCSP_CERTIDS CertIDs (more:
 * CW_E_TOOLARGE), issuerNameHash and issuerKeyHash of equal length and of
 * the algorithm's length for SHA-1 and SHA-256. A nonce
 * (id-pkix-ocsp-nonce: an OCTET STRING of 1..LIM_OCSP_NONCE octets inside
 * extnValue; RFC 9654, which obsoletes RFC 8954 and its 1..32, allows up
 * to 128) is noted; a malformed, wrong-sized or repeated one is
 * CW_E_BADREQ, as RFC 9654 has responders answer malformedRequest.
 * *out is written on success only. */
enum cw_err pki_ocsp_req_parse(const uint8_t *der, size_t len,
                               struct pki_ocsp_req *out)
    __attribute__((nonnull(3)));
/* NULL-safe; leaves r empty. */
void pki_ocsp_req_free(struct pki_ocsp_req *r);
/* The common request, read without OpenSSL: an OCSPRequest in DER with
 * one Request, no version, requestorName, extensions of any kind or
 * signature, a CertID by SHA-1 or SHA-256 (parameters absent or NULL)
 * and a positive serial of at most 20 octets. *id is written (certid
 * NULL) on CW_OK. Anything else, well-formed or not, is CW_E_NOTFOUND:
 * pki_ocsp_req_parse() decides. Whatever this accepts,
 * pki_ocsp_req_parse() accepts with the same fields and no nonce
 * (tests/fuzz/fuzz_ocsp.c checks it). */
enum cw_err pki_ocsp_simple_parse(const uint8_t *der, size_t len,
                                  struct pki_ocsp_id *id)
    __attribute__((nonnull(3)));

/* The GET form (RFC 6960 appendix A.1): base64 with the standard alphabet,
 * padding optional, already percent-decoded by the caller, to DER appended
 * to out. Strict: no whitespace, no '=' but 1 or 2 at the end of whole
 * quads, no non-zero bits after the last octet (RFC 4648 section 3.5).
 * CW_E_BADREQ for bad base64 or empty input; CW_E_TOOLARGE when the DER
 * would exceed LIM_OCSP_REQ. */
enum cw_err pki_ocsp_b64_decode(const char *s, size_t len, struct buf *out)
    __attribute__((nonnull(3)));

/* The CertID that issuer and a serial (big-endian magnitude, 1..20 octets)
 * give with hash NID_sha1 or NID_sha256, as OCSP_cert_to_id() would from
 * the certificate. CW_E_BADREQ for another hash or a bad serial. */
enum cw_err pki_ocsp_certid(X509 *issuer, const uint8_t *serial,
                            size_t serial_len, int hash_nid,
                            OCSP_CERTID **out) __attribute__((nonnull));
/* issuerNameHash and issuerKeyHash of the CA certificate issuer (hash of
 * its subject Name DER and of its subjectPublicKey bits, RFC 6960 section
 * 4.1.1) for NID_sha1 or NID_sha256, to match pki_ocsp_id against the CAs
 * we serve. *len is 20 or 32. */
enum cw_err pki_ocsp_issuer_hashes(X509 *issuer, int hash_nid,
                                   uint8_t name_hash[PKI_OCSP_HASH_MAX],
                                   uint8_t key_hash[PKI_OCSP_HASH_MAX],
                                   size_t *len) __attribute__((nonnull));

/* An empty, unsigned BasicOCSPResponse. */
enum cw_err pki_ocsp_basic_new(OCSP_BASICRESP **out) __attribute__((nonnull));
/* Add a SingleResponse for id (copied). status V_OCSP_CERTSTATUS_GOOD,
 * _REVOKED or _UNKNOWN; for REVOKED, revoked_at and reason (a CRLReason
 * code, -1 for none; 0 (unspecified) is left out as on CRLs; 8
 * removeFromCRL is refused: a released hold is GOOD); this_update
 * required, next_update 0 for none. At most LIM_OCSP_CERTIDS per
 * response (CW_E_TOOLARGE). The values come from our database, so others
 * are CW_E_INTERNAL (an internalError answer, not malformedRequest). */
enum cw_err pki_ocsp_add(OCSP_BASICRESP *bs, OCSP_CERTID *id, int status,
                         time_t revoked_at, int reason, time_t this_update,
                         time_t next_update) __attribute__((nonnull));
/* Echo the request's nonce extension, if any, into the response
 * (RFC 6960 section 4.4.1). */
enum cw_err pki_ocsp_copy_nonce(OCSP_BASICRESP *bs, OCSP_REQUEST *req)
    __attribute__((nonnull));
/* The successful OCSPResponse wrapping the signed bs, DER appended to out;
 * CW_E_TOOLARGE over LIM_OCSP_RESP. */
enum cw_err pki_ocsp_resp_der(OCSP_BASICRESP *bs, struct buf *out)
    __attribute__((nonnull));
/* The fixed DER of an unsuccessful OCSPResponse, 30 03 0a 01 NN, for
 * OCSP_RESPONSE_STATUS_MALFORMEDREQUEST (1), _INTERNALERROR (2),
 * _TRYLATER (3), _SIGREQUIRED (5), _UNAUTHORIZED (6); NULL (and *len 0)
 * for any other status. Static storage. */
const uint8_t *pki_ocsp_error_der(int status, size_t *len)
    __attribute__((nonnull));

#endif

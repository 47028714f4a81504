/*
 * cert.h: X.509 certificates: parsing (untrusted: CA imports, client
 * certificates from the web server, chains), encoding, and the fields the
 * certificate store indexes and the API shows (serial, fingerprints,
 * validity, names, key identifiers, constraints, usages, SANs). Also the
 * random serial numbers of DESIGN section 4.
 *
 * Parsing checks structure only (length cap, DER consumed completely,
 * extensions well-formed and not duplicated); it verifies no signature and
 * applies no key policy - callers that need them use X509_verify_cert and
 * pki_key_check().
 *
 * Ownership: _parse functions hand new objects to the caller (X509_free,
 * sk_X509_pop_free(s, X509_free)); the rest borrow. Encoders append to out.
 *
 * Errors: CW_E_BADCERT for malformed certificates and fields (negative,
 * zero or over-long serials included); CW_E_TOOLARGE over LIM_CERT_*,
 * LIM_CHAIN_*; CW_E_NOTFOUND for an absent optional field; CW_E_CRYPTO
 * when OpenSSL fails on good input.
 */
#ifndef CW_PKI_CERT_H
#define CW_PKI_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "util/buf.h"
#include "util/err.h"

/* Serial numbers: 20 octets at most (RFC 5280 4.1.2.2). */
#define PKI_SERIAL_LEN 20
#define PKI_SERIAL_HEX_SIZE (2 * PKI_SERIAL_LEN + 1)
/* "2026-11-22T11:40:00Z" and its NUL. */
#define PKI_RFC3339_SIZE 21
#define PKI_SHA1_HEX_SIZE 41
#define PKI_SHA256_HEX_SIZE 65

/* keyUsage bits, numbered as in RFC 5280 4.2.1.3; use PKI_KU(bit). */
enum pki_ku_bit {
    PKI_KU_DIGITAL_SIGNATURE,
    PKI_KU_NON_REPUDIATION,
    PKI_KU_KEY_ENCIPHERMENT,
    PKI_KU_DATA_ENCIPHERMENT,
    PKI_KU_KEY_AGREEMENT,
    PKI_KU_KEY_CERT_SIGN,
    PKI_KU_CRL_SIGN,
    PKI_KU_ENCIPHER_ONLY,
    PKI_KU_DECIPHER_ONLY,
    PKI_KU__MAX
};
#define PKI_KU(bit) (1u << (bit))

/* "digitalSignature", ... (RFC 5280 names); NULL when out of range. */
const char *pki_ku_name(enum pki_ku_bit bit);

struct pki_cert_info {
    char   serial[PKI_SERIAL_HEX_SIZE];   /* lower-case hex             */
    char   sha1[PKI_SHA1_HEX_SIZE];
    char   sha256[PKI_SHA256_HEX_SIZE];
    time_t not_before;
    time_t not_after;
    int    is_ca;        /* basicConstraints cA                           */
    long   path_len;     /* pathLenConstraint, -1 when absent             */
    int    has_ku;       /* keyUsage present                              */
    unsigned key_usage;  /* PKI_KU() bits                                 */
};

/* PEM ("CERTIFICATE") or DER, one certificate. */
enum cw_err pki_cert_parse(const uint8_t *p, size_t len, X509 **out)
    __attribute__((nonnull(3)));
/* The subject of a stored certificate's DER, read without parsing the
 * rest: d2i_X509() decodes the public key through OpenSSL 3.0's
 * decoders, 0.2-0.3 ms a certificate, which a list page of 50 rows pays
 * fifty times. Not a validation of the certificate. */
enum cw_err pki_cert_subject_get(const uint8_t *p, size_t len,
                                 X509_NAME **out)
    __attribute__((nonnull(3)));
enum cw_err pki_cert_parse_der(const uint8_t *p, size_t len, X509 **out)
    __attribute__((nonnull(3)));
/* A PEM bundle (only "CERTIFICATE" blocks, text between them ignored) or
 * one DER certificate: 1..LIM_CHAIN_CERTS certificates, in input order. */
enum cw_err pki_cert_chain_parse(const uint8_t *p, size_t len,
                                 STACK_OF(X509) **out)
    __attribute__((nonnull(3)));

enum cw_err pki_cert_to_der(X509 *cert, struct buf *out)
    __attribute__((nonnull));
/* DER as a PEM block with label ("X509 CRL"), RFC 7468. */
enum cw_err pki_pem_armor(const char *label, const uint8_t *der, size_t len,
                          struct buf *out);
enum cw_err pki_cert_to_pem(X509 *cert, struct buf *out)
    __attribute__((nonnull));
/* The certificates of chain as concatenated PEM. */
enum cw_err pki_chain_to_pem(STACK_OF(X509) *chain, struct buf *out)
    __attribute__((nonnull));

/* 20 random octets with the top bit cleared and not all zero: positive,
 * 159 bits of entropy, at most 20 octets encoded. */
enum cw_err pki_serial_random(uint8_t out[PKI_SERIAL_LEN])
    __attribute__((nonnull));
/* The same, with its lower-case hex as stored (leading zero octets
 * dropped, as pki_serial_hex() writes a certificate's serial). */
enum cw_err pki_serial_random_hex(uint8_t out[PKI_SERIAL_LEN],
                                  char hex[PKI_SERIAL_HEX_SIZE]);
/* Lower-case hex without separators or leading zero octets; CW_E_BADCERT
 * for a zero, negative or longer than 20-octet serial. */
enum cw_err pki_serial_hex(const ASN1_INTEGER *serial,
                           char out[PKI_SERIAL_HEX_SIZE])
    __attribute__((nonnull));
enum cw_err pki_cert_serial_hex(const X509 *cert,
                                char out[PKI_SERIAL_HEX_SIZE])
    __attribute__((nonnull));
/* Hex of the DER's digest with md (EVP_sha1(), EVP_sha256()); out has
 * 2 * EVP_MD_get_size(md) + 1 bytes (n). */
enum cw_err pki_cert_fingerprint(const X509 *cert, const EVP_MD *md,
                                 char *out, size_t n) __attribute__((nonnull));
/* ASN1_TIME to time_t (UTC). */
enum cw_err pki_time_get(const ASN1_TIME *t, time_t *out)
    __attribute__((nonnull));
/* time_t to "YYYY-MM-DDTHH:MM:SSZ". */
void pki_time_rfc3339(time_t t, char out[PKI_RFC3339_SIZE])
    __attribute__((nonnull));
/* subjectKeyIdentifier / authorityKeyIdentifier keyIdentifier as hex,
 * appended to out; CW_E_NOTFOUND when absent. */
enum cw_err pki_cert_ski_hex(const X509 *cert, struct buf *out)
    __attribute__((nonnull));
enum cw_err pki_cert_aki_hex(const X509 *cert, struct buf *out)
    __attribute__((nonnull));
/* The fixed-size facts of a certificate. */
enum cw_err pki_cert_info_get(const X509 *cert, struct pki_cert_info *out)
    __attribute__((nonnull));
/* EKU purposes as a JSON array of names ("serverAuth") or dotted OIDs;
 * an empty array when the extension is absent. */
enum cw_err pki_cert_eku_json(const X509 *cert, json_t **out)
    __attribute__((nonnull));
/* Everything for the API: serial, fingerprints, not_before/not_after
 * (RFC 3339), subject/issuer (JSON and RFC 4514), ski, aki, is_ca,
 * path_len, key_usage, eku, sans, key. */
enum cw_err pki_cert_to_json(const X509 *cert, json_t **out)
    __attribute__((nonnull));

#endif

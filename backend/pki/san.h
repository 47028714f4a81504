/*
 * san.h: subjectAltName entries. The API's form is a JSON array of
 * {"type": "dns"|"ip"|"email"|"uri"|"upn", "value": "..."}; each type is
 * validated (DNS: LDH labels, a "*." left-most wildcard only where
 * allowed, stored lower-case; IP: IPv4/IPv6 stored as 4/16 octets; email:
 * dot-atom@DNS; URI: absolute, no spaces or controls; UPN: Microsoft's
 * otherName 1.3.6.1.4.1.311.20.2.3 with a UTF8String user@domain).
 * Duplicates are refused and at most LIM_SANS entries are accepted.
 *
 * Ownership: _from_json, _get_cert, _get_csr and _to_json hand new objects
 * to the caller (GENERAL_NAMES_free, json_decref); the rest borrow.
 *
 * Errors: CW_E_BADREQ for invalid or duplicate entries (why, may be NULL,
 * names the entry), CW_E_TOOLARGE over LIM_SANS, CW_E_BADCERT/CW_E_BADCSR
 * for malformed extensions in certificates and CSRs, CW_E_NOTFOUND when a
 * looked-for name is absent.
 */
#ifndef CW_PKI_SAN_H
#define CW_PKI_SAN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cw_limits.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/jsonx.h"

enum pki_san_type {
    PKI_SAN_DNS,
    PKI_SAN_IP,
    PKI_SAN_EMAIL,
    PKI_SAN_URI,
    PKI_SAN_UPN,
    PKI_SAN__MAX
};

/* "dns", "ip", "email", "uri", "upn"; NULL when out of range. */
const char *pki_san_type_name(enum pki_san_type t);
enum cw_err pki_san_type_parse(const char *s, enum pki_san_type *out)
    __attribute__((nonnull));

/* A DNS name: 1..LIM_DNS_NAME bytes of LDH labels of 1..63 bytes, no
 * leading/trailing hyphen, no trailing dot; with wildcard_ok a left-most
 * "*" label followed by at least two labels. out (LIM_DNS_NAME + 1 bytes)
 * receives the lower-cased name. */
enum cw_err pki_dns_name_check(const char *s, size_t len, int wildcard_ok,
                               char out[LIM_DNS_NAME + 1])
    __attribute__((nonnull));
/* An IPv4 or IPv6 address in text; *n = 4 or 16 octets into out. */
enum cw_err pki_ip_parse(const char *s, size_t len, uint8_t out[16],
                         size_t *n) __attribute__((nonnull));
/* An absolute URI of at most LIM_URI bytes: scheme ":" rest, printable
 * ASCII without spaces and the RFC 3986 excluded characters. */
enum cw_err pki_uri_check(const char *s, size_t len) __attribute__((nonnull));

/* Validate and append one entry; duplicates of existing entries and more
 * than LIM_SANS entries are refused. */
enum cw_err pki_san_add(GENERAL_NAMES *gens, enum pki_san_type t,
                        const char *value, size_t len)
    __attribute__((nonnull));
/* Build from the API's JSON array; an empty array yields an empty stack. */
enum cw_err pki_san_from_json(const json_t *arr, GENERAL_NAMES **out,
                              struct jsonx_why *why)
    __attribute__((nonnull(2)));
/* Back to the API's form. Entries of other types (directoryName, other
 * otherNames, ...) are not listed. CW_E_BADREQ for a malformed entry. */
enum cw_err pki_san_to_json(const GENERAL_NAMES *gens, json_t **out)
    __attribute__((nonnull));
/* The subjectAltName of a certificate / a CSR's extension request; *out is
 * NULL (and CW_OK) when there is none. Several SAN extensions are refused. */
enum cw_err pki_san_get_cert(const X509 *cert, GENERAL_NAMES **out)
    __attribute__((nonnull));
enum cw_err pki_san_get_csr(X509_REQ *req, GENERAL_NAMES **out)
    __attribute__((nonnull));
/* The first DNS, IP or email entry that fits a CN (64 characters), as text
 * into out: the CN for a subject-less CSR (certbot). CW_E_NOTFOUND when
 * there is none. */
enum cw_err pki_san_cn_fallback(const GENERAL_NAMES *gens, struct buf *out)
    __attribute__((nonnull));

#endif

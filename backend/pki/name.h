/*
 * name.h: distinguished names. Subjects arrive as the API's JSON object
 * {"CN", "O", "OU", "C", "ST", "L", "emailAddress", "serialNumber"} and are
 * validated strictly (RFC 5280 upper bounds counted in characters, UTF-8
 * without control characters, C as two upper-case letters); names found in
 * certificates are rendered back to JSON and to one RFC 4514 line.
 *
 * Ownership: pki_name_from_json() and pki_name_to_json() hand new objects
 * to the caller (X509_NAME_free, json_decref); the rest borrow.
 *
 * Errors: CW_E_BADREQ with why (may be NULL) naming the member; CW_E_CRYPTO
 * when OpenSSL fails on good input; CW_E_TOOLARGE from the output buf.
 */
#ifndef CW_PKI_NAME_H
#define CW_PKI_NAME_H

#include <jansson.h>
#include <openssl/x509.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/jsonx.h"

/* Build a name; attributes are added in X.500 order C, ST, L, O, OU, CN,
 * serialNumber, emailAddress. An empty object yields an empty name. */
enum cw_err pki_name_from_json(const json_t *obj, X509_NAME **out,
                               struct jsonx_why *why)
    __attribute__((nonnull(2)));
/* {"CN": "...", ...}; an attribute that occurs more than once becomes an
 * array; attributes without an API key use OpenSSL's short name or the
 * dotted OID. */
enum cw_err pki_name_to_json(const X509_NAME *name, json_t **out)
    __attribute__((nonnull));
/* RFC 4514 one-line form, most specific first ("CN=a,O=b,C=DE"), UTF-8
 * kept, appended to out. An empty name gives an empty string. */
enum cw_err pki_name_to_string(const X509_NAME *name, struct buf *out)
    __attribute__((nonnull));
/* The first CN as UTF-8 into out; CW_E_NOTFOUND when there is none. */
enum cw_err pki_name_cn(const X509_NAME *name, struct buf *out)
    __attribute__((nonnull));

#endif

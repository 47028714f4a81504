/*
 * name.c: X509_NAME from and to the API's JSON form. Input is client JSON
 * (already parsed with duplicate keys refused); output is for display and
 * for the indexed columns of the certificate store.
 */
#include "config.h"

#include <limits.h>

#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "cw_limits.h"
#include "pki/name.h"
#include "pki/pki-int.h"
#include "util/log.h"
#include "util/mem.h"

enum name_kind {
    NAME_TEXT,          /* UTF8String                                  */
    NAME_COUNTRY,       /* two upper-case letters (PrintableString)    */
    NAME_EMAIL,         /* IA5String                                   */
    NAME_PRINTABLE,     /* PrintableString                             */
};

/* In X.500 order (most significant first); upper bounds of RFC 5280
 * Appendix A, in characters. */
static const struct {
    const char     *key;
    int             nid;
    size_t          max;
    enum name_kind  kind;
} name_attrs[] = {
    { "C", NID_countryName, 2, NAME_COUNTRY },
    { "ST", NID_stateOrProvinceName, 128, NAME_TEXT },
    { "L", NID_localityName, 128, NAME_TEXT },
    { "O", NID_organizationName, 64, NAME_TEXT },
    { "OU", NID_organizationalUnitName, 64, NAME_TEXT },
    { "CN", NID_commonName, 64, NAME_TEXT },
    { "serialNumber", NID_serialNumber, 64, NAME_PRINTABLE },
    { "emailAddress", NID_pkcs9_emailAddress, 255, NAME_EMAIL },
};

#define N_ATTRS (sizeof(name_attrs) / sizeof(name_attrs[0]))

static void
why_set(struct jsonx_why *why, const char *field, const char *reason)
{
    if (why == NULL)
        return;
    snprintf(why->field, sizeof(why->field), "%.60s", field);
    snprintf(why->reason, sizeof(why->reason), "%s", reason);
}

/* X.680 PrintableString characters. */
static int
printable_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || strchr(" '()+,-./:=?", c) != NULL;
}

static enum cw_err
name_value_check(size_t a, const char *s, size_t len, struct jsonx_why *why)
{
    long chars;

    if (len == 0) {
        why_set(why, name_attrs[a].key, "must not be empty");
        return CW_E_BADREQ;
    }
    if (memchr(s, '\0', len) != NULL) {
        why_set(why, name_attrs[a].key, "contains a NUL character");
        return CW_E_BADREQ;
    }
    chars = pki_utf8_text_len(s, len);
    if (chars < 0) {
        why_set(why, name_attrs[a].key,
                "invalid UTF-8 or control characters");
        return CW_E_BADREQ;
    }
    if ((size_t)chars > name_attrs[a].max) {
        why_set(why, name_attrs[a].key, "too long");
        return CW_E_BADREQ;
    }
    switch (name_attrs[a].kind) {
    case NAME_TEXT:
        break;
    case NAME_COUNTRY:
        if (len != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z') {
            why_set(why, name_attrs[a].key,
                    "must be two upper-case letters (ISO 3166)");
            return CW_E_BADREQ;
        }
        break;
    case NAME_EMAIL:
        if ((size_t)chars != len || memchr(s, '@', len) == NULL) {
            why_set(why, name_attrs[a].key, "must be an ASCII address");
            return CW_E_BADREQ;
        }
        break;
    case NAME_PRINTABLE:
        for (size_t i = 0; i < len; i++) {
            if (!printable_char((unsigned char)s[i])) {
                why_set(why, name_attrs[a].key,
                        "only letters, digits and ' ()+,-./:=? allowed");
                return CW_E_BADREQ;
            }
        }
        break;
    }
    return CW_OK;
}

enum cw_err
pki_name_from_json(const json_t *obj, X509_NAME **out, struct jsonx_why *why)
{
    X509_NAME  *name = NULL;
    const char *key;
    json_t     *v;
    enum cw_err err = CW_E_BADREQ;

    if (!json_is_object(obj)) {
        why_set(why, "subject", "must be an object");
        return CW_E_BADREQ;
    }
    /* Unknown members first, so that nothing is half-built. jansson's
     * iteration takes a non-const object; it does not modify it. */
    json_object_foreach((json_t *)(uintptr_t)obj, key, v) {
        size_t a;

        for (a = 0; a < N_ATTRS; a++) {
            if (strcmp(name_attrs[a].key, key) == 0)
                break;
        }
        if (a == N_ATTRS) {
            why_set(why, key, "unknown subject attribute");
            return CW_E_BADREQ;
        }
        if (!json_is_string(v)) {
            why_set(why, key, "must be a string");
            return CW_E_BADREQ;
        }
        err = name_value_check(a, json_string_value(v), json_string_length(v),
                               why);
        if (err != CW_OK)
            return err;
    }
    ERR_clear_error();
    name = X509_NAME_new();
    if (name == NULL) {
        pki_ssl_failed("X509_NAME_new");
        return CW_E_CRYPTO;
    }
    for (size_t a = 0; a < N_ATTRS; a++) {
        v = json_object_get(obj, name_attrs[a].key);
        if (v == NULL)
            continue;
        /* Checked above: at most LIM_NAME_STRING characters. */
        CW_ASSERT(json_string_length(v) <= LIM_NAME_STRING * 4);
        if (X509_NAME_add_entry_by_NID(
                name, name_attrs[a].nid, MBSTRING_UTF8,
                (const unsigned char *)json_string_value(v),
                (int)json_string_length(v), -1, 0) != 1) {
            pki_ssl_refused("X509_NAME_add_entry_by_NID");
            why_set(why, name_attrs[a].key, "not accepted");
            err = CW_E_BADREQ;
            goto out;
        }
    }
    *out = name;
    name = NULL;
    err = CW_OK;
out:
    X509_NAME_free(name);
    return err;
}

/* The API key of an attribute, OpenSSL's short name, or the dotted OID. */
static void
attr_key(const ASN1_OBJECT *obj, char *out, size_t n)
{
    int nid = OBJ_obj2nid(obj);

    for (size_t a = 0; a < N_ATTRS; a++) {
        if (name_attrs[a].nid == nid) {
            snprintf(out, n, "%s", name_attrs[a].key);
            return;
        }
    }
    if (nid != NID_undef && OBJ_nid2sn(nid) != NULL) {
        snprintf(out, n, "%s", OBJ_nid2sn(nid));
        return;
    }
    if (OBJ_obj2txt(out, (int)n, obj, 1) <= 0)
        snprintf(out, n, "unknown");
}

enum cw_err
pki_name_to_json(const X509_NAME *name, json_t **out)
{
    json_t     *o = NULL;
    enum cw_err err = CW_E_BADCERT;
    int         count = X509_NAME_entry_count(name);

    ERR_clear_error();
    o = json_object();
    for (int i = 0; i < count; i++) {
        const X509_NAME_ENTRY *ne = X509_NAME_get_entry(name, i);
        unsigned char         *utf8 = NULL;
        int                    n;
        char                   key[96];
        json_t                *v;
        json_t                *prev;

        n = ASN1_STRING_to_UTF8(&utf8,
                                X509_NAME_ENTRY_get_data(ne));
        if (n < 0) {
            pki_ssl_refused("ASN1_STRING_to_UTF8");
            goto out;
        }
        attr_key(X509_NAME_ENTRY_get_object(ne), key, sizeof(key));
        v = json_stringn((const char *)utf8, (size_t)n);
        OPENSSL_free(utf8);
        if (v == NULL) {
            log_info("name attribute is not valid UTF-8");
            goto out;
        }
        prev = json_object_get(o, key);
        if (prev == NULL) {
            json_object_set_new(o, key, v);
        } else if (json_is_array(prev)) {
            json_array_append_new(prev, v);
        } else {
            json_t *arr = json_array();

            json_array_append(arr, prev);
            json_array_append_new(arr, v);
            json_object_set_new(o, key, arr);
        }
    }
    *out = o;
    o = NULL;
    err = CW_OK;
out:
    json_decref(o);
    return err;
}

enum cw_err
pki_name_to_string(const X509_NAME *name, struct buf *out)
{
    BIO          *bio = NULL;
    unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
    enum cw_err   err = CW_E_CRYPTO;

    ERR_clear_error();
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || X509_NAME_print_ex(bio, name, 0, flags) < 0) {
        pki_ssl_failed("X509_NAME_print_ex");
        goto out;
    }
    err = pki_bio_to_buf(bio, out);
out:
    BIO_free(bio);
    return err;
}

enum cw_err
pki_name_cn(const X509_NAME *name, struct buf *out)
{
    const X509_NAME_ENTRY *ne;
    unsigned char         *utf8 = NULL;
    int                    i;
    int                    n;
    enum cw_err            err;

    i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0)
        return CW_E_NOTFOUND;
    ERR_clear_error();
    ne = X509_NAME_get_entry(name, i);
    n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(ne));
    if (n < 0) {
        pki_ssl_refused("ASN1_STRING_to_UTF8");
        return CW_E_BADCERT;
    }
    err = buf_append(out, utf8, (size_t)n);
    OPENSSL_free(utf8);
    return err;
}

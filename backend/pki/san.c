/*
 * san.c: subjectAltName validation, encoding and extraction. Values come
 * from clients (REST, ACME identifiers, CSRs) and from certificates; all of
 * it is untrusted.
 */
#include "config.h"

#include <limits.h>

#include <arpa/inet.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "cw_limits.h"
#include "pki/pki-int.h"
#include "pki/san.h"
#include "util/log.h"

static const char *const san_type_names[PKI_SAN__MAX] = {
    [PKI_SAN_DNS] = "dns",
    [PKI_SAN_IP] = "ip",
    [PKI_SAN_EMAIL] = "email",
    [PKI_SAN_URI] = "uri",
    [PKI_SAN_UPN] = "upn",
};

/* The longest CN (RFC 5280 ub-common-name) a fallback may produce. */
#define SAN_CN_MAX 64

const char *
pki_san_type_name(enum pki_san_type t)
{
    if ((unsigned)t >= PKI_SAN__MAX)
        return NULL;
    return san_type_names[t];
}

enum cw_err
pki_san_type_parse(const char *s, enum pki_san_type *out)
{
    for (int t = 0; t < PKI_SAN__MAX; t++) {
        if (strcmp(san_type_names[t], s) == 0) {
            *out = (enum pki_san_type)t;
            return CW_OK;
        }
    }
    return CW_E_BADREQ;
}

static int
ldh_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-';
}

enum cw_err
pki_dns_name_check(const char *s, size_t len, int wildcard_ok,
                   char out[LIM_DNS_NAME + 1])
{
    size_t i = 0;
    size_t labels = 0;
    int    wildcard = 0;

    if (len == 0 || len > LIM_DNS_NAME)
        return CW_E_BADREQ;
    if (len >= 2 && s[0] == '*' && s[1] == '.') {
        if (!wildcard_ok)
            return CW_E_BADREQ;
        wildcard = 1;
        i = 2;
    }
    while (i < len) {
        size_t start = i;

        while (i < len && s[i] != '.') {
            if (!ldh_char((unsigned char)s[i]))
                return CW_E_BADREQ;
            i++;
        }
        /* Empty labels, including the one a trailing dot leaves. */
        if (i == start || i - start > 63)
            return CW_E_BADREQ;
        if (s[start] == '-' || s[i - 1] == '-')
            return CW_E_BADREQ;
        labels++;
        if (i < len) {
            i++;                 /* the dot */
            if (i == len)
                return CW_E_BADREQ;     /* trailing dot */
        }
    }
    /* "*.com" would match a whole top-level domain. */
    if (wildcard && labels < 2)
        return CW_E_BADREQ;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    out[len] = '\0';
    return CW_OK;
}

enum cw_err
pki_ip_parse(const char *s, size_t len, uint8_t out[16], size_t *n)
{
    char text[INET6_ADDRSTRLEN];

    if (len == 0 || len >= sizeof(text) || memchr(s, '\0', len) != NULL)
        return CW_E_BADREQ;
    memcpy(text, s, len);
    text[len] = '\0';
    if (inet_pton(AF_INET, text, out) == 1) {
        *n = 4;
        return CW_OK;
    }
    if (inet_pton(AF_INET6, text, out) == 1) {
        *n = 16;
        return CW_OK;
    }
    return CW_E_BADREQ;
}

enum cw_err
pki_uri_check(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > LIM_URI)
        return CW_E_BADREQ;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return CW_E_BADREQ;
    for (i = 1; i < len && s[i] != ':'; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!ldh_char(c) && c != '+' && c != '.')
            return CW_E_BADREQ;
    }
    if (i >= len - 1)            /* no ':' or nothing after it */
        return CW_E_BADREQ;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c >= 0x7f || strchr("<>\"{}|\\^`", c) != NULL)
            return CW_E_BADREQ;
    }
    return CW_OK;
}

/* RFC 5322 atext. */
static int
atext_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* local@domain with a dot-atom local part; out gets the domain lower-cased
 * (out has LIM_EMAIL + 1 bytes). */
static enum cw_err
email_check(const char *s, size_t len, char *out)
{
    const char *at;
    size_t      local;
    char        dom[LIM_DNS_NAME + 1];
    enum cw_err err;

    if (len == 0 || len > LIM_EMAIL)
        return CW_E_BADREQ;
    at = memchr(s, '@', len);
    if (at == NULL)
        return CW_E_BADREQ;
    local = (size_t)(at - s);
    if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
        return CW_E_BADREQ;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '.' ? s[i + 1] == '.' : !atext_char(c))
            return CW_E_BADREQ;
    }
    err = pki_dns_name_check(at + 1, len - local - 1, 0, dom);
    if (err != CW_OK)
        return err;
    memcpy(out, s, local + 1);
    memcpy(out + local + 1, dom, len - local - 1);
    out[len] = '\0';
    return CW_OK;
}

/* user@domain: the user part is UTF-8 text without '@', the domain a DNS
 * name (out has LIM_SAN_VALUE + 1 bytes). */
static enum cw_err
upn_check(const char *s, size_t len, char *out)
{
    const char *at;
    size_t      user;
    char        dom[LIM_DNS_NAME + 1];
    enum cw_err err;

    if (len == 0 || len > LIM_SAN_VALUE)
        return CW_E_BADREQ;
    at = memchr(s, '@', len);
    if (at == NULL)
        return CW_E_BADREQ;
    user = (size_t)(at - s);
    if (user == 0 || pki_utf8_text_len(s, user) < 0)
        return CW_E_BADREQ;
    for (size_t i = 0; i < user; i++) {
        if (s[i] == ' ')
            return CW_E_BADREQ;
    }
    err = pki_dns_name_check(at + 1, len - user - 1, 0, dom);
    if (err != CW_OK)
        return err;
    memcpy(out, s, user + 1);
    memcpy(out + user + 1, dom, len - user - 1);
    out[len] = '\0';
    return CW_OK;
}

static GENERAL_NAME *
gen_ia5(int type, const char *s, size_t len)
{
    GENERAL_NAME    *gen = GENERAL_NAME_new();
    ASN1_IA5STRING  *ia5 = ASN1_IA5STRING_new();

    if (gen == NULL || ia5 == NULL || ASN1_STRING_set(ia5, s, (int)len) != 1) {
        GENERAL_NAME_free(gen);
        ASN1_IA5STRING_free(ia5);
        return NULL;
    }
    GENERAL_NAME_set0_value(gen, type, ia5);
    return gen;
}

static GENERAL_NAME *
gen_ip(const uint8_t *ip, size_t n)
{
    GENERAL_NAME       *gen = GENERAL_NAME_new();
    ASN1_OCTET_STRING  *os = ASN1_OCTET_STRING_new();

    if (gen == NULL || os == NULL ||
        ASN1_OCTET_STRING_set(os, ip, (int)n) != 1) {
        GENERAL_NAME_free(gen);
        ASN1_OCTET_STRING_free(os);
        return NULL;
    }
    GENERAL_NAME_set0_value(gen, GEN_IPADD, os);
    return gen;
}

static GENERAL_NAME *
gen_upn(const char *s, size_t len)
{
    GENERAL_NAME     *gen = GENERAL_NAME_new();
    ASN1_UTF8STRING  *u8 = ASN1_UTF8STRING_new();
    ASN1_TYPE        *val = ASN1_TYPE_new();
    ASN1_OBJECT      *oid = OBJ_nid2obj(NID_ms_upn);

    if (gen == NULL || u8 == NULL || val == NULL || oid == NULL ||
        ASN1_STRING_set(u8, s, (int)len) != 1) {
        GENERAL_NAME_free(gen);
        ASN1_UTF8STRING_free(u8);
        ASN1_TYPE_free(val);
        return NULL;
    }
    ASN1_TYPE_set(val, V_ASN1_UTF8STRING, u8);
    if (GENERAL_NAME_set0_othername(gen, oid, val) != 1) {
        GENERAL_NAME_free(gen);
        ASN1_TYPE_free(val);
        return NULL;
    }
    return gen;
}

enum cw_err
pki_san_add(GENERAL_NAMES *gens, enum pki_san_type t, const char *value,
            size_t len)
{
    char          norm[LIM_SAN_VALUE + 1];
    uint8_t       ip[16];
    size_t        iplen = 0;
    GENERAL_NAME *gen = NULL;
    enum cw_err   err;

    if (sk_GENERAL_NAME_num(gens) >= LIM_SANS)
        return CW_E_TOOLARGE;
    if (memchr(value, '\0', len) != NULL)
        return CW_E_BADREQ;
    ERR_clear_error();
    switch (t) {
    case PKI_SAN_DNS:
        err = pki_dns_name_check(value, len, 1, norm);
        if (err == CW_OK)
            gen = gen_ia5(GEN_DNS, norm, len);
        break;
    case PKI_SAN_IP:
        err = pki_ip_parse(value, len, ip, &iplen);
        if (err == CW_OK)
            gen = gen_ip(ip, iplen);
        break;
    case PKI_SAN_EMAIL:
        err = email_check(value, len, norm);
        if (err == CW_OK)
            gen = gen_ia5(GEN_EMAIL, norm, len);
        break;
    case PKI_SAN_URI:
        err = pki_uri_check(value, len);
        if (err == CW_OK)
            gen = gen_ia5(GEN_URI, value, len);
        break;
    case PKI_SAN_UPN:
        err = upn_check(value, len, norm);
        if (err == CW_OK)
            gen = gen_upn(norm, len);
        break;
    default:
        err = CW_E_BADREQ;
        break;
    }
    if (err != CW_OK)
        return err;
    if (gen == NULL) {
        pki_ssl_failed("GENERAL_NAME_new");
        return CW_E_CRYPTO;
    }
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(gens, i), gen) == 0) {
            GENERAL_NAME_free(gen);
            return CW_E_BADREQ;
        }
    }
    if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
        GENERAL_NAME_free(gen);
        pki_ssl_failed("sk_GENERAL_NAME_push");
        return CW_E_CRYPTO;
    }
    return CW_OK;
}

static void
why_set(struct jsonx_why *why, size_t i, const char *reason)
{
    if (why == NULL)
        return;
    snprintf(why->field, sizeof(why->field), "sans[%zu]", i);
    snprintf(why->reason, sizeof(why->reason), "%s", reason);
}

enum cw_err
pki_san_from_json(const json_t *arr, GENERAL_NAMES **out,
                  struct jsonx_why *why)
{
    GENERAL_NAMES *gens = NULL;
    enum cw_err    err = CW_E_BADREQ;
    size_t         n;

    if (!json_is_array(arr)) {
        if (why != NULL) {
            snprintf(why->field, sizeof(why->field), "sans");
            snprintf(why->reason, sizeof(why->reason), "must be an array");
        }
        return CW_E_BADREQ;
    }
    n = json_array_size(arr);
    if (n > LIM_SANS) {
        if (why != NULL) {
            snprintf(why->field, sizeof(why->field), "sans");
            snprintf(why->reason, sizeof(why->reason), "too many entries");
        }
        return CW_E_TOOLARGE;
    }
    ERR_clear_error();
    gens = sk_GENERAL_NAME_new_null();
    if (gens == NULL) {
        pki_ssl_failed("sk_GENERAL_NAME_new_null");
        return CW_E_CRYPTO;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t     *e = json_array_get(arr, i);
        const json_t     *type = json_object_get(e, "type");
        const json_t     *value = json_object_get(e, "value");
        enum pki_san_type t;

        if (!json_is_object(e) || json_object_size(e) != 2 ||
            !json_is_string(type) || !json_is_string(value)) {
            why_set(why, i, "must be {\"type\": ..., \"value\": ...}");
            err = CW_E_BADREQ;
            goto out;
        }
        if (pki_san_type_parse(json_string_value(type), &t) != CW_OK) {
            why_set(why, i, "unknown type");
            err = CW_E_BADREQ;
            goto out;
        }
        err = pki_san_add(gens, t, json_string_value(value),
                          json_string_length(value));
        if (err != CW_OK) {
            why_set(why, i, err == CW_E_CRYPTO ? "not accepted"
                                               : "invalid or duplicate");
            if (err != CW_E_CRYPTO)
                err = CW_E_BADREQ;
            goto out;
        }
    }
    *out = gens;
    gens = NULL;
    err = CW_OK;
out:
    GENERAL_NAMES_free(gens);
    return err;
}

static json_t *
san_entry(enum pki_san_type t, const char *v, size_t len)
{
    json_t *value = json_stringn(v, len);
    json_t *o;

    if (value == NULL)
        return NULL;            /* not UTF-8 */
    o = json_object();
    json_object_set_new(o, "type", json_string(san_type_names[t]));
    json_object_set_new(o, "value", value);
    return o;
}

/* Text of an IA5String that holds no NUL or control bytes. */
static int
ia5_text(const ASN1_STRING *s, const char **p, size_t *len)
{
    const unsigned char *d = ASN1_STRING_get0_data(s);
    int                  n = ASN1_STRING_length(s);

    if (d == NULL || n <= 0)
        return 0;
    for (int i = 0; i < n; i++) {
        if (d[i] < 0x20 || d[i] >= 0x7f)
            return 0;
    }
    *p = (const char *)d;
    *len = (size_t)n;
    return 1;
}

/* A UPN otherName's UTF-8 value, or 0 when gen is not one. */
static int
upn_value(const GENERAL_NAME *gen, const char **p, size_t *len)
{
    const OTHERNAME *on = gen->d.otherName;

    if (on == NULL || OBJ_obj2nid(on->type_id) != NID_ms_upn ||
        on->value == NULL || on->value->type != V_ASN1_UTF8STRING)
        return 0;
    *p = (const char *)ASN1_STRING_get0_data(on->value->value.utf8string);
    *len = (size_t)ASN1_STRING_length(on->value->value.utf8string);
    return *p != NULL;
}

enum cw_err
pki_san_to_json(const GENERAL_NAMES *gens, json_t **out)
{
    json_t     *arr = json_array();
    enum cw_err err = CW_E_BADREQ;

    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *gen = sk_GENERAL_NAME_value(gens, i);
        const char         *p = NULL;
        size_t              len = 0;
        char                text[INET6_ADDRSTRLEN];
        json_t             *e = NULL;

        switch (gen->type) {
        case GEN_DNS:
        case GEN_EMAIL:
        case GEN_URI:
            if (!ia5_text(gen->d.ia5, &p, &len))
                goto out;
            e = san_entry(gen->type == GEN_DNS     ? PKI_SAN_DNS
                          : gen->type == GEN_EMAIL ? PKI_SAN_EMAIL
                                                   : PKI_SAN_URI,
                          p, len);
            break;
        case GEN_IPADD: {
            int n = ASN1_STRING_length(gen->d.ip);
            const unsigned char *d = ASN1_STRING_get0_data(gen->d.ip);

            if ((n != 4 && n != 16) ||
                inet_ntop(n == 4 ? AF_INET : AF_INET6, d, text,
                          sizeof(text)) == NULL)
                goto out;
            e = san_entry(PKI_SAN_IP, text, strlen(text));
            break;
        }
        case GEN_OTHERNAME:
            if (!upn_value(gen, &p, &len))
                continue;
            e = san_entry(PKI_SAN_UPN, p, len);
            break;
        default:
            continue;
        }
        if (e == NULL)
            goto out;
        json_array_append_new(arr, e);
    }
    *out = arr;
    arr = NULL;
    err = CW_OK;
out:
    if (err != CW_OK)
        log_info("malformed subjectAltName entry");
    json_decref(arr);
    return err;
}

enum cw_err
pki_san_get_cert(const X509 *cert, GENERAL_NAMES **out)
{
    GENERAL_NAMES *gens;
    int            crit = 0;

    ERR_clear_error();
    gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
    if (gens == NULL && crit != -1) {
        pki_ssl_refused("subjectAltName of a certificate");
        return CW_E_BADCERT;
    }
    ERR_clear_error();
    *out = gens;
    return CW_OK;
}

enum cw_err
pki_san_get_csr(X509_REQ *req, GENERAL_NAMES **out)
{
    STACK_OF(X509_EXTENSION) *exts = NULL;
    GENERAL_NAMES            *gens;
    int                       crit = 0;

    ERR_clear_error();
    exts = X509_REQ_get_extensions(req);
    if (exts == NULL) {
        ERR_clear_error();
        *out = NULL;
        return CW_OK;
    }
    gens = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    if (gens == NULL && crit != -1) {
        pki_ssl_refused("subjectAltName of a CSR");
        return CW_E_BADCSR;
    }
    ERR_clear_error();
    *out = gens;
    return CW_OK;
}

enum cw_err
pki_san_cn_fallback(const GENERAL_NAMES *gens, struct buf *out)
{
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *gen = sk_GENERAL_NAME_value(gens, i);
        const char         *p = NULL;
        size_t              len = 0;
        char                text[INET6_ADDRSTRLEN];

        switch (gen->type) {
        case GEN_DNS:
        case GEN_EMAIL:
            if (!ia5_text(gen->d.ia5, &p, &len))
                continue;
            break;
        case GEN_IPADD: {
            int n = ASN1_STRING_length(gen->d.ip);

            if ((n != 4 && n != 16) ||
                inet_ntop(n == 4 ? AF_INET : AF_INET6,
                          ASN1_STRING_get0_data(gen->d.ip), text,
                          sizeof(text)) == NULL)
                continue;
            p = text;
            len = strlen(text);
            break;
        }
        default:
            continue;
        }
        if (len > SAN_CN_MAX)
            continue;
        return buf_append(out, p, len);
    }
    return CW_E_NOTFOUND;
}

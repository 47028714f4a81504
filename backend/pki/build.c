/*
 * build.c: to-be-signed certificates from a struct pki_cert_spec, and the
 * name constraints check done before signing. The spec comes from the CA
 * service after its policy checks; the values in it (names, URLs) were
 * client input once and are validated again here.
 */
#include "config.h"

#include <limits.h>

#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "cw_limits.h"
#include "pki/build.h"
#include "pki/key.h"
#include "pki/pki-int.h"
#include "util/log.h"
#include "util/sp.h"

/* extendedKeyUsage purposes accepted by name; others as dotted OIDs. */
static const struct {
    const char *name;
    int         nid;
} eku_names[] = {
    { "serverAuth", NID_server_auth },
    { "clientAuth", NID_client_auth },
    { "codeSigning", NID_code_sign },
    { "emailProtection", NID_email_protect },
    { "timeStamping", NID_time_stamp },
    { "OCSPSigning", NID_OCSP_sign },
    { "ipsecIKE", NID_ipsec_IKE },
    { "msSmartcardLogin", NID_ms_smartcard_login },
};

void
pki_build_spec_init(struct pki_cert_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->path_len = -1;
}

enum cw_err
pki_build_default_ku(const EVP_PKEY *key, int is_ca, unsigned *ku)
{
    struct pki_key_info info;
    enum cw_err         err;

    err = pki_key_describe(key, &info);
    if (err != CW_OK)
        return err;
    if (is_ca)
        *ku = PKI_KU(PKI_KU_KEY_CERT_SIGN) | PKI_KU(PKI_KU_CRL_SIGN) |
              PKI_KU(PKI_KU_DIGITAL_SIGNATURE);
    else if (info.alg == PKI_ALG_RSA)
        *ku = PKI_KU(PKI_KU_DIGITAL_SIGNATURE) |
              PKI_KU(PKI_KU_KEY_ENCIPHERMENT);
    else
        *ku = PKI_KU(PKI_KU_DIGITAL_SIGNATURE);
    return CW_OK;
}

/* Key usage bits that the key type can honour (RFC 5480 3, RFC 8410 5):
 * no key transport with EC or EdDSA keys, no key agreement with RSA or
 * Ed25519, encipherOnly/decipherOnly only with keyAgreement. */
static enum cw_err
ku_check(const struct pki_key_info *info, int is_ca, unsigned ku)
{
    unsigned bad = 0;

    if (ku == 0 || ku >= PKI_KU(PKI_KU__MAX))
        return CW_E_BADREQ;
    switch (info->alg) {
    case PKI_ALG_RSA:
        bad = PKI_KU(PKI_KU_KEY_AGREEMENT);
        break;
    case PKI_ALG_EC:
        bad = PKI_KU(PKI_KU_KEY_ENCIPHERMENT) |
              PKI_KU(PKI_KU_DATA_ENCIPHERMENT);
        break;
    case PKI_ALG_ED25519:
    case PKI_ALG__MAX:
        bad = PKI_KU(PKI_KU_KEY_ENCIPHERMENT) |
              PKI_KU(PKI_KU_DATA_ENCIPHERMENT) |
              PKI_KU(PKI_KU_KEY_AGREEMENT);
        break;
    }
    if (ku & bad)
        return CW_E_BADREQ;
    if ((ku & (PKI_KU(PKI_KU_ENCIPHER_ONLY) | PKI_KU(PKI_KU_DECIPHER_ONLY))) &&
        !(ku & PKI_KU(PKI_KU_KEY_AGREEMENT)))
        return CW_E_BADREQ;
    /* keyCertSign if and only if a CA (RFC 5280 4.2.1.9). */
    if (!!is_ca != !!(ku & PKI_KU(PKI_KU_KEY_CERT_SIGN)))
        return CW_E_BADREQ;
    return CW_OK;
}

static enum cw_err
add_ext(X509 *x, int nid, void *value, int crit, const char *what)
{
    if (X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_DEFAULT) != 1) {
        pki_ssl_failed(what);
        return CW_E_CRYPTO;
    }
    return CW_OK;
}

/* The subject's SubjectPublicKeyInfo: copied from the CSR when there is
 * one (the algorithm, its parameters and the key bits, each duplicated),
 * else encoded from the key. The copy leaves the certificate without a
 * decoded EVP_PKEY: nothing in the build needs one (the SKI below hashes
 * the bits). */
static enum cw_err
set_pubkey(X509 *x, const struct pki_cert_spec *spec)
{
    X509_ALGOR          *pa = NULL;
    const unsigned char *pk = NULL;
    int                  pklen = 0;

    if (spec->spki == NULL) {
        if (X509_set_pubkey(x, spec->pubkey) != 1) {
            pki_ssl_failed("X509_set_pubkey");
            return CW_E_CRYPTO;
        }
        return CW_OK;
    }
    if (X509_PUBKEY_get0_param(NULL, &pk, &pklen, &pa, spec->spki) != 1 ||
        pa == NULL || pk == NULL || pklen <= 0) {
        pki_ssl_failed("X509_PUBKEY_get0_param");
        return CW_E_CRYPTO;
    }
    return pki_spki_set(X509_get_X509_PUBKEY(x), pa, pk, pklen);
}

static enum cw_err
add_key_ids(X509 *x, const struct pki_cert_spec *spec)
{
    uint8_t                  id[PKI_KEYID_LEN];
    ASN1_OCTET_STRING       *ski = NULL;
    AUTHORITY_KEYID         *aki = NULL;
    const ASN1_OCTET_STRING *issuer_ski = NULL;
    const unsigned char     *pk = NULL;
    int                      pklen = 0;
    unsigned int             mdlen = 0;
    enum cw_err              err;

    /* RFC 5280 4.2.1.2 method 1 over the key bits already encoded in x
     * (X509_set_pubkey): the same value pki_key_id() computes, without
     * encoding the key and decoding it once more (OpenSSL 3's encoders
     * and decoders cost more than the rest of the certificate). */
    if (X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL,
                               X509_get_X509_PUBKEY(x)) != 1 ||
        pk == NULL || pklen <= 0 ||
        EVP_Digest(pk, (size_t)pklen, id, &mdlen, EVP_sha1(), NULL) != 1 ||
        mdlen != PKI_KEYID_LEN) {
        pki_ssl_failed("subjectKeyIdentifier");
        return CW_E_CRYPTO;
    }
    err = CW_E_CRYPTO;
    ski = ASN1_OCTET_STRING_new();
    aki = AUTHORITY_KEYID_new();
    if (ski == NULL || aki == NULL ||
        ASN1_OCTET_STRING_set(ski, id, PKI_KEYID_LEN) != 1) {
        pki_ssl_failed("ASN1_OCTET_STRING_set");
        goto out;
    }
    err = add_ext(x, NID_subject_key_identifier, ski, 0,
                  "subjectKeyIdentifier");
    if (err != CW_OK)
        goto out;
    if (spec->issuer == NULL) {
        aki->keyid = ASN1_OCTET_STRING_dup(ski);
    } else {
        issuer_ski = X509_get0_subject_key_id(spec->issuer);
        if (issuer_ski != NULL) {
            aki->keyid = ASN1_OCTET_STRING_dup(issuer_ski);
        } else {
            /* An imported issuer without SKI: compute what it would be. */
            EVP_PKEY *ipub = X509_get0_pubkey(spec->issuer);

            err = ipub == NULL ? CW_E_BADCERT : pki_key_id(ipub, id);
            if (err != CW_OK)
                goto out;
            err = CW_E_CRYPTO;
            aki->keyid = ASN1_OCTET_STRING_new();
            if (aki->keyid != NULL &&
                ASN1_OCTET_STRING_set(aki->keyid, id, PKI_KEYID_LEN) != 1) {
                pki_ssl_failed("ASN1_OCTET_STRING_set");
                goto out;
            }
        }
    }
    if (aki->keyid == NULL) {
        pki_ssl_failed("authorityKeyIdentifier");
        err = CW_E_CRYPTO;
        goto out;
    }
    err = add_ext(x, NID_authority_key_identifier, aki, 0,
                  "authorityKeyIdentifier");
out:
    ASN1_OCTET_STRING_free(ski);
    AUTHORITY_KEYID_free(aki);
    return err;
}

static enum cw_err
add_basic_constraints(X509 *x, const struct pki_cert_spec *spec)
{
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    enum cw_err        err = CW_E_CRYPTO;

    if (bc == NULL) {
        pki_ssl_failed("BASIC_CONSTRAINTS_new");
        return err;
    }
    if (spec->is_ca) {
        bc->ca = 0xff;
        if (spec->path_len >= 0) {
            bc->pathlen = ASN1_INTEGER_new();
            if (bc->pathlen == NULL ||
                ASN1_INTEGER_set(bc->pathlen, spec->path_len) != 1) {
                pki_ssl_failed("ASN1_INTEGER_set");
                goto out;
            }
        }
    }
    /* Critical on CAs (RFC 5280 4.2.1.9); CA:FALSE is informative. */
    err = add_ext(x, NID_basic_constraints, bc, spec->is_ca,
                  "basicConstraints");
out:
    BASIC_CONSTRAINTS_free(bc);
    return err;
}

static enum cw_err
add_key_usage(X509 *x, unsigned ku)
{
    ASN1_BIT_STRING *bs = ASN1_BIT_STRING_new();
    enum cw_err      err = CW_E_CRYPTO;

    if (bs == NULL) {
        pki_ssl_failed("ASN1_BIT_STRING_new");
        goto out;
    }
    for (int b = 0; b < PKI_KU__MAX; b++) {
        if ((ku & PKI_KU(b)) && ASN1_BIT_STRING_set_bit(bs, b, 1) != 1) {
            pki_ssl_failed("ASN1_BIT_STRING_set_bit");
            goto out;
        }
    }
    err = add_ext(x, NID_key_usage, bs, 1, "keyUsage");
out:
    ASN1_BIT_STRING_free(bs);
    return err;
}

static ASN1_OBJECT *
eku_object(const char *s)
{
    size_t len = strlen(s);

    for (size_t i = 0; i < sizeof(eku_names) / sizeof(eku_names[0]); i++) {
        if (strcmp(eku_names[i].name, s) == 0)
            return OBJ_nid2obj(eku_names[i].nid);
    }
    /* A dotted OID: digits and single dots, at least two arcs. */
    if (len == 0 || len > 128 || s[0] == '.' || s[len - 1] == '.' ||
        strspn(s, "0123456789.") != len || strstr(s, "..") != NULL ||
        strchr(s, '.') == NULL)
        return NULL;
    return OBJ_txt2obj(s, 1);
}

static enum cw_err
add_eku(X509 *x, const struct pki_cert_spec *spec)
{
    EXTENDED_KEY_USAGE *eku = NULL;
    enum cw_err         err = CW_E_BADREQ;

    if (spec->n_eku == 0)
        return CW_OK;
    if (spec->n_eku > LIM_EKUS || spec->eku == NULL)
        return CW_E_BADREQ;
    eku = sk_ASN1_OBJECT_new_null();
    if (eku == NULL) {
        pki_ssl_failed("sk_ASN1_OBJECT_new_null");
        return CW_E_CRYPTO;
    }
    for (size_t i = 0; i < spec->n_eku; i++) {
        ASN1_OBJECT *obj = spec->eku[i] ? eku_object(spec->eku[i]) : NULL;

        if (obj == NULL) {
            ERR_clear_error();
            log_info("extendedKeyUsage entry %zu refused", i);
            goto out;
        }
        for (int j = 0; j < sk_ASN1_OBJECT_num(eku); j++) {
            if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, j), obj) == 0) {
                ASN1_OBJECT_free(obj);
                log_info("duplicate extendedKeyUsage entry %zu", i);
                goto out;
            }
        }
        if (sk_ASN1_OBJECT_push(eku, obj) <= 0) {
            ASN1_OBJECT_free(obj);
            err = CW_E_CRYPTO;
            goto out;
        }
    }
    err = add_ext(x, NID_ext_key_usage, eku, 0, "extendedKeyUsage");
out:
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    return err;
}

/* A URI GENERAL_NAME for a CDP/AIA URL. */
static enum cw_err
uri_name(const char *url, GENERAL_NAME **out)
{
    GENERAL_NAMES *tmp = NULL;
    enum cw_err    err;

    tmp = sk_GENERAL_NAME_new_null();
    if (tmp == NULL)
        return CW_E_CRYPTO;
    err = pki_san_add(tmp, PKI_SAN_URI, url, strlen(url));
    if (err == CW_OK)
        *out = sk_GENERAL_NAME_pop(tmp);
    else
        log_info("URL refused");
    GENERAL_NAMES_free(tmp);
    return err == CW_OK ? CW_OK : CW_E_BADREQ;
}

static enum cw_err
add_cdp(X509 *x, const char *url)
{
    CRL_DIST_POINTS *cdp = NULL;
    DIST_POINT      *dp = NULL;
    GENERAL_NAME    *gen = NULL;
    enum cw_err      err;

    err = uri_name(url, &gen);
    if (err != CW_OK)
        return err;
    err = CW_E_CRYPTO;
    cdp = sk_DIST_POINT_new_null();
    dp = DIST_POINT_new();
    if (cdp == NULL || dp == NULL)
        goto out;
    dp->distpoint = DIST_POINT_NAME_new();
    if (dp->distpoint == NULL)
        goto out;
    dp->distpoint->type = 0;            /* fullName */
    dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
    if (dp->distpoint->name.fullname == NULL ||
        sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gen) <= 0)
        goto out;
    gen = NULL;
    if (sk_DIST_POINT_push(cdp, dp) <= 0)
        goto out;
    dp = NULL;
    err = add_ext(x, NID_crl_distribution_points, cdp, 0,
                  "cRLDistributionPoints");
out:
    if (err == CW_E_CRYPTO && cdp != NULL && dp != NULL)
        pki_ssl_failed("cRLDistributionPoints");
    GENERAL_NAME_free(gen);
    DIST_POINT_free(dp);
    sk_DIST_POINT_pop_free(cdp, DIST_POINT_free);
    return err;
}

static enum cw_err
aia_push(AUTHORITY_INFO_ACCESS *aia, int method, const char *url)
{
    ACCESS_DESCRIPTION *ad = NULL;
    GENERAL_NAME       *gen = NULL;
    enum cw_err         err;

    err = uri_name(url, &gen);
    if (err != CW_OK)
        return err;
    ad = ACCESS_DESCRIPTION_new();
    if (ad == NULL) {
        GENERAL_NAME_free(gen);
        return CW_E_CRYPTO;
    }
    ASN1_OBJECT_free(ad->method);
    ad->method = OBJ_nid2obj(method);
    GENERAL_NAME_free(ad->location);
    ad->location = gen;
    if (sk_ACCESS_DESCRIPTION_push(aia, ad) <= 0) {
        ACCESS_DESCRIPTION_free(ad);
        return CW_E_CRYPTO;
    }
    return CW_OK;
}

static enum cw_err
add_aia(X509 *x, const struct pki_cert_spec *spec)
{
    AUTHORITY_INFO_ACCESS *aia = NULL;
    enum cw_err            err = CW_OK;

    if (spec->ocsp_url == NULL && spec->ca_issuers_url == NULL)
        return CW_OK;
    aia = sk_ACCESS_DESCRIPTION_new_null();
    if (aia == NULL)
        return CW_E_CRYPTO;
    if (spec->ocsp_url != NULL)
        err = aia_push(aia, NID_ad_OCSP, spec->ocsp_url);
    if (err == CW_OK && spec->ca_issuers_url != NULL)
        err = aia_push(aia, NID_ad_ca_issuers, spec->ca_issuers_url);
    if (err == CW_OK)
        err = add_ext(x, NID_info_access, aia, 0, "authorityInfoAccess");
    sk_ACCESS_DESCRIPTION_pop_free(aia, ACCESS_DESCRIPTION_free);
    return err;
}

static int
prefix_mask(uint8_t *mask, size_t n, unsigned long bits)
{
    if (bits > 8 * n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned long b = bits > 8 ? 8 : bits;

        mask[i] = (uint8_t)(b == 0 ? 0 : 0xff << (8 - b));
        bits -= b;
    }
    return 1;
}

/* One subtree's base as a GENERAL_NAME. */
static enum cw_err
nc_name(const struct pki_nc_entry *e, GENERAL_NAME **out)
{
    const char         *v = e->value;
    size_t              len = v != NULL ? strlen(v) : 0;
    char                dns[LIM_DNS_NAME + 1];
    GENERAL_NAME       *gen = NULL;
    ASN1_STRING        *s = NULL;
    int                 type;

    if (len == 0 || len > LIM_SAN_VALUE)
        return CW_E_BADREQ;
    switch (e->type) {
    case PKI_SAN_DNS:
    case PKI_SAN_EMAIL: {
        const char *host = v;
        size_t      hlen = len;
        const char *at = memchr(v, '@', len);

        if (e->type == PKI_SAN_EMAIL && at != NULL) {
            /* A whole mailbox: the same rules as an email SAN. */
            GENERAL_NAMES *tmp = sk_GENERAL_NAME_new_null();
            enum cw_err    err;

            if (tmp == NULL)
                return CW_E_CRYPTO;
            err = pki_san_add(tmp, PKI_SAN_EMAIL, v, len);
            if (err == CW_OK)
                *out = sk_GENERAL_NAME_pop(tmp);
            GENERAL_NAMES_free(tmp);
            return err == CW_OK ? CW_OK : CW_E_BADREQ;
        }
        if (host[0] == '.') {
            host++;
            hlen--;
        }
        if (pki_dns_name_check(host, hlen, 0, dns) != CW_OK)
            return CW_E_BADREQ;
        type = e->type == PKI_SAN_DNS ? GEN_DNS : GEN_EMAIL;
        s = ASN1_IA5STRING_new();
        if (s == NULL)
            return CW_E_CRYPTO;
        if (v[0] == '.') {
            char dotted[LIM_DNS_NAME + 2];

            dotted[0] = '.';
            memcpy(dotted + 1, dns, hlen);
            if (ASN1_STRING_set(s, dotted, (int)len) != 1) {
                ASN1_IA5STRING_free(s);
                return CW_E_CRYPTO;
            }
        } else if (ASN1_STRING_set(s, dns, (int)hlen) != 1) {
            ASN1_IA5STRING_free(s);
            return CW_E_CRYPTO;
        }
        break;
    }
    case PKI_SAN_IP: {
        uint8_t        buf[32];
        size_t         n = 0;
        const char    *slash = memchr(v, '/', len);
        uint64_t       bits;

        if (slash == NULL)
            return CW_E_BADREQ;
        if (pki_ip_parse(v, (size_t)(slash - v), buf, &n) != CW_OK)
            return CW_E_BADREQ;
        if (sp_u64(slash + 1, len - (size_t)(slash - v) - 1, 8 * n, &bits) !=
            CW_OK)
            return CW_E_BADREQ;
        if (!prefix_mask(buf + n, n, (unsigned long)bits))
            return CW_E_BADREQ;
        for (size_t i = 0; i < n; i++) {
            if (buf[i] & ~buf[n + i])
                return CW_E_BADREQ;     /* host bits set */
        }
        type = GEN_IPADD;
        s = ASN1_OCTET_STRING_new();
        if (s == NULL || ASN1_OCTET_STRING_set(s, buf, (int)(2 * n)) != 1) {
            ASN1_OCTET_STRING_free(s);
            return CW_E_CRYPTO;
        }
        break;
    }
    default:
        return CW_E_BADREQ;
    }
    gen = GENERAL_NAME_new();
    if (gen == NULL) {
        ASN1_STRING_free(s);
        return CW_E_CRYPTO;
    }
    GENERAL_NAME_set0_value(gen, type, s);
    *out = gen;
    return CW_OK;
}

static enum cw_err
nc_subtrees(const struct pki_nc_entry *e, size_t n,
            STACK_OF(GENERAL_SUBTREE) **out)
{
    STACK_OF(GENERAL_SUBTREE) *st = NULL;
    enum cw_err                err = CW_E_CRYPTO;

    if (n == 0)
        return CW_OK;
    if (n > LIM_NAME_CONSTRAINTS || e == NULL)
        return CW_E_BADREQ;
    st = sk_GENERAL_SUBTREE_new_null();
    if (st == NULL)
        return CW_E_CRYPTO;
    for (size_t i = 0; i < n; i++) {
        GENERAL_SUBTREE *sub;
        GENERAL_NAME    *gen = NULL;

        err = nc_name(&e[i], &gen);
        if (err != CW_OK) {
            log_info("name constraint %zu refused", i);
            goto out;
        }
        sub = GENERAL_SUBTREE_new();
        if (sub == NULL) {
            GENERAL_NAME_free(gen);
            err = CW_E_CRYPTO;
            goto out;
        }
        GENERAL_NAME_free(sub->base);
        sub->base = gen;
        if (sk_GENERAL_SUBTREE_push(st, sub) <= 0) {
            GENERAL_SUBTREE_free(sub);
            err = CW_E_CRYPTO;
            goto out;
        }
    }
    *out = st;
    st = NULL;
    err = CW_OK;
out:
    sk_GENERAL_SUBTREE_pop_free(st, GENERAL_SUBTREE_free);
    return err;
}

static enum cw_err
add_name_constraints(X509 *x, const struct pki_cert_spec *spec)
{
    NAME_CONSTRAINTS *nc = NULL;
    enum cw_err       err;

    if (spec->n_permitted == 0 && spec->n_excluded == 0)
        return CW_OK;
    if (!spec->is_ca)
        return CW_E_BADREQ;     /* RFC 5280 4.2.1.10: CAs only */
    nc = NAME_CONSTRAINTS_new();
    if (nc == NULL)
        return CW_E_CRYPTO;
    err = nc_subtrees(spec->nc_permitted, spec->n_permitted,
                      &nc->permittedSubtrees);
    if (err == CW_OK)
        err = nc_subtrees(spec->nc_excluded, spec->n_excluded,
                          &nc->excludedSubtrees);
    if (err == CW_OK)
        err = add_ext(x, NID_name_constraints, nc, 1, "nameConstraints");
    NAME_CONSTRAINTS_free(nc);
    return err;
}

static enum cw_err
set_serial(X509 *x, const struct pki_cert_spec *spec)
{
    BIGNUM       *bn = NULL;
    ASN1_INTEGER *ai = NULL;
    enum cw_err   err = CW_E_BADREQ;

    if (spec->serial_len == 0 || spec->serial_len > PKI_SERIAL_LEN)
        return CW_E_BADREQ;
    bn = BN_bin2bn(spec->serial, (int)spec->serial_len, NULL);
    if (bn == NULL) {
        pki_ssl_failed("BN_bin2bn");
        return CW_E_CRYPTO;
    }
    /* Positive, non-zero, at most 20 octets once encoded. */
    if (BN_is_zero(bn) || BN_num_bits(bn) > 8 * PKI_SERIAL_LEN - 1) {
        log_info("serial number out of range");
        goto out;
    }
    err = CW_E_CRYPTO;
    ai = BN_to_ASN1_INTEGER(bn, NULL);
    if (ai == NULL || X509_set_serialNumber(x, ai) != 1) {
        pki_ssl_failed("X509_set_serialNumber");
        goto out;
    }
    err = CW_OK;
out:
    BN_free(bn);
    ASN1_INTEGER_free(ai);
    return err;
}

/* Validity: notBefore < notAfter, and within the issuer's notAfter. */
static enum cw_err
set_validity(X509 *x, const struct pki_cert_spec *spec)
{
    time_t nb = spec->not_before;
    time_t na = spec->not_after;

    if (na <= nb)
        return CW_E_BADREQ;
    if (spec->issuer != NULL) {
        time_t inb;
        time_t ina;

        if (pki_time_get(X509_get0_notBefore(spec->issuer), &inb) != CW_OK ||
            pki_time_get(X509_get0_notAfter(spec->issuer), &ina) != CW_OK)
            return CW_E_BADCERT;
        if (na > ina) {
            if (!(spec->flags & PKI_BUILD_CLIP_VALIDITY)) {
                log_info("validity ends after the issuer's");
                return CW_E_POLICY;
            }
            na = ina;
        }
        if (nb < inb)
            nb = inb;
        if (na <= nb)
            return CW_E_POLICY;
    }
    ERR_clear_error();
    if (ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
        ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL) {
        pki_ssl_failed("ASN1_TIME_set");
        return CW_E_CRYPTO;
    }
    return CW_OK;
}

/* Can spec->issuer issue this certificate at all? */
static enum cw_err
issuer_check(const struct pki_cert_spec *spec)
{
    X509    *iss = spec->issuer;
    uint32_t ku;
    long     pl;

    if (iss == NULL)
        return CW_OK;
    if (X509_check_ca(iss) != 1 ||
        (X509_get_extension_flags(iss) & EXFLAG_INVALID)) {
        log_info("issuer is not a CA");
        return CW_E_POLICY;
    }
    ku = X509_get_key_usage(iss);
    if (ku != UINT32_MAX && !(ku & KU_KEY_CERT_SIGN)) {
        log_info("issuer lacks keyCertSign");
        return CW_E_POLICY;
    }
    pl = X509_get_pathlen(iss);
    if (spec->is_ca && pl == 0) {
        log_info("issuer's pathLenConstraint forbids a sub-CA");
        return CW_E_POLICY;
    }
    if (spec->is_ca && pl > 0 && spec->path_len >= pl) {
        log_info("path length beyond the issuer's");
        return CW_E_POLICY;
    }
    return CW_OK;
}

enum cw_err
pki_build_cert(const struct pki_cert_spec *spec, X509 **out)
{
    struct pki_key_info info;
    X509               *x = NULL;
    unsigned            ku = spec->key_usage;
    int                 empty_subject;
    int                 nsans;
    enum cw_err         err;

    if (spec->subject == NULL || spec->pubkey == NULL)
        return CW_E_BADREQ;
    err = pki_key_describe(spec->pubkey, &info);
    if (err != CW_OK)
        return err;
    if (ku == 0) {
        err = pki_build_default_ku(spec->pubkey, spec->is_ca, &ku);
        if (err != CW_OK)
            return err;
    }
    err = ku_check(&info, spec->is_ca, ku);
    if (err != CW_OK) {
        log_info("keyUsage does not fit the key type or role");
        return err;
    }
    empty_subject = X509_NAME_entry_count(spec->subject) == 0;
    nsans = spec->sans != NULL ? sk_GENERAL_NAME_num(spec->sans) : 0;
    if (nsans > LIM_SANS)
        return CW_E_TOOLARGE;
    if (empty_subject && (nsans == 0 || spec->is_ca)) {
        log_info("a certificate needs a subject (CAs) or SANs");
        return CW_E_BADREQ;
    }
    if (spec->path_len < -1 || (!spec->is_ca && spec->path_len != -1))
        return CW_E_BADREQ;
    err = issuer_check(spec);
    if (err != CW_OK)
        return err;
    ERR_clear_error();
    x = X509_new();
    if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
        X509_set_subject_name(x, spec->subject) != 1 ||
        X509_set_issuer_name(x, spec->issuer != NULL
                                    ? X509_get_subject_name(spec->issuer)
                                    : spec->subject) != 1) {
        pki_ssl_failed("X509_new");
        err = CW_E_CRYPTO;
        goto out;
    }
    err = set_pubkey(x, spec);
    if (err != CW_OK)
        goto out;
    err = set_serial(x, spec);
    if (err == CW_OK)
        err = set_validity(x, spec);
    if (err == CW_OK)
        err = add_basic_constraints(x, spec);
    if (err == CW_OK)
        err = add_key_usage(x, ku);
    if (err == CW_OK)
        err = add_eku(x, spec);
    if (err == CW_OK)
        err = add_key_ids(x, spec);
    /* The encoder only reads the names; its prototype is not const. */
    if (err == CW_OK && nsans > 0)
        err = add_ext(x, NID_subject_alt_name, (void *)(uintptr_t)spec->sans,
                      empty_subject, "subjectAltName");
    if (err == CW_OK && spec->crl_url != NULL)
        err = add_cdp(x, spec->crl_url);
    if (err == CW_OK)
        err = add_aia(x, spec);
    if (err == CW_OK)
        err = add_name_constraints(x, spec);
    if (err == CW_OK && spec->ocsp_nocheck) {
        /* RFC 6960 4.2.2.2.1: relying parties do not check a delegated
         * responder's own revocation status. */
        ASN1_NULL *null = ASN1_NULL_new();

        err = null ? add_ext(x, NID_id_pkix_OCSP_noCheck, null, 0,
                             "ocspNoCheck")
                   : CW_E_CRYPTO;
        ASN1_NULL_free(null);
    }
    if (err != CW_OK)
        goto out;
    *out = x;
    x = NULL;
out:
    X509_free(x);
    return err;
}

enum cw_err
pki_build_nc_check(const X509 *tbs, STACK_OF(X509) *chain)
{
    X509       *tmp = NULL;
    int         idx;
    enum cw_err err = CW_E_CRYPTO;

    /* NAME_CONSTRAINTS_check() reads the SANs OpenSSL caches when it
     * first looks at a certificate's extensions; a certificate still being
     * built may have a stale cache, so a fresh copy of the names is checked. */
    ERR_clear_error();
    tmp = X509_new();
    if (tmp == NULL ||
        X509_set_subject_name(tmp, X509_get_subject_name(tbs)) != 1) {
        pki_ssl_failed("X509_new");
        goto out;
    }
    idx = X509_get_ext_by_NID(tbs, NID_subject_alt_name, -1);
    if (idx >= 0 && X509_add_ext(tmp, X509_get_ext(tbs, idx), -1) != 1) {
        pki_ssl_failed("X509_add_ext");
        goto out;
    }
    (void)X509_get_extension_flags(tmp);
    ERR_clear_error();
    err = CW_OK;
    for (int i = 0; i < sk_X509_num(chain) && err == CW_OK; i++) {
        NAME_CONSTRAINTS *nc;
        int               crit = 0;
        int               r;

        nc = X509_get_ext_d2i(sk_X509_value(chain, i), NID_name_constraints,
                              &crit, NULL);
        if (nc == NULL) {
            if (crit != -1) {
                pki_ssl_refused("nameConstraints of the chain");
                err = CW_E_BADCERT;
            }
            continue;
        }
        r = NAME_CONSTRAINTS_check(tmp, nc);
        if (r == X509_V_OK)
            r = NAME_CONSTRAINTS_check_CN(tmp, nc);
        if (r != X509_V_OK) {
            log_info("names outside the constraints of chain[%d]: %s", i,
                     X509_verify_cert_error_string(r));
            err = CW_E_POLICY;
        }
        NAME_CONSTRAINTS_free(nc);
    }
out:
    X509_free(tmp);
    ERR_clear_error();
    return err;
}

/*
 * import.c: bringing an existing CA into certward: its certificate (PEM,
 * DER, a PKCS#7 bundle or a PKCS#12 file) with or without its private key.
 * Everything here is client input: formats are detected, the certificate
 * must be a CA certificate, a key must match it, and the issuer is looked
 * up among certward's CAs by name and signature.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ca/ca-int.h"
#include "cw_limits.h"
#include "pki/cert.h"
#include "pki/key.h"
#include "pki/name.h"
#include "pki/p12.h"
#include "signer/signer.h"
#include "util/log.h"

static const char sql_dup[] = "SELECT id FROM cas WHERE fp_sha256 = ?";
static const char sql_all_cas[] =
    "SELECT id FROM cas WHERE status = 'active' AND cert_der IS NOT NULL";
static const char sql_insert[] =
    "INSERT INTO cas (origin, name, slug, type, parent_id, status, "
    "subject_dn, "
    "serial, not_before, not_after, key_type, path_len, cert_der, ski, "
    "fp_sha256, key_state, created_by) VALUES ('imported', ?, ?, ?, ?, "
    "'active', ?, ?, "
    "?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_set_key[] =
    "UPDATE cas SET key_wrapped = ? WHERE id = ?";

/* base64 text (line breaks allowed) into out. */
static enum cw_err
b64_decode(const char *s, size_t len, struct buf *out)
{
    uint8_t *tmp;
    size_t   n = 0;
    int      dl;
    int      pad;
    enum cw_err err;

    tmp = malloc(len + 1);
    if (tmp == NULL)
        abort();
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)s[i]))
            tmp[n++] = (uint8_t)s[i];
    if (n == 0 || n % 4 != 0) {
        free(tmp);
        return CW_E_BADREQ;
    }
    pad = (tmp[n - 1] == '=') + (tmp[n - 2] == '=');
    dl = EVP_DecodeBlock(tmp, tmp, (int)n);
    if (dl < pad) {
        free(tmp);
        return CW_E_BADREQ;
    }
    err = buf_append(out, tmp, (size_t)(dl - pad));
    free(tmp);
    return err;
}

static void
chain_free(STACK_OF(X509) *sk)
{
    sk_X509_pop_free(sk, X509_free);
}

/* The CA certificate (and a key from PKCS#12) from the upload. */
static enum cw_err
parse_upload(const char *text, size_t len, const char *password,
             X509 **cert, EVP_PKEY **key, struct ca_why *why)
{
    STACK_OF(X509) *sk = NULL;
    struct buf      der;
    enum cw_err     err;

    buf_init(&der, LIM_P12);
    /* RFC 7468 section 2: text may come before the PEM (bag attributes,
     * blank lines). */
    if (strstr(text, "-----BEGIN ") != NULL) {
        if (strstr(text, "-----BEGIN PKCS7-----") != NULL)
            err = pki_p7b_parse((const uint8_t *)text, len, &sk);
        else
            err = pki_cert_chain_parse((const uint8_t *)text, len, &sk);
    } else {
        err = b64_decode(text, len, &der);
        if (err != CW_OK) {
            ca_why_set(why, "certificate", "certificate must be PEM, or "
                                           "base64 of DER, PKCS#7 or "
                                           "PKCS#12");
            goto out;
        }
        /* DER certificate, then PKCS#7, then PKCS#12. */
        err = pki_cert_parse_der(der.p, der.len, cert);
        if (err == CW_OK)
            goto out;
        err = pki_p7b_parse(der.p, der.len, &sk);
        if (err != CW_OK) {
            STACK_OF(X509) *extra = NULL;

            err = pki_p12_parse(der.p, der.len, password ? password : "",
                                key, cert, &extra);
            chain_free(extra);
            if (err != CW_OK) {
                ca_why_set(why, "certificate",
                           "not a certificate, PKCS#7 or PKCS#12 file (or "
                           "the PKCS#12 password is wrong)");
                err = CW_E_BADREQ;
            }
            goto out;
        }
    }
    if (err != CW_OK) {
        ca_why_set(why, "certificate", "the certificate does not parse");
        err = CW_E_BADREQ;
        goto out;
    }
    /* From a bundle: the first CA certificate. */
    for (int i = 0; i < sk_X509_num(sk); i++) {
        X509 *c = sk_X509_value(sk, i);

        if (X509_check_ca(c) == 1) {
            X509_up_ref(c);
            *cert = c;
            break;
        }
    }
    if (*cert == NULL) {
        ca_why_set(why, "certificate", "no CA certificate in the upload");
        err = CW_E_BADREQ;
    }
out:
    chain_free(sk);
    buf_cleanup(&der);
    return err;
}

/* A certward CA that issued cert, by name and signature; 0 if none. */
static enum cw_err
find_parent(struct store *db, const struct cw_config *cfg, struct arena *a,
            X509 *cert, uint64_t *parent)
{
    struct store_rows rows;
    enum cw_err       err;

    *parent = 0;
    err = store_query(db, a, sql_all_cas, NULL, 0, &rows);
    for (size_t r = 0; err == CW_OK && r < rows.nrows; r++) {
        struct ca_row row;

        if (ca_row_load(db, cfg, a, store_cell_u64(&rows, r, 0), &row) !=
                CW_OK ||
            row.cert == NULL)
            continue;
        if (X509_check_issued(row.cert, cert) == X509_V_OK &&
            X509_verify(cert, X509_get0_pubkey(row.cert)) == 1) {
            *parent = row.id;
            break;
        }
    }
    ERR_clear_error();
    return err;
}

struct import_tx {
    const char                     *name;
    char                            slug[64];
    const char                     *type;
    uint64_t                        parent;
    const char                     *dn;
    const char                     *cn;
    const char                     *serial;
    const char                     *nb;
    const char                     *na;
    const char                     *key_type;
    long                            path_len;
    struct buf                     *der;
    const char                     *ski;
    const char                     *fp;
    EVP_PKEY                       *key;
    const struct cw_config         *cfg;
    const struct store_audit_event *ev;
    uint64_t                        id;
};

static enum cw_err
import_body(struct store *db, void *arg)
{
    struct import_tx        *t = arg;
    struct store_param       p[15];
    struct buf               wrapped;
    char                     detail[160];
    enum cw_err              err;

    p[0] = SP_STR(t->name);
    p[1] = SP_STR(t->slug);
    p[2] = SP_STR(t->type);
    p[3] = t->parent ? SP_U64(t->parent) : SP_NULLV;
    p[4] = SP_STR(t->dn);
    p[5] = SP_STR(t->serial);
    p[6] = SP_STR(t->nb);
    p[7] = SP_STR(t->na);
    p[8] = SP_STR(t->key_type);
    p[9] = t->path_len >= 0 ? SP_I64(t->path_len) : SP_NULLV;
    p[10] = SP_BLOB(t->der->p, t->der->len);
    p[11] = SP_STR(t->ski);
    p[12] = SP_STR(t->fp);
    p[13] = SP_STR(t->key ? "online" : "certificate_only");
    p[14] = SP_STR(t->ev->username ? t->ev->username : "");
    err = store_exec(db, sql_insert, p, 15, NULL, &t->id);
    if (err != CW_OK)
        return err;
    if (t->parent != 0) {
        err = ca_parent_row_add(db, t->parent, t->serial, t->dn, t->cn,
                                t->key_type, t->nb, t->na, t->fp, t->der,
                                t->ev->username);
        if (err != CW_OK)
            return err;
    }
    if (t->key != NULL) {
        /* Wrapping needs the row id; it has no effect outside this
         * transaction, so a replay is harmless. */
        buf_init(&wrapped, 16384);
        err = signer_key_wrap(t->cfg, "cas", t->id, t->key, &wrapped);
        if (err == CW_OK) {
            p[0] = SP_BLOB(wrapped.p, wrapped.len);
            p[1] = SP_U64(t->id);
            err = store_exec(db, sql_set_key, p, 2, NULL, NULL);
        }
        buf_cleanup(&wrapped);
        if (err != CW_OK)
            return err;
    }
    snprintf(detail, sizeof(detail),
             "{\"slug\":\"%s\",\"type\":\"%s\",\"with_key\":%s}", t->slug,
             t->type, t->key ? "true" : "false");
    return ca_audit(db, t->ev, "ca.import", "ca", t->id, detail);
}

enum cw_err
ca_import(struct store *db, const struct cw_config *cfg, const char *name,
          const char *data, size_t len, const char *password,
          const char *key_pem, const struct store_audit_event *ev,
          uint64_t *id, struct ca_why *why)
{
    struct arena         a;
    struct import_tx     t;
    struct pki_cert_info info;
    struct pki_key_info  ki;
    struct store_rows    rows;
    struct store_param   p[1];
    X509                *cert = NULL;
    EVP_PKEY            *key = NULL;
    struct buf           der;
    struct buf           dn;
    struct buf           ski;
    enum cw_err          err;

    arena_init(&a);
    buf_init(&der, LIM_CERT_DER);
    buf_init(&dn, 65536);
    buf_init(&ski, 256);
    memset(&t, 0, sizeof(t));
    err = parse_upload(data, len, password, &cert, &key, why);
    if (err != CW_OK)
        goto out;
    /* RFC 5280 4.2.1.9: a CA certificate has basicConstraints cA TRUE
     * (X509_check_ca() also counts v1 and keyUsage-only certificates). */
    if (X509_check_ca(cert) != 1) {
        ca_why_set(why, "certificate", "this is not a CA certificate "
                                       "(basicConstraints CA:TRUE)");
        err = CW_E_BADREQ;
        goto out;
    }
    if (key == NULL && key_pem != NULL) {
        err = pki_key_parse((const uint8_t *)key_pem, strlen(key_pem),
                            password, &key);
        if (err != CW_OK) {
            ca_why_set(why, "key", "the key does not parse or the password "
                                   "is wrong");
            err = CW_E_BADREQ;
            goto out;
        }
    }
    if (key != NULL && pki_key_match_cert(key, cert) != CW_OK) {
        ca_why_set(why, "key", "the key does not belong to the "
                               "certificate");
        err = CW_E_BADREQ;
        goto out;
    }
    err = pki_key_describe(X509_get0_pubkey(cert), &ki);
    if (err != CW_OK) {
        ca_why_set(why, "certificate", "the CA's key type is not supported");
        err = CW_E_BADREQ;
        goto out;
    }
    err = pki_cert_info_get(cert, &info);
    if (err == CW_OK)
        err = pki_cert_to_der(cert, &der);
    if (err == CW_OK)
        err = pki_name_to_string(X509_get_subject_name(cert), &dn);
    if (err == CW_OK)
        err = pki_cert_ski_hex(cert, &ski);
    if (err != CW_OK)
        goto out;
    p[0] = SP_STR(info.sha256);
    err = store_query(db, &a, sql_dup, p, 1, &rows);
    if (err != CW_OK)
        goto out;
    if (rows.nrows > 0) {
        ca_why_set(why, "certificate", "this CA is already in certward "
                                       "(id %s)", store_cell_str(&rows, 0, 0));
        err = CW_E_CONFLICT;
        goto out;
    }
    if (X509_check_issued(cert, cert) == X509_V_OK &&
        X509_verify(cert, X509_get0_pubkey(cert)) == 1) {
        t.type = "root";
    } else {
        t.type = "intermediate";
        err = find_parent(db, cfg, &a, cert, &t.parent);
        if (err != CW_OK)
            goto out;
    }
    ERR_clear_error();
    t.name = name;
    t.dn = dn.p ? (const char *)dn.p : "";
    err = ca_name_cn(X509_get_subject_name(cert), &a, &t.cn);
    if (err != CW_OK)
        goto out;
    t.serial = info.serial;
    t.nb = ca_sql_time(&a, info.not_before);
    t.na = ca_sql_time(&a, info.not_after);
    t.key_type = ki.type < PKI_KEY__MAX ? pki_key_type_name(ki.type)
                                        : pki_key_alg_name(ki.alg);
    t.path_len = info.path_len;
    t.der = &der;
    t.ski = ski.p ? (const char *)ski.p : "";
    t.fp = info.sha256;
    t.key = key;
    t.cfg = cfg;
    t.ev = ev;
    err = ca_tx_unique_slug(db, name, t.slug, sizeof(t.slug), import_body, &t);
    if (err == CW_OK)
        *id = t.id;
out:
    EVP_PKEY_free(key);
    X509_free(cert);
    buf_cleanup(&der);
    buf_cleanup(&dn);
    buf_cleanup(&ski);
    arena_reset(&a);
    return err;
}

/*
 * external.c: an intermediate CA signed outside certward. certward makes
 * the key (wrapped like every key) and a CSR for it; the operator has the
 * CSR signed by an external CA and uploads the certificate, which must be
 * a CA certificate for exactly that key. Until then the CA is
 * "awaiting_certificate" and signs nothing.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca/ca-int.h"
#include "cw_limits.h"
#include "pki/cert.h"
#include "pki/csr.h"
#include "pki/key.h"
#include "pki/name.h"
#include "signer/signer.h"
#include "util/jsonx.h"
#include "util/log.h"

static const char sql_insert[] =
    "INSERT INTO cas (origin, name, slug, type, status, subject_dn, "
    "key_type, path_len, csr_der, key_state, created_by) "
    "VALUES ('external', ?, ?, 'intermediate', 'awaiting_certificate', ?, "
    "?, ?, ?, "
    "'online', ?)";
static const char sql_set_key[] =
    "UPDATE cas SET key_wrapped = ? WHERE id = ?";
static const char sql_csr[] =
    "SELECT csr_der, status FROM cas WHERE id = ?";
static const char sql_install[] =
    "UPDATE cas SET status = 'active', parent_id = ?, subject_dn = ?, "
    "serial = ?, not_before = ?, not_after = ?, cert_der = ?, ski = ?, "
    "fp_sha256 = ?, csr_der = NULL, updated_at = NOW(6) "
    "WHERE id = ? AND status = 'awaiting_certificate'";
static const char sql_all_cas[] =
    "SELECT id FROM cas WHERE status = 'active' AND cert_der IS NOT NULL";

struct ext_tx {
    const char                     *name;
    char                            slug[64];
    const char                     *dn;
    const char                     *key_type;
    int                             path_len;
    struct buf                     *csr;
    EVP_PKEY                       *key;
    const struct cw_config         *cfg;
    const struct store_audit_event *ev;
    uint64_t                        id;
};

static enum cw_err
ext_body(struct store *db, void *arg)
{
    struct ext_tx           *t = arg;
    struct store_param       p[7];
    struct buf               wrapped;
    char                     detail[96];
    enum cw_err              err;

    p[0] = SP_STR(t->name);
    p[1] = SP_STR(t->slug);
    p[2] = SP_STR(t->dn);
    p[3] = SP_STR(t->key_type);
    p[4] = t->path_len >= 0 ? SP_I64(t->path_len) : SP_NULLV;
    p[5] = SP_BLOB(t->csr->p, t->csr->len);
    p[6] = SP_STR(t->ev->username ? t->ev->username : "");
    err = store_exec(db, sql_insert, p, 7, NULL, &t->id);
    if (err != CW_OK)
        return err;
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
    snprintf(detail, sizeof(detail), "{\"slug\":\"%s\"}", t->slug);
    return ca_audit(db, t->ev, "ca.create_csr", "ca", t->id, detail);
}

enum cw_err
ca_create_external(struct store *db, const struct cw_config *cfg,
                   const char *name, json_t *subject, json_t *keyspec,
                   int path_len, const struct store_audit_event *ev,
                   uint64_t *id, struct ca_why *why)
{
    struct jsonx_why  jw = { "", "" };
    struct ext_tx     t;
    enum pki_key_type kt;
    X509_NAME        *subj = NULL;
    EVP_PKEY         *key = NULL;
    X509_REQ         *req = NULL;
    struct buf        csr;
    struct buf        dn;
    enum cw_err       err;

    buf_init(&csr, LIM_CSR_DER);
    buf_init(&dn, 65536);
    memset(&t, 0, sizeof(t));
    err = pki_key_type_from_json(keyspec, &kt, &jw);
    if (err != CW_OK) {
        ca_why_set(why, "key", "key.%s %s", jw.field, jw.reason);
        goto out;
    }
    err = pki_name_from_json(subject, &subj, &jw);
    if (err != CW_OK) {
        ca_why_set(why, "subject", "subject.%s %s", jw.field, jw.reason);
        goto out;
    }
    if (X509_NAME_entry_count(subj) == 0) {
        ca_why_set(why, "subject", "a CA needs a subject (at least CN)");
        err = CW_E_BADREQ;
        goto out;
    }
    /* The request key is the new CA's own key, made and used here once
     * for the proof of possession, then kept only wrapped. */
    err = pki_key_generate(kt, &key);
    if (err == CW_OK)
        err = pki_csr_create(key, subj, NULL, 1, &req);
    if (err == CW_OK)
        err = pki_csr_to_der(req, &csr);
    if (err == CW_OK)
        err = pki_name_to_string(subj, &dn);
    if (err != CW_OK)
        goto out;
    t.name = name;
    t.dn = dn.p ? (const char *)dn.p : "";
    t.key_type = pki_key_type_name(kt);
    t.path_len = path_len;
    t.csr = &csr;
    t.key = key;
    t.cfg = cfg;
    t.ev = ev;
    err = ca_tx_unique_slug(db, name, t.slug, sizeof(t.slug), ext_body, &t);
    if (err == CW_OK)
        *id = t.id;
out:
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    X509_NAME_free(subj);
    buf_cleanup(&csr);
    buf_cleanup(&dn);
    return err;
}

enum cw_err
ca_external_csr(struct store *db, struct arena *a, uint64_t id,
                struct buf *pem, struct ca_why *why)
{
    struct store_rows  rows;
    struct store_param p[1];
    X509_REQ          *req = NULL;
    enum cw_err        err;

    p[0] = SP_U64(id);
    err = store_query(db, a, sql_csr, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;
    if (store_cell_isnull(&rows, 0, 0)) {
        ca_why_set(why, "", "this CA is not waiting for a certificate");
        return CW_E_CONFLICT;
    }
    err = pki_csr_parse_der((const uint8_t *)rows.cells[0].p,
                            rows.cells[0].len, &req);
    if (err == CW_OK)
        err = pki_csr_to_pem(req, pem);
    X509_REQ_free(req);
    return err == CW_OK ? CW_OK : CW_E_INTERNAL;
}

struct install_tx {
    uint64_t                        id;
    uint64_t                        parent;
    const char                     *dn;
    const char                     *cn;
    const char                     *key_type;
    const char                     *serial;
    const char                     *nb;
    const char                     *na;
    struct buf                     *der;
    const char                     *ski;
    const char                     *fp;
    const struct store_audit_event *ev;
};

static enum cw_err
install_body(struct store *db, void *arg)
{
    struct install_tx       *t = arg;
    struct store_param       p[10];
    uint64_t                 n = 0;
    enum cw_err              err;

    p[0] = t->parent ? SP_U64(t->parent) : SP_NULLV;
    p[1] = SP_STR(t->dn);
    p[2] = SP_STR(t->serial);
    p[3] = SP_STR(t->nb);
    p[4] = SP_STR(t->na);
    p[5] = SP_BLOB(t->der->p, t->der->len);
    p[6] = SP_STR(t->ski);
    p[7] = SP_STR(t->fp);
    p[8] = SP_U64(t->id);
    err = store_exec(db, sql_install, p, 9, &n, NULL);
    if (err != CW_OK)
        return err;
    if (n != 1)
        return CW_E_CONFLICT;
    if (t->parent != 0) {
        err = ca_parent_row_add(db, t->parent, t->serial, t->dn, t->cn,
                                t->key_type, t->nb, t->na, t->fp, t->der,
                                t->ev->username);
        if (err != CW_OK)
            return err;
    }
    return ca_audit(db, t->ev, "ca.install_certificate", "ca", t->id, "{}");
}

enum cw_err
ca_external_install(struct store *db, const struct cw_config *cfg,
                    uint64_t id, const char *text, size_t len,
                    const struct store_audit_event *ev, struct ca_why *why)
{
    struct arena         a;
    struct store_rows    rows;
    struct store_param   p[1];
    struct install_tx    t;
    struct pki_cert_info info;
    STACK_OF(X509)      *sk = NULL;
    X509                *cert = NULL;
    X509_REQ            *req = NULL;
    struct buf           der;
    struct buf           dn;
    struct buf           ski;
    enum cw_err          err;

    arena_init(&a);
    buf_init(&der, LIM_CERT_DER);
    buf_init(&dn, 65536);
    buf_init(&ski, 256);
    memset(&t, 0, sizeof(t));
    p[0] = SP_U64(id);
    err = store_query(db, &a, sql_csr, p, 1, &rows);
    if (err == CW_OK && rows.nrows != 1)
        err = CW_E_NOTFOUND;
    if (err != CW_OK)
        goto out;
    if (store_cell_isnull(&rows, 0, 0)) {
        ca_why_set(why, "", "this CA is not waiting for a certificate");
        err = CW_E_CONFLICT;
        goto out;
    }
    err = pki_csr_parse_der((const uint8_t *)rows.cells[0].p,
                            rows.cells[0].len, &req);
    if (err != CW_OK) {
        err = CW_E_INTERNAL;
        goto out;
    }
    err = pki_cert_chain_parse((const uint8_t *)text, len, &sk);
    if (err != CW_OK || sk_X509_num(sk) < 1) {
        ca_why_set(why, "certificate", "certificate must be PEM (the CA "
                                       "certificate first) or DER");
        err = CW_E_BADREQ;
        goto out;
    }
    cert = sk_X509_value(sk, 0);
    if (X509_check_ca(cert) < 1) {
        ca_why_set(why, "certificate", "this is not a CA certificate");
        err = CW_E_BADREQ;
        goto out;
    }
    ERR_clear_error();
    if (EVP_PKEY_eq(X509_get0_pubkey(cert), pki_csr_pubkey_get(req)) != 1) {
        ERR_clear_error();
        ca_why_set(why, "certificate", "the certificate is not for this "
                                       "CA's key");
        err = CW_E_BADREQ;
        goto out;
    }
    /* A certward CA as issuer, when one signed it. */
    {
        struct store_rows cas;

        err = store_query(db, &a, sql_all_cas, NULL, 0, &cas);
        for (size_t r = 0; err == CW_OK && r < cas.nrows; r++) {
            struct ca_row row;

            if (ca_row_load(db, cfg, &a, store_cell_u64(&cas, r, 0),
                            &row) != CW_OK ||
                row.cert == NULL)
                continue;
            if (X509_check_issued(row.cert, cert) == X509_V_OK &&
                X509_verify(cert, X509_get0_pubkey(row.cert)) == 1) {
                t.parent = row.id;
                break;
            }
        }
        ERR_clear_error();
        if (err != CW_OK)
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
    t.id = id;
    t.dn = dn.p ? (const char *)dn.p : "";
    err = ca_name_cn(X509_get_subject_name(cert), &a, &t.cn);
    if (err != CW_OK)
        goto out;
    {
        struct pki_key_info ki;

        t.key_type = pki_key_describe(X509_get0_pubkey(cert), &ki) == CW_OK &&
                             ki.type < PKI_KEY__MAX
                         ? pki_key_type_name(ki.type)
                         : "";
    }
    t.serial = info.serial;
    t.nb = ca_sql_time(&a, info.not_before);
    t.na = ca_sql_time(&a, info.not_after);
    t.der = &der;
    t.ski = ski.p ? (const char *)ski.p : "";
    t.fp = info.sha256;
    t.ev = ev;
    err = store_tx(db, install_body, &t);
    if (err == CW_E_CONFLICT)
        ca_why_set(why, "", "this CA is not waiting for a certificate");
out:
    sk_X509_pop_free(sk, X509_free);
    X509_REQ_free(req);
    buf_cleanup(&der);
    buf_cleanup(&dn);
    buf_cleanup(&ski);
    arena_reset(&a);
    return err;
}

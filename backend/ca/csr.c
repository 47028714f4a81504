/*
 * csr.c: certificate signing requests kept for review (/api/v2/csrs):
 * uploaded by a requester, or generated here with a new key, then signed
 * with a CA and template or rejected. Uploads are client input and are
 * checked by pki_csr_parse (whole DER, signature, key policy).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ca/ca-int.h"
#include "cw_limits.h"
#include "pki/csr.h"
#include "pki/key.h"
#include "pki/name.h"
#include "pki/san.h"
#include "signer/signer.h"
#include "util/jsonx.h"
#include "util/log.h"

static const char sql_insert[] =
    "INSERT INTO csrs (name, subject_dn, common_name, key_type, der, "
    "created_by) VALUES (?, ?, ?, ?, ?, ?)";
static const char sql_set_key[] =
    "UPDATE csrs SET key_wrapped = ? WHERE id = ?";
static const char sql_get[] =
    "SELECT id, name, status, key_type, der, key_wrapped IS NOT NULL, "
    "certificate_id, reject_reason, created_by, "
    "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') FROM csrs WHERE id = ?";
/* The list: one constant statement per combination of the filters
 * present (status, common-name prefix), so that each count is a range on
 * csrs_status or csrs_cn; a "(? = '' OR ...)" catch-all in the row
 * condition would keep it from using either. */
#define CSR_COLS                                                           \
    "SELECT id, name, status, key_type, der, key_wrapped IS NOT NULL, "    \
    "certificate_id, reject_reason, created_by, "                          \
    "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') FROM csrs "
#define CSR_BY_STATUS "WHERE status = ? "
#define CSR_BY_CN     "WHERE common_name LIKE CONCAT(?, '%') "
#define CSR_BY_BOTH   "WHERE status = ? AND common_name LIKE CONCAT(?, '%') "
#define CSR_ORDER     "ORDER BY id DESC LIMIT ? OFFSET ?"
/* indexed by (status given) + 2 * (prefix given) */
static const char *const sql_count[4] = {
    "SELECT COUNT(*) FROM csrs",
    "SELECT COUNT(*) FROM csrs " CSR_BY_STATUS,
    "SELECT COUNT(*) FROM csrs " CSR_BY_CN,
    "SELECT COUNT(*) FROM csrs " CSR_BY_BOTH,
};
static const char *const sql_list[4] = {
    CSR_COLS CSR_ORDER,
    CSR_COLS CSR_BY_STATUS CSR_ORDER,
    CSR_COLS CSR_BY_CN CSR_ORDER,
    CSR_COLS CSR_BY_BOTH CSR_ORDER,
};
static const char sql_for_sign[] =
    "SELECT der, key_wrapped, status FROM csrs WHERE id = ?";
/* Signing claims the request first ('signing'), so that of two
 * concurrent signs, or a sign and a reject, exactly one proceeds. */
static const char sql_claim[] =
    "UPDATE csrs SET status = 'signing', updated_at = NOW(6) "
    "WHERE id = ? AND status = 'pending'";
static const char sql_unclaim[] =
    "UPDATE csrs SET status = 'pending', updated_at = NOW(6) "
    "WHERE id = ? AND status = 'signing'";
static const char sql_exists[] = "SELECT status FROM csrs WHERE id = ?";
static const char sql_signed[] =
    "UPDATE csrs SET status = 'signed', certificate_id = ?, "
    "key_wrapped = NULL, updated_at = NOW(6) "
    "WHERE id = ? AND status = 'signing'";
static const char sql_reject[] =
    "UPDATE csrs SET status = 'rejected', reject_reason = ?, "
    "key_wrapped = NULL, updated_at = NOW(6) "
    "WHERE id = ? AND status = 'pending'";
static const char sql_delete[] = "DELETE FROM csrs WHERE id = ?";

static void
req_free_fn(void *p)
{
    X509_REQ_free(p);
}

static json_t *
row_json(struct arena *a, const struct store_rows *rows, size_t r)
{
    const struct store_cell *der = &rows->cells[r * rows->ncols + 4];
    X509_REQ                *req = NULL;
    json_t                  *decoded = NULL;
    json_t                  *doc;
    struct buf               pem;

    buf_init(&pem, LIM_CSR_DER * 2);
    if (der->p != NULL &&
        pki_csr_parse_der((const uint8_t *)der->p, der->len, &req) ==
            CW_OK) {
        arena_defer(a, req_free_fn, req);
        pki_csr_to_json(req, &decoded);
        pki_csr_to_pem(req, &pem);
    }
    doc = json_pack(
        "{s:I, s:s, s:s, s:s, s:b, s:o, s:o, s:s, s:s, s:o}", "id",
        (json_int_t)store_cell_u64(rows, r, 0), "name",
        store_cell_str(rows, r, 1), "status", store_cell_str(rows, r, 2),
        "key_type", store_cell_str(rows, r, 3), "has_private_key",
        store_cell_u64(rows, r, 5) == 1, "certificate_id",
        store_cell_isnull(rows, r, 6)
            ? json_null()
            : json_integer((json_int_t)store_cell_u64(rows, r, 6)),
        "reject_reason",
        store_cell_isnull(rows, r, 7)
            ? json_null()
            : json_string(store_cell_str(rows, r, 7)),
        "created_by", store_cell_str(rows, r, 8), "created_at",
        store_cell_str(rows, r, 9), "decoded",
        decoded ? decoded : json_object());
    json_object_set_new(doc, "pem",
                        json_stringn(pem.p ? (const char *)pem.p : "",
                                     pem.len));
    buf_cleanup(&pem);
    return doc;
}

struct add_tx {
    const char                     *name;
    const char                     *dn;
    const char                     *cn;
    const char                     *key_type;
    struct buf                     *der;
    EVP_PKEY                       *key;     /* generated here, or NULL */
    const struct cw_config         *cfg;
    const struct store_audit_event *ev;
    uint64_t                        id;
};

static enum cw_err
add_body(struct store *db, void *arg)
{
    struct add_tx           *t = arg;
    struct store_param       p[6];
    struct buf               wrapped;
    enum cw_err              err;

    p[0] = SP_STR(t->name);
    p[1] = SP_STR(t->dn);
    p[2] = SP_STR(t->cn);
    p[3] = SP_STR(t->key_type);
    p[4] = SP_BLOB(t->der->p, t->der->len);
    p[5] = SP_STR(t->ev->username ? t->ev->username : "");
    err = store_exec(db, sql_insert, p, 6, NULL, &t->id);
    if (err != CW_OK)
        return err;
    if (t->key != NULL) {
        buf_init(&wrapped, 16384);
        err = signer_key_wrap(t->cfg, "csrs", t->id, t->key, &wrapped);
        if (err == CW_OK) {
            p[0] = SP_BLOB(wrapped.p, wrapped.len);
            p[1] = SP_U64(t->id);
            err = store_exec(db, sql_set_key, p, 2, NULL, NULL);
        }
        buf_cleanup(&wrapped);
        if (err != CW_OK)
            return err;
    }
    return ca_audit(db, t->ev, t->key ? "csr.generate" : "csr.upload", "csr",
                    t->id, "{}");
}

static enum cw_err
csr_store(struct store *db, const struct cw_config *cfg, const char *name,
          X509_REQ *req, EVP_PKEY *key, const struct store_audit_event *ev,
          uint64_t *id)
{
    struct arena        a;
    struct add_tx       t;
    struct pki_key_info ki;
    struct buf          der;
    struct buf          dn;
    enum cw_err         err;

    arena_init(&a);
    buf_init(&der, LIM_CSR_DER);
    buf_init(&dn, 65536);
    memset(&t, 0, sizeof(t));
    err = pki_csr_to_der(req, &der);
    if (err == CW_OK)
        err = pki_name_to_string(X509_REQ_get_subject_name(req), &dn);
    if (err == CW_OK)
        err = ca_name_cn(X509_REQ_get_subject_name(req), &a, &t.cn);
    if (err == CW_OK)
        err = pki_key_describe(pki_csr_pubkey_get(req), &ki);
    if (err != CW_OK)
        goto out;
    t.name = name ? name : "";
    t.dn = dn.p ? (const char *)dn.p : "";
    t.key_type = ki.type < PKI_KEY__MAX ? pki_key_type_name(ki.type)
                                        : pki_key_alg_name(ki.alg);
    t.der = &der;
    t.key = key;
    t.cfg = cfg;
    t.ev = ev;
    err = store_tx(db, add_body, &t);
    if (err == CW_OK)
        *id = t.id;
out:
    buf_cleanup(&der);
    buf_cleanup(&dn);
    arena_reset(&a);
    return err;
}

enum cw_err
ca_csr_upload(struct store *db, const struct cw_config *cfg,
              const char *name, const uint8_t *p, size_t len,
              const struct store_audit_event *ev, uint64_t *id,
              struct ca_why *why)
{
    X509_REQ   *req = NULL;
    enum cw_err err;

    err = ca_csr_load(p, len, &req, NULL, why);
    if (err == CW_OK)
        err = csr_store(db, cfg, name, req, NULL, ev, id);
    X509_REQ_free(req);
    return err;
}

enum cw_err
ca_csr_generate(struct store *db, const struct cw_config *cfg,
                const char *name, json_t *subject, json_t *sans,
                json_t *keyspec, const struct store_audit_event *ev,
                uint64_t *id, struct ca_why *why)
{
    struct jsonx_why  jw = { "", "" };
    enum pki_key_type kt;
    X509_NAME        *subj = NULL;
    GENERAL_NAMES    *gens = NULL;
    EVP_PKEY         *key = NULL;
    X509_REQ         *req = NULL;
    enum cw_err       err;

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
    if (sans != NULL) {
        err = pki_san_from_json(sans, &gens, &jw);
        if (err != CW_OK) {
            ca_why_set(why, "sans", "sans%s%s %s", jw.field[0] ? "." : "",
                       jw.field, jw.reason);
            goto out;
        }
    }
    if (X509_NAME_entry_count(subj) == 0 &&
        (gens == NULL || sk_GENERAL_NAME_num(gens) == 0)) {
        ca_why_set(why, "subject", "give a subject or at least one SAN");
        err = CW_E_BADREQ;
        goto out;
    }
    err = pki_key_generate(kt, &key);
    if (err == CW_OK)
        err = pki_csr_create(key, subj, gens, 0, &req);
    if (err == CW_OK)
        err = csr_store(db, cfg, name, req, key, ev, id);
out:
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    GENERAL_NAMES_free(gens);
    X509_NAME_free(subj);
    return err;
}

enum cw_err
ca_csr_get_json(struct store *db, struct arena *a, uint64_t id,
                json_t **out)
{
    struct store_rows  rows;
    struct store_param p[1];
    enum cw_err        err;

    p[0] = SP_U64(id);
    err = store_query(db, a, sql_get, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;
    *out = row_json(a, &rows, 0);
    return CW_OK;
}

enum cw_err
ca_csr_list_json(struct store *db, struct arena *a, const char *status,
                 const char *q, uint64_t page, uint64_t per_page,
                 json_t **out, uint64_t *total, struct ca_why *why)
{
    struct store_rows  rows;
    struct store_param p[4];
    char               lq[260];
    size_t             n = 0;
    size_t             np = 0;
    unsigned           which = 0;
    enum cw_err        err;

    status = status ? status : "";
    if (status[0] && strcmp(status, "pending") && strcmp(status, "signed") &&
        strcmp(status, "rejected")) {
        ca_why_set(why, "status", "status must be pending, signed or "
                                  "rejected");
        return CW_E_BADREQ;
    }
    if (q != NULL && strlen(q) > 128) {
        ca_why_set(why, "q", "q is too long");
        return CW_E_BADREQ;
    }
    for (const char *c = q ? q : ""; *c != '\0'; c++) {
        if (*c == '%' || *c == '_' || *c == '\\')
            lq[n++] = '\\';
        lq[n++] = *c;
    }
    lq[n] = '\0';
    if (status[0] != '\0') {
        p[np++] = SP_STR(status);
        which |= 1;
    }
    if (lq[0] != '\0') {
        p[np++] = SP_STR(lq);
        which |= 2;
    }
    err = store_query(db, a, sql_count[which], p, np, &rows);
    if (err != CW_OK)
        return err;
    *total = store_cell_u64(&rows, 0, 0);
    p[np] = SP_U64(per_page);
    p[np + 1] = SP_U64((page - 1) * per_page);
    err = store_query(db, a, sql_list[which], p, np + 2, &rows);
    if (err != CW_OK)
        return err;
    *out = json_array();
    for (size_t r = 0; r < rows.nrows; r++)
        json_array_append_new(*out, row_json(a, &rows, r));
    return CW_OK;
}

struct mark_tx {
    uint64_t                        id;
    uint64_t                        cert_id;
    const char                     *reason;   /* reject */
    const struct store_audit_event *ev;
};

static enum cw_err
mark_body(struct store *db, void *arg)
{
    struct mark_tx          *m = arg;
    struct store_param       p[2];
    uint64_t                 n = 0;
    enum cw_err              err;

    if (m->reason != NULL) {
        p[0] = SP_STR(m->reason);
        p[1] = SP_U64(m->id);
        err = store_exec(db, sql_reject, p, 2, &n, NULL);
    } else {
        p[0] = SP_U64(m->cert_id);
        p[1] = SP_U64(m->id);
        err = store_exec(db, sql_signed, p, 2, &n, NULL);
    }
    if (err != CW_OK)
        return err;
    if (n != 1)
        return CW_E_CONFLICT;
    return ca_audit(db, m->ev, m->reason ? "csr.reject" : "csr.sign", "csr",
                    m->id, "{}");
}

enum cw_err
ca_csr_sign(struct store *db, const struct cw_config *cfg, uint64_t id,
            uint64_t ca_id, const char *template_name,
            unsigned validity_days, const struct store_audit_event *ev,
            uint64_t *cert_id, struct ca_why *why)
{
    struct arena        a;
    struct store_rows   rows;
    struct store_param  p[1];
    struct ca_issue_req in;
    struct mark_tx      m;
    enum cw_err         err;
    uint64_t            n = 0;
    int                 claimed = 0;

    arena_init(&a);
    p[0] = SP_U64(id);
    err = store_exec(db, sql_claim, p, 1, &n, NULL);
    if (err != CW_OK)
        goto out;
    if (n != 1) {
        err = store_query(db, &a, sql_exists, p, 1, &rows);
        if (err == CW_OK && rows.nrows != 1)
            err = CW_E_NOTFOUND;
        if (err == CW_OK) {
            ca_why_set(why, "", "the request is already %s",
                       store_cell_str(&rows, 0, 0));
            err = CW_E_CONFLICT;
        }
        goto out;
    }
    claimed = 1;
    err = store_query(db, &a, sql_for_sign, p, 1, &rows);
    if (err == CW_OK && rows.nrows != 1)
        err = CW_E_NOTFOUND;
    if (err != CW_OK)
        goto out;
    memset(&in, 0, sizeof(in));
    in.ca_id = ca_id;
    in.template_name = template_name;
    in.csr = (const uint8_t *)rows.cells[0].p;
    in.csr_len = rows.cells[0].len;
    in.csr_der = 1;
    in.validity_days = validity_days;
    if (!store_cell_isnull(&rows, 0, 1)) {
        in.csr_key = (const uint8_t *)rows.cells[1].p;
        in.csr_key_len = rows.cells[1].len;
        in.csr_id = id;
    }
    err = ca_issue(db, cfg, &in, ev, cert_id, why);
    if (err != CW_OK)
        goto out;
    memset(&m, 0, sizeof(m));
    m.id = id;
    m.cert_id = *cert_id;
    m.ev = ev;
    err = store_tx(db, mark_body, &m);
    if (err == CW_OK)
        claimed = 0;
out:
    if (claimed) {
        /* Issuance failed: the request is pending again. */
        p[0] = SP_U64(id);
        store_exec(db, sql_unclaim, p, 1, NULL, NULL);
    }
    arena_reset(&a);
    return err;
}

enum cw_err
ca_csr_reject(struct store *db, uint64_t id, const char *reason,
              const struct store_audit_event *ev, struct ca_why *why)
{
    struct mark_tx     m = { id, 0, reason ? reason : "", ev };
    enum cw_err        err = store_tx(db, mark_body, &m);
    struct arena       a;
    struct store_rows  rows;
    struct store_param p[1];

    if (err != CW_E_CONFLICT)
        return err;
    arena_init(&a);
    p[0] = SP_U64(id);
    err = store_query(db, &a, sql_exists, p, 1, &rows);
    if (err == CW_OK && rows.nrows != 1)
        err = CW_E_NOTFOUND;
    if (err == CW_OK) {
        ca_why_set(why, "", "only a pending request can be rejected (it "
                            "is %s)", store_cell_str(&rows, 0, 0));
        err = CW_E_CONFLICT;
    }
    arena_reset(&a);
    return err;
}

static enum cw_err
delete_body(struct store *db, void *arg)
{
    struct mark_tx          *m = arg;
    struct store_param       p[1];
    uint64_t                 n = 0;
    enum cw_err              err;

    p[0] = SP_U64(m->id);
    err = store_exec(db, sql_delete, p, 1, &n, NULL);
    if (err != CW_OK)
        return err;
    if (n == 0)
        return CW_E_NOTFOUND;
    return ca_audit(db, m->ev, "csr.delete", "csr", m->id, "{}");
}

enum cw_err
ca_csr_delete(struct store *db, uint64_t id,
              const struct store_audit_event *ev)
{
    struct mark_tx m = { id, 0, NULL, ev };

    return store_tx(db, delete_body, &m);
}

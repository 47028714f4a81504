/*
 * offline.c: taking a CA offline and back, and retiring (revoking) a CA.
 * An offline CA signs nothing: its key is either re-wrapped under an
 * operator password (password_protected) or handed out once as an
 * encrypted PKCS#8 file and removed from the database (file_exported).
 * Slow work (Argon2id) happens outside transactions; the update is
 * conditional on the state read before, so two operators cannot both act.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "auth/password.h"
#include "ca/ca-int.h"
#include "cw_limits.h"
#include "pki/key.h"
#include "signer/signer.h"
#include "util/log.h"

static const char sql_state[] =
    "SELECT key_wrapped, key_state, status, COALESCE(parent_id, 0) "
    "FROM cas WHERE id = ? AND status <> 'pending'";
static const char sql_set_key[] =
    "UPDATE cas SET key_wrapped = ?, key_state = ?, updated_at = NOW(6) "
    "WHERE id = ? AND key_state = ?";
static const char sql_ca_cert_row[] =
    "SELECT c.id FROM certificates c JOIN cas ON cas.parent_id = c.ca_id "
    "WHERE cas.id = ? AND c.is_ca = 1 AND c.fp_sha256 = cas.fp_sha256";
static const char sql_revoke_cert[] =
    "UPDATE certificates SET status = 'revoked', revoked_at = NOW(6), "
    "revocation_reason = ?, updated_at = NOW(6) "
    "WHERE id = ? AND status = 'valid'";
static const char sql_revoke_ca[] =
    "UPDATE cas SET status = 'revoked', updated_at = NOW(6) "
    "WHERE id = ? AND status = 'active'";

struct key_tx {
    uint64_t                        id;
    const struct buf               *blob;   /* NULL: remove the key */
    const char                     *new_state;
    const char                     *old_state;
    const char                     *action;
    const struct store_audit_event *ev;
};

static enum cw_err
key_body(struct store *db, void *arg)
{
    struct key_tx           *kt = arg;
    struct store_param       p[4];
    char                     detail[96];
    uint64_t                 n = 0;
    enum cw_err              err;

    p[0] = kt->blob ? SP_BLOB(kt->blob->p, kt->blob->len) : SP_NULLV;
    p[1] = SP_STR(kt->new_state);
    p[2] = SP_U64(kt->id);
    p[3] = SP_STR(kt->old_state);
    err = store_exec(db, sql_set_key, p, 4, &n, NULL);
    if (err != CW_OK)
        return err;
    if (n != 1)
        return CW_E_CONFLICT;
    snprintf(detail, sizeof(detail), "{\"key_state\":\"%s\"}",
             kt->new_state);
    return ca_audit(db, kt->ev, kt->action, "ca", kt->id, detail);
}

enum cw_err
ca_offline(struct store *db, const struct cw_config *cfg, uint64_t id,
           const char *mode, const char *password,
           const struct store_audit_event *ev, struct buf *pem,
           struct ca_why *why)
{
    struct arena       a;
    struct store_rows  rows;
    struct store_param p[1];
    struct key_tx      kt;
    struct buf         blob;
    char               pwhy[160];
    enum cw_err        err;
    int                file = strcmp(mode, "file_exported") == 0;

    if (!file && strcmp(mode, "password_protected") != 0) {
        ca_why_set(why, "mode",
                   "mode must be password_protected or file_exported");
        return CW_E_BADREQ;
    }
    err = auth_password_policy(password, strlen(password), pwhy,
                               sizeof(pwhy));
    if (err != CW_OK) {
        ca_why_set(why, "password", "password %s", pwhy);
        return err;
    }
    arena_init(&a);
    buf_init(&blob, 16384);
    p[0] = SP_U64(id);
    err = store_query(db, &a, sql_state, p, 1, &rows);
    if (err == CW_OK && rows.nrows != 1)
        err = CW_E_NOTFOUND;
    if (err != CW_OK)
        goto out;
    if (strcmp(store_cell_str(&rows, 0, 1), "online") != 0 ||
        store_cell_isnull(&rows, 0, 0)) {
        ca_why_set(why, "", "the CA is %s; only an online CA with its key "
                            "can be taken offline",
                   store_cell_isnull(&rows, 0, 0)
                       ? "certificate-only"
                       : store_cell_str(&rows, 0, 1));
        err = CW_E_CONFLICT;
        goto out;
    }
    if (file)
        err = signer_key_export_pem(cfg, "cas", id,
                                    (const uint8_t *)rows.cells[0].p,
                                    rows.cells[0].len, password, pem);
    else
        err = signer_key_to_password(cfg, "cas", id,
                                     (const uint8_t *)rows.cells[0].p,
                                     rows.cells[0].len, password, &blob);
    if (err != CW_OK)
        goto out;
    memset(&kt, 0, sizeof(kt));
    kt.id = id;
    kt.blob = file ? NULL : &blob;
    kt.new_state = file ? "file_exported" : "password_protected";
    kt.old_state = "online";
    kt.action = "ca.offline";
    kt.ev = ev;
    err = store_tx(db, key_body, &kt);
    if (err == CW_E_CONFLICT)
        ca_why_set(why, "", "the CA changed meanwhile; try again");
out:
    if (err != CW_OK)
        buf_cleanup_secret(pem);
    buf_cleanup(&blob);
    arena_reset(&a);
    return err;
}

enum cw_err
ca_restore(struct store *db, const struct cw_config *cfg, uint64_t id,
           const char *password, const uint8_t *key_pem, size_t key_len,
           const struct store_audit_event *ev, struct ca_why *why)
{
    struct arena       a;
    struct store_rows  rows;
    struct store_param p[1];
    struct key_tx      kt;
    struct ca_row      row;
    struct buf         blob;
    EVP_PKEY          *key = NULL;
    const char        *state;
    enum cw_err        err;

    arena_init(&a);
    buf_init(&blob, 16384);
    p[0] = SP_U64(id);
    err = store_query(db, &a, sql_state, p, 1, &rows);
    if (err == CW_OK && rows.nrows != 1)
        err = CW_E_NOTFOUND;
    if (err != CW_OK)
        goto out;
    state = store_cell_str(&rows, 0, 1);
    if (strcmp(state, "password_protected") == 0) {
        if (store_cell_isnull(&rows, 0, 0)) {
            err = CW_E_INTERNAL;
            goto out;
        }
        err = signer_key_from_password(cfg, "cas", id,
                                       (const uint8_t *)rows.cells[0].p,
                                       rows.cells[0].len, password, &blob);
        if (err == CW_E_UNAUTH) {
            ca_why_set(why, "password", "the password does not open the "
                                        "key");
            err = CW_E_FORBIDDEN;
        }
    } else if (strcmp(state, "file_exported") == 0 ||
               store_cell_isnull(&rows, 0, 0)) {
        /* The exported file, or a key for a certificate-only CA. */
        if (key_pem == NULL) {
            ca_why_set(why, "key_pem", "this CA's key is not stored here: "
                                       "upload it as key_pem");
            err = CW_E_BADREQ;
            goto out;
        }
        err = pki_key_parse(key_pem, key_len, password, &key);
        if (err != CW_OK) {
            ca_why_set(why, "key_pem", "the key does not parse or the "
                                       "password is wrong");
            err = CW_E_BADREQ;
            goto out;
        }
        err = ca_row_load(db, cfg, &a, id, &row);
        if (err == CW_OK && (row.cert == NULL ||
                             pki_key_match_cert(key, row.cert) != CW_OK)) {
            ca_why_set(why, "key_pem", "the key does not belong to this "
                                       "CA's certificate");
            err = CW_E_BADREQ;
        }
        if (err == CW_OK)
            err = signer_key_wrap(cfg, "cas", id, key, &blob);
    } else {
        ca_why_set(why, "", "the CA is already online");
        err = CW_E_CONFLICT;
    }
    if (err != CW_OK)
        goto out;
    memset(&kt, 0, sizeof(kt));
    kt.id = id;
    kt.blob = &blob;
    kt.new_state = "online";
    kt.old_state = state;
    kt.action = "ca.restore";
    kt.ev = ev;
    err = store_tx(db, key_body, &kt);
    if (err == CW_E_CONFLICT)
        ca_why_set(why, "", "the CA changed meanwhile; try again");
out:
    EVP_PKEY_free(key);
    buf_cleanup(&blob);
    arena_reset(&a);
    return err;
}

struct revoke_ca_tx {
    uint64_t                        id;
    const char                     *reason;
    const struct store_audit_event *ev;
    struct ca_why                  *why;
};

static enum cw_err
revoke_ca_body(struct store *db, void *arg)
{
    struct revoke_ca_tx     *rt = arg;
    struct store_param       p[2];
    struct store_rows        rows;
    struct arena             a;
    char                     detail[96];
    uint64_t                 n = 0;
    enum cw_err              err;

    p[0] = SP_U64(rt->id);
    err = store_exec(db, sql_revoke_ca, p, 1, &n, NULL);
    if (err != CW_OK)
        return err;
    if (n != 1) {
        ca_why_set(rt->why, "", "the CA is not active");
        return CW_E_CONFLICT;
    }
    /* An intermediate's certificate is a row of its parent: revoked
     * there, the parent's CRL and OCSP report it. */
    arena_init(&a);
    err = store_query(db, &a, sql_ca_cert_row, p, 1, &rows);
    if (err == CW_OK && rows.nrows == 1) {
        p[0] = SP_STR(rt->reason);
        p[1] = SP_U64(store_cell_u64(&rows, 0, 0));
        err = store_exec(db, sql_revoke_cert, p, 2, NULL, NULL);
        if (err == CW_OK)
            err = ca_revocation_touch(db, store_cell_u64(&rows, 0, 0));
    }
    arena_reset(&a);
    if (err != CW_OK)
        return err;
    snprintf(detail, sizeof(detail), "{\"reason\":\"%s\"}", rt->reason);
    return ca_audit(db, rt->ev, "ca.revoke", "ca", rt->id, detail);
}

enum cw_err
ca_revoke(struct store *db, uint64_t id, const char *reason,
          const struct store_audit_event *ev, struct ca_why *why)
{
    struct revoke_ca_tx rt = { id, reason, ev, why };
    struct arena        a;
    struct store_rows   rows;
    struct store_param  p[1];
    enum cw_err         err;

    if (ca_reason_code(reason) < 0 || strcmp(reason, "certificateHold") == 0) {
        ca_why_set(why, "reason", "reason must be an RFC 5280 reason name "
                                  "(certificateHold is not for CAs)");
        return CW_E_BADREQ;
    }
    arena_init(&a);
    p[0] = SP_U64(id);
    err = store_query(db, &a, sql_state, p, 1, &rows);
    if (err == CW_OK && rows.nrows != 1)
        err = CW_E_NOTFOUND;
    arena_reset(&a);
    if (err != CW_OK)
        return err;
    err = store_tx(db, revoke_ca_body, &rt);
    ca_ocsp_cache_invalidate();   /* after the commit (ca_revocation_touch) */
    return err;
}

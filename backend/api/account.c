/*
 * account.c: the caller's own account: sessions, password, API keys and
 * two-factor enrolment. Every route acts on req->who only; ids in paths
 * are matched against the caller's user id in SQL.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/api.h"
#include "auth/apikey.h"
#include "auth/password.h"
#include "auth/rbac.h"
#include "auth/session.h"
#include "auth/settings.h"
#include "auth/tfa.h"
#include "auth/totp.h"
#include "cw_limits.h"
#include "signer/wrap.h"
#include "util/jsonx.h"
#include "util/sp.h"

static const char sql_sessions[] =
    "SELECT id, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ'), "
    "DATE_FORMAT(expires_at, '%Y-%m-%dT%H:%i:%sZ'), "
    "DATE_FORMAT(last_seen_at, '%Y-%m-%dT%H:%i:%sZ'), client_addr, "
    "user_agent FROM sessions WHERE user_id = ? AND revoked_at IS NULL "
    "AND expires_at > NOW(6) ORDER BY id DESC LIMIT 200";
static const char sql_session_revoke[] =
    "UPDATE sessions SET revoked_at = NOW(6) WHERE id = ? AND user_id = ? "
    "AND revoked_at IS NULL";
static const char sql_sessions_revoke_others[] =
    "UPDATE sessions SET revoked_at = NOW(6) WHERE user_id = ? AND id <> ? "
    "AND revoked_at IS NULL";
static const char sql_pw_get[] =
    "SELECT password_hash FROM users WHERE id = ?";
static const char sql_pw_set[] =
    "UPDATE users SET password_hash = ?, must_change_password = 0, "
    "password_changed_at = NOW(6), updated_at = NOW(6) WHERE id = ?";
static const char sql_keys[] =
    "SELECT id, name, prefix, scopes, "
    "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ'), "
    "DATE_FORMAT(expires_at, '%Y-%m-%dT%H:%i:%sZ'), "
    "DATE_FORMAT(last_used_at, '%Y-%m-%dT%H:%i:%sZ'), "
    "DATE_FORMAT(revoked_at, '%Y-%m-%dT%H:%i:%sZ') "
    "FROM api_keys WHERE user_id = ? ORDER BY id DESC LIMIT 200";
static const char sql_key_new[] =
    "INSERT INTO api_keys (user_id, name, prefix, token_hash, scopes, "
    "expires_at) VALUES (?, ?, ?, ?, ?, "
    "IF(? = 0, NULL, NOW(6) + INTERVAL ? DAY))";
static const char sql_key_revoke[] =
    "UPDATE api_keys SET revoked_at = NOW(6) WHERE id = ? AND user_id = ? "
    "AND revoked_at IS NULL";
static const char sql_totp_state[] =
    "SELECT confirmed_at IS NOT NULL, secret_wrapped FROM user_totp "
    "WHERE user_id = ?";
static const char sql_totp_put[] =
    "REPLACE INTO user_totp (user_id, secret_wrapped, confirmed_at, "
    "last_step) VALUES (?, ?, NULL, 0)";
static const char sql_totp_confirm[] =
    "UPDATE user_totp SET confirmed_at = NOW(6), last_step = ? "
    "WHERE user_id = ? AND confirmed_at IS NULL";
static const char sql_totp_delete[] = "DELETE FROM user_totp WHERE user_id = ?";
static const char sql_backup_clear[] =
    "DELETE FROM user_backup_codes WHERE user_id = ?";
static const char sql_backup_add[] =
    "INSERT INTO user_backup_codes (user_id, lookup_hash, code_hash) "
    "VALUES (?, ?, ?)";

static const char *
uid_text(struct http_req *req)
{
    return arena_printf(req->arena, "%llu",
                        (unsigned long long)req->who->user_id);
}

/* ---- sessions -------------------------------------------------------- */

static enum cw_err
sessions_list(struct http_req *req, struct http_resp *resp)
{
    struct store_rows  rows;
    struct store_param p[1];
    json_t            *arr;
    enum cw_err        err;

    p[0] = SP_U64(req->who->user_id);
    err = store_query(req->db, req->arena, sql_sessions, p, 1, &rows);
    if (err != CW_OK)
        return err;
    arr = json_array();
    for (size_t r = 0; r < rows.nrows; r++)
        json_array_append_new(
            arr,
            json_pack("{s:I, s:o, s:o, s:o, s:s, s:s, s:b}", "id",
                      (json_int_t)store_cell_u64(&rows, r, 0), "created_at",
                      api_time(&rows, r, 1), "expires_at",
                      api_time(&rows, r, 2), "last_seen_at",
                      api_time(&rows, r, 3), "client_addr",
                      store_cell_str(&rows, r, 4), "user_agent",
                      store_cell_str(&rows, r, 5), "current",
                      store_cell_u64(&rows, r, 0) == req->who->session_id));
    return http_resp_data(resp, 200, arr,
                          api_meta(rows.nrows, 1, rows.nrows));
}

struct revoke_tx {
    struct http_req *req;
    uint64_t         id;    /* 0 = all but the current one */
    uint64_t         n;
};

static enum cw_err
revoke_body(struct store *db, void *arg)
{
    struct revoke_tx  *rt = arg;
    struct store_param p[2];
    enum cw_err        err;

    p[0] = SP_U64(rt->id ? rt->id : rt->req->who->user_id);
    p[1] = SP_U64(rt->id ? rt->req->who->user_id : rt->req->who->session_id);
    err = store_exec(db, rt->id ? sql_session_revoke
                                : sql_sessions_revoke_others,
                     p, 2, &rt->n, NULL);
    if (err != CW_OK)
        return err;
    if (rt->id != 0 && rt->n == 0)
        return CW_E_NOTFOUND;
    return api_audit(rt->req, db, "session.revoke", "session",
                     rt->id ? arena_printf(rt->req->arena, "%llu",
                                           (unsigned long long)rt->id)
                            : "others",
                     json_pack("{s:I}", "revoked", (json_int_t)rt->n));
}

static enum cw_err
session_revoke(struct http_req *req, struct http_resp *resp)
{
    struct revoke_tx rt = { req, 0, 0 };
    enum cw_err      err;

    err = http_req_path_u64(req, "id", &rt.id);
    if (err != CW_OK)
        return err;
    err = store_tx(req->db, revoke_body, &rt);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such active session");
    if (err != CW_OK)
        return err;
    resp->status = 204;
    return CW_OK;
}

static enum cw_err
sessions_revoke_others(struct http_req *req, struct http_resp *resp)
{
    struct revoke_tx rt = { req, 0, 0 };
    enum cw_err      err = store_tx(req->db, revoke_body, &rt);

    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 200,
                          json_pack("{s:I}", "revoked", (json_int_t)rt.n),
                          NULL);
}

/* ---- password -------------------------------------------------------- */

struct pw_tx {
    struct http_req *req;
    const char      *hash;
};

static enum cw_err
pw_body(struct store *db, void *arg)
{
    struct pw_tx      *pt = arg;
    struct store_param p[2];
    enum cw_err        err;

    p[0] = SP_STR(pt->hash);
    p[1] = SP_U64(pt->req->who->user_id);
    err = store_exec(db, sql_pw_set, p, 2, NULL, NULL);
    if (err != CW_OK)
        return err;
    /* A new password ends every other session of the account (all of
     * them when the change came with an API key). */
    p[0] = SP_U64(pt->req->who->user_id);
    p[1] = SP_U64(pt->req->who->session_id);
    err = store_exec(db, sql_sessions_revoke_others, p, 2, NULL, NULL);
    if (err != CW_OK)
        return err;
    return api_audit(pt->req, db, "user.password_change", "user",
                     uid_text(pt->req), NULL);
}

static enum cw_err
password_change(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "current_password", JSONX_STRING, 1, LIM_PASSWORD * 4, 0, 0 },
        { "new_password", JSONX_STRING, 1, LIM_PASSWORD * 4, 0, 0 },
    };
    struct store_rows  rows;
    struct store_param p[1];
    struct pw_tx       pt = { req, NULL };
    char               hash[AUTH_HASH_MAX];
    char               why[160];
    json_t            *body;
    const char        *cur;
    const char        *nw;
    enum cw_err        err;

    err = http_req_json(req, fields, 2, &body);
    if (err != CW_OK)
        return err;
    cur = jsonx_str(body, "current_password");
    nw = jsonx_str(body, "new_password");
    p[0] = SP_U64(req->who->user_id);
    err = store_query(req->db, req->arena, sql_pw_get, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1 ||
        auth_password_verify(store_cell_str(&rows, 0, 0), cur, strlen(cur)) !=
            CW_OK) {
        api_audit_now(req, "user.password_change", "user", uid_text(req),
                      "failure", json_pack("{s:s}", "reason",
                                           "wrong current password"));
        return http_fail(req, CW_E_FORBIDDEN, "current_password",
                         "current password is wrong");
    }
    if (strcmp(cur, nw) == 0)
        return http_fail(req, CW_E_PASSWORD, "new_password",
                         "the new password must differ from the current "
                         "one");
    err = auth_password_policy(nw, strlen(nw), why, sizeof(why));
    if (err != CW_OK)
        return http_fail(req, err, "new_password", "new_password %s", why);
    err = auth_password_hash(req->cfg, nw, strlen(nw), hash);
    if (err != CW_OK)
        return err;
    pt.hash = hash;
    err = store_tx(req->db, pw_body, &pt);
    if (err != CW_OK)
        return err;
    resp->status = 204;
    return CW_OK;
}

/* ---- API keys -------------------------------------------------------- */

static json_t *
key_json(const struct store_rows *rows, size_t r)
{
    json_t *scopes = json_loads(store_cell_str(rows, r, 3), 0, NULL);

    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id",
                     (json_int_t)store_cell_u64(rows, r, 0), "name",
                     store_cell_str(rows, r, 1), "prefix",
                     store_cell_str(rows, r, 2), "scopes",
                     scopes ? scopes : json_array(), "created_at",
                     api_time(rows, r, 4), "expires_at",
                     api_time(rows, r, 5), "last_used_at",
                     api_time(rows, r, 6), "revoked_at",
                     api_time(rows, r, 7));
}

static enum cw_err
keys_list(struct http_req *req, struct http_resp *resp)
{
    struct store_rows  rows;
    struct store_param p[1];
    json_t            *arr;
    enum cw_err        err;

    p[0] = SP_U64(req->who->user_id);
    err = store_query(req->db, req->arena, sql_keys, p, 1, &rows);
    if (err != CW_OK)
        return err;
    arr = json_array();
    for (size_t r = 0; r < rows.nrows; r++)
        json_array_append_new(arr, key_json(&rows, r));
    return http_resp_data(resp, 200, arr,
                          api_meta(rows.nrows, 1, rows.nrows));
}

struct key_tx {
    struct http_req *req;
    const char      *name;
    const char      *prefix;
    const char      *hash;
    const char      *scopes;
    uint64_t         days;
    uint64_t         id;
};

static enum cw_err
key_new_body(struct store *db, void *arg)
{
    struct key_tx     *kt = arg;
    struct store_param p[7];
    enum cw_err        err;

    p[0] = SP_U64(kt->req->who->user_id);
    p[1] = SP_STR(kt->name);
    p[2] = SP_STR(kt->prefix);
    p[3] = SP_STR(kt->hash);
    p[4] = SP_STR(kt->scopes);
    p[5] = SP_U64(kt->days);
    p[6] = SP_U64(kt->days);
    err = store_exec(db, sql_key_new, p, 7, NULL, &kt->id);
    if (err != CW_OK)
        return err;
    return api_audit(kt->req, db, "api_key.create", "api_key",
                     arena_printf(kt->req->arena, "%llu",
                                  (unsigned long long)kt->id),
                     json_pack("{s:s, s:s, s:I}", "name", kt->name, "prefix",
                               kt->prefix, "expires_in_days",
                               (json_int_t)kt->days));
}

static enum cw_err
key_create(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "name", JSONX_STRING, 1, 128, 0, 0 },
        { "scopes", JSONX_ARRAY, 0, 64, 0, 0 },
        { "expires_in_days", JSONX_INT, 0, 0, 1, 3650 },
    };
    struct key_tx kt;
    char          token[AUTH_APIKEY_LEN + 1];
    char          hash[65];
    char          prefix[AUTH_APIKEY_SHOWN + 1];
    json_t       *body;
    json_t       *scopes;
    json_t       *out;
    char         *scopes_txt;
    enum cw_err   err;

    err = http_req_json(req, fields, 3, &body);
    if (err != CW_OK)
        return err;
    if (jsonx_str(body, "name")[0] == '\0')
        return http_fail(req, CW_E_BADREQ, "name", "name must not be empty");
    scopes = json_object_get(body, "scopes");
    out = json_array();
    if (scopes == NULL || json_is_null(scopes)) {
        /* No scopes given: everything the creator holds now. */
        for (size_t i = 0; req->who->perms[i] != NULL; i++)
            json_array_append_new(out, json_string(req->who->perms[i]));
    } else {
        for (size_t i = 0; i < json_array_size(scopes); i++) {
            const char *s = json_string_value(json_array_get(scopes, i));

            if (s == NULL || !auth_perm_valid(s)) {
                json_decref(out);
                return http_fail(req, CW_E_BADREQ, "scopes",
                                 "scopes[%zu] is not a known permission", i);
            }
            /* A key never holds more than its creator. */
            if (!auth_perms_has(req->who->perms, s)) {
                json_decref(out);
                return http_fail(req, CW_E_FORBIDDEN, "scopes",
                                 "scope %s exceeds your permissions", s);
            }
            json_array_append_new(out, json_string(s));
        }
    }
    scopes_txt = jsonx_dumps(out);
    arena_defer(req->arena, free, scopes_txt);
    json_decref(out);
    auth_apikey_generate(token);
    auth_apikey_hash(token, hash);
    memcpy(prefix, token, AUTH_APIKEY_SHOWN);
    prefix[AUTH_APIKEY_SHOWN] = '\0';
    memset(&kt, 0, sizeof(kt));
    kt.req = req;
    kt.name = jsonx_str(body, "name");
    kt.prefix = prefix;
    kt.hash = hash;
    kt.scopes = scopes_txt;
    kt.days = (uint64_t)json_integer_value(
        json_object_get(body, "expires_in_days"));
    err = store_tx(req->db, key_new_body, &kt);
    if (err != CW_OK) {
        sodium_memzero(token, sizeof(token));
        return err;
    }
    out = json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)kt.id,
                    "name", kt.name, "prefix", prefix, "token", token,
                    "scopes", json_loads(scopes_txt, 0, NULL));
    sodium_memzero(token, sizeof(token));
    return http_resp_data(resp, 201, out, NULL);
}

static enum cw_err
key_revoke_body(struct store *db, void *arg)
{
    struct key_tx     *kt = arg;
    struct store_param p[2];
    uint64_t           n = 0;
    enum cw_err        err;

    p[0] = SP_U64(kt->id);
    p[1] = SP_U64(kt->req->who->user_id);
    err = store_exec(db, sql_key_revoke, p, 2, &n, NULL);
    if (err != CW_OK)
        return err;
    if (n == 0)
        return CW_E_NOTFOUND;
    return api_audit(kt->req, db, "api_key.revoke", "api_key",
                     arena_printf(kt->req->arena, "%llu",
                                  (unsigned long long)kt->id),
                     NULL);
}

static enum cw_err
key_revoke(struct http_req *req, struct http_resp *resp)
{
    struct key_tx kt;
    enum cw_err   err;

    memset(&kt, 0, sizeof(kt));
    kt.req = req;
    err = http_req_path_u64(req, "id", &kt.id);
    if (err != CW_OK)
        return err;
    err = store_tx(req->db, key_revoke_body, &kt);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such active API key");
    if (err != CW_OK)
        return err;
    resp->status = 204;
    return CW_OK;
}

/* ---- two-factor ------------------------------------------------------ */

static enum cw_err
tfa_status(struct http_req *req, struct http_resp *resp)
{
    struct store_rows  rows;
    struct store_param p[1];
    enum cw_err        err;

    p[0] = SP_U64(req->who->user_id);
    err = store_query(req->db, req->arena, sql_totp_state, p, 1, &rows);
    if (err != CW_OK)
        return err;
    return http_resp_data(
        resp, 200,
        json_pack("{s:b, s:b, s:b}", "enabled",
                  rows.nrows == 1 && store_cell_u64(&rows, 0, 0) == 1,
                  "pending",
                  rows.nrows == 1 && store_cell_u64(&rows, 0, 0) == 0,
                  "required", req->who->needs_2fa),
        NULL);
}

struct tfa_tx {
    struct http_req *req;
    struct buf       blob;
    int64_t          step;
    char             codes[AUTH_BACKUP_CODES][AUTH_BACKUP_LEN + 1];
    char             hashes[AUTH_BACKUP_CODES][AUTH_HASH_MAX];
    char             lookups[AUTH_BACKUP_CODES][65];
};

static enum cw_err
enroll_body(struct store *db, void *arg)
{
    struct tfa_tx     *tt = arg;
    struct store_rows  rows;
    struct store_param p[2];
    enum cw_err        err;

    p[0] = SP_U64(tt->req->who->user_id);
    err = store_query(db, tt->req->arena, sql_totp_state, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows == 1 && store_cell_u64(&rows, 0, 0) == 1)
        return CW_E_CONFLICT;
    p[1] = SP_BLOB(tt->blob.p, tt->blob.len);
    err = store_exec(db, sql_totp_put, p, 2, NULL, NULL);
    if (err != CW_OK)
        return err;
    return api_audit(tt->req, db, "user.2fa_enroll_start", "user",
                     uid_text(tt->req), NULL);
}

static enum cw_err
tfa_enroll(struct http_req *req, struct http_resp *resp)
{
    struct tfa_tx *tt = arena_zalloc(req->arena, sizeof(*tt));
    uint8_t        secret[AUTH_TOTP_SECRET];
    char           b32[64];
    char           ad[64];
    char          *issuer;
    enum cw_err    err;

    tt->req = req;
    buf_init(&tt->blob, 256);
    arena_defer(req->arena, (arena_free_fn)buf_cleanup, &tt->blob);
    randombytes_buf(secret, sizeof(secret));
    auth_tfa_ad(req->who->user_id, ad, sizeof(ad));
    err = signer_wrap(req->cfg->master_key, ad, secret, sizeof(secret),
                      &tt->blob);
    auth_base32(secret, sizeof(secret), b32, sizeof(b32));
    sodium_memzero(secret, sizeof(secret));
    if (err != CW_OK)
        return err;
    err = store_tx(req->db, enroll_body, tt);
    if (err == CW_E_CONFLICT)
        return http_fail(req, err, NULL,
                         "two-factor authentication is already enabled");
    if (err != CW_OK)
        return err;
    /* otpauth URI (Key Uri Format): issuer is the public host. */
    issuer = arena_strdup(req->arena, strstr(req->cfg->public_url, "://") + 3);
    return http_resp_data(
        resp, 200,
        json_pack("{s:s, s:s}", "secret", b32, "otpauth_uri",
                  arena_printf(req->arena,
                               "otpauth://totp/certward%%20%s:%s?secret=%s&"
                               "issuer=certward%%20%s&algorithm=SHA1&"
                               "digits=6&period=30",
                               issuer, req->who->username, b32, issuer)),
        NULL);
}

static enum cw_err
confirm_body(struct store *db, void *arg)
{
    struct tfa_tx     *tt = arg;
    struct store_param p[3];
    uint64_t           n = 0;
    enum cw_err        err;

    p[0] = SP_I64(tt->step);
    p[1] = SP_U64(tt->req->who->user_id);
    err = store_exec(db, sql_totp_confirm, p, 2, &n, NULL);
    if (err != CW_OK)
        return err;
    if (n != 1)
        return CW_E_CONFLICT;
    p[0] = SP_U64(tt->req->who->user_id);
    err = store_exec(db, sql_backup_clear, p, 1, NULL, NULL);
    for (int i = 0; err == CW_OK && i < AUTH_BACKUP_CODES; i++) {
        p[0] = SP_U64(tt->req->who->user_id);
        p[1] = SP_STR(tt->lookups[i]);
        p[2] = SP_STR(tt->hashes[i]);
        err = store_exec(db, sql_backup_add, p, 3, NULL, NULL);
    }
    if (err != CW_OK)
        return err;
    return api_audit(tt->req, db, "user.2fa_enable", "user",
                     uid_text(tt->req), NULL);
}

static enum cw_err
tfa_confirm(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "code", JSONX_STRING, 1, 16, 0, 0 },
    };
    struct tfa_tx     *tt = arena_zalloc(req->arena, sizeof(*tt));
    struct store_rows  rows;
    struct store_param p[1];
    struct buf         secret;
    json_t            *body;
    json_t            *codes;
    enum cw_err        err;

    err = http_req_json(req, fields, 1, &body);
    if (err != CW_OK)
        return err;
    tt->req = req;
    p[0] = SP_U64(req->who->user_id);
    err = store_query(req->db, req->arena, sql_totp_state, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1 || store_cell_u64(&rows, 0, 0) == 1)
        return http_fail(req, CW_E_CONFLICT, NULL,
                         "no two-factor enrolment is pending");
    buf_init(&secret, 64);
    err = auth_tfa_secret(req->cfg, req->who->user_id,
                          (const uint8_t *)store_cell_str(&rows, 0, 1),
                          rows.cells[1].len, &secret);
    if (err == CW_OK) {
        tt->step = auth_totp_match(secret.p, secret.len,
                                   jsonx_str(body, "code"),
                                   (uint64_t)time(NULL));
        if (tt->step < 0)
            err = http_fail(req, CW_E_BADREQ, "code",
                            "the code does not match; check the clock of "
                            "the device");
    }
    buf_cleanup_secret(&secret);
    if (err != CW_OK)
        return err;
    auth_backup_generate(tt->codes);
    for (int i = 0; i < AUTH_BACKUP_CODES; i++) {
        char norm[11];

        auth_backup_normalize(tt->codes[i], norm);
        auth_backup_lookup(req->cfg, norm, tt->lookups[i]);
        err = auth_password_hash(req->cfg, norm, 10, tt->hashes[i]);
        if (err != CW_OK)
            return err;
    }
    err = store_tx(req->db, confirm_body, tt);
    if (err == CW_E_CONFLICT)
        return http_fail(req, err, NULL,
                         "no two-factor enrolment is pending");
    if (err != CW_OK)
        return err;
    codes = json_array();
    for (int i = 0; i < AUTH_BACKUP_CODES; i++)
        json_array_append_new(codes, json_string(tt->codes[i]));
    sodium_memzero(tt->codes, sizeof(tt->codes));
    return http_resp_data(resp, 200,
                          json_pack("{s:b, s:o}", "enabled", 1,
                                    "backup_codes", codes),
                          NULL);
}

static enum cw_err
disable_body(struct store *db, void *arg)
{
    struct tfa_tx     *tt = arg;
    struct store_param p[1];
    enum cw_err        err;

    p[0] = SP_U64(tt->req->who->user_id);
    err = store_exec(db, sql_totp_delete, p, 1, NULL, NULL);
    if (err == CW_OK)
        err = store_exec(db, sql_backup_clear, p, 1, NULL, NULL);
    if (err != CW_OK)
        return err;
    return api_audit(tt->req, db, "user.2fa_disable", "user",
                     uid_text(tt->req), NULL);
}

static enum cw_err
tfa_disable(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "password", JSONX_STRING, 1, LIM_PASSWORD * 4, 0, 0 },
    };
    struct tfa_tx     *tt = arena_zalloc(req->arena, sizeof(*tt));
    struct store_rows  rows;
    struct store_param p[1];
    json_t            *body;
    const char        *pw;
    enum cw_err        err;

    err = http_req_json(req, fields, 1, &body);
    if (err != CW_OK)
        return err;
    if (auth_settings_requires_2fa(auth_settings_get(req->db, req->cfg),
                                   req->who->role))
        return http_fail(req, CW_E_CONFLICT, NULL,
                         "your role requires two-factor authentication");
    pw = jsonx_str(body, "password");
    p[0] = SP_U64(req->who->user_id);
    err = store_query(req->db, req->arena, sql_pw_get, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1 || auth_password_verify(store_cell_str(&rows, 0, 0),
                                                pw, strlen(pw)) != CW_OK)
        return http_fail(req, CW_E_FORBIDDEN, "password",
                         "password is wrong");
    tt->req = req;
    err = store_tx(req->db, disable_body, tt);
    if (err != CW_OK)
        return err;
    resp->status = 204;
    return CW_OK;
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/api/v2/account/sessions",
      .handler = sessions_list, .auth = AUTH_USER, .perm = "read:account" },
    { .methods = HTTP_M_DELETE, .pattern = "/api/v2/account/sessions",
      .handler = sessions_revoke_others, .auth = AUTH_USER,
      .perm = "write:account" },
    { .methods = HTTP_M_DELETE, .pattern = "/api/v2/account/sessions/{id}",
      .handler = session_revoke, .auth = AUTH_USER, .perm = "write:account" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/account/password",
      .handler = password_change, .auth = AUTH_USER,
      .perm = "write:account", .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/account/api-keys",
      .handler = keys_list, .auth = AUTH_USER, .perm = "read:account" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/account/api-keys",
      .handler = key_create, .auth = AUTH_USER, .perm = "write:account",
      .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_DELETE, .pattern = "/api/v2/account/api-keys/{id}",
      .handler = key_revoke, .auth = AUTH_USER, .perm = "write:account" },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/account/2fa",
      .handler = tfa_status, .auth = AUTH_USER, .perm = "read:account" },
    { .methods = HTTP_M_DELETE, .pattern = "/api/v2/account/2fa",
      .handler = tfa_disable, .auth = AUTH_USER, .perm = "write:account",
      .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/account/2fa/enroll",
      .handler = tfa_enroll, .auth = AUTH_USER, .perm = "write:account" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/account/2fa/confirm",
      .handler = tfa_confirm, .auth = AUTH_USER, .perm = "write:account",
      .body_max = LIM_BODY_JSON_SMALL },
};

const struct http_route_table api_account_table =
    HTTP_TABLE("account", routes);

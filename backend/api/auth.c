/*
 * auth.c (api): POST /api/v2/auth/login, POST /api/v2/auth/logout,
 * GET /api/v2/auth/me. Login answers are the same for an unknown user and
 * a wrong password (same status, same text, an Argon2id verification in
 * both cases), so they reveal nothing about which accounts exist.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "auth/auth.h"
#include "auth/lockout.h"
#include "auth/password.h"
#include "auth/session.h"
#include "auth/settings.h"
#include "auth/tfa.h"
#include "cw_limits.h"
#include "util/jsonx.h"
#include "util/log.h"
#include "util/sp.h"

static const char sql_login_user[] =
    "SELECT u.id, u.password_hash, u.active, u.must_change_password, r.name, "
    "(SELECT COUNT(*) FROM user_totp t WHERE t.user_id = u.id "
    " AND t.confirmed_at IS NOT NULL) "
    "FROM users u JOIN roles r ON r.id = u.role_id WHERE u.username = ?";
static const char sql_session_new[] =
    "INSERT INTO sessions (sid, user_id, expires_at, client_addr, "
    "user_agent) VALUES (?, ?, NOW(6) + INTERVAL ? SECOND, ?, ?)";
static const char sql_session_end[] =
    "UPDATE sessions SET revoked_at = NOW(6) WHERE id = ? "
    "AND revoked_at IS NULL";
static const char sql_me[] =
    "SELECT " AUTH_USER_COLS " FROM users u JOIN roles r ON r.id = u.role_id "
    "WHERE u.id = ?";

/* A hash to verify against when the user does not exist, so both paths
 * cost one Argon2id verification. */
static char           dummy_hash[AUTH_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static const struct cw_config *dummy_cfg;

static void
dummy_init(void)
{
    char pw[24];

    auth_password_generate(pw, sizeof(pw));
    if (auth_password_hash(dummy_cfg, pw, strlen(pw), dummy_hash) != CW_OK)
        dummy_hash[0] = '\0';
}

struct login_tx {
    struct http_req *req;
    uint64_t         user_id;
    const char      *sid;
    unsigned         ttl;
    const char      *ua;
    int              backup;
};

static enum cw_err
login_body(struct store *db, void *arg)
{
    struct login_tx   *lt = arg;
    struct store_param p[5];
    enum cw_err        err;
    char               subj[96];

    p[0] = SP_STR(lt->sid);
    p[1] = SP_U64(lt->user_id);
    p[2] = SP_U64(lt->ttl);
    p[3] = SP_STR(lt->req->client_addr);
    p[4] = SP_STR(lt->ua);
    err = store_exec(db, sql_session_new, p, 5, NULL, NULL);
    if (err != CW_OK)
        return err;
    snprintf(subj, sizeof(subj), "user:%.80s", lt->req->who->username);
    err = auth_lockout_clear(db, subj);
    if (err != CW_OK)
        return err;
    return api_audit(lt->req, db, "auth.login", "user",
                     arena_printf(lt->req->arena, "%llu",
                                  (unsigned long long)lt->user_id),
                     json_pack("{s:s, s:b}", "method", "password",
                               "backup_code", lt->backup));
}

static enum cw_err
login_failed(struct http_req *req, const struct auth_settings *st,
             const char *username, const char *reason)
{
    char subj[96];

    snprintf(subj, sizeof(subj), "user:%.80s", username);
    auth_lockout_fail(req->db, st, subj, st->lockout_threshold);
    /* Allowlisted addresses (monitoring, a trusted office) are never
     * locked as a whole; their accounts still are. */
    if (!conf_cidr_match(st->allow, st->nallow, req->client_addr)) {
        snprintf(subj, sizeof(subj), "addr:%s", req->client_addr);
        auth_lockout_fail(req->db, st, subj, st->lockout_addr_threshold);
    }
    api_audit_as(req, username, "auth.login", "user", username, "failure",
                 json_pack("{s:s, s:s}", "username", username, "reason",
                           reason));
    return http_fail(req, CW_E_UNAUTH, NULL, "invalid username or password");
}

static enum cw_err
login(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "username", JSONX_STRING, 1, LIM_USERNAME, 0, 0 },
        { "password", JSONX_STRING, 1, LIM_PASSWORD * 4, 0, 0 },
        { "totp", JSONX_STRING, 0, 32, 0, 0 },
    };
    const struct auth_settings *st;
    struct store_rows           rows;
    struct store_param          p[1];
    struct login_tx             lt;
    json_t                     *body;
    const char                 *username;
    const char                 *password;
    const char                 *totp;
    char                        subj[96];
    char                        sid[AUTH_SID_LEN + 1];
    char                        csrf[128];
    char                       *jwt = NULL;
    unsigned                    retry = 0;
    time_t                      now = time(NULL);
    enum cw_err                 err;
    int                         found;
    int                         pw_ok;
    const char                 *ua;

    err = http_req_json(req, fields, 3, &body);
    if (err != CW_OK)
        return err;
    username = jsonx_str(body, "username");
    password = jsonx_str(body, "password");
    totp = jsonx_str(body, "totp");
    st = auth_settings_get(req->db, req->cfg);

    snprintf(subj, sizeof(subj), "addr:%s", req->client_addr);
    err = conf_cidr_match(st->allow, st->nallow, req->client_addr)
              ? CW_OK
              : auth_lockout_check(req->db, subj, &retry);
    if (err == CW_E_LOCKED) {
        req->retry_after = retry;
        return http_fail(req, CW_E_RATELIMIT, NULL,
                         "too many failed logins from this address; retry "
                         "after %u s", retry);
    }
    if (err != CW_OK)
        return err;
    snprintf(subj, sizeof(subj), "user:%.80s", username);
    err = auth_lockout_check(req->db, subj, &retry);
    if (err == CW_E_LOCKED) {
        req->retry_after = retry;
        api_audit_as(req, username, "auth.login", "user", username,
                     "failure",
                     json_pack("{s:s, s:s}", "username", username, "reason",
                               "locked"));
        return http_fail(req, CW_E_LOCKED, NULL,
                         "account temporarily locked after failed logins; "
                         "retry after %u s", retry);
    }
    if (err != CW_OK)
        return err;

    p[0] = SP_STR(username);
    err = store_query(req->db, req->arena, sql_login_user, p, 1, &rows);
    if (err != CW_OK)
        return err;
    found = rows.nrows == 1;
    if (!found) {
        dummy_cfg = req->cfg;
        pthread_once(&dummy_once, dummy_init);
        auth_password_verify(dummy_hash, password, strlen(password));
        return login_failed(req, st, username, "unknown user");
    }
    pw_ok = auth_password_verify(store_cell_str(&rows, 0, 1), password,
                                 strlen(password)) == CW_OK;
    if (!pw_ok)
        return login_failed(req, st, username, "wrong password");
    if (store_cell_u64(&rows, 0, 2) != 1)
        return login_failed(req, st, username, "account disabled");

    memset(&lt, 0, sizeof(lt));
    lt.user_id = store_cell_u64(&rows, 0, 0);
    if (store_cell_u64(&rows, 0, 5) > 0) {
        if (totp == NULL || totp[0] == '\0')
            return http_fail(req, CW_E_TOTP_REQUIRED, "totp",
                             "enter the code from your authenticator app "
                             "or a backup code");
        err = auth_tfa_verify(req->db, req->cfg, lt.user_id, totp,
                              &lt.backup);
        if (err == CW_E_UNAUTH)
            return login_failed(req, st, username,
                                "wrong two-factor code");
        if (err != CW_OK)
            return err;
    }

    /* The caller is now this user, for the audit row. */
    req->who = arena_zalloc(req->arena, sizeof(*req->who));
    req->who->user_id = lt.user_id;
    req->who->username = arena_strdup(req->arena, username);
    sp_random_hex(sid, AUTH_SID_LEN / 2);
    ua = http_req_header(req, "HTTP_USER_AGENT");
    lt.req = req;
    lt.sid = sid;
    lt.ttl = st->session_ttl;
    lt.ua = arena_strndup(req->arena, ua ? ua : "", ua ? strnlen(ua, 255) : 0);
    err = store_tx(req->db, login_body, &lt);
    if (err != CW_OK)
        return err;
    err = auth_jwt_make(req->cfg, lt.user_id, sid, now,
                        now + (time_t)st->session_ttl, &jwt);
    if (err != CW_OK)
        return err;
    http_resp_header(req, resp, "Set-Cookie",
                     arena_printf(req->arena,
                                  "%s=%s; Path=/; Max-Age=%u; HttpOnly; "
                                  "SameSite=Strict%s",
                                  AUTH_COOKIE_NAME, jwt, st->session_ttl,
                                  req->cfg->cookie_secure ? "; Secure" : ""));
    free(jwt);
    auth_csrf_make(req->cfg, sid, now, csrf, sizeof(csrf));
    p[0] = SP_U64(lt.user_id);
    err = store_query(req->db, req->arena, sql_me, p, 1, &rows);
    if (err != CW_OK || rows.nrows != 1)
        return err != CW_OK ? err : CW_E_INTERNAL;
    return http_resp_data(
        resp, 200,
        json_pack("{s:o, s:s, s:I, s:b, s:b}", "user",
                  auth_user_json(&rows, 0, 0), "csrf_token", csrf,
                  "expires_in", (json_int_t)st->session_ttl,
                  "must_change_password", store_cell_u64(&rows, 0, 5) == 1,
                  "two_factor_enrolment_required",
                  store_cell_u64(&rows, 0, 6) == 0 &&
                      auth_settings_requires_2fa(
                          st, store_cell_str(&rows, 0, 3))),
        NULL);
}

struct logout_tx {
    struct http_req *req;
};

static enum cw_err
logout_body(struct store *db, void *arg)
{
    struct logout_tx  *lt = arg;
    struct store_param p[1];
    enum cw_err        err;

    p[0] = SP_U64(lt->req->who->session_id);
    err = store_exec(db, sql_session_end, p, 1, NULL, NULL);
    if (err != CW_OK)
        return err;
    return api_audit(lt->req, db, "auth.logout", "session",
                     arena_printf(lt->req->arena, "%llu",
                                  (unsigned long long)
                                      lt->req->who->session_id),
                     NULL);
}

static enum cw_err
logout(struct http_req *req, struct http_resp *resp)
{
    struct logout_tx lt = { req };
    enum cw_err      err;

    if (req->who->session_id != 0) {
        err = store_tx(req->db, logout_body, &lt);
        if (err != CW_OK)
            return err;
    }
    http_resp_header(req, resp, "Set-Cookie",
                     arena_printf(req->arena,
                                  "%s=; Path=/; Max-Age=0; HttpOnly; "
                                  "SameSite=Strict%s",
                                  AUTH_COOKIE_NAME,
                                  req->cfg->cookie_secure ? "; Secure" : ""));
    resp->status = 204;
    return CW_OK;
}

static enum cw_err
me(struct http_req *req, struct http_resp *resp)
{
    /* The authentication already read the account and rendered it: no
     * second round trip, no JSON tree, no formatting. A CSRF token lives
     * 24 h and sessions may live longer: the SPA takes a current one from
     * here. */
    const struct http_identity *who = req->who;
    const char *csrf = who->csrf_token;
    const char *parts[] = {
        "{\"data\":{\"user\":{", who->user_json,
        ",\"two_factor_enrolment_required\":",
        who->needs_2fa ? "true" : "false", ",\"auth\":\"",
        who->api_key_id ? "api_key" : "session", "\"}",
        csrf ? ",\"csrf_token\":\"" : "", csrf ? csrf : "", csrf ? "\"" : "",
        "}}",
    };
    enum cw_err err;

    err = http_resp_bytes(resp, 200, "application/json", "", 0);
    for (size_t i = 0; err == CW_OK && i < sizeof(parts) / sizeof(parts[0]);
         i++)
        err = buf_puts(&resp->body, parts[i]);
    return err;
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_POST, .pattern = "/api/v2/auth/login",
      .handler = login, .auth = AUTH_PUBLIC,
      .body_max = LIM_BODY_JSON_SMALL, .rl = RL_LOGIN },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/auth/logout",
      .handler = logout, .auth = AUTH_USER, .perm = "write:account" },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/auth/me", .handler = me,
      .auth = AUTH_USER, .perm = "read:account" },
};

const struct http_route_table api_auth_table = HTTP_TABLE("auth", routes);

/*
 * auth.c: authentication of REST requests for the dispatcher. Accepts a
 * Bearer API key (cwk_...) or the session cookie; a cookie-authenticated
 * state change must carry a valid X-CSRF-Token. Everything read here is
 * client input: the Authorization header, the Cookie header, the CSRF
 * header. Verified tokens and session rows are kept per worker thread and
 * reused only while the authentication epoch (epoch.h), read for every
 * request, is unchanged.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/apikey.h"
#include "auth/epoch.h"
#include "auth/auth.h"
#include "auth/rbac.h"
#include "auth/ratelimit.h"
#include "auth/session.h"
#include "auth/settings.h"
#include "auth/users.h"
#include "store/audit.h"
#include "store/store.h"
#include "util/jsonx.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sp.h"

/* Columns 0-7: the user (AUTH_USER_COLS); then the credential's own. Read
 * only when a thread has no current copy of the session (see below). */
static const char sql_session[] =
    "SELECT " AUTH_USER_COLS ", s.id, r.permissions, "
    "(s.last_seen_at < NOW(6) - INTERVAL 60 SECOND), "
    "FLOOR(UNIX_TIMESTAMP(s.expires_at)) "
    "FROM sessions s JOIN users u ON u.id = s.user_id "
    "JOIN roles r ON r.id = u.role_id "
    "WHERE s.sid = ? AND s.revoked_at IS NULL AND s.expires_at > NOW(6)";
/* Conditional, so workers and nodes that reuse a session row write
 * last_seen_at at most about once a minute between them. */
static const char sql_session_seen[] =
    "UPDATE sessions SET last_seen_at = NOW(6) WHERE id = ? "
    "AND last_seen_at < NOW(6) - INTERVAL 60 SECOND";
static const char sql_apikey[] =
    "SELECT " AUTH_USER_COLS ", k.id, r.permissions, "
    "k.scopes, (k.last_used_at IS NULL OR "
    "k.last_used_at < NOW(6) - INTERVAL 60 SECOND) "
    "FROM api_keys k JOIN users u ON u.id = k.user_id "
    "JOIN roles r ON r.id = u.role_id "
    "WHERE k.token_hash = ? AND k.revoked_at IS NULL "
    "AND (k.expires_at IS NULL OR k.expires_at > NOW(6))";
static const char sql_apikey_used[] =
    "UPDATE api_keys SET last_used_at = NOW(6) WHERE id = ?";

/* What a session restricted by a pending obligation may still call. */
static int
route_in(const struct http_route *r, const char *const *allowed)
{
    for (size_t i = 0; allowed[i] != NULL; i++)
        if (strcmp(r->pattern, allowed[i]) == 0)
            return 1;
    return 0;
}

static const char *const pw_change_routes[] = {
    "/api/v2/auth/me", "/api/v2/auth/logout", "/api/v2/account/password",
    "/api/v2/users/password-policy", "/api/v2/users/password-strength",
    NULL,
};

static const char *const tfa_enrol_routes[] = {
    "/api/v2/auth/me", "/api/v2/auth/logout", "/api/v2/account/2fa",
    "/api/v2/account/2fa/enroll", "/api/v2/account/2fa/confirm", NULL,
};

/* An account with a pending obligation (a password to change, a second
 * factor its role requires) may only fulfil it, whatever the credential. */
static enum cw_err
auth_obligations(struct http_req *req)
{
    const struct http_identity *who = req->who;

    if (who->must_change_password && !route_in(req->route, pw_change_routes))
        return http_fail(req, CW_E_FORBIDDEN, NULL,
                         "password change required before anything else");
    if (who->needs_2fa && !route_in(req->route, tfa_enrol_routes))
        return http_fail(req, CW_E_FORBIDDEN, NULL,
                         "your role requires two-factor authentication: "
                         "enrol first");
    return CW_OK;
}

static char *user_members(const struct store_rows *rows,
                          const char *const *perms);

static enum cw_err
auth_apikey(struct http_req *req, const char *token)
{
    struct store_rows     rows;
    struct store_param    p[1];
    struct http_identity *who;
    char                  hash[65];
    const char          **role_perms;
    const char          **perms;
    json_t               *scopes;
    char                 *members;
    size_t                n = 0;
    enum cw_err           err;

    if (!auth_apikey_token_valid(token))
        return http_fail(req, CW_E_UNAUTH, NULL, "invalid API key");
    auth_apikey_hash(token, hash);
    p[0] = SP_STR(hash);
    err = store_query(req->db, req->arena, sql_apikey, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1 || store_cell_u64(&rows, 0, 4) != 1)
        return http_fail(req, CW_E_UNAUTH, NULL,
                         "invalid, expired or revoked API key");
    who = arena_zalloc(req->arena, sizeof(*who));
    who->user_id = store_cell_u64(&rows, 0, 0);
    who->username = store_cell_str(&rows, 0, 1);
    who->role = store_cell_str(&rows, 0, 3);
    who->api_key_id = store_cell_u64(&rows, 0, 8);
    role_perms = auth_role_perms(req->arena, who->role,
                                 store_cell_str(&rows, 0, 9));
    /* A key holds the intersection of its scopes and its owner's current
     * permissions: demoting the owner shrinks the key at once. */
    scopes = json_loads(store_cell_str(&rows, 0, 10), 0, NULL);
    perms = arena_alloc(req->arena,
                        (json_array_size(scopes) + 1) * sizeof(*perms));
    for (size_t i = 0; i < json_array_size(scopes); i++) {
        const char *s = json_string_value(json_array_get(scopes, i));

        if (s != NULL && auth_perms_has(role_perms, s))
            perms[n++] = arena_strdup(req->arena, s);
    }
    perms[n] = NULL;
    json_decref(scopes);
    who->perms = perms;
    members = user_members(&rows, perms);
    arena_defer(req->arena, free, members);
    who->user_json = members;
    who->must_change_password = store_cell_u64(&rows, 0, 5) == 1;
    who->needs_2fa = store_cell_u64(&rows, 0, 6) == 0 &&
                     auth_settings_requires_2fa(
                         auth_settings_get(req->db, req->cfg), who->role);
    if (store_cell_u64(&rows, 0, 11) == 1) {
        p[0] = SP_U64(who->api_key_id);
        store_exec(req->db, sql_apikey_used, p, 1, NULL, NULL);
    }
    req->who = who;
    return auth_obligations(req);
}

/*
 * Session copies per worker thread. A cookie request needs (1) a valid JWT
 * and (2) a session row that is active now. (1) depends only on the token
 * text and the clock, so a token verified once is recognised by comparing
 * its whole text in constant time and re-checking exp and iat. (2) is
 * reused only while the authentication epoch (auth/epoch.h), read for this
 * very request, equals the epoch under which the row was read: any
 * revocation, user, role or 2FA change advances it, on every node.
 */
#define SESS_SLOTS     64
#define SESS_CSRF_REUSE 3600   /* s: a CSRF token for /auth/me is remade hourly */

struct sess_ent {
    char              *token;       /* malloc'd, verified; NULL: empty slot */
    size_t             toklen;
    struct auth_claims cl;
    int                row_ok;      /* the fields below are valid under gen */
    uint64_t           gen;
    int64_t            row_exp;     /* sessions.expires_at, unix time */
    uint64_t           session_id;
    char              *username;
    char              *role;
    int                must_change_password;
    int                tfa_enrolled;
    const char       **perms;       /* one malloc'd block */
    char              *user_json;   /* members of the user object, /auth/me */
    time_t             seen_at;     /* last_seen_at known fresh at this time */
    time_t             csrf_at;
    char               csrf[128];
};

static _Thread_local struct sess_ent sess_cache[SESS_SLOTS];

static void
sess_row_clear(struct sess_ent *e)
{
    free(e->username);
    free(e->role);
    free(e->perms);
    free(e->user_json);
    e->username = e->role = e->user_json = NULL;
    e->perms = NULL;
    e->row_ok = 0;
    e->csrf_at = 0;
}

static void
sess_clear(struct sess_ent *e)
{
    sess_row_clear(e);
    if (e->token != NULL)
        OPENSSL_cleanse(e->token, e->toklen);
    free(e->token);
    memset(e, 0, sizeof(*e));
}

void
auth_thread_cleanup(void)
{
    for (size_t i = 0; i < SESS_SLOTS; i++)
        sess_clear(&sess_cache[i]);
}

/* Slot choice only: the token is then compared in full. */
static size_t
sess_slot(const char *tok, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = len > 48 ? len - 48 : 0; i < len; i++)
        h = (h ^ (unsigned char)tok[i]) * 1099511628211ULL;
    return (size_t)(h % SESS_SLOTS);
}

/* A NULL-terminated copy of perms in one block. */
static const char **
perms_dup(const char *const *perms)
{
    size_t n = 0;
    size_t bytes = 0;
    const char **out;
    char        *p;

    for (; perms[n] != NULL; n++)
        bytes += strlen(perms[n]) + 1;
    out = cw_xmalloc((n + 1) * sizeof(*out) + bytes);
    p = (char *)(out + n + 1);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(perms[i]) + 1;

        memcpy(p, perms[i], l);
        out[i] = p;
        p += l;
    }
    out[n] = NULL;
    return out;
}

/* The members of the account object for /auth/me (AUTH_USER_COLS at
 * column 0 plus "permissions"), without the braces; malloc'd. */
static char *
user_members(const struct store_rows *rows, const char *const *perms)
{
    json_t *u = auth_user_json(rows, 0, 0);
    json_t *pa = json_array();
    char   *s;
    size_t  n;

    for (size_t i = 0; perms[i] != NULL; i++)
        json_array_append_new(pa, json_string(perms[i]));
    if (u == NULL) {
        json_decref(pa);
        return cw_xstrdup("\"id\":null");
    }
    json_object_set_new(u, "permissions", pa);
    s = jsonx_dumps(u);
    json_decref(u);
    n = strlen(s);
    if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
        memmove(s, s + 1, n - 2);
        s[n - 2] = '\0';
    }
    return s;
}

/* Read the session row into e (valid under epoch gen); CW_E_UNAUTH when
 * the session has ended. */
static enum cw_err
sess_load(struct http_req *req, struct sess_ent *e, uint64_t gen,
          time_t now)
{
    struct store_rows  rows;
    struct store_param p[1];
    const char       **perms;
    enum cw_err        err;

    p[0] = SP_STR(e->cl.sid);
    err = store_query(req->db, req->arena, sql_session, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1 || store_cell_u64(&rows, 0, 0) != e->cl.user_id ||
        store_cell_u64(&rows, 0, 4) != 1)
        return CW_E_UNAUTH;
    e->session_id = store_cell_u64(&rows, 0, 8);
    e->username = cw_xstrdup(store_cell_str(&rows, 0, 1));
    e->role = cw_xstrdup(store_cell_str(&rows, 0, 3));
    e->must_change_password = store_cell_u64(&rows, 0, 5) == 1;
    e->tfa_enrolled = store_cell_u64(&rows, 0, 6) > 0;
    perms = auth_role_perms(req->arena, e->role,
                            store_cell_str(&rows, 0, 9));
    e->perms = perms_dup(perms);
    e->user_json = user_members(&rows, e->perms);
    e->row_exp = store_cell_i64(&rows, 0, 11);
    e->gen = gen;
    e->row_ok = 1;
    if (store_cell_u64(&rows, 0, 10) == 1) {
        p[0] = SP_U64(e->session_id);
        store_exec(req->db, sql_session_seen, p, 1, NULL, NULL);
    }
    e->seen_at = now;
    return CW_OK;
}

static enum cw_err
auth_cookie(struct http_req *req, const char *cookie_hdr)
{
    char                  token[AUTH_TOKEN_MAX + 1];
    struct auth_claims    cl;
    struct store_param    p[1];
    struct http_identity *who;
    struct sess_ent      *e;
    const struct auth_settings *st;
    enum cw_err           err;
    uint64_t              gen = 0;
    size_t                len;
    time_t                now = time(NULL);

    if (auth_cookie_get(cookie_hdr, AUTH_COOKIE_NAME, token,
                        sizeof(token)) != 0)
        return http_fail(req, CW_E_UNAUTH, NULL, "authentication required");
    len = strlen(token);
    e = &sess_cache[sess_slot(token, len)];
    if (e->token != NULL && e->toklen == len &&
        CRYPTO_memcmp(e->token, token, len) == 0) {
        /* Verified before: only the clock can have changed the answer
         * (the same exp and iat checks as auth_jwt_check). */
        if (e->cl.exp <= now || e->cl.iat > now + 60) {
            sess_clear(e);
            return http_fail(req, CW_E_UNAUTH, NULL,
                             "session token invalid or expired");
        }
    } else {
        if (auth_jwt_check(req->cfg, token, now, &cl) != CW_OK)
            return http_fail(req, CW_E_UNAUTH, NULL,
                             "session token invalid or expired");
        sess_clear(e);
        e->token = cw_xmalloc(len + 1);
        memcpy(e->token, token, len + 1);
        e->toklen = len;
        e->cl = cl;
    }
    OPENSSL_cleanse(token, len);
    /* Read after this request arrived: every revocation committed before
     * it is counted. */
    err = auth_epoch_get(req->db, req->arena, &gen);
    if (err != CW_OK)
        return err;
    if (!e->row_ok || e->gen != gen || e->row_exp <= (int64_t)now) {
        sess_row_clear(e);
        err = sess_load(req, e, gen, now);
        if (err == CW_E_UNAUTH)
            return http_fail(req, CW_E_UNAUTH, NULL,
                             "session ended; log in again");
        if (err != CW_OK) {
            sess_row_clear(e);
            return err;
        }
    } else if (now - e->seen_at >= 60) {
        p[0] = SP_U64(e->session_id);
        store_exec(req->db, sql_session_seen, p, 1, NULL, NULL);
        e->seen_at = now;
    }
    /* State changes need the CSRF header (RFC 6265 cookies are sent by
     * the browser on cross-site requests; the header is not). */
    if (req->method != HTTP_M_GET && req->method != HTTP_M_HEAD &&
        req->method != HTTP_M_OPTIONS &&
        auth_csrf_check(req->cfg, e->cl.sid,
                        http_req_header(req, "HTTP_X_CSRF_TOKEN"),
                        now) != CW_OK)
        return http_fail(req, CW_E_CSRF, NULL,
                         "missing or invalid X-CSRF-Token header");
    who = arena_zalloc(req->arena, sizeof(*who));
    who->user_id = e->cl.user_id;
    who->username = arena_strdup(req->arena, e->username);
    who->role = arena_strdup(req->arena, e->role);
    who->user_json = e->user_json;   /* this thread's: valid for the request */
    who->session_id = e->session_id;
    who->perms = e->perms;
    who->via_cookie = 1;
    who->sid = arena_strdup(req->arena, e->cl.sid);
    /* A CSRF token lives 24 h; /auth/me hands out one at most an hour
     * old, so it need not be remade for every request. */
    if (e->csrf_at == 0 || now - e->csrf_at >= SESS_CSRF_REUSE ||
        now < e->csrf_at) {
        auth_csrf_make(req->cfg, e->cl.sid, now, e->csrf, sizeof(e->csrf));
        e->csrf_at = now;
    }
    who->csrf_token = arena_strdup(req->arena, e->csrf);
    who->must_change_password = e->must_change_password;
    st = auth_settings_get(req->db, req->cfg);
    who->needs_2fa = !e->tfa_enrolled &&
                     auth_settings_requires_2fa(st, who->role);
    req->who = who;
    return auth_obligations(req);
}

enum cw_err
auth_request(struct http_req *req)
{
    const char *authz = http_req_header(req, "HTTP_AUTHORIZATION");
    const char *cookie = http_req_header(req, "HTTP_COOKIE");

    if (authz != NULL && authz[0] != '\0') {
        if (strncasecmp(authz, "Bearer ", 7) != 0)
            return http_fail(req, CW_E_UNAUTH, NULL,
                             "unsupported Authorization scheme");
        return auth_apikey(req, authz + 7);
    }
    if (cookie != NULL)
        return auth_cookie(req, cookie);
    return http_fail(req, CW_E_UNAUTH, NULL, "authentication required");
}

int
auth_has_perm(const struct http_identity *who, const char *perm)
{
    return who != NULL && auth_perms_has(who->perms, perm);
}

void
auth_audit_event(struct http_req *req, struct store_audit_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    if (req->who != NULL) {
        ev->user_id = req->who->user_id;
        ev->username = req->who->username;
    }
    ev->client_addr = req->client_addr;
    ev->request_id = req->request_id;
    ev->outcome = "success";
}

void
auth_audit_denied(struct http_req *req, enum cw_err why)
{
    struct store_audit_event ev;
    json_t                  *d;
    char                    *detail;

    auth_audit_event(req, &ev);
    d = json_pack("{s:s, s:s, s:s?, s:s}", "method", req->method_name,
                  "path", req->path, "permission",
                  req->route ? req->route->perm : NULL, "reason",
                  cw_err_name(why));
    detail = d ? jsonx_dumps(d) : NULL;
    json_decref(d);
    ev.action = why == CW_E_RATELIMIT ? "access.rate_limited"
                                      : "access.denied";
    ev.resource_type = "route";
    ev.resource_id = req->route ? req->route->pattern : req->path;
    ev.outcome = "denied";
    ev.detail = detail;
    store_audit_log(req->db, &ev);
    free(detail);
}

enum cw_err
auth_ratelimit(struct http_req *req, struct http_resp *resp)
{
    const struct auth_settings *st;
    const struct auth_rl_rule  *rule;
    struct auth_rl_result       r;
    int                         cls = req->route->rl;

    if (cls == RL_NONE)
        return CW_OK;
    st = auth_settings_get(req->db, req->cfg);
    rule = &st->rl[cls];
    /* Settings never read (database down since this thread started): the
     * allowlist is unknown, so do not refuse anyone on guesswork; the
     * database outage answers 503 anyway. */
    if (!st->from_db || rule->per_minute == 0 ||
        conf_cidr_match(st->allow, st->nallow, req->client_addr))
        return CW_OK;
    auth_ratelimit_take(cls, req->client_addr, rule->per_minute, rule->burst,
                        &r);
    http_resp_header(req, resp, "X-RateLimit-Limit",
                     arena_printf(req->arena, "%u", r.limit));
    http_resp_header(req, resp, "X-RateLimit-Remaining",
                     arena_printf(req->arena, "%u", r.remaining));
    http_resp_header(req, resp, "X-RateLimit-Reset",
                     arena_printf(req->arena, "%u", r.reset));
    if (r.allowed)
        return CW_OK;
    http_resp_header(req, resp, "Retry-After",
                     arena_printf(req->arena, "%u", r.retry_after));
    /* One audit row per burst of refusals, not one per request. */
    if (r.first_denial)
        auth_audit_denied(req, CW_E_RATELIMIT);
    return http_fail(req, CW_E_RATELIMIT, NULL,
                     "rate limit exceeded; retry after %u s", r.retry_after);
}

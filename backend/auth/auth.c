/*
 * auth.c: authentication of REST requests for the dispatcher. Accepts a
 * Bearer API key (cwk_...) or the session cookie; a cookie-authenticated
 * state change must carry a valid X-CSRF-Token. Everything read here is
 * client input: the Authorization header, the Cookie header, the CSRF
 * header. Verified session tokens with their session rows, and API key rows
 * by the key's hash, are kept per worker thread and reused only while the
 * authentication epoch (epoch.h), read for every request, is unchanged.
 */
#include "config.h"

#include <stdint.h>
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
 * only when a thread has no current copy of the credential (see below). */
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
/* The key's remaining life in whole seconds by the database clock (NULL:
 * no expiry); UNIX_TIMESTAMP() of MariaDB 10.11 ends in 2038, which a
 * key's expiry may pass. */
static const char sql_apikey[] =
    "SELECT " AUTH_USER_COLS ", k.id, r.permissions, "
    "(k.last_used_at IS NULL OR "
    "k.last_used_at < NOW(6) - INTERVAL 60 SECOND), "
    "TIMESTAMPDIFF(SECOND, NOW(6), k.expires_at), k.scopes "
    "FROM api_keys k JOIN users u ON u.id = k.user_id "
    "JOIN roles r ON r.id = u.role_id "
    "WHERE k.token_hash = ? AND k.revoked_at IS NULL "
    "AND (k.expires_at IS NULL OR k.expires_at > NOW(6))";
/* Conditional like sql_session_seen; last_used_at alone does not advance
 * the authentication epoch (migration 0008). */
static const char sql_apikey_used[] =
    "UPDATE api_keys SET last_used_at = NOW(6) WHERE id = ? "
    "AND (last_used_at IS NULL OR "
    "last_used_at < NOW(6) - INTERVAL 60 SECOND)";

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

/*
 * Credential copies per worker thread, one table for session cookies and
 * one for API keys, both of struct cred_ent.
 *
 * A cookie request needs (1) a valid JWT and (2) a session row that is
 * active now. (1) depends only on the token text and the clock, so a token
 * verified once is recognised by comparing its whole text in constant time
 * and re-checking exp and iat. An API key request needs only (2), its key
 * row; the entry is found by the key's SHA-256 (the token itself is never
 * kept), compared in constant time.
 *
 * (2) is reused only while the authentication epoch (auth/epoch.h), read
 * for this very request, equals the epoch under which the row was read
 * and the row's expiry has not passed by the clock: any revocation, user,
 * role, 2FA or API key change advances the epoch, on every node.
 */
#define CRED_SLOTS      64
#define CRED_SEEN_EVERY 60     /* s: last_seen_at / last_used_at writes */
#define SESS_CSRF_REUSE 3600   /* s: a CSRF token for /auth/me is remade hourly */

struct cred_ent {
    char              *token;       /* malloc'd: the verified JWT, or the
                                     * key's hex SHA-256; NULL: empty slot */
    size_t             toklen;
    int                row_ok;      /* the fields below are valid under gen */
    uint64_t           gen;
    int64_t            row_exp;     /* expires_at, unix time (INT64_MAX:
                                     * never) */
    uint64_t           cred_id;     /* sessions.id or api_keys.id */
    uint64_t           user_id;
    char              *username;
    char              *role;
    int                must_change_password;
    int                tfa_enrolled;
    const char       **perms;       /* one malloc'd block; for a key, its
                                     * scopes that the owner holds */
    char              *user_json;   /* members of the user object, /auth/me */
    time_t             seen_at;     /* last_seen_at / last_used_at known
                                     * fresh at this time */
    /* Sessions only. */
    struct auth_claims cl;
    time_t             csrf_at;
    char               csrf[128];
};

/* Fills e's row fields from the database, or CW_E_UNAUTH when the
 * credential is no longer valid; *stale: its last-use time is older than
 * CRED_SEEN_EVERY. */
typedef enum cw_err (*cred_load_fn)(struct http_req *req,
                                    struct cred_ent *e, time_t now,
                                    int *stale);

static _Thread_local struct cred_ent sess_cache[CRED_SLOTS];
static _Thread_local struct cred_ent key_cache[CRED_SLOTS];

static void
cred_row_clear(struct cred_ent *e)
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
cred_clear(struct cred_ent *e)
{
    cred_row_clear(e);
    if (e->token != NULL)
        OPENSSL_cleanse(e->token, e->toklen);
    free(e->token);
    memset(e, 0, sizeof(*e));
}

void
auth_thread_cleanup(void)
{
    for (size_t i = 0; i < CRED_SLOTS; i++) {
        cred_clear(&sess_cache[i]);
        cred_clear(&key_cache[i]);
    }
}

/* Slot choice only: the token is then compared in full. */
static size_t
cred_slot(const char *tok, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = len > 48 ? len - 48 : 0; i < len; i++)
        h = (h ^ (unsigned char)tok[i]) * 1099511628211ULL;
    return (size_t)(h % CRED_SLOTS);
}

/* The slot of cache for tok; *hit: it holds tok (compared in constant
 * time). */
static struct cred_ent *
cred_find(struct cred_ent *cache, const char *tok, size_t len, int *hit)
{
    struct cred_ent *e = &cache[cred_slot(tok, len)];

    *hit = e->token != NULL && e->toklen == len &&
           CRYPTO_memcmp(e->token, tok, len) == 0;
    return e;
}

/* Empty e and make it the entry of tok. */
static void
cred_claim(struct cred_ent *e, const char *tok, size_t len)
{
    cred_clear(e);
    e->token = cw_xmalloc(len + 1);
    memcpy(e->token, tok, len + 1);
    e->toklen = len;
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

/* The account (AUTH_USER_COLS of row 0) and its permissions into e. */
static void
cred_fill(struct cred_ent *e, const struct store_rows *rows,
          const char *const *perms)
{
    e->user_id = store_cell_u64(rows, 0, 0);
    e->username = cw_xstrdup(store_cell_str(rows, 0, 1));
    e->role = cw_xstrdup(store_cell_str(rows, 0, 3));
    e->must_change_password = store_cell_u64(rows, 0, 5) == 1;
    e->tfa_enrolled = store_cell_u64(rows, 0, 6) > 0;
    e->perms = perms_dup(perms);
    e->user_json = user_members(rows, e->perms);
}

/* Make e's row current for this request: read the epoch (after this
 * request arrived, so every change committed before it is counted) and
 * reload the row when the epoch moved or its expiry passed; note the use
 * at most once per CRED_SEEN_EVERY. On failure e holds no row. */
static enum cw_err
cred_current(struct http_req *req, struct cred_ent *e, time_t now,
             cred_load_fn load, const char *sql_seen)
{
    struct store_param p[1];
    enum cw_err        err;
    uint64_t           gen = 0;
    int                stale = 0;

    err = auth_epoch_get(req->db, req->arena, &gen);
    if (err != CW_OK)
        return err;
    /* Other copies kept under the epoch (the issuing CAs, ca.c) find it
     * by the request id. */
    auth_epoch_note(req->request_id, gen);
    if (!e->row_ok || e->gen != gen || e->row_exp <= (int64_t)now) {
        cred_row_clear(e);
        err = load(req, e, now, &stale);
        if (err != CW_OK) {
            cred_row_clear(e);
            return err;
        }
        e->gen = gen;
        e->row_ok = 1;
        e->seen_at = now;
    } else if (now - e->seen_at >= CRED_SEEN_EVERY || now < e->seen_at) {
        stale = 1;
        e->seen_at = now;
    }
    if (stale) {
        p[0] = SP_U64(e->cred_id);
        store_exec(req->db, sql_seen, p, 1, NULL, NULL);
    }
    return CW_OK;
}

/* The identity of a current entry, for this request. */
static struct http_identity *
cred_who(struct http_req *req, const struct cred_ent *e)
{
    struct http_identity *who = arena_zalloc(req->arena, sizeof(*who));

    who->user_id = e->user_id;
    who->username = arena_strdup(req->arena, e->username);
    who->role = arena_strdup(req->arena, e->role);
    who->user_json = e->user_json;   /* this thread's: valid for the request */
    who->perms = e->perms;
    who->must_change_password = e->must_change_password;
    who->needs_2fa = !e->tfa_enrolled &&
                     auth_settings_requires_2fa(
                         auth_settings_get(req->db, req->cfg), who->role);
    return who;
}

/* cred_load_fn of API keys; e->token is the key's hash. */
static enum cw_err
key_load(struct http_req *req, struct cred_ent *e, time_t now, int *stale)
{
    struct store_rows  rows;
    struct store_param p[1];
    const char       **role_perms;
    const char       **perms;
    json_t            *scopes;
    size_t             n = 0;
    enum cw_err        err;

    p[0] = SP_STR(e->token);
    err = store_query(req->db, req->arena, sql_apikey, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1 || store_cell_u64(&rows, 0, 4) != 1)
        return CW_E_UNAUTH;
    role_perms = auth_role_perms(req->arena, store_cell_str(&rows, 0, 3),
                                 store_cell_str(&rows, 0, 9));
    /* A key holds the intersection of its scopes and its owner's current
     * permissions: demoting the owner shrinks the key at once. */
    scopes = json_loads(store_cell_str(&rows, 0, 12), 0, NULL);
    perms = arena_alloc(req->arena,
                        (json_array_size(scopes) + 1) * sizeof(*perms));
    for (size_t i = 0; i < json_array_size(scopes); i++) {
        const char *s = json_string_value(json_array_get(scopes, i));

        if (s != NULL && auth_perms_has(role_perms, s))
            perms[n++] = arena_strdup(req->arena, s);
    }
    perms[n] = NULL;
    json_decref(scopes);
    cred_fill(e, &rows, perms);
    e->cred_id = store_cell_u64(&rows, 0, 8);
    /* Whole seconds left, rounded down: the copy is given up no later
     * than the key expires. */
    e->row_exp = store_cell_isnull(&rows, 0, 11)
                     ? INT64_MAX
                     : (int64_t)now + store_cell_i64(&rows, 0, 11);
    *stale = store_cell_u64(&rows, 0, 10) == 1;
    return CW_OK;
}

static enum cw_err
auth_apikey(struct http_req *req, const char *token)
{
    struct http_identity *who;
    struct cred_ent      *e;
    char                  hash[65];
    enum cw_err           err;
    int                   hit;
    time_t                now = time(NULL);

    if (!auth_apikey_token_valid(token))
        return http_fail(req, CW_E_UNAUTH, NULL, "invalid API key");
    auth_apikey_hash(token, hash);
    e = cred_find(key_cache, hash, 64, &hit);
    if (!hit)
        cred_claim(e, hash, 64);
    err = cred_current(req, e, now, key_load, sql_apikey_used);
    if (err == CW_E_UNAUTH) {
        cred_clear(e);
        return http_fail(req, CW_E_UNAUTH, NULL,
                         "invalid, expired or revoked API key");
    }
    if (err != CW_OK)
        return err;
    who = cred_who(req, e);
    who->api_key_id = e->cred_id;
    req->who = who;
    return auth_obligations(req);
}

/* cred_load_fn of sessions: the row of the session named by e->cl. */
static enum cw_err
sess_load(struct http_req *req, struct cred_ent *e, time_t now, int *stale)
{
    struct store_rows  rows;
    struct store_param p[1];
    enum cw_err        err;

    (void)now;
    p[0] = SP_STR(e->cl.sid);
    err = store_query(req->db, req->arena, sql_session, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1 || store_cell_u64(&rows, 0, 0) != e->cl.user_id ||
        store_cell_u64(&rows, 0, 4) != 1)
        return CW_E_UNAUTH;
    cred_fill(e, &rows,
              auth_role_perms(req->arena, store_cell_str(&rows, 0, 3),
                              store_cell_str(&rows, 0, 9)));
    e->cred_id = store_cell_u64(&rows, 0, 8);
    e->row_exp = store_cell_i64(&rows, 0, 11);
    *stale = store_cell_u64(&rows, 0, 10) == 1;
    return CW_OK;
}

static enum cw_err
auth_cookie(struct http_req *req, const char *cookie_hdr)
{
    char                  token[AUTH_TOKEN_MAX + 1];
    struct auth_claims    cl;
    struct http_identity *who;
    struct cred_ent      *e;
    enum cw_err           err;
    int                   hit;
    size_t                len;
    time_t                now = time(NULL);

    if (auth_cookie_get(cookie_hdr, AUTH_COOKIE_NAME, token,
                        sizeof(token)) != 0)
        return http_fail(req, CW_E_UNAUTH, NULL, "authentication required");
    len = strlen(token);
    e = cred_find(sess_cache, token, len, &hit);
    if (hit) {
        /* Verified before: only the clock can have changed the answer
         * (the same exp and iat checks as auth_jwt_check). */
        if (e->cl.exp <= now || e->cl.iat > now + 60) {
            cred_clear(e);
            return http_fail(req, CW_E_UNAUTH, NULL,
                             "session token invalid or expired");
        }
    } else {
        if (auth_jwt_check(req->cfg, token, now, &cl) != CW_OK)
            return http_fail(req, CW_E_UNAUTH, NULL,
                             "session token invalid or expired");
        cred_claim(e, token, len);
        e->cl = cl;
    }
    OPENSSL_cleanse(token, len);
    err = cred_current(req, e, now, sess_load, sql_session_seen);
    if (err == CW_E_UNAUTH)
        return http_fail(req, CW_E_UNAUTH, NULL,
                         "session ended; log in again");
    if (err != CW_OK)
        return err;
    /* State changes need the CSRF header (RFC 6265 cookies are sent by
     * the browser on cross-site requests; the header is not). */
    if (req->method != HTTP_M_GET && req->method != HTTP_M_HEAD &&
        req->method != HTTP_M_OPTIONS &&
        auth_csrf_check(req->cfg, e->cl.sid,
                        http_req_header(req, "HTTP_X_CSRF_TOKEN"),
                        now) != CW_OK)
        return http_fail(req, CW_E_CSRF, NULL,
                         "missing or invalid X-CSRF-Token header");
    who = cred_who(req, e);
    who->session_id = e->cred_id;
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

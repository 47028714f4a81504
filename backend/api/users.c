/*
 * users.c: /api/v2/users (administration of accounts) and the password
 * policy endpoints. Invariant: at least one active admin always exists;
 * every change that could break it locks the admin role row first, which
 * serializes such changes on one server and makes them conflict (and
 * retry) across Galera nodes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "auth/auth.h"
#include "auth/password.h"
#include "auth/rbac.h"
#include "auth/users.h"
#include "cw_limits.h"
#include "util/jsonx.h"

static const char sql_count[] =
    "SELECT COUNT(*) FROM users u JOIN roles r ON r.id = u.role_id "
    "WHERE (? = '' OR u.username LIKE CONCAT('%', ?, '%') "
    "OR u.email LIKE CONCAT('%', ?, '%')) AND (? = '' OR r.name = ?)";
static const char sql_list[] =
    "SELECT " AUTH_USER_COLS " FROM users u JOIN roles r ON r.id = u.role_id "
    "WHERE (? = '' OR u.username LIKE CONCAT('%', ?, '%') "
    "OR u.email LIKE CONCAT('%', ?, '%')) AND (? = '' OR r.name = ?) "
    "ORDER BY u.id LIMIT ? OFFSET ?";
static const char sql_get[] =
    "SELECT " AUTH_USER_COLS " FROM users u JOIN roles r ON r.id = u.role_id "
    "WHERE u.id = ?";
static const char sql_admin_lock[] =
    "UPDATE roles SET updated_at = NOW(6) WHERE name = 'admin'";
static const char sql_admins_left[] =
    "SELECT COUNT(*) FROM users u JOIN roles r ON r.id = u.role_id "
    "WHERE r.name = 'admin' AND u.active = 1 AND u.id <> ? FOR UPDATE";
static const char sql_user_role[] =
    "SELECT r.name, u.active FROM users u JOIN roles r ON r.id = u.role_id "
    "WHERE u.id = ? FOR UPDATE";
static const char sql_role_id[] = "SELECT id FROM roles WHERE name = ?";
static const char sql_set_role[] =
    "UPDATE users SET role_id = ?, updated_at = NOW(6) WHERE id = ?";
static const char sql_set_email[] =
    "UPDATE users SET email = ?, updated_at = NOW(6) WHERE id = ?";
static const char sql_set_active[] =
    "UPDATE users SET active = ?, updated_at = NOW(6) WHERE id = ?";
static const char sql_end_sessions[] =
    "UPDATE sessions SET revoked_at = NOW(6) WHERE user_id = ? "
    "AND revoked_at IS NULL";
static const char sql_delete[] = "DELETE FROM users WHERE id = ?";
static const char sql_end_keys[] =
    "UPDATE api_keys SET revoked_at = NOW(6) WHERE user_id = ? "
    "AND revoked_at IS NULL";
static const char sql_role_perms[] =
    "SELECT name, permissions FROM roles WHERE name = ?";
static const char sql_reset_2fa[] = "DELETE FROM user_totp WHERE user_id = ?";
static const char sql_reset_codes[] =
    "DELETE FROM user_backup_codes WHERE user_id = ?";
static const char sql_set_pw[] =
    "UPDATE users SET password_hash = ?, must_change_password = 1, "
    "password_changed_at = NOW(6), updated_at = NOW(6) WHERE id = ?";

/* Nobody grants more than they hold: a role may be given only by a caller
 * who has every permission in it. CW_E_NOTFOUND for an unknown role. */
static enum cw_err
role_grantable(struct http_req *req, struct store *db, const char *role)
{
    struct store_rows  rows;
    struct store_param p[1];
    const char       **perms;
    enum cw_err        err;

    p[0] = SP_STR(role);
    err = store_query(db, req->arena, sql_role_perms, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;
    perms = auth_role_perms(req->arena, store_cell_str(&rows, 0, 0),
                            store_cell_str(&rows, 0, 1));
    for (size_t i = 0; perms[i] != NULL; i++)
        if (!auth_has_perm(req->who, perms[i]))
            return CW_E_FORBIDDEN;
    return CW_OK;
}

static enum cw_err
users_list(struct http_req *req, struct http_resp *resp)
{
    struct store_rows  rows;
    struct store_param p[7];
    uint64_t           page;
    uint64_t           per;
    uint64_t           total;
    const char        *q = http_req_query(req, "q");
    const char        *role = http_req_query(req, "role");
    json_t            *arr;
    enum cw_err        err;

    err = api_paging(req, &page, &per);
    if (err != CW_OK)
        return err;
    q = q ? q : "";
    role = role ? role : "";
    if (strlen(q) > 128 || strlen(role) > 64)
        return http_fail(req, CW_E_BADREQ, "q", "search text too long");
    p[0] = SP_STR(q);
    p[1] = SP_STR(q);
    p[2] = SP_STR(q);
    p[3] = SP_STR(role);
    p[4] = SP_STR(role);
    err = store_query(req->db, req->arena, sql_count, p, 5, &rows);
    if (err != CW_OK)
        return err;
    total = store_cell_u64(&rows, 0, 0);
    p[5] = SP_U64(per);
    p[6] = SP_U64((page - 1) * per);
    err = store_query(req->db, req->arena, sql_list, p, 7, &rows);
    if (err != CW_OK)
        return err;
    arr = json_array();
    for (size_t r = 0; r < rows.nrows; r++)
        json_array_append_new(arr, auth_user_json(&rows, r, 0));
    return http_resp_data(resp, 200, arr, api_meta(total, page, per));
}

static enum cw_err
user_get(struct http_req *req, struct http_resp *resp)
{
    struct store_rows  rows;
    struct store_param p[1];
    uint64_t           id;
    enum cw_err        err;

    err = http_req_path_u64(req, "id", &id);
    if (err != CW_OK)
        return err;
    p[0] = SP_U64(id);
    err = store_query(req->db, req->arena, sql_get, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return http_fail(req, CW_E_NOTFOUND, NULL, "no such user");
    return http_resp_data(resp, 200, auth_user_json(&rows, 0, 0), NULL);
}

static enum cw_err
respond_user(struct http_req *req, struct http_resp *resp, int status,
             uint64_t id)
{
    struct store_rows  rows;
    struct store_param p[1];
    enum cw_err        err;

    p[0] = SP_U64(id);
    err = store_query(req->db, req->arena, sql_get, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return http_fail(req, CW_E_NOTFOUND, NULL, "no such user");
    return http_resp_data(resp, status, auth_user_json(&rows, 0, 0), NULL);
}

static int
email_valid(const char *e)
{
    const char *at = strchr(e, '@');

    return strlen(e) <= LIM_EMAIL && at != NULL && at != e &&
           strchr(at + 1, '@') == NULL && strchr(at + 1, '.') != NULL &&
           strpbrk(e, " <>()[],;:\\\"") == NULL;
}

static enum cw_err
user_create(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "username", JSONX_STRING, 1, LIM_USERNAME, 0, 0 },
        { "password", JSONX_STRING, 1, LIM_PASSWORD * 4, 0, 0 },
        { "email", JSONX_STRING, 0, LIM_EMAIL, 0, 0 },
        { "role", JSONX_STRING, 1, 64, 0, 0 },
        { "must_change_password", JSONX_BOOL, 0, 0, 0, 0 },
    };
    struct auth_user_new u;
    json_t              *body;
    char                 why[200];
    uint64_t             id = 0;
    enum cw_err          err;

    err = http_req_json(req, fields, 5, &body);
    if (err != CW_OK)
        return err;
    memset(&u, 0, sizeof(u));
    u.username = jsonx_str(body, "username");
    u.password = jsonx_str(body, "password");
    u.email = jsonx_str(body, "email");
    u.role = jsonx_str(body, "role");
    u.must_change = json_is_true(json_object_get(body,
                                                 "must_change_password"));
    if (u.email != NULL && !email_valid(u.email))
        return http_fail(req, CW_E_BADREQ, "email", "email is not valid");
    err = role_grantable(req, req->db, u.role);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, CW_E_BADREQ, "role", "no role named %s",
                         u.role);
    if (err == CW_E_FORBIDDEN)
        return http_fail(req, err, "role",
                         "you cannot grant a role with permissions you do "
                         "not hold");
    if (err != CW_OK)
        return err;
    u.actor_id = req->who->user_id;
    u.actor_name = req->who->username;
    u.client_addr = req->client_addr;
    u.request_id = req->request_id;
    err = auth_user_create(req->db, req->cfg, &u, &id, why, sizeof(why));
    if (err == CW_E_PASSWORD)
        return http_fail(req, err, "password", "password %s", why);
    if (err == CW_E_BADREQ)
        return http_fail(req, err,
                         strstr(why, "role") ? "role" : "username", "%s",
                         why);
    if (err == CW_E_CONFLICT)
        return http_fail(req, err, "username", "%s", why);
    if (err != CW_OK)
        return err;
    return respond_user(req, resp, 201, id);
}

struct patch_tx {
    struct http_req *req;
    uint64_t         id;
    json_t          *body;
    int              deleting;
    const char      *fail_field;
    const char      *fail_msg;
};

/* Would this change leave no active admin? Locks first (see top). */
static enum cw_err
last_admin_guard(struct store *db, struct patch_tx *pt, int removes_admin)
{
    struct store_rows  rows;
    struct store_param p[1];
    enum cw_err        err;

    if (!removes_admin)
        return CW_OK;
    err = store_exec(db, sql_admin_lock, NULL, 0, NULL, NULL);
    if (err != CW_OK)
        return err;
    p[0] = SP_U64(pt->id);
    err = store_query(db, pt->req->arena, sql_admins_left, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (store_cell_u64(&rows, 0, 0) == 0) {
        pt->fail_msg = "this would leave no active admin";
        return CW_E_CONFLICT;
    }
    return CW_OK;
}

static enum cw_err
patch_body(struct store *db, void *arg)
{
    struct patch_tx   *pt = arg;
    struct store_rows  rows;
    struct store_param p[2];
    json_t            *v;
    const char        *cur_role;
    int                is_admin;
    int                active;
    enum cw_err        err;
    json_t            *changes = json_object();

    p[0] = SP_U64(pt->id);
    err = store_query(db, pt->req->arena, sql_user_role, p, 1, &rows);
    if (err != CW_OK)
        goto out;
    if (rows.nrows != 1) {
        err = CW_E_NOTFOUND;
        goto out;
    }
    cur_role = store_cell_str(&rows, 0, 0);
    active = store_cell_u64(&rows, 0, 1) == 1;
    is_admin = strcmp(cur_role, "admin") == 0 && active;
    if (pt->deleting) {
        err = last_admin_guard(db, pt, is_admin);
        if (err != CW_OK)
            goto out;
        p[0] = SP_U64(pt->id);
        err = store_exec(db, sql_delete, p, 1, NULL, NULL);
        if (err != CW_OK)
            goto out;
        err = api_audit(pt->req, db, "user.delete", "user",
                        arena_printf(pt->req->arena, "%llu",
                                     (unsigned long long)pt->id),
                        NULL);
        goto out;
    }
    v = json_object_get(pt->body, "role");
    if (json_is_string(v) && strcmp(json_string_value(v), cur_role) != 0) {
        err = role_grantable(pt->req, db, json_string_value(v));
        if (err == CW_E_NOTFOUND || err == CW_E_FORBIDDEN) {
            pt->fail_field = "role";
            pt->fail_msg = err == CW_E_NOTFOUND
                               ? "no such role"
                               : "you cannot grant a role with permissions "
                                 "you do not hold";
            if (err == CW_E_NOTFOUND)
                err = CW_E_BADREQ;
            goto out;
        }
        if (err != CW_OK)
            goto out;
        err = last_admin_guard(db, pt, is_admin);
        if (err != CW_OK)
            goto out;
        p[0] = SP_STR(json_string_value(v));
        err = store_query(db, pt->req->arena, sql_role_id, p, 1, &rows);
        if (err != CW_OK)
            goto out;
        if (rows.nrows != 1) {
            pt->fail_field = "role";
            pt->fail_msg = "no such role";
            err = CW_E_BADREQ;
            goto out;
        }
        p[0] = SP_U64(store_cell_u64(&rows, 0, 0));
        p[1] = SP_U64(pt->id);
        err = store_exec(db, sql_set_role, p, 2, NULL, NULL);
        if (err != CW_OK)
            goto out;
        json_object_set(changes, "role", v);
    }
    v = json_object_get(pt->body, "active");
    if (json_is_boolean(v) && json_is_true(v) != active) {
        if (!json_is_true(v)) {
            err = last_admin_guard(db, pt, is_admin);
            if (err != CW_OK)
                goto out;
        }
        p[0] = SP_U64(json_is_true(v) ? 1 : 0);
        p[1] = SP_U64(pt->id);
        err = store_exec(db, sql_set_active, p, 2, NULL, NULL);
        if (err == CW_OK && !json_is_true(v)) {
            /* A disabled account loses its sessions at once. */
            p[0] = SP_U64(pt->id);
            err = store_exec(db, sql_end_sessions, p, 1, NULL, NULL);
        }
        if (err != CW_OK)
            goto out;
        json_object_set(changes, "active", v);
    }
    v = json_object_get(pt->body, "email");
    if (v != NULL) {
        p[0] = json_is_string(v) ? SP_STR(json_string_value(v)) : SP_NULLV;
        p[1] = SP_U64(pt->id);
        err = store_exec(db, sql_set_email, p, 2, NULL, NULL);
        if (err != CW_OK)
            goto out;
        json_object_set(changes, "email", v);
    }
    err = api_audit(pt->req, db, "user.update", "user",
                    arena_printf(pt->req->arena, "%llu",
                                 (unsigned long long)pt->id),
                    json_incref(changes));
out:
    json_decref(changes);
    return err;
}

static enum cw_err
patch_result(struct http_req *req, struct patch_tx *pt, enum cw_err err)
{
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such user");
    if (pt->fail_msg != NULL)
        return http_fail(req, err, pt->fail_field, "%s", pt->fail_msg);
    return err;
}

static enum cw_err
user_patch(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "email", JSONX_STRING, 0, LIM_EMAIL, 0, 0 },
        { "role", JSONX_STRING, 0, 64, 0, 0 },
        { "active", JSONX_BOOL, 0, 0, 0, 0 },
    };
    struct patch_tx pt;
    json_t         *body;
    const char     *email;
    enum cw_err     err;

    memset(&pt, 0, sizeof(pt));
    err = http_req_path_u64(req, "id", &pt.id);
    if (err != CW_OK)
        return err;
    err = http_req_json(req, fields, 3, &body);
    if (err != CW_OK)
        return err;
    email = jsonx_str(body, "email");
    if (email != NULL && !email_valid(email))
        return http_fail(req, CW_E_BADREQ, "email", "email is not valid");
    pt.req = req;
    pt.body = body;
    err = store_tx(req->db, patch_body, &pt);
    if (err != CW_OK)
        return patch_result(req, &pt, err);
    return respond_user(req, resp, 200, pt.id);
}

static enum cw_err
user_delete(struct http_req *req, struct http_resp *resp)
{
    struct patch_tx pt;
    enum cw_err     err;

    memset(&pt, 0, sizeof(pt));
    err = http_req_path_u64(req, "id", &pt.id);
    if (err != CW_OK)
        return err;
    if (pt.id == req->who->user_id)
        return http_fail(req, CW_E_CONFLICT, NULL,
                         "you cannot delete your own account");
    pt.req = req;
    pt.deleting = 1;
    err = store_tx(req->db, patch_body, &pt);
    if (err != CW_OK)
        return patch_result(req, &pt, err);
    resp->status = 204;
    return CW_OK;
}

struct simple_tx {
    struct http_req *req;
    uint64_t         id;
    const char      *hash;
};

static enum cw_err
reset_2fa_body(struct store *db, void *arg)
{
    struct simple_tx  *st = arg;
    struct store_param p[1];
    struct store_rows  rows;
    enum cw_err        err;

    p[0] = SP_U64(st->id);
    err = store_query(db, st->req->arena, sql_user_role, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;
    err = store_exec(db, sql_reset_2fa, p, 1, NULL, NULL);
    if (err == CW_OK)
        err = store_exec(db, sql_reset_codes, p, 1, NULL, NULL);
    if (err != CW_OK)
        return err;
    return api_audit(st->req, db, "user.2fa_reset", "user",
                     arena_printf(st->req->arena, "%llu",
                                  (unsigned long long)st->id),
                     NULL);
}

static enum cw_err
user_reset_2fa(struct http_req *req, struct http_resp *resp)
{
    struct simple_tx st = { req, 0, NULL };
    enum cw_err      err;

    err = http_req_path_u64(req, "id", &st.id);
    if (err != CW_OK)
        return err;
    err = store_tx(req->db, reset_2fa_body, &st);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such user");
    if (err != CW_OK)
        return err;
    resp->status = 204;
    return CW_OK;
}

static enum cw_err
reset_pw_body(struct store *db, void *arg)
{
    struct simple_tx  *st = arg;
    struct store_param p[2];
    uint64_t           n = 0;
    enum cw_err        err;

    p[0] = SP_STR(st->hash);
    p[1] = SP_U64(st->id);
    err = store_exec(db, sql_set_pw, p, 2, &n, NULL);
    if (err != CW_OK)
        return err;
    if (n == 0)
        return CW_E_NOTFOUND;
    /* A reset password means the old one is not trusted: its sessions and
     * API keys end too. */
    p[0] = SP_U64(st->id);
    err = store_exec(db, sql_end_sessions, p, 1, NULL, NULL);
    if (err == CW_OK)
        err = store_exec(db, sql_end_keys, p, 1, NULL, NULL);
    if (err != CW_OK)
        return err;
    return api_audit(st->req, db, "user.password_reset", "user",
                     arena_printf(st->req->arena, "%llu",
                                  (unsigned long long)st->id),
                     NULL);
}

static enum cw_err
user_reset_password(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "password", JSONX_STRING, 1, LIM_PASSWORD * 4, 0, 0 },
    };
    struct simple_tx st = { req, 0, NULL };
    char             hash[AUTH_HASH_MAX];
    char             why[160];
    json_t          *body;
    const char      *pw;
    enum cw_err      err;

    err = http_req_path_u64(req, "id", &st.id);
    if (err != CW_OK)
        return err;
    err = http_req_json(req, fields, 1, &body);
    if (err != CW_OK)
        return err;
    pw = jsonx_str(body, "password");
    err = auth_password_policy(pw, strlen(pw), why, sizeof(why));
    if (err != CW_OK)
        return http_fail(req, err, "password", "password %s", why);
    err = auth_password_hash(req->cfg, pw, strlen(pw), hash);
    if (err != CW_OK)
        return err;
    st.hash = hash;
    err = store_tx(req->db, reset_pw_body, &st);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such user");
    if (err != CW_OK)
        return err;
    resp->status = 204;
    return CW_OK;
}

static enum cw_err
password_policy(struct http_req *req, struct http_resp *resp)
{
    (void)req;
    return http_resp_data(
        resp, 200,
        json_pack("{s:i, s:i, s:b, s:b, s:b, s:b, s:i, s:b}", "min_length",
                  AUTH_PW_MIN, "max_length", LIM_PASSWORD, "require_upper",
                  1, "require_lower", 1, "require_digit", 1,
                  "require_special", 1, "max_run", 3, "blocklist", 1),
        NULL);
}

static enum cw_err
password_strength(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "password", JSONX_STRING, 1, LIM_PASSWORD * 4, 0, 0 },
    };
    json_t     *body;
    const char *pw;
    char        why[160];
    enum cw_err err;
    int         ok;

    err = http_req_json(req, fields, 1, &body);
    if (err != CW_OK)
        return err;
    pw = jsonx_str(body, "password");
    ok = auth_password_policy(pw, strlen(pw), why, sizeof(why)) == CW_OK;
    return http_resp_data(
        resp, 200,
        json_pack("{s:i, s:b, s:s?}", "score",
                  auth_password_score(pw, strlen(pw)), "meets_policy", ok,
                  "reason", ok ? NULL : why),
        NULL);
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/api/v2/users",
      .handler = users_list, .auth = AUTH_USER, .perm = "read:users" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/users",
      .handler = user_create, .auth = AUTH_USER, .perm = "write:users",
      .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/users/password-policy",
      .handler = password_policy, .auth = AUTH_USER,
      .perm = "read:account" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/users/password-strength",
      .handler = password_strength, .auth = AUTH_USER,
      .perm = "read:account", .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/users/{id}",
      .handler = user_get, .auth = AUTH_USER, .perm = "read:users" },
    { .methods = HTTP_M_PATCH, .pattern = "/api/v2/users/{id}",
      .handler = user_patch, .auth = AUTH_USER, .perm = "write:users",
      .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_DELETE, .pattern = "/api/v2/users/{id}",
      .handler = user_delete, .auth = AUTH_USER, .perm = "write:users" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/users/{id}/reset-2fa",
      .handler = user_reset_2fa, .auth = AUTH_USER, .perm = "write:users" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/users/{id}/password",
      .handler = user_reset_password, .auth = AUTH_USER,
      .perm = "write:users", .body_max = LIM_BODY_JSON_SMALL },
};

const struct http_route_table api_users_table = HTTP_TABLE("users", routes);

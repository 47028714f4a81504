/*
 * roles.c: /api/v2/roles. Built-in roles are listed but immutable; custom
 * roles carry permissions from the fixed whitelist only, and names that
 * could be mistaken for a built-in or a system actor are reserved.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/auth.h"
#include "auth/rbac.h"
#include "util/jsonx.h"

static const char sql_list[] =
    "SELECT r.id, r.name, r.description, r.builtin, r.permissions, "
    "(SELECT COUNT(*) FROM users u WHERE u.role_id = r.id) "
    "FROM roles r ORDER BY r.builtin DESC, r.name";
static const char sql_get[] =
    "SELECT r.id, r.name, r.description, r.builtin, r.permissions, "
    "(SELECT COUNT(*) FROM users u WHERE u.role_id = r.id) "
    "FROM roles r WHERE r.id = ?";
static const char sql_insert[] =
    "INSERT INTO roles (name, description, builtin, permissions) "
    "VALUES (?, ?, 0, ?)";
static const char sql_lock[] =
    "SELECT builtin, (SELECT COUNT(*) FROM users u WHERE u.role_id = r.id) "
    "FROM roles r WHERE r.id = ? FOR UPDATE";
static const char sql_update[] =
    "UPDATE roles SET description = COALESCE(?, description), "
    "permissions = COALESCE(?, permissions), updated_at = NOW(6) "
    "WHERE id = ?";
static const char sql_delete[] = "DELETE FROM roles WHERE id = ?";

static json_t *
role_json(struct http_req *req, const struct store_rows *rows, size_t r)
{
    const char **perms = auth_role_perms(req->arena,
                                         store_cell_str(rows, r, 1),
                                         store_cell_str(rows, r, 4));
    json_t      *arr = json_array();

    for (size_t i = 0; perms[i] != NULL; i++)
        json_array_append_new(arr, json_string(perms[i]));
    return json_pack("{s:I, s:s, s:s, s:b, s:o, s:I}", "id",
                     (json_int_t)store_cell_u64(rows, r, 0), "name",
                     store_cell_str(rows, r, 1), "description",
                     store_cell_str(rows, r, 2), "builtin",
                     store_cell_u64(rows, r, 3) == 1, "permissions", arr,
                     "users", (json_int_t)store_cell_u64(rows, r, 5));
}

static enum cw_err
roles_list(struct http_req *req, struct http_resp *resp)
{
    struct store_rows rows;
    json_t           *arr;
    enum cw_err       err;

    err = store_query(req->db, req->arena, sql_list, NULL, 0, &rows);
    if (err != CW_OK)
        return err;
    arr = json_array();
    for (size_t r = 0; r < rows.nrows; r++)
        json_array_append_new(arr, role_json(req, &rows, r));
    return http_resp_data(resp, 200, arr,
                          api_meta(rows.nrows, 1, rows.nrows));
}

static enum cw_err
role_respond(struct http_req *req, struct http_resp *resp, int status,
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
        return http_fail(req, CW_E_NOTFOUND, NULL, "no such role");
    return http_resp_data(resp, status, role_json(req, &rows, 0), NULL);
}

static enum cw_err
role_get(struct http_req *req, struct http_resp *resp)
{
    uint64_t    id;
    enum cw_err err = http_req_path_u64(req, "id", &id);

    if (err != CW_OK)
        return err;
    return role_respond(req, resp, 200, id);
}

static enum cw_err
perms_list(struct http_req *req, struct http_resp *resp)
{
    json_t *arr = json_array();

    (void)req;
    for (size_t i = 0; auth_perms_all[i] != NULL; i++)
        json_array_append_new(arr, json_string(auth_perms_all[i]));
    return http_resp_data(resp, 200, arr, NULL);
}

/* Validate a permissions array into canonical JSON text (arena). */
static enum cw_err
perms_text(struct http_req *req, json_t *arr, char **out)
{
    json_t *canon = json_array();
    char   *txt;

    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *p = json_string_value(json_array_get(arr, i));
        int         dup = 0;

        if (p == NULL || !auth_perm_valid(p)) {
            json_decref(canon);
            return http_fail(req, CW_E_BADREQ, "permissions",
                             "permissions[%zu] is not a known permission "
                             "(see GET /api/v2/roles/permissions)", i);
        }
        /* Nobody hands out what they do not hold. */
        if (!auth_has_perm(req->who, p)) {
            json_decref(canon);
            return http_fail(req, CW_E_FORBIDDEN, "permissions",
                             "you do not hold %s yourself", p);
        }
        for (size_t j = 0; j < json_array_size(canon); j++)
            if (strcmp(json_string_value(json_array_get(canon, j)), p) == 0)
                dup = 1;
        if (!dup)
            json_array_append_new(canon, json_string(p));
    }
    txt = jsonx_dumps(canon);
    json_decref(canon);
    *out = arena_strdup(req->arena, txt);
    free(txt);
    return CW_OK;
}

static int
role_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64 || !isalpha((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return 0;
    return 1;
}

struct role_tx {
    struct http_req *req;
    uint64_t         id;
    const char      *name;
    const char      *desc;
    const char      *perms;
    int              deleting;
    const char      *why;
};

static enum cw_err
create_body(struct store *db, void *arg)
{
    struct role_tx    *rt = arg;
    struct store_param p[3];
    enum cw_err        err;

    p[0] = SP_STR(rt->name);
    p[1] = SP_STR(rt->desc ? rt->desc : "");
    p[2] = SP_STR(rt->perms);
    err = store_exec(db, sql_insert, p, 3, NULL, &rt->id);
    if (err != CW_OK)
        return err;
    return api_audit(rt->req, db, "role.create", "role",
                     arena_printf(rt->req->arena, "%llu",
                                  (unsigned long long)rt->id),
                     json_pack("{s:s, s:o}", "name", rt->name, "permissions",
                               json_loads(rt->perms, 0, NULL)));
}

static enum cw_err
role_create(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "name", JSONX_STRING, 1, 64, 0, 0 },
        { "description", JSONX_STRING, 0, 255, 0, 0 },
        { "permissions", JSONX_ARRAY, 1, 64, 0, 0 },
    };
    struct role_tx rt;
    json_t        *body;
    char          *perms;
    enum cw_err    err;

    err = http_req_json(req, fields, 3, &body);
    if (err != CW_OK)
        return err;
    memset(&rt, 0, sizeof(rt));
    rt.req = req;
    rt.name = jsonx_str(body, "name");
    rt.desc = jsonx_str(body, "description");
    if (!role_name_valid(rt.name))
        return http_fail(req, CW_E_BADREQ, "name",
                         "name must be 1-64 letters, digits, - or _, "
                         "starting with a letter");
    if (auth_role_reserved(rt.name))
        return http_fail(req, CW_E_CONFLICT, "name",
                         "%s is a reserved role name", rt.name);
    err = perms_text(req, json_object_get(body, "permissions"), &perms);
    if (err != CW_OK)
        return err;
    rt.perms = perms;
    err = store_tx(req->db, create_body, &rt);
    if (err == CW_E_CONFLICT)
        return http_fail(req, err, "name", "a role with this name exists");
    if (err != CW_OK)
        return err;
    return role_respond(req, resp, 201, rt.id);
}

static enum cw_err
change_body(struct store *db, void *arg)
{
    struct role_tx    *rt = arg;
    struct store_rows  rows;
    struct store_param p[3];
    enum cw_err        err;

    p[0] = SP_U64(rt->id);
    err = store_query(db, rt->req->arena, sql_lock, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;
    if (store_cell_u64(&rows, 0, 0) == 1) {
        rt->why = "built-in roles cannot be changed";
        return CW_E_CONFLICT;
    }
    if (rt->deleting) {
        if (store_cell_u64(&rows, 0, 1) > 0) {
            rt->why = "the role is still assigned to users";
            return CW_E_CONFLICT;
        }
        err = store_exec(db, sql_delete, p, 1, NULL, NULL);
        if (err != CW_OK)
            return err;
        return api_audit(rt->req, db, "role.delete", "role",
                         arena_printf(rt->req->arena, "%llu",
                                      (unsigned long long)rt->id),
                         NULL);
    }
    p[0] = rt->desc ? SP_STR(rt->desc) : SP_NULLV;
    p[1] = rt->perms ? SP_STR(rt->perms) : SP_NULLV;
    p[2] = SP_U64(rt->id);
    err = store_exec(db, sql_update, p, 3, NULL, NULL);
    if (err != CW_OK)
        return err;
    return api_audit(rt->req, db, "role.update", "role",
                     arena_printf(rt->req->arena, "%llu",
                                  (unsigned long long)rt->id),
                     json_pack("{s:o}", "permissions",
                               rt->perms ? json_loads(rt->perms, 0, NULL)
                                         : json_null()));
}

static enum cw_err
change_result(struct http_req *req, struct role_tx *rt, enum cw_err err)
{
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such role");
    if (rt->why != NULL)
        return http_fail(req, err, NULL, "%s", rt->why);
    return err;
}

static enum cw_err
role_update(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "description", JSONX_STRING, 0, 255, 0, 0 },
        { "permissions", JSONX_ARRAY, 0, 64, 0, 0 },
    };
    struct role_tx rt;
    json_t        *body;
    json_t        *arr;
    char          *perms = NULL;
    enum cw_err    err;

    memset(&rt, 0, sizeof(rt));
    err = http_req_path_u64(req, "id", &rt.id);
    if (err != CW_OK)
        return err;
    err = http_req_json(req, fields, 2, &body);
    if (err != CW_OK)
        return err;
    arr = json_object_get(body, "permissions");
    if (json_is_array(arr)) {
        err = perms_text(req, arr, &perms);
        if (err != CW_OK)
            return err;
    }
    rt.req = req;
    rt.desc = jsonx_str(body, "description");
    rt.perms = perms;
    err = store_tx(req->db, change_body, &rt);
    if (err != CW_OK)
        return change_result(req, &rt, err);
    return role_respond(req, resp, 200, rt.id);
}

static enum cw_err
role_delete(struct http_req *req, struct http_resp *resp)
{
    struct role_tx rt;
    enum cw_err    err;

    memset(&rt, 0, sizeof(rt));
    err = http_req_path_u64(req, "id", &rt.id);
    if (err != CW_OK)
        return err;
    rt.req = req;
    rt.deleting = 1;
    err = store_tx(req->db, change_body, &rt);
    if (err != CW_OK)
        return change_result(req, &rt, err);
    resp->status = 204;
    return CW_OK;
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/api/v2/roles",
      .handler = roles_list, .auth = AUTH_USER, .perm = "read:roles" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/roles",
      .handler = role_create, .auth = AUTH_USER, .perm = "write:roles",
      .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/roles/permissions",
      .handler = perms_list, .auth = AUTH_USER, .perm = "read:roles" },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/roles/{id}",
      .handler = role_get, .auth = AUTH_USER, .perm = "read:roles" },
    { .methods = HTTP_M_PUT, .pattern = "/api/v2/roles/{id}",
      .handler = role_update, .auth = AUTH_USER, .perm = "write:roles",
      .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_DELETE, .pattern = "/api/v2/roles/{id}",
      .handler = role_delete, .auth = AUTH_USER, .perm = "write:roles" },
};

const struct http_route_table api_roles_table = HTTP_TABLE("roles", routes);

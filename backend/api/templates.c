/*
 * templates.c (api): /api/v2/templates: the built-in templates (read
 * only) and custom ones (create, show, replace, delete).
 */
#include "config.h"

#include <string.h>

#include "api/api.h"
#include "auth/auth.h"
#include "ca/ca.h"
#include "cw_limits.h"
#include "util/jsonx.h"

static const struct jsonx_field tpl_fields[] = {
    { "name", JSONX_STRING, 1, 64, 0, 0 },
    { "description", JSONX_STRING, 0, 255, 0, 0 },
    { "key_usage", JSONX_ARRAY, 0, 9, 0, 0 },
    { "extended_key_usage", JSONX_ARRAY, 0, 16, 0, 0 },
    { "max_validity_days", JSONX_INT, 1, 0, 1, LEAF_MAX_DAYS },
    { "allowed_san_types", JSONX_ARRAY, 0, 5, 0, 0 },
    { "key_types", JSONX_ARRAY, 0, 7, 0, 0 },
    { "subject_fields", JSONX_ARRAY, 0, 8, 0, 0 },
};
#define NTPL (sizeof(tpl_fields) / sizeof(tpl_fields[0]))

static enum cw_err
templates_list(struct http_req *req, struct http_resp *resp)
{
    json_t     *arr = NULL;
    enum cw_err err = ca_templates_json(req->db, req->arena, &arr);

    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 200, arr,
                          api_meta(json_array_size(arr), 1,
                                   json_array_size(arr)));
}

static enum cw_err
respond(struct http_req *req, struct http_resp *resp, int status,
        uint64_t id)
{
    json_t     *out = NULL;
    enum cw_err err = ca_template_get_json(req->db, req->arena, id, &out);

    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such custom template");
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, status, out, NULL);
}

static enum cw_err
put(struct http_req *req, struct http_resp *resp, uint64_t id)
{
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body;
    uint64_t                 out_id = 0;
    enum cw_err              err;

    err = http_req_json(req, tpl_fields, NTPL, &body);
    if (err != CW_OK)
        return err;
    auth_audit_event(req, &ev);
    err = ca_template_put(req->db, req->arena, id, body, &ev, &out_id, &why);
    if (err == CW_E_NOTFOUND && why.msg[0] == '\0')
        return http_fail(req, err, NULL, "no such custom template");
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    return respond(req, resp, id ? 200 : 201, out_id);
}

static enum cw_err
templates_create(struct http_req *req, struct http_resp *resp)
{
    return put(req, resp, 0);
}

static enum cw_err
templates_update(struct http_req *req, struct http_resp *resp)
{
    uint64_t    id;
    enum cw_err err = http_req_path_u64(req, "id", &id);

    if (err != CW_OK)
        return err;
    return put(req, resp, id);
}

static enum cw_err
templates_get(struct http_req *req, struct http_resp *resp)
{
    uint64_t    id;
    enum cw_err err = http_req_path_u64(req, "id", &id);

    if (err != CW_OK)
        return err;
    return respond(req, resp, 200, id);
}

static enum cw_err
templates_delete(struct http_req *req, struct http_resp *resp)
{
    struct store_audit_event ev;
    uint64_t                 id;
    enum cw_err              err;

    err = http_req_path_u64(req, "id", &id);
    if (err != CW_OK)
        return err;
    auth_audit_event(req, &ev);
    err = ca_template_delete(req->db, id, &ev);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such custom template");
    if (err != CW_OK)
        return err;
    resp->status = 204;
    return CW_OK;
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/api/v2/templates",
      .handler = templates_list, .auth = AUTH_USER,
      .perm = "read:templates" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/templates",
      .handler = templates_create, .auth = AUTH_USER,
      .perm = "write:templates", .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/templates/{id}",
      .handler = templates_get, .auth = AUTH_USER,
      .perm = "read:templates" },
    { .methods = HTTP_M_PUT, .pattern = "/api/v2/templates/{id}",
      .handler = templates_update, .auth = AUTH_USER,
      .perm = "write:templates", .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_DELETE, .pattern = "/api/v2/templates/{id}",
      .handler = templates_delete, .auth = AUTH_USER,
      .perm = "write:templates" },
};

const struct http_route_table api_templates_table =
    HTTP_TABLE("templates", routes);

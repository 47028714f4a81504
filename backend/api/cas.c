/*
 * cas.c (api): /api/v2/cas: create roots and intermediates, list, show and
 * export CA certificates.
 */
#include "config.h"

#include <string.h>

#include "api/api.h"
#include "auth/auth.h"
#include "ca/ca.h"
#include "cw_limits.h"
#include "util/jsonx.h"
#include "util/sp.h"

static enum cw_err
cas_create(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "name", JSONX_STRING, 1, 128, 0, 0 },
        { "type", JSONX_STRING, 1, 16, 0, 0 },
        { "parent_id", JSONX_INT, 0, 0, 1, INT64_MAX },
        { "subject", JSONX_OBJECT, 1, 0, 0, 0 },
        { "key", JSONX_OBJECT, 1, 0, 0, 0 },
        { "validity_days", JSONX_INT, 1, 0, 1, CA_MAX_DAYS },
        { "path_length", JSONX_INT, 0, 0, 0, 32 },
        { "name_constraints", JSONX_OBJECT, 0, 0, 0, 0 },
    };
    struct store_audit_event ev;
    struct ca_new            in;
    struct ca_why            why = { "", "" };
    json_t                  *body;
    json_t                  *out = NULL;
    const char              *type;
    uint64_t                 id = 0;
    enum cw_err              err;

    err = http_req_json(req, fields, sizeof(fields) / sizeof(fields[0]),
                        &body);
    if (err != CW_OK)
        return err;
    memset(&in, 0, sizeof(in));
    in.name = jsonx_str(body, "name");
    if (in.name[0] == '\0')
        return http_fail(req, CW_E_BADREQ, "name", "name must not be empty");
    type = jsonx_str(body, "type");
    if (strcmp(type, "root") != 0 && strcmp(type, "intermediate") != 0)
        return http_fail(req, CW_E_BADREQ, "type",
                         "type must be root or intermediate");
    in.intermediate = strcmp(type, "intermediate") == 0;
    if (in.intermediate != (json_object_get(body, "parent_id") != NULL &&
                            !json_is_null(json_object_get(body,
                                                          "parent_id"))))
        return http_fail(req, CW_E_BADREQ, "parent_id",
                         in.intermediate
                             ? "an intermediate needs parent_id"
                             : "a root has no parent_id");
    in.parent_id = (uint64_t)json_integer_value(
        json_object_get(body, "parent_id"));
    in.subject = json_object_get(body, "subject");
    in.key = json_object_get(body, "key");
    in.validity_days = (unsigned)json_integer_value(
        json_object_get(body, "validity_days"));
    in.path_len = json_is_integer(json_object_get(body, "path_length"))
                      ? (int)json_integer_value(
                            json_object_get(body, "path_length"))
                      : -1;
    in.name_constraints = json_object_get(body, "name_constraints");
    auth_audit_event(req, &ev);
    err = ca_create(req->db, req->cfg, &in, &ev, &id, &why);
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    err = ca_get_json(req->db, req->cfg, req->arena, id, &out);
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 201, out, NULL);
}

static enum cw_err
cas_list(struct http_req *req, struct http_resp *resp)
{
    uint64_t    page;
    uint64_t    per;
    uint64_t    total = 0;
    json_t     *arr = NULL;
    enum cw_err err;

    struct ca_list_filter f;
    const char           *parent = http_req_query(req, "parent");
    const char           *sort = http_req_query(req, "sort");

    memset(&f, 0, sizeof(f));
    err = api_paging(req, &page, &per);
    if (err != CW_OK)
        return err;
    f.q = http_req_query(req, "q");
    f.status = http_req_query(req, "status");
    if (f.q != NULL && strlen(f.q) > 128)
        return http_fail(req, CW_E_BADREQ, "q", "q is too long");
    if (f.status != NULL && f.status[0] != '\0' &&
        strcmp(f.status, "active") != 0 && strcmp(f.status, "revoked") != 0 &&
        strcmp(f.status, "awaiting_certificate") != 0)
        return http_fail(req, CW_E_BADREQ, "status",
                         "status must be active, revoked or "
                         "awaiting_certificate");
    if (parent != NULL && parent[0] != '\0' &&
        (sp_u64(parent, strlen(parent), INT64_MAX, &f.parent_id) != CW_OK ||
         f.parent_id == 0))
        return http_fail(req, CW_E_BADREQ, "parent",
                         "parent must be a CA id");
    if (sort != NULL && strcmp(sort, "name") != 0 && strcmp(sort, "id") != 0)
        return http_fail(req, CW_E_BADREQ, "sort", "sort must be id or name");
    f.sort_name = sort != NULL && strcmp(sort, "name") == 0;
    err = ca_list_json(req->db, req->cfg, req->arena, &f, page, per, &arr,
                       &total);
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 200, arr, api_meta(total, page, per));
}

static enum cw_err
cas_get(struct http_req *req, struct http_resp *resp)
{
    uint64_t    id;
    json_t     *out = NULL;
    enum cw_err err;

    err = http_req_path_u64(req, "id", &id);
    if (err != CW_OK)
        return err;
    err = ca_get_json(req->db, req->cfg, req->arena, id, &out);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such CA");
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 200, out, NULL);
}

static enum cw_err
cas_export(struct http_req *req, struct http_resp *resp)
{
    const char *fmt = http_req_query(req, "format");
    const char *ctype = NULL;
    uint64_t    id;
    enum cw_err err;

    err = http_req_path_u64(req, "id", &id);
    if (err != CW_OK)
        return err;
    if (fmt == NULL)
        fmt = "pem";
    if (strcmp(fmt, "pem") != 0 && strcmp(fmt, "der") != 0 &&
        strcmp(fmt, "chain") != 0 && strcmp(fmt, "p7b") != 0)
        return http_fail(req, CW_E_BADREQ, "format",
                         "format must be pem, der, chain or p7b");
    err = ca_export(req->db, req->cfg, req->arena, id, fmt, &resp->body,
                    &ctype);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such CA");
    if (err != CW_OK)
        return err;
    resp->status = 200;
    resp->ctype = ctype;
    return CW_OK;
}

static enum cw_err
cas_create_csr(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "name", JSONX_STRING, 1, 128, 0, 0 },
        { "subject", JSONX_OBJECT, 1, 0, 0, 0 },
        { "key", JSONX_OBJECT, 1, 0, 0, 0 },
        { "path_length", JSONX_INT, 0, 0, 0, 32 },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    struct buf               pem;
    json_t                  *body;
    json_t                  *out = NULL;
    json_t                  *pl;
    uint64_t                 id = 0;
    enum cw_err              err;

    err = http_req_json(req, fields, 4, &body);
    if (err != CW_OK)
        return err;
    if (jsonx_str(body, "name")[0] == '\0')
        return http_fail(req, CW_E_BADREQ, "name", "name must not be empty");
    pl = json_object_get(body, "path_length");
    auth_audit_event(req, &ev);
    err = ca_create_external(req->db, req->cfg, jsonx_str(body, "name"),
                             json_object_get(body, "subject"),
                             json_object_get(body, "key"),
                             json_is_integer(pl) ? (int)json_integer_value(pl)
                                                 : -1,
                             &ev, &id, &why);
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    err = ca_get_json(req->db, req->cfg, req->arena, id, &out);
    if (err != CW_OK)
        return err;
    buf_init(&pem, 65536);
    err = ca_external_csr(req->db, req->arena, id, &pem, &why);
    if (err == CW_OK)
        json_object_set_new(out, "csr",
                            json_stringn((const char *)pem.p, pem.len));
    buf_cleanup(&pem);
    if (err != CW_OK) {
        json_decref(out);
        return err;
    }
    return http_resp_data(resp, 201, out, NULL);
}

static enum cw_err
cas_csr_get(struct http_req *req, struct http_resp *resp)
{
    struct ca_why why = { "", "" };
    uint64_t      id;
    enum cw_err   err;

    err = http_req_path_u64(req, "id", &id);
    if (err != CW_OK)
        return err;
    err = ca_external_csr(req->db, req->arena, id, &resp->body, &why);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such CA");
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    resp->status = 200;
    resp->ctype = "application/pkcs10";
    return CW_OK;
}

static enum cw_err
cas_install(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "certificate", JSONX_TEXT, 1, LIM_BODY_CHAIN, 0, 0 },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body;
    json_t                  *out = NULL;
    const char              *text;
    uint64_t                 id;
    enum cw_err              err;

    err = api_id_json(req, fields, 1, &id, &body, &ev);
    if (err != CW_OK)
        return err;
    text = jsonx_str(body, "certificate");
    err = ca_external_install(req->db, req->cfg, id, text, strlen(text), &ev,
                              &why);
    if (err == CW_E_NOTFOUND && why.msg[0] == '\0')
        return http_fail(req, err, NULL, "no such CA");
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    err = ca_get_json(req->db, req->cfg, req->arena, id, &out);
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 200, out, NULL);
}

static enum cw_err
cas_import(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "name", JSONX_STRING, 1, 128, 0, 0 },
        { "certificate", JSONX_TEXT, 1, LIM_P12 * 2, 0, 0 },
        { "key", JSONX_TEXT, 0, 32768, 0, 0 },
        { "password", JSONX_STRING, 0, LIM_PASSWORD * 4, 0, 0 },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body;
    json_t                  *out = NULL;
    const char              *data;
    uint64_t                 id = 0;
    enum cw_err              err;

    err = http_req_json(req, fields, 4, &body);
    if (err != CW_OK)
        return err;
    if (jsonx_str(body, "name")[0] == '\0')
        return http_fail(req, CW_E_BADREQ, "name", "name must not be empty");
    data = jsonx_str(body, "certificate");
    auth_audit_event(req, &ev);
    err = ca_import(req->db, req->cfg, jsonx_str(body, "name"), data,
                    strlen(data), jsonx_str(body, "password"),
                    jsonx_str(body, "key"), &ev, &id, &why);
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    err = ca_get_json(req->db, req->cfg, req->arena, id, &out);
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 201, out, NULL);
}

static enum cw_err
cas_offline(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "mode", JSONX_STRING, 1, 32, 0, 0 },
        { "password", JSONX_STRING, 1, LIM_PASSWORD * 4, 0, 0 },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    struct buf               pem;
    json_t                  *body;
    json_t                  *out = NULL;
    uint64_t                 id;
    enum cw_err              err;

    err = api_id_json(req, fields, 2, &id, &body, &ev);
    if (err != CW_OK)
        return err;
    buf_init(&pem, 65536);
    err = ca_offline(req->db, req->cfg, id, jsonx_str(body, "mode"),
                     jsonx_str(body, "password"), &ev, &pem, &why);
    if (err == CW_OK)
        err = ca_get_json(req->db, req->cfg, req->arena, id, &out);
    if (err == CW_OK && pem.len > 0)
        /* Shown once: the database keeps no copy of this key. */
        json_object_set_new(out, "key_pem",
                            json_stringn((const char *)pem.p, pem.len));
    buf_cleanup_secret(&pem);
    if (err == CW_E_NOTFOUND && why.msg[0] == '\0')
        return http_fail(req, err, NULL, "no such CA");
    if (err != CW_OK) {
        json_decref(out);
        return api_ca_fail(req, err, &why);
    }
    return http_resp_data(resp, 200, out, NULL);
}

static enum cw_err
cas_restore(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "password", JSONX_STRING, 1, LIM_PASSWORD * 4, 0, 0 },
        { "key_pem", JSONX_TEXT, 0, 32768, 0, 0 },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body;
    json_t                  *out = NULL;
    const char              *pem;
    uint64_t                 id;
    enum cw_err              err;

    err = api_id_json(req, fields, 2, &id, &body, &ev);
    if (err != CW_OK)
        return err;
    pem = jsonx_str(body, "key_pem");
    err = ca_restore(req->db, req->cfg, id, jsonx_str(body, "password"),
                     (const uint8_t *)pem, pem ? strlen(pem) : 0, &ev, &why);
    if (err == CW_E_NOTFOUND && why.msg[0] == '\0')
        return http_fail(req, err, NULL, "no such CA");
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    err = ca_get_json(req->db, req->cfg, req->arena, id, &out);
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 200, out, NULL);
}

static enum cw_err
cas_revoke(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "reason", JSONX_STRING, 1, 32, 0, 0 },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body;
    json_t                  *out = NULL;
    uint64_t                 id;
    enum cw_err              err;

    err = api_id_json(req, fields, 1, &id, &body, &ev);
    if (err != CW_OK)
        return err;
    err = ca_revoke(req->db, id, jsonx_str(body, "reason"), &ev, &why);
    if (err == CW_E_NOTFOUND && why.msg[0] == '\0')
        return http_fail(req, err, NULL, "no such CA");
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    err = ca_get_json(req->db, req->cfg, req->arena, id, &out);
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 200, out, NULL);
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/api/v2/cas", .handler = cas_list,
      .auth = AUTH_USER, .perm = "read:cas" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/cas",
      .handler = cas_create, .auth = AUTH_USER, .perm = "write:cas",
      .body_max = LIM_BODY_JSON },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/cas/csr",
      .handler = cas_create_csr, .auth = AUTH_USER, .perm = "write:cas",
      .body_max = LIM_BODY_JSON },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/cas/{id}/csr",
      .handler = cas_csr_get, .auth = AUTH_USER, .perm = "read:cas" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/cas/{id}/certificate",
      .handler = cas_install, .auth = AUTH_USER, .perm = "write:cas",
      .body_max = LIM_BODY_CHAIN },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/cas/import",
      .handler = cas_import, .auth = AUTH_USER, .perm = "write:cas",
      .body_max = LIM_BODY_IMPORT },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/cas/{id}",
      .handler = cas_get, .auth = AUTH_USER, .perm = "read:cas" },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/cas/{id}/export",
      .handler = cas_export, .auth = AUTH_USER, .perm = "read:cas" },
    /* Taking a CA offline can hand its key out: the key permission. */
    { .methods = HTTP_M_POST, .pattern = "/api/v2/cas/{id}/offline",
      .handler = cas_offline, .auth = AUTH_USER,
      .perm = "export:private_keys", .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/cas/{id}/restore",
      .handler = cas_restore, .auth = AUTH_USER, .perm = "write:cas",
      .body_max = LIM_BODY_JSON },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/cas/{id}/revoke",
      .handler = cas_revoke, .auth = AUTH_USER, .perm = "delete:cas",
      .body_max = LIM_BODY_JSON_SMALL },
};

const struct http_route_table api_cas_table = HTTP_TABLE("cas", routes);

/*
 * csrs.c (api): /api/v2/csrs: requests kept for review: upload or generate,
 * list, show decoded, sign with a CA and template, reject, delete.
 */
#include "config.h"

#include <string.h>

#include "api/api.h"
#include "auth/auth.h"
#include "ca/ca.h"
#include "cw_limits.h"
#include "util/jsonx.h"

static enum cw_err
respond(struct http_req *req, struct http_resp *resp, int status,
        uint64_t id)
{
    json_t     *out = NULL;
    enum cw_err err = ca_csr_get_json(req->db, req->arena, id, &out);

    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such request");
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, status, out, NULL);
}

static enum cw_err
csrs_upload(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "csr", JSONX_TEXT, 1, LIM_CSR_DER * 2, 0, 0 },
        { "name", JSONX_STRING, 0, 128, 0, 0 },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body;
    const char              *csr;
    uint64_t                 id = 0;
    enum cw_err              err;

    err = http_req_json(req, fields, 2, &body);
    if (err != CW_OK)
        return err;
    csr = jsonx_str(body, "csr");
    auth_audit_event(req, &ev);
    err = ca_csr_upload(req->db, req->cfg, jsonx_str(body, "name"),
                        (const uint8_t *)csr, strlen(csr), &ev, &id, &why);
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    return respond(req, resp, 201, id);
}

static enum cw_err
csrs_generate(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "name", JSONX_STRING, 0, 128, 0, 0 },
        { "subject", JSONX_OBJECT, 0, 0, 0, 0 },
        { "sans", JSONX_ARRAY, 0, LIM_SANS, 0, 0 },
        { "key", JSONX_OBJECT, 1, 0, 0, 0 },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body;
    json_t                  *subject;
    json_t                  *sans;
    json_t                  *empty = NULL;
    uint64_t                 id = 0;
    enum cw_err              err;

    err = http_req_json(req, fields, 4, &body);
    if (err != CW_OK)
        return err;
    subject = json_object_get(body, "subject");
    if (subject == NULL || json_is_null(subject)) {
        empty = json_object();
        subject = empty;
    }
    sans = json_object_get(body, "sans");
    auth_audit_event(req, &ev);
    err = ca_csr_generate(req->db, req->cfg, jsonx_str(body, "name"),
                          subject, json_is_array(sans) ? sans : NULL,
                          json_object_get(body, "key"), &ev, &id, &why);
    json_decref(empty);
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    return respond(req, resp, 201, id);
}

static enum cw_err
csrs_list(struct http_req *req, struct http_resp *resp)
{
    struct ca_why why = { "", "" };
    uint64_t      page;
    uint64_t      per;
    uint64_t      total = 0;
    json_t       *arr = NULL;
    enum cw_err   err;

    err = api_paging(req, &page, &per);
    if (err != CW_OK)
        return err;
    err = ca_csr_list_json(req->db, req->arena,
                           http_req_query(req, "status"),
                           http_req_query(req, "q"), page, per, &arr, &total,
                           &why);
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    return http_resp_data(resp, 200, arr, api_meta(total, page, per));
}

static enum cw_err
csrs_get(struct http_req *req, struct http_resp *resp)
{
    uint64_t    id;
    enum cw_err err = http_req_path_u64(req, "id", &id);

    if (err != CW_OK)
        return err;
    return respond(req, resp, 200, id);
}

static enum cw_err
csrs_sign(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "ca_id", JSONX_INT, 1, 0, 1, INT64_MAX },
        { "template", JSONX_STRING, 1, 64, 0, 0 },
        { "validity_days", JSONX_INT, 1, 0, 1, LEAF_MAX_DAYS },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body;
    json_t                  *out = NULL;
    uint64_t                 id;
    uint64_t                 cert_id = 0;
    enum cw_err              err;

    err = api_id_json(req, fields, 3, &id, &body, &ev);
    if (err != CW_OK)
        return err;
    err = ca_csr_sign(req->db, req->cfg, id,
                      (uint64_t)json_integer_value(
                          json_object_get(body, "ca_id")),
                      jsonx_str(body, "template"),
                      (unsigned)json_integer_value(
                          json_object_get(body, "validity_days")),
                      &ev, &cert_id, &why);
    if (err == CW_E_NOTFOUND && why.msg[0] == '\0')
        return http_fail(req, err, NULL, "no such request");
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    err = ca_cert_get_json(req->db, req->arena, cert_id, &out);
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 201, out, NULL);
}

static enum cw_err
csrs_reject(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "reason", JSONX_STRING, 0, 255, 0, 0 },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body = NULL;
    uint64_t                 id;
    enum cw_err              err;

    err = http_req_path_u64(req, "id", &id);
    if (err != CW_OK)
        return err;
    if (req->body.len > 0) {
        err = http_req_json(req, fields, 1, &body);
        if (err != CW_OK)
            return err;
    }
    auth_audit_event(req, &ev);
    err = ca_csr_reject(req->db, id, body ? jsonx_str(body, "reason") : NULL,
                        &ev, &why);
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    return respond(req, resp, 200, id);
}

static enum cw_err
csrs_delete(struct http_req *req, struct http_resp *resp)
{
    struct store_audit_event ev;
    uint64_t                 id;
    enum cw_err              err;

    err = http_req_path_u64(req, "id", &id);
    if (err != CW_OK)
        return err;
    auth_audit_event(req, &ev);
    err = ca_csr_delete(req->db, id, &ev);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such request");
    if (err != CW_OK)
        return err;
    resp->status = 204;
    return CW_OK;
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/api/v2/csrs", .handler = csrs_list,
      .auth = AUTH_USER, .perm = "read:csrs" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/csrs",
      .handler = csrs_upload, .auth = AUTH_USER, .perm = "write:csrs",
      .body_max = LIM_BODY_JSON },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/csrs/generate",
      .handler = csrs_generate, .auth = AUTH_USER, .perm = "write:csrs",
      .body_max = LIM_BODY_JSON },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/csrs/{id}",
      .handler = csrs_get, .auth = AUTH_USER, .perm = "read:csrs" },
    { .methods = HTTP_M_DELETE, .pattern = "/api/v2/csrs/{id}",
      .handler = csrs_delete, .auth = AUTH_USER, .perm = "delete:csrs" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/csrs/{id}/sign",
      .handler = csrs_sign, .auth = AUTH_USER,
      .perm = "write:certificates", .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/csrs/{id}/reject",
      .handler = csrs_reject, .auth = AUTH_USER, .perm = "write:csrs",
      .body_max = LIM_BODY_JSON_SMALL },
};

const struct http_route_table api_csrs_table = HTTP_TABLE("csrs", routes);

/*
 * crls.c: a CA's revocation services over REST: CRL state and settings
 * (/api/v2/cas/{id}/crl), regeneration now, and the upload of a CRL an
 * offline CA signed elsewhere.
 */
#include "config.h"

#include <string.h>

#include "api/api.h"
#include "auth/auth.h"
#include "ca/ca.h"
#include "cw_limits.h"
#include "util/jsonx.h"

static enum cw_err
crl_info(struct http_req *req, struct http_resp *resp, uint64_t id)
{
    json_t     *out = NULL;
    enum cw_err err;

    err = ca_crl_info_json(req->db, req->cfg, req->arena, id, &out);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such CA");
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 200, out, NULL);
}

static enum cw_err
crl_get(struct http_req *req, struct http_resp *resp)
{
    uint64_t    id;
    enum cw_err err = http_req_path_u64(req, "id", &id);

    if (err != CW_OK)
        return err;
    return crl_info(req, resp, id);
}

static enum cw_err
crl_generate(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "delta", JSONX_BOOL, 0, 0, 0, 0 },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body = NULL;
    uint64_t                 id;
    int                      delta = 0;
    enum cw_err              err;

    err = http_req_path_u64(req, "id", &id);
    if (err != CW_OK)
        return err;
    if (req->body.len > 0) {
        err = http_req_json(req, fields, 1, &body);
        if (err != CW_OK)
            return err;
        delta = json_is_true(json_object_get(body, "delta"));
    }
    auth_audit_event(req, &ev);
    err = ca_crl_generate(req->db, req->cfg, id, delta, &ev, NULL, &why);
    if (err == CW_E_NOTFOUND && why.msg[0] == '\0')
        return http_fail(req, err, NULL, "no such CA");
    if (err == CW_E_BUSY) {
        req->retry_after = 5;
        return http_fail(req, err, NULL, "%s", why.msg);
    }
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    return crl_info(req, resp, id);
}

static enum cw_err
crl_settings_put(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "crl_days", JSONX_INT, 1, 0, 1, 366 },
        { "delta_hours", JSONX_INT, 1, 0, 0, 744 },
        { "ocsp_hours", JSONX_INT, 1, 0, 1, 168 },
        { "ocsp_signer", JSONX_STRING, 1, 16, 0, 0 },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body;
    uint64_t                 id;
    enum cw_err              err;

    err = api_id_json(req, fields, 4, &id, &body, &ev);
    if (err != CW_OK)
        return err;
    err = ca_crl_settings_put(
        req->db, id,
        (unsigned)json_integer_value(json_object_get(body, "crl_days")),
        (unsigned)json_integer_value(json_object_get(body, "delta_hours")),
        (unsigned)json_integer_value(json_object_get(body, "ocsp_hours")),
        jsonx_str(body, "ocsp_signer"), &ev, &why);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such CA");
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    return crl_info(req, resp, id);
}

static enum cw_err
crl_upload(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "crl", JSONX_TEXT, 1, LIM_BODY_MAX, 0, 0 },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body;
    const char              *crl;
    uint64_t                 id;
    enum cw_err              err;

    err = api_id_json(req, fields, 1, &id, &body, &ev);
    if (err != CW_OK)
        return err;
    crl = jsonx_str(body, "crl");
    err = ca_crl_upload(req->db, req->cfg, id, (const uint8_t *)crl,
                        strlen(crl), &ev, &why);
    if (err == CW_E_NOTFOUND && why.msg[0] == '\0')
        return http_fail(req, err, NULL, "no such CA");
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    return crl_info(req, resp, id);
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/api/v2/cas/{id}/crl",
      .handler = crl_get, .auth = AUTH_USER, .perm = "read:crl" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/cas/{id}/crl",
      .handler = crl_generate, .auth = AUTH_USER, .perm = "write:crl",
      .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_PUT, .pattern = "/api/v2/cas/{id}/crl/settings",
      .handler = crl_settings_put, .auth = AUTH_USER, .perm = "write:crl",
      .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/cas/{id}/crl/upload",
      .handler = crl_upload, .auth = AUTH_USER, .perm = "write:crl",
      .body_max = LIM_BODY_MAX },
};

const struct http_route_table api_crls_table = HTTP_TABLE("crls", routes);

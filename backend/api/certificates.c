/*
 * certificates.c (api): /api/v2/certificates: issue from a server-made key
 * or a CSR, list and search over the whole table, show, export, revoke.
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
certs_issue(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "ca_id", JSONX_INT, 1, 0, 1, INT64_MAX },
        { "template", JSONX_STRING, 1, 64, 0, 0 },
        { "subject", JSONX_OBJECT, 0, 0, 0, 0 },
        { "sans", JSONX_ARRAY, 0, LIM_SANS, 0, 0 },
        { "key", JSONX_OBJECT, 0, 0, 0, 0 },
        { "csr", JSONX_TEXT, 0, LIM_CSR_DER * 2, 0, 0 },
        { "validity_days", JSONX_INT, 1, 0, 1, LEAF_MAX_DAYS },
    };
    struct store_audit_event ev;
    struct ca_issue_req      in;
    struct ca_why            why = { "", "" };
    json_t                  *body;
    json_t                  *out = NULL;
    const char              *csr;
    uint64_t                 id = 0;
    enum cw_err              err;

    err = http_req_json(req, fields, sizeof(fields) / sizeof(fields[0]),
                        &body);
    if (err != CW_OK)
        return err;
    memset(&in, 0, sizeof(in));
    in.ca_id = (uint64_t)json_integer_value(json_object_get(body, "ca_id"));
    in.template_name = jsonx_str(body, "template");
    in.subject = json_object_get(body, "subject");
    in.sans = json_object_get(body, "sans");
    in.key = json_object_get(body, "key");
    if (json_is_null(in.subject))
        in.subject = NULL;
    if (json_is_null(in.sans))
        in.sans = NULL;
    if (json_is_null(in.key))
        in.key = NULL;
    csr = jsonx_str(body, "csr");
    if (csr != NULL) {
        in.csr = (const uint8_t *)csr;
        in.csr_len = strlen(csr);
    }
    in.validity_days = (unsigned)json_integer_value(
        json_object_get(body, "validity_days"));
    auth_audit_event(req, &ev);
    in.doc = &out;
    err = ca_issue(req->db, req->cfg, &in, &ev, &id, &why);
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    if (out == NULL) {
        err = ca_cert_get_json(req->db, req->arena, id, &out);
        if (err != CW_OK)
            return err;
    }
    return http_resp_data(resp, 201, out, NULL);
}

static enum cw_err
certs_list(struct http_req *req, struct http_resp *resp)
{
    struct ca_cert_filter f;
    struct ca_list_total  total = { 0, 1, 0 };
    struct ca_why         why = { "", "" };
    char                  before[32];
    char                  after[32];
    const char           *ca = http_req_query(req, "ca");
    const char           *cursor = http_req_query(req, "after");
    uint64_t              page;
    uint64_t              per;
    json_t               *arr = NULL;
    json_t               *meta;
    enum cw_err           err;

    err = api_paging(req, &page, &per);
    if (err == CW_OK)
        err = api_time_param(req, "expires_before", before);
    if (err == CW_OK)
        err = api_time_param(req, "expires_after", after);
    if (err != CW_OK)
        return err;
    memset(&f, 0, sizeof(f));
    if (ca != NULL && ca[0] != '\0' &&
        (sp_u64(ca, strlen(ca), INT64_MAX, &f.ca_id) != CW_OK ||
         f.ca_id == 0))
        return http_fail(req, CW_E_BADREQ, "ca",
                         "ca must be a CA id (a positive integer)");
    if (cursor != NULL && cursor[0] != '\0' &&
        (sp_u64(cursor, strlen(cursor), INT64_MAX, &f.after_id) != CW_OK ||
         f.after_id == 0))
        return http_fail(req, CW_E_BADREQ, "after",
                         "after must be a certificate id (meta.next_after "
                         "of the previous page)");
    f.q = http_req_query(req, "q");
    f.status = http_req_query(req, "status");
    f.template_name = http_req_query(req, "template");
    f.expires_before = before;
    f.expires_after = after;
    f.sort = http_req_query(req, "sort");
    f.key_type = http_req_query(req, "key_type");
    if (f.template_name != NULL && strlen(f.template_name) > 64)
        return http_fail(req, CW_E_BADREQ, "template", "template too long");
    err = ca_cert_list_json(req->db, req->arena, &f, page, per, &arr, &total,
                            &why);
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    meta = api_meta(total.total, page, per);
    json_object_set_new(meta, "total_exact", json_boolean(total.exact));
    json_object_set_new(meta, "next_after",
                        total.next_after != 0
                            ? json_integer((json_int_t)total.next_after)
                            : json_null());
    return http_resp_data(resp, 200, arr, meta);
}

static enum cw_err
certs_get(struct http_req *req, struct http_resp *resp)
{
    uint64_t    id;
    json_t     *out = NULL;
    enum cw_err err;

    err = http_req_path_u64(req, "id", &id);
    if (err != CW_OK)
        return err;
    err = ca_cert_get_json(req->db, req->arena, id, &out);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such certificate");
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 200, out, NULL);
}

static enum cw_err
certs_export_get(struct http_req *req, struct http_resp *resp)
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
                         "format must be pem, der, chain or p7b (p12 is a "
                         "POST)");
    err = ca_cert_export(req->db, req->cfg, req->arena, id, fmt,
                         &resp->body, &ctype);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such certificate");
    if (err == CW_E_CONFLICT)
        return http_fail(req, err, NULL,
                         "the stored certificate cannot be read");
    if (err != CW_OK)
        return err;
    resp->status = 200;
    resp->ctype = ctype;
    return CW_OK;
}

static enum cw_err
certs_export_post(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "format", JSONX_STRING, 1, 16, 0, 0 },
        { "password", JSONX_STRING, 1, LIM_PASSWORD, 0, 0 },
    };
    struct store_audit_event ev;
    json_t                  *body;
    const char              *pw;
    const char              *fmt;
    uint64_t                 id;
    enum cw_err              err;

    err = api_id_json(req, fields, 2, &id, &body, &ev);
    if (err != CW_OK)
        return err;
    fmt = jsonx_str(body, "format");
    if (strcmp(fmt, "p12") != 0 && strcmp(fmt, "pkcs8") != 0)
        return http_fail(req, CW_E_BADREQ, "format",
                         "format must be p12 or pkcs8");
    pw = jsonx_str(body, "password");
    if (strlen(pw) < 8)
        return http_fail(req, CW_E_BADREQ, "password",
                         "the export password needs at least 8 "
                         "characters");
    err = ca_cert_export_key(req->db, req->cfg, req->arena, id, fmt, pw,
                             &ev, &resp->body);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such certificate");
    if (err == CW_E_CONFLICT)
        return http_fail(req, err, NULL,
                         "this certificate's key was not generated here, "
                         "or the stored certificate cannot be read");
    if (err != CW_OK)
        return err;
    resp->status = 200;
    resp->ctype = strcmp(fmt, "p12") == 0 ? "application/x-pkcs12"
                                          : "application/pkcs8";
    return http_resp_header(req, resp, "Content-Disposition",
                            arena_printf(req->arena,
                                         "attachment; filename=\"cert-%llu"
                                         ".%s\"",
                                         (unsigned long long)id,
                                         strcmp(fmt, "p12") == 0 ? "p12"
                                                                 : "key"));
}

static enum cw_err
certs_revoke(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "reason", JSONX_STRING, 1, 32, 0, 0 },
        { "invalidity_date", JSONX_STRING, 0, 32, 0, 0 },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body;
    json_t                  *out = NULL;
    char                     inv[32] = "";
    const char              *d;
    uint64_t                 id;
    enum cw_err              err;

    err = api_id_json(req, fields, 2, &id, &body, &ev);
    if (err != CW_OK)
        return err;
    d = jsonx_str(body, "invalidity_date");
    if (d != NULL) {
        err = api_time_text(req, "invalidity_date", d, inv);
        if (err != CW_OK)
            return err;
    }
    err = ca_cert_revoke(req->db, id, jsonx_str(body, "reason"), inv, &ev,
                         &why);
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    err = ca_cert_get_json(req->db, req->arena, id, &out);
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 200, out, NULL);
}

static enum cw_err
certs_renew(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "csr", JSONX_TEXT, 0, LIM_CSR_DER * 2, 0, 0 },
        { "validity_days", JSONX_INT, 0, 0, 1, LEAF_MAX_DAYS },
    };
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *body = NULL;
    json_t                  *out = NULL;
    const char              *csr = NULL;
    uint64_t                 id;
    uint64_t                 new_id = 0;
    enum cw_err              err;

    err = http_req_path_u64(req, "id", &id);
    if (err != CW_OK)
        return err;
    /* The body is optional: an empty POST renews with a new key. */
    if (req->body.len > 0) {
        err = http_req_json(req, fields, 2, &body);
        if (err != CW_OK)
            return err;
        csr = jsonx_str(body, "csr");
    }
    auth_audit_event(req, &ev);
    err = ca_cert_renew(req->db, req->cfg, id, (const uint8_t *)csr,
                        csr ? strlen(csr) : 0,
                        body ? (unsigned)json_integer_value(json_object_get(
                                   body, "validity_days"))
                             : 0,
                        &ev, &new_id, &why);
    if (err == CW_E_NOTFOUND && why.msg[0] == '\0')
        return http_fail(req, err, NULL, "no such certificate");
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    err = ca_cert_get_json(req->db, req->arena, new_id, &out);
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 201, out, NULL);
}

static enum cw_err
certs_release(struct http_req *req, struct http_resp *resp)
{
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    json_t                  *out = NULL;
    uint64_t                 id;
    enum cw_err              err;

    err = http_req_path_u64(req, "id", &id);
    if (err != CW_OK)
        return err;
    auth_audit_event(req, &ev);
    err = ca_cert_release(req->db, id, &ev, &why);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such certificate");
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    err = ca_cert_get_json(req->db, req->arena, id, &out);
    if (err != CW_OK)
        return err;
    return http_resp_data(resp, 200, out, NULL);
}

static enum cw_err
certs_delete(struct http_req *req, struct http_resp *resp)
{
    struct store_audit_event ev;
    struct ca_why            why = { "", "" };
    uint64_t                 id;
    enum cw_err              err;

    err = http_req_path_u64(req, "id", &id);
    if (err != CW_OK)
        return err;
    auth_audit_event(req, &ev);
    err = ca_cert_delete(req->db, id, &ev, &why);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such certificate");
    if (err != CW_OK)
        return api_ca_fail(req, err, &why);
    resp->status = 204;
    return CW_OK;
}

/* Bulk operations act on each id on its own (one transaction and one
 * audit row each) and report every outcome; one failure stops nothing. */
static enum cw_err
bulk_ids(struct http_req *req, const struct jsonx_field *fields,
         size_t nfields, json_t **body, json_t **ids)
{
    enum cw_err err = http_req_json(req, fields, nfields, body);

    if (err != CW_OK)
        return err;
    *ids = json_object_get(*body, "ids");
    if (json_array_size(*ids) == 0)
        return http_fail(req, CW_E_BADREQ, "ids", "ids must not be empty");
    for (size_t i = 0; i < json_array_size(*ids); i++)
        if (!json_is_integer(json_array_get(*ids, i)) ||
            json_integer_value(json_array_get(*ids, i)) < 1)
            return http_fail(req, CW_E_BADREQ, "ids",
                             "ids[%zu] must be a positive integer", i);
    return CW_OK;
}

static json_t *
bulk_result(uint64_t id, enum cw_err err, const struct ca_why *why)
{
    if (err == CW_OK)
        return json_pack("{s:I, s:s}", "id", (json_int_t)id, "status",
                         "ok");
    return json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "status",
                     "error", "code", cw_err_name(err), "detail",
                     why->msg[0] ? why->msg : cw_err_info(err)->title);
}

static enum cw_err
certs_bulk_revoke(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "ids", JSONX_ARRAY, 1, 200, 0, 0 },
        { "reason", JSONX_STRING, 1, 32, 0, 0 },
    };
    struct store_audit_event ev;
    json_t                  *body;
    json_t                  *ids;
    json_t                  *out;
    enum cw_err              err;

    err = bulk_ids(req, fields, 2, &body, &ids);
    if (err != CW_OK)
        return err;
    if (ca_reason_code(jsonx_str(body, "reason")) < 0)
        return http_fail(req, CW_E_BADREQ, "reason",
                         "reason must be an RFC 5280 reason name");
    auth_audit_event(req, &ev);
    out = json_array();
    for (size_t i = 0; i < json_array_size(ids); i++) {
        uint64_t      id = (uint64_t)json_integer_value(json_array_get(ids, i));
        struct ca_why why = { "", "" };

        err = ca_cert_revoke(req->db, id, jsonx_str(body, "reason"), "", &ev,
                             &why);
        if (err == CW_E_DB_DOWN) {
            json_decref(out);
            return err;
        }
        json_array_append_new(out, bulk_result(id, err, &why));
    }
    return http_resp_data(resp, 200, json_pack("{s:o}", "results", out),
                          NULL);
}

static enum cw_err
certs_bulk_renew(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "ids", JSONX_ARRAY, 1, 200, 0, 0 },
    };
    struct store_audit_event ev;
    json_t                  *body;
    json_t                  *ids;
    json_t                  *out;
    enum cw_err              err;

    err = bulk_ids(req, fields, 1, &body, &ids);
    if (err != CW_OK)
        return err;
    auth_audit_event(req, &ev);
    out = json_array();
    for (size_t i = 0; i < json_array_size(ids); i++) {
        uint64_t      id = (uint64_t)json_integer_value(json_array_get(ids, i));
        uint64_t      new_id = 0;
        struct ca_why why = { "", "" };
        json_t       *r;

        err = ca_cert_renew(req->db, req->cfg, id, NULL, 0, 0, &ev, &new_id,
                            &why);
        if (err == CW_E_DB_DOWN) {
            json_decref(out);
            return err;
        }
        r = bulk_result(id, err, &why);
        if (err == CW_OK)
            json_object_set_new(r, "new_id", json_integer((json_int_t)new_id));
        json_array_append_new(out, r);
    }
    return http_resp_data(resp, 200, json_pack("{s:o}", "results", out),
                          NULL);
}

static enum cw_err
certs_bulk_export(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "ids", JSONX_ARRAY, 1, 200, 0, 0 },
        { "format", JSONX_STRING, 0, 16, 0, 0 },
    };
    json_t     *body;
    json_t     *ids;
    const char *fmt;
    enum cw_err err;

    err = bulk_ids(req, fields, 2, &body, &ids);
    if (err != CW_OK)
        return err;
    fmt = jsonx_str(body, "format");
    if (fmt == NULL)
        fmt = "pem";
    if (strcmp(fmt, "pem") != 0 && strcmp(fmt, "chain") != 0)
        return http_fail(req, CW_E_BADREQ, "format",
                         "format must be pem or chain");
    /* One PEM bundle: each certificate (with its chain for "chain"). */
    for (size_t i = 0; i < json_array_size(ids); i++) {
        uint64_t    id = (uint64_t)json_integer_value(json_array_get(ids, i));
        const char *ctype = NULL;

        err = ca_cert_export(req->db, req->cfg, req->arena, id, fmt,
                             &resp->body, &ctype);
        if (err == CW_E_NOTFOUND)
            return http_fail(req, err, "ids", "no certificate %llu",
                             (unsigned long long)id);
        if (err == CW_E_CONFLICT)
            return http_fail(req, err, "ids",
                             "certificate %llu: the stored certificate "
                             "cannot be read", (unsigned long long)id);
        if (err != CW_OK)
            return err;
    }
    resp->status = 200;
    resp->ctype = "application/x-pem-file";
    return CW_OK;
}

static const struct http_route routes[] = {
    /* Before the {id} routes: "bulk" is not an id. */
    { .methods = HTTP_M_POST, .pattern = "/api/v2/certificates/bulk/revoke",
      .handler = certs_bulk_revoke, .auth = AUTH_USER,
      .perm = "revoke:certificates", .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/certificates/bulk/renew",
      .handler = certs_bulk_renew, .auth = AUTH_USER,
      .perm = "write:certificates", .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/certificates/bulk/export",
      .handler = certs_bulk_export, .auth = AUTH_USER,
      .perm = "read:certificates", .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/certificates",
      .handler = certs_list, .auth = AUTH_USER,
      .perm = "read:certificates" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/certificates",
      .handler = certs_issue, .auth = AUTH_USER,
      .perm = "write:certificates", .body_max = LIM_BODY_JSON },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/certificates/{id}",
      .handler = certs_get, .auth = AUTH_USER,
      .perm = "read:certificates" },
    { .methods = HTTP_M_DELETE, .pattern = "/api/v2/certificates/{id}",
      .handler = certs_delete, .auth = AUTH_USER,
      .perm = "delete:certificates" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/certificates/{id}/renew",
      .handler = certs_renew, .auth = AUTH_USER,
      .perm = "write:certificates", .body_max = LIM_BODY_JSON },
    { .methods = HTTP_M_POST,
      .pattern = "/api/v2/certificates/{id}/release",
      .handler = certs_release, .auth = AUTH_USER,
      .perm = "revoke:certificates" },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/certificates/{id}/export",
      .handler = certs_export_get, .auth = AUTH_USER,
      .perm = "read:certificates" },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/certificates/{id}/export",
      .handler = certs_export_post, .auth = AUTH_USER,
      .perm = "export:private_keys", .body_max = LIM_BODY_JSON_SMALL },
    { .methods = HTTP_M_POST, .pattern = "/api/v2/certificates/{id}/revoke",
      .handler = certs_revoke, .auth = AUTH_USER,
      .perm = "revoke:certificates", .body_max = LIM_BODY_JSON_SMALL },
};

const struct http_route_table api_certificates_table =
    HTTP_TABLE("certificates", routes);

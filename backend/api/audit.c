/*
 * audit.c (api): reading, verifying and exporting the audit log, and its
 * retention setting. Filters are bound parameters; paging counts over the
 * whole table, never one page.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/settings.h"
#include "store/audit.h"
#include "util/jsonx.h"

#define AUDIT_WHERE                                                         \
    " WHERE (? = '' OR at >= ?) AND (? = '' OR at < ?) "                    \
    "AND (? = '' OR username = ?) AND (? = '' OR action = ? OR action LIKE " \
    "CONCAT(?, '.%')) AND (? = '' OR resource_type = ?) "                  \
    "AND (? = '' OR outcome = ?) "
#define AUDIT_COLS                                                          \
    "id, seq, DATE_FORMAT(at, '%Y-%m-%dT%H:%i:%s.%fZ'), user_id, "          \
    "username, action, resource_type, resource_id, outcome, client_addr, "  \
    "request_id, detail, hash, chain "

static const char sql_count[] = "SELECT COUNT(*) FROM audit_log" AUDIT_WHERE;
static const char sql_list[] =
    "SELECT " AUDIT_COLS "FROM audit_log" AUDIT_WHERE
    "ORDER BY id DESC LIMIT ? OFFSET ?";
static const char sql_export[] =
    "SELECT " AUDIT_COLS "FROM audit_log" AUDIT_WHERE
    "ORDER BY id LIMIT 100001";
static const char sql_retention_put[] =
    "INSERT INTO settings (name, value, updated_by) VALUES "
    "('audit_retention', ?, ?) ON DUPLICATE KEY UPDATE value = VALUES(value), "
    "updated_at = NOW(6), updated_by = VALUES(updated_by)";

struct audit_filter {
    char        from[32];
    char        to[32];
    const char *user;
    const char *action;
    const char *resource;
    const char *outcome;
};

static enum cw_err
filter_parse(struct http_req *req, struct audit_filter *f)
{
    enum cw_err err;

    err = api_time_param(req, "from", f->from);
    if (err == CW_OK)
        err = api_time_param(req, "to", f->to);
    if (err != CW_OK)
        return err;
    f->user = http_req_query(req, "user");
    f->action = http_req_query(req, "action");
    f->resource = http_req_query(req, "resource");
    f->outcome = http_req_query(req, "outcome");
    f->user = f->user ? f->user : "";
    f->action = f->action ? f->action : "";
    f->resource = f->resource ? f->resource : "";
    f->outcome = f->outcome ? f->outcome : "";
    if (strlen(f->user) > 64)
        return http_fail(req, CW_E_BADREQ, "user", "user is too long");
    if (strlen(f->action) > 64)
        return http_fail(req, CW_E_BADREQ, "action", "action is too long");
    if (strlen(f->resource) > 64)
        return http_fail(req, CW_E_BADREQ, "resource",
                         "resource is too long");
    if (strlen(f->outcome) > 16)
        return http_fail(req, CW_E_BADREQ, "outcome", "outcome is too long");
    return CW_OK;
}

static size_t
filter_bind(const struct audit_filter *f, struct store_param *p)
{
    p[0] = SP_STR(f->from);
    p[1] = SP_STR(f->from);
    p[2] = SP_STR(f->to);
    p[3] = SP_STR(f->to);
    p[4] = SP_STR(f->user);
    p[5] = SP_STR(f->user);
    p[6] = SP_STR(f->action);
    p[7] = SP_STR(f->action);
    p[8] = SP_STR(f->action);
    p[9] = SP_STR(f->resource);
    p[10] = SP_STR(f->resource);
    p[11] = SP_STR(f->outcome);
    p[12] = SP_STR(f->outcome);
    return 13;
}

static json_t *
row_json(const struct store_rows *rows, size_t r)
{
    json_t *detail = json_loads(store_cell_str(rows, r, 11), 0, NULL);

    return json_pack(
        "{s:I, s:I, s:I, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o,"
        " s:s}",
        "id", (json_int_t)store_cell_u64(rows, r, 0), "chain",
        (json_int_t)store_cell_u64(rows, r, 13), "seq",
        (json_int_t)store_cell_u64(rows, r, 1), "at",
        store_cell_str(rows, r, 2), "user_id",
        store_cell_isnull(rows, r, 3)
            ? json_null()
            : json_integer((json_int_t)store_cell_u64(rows, r, 3)),
        "username", store_cell_str(rows, r, 4), "action",
        store_cell_str(rows, r, 5), "resource_type",
        store_cell_str(rows, r, 6), "resource_id",
        store_cell_str(rows, r, 7), "outcome", store_cell_str(rows, r, 8),
        "client_addr", store_cell_str(rows, r, 9), "request_id",
        store_cell_str(rows, r, 10), "detail",
        detail ? detail : json_object(), "hash",
        store_cell_str(rows, r, 12));
}

static enum cw_err
audit_list(struct http_req *req, struct http_resp *resp)
{
    struct audit_filter f;
    struct store_param  p[15];
    struct store_rows   rows;
    uint64_t            page;
    uint64_t            per;
    uint64_t            total;
    size_t              n;
    json_t             *arr;
    enum cw_err         err;

    err = api_paging(req, &page, &per);
    if (err == CW_OK)
        err = filter_parse(req, &f);
    if (err != CW_OK)
        return err;
    n = filter_bind(&f, p);
    err = store_query(req->db, req->arena, sql_count, p, n, &rows);
    if (err != CW_OK)
        return err;
    total = store_cell_u64(&rows, 0, 0);
    p[n] = SP_U64(per);
    p[n + 1] = SP_U64((page - 1) * per);
    err = store_query(req->db, req->arena, sql_list, p, n + 2, &rows);
    if (err != CW_OK)
        return err;
    arr = json_array();
    for (size_t r = 0; r < rows.nrows; r++)
        json_array_append_new(arr, row_json(&rows, r));
    return http_resp_data(resp, 200, arr, api_meta(total, page, per));
}

static enum cw_err
audit_verify(struct http_req *req, struct http_resp *resp)
{
    struct store_audit_verify v;
    enum cw_err               err;

    err = store_audit_verify(req->db, &v);
    if (err != CW_OK)
        return err;
    return http_resp_data(
        resp, 200,
        json_pack("{s:b, s:I, s:o, s:s?}", "valid", v.valid, "checked",
                  (json_int_t)v.checked, "first_bad_id",
                  v.first_bad_id ? json_integer((json_int_t)v.first_bad_id)
                                 : json_null(),
                  "reason", v.valid ? NULL : v.reason),
        NULL);
}

/* RFC 4180 field: quoted, quotes doubled; a leading = + - @ is prefixed
 * with ' so a spreadsheet does not run it as a formula. */
static void
csv_field(struct buf *b, const char *s, int last)
{
    buf_puts(b, "\"");
    if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')
        buf_puts(b, "'");
    for (const char *c = s; *c != '\0'; c++) {
        if (*c == '"')
            buf_puts(b, "\"\"");
        else
            buf_append(b, c, 1);
    }
    buf_puts(b, last ? "\"\r\n" : "\",");
}

static enum cw_err
audit_export(struct http_req *req, struct http_resp *resp)
{
    struct audit_filter f;
    struct store_param  p[13];
    struct store_rows   rows;
    const char         *fmt = http_req_query(req, "format");
    size_t              n;
    enum cw_err         err;

    if (fmt == NULL)
        fmt = "json";
    if (strcmp(fmt, "json") != 0 && strcmp(fmt, "csv") != 0)
        return http_fail(req, CW_E_BADREQ, "format",
                         "format must be json or csv");
    err = filter_parse(req, &f);
    if (err != CW_OK)
        return err;
    n = filter_bind(&f, p);
    err = store_query(req->db, req->arena, sql_export, p, n, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows > 100000)
        return http_fail(req, CW_E_TOOLARGE, NULL,
                         "more than 100000 rows: narrow the time range");
    api_audit_now(req, "audit.export", "audit", fmt, "success",
                  json_pack("{s:I}", "rows", (json_int_t)rows.nrows));
    http_resp_header(req, resp, "Content-Disposition",
                     arena_printf(req->arena,
                                  "attachment; filename=\"audit.%s\"", fmt));
    if (strcmp(fmt, "json") == 0) {
        json_t *arr = json_array();

        for (size_t r = 0; r < rows.nrows; r++)
            json_array_append_new(arr, row_json(&rows, r));
        return http_resp_data(resp, 200, arr,
                              api_meta(rows.nrows, 1, rows.nrows));
    }
    resp->status = 200;
    resp->ctype = "text/csv; charset=utf-8";
    buf_puts(&resp->body, "id,seq,at,user_id,username,action,resource_type,"
                          "resource_id,outcome,client_addr,request_id,"
                          "detail,hash,chain\r\n");
    for (size_t r = 0; r < rows.nrows; r++)
        for (size_t c = 0; c < 14; c++)
            csv_field(&resp->body, store_cell_str(&rows, r, c), c == 13);
    return CW_OK;
}

static enum cw_err
retention_get(struct http_req *req, struct http_resp *resp)
{
    const struct auth_settings *st = auth_settings_get(req->db, req->cfg);

    return http_resp_data(resp, 200,
                          json_pack("{s:i}", "days",
                                    (int)st->audit_retention_days),
                          NULL);
}

struct ret_tx {
    struct http_req *req;
    json_int_t       days;
};

static enum cw_err
retention_body(struct store *db, void *arg)
{
    struct ret_tx     *rt = arg;
    struct store_param p[2];
    char               doc[32];
    enum cw_err        err;

    snprintf(doc, sizeof(doc), "{\"days\":%lld}", (long long)rt->days);
    p[0] = SP_STR(doc);
    p[1] = SP_STR(rt->req->who->username);
    err = store_exec(db, sql_retention_put, p, 2, NULL, NULL);
    if (err != CW_OK)
        return err;
    return api_audit(rt->req, db, "settings.update", "settings",
                     "audit_retention",
                     json_pack("{s:I}", "days", rt->days));
}

static enum cw_err
retention_put(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "days", JSONX_INT, 1, 0, 1, 36500 },
    };
    struct ret_tx rt = { req, 0 };
    json_t       *body;
    enum cw_err   err;

    err = http_req_json(req, fields, 1, &body);
    if (err != CW_OK)
        return err;
    rt.days = json_integer_value(json_object_get(body, "days"));
    err = store_tx(req->db, retention_body, &rt);
    if (err != CW_OK)
        return err;
    auth_settings_invalidate();
    return http_resp_data(resp, 200,
                          json_pack("{s:I}", "days", rt.days), NULL);
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/api/v2/audit",
      .handler = audit_list, .auth = AUTH_USER, .perm = "read:audit" },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/audit/verify",
      .handler = audit_verify, .auth = AUTH_USER, .perm = "read:audit" },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/audit/export",
      .handler = audit_export, .auth = AUTH_USER, .perm = "export:audit" },
    { .methods = HTTP_M_GET, .pattern = "/api/v2/system/audit/retention",
      .handler = retention_get, .auth = AUTH_USER, .perm = "read:settings" },
    { .methods = HTTP_M_PUT, .pattern = "/api/v2/system/audit/retention",
      .handler = retention_put, .auth = AUTH_USER,
      .perm = "write:settings", .body_max = LIM_BODY_JSON_SMALL },
};

const struct http_route_table api_audit_table = HTTP_TABLE("audit", routes);

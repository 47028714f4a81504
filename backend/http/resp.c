/*
 * resp.c: buffered responses and RFC 7807 problem documents. Nothing is
 * written to the client until the handler has returned, so the dispatcher
 * can always replace a failed response by a problem document.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "http/http.h"
#include "util/jsonx.h"
#include "util/mem.h"

static const struct {
    int         status;
    const char *reason;
} reasons[] = {
    { 200, "OK" },
    { 201, "Created" },
    { 202, "Accepted" },
    { 204, "No Content" },
    { 301, "Moved Permanently" },
    { 302, "Found" },
    { 304, "Not Modified" },
    { 400, "Bad Request" },
    { 401, "Unauthorized" },
    { 403, "Forbidden" },
    { 404, "Not Found" },
    { 405, "Method Not Allowed" },
    { 409, "Conflict" },
    { 410, "Gone" },
    { 411, "Length Required" },
    { 413, "Payload Too Large" },
    { 415, "Unsupported Media Type" },
    { 422, "Unprocessable Content" },
    { 423, "Locked" },
    { 429, "Too Many Requests" },
    { 500, "Internal Server Error" },
    { 503, "Service Unavailable" },
};

const char *
http_reason(int status)
{
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Unknown";
}

void
http_resp_init(struct http_resp *resp)
{
    resp->status = 200;
    resp->ctype = NULL;
    buf_init(&resp->body, LIM_RESP_BODY);
    resp->nheaders = 0;
}

void
http_resp_cleanup(struct http_resp *resp)
{
    buf_cleanup(&resp->body);
    resp->nheaders = 0;
}

enum cw_err
http_resp_header(struct http_req *req, struct http_resp *resp,
                 const char *name, const char *value)
{
    if (resp->nheaders == LIM_RESP_HEADERS)
        return CW_E_INTERNAL;
    /* Header injection guard: values we emit never contain CR or LF. */
    if (strpbrk(value, "\r\n") != NULL || strpbrk(name, "\r\n: ") != NULL)
        return CW_E_INTERNAL;
    resp->headers[resp->nheaders].name = arena_strdup(req->arena, name);
    resp->headers[resp->nheaders].value = arena_strdup(req->arena, value);
    resp->nheaders++;
    return CW_OK;
}

enum cw_err
http_resp_bytes(struct http_resp *resp, int status, const char *ctype,
                const void *p, size_t n)
{
    buf_reset(&resp->body);
    resp->status = status;
    resp->ctype = ctype;
    return buf_append(&resp->body, p, n);
}

enum cw_err
http_resp_json(struct http_resp *resp, int status, json_t *doc)
{
    char       *s;
    enum cw_err err;

    if (doc == NULL)
        return CW_E_INTERNAL;
    s = jsonx_dumps(doc);
    json_decref(doc);
    err = http_resp_bytes(resp, status, "application/json", s, strlen(s));
    free(s);
    return err;
}

enum cw_err
http_resp_data(struct http_resp *resp, int status, json_t *data, json_t *meta)
{
    json_t *doc = json_object();

    if (data == NULL)
        data = json_null();
    json_object_set_new(doc, "data", data);
    if (meta != NULL)
        json_object_set_new(doc, "meta", meta);
    return http_resp_json(resp, status, doc);
}

void
http_problem_render(struct http_req *req, struct http_resp *resp,
                    enum cw_err err)
{
    const struct cw_err_info *info = cw_err_info(err);
    json_t                   *doc;
    const char               *detail = req->err_detail;

    /* Server-side faults never echo internals to the client. */
    if (detail == NULL)
        detail = info->title;
    doc = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "type",
                    arena_printf(req->arena, "urn:certward:problem:%s",
                                 info->code),
                    "title", info->title, "status", info->status, "detail",
                    detail, "code", info->code, "request_id",
                    req->request_id);
    if (doc == NULL) {
        /* Only on invalid UTF-8 in a detail: answer without it. */
        doc = json_pack("{s:s, s:s, s:i, s:s, s:s}", "title", info->title,
                        "detail", info->title, "status", info->status,
                        "code", info->code, "request_id", req->request_id);
    }
    if (req->err_field != NULL)
        json_object_set_new(doc, "field", json_string(req->err_field));
    buf_reset(&resp->body);
    resp->nheaders = 0;
    http_resp_json(resp, info->status, doc);
    resp->ctype = "application/problem+json";
}

void
http_fmt_date(time_t t, char *out, size_t n)
{
    /* The same second is formatted again and again (Date-like headers on
     * every OCSP and CRL answer): keep the last one per thread. */
    static _Thread_local time_t last = (time_t)-1;
    static _Thread_local char   text[40];
    struct tm                   tm;

    if (t != last) {
        gmtime_r(&t, &tm);
        if (strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT",
                     &tm) == 0)
            text[0] = '\0';
        last = t;
    }
    snprintf(out, n, "%s", text);
}

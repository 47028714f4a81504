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
    static const char days[] = "ThuFriSatSunMonTueWed";     /* 1970-01-01 */
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    /* The same second is formatted again and again (the dates of OCSP
     * answers signed together, CRL headers): keep the last one per
     * thread. */
    static _Thread_local time_t last = (time_t)-1;
    static _Thread_local char   text[32];
    int64_t                     z;
    int64_t                     era;
    int64_t                     doe;
    int64_t                     yoe;
    int64_t                     doy;
    int64_t                     mp;
    int64_t                     y;
    int64_t                     sec;
    int                         d;
    int                         m;
    size_t                      k;

    if (n == 0)
        return;
    /* RFC 9110 5.6.7 IMF-fixdate, for years 1970..9999 (certificates end
     * by 9999-12-31, RFC 5280 4.1.2.5); days from the civil calendar by
     * the usual era arithmetic, without gmtime()'s time zone lock. */
    if (t < 0 || t > (time_t)253402300799LL) {
        out[0] = '\0';
        return;
    }
    if (t != last) {
        z = (int64_t)t / 86400;
        sec = (int64_t)t % 86400;
        memcpy(text, days + (z % 7) * 3, 3);
        z += 719468;
        era = z / 146097;
        doe = z - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        y = yoe + era * 400;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        d = (int)(doy - (153 * mp + 2) / 5 + 1);
        m = (int)(mp < 10 ? mp + 3 : mp - 9);
        y += m <= 2;
        text[3] = ',';
        text[4] = ' ';
        text[5] = (char)('0' + d / 10);
        text[6] = (char)('0' + d % 10);
        text[7] = ' ';
        memcpy(text + 8, months + (m - 1) * 3, 3);
        text[11] = ' ';
        text[12] = (char)('0' + y / 1000);
        text[13] = (char)('0' + y / 100 % 10);
        text[14] = (char)('0' + y / 10 % 10);
        text[15] = (char)('0' + y % 10);
        text[16] = ' ';
        text[17] = (char)('0' + sec / 36000);
        text[18] = (char)('0' + sec / 3600 % 10);
        text[19] = ':';
        text[20] = (char)('0' + sec % 3600 / 600);
        text[21] = (char)('0' + sec % 3600 / 60 % 10);
        text[22] = ':';
        text[23] = (char)('0' + sec % 60 / 10);
        text[24] = (char)('0' + sec % 10);
        memcpy(text + 25, " GMT", 5);
        last = t;
    }
    k = n - 1 < 29 ? n - 1 : 29;       /* 29: "Thu, 01 Jan 1970 00:00:00 GMT" */
    memcpy(out, text, k);
    out[k] = '\0';
}

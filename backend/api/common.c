/* common.c: helpers shared by the REST handlers. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/auth.h"
#include "util/jsonx.h"
#include "util/sp.h"

enum cw_err
api_audit(struct http_req *req, struct store *db, const char *action,
          const char *rtype, const char *rid, json_t *detail)
{
    struct store_audit_event ev;
    char                    *d = detail ? jsonx_dumps(detail) : NULL;
    enum cw_err              err;

    json_decref(detail);
    auth_audit_event(req, &ev);
    ev.action = action;
    ev.resource_type = rtype;
    ev.resource_id = rid;
    ev.detail = d;
    err = store_audit_append(db, &ev);
    free(d);
    return err;
}

void
api_audit_now(struct http_req *req, const char *action, const char *rtype,
              const char *rid, const char *outcome, json_t *detail)
{
    api_audit_as(req, NULL, action, rtype, rid, outcome, detail);
}

void
api_audit_as(struct http_req *req, const char *username, const char *action,
             const char *rtype, const char *rid, const char *outcome,
             json_t *detail)
{
    struct store_audit_event ev;
    char                    *d = detail ? jsonx_dumps(detail) : NULL;

    json_decref(detail);
    auth_audit_event(req, &ev);
    if (username != NULL && ev.username == NULL)
        ev.username = username;
    ev.action = action;
    ev.resource_type = rtype;
    ev.resource_id = rid;
    ev.outcome = outcome;
    ev.detail = d;
    store_audit_log(req->db, &ev);
    free(d);
}

enum cw_err
api_paging(struct http_req *req, uint64_t *page, uint64_t *per_page)
{
    const char *p = http_req_query(req, "page");
    const char *pp = http_req_query(req, "per_page");

    *page = 1;
    *per_page = 50;
    if (p != NULL && (sp_u64(p, strlen(p), 1000000000, page) != CW_OK ||
                      *page == 0))
        return http_fail(req, CW_E_BADREQ, "page",
                         "page must be a positive integer");
    if (pp != NULL && (sp_u64(pp, strlen(pp), 200, per_page) != CW_OK ||
                       *per_page == 0))
        return http_fail(req, CW_E_BADREQ, "per_page",
                         "per_page must be an integer from 1 to 200");
    return CW_OK;
}

json_t *
api_meta(uint64_t total, uint64_t page, uint64_t per_page)
{
    return json_pack("{s:I, s:I, s:I}", "total", (json_int_t)total, "page",
                     (json_int_t)page, "per_page", (json_int_t)per_page);
}

json_t *
api_time(const struct store_rows *rows, size_t r, size_t c)
{
    if (store_cell_isnull(rows, r, c))
        return json_null();
    return json_string(store_cell_str(rows, r, c));
}


enum cw_err
api_time_param(struct http_req *req, const char *name, char out[32])
{
    const char *v = http_req_query(req, name);

    out[0] = '\0';
    if (v == NULL || v[0] == '\0')
        return CW_OK;
    return api_time_text(req, name, v, out);
}

enum cw_err
api_time_text(struct http_req *req, const char *name, const char *v,
              char out[32])
{
    int    y, mo, d, h = 0, mi = 0, s = 0;
    size_t n;

    out[0] = '\0';
    n = strlen(v);
    /* YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[Z|+00:00] (UTC only). */
    if (n < 10 || n > 25)
        goto bad;
    for (size_t i = 0; i < 10; i++)
        if ((i == 4 || i == 7) ? v[i] != '-' : (v[i] < '0' || v[i] > '9'))
            goto bad;
    y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 +
        (v[3] - '0');
    mo = (v[5] - '0') * 10 + (v[6] - '0');
    d = (v[8] - '0') * 10 + (v[9] - '0');
    if (n > 10) {
        if (n < 19 || (v[10] != 'T' && v[10] != ' ') || v[13] != ':' ||
            v[16] != ':')
            goto bad;
        for (size_t i = 11; i < 19; i++)
            if (i != 13 && i != 16 && (v[i] < '0' || v[i] > '9'))
                goto bad;
        h = (v[11] - '0') * 10 + (v[12] - '0');
        mi = (v[14] - '0') * 10 + (v[15] - '0');
        s = (v[17] - '0') * 10 + (v[18] - '0');
        if (!(n == 19 || (n == 20 && v[19] == 'Z') ||
              (n == 25 && strcmp(v + 19, "+00:00") == 0)))
            goto bad;
    }
    {
        static const int mdays[12] = { 31, 28, 31, 30, 31, 30,
                                        31, 31, 30, 31, 30, 31 };
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
            d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
            s > 59)
            goto bad;
    }
    /* All fields range-checked above: exactly 19 characters. */
    snprintf(out, 32, "%04u-%02u-%02u %02u:%02u:%02u", (unsigned)y % 10000u,
             (unsigned)mo % 100u, (unsigned)d % 100u, (unsigned)h % 100u,
             (unsigned)mi % 100u, (unsigned)s % 100u);
    return CW_OK;
bad:
    return http_fail(req, CW_E_BADREQ, name,
                     "%s must be an RFC 3339 UTC time such as "
                     "2026-01-31T12:00:00Z", name);
}

/*
 * router.c: the dispatcher. Order of checks for every request: parse the
 * FastCGI parameters, route (404 / 405 + Allow), rate limit, authenticate,
 * check the route's permission, read the body within the route's cap
 * (411 / 413 before reading), run the handler, write the buffered response
 * or a problem document. Handlers never see a request that failed a check.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "auth/auth.h"
#include "auth/settings.h"
#include "http/http.h"
#include "util/log.h"
#include "util/sp.h"

char *http_path_decode(struct arena *a, const char *raw, size_t n);

static const struct {
    enum http_method m;
    const char      *name;
} methods[] = {
    { HTTP_M_GET, "GET" },       { HTTP_M_HEAD, "HEAD" },
    { HTTP_M_POST, "POST" },     { HTTP_M_PUT, "PUT" },
    { HTTP_M_PATCH, "PATCH" },   { HTTP_M_DELETE, "DELETE" },
    { HTTP_M_OPTIONS, "OPTIONS" },
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

const char *
http_method_name(enum http_method m)
{
    for (size_t i = 0; i < NMETHODS; i++)
        if (methods[i].m == m)
            return methods[i].name;
    return "?";
}

enum http_method
http_method_parse(const char *s)
{
    for (size_t i = 0; s != NULL && i < NMETHODS; i++)
        if (strcmp(methods[i].name, s) == 0)
            return methods[i].m;
    return 0;
}

int
http_route_match(const char *pattern, const char *path,
                 struct http_param *params, size_t *nparams)
{
    const char *p = pattern;
    const char *s = path;
    size_t      n = 0;

    while (*p != '\0') {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *seg_end;
            int         rest;

            if (close == NULL)
                return 0;
            rest = close[-1] == '*';
            seg_end = rest ? s + strlen(s) : strchr(s, '/');
            if (seg_end == NULL)
                seg_end = s + strlen(s);
            if (seg_end == s || n == LIM_PATH_PARAMS)
                return 0;
            if (params != NULL) {
                params[n].name = p + 1;   /* up to '}' or '*': see below */
                params[n].value = s;
            }
            n++;
            p = close + 1;
            s = seg_end;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    if (*s != '\0')
        return 0;
    if (nparams != NULL)
        *nparams = n;
    return 1;
}

/* Turn the pointers recorded by http_route_match into strings. */
static void
params_materialize(struct http_req *req)
{
    for (size_t i = 0; i < req->nparams; i++) {
        const char *name = req->params[i].name;
        const char *val = req->params[i].value;
        size_t      nl = strcspn(name, "*}");
        size_t      vl;

        if (name[nl] == '*')
            vl = strlen(val);
        else
            vl = strcspn(val, "/");
        req->params[i].name = arena_strndup(req->arena, name, nl);
        req->params[i].value = arena_strndup(req->arena, val, vl);
    }
}

/* Find the route; on failure set *allow to the methods the path has. */
static const struct http_route *
route_find(struct http_req *req, unsigned *allow)
{
    enum http_method m = req->method == HTTP_M_HEAD ? HTTP_M_GET : req->method;

    *allow = 0;
    for (size_t t = 0; http_tables[t] != NULL; t++) {
        const struct http_route_table *tab = http_tables[t];

        for (size_t i = 0; i < tab->nroutes; i++) {
            const struct http_route *r = &tab->routes[i];
            size_t                   np = 0;

            if (!http_route_match(r->pattern, req->path, req->params, &np))
                continue;
            *allow |= r->methods;
            if (r->methods & m) {
                req->nparams = np;
                return r;
            }
        }
    }
    return NULL;
}

static enum cw_err
body_read(struct http_req *req, size_t cap)
{
    const char *cl = req->io->param(req->io->ctx, "CONTENT_LENGTH");
    uint64_t    n = 0;
    uint8_t    *dst;
    size_t      got = 0;
    enum cw_err err;

    if (cl != NULL && cl[0] != '\0' &&
        sp_u64(cl, strlen(cl), UINT64_MAX, &n) != CW_OK)
        return http_fail(req, CW_E_BADREQ, NULL, "malformed Content-Length");
    if (cap == 0) {
        if (n > 0)
            return http_fail(req, CW_E_TOOLARGE, NULL,
                             "this resource takes no request body");
        return CW_OK;
    }
    if (cl == NULL || cl[0] == '\0') {
        if (req->method == HTTP_M_GET || req->method == HTTP_M_HEAD ||
            req->method == HTTP_M_DELETE)
            return CW_OK;
        return http_fail(req, CW_E_NOLENGTH, NULL,
                         "a request body needs Content-Length");
    }
    if (n > cap)
        return http_fail(req, CW_E_TOOLARGE, NULL,
                         "request body is larger than %zu bytes", cap);
    req->body.max = cap;
    err = buf_reserve(&req->body, (size_t)n, &dst);
    if (err != CW_OK)
        return err;
    while (got < n) {
        long r = req->io->read(req->io->ctx, dst + got, (size_t)n - got);

        if (r <= 0)
            return http_fail(req, CW_E_BADREQ, NULL,
                             "request body shorter than Content-Length");
        got += (size_t)r;
    }
    req->body.len = got;
    req->body.p[got] = '\0';
    return CW_OK;
}

static void
allow_header(struct http_req *req, struct http_resp *resp, unsigned allow)
{
    char   tmp[128];
    size_t o = 0;

    if (allow & HTTP_M_GET)
        allow |= HTTP_M_HEAD;
    allow |= HTTP_M_OPTIONS;
    tmp[0] = '\0';
    for (size_t i = 0; i < NMETHODS; i++) {
        if (!(allow & methods[i].m))
            continue;
        o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "%s%s",
                              o ? ", " : "", methods[i].name);
        if (o >= sizeof(tmp))
            break;
    }
    http_resp_header(req, resp, "Allow", tmp);
}

/* A request id: random hex, from a per-thread pool of random octets
 * refilled 32 ids at a time (one getrandom call, not one per request). */
#define REQID_POOL (32 * (LIM_REQUEST_ID / 2))

static void
request_id_make(char *out)
{
    static _Thread_local uint8_t pool[REQID_POOL];
    static _Thread_local size_t  left;

    if (left < LIM_REQUEST_ID / 2) {
        randombytes_buf(pool, sizeof(pool));
        left = sizeof(pool);
    }
    left -= LIM_REQUEST_ID / 2;
    sp_hex_encode(pool + left, LIM_REQUEST_ID / 2, out);
    sodium_memzero(pool + left, LIM_REQUEST_ID / 2);
}

/* The response head goes out through a stack buffer, flushed when full:
 * no allocation, and one write for an ordinary head. */
struct head_out {
    const struct http_io *io;
    size_t                n;
    int                   failed;
    char                  b[2048];
};

static void
head_put(struct head_out *h, const char *s, size_t len)
{
    if (h->n + len > sizeof(h->b)) {
        if (h->n > 0 && !h->failed &&
            h->io->write(h->io->ctx, (const uint8_t *)h->b, h->n) != 0)
            h->failed = 1;
        h->n = 0;
        if (len > sizeof(h->b)) {
            if (!h->failed &&
                h->io->write(h->io->ctx, (const uint8_t *)s, len) != 0)
                h->failed = 1;
            return;
        }
    }
    memcpy(h->b + h->n, s, len);
    h->n += len;
}

static void
head_puts(struct head_out *h, const char *s)
{
    head_put(h, s, strlen(s));
}

#define HEAD_LIT(h, lit) head_put((h), lit, sizeof(lit) - 1)

static void
resp_write(struct http_req *req, struct http_resp *resp)
{
    char            num[21];
    struct head_out h;
    int             has_cc = 0;
    size_t          blen = resp->body.len;

    h.io = req->io;
    h.n = 0;
    h.failed = 0;
    for (size_t i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->headers[i].name, "Cache-Control") == 0)
            has_cc = 1;
    /* libfcgi's FCGX_FPrintF lacks %zu; the head is assembled from
     * pieces (no printf: this runs for every answer, OCSP's included).
     * "Status" carries a reason phrase for nginx. */
    HEAD_LIT(&h, "Status: ");
    head_puts(&h, sp_u64_text((uint64_t)resp->status, num));
    HEAD_LIT(&h, " ");
    head_puts(&h, http_reason(resp->status));
    HEAD_LIT(&h, "\r\n");
    if (resp->status != 204 && resp->status != 304) {
        HEAD_LIT(&h, "Content-Type: ");
        head_puts(&h, resp->ctype ? resp->ctype : "application/octet-stream");
        HEAD_LIT(&h, "\r\nContent-Length: ");
        head_puts(&h, sp_u64_text((uint64_t)blen, num));
        HEAD_LIT(&h, "\r\n");
    }
    HEAD_LIT(&h, "X-Request-Id: ");
    head_puts(&h, req->request_id);
    HEAD_LIT(&h, "\r\nX-Content-Type-Options: nosniff\r\n");
    if (!has_cc)
        HEAD_LIT(&h, "Cache-Control: no-store\r\n");
    for (size_t i = 0; i < resp->nheaders; i++) {
        head_puts(&h, resp->headers[i].name);
        HEAD_LIT(&h, ": ");
        head_puts(&h, resp->headers[i].value);
        HEAD_LIT(&h, "\r\n");
    }
    HEAD_LIT(&h, "\r\n");
    if (!h.failed &&
        req->io->write(req->io->ctx, (const uint8_t *)h.b, h.n) == 0 &&
        req->method != HTTP_M_HEAD && blen > 0 && resp->status != 204 &&
        resp->status != 304)
        req->io->write(req->io->ctx, resp->body.p, blen);
}

/* A body buffer back to the thread for its next request: wiped (request
 * bodies carry passwords, response bodies keys and tokens), or freed when
 * it grew past what an ordinary request needs. */
#define HTTP_KEEP_MAX 4096

static void
body_keep(struct buf *b, struct buf *keep)
{
    if (b->cap > HTTP_KEEP_MAX) {
        buf_cleanup(b);
    } else if (b->p != NULL) {
        sodium_memzero(b->p, b->cap);
        b->len = 0;
    }
    *keep = *b;
}

void
http_env_init(struct http_env *env, const struct cw_config *cfg,
              struct store *db)
{
    memset(env, 0, sizeof(*env));
    env->cfg = cfg;
    env->db = db;
    arena_init(&env->arena);
    buf_init(&env->keep_in, 0);
    buf_init(&env->keep_out, 0);
}

void
http_env_cleanup(struct http_env *env)
{
    buf_cleanup_secret(&env->keep_in);
    buf_cleanup_secret(&env->keep_out);
    arena_reset(&env->arena);
}

static enum cw_err
req_parse(struct http_req *req)
{
    const char *ruri = req->io->param(req->io->ctx, "REQUEST_URI");
    const char *q;
    size_t      plen;
    const char *remote;
    const char *xff;

    req->method_name = req->io->param(req->io->ctx, "REQUEST_METHOD");
    req->method = http_method_parse(req->method_name);
    if (req->method_name == NULL || strlen(req->method_name) > 16)
        req->method_name = "?";
    if (ruri == NULL || ruri[0] != '/')
        ruri = req->io->param(req->io->ctx, "DOCUMENT_URI");
    if (ruri == NULL || ruri[0] != '/') {
        req->path = "/";
        return http_fail(req, CW_E_BADREQ, NULL, "missing request path");
    }
    q = strchr(ruri, '?');
    plen = q ? (size_t)(q - ruri) : strlen(ruri);
    if (plen > LIM_PATH || (q != NULL && strlen(q + 1) > LIM_QUERY)) {
        req->path = "/";
        return http_fail(req, CW_E_TOOLARGE, NULL, "request URI too long");
    }
    req->query = q ? q + 1 : "";
    req->path = http_path_decode(req->arena, ruri, plen);
    if (req->path == NULL) {
        req->path = "/";
        return http_fail(req, CW_E_BADREQ, NULL, "malformed request path");
    }
    remote = req->io->param(req->io->ctx, "REMOTE_ADDR");
    xff = req->io->param(req->io->ctx, "HTTP_X_FORWARDED_FOR");
    /* trusted_proxies in the security settings replace the file's. */
    if (xff != NULL && req->db != NULL) {
        const struct auth_settings *st = auth_settings_get(req->db, req->cfg);

        if (st->proxies_set) {
            req->client_addr = http_client_addr_list(
                req->arena, st->proxies, st->nproxies, remote, xff);
            goto addr_done;
        }
    }
    req->client_addr = http_client_addr(req->arena, req->cfg, remote, xff);
addr_done:
    return http_query_check(req);
}

static enum cw_err
dispatch(struct http_req *req, struct http_resp *resp, unsigned *allow)
{
    const struct http_route *r;
    enum cw_err              err;

    err = req_parse(req);
    if (err != CW_OK)
        return err;
    r = route_find(req, allow);
    if (r == NULL) {
        if (*allow == 0)
            return http_fail(req, CW_E_NOTFOUND, NULL, "no such resource");
        if (req->method == 0)
            return http_fail(req, CW_E_METHOD, NULL, "unsupported method");
        if (req->method == HTTP_M_OPTIONS) {
            resp->status = 204;
            return CW_OK;
        }
        return http_fail(req, CW_E_METHOD, NULL, "%s is not allowed here",
                         req->method_name);
    }
    req->route = r;
    params_materialize(req);
    err = auth_ratelimit(req, resp);
    if (err != CW_OK)
        return err;
    if (r->auth != AUTH_PUBLIC) {
        err = auth_request(req);
        if (err != CW_OK)
            return err;
        if (r->perm == NULL || !auth_has_perm(req->who, r->perm)) {
            auth_audit_denied(req, CW_E_FORBIDDEN);
            return http_fail(req, CW_E_FORBIDDEN, NULL,
                             "this needs the permission %s",
                             r->perm ? r->perm : "(none)");
        }
    }
    err = body_read(req, r->body_max);
    if (err != CW_OK)
        return err;
    return r->handler(req, resp);
}

void
http_handle(struct http_env *env, const struct http_io *io)
{
    struct http_req  req;
    struct http_resp resp;
    unsigned         allow = 0;
    enum cw_err      err;
    struct timespec  t0;
    struct timespec  t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&req, 0, sizeof(req));
    req.env = env;
    req.io = io;
    req.arena = &env->arena;
    req.cfg = env->cfg;
    req.db = env->db;
    req.path = "/";
    req.query = "";
    req.client_addr = "";
    req.method_name = "?";
    req.body = env->keep_in;        /* max 0 until body_read() */
    req.body.len = 0;
    req.body.max = 0;
    request_id_make(req.request_id);
    log_set_reqid(req.request_id);
    http_resp_init(&resp);
    resp.body.p = env->keep_out.p;
    resp.body.cap = env->keep_out.cap;

    err = dispatch(&req, &resp, &allow);
    if (err != CW_OK) {
        const struct cw_err_info *info = cw_err_info(err);
        unsigned                  retry = req.retry_after;
        struct http_header        keep[LIM_RESP_HEADERS];
        size_t                    nkeep = resp.nheaders;

        /* Keep the headers the checks set on purpose (rate-limit counters,
         * Retry-After); drop whatever a failed handler added. */
        memcpy(keep, resp.headers, sizeof(keep));
        http_problem_render(&req, &resp, err);
        for (size_t i = 0; i < nkeep; i++)
            if (strncasecmp(keep[i].name, "X-RateLimit-", 12) == 0 ||
                strcasecmp(keep[i].name, "Retry-After") == 0)
                resp.headers[resp.nheaders++] = keep[i];
        if (err == CW_E_METHOD && allow != 0)
            allow_header(&req, &resp, allow);
        if (err == CW_E_UNAUTH)
            http_resp_header(&req, &resp, "WWW-Authenticate",
                             "Bearer realm=\"certward\"");
        if (info->status == 503 && retry == 0)
            retry = 5;
        for (size_t i = 0; i < resp.nheaders; i++)
            if (strcasecmp(resp.headers[i].name, "Retry-After") == 0)
                retry = 0;   /* set by the check that refused */
        if (retry > 0)
            http_resp_header(&req, &resp, "Retry-After",
                             arena_printf(req.arena, "%u", retry));
        if (info->status >= 500)
            log_err("%s %s -> %d %s", req.method_name, req.path,
                    info->status, info->code);
        else
            log_info("%s %s -> %d %s%s%s", req.method_name, req.path,
                     info->status, info->code, req.err_detail ? ": " : "",
                     req.err_detail ? req.err_detail : "");
    } else if (resp.status == 204 && allow != 0 && req.route == NULL) {
        allow_header(&req, &resp, allow);
    }
    resp_write(&req, &resp);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    log_debug("%s %s %d %lu %ldus %s", req.method_name, req.path, resp.status,
              (unsigned long)resp.body.len,
              (long)((t1.tv_sec - t0.tv_sec) * 1000000L +
                     (t1.tv_nsec - t0.tv_nsec) / 1000),
              req.client_addr);
    body_keep(&req.body, &env->keep_in);
    body_keep(&resp.body, &env->keep_out);
    resp.nheaders = 0;
    arena_recycle(&env->arena);
    log_set_reqid(NULL);
}

/*
 * http.h: the HTTP layer between FastCGI and the handlers. A request is
 * built from FastCGI parameters (untrusted: every value is capped and
 * checked), routed through static route tables that declare method, auth,
 * permission and body cap, and answered from a buffered response, so an
 * error never leaves a half-written 200 behind.
 */
#ifndef CW_HTTP_H
#define CW_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "cw_limits.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/conf.h"
#include "util/err.h"

struct store;

enum http_method {
    HTTP_M_GET = 1u << 0,
    HTTP_M_HEAD = 1u << 1,
    HTTP_M_POST = 1u << 2,
    HTTP_M_PUT = 1u << 3,
    HTTP_M_PATCH = 1u << 4,
    HTTP_M_DELETE = 1u << 5,
    HTTP_M_OPTIONS = 1u << 6,
};

enum http_auth {
    AUTH_PUBLIC = 0,   /* no credentials; perm must be NULL            */
    AUTH_USER,         /* session cookie (+CSRF) or Bearer API key     */
    AUTH__MAX
};

/* Rate-limit classes (per client address and class). */
enum http_rl_class {
    RL_DEFAULT = 0,
    RL_LOGIN,
    RL_PROTOCOL,     /* ACME, SCEP, EST                               */
    RL_REVOCATION,   /* OCSP, CRL, AIA                                */
    RL_NONE,         /* health: never limited                         */
    RL__MAX
};

struct http_req;
struct http_resp;

typedef enum cw_err (*http_handler_fn)(struct http_req *, struct http_resp *);

struct http_route {
    unsigned            methods;   /* HTTP_M_* bits                       */
    const char         *pattern;   /* "/api/v2/users/{id}"                 */
    http_handler_fn     handler;
    enum http_auth      auth;
    const char         *perm;      /* "read:users"; NULL iff AUTH_PUBLIC   */
    size_t              body_max;  /* LIM_*; 0 = no body accepted          */
    enum http_rl_class  rl;
};

struct http_route_table {
    const char              *name;    /* for logs and tests              */
    const struct http_route *routes;
    size_t                   nroutes;
};

#define HTTP_TABLE(name, arr)                                               \
    { name, arr, sizeof(arr) / sizeof(arr[0]) }

/* Where a request comes from: FastCGI in production, a table in tests. */
struct http_io {
    const char *(*param)(void *ctx, const char *name);
    /* Read up to n bytes; returns bytes read, 0 at end, -1 on error. */
    long (*read)(void *ctx, uint8_t *p, size_t n);
    /* Write all n bytes; returns 0 or -1. */
    int (*write)(void *ctx, const uint8_t *p, size_t n);
    void *ctx;
};

/* Per-thread environment handed to every request. The two buffers are
 * the request and response bodies, kept between requests (wiped) so that
 * an ordinary request allocates nothing for them; http_env_cleanup()
 * releases them. */
struct http_env {
    const struct cw_config *cfg;
    struct store           *db;
    struct arena            arena;
    struct buf              keep_in;
    struct buf              keep_out;
};

struct http_identity {
    uint64_t     user_id;
    const char  *username;
    const char  *role;
    uint64_t     session_id;     /* 0 for API keys                   */
    uint64_t     api_key_id;     /* 0 for sessions                   */
    const char **perms;          /* NULL-terminated, arena memory    */
    int          via_cookie;
    const char  *sid;            /* session id (cookie sessions)     */
    int          must_change_password;
    int          needs_2fa;      /* role requires 2FA, not enrolled  */
    const char  *user_json;      /* members of the account object with
                                  * "permissions", no braces; valid for
                                  * the request                       */
    const char  *csrf_token;     /* a current CSRF token (cookie only) */
};

struct http_param {
    const char *name;
    const char *value;
};

struct http_req {
    struct http_env         *env;
    const struct http_io    *io;
    struct arena            *arena;
    const struct cw_config  *cfg;
    struct store            *db;
    enum http_method         method;
    const char              *method_name;
    const char              *path;         /* decoded-safe raw path      */
    const char              *query;        /* after '?', may be ""      */
    const char              *client_addr;
    char                     request_id[LIM_REQUEST_ID + 1];
    const struct http_route *route;
    struct http_param        params[LIM_PATH_PARAMS];
    size_t                   nparams;
    struct buf               body;
    struct http_identity    *who;          /* NULL when unauthenticated */
    /* Problem details for an error answer. */
    const char              *err_detail;
    const char              *err_field;
    unsigned                 retry_after;
};

struct http_header {
    const char *name;
    const char *value;
};

struct http_resp {
    int                 status;
    const char         *ctype;
    struct buf          body;
    struct http_header  headers[LIM_RESP_HEADERS];
    size_t              nheaders;
};

/* ---- dispatcher ------------------------------------------------------ */

/* Serve one request end to end; returns after the response is written. */
void http_handle(struct http_env *env, const struct http_io *io);
void http_env_init(struct http_env *env, const struct cw_config *cfg,
                   struct store *db);
/* Frees the kept bodies and the arena; not the database handle. */
void http_env_cleanup(struct http_env *env);
/* All route tables, NULL-terminated (routes.c). */
extern const struct http_route_table *const http_tables[];
/* Match a path against a pattern, capturing {params} into req. */
int http_route_match(const char *pattern, const char *path,
                     struct http_param *params, size_t *nparams);
const char *http_method_name(enum http_method m);
enum http_method http_method_parse(const char *s);

/* ---- request helpers ------------------------------------------------- */

const char *http_req_param(const struct http_req *req, const char *name);
/* Header by CGI name, e.g. "HTTP_X_CSRF_TOKEN". */
const char *http_req_header(const struct http_req *req, const char *cgi);
/* A path {param} as a positive integer id; malformed -> 400. */
enum cw_err http_req_path_u64(struct http_req *req, const char *name,
                              uint64_t *out);
/* Query parameter (percent-decoded into the arena); NULL when absent. */
const char *http_req_query(struct http_req *req, const char *name);
/* Parse the body as a JSON object and check it against fields. */
struct jsonx_field;
enum cw_err http_req_json(struct http_req *req,
                          const struct jsonx_field *fields, size_t nfields,
                          json_t **out);
/* Record problem details and return err (for "return http_fail(...)"). */
enum cw_err http_fail(struct http_req *req, enum cw_err err,
                      const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 400 unless every query key and value is clean UTF-8 (dispatcher). */
enum cw_err http_query_check(struct http_req *req);
/* Is s[0..n) well-formed UTF-8? */
int http_utf8_valid(const char *s, size_t n);
/* The client address per trusted_proxies (exposed for tests). */
const char *http_client_addr(struct arena *a, const struct cw_config *cfg,
                             const char *remote, const char *xff);
const char *http_client_addr_list(struct arena *a,
                                  const struct conf_cidr *proxies, size_t n,
                                  const char *remote, const char *xff);

/* ---- response helpers ------------------------------------------------ */

void http_resp_init(struct http_resp *resp);
void http_resp_cleanup(struct http_resp *resp);
enum cw_err http_resp_header(struct http_req *req, struct http_resp *resp,
                             const char *name, const char *value);
/* {"data": data, "meta": meta}; steals both references (meta may be
 * NULL). */
enum cw_err http_resp_data(struct http_resp *resp, int status, json_t *data,
                           json_t *meta);
/* A bare JSON document; steals the reference. */
enum cw_err http_resp_json(struct http_resp *resp, int status, json_t *doc);
enum cw_err http_resp_bytes(struct http_resp *resp, int status,
                            const char *ctype, const void *p, size_t n);
/* The problem+json body for err (exposed for tests). */
void http_problem_render(struct http_req *req, struct http_resp *resp,
                         enum cw_err err);
const char *http_reason(int status);
/* An HTTP date (RFC 9110 5.6.7, IMF-fixdate) of t into out[n]. */
void http_fmt_date(time_t t, char *out, size_t n);

/* ---- the FastCGI server ---------------------------------------------- */

/* "certward serve": master and workers; returns the exit code. */
int http_serve(const struct cw_config *cfg, char *const argv[]);

#endif

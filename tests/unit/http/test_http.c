/*
 * test_http.c: unit tests for backend/http: route matching, the route
 * tables, the client address behind trusted proxies, request helpers,
 * problem documents, and the dispatcher end to end through a table-backed
 * struct http_io (no sockets, no database: only requests that are answered
 * before any handler runs).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <check.h>
#include <jansson.h>

#include "http/http.h"
#include "cw_limits.h"
#include "util/conf.h"
#include "util/jsonx.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sp.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define ALL_METHODS                                                         \
    (HTTP_M_GET | HTTP_M_HEAD | HTTP_M_POST | HTTP_M_PUT | HTTP_M_PATCH |   \
     HTTP_M_DELETE | HTTP_M_OPTIONS)

/* ==== http_route_match ================================================== */

struct match_case {
    int         line;
    const char *pattern;
    const char *path;
    int         match;
    const char *params;     /* "name=value;..." when matched */
};

static const struct match_case match_cases[] = {
    /* literals */
    { __LINE__, "/api/health", "/api/health", 1, "" },
    { __LINE__, "/", "/", 1, "" },
    { __LINE__, "/api/health", "/api/healthz", 0, NULL },
    { __LINE__, "/api/health", "/api/healt", 0, NULL },
    { __LINE__, "/api/health", "/API/health", 0, NULL },
    { __LINE__, "/api/health", "/api/health?x", 0, NULL },
    { __LINE__, "/api/health", "", 0, NULL },
    { __LINE__, "/api/health", "/", 0, NULL },
    /* trailing slash differences */
    { __LINE__, "/api/health", "/api/health/", 0, NULL },
    { __LINE__, "/api/health/", "/api/health", 0, NULL },
    { __LINE__, "/users/{id}", "/users/42/", 0, NULL },
    /* empty segments */
    { __LINE__, "/api/health", "/api//health", 0, NULL },
    { __LINE__, "/api/health", "//api/health", 0, NULL },
    { __LINE__, "/users/{id}", "/users/", 0, NULL },
    { __LINE__, "/users/{id}", "/users//", 0, NULL },
    { __LINE__, "/users/{id}", "/users", 0, NULL },
    { __LINE__, "/users/{id}/password", "/users//password", 0, NULL },
    /* {param} */
    { __LINE__, "/users/{id}", "/users/42", 1, "id=42" },
    { __LINE__, "/users/{id}", "/users/x-y.z", 1, "id=x-y.z" },
    { __LINE__, "/users/{id}", "/users/42/x", 0, NULL },
    { __LINE__, "/users/{id}/password", "/users/7/password", 1, "id=7" },
    { __LINE__, "/users/{id}/password", "/users/7/passwords", 0, NULL },
    { __LINE__, "/users/{id}/password", "/users/7", 0, NULL },
    { __LINE__, "/a/{x}/b/{y}", "/a/1/b/2", 1, "x=1;y=2" },
    { __LINE__, "/a/{x}/b/{y}", "/a/1/c/2", 0, NULL },
    { __LINE__, "/a/{x}/{y}", "/a/1/2", 1, "x=1;y=2" },
    { __LINE__, "/users/{id", "/users/42", 0, NULL },
    /* {rest*} catch-all */
    { __LINE__, "/files/{rest*}", "/files/a", 1, "rest=a" },
    { __LINE__, "/files/{rest*}", "/files/a/b/c", 1, "rest=a/b/c" },
    { __LINE__, "/files/{rest*}", "/files/a/", 1, "rest=a/" },
    { __LINE__, "/files/{rest*}", "/files/", 0, NULL },
    { __LINE__, "/files/{rest*}", "/files", 0, NULL },
    { __LINE__, "/f/{id}/{rest*}", "/f/9/x/y", 1, "id=9;rest=x/y" },
    { __LINE__, "/f/{id}/{rest*}", "/f/9/", 0, NULL },
    /* LIM_PATH_PARAMS captures at most */
    { __LINE__, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}", "/1/2/3/4/5/6/7/8", 1,
      "a=1;b=2;c=3;d=4;e=5;f=6;g=7;h=8" },
    { __LINE__, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", "/1/2/3/4/5/6/7/8/9",
      0, NULL },
    { __LINE__, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i*}", "/1/2/3/4/5/6/7/8/9",
      0, NULL },
};

/* "name=value;..." of the captures, as the dispatcher materializes them. */
static void
params_text(const struct http_param *p, size_t n, char *out, size_t outlen)
{
    size_t o = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t nl = strcspn(p[i].name, "*}");
        size_t vl = p[i].name[nl] == '*' ? strlen(p[i].value)
                                         : strcspn(p[i].value, "/");

        o += (size_t)snprintf(out + o, outlen - o, "%s%.*s=%.*s",
                              i ? ";" : "", (int)nl, p[i].name, (int)vl,
                              p[i].value);
        if (o >= outlen)
            break;
    }
}

START_TEST(test_route_match)
{
    const struct match_case *c = &match_cases[_i];
    struct http_param params[LIM_PATH_PARAMS + 1];
    size_t            n = 999;
    char              got[256];
    int               m;

    memset(params, 0, sizeof(params));
    m = http_route_match(c->pattern, c->path, params, &n);
    ck_assert_msg(m == c->match, "line %d: '%s' vs '%s' -> %d", c->line,
                  c->pattern, c->path, m);
    ck_assert_msg(params[LIM_PATH_PARAMS].name == NULL,
                  "line %d: params overrun", c->line);
    /* Without capture storage the answer is the same. */
    ck_assert_msg(http_route_match(c->pattern, c->path, NULL, NULL) == m,
                  "line %d: NULL params", c->line);
    if (!m)
        return;
    ck_assert_msg(n <= LIM_PATH_PARAMS, "line %d", c->line);
    params_text(params, n, got, sizeof(got));
    ck_assert_msg(strcmp(got, c->params) == 0, "line %d: params '%s' want '%s'",
                  c->line, got, c->params);
}
END_TEST

/* ==== route tables ====================================================== */

static int
perm_valid(const char *p)
{
    const char *colon = strchr(p, ':');
    size_t      a;
    size_t      r;

    if (colon == NULL || strchr(colon + 1, ':') != NULL)
        return 0;
    a = (size_t)(colon - p);
    r = strlen(colon + 1);
    return a > 0 && r > 0 &&
           strspn(p, "abcdefghijklmnopqrstuvwxyz_-") == a &&
           strspn(colon + 1, "abcdefghijklmnopqrstuvwxyz_-") == r;
}

/* What is wrong with one route, or NULL. */
static const char *
route_problem(const struct http_route *r)
{
    const char *s;
    size_t      nparams = 0;
    size_t      nseg = 0;

    if (r->pattern == NULL || r->pattern[0] != '/')
        return "pattern must start with /";
    if (r->methods == 0)
        return "no methods";
    if ((r->methods & ~(unsigned)ALL_METHODS) != 0)
        return "unknown method bits";
    if (r->handler == NULL)
        return "no handler";
    if ((unsigned)r->auth >= AUTH__MAX)
        return "bad auth";
    if ((unsigned)r->rl >= RL__MAX)
        return "bad rate-limit class";
    if (r->auth == AUTH_PUBLIC && r->perm != NULL)
        return "public route with a permission";
    if (r->auth != AUTH_PUBLIC && r->perm == NULL)
        return "authenticated route without a permission";
    if (r->perm != NULL && !perm_valid(r->perm))
        return "permission is not action:resource";
    if (r->body_max > LIM_BODY_MAX)
        return "body cap over LIM_BODY_MAX";
    if (strstr(r->pattern, "//") != NULL)
        return "empty segment in pattern";
    if (strlen(r->pattern) > 1 && r->pattern[strlen(r->pattern) - 1] == '/')
        return "trailing slash in pattern";
    for (s = r->pattern; *s != '\0'; s++) {
        if (*s == '/') {
            nseg++;
            if (s[1] == '{') {
                const char *close = strchr(s, '}');
                size_t      nl;

                if (close == NULL)
                    return "unterminated {param}";
                nl = (size_t)(close - s - 2);
                if (close[-1] == '*') {
                    nl--;
                    if (close[1] != '\0')
                        return "{rest*} must be last";
                }
                if (nl == 0 || strspn(s + 2, "abcdefghijklmnopqrstuvwxyz_") !=
                                   nl)
                    return "bad {param} name";
                if (close[1] != '\0' && close[1] != '/')
                    return "{param} must be a whole segment";
                nparams++;
            }
        } else if ((*s == '{' && s[-1] != '/') ||
                   (*s == '}' && s[1] != '\0' && s[1] != '/')) {
            return "{param} must be a whole segment";
        }
    }
    if (nparams > LIM_PATH_PARAMS)
        return "too many {params}";
    if (nseg > LIM_PATH_SEGMENTS)
        return "too many segments";
    return NULL;
}

static enum cw_err
dummy_handler(struct http_req *req, struct http_resp *resp)
{
    (void)req;
    (void)resp;
    return CW_OK;
}

/* The checker itself: each bad route must be caught. */
struct bad_routes_case {
    int               line;
    struct http_route r;
    const char       *problem;      /* substring; NULL: valid */
};

static const struct bad_routes_case bad_routes[] = {
    { __LINE__, { HTTP_M_GET, "/api/x", dummy_handler, AUTH_PUBLIC, NULL, 0,
                  RL_DEFAULT }, NULL },
    { __LINE__, { HTTP_M_GET, "/api/x/{id}", dummy_handler, AUTH_USER,
                  "read:x", 0, RL_DEFAULT }, NULL },
    { __LINE__, { HTTP_M_GET, "/api/f/{rest*}", dummy_handler, AUTH_USER,
                  "read:x", 0, RL_DEFAULT }, NULL },
    { __LINE__, { HTTP_M_GET, "/api/x", dummy_handler, AUTH_PUBLIC, "read:x",
                  0, RL_DEFAULT }, "public route with a permission" },
    { __LINE__, { HTTP_M_GET, "/api/x", dummy_handler, AUTH_USER, NULL, 0,
                  RL_DEFAULT }, "without a permission" },
    { __LINE__, { HTTP_M_GET, "/api/x", dummy_handler, AUTH_USER, "read", 0,
                  RL_DEFAULT }, "action:resource" },
    { __LINE__, { HTTP_M_GET, "/api/x", dummy_handler, AUTH_USER, "read:", 0,
                  RL_DEFAULT }, "action:resource" },
    { __LINE__, { HTTP_M_GET, "/api/x", dummy_handler, AUTH_USER, ":x", 0,
                  RL_DEFAULT }, "action:resource" },
    { __LINE__, { HTTP_M_GET, "/api/x", dummy_handler, AUTH_USER, "Read:X", 0,
                  RL_DEFAULT }, "action:resource" },
    { __LINE__, { HTTP_M_GET, "/api/x", dummy_handler, AUTH_USER,
                  "read:x:y", 0, RL_DEFAULT }, "action:resource" },
    { __LINE__, { HTTP_M_GET, "api/x", dummy_handler, AUTH_PUBLIC, NULL, 0,
                  RL_DEFAULT }, "start with /" },
    { __LINE__, { 0, "/api/x", dummy_handler, AUTH_PUBLIC, NULL, 0,
                  RL_DEFAULT }, "no methods" },
    { __LINE__, { 1u << 12, "/api/x", dummy_handler, AUTH_PUBLIC, NULL, 0,
                  RL_DEFAULT }, "unknown method" },
    { __LINE__, { HTTP_M_GET, "/api/x", NULL, AUTH_PUBLIC, NULL, 0,
                  RL_DEFAULT }, "no handler" },
    { __LINE__, { HTTP_M_GET, "/api/x/", dummy_handler, AUTH_PUBLIC, NULL, 0,
                  RL_DEFAULT }, "trailing slash" },
    { __LINE__, { HTTP_M_GET, "/api//x", dummy_handler, AUTH_PUBLIC, NULL, 0,
                  RL_DEFAULT }, "empty segment" },
    { __LINE__, { HTTP_M_GET, "/api/{id", dummy_handler, AUTH_PUBLIC, NULL,
                  0, RL_DEFAULT }, "unterminated" },
    { __LINE__, { HTTP_M_GET, "/api/{}", dummy_handler, AUTH_PUBLIC, NULL,
                  0, RL_DEFAULT }, "bad {param} name" },
    { __LINE__, { HTTP_M_GET, "/api/x{id}", dummy_handler, AUTH_PUBLIC, NULL,
                  0, RL_DEFAULT }, "whole segment" },
    { __LINE__, { HTTP_M_GET, "/api/{id}x", dummy_handler, AUTH_PUBLIC, NULL,
                  0, RL_DEFAULT }, "whole segment" },
    { __LINE__, { HTTP_M_GET, "/api/{rest*}/x", dummy_handler, AUTH_PUBLIC,
                  NULL, 0, RL_DEFAULT }, "must be last" },
    { __LINE__, { HTTP_M_GET, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}",
                  dummy_handler, AUTH_PUBLIC, NULL, 0, RL_DEFAULT },
      "too many {params}" },
    { __LINE__, { HTTP_M_POST, "/api/x", dummy_handler, AUTH_PUBLIC, NULL,
                  LIM_BODY_MAX + 1, RL_DEFAULT }, "body cap" },
};

START_TEST(test_route_checker)
{
    const struct bad_routes_case *c = &bad_routes[_i];
    const char *p = route_problem(&c->r);

    if (c->problem == NULL)
        ck_assert_msg(p == NULL, "line %d: flagged '%s'", c->line, p);
    else
        ck_assert_msg(p != NULL && strstr(p, c->problem) != NULL,
                      "line %d: got '%s' want '%s'", c->line,
                      p ? p : "(valid)", c->problem);
}
END_TEST

START_TEST(test_route_tables)
{
    size_t ntables = 0;
    size_t nroutes = 0;

    for (size_t t = 0; http_tables[t] != NULL; t++) {
        const struct http_route_table *tab = http_tables[t];

        ntables++;
        ck_assert_msg(tab->name != NULL && tab->name[0] != '\0',
                      "table %zu has no name", t);
        ck_assert_msg(tab->nroutes > 0 && tab->routes != NULL,
                      "table %s is empty", tab->name);
        for (size_t i = 0; i < tab->nroutes; i++) {
            const struct http_route *r = &tab->routes[i];
            const char              *p = route_problem(r);

            nroutes++;
            ck_assert_msg(p == NULL, "table %s route %zu (%s): %s",
                          tab->name, i, r->pattern ? r->pattern : "(null)",
                          p);
            /* Duplicate (method, pattern) across every table. */
            for (size_t u = 0; u <= t; u++) {
                const struct http_route_table *o = http_tables[u];
                size_t lim = u == t ? i : o->nroutes;

                for (size_t j = 0; j < lim; j++)
                    ck_assert_msg(
                        strcmp(o->routes[j].pattern, r->pattern) != 0 ||
                            (o->routes[j].methods & r->methods) == 0,
                        "duplicate route %s (tables %s and %s)", r->pattern,
                        o->name, tab->name);
            }
        }
    }
    ck_assert_uint_gt(ntables, 0);
    ck_assert_uint_gt(nroutes, 0);
}
END_TEST

/* Make a concrete path for a pattern: {x} -> "1", {x*} -> "a/b". */
static void
pattern_path(const char *pattern, char *out, size_t n)
{
    size_t o = 0;

    for (const char *p = pattern; *p != '\0' && o + 4 < n; p++) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *v = close[-1] == '*' ? "a/b" : "1";

            o += (size_t)snprintf(out + o, n - o, "%s", v);
            p = close;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

/* Every route is reachable: for a path made from its pattern and each of
 * its methods, the first matching route (dispatch order) is that route. */
START_TEST(test_route_reachable)
{
    for (size_t t = 0; http_tables[t] != NULL; t++) {
        for (size_t i = 0; i < http_tables[t]->nroutes; i++) {
            const struct http_route *r = &http_tables[t]->routes[i];
            char                     path[512];

            pattern_path(r->pattern, path, sizeof(path));
            for (unsigned m = 1; m <= HTTP_M_OPTIONS; m <<= 1) {
                const struct http_route *first = NULL;

                if (!(r->methods & m))
                    continue;
                for (size_t u = 0; http_tables[u] != NULL && !first; u++)
                    for (size_t j = 0; j < http_tables[u]->nroutes; j++) {
                        const struct http_route *o =
                            &http_tables[u]->routes[j];

                        if ((o->methods & m) &&
                            http_route_match(o->pattern, path, NULL, NULL)) {
                            first = o;
                            break;
                        }
                    }
                ck_assert_msg(first == r,
                              "%s %s (table %s) is shadowed by %s",
                              http_method_name((enum http_method)m),
                              r->pattern, http_tables[t]->name,
                              first ? first->pattern : "(nothing)");
            }
        }
    }
}
END_TEST

struct method_case {
    int              line;
    const char      *name;
    enum http_method m;
};

static const struct method_case method_cases[] = {
    { __LINE__, "GET", HTTP_M_GET },
    { __LINE__, "HEAD", HTTP_M_HEAD },
    { __LINE__, "POST", HTTP_M_POST },
    { __LINE__, "PUT", HTTP_M_PUT },
    { __LINE__, "PATCH", HTTP_M_PATCH },
    { __LINE__, "DELETE", HTTP_M_DELETE },
    { __LINE__, "OPTIONS", HTTP_M_OPTIONS },
    { __LINE__, "get", 0 },
    { __LINE__, "GET ", 0 },
    { __LINE__, "", 0 },
    { __LINE__, "TRACE", 0 },
    { __LINE__, "CONNECT", 0 },
    { __LINE__, NULL, 0 },
};

START_TEST(test_methods)
{
    const struct method_case *c = &method_cases[_i];

    ck_assert_msg(http_method_parse(c->name) == c->m, "line %d", c->line);
    if (c->m != 0)
        ck_assert_msg(strcmp(http_method_name(c->m), c->name) == 0,
                      "line %d", c->line);
    ck_assert_str_eq(http_method_name(0), "?");
    ck_assert_str_eq(http_reason(404), "Not Found");
    ck_assert_str_eq(http_reason(405), "Method Not Allowed");
    ck_assert_str_eq(http_reason(999), "Unknown");
}
END_TEST

/* Every status an error code maps to has a reason phrase. */
START_TEST(test_reasons_cover_errors)
{
    for (int e = 0; e < CW_E__MAX; e++) {
        int st = cw_err_info((enum cw_err)e)->status;

        ck_assert_msg(strcmp(http_reason(st), "Unknown") != 0,
                      "status %d of %s has no reason phrase", st,
                      cw_err_name((enum cw_err)e));
    }
}
END_TEST

/* ==== http_client_addr ================================================== */

#define XFF_MANY_TRUSTED                                                    \
    "1.2.3.4, 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6, " \
    "10.0.0.7, 10.0.0.8, 10.0.0.9, 10.0.0.10, 10.0.0.11, 10.0.0.12, "       \
    "10.0.0.13, 10.0.0.14, 10.0.0.15, 10.0.0.16, 10.0.0.17, 10.0.0.18, "    \
    "10.0.0.19, 10.0.0.20"
/* LIM_XFF_HOPS entries: 15 trusted proxies and the client. */
#define XFF_16                                                              \
    "1.2.3.4, 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6, " \
    "10.0.0.7, 10.0.0.8, 10.0.0.9, 10.0.0.10, 10.0.0.11, 10.0.0.12, "       \
    "10.0.0.13, 10.0.0.14, 10.0.0.15"

struct addr_case {
    int         line;
    const char *proxies;
    const char *remote;
    const char *xff;
    const char *want;
};

static const struct addr_case addr_cases[] = {
    /* no X-Forwarded-For */
    { __LINE__, "", "203.0.113.5", NULL, "203.0.113.5" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", NULL, "10.0.0.1" },
    { __LINE__, "10.0.0.0/8", NULL, NULL, "" },
    { __LINE__, "10.0.0.0/8", NULL, "1.2.3.4", "" },
    /* no trusted proxies: XFF ignored */
    { __LINE__, "", "10.0.0.1", "1.2.3.4", "10.0.0.1" },
    /* XFF from an untrusted REMOTE_ADDR ignored */
    { __LINE__, "10.0.0.0/8", "203.0.113.5", "1.2.3.4", "203.0.113.5" },
    { __LINE__, "10.0.0.0/8", "203.0.113.5", "10.0.0.2", "203.0.113.5" },
    /* one trusted proxy */
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "1.2.3.4", "1.2.3.4" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", " 1.2.3.4 ", "1.2.3.4" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "", "10.0.0.1" },
    /* chain walked right to left; spoofed entries on the left ignored */
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "1.2.3.4, 10.0.0.2", "1.2.3.4" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "1.2.3.4,10.0.0.2,10.0.0.3",
      "1.2.3.4" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2",
      "1.2.3.4" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "6.6.6.6,\t1.2.3.4", "1.2.3.4" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "10.0.0.5, 10.0.0.6", "10.0.0.5" },
    /* a malformed entry stops the walk at the last trusted hop */
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "junk", "10.0.0.1" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "1.2.3.4, junk", "10.0.0.1" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "1.2.3.4, junk, 10.0.0.2",
      "10.0.0.2" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "1.2.3.4,", "10.0.0.1" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "1.2.3.4,,10.0.0.2", "10.0.0.2" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", ",", "10.0.0.1" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "1.2.3.4:5678", "10.0.0.1" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "unknown", "10.0.0.1" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "1.2.3.4 5.6.7.8", "10.0.0.1" },
    /* more than LIM_XFF_HOPS entries: the walk stops after that many */
    { __LINE__, "10.0.0.0/8", "10.0.0.99", XFF_16, "1.2.3.4" },
    { __LINE__, "10.0.0.0/8", "10.0.0.99", XFF_MANY_TRUSTED, "10.0.0.5" },
    /* IPv6 */
    { __LINE__, "::1", "::1", "2001:db8::5", "2001:db8::5" },
    { __LINE__, "::1, fd00::/8", "::1", "2001:db8::5, fd00::7",
      "2001:db8::5" },
    { __LINE__, "::1", "::1", "[2001:db8::5]", "::1" },
    { __LINE__, "::1", "::1", "2001:db8::5, 1.2.3.4", "1.2.3.4" },
    { __LINE__, "::1", "2001:db8::1", "1.2.3.4", "2001:db8::1" },
    { __LINE__, "10.0.0.0/8", "::ffff:10.0.0.1", "1.2.3.4", "1.2.3.4" },
    { __LINE__, "10.0.0.0/8", "10.0.0.1", "::ffff:10.0.0.7, 1.2.3.4",
      "1.2.3.4" },
};

START_TEST(test_client_addr)
{
    const struct addr_case *c = &addr_cases[_i];
    struct cw_config *cfg = cw_xcalloc(1, sizeof(*cfg));
    struct arena      a;
    const char       *got;
    char              copy[128];

    conf_defaults(cfg);
    ck_assert_msg(conf_cidrs_parse(c->proxies, cfg->proxies,
                                   N_ELEMS(cfg->proxies),
                                   &cfg->nproxies) == CW_OK,
                  "line %d: proxies", c->line);
    arena_init(&a);
    got = http_client_addr(&a, cfg, c->remote, c->xff);
    snprintf(copy, sizeof(copy), "%s", got ? got : "(null)");
    arena_reset(&a);
    conf_free(cfg);
    ck_assert_msg(strcmp(copy, c->want) == 0,
                  "line %d: remote %s xff '%s' -> '%s' want '%s'", c->line,
                  c->remote ? c->remote : "(null)",
                  c->xff ? c->xff : "(null)", copy, c->want);
}
END_TEST

/* ==== request helpers =================================================== */

struct fake_io {
    const char *const *params;      /* name, value, ..., NULL */
    const char        *body;
    size_t             body_len;
    size_t             body_pos;
    struct buf         out;
    int                writes;
};

static const char *
fake_param(void *ctx, const char *name)
{
    struct fake_io *f = ctx;

    for (size_t i = 0; f->params != NULL && f->params[i] != NULL; i += 2)
        if (strcmp(f->params[i], name) == 0)
            return f->params[i + 1];
    return NULL;
}

static long
fake_read(void *ctx, uint8_t *p, size_t n)
{
    struct fake_io *f = ctx;
    size_t          k = f->body_len - f->body_pos;

    if (k > n)
        k = n;
    memcpy(p, f->body + f->body_pos, k);
    f->body_pos += k;
    return (long)k;
}

static int
fake_write(void *ctx, const uint8_t *p, size_t n)
{
    struct fake_io *f = ctx;

    f->writes++;
    return buf_append(&f->out, p, n) == CW_OK ? 0 : -1;
}

static void
req_setup(struct http_req *req, struct arena *a, struct http_io *io,
          struct fake_io *f)
{
    memset(req, 0, sizeof(*req));
    arena_init(a);
    req->arena = a;
    req->io = io;
    io->param = fake_param;
    io->read = fake_read;
    io->write = fake_write;
    io->ctx = f;
    snprintf(req->request_id, sizeof(req->request_id), "%s",
             "0123456789abcdef0123456789abcdef");
    buf_init(&req->body, 0);
}

struct query_case {
    int         line;
    const char *query;
    const char *name;
    const char *want;       /* NULL: absent or refused */
};

static const struct query_case query_cases[] = {
    { __LINE__, "a=1&b=2", "a", "1" },
    { __LINE__, "a=1&b=2", "b", "2" },
    { __LINE__, "a=1&b=2", "c", NULL },
    { __LINE__, "", "a", NULL },
    { __LINE__, "a", "a", "" },
    { __LINE__, "a=", "a", "" },
    { __LINE__, "ab=1", "a", NULL },
    { __LINE__, "a=1&a=2", "a", "1" },
    { __LINE__, "q=%41+B%2f", "q", "A B/" },
    { __LINE__, "q=caf%C3%A9", "q", "caf\xc3\xa9" },
    { __LINE__, "q=%zz", "q", NULL },
    { __LINE__, "q=%4", "q", NULL },
    { __LINE__, "q=%", "q", NULL },
    { __LINE__, "q=%00", "q", NULL },
    { __LINE__, "q=%0a", "q", NULL },
    { __LINE__, "q=a=b", "q", "a=b" },
};

START_TEST(test_req_query)
{
    const struct query_case *c = &query_cases[_i];
    struct http_req req;
    struct arena    a;
    struct http_io  io;
    struct fake_io  f = { 0 };
    const char     *got;
    char            copy[64];
    int             null;

    req_setup(&req, &a, &io, &f);
    req.query = c->query;
    got = http_req_query(&req, c->name);
    null = got == NULL;
    snprintf(copy, sizeof(copy), "%s", got ? got : "");
    arena_reset(&a);
    if (c->want == NULL)
        ck_assert_msg(null, "line %d: got '%s'", c->line, copy);
    else
        ck_assert_msg(!null && strcmp(copy, c->want) == 0,
                      "line %d: got '%s' want '%s'", c->line,
                      null ? "(null)" : copy, c->want);
}
END_TEST

struct path_u64_case {
    int         line;
    const char *value;
    enum cw_err err;
    uint64_t    want;
};

static const struct path_u64_case path_u64_cases[] = {
    { __LINE__, "1", CW_OK, 1 },
    { __LINE__, "42", CW_OK, 42 },
    { __LINE__, "9223372036854775807", CW_OK, INT64_MAX },
    { __LINE__, "9223372036854775808", CW_E_BADREQ, 0 },
    { __LINE__, "0", CW_E_BADREQ, 0 },
    { __LINE__, "01", CW_E_BADREQ, 0 },
    { __LINE__, "-1", CW_E_BADREQ, 0 },
    { __LINE__, "1a", CW_E_BADREQ, 0 },
    { __LINE__, "", CW_E_BADREQ, 0 },
    { __LINE__, NULL, CW_E_BADREQ, 0 },
};

START_TEST(test_req_path_u64)
{
    const struct path_u64_case *c = &path_u64_cases[_i];
    struct http_req req;
    struct arena    a;
    struct http_io  io;
    struct fake_io  f = { 0 };
    uint64_t        v = 0;
    enum cw_err     err;
    int             field_ok;

    req_setup(&req, &a, &io, &f);
    if (c->value != NULL) {
        req.params[0].name = "id";
        req.params[0].value = c->value;
        req.nparams = 1;
    }
    err = http_req_path_u64(&req, "id", &v);
    field_ok = err == CW_OK ||
               (req.err_field != NULL && strcmp(req.err_field, "id") == 0);
    arena_reset(&a);
    ck_assert_msg(err == c->err, "line %d: err %d", c->line, (int)err);
    ck_assert_msg(field_ok, "line %d: err_field", c->line);
    if (err == CW_OK)
        ck_assert_msg(v == c->want, "line %d", c->line);
}
END_TEST

static const struct jsonx_field json_fields[] = {
    { "name", JSONX_STRING, 1, 16, 0, 0 },
};

struct req_json_case {
    int         line;
    const char *ctype;
    const char *body;
    enum cw_err err;
    const char *field;
};

static const struct req_json_case req_json_cases[] = {
    { __LINE__, "application/json", "{\"name\":\"x\"}", CW_OK, NULL },
    { __LINE__, "application/json; charset=utf-8", "{\"name\":\"x\"}", CW_OK,
      NULL },
    { __LINE__, "Application/JSON", "{\"name\":\"x\"}", CW_OK, NULL },
    { __LINE__, NULL, "{\"name\":\"x\"}", CW_E_MEDIATYPE, NULL },
    { __LINE__, "text/plain", "{\"name\":\"x\"}", CW_E_MEDIATYPE, NULL },
    { __LINE__, "application/jsonx", "{\"name\":\"x\"}", CW_E_MEDIATYPE,
      NULL },
    { __LINE__, "application/json-patch+json", "{\"name\":\"x\"}",
      CW_E_MEDIATYPE, NULL },
    { __LINE__, "application/json", "", CW_E_JSON, NULL },
    { __LINE__, "application/json", "[1]", CW_E_JSON, NULL },
    { __LINE__, "application/json", "{\"name\":\"x\",\"name\":\"y\"}",
      CW_E_JSON, NULL },
    { __LINE__, "application/json", "{\"name\":\"x\",\"admin\":true}",
      CW_E_BADREQ, "admin" },
    { __LINE__, "application/json", "{\"name\":1}", CW_E_BADREQ, "name" },
    { __LINE__, "application/json", "{}", CW_E_BADREQ, "name" },
};

START_TEST(test_req_json)
{
    const struct req_json_case *c = &req_json_cases[_i];
    const char     *params[] = { "CONTENT_TYPE", c->ctype, NULL };
    struct http_req req;
    struct arena    a;
    struct http_io  io;
    struct fake_io  f = { 0 };
    json_t         *obj = NULL;
    enum cw_err     err;
    int             got_obj;
    char            field[64] = "";
    int             has_detail;

    f.params = c->ctype ? params : NULL;
    req_setup(&req, &a, &io, &f);
    buf_init(&req.body, LIM_BODY_JSON_SMALL);
    buf_puts(&req.body, c->body);
    err = http_req_json(&req, json_fields, N_ELEMS(json_fields), &obj);
    got_obj = json_is_object(obj);
    if (req.err_field != NULL)
        snprintf(field, sizeof(field), "%s", req.err_field);
    has_detail = req.err_detail != NULL;
    buf_cleanup(&req.body);
    arena_reset(&a);    /* releases obj */
    ck_assert_msg(err == c->err, "line %d: err %d want %d", c->line,
                  (int)err, (int)c->err);
    if (err == CW_OK) {
        ck_assert_msg(got_obj, "line %d: no object", c->line);
    } else {
        ck_assert_msg(obj == NULL, "line %d: obj on error", c->line);
        ck_assert_msg(has_detail, "line %d: no detail", c->line);
        if (c->field != NULL)
            ck_assert_msg(strcmp(field, c->field) == 0,
                          "line %d: field '%s' want '%s'", c->line, field,
                          c->field);
    }
}
END_TEST

/* ==== http_problem_render =============================================== */

static json_t *
render(enum cw_err err, const char *detail, const char *field,
       struct http_resp *resp, char *ctype, size_t ctlen)
{
    struct http_req req;
    struct arena    a;
    struct http_io  io;
    struct fake_io  f = { 0 };
    json_t         *doc;

    req_setup(&req, &a, &io, &f);
    req.err_detail = detail;
    req.err_field = field;
    http_resp_init(resp);
    http_resp_header(&req, resp, "X-Stale", "1");
    http_problem_render(&req, resp, err);
    doc = json_loadb((const char *)resp->body.p, resp->body.len, 0, NULL);
    snprintf(ctype, ctlen, "%s", resp->ctype ? resp->ctype : "");
    arena_reset(&a);
    return doc;
}

START_TEST(test_problem_render_codes)
{
    int e = _i + 1;     /* every error code */
    const struct cw_err_info *info = cw_err_info((enum cw_err)e);
    struct http_resp resp;
    char             ctype[64];
    char             type[128];
    json_t          *doc = render((enum cw_err)e, NULL, NULL, &resp, ctype,
                                  sizeof(ctype));
    int              status = resp.status;
    size_t           nheaders = resp.nheaders;

    http_resp_cleanup(&resp);
    ck_assert_msg(doc != NULL && json_is_object(doc), "%s: body not JSON",
                  info->code);
    snprintf(type, sizeof(type), "urn:certward:problem:%s", info->code);
    ck_assert_int_eq(status, info->status);
    ck_assert_str_eq(ctype, "application/problem+json");
    ck_assert_uint_eq(nheaders, 0);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "type")), type);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "title")),
                     info->title);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "status")),
                     info->status);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "detail")),
                     info->title);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "code")),
                     info->code);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "request_id")),
                     "0123456789abcdef0123456789abcdef");
    ck_assert_uint_eq(json_object_size(doc), 6);
    json_decref(doc);
}
END_TEST

START_TEST(test_problem_render_detail)
{
    struct http_resp resp;
    char             ctype[64];
    json_t          *doc;

    doc = render(CW_E_BADREQ, "name must be a string", "name", &resp, ctype,
                 sizeof(ctype));
    ck_assert_int_eq(resp.status, 400);
    http_resp_cleanup(&resp);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "detail")),
                     "name must be a string");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "field")), "name");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "code")),
                     "bad_request");
    ck_assert_uint_eq(json_object_size(doc), 7);
    json_decref(doc);

    /* Quotes and control characters in a detail stay inside the JSON. */
    doc = render(CW_E_NOTFOUND, "a \"b\"\n</script>", NULL, &resp, ctype,
                 sizeof(ctype));
    http_resp_cleanup(&resp);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "detail")),
                     "a \"b\"\n</script>");
    json_decref(doc);
}
END_TEST

/* A detail or field that is not UTF-8 (client text cut short) still gives
 * a problem document that names the code and the request id. */
struct bad_utf8_case {
    int         line;
    const char *detail;
    const char *field;
};

static const struct bad_utf8_case bad_utf8_cases[] = {
    { __LINE__, "bad \xc3", NULL },
    { __LINE__, "fine", "k\xc3" },
    { __LINE__, "\xff\xfe", "\xff" },
};

START_TEST(test_problem_render_bad_utf8)
{
    const struct bad_utf8_case *c = &bad_utf8_cases[_i];
    struct http_resp resp;
    char             ctype[64];
    json_t          *doc;
    int              status;
    const char      *rid;
    int              ok_code;
    int              ok_rid;

    doc = render(CW_E_BADREQ, c->detail, c->field, &resp, ctype,
                 sizeof(ctype));
    status = resp.status;
    http_resp_cleanup(&resp);
    ck_assert_msg(doc != NULL, "line %d: body is not JSON", c->line);
    ok_code = json_is_string(json_object_get(doc, "code")) &&
              strcmp(json_string_value(json_object_get(doc, "code")),
                     "bad_request") == 0 &&
              json_integer_value(json_object_get(doc, "status")) == 400;
    rid = json_string_value(json_object_get(doc, "request_id"));
    ok_rid = rid != NULL &&
             strcmp(rid, "0123456789abcdef0123456789abcdef") == 0;
    json_decref(doc);
    ck_assert_int_eq(status, 400);
    ck_assert_str_eq(ctype, "application/problem+json");
    ck_assert_msg(ok_code, "line %d: code/status missing", c->line);
    ck_assert_msg(ok_rid,
                  "line %d: problem document lost request_id when the "
                  "detail/field is not UTF-8",
                  c->line);
}
END_TEST

/* Response headers: what could split the head is refused, the rest is
 * kept as given. */
START_TEST(test_resp_header_guard)
{
    static const struct {
        const char *name;
        const char *value;
        int         ok;
    } cases[] = {
        { "X-Ok", "a value: with colon and spaces", 1 },
        { "X-Empty", "", 1 },
        { "X-Bad", "a\r\nSet-Cookie: x=1", 0 },
        { "X-Bad", "a\nb", 0 },
        { "X-Bad", "a\rb", 0 },
        { "X-Bad: y", "v", 0 },
        { "X Bad", "v", 0 },
        { "X-Bad\n", "v", 0 },
        { "X-Bad\r", "v", 0 },
    };
    struct arena     a;
    struct http_req  req;
    struct http_resp resp;

    arena_init(&a);
    memset(&req, 0, sizeof(req));
    req.arena = &a;
    http_resp_init(&resp);
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        size_t n = resp.nheaders;
        enum cw_err err = http_resp_header(&req, &resp, cases[i].name,
                                           cases[i].value);

        ck_assert_msg((err == CW_OK) == cases[i].ok, "case %zu", i);
        ck_assert_uint_eq(resp.nheaders, n + (cases[i].ok ? 1 : 0));
        if (cases[i].ok) {
            ck_assert_str_eq(resp.headers[n].name, cases[i].name);
            ck_assert_str_eq(resp.headers[n].value, cases[i].value);
        }
    }
    while (resp.nheaders < LIM_RESP_HEADERS)
        ck_assert_int_eq(http_resp_header(&req, &resp, "X-Fill", "1"), CW_OK);
    ck_assert_int_eq(http_resp_header(&req, &resp, "X-Over", "1"),
                     CW_E_INTERNAL);
    http_resp_cleanup(&resp);
    arena_reset(&a);
}
END_TEST

/* The path decoder (eight octets at a time over plain runs) against a
 * plain octet-by-octet reference, over random paths of plain octets,
 * escapes (good and bad), '+', controls, DEL, high octets and dots. */
char *http_path_decode(struct arena *a, const char *raw, size_t n);

static int
ref_path_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '%') {
            int hi;
            int lo;

            if (i + 2 >= n)
                return -1;
            hi = sp_hexval(s[i + 1]);
            lo = sp_hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (out[0] != '/')
        return -1;
    for (const char *p = out; *p != '\0';) {
        const char *e = strchr(p + 1, '/');
        size_t      l = e ? (size_t)(e - p - 1) : strlen(p + 1);

        if ((l == 1 && p[1] == '.') || (l == 2 && p[1] == '.' && p[2] == '.'))
            return -1;
        if (e == NULL)
            break;
        p = e;
    }
    return 0;
}

START_TEST(test_path_decode_matches_reference)
{
    static const char *const pieces[] = {
        "a", "Z", "0", "~", "-", "_", ",", "=", ":", "/", ".", "..", "+",
        "%2B", "%2f", "%3D", "%41", "%7e", "%7F", "%1f", "%00", "%20", "%",
        "%4", "%G1", "%zz", "\x7f", "\x01", "\t", " ", "\x80", "\xc3\xa9",
        "MEIwQDA+MDwwOjAJBgUrDgMCGgUABBQ", "abcdefgh", "12345678" };
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    struct arena a;

    arena_init(&a);
    for (int iter = 0; iter < 20000; iter++) {
        char   in[512];
        char   want[512];
        size_t n = 0;
        int    k;
        char  *got;
        int    ok;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        k = (int)(x % 40);
        if (x % 3 != 0)
            in[n++] = '/';
        for (int j = 0; j < k; j++) {
            const char *p;

            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            p = pieces[x % N_ELEMS(pieces)];
            if (n + strlen(p) >= sizeof(in))
                break;
            memcpy(in + n, p, strlen(p));
            n += strlen(p);
        }
        in[n] = '\0';
        ok = ref_path_decode(in, n, want) == 0;
        got = http_path_decode(&a, in, n);
        if (!ok)
            ck_assert_msg(got == NULL, "'%s' decoded to '%s'", in, got);
        else
            ck_assert_msg(got != NULL && strcmp(got, want) == 0,
                          "'%s': got '%s' want '%s'", in, got ? got : "(null)",
                          want);
        arena_recycle(&a);
    }
    arena_reset(&a);
}
END_TEST

/* ==== dispatcher end to end ============================================= */

struct parsed {
    int    status;
    char   reason[64];
    char   names[32][64];
    char   values[32][256];
    size_t nheaders;
    char  *body;
    size_t body_len;
};

static const char *
hdr(const struct parsed *p, const char *name)
{
    for (size_t i = 0; i < p->nheaders; i++)
        if (strcasecmp(p->names[i], name) == 0)
            return p->values[i];
    return NULL;
}

static size_t
hdr_count(const struct parsed *p, const char *name)
{
    size_t n = 0;

    for (size_t i = 0; i < p->nheaders; i++)
        n += strcasecmp(p->names[i], name) == 0;
    return n;
}

/* Parse "Status: N R\r\nName: v\r\n...\r\n\r\nbody"; returns 0 or -1. */
static int
parse_output(const struct buf *out, struct parsed *p)
{
    const char *s = (const char *)out->p;
    const char *end;
    const char *line;

    memset(p, 0, sizeof(*p));
    if (s == NULL)
        return -1;
    end = strstr(s, "\r\n\r\n");
    if (end == NULL || strncmp(s, "Status: ", 8) != 0)
        return -1;
    /* "Status: " 3DIGIT SP reason */
    if (s[8] < '1' || s[8] > '5' || s[9] < '0' || s[9] > '9' ||
        s[10] < '0' || s[10] > '9' || s[11] != ' ')
        return -1;
    p->status = (s[8] - '0') * 100 + (s[9] - '0') * 10 + (s[10] - '0');
    line = strstr(s, "\r\n");
    snprintf(p->reason, sizeof(p->reason), "%.*s", (int)(line - s - 12),
             s + 12);
    line += 2;
    while (line < end + 2) {
        const char *eol = strstr(line, "\r\n");
        const char *colon = memchr(line, ':', (size_t)(eol - line));

        if (colon == NULL || colon[1] != ' ' || p->nheaders == 32)
            return -1;
        snprintf(p->names[p->nheaders], 64, "%.*s", (int)(colon - line),
                 line);
        snprintf(p->values[p->nheaders], 256, "%.*s",
                 (int)(eol - colon - 2), colon + 2);
        p->nheaders++;
        line = eol + 2;
    }
    p->body = (char *)(uintptr_t)(end + 4);
    p->body_len = out->len - (size_t)(end + 4 - s);
    return 0;
}

static struct cw_config *disp_cfg;
/* The captured output of the last request (kept between requests so that
 * a failing assertion leaks nothing). */
static struct buf disp_out;

/* A body buffer kept for the next request holds nothing of this one. */
static void
body_buffer_wiped(const struct buf *b)
{
    ck_assert_uint_eq(b->len, 0);
    ck_assert_uint_le(b->cap, 4096);
    for (size_t i = 0; b->p != NULL && i < b->cap; i++)
        ck_assert_msg(b->p[i] == 0, "kept body buffer not wiped at %zu", i);
}

/* Run one request through http_handle in env. */
static void
run_request_in(struct http_env *env, const char *const *params,
               const char *body, size_t body_len, struct parsed *p,
               struct buf **outp)
{
    struct buf    *out = &disp_out;
    struct http_io io;
    struct fake_io f;

    memset(&f, 0, sizeof(f));
    f.params = params;
    f.body = body ? body : "";
    f.body_len = body ? body_len : 0;
    buf_cleanup(&disp_out);
    buf_init(&f.out, 1u << 20);
    io.param = fake_param;
    io.read = fake_read;
    io.write = fake_write;
    io.ctx = &f;
    http_handle(env, &io);
    /* The request's memory is released before http_handle returns, but
     * for one wiped chunk kept for the thread's next request, and the
     * body buffers, kept wiped when small. */
    ck_assert_uint_eq(env->arena.used, 0);
    ck_assert_ptr_null(env->arena.defers);
    body_buffer_wiped(&env->keep_in);
    body_buffer_wiped(&env->keep_out);
    disp_out = f.out;
    if (outp != NULL)
        *outp = out;
    ck_assert_msg(parse_output(out, p) == 0, "unparsable response: %s",
                  out->p ? (const char *)out->p : "(none)");
}

/* Run one request through http_handle with the given parameters, in an
 * environment of its own. */
static void
run_request(const char *const *params, const char *body, struct parsed *p,
            struct buf **outp)
{
    struct http_env env;

    http_env_init(&env, disp_cfg, NULL);
    run_request_in(&env, params, body, body ? strlen(body) : 0, p, outp);
    http_env_cleanup(&env);
    ck_assert_ptr_null(env.arena.chunks);
    ck_assert_ptr_null(env.keep_in.p);
    ck_assert_ptr_null(env.keep_out.p);
}

#define ALLOW_NONE NULL
#define ALLOW_ANY  "*"
#define HEALTH_ALLOW "GET, HEAD, OPTIONS"

static char long_path[LIM_PATH + 2];
static char max_path[LIM_PATH + 1];
static char long_query[LIM_QUERY + 32];
static char max_query[LIM_QUERY + 32];

struct disp_case {
    int         line;
    const char *method;     /* NULL: REQUEST_METHOD absent */
    const char *uri;        /* REQUEST_URI; NULL: absent */
    const char *docuri;     /* DOCUMENT_URI; NULL: absent */
    int         status;
    const char *code;       /* problem code; NULL for 204 */
    const char *allow;      /* ALLOW_NONE / ALLOW_ANY / exact value */
};

static const struct disp_case disp_cases[] = {
    /* unknown path */
    { __LINE__, "GET", "/nope", NULL, 404, "not_found", ALLOW_NONE },
    { __LINE__, "GET", "/nope?x=1", NULL, 404, "not_found", ALLOW_NONE },
    { __LINE__, "POST", "/nope", NULL, 404, "not_found", ALLOW_NONE },
    { __LINE__, "OPTIONS", "/nope", NULL, 404, "not_found", ALLOW_NONE },
    { __LINE__, "HEAD", "/nope", NULL, 404, "not_found", ALLOW_NONE },
    { __LINE__, "GET", "/api/health/", NULL, 404, "not_found", ALLOW_NONE },
    { __LINE__, "GET", "/api//health", NULL, 404, "not_found", ALLOW_NONE },
    { __LINE__, "GET", "/", NULL, 404, "not_found", ALLOW_NONE },
    { __LINE__, "GET", NULL, "/nope", 404, "not_found", ALLOW_NONE },
    { __LINE__, "GET", "nope", "/nope", 404, "not_found", ALLOW_NONE },
    /* path exists, method does not */
    { __LINE__, "POST", "/api/health", NULL, 405, "method_not_allowed",
      HEALTH_ALLOW },
    { __LINE__, "PUT", "/api/health", NULL, 405, "method_not_allowed",
      HEALTH_ALLOW },
    { __LINE__, "PATCH", "/api/health", NULL, 405, "method_not_allowed",
      HEALTH_ALLOW },
    { __LINE__, "DELETE", "/api/health", NULL, 405, "method_not_allowed",
      HEALTH_ALLOW },
    { __LINE__, "POST", "/api/health?x=1", NULL, 405, "method_not_allowed",
      HEALTH_ALLOW },
    /* OPTIONS */
    { __LINE__, "OPTIONS", "/api/health", NULL, 204, NULL, HEALTH_ALLOW },
    { __LINE__, "OPTIONS", "/api/%68ealth", NULL, 204, NULL, HEALTH_ALLOW },
    /* unknown methods (RFC 9110: a 405 carries Allow) */
    { __LINE__, "BREW", "/api/health", NULL, 405, "method_not_allowed",
      HEALTH_ALLOW },
    { __LINE__, "get", "/api/health", NULL, 405, "method_not_allowed",
      HEALTH_ALLOW },
    { __LINE__, "TRACE", "/api/health", NULL, 405, "method_not_allowed",
      HEALTH_ALLOW },
    { __LINE__, NULL, "/api/health", NULL, 405, "method_not_allowed",
      ALLOW_ANY },
    /* malformed paths */
    { __LINE__, "GET", "/api/../api/health", NULL, 400, "bad_request",
      ALLOW_NONE },
    { __LINE__, "GET", "/api/./health", NULL, 400, "bad_request",
      ALLOW_NONE },
    { __LINE__, "GET", "/api/health/..", NULL, 400, "bad_request",
      ALLOW_NONE },
    { __LINE__, "GET", "/..", NULL, 400, "bad_request", ALLOW_NONE },
    { __LINE__, "GET", "/api/%2e%2e/api/health", NULL, 400, "bad_request",
      ALLOW_NONE },
    { __LINE__, "GET", "/api/%2E./health", NULL, 400, "bad_request",
      ALLOW_NONE },
    { __LINE__, "GET", "/api/health%00", NULL, 400, "bad_request",
      ALLOW_NONE },
    { __LINE__, "GET", "/api/%00/x", NULL, 400, "bad_request", ALLOW_NONE },
    { __LINE__, "GET", "/api/%0a", NULL, 400, "bad_request", ALLOW_NONE },
    { __LINE__, "GET", "/api/%7f", NULL, 400, "bad_request", ALLOW_NONE },
    { __LINE__, "GET", "/api/%", NULL, 400, "bad_request", ALLOW_NONE },
    { __LINE__, "GET", "/api/%4", NULL, 400, "bad_request", ALLOW_NONE },
    { __LINE__, "GET", "/api/%zz", NULL, 400, "bad_request", ALLOW_NONE },
    { __LINE__, "GET", "/api/%4g/x", NULL, 400, "bad_request", ALLOW_NONE },
    { __LINE__, "GET", "/api/\x01", NULL, 400, "bad_request", ALLOW_NONE },
    { __LINE__, "POST", "/api/%2e%2e/api/health", NULL, 400, "bad_request",
      ALLOW_NONE },
    { __LINE__, "GET", "/%2fapi", NULL, 404, "not_found", ALLOW_NONE },
    { __LINE__, "GET", "/...", NULL, 404, "not_found", ALLOW_NONE },
    /* no usable path */
    { __LINE__, "GET", NULL, NULL, 400, "bad_request", ALLOW_NONE },
    { __LINE__, "GET", "", NULL, 400, "bad_request", ALLOW_NONE },
    { __LINE__, "GET", "nope", NULL, 400, "bad_request", ALLOW_NONE },
    { __LINE__, "GET", "http://x/api/health", NULL, 400, "bad_request",
      ALLOW_NONE },
    /* size caps */
    { __LINE__, "GET", long_path, NULL, 413, "payload_too_large",
      ALLOW_NONE },
    { __LINE__, "GET", max_path, NULL, 404, "not_found", ALLOW_NONE },
    { __LINE__, "GET", long_query, NULL, 413, "payload_too_large",
      ALLOW_NONE },
    { __LINE__, "GET", max_query, NULL, 404, "not_found", ALLOW_NONE },
};

static int
is_lower_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    return strspn(s, "0123456789abcdef") == n;
}

START_TEST(test_dispatch)
{
    const struct disp_case *c = &disp_cases[_i];
    const char   *params[16];
    size_t        np = 0;
    struct parsed p;
    const char   *rid;
    const char   *allow;
    const char   *cl;
    int           head = c->method != NULL && strcmp(c->method, "HEAD") == 0;

    if (c->method != NULL) {
        params[np++] = "REQUEST_METHOD";
        params[np++] = c->method;
    }
    if (c->uri != NULL) {
        params[np++] = "REQUEST_URI";
        params[np++] = c->uri;
    }
    if (c->docuri != NULL) {
        params[np++] = "DOCUMENT_URI";
        params[np++] = c->docuri;
    }
    params[np++] = "REMOTE_ADDR";
    params[np++] = "192.0.2.10";
    params[np] = NULL;
    run_request(params, NULL, &p, NULL);

    ck_assert_msg(p.status == c->status, "line %d: status %d want %d: %s",
                  c->line, p.status, c->status, p.body ? p.body : "");
    ck_assert_msg(strcmp(p.reason, http_reason(c->status)) == 0,
                  "line %d: reason '%s'", c->line, p.reason);
    /* Every response carries these, once. */
    rid = hdr(&p, "X-Request-Id");
    ck_assert_msg(rid != NULL && is_lower_hex(rid, LIM_REQUEST_ID),
                  "line %d: X-Request-Id '%s'", c->line, rid ? rid : "");
    ck_assert_msg(hdr(&p, "X-Content-Type-Options") != NULL &&
                      strcmp(hdr(&p, "X-Content-Type-Options"), "nosniff") ==
                          0,
                  "line %d: X-Content-Type-Options", c->line);
    ck_assert_msg(hdr(&p, "Cache-Control") != NULL &&
                      strcmp(hdr(&p, "Cache-Control"), "no-store") == 0,
                  "line %d: Cache-Control", c->line);
    ck_assert_msg(hdr_count(&p, "X-Request-Id") == 1 &&
                      hdr_count(&p, "Cache-Control") == 1 &&
                      hdr_count(&p, "Allow") <= 1,
                  "line %d: repeated header", c->line);
    /* Allow */
    allow = hdr(&p, "Allow");
    if (c->allow == ALLOW_NONE)
        ck_assert_msg(allow == NULL, "line %d: unexpected Allow '%s'",
                      c->line, allow);
    else if (strcmp(c->allow, ALLOW_ANY) != 0)
        ck_assert_msg(allow != NULL && strcmp(allow, c->allow) == 0,
                      "line %d: %d response with Allow '%s', want '%s'",
                      c->line, p.status, allow ? allow : "(missing)",
                      c->allow);
    if (c->status == 204) {
        ck_assert_msg(p.body_len == 0, "line %d: 204 with a body", c->line);
        ck_assert_msg(hdr(&p, "Content-Type") == NULL &&
                          hdr(&p, "Content-Length") == NULL,
                      "line %d: 204 with content headers", c->line);
        return;
    }
    cl = hdr(&p, "Content-Length");
    ck_assert_msg(cl != NULL, "line %d: no Content-Length", c->line);
    ck_assert_msg(hdr(&p, "Content-Type") != NULL &&
                      strcmp(hdr(&p, "Content-Type"),
                             "application/problem+json") == 0,
                  "line %d: Content-Type '%s'", c->line,
                  hdr(&p, "Content-Type"));
    if (head) {
        ck_assert_msg(p.body_len == 0, "line %d: HEAD with a body", c->line);
        ck_assert_msg(strtoul(cl, NULL, 10) > 0, "line %d", c->line);
    } else {
        json_t      *doc;
        const char  *code;
        const char  *brid;
        json_int_t   st;

        ck_assert_msg(strtoul(cl, NULL, 10) == p.body_len,
                      "line %d: Content-Length %s, body %zu", c->line, cl,
                      p.body_len);
        doc = json_loadb(p.body, p.body_len, 0, NULL);
        ck_assert_msg(doc != NULL, "line %d: body not JSON", c->line);
        code = json_string_value(json_object_get(doc, "code"));
        brid = json_string_value(json_object_get(doc, "request_id"));
        st = json_integer_value(json_object_get(doc, "status"));
        ck_assert_msg(code != NULL && strcmp(code, c->code) == 0,
                      "line %d: code '%s' want '%s'", c->line,
                      code ? code : "", c->code);
        ck_assert_msg(brid != NULL && strcmp(brid, rid) == 0,
                      "line %d: request_id '%s' != X-Request-Id '%s'",
                      c->line, brid ? brid : "", rid);
        ck_assert_msg(st == c->status, "line %d: body status %d", c->line,
                      (int)st);
        ck_assert_msg(json_is_string(json_object_get(doc, "detail")) &&
                          json_is_string(json_object_get(doc, "title")),
                      "line %d: detail/title", c->line);
        json_decref(doc);
    }
}
END_TEST

/* OPTIONS on every route's path answers 204 with exactly the methods the
 * tables declare for that path (plus HEAD with GET, and OPTIONS), without
 * touching a handler, a database or authentication. */
START_TEST(test_dispatch_options_all_routes)
{
    for (size_t t = 0; http_tables[t] != NULL; t++) {
        for (size_t i = 0; i < http_tables[t]->nroutes; i++) {
            const struct http_route *r = &http_tables[t]->routes[i];
            char                     path[512];
            char                     want[128] = "";
            unsigned                 allow = 0;
            const char              *params[7];
            struct parsed            p;
            const char              *got;
            size_t                   o = 0;

            if (r->methods & HTTP_M_OPTIONS)
                continue;   /* a route that handles OPTIONS itself */
            pattern_path(r->pattern, path, sizeof(path));
            for (size_t u = 0; http_tables[u] != NULL; u++)
                for (size_t j = 0; j < http_tables[u]->nroutes; j++)
                    if (http_route_match(http_tables[u]->routes[j].pattern,
                                         path, NULL, NULL))
                        allow |= http_tables[u]->routes[j].methods;
            if (allow & HTTP_M_OPTIONS)
                continue;
            if (allow & HTTP_M_GET)
                allow |= HTTP_M_HEAD;
            allow |= HTTP_M_OPTIONS;
            for (unsigned m = 1; m <= HTTP_M_OPTIONS; m <<= 1)
                if (allow & m)
                    o += (size_t)snprintf(want + o, sizeof(want) - o, "%s%s",
                                          o ? ", " : "",
                                          http_method_name(
                                              (enum http_method)m));
            params[0] = "REQUEST_METHOD";
            params[1] = "OPTIONS";
            params[2] = "REQUEST_URI";
            params[3] = path;
            params[4] = "REMOTE_ADDR";
            params[5] = "192.0.2.10";
            params[6] = NULL;
            run_request(params, NULL, &p, NULL);
            got = hdr(&p, "Allow");
            ck_assert_msg(p.status == 204, "OPTIONS %s -> %d", path,
                          p.status);
            ck_assert_msg(got != NULL && strcmp(got, want) == 0,
                          "OPTIONS %s: Allow '%s' want '%s'", path,
                          got ? got : "(missing)", want);
            }
    }
}
END_TEST

/* Request ids differ per request. */
START_TEST(test_dispatch_request_ids)
{
    static const char *const params[] = { "REQUEST_METHOD", "GET",
                                          "REQUEST_URI", "/nope", NULL };
    struct parsed p;
    char          first[64];

    run_request(params, NULL, &p, NULL);
    snprintf(first, sizeof(first), "%s", hdr(&p, "X-Request-Id"));
    run_request(params, NULL, &p, NULL);
    ck_assert_str_ne(first, hdr(&p, "X-Request-Id"));
}
END_TEST

/* One thread's environment serves request after request: the kept body
 * buffers carry nothing from one to the next (run_request_in checks they
 * are wiped), a large body is not kept, and the OCSP GET form decodes into
 * the kept request buffer. */
START_TEST(test_dispatch_env_reuse)
{
    static const uint8_t malformed[] = { 0x30, 0x03, 0x0a, 0x01, 0x01 };
    static const char *const get_bad[] = {
        "REQUEST_METHOD", "GET", "REQUEST_URI", "/ocsp/MAMCAQA%3D", NULL };
    char            cl_small[16];
    char            cl_big[16];
    const char     *post_small[] = {
        "REQUEST_METHOD", "POST", "REQUEST_URI", "/ocsp",
        "CONTENT_TYPE", "application/ocsp-request",
        "CONTENT_LENGTH", cl_small, NULL };
    const char     *post_big[] = {
        "REQUEST_METHOD", "POST", "REQUEST_URI", "/ocsp",
        "CONTENT_TYPE", "application/ocsp-request",
        "CONTENT_LENGTH", cl_big, NULL };
    static char     big[10000];
    const char     *small = "not an OCSP request at all";
    struct http_env env;
    struct parsed   p;

    memset(big, 'x', sizeof(big));
    snprintf(cl_small, sizeof(cl_small), "%zu", strlen(small));
    snprintf(cl_big, sizeof(cl_big), "%zu", sizeof(big));
    http_env_init(&env, disp_cfg, NULL);
    for (int round = 0; round < 3; round++) {
        run_request_in(&env, post_small, small, strlen(small), &p, NULL);
        ck_assert_int_eq(p.status, 200);
        ck_assert_str_eq(hdr(&p, "Content-Type"), "application/ocsp-response");
        ck_assert_uint_eq(p.body_len, sizeof(malformed));
        ck_assert_mem_eq(p.body, malformed, sizeof(malformed));
        ck_assert_ptr_nonnull(env.keep_in.p);       /* kept, wiped */

        run_request_in(&env, post_big, big, sizeof(big), &p, NULL);
        ck_assert_int_eq(p.status, 200);
        ck_assert_mem_eq(p.body, malformed, sizeof(malformed));
        ck_assert_ptr_null(env.keep_in.p);          /* too large to keep */

        run_request_in(&env, get_bad, NULL, 0, &p, NULL);
        ck_assert_int_eq(p.status, 200);
        ck_assert_uint_eq(p.body_len, sizeof(malformed));
        ck_assert_mem_eq(p.body, malformed, sizeof(malformed));
        ck_assert_ptr_null(hdr(&p, "Expires"));
    }
    http_env_cleanup(&env);
    ck_assert_ptr_null(env.keep_in.p);
    ck_assert_ptr_null(env.keep_out.p);
}
END_TEST

/* http_fmt_date() against strftime() over edges and a spread of times. */
START_TEST(test_fmt_date)
{
    static const time_t edges[] = {
        0, 59, 3599, 86399, 86400, 951782400 /* 2000-02-29 */,
        951868800 /* 2000-03-01 */, 1709164800 /* 2024-02-29 */,
        4107542400 /* 2100-03-01 */, 4102444799, 253402300799 /* 9999 */ };
    char         got[40];
    char         want[40];
    struct tm    tm;
    uint64_t     x = 88172645463325252ULL;

    for (size_t i = 0; i < N_ELEMS(edges) + 20000; i++) {
        time_t t;

        if (i < N_ELEMS(edges)) {
            t = edges[i];
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t = (time_t)(x % 253402300800ULL);
        }
        gmtime_r(&t, &tm);
        strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        http_fmt_date(t, got, sizeof(got));
        ck_assert_msg(strcmp(got, want) == 0, "%lld: '%s' want '%s'",
                      (long long)t, got, want);
    }
    http_fmt_date(0, got, 8);               /* truncated, terminated */
    ck_assert_str_eq(got, "Thu, 01");
    http_fmt_date(-1, got, sizeof(got));    /* out of range: empty */
    ck_assert_str_eq(got, "");
    http_fmt_date((time_t)253402300800LL, got, sizeof(got));
    ck_assert_str_eq(got, "");
}
END_TEST

/* ==== runner ============================================================ */

#define LOOP(tc, t, arr) tcase_add_loop_test(tc, t, 0, (int)N_ELEMS(arr))

static void
disp_setup(void)
{
    disp_cfg = cw_xcalloc(1, sizeof(*disp_cfg));
    conf_defaults(disp_cfg);
    long_path[0] = '/';
    memset(long_path + 1, 'a', LIM_PATH);
    long_path[LIM_PATH + 1] = '\0';         /* LIM_PATH + 1 characters */
    max_path[0] = '/';
    memset(max_path + 1, 'a', LIM_PATH - 1);
    max_path[LIM_PATH] = '\0';              /* LIM_PATH characters */
    snprintf(long_query, sizeof(long_query), "/nope?");
    memset(long_query + 6, 'q', LIM_QUERY + 1);
    long_query[6 + LIM_QUERY + 1] = '\0';
    snprintf(max_query, sizeof(max_query), "/nope?");
    memset(max_query + 6, 'q', LIM_QUERY);
    max_query[6 + LIM_QUERY] = '\0';
}

static void
disp_teardown(void)
{
    buf_cleanup(&disp_out);
    conf_free(disp_cfg);
    disp_cfg = NULL;
}

static Suite *
http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc;

    tc = tcase_create("route");
    LOOP(tc, test_route_match, match_cases);
    LOOP(tc, test_route_checker, bad_routes);
    tcase_add_test(tc, test_route_tables);
    tcase_add_test(tc, test_route_reachable);
    LOOP(tc, test_methods, method_cases);
    tcase_add_test(tc, test_reasons_cover_errors);
    tcase_add_test(tc, test_fmt_date);
    suite_add_tcase(s, tc);

    tc = tcase_create("client_addr");
    LOOP(tc, test_client_addr, addr_cases);
    suite_add_tcase(s, tc);

    tc = tcase_create("req");
    LOOP(tc, test_req_query, query_cases);
    LOOP(tc, test_req_path_u64, path_u64_cases);
    LOOP(tc, test_req_json, req_json_cases);
    suite_add_tcase(s, tc);

    tc = tcase_create("problem");
    tcase_add_loop_test(tc, test_problem_render_codes, 0, CW_E__MAX - 1);
    tcase_add_test(tc, test_problem_render_detail);
    tcase_add_test(tc, test_resp_header_guard);
    tcase_add_test(tc, test_path_decode_matches_reference);
    LOOP(tc, test_problem_render_bad_utf8, bad_utf8_cases);
    suite_add_tcase(s, tc);

    tc = tcase_create("dispatch");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, disp_setup, disp_teardown);
    LOOP(tc, test_dispatch, disp_cases);
    tcase_add_test(tc, test_dispatch_options_all_routes);
    tcase_add_test(tc, test_dispatch_request_ids);
    tcase_add_test(tc, test_dispatch_env_reuse);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr;
    int      failed;

    log_set_level(LOG_CRIT);
    sr = srunner_create(http_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

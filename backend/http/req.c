/*
 * req.c: request accessors. Everything here reads client-controlled data
 * (FastCGI parameters, the query string, the body) and is capped.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"
#include "util/jsonx.h"
#include "util/log.h"
#include "util/sp.h"

const char *
http_req_param(const struct http_req *req, const char *name)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return NULL;
}

const char *
http_req_header(const struct http_req *req, const char *cgi)
{
    const char *v = req->io->param(req->io->ctx, cgi);

    if (v == NULL || strlen(v) > LIM_HEADER_VALUE)
        return NULL;
    return v;
}

/* Length of the well-formed UTF-8 sequence at s[i] (n bytes in all), or 0
 * when it is malformed. */
static size_t
utf8_seq(const unsigned char *s, size_t i, size_t n)
{
    unsigned char c = s[i];
    size_t        len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2
                      : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;

    if (len == 0 || i + len > n || (len == 2 && c < 0xc2) || c > 0xf4)
        return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[i + k] & 0xc0) != 0x80)
            return 0;
    return len;
}

int
http_utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq((const unsigned char *)s, i, n);

        if (len == 0)
            return 0;
        i += len;
    }
    return 1;
}

/* Problem details may quote client text: keep them valid UTF-8 JSON by
 * replacing control bytes and anything that is not well-formed UTF-8. */
static char *
http_text_clean(struct arena *a, const char *s)
{
    size_t n = strlen(s);
    char  *o = arena_strndup(a, s, n);

    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)o[i];
        size_t        len = utf8_seq((const unsigned char *)o, i, n);

        if (len == 0 || c < 0x20 || c == 0x7f) {
            o[i++] = '?';
            continue;
        }
        i += len;
    }
    return o;
}

enum cw_err
http_fail(struct http_req *req, enum cw_err err, const char *field,
          const char *fmt, ...)
{
    va_list ap;
    char    tmp[512];

    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        req->err_detail = http_text_clean(req->arena, tmp);
    }
    if (field != NULL)
        req->err_field = http_text_clean(req->arena, field);
    return err;
}

enum cw_err
http_req_path_u64(struct http_req *req, const char *name, uint64_t *out)
{
    const char *v = http_req_param(req, name);
    uint64_t    id;

    if (v == NULL || sp_u64(v, strlen(v), (uint64_t)INT64_MAX, &id) != CW_OK ||
        id == 0)
        return http_fail(req, CW_E_BADREQ, name,
                         "%s must be a positive integer", name);
    *out = id;
    return CW_OK;
}

/* Percent-decode (and '+' as space for queries) into the arena; NULL when
 * the input holds a bad escape or a control byte. */
/* Eight octets at once (the OCSP GET path is ~160 of them): true when
 * one is below 0x2c ('%', '+', a control octet...) or is 0x7f, the only
 * ones that need more than a copy. Bytes of 0x80 and above are plain.
 * The "has less" and "has zero" word tests are exact as booleans for
 * n <= 128 (Sean Anderson, Bit Twiddling Hacks). */
#define PCT_ONES  0x0101010101010101ULL
#define PCT_HIGHS 0x8080808080808080ULL

static int
pct_special8(uint64_t x)
{
    uint64_t del = x ^ (PCT_ONES * 0x7f);

    return ((x - PCT_ONES * 0x2c) & ~x & PCT_HIGHS) != 0 ||
           ((del - PCT_ONES) & ~del & PCT_HIGHS) != 0;
}

static char *
pct_decode(struct arena *a, const char *s, size_t n, int plus)
{
    char  *out = arena_alloc(a, n + 1);
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c;
        uint64_t      w;

        /* Runs of plain octets are copied eight at a time. */
        while (i + 8 <= n) {
            memcpy(&w, s + i, 8);
            if (pct_special8(w))
                break;
            memcpy(out + o, &w, 8);
            o += 8;
            i += 8;
        }
        if (i >= n)
            break;
        c = (unsigned char)s[i];

        /* Most octets are printable and plain: one test for them. */
        if (c > 0x2b && c != 0x7f) {
            out[o++] = (char)c;
            continue;
        }
        if (c == '%') {
            int hi;
            int lo;

            if (i + 2 >= n)
                return NULL;
            hi = sp_hexval(s[i + 1]);
            lo = sp_hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f)
            return NULL;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return out;
}

enum cw_err
http_query_check(struct http_req *req)
{
    const char *q = req->query;
    size_t      n = 0;

    /* Every key and value must decode to UTF-8 text without control
     * bytes, so handlers and the database only ever see clean text. */
    while (*q != '\0') {
        const char *amp = strchr(q, '&');
        size_t      len = amp ? (size_t)(amp - q) : strlen(q);
        char       *d = pct_decode(req->arena, q, len, 1);

        if (d == NULL || !http_utf8_valid(d, strlen(d)) || ++n > 64)
            return http_fail(req, CW_E_BADREQ, NULL,
                             "malformed query string");
        q = amp ? amp + 1 : q + len;
    }
    return CW_OK;
}

const char *
http_req_query(struct http_req *req, const char *name)
{
    const char *q = req->query;
    size_t      nlen = strlen(name);

    while (q != NULL && *q != '\0') {
        const char *amp = strchr(q, '&');
        size_t      len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t      klen = eq ? (size_t)(eq - q) : len;

        if (klen == nlen && memcmp(q, name, nlen) == 0) {
            if (eq == NULL)
                return "";
            return pct_decode(req->arena, eq + 1, len - klen - 1, 1);
        }
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

enum cw_err
http_req_json(struct http_req *req, const struct jsonx_field *fields,
              size_t nfields, json_t **out)
{
    struct jsonx_why why = { "", "" };
    const char      *ct = http_req_header(req, "CONTENT_TYPE");
    json_t          *obj = NULL;
    enum cw_err      err;

    *out = NULL;
    /* application/json, optionally with parameters such as charset. */
    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' '))
        return http_fail(req, CW_E_MEDIATYPE, NULL,
                         "Content-Type must be application/json");
    err = jsonx_parse_object(req->body.p, req->body.len, &obj, &why);
    if (err != CW_OK)
        return http_fail(req, err, NULL, "malformed JSON: %s", why.reason);
    err = jsonx_check(obj, fields, nfields, &why);
    if (err != CW_OK) {
        json_decref(obj);
        return http_fail(req, err, why.field, "%s %s", why.field, why.reason);
    }
    arena_defer(req->arena, (arena_free_fn)json_decref, obj);
    *out = obj;
    return CW_OK;
}

static int
addr_valid(const char *s)
{
    uint8_t tmp[16];

    return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1;
}

const char *
http_client_addr(struct arena *a, const struct cw_config *cfg,
                 const char *remote, const char *xff)
{
    return http_client_addr_list(a, cfg->proxies, cfg->nproxies, remote, xff);
}

const char *
http_client_addr_list(struct arena *a, const struct conf_cidr *proxies,
                      size_t nproxies, const char *remote, const char *xff)
{
    const char *cand = remote;
    size_t      len;
    int         hops = 0;

    if (remote == NULL)
        return "";
    if (xff == NULL || nproxies == 0 ||
        !conf_cidr_match(proxies, nproxies, remote))
        return remote;
    /* Walk right to left: each hop was appended by the proxy to its right,
     * so entries are believable only while that proxy is trusted. */
    len = strlen(xff);
    while (len > 0 && hops++ < LIM_XFF_HOPS) {
        const char *end = xff + len;
        const char *start = end;
        const char *item;
        size_t      il;
        char       *ip;

        while (start > xff && start[-1] != ',')
            start--;
        item = start;
        il = (size_t)(end - start);
        sp_trim(&item, &il);
        ip = arena_strndup(a, item, il);
        if (!addr_valid(ip))
            return cand;
        cand = ip;
        if (!conf_cidr_match(proxies, nproxies, ip))
            return ip;
        len = start > xff ? (size_t)(start - xff - 1) : 0;
    }
    return cand;
}

/* Decode the raw path for routing. NULL: malformed (400). */
char *http_path_decode(struct arena *a, const char *raw, size_t n);

char *
http_path_decode(struct arena *a, const char *raw, size_t n)
{
    char *p = pct_decode(a, raw, n, 0);

    if (p == NULL || p[0] != '/')
        return NULL;
    /* No dot segments: the web server normalizes, and we refuse what it
     * did not, instead of guessing. */
    for (const char *s = p; *s != '\0';) {
        const char *e = strchr(s + 1, '/');
        size_t      l = e ? (size_t)(e - s - 1) : strlen(s + 1);

        if ((l == 1 && s[1] == '.') || (l == 2 && s[1] == '.' && s[2] == '.'))
            return NULL;
        if (e == NULL)
            break;
        s = e;
    }
    return p;
}

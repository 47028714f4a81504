/*
 * crl.c: the CRL distribution points and AIA caIssuers files of every CA
 * (RFC 5280 4.2.1.13, 4.2.2.1): /cdp/<slug>.crl and -delta.crl (DER, with
 * .pem twins) and /ca/<slug>.cer (DER) and .pem. Public, cacheable until
 * the CRL's nextUpdate, revalidated with ETag.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ca/ca.h"
#include "http/http.h"
#include "pki/cert.h"
#include "protocols/protocols.h"

/* "name.ext" with name a slug ([a-z0-9-], 1..64) -> the slug in out. */
static int
file_split(const char *file, const char *ext, char *out, size_t outlen)
{
    size_t n = strlen(file);
    size_t e = strlen(ext);

    if (n <= e || n - e >= outlen || strcmp(file + n - e, ext) != 0)
        return 0;
    for (size_t i = 0; i < n - e; i++)
        if (!((file[i] >= 'a' && file[i] <= 'z') ||
              (file[i] >= '0' && file[i] <= '9') || file[i] == '-'))
            return 0;
    memcpy(out, file, n - e);
    out[n - e] = '\0';
    return 1;
}

static enum cw_err
crl_get(struct http_req *req, struct http_resp *resp)
{
    const char       *file = http_req_param(req, "file");
    struct ca_crl_doc doc;
    char              slug[72];
    char              date[40];
    int               pem = 0;
    int               delta = 0;
    time_t            now = time(NULL);
    long              max_age;
    enum cw_err       err;

    if (file_split(file, ".crl.pem", slug, sizeof(slug)))
        pem = 1;
    else if (!file_split(file, ".crl", slug, sizeof(slug)))
        return http_fail(req, CW_E_NOTFOUND, NULL, "no such CRL");
    err = ca_crl_fetch(req->db, req->cfg, req->arena, slug, 0,
                       http_req_header(req, "HTTP_IF_NONE_MATCH"), &doc);
    if (err == CW_E_NOTFOUND) {
        size_t n = strlen(slug);

        /* Not a CA's slug: maybe "<slug>-delta", its delta CRL. */
        if (n > 6 && strcmp(slug + n - 6, "-delta") == 0) {
            slug[n - 6] = '\0';
            delta = 1;
            err = ca_crl_fetch(req->db, req->cfg, req->arena, slug, 1,
                               http_req_header(req, "HTTP_IF_NONE_MATCH"),
                               &doc);
        }
    }
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such CRL");
    if (err == CW_E_BUSY) {
        req->retry_after = 5;
        return http_fail(req, err, NULL, "the CRL is being generated");
    }
    if (err != CW_OK)
        return err;
    (void)delta;
    /* Cacheable until nextUpdate (never negative once it has passed). */
    max_age = doc.meta.next_update > now ? (long)(doc.meta.next_update - now)
                                         : 0;
    http_resp_header(req, resp, "ETag", doc.etag);
    http_fmt_date(doc.meta.this_update, date, sizeof(date));
    http_resp_header(req, resp, "Last-Modified", date);
    http_fmt_date(doc.meta.next_update, date, sizeof(date));
    http_resp_header(req, resp, "Expires", date);
    http_resp_header(req, resp, "Cache-Control",
                     arena_printf(req->arena, "public, max-age=%ld, "
                                  "no-transform", max_age));
    if (doc.not_modified) {
        resp->status = 304;
        return CW_OK;
    }
    if (pem) {
        struct buf out;

        buf_init(&out, LIM_RESP_BODY);
        err = pki_pem_armor("X509 CRL", doc.der, doc.der_len, &out);
        if (err == CW_OK)
            err = http_resp_bytes(resp, 200, "application/x-pem-file", out.p,
                                  out.len);
        buf_cleanup(&out);
        return err;
    }
    return http_resp_bytes(resp, 200, "application/pkix-crl", doc.der,
                           doc.der_len);
}

static enum cw_err
aia_get(struct http_req *req, struct http_resp *resp)
{
    const char    *file = http_req_param(req, "file");
    const uint8_t *der;
    size_t         len;
    char           slug[72];
    int            pem = 0;
    enum cw_err    err;

    if (file_split(file, ".pem", slug, sizeof(slug)))
        pem = 1;
    else if (!file_split(file, ".cer", slug, sizeof(slug)) &&
             !file_split(file, ".crt", slug, sizeof(slug)))
        return http_fail(req, CW_E_NOTFOUND, NULL, "no such certificate");
    err = ca_cert_by_slug(req->db, req->arena, slug, &der, &len);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such certificate");
    if (err != CW_OK)
        return err;
    http_resp_header(req, resp, "Cache-Control", "public, max-age=3600");
    if (pem) {
        struct buf out;

        buf_init(&out, LIM_RESP_BODY);
        err = pki_pem_armor("CERTIFICATE", der, len, &out);
        if (err == CW_OK)
            err = http_resp_bytes(resp, 200, "application/x-pem-file", out.p,
                                  out.len);
        buf_cleanup(&out);
        return err;
    }
    return http_resp_bytes(resp, 200, "application/pkix-cert", der, len);
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/cdp/{file}", .handler = crl_get,
      .auth = AUTH_PUBLIC, .rl = RL_REVOCATION },
    { .methods = HTTP_M_GET, .pattern = "/ca/{file}", .handler = aia_get,
      .auth = AUTH_PUBLIC, .rl = RL_REVOCATION },
};

const struct http_route_table proto_crl_table = HTTP_TABLE("crl", routes);

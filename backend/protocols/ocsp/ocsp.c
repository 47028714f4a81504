/*
 * ocsp.c: the OCSP responder's HTTP face (RFC 6960 appendix A, RFC 5019):
 * POST /ocsp with an application/ocsp-request body, and GET /ocsp/{base64
 * of the DER request, URL-encoded}. Whatever the request holds, the
 * answer is an OCSPResponse (malformedRequest, unauthorized, ...), never
 * problem+json; only HTTP itself (413, 415, 405) answers otherwise.
 * GET answers carry the caching headers of RFC 5019 section 6.
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "ca/ca.h"
#include "cw_limits.h"
#include "http/http.h"
#include "pki/ocsp.h"
#include "protocols/protocols.h"
#include "util/sp.h"

#define OCSP_CTYPE "application/ocsp-response"

/* The answer is written straight into the response body: from the node
 * cache it is one copy, no allocation. */
static enum cw_err
answer(struct http_req *req, struct http_resp *resp, const uint8_t *der,
       size_t len, int get)
{
    long        max_age = 0;
    enum cw_err err;

    buf_reset(&resp->body);
    err = ca_ocsp_answer(req->db, req->cfg, der, len, &resp->body, &max_age);
    if (err != CW_OK)
        return err;
    if (get && max_age > 0) {
        static const char pre[] = "max-age=";
        static const char post[] = ", public, no-transform, must-revalidate";
        char              date[40];
        char              num[21];
        char              cc[sizeof(pre) + 20 + sizeof(post)];
        const char       *d = sp_u64_text((uint64_t)max_age, num);
        size_t            n = strlen(d);

        /* RFC 5019 6.2; no printf on the hot path */
        memcpy(cc, pre, sizeof(pre) - 1);
        memcpy(cc + sizeof(pre) - 1, d, n);
        memcpy(cc + sizeof(pre) - 1 + n, post, sizeof(post));
        http_resp_header(req, resp, "Cache-Control", cc);
        http_fmt_date(time(NULL) + max_age, date, sizeof(date));
        http_resp_header(req, resp, "Expires", date);
    }
    resp->status = 200;
    resp->ctype = OCSP_CTYPE;
    return CW_OK;
}

static enum cw_err
ocsp_post(struct http_req *req, struct http_resp *resp)
{
    const char *ct = http_req_header(req, "CONTENT_TYPE");
    size_t      n = ct ? strcspn(ct, "; ") : 0;

    if (ct == NULL || n != strlen("application/ocsp-request") ||
        strncasecmp(ct, "application/ocsp-request", n) != 0)
        return http_fail(req, CW_E_MEDIATYPE, NULL,
                         "an OCSP request is application/ocsp-request");
    return answer(req, resp, req->body.p, req->body.len, 0);
}

static enum cw_err
ocsp_get(struct http_req *req, struct http_resp *resp)
{
    const char *b64 = http_req_param(req, "request");

    /* A GET has no body: its buffer (kept by the thread) takes the DER. */
    buf_reset(&req->body);
    req->body.max = LIM_OCSP_REQ;
    if (pki_ocsp_b64_decode(b64, strlen(b64), &req->body) != CW_OK) {
        size_t         n;
        const uint8_t *p = pki_ocsp_error_der(1, &n);   /* malformedRequest */

        return http_resp_bytes(resp, 200, OCSP_CTYPE, p, n);
    }
    return answer(req, resp, req->body.p, req->body.len, 1);
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_POST, .pattern = "/ocsp", .handler = ocsp_post,
      .auth = AUTH_PUBLIC, .body_max = LIM_OCSP_REQ, .rl = RL_REVOCATION },
    { .methods = HTTP_M_GET, .pattern = "/ocsp/{request*}",
      .handler = ocsp_get, .auth = AUTH_PUBLIC, .rl = RL_REVOCATION },
};

const struct http_route_table proto_ocsp_table = HTTP_TABLE("ocsp", routes);

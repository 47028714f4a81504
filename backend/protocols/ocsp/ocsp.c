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

#define OCSP_CTYPE "application/ocsp-response"

static enum cw_err
answer(struct http_req *req, struct http_resp *resp, const uint8_t *der,
       size_t len, int get)
{
    struct buf  out;
    long        max_age = 0;
    enum cw_err err;

    buf_init(&out, LIM_OCSP_RESP * LIM_OCSP_CERTIDS);
    err = ca_ocsp_answer(req->db, req->cfg, der, len, &out, &max_age);
    if (err == CW_OK && get && max_age > 0) {
        char date[40];

        char  cc[96] = "max-age=";
        char  num[21];
        char *d = num + sizeof(num) - 1;

        /* RFC 5019 6.2; no printf on the hot path */
        *d = '\0';
        for (unsigned long v = (unsigned long)max_age; v != 0; v /= 10)
            *--d = (char)('0' + v % 10);
        strcat(cc, d);
        strcat(cc, ", public, no-transform, must-revalidate");
        http_resp_header(req, resp, "Cache-Control", cc);
        http_fmt_date(time(NULL) + max_age, date, sizeof(date));
        http_resp_header(req, resp, "Expires", date);
    }
    if (err == CW_OK)
        err = http_resp_bytes(resp, 200, OCSP_CTYPE, out.p, out.len);
    buf_cleanup(&out);
    return err;
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
    struct buf  der;
    enum cw_err err;

    buf_init(&der, LIM_OCSP_REQ);
    if (pki_ocsp_b64_decode(b64, strlen(b64), &der) != CW_OK) {
        size_t         n;
        const uint8_t *p = pki_ocsp_error_der(1, &n);   /* malformedRequest */

        buf_cleanup(&der);
        return http_resp_bytes(resp, 200, OCSP_CTYPE, p, n);
    }
    err = answer(req, resp, der.p, der.len, 1);
    buf_cleanup(&der);
    return err;
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_POST, .pattern = "/ocsp", .handler = ocsp_post,
      .auth = AUTH_PUBLIC, .body_max = LIM_OCSP_REQ, .rl = RL_REVOCATION },
    { .methods = HTTP_M_GET, .pattern = "/ocsp/{request*}",
      .handler = ocsp_get, .auth = AUTH_PUBLIC, .rl = RL_REVOCATION },
};

const struct http_route_table proto_ocsp_table = HTTP_TABLE("ocsp", routes);

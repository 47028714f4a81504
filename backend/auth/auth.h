/*
 * auth.h: what the HTTP dispatcher asks of the identity layer: who is
 * calling (session cookie with CSRF check, or Bearer API key), may they use
 * this route's permission, and are they within the rate limits.
 */
#ifndef CW_AUTH_H
#define CW_AUTH_H

#include "http/http.h"
#include "store/audit.h"

/* Authenticate req for an AUTH_USER route; sets req->who. CW_E_UNAUTH,
 * CW_E_CSRF, CW_E_DB_DOWN... on failure. */
enum cw_err auth_request(struct http_req *req);
/* Free this thread's session copies (at worker thread exit). */
void auth_thread_cleanup(void);
/* Does the identity hold perm ("action:resource")? */
int auth_has_perm(const struct http_identity *who, const char *perm);
/* Count this request against its client's limit; CW_E_RATELIMIT with
 * headers set on resp when over. */
enum cw_err auth_ratelimit(struct http_req *req, struct http_resp *resp);
/* An audit event pre-filled with the caller, address and request id. */
void auth_audit_event(struct http_req *req, struct store_audit_event *ev);
/* Record a refused request (permission denial) in the audit log. */
void auth_audit_denied(struct http_req *req, enum cw_err why);

#endif

/*
 * session.h: session tokens and CSRF tokens.
 *
 * A session is a row (sessions.sid) plus an HS256 JWT in an HttpOnly,
 * SameSite=Strict cookie carrying sub, sid, iat, exp, iss and aud. libjwt
 * 1.10 is used for the encoding only as far as it is safe: the key is
 * always passed (a NULL key skips verification), the algorithm must be
 * HS256 (a verifier given a public key would take an HS256 token MACed
 * with it), and exp/iat/iss/aud are checked here because libjwt checks
 * none of them. The row is looked up on every request, so revocation is
 * immediate on every worker and node.
 *
 * The CSRF token is "<unix time>.<hex HMAC-SHA256(secret, sid, time)>",
 * valid for 24 hours and only with the session it was made for.
 */
#ifndef CW_AUTH_SESSION_H
#define CW_AUTH_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/conf.h"
#include "util/err.h"

#define AUTH_SID_LEN      32
#define AUTH_TOKEN_MAX    2048
#define AUTH_COOKIE_NAME  "cw_session"
#define AUTH_CSRF_TTL     86400
#define AUTH_JWT_AUD      "certward"

struct auth_claims {
    uint64_t user_id;
    char     sid[AUTH_SID_LEN + 1];
    int64_t  iat;
    int64_t  exp;
};

/* Encode a token; *out is malloc'd (free()). */
enum cw_err auth_jwt_make(const struct cw_config *cfg, uint64_t user_id,
                          const char *sid, time_t iat, time_t exp,
                          char **out);
/* Verify signature, algorithm and claims at time now. CW_E_UNAUTH. */
enum cw_err auth_jwt_check(const struct cw_config *cfg, const char *token,
                           time_t now, struct auth_claims *out);
/* CSRF token for sid at time now into out (>= 96 bytes). */
void auth_csrf_make(const struct cw_config *cfg, const char *sid, time_t now,
                    char *out, size_t n);
enum cw_err auth_csrf_check(const struct cw_config *cfg, const char *sid,
                            const char *token, time_t now);
/* The value of cookie name in a Cookie header, copied into out. */
int auth_cookie_get(const char *header, const char *name, char *out,
                    size_t n);

#endif

/*
 * session.c: JWT (libjwt 1.10, with every check it lacks done here) and
 * CSRF tokens. Tokens come from clients: lengths are capped before
 * parsing and every claim is type-checked.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/session.h"
#include "util/log.h"
#include "util/sp.h"

enum cw_err
auth_jwt_make(const struct cw_config *cfg, uint64_t user_id, const char *sid,
              time_t iat, time_t exp, char **out)
{
    jwt_t *jwt = NULL;
    char   sub[24];
    char  *tok = NULL;
    enum cw_err err = CW_E_CRYPTO;

    snprintf(sub, sizeof(sub), "%llu", (unsigned long long)user_id);
    if (jwt_new(&jwt) != 0)
        goto out;
    if (jwt_add_grant(jwt, "sub", sub) != 0 ||
        jwt_add_grant(jwt, "sid", sid) != 0 ||
        jwt_add_grant_int(jwt, "iat", (long)iat) != 0 ||
        jwt_add_grant_int(jwt, "exp", (long)exp) != 0 ||
        jwt_add_grant(jwt, "iss", cfg->public_url) != 0 ||
        jwt_add_grant(jwt, "aud", AUTH_JWT_AUD) != 0)
        goto out;
    if (jwt_set_alg(jwt, JWT_ALG_HS256, cfg->jwt_secret,
                    (int)cfg->jwt_secret_len) != 0)
        goto out;
    tok = jwt_encode_str(jwt);
    if (tok == NULL)
        goto out;
    *out = tok;
    err = CW_OK;
out:
    jwt_free(jwt);
    return err;
}

enum cw_err
auth_jwt_check(const struct cw_config *cfg, const char *token, time_t now,
               struct auth_claims *out)
{
    jwt_t      *jwt = NULL;
    const char *s;
    long        v;
    enum cw_err err = CW_E_UNAUTH;
    uint64_t    uid;

    if (token == NULL || strlen(token) > AUTH_TOKEN_MAX)
        return CW_E_UNAUTH;
    /* Always with the key: libjwt skips verification without one. */
    if (jwt_decode(&jwt, token, cfg->jwt_secret,
                   (int)cfg->jwt_secret_len) != 0 || jwt == NULL)
        goto out;
    /* Only HS256: refuses alg=none and algorithm confusion. */
    if (jwt_get_alg(jwt) != JWT_ALG_HS256)
        goto out;
    s = jwt_get_grant(jwt, "iss");
    if (s == NULL || strcmp(s, cfg->public_url) != 0)
        goto out;
    s = jwt_get_grant(jwt, "aud");
    if (s == NULL || strcmp(s, AUTH_JWT_AUD) != 0)
        goto out;
    s = jwt_get_grant(jwt, "sub");
    if (s == NULL ||
        sp_u64(s, strlen(s), (uint64_t)INT64_MAX, &uid) != CW_OK || uid == 0)
        goto out;
    out->user_id = uid;
    s = jwt_get_grant(jwt, "sid");
    if (s == NULL || strlen(s) != AUTH_SID_LEN)
        goto out;
    for (size_t i = 0; i < AUTH_SID_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            goto out;
    memcpy(out->sid, s, AUTH_SID_LEN + 1);
    /* libjwt does not check exp or iat: we do (60 s clock skew on iat). */
    errno = 0;
    v = jwt_get_grant_int(jwt, "exp");
    if (errno != 0 || v <= now)
        goto out;
    out->exp = v;
    errno = 0;
    v = jwt_get_grant_int(jwt, "iat");
    if (errno != 0 || v > now + 60 || v >= out->exp)
        goto out;
    out->iat = v;
    err = CW_OK;
out:
    jwt_free(jwt);
    return err;
}

static void
csrf_mac(const struct cw_config *cfg, const char *sid, long ts, char hex[65])
{
    unsigned char md[32];
    unsigned int  mdlen = 0;
    char          msg[96];
    int           n;

    n = snprintf(msg, sizeof(msg), "csrf\n%s\n%ld", sid, ts);
    HMAC(EVP_sha256(), cfg->jwt_secret, (int)cfg->jwt_secret_len,
         (const unsigned char *)msg, (size_t)n, md, &mdlen);
    sp_hex_encode(md, 32, hex);
}

void
auth_csrf_make(const struct cw_config *cfg, const char *sid, time_t now,
               char *out, size_t n)
{
    char mac[65];

    csrf_mac(cfg, sid, (long)now, mac);
    snprintf(out, n, "%ld.%s", (long)now, mac);
}

enum cw_err
auth_csrf_check(const struct cw_config *cfg, const char *sid,
                const char *token, time_t now)
{
    const char *dot;
    uint64_t    ts;
    char        mac[65];

    if (token == NULL || strlen(token) > 96)
        return CW_E_CSRF;
    dot = strchr(token, '.');
    if (dot == NULL ||
        sp_u64(token, (size_t)(dot - token), (uint64_t)now + 60, &ts) !=
            CW_OK ||
        (int64_t)ts + AUTH_CSRF_TTL < (int64_t)now || strlen(dot + 1) != 64)
        return CW_E_CSRF;
    csrf_mac(cfg, sid, (long)ts, mac);
    if (CRYPTO_memcmp(mac, dot + 1, 64) != 0)
        return CW_E_CSRF;
    return CW_OK;
}

int
auth_cookie_get(const char *header, const char *name, char *out, size_t n)
{
    size_t      nl = strlen(name);
    const char *p = header;

    while (p != NULL && *p != '\0') {
        const char *end;
        size_t      vl;

        while (*p == ' ' || *p == ';')
            p++;
        end = strchr(p, ';');
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            p += nl + 1;
            vl = end ? (size_t)(end - p) : strlen(p);
            if (vl + 1 > n)
                return -1;
            memcpy(out, p, vl);
            out[vl] = '\0';
            return 0;
        }
        p = end;
    }
    return -1;
}

/*
 * password.h: Argon2id password hashing (libargon2, encoded PHC strings so
 * the parameters travel with each hash) and the password policy.
 */
#ifndef CW_AUTH_PASSWORD_H
#define CW_AUTH_PASSWORD_H

#include <stddef.h>

#include "util/conf.h"
#include "util/err.h"

#define AUTH_HASH_MAX 256

/* Hash pw into out (AUTH_HASH_MAX bytes) with the configured parameters. */
enum cw_err auth_password_hash(const struct cw_config *cfg, const char *pw,
                               size_t len, char *out);
/* CW_OK when pw matches; CW_E_UNAUTH when not. Constant-time compare. */
enum cw_err auth_password_verify(const char *hash, const char *pw, size_t len);
#define AUTH_PW_MIN 12

/* The policy: 12..128 characters, upper, lower, digit and special, no run
 * of 4+ repeated or sequential characters, not a common password. On
 * failure why says what is missing (CW_E_PASSWORD). */
enum cw_err auth_password_policy(const char *pw, size_t len, char *why,
                                 size_t whylen);
/* Strength estimate 0-100 (policy failures score at most 40). */
int auth_password_score(const char *pw, size_t len);
/* A random password of n-1 characters that passes the policy. */
void auth_password_generate(char *out, size_t n);

#endif

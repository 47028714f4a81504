/*
 * tfa.h: second factor for login: a TOTP code (RFC 6238, each time step
 * accepted once) or one of ten single-use backup codes.
 */
#ifndef CW_AUTH_TFA_H
#define CW_AUTH_TFA_H

#include <stdint.h>

#include "store/store.h"
#include "util/buf.h"
#include "util/conf.h"

#define AUTH_BACKUP_CODES 10
#define AUTH_BACKUP_LEN   11   /* "xxxxx-xxxxx" */

/* CW_OK when code is a current TOTP code (not used before) or an unused
 * backup code, which is consumed atomically; CW_E_UNAUTH otherwise.
 * *backup tells which. */
enum cw_err auth_tfa_verify(struct store *db, const struct cw_config *cfg,
                            uint64_t user_id, const char *code, int *backup);
/* Unwrap a user's TOTP secret. */
enum cw_err auth_tfa_secret(const struct cw_config *cfg, uint64_t user_id,
                            const uint8_t *blob, size_t len, struct buf *out);
/* The wrapping additional data for a user's TOTP secret. */
void auth_tfa_ad(uint64_t user_id, char *out, size_t n);
/* HMAC lookup key of a backup code (normalized: lower case, no dash). */
void auth_backup_lookup(const struct cw_config *cfg, const char *code,
                        char out[65]);
/* Fill codes[AUTH_BACKUP_CODES][AUTH_BACKUP_LEN + 1] with fresh codes. */
void auth_backup_generate(char codes[][AUTH_BACKUP_LEN + 1]);
/* Normalize a user-typed backup code into out (11 bytes); -1 if it is not
 * shaped like one. */
int auth_backup_normalize(const char *in, char out[11]);

#endif

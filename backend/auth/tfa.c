/*
 * tfa.c: TOTP and backup code verification. A TOTP step is recorded in
 * user_totp.last_step with a conditional UPDATE, so a code cannot be
 * replayed, not even concurrently; a backup code is consumed with
 * "UPDATE ... WHERE lookup_hash = ? AND used_at IS NULL", so of two
 * concurrent logins with one code exactly one wins.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "auth/password.h"
#include "auth/tfa.h"
#include "auth/totp.h"
#include "signer/wrap.h"
#include "util/log.h"
#include "util/sp.h"

static const char sql_secret[] =
    "SELECT secret_wrapped FROM user_totp WHERE user_id = ? "
    "AND confirmed_at IS NOT NULL";
static const char sql_step[] =
    "UPDATE user_totp SET last_step = ? WHERE user_id = ? AND last_step < ?";
static const char sql_backup[] =
    "SELECT id, code_hash FROM user_backup_codes WHERE lookup_hash = ? "
    "AND user_id = ? AND used_at IS NULL";
static const char sql_backup_use[] =
    "UPDATE user_backup_codes SET used_at = NOW(6) WHERE id = ? "
    "AND lookup_hash = ? AND used_at IS NULL";

void
auth_tfa_ad(uint64_t user_id, char *out, size_t n)
{
    snprintf(out, n, "user_totp:%llu:secret", (unsigned long long)user_id);
}

enum cw_err
auth_tfa_secret(const struct cw_config *cfg, uint64_t user_id,
                const uint8_t *blob, size_t len, struct buf *out)
{
    char ad[64];

    auth_tfa_ad(user_id, ad, sizeof(ad));
    return signer_unwrap(cfg->master_key, ad, blob, len, out);
}

int
auth_backup_normalize(const char *in, char out[11])
{
    size_t o = 0;

    for (const char *p = in; *p != '\0'; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        if (!isalnum((unsigned char)*p) || o == 10)
            return -1;
        out[o++] = (char)tolower((unsigned char)*p);
    }
    if (o != 10)
        return -1;
    out[o] = '\0';
    return 0;
}

void
auth_backup_lookup(const struct cw_config *cfg, const char *code,
                   char out[65])
{
    unsigned char md[32];
    unsigned int  n = 0;
    char          msg[32];
    int           l = snprintf(msg, sizeof(msg), "backup\n%s", code);

    HMAC(EVP_sha256(), cfg->jwt_secret, (int)cfg->jwt_secret_len,
         (const unsigned char *)msg, (size_t)l, md, &n);
    sp_hex_encode(md, 32, out);
}

void
auth_backup_generate(char codes[][AUTH_BACKUP_LEN + 1])
{
    static const char alpha[] = "abcdefghjkmnpqrstuvwxyz23456789";

    for (int i = 0; i < AUTH_BACKUP_CODES; i++) {
        for (int j = 0; j < AUTH_BACKUP_LEN; j++)
            codes[i][j] = j == 5 ? '-'
                                 : alpha[randombytes_uniform(
                                       sizeof(alpha) - 1)];
        codes[i][AUTH_BACKUP_LEN] = '\0';
    }
}

static enum cw_err
verify_totp(struct store *db, const struct cw_config *cfg, uint64_t user_id,
            const char *code)
{
    struct arena       a;
    struct store_rows  rows;
    struct store_param p[3];
    struct buf         secret;
    enum cw_err        err;
    int64_t            step;
    uint64_t           n = 0;

    arena_init(&a);
    buf_init(&secret, 64);
    p[0] = SP_U64(user_id);
    err = store_query(db, &a, sql_secret, p, 1, &rows);
    if (err != CW_OK)
        goto out;
    err = CW_E_UNAUTH;
    if (rows.nrows != 1)
        goto out;
    err = auth_tfa_secret(cfg, user_id,
                          (const uint8_t *)store_cell_str(&rows, 0, 0),
                          rows.cells[0].len, &secret);
    if (err != CW_OK)
        goto out;
    step = auth_totp_match(secret.p, secret.len, code, (uint64_t)time(NULL));
    err = CW_E_UNAUTH;
    if (step < 0)
        goto out;
    p[0] = SP_I64(step);
    p[1] = SP_U64(user_id);
    p[2] = SP_I64(step);
    err = store_exec(db, sql_step, p, 3, &n, NULL);
    if (err == CW_OK && n != 1)
        err = CW_E_UNAUTH;   /* this step was used already: replay */
out:
    buf_cleanup_secret(&secret);
    arena_reset(&a);
    return err;
}

static enum cw_err
verify_backup(struct store *db, const struct cw_config *cfg,
              uint64_t user_id, const char *code)
{
    struct arena       a;
    struct store_rows  rows;
    struct store_param p[2];
    char               norm[11];
    char               lookup[65];
    enum cw_err        err;
    uint64_t           n = 0;

    if (auth_backup_normalize(code, norm) != 0)
        return CW_E_UNAUTH;
    auth_backup_lookup(cfg, norm, lookup);
    arena_init(&a);
    p[0] = SP_STR(lookup);
    p[1] = SP_U64(user_id);
    err = store_query(db, &a, sql_backup, p, 2, &rows);
    if (err != CW_OK)
        goto out;
    err = CW_E_UNAUTH;
    if (rows.nrows != 1 ||
        auth_password_verify(store_cell_str(&rows, 0, 1), norm, 10) != CW_OK)
        goto out;
    p[0] = SP_U64(store_cell_u64(&rows, 0, 0));
    p[1] = SP_STR(lookup);
    err = store_exec(db, sql_backup_use, p, 2, &n, NULL);
    if (err == CW_OK && n != 1)
        err = CW_E_UNAUTH;   /* a concurrent login used it first */
out:
    arena_reset(&a);
    return err;
}

enum cw_err
auth_tfa_verify(struct store *db, const struct cw_config *cfg,
                uint64_t user_id, const char *code, int *backup)
{
    *backup = 0;
    if (code == NULL)
        return CW_E_UNAUTH;
    if (strlen(code) == 6)
        return verify_totp(db, cfg, user_id, code);
    *backup = 1;
    return verify_backup(db, cfg, user_id, code);
}

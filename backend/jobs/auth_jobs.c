/*
 * auth_jobs.c: cron tasks of the identity layer: audit-retention (delete
 * audit rows past the retention period and re-anchor the hash chain) and
 * session-purge (ended sessions and stale login-failure counters).
 */
#include "config.h"

#include <stdio.h>

#include "auth/settings.h"
#include "jobs/jobs.h"
#include "store/audit.h"

static const char sql_sessions[] =
    "DELETE FROM sessions WHERE (expires_at < NOW(6) - INTERVAL 7 DAY OR "
    "revoked_at < NOW(6) - INTERVAL 7 DAY) LIMIT 5000";
static const char sql_failures[] =
    "DELETE FROM login_failures WHERE window_start < NOW(6) - INTERVAL 1 DAY "
    "AND (locked_until IS NULL OR locked_until < NOW(6)) LIMIT 5000";

enum cw_err
job_audit_retention(struct store *db, const struct cw_config *cfg,
                    char *detail, size_t detail_len)
{
    const struct auth_settings *st = auth_settings_get(db, cfg);
    uint64_t                    n = 0;
    enum cw_err                 err;

    err = store_audit_purge(db, st->audit_retention_days, &n);
    if (err == CW_OK)
        snprintf(detail, detail_len, "%llu rows older than %u days removed",
                 (unsigned long long)n, st->audit_retention_days);
    return err;
}

enum cw_err
job_session_purge(struct store *db, const struct cw_config *cfg,
                  char *detail, size_t detail_len)
{
    uint64_t    n = 0;
    uint64_t    s = 0;
    uint64_t    f = 0;
    enum cw_err err;

    (void)cfg;
    do {
        err = store_exec(db, sql_sessions, NULL, 0, &n, NULL);
        s += n;
    } while (err == CW_OK && n == 5000);
    while (err == CW_OK) {
        err = store_exec(db, sql_failures, NULL, 0, &n, NULL);
        f += n;
        if (n < 5000)
            break;
    }
    snprintf(detail, detail_len, "%llu sessions and %llu login counters "
             "removed", (unsigned long long)s, (unsigned long long)f);
    return err;
}

/*
 * jobs.c: the task registry and the lease protocol. The lease is a
 * conditional UPDATE of the task's row: on one server InnoDB's row lock
 * serializes contenders; on Galera the losing node's write fails
 * certification (1213) and counts as "lease held". GET_LOCK is not used
 * because Galera does not replicate it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>

#include "ca/ca.h"
#include "jobs/jobs.h"
#include "cw_limits.h"
#include "util/log.h"
#include "util/sp.h"

const struct job_task job_tasks[] = {
    { "job-history-purge",
      "delete cron run history older than 30 days and leases of tasks "
      "that no longer exist",
      3600, 600, job_history_purge },
    { "session-purge",
      "delete sessions ended more than 7 days ago and stale login-failure "
      "counters",
      3600, 600, job_session_purge },
    { "pending-purge",
      "delete certificates and CAs whose issuance stopped before signing",
      900, 600, job_pending_purge },
    { "audit-retention",
      "delete audit rows past the retention period and re-anchor the chain",
      86400, 3600, job_audit_retention },
    { "crl-regen",
      "regenerate CRLs past half their validity or older than the last "
      "revocation (delta CRLs where enabled)",
      60, 900, ca_crl_regen_due },
    { "ocsp-responder-renew",
      "issue delegated OCSP responder certificates that are missing or end "
      "within 10 days",
      600, 600, ca_ocsp_responders_renew },
    { "ocsp-presign",
      "sign OCSP responses ahead for new certificates and for responses "
      "past half their validity",
      60, 1800, ca_ocsp_presign_due },
};
const size_t job_ntasks = sizeof(job_tasks) / sizeof(job_tasks[0]);

static const char sql_lease_row[] =
    "INSERT IGNORE INTO job_leases (name) VALUES (?)";
/* A forced run ignores the schedule but not a run that finished after this
 * process started: of several "cron TASK --force" started together, one
 * runs and the others see that it ran. */
static const char sql_lease_take[] =
    "UPDATE job_leases SET holder = ?, "
    "locked_until = NOW(6) + INTERVAL ? SECOND "
    "WHERE name = ? AND locked_until < NOW(6) "
    "AND (next_run_at <= NOW(6) OR (? = 1 AND "
    "(last_run_at IS NULL OR last_run_at < ?)))";
static const char sql_now[] = "SELECT DATE_FORMAT(NOW(6), '%Y-%m-%d %H:%i:%s.%f')";
static const char sql_lease_why[] =
    "SELECT locked_until >= NOW(6), next_run_at > NOW(6) "
    "FROM job_leases WHERE name = ?";
static const char sql_lease_release[] =
    "UPDATE job_leases SET locked_until = '1970-01-02 00:00:00', "
    "next_run_at = NOW(6) + INTERVAL ? SECOND, last_run_at = NOW(6), "
    "last_status = ? WHERE name = ? AND holder = ?";
static const char sql_run_start[] =
    "INSERT INTO job_runs (name, holder, started_at, status) "
    "VALUES (?, ?, NOW(6), 'running')";
static const char sql_run_end[] =
    "UPDATE job_runs SET finished_at = NOW(6), status = ?, detail = ? "
    "WHERE id = ?";

enum job_outcome { JOB_RAN_OK, JOB_RAN_FAILED, JOB_NOT_DUE, JOB_HELD,
                   JOB_DB_ERROR };

static enum job_outcome
job_one(struct store *db, const struct cw_config *cfg,
        const struct job_task *t, const char *holder, int force,
        const char *started, char *detail, size_t dlen)
{
    struct store_param p[5];
    uint64_t           n = 0;
    uint64_t           run_id = 0;
    enum cw_err        err;
    const char        *status;

    detail[0] = '\0';
    p[0] = SP_STR(t->name);
    err = store_exec(db, sql_lease_row, p, 1, NULL, NULL);
    if (err != CW_OK)
        return JOB_DB_ERROR;
    p[0] = SP_STR(holder);
    p[1] = SP_U64(t->lease_ttl);
    p[2] = SP_STR(t->name);
    p[3] = SP_U64(force ? 1 : 0);
    p[4] = SP_STR(started);
    err = store_exec(db, sql_lease_take, p, 5, &n, NULL);
    if (err == CW_E_DB_RETRY || err == CW_E_CONFLICT)
        return JOB_HELD;   /* lost the race (Galera certification) */
    if (err != CW_OK)
        return JOB_DB_ERROR;
    if (n != 1) {
        struct arena      a;
        struct store_rows rows;
        enum job_outcome  o = JOB_HELD;

        /* Forced: whoever ran it held the lease while we waited. */
        if (force)
            return JOB_HELD;
        arena_init(&a);
        p[0] = SP_STR(t->name);
        if (store_query(db, &a, sql_lease_why, p, 1, &rows) == CW_OK &&
            rows.nrows == 1 && store_cell_u64(&rows, 0, 0) == 0 &&
            store_cell_u64(&rows, 0, 1) == 1)
            o = JOB_NOT_DUE;
        arena_reset(&a);
        return o;
    }
    p[0] = SP_STR(t->name);
    p[1] = SP_STR(holder);
    err = store_exec(db, sql_run_start, p, 2, NULL, &run_id);
    if (err == CW_OK) {
        log_info("cron: running %s", t->name);
        err = t->run(db, cfg, detail, dlen);
    }
    status = err == CW_OK ? "ok" : "failed";
    if (err != CW_OK && detail[0] == '\0')
        snprintf(detail, dlen, "%s", cw_err_name(err));
    if (run_id != 0) {
        p[0] = SP_STR(status);
        p[1] = SP_STRN(detail, strnlen(detail, 512));
        p[2] = SP_U64(run_id);
        store_exec(db, sql_run_end, p, 3, NULL, NULL);
    }
    /* A failed run is retried after a minute, not after a full period. */
    p[0] = SP_U64(err == CW_OK ? t->interval : 60);
    p[1] = SP_STR(status);
    p[2] = SP_STR(t->name);
    p[3] = SP_STR(holder);
    store_exec(db, sql_lease_release, p, 4, NULL, NULL);
    return err == CW_OK ? JOB_RAN_OK : JOB_RAN_FAILED;
}

int
job_cron(const struct cw_config *cfg, const char *name, int force)
{
    struct store *db;
    char          holder[160];
    char          host[64];
    char          rnd[17];
    char          detail[512];
    int           rc = 0;
    int           matched = 0;
    char          started[40];
    struct arena  a;
    struct store_rows rows;

    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "unknown");
    host[sizeof(host) - 1] = '\0';
    sp_random_hex(rnd, 8);
    snprintf(holder, sizeof(holder), "%s:%ld:%s", host, (long)getpid(), rnd);
    for (size_t i = 0; i < job_ntasks; i++)
        if (strcmp(name, "all") == 0 || strcmp(name, job_tasks[i].name) == 0)
            matched = 1;
    if (!matched) {
        fprintf(stderr, "certward: unknown cron task '%s' (try: all", name);
        for (size_t i = 0; i < job_ntasks; i++)
            fprintf(stderr, ", %s", job_tasks[i].name);
        fprintf(stderr, ")\n");
        return 2;
    }
    db = store_new(cfg);
    arena_init(&a);
    if (store_connect(db, 1) != CW_OK ||
        store_query(db, &a, sql_now, NULL, 0, &rows) != CW_OK ||
        rows.nrows != 1) {
        fprintf(stderr, "certward: database unavailable\n");
        arena_reset(&a);
        store_free(db);
        return 1;
    }
    /* The database's clock, like every time the lease rows compare. */
    snprintf(started, sizeof(started), "%s", store_cell_str(&rows, 0, 0));
    arena_reset(&a);
    for (size_t i = 0; i < job_ntasks; i++) {
        const struct job_task *t = &job_tasks[i];

        if (strcmp(name, "all") != 0 && strcmp(name, t->name) != 0)
            continue;
        switch (job_one(db, cfg, t, holder, force, started, detail,
                        sizeof(detail))) {
        case JOB_RAN_OK:
            printf("%s: ran ok%s%s\n", t->name, detail[0] ? ": " : "",
                   detail);
            break;
        case JOB_RAN_FAILED:
            printf("%s: ran failed: %s\n", t->name, detail);
            rc = 1;
            break;
        case JOB_NOT_DUE:
            printf("%s: skipped (not due)\n", t->name);
            break;
        case JOB_HELD:
            printf("%s: skipped (lease held)\n", t->name);
            break;
        case JOB_DB_ERROR:
            printf("%s: failed: database error\n", t->name);
            rc = 1;
            break;
        }
        fflush(stdout);
    }
    store_free(db);
    return rc;
}

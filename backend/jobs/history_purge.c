/*
 * history_purge.c: cron task job-history-purge. Keeps the job_runs table
 * bounded and removes lease rows of tasks this release no longer has.
 * Deletes in batches so no statement holds locks for long (Galera
 * replicates each transaction as one write set).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "jobs/jobs.h"

static const char sql_purge_runs[] =
    "DELETE FROM job_runs WHERE started_at < NOW(6) - INTERVAL 30 DAY "
    "LIMIT 5000";
static const char sql_names[] = "SELECT name FROM job_leases";
static const char sql_drop_lease[] =
    "DELETE FROM job_leases WHERE name = ? AND locked_until < NOW(6)";

enum cw_err
job_history_purge(struct store *db, const struct cw_config *cfg,
                  char *detail, size_t detail_len)
{
    uint64_t          n;
    uint64_t          runs = 0;
    uint64_t          leases = 0;
    struct arena      a;
    struct store_rows rows;
    enum cw_err       err;

    (void)cfg;
    do {
        err = store_exec(db, sql_purge_runs, NULL, 0, &n, NULL);
        if (err != CW_OK)
            return err;
        runs += n;
    } while (n == 5000);
    arena_init(&a);
    err = store_query(db, &a, sql_names, NULL, 0, &rows);
    for (size_t r = 0; err == CW_OK && r < rows.nrows; r++) {
        const char        *name = store_cell_str(&rows, r, 0);
        int                known = 0;
        struct store_param p[1];

        for (size_t i = 0; i < job_ntasks; i++)
            if (strcmp(job_tasks[i].name, name) == 0)
                known = 1;
        if (known)
            continue;
        p[0] = SP_STR(name);
        err = store_exec(db, sql_drop_lease, p, 1, &n, NULL);
        leases += n;
    }
    arena_reset(&a);
    snprintf(detail, detail_len, "%llu runs and %llu stale leases removed",
             (unsigned long long)runs, (unsigned long long)leases);
    return err;
}

static const char sql_pending_certs[] =
    "DELETE FROM certificates WHERE status = 'pending' "
    "AND created_at < NOW(6) - INTERVAL 1 HOUR LIMIT 5000";
static const char sql_pending_cas[] =
    "DELETE FROM cas WHERE status = 'pending' "
    "AND created_at < NOW(6) - INTERVAL 1 HOUR "
    "AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.ca_id = cas.id) "
    "LIMIT 1000";

/* A request whose signing was claimed by a worker that died. */
static const char sql_stale_claims[] =
    "UPDATE csrs SET status = 'pending' WHERE status = 'signing' "
    "AND updated_at < NOW(6) - INTERVAL 1 HOUR";

/* Issuance reserves a serial in a pending row before signing (DESIGN.md
 * section 4); a worker that died between the two transactions leaves the
 * row behind. An hour is far longer than any signing takes. */
enum cw_err
job_pending_purge(struct store *db, const struct cw_config *cfg,
                  char *detail, size_t detail_len)
{
    uint64_t    certs = 0;
    uint64_t    cas = 0;
    enum cw_err err;

    (void)cfg;
    err = store_exec(db, sql_pending_certs, NULL, 0, &certs, NULL);
    if (err == CW_OK)
        err = store_exec(db, sql_pending_cas, NULL, 0, &cas, NULL);
    if (err == CW_OK)
        err = store_exec(db, sql_stale_claims, NULL, 0, NULL, NULL);
    snprintf(detail, detail_len, "%llu certificates and %llu CAs left "
             "pending removed", (unsigned long long)certs,
             (unsigned long long)cas);
    return err;
}

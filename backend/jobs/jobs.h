/*
 * jobs.h: periodic tasks run by "certward cron TASK|all". Every node may
 * run cron; a task runs only on the node that wins its lease row, and only
 * when it is due, so each task runs once per period across the cluster.
 */
#ifndef CW_JOBS_H
#define CW_JOBS_H

#include <stddef.h>

#include "store/store.h"
#include "util/conf.h"

typedef enum cw_err (*job_run_fn)(struct store *db,
                                  const struct cw_config *cfg, char *detail,
                                  size_t detail_len);

struct job_task {
    const char *name;
    const char *description;
    unsigned    interval;    /* seconds between runs                    */
    unsigned    lease_ttl;   /* longest run; a crashed holder's lease    */
                             /* expires after this                       */
    job_run_fn  run;
};

extern const struct job_task job_tasks[];
extern const size_t job_ntasks;

/* Run one task (or "all") if due and the lease is won; prints one line per
 * task on stdout. Returns the process exit code. */
int job_cron(const struct cw_config *cfg, const char *name, int force);

/* Tasks */
enum cw_err job_history_purge(struct store *db, const struct cw_config *cfg,
                              char *detail, size_t detail_len);
enum cw_err job_audit_retention(struct store *db,
                                const struct cw_config *cfg, char *detail,
                                size_t detail_len);
enum cw_err job_pending_purge(struct store *db, const struct cw_config *cfg,
                              char *detail, size_t detail_len);
enum cw_err job_session_purge(struct store *db, const struct cw_config *cfg,
                              char *detail, size_t detail_len);

#endif

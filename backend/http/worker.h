/* worker.h: a worker process (internal to http/). */
#ifndef CW_HTTP_WORKER_H
#define CW_HTTP_WORKER_H

#include "util/conf.h"

/* Serve on listen_fd with cfg->threads threads until SIGTERM; returns the
 * process exit code. */
int http_worker_run(const struct cw_config *cfg, int listen_fd);
/* Open the configured listening socket (unix path or ADDRESS:PORT). */
int http_listen_open(const struct cw_config *cfg);

#endif

/*
 * epoch.h: the authentication epoch (table auth_epoch, kept by triggers):
 * a counter that advances with every change able to end or alter a
 * session. A worker that read a session row under epoch E may reuse it as
 * long as the epoch it reads for a later request is still E.
 */
#ifndef CW_AUTH_EPOCH_H
#define CW_AUTH_EPOCH_H

#include <stdint.h>

#include "store/store.h"

/* Map the page that the workers of a node share reads through; called by
 * the master before it forks (and on first use without a master). */
void auth_epoch_init(void);
/* The current epoch, from a read that started after this call began, so
 * every change committed before the call is counted. Concurrent callers
 * on one node share a read: one thread queries on its own connection, the
 * others, in every worker process of the node, wait for it (or for the
 * next read when one had already started before they arrived).
 * a: the caller's request arena. CW_E_DB_DOWN etc. when the read fails. */
enum cw_err auth_epoch_get(struct store *db, struct arena *a, uint64_t *gen);
/* Note that the request named request_id (its random id) read gen with
 * auth_epoch_get() while it was being served by this thread. */
void auth_epoch_note(const char *request_id, uint64_t gen);
/* 1 and *gen when the request named request_id, served by this thread,
 * has read the epoch (auth_epoch_note); 0 otherwise (no id, another
 * request, cron, a request that was not authenticated): then the caller
 * must read from the database. Code that does not hold the request finds
 * its epoch this way (through the request id of its audit event). */
int auth_epoch_of_request(const char *request_id, uint64_t *gen);

#endif

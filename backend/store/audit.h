/*
 * audit.h: the tamper-evident audit log. Appends run inside the caller's
 * store_tx() so an audit row commits or rolls back with the change it
 * records. The log is STORE_AUDIT_CHAINS hash chains: each row's hash
 * covers its fields and the previous row's hash in its chain;
 * store_audit_verify() walks every chain to the head it records.
 */
#ifndef CW_STORE_AUDIT_H
#define CW_STORE_AUDIT_H

#include <stdint.h>

#include "store/store.h"

/* Independent hash chains (audit_head rows 1..N, schema 0006). */
#define STORE_AUDIT_CHAINS 16

struct store_audit_event {
    uint64_t    user_id;        /* 0 = none                         */
    const char *username;       /* actor name or "" / "cli"          */
    const char *action;         /* "user.create", "auth.login" ...   */
    const char *resource_type;  /* "user", "role", "session" ...     */
    const char *resource_id;
    const char *outcome;        /* "success", "failure", "denied"    */
    const char *client_addr;
    const char *request_id;
    const char *detail;         /* compact JSON object text, or ""   */
};

/* Append within an open transaction (must be called from a store_tx
 * body). */
enum cw_err store_audit_append(struct store *db,
                               const struct store_audit_event *ev);
/* Append in a transaction of its own (events that change nothing else:
 * failed logins, permission denials). */
enum cw_err store_audit_log(struct store *db,
                            const struct store_audit_event *ev);

struct store_audit_verify {
    int      valid;
    uint64_t checked;
    uint64_t first_bad_id;      /* 0 when valid                      */
    char     reason[96];
};
enum cw_err store_audit_verify(struct store *db,
                               struct store_audit_verify *out);
/* Delete rows older than days and re-anchor each chain at its first row
 * kept; the purge itself is audited. */
enum cw_err store_audit_purge(struct store *db, unsigned days,
                              uint64_t *deleted);
/* The row hash (exposed for tests); chain 1 keeps the form of the
 * single chain of old, later chains bind their number. */
void store_audit_hash(unsigned chain, const char *prev_hash, uint64_t seq,
                      const char *at, const struct store_audit_event *ev,
                      char out[65]);

#endif

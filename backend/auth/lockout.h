/*
 * lockout.h: failed-login counters per account name and per client
 * address, in the database so that they hold across workers and nodes.
 * Subjects are "user:<name>" (whether or not the user exists, so a lockout
 * reveals nothing) and "addr:<ip>".
 */
#ifndef CW_AUTH_LOCKOUT_H
#define CW_AUTH_LOCKOUT_H

#include "auth/settings.h"
#include "store/store.h"

/* CW_OK, or CW_E_LOCKED with *retry_after seconds. */
enum cw_err auth_lockout_check(struct store *db, const char *subject,
                               unsigned *retry_after);
/* Count one failure; locks the subject when the threshold is reached. */
enum cw_err auth_lockout_fail(struct store *db,
                              const struct auth_settings *st,
                              const char *subject, unsigned threshold);
enum cw_err auth_lockout_clear(struct store *db, const char *subject);

#endif

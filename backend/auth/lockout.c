/*
 * lockout.c: one atomic upsert per failure; the window restarts when it
 * has passed. Subjects come from client input (user names, addresses) and
 * are bound as parameters, never built into SQL.
 */
#include "config.h"

#include "auth/lockout.h"

static const char sql_check[] =
    "SELECT TIMESTAMPDIFF(SECOND, NOW(6), locked_until) + 1 "
    "FROM login_failures WHERE subject = ? AND locked_until > NOW(6)";
static const char sql_fail[] =
    "INSERT INTO login_failures (subject, failures, window_start) "
    "VALUES (?, 1, NOW(6)) ON DUPLICATE KEY UPDATE "
    "failures = IF(window_start < NOW(6) - INTERVAL ? SECOND, 1, "
    "failures + 1), "
    "window_start = IF(window_start < NOW(6) - INTERVAL ? SECOND, NOW(6), "
    "window_start)";
static const char sql_lock[] =
    "UPDATE login_failures SET locked_until = NOW(6) + INTERVAL ? SECOND, "
    "failures = 0, window_start = NOW(6) "
    "WHERE subject = ? AND failures >= ?";
static const char sql_clear[] = "DELETE FROM login_failures WHERE subject = ?";

enum cw_err
auth_lockout_check(struct store *db, const char *subject,
                   unsigned *retry_after)
{
    struct arena       a;
    struct store_rows  rows;
    struct store_param p[1];
    enum cw_err        err;

    arena_init(&a);
    p[0] = SP_STR(subject);
    err = store_query(db, &a, sql_check, p, 1, &rows);
    if (err == CW_OK && rows.nrows == 1) {
        *retry_after = (unsigned)store_cell_u64(&rows, 0, 0);
        err = CW_E_LOCKED;
    }
    arena_reset(&a);
    return err;
}

enum cw_err
auth_lockout_fail(struct store *db, const struct auth_settings *st,
                  const char *subject, unsigned threshold)
{
    struct store_param p[3];
    enum cw_err        err;

    p[0] = SP_STR(subject);
    p[1] = SP_U64(st->lockout_window);
    p[2] = SP_U64(st->lockout_window);
    err = store_exec(db, sql_fail, p, 3, NULL, NULL);
    if (err != CW_OK)
        return err;
    p[0] = SP_U64(st->lockout_duration);
    p[1] = SP_STR(subject);
    p[2] = SP_U64(threshold);
    return store_exec(db, sql_lock, p, 3, NULL, NULL);
}

enum cw_err
auth_lockout_clear(struct store *db, const char *subject)
{
    struct store_param p[1];

    p[0] = SP_STR(subject);
    return store_exec(db, sql_clear, p, 1, NULL, NULL);
}

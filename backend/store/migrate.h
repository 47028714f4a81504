/*
 * migrate.h: schema migrations embedded from schema/NNNN_name.sql. Applied
 * in order by "certward migrate" and recorded in schema_migrations with a
 * SHA-256 of their text; statements are written to be re-runnable (IF NOT
 * EXISTS, INSERT IGNORE) so an interrupted migration can be applied again.
 */
#ifndef CW_STORE_MIGRATE_H
#define CW_STORE_MIGRATE_H

#include "store/store.h"

struct store_migration {
    unsigned    version;
    const char *name;
    const char *sql;
};

extern const struct store_migration store_migrations[];
extern const unsigned store_nmigrations;

/* Apply every migration not yet recorded; *applied counts them. */
enum cw_err store_migrate(struct store *db, unsigned *applied);
/* Split one migration into statements: calls fn for each. */
typedef enum cw_err (*store_stmt_fn)(const char *sql, size_t len, void *arg);
enum cw_err store_migration_split(const char *text, store_stmt_fn fn,
                                  void *arg);

#endif

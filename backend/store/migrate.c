/*
 * migrate.c: the migration runner. Input is the migration text compiled
 * into the binary (trusted); the database state is checked, not assumed.
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "cw_limits.h"
#include "store/migrate.h"
#include "util/log.h"
#include "util/sp.h"

static const char sql_ledger[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT UNSIGNED NOT NULL PRIMARY KEY,"
    " name VARCHAR(128) NOT NULL,"
    " checksum CHAR(64) NOT NULL,"
    " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
static const char sql_applied[] =
    "SELECT version, checksum FROM schema_migrations ORDER BY version";
static const char sql_record[] =
    "INSERT IGNORE INTO schema_migrations (version, name, checksum) "
    "VALUES (?, ?, ?)";

unsigned
store_schema_expected(void)
{
    unsigned v = 0;

    for (unsigned i = 0; i < store_nmigrations; i++)
        if (store_migrations[i].version > v)
            v = store_migrations[i].version;
    return v;
}

enum cw_err
store_migration_split(const char *text, store_stmt_fn fn, void *arg)
{
    const char *start = NULL;
    const char *p = text;
    unsigned    n = 0;
    enum cw_err err;

    /* A statement ends at a ';' that ends a line; "--" lines are
     * comments. Enough for DDL written by us, and simple to review. */
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t      len = eol ? (size_t)(eol - p) : strlen(p);
        const char *t = p;
        size_t      tl = len;

        if (tl > 0 && t[tl - 1] == '\r')
            tl--;
        sp_trim(&t, &tl);
        if (tl >= 2 && t[0] == '-' && t[1] == '-') {
            /* comment line */
        } else if (tl > 0) {
            if (start == NULL)
                start = p;
            if (t[tl - 1] == ';') {
                if (++n > LIM_MIGRATION_STMTS)
                    return CW_E_INTERNAL;
                err = fn(start, (size_t)(t + tl - 1 - start), arg);
                if (err != CW_OK)
                    return err;
                start = NULL;
            }
        }
        p += len + (eol ? 1 : 0);
    }
    if (start != NULL) {
        log_err("migration ends without ';'");
        return CW_E_INTERNAL;
    }
    return CW_OK;
}

static enum cw_err
run_one(const char *sql, size_t len, void *arg)
{
    return store_exec_ddl(arg, sql, len);
}

static void
checksum(const char *text, char out[65])
{
    unsigned char md[32];
    unsigned int  mdlen = 0;

    EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL);
    sp_hex_encode(md, 32, out);
}

enum cw_err
store_migrate(struct store *db, unsigned *applied)
{
    struct arena      a;
    struct store_rows rows;
    enum cw_err       err;
    char              sum[65];

    *applied = 0;
    arena_init(&a);
    err = store_exec_ddl(db, sql_ledger, strlen(sql_ledger));
    if (err != CW_OK)
        goto out;
    err = store_query(db, &a, sql_applied, NULL, 0, &rows);
    if (err != CW_OK)
        goto out;
    for (size_t r = 0; r < rows.nrows; r++) {
        unsigned v = (unsigned)store_cell_u64(&rows, r, 0);
        int      known = 0;

        for (unsigned i = 0; i < store_nmigrations; i++) {
            if (store_migrations[i].version != v)
                continue;
            known = 1;
            checksum(store_migrations[i].sql, sum);
            if (strcmp(sum, store_cell_str(&rows, r, 1)) != 0)
                log_warn("migration %s was changed after it was applied",
                         store_migrations[i].name);
        }
        if (!known) {
            log_err("database schema has migration %u, unknown to this "
                    "certward (expects at most %u): upgrade certward",
                    v, store_schema_expected());
            err = CW_E_SCHEMA;
            goto out;
        }
    }
    for (unsigned i = 0; i < store_nmigrations; i++) {
        const struct store_migration *m = &store_migrations[i];
        int                           done = 0;
        struct store_param            p[3];

        for (size_t r = 0; r < rows.nrows; r++)
            if (store_cell_u64(&rows, r, 0) == m->version)
                done = 1;
        if (done)
            continue;
        log_info("applying migration %s", m->name);
        err = store_migration_split(m->sql, run_one, db);
        if (err != CW_OK) {
            log_err("migration %s failed", m->name);
            goto out;
        }
        checksum(m->sql, sum);
        p[0] = SP_U64(m->version);
        p[1] = SP_STR(m->name);
        p[2] = SP_STR(sum);
        err = store_exec(db, sql_record, p, 3, NULL, NULL);
        if (err != CW_OK)
            goto out;
        (*applied)++;
    }
out:
    arena_reset(&a);
    return err;
}

/*
 * store.h: MariaDB access. One connection per worker thread (struct store),
 * prepared statements with bound parameters only, statements cached per
 * connection, store_tx() for every multi-statement change. mysql_errno() is
 * mapped in one place: deadlock / lock wait / Galera certification failure
 * -> CW_E_DB_RETRY, duplicate key -> CW_E_CONFLICT, lost or refused
 * connection -> CW_E_DB_DOWN (the connection is dropped and reopened by the
 * next call), anything else -> CW_E_DB. Errors are logged here, once.
 */
#ifndef CW_STORE_H
#define CW_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/arena.h"
#include "util/conf.h"
#include "util/err.h"

struct store;

enum store_ptype { STORE_P_NULL, STORE_P_U64, STORE_P_I64, STORE_P_STR,
                   STORE_P_BLOB };

struct store_param {
    enum store_ptype type;
    uint64_t         u;
    int64_t          i;
    const void      *p;
    size_t           len;
};

#define SP_NULLV        ((struct store_param){ .type = STORE_P_NULL })
#define SP_U64(x)       ((struct store_param){ .type = STORE_P_U64, .u = (x) })
#define SP_I64(x)       ((struct store_param){ .type = STORE_P_I64, .i = (x) })
#define SP_STR(s)                                                           \
    ((struct store_param){ .type = STORE_P_STR, .p = (s), .len = strlen(s) })
#define SP_STRN(s, n)                                                       \
    ((struct store_param){ .type = STORE_P_STR, .p = (s), .len = (n) })
#define SP_BLOB(b, n)                                                       \
    ((struct store_param){ .type = STORE_P_BLOB, .p = (b), .len = (n) })

/* A materialized result set; memory comes from the arena given to the
 * query. Cells are NUL-terminated; NULL cells have p == NULL. */
struct store_cell {
    const char *p;
    size_t      len;
};

struct store_rows {
    size_t             nrows;
    size_t             ncols;
    struct store_cell *cells;   /* nrows * ncols */
};

typedef enum cw_err (*store_tx_fn)(struct store *db, void *arg);

/* Connection handle; nothing is opened until first use. */
struct store *store_new(const struct cw_config *cfg);
void store_free(struct store *db);
/* Open the connection now (and check the schema when check_schema). */
enum cw_err store_connect(struct store *db, int check_schema);
/* Statement with parameters; affected rows and last insert id optional. */
enum cw_err store_exec(struct store *db, const char *sql,
                       const struct store_param *params, size_t nparams,
                       uint64_t *affected, uint64_t *insert_id);
/* Query whose rows are copied into the arena. */
enum cw_err store_query(struct store *db, struct arena *a, const char *sql,
                        const struct store_param *params, size_t nparams,
                        struct store_rows *out);
/* Run fn inside START TRANSACTION ... COMMIT, replaying it on deadlock /
 * certification failure / lock wait timeout. fn must be replayable. */
enum cw_err store_tx(struct store *db, store_tx_fn fn, void *arg);
/* Highest applied migration (0 when none / table missing). */
enum cw_err store_schema_version(struct store *db, unsigned *version);
/* Text DDL for migrations only (constant text, never input). */
enum cw_err store_exec_ddl(struct store *db, const char *sql, size_t len);

/* Typed cell access (row r, column c). */
const char *store_cell_str(const struct store_rows *rows, size_t r, size_t c);
int store_cell_isnull(const struct store_rows *rows, size_t r, size_t c);
uint64_t store_cell_u64(const struct store_rows *rows, size_t r, size_t c);
int64_t store_cell_i64(const struct store_rows *rows, size_t r, size_t c);

/* The schema version this binary was built for (highest migration). */
unsigned store_schema_expected(void);

#endif

/*
 * store.c: MariaDB Connector/C wrapper. Runs in worker threads and CLI
 * verbs; trusts the database server's answers but never builds SQL text
 * from input: every statement is a constant prepared with bound parameters.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "cw_limits.h"
#include "store/store.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sp.h"

#define STORE_CELL_INLINE 256

struct store_stmt_slot {
    const char *sql;    /* identity: SQL constants have static storage */
    MYSQL_STMT *stmt;
};

struct store {
    const struct cw_config *cfg;
    MYSQL                  *my;
    int                     in_tx;
    unsigned                last_errno;
    struct store_stmt_slot  stmts[LIM_SQL_STMTS];
    size_t                  nstmts;
};

/* The errors after which the connection is unusable. */
static int
errno_is_down(unsigned e)
{
    switch (e) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case CR_COMMANDS_OUT_OF_SYNC:
    case ER_SERVER_SHUTDOWN:
    case ER_CONNECTION_KILLED:
    case 4031:  /* ER_CLIENT_INTERACTION_TIMEOUT */
    case ER_UNKNOWN_COM_ERROR:  /* 1047: Galera node not ready */
    case ER_CON_COUNT_ERROR:
    case ER_TOO_MANY_USER_CONNECTIONS:
    case ER_ACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
    case ER_BAD_DB_ERROR:
        return 1;
    default:
        return 0;
    }
}

static enum cw_err
map_errno(unsigned e)
{
    if (e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT)
        return CW_E_DB_RETRY;
    if (e == ER_DUP_ENTRY || e == ER_DUP_KEY)
        return CW_E_CONFLICT;
    if (errno_is_down(e))
        return CW_E_DB_DOWN;
    return CW_E_DB;
}

static void
store_disconnect(struct store *db)
{
    for (size_t i = 0; i < db->nstmts; i++)
        mysql_stmt_close(db->stmts[i].stmt);
    db->nstmts = 0;
    if (db->my != NULL)
        mysql_close(db->my);
    db->my = NULL;
    db->in_tx = 0;
}

/* Map and log a failure; drops the connection when it is gone. */
static enum cw_err
store_fail(struct store *db, unsigned e, const char *what, const char *msg)
{
    enum cw_err err = map_errno(e);

    db->last_errno = e;
    if (err == CW_E_DB_RETRY || e == ER_NO_SUCH_TABLE)
        log_info("database: %s: %u (will retry): %s", what, e, msg);
    else if (err == CW_E_CONFLICT)
        log_debug("database: %s: %u: %s", what, e, msg);
    else
        log_err("database: %s: %u: %s", what, e, msg);
    if (err == CW_E_DB_DOWN)
        store_disconnect(db);
    return err;
}

static enum cw_err
fail_my(struct store *db, const char *what)
{
    return store_fail(db, mysql_errno(db->my), what, mysql_error(db->my));
}

static enum cw_err
fail_stmt(struct store *db, MYSQL_STMT *st, const char *what)
{
    return store_fail(db, mysql_stmt_errno(st), what, mysql_stmt_error(st));
}

struct store *
store_new(const struct cw_config *cfg)
{
    struct store *db = cw_xcalloc(1, sizeof(*db));

    db->cfg = cfg;
    return db;
}

void
store_free(struct store *db)
{
    if (db == NULL)
        return;
    store_disconnect(db);
    free(db);
}

static enum cw_err
store_open(struct store *db)
{
    const struct cw_config *cfg = db->cfg;
    unsigned                timeout = cfg->db_connect_timeout;
    unsigned                iot = cfg->db_io_timeout;
    my_bool                 verify = 1;
    const char             *socket = NULL;
    const char             *host = NULL;
    MYSQL                  *my;

    my = mysql_init(NULL);
    if (my == NULL)
        cw_assert_fail("mysql_init", __FILE__, __LINE__);
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (iot > 0) {
        mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &iot);
        mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &iot);
    }
    mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* UTC everywhere and strict mode: a bad value is an error, never a
     * silently truncated row. */
    mysql_options(my, MYSQL_INIT_COMMAND,
                  "SET time_zone = '+00:00', sql_mode = "
                  "'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
                  "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'");
    if (cfg->db_tls_ca[0] != '\0') {
        mysql_options(my, MYSQL_OPT_SSL_CA, cfg->db_tls_ca);
        mysql_options(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    }
    if (cfg->db_socket[0] != '\0')
        socket = cfg->db_socket;
    else
        host = cfg->db_host;
    if (mysql_real_connect(my, host, cfg->db_user, cfg->db_password,
                           cfg->db_name, socket ? 0 : cfg->db_port, socket,
                           CLIENT_FOUND_ROWS) == NULL) {
        log_err("database: cannot connect to %s: %u: %s",
                socket ? socket : host, mysql_errno(my), mysql_error(my));
        mysql_close(my);
        return CW_E_DB_DOWN;
    }
    db->my = my;
    db->in_tx = 0;
    return CW_OK;
}

enum cw_err
store_connect(struct store *db, int check_schema)
{
    unsigned    v;
    enum cw_err err;

    if (db->my != NULL)
        return CW_OK;
    err = store_open(db);
    if (err != CW_OK || !check_schema)
        return err;
    err = store_schema_version(db, &v);
    if (err != CW_OK)
        return err;
    if (v != store_schema_expected()) {
        log_err("database schema is version %u but this certward needs %u%s",
                v, store_schema_expected(),
                v < store_schema_expected() ? ": run certward migrate"
                                            : ": upgrade certward");
        store_disconnect(db);
        return CW_E_SCHEMA;
    }
    return CW_OK;
}

static enum cw_err
stmt_get(struct store *db, const char *sql, MYSQL_STMT **out)
{
    MYSQL_STMT *st;

    for (size_t i = 0; i < db->nstmts; i++) {
        if (db->stmts[i].sql == sql) {
            *out = db->stmts[i].stmt;
            return CW_OK;
        }
    }
    st = mysql_stmt_init(db->my);
    if (st == NULL)
        return fail_my(db, "mysql_stmt_init");
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
        enum cw_err err = fail_stmt(db, st, "prepare");

        mysql_stmt_close(st);
        return err;
    }
    if (db->nstmts == LIM_SQL_STMTS) {
        /* Cache full: evict the oldest; statements are cheap to redo. */
        mysql_stmt_close(db->stmts[0].stmt);
        memmove(&db->stmts[0], &db->stmts[1],
                (LIM_SQL_STMTS - 1) * sizeof(db->stmts[0]));
        db->nstmts--;
    }
    db->stmts[db->nstmts].sql = sql;
    db->stmts[db->nstmts].stmt = st;
    db->nstmts++;
    *out = st;
    return CW_OK;
}

static void
bind_params(MYSQL_BIND *b, const struct store_param *params, size_t n,
            unsigned long *lens)
{
    for (size_t i = 0; i < n; i++) {
        const struct store_param *p = &params[i];

        memset(&b[i], 0, sizeof(b[i]));
        switch (p->type) {
        case STORE_P_NULL:
            b[i].buffer_type = MYSQL_TYPE_NULL;
            break;
        case STORE_P_U64:
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = (void *)(uintptr_t)&p->u;
            b[i].is_unsigned = 1;
            break;
        case STORE_P_I64:
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = (void *)(uintptr_t)&p->i;
            break;
        case STORE_P_STR:
        case STORE_P_BLOB:
            b[i].buffer_type = p->type == STORE_P_STR ? MYSQL_TYPE_STRING
                                                      : MYSQL_TYPE_BLOB;
            b[i].buffer = (void *)(uintptr_t)p->p;
            lens[i] = (unsigned long)p->len;
            b[i].buffer_length = lens[i];
            b[i].length = &lens[i];
            break;
        }
    }
}

/* Prepare (cached), bind and execute. Retries once on a fresh connection
 * when the connection turns out to be dead outside a transaction: after a
 * database restart the first request on each thread then succeeds instead
 * of failing on a stale socket. */
static enum cw_err
stmt_run(struct store *db, const char *sql, const struct store_param *params,
         size_t nparams, MYSQL_STMT **out)
{
    MYSQL_BIND    binds[32];
    unsigned long lens[32];
    MYSQL_STMT   *st = NULL;
    enum cw_err   err;

    CW_ASSERT(nparams <= 32);
    for (int attempt = 0;; attempt++) {
        int was_tx = db->in_tx;

        err = store_connect(db, 0);
        if (err != CW_OK)
            return err;
        err = stmt_get(db, sql, &st);
        if (err == CW_OK) {
            CW_ASSERT(mysql_stmt_param_count(st) == nparams);
            bind_params(binds, params, nparams, lens);
            if (nparams > 0 && mysql_stmt_bind_param(st, binds) != 0)
                err = fail_stmt(db, st, "bind");
            else if (mysql_stmt_execute(st) != 0)
                err = fail_stmt(db, st, "execute");
        }
        if (err == CW_OK) {
            *out = st;
            return CW_OK;
        }
        if (err != CW_E_DB_DOWN || was_tx || attempt > 0)
            return err;
        /* fall through: reconnect once */
    }
}

enum cw_err
store_exec(struct store *db, const char *sql,
           const struct store_param *params, size_t nparams,
           uint64_t *affected, uint64_t *insert_id)
{
    MYSQL_STMT *st = NULL;
    enum cw_err err;

    err = stmt_run(db, sql, params, nparams, &st);
    if (err != CW_OK)
        return err;
    if (affected != NULL)
        *affected = mysql_stmt_affected_rows(st);
    if (insert_id != NULL)
        *insert_id = mysql_stmt_insert_id(st);
    mysql_stmt_free_result(st);
    return CW_OK;
}

enum cw_err
store_query(struct store *db, struct arena *a, const char *sql,
            const struct store_param *params, size_t nparams,
            struct store_rows *out)
{
    MYSQL_STMT    *st = NULL;
    MYSQL_RES     *meta = NULL;
    MYSQL_BIND    *rb = NULL;
    unsigned long *lens = NULL;
    my_bool       *nulls = NULL;
    my_bool       *errs = NULL;
    char          *inl = NULL;
    struct store_cell *cells = NULL;
    size_t         ncols;
    size_t         nrows;
    size_t         r = 0;
    enum cw_err    err;
    int            rc;

    err = stmt_run(db, sql, params, nparams, &st);
    if (err != CW_OK)
        return err;
    meta = mysql_stmt_result_metadata(st);
    if (meta == NULL) {
        mysql_stmt_free_result(st);
        log_err("database: query returned no result set");
        return CW_E_INTERNAL;
    }
    ncols = mysql_num_fields(meta);
    if (mysql_stmt_store_result(st) != 0) {
        err = fail_stmt(db, st, "store_result");
        goto out;
    }
    nrows = (size_t)mysql_stmt_num_rows(st);
    rb = cw_xcalloc(ncols, sizeof(*rb));
    lens = cw_xcalloc(ncols, sizeof(*lens));
    nulls = cw_xcalloc(ncols, sizeof(*nulls));
    errs = cw_xcalloc(ncols, sizeof(*errs));
    inl = cw_xmalloc(ncols * STORE_CELL_INLINE);
    for (size_t c = 0; c < ncols; c++) {
        rb[c].buffer_type = MYSQL_TYPE_STRING;
        rb[c].buffer = inl + c * STORE_CELL_INLINE;
        rb[c].buffer_length = STORE_CELL_INLINE;
        rb[c].length = &lens[c];
        rb[c].is_null = &nulls[c];
        rb[c].error = &errs[c];
    }
    if (mysql_stmt_bind_result(st, rb) != 0) {
        err = fail_stmt(db, st, "bind_result");
        goto out;
    }
    cells = nrows > 0 && ncols > 0
                ? arena_alloc(a, nrows * ncols * sizeof(*cells))
                : NULL;
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        if (r >= nrows)
            break;
        for (size_t c = 0; c < ncols; c++) {
            struct store_cell *cell = &cells[r * ncols + c];

            if (nulls[c]) {
                cell->p = NULL;
                cell->len = 0;
            } else if (lens[c] <= STORE_CELL_INLINE) {
                cell->p = arena_strndup(a, rb[c].buffer, lens[c]);
                cell->len = lens[c];
            } else {
                MYSQL_BIND one;
                char      *big = arena_alloc(a, lens[c] + 1);
                unsigned long got = 0;

                memset(&one, 0, sizeof(one));
                one.buffer_type = MYSQL_TYPE_STRING;
                one.buffer = big;
                one.buffer_length = lens[c];
                one.length = &got;
                if (mysql_stmt_fetch_column(st, &one, (unsigned)c, 0) != 0) {
                    err = fail_stmt(db, st, "fetch_column");
                    goto out;
                }
                big[lens[c]] = '\0';
                cell->p = big;
                cell->len = lens[c];
            }
        }
        r++;
    }
    if (rc == 1) {
        err = fail_stmt(db, st, "fetch");
        goto out;
    }
    out->nrows = r;
    out->ncols = ncols;
    out->cells = cells;
    err = CW_OK;
out:
    if (db->my != NULL)
        mysql_stmt_free_result(st);
    mysql_free_result(meta);
    free(rb);
    free(lens);
    free(nulls);
    free(errs);
    free(inl);
    return err;
}

static void
store_backoff(int attempt)
{
    /* 5, 10, 20, 40 ms plus jitter: conflicting writers spread out. */
    struct timespec ts;
    long            ms = 5L << attempt;

    ms += (long)(rand() % 5);
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static enum cw_err
query_plain(struct store *db, const char *sql, const char *what)
{
    if (mysql_real_query(db->my, sql, strlen(sql)) != 0)
        return fail_my(db, what);
    return CW_OK;
}

enum cw_err
store_tx(struct store *db, store_tx_fn fn, void *arg)
{
    enum cw_err err = CW_E_DB;

    CW_ASSERT(!db->in_tx);
    for (int attempt = 0; attempt < LIM_TX_RETRIES; attempt++) {
        err = store_connect(db, 0);
        if (err != CW_OK)
            return err;
        err = query_plain(db, "START TRANSACTION", "START TRANSACTION");
        if (err == CW_E_DB_DOWN && attempt == 0)
            continue;   /* stale connection: reopened by store_connect */
        if (err != CW_OK)
            return err;
        db->in_tx = 1;
        err = fn(db, arg);
        if (err == CW_OK) {
            if (db->my == NULL) {
                err = CW_E_DB_DOWN;
            } else if (mysql_commit(db->my) == 0) {
                db->in_tx = 0;
                return CW_OK;
            } else {
                err = fail_my(db, "COMMIT");
            }
        }
        if (db->my != NULL && mysql_rollback(db->my) != 0) {
            enum cw_err rerr = fail_my(db, "ROLLBACK");

            /* A connection that cannot roll back is not reused. */
            store_disconnect(db);
            if (err == CW_OK)
                err = rerr;
        }
        db->in_tx = 0;
        if (err != CW_E_DB_RETRY)
            return err;
        store_backoff(attempt);
    }
    return err;
}

static const char sql_schema_version[] =
    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";

enum cw_err
store_schema_version(struct store *db, unsigned *version)
{
    struct arena     a;
    struct store_rows rows;
    enum cw_err      err;

    arena_init(&a);
    err = store_query(db, &a, sql_schema_version, NULL, 0, &rows);
    if (err == CW_E_DB && db->last_errno == ER_NO_SUCH_TABLE) {
        *version = 0;
        err = CW_OK;
        goto out;
    }
    if (err != CW_OK)
        goto out;
    if (rows.nrows != 1) {
        err = CW_E_DB;
        goto out;
    }
    *version = (unsigned)store_cell_u64(&rows, 0, 0);
out:
    arena_reset(&a);
    return err;
}

enum cw_err
store_exec_ddl(struct store *db, const char *sql, size_t len)
{
    enum cw_err err = store_connect(db, 0);

    if (err != CW_OK)
        return err;
    if (mysql_real_query(db->my, sql, (unsigned long)len) != 0)
        return fail_my(db, "migration statement");
    /* Statements like SELECT in a migration would leave a result. */
    {
        MYSQL_RES *res = mysql_store_result(db->my);

        mysql_free_result(res);
    }
    return CW_OK;
}

const char *
store_cell_str(const struct store_rows *rows, size_t r, size_t c)
{
    const struct store_cell *cell = &rows->cells[r * rows->ncols + c];

    return cell->p != NULL ? cell->p : "";
}

int
store_cell_isnull(const struct store_rows *rows, size_t r, size_t c)
{
    return rows->cells[r * rows->ncols + c].p == NULL;
}

uint64_t
store_cell_u64(const struct store_rows *rows, size_t r, size_t c)
{
    const struct store_cell *cell = &rows->cells[r * rows->ncols + c];
    uint64_t                 v = 0;

    if (cell->p == NULL ||
        sp_u64(cell->p, cell->len, UINT64_MAX, &v) != CW_OK)
        return 0;
    return v;
}

int64_t
store_cell_i64(const struct store_rows *rows, size_t r, size_t c)
{
    const struct store_cell *cell = &rows->cells[r * rows->ncols + c];
    uint64_t                 v = 0;

    if (cell->p == NULL)
        return 0;
    if (cell->len > 1 && cell->p[0] == '-') {
        if (sp_u64(cell->p + 1, cell->len - 1, (uint64_t)INT64_MAX, &v) !=
            CW_OK)
            return 0;
        return -(int64_t)v;
    }
    if (sp_u64(cell->p, cell->len, (uint64_t)INT64_MAX, &v) != CW_OK)
        return 0;
    return (int64_t)v;
}

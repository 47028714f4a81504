/*
 * audit.c: hash-chained audit rows in STORE_AUDIT_CHAINS independent
 * chains. Each chain has a head row (audit_head, id = chain) that an
 * append reads FOR UPDATE and that its INSERT rewrites (trigger
 * audit_head_advance, schema 0010), so the appends of one chain are
 * serialized on one server and conflict (then retry through store_tx)
 * across Galera nodes: no chain ever forks. An append takes the head of
 * a chain no other transaction holds (SKIP LOCKED), so concurrent
 * audited writes do not wait for each other's commit flush. A thread
 * keeps to the chain it used last, so the appends of one transaction
 * share one chain.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "store/audit.h"
#include "util/log.h"
#include "util/sp.h"

static const char sql_head_try[] =
    "SELECT id, last_seq, last_hash FROM audit_head WHERE id = ? "
    "FOR UPDATE SKIP LOCKED";
static const char sql_head_any[] =
    "SELECT id, last_seq, last_hash FROM audit_head WHERE id BETWEEN 1 AND ? "
    "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED";
static const char sql_head_wait[] =
    "SELECT id, last_seq, last_hash FROM audit_head WHERE id = ? FOR UPDATE";
static const char sql_insert[] =
    "INSERT INTO audit_log (chain, seq, at, user_id, username, action, "
    "resource_type, resource_id, outcome, client_addr, request_id, detail, "
    "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_heads[] =
    "SELECT id, anchor_seq, anchor_hash, last_seq, last_hash FROM audit_head "
    "ORDER BY id";
static const char sql_walk[] =
    "SELECT id, seq, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), "
    "COALESCE(user_id, 0), username, action, resource_type, resource_id, "
    "outcome, client_addr, request_id, detail, prev_hash, hash "
    "FROM audit_log WHERE chain = ? AND seq > ? AND seq <= ? ORDER BY seq "
    "LIMIT 2000";

/* The chain this thread appended to last (0: none yet). */
static _Thread_local unsigned audit_chain;

static void
field(EVP_MD_CTX *md, const char *s)
{
    char   len[24];
    size_t n = s ? strlen(s) : 0;

    /* Length-prefixed: no two field lists hash the same. */
    snprintf(len, sizeof(len), "%zu:", n);
    EVP_DigestUpdate(md, len, strlen(len));
    if (n > 0)
        EVP_DigestUpdate(md, s, n);
    EVP_DigestUpdate(md, "\n", 1);
}

void
store_audit_hash(unsigned chain, const char *prev_hash, uint64_t seq,
                 const char *at,
                 const struct store_audit_event *ev, char out[65])
{
    EVP_MD_CTX   *md = EVP_MD_CTX_new();
    unsigned char h[32];
    unsigned int  hl = 0;
    char          num[48];

    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    if (chain <= 1) {
        /* Chain 1 holds the rows of the single chain of old: same form. */
        field(md, "certward-audit-v1");
    } else {
        field(md, "certward-audit-v2");
        snprintf(num, sizeof(num), "%u", chain);
        field(md, num);
    }
    field(md, prev_hash);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)seq);
    field(md, num);
    field(md, at);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)ev->user_id);
    field(md, num);
    field(md, ev->username);
    field(md, ev->action);
    field(md, ev->resource_type);
    field(md, ev->resource_id);
    field(md, ev->outcome);
    field(md, ev->client_addr);
    field(md, ev->request_id);
    field(md, ev->detail);
    EVP_DigestFinal_ex(md, h, &hl);
    EVP_MD_CTX_free(md);
    sp_hex_encode(h, 32, out);
}

static void
now_text(char out[32])
{
    struct timeval tv;
    struct tm      tm;
    char           base[24];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, 32, "%s.%06ld", base, (long)tv.tv_usec);
}

static const char *
nz(const char *s)
{
    return s ? s : "";
}

/* Lock the head of a chain for this transaction: this thread's chain if
 * no other transaction holds it, else any free one, else wait for this
 * thread's. */
static enum cw_err
head_lock(struct store *db, struct arena *a, struct store_rows *rows)
{
    struct store_param p[1];
    enum cw_err        err;

    if (audit_chain == 0) {
        /* Spread the threads of this process, and the processes. */
        static atomic_uint next;

        audit_chain = 1 + ((unsigned)getpid() * 7 +
                           atomic_fetch_add(&next, 1)) % STORE_AUDIT_CHAINS;
    }
    p[0] = SP_U64(audit_chain);
    err = store_query(db, a, sql_head_try, p, 1, rows);
    if (err != CW_OK || rows->nrows == 1)
        return err;
    p[0] = SP_U64(STORE_AUDIT_CHAINS);
    err = store_query(db, a, sql_head_any, p, 1, rows);
    if (err != CW_OK || rows->nrows == 1)
        return err;
    p[0] = SP_U64(audit_chain);
    return store_query(db, a, sql_head_wait, p, 1, rows);
}

enum cw_err
store_audit_append(struct store *db, const struct store_audit_event *in)
{
    struct store_audit_event ev = *in;
    struct arena             a;
    struct store_rows        rows;
    struct store_param       p[14];
    enum cw_err              err;
    char                     at[32];
    char                     hash[65];
    char                     prev[65];
    uint64_t                 seq;
    unsigned                 chain;

    ev.username = nz(ev.username);
    ev.action = nz(ev.action);
    ev.resource_type = nz(ev.resource_type);
    ev.resource_id = nz(ev.resource_id);
    ev.outcome = nz(ev.outcome);
    ev.client_addr = nz(ev.client_addr);
    ev.request_id = nz(ev.request_id);
    ev.detail = ev.detail && ev.detail[0] ? ev.detail : "{}";
    arena_init(&a);
    err = head_lock(db, &a, &rows);
    if (err != CW_OK)
        goto out;
    if (rows.nrows != 1) {
        log_err("audit_head row %u missing", audit_chain);
        err = CW_E_DB;
        goto out;
    }
    chain = (unsigned)store_cell_u64(&rows, 0, 0);
    audit_chain = chain;
    seq = store_cell_u64(&rows, 0, 1) + 1;
    snprintf(prev, sizeof(prev), "%s", store_cell_str(&rows, 0, 2));
    now_text(at);
    store_audit_hash(chain, prev, seq, at, &ev, hash);
    p[0] = SP_U64(chain);
    p[1] = SP_U64(seq);
    p[2] = SP_STR(at);
    p[3] = ev.user_id ? SP_U64(ev.user_id) : SP_NULLV;
    p[4] = SP_STR(ev.username);
    p[5] = SP_STR(ev.action);
    p[6] = SP_STR(ev.resource_type);
    p[7] = SP_STR(ev.resource_id);
    p[8] = SP_STR(ev.outcome);
    p[9] = SP_STR(ev.client_addr);
    p[10] = SP_STR(ev.request_id);
    p[11] = SP_STR(ev.detail);
    p[12] = SP_STR(prev);
    p[13] = SP_STR(hash);
    /* The head moves to this entry in the same statement (trigger
     * audit_head_advance, schema 0010). */
    err = store_exec(db, sql_insert, p, 14, NULL, NULL);
out:
    arena_reset(&a);
    return err;
}

static enum cw_err
log_body(struct store *db, void *arg)
{
    return store_audit_append(db, arg);
}

enum cw_err
store_audit_log(struct store *db, const struct store_audit_event *ev)
{
    enum cw_err err = store_tx(db, log_body, (void *)(uintptr_t)ev);

    if (err != CW_OK)
        log_err("audit event %s could not be recorded: %s", ev->action,
                cw_err_name(err));
    return err;
}

/* Walk chain from its anchor to the head read before (rows appended
 * meanwhile are for the next verification). */
static enum cw_err
verify_chain(struct store *db, unsigned chain, uint64_t anchor_seq,
             const char *anchor_hash, uint64_t head_seq,
             const char *head_hash, struct store_audit_verify *out)
{
    struct arena       a;
    struct store_rows  rows;
    struct store_param p[3];
    enum cw_err        err;
    char               prev[65];
    uint64_t           last_seq = anchor_seq;
    int                first = 1;

    arena_init(&a);
    snprintf(prev, sizeof(prev), "%s", anchor_hash);
    for (;;) {
        arena_reset(&a);
        p[0] = SP_U64(chain);
        p[1] = SP_U64(last_seq);
        p[2] = SP_U64(head_seq);
        err = store_query(db, &a, sql_walk, p, 3, &rows);
        if (err != CW_OK)
            goto out;
        for (size_t r = 0; r < rows.nrows; r++) {
            struct store_audit_event ev;
            char                     h[65];
            uint64_t                 id = store_cell_u64(&rows, r, 0);
            uint64_t                 seq = store_cell_u64(&rows, r, 1);

            ev.user_id = store_cell_u64(&rows, r, 3);
            ev.username = store_cell_str(&rows, r, 4);
            ev.action = store_cell_str(&rows, r, 5);
            ev.resource_type = store_cell_str(&rows, r, 6);
            ev.resource_id = store_cell_str(&rows, r, 7);
            ev.outcome = store_cell_str(&rows, r, 8);
            ev.client_addr = store_cell_str(&rows, r, 9);
            ev.request_id = store_cell_str(&rows, r, 10);
            ev.detail = store_cell_str(&rows, r, 11);
            store_audit_hash(chain, prev, seq, store_cell_str(&rows, r, 2),
                             &ev, h);
            /* The first row kept after a purge links to the anchor; every
             * later one to its predecessor, with no gap in seq. */
            if ((!first || last_seq != 0 || seq != 1) &&
                seq != last_seq + 1) {
                snprintf(out->reason, sizeof(out->reason),
                         "chain %u: sequence gap before seq %llu", chain,
                         (unsigned long long)seq);
            } else if (strcmp(store_cell_str(&rows, r, 12), prev) != 0) {
                snprintf(out->reason, sizeof(out->reason),
                         "chain %u: previous-hash link broken", chain);
            } else if (strcmp(store_cell_str(&rows, r, 13), h) != 0) {
                snprintf(out->reason, sizeof(out->reason),
                         "chain %u: row content does not match its hash",
                         chain);
            } else {
                snprintf(prev, sizeof(prev), "%s", h);
                last_seq = seq;
                first = 0;
                out->checked++;
                continue;
            }
            out->valid = 0;
            out->first_bad_id = id;
            goto out;
        }
        if (rows.nrows < 2000)
            break;
    }
    /* The walk must end where the head says the chain ends: rows cut
     * from the end leave no gap to find otherwise. */
    if (last_seq != head_seq || strcmp(prev, head_hash) != 0) {
        out->valid = 0;
        out->first_bad_id = 0;
        snprintf(out->reason, sizeof(out->reason),
                 "chain %u ends at seq %llu but its head records seq %llu",
                 chain, (unsigned long long)last_seq,
                 (unsigned long long)head_seq);
    }
out:
    arena_reset(&a);
    return err;
}

enum cw_err
store_audit_verify(struct store *db, struct store_audit_verify *out)
{
    struct arena      a;
    struct store_rows heads;
    enum cw_err       err;

    memset(out, 0, sizeof(*out));
    out->valid = 1;
    arena_init(&a);
    /* Every head first, then each chain up to its head. */
    err = store_query(db, &a, sql_heads, NULL, 0, &heads);
    if (err != CW_OK || heads.nrows == 0) {
        err = err != CW_OK ? err : CW_E_DB;
        goto out;
    }
    for (size_t r = 0; r < heads.nrows && out->valid; r++) {
        err = verify_chain(db, (unsigned)store_cell_u64(&heads, r, 0),
                           store_cell_u64(&heads, r, 1),
                           store_cell_str(&heads, r, 2),
                           store_cell_u64(&heads, r, 3),
                           store_cell_str(&heads, r, 4), out);
        if (err != CW_OK)
            goto out;
    }
out:
    arena_reset(&a);
    return err;
}

struct purge_tx {
    unsigned  days;
    uint64_t  deleted;
};

static const char sql_heads_lock[] =
    "SELECT id FROM audit_head ORDER BY id FOR UPDATE";
static const char sql_purge_edge[] =
    "SELECT seq, hash FROM audit_log WHERE chain = ? "
    "AND at < NOW(6) - INTERVAL ? DAY ORDER BY seq DESC LIMIT 1";
static const char sql_purge_del[] =
    "DELETE FROM audit_log WHERE chain = ? AND seq <= ? ORDER BY seq "
    "LIMIT 10000";
static const char sql_anchor_set[] =
    "UPDATE audit_head SET anchor_seq = ?, anchor_hash = ? WHERE id = ?";

static enum cw_err
purge_body(struct store *db, void *arg)
{
    struct purge_tx   *pt = arg;
    struct arena       a;
    struct store_rows  heads;
    struct store_rows  rows;
    struct store_param p[3];
    enum cw_err        err;
    uint64_t           n = 0;
    char               hash[65];
    char               detail[96];
    unsigned           anchored = 0;
    struct store_audit_event ev;

    pt->deleted = 0;
    arena_init(&a);
    /* Lock every head first: appends wait while the anchors move. */
    err = store_query(db, &a, sql_heads_lock, NULL, 0, &heads);
    if (err != CW_OK)
        goto out;
    for (size_t h = 0; h < heads.nrows; h++) {
        uint64_t chain = store_cell_u64(&heads, h, 0);
        uint64_t edge;

        p[0] = SP_U64(chain);
        p[1] = SP_U64(pt->days);
        err = store_query(db, &a, sql_purge_edge, p, 2, &rows);
        if (err != CW_OK)
            goto out;
        if (rows.nrows == 0)
            continue;
        edge = store_cell_u64(&rows, 0, 0);
        snprintf(hash, sizeof(hash), "%s", store_cell_str(&rows, 0, 1));
        do {
            p[0] = SP_U64(chain);
            p[1] = SP_U64(edge);
            err = store_exec(db, sql_purge_del, p, 2, &n, NULL);
            if (err != CW_OK)
                goto out;
            pt->deleted += n;
        } while (n == 10000);
        /* Re-anchor: the first kept row's prev_hash is the last deleted
         * row's hash, so verification starts from there. */
        p[0] = SP_U64(edge);
        p[1] = SP_STR(hash);
        p[2] = SP_U64(chain);
        err = store_exec(db, sql_anchor_set, p, 3, NULL, NULL);
        if (err != CW_OK)
            goto out;
        anchored++;
    }
    if (anchored == 0)
        goto out;
    snprintf(detail, sizeof(detail),
             "{\"deleted\":%llu,\"days\":%u,\"chains\":%u}",
             (unsigned long long)pt->deleted, pt->days, anchored);
    memset(&ev, 0, sizeof(ev));
    ev.username = "cron";
    ev.action = "audit.retention";
    ev.resource_type = "audit";
    ev.outcome = "success";
    ev.detail = detail;
    err = store_audit_append(db, &ev);
out:
    arena_reset(&a);
    return err;
}

enum cw_err
store_audit_purge(struct store *db, unsigned days, uint64_t *deleted)
{
    struct purge_tx pt = { days, 0 };
    enum cw_err     err = store_tx(db, purge_body, &pt);

    if (err == CW_OK)
        *deleted = pt.deleted;
    return err;
}

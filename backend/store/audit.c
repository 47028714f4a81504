/*
 * audit.c: hash-chained audit rows. The chain head is one row
 * (audit_head, id 1) that every append reads FOR UPDATE and rewrites, so
 * appends are serialized on one server and conflict (then retry through
 * store_tx) across Galera nodes: the chain never forks.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/evp.h>

#include "store/audit.h"
#include "util/log.h"
#include "util/sp.h"

static const char sql_head_lock[] =
    "SELECT last_seq, last_hash FROM audit_head WHERE id = 1 FOR UPDATE";
static const char sql_head_set[] =
    "UPDATE audit_head SET last_seq = ?, last_hash = ? WHERE id = 1";
static const char sql_insert[] =
    "INSERT INTO audit_log (seq, at, user_id, username, action, "
    "resource_type, resource_id, outcome, client_addr, request_id, detail, "
    "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_anchor[] =
    "SELECT anchor_seq, anchor_hash, last_seq, last_hash FROM audit_head "
    "WHERE id = 1";
static const char sql_walk[] =
    "SELECT id, seq, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), "
    "COALESCE(user_id, 0), username, action, resource_type, resource_id, "
    "outcome, client_addr, request_id, detail, prev_hash, hash "
    "FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 2000";

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
store_audit_hash(const char *prev_hash, uint64_t seq, const char *at,
                 const struct store_audit_event *ev, char out[65])
{
    EVP_MD_CTX   *md = EVP_MD_CTX_new();
    unsigned char h[32];
    unsigned int  hl = 0;
    char          num[48];

    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    field(md, "certward-audit-v1");
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

enum cw_err
store_audit_append(struct store *db, const struct store_audit_event *in)
{
    struct store_audit_event ev = *in;
    struct arena             a;
    struct store_rows        rows;
    struct store_param       p[13];
    enum cw_err              err;
    char                     at[32];
    char                     hash[65];
    char                     prev[65];
    uint64_t                 seq;

    ev.username = nz(ev.username);
    ev.action = nz(ev.action);
    ev.resource_type = nz(ev.resource_type);
    ev.resource_id = nz(ev.resource_id);
    ev.outcome = nz(ev.outcome);
    ev.client_addr = nz(ev.client_addr);
    ev.request_id = nz(ev.request_id);
    ev.detail = ev.detail && ev.detail[0] ? ev.detail : "{}";
    arena_init(&a);
    err = store_query(db, &a, sql_head_lock, NULL, 0, &rows);
    if (err != CW_OK)
        goto out;
    if (rows.nrows != 1) {
        log_err("audit_head row missing");
        err = CW_E_DB;
        goto out;
    }
    seq = store_cell_u64(&rows, 0, 0) + 1;
    snprintf(prev, sizeof(prev), "%s", store_cell_str(&rows, 0, 1));
    now_text(at);
    store_audit_hash(prev, seq, at, &ev, hash);
    p[0] = SP_U64(seq);
    p[1] = SP_STR(at);
    p[2] = ev.user_id ? SP_U64(ev.user_id) : SP_NULLV;
    p[3] = SP_STR(ev.username);
    p[4] = SP_STR(ev.action);
    p[5] = SP_STR(ev.resource_type);
    p[6] = SP_STR(ev.resource_id);
    p[7] = SP_STR(ev.outcome);
    p[8] = SP_STR(ev.client_addr);
    p[9] = SP_STR(ev.request_id);
    p[10] = SP_STR(ev.detail);
    p[11] = SP_STR(prev);
    p[12] = SP_STR(hash);
    err = store_exec(db, sql_insert, p, 13, NULL, NULL);
    if (err != CW_OK)
        goto out;
    p[0] = SP_U64(seq);
    p[1] = SP_STR(hash);
    err = store_exec(db, sql_head_set, p, 2, NULL, NULL);
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

enum cw_err
store_audit_verify(struct store *db, struct store_audit_verify *out)
{
    struct arena       a;
    struct store_rows  rows;
    struct store_param p[2];
    enum cw_err        err;
    char               prev[65];
    char               head_hash[65];
    uint64_t           last_seq;
    uint64_t           head_seq;
    int                first = 1;

    memset(out, 0, sizeof(*out));
    out->valid = 1;
    arena_init(&a);
    err = store_query(db, &a, sql_anchor, NULL, 0, &rows);
    if (err != CW_OK || rows.nrows != 1) {
        err = err != CW_OK ? err : CW_E_DB;
        goto out;
    }
    last_seq = store_cell_u64(&rows, 0, 0);
    snprintf(prev, sizeof(prev), "%s", store_cell_str(&rows, 0, 1));
    head_seq = store_cell_u64(&rows, 0, 2);
    snprintf(head_hash, sizeof(head_hash), "%s", store_cell_str(&rows, 0, 3));
    for (;;) {
        arena_reset(&a);
        /* Up to the head read above: rows appended meanwhile are for the
         * next verification. */
        p[0] = SP_U64(last_seq);
        p[1] = SP_U64(head_seq);
        err = store_query(db, &a, sql_walk, p, 2, &rows);
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
            store_audit_hash(prev, seq, store_cell_str(&rows, r, 2), &ev, h);
            /* The first row kept after a purge links to the anchor; every
             * later one to its predecessor, with no gap in seq. */
            if ((!first || last_seq != 0 || seq != 1) &&
                seq != last_seq + 1) {
                snprintf(out->reason, sizeof(out->reason),
                         "sequence gap before seq %llu",
                         (unsigned long long)seq);
            } else if (strcmp(store_cell_str(&rows, r, 12), prev) != 0) {
                snprintf(out->reason, sizeof(out->reason),
                         "previous-hash link broken");
            } else if (strcmp(store_cell_str(&rows, r, 13), h) != 0) {
                snprintf(out->reason, sizeof(out->reason),
                         "row content does not match its hash");
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
                 "chain ends at seq %llu but the head records seq %llu",
                 (unsigned long long)last_seq, (unsigned long long)head_seq);
    }
out:
    arena_reset(&a);
    return err;
}

struct purge_tx {
    unsigned  days;
    uint64_t  deleted;
};

static const char sql_purge_edge[] =
    "SELECT seq, hash FROM audit_log WHERE at < NOW(6) - INTERVAL ? DAY "
    "ORDER BY seq DESC LIMIT 1";
static const char sql_purge_del[] =
    "DELETE FROM audit_log WHERE seq <= ? ORDER BY seq LIMIT 10000";
static const char sql_anchor_set[] =
    "UPDATE audit_head SET anchor_seq = ?, anchor_hash = ? WHERE id = 1";

static enum cw_err
purge_body(struct store *db, void *arg)
{
    struct purge_tx   *pt = arg;
    struct arena       a;
    struct store_rows  rows;
    struct store_param p[2];
    enum cw_err        err;
    uint64_t           edge;
    uint64_t           n = 0;
    char               hash[65];
    char               detail[96];
    struct store_audit_event ev;

    pt->deleted = 0;
    arena_init(&a);
    /* Lock the head first: appends wait while the anchor moves. */
    err = store_query(db, &a, sql_head_lock, NULL, 0, &rows);
    if (err != CW_OK)
        goto out;
    p[0] = SP_U64(pt->days);
    err = store_query(db, &a, sql_purge_edge, p, 1, &rows);
    if (err != CW_OK || rows.nrows == 0)
        goto out;
    edge = store_cell_u64(&rows, 0, 0);
    snprintf(hash, sizeof(hash), "%s", store_cell_str(&rows, 0, 1));
    do {
        p[0] = SP_U64(edge);
        err = store_exec(db, sql_purge_del, p, 1, &n, NULL);
        if (err != CW_OK)
            goto out;
        pt->deleted += n;
    } while (n == 10000);
    /* Re-anchor: the first kept row's prev_hash is the last deleted
     * row's hash, so verification starts from there. */
    p[0] = SP_U64(edge);
    p[1] = SP_STR(hash);
    err = store_exec(db, sql_anchor_set, p, 2, NULL, NULL);
    if (err != CW_OK)
        goto out;
    snprintf(detail, sizeof(detail),
             "{\"deleted\":%llu,\"days\":%u,\"anchor_seq\":%llu}",
             (unsigned long long)pt->deleted, pt->days,
             (unsigned long long)edge);
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

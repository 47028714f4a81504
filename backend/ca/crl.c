/*
 * crl.c: the CRLs of a CA (RFC 5280 section 5). A generator takes the
 * CA's lease (a conditional UPDATE of crl_lock_until, which Galera
 * replicates) and its next cRLNumber in one short transaction, reads the
 * revoked set page by page outside any transaction, has the signer sign
 * the TBSCertList, and stores the CRL with its audit row in a second
 * transaction that also releases the lease. A generator that dies leaves a
 * lease that expires after CRL_LEASE_SECS and a number never used (RFC
 * 5280 5.2.3 requires increasing numbers, not consecutive ones).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "ca/ca-int.h"
#include "cw_limits.h"
#include "pki/cert.h"
#include "pki/crl.h"
#include "pki/crl_check.h"
#include "signer/signer.h"
#include "util/log.h"

#define CRL_LEASE_SECS 120
#define CRL_PAGE       5000

static const char sql_lease[] =
    "UPDATE cas SET crl_lock_until = NOW(6) + INTERVAL 120 SECOND, "
    "crl_number = crl_number + 1 "
    "WHERE id = ? AND crl_lock_until < NOW(6)";
static const char sql_lease_state[] =
    "SELECT crl_number, revocation_seq, crl_days, delta_hours, "
    "DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%d %H:%i:%s.%f'), "
    "DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:%i:%s') "
    "FROM cas WHERE id = ?";
static const char sql_base[] =
    "SELECT number, DATE_FORMAT(built_from, '%Y-%m-%d %H:%i:%s.%f') "
    "FROM crls WHERE ca_id = ? AND delta_base IS NULL "
    "ORDER BY number DESC LIMIT 1";
static const char sql_unlease[] =
    "UPDATE cas SET crl_lock_until = '1970-01-02 00:00:00' WHERE id = ?";
/* Revoked certificates still within their validity (RFC 5280 3.3: an
 * entry may go once the certificate has expired). certificates_crl holds
 * every column read here, so a page is one index range of this CA's
 * revoked rows. The hint is needed: InnoDB's sampled statistics can see one
 * distinct ca_id, and MariaDB then walks PRIMARY from id > ?, through every
 * other CA's rows (11 s instead of 3 s with a million rows of another CA). */
static const char sql_full_page[] =
    "SELECT id, serial, DATE_FORMAT(revoked_at, '%Y-%m-%d %H:%i:%s'), "
    "COALESCE(revocation_reason, ''), "
    "COALESCE(DATE_FORMAT(invalidity_date, '%Y-%m-%d %H:%i:%s'), '') "
    "FROM certificates FORCE INDEX (certificates_crl) "
    "WHERE ca_id = ? AND status = 'revoked' AND id > ? "
    "AND not_after >= ? ORDER BY id LIMIT 5000";
/* What changed since the base was read: new revocations, and holds
 * released (listed as removeFromCRL, RFC 5280 5.3.1). */
static const char sql_delta_page[] =
    "SELECT id, serial, "
    "DATE_FORMAT(COALESCE(revoked_at, released_at), '%Y-%m-%d %H:%i:%s'), "
    "IF(status = 'revoked', COALESCE(revocation_reason, ''), "
    "'removeFromCRL'), "
    "COALESCE(DATE_FORMAT(invalidity_date, '%Y-%m-%d %H:%i:%s'), '') "
    "FROM certificates WHERE ca_id = ? AND id > ? AND "
    "((status = 'revoked' AND revoked_at >= ?) OR "
    "(status = 'valid' AND released_at >= ?)) "
    "ORDER BY id LIMIT 5000";
/* Revoked certificates deleted before they expired. */
static const char sql_full_gone[] =
    "SELECT id, serial, DATE_FORMAT(revoked_at, '%Y-%m-%d %H:%i:%s'), "
    "COALESCE(revocation_reason, ''), "
    "COALESCE(DATE_FORMAT(invalidity_date, '%Y-%m-%d %H:%i:%s'), '') "
    "FROM revoked_deleted WHERE ca_id = ? AND id > ? AND not_after >= ? "
    "ORDER BY id LIMIT 5000";
static const char sql_delta_gone[] =
    "SELECT id, serial, DATE_FORMAT(revoked_at, '%Y-%m-%d %H:%i:%s'), "
    "COALESCE(revocation_reason, ''), "
    "COALESCE(DATE_FORMAT(invalidity_date, '%Y-%m-%d %H:%i:%s'), '') "
    "FROM revoked_deleted WHERE ca_id = ? AND id > ? AND revoked_at >= ? "
    "ORDER BY id LIMIT 5000";
static const char sql_crl_insert[] =
    "INSERT INTO crls (ca_id, number, delta_base, this_update, next_update, "
    "built_from, entries, source, der) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_done_full[] =
    "UPDATE cas SET crl_lock_until = '1970-01-02 00:00:00', "
    "crl_seq = GREATEST(crl_seq, ?), delta_seq = GREATEST(delta_seq, ?) "
    "WHERE id = ?";
static const char sql_done_delta[] =
    "UPDATE cas SET crl_lock_until = '1970-01-02 00:00:00', "
    "delta_seq = GREATEST(delta_seq, ?) WHERE id = ?";
/* Relying parties fetch the newest CRL by URL; older ones are history
 * nobody asks for (the audit log records each generation). */
static const char sql_prune[] =
    "DELETE FROM crls WHERE ca_id = ? AND number < ? "
    "AND (delta_base IS NOT NULL OR number < ?)";
static const char sql_touch[] =
    "UPDATE cas SET revocation_seq = revocation_seq + 1 "
    "WHERE id = (SELECT ca_id FROM certificates WHERE id = ?)";
static const char sql_ocsp_forget[] =
    "DELETE FROM ocsp_responses WHERE cert_id = ?";

enum cw_err
ca_revocation_touch(struct store *db, uint64_t cert_id)
{
    struct store_param p[1] = { SP_U64(cert_id) };
    enum cw_err        err;

    /* Here and again after the commit (ca_revocation_done): a worker that
     * read the old status in between cached it under the old generation. */
    ca_ocsp_cache_invalidate();
    err = store_exec(db, sql_touch, p, 1, NULL, NULL);
    if (err == CW_OK)
        err = store_exec(db, sql_ocsp_forget, p, 1, NULL, NULL);
    return err;
}

time_t
ca_parse_sql_time(const char *s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (s == NULL || sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d", &tm.tm_year,
                            &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                            &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* The lease transaction: the lease, the number, the state read under it. */
struct lease_tx {
    uint64_t    ca_id;
    int         delta;
    int         got;
    uint64_t    number;
    uint64_t    seq;
    unsigned    crl_days;
    unsigned    delta_hours;
    uint64_t    base_number;
    char        now6[32];
    char        now[24];
    char        base_from[32];
};

static enum cw_err
lease_body(struct store *db, void *arg)
{
    struct lease_tx   *lt = arg;
    struct store_param p[1] = { SP_U64(lt->ca_id) };
    struct store_rows  rows;
    struct arena       a;
    uint64_t           n = 0;
    enum cw_err        err;

    lt->got = 0;
    err = store_exec(db, sql_lease, p, 1, &n, NULL);
    if (err != CW_OK || n != 1)
        return err;
    arena_init(&a);
    err = store_query(db, &a, sql_lease_state, p, 1, &rows);
    if (err == CW_OK && rows.nrows != 1)
        err = CW_E_NOTFOUND;
    if (err == CW_OK) {
        lt->number = store_cell_u64(&rows, 0, 0);
        lt->seq = store_cell_u64(&rows, 0, 1);
        lt->crl_days = (unsigned)store_cell_u64(&rows, 0, 2);
        lt->delta_hours = (unsigned)store_cell_u64(&rows, 0, 3);
        snprintf(lt->now6, sizeof(lt->now6), "%s", store_cell_str(&rows, 0, 4));
        snprintf(lt->now, sizeof(lt->now), "%s", store_cell_str(&rows, 0, 5));
        err = store_query(db, &a, sql_base, p, 1, &rows);
    }
    if (err == CW_OK) {
        lt->base_number = 0;
        if (rows.nrows == 1) {
            lt->base_number = store_cell_u64(&rows, 0, 0);
            snprintf(lt->base_from, sizeof(lt->base_from), "%s",
                     store_cell_str(&rows, 0, 1));
        }
        lt->got = 1;
    }
    arena_reset(&a);
    return err;
}

/* One row of crls (inside the caller's transaction). */
struct crl_row {
    uint64_t          ca_id;
    uint64_t          number;
    uint64_t          delta_base;     /* 0: a full CRL                 */
    const char       *this_update;
    const char       *next_update;
    const char       *built_from;
    uint64_t          entries;
    const char       *source;
    const struct buf *der;
};

static enum cw_err
crl_insert(struct store *db, const struct crl_row *c)
{
    struct store_param p[9];

    p[0] = SP_U64(c->ca_id);
    p[1] = SP_U64(c->number);
    p[2] = c->delta_base ? SP_U64(c->delta_base) : SP_NULLV;
    p[3] = SP_STR(c->this_update);
    p[4] = SP_STR(c->next_update);
    p[5] = SP_STR(c->built_from);
    p[6] = SP_U64(c->entries);
    p[7] = SP_STR(c->source);
    p[8] = SP_BLOB(c->der->p, c->der->len);
    return store_exec(db, sql_crl_insert, p, 9, NULL, NULL);
}

struct store_tx_crl {
    struct crl_row                  row;
    const struct lease_tx          *lt;
    const struct store_audit_event *ev;
};

static enum cw_err
store_body(struct store *db, void *arg)
{
    struct store_tx_crl *st = arg;
    struct store_param   p[3];
    char                 detail[128];
    int                  delta = st->row.delta_base != 0;
    enum cw_err          err;

    err = crl_insert(db, &st->row);
    if (err != CW_OK)
        return err;
    if (delta) {
        p[0] = SP_U64(st->lt->seq);
        p[1] = SP_U64(st->row.ca_id);
        err = store_exec(db, sql_done_delta, p, 2, NULL, NULL);
    } else {
        p[0] = SP_U64(st->lt->seq);
        p[1] = SP_U64(st->lt->delta_hours ? 0 : st->lt->seq);
        p[2] = SP_U64(st->row.ca_id);
        err = store_exec(db, sql_done_full, p, 3, NULL, NULL);
    }
    if (err != CW_OK)
        return err;
    p[0] = SP_U64(st->row.ca_id);
    p[1] = SP_U64(st->row.number);
    p[2] = SP_U64(delta ? st->row.delta_base : st->row.number);
    err = store_exec(db, sql_prune, p, 3, NULL, NULL);
    if (err != CW_OK)
        return err;
    snprintf(detail, sizeof(detail),
             "{\"number\":%llu,\"delta\":%s,\"entries\":%llu}",
             (unsigned long long)st->row.number, delta ? "true" : "false",
             (unsigned long long)st->row.entries);
    return ca_audit(db, st->ev, delta ? "crl.delta" : "crl.generate", "ca",
                    st->row.ca_id, detail);
}

/* Add one page of rows (id, serial, time, reason, invalidity) to c;
 * *last receives the last id. */
static enum cw_err
add_page(struct pki_crl *c, const struct store_rows *rows, uint64_t *last,
         uint64_t *count)
{
    for (size_t r = 0; r < rows->nrows; r++) {
        struct pki_crl_entry e;
        uint8_t              serial[PKI_SERIAL_LEN];
        const char          *reason = store_cell_str(rows, r, 3);
        enum cw_err          err;

        *last = store_cell_u64(rows, r, 0);
        err = pki_serial_from_hex(store_cell_str(rows, r, 1), serial,
                                  &e.serial_len);
        if (err != CW_OK) {
            log_err("certificate %llu: stored serial is malformed",
                    (unsigned long long)*last);
            return CW_E_INTERNAL;
        }
        e.serial = serial;
        e.revoked_at = ca_parse_sql_time(store_cell_str(rows, r, 2));
        /* ca_reason_code() knows no removeFromCRL: it is no reason to
         * revoke, only a delta CRL's note of a released hold (5.3.1). */
        e.reason = strcmp(reason, "removeFromCRL") == 0
                       ? PKI_CRL_REASON_REMOVE_FROM_CRL
                       : reason[0] ? ca_reason_code(reason) : -1;
        if (e.reason == 0)
            e.reason = -1;   /* unspecified: omit the extension (5.3.1) */
        e.invalidity = ca_parse_sql_time(store_cell_str(rows, r, 4));
        err = pki_crl_add(c, &e);
        if (err != CW_OK)
            return err;
        (*count)++;
    }
    return CW_OK;
}

static const struct store_audit_event system_event = {
    .username = "system", .outcome = "success", .client_addr = "",
    .request_id = "", .detail = "",
};

enum cw_err
ca_crl_generate(struct store *db, const struct cw_config *cfg, uint64_t id,
                int delta, const struct store_audit_event *ev,
                struct ca_crl_meta *meta, struct ca_why *why)
{
    struct arena          a;
    struct arena          page;
    struct ca_row         ca;
    struct lease_tx       lt;
    struct pki_crl_params cp;
    struct pki_crl       *c = NULL;
    struct buf            sig;
    struct buf            der;
    struct store_tx_crl   st;
    struct store_param    p[4];
    struct store_rows     rows;
    const uint8_t        *tbs;
    size_t                tbs_len;
    uint64_t              last = 0;
    uint64_t              count = 0;
    time_t                now;
    int                   leased = 0;
    enum cw_err           err;

    arena_init(&a);
    arena_init(&page);
    buf_init(&sig, 2048);
    buf_init(&der, LIM_CRL_DER);
    err = ca_row_load(db, cfg, &a, id, &ca);
    if (err != CW_OK)
        goto out;
    err = ca_can_sign(&ca, why);
    if (err != CW_OK)
        goto out;
    memset(&lt, 0, sizeof(lt));
    lt.ca_id = id;
    err = store_tx(db, lease_body, &lt);
    if (err == CW_E_DB_RETRY || (err == CW_OK && !lt.got)) {
        ca_why_set(why, "", "another node is generating this CA's CRL");
        err = CW_E_BUSY;
    }
    if (err != CW_OK)
        goto out;
    leased = 1;
    if (delta && lt.delta_hours == 0) {
        ca_why_set(why, "", "this CA publishes no delta CRLs");
        err = CW_E_NOTFOUND;
        goto out;
    }
    if (delta && lt.base_number == 0)
        delta = 0;   /* nothing to be a delta of yet: a full CRL first */
    now = ca_parse_sql_time(lt.now);
    memset(&cp, 0, sizeof(cp));
    cp.issuer = ca.cert;
    cp.number = lt.number;
    cp.delta_base = delta ? lt.base_number : 0;
    cp.this_update = now;
    cp.next_update = delta ? now + (time_t)lt.delta_hours * 3600
                           : now + (time_t)lt.crl_days * 86400;
    /* The issuingDistributionPoint (RFC 5280 5.2.5) names the CDP of the
     * certificates the CRL covers. Only on an intermediate's CRLs: a root
     * has no CDP of its own, and "openssl verify -crl_check_all" checks
     * the root against its own CRL, which an IDP would put out of scope
     * (X509_V_ERR_DIFFERENT_CRL_SCOPE). The delta carries its base's IDP
     * (5.2.4); the base points to the delta with freshestCRL (5.2.6). */
    cp.idp_url = ca.parent_id != 0 || X509_check_issued(ca.cert, ca.cert) !=
                                          X509_V_OK ? ca.crl_url : NULL;
    if (!delta && lt.delta_hours > 0)
        cp.freshest_url = ca_delta_url(&a, cfg, &ca);
    err = pki_crl_begin(&cp, &c);
    if (err != CW_OK)
        goto out;
    /* The certificates, then the tombstones of deleted revoked ones. */
    for (int gone = 0; gone < 2; gone++) {
        last = 0;
        for (;;) {
            p[0] = SP_U64(id);
            p[1] = SP_U64(last);
            p[2] = SP_STR(delta ? lt.base_from : lt.now);
            p[3] = SP_STR(lt.base_from);
            if (gone)
                err = store_query(db, &page,
                                  delta ? sql_delta_gone : sql_full_gone, p, 3,
                                  &rows);
            else if (delta)
                err = store_query(db, &page, sql_delta_page, p, 4, &rows);
            else
                err = store_query(db, &page, sql_full_page, p, 3, &rows);
            if (err == CW_OK)
                err = add_page(c, &rows, &last, &count);
            arena_reset(&page);
            if (err != CW_OK)
                goto out;
            if (rows.nrows < CRL_PAGE)
                break;
        }
    }
    err = pki_crl_tbs(c, &tbs, &tbs_len);
    if (err == CW_OK)
        err = signer_sign_bytes(cfg, "cas", id, ca.key, ca.key_len, tbs,
                                tbs_len, &sig);
    if (err == CW_OK)
        err = pki_crl_finish(c, sig.p, sig.len, &der);
    if (err != CW_OK)
        goto out;
    memset(&st, 0, sizeof(st));
    st.row.ca_id = id;
    st.row.number = lt.number;
    st.row.delta_base = cp.delta_base;
    st.row.this_update = ca_sql_time(&a, cp.this_update);
    st.row.next_update = ca_sql_time(&a, cp.next_update);
    st.row.built_from = lt.now6;
    st.row.entries = count;
    st.row.source = "generated";
    st.row.der = &der;
    st.lt = &lt;
    st.ev = ev != NULL ? ev : &system_event;
    err = store_tx(db, store_body, &st);
    if (err == CW_OK) {
        leased = 0;
        if (meta != NULL) {
            memset(meta, 0, sizeof(*meta));
            meta->number = lt.number;
            meta->delta_base = cp.delta_base;
            meta->this_update = cp.this_update;
            meta->next_update = cp.next_update;
            meta->entries = count;
        }
        log_info("CA %llu: %s CRL %llu with %llu entries",
                 (unsigned long long)id, delta ? "delta" : "full",
                 (unsigned long long)lt.number, (unsigned long long)count);
    }
out:
    if (err == CW_E_TOOLARGE) {
        /* Ours, not the client's: say so instead of a 413. */
        ca_why_set(why, "", "the CRL would be larger than certward builds "
                   "(%u entries, %u MiB)", (unsigned)LIM_CRL_ENTRIES,
                   (unsigned)(LIM_CRL_DER >> 20));
        log_err("CA %llu: %s", (unsigned long long)id, why->msg);
        err = CW_E_CONFLICT;
    }
    if (leased) {
        p[0] = SP_U64(id);
        if (store_exec(db, sql_unlease, p, 1, NULL, NULL) != CW_OK)
            log_warn("CA %llu: CRL lease left to expire",
                     (unsigned long long)id);
    }
    pki_crl_free(c);
    buf_cleanup(&sig);
    buf_cleanup(&der);
    arena_reset(&page);
    arena_reset(&a);
    return err;
}

const char *
ca_delta_url(struct arena *a, const struct cw_config *cfg,
             const struct ca_row *ca)
{
    size_t n = strlen(ca->crl_url);

    (void)cfg;
    /* ".../x.crl" -> ".../x-delta.crl", the path /cdp serves. */
    if (n > 4 && strcmp(ca->crl_url + n - 4, ".crl") == 0)
        return arena_printf(a, "%.*s-delta.crl", (int)(n - 4), ca->crl_url);
    return arena_printf(a, "%s-delta", ca->crl_url);
}

/* ---- serving ---------------------------------------------------------- */

static const char sql_by_slug[] =
    "SELECT id, status, key_state, key_wrapped IS NOT NULL, "
    "cert_der IS NOT NULL, delta_hours FROM cas WHERE slug = ?";
static const char sql_latest_full[] =
    "SELECT id, number, 0, UNIX_TIMESTAMP(this_update), "
    "DATE_FORMAT(next_update, '%Y-%m-%d %H:%i:%s'), entries, source, "
    "next_update <= UTC_TIMESTAMP() "
    "FROM crls WHERE ca_id = ? AND delta_base IS NULL "
    "ORDER BY number DESC LIMIT 1";
static const char sql_latest_delta[] =
    "SELECT id, number, delta_base, UNIX_TIMESTAMP(this_update), "
    "DATE_FORMAT(next_update, '%Y-%m-%d %H:%i:%s'), entries, source, "
    "next_update <= UTC_TIMESTAMP() "
    "FROM crls WHERE ca_id = ? AND delta_base IS NOT NULL "
    "ORDER BY number DESC LIMIT 1";
static const char sql_crl_der[] = "SELECT der FROM crls WHERE id = ?";

static enum cw_err
latest(struct store *db, struct arena *a, uint64_t ca_id, int delta,
       struct ca_crl_meta *m, uint64_t *row_id, int *expired)
{
    struct store_param p[1] = { SP_U64(ca_id) };
    struct store_rows  rows;
    enum cw_err        err;

    err = store_query(db, a, delta ? sql_latest_delta : sql_latest_full, p,
                      1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;
    memset(m, 0, sizeof(*m));
    *row_id = store_cell_u64(&rows, 0, 0);
    m->number = store_cell_u64(&rows, 0, 1);
    m->delta_base = store_cell_u64(&rows, 0, 2);
    m->this_update = (time_t)store_cell_i64(&rows, 0, 3);
    m->next_update = ca_parse_sql_time(store_cell_str(&rows, 0, 4));
    m->entries = store_cell_u64(&rows, 0, 5);
    m->source = store_cell_str(&rows, 0, 6);
    *expired = store_cell_u64(&rows, 0, 7) == 1;
    return CW_OK;
}

enum cw_err
ca_crl_fetch(struct store *db, const struct cw_config *cfg, struct arena *a,
             const char *slug, int delta, const char *if_none_match,
             struct ca_crl_doc *out)
{
    struct store_param p[1] = { SP_STR(slug) };
    struct store_rows  rows;
    struct ca_why      why;
    uint64_t           ca_id;
    uint64_t           row_id = 0;
    int                expired = 0;
    int                can_sign;
    enum cw_err        err;

    memset(out, 0, sizeof(*out));
    err = store_query(db, a, sql_by_slug, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1 || store_cell_u64(&rows, 0, 4) != 1)
        return CW_E_NOTFOUND;
    ca_id = store_cell_u64(&rows, 0, 0);
    if (delta && store_cell_u64(&rows, 0, 5) == 0)
        return CW_E_NOTFOUND;   /* no delta CRLs for this CA */
    can_sign = strcmp(store_cell_str(&rows, 0, 1), "active") == 0 &&
               strcmp(store_cell_str(&rows, 0, 2), "online") == 0 &&
               store_cell_u64(&rows, 0, 3) == 1;
    err = latest(db, a, ca_id, delta, &out->meta, &row_id, &expired);
    if (err != CW_OK && err != CW_E_NOTFOUND)
        return err;
    /* Missing or expired: whoever asks first regenerates it; the rest get
     * the previous CRL, or 503 + Retry-After when there is none. */
    if ((err == CW_E_NOTFOUND || expired) && can_sign) {
        enum cw_err gerr = ca_crl_generate(db, cfg, ca_id, delta, NULL, NULL,
                                           &why);

        if (gerr == CW_OK)
            err = latest(db, a, ca_id, delta, &out->meta, &row_id, &expired);
        else if (err == CW_E_NOTFOUND)
            return gerr == CW_E_BUSY ? CW_E_BUSY : gerr;
    }
    if (err != CW_OK)
        return err;
    snprintf(out->etag, sizeof(out->etag), "\"crl-%llu-%llu\"",
             (unsigned long long)ca_id, (unsigned long long)out->meta.number);
    if (if_none_match != NULL && strstr(if_none_match, out->etag) != NULL) {
        out->not_modified = 1;
        return CW_OK;
    }
    p[0] = SP_U64(row_id);
    err = store_query(db, a, sql_crl_der, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;   /* pruned by a newer CRL meanwhile */
    out->der = (const uint8_t *)rows.cells[0].p;
    out->der_len = rows.cells[0].len;
    return CW_OK;
}

/* ---- settings and information (/api/v2/cas/{id}/crl) ----------------- */

static const char sql_settings[] =
    "SELECT crl_days, delta_hours, ocsp_hours, ocsp_signer, crl_number, "
    "revocation_seq > crl_seq, COALESCE(ocsp_responder_id, 0) "
    "FROM cas WHERE id = ?";

static json_t *
meta_json(struct arena *a, const struct ca_crl_meta *m)
{
    char tu[PKI_RFC3339_SIZE];
    char nu[PKI_RFC3339_SIZE];
    struct tm tm;

    (void)a;
    gmtime_r(&m->this_update, &tm);
    strftime(tu, sizeof(tu), "%Y-%m-%dT%H:%M:%SZ", &tm);
    gmtime_r(&m->next_update, &tm);
    strftime(nu, sizeof(nu), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_pack("{s:I, s:s, s:s, s:I, s:s}", "number",
                     (json_int_t)m->number, "this_update", tu, "next_update",
                     nu, "entries", (json_int_t)m->entries, "source",
                     m->source ? m->source : "generated");
}

enum cw_err
ca_crl_info_json(struct store *db, const struct cw_config *cfg,
                 struct arena *a, uint64_t id, json_t **out)
{
    struct store_param p[1] = { SP_U64(id) };
    struct store_rows  rows;
    struct ca_row      ca;
    struct ca_crl_meta m;
    uint64_t           row_id;
    int                expired;
    json_t            *doc;
    enum cw_err        err;

    err = ca_row_load(db, cfg, a, id, &ca);
    if (err != CW_OK)
        return err;
    err = store_query(db, a, sql_settings, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;
    doc = json_pack(
        "{s:{s:I, s:I, s:I, s:s}, s:I, s:b, s:s, s:s, s:s, s:s, s:n, s:n}",
        "settings", "crl_days", (json_int_t)store_cell_u64(&rows, 0, 0),
        "delta_hours", (json_int_t)store_cell_u64(&rows, 0, 1), "ocsp_hours",
        (json_int_t)store_cell_u64(&rows, 0, 2), "ocsp_signer",
        store_cell_str(&rows, 0, 3), "last_number",
        (json_int_t)store_cell_u64(&rows, 0, 4), "stale",
        store_cell_u64(&rows, 0, 5) == 1, "crl_url", ca.crl_url,
        "delta_url", ca_delta_url(a, cfg, &ca), "ocsp_url", ca.ocsp_url,
        "ca_issuers_url", ca.ca_issuers_url, "full", "delta");
    if (doc == NULL)
        return CW_E_INTERNAL;
    if (latest(db, a, id, 0, &m, &row_id, &expired) == CW_OK)
        json_object_set_new(doc, "full", meta_json(a, &m));
    if (latest(db, a, id, 1, &m, &row_id, &expired) == CW_OK) {
        json_t *d = meta_json(a, &m);

        json_object_set_new(d, "base", json_integer((json_int_t)m.delta_base));
        json_object_set_new(doc, "delta", d);
    }
    *out = doc;
    return CW_OK;
}

struct settings_tx {
    uint64_t                        id;
    unsigned                        crl_days;
    unsigned                        delta_hours;
    unsigned                        ocsp_hours;
    const char                     *ocsp_signer;
    const struct store_audit_event *ev;
};

static const char sql_settings_put[] =
    "UPDATE cas SET crl_days = ?, delta_hours = ?, ocsp_hours = ?, "
    "ocsp_signer = ?, revocation_seq = revocation_seq + 1, "
    "updated_at = NOW(6) WHERE id = ?";
/* Responses signed under the old settings are not what the operator
 * asked for any more: drop them, the next request signs anew. */
static const char sql_ocsp_drop_ca[] =
    "DELETE FROM ocsp_responses WHERE ca_id = ?";

static enum cw_err
settings_body(struct store *db, void *arg)
{
    struct settings_tx *st = arg;
    struct store_param  p[5];
    char                detail[160];
    uint64_t            n = 0;
    enum cw_err         err;

    p[0] = SP_U64(st->crl_days);
    p[1] = SP_U64(st->delta_hours);
    p[2] = SP_U64(st->ocsp_hours);
    p[3] = SP_STR(st->ocsp_signer);
    p[4] = SP_U64(st->id);
    err = store_exec(db, sql_settings_put, p, 5, &n, NULL);
    if (err != CW_OK)
        return err;
    if (n != 1)
        return CW_E_NOTFOUND;
    p[0] = SP_U64(st->id);
    err = store_exec(db, sql_ocsp_drop_ca, p, 1, NULL, NULL);
    if (err != CW_OK)
        return err;
    snprintf(detail, sizeof(detail),
             "{\"crl_days\":%u,\"delta_hours\":%u,\"ocsp_hours\":%u,"
             "\"ocsp_signer\":\"%s\"}",
             st->crl_days, st->delta_hours, st->ocsp_hours, st->ocsp_signer);
    return ca_audit(db, st->ev, "ca.revocation_settings", "ca", st->id,
                    detail);
}

enum cw_err
ca_crl_settings_put(struct store *db, uint64_t id, unsigned crl_days,
                    unsigned delta_hours, unsigned ocsp_hours,
                    const char *ocsp_signer,
                    const struct store_audit_event *ev, struct ca_why *why)
{
    struct settings_tx st = { id, crl_days, delta_hours, ocsp_hours,
                              ocsp_signer, ev };
    enum cw_err        err;

    if (crl_days < 1 || crl_days > 366) {
        ca_why_set(why, "crl_days", "crl_days must be 1 to 366");
        return CW_E_BADREQ;
    }
    if (delta_hours > 24 * 31 || (delta_hours > 0 &&
                                  delta_hours >= crl_days * 24u)) {
        ca_why_set(why, "delta_hours", "delta_hours must be 0 (no delta "
                   "CRLs) or shorter than the full CRL's validity");
        return CW_E_BADREQ;
    }
    if (ocsp_hours < 1 || ocsp_hours > 24 * 7) {
        ca_why_set(why, "ocsp_hours", "ocsp_hours must be 1 to 168");
        return CW_E_BADREQ;
    }
    if (strcmp(ocsp_signer, "ca") != 0 && strcmp(ocsp_signer, "delegated")) {
        ca_why_set(why, "ocsp_signer", "ocsp_signer must be ca or delegated");
        return CW_E_BADREQ;
    }
    err = store_tx(db, settings_body, &st);
    ca_ocsp_cache_invalidate();
    return err;
}

/* ---- an externally signed CRL (offline CAs) --------------------------- */

struct upload_tx {
    struct crl_row                  row;
    const struct store_audit_event *ev;
    struct ca_why                  *why;
};

static const char sql_upload_number[] =
    "SELECT crl_number FROM cas WHERE id = ? FOR UPDATE";
static const char sql_upload_set[] =
    "UPDATE cas SET crl_number = ?, crl_seq = revocation_seq, "
    "delta_seq = revocation_seq WHERE id = ?";

static enum cw_err
upload_body(struct store *db, void *arg)
{
    struct upload_tx  *ut = arg;
    struct store_param p[2];
    struct store_rows  rows;
    struct arena       a;
    char               detail[96];
    enum cw_err        err;

    arena_init(&a);
    p[0] = SP_U64(ut->row.ca_id);
    err = store_query(db, &a, sql_upload_number, p, 1, &rows);
    if (err == CW_OK && rows.nrows != 1)
        err = CW_E_NOTFOUND;
    if (err == CW_OK && ut->row.number <= store_cell_u64(&rows, 0, 0)) {
        ca_why_set(ut->why, "crl", "the CRL number %llu is not above the "
                   "last one (%llu)", (unsigned long long)ut->row.number,
                   (unsigned long long)store_cell_u64(&rows, 0, 0));
        err = CW_E_CONFLICT;
    }
    arena_reset(&a);
    if (err != CW_OK)
        return err;
    err = crl_insert(db, &ut->row);
    if (err != CW_OK)
        return err;
    p[0] = SP_U64(ut->row.number);
    p[1] = SP_U64(ut->row.ca_id);
    err = store_exec(db, sql_upload_set, p, 2, NULL, NULL);
    if (err != CW_OK)
        return err;
    snprintf(detail, sizeof(detail), "{\"number\":%llu,\"entries\":%llu}",
             (unsigned long long)ut->row.number,
             (unsigned long long)ut->row.entries);
    return ca_audit(db, ut->ev, "crl.upload", "ca", ut->row.ca_id, detail);
}

enum cw_err
ca_crl_upload(struct store *db, const struct cw_config *cfg, uint64_t id,
              const uint8_t *data, size_t len,
              const struct store_audit_event *ev, struct ca_why *why)
{
    struct arena       a;
    struct ca_row      ca;
    struct pki_crl_facts f;
    struct upload_tx   ut;
    struct buf         der;
    enum cw_err        err;

    arena_init(&a);
    buf_init(&der, LIM_CRL_UPLOAD);
    err = ca_row_load(db, cfg, &a, id, &ca);
    if (err != CW_OK)
        goto out;
    if (ca.cert == NULL) {
        ca_why_set(why, "", "the CA has no certificate yet");
        err = CW_E_CONFLICT;
        goto out;
    }
    err = pki_crl_check(data, len, ca.cert, &der, &f);
    if (err != CW_OK) {
        ca_why_set(why, "crl", "%s", f.why[0] ? f.why
                                               : "the CRL does not parse");
        goto out;
    }
    memset(&ut, 0, sizeof(ut));
    ut.row.ca_id = id;
    ut.row.number = f.number;
    ut.row.delta_base = f.delta_base;
    ut.row.this_update = ca_sql_time(&a, f.this_update);
    ut.row.next_update = ca_sql_time(&a, f.next_update);
    ut.row.built_from = ut.row.this_update;
    ut.row.entries = f.entries;
    ut.row.source = "uploaded";
    ut.row.der = &der;
    ut.ev = ev;
    ut.why = why;
    err = store_tx(db, upload_body, &ut);
out:
    buf_cleanup(&der);
    arena_reset(&a);
    return err;
}

/* ---- cron: crl-regen --------------------------------------------------- */

/* Online CAs whose full CRL is missing, past half its validity, or older
 * than the last revocation (then the delta, when deltas are on). */
static const char sql_due[] =
    "SELECT c.id, "
    "(f.number IS NULL OR f.next_update < UTC_TIMESTAMP() + "
    " INTERVAL c.crl_days * 43200 SECOND OR "
    " (c.delta_hours = 0 AND c.revocation_seq > c.crl_seq)), "
    "c.delta_hours > 0 AND (d.number IS NULL OR d.delta_base < f.number OR "
    " d.next_update < UTC_TIMESTAMP() + INTERVAL c.delta_hours * 1800 SECOND "
    " OR c.revocation_seq > c.delta_seq), c.delta_hours > 0 "
    "FROM cas c "
    "LEFT JOIN crls f ON f.id = (SELECT id FROM crls WHERE ca_id = c.id AND "
    " delta_base IS NULL ORDER BY number DESC LIMIT 1) "
    "LEFT JOIN crls d ON d.id = (SELECT id FROM crls WHERE ca_id = c.id AND "
    " delta_base IS NOT NULL ORDER BY number DESC LIMIT 1) "
    "WHERE c.status = 'active' AND c.key_state = 'online' "
    "AND c.key_wrapped IS NOT NULL AND c.cert_der IS NOT NULL "
    "ORDER BY c.id LIMIT 10000";

static const char sql_gone_purge[] =
    "DELETE FROM revoked_deleted WHERE not_after < UTC_TIMESTAMP() "
    "- INTERVAL 1 DAY";

enum cw_err
ca_crl_regen_due(struct store *db, const struct cw_config *cfg,
                 char *detail, size_t detail_len)
{
    struct arena      a;
    struct store_rows rows;
    struct ca_why     why;
    unsigned          full = 0;
    unsigned          deltas = 0;
    unsigned          failed = 0;
    enum cw_err       err;

    arena_init(&a);
    err = store_exec(db, sql_gone_purge, NULL, 0, NULL, NULL);
    if (err == CW_OK)
        err = store_query(db, &a, sql_due, NULL, 0, &rows);
    for (size_t r = 0; err == CW_OK && r < rows.nrows; r++) {
        uint64_t    id = store_cell_u64(&rows, r, 0);
        enum cw_err e = CW_OK;

        memset(&why, 0, sizeof(why));

        if (store_cell_u64(&rows, r, 1) == 1) {
            e = ca_crl_generate(db, cfg, id, 0, NULL, NULL, &why);
            full += e == CW_OK;
        }
        /* A new base makes the delta due as well (its base changed). */
        if (e == CW_OK && store_cell_u64(&rows, r, 3) == 1 &&
            (store_cell_u64(&rows, r, 2) == 1 ||
             store_cell_u64(&rows, r, 1) == 1)) {
            struct ca_crl_meta m;

            e = ca_crl_generate(db, cfg, id, 1, NULL, &m, &why);
            deltas += e == CW_OK && m.delta_base != 0;
        }
        if (e != CW_OK && e != CW_E_BUSY) {
            log_warn("crl-regen: CA %llu: %s", (unsigned long long)id,
                     why.msg[0] ? why.msg : cw_err_info(e)->code);
            failed++;
        }
    }
    snprintf(detail, detail_len, "%u full, %u delta CRLs; %u failed", full,
             deltas, failed);
    arena_reset(&a);
    if (err == CW_OK && failed > 0)
        err = CW_E_INTERNAL;
    return err;
}

/* ---- AIA (/ca/<slug>.cer) ------------------------------------------------ */

static const char sql_cert_by_slug[] =
    "SELECT cert_der FROM cas WHERE slug = ? AND cert_der IS NOT NULL";

enum cw_err
ca_cert_by_slug(struct store *db, struct arena *a, const char *slug,
                const uint8_t **der, size_t *len)
{
    struct store_param p[1] = { SP_STR(slug) };
    struct store_rows  rows;
    enum cw_err        err;

    err = store_query(db, a, sql_cert_by_slug, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;
    *der = (const uint8_t *)rows.cells[0].p;
    *len = rows.cells[0].len;
    return CW_OK;
}

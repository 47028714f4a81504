/*
 * ocsp.c: OCSP answers (RFC 6960). Responses are signed ahead of time and
 * stored under the CertID a client sends, so the common request (one
 * CertID, no nonce) costs one primary-key lookup and no signature. The
 * rest (a miss, a nonce, several CertIDs) is signed here, by the CA's
 * delegated responder (RFC 6960 4.2.2.2; it carries id-pkix-ocsp-nocheck
 * and is renewed by cron) or by the CA itself.
 *
 * Freshness: a revocation deletes the certificate's stored responses in
 * its own transaction (ca_revocation_touch), and a response is stored
 * only if the certificate row is still the one it was signed from (an
 * INSERT ... SELECT on the row's updated_at), so no node can serve a
 * "good" signed before a revocation committed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "ca/ca-int.h"
#include "cw_limits.h"
#include "pki/cert.h"
#include "pki/crl.h"
#include "pki/ocsp.h"
#include "signer/signer.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sp.h"

/* The CertID as a key: hash algorithm byte, name hash, key hash, serial. */
#define OCSP_KEY_MAX (1 + 64 + 64 + PKI_SERIAL_LEN)

/* ---- which CA a CertID names ----------------------------------------- */

/* A per-thread index of every CA's name and key hashes, reloaded every
 * OCSP_CA_TTL seconds and when a CertID matches no CA while the set of
 * CAs changed, so a CA created on another node is found at once. */
#define OCSP_CA_TTL 60

struct ocsp_ca_ent {
    uint64_t id;
    uint8_t  n1[20], k1[20], n256[32], k256[32];
};

static _Thread_local struct {
    struct ocsp_ca_ent *ents;
    size_t              n;
    time_t              loaded;
    uint64_t            count;     /* what sql_cas_version said then    */
    uint64_t            max_id;
} ca_index;

static const char sql_cas_all[] =
    "SELECT id, cert_der FROM cas WHERE cert_der IS NOT NULL "
    "ORDER BY id LIMIT 4096";
/* Cheap: has a CA (with a certificate) appeared or gone since? */
static const char sql_cas_version[] =
    "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM cas "
    "WHERE cert_der IS NOT NULL";

static enum cw_err
ca_index_version(struct store *db, uint64_t *count, uint64_t *max_id)
{
    struct arena      a;
    struct store_rows rows;
    enum cw_err       err;

    arena_init(&a);
    err = store_query(db, &a, sql_cas_version, NULL, 0, &rows);
    if (err == CW_OK && rows.nrows == 1) {
        *count = store_cell_u64(&rows, 0, 0);
        *max_id = store_cell_u64(&rows, 0, 1);
    }
    arena_reset(&a);
    return err;
}

static enum cw_err
ca_index_load(struct store *db)
{
    struct arena       a;
    struct store_rows  rows;
    struct ocsp_ca_ent *ents;
    size_t             n = 0;
    size_t             len;
    enum cw_err        err;

    arena_init(&a);
    err = ca_index_version(db, &ca_index.count, &ca_index.max_id);
    if (err == CW_OK)
        err = store_query(db, &a, sql_cas_all, NULL, 0, &rows);
    if (err != CW_OK)
        goto out;
    ents = calloc(rows.nrows ? rows.nrows : 1, sizeof(*ents));
    if (ents == NULL) {
        err = CW_E_INTERNAL;
        goto out;
    }
    for (size_t r = 0; r < rows.nrows; r++) {
        X509   *cert = NULL;
        uint8_t nh[64];
        uint8_t kh[64];

        if (pki_cert_parse_der((const uint8_t *)rows.cells[r * 2 + 1].p,
                               rows.cells[r * 2 + 1].len, &cert) != CW_OK)
            continue;
        ents[n].id = store_cell_u64(&rows, r, 0);
        if (pki_ocsp_issuer_hashes(cert, NID_sha1, nh, kh, &len) == CW_OK &&
            len == 20) {
            memcpy(ents[n].n1, nh, 20);
            memcpy(ents[n].k1, kh, 20);
        }
        if (pki_ocsp_issuer_hashes(cert, NID_sha256, nh, kh, &len) ==
                CW_OK && len == 32) {
            memcpy(ents[n].n256, nh, 32);
            memcpy(ents[n].k256, kh, 32);
        }
        X509_free(cert);
        n++;
    }
    free(ca_index.ents);
    ca_index.ents = ents;
    ca_index.n = n;
    ca_index.loaded = time(NULL);
out:
    arena_reset(&a);
    return err;
}

static uint64_t
ca_index_find(const struct pki_ocsp_id *id)
{
    for (size_t i = 0; i < ca_index.n; i++) {
        const struct ocsp_ca_ent *e = &ca_index.ents[i];

        if (id->hash_nid == NID_sha1 && id->hash_len == 20 &&
            memcmp(e->n1, id->name_hash, 20) == 0 &&
            memcmp(e->k1, id->key_hash, 20) == 0)
            return e->id;
        if (id->hash_nid == NID_sha256 && id->hash_len == 32 &&
            memcmp(e->n256, id->name_hash, 32) == 0 &&
            memcmp(e->k256, id->key_hash, 32) == 0)
            return e->id;
    }
    return 0;
}

static enum cw_err
ca_lookup(struct store *db, const struct pki_ocsp_id *id, uint64_t *ca_id)
{
    time_t      now = time(NULL);
    enum cw_err err;

    if (ca_index.ents == NULL || now - ca_index.loaded >= OCSP_CA_TTL) {
        err = ca_index_load(db);
        if (err != CW_OK)
            return err;
    }
    *ca_id = ca_index_find(id);
    if (*ca_id == 0) {
        uint64_t count = 0;
        uint64_t max_id = 0;

        /* Reload only when the set of CAs changed: unknown issuers sent
         * on purpose cost one cheap query, not a reload each. */
        err = ca_index_version(db, &count, &max_id);
        if (err != CW_OK)
            return err;
        if (count == ca_index.count && max_id == ca_index.max_id)
            return CW_OK;
        err = ca_index_load(db);
        if (err != CW_OK)
            return err;
        *ca_id = ca_index_find(id);
    }
    return CW_OK;
}

static size_t
certid_key(const struct pki_ocsp_id *id, uint8_t key[OCSP_KEY_MAX])
{
    size_t n = 0;

    key[n++] = id->hash_nid == NID_sha256 ? 2 : 1;
    memcpy(key + n, id->name_hash, id->hash_len);
    n += id->hash_len;
    memcpy(key + n, id->key_hash, id->hash_len);
    n += id->hash_len;
    memcpy(key + n, id->serial, id->serial_len);
    return n + id->serial_len;
}

/* ---- who signs for a CA ------------------------------------------------ */

struct ocsp_signer {
    uint64_t        ca_id;
    X509           *ca_cert;
    const char     *table;       /* "cas" or "certificates"             */
    uint64_t        key_row;
    const uint8_t  *key;
    size_t          key_len;
    X509           *cert;        /* signing certificate                 */
    int             delegated;
    unsigned        hours;
};

/* The certificate der parses to (ca_cert_parsed()'s per-thread cache),
 * for the arena's life. */
static enum cw_err
cert_get(struct arena *a, const uint8_t *der, size_t len, X509 **out)
{
    X509       *x = NULL;
    enum cw_err err;

    err = ca_cert_parsed(der, len, &x);
    if (err != CW_OK)
        return err;
    arena_defer(a, (arena_free_fn)X509_free, x);
    *out = x;
    return CW_OK;
}

void
ca_ocsp_thread_cleanup(void)
{
    free(ca_index.ents);
    memset(&ca_index, 0, sizeof(ca_index));
}

static const char sql_signer[] =
    "SELECT c.status, c.key_state, c.key_wrapped, c.cert_der, c.ocsp_hours, "
    "c.ocsp_signer, r.id, r.key_wrapped, r.der "
    "FROM cas c LEFT JOIN certificates r ON r.id = c.ocsp_responder_id "
    "AND r.status = 'valid' AND r.not_after > UTC_TIMESTAMP() "
    "AND r.key_wrapped IS NOT NULL "
    "WHERE c.id = ?";

/* CW_E_CONFLICT when nobody can sign for the CA (offline, no responder). */
static enum cw_err
signer_load(struct store *db, struct arena *a, uint64_t ca_id,
            struct ocsp_signer *s)
{
    struct store_param p[1] = { SP_U64(ca_id) };
    struct store_rows  rows;
    X509              *cert = NULL;
    int                ca_ok;
    int                resp_ok;
    enum cw_err        err;

    memset(s, 0, sizeof(*s));
    err = store_query(db, a, sql_signer, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1 || store_cell_isnull(&rows, 0, 3))
        return CW_E_NOTFOUND;
    err = cert_get(a, (const uint8_t *)rows.cells[3].p, rows.cells[3].len,
                   &cert);
    if (err != CW_OK)
        return CW_E_INTERNAL;
    s->ca_id = ca_id;
    s->ca_cert = cert;
    s->hours = (unsigned)store_cell_u64(&rows, 0, 4);
    ca_ok = strcmp(store_cell_str(&rows, 0, 0), "active") == 0 &&
            strcmp(store_cell_str(&rows, 0, 1), "online") == 0 &&
            !store_cell_isnull(&rows, 0, 2);
    resp_ok = !store_cell_isnull(&rows, 0, 6) &&
              strcmp(store_cell_str(&rows, 0, 0), "active") == 0;
    /* The delegated responder when configured, and for an offline CA
     * whatever the setting: its key is online while the CA's is not. */
    if (resp_ok && (strcmp(store_cell_str(&rows, 0, 5), "delegated") == 0 ||
                    !ca_ok)) {
        err = cert_get(a, (const uint8_t *)rows.cells[8].p,
                       rows.cells[8].len, &cert);
        if (err != CW_OK)
            return CW_E_INTERNAL;
        s->table = "certificates";
        s->key_row = store_cell_u64(&rows, 0, 6);
        s->key = (const uint8_t *)rows.cells[7].p;
        s->key_len = rows.cells[7].len;
        s->cert = cert;
        s->delegated = 1;
        return CW_OK;
    }
    if (!ca_ok)
        return CW_E_CONFLICT;
    s->table = "cas";
    s->key_row = ca_id;
    s->key = (const uint8_t *)rows.cells[2].p;
    s->key_len = rows.cells[2].len;
    s->cert = s->ca_cert;
    return CW_OK;
}

/* ---- the status of one certificate ------------------------------------ */

struct ocsp_status {
    uint64_t    cert_id;       /* 0: unknown                            */
    int         status;        /* V_OCSP_CERTSTATUS_*                   */
    time_t      revoked_at;
    int         reason;
    char        version[32];   /* the row's updated_at                  */
};

static const char sql_cert_status[] =
    "SELECT id, status, COALESCE(DATE_FORMAT(revoked_at, "
    "'%Y-%m-%d %H:%i:%s'), ''), COALESCE(revocation_reason, ''), "
    "DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f') "
    "FROM certificates WHERE ca_id = ? AND serial = ? "
    "AND status IN ('valid', 'revoked')";

static const char sql_gone_status[] =
    "SELECT DATE_FORMAT(revoked_at, '%Y-%m-%d %H:%i:%s'), "
    "COALESCE(revocation_reason, '') FROM revoked_deleted "
    "WHERE ca_id = ? AND serial = ?";

static enum cw_err
status_load(struct store *db, struct arena *a, uint64_t ca_id,
            const uint8_t *serial, size_t serial_len, struct ocsp_status *st)
{
    struct store_param p[2];
    struct store_rows  rows;
    char               hex[PKI_SERIAL_HEX_SIZE];
    enum cw_err        err;

    memset(st, 0, sizeof(*st));
    st->status = V_OCSP_CERTSTATUS_UNKNOWN;
    st->reason = -1;
    while (serial_len > 1 && serial[0] == 0) {
        serial++;
        serial_len--;
    }
    if (serial_len == 0 || serial_len > PKI_SERIAL_LEN)
        return CW_OK;
    sp_hex_encode(serial, serial_len, hex);
    p[0] = SP_U64(ca_id);
    p[1] = SP_STR(hex);
    err = store_query(db, a, sql_cert_status, p, 2, &rows);
    if (err == CW_OK && rows.nrows == 0) {
        /* Deleted while revoked and not expired: still revoked (RFC 6960
         * 2.2), signed each time (there is no row to store it for). */
        err = store_query(db, a, sql_gone_status, p, 2, &rows);
        if (err != CW_OK || rows.nrows != 1)
            return err;
        st->status = V_OCSP_CERTSTATUS_REVOKED;
        st->revoked_at = ca_parse_sql_time(store_cell_str(&rows, 0, 0));
        st->reason = store_cell_str(&rows, 0, 1)[0]
                         ? ca_reason_code(store_cell_str(&rows, 0, 1))
                         : -1;
        return CW_OK;
    }
    if (err != CW_OK || rows.nrows != 1)
        return err;
    st->cert_id = store_cell_u64(&rows, 0, 0);
    snprintf(st->version, sizeof(st->version), "%s",
             store_cell_str(&rows, 0, 4));
    if (strcmp(store_cell_str(&rows, 0, 1), "revoked") == 0) {
        const char *reason = store_cell_str(&rows, 0, 3);

        st->status = V_OCSP_CERTSTATUS_REVOKED;
        st->revoked_at = ca_parse_sql_time(store_cell_str(&rows, 0, 2));
        st->reason = reason[0] ? ca_reason_code(reason) : -1;
    } else {
        st->status = V_OCSP_CERTSTATUS_GOOD;
    }
    return CW_OK;
}

/* Sign bs as s and wrap it into an OCSPResponse. */
static enum cw_err
sign_and_wrap(const struct cw_config *cfg, const struct ocsp_signer *s,
              OCSP_BASICRESP *bs, struct buf *out)
{
    STACK_OF(X509) *extra = NULL;
    enum cw_err     err;

    err = signer_sign_ocsp(cfg, s->table, s->key_row, s->key, s->key_len,
                           bs, s->cert, extra);
    if (err == CW_OK)
        err = pki_ocsp_resp_der(bs, out);
    return err;
}

/* Store a response for status st, unless the row changed meanwhile. */
static const char sql_store[] =
    "INSERT INTO ocsp_responses (certid, ca_id, cert_id, hash_alg, status, "
    "this_update, next_update, der) "
    "SELECT ?, ca_id, id, ?, ?, ?, ?, ? FROM certificates "
    "WHERE id = ? AND updated_at = ? "
    "ON DUPLICATE KEY UPDATE der = VALUES(der), status = VALUES(status), "
    "this_update = VALUES(this_update), next_update = VALUES(next_update)";

static enum cw_err
response_store(struct store *db, struct arena *a, const uint8_t *key,
               size_t key_len, int hash_nid, const struct ocsp_status *st,
               time_t this_update, time_t next_update, const struct buf *der)
{
    struct store_param p[8];

    p[0] = SP_BLOB(key, key_len);
    p[1] = SP_STR(hash_nid == NID_sha256 ? "sha256" : "sha1");
    p[2] = SP_STR(st->status == V_OCSP_CERTSTATUS_GOOD ? "good" : "revoked");
    p[3] = SP_STR(ca_sql_time(a, this_update));
    p[4] = SP_STR(ca_sql_time(a, next_update));
    p[5] = SP_BLOB(der->p, der->len);
    p[6] = SP_U64(st->cert_id);
    p[7] = SP_STR(st->version);
    return store_exec(db, sql_store, p, 8, NULL, NULL);
}

/* ---- answering ---------------------------------------------------------- */

static const char sql_cached[] =
    "SELECT der, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), next_update) "
    "FROM ocsp_responses WHERE certid = ? AND next_update > UTC_TIMESTAMP() "
    "+ INTERVAL 60 SECOND";

static void
error_resp(struct buf *out, int status)
{
    size_t         n;
    const uint8_t *p = pki_ocsp_error_der(status, &n);

    buf_reset(out);
    buf_append(out, p, n);
}

/* The stored answer for the CertID key: from the node's cache, else from
 * ocsp_responses (then cached). *found 0 when there is none. */
static enum cw_err
stored_find(struct store *db, struct arena *a, const uint8_t *key,
            size_t key_len, time_t now, struct buf *out, long *max_age,
            int *found)
{
    struct store_rows  rows;
    struct store_param p[1];
    uint64_t           gen;
    time_t             next;
    enum cw_err        err;

    *found = 0;
    ca_ocsp_cache_sync(db);
    if (ca_ocsp_cache_get(key, key_len, out, &next) && next > now + 60) {
        *max_age = (long)(next - now);
        *found = 1;
        return CW_OK;
    }
    gen = ca_ocsp_cache_gen();   /* before the read: see ocsp_cache.c */
    p[0] = SP_BLOB(key, key_len);
    err = store_query(db, a, sql_cached, p, 1, &rows);
    if (err != CW_OK || rows.nrows != 1)
        return err;
    buf_reset(out);
    err = buf_append(out, rows.cells[0].p, rows.cells[0].len);
    if (err != CW_OK)
        return err;
    *max_age = (long)store_cell_i64(&rows, 0, 1);
    ca_ocsp_cache_put(key, key_len, out->p, out->len, now + *max_age, gen);
    *found = 1;
    return CW_OK;
}

enum cw_err
ca_ocsp_answer(struct store *db, const struct cw_config *cfg,
               const uint8_t *der, size_t len, struct buf *out,
               long *max_age)
{
    struct pki_ocsp_req req;
    struct pki_ocsp_id  simple;
    struct arena        a;
    struct ocsp_signer  s;
    struct ocsp_status  st[LIM_OCSP_CERTIDS];
    OCSP_BASICRESP     *bs = NULL;
    uint8_t             key[OCSP_KEY_MAX];
    size_t              key_len = 0;
    uint64_t            ca_id = 0;
    uint64_t            gen = 0;
    time_t              now = time(NULL);
    time_t              next;
    int                 cacheable;
    int                 looked_up = 0;
    int                 found = 0;
    enum cw_err         err;

    *max_age = 0;
    req.req = NULL;             /* the rest is written by the parser */
    req.nids = 0;
    req.has_nonce = 0;
    arena_init(&a);
    /* The common request (one CertID, no nonce) is read by hand and
     * answered from what is stored, without OpenSSL's decoders. */
    if (pki_ocsp_simple_parse(der, len, &simple) == CW_OK) {
        key_len = certid_key(&simple, key);
        err = stored_find(db, &a, key, key_len, now, out, max_age, &found);
        if (err != CW_OK || found)
            goto out;
        looked_up = 1;
    }
    err = pki_ocsp_req_parse(der, len, &req);
    if (err != CW_OK) {
        error_resp(out, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
        err = CW_OK;
        goto out;
    }
    /* A hash we do not compute cannot name an issuer we know; the
     * request is not one we can answer (RFC 6960 4.2.1). */
    for (size_t i = 0; i < req.nids; i++) {
        if (req.ids[i].hash_nid == 0) {
            error_resp(out, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
            goto out;
        }
    }
    cacheable = req.nids == 1 && !req.has_nonce && req.ids[0].serial_len > 0;
    if (cacheable && !looked_up) {
        key_len = certid_key(&req.ids[0], key);
        err = stored_find(db, &a, key, key_len, now, out, max_age, &found);
        if (err != CW_OK || found)
            goto out;
    }
    /* What is signed below reflects the status read after this. */
    gen = ca_ocsp_cache_gen();
    /* Every CertID must name the same CA: one signer answers for all. */
    for (size_t i = 0; i < req.nids; i++) {
        uint64_t id = 0;

        err = ca_lookup(db, &req.ids[i], &id);
        if (err != CW_OK)
            goto out;
        if (id == 0 || (ca_id != 0 && id != ca_id)) {
            error_resp(out, OCSP_RESPONSE_STATUS_UNAUTHORIZED);
            goto out;
        }
        ca_id = id;
    }
    err = signer_load(db, &a, ca_id, &s);
    if (err == CW_E_CONFLICT || err == CW_E_NOTFOUND) {
        error_resp(out, OCSP_RESPONSE_STATUS_UNAUTHORIZED);
        err = CW_OK;
        goto out;
    }
    if (err != CW_OK)
        goto out;
    next = now + (time_t)s.hours * 3600;
    err = pki_ocsp_basic_new(&bs);
    for (size_t i = 0; err == CW_OK && i < req.nids; i++) {
        err = status_load(db, &a, ca_id, req.ids[i].serial,
                          req.ids[i].serial_len, &st[i]);
        if (err == CW_OK)
            err = pki_ocsp_add(bs, req.ids[i].certid, st[i].status,
                               st[i].revoked_at, st[i].reason, now,
                               st[i].status == V_OCSP_CERTSTATUS_UNKNOWN
                                   ? 0 : next);
    }
    if (err == CW_OK && req.has_nonce)
        err = pki_ocsp_copy_nonce(bs, req.req);
    if (err == CW_OK)
        err = sign_and_wrap(cfg, &s, bs, out);
    if (err == CW_E_DB || err == CW_E_DB_DOWN || err == CW_E_DB_RETRY)
        goto out;
    if (err != CW_OK) {
        log_err("OCSP: CA %llu: signing failed", (unsigned long long)ca_id);
        error_resp(out, OCSP_RESPONSE_STATUS_INTERNALERROR);
        err = CW_OK;
        goto out;
    }
    if (cacheable && st[0].cert_id != 0) {
        /* Best effort: the answer stands even if storing it fails. */
        if (response_store(db, &a, key, key_len, req.ids[0].hash_nid, &st[0],
                           now, next, out) != CW_OK)
            log_warn("OCSP: response not stored");
        else
            ca_ocsp_cache_put(key, key_len, out->p, out->len, next, gen);
        *max_age = (long)(next - now);
    }
out:
    OCSP_BASICRESP_free(bs);
    pki_ocsp_req_free(&req);
    arena_reset(&a);
    return err;
}

/* ---- cron: ocsp-presign ------------------------------------------------ */

/* A batch: the due rows of one query (with the status columns, so no
 * statement per certificate), their answers signed outside any
 * transaction, then written in one store_tx() by multi-row statements.
 * Each row is still written only if the certificate row is the one it
 * was signed from (updated_at), as in sql_store. */
#define PRESIGN_BATCH 1000
#define PRESIGN_COLS                                                      \
    "c.id, c.ca_id, c.serial, c.status, "                                \
    "COALESCE(DATE_FORMAT(c.revoked_at, '%Y-%m-%d %H:%i:%s'), ''), "     \
    "COALESCE(c.revocation_reason, ''), "                                \
    "DATE_FORMAT(c.updated_at, '%Y-%m-%d %H:%i:%s.%f') "

/* Certificates whose SHA-1 response (what most clients ask for) is
 * missing or past half its validity, and SHA-256 responses that clients
 * asked for, due the same way. */
static const char sql_presign_due[] =
    "SELECT " PRESIGN_COLS "FROM certificates c "
    "JOIN cas a ON a.id = c.ca_id "
    "LEFT JOIN ocsp_responses r ON r.cert_id = c.id AND r.hash_alg = 'sha1' "
    "WHERE c.id > ? AND c.status IN ('valid', 'revoked') "
    "AND c.not_after > UTC_TIMESTAMP() AND a.cert_der IS NOT NULL "
    "AND (r.certid IS NULL OR r.next_update < UTC_TIMESTAMP() + "
    "INTERVAL a.ocsp_hours * 1800 SECOND) "
    "ORDER BY c.id LIMIT 1000";
static const char sql_presign_due256[] =
    "SELECT " PRESIGN_COLS "FROM ocsp_responses r "
    "JOIN certificates c ON c.id = r.cert_id JOIN cas a ON a.id = c.ca_id "
    "WHERE c.id > ? AND r.hash_alg = 'sha256' "
    "AND c.status IN ('valid', 'revoked') AND c.not_after > UTC_TIMESTAMP() "
    "AND r.next_update < UTC_TIMESTAMP() + "
    "INTERVAL a.ocsp_hours * 1800 SECOND "
    "ORDER BY c.id LIMIT 1000";

/* sql_store for n rows: each row selected from its certificate row at
 * the version it was signed from. One constant statement per batch
 * size. (Rows as a derived table joined to certificates cost MariaDB
 * half again as much CPU: it builds the derived table per execution.) */
#define PS_ROW                                                            \
    "SELECT ?, ca_id, id, ?, ?, ?, ?, ? FROM certificates "               \
    "WHERE id = ? AND updated_at = ?"
#define PS_HEAD                                                           \
    "INSERT INTO ocsp_responses (certid, ca_id, cert_id, hash_alg, "      \
    "status, this_update, next_update, der) "
#define PS_TAIL                                                           \
    " ON DUPLICATE KEY UPDATE der = VALUES(der), status = VALUES(status), " \
    "this_update = VALUES(this_update), next_update = VALUES(next_update)"
#define PS_NPARAM 8
/* store_exec() binds at most 32 parameters: 4 rows of 8. */
static const char *const sql_presign_store[] = {
    PS_HEAD PS_ROW PS_TAIL,
    PS_HEAD PS_ROW " UNION ALL " PS_ROW " UNION ALL " PS_ROW " UNION ALL "
        PS_ROW PS_TAIL,
};
static const size_t presign_rows[] = { 1, 4 };
#define PS_MAX_ROWS 4

#define PRESIGN_MAX_PER_RUN 200000

struct presign_ctx {
    struct arena       a;
    uint64_t           ca_id;
    int                usable;
    struct ocsp_signer s;
};

/* One signed answer, waiting for the batch's transaction. */
struct presign_item {
    uint8_t            key[OCSP_KEY_MAX];
    size_t             key_len;
    const char        *hash_alg;
    const char        *status;
    const char        *this_update;
    const char        *next_update;
    const uint8_t     *der;         /* in the batch's arena              */
    size_t             der_len;
    uint64_t           cert_id;
    char               version[32]; /* the row's updated_at when read    */
};

struct presign_batch {
    struct presign_item *items;
    size_t               n;
    struct store_param   p[PS_NPARAM * PS_MAX_ROWS];
};

/* Sign the answer for row r of the due query into *it (its memory from
 * a). CW_E_CONFLICT when nobody can sign for the row's CA. */
static enum cw_err
presign_sign(struct store *db, const struct cw_config *cfg,
             struct presign_ctx *pc, struct arena *a,
             const struct store_rows *rows, size_t r, int hash_nid,
             struct buf *der, struct presign_item *it)
{
    struct pki_ocsp_id  id;
    OCSP_CERTID        *cid = NULL;
    OCSP_BASICRESP     *bs = NULL;
    uint64_t            ca_id = store_cell_u64(rows, r, 1);
    const char         *reason = store_cell_str(rows, r, 5);
    int                 revoked;
    time_t              now = time(NULL);
    time_t              next;
    uint8_t            *copy;
    enum cw_err         err;

    if (pc->ca_id != ca_id) {
        arena_reset(&pc->a);
        pc->ca_id = ca_id;
        pc->usable = signer_load(db, &pc->a, ca_id, &pc->s) == CW_OK;
    }
    if (!pc->usable)
        return CW_E_CONFLICT;
    memset(&id, 0, sizeof(id));
    id.hash_nid = hash_nid;
    revoked = strcmp(store_cell_str(rows, r, 3), "revoked") == 0;
    next = now + (time_t)pc->s.hours * 3600;
    buf_reset(der);
    err = pki_serial_from_hex(store_cell_str(rows, r, 2), id.serial,
                              &id.serial_len);
    if (err == CW_OK)
        err = pki_ocsp_issuer_hashes(pc->s.ca_cert, hash_nid, id.name_hash,
                                     id.key_hash, &id.hash_len);
    if (err == CW_OK)
        err = pki_ocsp_certid(pc->s.ca_cert, id.serial, id.serial_len,
                              hash_nid, &cid);
    if (err == CW_OK)
        err = pki_ocsp_basic_new(&bs);
    if (err == CW_OK)
        err = pki_ocsp_add(bs, cid,
                           revoked ? V_OCSP_CERTSTATUS_REVOKED
                                   : V_OCSP_CERTSTATUS_GOOD,
                           revoked ? ca_parse_sql_time(
                                         store_cell_str(rows, r, 4))
                                   : 0,
                           revoked && reason[0] ? ca_reason_code(reason) : -1,
                           now, next);
    if (err == CW_OK)
        err = sign_and_wrap(cfg, &pc->s, bs, der);
    if (err != CW_OK)
        goto out;
    copy = arena_alloc(a, der->len);
    memcpy(copy, der->p, der->len);
    it->key_len = certid_key(&id, it->key);
    it->hash_alg = hash_nid == NID_sha256 ? "sha256" : "sha1";
    it->status = revoked ? "revoked" : "good";
    it->this_update = ca_sql_time(a, now);
    it->next_update = ca_sql_time(a, next);
    it->der = copy;
    it->der_len = der->len;
    it->cert_id = store_cell_u64(rows, r, 0);
    snprintf(it->version, sizeof(it->version), "%s",
             store_cell_str(rows, r, 6));
out:
    OCSP_BASICRESP_free(bs);
    OCSP_CERTID_free(cid);
    return err;
}

/* The batch's answers, as few statements as the batch sizes allow. A
 * row whose certificate changed since it was read is not written. */
static enum cw_err
presign_store_body(struct store *db, void *arg)
{
    struct presign_batch *b = arg;
    size_t                i = 0;
    enum cw_err           err;

    while (i < b->n) {
        size_t k = sizeof(presign_rows) / sizeof(presign_rows[0]) - 1;
        size_t np = 0;

        while (presign_rows[k] > b->n - i)
            k--;
        for (size_t j = 0; j < presign_rows[k]; j++, i++) {
            const struct presign_item *it = &b->items[i];

            b->p[np++] = SP_BLOB(it->key, it->key_len);
            b->p[np++] = SP_STR(it->hash_alg);
            b->p[np++] = SP_STR(it->status);
            b->p[np++] = SP_STR(it->this_update);
            b->p[np++] = SP_STR(it->next_update);
            b->p[np++] = SP_BLOB(it->der, it->der_len);
            b->p[np++] = SP_U64(it->cert_id);
            b->p[np++] = SP_STR(it->version);
        }
        err = store_exec(db, sql_presign_store[k], b->p, np, NULL, NULL);
        if (err != CW_OK)
            return err;
    }
    return CW_OK;
}

/* For the tests of the version check: with CERTWARD_TEST_PRESIGN_PAUSE
 * set to P, after the first batch is signed and before it is written,
 * write the batch's certificate ids to the FIFO P.signed and wait for a
 * line from P.go. */
static void
presign_test_pause(const struct presign_batch *b)
{
    const char *path = getenv("CERTWARD_TEST_PRESIGN_PAUSE");
    char        name[512];
    FILE       *f;

    if (path == NULL || path[0] == '\0')
        return;
    snprintf(name, sizeof(name), "%s.signed", path);
    f = fopen(name, "w");
    if (f != NULL) {
        for (size_t i = 0; i < b->n; i++)
            fprintf(f, "%llu\n", (unsigned long long)b->items[i].cert_id);
        fclose(f);
    }
    snprintf(name, sizeof(name), "%s.go", path);
    f = fopen(name, "r");
    if (f != NULL) {
        (void)fgetc(f);
        fclose(f);
    }
}

enum cw_err
ca_ocsp_presign_due(struct store *db, const struct cw_config *cfg,
                    char *detail, size_t detail_len)
{
    struct presign_ctx    pc;
    struct presign_batch *b = NULL;
    struct arena          a;
    struct store_rows     rows;
    struct store_param    p[1];
    struct buf            der;
    unsigned long         done = 0;
    unsigned long         skipped = 0;
    int                   paused = 0;
    enum cw_err           err = CW_OK;

    memset(&pc, 0, sizeof(pc));
    arena_init(&pc.a);
    arena_init(&a);
    buf_init(&der, LIM_OCSP_RESP);
    b = cw_xcalloc(1, sizeof(*b));
    b->items = cw_xcalloc(PRESIGN_BATCH, sizeof(*b->items));
    for (int pass = 0; pass < 2 && err == CW_OK; pass++) {
        int      hash_nid = pass == 0 ? NID_sha1 : NID_sha256;
        uint64_t last = 0;

        for (;;) {
            size_t nrows;

            p[0] = SP_U64(last);
            err = store_query(db, &a, pass == 0 ? sql_presign_due
                                                : sql_presign_due256,
                              p, 1, &rows);
            if (err != CW_OK)
                break;
            nrows = rows.nrows;
            b->n = 0;
            for (size_t r = 0; r < nrows && r < PRESIGN_BATCH; r++) {
                last = store_cell_u64(&rows, r, 0);
                if (presign_sign(db, cfg, &pc, &a, &rows, r, hash_nid, &der,
                                 &b->items[b->n]) == CW_OK)
                    b->n++;
                else
                    skipped++;
            }
            if (b->n > 0 && !paused) {
                presign_test_pause(b);
                paused = 1;
            }
            if (b->n > 0) {
                err = store_tx(db, presign_store_body, b);
                if (err != CW_OK) {
                    skipped += b->n;
                    break;
                }
                done += b->n;
            }
            arena_reset(&a);
            if (nrows < PRESIGN_BATCH || done + skipped >= PRESIGN_MAX_PER_RUN)
                break;
        }
    }
    snprintf(detail, detail_len, "%lu responses signed, %lu skipped", done,
             skipped);
    free(b->items);
    free(b);
    buf_cleanup(&der);
    arena_reset(&pc.a);
    arena_reset(&a);
    return err;
}

/* ---- cron: ocsp-responder-renew ------------------------------------------ */

/* Short-lived: a responder with id-pkix-ocsp-nocheck cannot be revoked
 * in a way clients check (RFC 6960 4.2.2.2.1); renewed 10 days before
 * its end (sql_responder_due). */
#define RESPONDER_DAYS 30

static const char sql_responder_due[] =
    "SELECT c.id, c.name, c.key_type, "
    "TIMESTAMPDIFF(DAY, UTC_TIMESTAMP(), c.not_after) FROM cas c "
    "LEFT JOIN certificates r ON r.id = c.ocsp_responder_id "
    "WHERE c.status = 'active' AND c.key_state = 'online' "
    "AND c.key_wrapped IS NOT NULL AND c.cert_der IS NOT NULL "
    "AND c.ocsp_signer = 'delegated' AND (r.id IS NULL "
    "OR r.status <> 'valid' OR r.key_wrapped IS NULL "
    "OR r.not_after < UTC_TIMESTAMP() + INTERVAL 10 DAY) "
    "ORDER BY c.id LIMIT 1000";
static const char sql_responder_set[] =
    "UPDATE cas SET ocsp_responder_id = ? WHERE id = ?";

struct responder_tx {
    uint64_t ca_id;
    uint64_t cert_id;
};

static enum cw_err
responder_body(struct store *db, void *arg)
{
    struct responder_tx     *rt = arg;
    struct store_param       p[2] = { SP_U64(rt->cert_id), SP_U64(rt->ca_id) };
    struct store_audit_event ev = { .username = "system",
                                    .outcome = "success", .client_addr = "",
                                    .request_id = "", .detail = "" };
    char                     detail[64];
    enum cw_err              err;

    err = store_exec(db, sql_responder_set, p, 2, NULL, NULL);
    if (err != CW_OK)
        return err;
    snprintf(detail, sizeof(detail), "{\"certificate\":%llu}",
             (unsigned long long)rt->cert_id);
    return ca_audit(db, &ev, "ca.ocsp_responder", "ca", rt->ca_id, detail);
}

/* The responder's key: the CA's algorithm family, at its cheapest
 * common size (relying parties that verify the CA verify this too). */
static json_t *
responder_keyspec(const char *ca_key_type)
{
    if (strncmp(ca_key_type, "rsa", 3) == 0)
        return json_pack("{s:s, s:i}", "type", "rsa", "bits", 2048);
    if (strcmp(ca_key_type, "ed25519") == 0)
        return json_pack("{s:s}", "type", "ed25519");
    return json_pack("{s:s, s:s}", "type", "ec", "curve", "P-256");
}

enum cw_err
ca_ocsp_responders_renew(struct store *db, const struct cw_config *cfg,
                         char *detail, size_t detail_len)
{
    struct arena             a;
    struct store_rows        rows;
    struct store_audit_event ev = { .username = "system",
                                    .outcome = "success", .client_addr = "",
                                    .request_id = "", .detail = "" };
    unsigned                 made = 0;
    unsigned                 skipped = 0;
    unsigned                 failed = 0;
    enum cw_err              err;

    arena_init(&a);
    err = store_query(db, &a, sql_responder_due, NULL, 0, &rows);
    for (size_t r = 0; err == CW_OK && r < rows.nrows; r++) {
        struct ca_issue_req in;
        struct ca_why       why;
        struct responder_tx rt;
        json_t             *subject;
        json_t             *keyspec;
        const char         *cn;
        int64_t             left;
        enum cw_err         e;

        memset(&in, 0, sizeof(in));
        memset(&why, 0, sizeof(why));
        rt.ca_id = store_cell_u64(&rows, r, 0);
        rt.cert_id = 0;
        cn = arena_printf(&a, "%.40s OCSP Responder",
                          store_cell_str(&rows, r, 1));
        subject = json_pack("{s:s}", "CN", cn);
        keyspec = responder_keyspec(store_cell_str(&rows, r, 2));
        in.ca_id = rt.ca_id;
        in.template_name = "ocsp-signing";
        in.subject = subject;
        in.key = keyspec;
        /* Never beyond the CA's own end (RFC 5280 6.1.3 would reject it,
         * and the issuance refuses it). */
        left = store_cell_i64(&rows, r, 3);
        in.validity_days = left < RESPONDER_DAYS ? (unsigned)(left > 0 ? left
                                                                      : 0)
                                                 : RESPONDER_DAYS;
        e = in.validity_days > 0 ? ca_issue(db, cfg, &in, &ev, &rt.cert_id,
                                            &why)
                                 : CW_E_CONFLICT;
        if (e == CW_OK)
            e = store_tx(db, responder_body, &rt);
        json_decref(subject);
        json_decref(keyspec);
        if (e == CW_OK) {
            made++;
        } else if (e == CW_E_CONFLICT || e == CW_E_POLICY) {
            /* A CA about to expire, or under a revoked one: the CA key
             * answers while it can; nothing an operator must fix here. */
            skipped++;
        } else {
            failed++;
            log_warn("ocsp-responder-renew: CA %llu: %s",
                     (unsigned long long)rt.ca_id,
                     why.msg[0] ? why.msg : cw_err_info(e)->code);
        }
    }
    snprintf(detail, detail_len,
             "%u responders issued, %u CAs skipped, %u failed", made,
             skipped, failed);
    arena_reset(&a);
    if (err == CW_OK && failed > 0)
        err = CW_E_INTERNAL;
    return err;
}

/*
 * cert.c: issuing, reading, exporting and revoking certificates. Requests
 * come from REST now and from the enrolment protocols later; CSRs and
 * subject/SAN JSON are client input, checked by pki/ and against the
 * template here.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ca/ca-int.h"
#include "cw_limits.h"
#include "pki/build.h"
#include "pki/cert.h"
#include "pki/csr.h"
#include "pki/key.h"
#include "pki/name.h"
#include "pki/p12.h"
#include "pki/san.h"
#include "signer/signer.h"
#include "util/jsonx.h"
#include "util/log.h"
#include "util/mem.h"

static const char sql_reserve[] =
    "INSERT INTO certificates (ca_id, serial, status, template, key_type, "
    "created_by, renewed_from, created_at) "
    "VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)";
static const char sql_done[] =
    "UPDATE certificates SET status = 'valid', subject_dn = ?, "
    "common_name = ?, sans = ?, not_before = ?, not_after = ?, "
    "fp_sha256 = ?, der = ?, key_wrapped = ?, updated_at = NOW(6) "
    "WHERE id = ? AND status = 'pending'";
/* Name rows in batches: one constant statement per batch size. */
#define NAMES_SQL "INSERT INTO certificate_names (cert_id, name, name_rev) " \
                  "VALUES (?, ?, ?)"
#define NAMES_MORE ", (?, ?, ?)"
static const char *const sql_names_add[] = {
    NAMES_SQL,
    NAMES_SQL NAMES_MORE,
    NAMES_SQL NAMES_MORE NAMES_MORE,
    NAMES_SQL NAMES_MORE NAMES_MORE NAMES_MORE,
    NAMES_SQL NAMES_MORE NAMES_MORE NAMES_MORE NAMES_MORE NAMES_MORE
              NAMES_MORE NAMES_MORE,
};
static const size_t names_batch[] = { 1, 2, 3, 4, 8 };
static const char sql_drop[] =
    "DELETE FROM certificates WHERE id = ? AND status = 'pending'";
#define CERT_COLS                                                          \
    "c.id, c.ca_id, c.serial, c.status, c.template, c.is_ca, c.sans, "     \
    "c.key_type, DATE_FORMAT(c.not_before, '%Y-%m-%dT%H:%i:%sZ'), "        \
    "DATE_FORMAT(c.not_after, '%Y-%m-%dT%H:%i:%sZ'), c.fp_sha256, c.der, " \
    "c.key_wrapped IS NOT NULL, "                                          \
    "DATE_FORMAT(c.revoked_at, '%Y-%m-%dT%H:%i:%sZ'), "                    \
    "c.revocation_reason, "                                                \
    "DATE_FORMAT(c.invalidity_date, '%Y-%m-%dT%H:%i:%sZ'), "               \
    "DATE_FORMAT(c.created_at, '%Y-%m-%dT%H:%i:%sZ'), "                    \
    "c.not_after <= UTC_TIMESTAMP(), c.subject_dn, c.common_name, "        \
    "c.renewed_from "
static const char sql_get[] =
    "SELECT " CERT_COLS "FROM certificates c WHERE c.id = ? "
    "AND c.status <> 'pending'";
static const char sql_key[] =
    "SELECT c.ca_id, c.der, c.key_wrapped FROM certificates c "
    "WHERE c.id = ? AND c.status <> 'pending'";
static const char sql_revoke[] =
    "UPDATE certificates SET status = 'revoked', revoked_at = NOW(6), "
    "revocation_reason = ?, invalidity_date = NULLIF(?, ''), "
    "updated_at = NOW(6) WHERE id = ? AND status = 'valid'";
static const char sql_status[] =
    "SELECT status FROM certificates WHERE id = ? AND status <> 'pending'";

/* The list. Its SQL is assembled from the constant fragments below, one
 * text per combination of the filters present (status, CA, template,
 * expiry window, key type, q), where the page starts (first rows, cursor
 * or offset) and sort order; values are always bound, never part of the
 * text. Each text is built once per process and
 * kept (list_sql()), so its pointer keys the statement cache like a
 * static const statement. Only the filters present are in the text:
 * "(? = '' OR ...)" catch-alls stay in the row condition and keep counts
 * from being index-only. */
#define LIST_FROM_ALL "FROM certificates c WHERE "
/* The probe and the count read one index only, named here: left to
 * itself MariaDB picked certificates_status_id (status, id) for counts
 * with a CA or an expiry bound, which lacks those columns, and read the
 * full row of every entry (30,000 buffer pool pages for a count of 10,000
 * on a million rows, 63 with the hint). The page is not hinted: it wants
 * the sort order, which these indexes do not give. */
#define LIST_FROM_CA_COUNT                                                  \
    "FROM certificates c FORCE INDEX (certificates_crl) WHERE "
#define LIST_FROM_TEMPLATE_COUNT                                            \
    "FROM certificates c FORCE INDEX (certificates_template_status) WHERE "
#define LIST_FROM_KEY_COUNT                                                 \
    "FROM certificates c FORCE INDEX (certificates_key_type) WHERE "
#define LIST_FROM_STATUS_COUNT                                              \
    "FROM certificates c FORCE INDEX (certificates_status) WHERE "
/* With ?q=: the matching ids first, each branch an index range scan
 * (names forwards and reversed, serial, fingerprint), then the rows. An
 * OR over the four would leave no usable index and scan the table. */
#define LIST_Q_UNION                                                        \
    "(SELECT n.cert_id AS id FROM certificate_names n "                     \
    " WHERE n.name LIKE CONCAT(?, '%') "                                    \
    " UNION SELECT n.cert_id FROM certificate_names n "                     \
    " WHERE n.name_rev LIKE CONCAT(?, '%') "                                \
    " UNION SELECT s.id FROM certificates s "                               \
    " WHERE s.serial LIKE CONCAT(?, '%') "                                  \
    " UNION SELECT f.id FROM certificates f "                               \
    " WHERE f.fp_sha256 LIKE CONCAT(?, '%')) m "
#define LIST_FROM_Q                                                         \
    "FROM " LIST_Q_UNION "JOIN certificates c ON c.id = m.id WHERE "
/* The count of ?q= alone reads no row of certificates: names are written
 * only for issued certificates (with the signed row, never for a pending
 * one) and a pending row has no fingerprint, so only the serial branch
 * can find pending rows, and those are subtracted (a few at most: the
 * issuances in flight). The whole UNION is materialized either way; a
 * join to the rows cost a primary key lookup per match, and a status
 * test in the serial and fingerprint branches one per serial match
 * (62,000 for one hex digit). */
#define LIST_Q_COUNT_IDS                                                    \
    "SELECT (SELECT COUNT(*) FROM " LIST_Q_UNION ") "                       \
    "- (SELECT COUNT(*) FROM certificates p WHERE p.status = 'pending' "    \
    "   AND (p.serial LIKE CONCAT(?, '%') "                                 \
    "        OR p.fp_sha256 LIKE CONCAT(?, '%')))"
/* The page's inner query with a CA and no status: with only ids to read,
 * MariaDB took certificates_crl (ca_id, status, id, ...) for deep pages,
 * which cannot give id order across two statuses, and sorted every entry
 * of the CA (0.8 s for page=100 of a CA of a million rows, against a walk
 * of PRIMARY of 5,000 rows). */
#define LIST_FROM_CA_ANY_PAGE                                               \
    "FROM certificates c IGNORE INDEX (certificates_crl) WHERE "

enum list_status {
    LIST_ST_ANY, LIST_ST_VALID, LIST_ST_EXPIRED, LIST_ST_EXPIRING,
    LIST_ST_REVOKED, LIST_ST__MAX
};
static const struct {
    const char *name;
    const char *sql;
} list_status[LIST_ST__MAX] = {
    /* The statuses a listed row can have (pending is a reserved serial):
     * an IN list, not "<> 'pending'", so that an expiry filter is a range
     * on certificates_status (status, not_after). */
    [LIST_ST_ANY] = { "", "c.status IN ('valid', 'revoked') " },
    [LIST_ST_VALID] = { "valid", "c.status = 'valid' "
                                 "AND c.not_after > UTC_TIMESTAMP() " },
    [LIST_ST_EXPIRED] = { "expired", "c.status = 'valid' "
                                     "AND c.not_after <= UTC_TIMESTAMP() " },
    [LIST_ST_EXPIRING] = { "expiring",
                           "c.status = 'valid' "
                           "AND c.not_after > UTC_TIMESTAMP() "
                           "AND c.not_after <= UTC_TIMESTAMP() "
                           "+ INTERVAL 30 DAY " },
    [LIST_ST_REVOKED] = { "revoked", "c.status = 'revoked' " },
};

/* Optional filters, one bound value each, in this order. */
enum list_filter {
    LIST_F_CA, LIST_F_TEMPLATE, LIST_F_BEFORE, LIST_F_AFTER, LIST_F_KEY,
    LIST_F__MAX
};
static const char *const list_filter_sql[LIST_F__MAX] = {
    [LIST_F_CA] = "AND c.ca_id = ? ",
    [LIST_F_TEMPLATE] = "AND c.template = ? ",
    [LIST_F_BEFORE] = "AND c.not_after < ? ",
    [LIST_F_AFTER] = "AND c.not_after >= ? ",
    /* a pattern from a fixed set: "rsa%", "ec-%" or an exact name */
    [LIST_F_KEY] = "AND c.key_type LIKE ? ",
};

/* Sort orders. The keyset cursor (?after=ID) continues after the row ID
 * in the same order: id only, or (key, id) with the key read first. */
static const struct {
    const char *name;
    const char *order;
    const char *after;     /* "AND ..." with 1 (id) or 3 (key, key, id) ? */
    int         keyed;     /* 0: id; 1: not_after; 2: common_name */
} list_sorts[] = {
    { "-created_at", "c.id DESC", "AND c.id < ? ", 0 },
    { "created_at", "c.id", "AND c.id > ? ", 0 },
    { "not_after", "c.not_after, c.id",
      "AND (c.not_after > ? OR (c.not_after = ? AND c.id > ?)) ", 1 },
    { "-not_after", "c.not_after DESC, c.id DESC",
      "AND (c.not_after < ? OR (c.not_after = ? AND c.id < ?)) ", 1 },
    { "common_name", "c.common_name, c.id",
      "AND (c.common_name > ? OR (c.common_name = ? AND c.id > ?)) ", 2 },
    { "-common_name", "c.common_name DESC, c.id DESC",
      "AND (c.common_name < ? OR (c.common_name = ? AND c.id < ?)) ", 2 },
};
#define LIST_NSORTS (sizeof(list_sorts) / sizeof(list_sorts[0]))

/* The key of the cursor's row, for the keyed sorts. */
static const char sql_list_after[] =
    "SELECT DATE_FORMAT(not_after, '%Y-%m-%d %H:%i:%s'), common_name "
    "FROM certificates WHERE id = ? AND status <> 'pending'";

/* The statements besides the pages, in list_sql()'s sort_i: the probe
 * ("is there a row past the cap?", one index walk that stops there) and
 * the exact count, run only when the probe found nothing. */
#define LIST_PROBE (LIST_NSORTS)
#define LIST_COUNT (LIST_NSORTS + 1)

/* Where a page starts: the first rows, after a cursor, or past an OFFSET
 * (page= beyond 1). */
enum list_at { LIST_AT_FIRST, LIST_AT_CURSOR, LIST_AT_OFFSET, LIST_AT__MAX };

/* One slot per (status, filter bits, q, start, sort, probe or count). */
#define LIST_SLOTS                                                         \
    (LIST_ST__MAX * (1u << LIST_F__MAX) * 2 * LIST_AT__MAX *              \
     (LIST_NSORTS + 2))
static const char     *list_sql_tab[LIST_SLOTS];
static pthread_mutex_t list_sql_lock = PTHREAD_MUTEX_INITIALIZER;

static void
list_cat(char *dst, size_t *n, size_t max, const char *s)
{
    size_t len = strlen(s);

    CW_ASSERT(*n + len < max);
    memcpy(dst + *n, s, len + 1);
    *n += len;
}

/* The text of the statement for a combination, into text[max]. */
static void
list_text(char *text, size_t max, enum list_status st, unsigned fbits,
          int q, enum list_at at, size_t sort_i)
{
    size_t      n = 0;
    const char *from;
    int         defer;

    text[0] = '\0';
    if (sort_i == LIST_COUNT && q && st == LIST_ST_ANY && fbits == 0) {
        list_cat(text, &n, max, LIST_Q_COUNT_IDS);
        return;
    }
    /* A page that reads many more rows than it returns is a deferred
     * join: the inner query finds the page's ids in order, reading only
     * the columns of its filters and sort (from an index that holds them
     * where one does), and only those <= per page rows are read in full,
     * by primary key. Sorting or skipping full rows read every column of
     * each candidate: a one-day expiry window sorted 1,300 full rows for
     * 50 (7.7 ms of MariaDB CPU, 2.0 ms deferred), page=100 skipped
     * 4,950 (8.3 ms, 3.7 ms). A page that walks an index in its order and
     * keeps nearly every row it reads (no filter, status valid or
     * revoked, a CA, on its first page or after a cursor) stays one
     * query: the deferred join would only add its rows' second lookup
     * (0.2-0.6 ms more). */
    defer = sort_i < LIST_PROBE &&
            (q || at == LIST_AT_OFFSET || st == LIST_ST_EXPIRING ||
             st == LIST_ST_EXPIRED ||
             (fbits & ~(1u << LIST_F_CA)) != 0);
    if (sort_i == LIST_PROBE)
        list_cat(text, &n, max, "SELECT 1 ");
    else if (sort_i == LIST_COUNT && q)
        list_cat(text, &n, max, "SELECT COUNT(*) FROM (SELECT 1 ");
    else if (sort_i == LIST_COUNT)
        list_cat(text, &n, max, "SELECT COUNT(*) ");
    else if (defer)
        list_cat(text, &n, max, "SELECT " CERT_COLS "FROM (SELECT c.id ");
    else
        list_cat(text, &n, max, "SELECT " CERT_COLS);
    from = q ? LIST_FROM_Q : LIST_FROM_ALL;
    if (defer && !q && st == LIST_ST_ANY && (fbits & (1u << LIST_F_CA)))
        from = LIST_FROM_CA_ANY_PAGE;
    if (sort_i >= LIST_PROBE && !q) {
        if (fbits & (1u << LIST_F_CA))
            from = LIST_FROM_CA_COUNT;
        else if (fbits & (1u << LIST_F_TEMPLATE))
            from = LIST_FROM_TEMPLATE_COUNT;
        else if (fbits & (1u << LIST_F_KEY))
            from = LIST_FROM_KEY_COUNT;
        else
            from = LIST_FROM_STATUS_COUNT;
    }
    list_cat(text, &n, max, from);
    list_cat(text, &n, max, list_status[st].sql);
    for (int f = 0; f < LIST_F__MAX; f++)
        if (fbits & (1u << f))
            list_cat(text, &n, max, list_filter_sql[f]);
    if (sort_i == LIST_PROBE) {
        list_cat(text, &n, max, "LIMIT ?, 1");
    } else if (sort_i == LIST_COUNT && q) {
        list_cat(text, &n, max, "LIMIT ?) t");
    } else if (sort_i != LIST_COUNT) {
        if (at == LIST_AT_CURSOR)
            list_cat(text, &n, max, list_sorts[sort_i].after);
        list_cat(text, &n, max, "ORDER BY ");
        list_cat(text, &n, max, list_sorts[sort_i].order);
        list_cat(text, &n, max, " LIMIT ? OFFSET ?");
        if (defer) {
            list_cat(text, &n, max, ") k JOIN certificates c "
                                    "ON c.id = k.id ORDER BY ");
            list_cat(text, &n, max, list_sorts[sort_i].order);
        }
    }
}

/* The statement for a combination; sort_i is a sort order, LIST_PROBE or
 * LIST_COUNT. Built from the constant fragments on first use, then shared
 * by every thread of the process for its lifetime (never freed). */
static const char *
list_sql(enum list_status st, unsigned fbits, int q, enum list_at at,
         size_t sort_i)
{
    char        text[4096];
    size_t      slot;
    const char *sql;

    slot = (((st * (1u << LIST_F__MAX) + fbits) * 2 + (unsigned)q) *
                LIST_AT__MAX + at) * (LIST_NSORTS + 2) + sort_i;
    CW_ASSERT(slot < LIST_SLOTS);
    pthread_mutex_lock(&list_sql_lock);
    sql = list_sql_tab[slot];
    pthread_mutex_unlock(&list_sql_lock);
    if (sql != NULL)
        return sql;
    list_text(text, sizeof(text), st, fbits, q, at, sort_i);
    pthread_mutex_lock(&list_sql_lock);
    if (list_sql_tab[slot] == NULL)
        list_sql_tab[slot] = cw_xstrdup(text);
    sql = list_sql_tab[slot];
    pthread_mutex_unlock(&list_sql_lock);
    return sql;
}

static const char *const reasons[] = {
    "unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
    "superseded", "cessationOfOperation", "certificateHold", NULL,
    "removeFromCRL", "privilegeWithdrawn", "aACompromise",
};

int
ca_reason_code(const char *name)
{
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i] != NULL && strcmp(reasons[i], name) == 0 && i != 8)
            return (int)i;   /* removeFromCRL is for delta CRLs only */
    return -1;
}

static void
x509_free_fn(void *p)
{
    X509_free(p);
}

/* "csr" may be PEM, or base64 of DER (with or without line breaks). */
enum cw_err
ca_csr_load(const uint8_t *p, size_t len, X509_REQ **out, EVP_PKEY **pub,
            struct ca_why *why)
{
    enum cw_err    err;
    unsigned char *der = NULL;
    size_t         n = 0;

    if (len > 11 && memcmp(p, "-----BEGIN ", 11) == 0) {
        err = pub != NULL ? pki_csr_parse_key(p, len, out, pub)
                          : pki_csr_parse(p, len, out);
    } else {
        int dl;
        int pad = 0;

        der = malloc(len + 1);
        if (der == NULL)
            abort();
        for (size_t i = 0; i < len; i++)
            if (!isspace(p[i]))
                der[n++] = p[i];
        if (n == 0 || n % 4 != 0) {
            free(der);
            ca_why_set(why, "csr", "csr must be PEM or base64 DER");
            return CW_E_BADCSR;
        }
        pad = (der[n - 1] == '=') + (n > 1 && der[n - 2] == '=');
        dl = EVP_DecodeBlock(der, der, (int)n);
        if (dl < 0 || dl - pad <= 0) {
            free(der);
            ca_why_set(why, "csr", "csr must be PEM or base64 DER");
            return CW_E_BADCSR;
        }
        err = pub != NULL
                  ? pki_csr_parse_der_key(der, (size_t)(dl - pad), out, pub)
                  : pki_csr_parse_der(der, (size_t)(dl - pad), out);
        free(der);
    }
    if (err != CW_OK)
        ca_why_set(why, "csr",
                   "the CSR is malformed, has trailing data, a bad signature "
                   "or a refused key");
    return err == CW_OK ? CW_OK : (err == CW_E_TOOLARGE ? err : CW_E_BADCSR);
}

static enum cw_err
sans_allowed(const GENERAL_NAMES *gens, const struct ca_template *t,
             json_t **json, struct ca_why *why)
{
    json_t     *arr = NULL;
    enum cw_err err;

    *json = NULL;
    if (gens == NULL) {
        *json = json_array();
        return CW_OK;
    }
    err = pki_san_to_json(gens, &arr);
    if (err != CW_OK) {
        ca_why_set(why, "sans", "a subject alternative name is malformed");
        return CW_E_BADREQ;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char       *type = json_string_value(
            json_object_get(json_array_get(arr, i), "type"));
        enum pki_san_type st;

        if (type == NULL || pki_san_type_parse(type, &st) != CW_OK ||
            !(t->san_types & (1u << st))) {
            ca_why_set(why, "sans",
                       "the %s template does not allow %s names", t->name,
                       type ? type : "such");
            json_decref(arr);
            return CW_E_BADREQ;
        }
    }
    *json = arr;
    return CW_OK;
}

struct issue_tx {
    const struct ca_issue_req      *in;
    const struct store_audit_event *ev;
    const char                     *template_name;
    const char                     *key_type;
    char                            serial_hex[PKI_SERIAL_HEX_SIZE];
    char                            created[32];  /* SQL, microseconds */
    uint64_t                        id;
    /* second transaction */
    const char                     *subject_dn;
    const char                     *cn;
    const char                     *sans;
    const char                    **names;
    size_t                          nnames;
    const char                     *nb;
    const char                     *na;
    const char                     *fp;
    struct buf                     *der;
    struct buf                     *wrapped;
};

/* The reserve is one INSERT, committed on its own (autocommit): a
 * transaction around it would add two statements and no safety. */
static enum cw_err
issue_reserve(struct store *db, struct issue_tx *t)
{
    struct store_param p[7];
    struct timeval     tv;
    struct tm          tm;
    char               base[24];

    /* created_at from here, so that the answer needs no read back. */
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(t->created, sizeof(t->created), "%s.%06ld", base,
             (long)tv.tv_usec);
    p[0] = SP_U64(t->in->ca_id);
    p[1] = SP_STR(t->serial_hex);
    p[2] = SP_STR(t->template_name);
    p[3] = SP_STR(t->key_type);
    p[4] = SP_STR(t->ev->username ? t->ev->username : "");
    p[5] = t->in->renewed_from ? SP_U64(t->in->renewed_from) : SP_NULLV;
    p[6] = SP_STR(t->created);
    for (int attempt = 0;; attempt++) {
        enum cw_err err = store_exec(db, sql_reserve, p, 7, NULL, &t->id);

        /* A lock wait or deadlock rolled the statement back: again. */
        if (err != CW_E_DB_RETRY || attempt == 2)
            return err;
    }
}

/* The name rows of t->id, as few statements as the batch sizes allow. */
static enum cw_err
issue_names_add(struct store *db, const struct issue_tx *t)
{
    struct store_param p[3 * 8];
    char               rev[8][256];
    size_t             i = 0;
    enum cw_err        err;

    while (i < t->nnames) {
        size_t k = sizeof(names_batch) / sizeof(names_batch[0]) - 1;

        while (names_batch[k] > t->nnames - i)
            k--;
        for (size_t j = 0; j < names_batch[k]; j++, i++) {
            const char *name = t->names[i];
            size_t      len = strlen(name);   /* <= 255 (name_lower) */

            /* Bytes reversed (a binary column): the suffix index. */
            for (size_t c = 0; c < len; c++)
                rev[j][c] = name[len - 1 - c];
            p[3 * j] = SP_U64(t->id);
            p[3 * j + 1] = SP_STR(name);
            p[3 * j + 2] = SP_BLOB(rev[j], len);
        }
        err = store_exec(db, sql_names_add[k], p, 3 * names_batch[k], NULL,
                         NULL);
        if (err != CW_OK)
            return err;
    }
    return CW_OK;
}

static enum cw_err
done_body(struct store *db, void *arg)
{
    struct issue_tx         *t = arg;
    struct store_param       p[10];
    char                     detail[256];
    uint64_t                 n = 0;
    enum cw_err              err;

    p[0] = SP_STR(t->subject_dn);
    p[1] = SP_STR(t->cn);
    p[2] = SP_STR(t->sans);
    p[3] = SP_STR(t->nb);
    p[4] = SP_STR(t->na);
    p[5] = SP_STR(t->fp);
    p[6] = SP_BLOB(t->der->p, t->der->len);
    p[7] = t->wrapped->len ? SP_BLOB(t->wrapped->p, t->wrapped->len)
                           : SP_NULLV;
    p[8] = SP_U64(t->id);
    err = store_exec(db, sql_done, p, 9, &n, NULL);
    if (err != CW_OK)
        return err;
    if (n != 1)
        return CW_E_CONFLICT;
    err = issue_names_add(db, t);
    if (err != CW_OK)
        return err;
    snprintf(detail, sizeof(detail),
             "{\"ca_id\":%llu,\"serial\":\"%s\",\"template\":\"%s\","
             "\"server_key\":%s}",
             (unsigned long long)t->in->ca_id, t->serial_hex,
             t->template_name, t->wrapped->len ? "true" : "false");
    return ca_audit(db, t->ev,
                    t->in->renewed_from ? "certificate.renew"
                                        : "certificate.issue",
                    "certificate", t->id, detail);
}

/* RFC 3339 UTC, seconds (as the list's DATE_FORMAT). */
static json_t *
time_json(time_t t)
{
    struct tm tm;
    char      s[32];

    gmtime_r(&t, &tm);
    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(s);
}

/* The document of a certificate just issued, as row_json() renders the
 * stored row: the same members in the same order, from the values that
 * were stored. */
static enum cw_err
issued_json(const struct issue_tx *t, X509 *cert, json_t *sans,
            const struct pki_cert_info *info, json_t **out)
{
    json_t    *subject = NULL;
    json_t    *doc;
    struct buf pem;
    char       created[32];
    enum cw_err err;

    err = pki_name_to_json(X509_get_subject_name(cert), &subject);
    if (err != CW_OK)
        return err;
    /* "YYYY-MM-DD HH:MM:SS.ffffff" -> "YYYY-MM-DDTHH:MM:SSZ" */
    snprintf(created, sizeof(created), "%.10sT%.8sZ", t->created,
             t->created + 11);
    doc = json_pack(
        "{s:I, s:I, s:s, s:s, s:s, s:b, s:o, s:O, s:s, s:o, s:o, s:s, s:b,"
        " s:n, s:n, s:n, s:s, s:s, s:s, s:o}",
        "id", (json_int_t)t->id, "ca_id", (json_int_t)t->in->ca_id,
        "serial", t->serial_hex, "status", "valid", "template",
        t->template_name, "is_ca", 0, "subject", subject, "sans", sans,
        "key_type", t->key_type, "not_before", time_json(info->not_before),
        "not_after", time_json(info->not_after), "fingerprint_sha256",
        t->fp, "has_private_key", t->wrapped->len > 0, "revoked_at",
        "revocation_reason", "invalidity_date", "created_at", created,
        "subject_dn", t->subject_dn, "common_name", t->cn, "renewed_from",
        t->in->renewed_from ? json_integer((json_int_t)t->in->renewed_from)
                            : json_null());
    if (doc == NULL)
        return CW_E_INTERNAL;
    buf_init(&pem, LIM_CERT_DER * 2);
    err = pki_cert_to_pem(cert, &pem);
    if (err == CW_OK)
        json_object_set_new(doc, "pem",
                            json_stringn((const char *)pem.p, pem.len));
    buf_cleanup(&pem);
    if (err != CW_OK) {
        json_decref(doc);
        return err;
    }
    *out = doc;
    return CW_OK;
}

/* Lower case, at most 255 bytes (the index column). */
static const char *
name_lower(struct arena *a, const char *s)
{
    size_t n = strnlen(s, 255);
    char  *o = arena_strndup(a, s, n);

    for (size_t i = 0; i < n; i++)
        o[i] = (char)tolower((unsigned char)o[i]);
    return o;
}

enum cw_err
ca_issue(struct store *db, const struct cw_config *cfg,
         const struct ca_issue_req *in, const struct store_audit_event *ev,
         uint64_t *id, struct ca_why *why)
{
    struct arena              a;
    struct issue_tx           t;
    struct ca_row             ca = { 0 };
    const struct ca_template *tpl;
    struct pki_cert_spec      spec;
    struct pki_cert_info      info;
    struct jsonx_why          jw = { "", "" };
    STACK_OF(X509)           *chain = NULL;
    X509_REQ                 *csr = NULL;
    EVP_PKEY                 *csr_pub = NULL;
    X509_NAME                *subject = NULL;
    GENERAL_NAMES            *sans = NULL;
    EVP_PKEY                 *key = NULL;     /* server-generated         */
    EVP_PKEY                 *pub = NULL;     /* borrowed from the CSR    */
    X509                     *tbs = NULL;
    json_t                   *sans_json = NULL;
    char                     *sans_txt = NULL;
    struct buf                der;
    struct buf                wrapped;
    struct buf                dn;
    const char               *cnp = "";
    struct pki_key_info       ki;
    uint8_t                   serial[PKI_SERIAL_LEN];
    time_t                    now = time(NULL);
    enum pki_key_type         kt;
    enum cw_err               err;
    int                       reserved = 0;

    arena_init(&a);
    memset(&t, 0, sizeof(t));
    buf_init(&der, LIM_CERT_DER);
    buf_init(&wrapped, 16384);
    buf_init(&dn, 65536);
    t.in = in;
    t.ev = ev;

    err = ca_template_load(db, &a, in->template_name, &tpl);
    if (err != CW_OK && err != CW_E_NOTFOUND)
        goto out;
    if (err == CW_E_NOTFOUND)
        tpl = NULL;
    if (tpl == NULL || tpl->is_ca) {
        ca_why_set(why, "template",
                   tpl ? "CAs are created with POST /api/v2/cas"
                       : "no such template");
        err = CW_E_BADREQ;
        goto out;
    }
    t.template_name = tpl->name;
    if (in->validity_days < 1 || in->validity_days > tpl->max_days) {
        ca_why_set(why, "validity_days",
                   "validity_days must be from 1 to %u for the %s template",
                   tpl->max_days, tpl->name);
        err = CW_E_BADREQ;
        goto out;
    }
    if ((in->key == NULL) == (in->csr == NULL)) {
        ca_why_set(why, in->key ? "csr" : "key",
                   "give either key (a server-generated key) or csr");
        err = CW_E_BADREQ;
        goto out;
    }
    /* The CA, its checks and its chain: one statement per level, and the
     * parsed certificates from this thread's cache; none when this
     * thread read the chain under the request's authentication epoch. */
    err = ca_issuer_load(db, cfg, &a, in->ca_id,
                         ev != NULL ? ev->request_id : NULL, &ca, &chain,
                         why);
    if (err == CW_E_NOTFOUND && ca.id == 0) {
        ca_why_set(why, "ca_id", "no such CA");
        goto out;
    }
    if (err != CW_OK)
        goto out;

    /* The subject's key. */
    if (in->csr != NULL) {
        if (in->csr_der) {
            err = pki_csr_parse_der_key(in->csr, in->csr_len, &csr,
                                        &csr_pub);
            if (err != CW_OK)
                ca_why_set(why, "csr", "the stored request does not parse");
        } else {
            err = ca_csr_load(in->csr, in->csr_len, &csr, &csr_pub, why);
        }
        if (err != CW_OK)
            goto out;
        pub = csr_pub;
    } else {
        err = pki_key_type_from_json(in->key, &kt, &jw);
        if (err != CW_OK) {
            ca_why_set(why, "key", "key.%s %s", jw.field, jw.reason);
            goto out;
        }
        err = pki_key_generate(kt, &key);
        if (err != CW_OK)
            goto out;
        pub = key;
    }
    err = pki_key_describe(pub, &ki);
    if (err != CW_OK) {
        ca_why_set(why, in->csr ? "csr" : "key", "unsupported key");
        err = in->csr ? CW_E_BADCSR : CW_E_BADKEY;
        goto out;
    }
    t.key_type = ki.type < PKI_KEY__MAX ? pki_key_type_name(ki.type)
                                        : pki_key_alg_name(ki.alg);
    if (tpl->key_types != 0 &&
        (ki.type >= PKI_KEY__MAX || !(tpl->key_types & (1u << ki.type)))) {
        ca_why_set(why, in->csr ? "csr" : "key",
                   "the %s template does not allow %s keys", tpl->name,
                   t.key_type);
        err = CW_E_BADREQ;
        goto out;
    }

    /* Names: the request's, else the CSR's. */
    if (in->sans != NULL) {
        err = pki_san_from_json(in->sans, &sans, &jw);
        if (err != CW_OK) {
            ca_why_set(why, "sans", "sans%s%s %s", jw.field[0] ? "." : "",
                       jw.field, jw.reason);
            goto out;
        }
    } else if (csr != NULL) {
        err = pki_san_get_csr(csr, &sans);
        if (err != CW_OK) {
            ca_why_set(why, "csr", "the CSR's subjectAltName is malformed");
            err = CW_E_BADCSR;
            goto out;
        }
    }
    err = sans_allowed(sans, tpl, &sans_json, why);
    if (err != CW_OK)
        goto out;
    if (in->subject != NULL) {
        err = pki_name_from_json(in->subject, &subject, &jw);
        if (err != CW_OK) {
            ca_why_set(why, "subject", "subject.%s %s", jw.field, jw.reason);
            goto out;
        }
    } else if (in->subject_name != NULL) {
        subject = X509_NAME_dup(in->subject_name);
        if (subject == NULL) {
            err = CW_E_CRYPTO;
            goto out;
        }
    } else if (csr != NULL) {
        err = pki_csr_subject_take(csr, &subject);
        if (err != CW_OK) {
            ca_why_set(why, "csr", "the CSR has neither a subject nor a "
                                   "usable subjectAltName");
            goto out;
        }
    } else {
        subject = X509_NAME_new();
    }
    if (X509_NAME_entry_count(subject) == 0 &&
        (sans == NULL || sk_GENERAL_NAME_num(sans) == 0)) {
        ca_why_set(why, "subject", "give a subject or at least one SAN");
        err = CW_E_BADREQ;
        goto out;
    }
    for (int i = 0; tpl->subject_fields != NULL &&
                    i < X509_NAME_entry_count(subject);
         i++) {
        int         nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(
            X509_NAME_get_entry(subject, i)));
        const char *sn = nid == NID_pkcs9_emailAddress ? "emailAddress"
                                                      : OBJ_nid2sn(nid);
        int         ok = 0;

        for (size_t k = 0; sn != NULL && k < tpl->n_subject_fields; k++)
            ok |= strcmp(tpl->subject_fields[k], sn) == 0;
        if (!ok) {
            ca_why_set(why, "subject", "the %s template does not allow the "
                                       "subject attribute %s",
                       tpl->name, sn ? sn : "(unknown)");
            err = CW_E_BADREQ;
            goto out;
        }
    }

    /* Reserve the serial: unique per CA by index; a collision (2^-159)
     * is retried with a fresh one. */
    for (int attempt = 0; attempt < 3; attempt++) {
        err = pki_serial_random_hex(serial, t.serial_hex);
        if (err == CW_OK)
            err = issue_reserve(db, &t);
        if (err != CW_E_CONFLICT)
            break;
    }
    if (err != CW_OK)
        goto out;
    reserved = 1;

    pki_build_spec_init(&spec);
    spec.subject = subject;
    spec.sans = sans;
    spec.pubkey = pub;
    spec.spki = csr != NULL ? X509_REQ_get_X509_PUBKEY(csr) : NULL;
    memcpy(spec.serial, serial, PKI_SERIAL_LEN);
    spec.serial_len = PKI_SERIAL_LEN;
    spec.not_before = now - 300;
    spec.not_after = now + (time_t)in->validity_days * 86400;
    spec.key_usage = tpl->key_usage;
    spec.eku = tpl->eku;
    spec.n_eku = tpl->n_eku;
    spec.crl_url = ca.crl_url;
    spec.ocsp_url = ca.ocsp_url;
    spec.ca_issuers_url = ca.ca_issuers_url;
    spec.issuer = ca.cert;
    spec.ocsp_nocheck = tpl->ocsp_nocheck;
    err = pki_build_cert(&spec, &tbs);
    if (err == CW_E_POLICY) {
        ca_why_set(why, "validity_days",
                   "the certificate would outlive its CA");
        err = CW_E_BADREQ;
        goto out;
    }
    if (err != CW_OK) {
        ca_why_set(why, "", "the certificate could not be built from this "
                            "request");
        goto out;
    }
    err = pki_build_nc_check(tbs, chain);
    if (err == CW_E_POLICY) {
        ca_why_set(why, "sans", "a name is outside the CA's name "
                                "constraints");
        goto out;
    }
    if (err != CW_OK)
        goto out;
    err = signer_sign_cert(cfg, "cas", ca.id, ca.key, ca.key_len, tbs);
    if (err != CW_OK) {
        ca_why_set(why, "ca_id", "the CA's key is not usable");
        goto out;
    }
    if (key != NULL) {
        err = signer_key_wrap(cfg, "certificates", t.id, key, &wrapped);
        if (err != CW_OK)
            goto out;
    } else if (in->csr_key != NULL) {
        err = signer_key_rebind(cfg, "csrs", in->csr_id, "certificates",
                                t.id, in->csr_key, in->csr_key_len,
                                &wrapped);
        if (err != CW_OK)
            goto out;
    }
    err = pki_cert_info_get(tbs, &info);
    if (err == CW_OK)
        err = pki_cert_to_der(tbs, &der);
    if (err == CW_OK)
        err = pki_name_to_string(X509_get_subject_name(tbs), &dn);
    if (err == CW_OK)
        err = ca_name_cn(X509_get_subject_name(tbs), &a, &cnp);
    if (err != CW_OK)
        goto out;
    sans_txt = jsonx_dumps(sans_json);
    t.names = arena_alloc(&a, (json_array_size(sans_json) + 1) *
                                  sizeof(*t.names));
    if (cnp[0] != '\0')
        t.names[t.nnames++] = name_lower(&a, cnp);
    for (size_t i = 0; i < json_array_size(sans_json); i++) {
        const char *v = json_string_value(
            json_object_get(json_array_get(sans_json, i), "value"));

        if (v != NULL && v[0] != '\0')
            t.names[t.nnames++] = name_lower(&a, v);
    }
    t.subject_dn = dn.p ? (const char *)dn.p : "";
    t.cn = cnp;
    t.sans = sans_txt;
    t.nb = ca_sql_time(&a, info.not_before);
    t.na = ca_sql_time(&a, info.not_after);
    t.fp = info.sha256;
    t.der = &der;
    t.wrapped = &wrapped;
    err = store_tx(db, done_body, &t);
    if (err == CW_OK) {
        *id = t.id;
        reserved = 0;
        /* Stored: a failure to render is the caller's to handle (it can
         * read the row back). */
        if (in->doc != NULL &&
            issued_json(&t, tbs, sans_json, &info, in->doc) != CW_OK)
            *in->doc = NULL;
    }
out:
    if (reserved) {
        struct store_param p[1];

        p[0] = SP_U64(t.id);
        store_exec(db, sql_drop, p, 1, NULL, NULL);
    }
    free(sans_txt);
    json_decref(sans_json);
    X509_free(tbs);
    EVP_PKEY_free(key);
    X509_REQ_free(csr);
    EVP_PKEY_free(csr_pub);
    X509_NAME_free(subject);
    GENERAL_NAMES_free(sans);
    buf_cleanup(&der);
    buf_cleanup(&wrapped);
    buf_cleanup(&dn);
    arena_reset(&a);
    return err;
}

static json_t *
cell_json(const struct store_rows *rows, size_t r, size_t c)
{
    return store_cell_isnull(rows, r, c)
               ? json_null()
               : json_string(store_cell_str(rows, r, c));
}

static json_t *
row_json(struct arena *a, const struct store_rows *rows, size_t r,
         int with_pem)
{
    json_t     *sans = json_loads(store_cell_str(rows, r, 6), 0, NULL);
    json_t     *subject = NULL;
    X509       *cert = NULL;
    const char *status = store_cell_str(rows, r, 3);
    json_t     *doc;

    if (strcmp(status, "valid") == 0 && store_cell_u64(rows, r, 17) == 1)
        status = "expired";
    if (store_cell_isnull(rows, r, 11)) {
        /* pending: no certificate yet */
    } else if (with_pem) {
        if (pki_cert_parse_der(
                (const uint8_t *)rows->cells[r * rows->ncols + 11].p,
                rows->cells[r * rows->ncols + 11].len, &cert) == CW_OK) {
            arena_defer(a, x509_free_fn, cert);
            pki_name_to_json(X509_get_subject_name(cert), &subject);
        }
    } else {
        /* Lists: the subject alone, not the whole certificate. */
        X509_NAME *name = NULL;

        if (pki_cert_subject_get(
                (const uint8_t *)rows->cells[r * rows->ncols + 11].p,
                rows->cells[r * rows->ncols + 11].len, &name) == CW_OK) {
            pki_name_to_json(name, &subject);
            X509_NAME_free(name);
        }
    }
    doc = json_pack(
        "{s:I, s:I, s:s, s:s, s:s, s:b, s:o, s:o, s:s, s:o, s:o, s:o, s:b,"
        " s:o, s:o, s:o, s:o, s:s, s:s, s:o}",
        "id", (json_int_t)store_cell_u64(rows, r, 0), "ca_id",
        (json_int_t)store_cell_u64(rows, r, 1), "serial",
        store_cell_str(rows, r, 2), "status", status, "template",
        store_cell_str(rows, r, 4), "is_ca", store_cell_u64(rows, r, 5) == 1,
        "subject", subject ? subject : json_object(), "sans",
        sans ? sans : json_array(), "key_type", store_cell_str(rows, r, 7),
        "not_before", cell_json(rows, r, 8), "not_after",
        cell_json(rows, r, 9), "fingerprint_sha256", cell_json(rows, r, 10),
        "has_private_key", store_cell_u64(rows, r, 12) == 1, "revoked_at",
        cell_json(rows, r, 13), "revocation_reason", cell_json(rows, r, 14),
        "invalidity_date", cell_json(rows, r, 15), "created_at",
        cell_json(rows, r, 16), "subject_dn", store_cell_str(rows, r, 18),
        "common_name", store_cell_str(rows, r, 19), "renewed_from",
        store_cell_isnull(rows, r, 20)
            ? json_null()
            : json_integer((json_int_t)store_cell_u64(rows, r, 20)));
    if (with_pem && cert != NULL) {
        struct buf pem;

        buf_init(&pem, LIM_CERT_DER * 2);
        if (pki_cert_to_pem(cert, &pem) == CW_OK)
            json_object_set_new(doc, "pem",
                                json_stringn((const char *)pem.p, pem.len));
        buf_cleanup(&pem);
    }
    return doc;
}

enum cw_err
ca_cert_get_json(struct store *db, struct arena *a, uint64_t id,
                 json_t **out)
{
    struct store_rows  rows;
    struct store_param p[1];
    enum cw_err        err;

    p[0] = SP_U64(id);
    err = store_query(db, a, sql_get, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;
    *out = row_json(a, &rows, 0, 1);
    return CW_OK;
}

enum cw_err
ca_cert_list_json(struct store *db, struct arena *a,
                  const struct ca_cert_filter *f, uint64_t page,
                  uint64_t per_page, json_t **out,
                  struct ca_list_total *total, struct ca_why *why)
{
    struct store_param p[32];
    struct store_param kp[1];
    struct store_rows  rows;
    struct store_rows  key_rows;
    size_t             sort_i = LIST_NSORTS;
    const char        *sort = f->sort && f->sort[0] ? f->sort : "-created_at";
    const char        *status = f->status ? f->status : "";
    const char        *key = f->key_type ? f->key_type : "";
    const char        *vals[LIST_F__MAX];
    enum list_status   st = LIST_ST__MAX;
    char               keypat[32];
    char               q[260];
    char               qrev[260];
    size_t             qn = 0;
    size_t             rn = 0;
    size_t             raw;
    size_t             n = 0;
    size_t             nfilt;
    size_t             nq;
    unsigned           fbits = 0;
    uint64_t           offset;
    json_t            *arr;
    enum cw_err        err;

    for (size_t i = 0; i < LIST_NSORTS; i++)
        if (strcmp(list_sorts[i].name, sort) == 0)
            sort_i = i;
    if (sort_i == LIST_NSORTS) {
        ca_why_set(why, "sort", "sort must be created_at, not_after or "
                                "common_name, optionally with a leading -");
        return CW_E_BADREQ;
    }
    for (int i = 0; i < LIST_ST__MAX; i++)
        if (strcmp(list_status[i].name, status) == 0)
            st = (enum list_status)i;
    if (st == LIST_ST__MAX) {
        ca_why_set(why, "status",
                   "status must be valid, expiring, expired or revoked");
        return CW_E_BADREQ;
    }
    if (f->q != NULL && strlen(f->q) > 128) {
        ca_why_set(why, "q", "q is too long");
        return CW_E_BADREQ;
    }
    keypat[0] = '\0';
    if (key[0] != '\0') {
        /* A family matches its sizes ("rsa": rsa2048...; "ec": ec-p256...),
         * a name itself; names hold no LIKE wildcard. */
        if (strcmp(key, "rsa") == 0)
            snprintf(keypat, sizeof(keypat), "rsa%%");
        else if (strcmp(key, "ec") == 0)
            snprintf(keypat, sizeof(keypat), "ec-%%");
        for (int k = 0; keypat[0] == '\0' && k < PKI_KEY__MAX; k++)
            if (strcmp(pki_key_type_name(k), key) == 0)
                snprintf(keypat, sizeof(keypat), "%s", key);
        if (keypat[0] == '\0') {
            ca_why_set(why, "key_type", "key_type must be rsa, ec, ed25519 "
                                        "or a size such as ec-p256");
            return CW_E_BADREQ;
        }
    }
    if (f->after_id != 0 && page > 1) {
        ca_why_set(why, "after", "after and page cannot be combined: after "
                                 "already names where the page starts");
        return CW_E_BADREQ;
    }
    /* Lower case (the indexed columns are), with LIKE's wildcards and
     * escape character escaped: the query is a literal prefix. */
    for (const char *c = f->q ? f->q : ""; *c != '\0'; c++) {
        if (*c == '%' || *c == '_' || *c == '\\')
            q[qn++] = '\\';
        q[qn++] = (char)tolower((unsigned char)*c);
    }
    q[qn] = '\0';
    raw = f->q ? strlen(f->q) : 0;
    for (size_t i = raw; i-- > 0;) {
        char c = (char)tolower((unsigned char)f->q[i]);

        if (c == '%' || c == '_' || c == '\\')
            qrev[rn++] = '\\';
        qrev[rn++] = c;
    }
    qrev[rn] = '\0';
    if (qn > 0) {
        p[n++] = SP_STR(q);
        p[n++] = SP_BLOB(qrev, rn);
        p[n++] = SP_STR(q);
        p[n++] = SP_STR(q);
    }
    vals[LIST_F_CA] = NULL;
    vals[LIST_F_TEMPLATE] = f->template_name;
    vals[LIST_F_BEFORE] = f->expires_before;
    vals[LIST_F_AFTER] = f->expires_after;
    vals[LIST_F_KEY] = keypat;
    for (int i = 0; i < LIST_F__MAX; i++) {
        if (i == LIST_F_CA) {
            if (f->ca_id == 0)
                continue;
            p[n++] = SP_U64(f->ca_id);
        } else {
            if (vals[i] == NULL || vals[i][0] == '\0')
                continue;
            p[n++] = SP_STR(vals[i]);
        }
        fbits |= 1u << i;
    }
    nfilt = n;
    if (f->after_id != 0) {
        if (list_sorts[sort_i].keyed) {
            int c = list_sorts[sort_i].keyed - 1;

            kp[0] = SP_U64(f->after_id);
            err = store_query(db, a, sql_list_after, kp, 1, &key_rows);
            if (err != CW_OK)
                return err;
            if (key_rows.nrows != 1 || store_cell_isnull(&key_rows, 0, c)) {
                ca_why_set(why, "after", "after must be the id of a listed "
                                         "certificate");
                return CW_E_BADREQ;
            }
            p[n++] = SP_STR(store_cell_str(&key_rows, 0, c));
            p[n++] = SP_STR(store_cell_str(&key_rows, 0, c));
        }
        p[n++] = SP_U64(f->after_id);
    }
    offset = f->after_id != 0 ? 0 : (page - 1) * per_page;
    p[n++] = SP_U64(per_page);
    p[n++] = SP_U64(offset);
    err = store_query(db, a,
                      list_sql(st, fbits, qn > 0,
                               f->after_id != 0 ? LIST_AT_CURSOR
                               : offset > 0     ? LIST_AT_OFFSET
                                                : LIST_AT_FIRST,
                               sort_i),
                      p, n, &rows);
    if (err != CW_OK)
        return err;
    arr = json_array();
    for (size_t r = 0; r < rows.nrows; r++)
        json_array_append_new(arr, row_json(a, &rows, r, 0));
    total->next_after = rows.nrows == per_page && rows.nrows > 0
                            ? store_cell_u64(&rows, rows.nrows - 1, 0)
                            : 0;
    total->exact = 1;
    if (f->after_id == 0 && rows.nrows < per_page &&
        (rows.nrows > 0 || offset == 0)) {
        /* The last page: it tells the total without a count. */
        total->total = offset + rows.nrows;
        *out = arr;
        return CW_OK;
    }
    /* meta.total: exact up to LIM_LIST_COUNT matching rows, past that a
     * lower bound (total_exact false). An exact COUNT(*) reads every
     * matching index entry, 0.25-0.45 s at a million rows. The probe
     * walks at most LIM_LIST_COUNT + 1 entries of one index and keeps
     * none (a capped COUNT(*) over a derived table wrote each into a
     * temporary table); only when it finds no row past the cap does the
     * exact count run, over at most LIM_LIST_COUNT entries. */
    if (f->after_id == 0 && offset + rows.nrows > LIM_LIST_COUNT) {
        /* a full page past the cap (page= deep in the list): the rows
         * before it and on it already pass the cap */
        total->total = LIM_LIST_COUNT;
        total->exact = 0;
        *out = arr;
        return CW_OK;
    }
    /* With q, the matching ids are collected (the UNION) by each
     * statement: one count, not a probe and a count. With q alone it
     * counts the UNION (LIST_Q_COUNT_IDS: the prefix twice more, for
     * the pending rows), else capped over a derived table. */
    if (qn > 0 && st == LIST_ST_ANY && fbits == 0) {
        p[nfilt] = SP_STR(q);
        p[nfilt + 1] = SP_STR(q);
        nq = nfilt + 2;
    } else {
        p[nfilt] = SP_U64(qn > 0 ? LIM_LIST_COUNT + 1 : LIM_LIST_COUNT);
        nq = nfilt + 1;
    }
    err = store_query(db, a,
                      list_sql(st, fbits, qn > 0, LIST_AT_FIRST,
                               qn > 0 ? LIST_COUNT : LIST_PROBE),
                      p, nq, &rows);
    if (err != CW_OK) {
        json_decref(arr);
        return err;
    }
    if (qn > 0) {
        total->total = store_cell_u64(&rows, 0, 0);
        if (total->total > LIM_LIST_COUNT) {
            total->total = LIM_LIST_COUNT;
            total->exact = 0;
        }
        *out = arr;
        return CW_OK;
    }
    if (rows.nrows > 0) {
        total->total = LIM_LIST_COUNT;
        total->exact = 0;
        *out = arr;
        return CW_OK;
    }
    err = store_query(db, a,
                      list_sql(st, fbits, qn > 0, LIST_AT_FIRST, LIST_COUNT),
                      p, nfilt, &rows);
    if (err != CW_OK) {
        json_decref(arr);
        return err;
    }
    total->total = store_cell_u64(&rows, 0, 0);
    /* rows added since the probe */
    if (total->total > LIM_LIST_COUNT) {
        total->total = LIM_LIST_COUNT;
        total->exact = 0;
    }
    *out = arr;
    return CW_OK;
}

/* The certificate and its CA chain (leaf first). */
static enum cw_err
cert_chain(struct store *db, const struct cw_config *cfg, struct arena *a,
           uint64_t id, X509 **cert, STACK_OF(X509) **chain,
           const uint8_t **key, size_t *key_len)
{
    struct store_rows  rows;
    struct store_param p[1];
    enum cw_err        err;

    p[0] = SP_U64(id);
    err = store_query(db, a, sql_key, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1 || store_cell_isnull(&rows, 0, 1))
        return CW_E_NOTFOUND;
    /* A row whose certificate cannot be read (written by hand in SQL, or
     * damaged) is a state of the data, not a fault of this server: 409. */
    err = pki_cert_parse_der((const uint8_t *)rows.cells[1].p,
                             rows.cells[1].len, cert);
    if (err != CW_OK)
        return CW_E_CONFLICT;
    arena_defer(a, x509_free_fn, *cert);
    if (key != NULL) {
        *key = store_cell_isnull(&rows, 0, 2)
                   ? NULL
                   : (const uint8_t *)rows.cells[2].p;
        *key_len = rows.cells[2].len;
    }
    return ca_chain_load(db, cfg, a, store_cell_u64(&rows, 0, 0), chain);
}

enum cw_err
ca_cert_export(struct store *db, const struct cw_config *cfg,
               struct arena *a, uint64_t id, const char *format,
               struct buf *out, const char **ctype)
{
    X509           *cert = NULL;
    STACK_OF(X509) *chain = NULL;
    STACK_OF(X509) *all = NULL;
    enum cw_err     err;

    err = cert_chain(db, cfg, a, id, &cert, &chain, NULL, NULL);
    if (err != CW_OK)
        return err;
    if (strcmp(format, "pem") == 0) {
        *ctype = "application/x-pem-file";
        return pki_cert_to_pem(cert, out);
    }
    if (strcmp(format, "der") == 0) {
        *ctype = "application/pkix-cert";
        return pki_cert_to_der(cert, out);
    }
    all = sk_X509_new_null();
    sk_X509_push(all, cert);
    for (int i = 0; i < sk_X509_num(chain); i++)
        sk_X509_push(all, sk_X509_value(chain, i));
    if (strcmp(format, "chain") == 0) {
        *ctype = "application/x-pem-file";
        err = pki_chain_to_pem(all, out);
    } else if (strcmp(format, "p7b") == 0) {
        *ctype = "application/pkcs7-mime";
        err = pki_p7b_export(all, 0, out);
    } else {
        err = CW_E_BADREQ;
    }
    sk_X509_free(all);   /* borrowed entries */
    return err;
}

enum cw_err
ca_cert_export_p12(struct store *db, const struct cw_config *cfg,
                   struct arena *a, uint64_t id, const char *password,
                   const struct store_audit_event *evin, struct buf *out)
{
    return ca_cert_export_key(db, cfg, a, id, "p12", password, evin, out);
}

enum cw_err
ca_cert_export_key(struct store *db, const struct cw_config *cfg,
                   struct arena *a, uint64_t id, const char *format,
                   const char *password, const struct store_audit_event *evin,
                   struct buf *out)
{
    X509                    *cert = NULL;
    STACK_OF(X509)          *chain = NULL;
    const uint8_t           *blob = NULL;
    size_t                   blob_len = 0;
    EVP_PKEY                *key = NULL;
    struct store_audit_event ev = *evin;
    char                     rid[24];
    enum cw_err              err;

    err = cert_chain(db, cfg, a, id, &cert, &chain, &blob, &blob_len);
    if (err != CW_OK)
        return err;
    if (blob == NULL)
        return CW_E_CONFLICT;
    err = signer_key_export(cfg, "certificates", id, blob, blob_len, &key);
    if (err == CW_OK && strcmp(format, "p12") == 0)
        err = pki_p12_export(key, cert, chain, password, NULL, out);
    else if (err == CW_OK)
        err = pki_key_export_pem(key, password, out);   /* PKCS#8 */
    EVP_PKEY_free(key);
    if (err != CW_OK)
        return err;
    /* Audited before the key leaves (the response is still buffered): if
     * the audit row cannot be written, nothing is sent. */
    snprintf(rid, sizeof(rid), "%llu", (unsigned long long)id);
    ev.action = "certificate.export";
    ev.resource_type = "certificate";
    ev.resource_id = rid;
    ev.outcome = "success";
    ev.detail = strcmp(format, "p12") == 0
                    ? "{\"format\":\"p12\",\"private_key\":true}"
                    : "{\"format\":\"pkcs8\",\"private_key\":true}";
    err = store_audit_log(db, &ev);
    if (err != CW_OK)
        buf_cleanup_secret(out);
    return err;
}

struct revoke_tx {
    uint64_t                        id;
    const char                     *reason;
    const char                     *invalidity;
    const struct store_audit_event *ev;
};

static enum cw_err
revoke_body(struct store *db, void *arg)
{
    struct revoke_tx        *rt = arg;
    struct store_param       p[3];
    char                     detail[128];
    uint64_t                 n = 0;
    enum cw_err              err;

    p[0] = SP_STR(rt->reason);
    p[1] = SP_STR(rt->invalidity);
    p[2] = SP_U64(rt->id);
    err = store_exec(db, sql_revoke, p, 3, &n, NULL);
    if (err != CW_OK)
        return err;
    if (n != 1)
        return CW_E_CONFLICT;
    err = ca_revocation_touch(db, rt->id);
    if (err != CW_OK)
        return err;
    snprintf(detail, sizeof(detail), "{\"reason\":\"%s\"}", rt->reason);
    return ca_audit(db, rt->ev, "certificate.revoke", "certificate",
                    rt->id, detail);
}

enum cw_err
ca_cert_revoke(struct store *db, uint64_t id, const char *reason,
               const char *invalidity, const struct store_audit_event *ev,
               struct ca_why *why)
{
    struct revoke_tx   rt = { id, reason, invalidity, ev };
    struct arena       a;
    struct store_rows  rows;
    struct store_param p[1];
    enum cw_err        err;

    if (ca_reason_code(reason) < 0) {
        ca_why_set(why, "reason", "reason must be an RFC 5280 reason name "
                                  "such as keyCompromise or superseded");
        return CW_E_BADREQ;
    }
    err = store_tx(db, revoke_body, &rt);
    ca_ocsp_cache_invalidate();   /* after the commit (ca_revocation_touch) */
    if (err != CW_E_CONFLICT)
        return err;
    arena_init(&a);
    p[0] = SP_U64(id);
    err = store_query(db, &a, sql_status, p, 1, &rows);
    if (err == CW_OK) {
        if (rows.nrows == 0) {
            err = CW_E_NOTFOUND;
        } else {
            ca_why_set(why, "", "the certificate is already %s",
                       store_cell_str(&rows, 0, 0));
            err = CW_E_CONFLICT;
        }
    }
    arena_reset(&a);
    return err;
}

static const char sql_renew_src[] =
    "SELECT c.ca_id, c.template, c.sans, c.der, c.key_wrapped IS NOT NULL, "
    "c.status FROM certificates c WHERE c.id = ? AND c.status <> 'pending' "
    "AND c.is_ca = 0";

enum cw_err
ca_cert_renew(struct store *db, const struct cw_config *cfg, uint64_t id,
              const uint8_t *csr, size_t csr_len, unsigned validity_days,
              const struct store_audit_event *ev, uint64_t *new_id,
              struct ca_why *why)
{
    struct arena        a;
    struct store_rows   rows;
    struct store_param  p[1];
    struct ca_issue_req in;
    struct pki_key_info ki;
    X509               *old = NULL;
    json_t             *subject = NULL;
    json_t             *sans = NULL;
    json_t             *key = NULL;
    enum cw_err         err;

    arena_init(&a);
    p[0] = SP_U64(id);
    err = store_query(db, &a, sql_renew_src, p, 1, &rows);
    if (err != CW_OK)
        goto out;
    if (rows.nrows != 1 || store_cell_isnull(&rows, 0, 3)) {
        err = CW_E_NOTFOUND;
        goto out;
    }
    err = pki_cert_parse_der((const uint8_t *)rows.cells[3].p,
                             rows.cells[3].len, &old);
    if (err != CW_OK) {
        err = CW_E_INTERNAL;
        goto out;
    }
    memset(&in, 0, sizeof(in));
    in.ca_id = store_cell_u64(&rows, 0, 0);
    in.template_name = store_cell_str(&rows, 0, 1);
    in.renewed_from = id;
    /* Same subject (as it was, repeated attributes and order included)
     * and names; a new key of the same type, or the CSR's. */
    in.subject_name = X509_get_subject_name(old);
    sans = json_loads(store_cell_str(&rows, 0, 2), 0, NULL);
    in.sans = json_array_size(sans) > 0 ? sans : NULL;
    if (csr != NULL) {
        in.csr = csr;
        in.csr_len = csr_len;
    } else if (store_cell_u64(&rows, 0, 4) == 1) {
        err = pki_key_describe(X509_get0_pubkey(old), &ki);
        if (err != CW_OK)
            goto out;
        if (ki.alg == PKI_ALG_RSA)
            key = json_pack("{s:s, s:i}", "type", "rsa", "bits", ki.bits);
        else if (ki.alg == PKI_ALG_EC)
            key = json_pack("{s:s, s:s}", "type", "ec", "curve", ki.curve);
        else
            key = json_pack("{s:s}", "type", "ed25519");
        in.key = key;
    } else {
        ca_why_set(why, "csr", "the key of this certificate was not made "
                               "here: renew it with a new CSR");
        err = CW_E_BADREQ;
        goto out;
    }
    if (validity_days == 0) {
        time_t nb = 0;
        time_t na = 0;

        pki_time_get(X509_get0_notBefore(old), &nb);
        pki_time_get(X509_get0_notAfter(old), &na);
        validity_days = (unsigned)((na - nb) / 86400);
        if (validity_days == 0)
            validity_days = 1;
    }
    in.validity_days = validity_days;
    err = ca_issue(db, cfg, &in, ev, new_id, why);
out:
    json_decref(key);
    json_decref(sans);
    json_decref(subject);
    X509_free(old);
    arena_reset(&a);
    return err;
}

static const char sql_release[] =
    "UPDATE certificates SET status = 'valid', revoked_at = NULL, "
    "revocation_reason = NULL, invalidity_date = NULL, "
    "released_at = NOW(6), updated_at = NOW(6) "
    "WHERE id = ? AND status = 'revoked' "
    "AND revocation_reason = 'certificateHold'";
static const char sql_delete_check[] =
    "SELECT status, not_after <= UTC_TIMESTAMP() FROM certificates "
    "WHERE id = ? AND status <> 'pending' AND is_ca = 0 FOR UPDATE";
static const char sql_delete[] = "DELETE FROM certificates WHERE id = ?";
/* Still within its validity: it stays on the CRL (RFC 5280 3.3). */
static const char sql_tombstone[] =
    "INSERT IGNORE INTO revoked_deleted (ca_id, serial, revoked_at, "
    "revocation_reason, invalidity_date, not_after) "
    "SELECT ca_id, serial, revoked_at, revocation_reason, invalidity_date, "
    "not_after FROM certificates WHERE id = ? AND status = 'revoked' "
    "AND not_after > UTC_TIMESTAMP()";

struct change_tx {
    uint64_t                        id;
    int                             deleting;
    const struct store_audit_event *ev;
    struct ca_why                  *why;
};

static enum cw_err
change_body(struct store *db, void *arg)
{
    struct change_tx        *ct = arg;
    struct store_param       p[1];
    struct arena             a;
    struct store_rows        rows;
    uint64_t                 n = 0;
    enum cw_err              err;

    p[0] = SP_U64(ct->id);
    if (!ct->deleting) {
        err = store_exec(db, sql_release, p, 1, &n, NULL);
        if (err != CW_OK)
            return err;
        if (n != 1) {
            ca_why_set(ct->why, "", "only a certificate on hold "
                                    "(certificateHold) can be released");
            return CW_E_CONFLICT;
        }
        err = ca_revocation_touch(db, ct->id);
        if (err != CW_OK)
            return err;
    } else {
        arena_init(&a);
        err = store_query(db, &a, sql_delete_check, p, 1, &rows);
        if (err == CW_OK && rows.nrows != 1)
            err = CW_E_NOTFOUND;
        if (err == CW_OK && strcmp(store_cell_str(&rows, 0, 0), "revoked") &&
            store_cell_u64(&rows, 0, 1) != 1) {
            ca_why_set(ct->why, "", "only expired or revoked certificates "
                                    "can be deleted");
            err = CW_E_CONFLICT;
        }
        arena_reset(&a);
        if (err == CW_OK)
            err = store_exec(db, sql_tombstone, p, 1, NULL, NULL);
        if (err == CW_OK)
            err = store_exec(db, sql_delete, p, 1, NULL, NULL);
        if (err != CW_OK)
            return err;
    }
    return ca_audit(db, ct->ev,
                    ct->deleting ? "certificate.delete" : "certificate.release",
                    "certificate", ct->id, "{}");
}

enum cw_err
ca_cert_release(struct store *db, uint64_t id,
                const struct store_audit_event *ev, struct ca_why *why)
{
    struct change_tx ct = { id, 0, ev, why };
    enum cw_err      err = store_tx(db, change_body, &ct);

    ca_ocsp_cache_invalidate();   /* after the commit (ca_revocation_touch) */

    if (err == CW_E_CONFLICT) {
        struct arena       a;
        struct store_rows  rows;
        struct store_param p[1];

        arena_init(&a);
        p[0] = SP_U64(id);
        if (store_query(db, &a, sql_status, p, 1, &rows) == CW_OK &&
            rows.nrows == 0)
            err = CW_E_NOTFOUND;
        arena_reset(&a);
    }
    return err;
}

enum cw_err
ca_cert_delete(struct store *db, uint64_t id,
               const struct store_audit_event *ev, struct ca_why *why)
{
    struct change_tx ct = { id, 1, ev, why };

    return store_tx(db, change_body, &ct);
}

/*
 * ca.c: certificate authorities: creation of roots and intermediates,
 * reading, export. Input arrives validated for shape by the REST layer
 * and is checked for meaning here (key types, validity bounds, the parent
 * being able to sign).
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "auth/epoch.h"
#include "ca/ca-int.h"
#include "cw_limits.h"
#include "pki/build.h"
#include "pki/cert.h"
#include "pki/key.h"
#include "pki/name.h"
#include "pki/p12.h"
#include "pki/san.h"
#include "signer/signer.h"
#include "signer/wrap.h"
#include "util/jsonx.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sp.h"

static const char sql_ca_row[] =
    "SELECT id, name, slug, type, COALESCE(parent_id, 0), status, key_state, "
    "key_wrapped, cert_der, COALESCE(crl_url, ''), COALESCE(ocsp_url, ''), "
    "COALESCE(ca_issuers_url, '') FROM cas WHERE id = ?";
static const char sql_ca_insert[] =
    "INSERT INTO cas (name, slug, type, parent_id, status, key_type, "
    "path_len, created_by) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)";
static const char sql_ca_done[] =
    "UPDATE cas SET status = 'active', subject_dn = ?, serial = ?, "
    "not_before = ?, not_after = ?, "
    "cert_der = ?, ski = ?, fp_sha256 = ?, key_wrapped = ?, "
    "updated_at = NOW(6) WHERE id = ? AND status = 'pending'";
static const char sql_ca_drop[] =
    "DELETE FROM cas WHERE id = ? AND status = 'pending'";
static const char sql_subca_reserve[] =
    "INSERT INTO certificates (ca_id, serial, status, template, is_ca, "
    "key_type, created_by) VALUES (?, ?, 'pending', 'sub-ca', 1, ?, ?)";
static const char sql_cert_done[] =
    "UPDATE certificates SET status = 'valid', subject_dn = ?, "
    "common_name = ?, sans = '[]', not_before = ?, not_after = ?, "
    "fp_sha256 = ?, der = ?, updated_at = NOW(6) "
    "WHERE id = ? AND status = 'pending'";
static const char sql_cert_name[] =
    "INSERT INTO certificate_names (cert_id, name, name_rev) "
    "VALUES (?, ?, ?)";
static const char sql_cert_drop[] =
    "DELETE FROM certificates WHERE id = ? AND status = 'pending'";
static const char sql_ca_get[] =
    "SELECT id, name, slug, type, parent_id, status, key_type, key_state, "
    "path_len, cert_der, COALESCE(crl_url, ''), COALESCE(ocsp_url, ''), "
    "COALESCE(ca_issuers_url, ''), key_wrapped IS NOT NULL, "
    "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ'), "
    "(SELECT COUNT(*) FROM cas c WHERE c.parent_id = cas.id), origin "
    "FROM cas WHERE id = ? AND status <> 'pending'";
#define CA_LIST_WHERE                                                       \
    "FROM cas WHERE status <> 'pending' AND (? = '' OR name LIKE "          \
    "CONCAT(?, '%') OR slug LIKE CONCAT(?, '%') OR subject_dn LIKE "        \
    "CONCAT('%', ?, '%')) AND (? = '' OR status = ?) "                      \
    "AND (? = 0 OR parent_id = ?) "
static const char sql_ca_count[] = "SELECT COUNT(*) " CA_LIST_WHERE;
static const char sql_ca_page[] =
    "SELECT id " CA_LIST_WHERE "ORDER BY id LIMIT ? OFFSET ?";
static const char sql_ca_page_name[] =
    "SELECT id " CA_LIST_WHERE "ORDER BY name, id LIMIT ? OFFSET ?";

enum cw_err
ca_name_cn(const X509_NAME *name, struct arena *a, const char **out)
{
    struct buf  cn;
    enum cw_err err;
    size_t      n;

    buf_init(&cn, 4096);
    err = pki_name_cn(name, &cn);
    if (err == CW_E_NOTFOUND) {
        *out = "";   /* no CN: SANs only */
        buf_cleanup(&cn);
        return CW_OK;
    }
    if (err != CW_OK) {
        buf_cleanup(&cn);
        return err;
    }
    /* The indexed column holds 255 bytes; cut on a character boundary. */
    n = cn.len > 255 ? 255 : cn.len;
    while (n > 0 && n < cn.len && (cn.p[n] & 0xc0) == 0x80)
        n--;
    *out = arena_strndup(a, (const char *)cn.p, n);
    buf_cleanup(&cn);
    return CW_OK;
}

const char *
ca_sql_time(struct arena *a, time_t t)
{
    struct tm tm;
    char      s[32];

    /* Not FROM_UNIXTIME: it stops at 2038 on MariaDB 10.11, CAs do not. */
    gmtime_r(&t, &tm);
    strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm);
    return arena_strdup(a, s);
}

void
ca_why_set(struct ca_why *why, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL)
        return;
    snprintf(why->field, sizeof(why->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
    va_end(ap);
}

static void
x509_free_fn(void *p)
{
    X509_free(p);
}

static void
chain_free_fn(void *p)
{
    sk_X509_pop_free(p, X509_free);
}

/*
 * Certificates this thread parsed last: CA certificates for issuance and
 * chains, CA and responder certificates for OCSP signing. Parsing one
 * costs more than the rest of an issuance's certificate work or than an
 * OCSP signature (OpenSSL 3 decodes the public key through its provider
 * decoders). An entry is found by a copy of the exact DER it was parsed
 * from, compared in full on every use, so a certificate that changed
 * (renewed, imported, restored, a new responder) is never served from
 * here; the least recently used entry makes room. Each worker thread has
 * its own entries, so an X509 is never shared between threads.
 */
#define CA_CERT_CACHE 8

struct cert_slot {
    uint8_t  *der;
    size_t    der_len;
    uint64_t  used;
    X509     *cert;
};

static _Thread_local struct cert_slot cert_cache[CA_CERT_CACHE];
static _Thread_local uint64_t         cert_cache_clock;
static pthread_key_t                  cert_cache_key;
static pthread_once_t                 cert_cache_once = PTHREAD_ONCE_INIT;

/* At thread exit (a key destructor, so no caller has to remember). */
static void
cert_cache_clear(void *unused)
{
    (void)unused;
    for (int i = 0; i < CA_CERT_CACHE; i++) {
        X509_free(cert_cache[i].cert);
        free(cert_cache[i].der);
        memset(&cert_cache[i], 0, sizeof(cert_cache[i]));
    }
}

static void
cert_cache_key_init(void)
{
    if (pthread_key_create(&cert_cache_key, cert_cache_clear) != 0)
        abort();
}

enum cw_err
ca_cert_parsed(const uint8_t *der, size_t len, X509 **out)
{
    struct cert_slot *victim = &cert_cache[0];
    X509             *cert = NULL;
    enum cw_err       err;

    if (cert_cache_clock++ == 0) {
        /* First use in this thread: arrange the cleanup. */
        pthread_once(&cert_cache_once, cert_cache_key_init);
        pthread_setspecific(cert_cache_key, cert_cache);
    }
    for (int i = 0; i < CA_CERT_CACHE; i++) {
        struct cert_slot *s = &cert_cache[i];

        if (s->cert != NULL && s->der_len == len &&
            memcmp(s->der, der, len) == 0) {
            s->used = cert_cache_clock;
            X509_up_ref(s->cert);
            *out = s->cert;
            return CW_OK;
        }
        if (s->used < victim->used)
            victim = s;
    }
    err = pki_cert_parse_der(der, len, &cert);
    if (err != CW_OK)
        return err;
    X509_free(victim->cert);
    free(victim->der);
    victim->der = cw_xmalloc(len);
    memcpy(victim->der, der, len);
    victim->der_len = len;
    victim->used = cert_cache_clock;
    X509_up_ref(cert);
    victim->cert = cert;
    *out = cert;
    return CW_OK;
}

/* Row r of a result with the columns of sql_ca_row. */
static enum cw_err
ca_row_fill(const struct cw_config *cfg, struct arena *a,
            const struct store_rows *rows, size_t r, struct ca_row *out)
{
    const struct store_cell *cells = &rows->cells[r * rows->ncols];
    enum cw_err              err;
    X509                    *cert = NULL;

    memset(out, 0, sizeof(*out));
    out->id = store_cell_u64(rows, r, 0);
    out->name = store_cell_str(rows, r, 1);
    out->slug = store_cell_str(rows, r, 2);
    out->type = store_cell_str(rows, r, 3);
    out->parent_id = store_cell_u64(rows, r, 4);
    out->status = store_cell_str(rows, r, 5);
    out->key_state = store_cell_str(rows, r, 6);
    if (!store_cell_isnull(rows, r, 7)) {
        out->key = (const uint8_t *)cells[7].p;
        out->key_len = cells[7].len;
    }
    if (!store_cell_isnull(rows, r, 8)) {
        err = ca_cert_parsed((const uint8_t *)cells[8].p, cells[8].len,
                             &cert);
        if (err != CW_OK) {
            log_err("CA %llu: stored certificate does not parse",
                    (unsigned long long)out->id);
            return CW_E_INTERNAL;
        }
        arena_defer(a, x509_free_fn, cert);
        out->cert = cert;
    }
    /* Defaults derived from public_url and the slug (DESIGN section 3). */
    out->crl_url = store_cell_str(rows, r, 9)[0]
                       ? store_cell_str(rows, r, 9)
                       : arena_printf(a, "%s/cdp/%s.crl", cfg->public_url,
                                      out->slug);
    out->ocsp_url = store_cell_str(rows, r, 10)[0]
                        ? store_cell_str(rows, r, 10)
                        : arena_printf(a, "%s/ocsp", cfg->public_url);
    out->ca_issuers_url =
        store_cell_str(rows, r, 11)[0]
            ? store_cell_str(rows, r, 11)
            : arena_printf(a, "%s/ca/%s.cer", cfg->public_url, out->slug);
    return CW_OK;
}

enum cw_err
ca_row_load(struct store *db, const struct cw_config *cfg, struct arena *a,
            uint64_t id, struct ca_row *out)
{
    struct store_rows  rows;
    struct store_param p[1];
    enum cw_err        err;

    p[0] = SP_U64(id);
    err = store_query(db, a, sql_ca_row, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;
    return ca_row_fill(cfg, a, &rows, 0, out);
}

/* One level of an issuer's chain: the columns of sql_ca_row and whether
 * the level's certificate is revoked on its parent, in one primary-key
 * lookup. (A recursive query over all levels costs MariaDB a temporary
 * table per execution, more than the lookups of a typical hierarchy.) */
static const char sql_issuer_level[] =
    "SELECT id, name, slug, type, COALESCE(parent_id, 0), status, "
    "key_state, key_wrapped, cert_der, COALESCE(crl_url, ''), "
    "COALESCE(ocsp_url, ''), COALESCE(ca_issuers_url, ''), "
    "(SELECT COUNT(*) FROM certificates x WHERE x.ca_id = cas.parent_id "
    " AND x.fp_sha256 = cas.fp_sha256 AND x.status = 'revoked') "
    "FROM cas WHERE id = ?";

/*
 * Issuing chains this thread loaded, for the requests that read the
 * authentication epoch (auth/epoch.h): found by the issuing CA's id and
 * reused only by a request whose epoch equals the one under which the
 * chain was read. Every change that can alter what ca_issuer_load()
 * returns or refuses advances the epoch (migration 0009: the cas columns
 * read here, a CA deleted, the revocation of a CA's certificate on its
 * parent), by any node or by hand in SQL. Only chains that passed every
 * check are kept; a refusal is read again each time. The fields of the
 * issuing CA's row are copied into the slot (the wrapped key as stored,
 * cleansed when dropped) and back into the caller's arena on use; the
 * certificates are references to this thread's parsed X509s, so they are
 * never shared between threads. Least recently used makes room; the
 * slots are emptied when the thread ends.
 */
#define CA_ISSUER_CACHE 8

struct issuer_slot {
    uint64_t        id;        /* the issuing CA; 0: empty               */
    uint64_t        gen;       /* the epoch it was read under            */
    uint64_t        used;
    struct ca_row   row;       /* strings and key point into block       */
    uint8_t        *block;     /* malloc'd: the row's strings and key    */
    size_t          block_len;
    STACK_OF(X509) *chain;     /* issuer first, one reference each       */
};

static _Thread_local struct issuer_slot issuer_cache[CA_ISSUER_CACHE];
static _Thread_local uint64_t           issuer_cache_clock;
static pthread_key_t                    issuer_cache_key;
static pthread_once_t                   issuer_cache_once = PTHREAD_ONCE_INIT;

static void
issuer_slot_clear(struct issuer_slot *s)
{
    if (s->block != NULL)
        OPENSSL_cleanse(s->block, s->block_len);
    free(s->block);
    sk_X509_pop_free(s->chain, X509_free);
    memset(s, 0, sizeof(*s));
}

/* At thread exit (a key destructor). */
static void
issuer_cache_clear(void *unused)
{
    (void)unused;
    for (int i = 0; i < CA_ISSUER_CACHE; i++)
        issuer_slot_clear(&issuer_cache[i]);
}

static void
issuer_cache_key_init(void)
{
    if (pthread_key_create(&issuer_cache_key, issuer_cache_clear) != 0)
        abort();
}

static struct issuer_slot *
issuer_cache_find(uint64_t id)
{
    for (int i = 0; i < CA_ISSUER_CACHE; i++)
        if (issuer_cache[i].id == id)
            return &issuer_cache[i];
    return NULL;
}

/* Copy src into the block at *p (NUL included); the copy. */
static const char *
block_str(uint8_t **p, const char *src)
{
    size_t      n = strlen(src) + 1;
    const char *out = (const char *)*p;

    memcpy(*p, src, n);
    *p += n;
    return out;
}

/* Keep row (the issuing CA) and chain, read under gen. */
static void
issuer_cache_put(uint64_t gen, const struct ca_row *row,
                 STACK_OF(X509) *chain)
{
    struct issuer_slot *s = issuer_cache_find(row->id);
    const char *const   strs[] = { row->name, row->slug, row->type,
                                   row->status, row->key_state,
                                   row->crl_url, row->ocsp_url,
                                   row->ca_issuers_url };
    size_t              len = row->key_len;
    uint8_t            *p;

    if (issuer_cache_clock++ == 0) {
        /* First use in this thread: arrange the cleanup. */
        pthread_once(&issuer_cache_once, issuer_cache_key_init);
        pthread_setspecific(issuer_cache_key, issuer_cache);
    }
    if (s == NULL) {
        s = &issuer_cache[0];
        for (int i = 1; i < CA_ISSUER_CACHE; i++)
            if (issuer_cache[i].used < s->used)
                s = &issuer_cache[i];
    }
    issuer_slot_clear(s);
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        len += strlen(strs[i]) + 1;
    s->block = p = cw_xmalloc(len);
    s->block_len = len;
    s->row = *row;
    if (row->key != NULL) {
        memcpy(p, row->key, row->key_len);
        s->row.key = p;
        p += row->key_len;
    }
    s->row.name = block_str(&p, row->name);
    s->row.slug = block_str(&p, row->slug);
    s->row.type = block_str(&p, row->type);
    s->row.status = block_str(&p, row->status);
    s->row.key_state = block_str(&p, row->key_state);
    s->row.crl_url = block_str(&p, row->crl_url);
    s->row.ocsp_url = block_str(&p, row->ocsp_url);
    s->row.ca_issuers_url = block_str(&p, row->ca_issuers_url);
    s->chain = sk_X509_new_reserve(NULL, sk_X509_num(chain));
    if (s->chain == NULL)
        abort();
    for (int i = 0; i < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);

        X509_up_ref(x);
        sk_X509_push(s->chain, x);
    }
    s->row.cert = sk_X509_value(s->chain, 0);
    s->id = row->id;
    s->gen = gen;
    s->used = issuer_cache_clock;
}

/* The kept chain of id read under gen into out and *chain_out (copies in
 * a, references deferred to a); 0 when there is none. */
static int
issuer_cache_get(uint64_t id, uint64_t gen, struct arena *a,
                 struct ca_row *out, STACK_OF(X509) **chain_out)
{
    struct issuer_slot *s = issuer_cache_find(id);
    STACK_OF(X509)     *chain;
    uint8_t            *key = NULL;

    if (s == NULL)
        return 0;
    if (s->gen != gen) {
        issuer_slot_clear(s);
        return 0;
    }
    s->used = ++issuer_cache_clock;
    chain = sk_X509_new_reserve(NULL, sk_X509_num(s->chain));
    if (chain == NULL)
        abort();
    arena_defer(a, chain_free_fn, chain);
    for (int i = 0; i < sk_X509_num(s->chain); i++) {
        X509 *x = sk_X509_value(s->chain, i);

        X509_up_ref(x);
        sk_X509_push(chain, x);
    }
    if (s->row.key != NULL) {
        key = arena_alloc(a, s->row.key_len);
        memcpy(key, s->row.key, s->row.key_len);
    }
    *out = s->row;
    out->key = key;
    out->name = arena_strdup(a, s->row.name);
    out->slug = arena_strdup(a, s->row.slug);
    out->type = arena_strdup(a, s->row.type);
    out->status = arena_strdup(a, s->row.status);
    out->key_state = arena_strdup(a, s->row.key_state);
    out->crl_url = arena_strdup(a, s->row.crl_url);
    out->ocsp_url = arena_strdup(a, s->row.ocsp_url);
    out->ca_issuers_url = arena_strdup(a, s->row.ca_issuers_url);
    out->cert = sk_X509_value(chain, 0);   /* the chain's reference */
    *chain_out = chain;
    return 1;
}

/* The chain of id from the database, with the checks (see ca-int.h). */
static enum cw_err
issuer_read(struct store *db, const struct cw_config *cfg, struct arena *a,
            uint64_t id, struct ca_row *out, STACK_OF(X509) **chain_out,
            struct ca_why *why)
{
    STACK_OF(X509)    *chain = NULL;
    struct store_rows  rows;
    struct store_param p[1];
    struct ca_row      row;
    enum cw_err        err;

    chain = sk_X509_new_null();
    if (chain == NULL)
        abort();
    arena_defer(a, chain_free_fn, chain);
    for (int depth = 0; id != 0; depth++) {
        if (depth >= LIM_CHAIN_CERTS) {
            log_err("CA hierarchy deeper than %d", LIM_CHAIN_CERTS);
            return CW_E_INTERNAL;
        }
        p[0] = SP_U64(id);
        err = store_query(db, a, sql_issuer_level, p, 1, &rows);
        if (err != CW_OK)
            return err;
        if (rows.nrows != 1)
            return CW_E_NOTFOUND;
        err = ca_row_fill(cfg, a, &rows, 0, &row);
        if (err != CW_OK)
            return err;
        if (depth == 0) {
            *out = row;
            err = ca_can_sign(&row, why);
            if (err != CW_OK)
                return err;
        }
        /* Nothing below a revoked CA passes RFC 5280 path validation:
         * the CA and every ancestor must be active, with its
         * certificate not revoked on its parent. */
        if (strcmp(row.status, "active") != 0 ||
            store_cell_u64(&rows, 0, 12) > 0) {
            ca_why_set(why, "ca_id",
                       depth == 0 ? "the CA's certificate is revoked or the "
                                    "CA is not active"
                                  : "a CA above this one is revoked");
            return CW_E_CONFLICT;
        }
        if (row.cert == NULL)
            return CW_E_NOTFOUND;
        X509_up_ref(row.cert);
        sk_X509_push(chain, row.cert);
        id = row.parent_id;
    }
    *chain_out = chain;
    return CW_OK;
}

enum cw_err
ca_issuer_load(struct store *db, const struct cw_config *cfg,
               struct arena *a, uint64_t id, const char *request_id,
               struct ca_row *out, STACK_OF(X509) **chain_out,
               struct ca_why *why)
{
    uint64_t    gen = 0;
    int         have_gen = auth_epoch_of_request(request_id, &gen);
    enum cw_err err;

    if (have_gen && issuer_cache_get(id, gen, a, out, chain_out))
        return CW_OK;
    err = issuer_read(db, cfg, a, id, out, chain_out, why);
    if (err == CW_OK && have_gen)
        issuer_cache_put(gen, out, *chain_out);
    return err;
}

enum cw_err
ca_chain_load(struct store *db, const struct cw_config *cfg, struct arena *a,
              uint64_t id, STACK_OF(X509) **out)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    struct ca_row   row;
    enum cw_err     err = CW_OK;
    int             depth = 0;

    arena_defer(a, chain_free_fn, chain);
    while (id != 0) {
        if (++depth > LIM_CHAIN_CERTS) {
            log_err("CA hierarchy deeper than %d", LIM_CHAIN_CERTS);
            return CW_E_INTERNAL;
        }
        err = ca_row_load(db, cfg, a, id, &row);
        if (err != CW_OK)
            return err;
        if (row.cert == NULL)
            return CW_E_NOTFOUND;
        X509_up_ref(row.cert);
        sk_X509_push(chain, row.cert);
        id = row.parent_id;
    }
    *out = chain;
    return CW_OK;
}

static const char sql_parent_row[] =
    "INSERT IGNORE INTO certificates (ca_id, serial, status, template, "
    "is_ca, subject_dn, common_name, sans, key_type, not_before, not_after, "
    "fp_sha256, der, created_by) "
    "VALUES (?, ?, 'valid', 'sub-ca', 1, ?, ?, '[]', ?, ?, ?, ?, ?, ?)";

enum cw_err
ca_parent_row_add(struct store *db, uint64_t parent, const char *serial,
                  const char *dn, const char *cn, const char *key_type,
                  const char *nb, const char *na, const char *fp,
                  const struct buf *der, const char *by)
{
    struct store_param p[10];

    /* A CA certificate signed by a certward CA is one of that CA's
     * certificates: its revocation must reach the parent's CRL and OCSP. */
    p[0] = SP_U64(parent);
    p[1] = SP_STR(serial);
    p[2] = SP_STR(dn);
    p[3] = SP_STR(cn);
    p[4] = SP_STR(key_type);
    p[5] = SP_STR(nb);
    p[6] = SP_STR(na);
    p[7] = SP_STR(fp);
    p[8] = SP_BLOB(der->p, der->len);
    p[9] = SP_STR(by ? by : "");
    return store_exec(db, sql_parent_row, p, 10, NULL, NULL);
}

static const char sql_chain_state[] =
    "SELECT cas.status, COALESCE(cas.parent_id, 0), "
    "(SELECT COUNT(*) FROM certificates c WHERE c.ca_id = cas.parent_id "
    " AND c.fp_sha256 = cas.fp_sha256 AND c.status = 'revoked') "
    "FROM cas WHERE id = ?";

enum cw_err
ca_chain_usable(struct store *db, struct arena *a, uint64_t id,
                struct ca_why *why)
{
    struct store_rows  rows;
    struct store_param p[1];
    enum cw_err        err;

    /* Nothing below a revoked CA passes RFC 5280 path validation: the CA
     * and every ancestor must be active, with its certificate not
     * revoked on its parent. */
    for (int depth = 0; id != 0 && depth < LIM_CHAIN_CERTS; depth++) {
        p[0] = SP_U64(id);
        err = store_query(db, a, sql_chain_state, p, 1, &rows);
        if (err != CW_OK)
            return err;
        if (rows.nrows != 1)
            return CW_E_NOTFOUND;
        if (strcmp(store_cell_str(&rows, 0, 0), "active") != 0 ||
            store_cell_u64(&rows, 0, 2) > 0) {
            ca_why_set(why, "ca_id",
                       depth == 0 ? "the CA's certificate is revoked or the "
                                    "CA is not active"
                                  : "a CA above this one is revoked");
            return CW_E_CONFLICT;
        }
        id = store_cell_u64(&rows, 0, 1);
    }
    return CW_OK;
}

enum cw_err
ca_can_sign(const struct ca_row *ca, struct ca_why *why)
{
    if (strcmp(ca->status, "active") != 0) {
        ca_why_set(why, "ca_id", "the CA is %s", ca->status);
        return CW_E_CONFLICT;
    }
    if (strcmp(ca->key_state, "online") != 0 || ca->key == NULL) {
        ca_why_set(why, "ca_id",
                   ca->key == NULL ? "the CA has no private key here"
                                   : "the CA is offline and signs nothing");
        return CW_E_CONFLICT;
    }
    if (ca->cert == NULL) {
        ca_why_set(why, "ca_id", "the CA has no certificate yet");
        return CW_E_CONFLICT;
    }
    return CW_OK;
}

enum cw_err
ca_tx_unique_slug(struct store *db, const char *name, char *slug, size_t n,
                  store_tx_fn fn, void *arg)
{
    char        base[64];
    enum cw_err err;

    /* A slug is unique: try "name", "name-2", "name-3"... */
    ca_slugify(name, base, sizeof(base));
    snprintf(slug, n, "%s", base);
    for (int k = 2;; k++) {
        err = store_tx(db, fn, arg);
        if (err != CW_E_CONFLICT || k > 50)
            return err;
        snprintf(slug, n, "%.48s-%d", base, k);
    }
}

enum cw_err
ca_audit(struct store *db, const struct store_audit_event *base,
         const char *action, const char *type, uint64_t id,
         const char *detail)
{
    struct store_audit_event ev = *base;
    char                     rid[24];

    snprintf(rid, sizeof(rid), "%llu", (unsigned long long)id);
    ev.action = action;
    ev.resource_type = type;
    ev.resource_id = rid;
    ev.outcome = "success";
    ev.detail = detail;
    return store_audit_append(db, &ev);
}

/* "Example Root CA" -> "example-root-ca" (at most 48 characters). */
void
ca_slugify(const char *name, char *out, size_t n)
{
    size_t o = 0;
    int    dash = 0;

    for (const char *p = name; *p != '\0' && o + 1 < n && o < 48; p++) {
        unsigned char c = (unsigned char)*p;

        if (isalnum(c)) {
            if (dash && o > 0)
                out[o++] = '-';
            if (o + 1 >= n)
                break;
            out[o++] = (char)tolower(c);
            dash = 0;
        } else {
            dash = 1;
        }
    }
    if (o == 0)
        o = (size_t)snprintf(out, n, "ca");
    out[o] = '\0';
}

/* name_constraints JSON -> entries (arena). */
static enum cw_err
nc_parse(struct arena *a, json_t *obj, const char *which,
         struct pki_nc_entry **out, size_t *n, struct ca_why *why)
{
    static const struct {
        const char       *key;
        enum pki_san_type type;
    } kinds[] = { { "dns", PKI_SAN_DNS }, { "ip", PKI_SAN_IP },
                  { "email", PKI_SAN_EMAIL } };
    json_t      *sub = json_object_get(obj, which);
    const char  *k;
    json_t      *v;
    size_t       total = 0;

    *out = NULL;
    *n = 0;
    {
        const char *top;
        json_t     *tv;

        json_object_foreach(obj, top, tv) {
            (void)tv;
            if (strcmp(top, "permitted") != 0 && strcmp(top, "excluded") != 0) {
                ca_why_set(why, "name_constraints",
                           "name_constraints takes permitted and excluded");
                return CW_E_BADREQ;
            }
        }
    }
    if (sub == NULL || json_is_null(sub))
        return CW_OK;
    if (!json_is_object(sub)) {
        ca_why_set(why, "name_constraints", "%s must be an object", which);
        return CW_E_BADREQ;
    }
    json_object_foreach(sub, k, v) {
        int known = 0;

        for (size_t i = 0; i < 3; i++)
            known |= strcmp(kinds[i].key, k) == 0;
        if (!known || !json_is_array(v)) {
            ca_why_set(why, "name_constraints",
                       "%s.%.20s: expected dns, ip or email arrays", which,
                       k);
            return CW_E_BADREQ;
        }
        total += json_array_size(v);
    }
    if (total > LIM_NAME_CONSTRAINTS) {
        ca_why_set(why, "name_constraints", "too many %s subtrees", which);
        return CW_E_BADREQ;
    }
    *out = arena_zalloc(a, (total + 1) * sizeof(**out));
    for (size_t i = 0; i < 3; i++) {
        json_t *arr = json_object_get(sub, kinds[i].key);

        for (size_t j = 0; j < json_array_size(arr); j++) {
            const char *s = json_string_value(json_array_get(arr, j));

            if (s == NULL || s[0] == '\0' || strlen(s) > 253) {
                ca_why_set(why, "name_constraints",
                           "%s.%s[%zu] must be a non-empty string", which,
                           kinds[i].key, j);
                return CW_E_BADREQ;
            }
            (*out)[*n].type = kinds[i].type;
            (*out)[*n].value = arena_strdup(a, s);
            (*n)++;
        }
    }
    return CW_OK;
}

/* Is the DNS subtree child inside subtree base (equal, or a subdomain)?
 * A leading "." in either means "below only" (RFC 5280 4.2.1.10). */
static int
dns_within(const char *child, const char *base)
{
    size_t cl;
    size_t bl;

    if (base[0] == '.')
        base++;
    if (child[0] == '.')
        child++;
    cl = strlen(child);
    bl = strlen(base);
    if (bl == 0)
        return 1;
    if (cl == bl)
        return strcasecmp(child, base) == 0;
    return cl > bl && child[cl - bl - 1] == '.' &&
           strcasecmp(child + cl - bl, base) == 0;
}

/* A sub-CA's permitted DNS subtrees must lie inside every constrained
 * ancestor's: a subtree outside them would only ever issue certificates
 * that fail validation, and some validators reject the CA itself. */
static enum cw_err
nc_nested_check(STACK_OF(X509) *chain, const struct pki_nc_entry *perm,
                size_t nperm, struct ca_why *why)
{
    for (int i = 0; i < sk_X509_num(chain); i++) {
        NAME_CONSTRAINTS *nc = X509_get_ext_d2i(sk_X509_value(chain, i),
                                                NID_name_constraints, NULL,
                                                NULL);
        int               has_dns = 0;

        if (nc == NULL)
            continue;
        for (int j = 0; j < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees);
             j++)
            has_dns |= sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, j)
                           ->base->type == GEN_DNS;
        for (size_t k = 0; has_dns && k < nperm; k++) {
            int inside = 0;

            if (perm[k].type != PKI_SAN_DNS)
                continue;
            for (int j = 0;
                 j < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); j++) {
                GENERAL_NAME *g =
                    sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, j)->base;
                char          base[256];

                if (g->type != GEN_DNS || g->d.dNSName->length >= 256)
                    continue;
                memcpy(base, g->d.dNSName->data,
                       (size_t)g->d.dNSName->length);
                base[g->d.dNSName->length] = '\0';
                inside |= dns_within(perm[k].value, base);
            }
            if (!inside) {
                NAME_CONSTRAINTS_free(nc);
                ca_why_set(why, "name_constraints",
                           "permitted dns %s is outside the parent's name "
                           "constraints", perm[k].value);
                return CW_E_POLICY;
            }
        }
        NAME_CONSTRAINTS_free(nc);
    }
    return CW_OK;
}

struct ca_tx {
    const struct ca_new            *in;
    const struct store_audit_event *ev;
    const char                     *key_type;
    char                            slug[64];
    uint64_t                        id;
    uint64_t                        sub_cert_id;  /* row under the parent */
    char                            serial_hex[PKI_SERIAL_HEX_SIZE];
    /* second transaction */
    const char                     *subject_dn;
    const char                     *nb;
    const char                     *na;
    struct buf                     *der;
    const char                     *ski;
    const char                     *fp;
    struct buf                     *wrapped;
    const char                     *cn;
};

static enum cw_err
ca_reserve_body(struct store *db, void *arg)
{
    struct ca_tx      *t = arg;
    struct store_param p[7];
    enum cw_err        err;

    p[0] = SP_STR(t->in->name);
    p[1] = SP_STR(t->slug);
    p[2] = SP_STR(t->in->intermediate ? "intermediate" : "root");
    p[3] = t->in->intermediate ? SP_U64(t->in->parent_id) : SP_NULLV;
    p[4] = SP_STR(t->key_type);
    p[5] = t->in->path_len >= 0 ? SP_I64(t->in->path_len) : SP_NULLV;
    p[6] = SP_STR(t->ev->username ? t->ev->username : "");
    err = store_exec(db, sql_ca_insert, p, 7, NULL, &t->id);
    if (err != CW_OK || !t->in->intermediate)
        return err;
    /* The sub-CA's certificate is also a certificate of its parent: its
     * serial is unique among the parent's (revocation reports it). */
    p[0] = SP_U64(t->in->parent_id);
    p[1] = SP_STR(t->serial_hex);
    p[2] = SP_STR(t->key_type);
    p[3] = SP_STR(t->ev->username ? t->ev->username : "");
    return store_exec(db, sql_subca_reserve, p, 4, NULL, &t->sub_cert_id);
}

static enum cw_err
ca_done_body(struct store *db, void *arg)
{
    struct ca_tx            *t = arg;
    struct store_param       p[10];
    char                     detail[256];
    uint64_t                 n = 0;
    enum cw_err              err;

    p[0] = SP_STR(t->subject_dn);
    p[1] = SP_STR(t->serial_hex);
    p[2] = SP_STR(t->nb);
    p[3] = SP_STR(t->na);
    p[4] = SP_BLOB(t->der->p, t->der->len);
    p[5] = SP_STR(t->ski);
    p[6] = SP_STR(t->fp);
    p[7] = SP_BLOB(t->wrapped->p, t->wrapped->len);
    p[8] = SP_U64(t->id);
    err = store_exec(db, sql_ca_done, p, 9, &n, NULL);
    if (err != CW_OK)
        return err;
    if (n != 1)
        return CW_E_CONFLICT;
    if (t->sub_cert_id != 0) {
        char   low[256];
        char   rev[256];
        size_t len = strnlen(t->cn, 255);

        p[0] = SP_STR(t->subject_dn);
        p[1] = SP_STR(t->cn);
        p[2] = SP_STR(t->nb);
        p[3] = SP_STR(t->na);
        p[4] = SP_STR(t->fp);
        p[5] = SP_BLOB(t->der->p, t->der->len);
        p[6] = SP_U64(t->sub_cert_id);
        err = store_exec(db, sql_cert_done, p, 7, NULL, NULL);
        if (err != CW_OK)
            return err;
        for (size_t i = 0; i < len; i++) {
            low[i] = (char)tolower((unsigned char)t->cn[i]);
            rev[len - 1 - i] = low[i];
        }
        low[len] = '\0';
        p[0] = SP_U64(t->sub_cert_id);
        p[1] = SP_STRN(low, len);
        p[2] = SP_BLOB(rev, len);
        if (len > 0) {
            err = store_exec(db, sql_cert_name, p, 3, NULL, NULL);
            if (err != CW_OK)
                return err;
        }
    }
    snprintf(detail, sizeof(detail),
             "{\"slug\":\"%s\",\"type\":\"%s\",\"serial\":\"%s\"}", t->slug,
             t->in->intermediate ? "intermediate" : "root", t->serial_hex);
    return ca_audit(db, t->ev, "ca.create", "ca", t->id, detail);
}

enum cw_err
ca_create(struct store *db, const struct cw_config *cfg,
          const struct ca_new *in, const struct store_audit_event *ev,
          uint64_t *id, struct ca_why *why)
{
    struct arena          a;
    struct ca_tx          t;
    struct ca_row         parent;
    struct pki_cert_spec  spec;
    struct pki_cert_info  info;
    struct jsonx_why      jw = { "", "" };
    enum pki_key_type     kt;
    X509_NAME            *subject = NULL;
    EVP_PKEY             *key = NULL;
    X509                 *tbs = NULL;
    struct buf            der;
    struct buf            wrapped;
    struct buf            dn;
    struct buf            ski;
    struct buf            cn;
    struct pki_nc_entry  *perm = NULL;
    struct pki_nc_entry  *excl = NULL;
    size_t                nperm = 0;
    size_t                nexcl = 0;
    uint8_t               serial[PKI_SERIAL_LEN];
    time_t                now = time(NULL);
    enum cw_err           err;
    int                   reserved = 0;

    arena_init(&a);
    memset(&t, 0, sizeof(t));
    buf_init(&der, LIM_CERT_DER);
    buf_init(&wrapped, 16384);
    buf_init(&dn, 65536);
    buf_init(&ski, 256);
    buf_init(&cn, 512);
    t.in = in;
    t.ev = ev;
    if (in->validity_days < 1 || in->validity_days > CA_MAX_DAYS) {
        ca_why_set(why, "validity_days",
                   "validity_days must be from 1 to %d (30 years)",
                   CA_MAX_DAYS);
        err = CW_E_BADREQ;
        goto out;
    }
    err = pki_key_type_from_json(in->key, &kt, &jw);
    if (err != CW_OK) {
        ca_why_set(why, "key", "key.%s %s", jw.field, jw.reason);
        goto out;
    }
    err = pki_name_from_json(in->subject, &subject, &jw);
    if (err != CW_OK) {
        ca_why_set(why, "subject", "subject.%s %s", jw.field, jw.reason);
        goto out;
    }
    if (X509_NAME_entry_count(subject) == 0) {
        ca_why_set(why, "subject", "a CA needs a subject (at least CN)");
        err = CW_E_BADREQ;
        goto out;
    }
    if (in->name_constraints != NULL) {
        err = nc_parse(&a, in->name_constraints, "permitted", &perm, &nperm,
                       why);
        if (err == CW_OK)
            err = nc_parse(&a, in->name_constraints, "excluded", &excl,
                           &nexcl, why);
        if (err != CW_OK)
            goto out;
    }
    if (in->intermediate) {
        err = ca_row_load(db, cfg, &a, in->parent_id, &parent);
        if (err == CW_E_NOTFOUND) {
            ca_why_set(why, "parent_id", "no such CA");
            goto out;
        }
        if (err != CW_OK)
            goto out;
        err = ca_can_sign(&parent, why);
        if (err == CW_OK)
            err = ca_chain_usable(db, &a, parent.id, why);
        if (err != CW_OK) {
            snprintf(why->field, sizeof(why->field), "parent_id");
            goto out;
        }
    }
    t.key_type = pki_key_type_name(kt);
    err = pki_key_generate(kt, &key);
    if (err != CW_OK)
        goto out;
    err = pki_serial_random_hex(serial, t.serial_hex);
    if (err == CW_OK)
        err = ca_tx_unique_slug(db, in->name, t.slug, sizeof(t.slug),
                                ca_reserve_body, &t);
    if (err != CW_OK)
        goto out;
    reserved = 1;
    err = signer_key_wrap(cfg, "cas", t.id, key, &wrapped);
    if (err != CW_OK)
        goto out;

    pki_build_spec_init(&spec);
    spec.subject = subject;
    spec.pubkey = key;
    memcpy(spec.serial, serial, PKI_SERIAL_LEN);
    spec.serial_len = PKI_SERIAL_LEN;
    spec.not_before = now - 300;   /* clock skew of relying parties */
    spec.not_after = now + (time_t)in->validity_days * 86400;
    spec.is_ca = 1;
    spec.path_len = in->path_len;
    spec.nc_permitted = perm;
    spec.n_permitted = nperm;
    spec.nc_excluded = excl;
    spec.n_excluded = nexcl;
    if (in->intermediate) {
        spec.issuer = parent.cert;
        spec.crl_url = parent.crl_url;
        spec.ocsp_url = parent.ocsp_url;
        spec.ca_issuers_url = parent.ca_issuers_url;
    }
    err = pki_build_default_ku(key, 1, &spec.key_usage);
    if (err == CW_OK)
        err = pki_build_cert(&spec, &tbs);
    if (err == CW_E_POLICY) {
        ca_why_set(why, "validity_days",
                   "the parent CA cannot issue this: the validity would end "
                   "after the parent's, or its path length forbids it");
        err = CW_E_BADREQ;
        goto out;
    }
    if (err != CW_OK) {
        /* Everything else in the request was checked before: what the
         * builder refuses now is a constraint subtree. */
        ca_why_set(why, nperm + nexcl > 0 ? "name_constraints" : "",
                   nperm + nexcl > 0
                       ? "a name constraint is malformed (dns: a domain, "
                         "ip: an address/prefix with zero host bits, "
                         "email: an address or a domain)"
                       : "the certificate could not be built");
        goto out;
    }
    if (in->intermediate) {
        STACK_OF(X509) *pchain = NULL;

        /* The sub-CA's own names obey its ancestors' constraints. */
        err = ca_chain_load(db, cfg, &a, parent.id, &pchain);
        if (err == CW_OK)
            err = pki_build_nc_check(tbs, pchain);
        if (err == CW_E_POLICY) {
            ca_why_set(why, "subject", "the subject is outside the parent's "
                                       "name constraints");
            goto out;
        }
        if (err == CW_OK)
            err = nc_nested_check(pchain, perm, nperm, why);
        if (err != CW_OK)
            goto out;
    }
    if (in->intermediate)
        err = signer_sign_cert(cfg, "cas", parent.id, parent.key,
                               parent.key_len, tbs);
    else
        err = signer_sign_cert(cfg, "cas", t.id, wrapped.p, wrapped.len,
                               tbs);
    if (err != CW_OK)
        goto out;
    err = pki_cert_info_get(tbs, &info);
    if (err == CW_OK)
        err = pki_cert_to_der(tbs, &der);
    if (err == CW_OK)
        err = pki_name_to_string(X509_get_subject_name(tbs), &dn);
    if (err == CW_OK)
        err = pki_cert_ski_hex(tbs, &ski);
    if (err == CW_OK)
        err = ca_name_cn(X509_get_subject_name(tbs), &a, &t.cn);
    if (err != CW_OK)
        goto out;
    t.subject_dn = (const char *)dn.p;
    t.nb = ca_sql_time(&a, info.not_before);
    t.na = ca_sql_time(&a, info.not_after);
    t.der = &der;
    t.ski = ski.p ? (const char *)ski.p : "";
    t.fp = info.sha256;
    t.wrapped = &wrapped;
    err = store_tx(db, ca_done_body, &t);
    if (err == CW_OK) {
        *id = t.id;
        reserved = 0;
    }
out:
    if (reserved) {
        /* Best effort; cron removes pending rows left by a crash. */
        struct store_param p[1];

        if (t.sub_cert_id != 0) {
            p[0] = SP_U64(t.sub_cert_id);
            store_exec(db, sql_cert_drop, p, 1, NULL, NULL);
        }
        p[0] = SP_U64(t.id);
        store_exec(db, sql_ca_drop, p, 1, NULL, NULL);
    }
    X509_free(tbs);
    EVP_PKEY_free(key);
    X509_NAME_free(subject);
    buf_cleanup(&der);
    buf_cleanup(&wrapped);
    buf_cleanup(&dn);
    buf_cleanup(&ski);
    buf_cleanup(&cn);
    arena_reset(&a);
    return err;
}

static json_t *
time_json(const ASN1_TIME *t)
{
    time_t tt;
    char   s[PKI_RFC3339_SIZE];

    if (pki_time_get(t, &tt) != CW_OK)
        return json_null();
    pki_time_rfc3339(tt, s);
    return json_string(s);
}

enum cw_err
ca_get_json(struct store *db, const struct cw_config *cfg, struct arena *a,
            uint64_t id, json_t **out)
{
    struct store_rows  rows;
    struct store_param p[1];
    struct ca_row      row;
    struct buf         pem;
    json_t            *subject = NULL;
    json_t            *doc;
    char               serial[PKI_SERIAL_HEX_SIZE] = "";
    enum cw_err        err;

    p[0] = SP_U64(id);
    err = store_query(db, a, sql_ca_get, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;
    err = ca_row_load(db, cfg, a, id, &row);
    if (err != CW_OK)
        return err;
    buf_init(&pem, LIM_CERT_DER * 2);
    if (row.cert != NULL) {
        pki_cert_to_pem(row.cert, &pem);
        pki_name_to_json(X509_get_subject_name(row.cert), &subject);
        pki_cert_serial_hex(row.cert, serial);
    }
    doc = json_pack(
        "{s:I, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o,"
        " s:s, s:s, s:s, s:b, s:s, s:I}",
        "id", (json_int_t)id, "name", store_cell_str(&rows, 0, 1), "slug",
        store_cell_str(&rows, 0, 2), "type", store_cell_str(&rows, 0, 3),
        "parent_id",
        store_cell_isnull(&rows, 0, 4)
            ? json_null()
            : json_integer((json_int_t)store_cell_u64(&rows, 0, 4)),
        "status", store_cell_str(&rows, 0, 5), "key_type",
        store_cell_str(&rows, 0, 6), "key_state",
        store_cell_str(&rows, 0, 7), "path_length",
        store_cell_isnull(&rows, 0, 8)
            ? json_null()
            : json_integer(store_cell_i64(&rows, 0, 8)),
        "serial", serial, "subject", subject ? subject : json_object(),
        "not_before",
        row.cert ? time_json(X509_get0_notBefore(row.cert)) : json_null(),
        "not_after",
        row.cert ? time_json(X509_get0_notAfter(row.cert)) : json_null(),
        "crl_url", row.crl_url, "ocsp_url", row.ocsp_url, "ca_issuers_url",
        row.ca_issuers_url, "has_private_key", store_cell_u64(&rows, 0, 13),
        "created_at", store_cell_str(&rows, 0, 14), "children",
        (json_int_t)store_cell_u64(&rows, 0, 15));
    json_object_set_new(doc, "origin",
                        json_string(store_cell_str(&rows, 0, 16)));
    if (row.cert != NULL) {
        json_t *key = NULL;

        if (pki_key_info_json(X509_get0_pubkey(row.cert), &key) == CW_OK)
            json_object_set_new(doc, "key", key);
    }
    json_object_set_new(doc, "pem",
                        json_stringn(pem.p ? (const char *)pem.p : "",
                                     pem.len));
    buf_cleanup(&pem);
    *out = doc;
    return CW_OK;
}

enum cw_err
ca_list_json(struct store *db, const struct cw_config *cfg, struct arena *a,
             const struct ca_list_filter *f, uint64_t page,
             uint64_t per_page, json_t **out, uint64_t *total)
{
    struct store_rows  rows;
    struct store_param p[10];
    json_t            *arr;
    enum cw_err        err;
    char               q[260];
    size_t             n = 0;
    const char        *status = f->status ? f->status : "";

    /* A literal prefix: LIKE's wildcards escaped. */
    for (const char *c = f->q ? f->q : ""; *c != '\0' && n < 256; c++) {
        if (*c == '%' || *c == '_' || *c == '\\')
            q[n++] = '\\';
        q[n++] = *c;
    }
    q[n] = '\0';
    p[0] = SP_STR(q);
    p[1] = SP_STR(q);
    p[2] = SP_STR(q);
    p[3] = SP_STR(q);
    p[4] = SP_STR(status);
    p[5] = SP_STR(status);
    p[6] = SP_U64(f->parent_id);
    p[7] = SP_U64(f->parent_id);
    err = store_query(db, a, sql_ca_count, p, 8, &rows);
    if (err != CW_OK)
        return err;
    *total = store_cell_u64(&rows, 0, 0);
    p[8] = SP_U64(per_page);
    p[9] = SP_U64((page - 1) * per_page);
    err = store_query(db, a, f->sort_name ? sql_ca_page_name : sql_ca_page,
                      p, 10, &rows);
    if (err != CW_OK)
        return err;
    arr = json_array();
    for (size_t r = 0; r < rows.nrows; r++) {
        json_t *one = NULL;

        err = ca_get_json(db, cfg, a, store_cell_u64(&rows, r, 0), &one);
        if (err != CW_OK) {
            json_decref(arr);
            return err;
        }
        json_array_append_new(arr, one);
    }
    *out = arr;
    return CW_OK;
}

enum cw_err
ca_export(struct store *db, const struct cw_config *cfg, struct arena *a,
          uint64_t id, const char *format, struct buf *out,
          const char **ctype)
{
    STACK_OF(X509) *chain = NULL;
    enum cw_err     err;

    err = ca_chain_load(db, cfg, a, id, &chain);
    if (err != CW_OK)
        return err;
    if (strcmp(format, "pem") == 0) {
        *ctype = "application/x-pem-file";
        return pki_cert_to_pem(sk_X509_value(chain, 0), out);
    }
    if (strcmp(format, "der") == 0) {
        *ctype = "application/pkix-cert";
        return pki_cert_to_der(sk_X509_value(chain, 0), out);
    }
    if (strcmp(format, "chain") == 0) {
        *ctype = "application/x-pem-file";
        return pki_chain_to_pem(chain, out);
    }
    if (strcmp(format, "p7b") == 0) {
        *ctype = "application/pkcs7-mime";
        return pki_p7b_export(chain, 0, out);
    }
    return CW_E_BADREQ;
}

static const char sql_mk_get[] =
    "SELECT value FROM settings WHERE name = 'master_key_id'";
static const char sql_mk_put[] =
    "INSERT IGNORE INTO settings (name, value, updated_by) "
    "VALUES ('master_key_id', ?, 'certward')";

enum cw_err
ca_master_key_check(struct store *db, const struct cw_config *cfg,
                    char *why, size_t whylen)
{
    struct arena       a;
    struct store_rows  rows;
    struct store_param p[1];
    uint8_t            kid[4];
    char               hex[9];
    enum cw_err        err;

    signer_key_id(cfg->master_key, kid);
    sp_hex_encode(kid, 4, hex);
    arena_init(&a);
    err = store_query(db, &a, sql_mk_get, NULL, 0, &rows);
    if (err == CW_OK && rows.nrows == 0) {
        /* First start: this key is the one every wrapped key will use. */
        p[0] = SP_STR(hex);
        err = store_exec(db, sql_mk_put, p, 1, NULL, NULL);
        if (err == CW_OK)
            err = store_query(db, &a, sql_mk_get, NULL, 0, &rows);
    }
    if (err == CW_OK && rows.nrows == 1 &&
        strcmp(store_cell_str(&rows, 0, 0), hex) != 0) {
        snprintf(why, whylen,
                 "security.master_key_file holds key id %s, but the keys in "
                 "this database are wrapped under key id %s: restore the "
                 "right master key file",
                 hex, store_cell_str(&rows, 0, 0));
        err = CW_E_CRYPTO;
    }
    arena_reset(&a);
    return err;
}

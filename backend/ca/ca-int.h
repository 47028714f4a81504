/* ca-int.h: helpers shared inside ca/. */
#ifndef CW_CA_INT_H
#define CW_CA_INT_H

#include <time.h>

#include <openssl/x509.h>

#include "ca/ca.h"

/* A CA as loaded for issuing. Strings and blobs live in the arena. */
struct ca_row {
    uint64_t       id;
    const char    *name;
    const char    *slug;
    const char    *type;
    uint64_t       parent_id;
    const char    *status;
    const char    *key_state;
    const uint8_t *key;          /* wrapped; NULL when certificate-only */
    size_t         key_len;
    X509          *cert;         /* arena-deferred                       */
    const char    *crl_url;
    const char    *ocsp_url;
    const char    *ca_issuers_url;
};

enum cw_err ca_row_load(struct store *db, const struct cw_config *cfg,
                        struct arena *a, uint64_t id, struct ca_row *out);
/* The CA's certificate and its parents, issuer first (arena-deferred). */
enum cw_err ca_chain_load(struct store *db, const struct cw_config *cfg,
                          struct arena *a, uint64_t id,
                          STACK_OF(X509) **out);
/* The certificate der parses to, from this thread's cache of recently
 * parsed certificates (keyed by the whole DER): a new reference. */
enum cw_err ca_cert_parsed(const uint8_t *der, size_t len, X509 **out);
/* For issuing with CA id: its row and chain (issuer first, as
 * ca_chain_load), one lookup per level, after the checks of ca_can_sign()
 * and ca_chain_usable() (why filled). When the request named request_id
 * (NULL: none) read the authentication epoch, a chain this thread read
 * under the same epoch is reused without a statement. */
enum cw_err ca_issuer_load(struct store *db, const struct cw_config *cfg,
                           struct arena *a, uint64_t id,
                           const char *request_id, struct ca_row *out,
                           STACK_OF(X509) **chain, struct ca_why *why);
/* Record a CA certificate (imported or installed) as a certificate of its
 * certward parent (inside the caller's transaction). */
enum cw_err ca_parent_row_add(struct store *db, uint64_t parent,
                              const char *serial, const char *dn,
                              const char *cn, const char *key_type,
                              const char *nb, const char *na, const char *fp,
                              const struct buf *der, const char *by);
/* CW_E_CONFLICT when the CA or an ancestor is revoked or inactive. */
enum cw_err ca_chain_usable(struct store *db, struct arena *a, uint64_t id,
                            struct ca_why *why);
/* Refuse signing with a CA that cannot sign (why filled). */
enum cw_err ca_can_sign(const struct ca_row *ca, struct ca_why *why);
/* A CSR from PEM or base64 DER text. With pub, read for issuance by
 * pki_csr_parse_key() (*pub is the key, freed by the caller; *out's
 * X509_PUBKEY may hold no decoded key); without, by pki_csr_parse(). */
enum cw_err ca_csr_load(const uint8_t *p, size_t len, X509_REQ **out,
                        EVP_PKEY **pub, struct ca_why *why);
/* The common name of name for the indexed column: "" when there is none,
 * at most 255 bytes. */
enum cw_err ca_name_cn(const X509_NAME *name, struct arena *a,
                       const char **out);
/* Append the success audit row of a change to resource type/id, from
 * the request's event (inside the caller's transaction). */
enum cw_err ca_audit(struct store *db, const struct store_audit_event *base,
                     const char *action, const char *type, uint64_t id,
                     const char *detail);
/* Inside the transaction that revoked, held or released certificate
 * cert_id: its CA's CRLs are out of date from now on, and its stored OCSP
 * responses are deleted, so no node answers from a stale one. */
enum cw_err ca_revocation_touch(struct store *db, uint64_t cert_id);
/* SQL DATETIME text (UTC) -> time_t; 0 when malformed. */
time_t ca_parse_sql_time(const char *s);
/* The URL of ca's delta CRL (its crl_url with "-delta" before ".crl"). */
const char *ca_delta_url(struct arena *a, const struct cw_config *cfg,
                         const struct ca_row *ca);
/* The node's shared cache of OCSP answers (ocsp_cache.c); get returns 1
 * on a hit. Without ca_ocsp_cache_init() (cron, CLI) nothing is cached.
 * put takes the generation (ca_ocsp_cache_gen) read before the database
 * read that gave der: an answer read before a revocation moved it is not
 * stored. sync checks, at most once per second per node, whether another
 * node changed a CA's revocation_seq, and retires every entry if so. */
int ca_ocsp_cache_get(const uint8_t *key, size_t key_len, struct buf *out,
                      time_t *next_update);
uint64_t ca_ocsp_cache_gen(void);
void ca_ocsp_cache_put(const uint8_t *key, size_t key_len, const uint8_t *der,
                       size_t der_len, time_t next_update, uint64_t gen);
void ca_ocsp_cache_sync(struct store *db);
void ca_ocsp_cache_invalidate(void);
/* Run fn (a transaction inserting a CA row with slug) with the slug of
 * name, then "name-2", "name-3"... while the slug is taken. */
enum cw_err ca_tx_unique_slug(struct store *db, const char *name, char *slug,
                              size_t n, store_tx_fn fn, void *arg);
void ca_slugify(const char *name, char *out, size_t n);
/* A time as SQL DATETIME text "YYYY-MM-DD HH:MM:SS" (UTC, arena). */
const char *ca_sql_time(struct arena *a, time_t t);
void ca_why_set(struct ca_why *why, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

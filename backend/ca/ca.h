/*
 * ca.h: the CA domain services that REST and every enrolment protocol
 * call: creating CAs, issuing, revoking and exporting certificates, and
 * the built-in certificate templates. Storage follows DESIGN.md section 4:
 * a transaction reserves the serial (a pending row), the signer signs
 * outside any transaction, a second transaction stores the certificate
 * with its audit row. Private keys pass through signer/ only.
 */
#ifndef CW_CA_H
#define CW_CA_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "store/audit.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/conf.h"
#include "util/err.h"

/* Why a request was refused: the field and a sentence for the client. */
struct ca_why {
    char field[64];
    char msg[256];
};

/* The master key must be the one the database's keys are wrapped under
 * (its id is recorded on first start). CW_E_CRYPTO with why otherwise. */
enum cw_err ca_master_key_check(struct store *db,
                                const struct cw_config *cfg, char *why,
                                size_t whylen);

/* ---- templates ------------------------------------------------------- */

struct ca_template {
    const char        *name;
    const char        *description;
    unsigned           key_usage;      /* PKI_KU bits; 0: by key type    */
    const char *const *eku;
    size_t             n_eku;
    unsigned           max_days;
    unsigned           san_types;      /* 1 << enum pki_san_type         */
    int                is_ca;
    int                ocsp_nocheck;   /* delegated OCSP responders       */
    /* Custom templates only (0/NULL on built-ins: anything goes). */
    uint64_t           id;
    unsigned           key_types;      /* 1 << enum pki_key_type; 0: any  */
    const char *const *subject_fields; /* allowed DN attributes; NULL: any */
    size_t             n_subject_fields;
};

const struct ca_template *ca_template_find(const char *name);
/* A built-in or custom template by name (custom ones live in the arena).
 * CW_E_NOTFOUND when there is none. */
enum cw_err ca_template_load(struct store *db, struct arena *a,
                             const char *name,
                             const struct ca_template **out);
/* Custom templates: body is the validated API object. */
enum cw_err ca_template_put(struct store *db, struct arena *a, uint64_t id,
                            json_t *body, const struct store_audit_event *ev,
                            uint64_t *out_id, struct ca_why *why);
enum cw_err ca_template_delete(struct store *db, uint64_t id,
                               const struct store_audit_event *ev);
enum cw_err ca_templates_json(struct store *db, struct arena *a,
                              json_t **out);
enum cw_err ca_template_get_json(struct store *db, struct arena *a,
                                 uint64_t id, json_t **out);
extern const struct ca_template ca_templates[];
extern const size_t ca_ntemplates;
json_t *ca_template_json(const struct ca_template *t);

/* ---- CAs ------------------------------------------------------------- */

#define CA_MAX_DAYS   10950   /* 30 years */
#define LEAF_MAX_DAYS 3650

/* A parsed, validated POST /api/v2/cas body. */
struct ca_new {
    const char *name;
    int         intermediate;
    uint64_t    parent_id;
    json_t     *subject;
    json_t     *key;
    unsigned    validity_days;
    int         path_len;           /* -1: none */
    json_t     *name_constraints;   /* may be NULL */
};

enum cw_err ca_create(struct store *db, const struct cw_config *cfg,
                      const struct ca_new *in,
                      const struct store_audit_event *ev, uint64_t *id,
                      struct ca_why *why);
/* Import a CA certificate (PEM, or base64 of DER, PKCS#7 or PKCS#12 --
 * password opens the PKCS#12 or key_pem) with or without its key. Its
 * parent is the certward CA that signed it, if any. CW_E_CONFLICT when
 * the same certificate is already a CA here. */
enum cw_err ca_import(struct store *db, const struct cw_config *cfg,
                      const char *name, const char *data, size_t len,
                      const char *password, const char *key_pem,
                      const struct store_audit_event *ev, uint64_t *id,
                      struct ca_why *why);
/* An intermediate signed elsewhere: the key is made here, the CA waits
 * ("awaiting_certificate") with a CSR (ca_external_csr) until the signed
 * certificate is installed (ca_external_install). */
enum cw_err ca_create_external(struct store *db, const struct cw_config *cfg,
                               const char *name, json_t *subject,
                               json_t *keyspec, int path_len,
                               const struct store_audit_event *ev,
                               uint64_t *id, struct ca_why *why);
enum cw_err ca_external_csr(struct store *db, struct arena *a, uint64_t id,
                            struct buf *pem, struct ca_why *why);
enum cw_err ca_external_install(struct store *db,
                                const struct cw_config *cfg, uint64_t id,
                                const char *text, size_t len,
                                const struct store_audit_event *ev,
                                struct ca_why *why);
/* The CA as API JSON (with "pem"); CW_E_NOTFOUND. */
enum cw_err ca_get_json(struct store *db, const struct cw_config *cfg,
                        struct arena *a, uint64_t id, json_t **out);
struct ca_list_filter {
    const char *q;          /* name or slug prefix, or part of the subject */
    const char *status;     /* active, revoked, awaiting_certificate      */
    uint64_t    parent_id;  /* children of this CA (the tree view)         */
    int         sort_name;  /* by name instead of by id                    */
};
enum cw_err ca_list_json(struct store *db, const struct cw_config *cfg,
                         struct arena *a, const struct ca_list_filter *f,
                         uint64_t page, uint64_t per_page, json_t **out,
                         uint64_t *total);
/* format: pem, der, chain, p7b. */
enum cw_err ca_export(struct store *db, const struct cw_config *cfg,
                      struct arena *a, uint64_t id, const char *format,
                      struct buf *out, const char **ctype);

/* ---- stored requests (/api/v2/csrs) ---------------------------------- */

enum cw_err ca_csr_upload(struct store *db, const struct cw_config *cfg,
                          const char *name, const uint8_t *p, size_t len,
                          const struct store_audit_event *ev, uint64_t *id,
                          struct ca_why *why);
/* A new key (kept wrapped until the request is signed) and a request. */
enum cw_err ca_csr_generate(struct store *db, const struct cw_config *cfg,
                            const char *name, json_t *subject, json_t *sans,
                            json_t *keyspec,
                            const struct store_audit_event *ev, uint64_t *id,
                            struct ca_why *why);
enum cw_err ca_csr_get_json(struct store *db, struct arena *a, uint64_t id,
                            json_t **out);
enum cw_err ca_csr_list_json(struct store *db, struct arena *a,
                             const char *status, const char *q,
                             uint64_t page, uint64_t per_page, json_t **out,
                             uint64_t *total, struct ca_why *why);
enum cw_err ca_csr_sign(struct store *db, const struct cw_config *cfg,
                        uint64_t id, uint64_t ca_id,
                        const char *template_name, unsigned validity_days,
                        const struct store_audit_event *ev,
                        uint64_t *cert_id, struct ca_why *why);
enum cw_err ca_csr_reject(struct store *db, uint64_t id, const char *reason,
                          const struct store_audit_event *ev,
                          struct ca_why *why);
enum cw_err ca_csr_delete(struct store *db, uint64_t id,
                          const struct store_audit_event *ev);

/* Take a CA offline: mode "password_protected" (key re-wrapped under the
 * password) or "file_exported" (pem receives the encrypted PKCS#8 key,
 * which is removed from the database). The password must pass the
 * password policy. */
enum cw_err ca_offline(struct store *db, const struct cw_config *cfg,
                       uint64_t id, const char *mode, const char *password,
                       const struct store_audit_event *ev, struct buf *pem,
                       struct ca_why *why);
/* Back online: the password of a password_protected key, or the exported
 * file (key_pem + password) -- also how a certificate-only CA receives
 * its key, checked to match the certificate. */
enum cw_err ca_restore(struct store *db, const struct cw_config *cfg,
                       uint64_t id, const char *password,
                       const uint8_t *key_pem, size_t key_len,
                       const struct store_audit_event *ev,
                       struct ca_why *why);
/* Retire a CA: it signs nothing more; an intermediate's certificate is
 * revoked on its parent. */
enum cw_err ca_revoke(struct store *db, uint64_t id, const char *reason,
                      const struct store_audit_event *ev,
                      struct ca_why *why);

/* ---- certificates ---------------------------------------------------- */

struct ca_issue_req {
    uint64_t    ca_id;
    const char *template_name;
    json_t     *subject;         /* may be NULL with a CSR               */
    const X509_NAME *subject_name; /* or the subject itself (renewals)   */
    json_t     *sans;            /* may be NULL                          */
    json_t     *key;             /* server-generated key spec, or NULL   */
    const uint8_t *csr;          /* PEM or base64 DER CSR, or NULL       */
    int         csr_der;         /* csr is raw DER (a stored request)    */
    size_t      csr_len;
    unsigned    validity_days;
    uint64_t    renewed_from;    /* 0, or the certificate renewed        */
    /* The key of a request generated here (csrs row), moved to the new
     * certificate. */
    const uint8_t *csr_key;
    size_t      csr_key_len;
    uint64_t    csr_id;
    /* When not NULL: the issued certificate as ca_cert_get_json() renders
     * it, from what ca_issue() has at hand (no read, no parse). */
    json_t    **doc;
};

enum cw_err ca_issue(struct store *db, const struct cw_config *cfg,
                     const struct ca_issue_req *in,
                     const struct store_audit_event *ev, uint64_t *id,
                     struct ca_why *why);
enum cw_err ca_cert_get_json(struct store *db, struct arena *a, uint64_t id,
                             json_t **out);

struct ca_cert_filter {
    const char *q;
    const char *status;        /* valid, revoked, expired, expiring      */
    uint64_t    ca_id;
    const char *template_name;
    const char *expires_before; /* SQL DATETIME text or ""              */
    const char *expires_after;  /* SQL DATETIME text or "" (inclusive)  */
    const char *sort;          /* "not_after", "-created_at", ...       */
    const char *key_type;      /* "ec", "rsa", "ed25519", "ec-p256" ...  */
    uint64_t    after_id;      /* keyset cursor: rows after this one, 0 */
};
/* meta.total of a list: exact up to LIM_LIST_COUNT, else LIM_LIST_COUNT
 * with exact 0 (a lower bound). next_after: the id to pass as ?after=
 * for the next page, 0 when the page was not full. */
struct ca_list_total {
    uint64_t total;
    int      exact;
    uint64_t next_after;
};
/* The certificates matching f, in f->sort order, over the whole table.
 * CW_E_BADREQ (why set) for a bad filter, sort or cursor. */
enum cw_err ca_cert_list_json(struct store *db, struct arena *a,
                              const struct ca_cert_filter *f, uint64_t page,
                              uint64_t per_page, json_t **out,
                              struct ca_list_total *total,
                              struct ca_why *why);
enum cw_err ca_cert_export(struct store *db, const struct cw_config *cfg,
                           struct arena *a, uint64_t id, const char *format,
                           struct buf *out, const char **ctype);
/* PKCS#12 with the server-generated key; audited. CW_E_CONFLICT when the
 * certificate has no key here. */
enum cw_err ca_cert_export_p12(struct store *db, const struct cw_config *cfg,
                               struct arena *a, uint64_t id,
                               const char *password,
                               const struct store_audit_event *ev,
                               struct buf *out);
/* format "p12" (certificate, key and chain) or "pkcs8" (the key alone,
 * encrypted PKCS#8 PEM); audited. */
enum cw_err ca_cert_export_key(struct store *db, const struct cw_config *cfg,
                               struct arena *a, uint64_t id,
                               const char *format, const char *password,
                               const struct store_audit_event *ev,
                               struct buf *out);
/* RFC 5280 reason name; invalidity "" or SQL DATETIME text. */
enum cw_err ca_cert_revoke(struct store *db, uint64_t id, const char *reason,
                           const char *invalidity,
                           const struct store_audit_event *ev,
                           struct ca_why *why);
/* A new certificate with the same CA, template, subject and SANs, a new
 * key of the same type (or from csr when given), linked to the old one.
 * validity_days 0: the old certificate's lifetime. */
enum cw_err ca_cert_renew(struct store *db, const struct cw_config *cfg,
                          uint64_t id, const uint8_t *csr, size_t csr_len,
                          unsigned validity_days,
                          const struct store_audit_event *ev,
                          uint64_t *new_id, struct ca_why *why);
/* Lift a certificateHold. CW_E_CONFLICT when not on hold. */
enum cw_err ca_cert_release(struct store *db, uint64_t id,
                            const struct store_audit_event *ev,
                            struct ca_why *why);
/* Delete an expired or revoked certificate (CW_E_CONFLICT otherwise). */
enum cw_err ca_cert_delete(struct store *db, uint64_t id,
                           const struct store_audit_event *ev,
                           struct ca_why *why);
/* The RFC 5280 CRLReason code of a name, or -1. */
int ca_reason_code(const char *name);

/* ---- revocation services (crl.c, ocsp.c) ----------------------------- */

struct ca_crl_meta {
    uint64_t    number;
    uint64_t    delta_base;     /* 0 for a full CRL                      */
    time_t      this_update;
    time_t      next_update;
    uint64_t    entries;
    const char *source;         /* "generated" or "uploaded"             */
};

/* Generate and store a full (delta 0) or delta CRL now. ev NULL: a
 * system event (cron, regeneration on fetch). CW_E_BUSY when another
 * generator holds the CA's lease; CW_E_CONFLICT when the CA cannot sign
 * (offline, retired, no key); CW_E_NOTFOUND for a delta of a CA that
 * publishes none. */
enum cw_err ca_crl_generate(struct store *db, const struct cw_config *cfg,
                            uint64_t id, int delta,
                            const struct store_audit_event *ev,
                            struct ca_crl_meta *meta, struct ca_why *why);

/* What /cdp serves. */
struct ca_crl_doc {
    struct ca_crl_meta meta;
    char               etag[64];
    int                not_modified;   /* if_none_match matched          */
    const uint8_t     *der;            /* arena memory                   */
    size_t             der_len;
};
/* The newest CRL of the CA with slug; a missing or expired one is
 * regenerated first when the CA can sign (CW_E_BUSY when someone else is
 * at it and there is no previous CRL to hand out). */
enum cw_err ca_crl_fetch(struct store *db, const struct cw_config *cfg,
                         struct arena *a, const char *slug, int delta,
                         const char *if_none_match, struct ca_crl_doc *out);
enum cw_err ca_crl_info_json(struct store *db, const struct cw_config *cfg,
                             struct arena *a, uint64_t id, json_t **out);
enum cw_err ca_crl_settings_put(struct store *db, uint64_t id,
                                unsigned crl_days, unsigned delta_hours,
                                unsigned ocsp_hours, const char *ocsp_signer,
                                const struct store_audit_event *ev,
                                struct ca_why *why);
/* An offline CA's CRL signed elsewhere (PEM or DER): its signature must
 * verify with the CA's key, its issuer be the CA, its number be above
 * every number used so far. */
enum cw_err ca_crl_upload(struct store *db, const struct cw_config *cfg,
                          uint64_t id, const uint8_t *data, size_t len,
                          const struct store_audit_event *ev,
                          struct ca_why *why);
/* The AIA caIssuers certificate (DER, arena) of the CA with slug. */
enum cw_err ca_cert_by_slug(struct store *db, struct arena *a,
                            const char *slug, const uint8_t **der,
                            size_t *len);

/* An OCSP request (DER) answered: out receives the OCSPResponse DER, an
 * error response for what the request cannot be answered (RFC 6960
 * 2.3). *max_age is the seconds the answer may be cached (0: never, as
 * with a nonce). Only database failures return an error. */
enum cw_err ca_ocsp_answer(struct store *db, const struct cw_config *cfg,
                           const uint8_t *req, size_t len, struct buf *out,
                           long *max_age);

/* Map the node's OCSP answer cache (the master, before forking). */
void ca_ocsp_cache_init(void);
/* Free what this thread keeps for answering OCSP (thread exit). */
void ca_ocsp_thread_cleanup(void);

/* cron tasks */
enum cw_err ca_crl_regen_due(struct store *db, const struct cw_config *cfg,
                             char *detail, size_t detail_len);
enum cw_err ca_ocsp_presign_due(struct store *db, const struct cw_config *cfg,
                                char *detail, size_t detail_len);
enum cw_err ca_ocsp_responders_renew(struct store *db,
                                     const struct cw_config *cfg,
                                     char *detail, size_t detail_len);

#endif

/*
 * signer.c: in-process signer. Trusts its caller for the row identity
 * (the wrapping binds the blob to it, so a wrong pairing fails to unwrap);
 * plaintext keys exist only inside these functions and are wiped.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <argon2.h>
#include <sodium.h>

#include "pki/key.h"
#include "pki/ocsp.h"
#include "pki/sign.h"
#include "signer/signer.h"
#include "signer/wrap.h"
#include "util/log.h"

static void
key_ad(const char *table, uint64_t id, char *out, size_t n)
{
    snprintf(out, n, "%s:%llu:key", table, (unsigned long long)id);
}

enum cw_err
signer_key_wrap(const struct cw_config *cfg, const char *table, uint64_t id,
                EVP_PKEY *key, struct buf *out)
{
    struct buf  der;
    char        ad[96];
    enum cw_err err;

    buf_init(&der, 65536);
    key_ad(table, id, ad, sizeof(ad));
    err = pki_key_to_pkcs8_der(key, &der);
    if (err == CW_OK)
        err = signer_wrap(cfg->master_key, ad, der.p, der.len, out);
    buf_cleanup_secret(&der);
    return err;
}

static enum cw_err
unwrap_key(const struct cw_config *cfg, const char *table, uint64_t id,
           const uint8_t *blob, size_t len, EVP_PKEY **out)
{
    struct buf  der;
    char        ad[96];
    enum cw_err err;

    buf_init(&der, 65536);
    key_ad(table, id, ad, sizeof(ad));
    err = signer_unwrap(cfg->master_key, ad, blob, len, &der);
    if (err == CW_OK)
        err = pki_key_parse_pkcs8_der(der.p, der.len, out);
    buf_cleanup_secret(&der);
    if (err != CW_OK)
        log_err("signer: the key of %s %llu is not usable", table,
                (unsigned long long)id);
    return err == CW_OK ? CW_OK : CW_E_CRYPTO;
}

/*
 * Signing keys of the CAs this thread used last, for a short while:
 * decoding a key costs more than the signature (OpenSSL 3's decoders).
 * An entry is keyed by its row and a hash of the wrapped blob, so a key
 * that changed (restored, re-wrapped) or moved is never reused; entries
 * expire after SIGNER_CACHE_SEC and are freed (OpenSSL clears the key).
 * The keys stay inside signer/, as DESIGN.md section 5 requires.
 */
#define SIGNER_CACHE_KEYS 8
#define SIGNER_CACHE_SEC  60

struct key_slot {
    char      table[16];
    uint64_t  id;
    uint8_t   blob_hash[32];
    time_t    loaded;
    EVP_PKEY *key;
};

static _Thread_local struct key_slot key_cache[SIGNER_CACHE_KEYS];

static EVP_PKEY *
cache_get(const char *table, uint64_t id, const uint8_t h[32], time_t now)
{
    for (int i = 0; i < SIGNER_CACHE_KEYS; i++) {
        struct key_slot *s = &key_cache[i];

        if (s->key == NULL)
            continue;
        if (now - s->loaded >= SIGNER_CACHE_SEC) {
            EVP_PKEY_free(s->key);
            memset(s, 0, sizeof(*s));
            continue;
        }
        if (s->id == id && strcmp(s->table, table) == 0 &&
            sodium_memcmp(s->blob_hash, h, 32) == 0)
            return s->key;
    }
    return NULL;
}

static void
cache_put(const char *table, uint64_t id, const uint8_t h[32], time_t now,
          EVP_PKEY *key)
{
    struct key_slot *victim = &key_cache[0];

    for (int i = 0; i < SIGNER_CACHE_KEYS; i++) {
        if (key_cache[i].key == NULL) {
            victim = &key_cache[i];
            break;
        }
        if (key_cache[i].loaded < victim->loaded)
            victim = &key_cache[i];
    }
    EVP_PKEY_free(victim->key);
    memset(victim, 0, sizeof(*victim));
    snprintf(victim->table, sizeof(victim->table), "%s", table);
    victim->id = id;
    memcpy(victim->blob_hash, h, 32);
    victim->loaded = now;
    victim->key = key;
}

void
signer_thread_cleanup(void)
{
    for (int i = 0; i < SIGNER_CACHE_KEYS; i++) {
        EVP_PKEY_free(key_cache[i].key);
        memset(&key_cache[i], 0, sizeof(key_cache[i]));
    }
}

/* One signature operation of any kind, with the key from the per-thread
 * cache or freshly unwrapped. */
struct sign_op {
    enum { OP_CERT, OP_BYTES, OP_OCSP } kind;
    X509            *tbs;
    const uint8_t   *bytes;
    size_t           nbytes;
    struct buf      *sig;
    OCSP_BASICRESP  *bs;
    X509            *ocsp_cert;
    STACK_OF(X509)  *ocsp_extra;
};

static enum cw_err
op_run(const struct sign_op *op, EVP_PKEY *key)
{
    switch (op->kind) {
    case OP_CERT:
        return pki_cert_sign(op->tbs, key);
    case OP_BYTES:
        return pki_sign_bytes(key, op->bytes, op->nbytes, op->sig);
    case OP_OCSP:
        return pki_ocsp_sign(op->bs, op->ocsp_cert, key, op->ocsp_extra);
    }
    return CW_E_INTERNAL;
}

static enum cw_err
sign_with(const struct cw_config *cfg, const char *table, uint64_t id,
          const uint8_t *blob, size_t len, const struct sign_op *op)
{
    EVP_PKEY   *key = NULL;
    uint8_t     h[32];
    time_t      now = time(NULL);
    enum cw_err err;

    crypto_generichash(h, sizeof(h), blob, len, NULL, 0);
    key = cache_get(table, id, h, now);
    if (key != NULL)
        return op_run(op, key);
    err = unwrap_key(cfg, table, id, blob, len, &key);
    if (err != CW_OK)
        return err;
    err = op_run(op, key);
    if (err == CW_OK && strlen(table) < sizeof(key_cache[0].table))
        cache_put(table, id, h, now, key);   /* the cache owns it now */
    else
        EVP_PKEY_free(key);
    return err;
}

enum cw_err
signer_sign_cert(const struct cw_config *cfg, const char *table, uint64_t id,
                 const uint8_t *blob, size_t len, X509 *tbs)
{
    struct sign_op op = { .kind = OP_CERT, .tbs = tbs };

    return sign_with(cfg, table, id, blob, len, &op);
}

enum cw_err
signer_sign_bytes(const struct cw_config *cfg, const char *table,
                  uint64_t id, const uint8_t *blob, size_t len,
                  const uint8_t *tbs, size_t tbs_len, struct buf *sig)
{
    struct sign_op op = { .kind = OP_BYTES, .bytes = tbs, .nbytes = tbs_len,
                          .sig = sig };

    return sign_with(cfg, table, id, blob, len, &op);
}

enum cw_err
signer_sign_ocsp(const struct cw_config *cfg, const char *table, uint64_t id,
                 const uint8_t *blob, size_t len, OCSP_BASICRESP *bs,
                 X509 *signer_cert, STACK_OF(X509) *extra)
{
    struct sign_op op = { .kind = OP_OCSP, .bs = bs, .ocsp_cert = signer_cert,
                          .ocsp_extra = extra };

    return sign_with(cfg, table, id, blob, len, &op);
}

enum cw_err
signer_key_export(const struct cw_config *cfg, const char *table,
                  uint64_t id, const uint8_t *blob, size_t len,
                  EVP_PKEY **out)
{
    return unwrap_key(cfg, table, id, blob, len, out);
}

#define PW_MAGIC "cwpw"
#define PW_HEAD  (4 + 4 + 4 + 1 + 16)

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static enum cw_err
pw_key(const char *password, uint32_t t, uint32_t m, uint8_t par,
       const uint8_t salt[16], uint8_t key[32])
{
    /* Bounded parameters: the header is stored data, not code. */
    if (t < 1 || t > 64 || m < 8 || m > 4194304 || par < 1 || par > 64)
        return CW_E_CRYPTO;
    if (argon2id_hash_raw(t, m, par, password, strlen(password), salt, 16,
                          key, 32) != ARGON2_OK)
        return CW_E_CRYPTO;
    return CW_OK;
}

enum cw_err
signer_key_to_password(const struct cw_config *cfg, const char *table,
                       uint64_t id, const uint8_t *blob, size_t len,
                       const char *password, struct buf *out)
{
    struct buf  der;
    uint8_t     head[PW_HEAD];
    uint8_t     key[32];
    char        ad[96];
    enum cw_err err;

    buf_init(&der, 65536);
    key_ad(table, id, ad, sizeof(ad));
    err = signer_unwrap(cfg->master_key, ad, blob, len, &der);
    if (err != CW_OK)
        goto out;
    memcpy(head, PW_MAGIC, 4);
    put32(head + 4, cfg->argon2_iterations);
    put32(head + 8, cfg->argon2_memory_kib);
    head[12] = (uint8_t)cfg->argon2_parallelism;
    randombytes_buf(head + 13, 16);
    err = pw_key(password, cfg->argon2_iterations, cfg->argon2_memory_kib,
                 (uint8_t)cfg->argon2_parallelism, head + 13, key);
    if (err == CW_OK)
        err = buf_append(out, head, sizeof(head));
    if (err == CW_OK)
        err = signer_wrap(key, ad, der.p, der.len, out);
out:
    sodium_memzero(key, sizeof(key));
    buf_cleanup_secret(&der);
    return err;
}

enum cw_err
signer_key_from_password(const struct cw_config *cfg, const char *table,
                         uint64_t id, const uint8_t *blob, size_t len,
                         const char *password, struct buf *out)
{
    struct buf  der;
    uint8_t     key[32];
    char        ad[96];
    enum cw_err err;

    if (len < PW_HEAD || memcmp(blob, PW_MAGIC, 4) != 0)
        return CW_E_CRYPTO;
    buf_init(&der, 65536);
    key_ad(table, id, ad, sizeof(ad));
    err = pw_key(password, get32(blob + 4), get32(blob + 8), blob[12],
                 blob + 13, key);
    if (err == CW_OK &&
        signer_unwrap(key, ad, blob + PW_HEAD, len - PW_HEAD, &der) != CW_OK)
        err = CW_E_UNAUTH;   /* wrong password (or tampering) */
    if (err == CW_OK)
        err = signer_wrap(cfg->master_key, ad, der.p, der.len, out);
    sodium_memzero(key, sizeof(key));
    buf_cleanup_secret(&der);
    return err;
}

enum cw_err
signer_key_export_pem(const struct cw_config *cfg, const char *table,
                      uint64_t id, const uint8_t *blob, size_t len,
                      const char *password, struct buf *out)
{
    EVP_PKEY   *key = NULL;
    enum cw_err err;

    err = unwrap_key(cfg, table, id, blob, len, &key);
    if (err == CW_OK)
        err = pki_key_export_pem(key, password, out);
    EVP_PKEY_free(key);
    return err;
}

enum cw_err
signer_key_rebind(const struct cw_config *cfg, const char *from_table,
                  uint64_t from_id, const char *to_table, uint64_t to_id,
                  const uint8_t *blob, size_t len, struct buf *out)
{
    struct buf  der;
    char        from[96];
    char        to[96];
    enum cw_err err;

    buf_init(&der, 65536);
    key_ad(from_table, from_id, from, sizeof(from));
    key_ad(to_table, to_id, to, sizeof(to));
    err = signer_unwrap(cfg->master_key, from, blob, len, &der);
    if (err == CW_OK)
        err = signer_wrap(cfg->master_key, to, der.p, der.len, out);
    buf_cleanup_secret(&der);
    return err;
}

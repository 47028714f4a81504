/*
 * ocsp_cache.c: the node's cache of OCSP answers, a fixed-size table in a
 * MAP_SHARED anonymous mapping made by the master before it forks, so all
 * workers of a node share it (striped process-shared mutexes, as the rate
 * limiter). A hit answers without the database.
 *
 * Freshness: an entry lives OCSP_CACHE_TTL_MS at most. A revocation made
 * on this node bumps the table's generation (before and after its commit),
 * which retires every entry at once; one made on another node shows here
 * within OCSP_CACHE_TTL_MS -- a bound far below the hours for which
 * relying parties may cache any OCSP answer (RFC 5019 section 6).
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <sodium.h>

#include "ca/ca-int.h"
#include "util/log.h"
#include "util/mem.h"

#define OC_SLOTS    16384u
#define OC_STRIPES  256u
#define OC_PROBE    4u
#define OC_KEY_MAX  160u
#define OC_DER_MAX  1536u    /* larger answers (RSA 4096 + chain) skip it */
#define OCSP_CACHE_TTL_MS 5000

struct oc_slot {
    uint64_t hash;           /* 0 = empty                              */
    uint64_t generation;
    int64_t  expires_ms;     /* monotonic                              */
    time_t   next_update;
    uint16_t key_len;
    uint16_t der_len;
    uint8_t  key[OC_KEY_MAX];
    uint8_t  der[OC_DER_MAX];
};

struct oc_table {
    pthread_mutex_t  locks[OC_STRIPES];
    _Atomic uint64_t generation;
    uint8_t          hashkey[16];
    struct oc_slot   s[OC_SLOTS];
};

static struct oc_table *oc;

void
ca_ocsp_cache_init(void)
{
    pthread_mutexattr_t attr;
    void               *p;

    if (oc != NULL)
        return;
    /* Pages are touched as entries arrive: an idle node pays nothing. */
    p = mmap(NULL, sizeof(*oc), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        log_warn("OCSP cache: mmap failed; answering without it");
        return;
    }
    oc = p;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    for (unsigned i = 0; i < OC_STRIPES; i++)
        pthread_mutex_init(&oc->locks[i], &attr);
    pthread_mutexattr_destroy(&attr);
    atomic_store(&oc->generation, 1);
    randombytes_buf(oc->hashkey, sizeof(oc->hashkey));
}

void
ca_ocsp_cache_invalidate(void)
{
    if (oc != NULL)
        atomic_fetch_add(&oc->generation, 1);
}

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
key_hash(const uint8_t *key, size_t len)
{
    uint64_t h;

    crypto_shorthash((uint8_t *)&h, key, len, oc->hashkey);
    return h == 0 ? 1 : h;
}

int
ca_ocsp_cache_get(const uint8_t *key, size_t key_len, struct buf *out,
                  time_t *next_update)
{
    uint64_t h;
    uint64_t gen;
    unsigned slot;
    unsigned stripe;
    int64_t  now;
    int      hit = 0;

    if (oc == NULL || key_len > OC_KEY_MAX)
        return 0;
    h = key_hash(key, key_len);
    gen = atomic_load(&oc->generation);
    now = mono_ms();
    slot = (unsigned)(h % OC_SLOTS) & ~(OC_PROBE - 1);
    stripe = (slot / OC_PROBE) % OC_STRIPES;
    pthread_mutex_lock(&oc->locks[stripe]);
    for (unsigned i = 0; i < OC_PROBE; i++) {
        struct oc_slot *s = &oc->s[slot + i];

        if (s->hash != h || s->key_len != key_len ||
            memcmp(s->key, key, key_len) != 0)
            continue;
        if (s->generation == gen && s->expires_ms > now) {
            buf_reset(out);
            hit = buf_append(out, s->der, s->der_len) == CW_OK;
            *next_update = s->next_update;
        }
        break;
    }
    pthread_mutex_unlock(&oc->locks[stripe]);
    return hit;
}

void
ca_ocsp_cache_put(const uint8_t *key, size_t key_len, const uint8_t *der,
                  size_t der_len, time_t next_update)
{
    struct oc_slot *victim = NULL;
    uint64_t        h;
    uint64_t        gen;
    unsigned        slot;
    unsigned        stripe;
    int64_t         now;

    if (oc == NULL || key_len > OC_KEY_MAX || der_len > OC_DER_MAX)
        return;
    h = key_hash(key, key_len);
    gen = atomic_load(&oc->generation);
    now = mono_ms();
    slot = (unsigned)(h % OC_SLOTS) & ~(OC_PROBE - 1);
    stripe = (slot / OC_PROBE) % OC_STRIPES;
    pthread_mutex_lock(&oc->locks[stripe]);
    for (unsigned i = 0; i < OC_PROBE; i++) {
        struct oc_slot *s = &oc->s[slot + i];

        if (s->hash == h) {
            victim = s;
            break;
        }
        /* Otherwise the entry closest to its end (empty ones first). */
        if (victim == NULL || s->expires_ms < victim->expires_ms)
            victim = s;
    }
    victim->hash = h;
    victim->generation = gen;
    victim->expires_ms = now + OCSP_CACHE_TTL_MS;
    victim->next_update = next_update;
    victim->key_len = (uint16_t)key_len;
    victim->der_len = (uint16_t)der_len;
    memcpy(victim->key, key, key_len);
    memcpy(victim->der, der, der_len);
    pthread_mutex_unlock(&oc->locks[stripe]);
}

/*
 * ocsp_cache.c: the node's cache of OCSP answers, a fixed-size table in a
 * MAP_SHARED anonymous mapping made by the master before it forks, so all
 * workers of a node share it (striped process-shared mutexes, as the rate
 * limiter). A hit answers without the database.
 *
 * Freshness: every entry carries the table's generation read before the
 * database read it came from, and is served only while that is still the
 * table's generation. The generation moves
 *  - on this node, when a revocation is made here (before and after its
 *    commit), at once;
 *  - for changes made on other nodes: once per OCSP_CACHE_SYNC_MS one
 *    thread of the node reads the sum and count of the CAs'
 *    revocation_seq (a revocation, hold, release or OCSP settings change
 *    bumps it in its own transaction) and moves the generation when they
 *    differ from what it saw last. Entries are served only while such a
 *    check succeeded within OCSP_CACHE_SYNC_MAX_MS, so a node that cannot
 *    check falls back to the database;
 *  - and an entry lives OCSP_CACHE_TTL_MS at most, which bounds the
 *    changes that do not bump revocation_seq (a deleted certificate).
 * All of these are far below the hours for which relying parties may
 * cache any OCSP answer (RFC 5019 section 6).
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
#include "store/store.h"
#include "util/log.h"
#include "util/mem.h"

/* Buckets of OC_PROBE slots. With 4-slot buckets, 10,000 answers in
 * 16,384 slots put 23% of them in overfull buckets, where clients cycling
 * through them evict each other on every request; with 8-slot buckets in
 * 32,768 slots that is 0.4% of 10,000 answers (12% of 20,000). The
 * mapping (about 57 MiB) is touched only where entries land. */
#define OC_SLOTS    32768u
#define OC_STRIPES  256u
#define OC_PROBE    8u
#define OC_KEY_MAX  160u
#define OC_DER_MAX  1536u    /* larger answers (RSA 4096 + chain) skip it */
#define OCSP_CACHE_TTL_MS      60000
#define OCSP_CACHE_SYNC_MS     1000
#define OCSP_CACHE_SYNC_MAX_MS 3000

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
    _Atomic int64_t  sync_claimed_ms;  /* the last check started (mono) */
    _Atomic int64_t  sync_ok_ms;       /* the last check that succeeded */
    pthread_mutex_t  sync_lock;        /* guards seq_sum, seq_count     */
    uint64_t         seq_sum;
    uint64_t         seq_count;
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
    pthread_mutex_init(&oc->sync_lock, &attr);
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

uint64_t
ca_ocsp_cache_gen(void)
{
    return oc != NULL ? atomic_load(&oc->generation) : 0;
}

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Changes of any CA's revocation_seq, whichever node made them. */
static const char sql_seq[] =
    "SELECT COALESCE(SUM(revocation_seq), 0), COUNT(*) FROM cas";

void
ca_ocsp_cache_sync(struct store *db)
{
    struct arena      a;
    struct store_rows rows;
    int64_t           now;
    int64_t           last;

    if (oc == NULL)
        return;
    now = mono_ms();
    last = atomic_load(&oc->sync_claimed_ms);
    if (now - last < OCSP_CACHE_SYNC_MS ||
        !atomic_compare_exchange_strong(&oc->sync_claimed_ms, &last, now))
        return;   /* checked lately, or another thread checks now */
    arena_init(&a);
    if (store_query(db, &a, sql_seq, NULL, 0, &rows) == CW_OK &&
        rows.nrows == 1) {
        uint64_t sum = store_cell_u64(&rows, 0, 0);
        uint64_t count = store_cell_u64(&rows, 0, 1);

        pthread_mutex_lock(&oc->sync_lock);
        if (sum != oc->seq_sum || count != oc->seq_count) {
            atomic_fetch_add(&oc->generation, 1);
            oc->seq_sum = sum;
            oc->seq_count = count;
        }
        pthread_mutex_unlock(&oc->sync_lock);
        /* The check started at now: what committed before it is seen. */
        atomic_store(&oc->sync_ok_ms, now);
    }
    arena_reset(&a);
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
    now = mono_ms();
    if (now - atomic_load(&oc->sync_ok_ms) > OCSP_CACHE_SYNC_MAX_MS)
        return 0;   /* other nodes' changes unchecked for too long */
    h = key_hash(key, key_len);
    gen = atomic_load(&oc->generation);
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
                  size_t der_len, time_t next_update, uint64_t gen)
{
    struct oc_slot *victim = NULL;
    uint64_t        h;
    unsigned        slot;
    unsigned        stripe;
    int64_t         now;

    if (oc == NULL || key_len > OC_KEY_MAX || der_len > OC_DER_MAX)
        return;
    /* Read under an older generation: already stale, keep what is there. */
    if (gen != atomic_load(&oc->generation))
        return;
    h = key_hash(key, key_len);
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

/*
 * ratelimit.c: a fixed-size open-addressing table of token buckets in a
 * MAP_SHARED anonymous mapping, striped with process-shared mutexes. The
 * table never grows: when a probe window is full the stalest bucket is
 * reused, so a flood of addresses costs memory we already hold.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "auth/ratelimit.h"
#include "util/log.h"
#include "util/mem.h"

#define RL_SLOTS   16384u
#define RL_STRIPES 64u
#define RL_PROBE   8u

struct rl_bucket {
    uint64_t key;       /* 0 = empty                                 */
    int64_t  last_ms;   /* last refill                               */
    double   tokens;
    int      denied;    /* currently refusing                        */
};

struct rl_table {
    pthread_mutex_t  locks[RL_STRIPES];
    uint8_t          hashkey[16];
    struct rl_bucket b[RL_SLOTS];
};

static struct rl_table *rl;

void
auth_ratelimit_init(void)
{
    pthread_mutexattr_t attr;
    void               *p;

    if (rl != NULL)
        return;
    p = mmap(NULL, sizeof(*rl), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        cw_assert_fail("mmap of the rate-limit table", __FILE__, __LINE__);
    rl = p;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    for (unsigned i = 0; i < RL_STRIPES; i++)
        pthread_mutex_init(&rl->locks[i], &attr);
    pthread_mutexattr_destroy(&attr);
    /* Keyed hash: clients cannot aim many addresses at one slot. */
    randombytes_buf(rl->hashkey, sizeof(rl->hashkey));
}

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
auth_ratelimit_take(int cls, const char *addr, unsigned per_minute,
                    unsigned burst, struct auth_rl_result *out)
{
    uint64_t          key;
    uint8_t           in[64];
    size_t            n;
    unsigned          slot;
    unsigned          stripe;
    struct rl_bucket *b = NULL;
    struct rl_bucket *stale = NULL;
    int64_t           now = mono_ms();
    double            rate;
    double            cap = burst > 0 ? burst : 1;

    memset(out, 0, sizeof(*out));
    out->allowed = 1;
    out->limit = per_minute;
    if (per_minute == 0)
        return;
    auth_ratelimit_init();   /* loopback use without a master */
    n = strnlen(addr, 60);
    in[0] = (uint8_t)cls;
    memcpy(in + 1, addr, n);
    crypto_shorthash((uint8_t *)&key, in, n + 1, rl->hashkey);
    if (key == 0)
        key = 1;
    slot = (unsigned)(key % RL_SLOTS) & ~(RL_PROBE - 1);
    stripe = (slot / RL_PROBE) % RL_STRIPES;
    rate = per_minute / 60000.0;   /* tokens per ms */

    pthread_mutex_lock(&rl->locks[stripe]);
    for (unsigned i = 0; i < RL_PROBE; i++) {
        struct rl_bucket *c = &rl->b[slot + i];

        if (c->key == key) {
            b = c;
            break;
        }
        if (stale == NULL || c->key == 0 || c->last_ms < stale->last_ms)
            if (stale == NULL || stale->key != 0)
                stale = c;
    }
    if (b == NULL) {
        b = stale;
        b->key = key;
        b->tokens = cap;
        b->last_ms = now;
        b->denied = 0;
    }
    b->tokens += (double)(now - b->last_ms) * rate;
    if (b->tokens > cap)
        b->tokens = cap;
    b->last_ms = now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        b->denied = 0;
    } else {
        out->allowed = 0;
        out->first_denial = !b->denied;
        b->denied = 1;
        out->retry_after = (unsigned)((1.0 - b->tokens) / rate / 1000.0) + 1;
    }
    out->remaining = (unsigned)b->tokens;
    out->reset = (unsigned)((cap - b->tokens) / rate / 1000.0 + 0.999);
    pthread_mutex_unlock(&rl->locks[stripe]);
}

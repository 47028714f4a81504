/*
 * epoch.c: shared reads of the authentication epoch. A read serves every
 * request that arrived before it was sent: a request waits for a read that
 * starts after it arrived, never for one already in flight, so a
 * revocation committed before a request arrived is always seen by it.
 *
 * The coordination lives in a MAP_SHARED page that the master maps before
 * forking, so all worker threads of a node share reads. A worker that dies
 * in the middle of a read is noticed by the waiters, one of which reads
 * instead.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "auth/epoch.h"
#include "cw_limits.h"
#include "util/log.h"
#include "util/mem.h"

/* A waiter checks at this interval whether the reading process still
 * lives. */
#define EPOCH_WAIT_MS 100

static const char sql_epoch[] = "SELECT gen FROM auth_epoch WHERE id = 1";

/* Lock-free. Sequence numbers are 32-bit and compared modulo 2^32. A
 * waiter for read n sleeps on wake[n & 1], so the end of read n - 1 does
 * not wake it for nothing; the reader goes on with the next read itself
 * when someone waits for it (up to EPOCH_CHAIN times in a row), so waiters
 * are woken once. The result word holds the epoch, or with EPOCH_ERR set
 * the error of the read. */
#define EPOCH_ERR   (1ULL << 63)
#define EPOCH_CHAIN 3

struct epoch_shared {
    _Atomic uint32_t done;      /* the latest read that finished         */
    _Atomic uint32_t started;   /* reads sent so far                     */
    _Atomic uint32_t want;      /* the latest read somebody waits for    */
    _Atomic uint32_t wake[2];   /* futex words, by parity of the read    */
    _Atomic int32_t  reader;    /* pid of the process reading, or 0      */
    _Atomic uint64_t result;    /* the result of a read >= done          */
};

static struct epoch_shared *ep;
static pthread_once_t       ep_once = PTHREAD_ONCE_INIT;

static void
epoch_map(void)
{
    void *p = mmap(NULL, sizeof(*ep), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        cw_assert_fail("mmap of the epoch page", __FILE__, __LINE__);
    ep = p;   /* zero-filled: nothing read yet */
}

void
auth_epoch_init(void)
{
    pthread_once(&ep_once, epoch_map);
}

static enum cw_err
epoch_read(struct store *db, struct arena *a, uint64_t *gen)
{
    struct store_rows rows;
    enum cw_err       err;

    err = store_query(db, a, sql_epoch, NULL, 0, &rows);
    if (err == CW_OK) {
        if (rows.nrows == 1) {
            *gen = store_cell_u64(&rows, 0, 0) & ~EPOCH_ERR;
        } else {
            log_err("auth_epoch has no row 1: run certward migrate");
            err = CW_E_SCHEMA;
        }
    }
    return err;
}

static void
futex_wait_ms(_Atomic uint32_t *word, uint32_t val, long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void
futex_wake_all(_Atomic uint32_t *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static int
seq_before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static void
kick(uint32_t seq)
{
    atomic_fetch_add(&ep->wake[seq & 1], 1);
    futex_wake_all(&ep->wake[seq & 1]);
}

/* Read as the reader until nobody waits for a later read (or the chain
 * limit), then step down. */
static void
lead(struct store *db, struct arena *a)
{
    for (int chain = 0;; chain++) {
        uint32_t    mine = atomic_fetch_add(&ep->started, 1) + 1;
        uint64_t    g = 0;
        enum cw_err err = epoch_read(db, a, &g);

        atomic_store(&ep->result,
                     err == CW_OK ? g : EPOCH_ERR | (uint64_t)err);
        atomic_store(&ep->done, mine);
        kick(mine);
        if (!seq_before(mine, atomic_load(&ep->want)))
            break;
        if (chain + 1 >= EPOCH_CHAIN) {
            atomic_store(&ep->reader, 0);
            /* Waiters for the next read: one of them reads. */
            if (seq_before(mine, atomic_load(&ep->want)))
                kick(mine + 1);
            return;
        }
    }
    atomic_store(&ep->reader, 0);
    if (seq_before(atomic_load(&ep->done), atomic_load(&ep->want)))
        kick(atomic_load(&ep->done) + 1);
}

enum cw_err
auth_epoch_get(struct store *db, struct arena *a, uint64_t *gen)
{
    int32_t  me = (int32_t)getpid();
    uint32_t need;
    uint32_t w;
    uint64_t res;

    auth_epoch_init();
    /* A read already sent may have left before we arrived: only the
     * next one counts. */
    need = atomic_load(&ep->started) + 1;
    w = atomic_load(&ep->want);
    while (seq_before(w, need) &&
           !atomic_compare_exchange_weak(&ep->want, &w, need))
        ;
    for (;;) {
        uint32_t token = atomic_load(&ep->wake[need & 1]);
        int32_t  idle = 0;

        if (!seq_before(atomic_load(&ep->done), need))
            break;
        if (atomic_compare_exchange_strong(&ep->reader, &idle, me)) {
            lead(db, a);
            continue;
        }
        /* The reading worker died: its read will never finish. */
        if (idle != me && kill(idle, 0) != 0 && errno == ESRCH)
            atomic_compare_exchange_strong(&ep->reader, &idle, 0);
        else
            futex_wait_ms(&ep->wake[need & 1], token, EPOCH_WAIT_MS);
    }
    res = atomic_load(&ep->result);
    if (res & EPOCH_ERR)
        return (enum cw_err)(res & ~EPOCH_ERR);
    *gen = res;
    return CW_OK;
}

/* The epoch the request this thread serves read, by request id: request
 * ids are random, so the note of an earlier request never matches. */
static _Thread_local char     noted_req[LIM_REQUEST_ID + 1];
static _Thread_local uint64_t noted_gen;

void
auth_epoch_note(const char *request_id, uint64_t gen)
{
    size_t n = request_id != NULL ? strlen(request_id) : 0;

    if (n == 0 || n > LIM_REQUEST_ID) {
        noted_req[0] = '\0';
        return;
    }
    memcpy(noted_req, request_id, n + 1);
    noted_gen = gen;
}

int
auth_epoch_of_request(const char *request_id, uint64_t *gen)
{
    if (request_id == NULL || request_id[0] == '\0' ||
        noted_req[0] == '\0' || strcmp(noted_req, request_id) != 0)
        return 0;
    *gen = noted_gen;
    return 1;
}

/*
 * epoch.c: shared reads of the authentication epoch. A read serves every
 * request that arrived before it was sent: a request waits for a read that
 * starts after it arrived, never for one already in flight, so a
 * revocation committed before a request arrived is always seen by it.
 */
#include "config.h"

#include <pthread.h>

#include "auth/epoch.h"

static const char sql_epoch[] = "SELECT gen FROM auth_epoch WHERE id = 1";

static pthread_mutex_t epoch_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  epoch_cv = PTHREAD_COND_INITIALIZER;
static uint64_t        epoch_started;   /* reads sent so far             */
static uint64_t        epoch_done;      /* the latest read that finished */
static int             epoch_busy;      /* a read is in flight           */
static enum cw_err     epoch_err;       /* outcome of read epoch_done    */
static uint64_t        epoch_gen;

static enum cw_err
epoch_read(struct store *db, uint64_t *gen)
{
    struct arena      a;
    struct store_rows rows;
    enum cw_err       err;

    arena_init(&a);
    err = store_query(db, &a, sql_epoch, NULL, 0, &rows);
    if (err == CW_OK) {
        if (rows.nrows == 1)
            *gen = store_cell_u64(&rows, 0, 0);
        else
            err = CW_E_SCHEMA;
    }
    arena_reset(&a);
    return err;
}

enum cw_err
auth_epoch_get(struct store *db, uint64_t *gen)
{
    uint64_t    need;
    enum cw_err err;

    pthread_mutex_lock(&epoch_mu);
    /* A read already in flight may have been sent before we arrived: only
     * the next one counts. */
    need = epoch_started + 1;
    while (epoch_done < need) {
        if (!epoch_busy) {
            uint64_t mine = ++epoch_started;
            uint64_t g = 0;

            epoch_busy = 1;
            pthread_mutex_unlock(&epoch_mu);
            err = epoch_read(db, &g);
            pthread_mutex_lock(&epoch_mu);
            epoch_busy = 0;
            epoch_done = mine;
            epoch_err = err;
            epoch_gen = g;
            pthread_cond_broadcast(&epoch_cv);
        } else {
            pthread_cond_wait(&epoch_cv, &epoch_mu);
        }
    }
    err = epoch_err;
    *gen = epoch_gen;
    pthread_mutex_unlock(&epoch_mu);
    return err;
}

/*
 * worker.c: one worker process: M threads, each with its own FastCGI
 * request, arena and database connection, all accepting on the shared
 * listening socket. No accept mutex: with kept-alive upstream connections
 * a thread blocked reading the next request would hold it and starve the
 * others. SIGTERM drains: no new requests are accepted, in-flight ones
 * finish, the process exits when all threads are done or drain_timeout
 * has passed.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <mysql.h>

#include "auth/auth.h"
#include "ca/ca.h"
#include "http/http.h"
#include "http/worker.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/log.h"
#include "util/mem.h"

struct worker_thread {
    pthread_t                tid;
    const struct cw_config  *cfg;
    int                      listen_fd;
    atomic_int               done;
};

static atomic_int worker_stopping;

/* FCGX_GetParam(), with the first octet compared before strncmp(): a
 * request looks up some eight names among the twenty or more the web
 * server sends, and this runs for every OCSP answer. */
static const char *
fcgi_param(void *ctx, const char *name)
{
    FCGX_Request *fr = ctx;
    size_t        len;

    if (name == NULL || fr->envp == NULL)
        return NULL;
    len = strlen(name);
    for (char **p = fr->envp; *p != NULL; p++)
        if ((*p)[0] == name[0] && strncmp(*p, name, len) == 0 &&
            (*p)[len] == '=')
            return *p + len + 1;
    return NULL;
}

static long
fcgi_read(void *ctx, uint8_t *p, size_t n)
{
    FCGX_Request *fr = ctx;
    int           chunk = n > 65536 ? 65536 : (int)n;

    return FCGX_GetStr((char *)p, chunk, fr->in);
}

static int
fcgi_write(void *ctx, const uint8_t *p, size_t n)
{
    FCGX_Request *fr = ctx;

    while (n > 0) {
        int chunk = n > 65536 ? 65536 : (int)n;

        if (FCGX_PutStr((const char *)p, chunk, fr->out) != chunk)
            return -1;
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

static void *
thread_main(void *arg)
{
    struct worker_thread *wt = arg;
    FCGX_Request          fr;
    struct http_env       env;
    struct http_io        io = { fcgi_param, fcgi_read, fcgi_write, &fr };
    int                   failures = 0;

    mysql_thread_init();
    http_env_init(&env, wt->cfg, store_new(wt->cfg));
    FCGX_InitRequest(&fr, wt->listen_fd, 0);
    while (!atomic_load(&worker_stopping)) {
        if (FCGX_Accept_r(&fr) < 0) {
            struct timespec ts = { 0, 50 * 1000000L };

            if (atomic_load(&worker_stopping))
                break;
            /* EMFILE and friends: do not spin. */
            if (++failures % 100 == 1)
                log_warn("FastCGI accept failed: %s", strerror(errno));
            nanosleep(&ts, NULL);
            continue;
        }
        failures = 0;
        http_handle(&env, &io);
        FCGX_Finish_r(&fr);
    }
    FCGX_Free(&fr, 1);
    signer_thread_cleanup();
    auth_thread_cleanup();
    ca_ocsp_thread_cleanup();
    http_env_cleanup(&env);
    store_free(env.db);
    mysql_thread_end();
    atomic_store(&wt->done, 1);
    return NULL;
}

static void
wake_handler(int sig)
{
    (void)sig;  /* only interrupts accept()/read() */
}

int
http_worker_run(const struct cw_config *cfg, int listen_fd)
{
    struct worker_thread *threads;
    struct sigaction      sa;
    sigset_t              set;
    sigset_t              old;
    unsigned              n = cfg->threads;
    int                   sig = 0;
    struct timespec       deadline;

    if (FCGX_Init() != 0) {
        log_err("FCGX_Init failed");
        return 1;
    }
    /* SIGUSR1 wakes a thread blocked in accept(): no SA_RESTART. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = wake_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    pthread_sigmask(SIG_BLOCK, &set, &old);

    threads = cw_xcalloc(n, sizeof(*threads));
    for (unsigned i = 0; i < n; i++) {
        threads[i].cfg = cfg;
        threads[i].listen_fd = listen_fd;
        atomic_init(&threads[i].done, 0);
        if (pthread_create(&threads[i].tid, NULL, thread_main,
                           &threads[i]) != 0) {
            log_err("cannot start worker thread: %s", strerror(errno));
            _exit(1);
        }
    }
    log_info("worker ready with %u threads", n);

    /* A worker ignores SIGHUP: the master reloads by replacing workers. */
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
            break;
    }
    log_info("worker draining (signal %d)", sig);
    atomic_store(&worker_stopping, 1);
    FCGX_ShutdownPending();
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += cfg->drain_timeout;
    for (;;) {
        struct timespec now;
        struct timespec ts = { 0, 50 * 1000000L };
        unsigned        running = 0;

        for (unsigned i = 0; i < n; i++) {
            if (!atomic_load(&threads[i].done)) {
                running++;
                /* Re-sent until the thread leaves: it may have been
                 * between its stop check and accept() the last time. */
                pthread_kill(threads[i].tid, SIGUSR1);
            }
        }
        if (running == 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > deadline.tv_sec ||
            (now.tv_sec == deadline.tv_sec &&
             now.tv_nsec >= deadline.tv_nsec)) {
            log_warn("drain timeout: %u requests still running", running);
            _exit(0);
        }
        nanosleep(&ts, NULL);
    }
    for (unsigned i = 0; i < n; i++)
        pthread_join(threads[i].tid, NULL);
    free(threads);
    log_info("worker stopped");
    return 0;
}

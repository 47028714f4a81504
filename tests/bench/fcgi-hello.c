/*
 * fcgi-hello.c: the smallest useful FastCGI responder, used by the
 * benchmarks as the ceiling for what the web server plus libfcgi can do
 * on this machine. Every request gets the same fixed JSON body, so the
 * difference between this and a certward route is the cost of certward.
 *
 *   fcgi-hello [-s PATH] [-t THREADS]
 *
 * -s PATH   listen on a unix socket (mode 0666, so that web server workers
 *           running as another user can connect) or on ADDRESS:PORT with
 *           an explicit address; without -s, listen on fd 0 (spawn-fcgi).
 * -t N      accepting threads (default 4). There is no accept mutex: with
 *           kept-alive upstream connections a thread waiting for the next
 *           request would hold it and starve the others.
 *
 * SIGTERM or SIGINT removes the socket file and exits 0.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcgiapp.h>

#define HELLO_MAX_THREADS 1024

static const char hello_response[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 15\r\n"
    "\r\n"
    "{\"status\":\"ok\"}";

static void *
hello_thread(void *arg)
{
    int          listen_fd = *(const int *)arg;
    FCGX_Request req;

    if (FCGX_InitRequest(&req, listen_fd, 0) != 0) {
        fprintf(stderr, "fcgi-hello: FCGX_InitRequest failed\n");
        exit(1);
    }
    for (;;) {
        if (FCGX_Accept_r(&req) < 0) {
            /* Transient accept() failure (EMFILE, ECONNABORTED...):
             * do not spin on it. */
            usleep(10000);
            continue;
        }
        /* FCGX_FPrintF has its own format engine (no %zu): send the
         * fixed bytes as they are. */
        FCGX_PutStr(hello_response, (int)(sizeof(hello_response) - 1),
                    req.out);
        FCGX_Finish_r(&req);
    }
    return NULL;
}

static void
usage(void)
{
    fprintf(stderr, "usage: fcgi-hello [-s PATH|ADDRESS:PORT] [-t THREADS]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *path = NULL;
    long        nthreads = 4;
    int         listen_fd = 0;
    int         opt;
    int         sig = 0;
    sigset_t    set;
    pthread_t  *tids;
    char       *end;

    while ((opt = getopt(argc, argv, "s:t:h")) != -1) {
        switch (opt) {
        case 's':
            path = optarg;
            break;
        case 't':
            errno = 0;
            nthreads = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || nthreads < 1 ||
                nthreads > HELLO_MAX_THREADS)
                usage();
            break;
        default:
            usage();
        }
    }
    if (optind != argc)
        usage();

    if (FCGX_Init() != 0) {
        fprintf(stderr, "fcgi-hello: FCGX_Init failed\n");
        return 1;
    }
    if (path != NULL) {
        /* libfcgi binds ":port" to every interface: insist on an address. */
        if (path[0] == ':') {
            fprintf(stderr, "fcgi-hello: give an address, e.g. 127.0.0.1%s\n",
                    path);
            return 2;
        }
        listen_fd = FCGX_OpenSocket(path, 1024);
        if (listen_fd < 0) {
            fprintf(stderr, "fcgi-hello: cannot listen on %s\n", path);
            return 1;
        }
        if (path[0] == '/' && chmod(path, 0666) != 0) {
            fprintf(stderr, "fcgi-hello: chmod %s: %s\n", path,
                    strerror(errno));
            return 1;
        }
    }

    /* Only the main thread takes the stop signals. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    tids = calloc((size_t)nthreads, sizeof(*tids));
    if (tids == NULL) {
        fprintf(stderr, "fcgi-hello: out of memory\n");
        return 1;
    }
    for (long i = 0; i < nthreads; i++) {
        int rc = pthread_create(&tids[i], NULL, hello_thread, &listen_fd);

        if (rc != 0) {
            fprintf(stderr, "fcgi-hello: pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }
    while (sigwait(&set, &sig) != 0)
        ;
    if (path != NULL && path[0] == '/')
        unlink(path);
    /* Threads may be inside a request: leave without joining them. */
    _exit(0);
}

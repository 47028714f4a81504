/*
 * pool.c: "certward serve", a prefork supervisor in the manner of php-fpm.
 * The master opens the FastCGI socket, forks `workers` processes, restarts
 * one that dies (with exponential backoff when it keeps dying), drains on
 * SIGTERM and re-executes itself on SIGHUP, handing the listening socket
 * and the old workers to the new image, which starts fresh workers before
 * draining the old ones. With a listening socket inherited on fd 0
 * (spawn-fcgi, mod_fcgid, systemd StandardInput=socket) or by systemd
 * socket activation, it is a plain worker and forks nothing.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "auth/epoch.h"
#include "auth/ratelimit.h"
#include "ca/ca.h"
#include "http/http.h"
#include "http/worker.h"
#include "store/store.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sp.h"

#define POOL_MAX_WORKERS   256
#define POOL_MAX_OLD       (POOL_MAX_WORKERS * 4)
#define POOL_BACKOFF_MAXMS 30000L
#define POOL_STABLE_SEC    10

struct slot {
    pid_t  pid;          /* 0 when empty                          */
    time_t started;
    int    failures;     /* consecutive early deaths              */
    long   restart_at;   /* monotonic ms; 0 = now                  */
};

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int
fd_is_listening(int fd)
{
    int       v = 0;
    socklen_t len = sizeof(v);

    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
}

int
http_listen_open(const struct cw_config *cfg)
{
    const char *l = cfg->listen;
    int         fd = -1;
    int         one = 1;

    if (l[0] == '/') {
        struct sockaddr_un sun;
        mode_t             um;
        int                probe;

        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", l);
        /* A socket file left by a crash is removed; one with a live
         * server behind it is not. */
        probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 &&
            connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
            close(probe);
            log_err("%s: another server is listening there", l);
            return -1;
        }
        if (probe >= 0)
            close(probe);
        unlink(l);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            goto fail;
        /* Created private, then opened up to socket_mode: no window in
         * which anyone else can connect. */
        um = umask(0177);
        if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
            umask(um);
            goto fail;
        }
        umask(um);
        if (cfg->socket_group[0] != '\0') {
            struct group *gr = getgrnam(cfg->socket_group);

            if (gr == NULL) {
                log_err("server.socket_group: no group %s",
                        cfg->socket_group);
                goto fail_quiet;
            }
            if (chown(l, (uid_t)-1, gr->gr_gid) != 0)
                goto fail;
        }
        if (cfg->run_user[0] != '\0' && geteuid() == 0) {
            struct passwd *pw = getpwnam(cfg->run_user);

            if (pw != NULL && chown(l, pw->pw_uid, (gid_t)-1) != 0)
                goto fail;
        }
        if (chmod(l, cfg->socket_mode) != 0)
            goto fail;
    } else {
        struct sockaddr_storage ss;
        socklen_t               sl;
        const char             *colon = strrchr(l, ':');
        char                    host[64];
        size_t                  hl = (size_t)(colon - l);
        uint64_t                port = 0;

        memset(&ss, 0, sizeof(ss));
        sp_u64(colon + 1, strlen(colon + 1), 65535, &port);
        if (l[0] == '[') {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

            snprintf(host, sizeof(host), "%.*s", (int)(hl - 2), l + 1);
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons((uint16_t)port);
            inet_pton(AF_INET6, host, &s6->sin6_addr);
            sl = sizeof(*s6);
        } else {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

            snprintf(host, sizeof(host), "%.*s", (int)hl, l);
            s4->sin_family = AF_INET;
            s4->sin_port = htons((uint16_t)port);
            inet_pton(AF_INET, host, &s4->sin_addr);
            sl = sizeof(*s4);
        }
        fd = socket(ss.ss_family, SOCK_STREAM, 0);
        if (fd < 0)
            goto fail;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ss.ss_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&ss, sl) != 0)
            goto fail;
        if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
            log_warn("listening on every interface (%s) as configured", l);
    }
    if (listen(fd, 1024) != 0)
        goto fail;
    return fd;
fail:
    log_err("cannot listen on %s: %s", l, strerror(errno));
fail_quiet:
    if (fd >= 0)
        close(fd);
    return -1;
}

static int
drop_privileges(const struct cw_config *cfg)
{
    struct passwd *pw;

    if (cfg->run_user[0] == '\0') {
        if (geteuid() == 0)
            log_warn("running as root: set server.user or start certward "
                     "as its own user");
        return 0;
    }
    if (geteuid() != 0)
        return 0;
    pw = getpwnam(cfg->run_user);
    if (pw == NULL) {
        log_err("server.user: no user %s", cfg->run_user);
        return -1;
    }
    if (setgid(pw->pw_gid) != 0 || initgroups(pw->pw_name, pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        log_err("cannot switch to user %s: %s", cfg->run_user,
                strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        log_err("privileges could be regained after dropping them");
        return -1;
    }
    return 0;
}

/* Refuse to run against a schema this binary does not know. An
 * unreachable database is not fatal: workers answer 503 until it is up
 * and check the schema on every new connection. */
static int
schema_check(const struct cw_config *cfg)
{
    struct store *db = store_new(cfg);
    enum cw_err   err = store_connect(db, 1);

    store_free(db);
    if (err == CW_E_SCHEMA)
        return -1;
    if (err != CW_OK)
        log_warn("database not reachable at start; serving 503 until it is");
    return 0;
}

static pid_t
spawn_worker(const struct cw_config *cfg, int fd)
{
    pid_t pid = fork();

    if (pid < 0) {
        log_err("fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        sigset_t none;

        /* A worker must not outlive its master. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1)
            _exit(0);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGCHLD, SIG_DFL);
        _exit(http_worker_run(cfg, fd));
    }
    return pid;
}

static void
describe_exit(pid_t pid, int status, char *out, size_t n)
{
    if (WIFSIGNALED(status))
        snprintf(out, n, "worker %ld killed by signal %d", (long)pid,
                 WTERMSIG(status));
    else
        snprintf(out, n, "worker %ld exited with status %d", (long)pid,
                 WEXITSTATUS(status));
}

static void
reexec(const struct cw_config *cfg, char *const argv[], int fd, int own,
       struct slot *slots, unsigned nslots)
{
    struct cw_config *ncfg = NULL;
    struct conf_why   why;
    char              fdtxt[16];
    char             *old;
    size_t            o = 0;
    int               flags;

    /* Never replace a working server by one that cannot start. */
    if (conf_load(cfg->path, &ncfg, &why) != CW_OK) {
        log_err("reload refused: %s", why.msg);
        return;
    }
    if (strcmp(ncfg->listen, cfg->listen) != 0)
        log_warn("server.listen changed: keeping %s until restart",
                 cfg->listen);
    conf_free(ncfg);
    old = cw_xmalloc(nslots * 12 + 1);
    old[0] = '\0';
    for (unsigned i = 0; i < nslots; i++)
        if (slots[i].pid > 0)
            o += (size_t)snprintf(old + o, 12, "%ld,", (long)slots[i].pid);
    snprintf(fdtxt, sizeof(fdtxt), "%d", fd);
    setenv("CERTWARD_LISTEN_FD", fdtxt, 1);
    /* Whether the socket file is ours to remove at exit (not when
     * systemd or another supervisor created it). */
    setenv("CERTWARD_LISTEN_OWN", own ? "1" : "0", 1);
    setenv("CERTWARD_OLD_WORKERS", old, 1);
    free(old);
    flags = fcntl(fd, F_GETFD);
    fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    log_notice("reloading: re-executing certward");
    execv("/proc/self/exe", argv);
    log_err("reload failed: execv: %s", strerror(errno));
    unsetenv("CERTWARD_LISTEN_FD");
    unsetenv("CERTWARD_LISTEN_OWN");
    unsetenv("CERTWARD_OLD_WORKERS");
}

static int
master_run(const struct cw_config *cfg, char *const argv[], int fd,
           int own_socket)
{
    struct slot slots[POOL_MAX_WORKERS];
    pid_t       old[POOL_MAX_OLD];
    unsigned    nold = 0;
    unsigned    n = cfg->workers;
    sigset_t    set;
    const char *oldenv = getenv("CERTWARD_OLD_WORKERS");
    int         stopping = 0;
    long        stop_deadline = 0;
    struct stat sock_st;
    int         rc = 0;

    memset(slots, 0, sizeof(slots));
    memset(&sock_st, 0, sizeof(sock_st));
    if (own_socket && cfg->listen[0] == '/' &&
        stat(cfg->listen, &sock_st) != 0)
        memset(&sock_st, 0, sizeof(sock_st));
    if (oldenv != NULL) {
        for (const char *p = oldenv; *p != '\0' && nold < POOL_MAX_OLD;) {
            pid_t pid = (pid_t)strtol(p, NULL, 10);
            const char *c = strchr(p, ',');

            if (pid > 0)
                old[nold++] = pid;
            if (c == NULL)
                break;
            p = c + 1;
        }
        unsetenv("CERTWARD_OLD_WORKERS");
    }
    unsetenv("CERTWARD_LISTEN_FD");
    unsetenv("CERTWARD_LISTEN_OWN");
    fcntl(fd, F_SETFD, FD_CLOEXEC);

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    log_notice("certward %s serving on %s with %u workers x %u threads",
               PACKAGE_VERSION,
               own_socket ? cfg->listen : "an inherited socket", n,
               cfg->threads);

    for (;;) {
        long            now = now_ms();
        long            wait_ms = 1000;
        siginfo_t       si;
        struct timespec ts;
        int             sig;
        unsigned        alive = 0;

        if (!stopping) {
            for (unsigned i = 0; i < n; i++) {
                if (slots[i].pid != 0)
                    continue;
                if (slots[i].restart_at > now) {
                    if (slots[i].restart_at - now < wait_ms)
                        wait_ms = slots[i].restart_at - now;
                    continue;
                }
                slots[i].pid = spawn_worker(cfg, fd);
                slots[i].started = time(NULL);
                if (slots[i].pid < 0) {
                    slots[i].pid = 0;
                    slots[i].restart_at = now + 1000;
                }
            }
            /* Old workers from before a reload drain once the new ones
             * are running. */
            for (unsigned i = 0; i < nold; i++)
                if (old[i] > 0 && kill(old[i], SIGTERM) != 0)
                    old[i] = 0;
        }
        for (unsigned i = 0; i < n; i++)
            alive += slots[i].pid != 0;
        for (unsigned i = 0; i < nold; i++)
            alive += old[i] != 0;
        if (stopping && alive == 0)
            break;
        if (stopping && now >= stop_deadline) {
            log_warn("drain timeout: killing %u workers", alive);
            for (unsigned i = 0; i < n; i++)
                if (slots[i].pid > 0)
                    kill(slots[i].pid, SIGKILL);
            for (unsigned i = 0; i < nold; i++)
                if (old[i] > 0)
                    kill(old[i], SIGKILL);
            stop_deadline = now + 60000;
        }
        ts.tv_sec = wait_ms / 1000;
        ts.tv_nsec = (wait_ms % 1000) * 1000000L;
        sig = sigtimedwait(&set, &si, &ts);
        if (sig < 0)
            sig = 0;
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
            if (!stopping) {
                log_notice("shutting down: draining workers");
                stopping = 1;
                rc = 0;
                stop_deadline = now_ms() + (long)cfg->drain_timeout * 1000L +
                                2000L;
                for (unsigned i = 0; i < n; i++)
                    if (slots[i].pid > 0)
                        kill(slots[i].pid, SIGTERM);
                for (unsigned i = 0; i < nold; i++)
                    if (old[i] > 0)
                        kill(old[i], SIGTERM);
            }
        } else if (sig == SIGHUP && !stopping) {
            reexec(cfg, argv, fd, own_socket, slots, n);
        }
        /* Reap everything that has exited, whatever woke us. */
        for (;;) {
            int   status;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            char  what[96];
            int   found = 0;

            if (pid <= 0)
                break;
            describe_exit(pid, status, what, sizeof(what));
            for (unsigned i = 0; i < nold; i++) {
                if (old[i] == pid) {
                    old[i] = 0;
                    found = 1;
                    log_info("%s (replaced by reload)", what);
                }
            }
            for (unsigned i = 0; i < n && !found; i++) {
                long delay = 0;

                if (slots[i].pid != pid)
                    continue;
                found = 1;
                slots[i].pid = 0;
                if (stopping) {
                    log_info("%s", what);
                    break;
                }
                if (time(NULL) - slots[i].started < POOL_STABLE_SEC) {
                    slots[i].failures++;
                    delay = 100L << (slots[i].failures < 9
                                         ? slots[i].failures : 9);
                    if (delay > POOL_BACKOFF_MAXMS)
                        delay = POOL_BACKOFF_MAXMS;
                } else {
                    slots[i].failures = 0;
                }
                slots[i].restart_at = now_ms() + delay;
                log_err("%s; restarting in %ld ms", what, delay);
            }
        }
    }
    /* Remove the socket file only if it is still ours: a server started
     * since may have bound the same path. */
    if (own_socket && cfg->listen[0] == '/') {
        struct stat st;

        if (stat(cfg->listen, &st) == 0 && st.st_ino == sock_st.st_ino &&
            st.st_dev == sock_st.st_dev)
            unlink(cfg->listen);
    }
    close(fd);
    log_notice("certward stopped");
    return rc;
}

int
http_serve(const struct cw_config *cfg, char *const argv[])
{
    const char *inh = getenv("CERTWARD_LISTEN_FD");
    const char *lpid = getenv("LISTEN_PID");
    const char *lfds = getenv("LISTEN_FDS");
    int         fd = -1;
    int         own = 1;

    /* Shared by every worker of this node: mapped before any fork. */
    auth_ratelimit_init();
    auth_epoch_init();
    ca_ocsp_cache_init();
    /* spawn-fcgi, mod_fcgid, systemd StandardInput=socket: fd 0. */
    if (inh == NULL && fd_is_listening(0)) {
        log_notice("listening socket inherited on fd 0: single worker");
        if (schema_check(cfg) != 0 || drop_privileges(cfg) != 0)
            return 1;
        return http_worker_run(cfg, 0);
    }
    /* systemd socket activation (sd_listen_fds protocol): fd 3. */
    if (inh == NULL && lpid != NULL && lfds != NULL &&
        strtol(lpid, NULL, 10) == (long)getpid() && fd_is_listening(3)) {
        fd = 3;
        own = 0;
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
    } else if (inh != NULL) {
        uint64_t v;

        const char *ownenv = getenv("CERTWARD_LISTEN_OWN");

        if (sp_u64(inh, strlen(inh), 1 << 20, &v) != CW_OK ||
            !fd_is_listening((int)v)) {
            log_err("CERTWARD_LISTEN_FD is not a listening socket");
            return 1;
        }
        fd = (int)v;
        own = ownenv != NULL && strcmp(ownenv, "1") == 0;
    } else {
        if (schema_check(cfg) != 0)
            return 1;
        fd = http_listen_open(cfg);
        if (fd < 0)
            return 1;
    }
    if ((inh != NULL || fd == 3) && schema_check(cfg) != 0)
        return 1;
    if (drop_privileges(cfg) != 0)
        return 1;
    return master_run(cfg, argv, fd, own);
}

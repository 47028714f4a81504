/* log.c: format-checked, errno-preserving line logger. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

static int log_prio = LOG_INFO;
static _Thread_local char log_reqid[40];

static const char *const prio_names[] = {
    [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit",
    [LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
    [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

void
log_set_level(int prio)
{
    log_prio = prio;
}

int
log_level_parse(const char *name, int *prio)
{
    for (int i = LOG_ERR; i <= LOG_DEBUG; i++) {
        if (strcmp(name, prio_names[i]) == 0) {
            *prio = i;
            return 0;
        }
    }
    return -1;
}

void
log_set_reqid(const char *id)
{
    size_t n = id == NULL ? 0 : strnlen(id, sizeof(log_reqid) - 1);

    /* every request, twice: no printf */
    if (n > 0)
        memcpy(log_reqid, id, n);
    log_reqid[n] = '\0';
}

void
log_write(int prio, const char *file, int line, const char *fmt, ...)
{
    char       msg[2048];
    char       ts[32];
    struct tm  tm;
    time_t     now;
    va_list    ap;
    int        saved = errno;

    if (prio > log_prio) {
        errno = saved;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* One write per line keeps lines from different workers whole. */
    dprintf(STDERR_FILENO, "<%d>%s certward[%ld] %s %s:%d%s%s%s %s\n", prio,
            ts, (long)getpid(), prio_names[prio & 7], file, line,
            log_reqid[0] ? " [" : "", log_reqid, log_reqid[0] ? "]" : "",
            msg);
    errno = saved;
}

const char *
log_escape(const char *s, size_t len, char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t            o = 0;

    if (n == 0)
        return out;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            if (o + 1 >= n)
                break;
            out[o++] = (char)c;
        } else {
            if (o + 4 >= n)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}

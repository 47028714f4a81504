/*
 * log.h: logging. One line per event on stderr (journald, runit and
 * containers collect it), with the syslog priority as an "<N>" prefix that
 * journald understands, the source file:line, and the request id of the
 * calling thread. errno is preserved. Never log keys, passwords, tokens or
 * cookies; escape client-supplied text with log_escape().
 */
#ifndef CW_UTIL_LOG_H
#define CW_UTIL_LOG_H

#include <stddef.h>
#include <syslog.h>

void log_set_level(int prio);
int log_level_parse(const char *name, int *prio);
/* The request id printed by this thread's log lines; NULL clears it. */
void log_set_reqid(const char *id);
void log_write(int prio, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Copy s into out (size n) with control bytes and quotes escaped. */
const char *log_escape(const char *s, size_t len, char *out, size_t n);

#define log_err(...)    log_write(LOG_ERR, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...)   log_write(LOG_WARNING, __FILE__, __LINE__, __VA_ARGS__)
#define log_notice(...) log_write(LOG_NOTICE, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...)   log_write(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...)  log_write(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)

#endif

/*
 * fuzz_http.c: libFuzzer driver for the request path: FastCGI parameters
 * and body from the input ("NAME=VALUE" lines, an empty line, the body),
 * run through the real dispatcher. The database is configured on a socket
 * that does not exist, so handlers that need it answer 503 quickly.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http/http.h"
#include "store/store.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPARAMS 32

struct fz {
    char       *names[NPARAMS];
    char       *values[NPARAMS];
    size_t      n;
    const char *body;
    size_t      body_len;
    size_t      body_off;
    size_t      written;
};

static const char *
fz_param(void *ctx, const char *name)
{
    struct fz *f = ctx;

    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->names[i], name) == 0)
            return f->values[i];
    return NULL;
}

static long
fz_read(void *ctx, uint8_t *p, size_t n)
{
    struct fz *f = ctx;
    size_t     left = f->body_len - f->body_off;

    if (n > left)
        n = left;
    memcpy(p, f->body + f->body_off, n);
    f->body_off += n;
    return (long)n;
}

static int
fz_write(void *ctx, const uint8_t *p, size_t n)
{
    struct fz *f = ctx;

    (void)p;
    f->written += n;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cw_config *cfg;
    static struct http_env   env;
    struct http_io           io = { fz_param, fz_read, fz_write, NULL };
    struct fz                f;
    char                    *text;
    char                    *p;

    if (cfg == NULL) {
        if (sodium_init() < 0)
            abort();
        log_set_level(LOG_EMERG);
        cfg = calloc(1, sizeof(*cfg));
        conf_defaults(cfg);
        free(cfg->db_socket);
        cfg->db_socket = strdup("/nonexistent/certward-fuzz.sock");
        http_env_init(&env, cfg, store_new(cfg));
    }
    memset(&f, 0, sizeof(f));
    text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    p = text;
    while (f.n < NPARAMS) {
        char *nl = strchr(p, '\n');
        char *eq;

        if (nl == NULL || nl == p)
            break;
        *nl = '\0';
        eq = strchr(p, '=');
        if (eq != NULL) {
            *eq = '\0';
            f.names[f.n] = p;
            f.values[f.n] = eq + 1;
            f.n++;
        }
        p = nl + 1;
    }
    if (*p == '\n')
        p++;
    f.body = p;
    f.body_len = size - (size_t)(p - text) <= size
                     ? strlen(p) : 0;
    io.ctx = &f;
    http_handle(&env, &io);
    free(text);
    return 0;
}

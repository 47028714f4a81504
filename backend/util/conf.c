/*
 * conf.c: table-driven INI configuration. Trusts nothing in the file: every
 * value is range-checked, unknown keys are fatal (typos fail fast), secret
 * files must be private to the service user.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cw_limits.h"
#include "util/buf.h"
#include "util/conf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sp.h"

enum conf_type { CT_STR, CT_UINT, CT_BOOL, CT_OCTAL };

struct conf_key {
    const char     *section;
    const char     *key;
    enum conf_type  type;
    size_t          off;
    unsigned        min;
    unsigned        max;
    const char     *def;
};

#define K(sec, k, t, field, lo, hi, d)                                      \
    { sec, k, t, offsetof(struct cw_config, field), lo, hi, d }

static const struct conf_key conf_keys[] = {
    K("database", "host", CT_STR, db_host, 0, 0, "127.0.0.1"),
    K("database", "port", CT_UINT, db_port, 1, 65535, "3306"),
    K("database", "socket", CT_STR, db_socket, 0, 0, ""),
    K("database", "name", CT_STR, db_name, 0, 0, "certward"),
    K("database", "user", CT_STR, db_user, 0, 0, "certward"),
    K("database", "password_file", CT_STR, db_password_file, 0, 0, ""),
    K("database", "tls_ca", CT_STR, db_tls_ca, 0, 0, ""),
    K("database", "connect_timeout", CT_UINT, db_connect_timeout, 1, 60, "3"),
    K("database", "io_timeout", CT_UINT, db_io_timeout, 0, 3600, "30"),
    K("server", "listen", CT_STR, listen, 0, 0, "/run/certward/fcgi.sock"),
    K("server", "socket_mode", CT_OCTAL, socket_mode, 0, 0777, "0660"),
    K("server", "socket_group", CT_STR, socket_group, 0, 0, ""),
    K("server", "workers", CT_UINT, workers, 1, 256, "2"),
    K("server", "threads", CT_UINT, threads, 1, 1024, "8"),
    K("server", "drain_timeout", CT_UINT, drain_timeout, 1, 3600, "30"),
    K("server", "public_url", CT_STR, public_url, 0, 0, "http://localhost"),
    K("server", "trusted_proxies", CT_STR, trusted_proxies, 0, 0, ""),
    K("server", "user", CT_STR, run_user, 0, 0, ""),
    K("security", "jwt_secret_file", CT_STR, jwt_secret_file, 0, 0,
      "/etc/certward/jwt.secret"),
    K("security", "master_key_file", CT_STR, master_key_file, 0, 0,
      "/etc/certward/master.key"),
    K("security", "session_ttl", CT_UINT, session_ttl, 300, 604800, "28800"),
    K("security", "cookie_secure", CT_BOOL, cookie_secure, 0, 1, "true"),
    K("security", "argon2_memory_kib", CT_UINT, argon2_memory_kib, 8,
      4194304, "65536"),
    K("security", "argon2_iterations", CT_UINT, argon2_iterations, 1, 64, "3"),
    K("security", "argon2_parallelism", CT_UINT, argon2_parallelism, 1, 64,
      "1"),
    K("log", "level", CT_STR, log_level, 0, 0, "info"),
};
#define NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

static void __attribute__((format(printf, 2, 3)))
why_set(struct conf_why *why, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
    va_end(ap);
}

static char **
str_field(struct cw_config *cfg, const struct conf_key *k)
{
    return (char **)(void *)((char *)cfg + k->off);
}

static unsigned *
uint_field(struct cw_config *cfg, const struct conf_key *k)
{
    return (unsigned *)(void *)((char *)cfg + k->off);
}

static int *
int_field(struct cw_config *cfg, const struct conf_key *k)
{
    return (int *)(void *)((char *)cfg + k->off);
}

/* Set one key from text; origin is used in the error message. */
static enum cw_err
conf_set(struct cw_config *cfg, const struct conf_key *k, const char *v,
         size_t len, const char *origin, struct conf_why *why)
{
    uint64_t u;
    unsigned o;
    int      b;

    switch (k->type) {
    case CT_STR:
        for (size_t i = 0; i < len; i++) {
            if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
                why_set(why, "%s: %s.%s contains control characters",
                        origin, k->section, k->key);
                return CW_E_CONFIG;
            }
        }
        free(*str_field(cfg, k));
        *str_field(cfg, k) = cw_xstrndup(v, len);
        return CW_OK;
    case CT_UINT:
        if (sp_u64(v, len, k->max, &u) != CW_OK || u < k->min) {
            why_set(why, "%s: %s.%s must be an integer from %u to %u",
                    origin, k->section, k->key, k->min, k->max);
            return CW_E_CONFIG;
        }
        *uint_field(cfg, k) = (unsigned)u;
        return CW_OK;
    case CT_OCTAL:
        if (sp_octal(v, len, k->max, &o) != CW_OK) {
            why_set(why, "%s: %s.%s must be an octal mode like 0660", origin,
                    k->section, k->key);
            return CW_E_CONFIG;
        }
        *uint_field(cfg, k) = o;
        return CW_OK;
    case CT_BOOL:
        if (sp_bool(v, len, &b) != CW_OK) {
            why_set(why, "%s: %s.%s must be true or false", origin,
                    k->section, k->key);
            return CW_E_CONFIG;
        }
        *int_field(cfg, k) = b;
        return CW_OK;
    }
    return CW_E_INTERNAL;
}

void
conf_defaults(struct cw_config *cfg)
{
    struct conf_why why;

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NKEYS; i++) {
        const struct conf_key *k = &conf_keys[i];

        if (conf_set(cfg, k, k->def, strlen(k->def), "default", &why) !=
            CW_OK)
            cw_assert_fail("bad configuration default", __FILE__, __LINE__);
    }
}

static const struct conf_key *
key_find(const char *sec, size_t seclen, const char *key, size_t keylen)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const struct conf_key *k = &conf_keys[i];

        if (strlen(k->section) == seclen &&
            memcmp(k->section, sec, seclen) == 0 &&
            strlen(k->key) == keylen && memcmp(k->key, key, keylen) == 0)
            return k;
    }
    return NULL;
}

static int
section_known(const char *sec, size_t len)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strlen(conf_keys[i].section) == len &&
            memcmp(conf_keys[i].section, sec, len) == 0)
            return 1;
    return 0;
}

static enum cw_err
conf_apply_env(struct cw_config *cfg, struct conf_why *why)
{
    char        name[128];
    char        origin[160];
    enum cw_err err;

    for (size_t i = 0; i < NKEYS; i++) {
        const struct conf_key *k = &conf_keys[i];
        const char            *v;
        size_t                 n;

        n = (size_t)snprintf(name, sizeof(name), "CERTWARD_%s_%s",
                             k->section, k->key);
        for (size_t j = 0; j < n; j++)
            name[j] = (char)toupper((unsigned char)name[j]);
        v = getenv(name);
        if (v == NULL)
            continue;
        snprintf(origin, sizeof(origin), "environment %s", name);
        err = conf_set(cfg, k, v, strlen(v), origin, why);
        if (err != CW_OK)
            return err;
    }
    return CW_OK;
}

enum cw_err
conf_parse_text(const char *text, size_t len, struct cw_config *cfg,
                struct conf_why *why)
{
    const char *sec = NULL;
    size_t      seclen = 0;
    size_t      lineno = 0;
    size_t      pos = 0;
    enum cw_err err;
    const char *file = cfg->path ? cfg->path : "config";

    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t      n = nl ? (size_t)(nl - line) : len - pos;
        const char *eq;

        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n > LIM_CONF_LINE) {
            why_set(why, "%s:%zu: line too long", file, lineno);
            return CW_E_CONFIG;
        }
        if (n > 0 && line[n - 1] == '\r')
            n--;
        sp_trim(&line, &n);
        if (n == 0 || line[0] == '#' || line[0] == ';')
            continue;
        if (line[0] == '[') {
            if (line[n - 1] != ']' || n < 3) {
                why_set(why, "%s:%zu: malformed section header", file,
                        lineno);
                return CW_E_CONFIG;
            }
            sec = line + 1;
            seclen = n - 2;
            sp_trim(&sec, &seclen);
            if (!section_known(sec, seclen)) {
                why_set(why, "%s:%zu: unknown section [%.*s]", file, lineno,
                        (int)(seclen > 40 ? 40 : seclen), sec);
                return CW_E_CONFIG;
            }
            continue;
        }
        eq = memchr(line, '=', n);
        if (eq == NULL) {
            why_set(why, "%s:%zu: expected key = value", file, lineno);
            return CW_E_CONFIG;
        }
        {
            const char            *key = line;
            size_t                 keylen = (size_t)(eq - line);
            const char            *val = eq + 1;
            size_t                 vallen = n - keylen - 1;
            const struct conf_key *k;
            char                   origin[600];

            sp_trim(&key, &keylen);
            sp_trim(&val, &vallen);
            if (sec == NULL) {
                why_set(why, "%s:%zu: key outside of a [section]", file,
                        lineno);
                return CW_E_CONFIG;
            }
            k = key_find(sec, seclen, key, keylen);
            if (k == NULL) {
                why_set(why, "%s:%zu: unknown key '%.*s' in [%.*s]", file,
                        lineno, (int)(keylen > 40 ? 40 : keylen), key,
                        (int)seclen, sec);
                return CW_E_CONFIG;
            }
            if (vallen > LIM_CONF_VALUE) {
                why_set(why, "%s:%zu: value too long", file, lineno);
                return CW_E_CONFIG;
            }
            snprintf(origin, sizeof(origin), "%s:%zu", file, lineno);
            err = conf_set(cfg, k, val, vallen, origin, why);
            if (err != CW_OK)
                return err;
        }
    }
    return conf_apply_env(cfg, why);
}

/* ---- validation of values -------------------------------------------- */

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0,
                                      0, 0, 0, 0, 0xff, 0xff };

static int
parse_ip(const char *s, struct conf_cidr *c)
{
    if (inet_pton(AF_INET, s, c->addr) == 1) {
        c->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, c->addr) == 1) {
        c->family = AF_INET6;
        return 0;
    }
    return -1;
}

enum cw_err
conf_cidrs_parse(const char *list, struct conf_cidr *out, size_t max,
                 size_t *n)
{
    const char *p = list;

    *n = 0;
    while (*p != '\0') {
        const char      *end = strchr(p, ',');
        size_t           len = end ? (size_t)(end - p) : strlen(p);
        const char      *item = p;
        char             tmp[64];
        char            *slash;
        struct conf_cidr c;
        uint64_t         pfx;

        p += len + (end ? 1 : 0);
        sp_trim(&item, &len);
        if (len == 0) {
            if (end == NULL)
                break;
            return CW_E_CONFIG;
        }
        if (len >= sizeof(tmp) || *n >= max)
            return CW_E_CONFIG;
        memcpy(tmp, item, len);
        tmp[len] = '\0';
        slash = strchr(tmp, '/');
        if (slash != NULL)
            *slash = '\0';
        memset(&c, 0, sizeof(c));
        if (parse_ip(tmp, &c) != 0)
            return CW_E_CONFIG;
        c.prefix = c.family == AF_INET ? 32 : 128;
        if (slash != NULL) {
            if (sp_u64(slash + 1, strlen(slash + 1), (uint64_t)c.prefix,
                       &pfx) != CW_OK)
                return CW_E_CONFIG;
            c.prefix = (int)pfx;
        }
        /* ::ffff:a.b.c.d is an IPv4 address (addresses are matched that
         * way too); a mapped range must cover only mapped addresses. */
        if (c.family == AF_INET6 && memcmp(c.addr, v4mapped, 12) == 0) {
            if (c.prefix < 96)
                return CW_E_CONFIG;
            memmove(c.addr, c.addr + 12, 4);
            memset(c.addr + 4, 0, 12);
            c.family = AF_INET;
            c.prefix -= 96;
        }
        out[(*n)++] = c;
    }
    return CW_OK;
}

static int
prefix_eq(const uint8_t *a, const uint8_t *b, int bits)
{
    int bytes = bits / 8;
    int rest = bits % 8;

    if (bytes > 0 && memcmp(a, b, (size_t)bytes) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest))) == 0;
}

int
conf_cidr_match(const struct conf_cidr *c, size_t n, const char *addr)
{
    struct conf_cidr a;

    memset(&a, 0, sizeof(a));
    if (parse_ip(addr, &a) != 0)
        return 0;
    /* ::ffff:a.b.c.d is the IPv4 client of a dual-stack listener. */
    if (a.family == AF_INET6 && memcmp(a.addr, v4mapped, 12) == 0) {
        memmove(a.addr, a.addr + 12, 4);
        a.family = AF_INET;
    }
    for (size_t i = 0; i < n; i++) {
        if (c[i].family == a.family &&
            prefix_eq(c[i].addr, a.addr, c[i].prefix))
            return 1;
    }
    return 0;
}

static enum cw_err
check_listen(const char *l, struct conf_why *why)
{
    const char *colon;
    char        host[64];
    size_t      hl;
    uint64_t    port;
    uint8_t     tmp[16];

    if (l[0] == '/') {
        /* sun_path is 108 bytes including the NUL. */
        if (strlen(l) > 107) {
            why_set(why, "server.listen: unix socket path too long");
            return CW_E_CONFIG;
        }
        return CW_OK;
    }
    colon = strrchr(l, ':');
    if (colon == NULL || colon == l) {
        why_set(why, "server.listen must be a unix socket path or "
                     "ADDRESS:PORT with an explicit address");
        return CW_E_CONFIG;
    }
    hl = (size_t)(colon - l);
    if (l[0] == '[') {
        if (hl < 3 || l[hl - 1] != ']') {
            why_set(why, "server.listen: malformed IPv6 address");
            return CW_E_CONFIG;
        }
        if (hl - 2 >= sizeof(host))
            goto bad;
        memcpy(host, l + 1, hl - 2);
        host[hl - 2] = '\0';
        if (inet_pton(AF_INET6, host, tmp) != 1)
            goto bad;
    } else {
        if (hl >= sizeof(host))
            goto bad;
        memcpy(host, l, hl);
        host[hl] = '\0';
        if (inet_pton(AF_INET, host, tmp) != 1)
            goto bad;
    }
    if (sp_u64(colon + 1, strlen(colon + 1), 65535, &port) != CW_OK ||
        port == 0) {
        why_set(why, "server.listen: bad port");
        return CW_E_CONFIG;
    }
    return CW_OK;
bad:
    why_set(why, "server.listen: the address must be a numeric IP address");
    return CW_E_CONFIG;
}

/* Read a secret file that must be a regular file without group/other
 * permission bits. Returns the bytes with one trailing newline removed. */
static enum cw_err
read_secret(const char *key, const char *path, uint8_t **out, size_t *outlen,
            struct conf_why *why)
{
    struct stat st;
    int         fd = -1;
    uint8_t    *p = NULL;
    ssize_t     n;
    size_t      len = 0;
    enum cw_err err = CW_E_CONFIG;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        why_set(why, "%s: cannot open %s: %s", key, path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        why_set(why, "%s: %s is not a regular file", key, path);
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        why_set(why,
                "%s: %s is accessible by group or others (mode %03o); "
                "chmod 600 it",
                key, path, (unsigned)(st.st_mode & 0777));
        goto out;
    }
    if (st.st_size > LIM_SECRET_FILE) {
        why_set(why, "%s: %s is too large", key, path);
        goto out;
    }
    p = cw_xmalloc((size_t)st.st_size + 1);
    while (len < (size_t)st.st_size) {
        n = read(fd, p + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            why_set(why, "%s: cannot read %s", key, path);
            goto out;
        }
        len += (size_t)n;
    }
    if (len > 0 && p[len - 1] == '\n')
        len--;
    if (len > 0 && p[len - 1] == '\r')
        len--;
    p[len] = '\0';
    *out = p;
    *outlen = len;
    p = NULL;
    err = CW_OK;
out:
    if (p != NULL)
        cw_free_secret(p, (size_t)st.st_size + 1);
    if (fd >= 0)
        close(fd);
    return err;
}

static enum cw_err
conf_validate(struct cw_config *cfg, struct conf_why *why)
{
    uint8_t    *s = NULL;
    size_t      len = 0;
    enum cw_err err;
    size_t      ul;
    const char *host;

    if (log_level_parse(cfg->log_level, &cfg->log_prio) != 0) {
        why_set(why, "log.level must be err, warning, notice, info or debug");
        return CW_E_CONFIG;
    }
    err = check_listen(cfg->listen, why);
    if (err != CW_OK)
        return err;
    if (cfg->db_name[0] == '\0' || cfg->db_user[0] == '\0') {
        why_set(why, "database.name and database.user must be set");
        return CW_E_CONFIG;
    }
    if (cfg->db_socket[0] == '\0' && cfg->db_host[0] == '\0') {
        why_set(why, "database.host or database.socket must be set");
        return CW_E_CONFIG;
    }
    if (strncmp(cfg->public_url, "https://", 8) != 0 &&
        strncmp(cfg->public_url, "http://", 7) != 0) {
        why_set(why, "server.public_url must start with http:// or https://");
        return CW_E_CONFIG;
    }
    host = cfg->public_url + (cfg->public_url[4] == 's' ? 8 : 7);
    ul = strlen(cfg->public_url);
    while (cfg->public_url + ul > host && cfg->public_url[ul - 1] == '/')
        cfg->public_url[--ul] = '\0';
    if (host[0] == '\0' || host[0] == ':' || strchr(host, '/') != NULL ||
        strpbrk(cfg->public_url, " ?#\"'<>\\@") != NULL) {
        why_set(why, "server.public_url must be scheme://host[:port] "
                     "without a path");
        return CW_E_CONFIG;
    }
    if (conf_cidrs_parse(cfg->trusted_proxies, cfg->proxies,
                         sizeof(cfg->proxies) / sizeof(cfg->proxies[0]),
                         &cfg->nproxies) != CW_OK) {
        why_set(why, "server.trusted_proxies must be a comma-separated list "
                     "of IP addresses or CIDR ranges (at most 64)");
        return CW_E_CONFIG;
    }
    if (cfg->db_tls_ca[0] != '\0' && access(cfg->db_tls_ca, R_OK) != 0) {
        why_set(why, "database.tls_ca: cannot read %s: %s", cfg->db_tls_ca,
                strerror(errno));
        return CW_E_CONFIG;
    }
    if (cfg->jwt_secret_file[0] == '\0' || cfg->master_key_file[0] == '\0') {
        why_set(why, "security.jwt_secret_file and security.master_key_file "
                     "must be set");
        return CW_E_CONFIG;
    }

    /* Secret files are always read and checked: a readable secret is a
     * configuration error even for check-config. */
    if (cfg->db_password_file[0] != '\0') {
        err = read_secret("database.password_file", cfg->db_password_file,
                          &s, &len, why);
        if (err != CW_OK)
            return err;
        cfg->db_password = (char *)s;
        s = NULL;
    }
    err = read_secret("security.jwt_secret_file", cfg->jwt_secret_file, &s,
                      &len, why);
    if (err != CW_OK)
        return err;
    if (len < 32) {
        cw_free_secret(s, len + 1);
        why_set(why, "security.jwt_secret_file: the secret must be at least "
                     "32 bytes");
        return CW_E_CONFIG;
    }
    cfg->jwt_secret = s;
    cfg->jwt_secret_len = len;
    s = NULL;
    err = read_secret("security.master_key_file", cfg->master_key_file, &s,
                      &len, why);
    if (err != CW_OK)
        return err;
    if (sp_hex_decode((const char *)s, len, cfg->master_key, 32) != CW_OK) {
        cw_free_secret(s, len + 1);
        why_set(why, "security.master_key_file: must hold exactly 64 hex "
                     "characters (32 bytes)");
        return CW_E_CONFIG;
    }
    cw_free_secret(s, len + 1);
    return CW_OK;
}

enum cw_err
conf_load(const char *path, struct cw_config **out,
          struct conf_why *why)
{
    struct cw_config *cfg;
    struct buf        text;
    struct stat       st;
    int               fd = -1;
    enum cw_err       err = CW_E_CONFIG;
    ssize_t           n;
    uint8_t          *dst;

    *out = NULL;
    buf_init(&text, LIM_CONF_FILE);
    cfg = cw_xcalloc(1, sizeof(*cfg));
    conf_defaults(cfg);
    if (path == NULL)
        path = CONF_DEFAULT_PATH;
    cfg->path = cw_xstrdup(path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        why_set(why, "cannot open configuration %s: %s", path,
                strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        why_set(why, "configuration %s is not a regular file", path);
        goto out;
    }
    for (;;) {
        err = buf_reserve(&text, 4096, &dst);
        if (err != CW_OK) {
            why_set(why, "configuration %s is too large", path);
            err = CW_E_CONFIG;
            goto out;
        }
        n = read(fd, dst, 4096);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            why_set(why, "cannot read %s: %s", path, strerror(errno));
            err = CW_E_CONFIG;
            goto out;
        }
        if (n == 0)
            break;
        text.len += (size_t)n;
    }
    err = conf_parse_text((const char *)text.p, text.len, cfg, why);
    if (err != CW_OK)
        goto out;
    err = conf_validate(cfg, why);
    if (err != CW_OK)
        goto out;
    *out = cfg;
    cfg = NULL;
out:
    if (fd >= 0)
        close(fd);
    buf_cleanup(&text);
    conf_free(cfg);
    return err;
}

void
conf_free(struct cw_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < NKEYS; i++)
        if (conf_keys[i].type == CT_STR)
            free(*str_field(cfg, &conf_keys[i]));
    free(cfg->path);
    if (cfg->db_password != NULL)
        cw_free_secret(cfg->db_password, strlen(cfg->db_password) + 1);
    if (cfg->jwt_secret != NULL)
        cw_free_secret(cfg->jwt_secret, cfg->jwt_secret_len + 1);
    OPENSSL_cleanse(cfg->master_key, sizeof(cfg->master_key));
    free(cfg);
}

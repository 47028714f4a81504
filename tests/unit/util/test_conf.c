/*
 * test_conf.c: unit tests for backend/util/conf.c: the INI parser, the
 * environment overrides, trusted-proxy CIDR lists and conf_load()'s
 * validation of listen addresses, public_url and secret files. Files live
 * in a private directory under /tmp made for the run and removed after.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "cw_limits.h"
#include "util/conf.h"
#include "util/log.h"
#include "util/mem.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

extern char **environ;

static char tmpdir[64];

static const char jwt_ok[] =
    "0123456789abcdef0123456789ABCDEF-secret-key-48b\n";
static const char master_ok[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

/* ---- helpers ------------------------------------------------------------ */

static struct cw_config *
cfg_new(void)
{
    struct cw_config *cfg = cw_xcalloc(1, sizeof(*cfg));

    ck_assert_ptr_nonnull(cfg);
    conf_defaults(cfg);
    return cfg;
}

/* Write a file under tmpdir (replacing it) with the given mode; returns the
 * path in a static buffer per slot. */
static int
write_file(const char *path, const char *text, size_t len, mode_t mode)
{
    int fd;
    int ok;

    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    ok = write(fd, text, len) == (ssize_t)len && fchmod(fd, mode) == 0;
    close(fd);
    return ok ? 0 : -1;
}

static const char *
put_file(int slot, const char *name, const char *text, size_t len,
         mode_t mode)
{
    static char paths[4][256];
    char       *path = paths[slot];

    snprintf(path, sizeof(paths[0]), "%s/%s", tmpdir, name);
    ck_assert_msg(write_file(path, text, len, mode) == 0, "write %s: %s",
                  path, strerror(errno));
    return path;
}

/* Paths of a valid jwt secret and master key (made by main). */
static char jwt_path[256];
static char master_path[256];

/* Write a configuration with the given [server] listen and public_url and
 * extra text, then conf_load() it. */
static enum cw_err
load_conf(const char *listen, const char *public_url, const char *jwt,
          const char *master, const char *extra, struct cw_config **out,
          struct conf_why *why)
{
    char        text[8192];
    const char *path;
    int         n;

    n = snprintf(text, sizeof(text),
                 "[database]\nhost = 127.0.0.1\n"
                 "[server]\nlisten = %s\npublic_url = %s\n"
                 "[security]\njwt_secret_file = %s\nmaster_key_file = %s\n"
                 "%s",
                 listen, public_url, jwt ? jwt : jwt_path,
                 master ? master : master_path, extra ? extra : "");
    ck_assert(n > 0 && (size_t)n < sizeof(text));
    path = put_file(3, "certward.conf", text, (size_t)n, 0600);
    memset(why, 0, sizeof(*why));
    *out = (struct cw_config *)(uintptr_t)1;
    return conf_load(path, out, why);
}

/* One config value as text, by "section.key". */
static const char *
cfg_get(const struct cw_config *cfg, const char *key, char *tmp, size_t n)
{
    if (strcmp(key, "database.port") == 0)
        snprintf(tmp, n, "%u", cfg->db_port);
    else if (strcmp(key, "database.name") == 0)
        return cfg->db_name;
    else if (strcmp(key, "database.host") == 0)
        return cfg->db_host;
    else if (strcmp(key, "database.password_file") == 0)
        return cfg->db_password_file;
    else if (strcmp(key, "database.io_timeout") == 0)
        snprintf(tmp, n, "%u", cfg->db_io_timeout);
    else if (strcmp(key, "server.listen") == 0)
        return cfg->listen;
    else if (strcmp(key, "server.workers") == 0)
        snprintf(tmp, n, "%u", cfg->workers);
    else if (strcmp(key, "server.threads") == 0)
        snprintf(tmp, n, "%u", cfg->threads);
    else if (strcmp(key, "server.socket_mode") == 0)
        snprintf(tmp, n, "%04o", cfg->socket_mode);
    else if (strcmp(key, "server.public_url") == 0)
        return cfg->public_url;
    else if (strcmp(key, "server.trusted_proxies") == 0)
        return cfg->trusted_proxies;
    else if (strcmp(key, "security.session_ttl") == 0)
        snprintf(tmp, n, "%u", cfg->session_ttl);
    else if (strcmp(key, "security.cookie_secure") == 0)
        snprintf(tmp, n, "%d", cfg->cookie_secure);
    else if (strcmp(key, "log.level") == 0)
        return cfg->log_level;
    else
        ck_abort_msg("cfg_get: unknown key %s", key);
    return tmp;
}

/* ---- defaults ----------------------------------------------------------- */

struct default_case {
    int         line;
    const char *key;
    const char *want;
};

static const struct default_case default_cases[] = {
    { __LINE__, "database.host", "127.0.0.1" },
    { __LINE__, "database.port", "3306" },
    { __LINE__, "database.name", "certward" },
    { __LINE__, "database.password_file", "" },
    { __LINE__, "server.listen", "/run/certward/fcgi.sock" },
    { __LINE__, "server.workers", "2" },
    { __LINE__, "server.threads", "8" },
    { __LINE__, "server.socket_mode", "0660" },
    { __LINE__, "server.public_url", "http://localhost" },
    { __LINE__, "server.trusted_proxies", "" },
    { __LINE__, "security.session_ttl", "28800" },
    { __LINE__, "security.cookie_secure", "1" },
    { __LINE__, "log.level", "info" },
};

START_TEST(test_defaults)
{
    const struct default_case *c = &default_cases[_i];
    struct cw_config *cfg = cfg_new();
    char              tmp[64];

    ck_assert_msg(strcmp(cfg_get(cfg, c->key, tmp, sizeof(tmp)), c->want) == 0,
                  "line %d: %s = '%s' want '%s'", c->line, c->key,
                  cfg_get(cfg, c->key, tmp, sizeof(tmp)), c->want);
    ck_assert_uint_eq(cfg->argon2_memory_kib, 65536);
    ck_assert_ptr_null(cfg->jwt_secret);
    ck_assert_uint_eq(cfg->nproxies, 0);
    conf_free(cfg);
}
END_TEST

/* ---- conf_parse_text ---------------------------------------------------- */

START_TEST(test_parse_valid_file)
{
    static const char text[] =
        "# certward.conf\n"
        "; another comment style\n"
        "\n"
        "[database]\n"
        "host = db.internal\n"
        "port=3307\n"
        "  name   =   pki  \n"
        "\tio_timeout = 0\n"
        "[server]\r\n"
        "listen = 127.0.0.1:9000\r\n"
        "workers = 4\n"
        "socket_mode = 0600\n"
        "public_url = https://ca.example.com\n"
        "trusted_proxies = 10.0.0.0/8, ::1\n"
        "[ security ]\n"
        "session_ttl = 3600\n"
        "cookie_secure = off\n"
        "[log]\n"
        "level = debug";
    struct cw_config *cfg = cfg_new();
    struct conf_why   why = { "" };
    char              tmp[64];
    enum cw_err       err;

    err = conf_parse_text(text, strlen(text), cfg, &why);
    ck_assert_msg(err == CW_OK, "parse: %s", why.msg);
    ck_assert_str_eq(cfg->db_host, "db.internal");
    ck_assert_uint_eq(cfg->db_port, 3307);
    ck_assert_str_eq(cfg->db_name, "pki");
    ck_assert_uint_eq(cfg->db_io_timeout, 0);
    ck_assert_str_eq(cfg->listen, "127.0.0.1:9000");
    ck_assert_uint_eq(cfg->workers, 4);
    ck_assert_str_eq(cfg_get(cfg, "server.socket_mode", tmp, sizeof(tmp)),
                     "0600");
    ck_assert_str_eq(cfg->public_url, "https://ca.example.com");
    ck_assert_str_eq(cfg->trusted_proxies, "10.0.0.0/8, ::1");
    ck_assert_uint_eq(cfg->session_ttl, 3600);
    ck_assert_int_eq(cfg->cookie_secure, 0);
    ck_assert_str_eq(cfg->log_level, "debug");
    /* Keys not in the file keep their defaults. */
    ck_assert_uint_eq(cfg->threads, 8);
    ck_assert_str_eq(cfg->db_user, "certward");
    conf_free(cfg);
}
END_TEST

struct parse_case {
    int         line;
    const char *text;
    int         len;        /* -1: strlen */
    enum cw_err err;
    const char *msg;        /* substring of why.msg, or key=value on OK */
};

static const struct parse_case parse_cases[] = {
    { __LINE__, "", -1, CW_OK, NULL },
    { __LINE__, "\n\n# c\n; c\n   \n", -1, CW_OK, NULL },
    { __LINE__, "[server]\n", -1, CW_OK, NULL },
    { __LINE__, "[server]\nworkers = 4\n", -1, CW_OK, "server.workers=4" },
    { __LINE__, "[server]\nworkers=4", -1, CW_OK, "server.workers=4" },
    { __LINE__, "  [server]  \n  workers = 5  \n", -1, CW_OK,
      "server.workers=5" },
    { __LINE__, "[ server ]\nworkers = 6\n", -1, CW_OK, "server.workers=6" },
    { __LINE__, "[server]\r\nworkers = 7\r\n", -1, CW_OK,
      "server.workers=7" },
    { __LINE__, "[server]\nworkers = 4\nworkers = 9\n", -1, CW_OK,
      "server.workers=9" },
    { __LINE__, "[database]\nname = caf\xc3\xa9\n", -1, CW_OK,
      "database.name=caf\xc3\xa9" },
    { __LINE__, "[database]\nname = a = b\n", -1, CW_OK,
      "database.name=a = b" },
    { __LINE__, "[database]\nname =\n", -1, CW_OK, "database.name=" },
    /* unknown section */
    { __LINE__, "[nosuch]\n", -1, CW_E_CONFIG, "unknown section [nosuch]" },
    { __LINE__, "[Server]\n", -1, CW_E_CONFIG, "unknown section [Server]" },
    { __LINE__, "[ ]\n", -1, CW_E_CONFIG, "unknown section" },
    { __LINE__, "[server]]\n", -1, CW_E_CONFIG, "unknown section" },
    { __LINE__, "[server]\nworkers = 4\n[bogus]\n", -1, CW_E_CONFIG,
      "config:3: unknown section [bogus]" },
    /* unknown key */
    { __LINE__, "[server]\nnosuch = 1\n", -1, CW_E_CONFIG,
      "unknown key 'nosuch' in [server]" },
    { __LINE__, "[server]\nhost = x\n", -1, CW_E_CONFIG,
      "unknown key 'host' in [server]" },
    { __LINE__, "[server]\nWorkers = 4\n", -1, CW_E_CONFIG,
      "unknown key 'Workers'" },
    { __LINE__, "[server]\n= 4\n", -1, CW_E_CONFIG, "unknown key ''" },
    { __LINE__, "[server]\nwork ers = 4\n", -1, CW_E_CONFIG, "unknown key" },
    /* key outside a section */
    { __LINE__, "workers = 4\n", -1, CW_E_CONFIG,
      "config:1: key outside of a [section]" },
    { __LINE__, "# c\n\nhost = x\n[database]\n", -1, CW_E_CONFIG,
      "config:3: key outside" },
    /* malformed section / line */
    { __LINE__, "[server\n", -1, CW_E_CONFIG, "malformed section header" },
    { __LINE__, "[]\n", -1, CW_E_CONFIG, "malformed section header" },
    { __LINE__, "[\n", -1, CW_E_CONFIG, "malformed section header" },
    { __LINE__, "[server] x\n", -1, CW_E_CONFIG, "malformed section header" },
    { __LINE__, "server]\n", -1, CW_E_CONFIG, "expected key = value" },
    { __LINE__, "[server]\nworkers\n", -1, CW_E_CONFIG,
      "config:2: expected key = value" },
    /* integers: range and digits */
    { __LINE__, "[server]\nworkers = 1\n", -1, CW_OK, "server.workers=1" },
    { __LINE__, "[server]\nworkers = 256\n", -1, CW_OK, "server.workers=256" },
    { __LINE__, "[server]\nworkers = 0\n", -1, CW_E_CONFIG,
      "server.workers must be an integer from 1 to 256" },
    { __LINE__, "[server]\nworkers = 257\n", -1, CW_E_CONFIG,
      "from 1 to 256" },
    { __LINE__, "[server]\nworkers = 4x\n", -1, CW_E_CONFIG, "integer" },
    { __LINE__, "[server]\nworkers = -1\n", -1, CW_E_CONFIG, "integer" },
    { __LINE__, "[server]\nworkers = +4\n", -1, CW_E_CONFIG, "integer" },
    { __LINE__, "[server]\nworkers = 04\n", -1, CW_E_CONFIG, "integer" },
    { __LINE__, "[server]\nworkers = 0x10\n", -1, CW_E_CONFIG, "integer" },
    { __LINE__, "[server]\nworkers = 4 4\n", -1, CW_E_CONFIG, "integer" },
    { __LINE__, "[server]\nworkers =\n", -1, CW_E_CONFIG, "integer" },
    { __LINE__, "[server]\nworkers = 4 # four\n", -1, CW_E_CONFIG,
      "integer" },
    { __LINE__, "[server]\nworkers = 99999999999999999999999\n", -1,
      CW_E_CONFIG, "integer" },
    { __LINE__, "[server]\nworkers = 4294967297\n", -1, CW_E_CONFIG,
      "integer" },
    { __LINE__, "[database]\nport = 65535\n", -1, CW_OK,
      "database.port=65535" },
    { __LINE__, "[database]\nport = 65536\n", -1, CW_E_CONFIG,
      "database.port must be an integer from 1 to 65535" },
    { __LINE__, "[database]\nport = 0\n", -1, CW_E_CONFIG, "database.port" },
    { __LINE__, "[database]\nio_timeout = 0\n", -1, CW_OK,
      "database.io_timeout=0" },
    { __LINE__, "[security]\nsession_ttl = 299\n", -1, CW_E_CONFIG,
      "from 300 to 604800" },
    { __LINE__, "[security]\nsession_ttl = 604801\n", -1, CW_E_CONFIG,
      "from 300 to 604800" },
    { __LINE__, "[security]\nsession_ttl = 604800\n", -1, CW_OK,
      "security.session_ttl=604800" },
    /* bool words */
    { __LINE__, "[security]\ncookie_secure = false\n", -1, CW_OK,
      "security.cookie_secure=0" },
    { __LINE__, "[security]\ncookie_secure = no\n", -1, CW_OK,
      "security.cookie_secure=0" },
    { __LINE__, "[security]\ncookie_secure = OFF\n", -1, CW_OK,
      "security.cookie_secure=0" },
    { __LINE__, "[security]\ncookie_secure = 0\n", -1, CW_OK,
      "security.cookie_secure=0" },
    { __LINE__, "[security]\ncookie_secure = 0\ncookie_secure = yes\n", -1,
      CW_OK, "security.cookie_secure=1" },
    { __LINE__, "[security]\ncookie_secure = off\ncookie_secure = True\n", -1,
      CW_OK, "security.cookie_secure=1" },
    { __LINE__, "[security]\ncookie_secure = off\ncookie_secure = on\n", -1,
      CW_OK, "security.cookie_secure=1" },
    { __LINE__, "[security]\ncookie_secure = off\ncookie_secure = 1\n", -1,
      CW_OK, "security.cookie_secure=1" },
    { __LINE__, "[security]\ncookie_secure = maybe\n", -1, CW_E_CONFIG,
      "security.cookie_secure must be true or false" },
    { __LINE__, "[security]\ncookie_secure = 2\n", -1, CW_E_CONFIG,
      "true or false" },
    { __LINE__, "[security]\ncookie_secure =\n", -1, CW_E_CONFIG,
      "true or false" },
    /* octal mode */
    { __LINE__, "[server]\nsocket_mode = 0600\n", -1, CW_OK,
      "server.socket_mode=0600" },
    { __LINE__, "[server]\nsocket_mode = 660\n", -1, CW_OK,
      "server.socket_mode=0660" },
    { __LINE__, "[server]\nsocket_mode = 0777\n", -1, CW_OK,
      "server.socket_mode=0777" },
    { __LINE__, "[server]\nsocket_mode = 0\n", -1, CW_OK,
      "server.socket_mode=0000" },
    { __LINE__, "[server]\nsocket_mode = 1777\n", -1, CW_E_CONFIG,
      "server.socket_mode must be an octal mode" },
    { __LINE__, "[server]\nsocket_mode = 0888\n", -1, CW_E_CONFIG,
      "octal mode" },
    { __LINE__, "[server]\nsocket_mode = rw-rw----\n", -1, CW_E_CONFIG,
      "octal mode" },
    { __LINE__, "[server]\nsocket_mode = 0o660\n", -1, CW_E_CONFIG,
      "octal mode" },
    { __LINE__, "[server]\nsocket_mode =\n", -1, CW_E_CONFIG, "octal mode" },
    /* control characters in values */
    { __LINE__, "[database]\nname = a\x01" "b\n", -1, CW_E_CONFIG,
      "config:2: database.name contains control characters" },
    { __LINE__, "[database]\nname = a\x1b[0mb\n", -1, CW_E_CONFIG,
      "control characters" },
    { __LINE__, "[database]\nname = a\x7f" "b\n", -1, CW_E_CONFIG,
      "control characters" },
    { __LINE__, "[database]\nname = a\tb\n", -1, CW_E_CONFIG,
      "control characters" },
    { __LINE__, "[database]\nname = a\rb\n", -1, CW_E_CONFIG,
      "control characters" },
    { __LINE__, "[database]\nname = a\0b\n", 23, CW_E_CONFIG,
      "control characters" },
    { __LINE__, "[server]\nworkers = 4\0\n", 21, CW_E_CONFIG, "integer" },
    /* size caps */
    { __LINE__, NULL, 0, CW_E_CONFIG, "line too long" },
    { __LINE__, NULL, 1, CW_E_CONFIG, "value too long" },
    { __LINE__, NULL, 2, CW_OK, NULL },
};

/* The three size rows are generated: a line over LIM_CONF_LINE, a value
 * over LIM_CONF_VALUE, and a value of exactly LIM_CONF_VALUE. */
static char *
parse_case_text(int which, size_t *len)
{
    size_t vlen = which == 0 ? LIM_CONF_LINE : which == 1
                                                   ? LIM_CONF_VALUE + 1
                                                   : LIM_CONF_VALUE;
    char  *t = cw_xmalloc(vlen + 64);
    size_t n;

    ck_assert_ptr_nonnull(t);
    n = strlen("[database]\nname = ");
    memcpy(t, "[database]\nname = ", n);
    memset(t + n, 'x', vlen);
    n += vlen;
    t[n++] = '\n';
    t[n] = '\0';
    *len = n;
    return t;
}

START_TEST(test_parse_text)
{
    const struct parse_case *c = &parse_cases[_i];
    struct cw_config *cfg = cfg_new();
    struct conf_why   why;
    char             *gen = NULL;
    const char       *text = c->text;
    size_t            len;
    enum cw_err       err;

    if (text == NULL) {
        gen = parse_case_text(c->len, &len);
        text = gen;
    } else {
        len = c->len < 0 ? strlen(text) : (size_t)c->len;
    }
    memset(&why, 0, sizeof(why));
    err = conf_parse_text(text, len, cfg, &why);
    ck_assert_msg(err == c->err, "line %d: err %d want %d (%s)", c->line,
                  (int)err, (int)c->err, why.msg);
    if (err != CW_OK && c->msg != NULL) {
        ck_assert_msg(strstr(why.msg, c->msg) != NULL,
                      "line %d: message '%s' lacks '%s'", c->line, why.msg,
                      c->msg);
    } else if (err == CW_OK && c->msg != NULL) {
        char        key[64];
        char        tmp[64];
        const char *eq = strchr(c->msg, '=');
        const char *got;

        snprintf(key, sizeof(key), "%.*s", (int)(eq - c->msg), c->msg);
        got = cfg_get(cfg, key, tmp, sizeof(tmp));
        ck_assert_msg(strcmp(got, eq + 1) == 0, "line %d: %s = '%s' want '%s'",
                      c->line, key, got, eq + 1);
    }
    free(gen);
    conf_free(cfg);
}
END_TEST

/* ---- environment overrides ---------------------------------------------- */

struct env_case {
    int         line;
    const char *name;
    const char *value;
    const char *text;
    enum cw_err err;
    const char *want;       /* key=value on OK, message substring else */
};

static const struct env_case env_cases[] = {
    { __LINE__, "CERTWARD_SERVER_WORKERS", "7", "[server]\nworkers = 3\n",
      CW_OK, "server.workers=7" },
    { __LINE__, "CERTWARD_SERVER_WORKERS", "7", "", CW_OK,
      "server.workers=7" },
    { __LINE__, "CERTWARD_DATABASE_NAME", "envdb", "[database]\nname = f\n",
      CW_OK, "database.name=envdb" },
    { __LINE__, "CERTWARD_DATABASE_PASSWORD_FILE", "/run/secrets/db", "",
      CW_OK, "database.password_file=/run/secrets/db" },
    { __LINE__, "CERTWARD_SECURITY_COOKIE_SECURE", "off", "", CW_OK,
      "security.cookie_secure=0" },
    { __LINE__, "CERTWARD_SERVER_SOCKET_MODE", "0600", "", CW_OK,
      "server.socket_mode=0600" },
    { __LINE__, "CERTWARD_LOG_LEVEL", "debug", "[log]\nlevel = err\n", CW_OK,
      "log.level=debug" },
    { __LINE__, "CERTWARD_DATABASE_NAME", "", "", CW_OK, "database.name=" },
    /* names are upper case only; unknown names are not ours */
    { __LINE__, "certward_server_workers", "9", "[server]\nworkers = 3\n",
      CW_OK, "server.workers=3" },
    { __LINE__, "CERTWARD_SERVER_NOSUCH", "1", "[server]\nworkers = 3\n",
      CW_OK, "server.workers=3" },
    /* values are validated like the file's, naming the variable */
    { __LINE__, "CERTWARD_SERVER_WORKERS", "0", "", CW_E_CONFIG,
      "environment CERTWARD_SERVER_WORKERS: server.workers must be an "
      "integer" },
    { __LINE__, "CERTWARD_SERVER_WORKERS", "", "", CW_E_CONFIG,
      "CERTWARD_SERVER_WORKERS" },
    { __LINE__, "CERTWARD_SERVER_WORKERS", " 4", "", CW_E_CONFIG,
      "CERTWARD_SERVER_WORKERS" },
    { __LINE__, "CERTWARD_SECURITY_COOKIE_SECURE", "maybe", "", CW_E_CONFIG,
      "CERTWARD_SECURITY_COOKIE_SECURE" },
    { __LINE__, "CERTWARD_DATABASE_NAME", "a\nb", "", CW_E_CONFIG,
      "environment CERTWARD_DATABASE_NAME: database.name contains control" },
    /* a file error is reported before the environment is looked at */
    { __LINE__, "CERTWARD_SERVER_WORKERS", "7", "[server]\nworkers = 0\n",
      CW_E_CONFIG, "config:2" },
};

START_TEST(test_env_override)
{
    const struct env_case *c = &env_cases[_i];
    struct cw_config *cfg = cfg_new();
    struct conf_why   why;
    enum cw_err       err;

    memset(&why, 0, sizeof(why));
    ck_assert(setenv(c->name, c->value, 1) == 0);
    err = conf_parse_text(c->text, strlen(c->text), cfg, &why);
    unsetenv(c->name);
    ck_assert_msg(err == c->err, "line %d: err %d want %d (%s)", c->line,
                  (int)err, (int)c->err, why.msg);
    if (err == CW_OK) {
        char        key[64];
        char        tmp[64];
        const char *eq = strchr(c->want, '=');
        const char *got;

        snprintf(key, sizeof(key), "%.*s", (int)(eq - c->want), c->want);
        got = cfg_get(cfg, key, tmp, sizeof(tmp));
        ck_assert_msg(strcmp(got, eq + 1) == 0,
                      "line %d: %s = '%s' want '%s'", c->line, key, got,
                      eq + 1);
    } else {
        ck_assert_msg(strstr(why.msg, c->want) != NULL,
                      "line %d: message '%s' lacks '%s'", c->line, why.msg,
                      c->want);
    }
    conf_free(cfg);
}
END_TEST

START_TEST(test_env_override_load)
{
    struct cw_config *cfg;
    struct conf_why   why;
    enum cw_err       err;

    /* conf_load honours the environment too, and validates the result. */
    setenv("CERTWARD_SERVER_LISTEN", "[::1]:9100", 1);
    err = load_conf("127.0.0.1:9000", "https://ca.example.com", NULL, NULL,
                    NULL, &cfg, &why);
    unsetenv("CERTWARD_SERVER_LISTEN");
    ck_assert_msg(err == CW_OK, "%s", why.msg);
    ck_assert_str_eq(cfg->listen, "[::1]:9100");
    conf_free(cfg);

    setenv("CERTWARD_SERVER_LISTEN", "localhost:9100", 1);
    err = load_conf("127.0.0.1:9000", "https://ca.example.com", NULL, NULL,
                    NULL, &cfg, &why);
    unsetenv("CERTWARD_SERVER_LISTEN");
    ck_assert_int_eq(err, CW_E_CONFIG);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(why.msg, "server.listen") != NULL, "%s", why.msg);
}
END_TEST

/* ---- trusted proxies ---------------------------------------------------- */

struct cidr_parse_case {
    int         line;
    const char *list;
    size_t      max;
    enum cw_err err;
    size_t      n;
    int         prefix0;    /* prefix of the first entry, when n > 0 */
};

static const struct cidr_parse_case cidr_parse_cases[] = {
    { __LINE__, "", 8, CW_OK, 0, 0 },
    { __LINE__, "10.0.0.1", 8, CW_OK, 1, 32 },
    { __LINE__, "10.0.0.0/8", 8, CW_OK, 1, 8 },
    { __LINE__, "0.0.0.0/0", 8, CW_OK, 1, 0 },
    { __LINE__, "10.0.0.0/32", 8, CW_OK, 1, 32 },
    { __LINE__, "::1", 8, CW_OK, 1, 128 },
    { __LINE__, "::/0", 8, CW_OK, 1, 0 },
    { __LINE__, "2001:db8::/32", 8, CW_OK, 1, 32 },
    { __LINE__, "::1/128", 8, CW_OK, 1, 128 },
    { __LINE__, "10.0.0.0/8, 192.168.0.0/16 ,::1", 8, CW_OK, 3, 8 },
    { __LINE__, " 10.0.0.0/8 ,\t172.16.0.0/12", 8, CW_OK, 2, 8 },
    { __LINE__, "10.1.2.3/8", 8, CW_OK, 1, 8 },
    /* a trailing comma is tolerated */
    { __LINE__, "10.0.0.1,", 8, CW_OK, 1, 32 },
    /* bad prefixes */
    { __LINE__, "10.0.0.0/33", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "::1/129", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.0/", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.0/-1", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.0/+8", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.0/08", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.0/8/8", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.0/x", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.0 /8", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.0/255.0.0.0", 8, CW_E_CONFIG, 0, 0 },
    /* junk entries */
    { __LINE__, "junk", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.1,junk", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.256", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "1.2.3.4.5", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "localhost", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "fe80::1%eth0", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "[::1]", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.1:80", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "/8", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, ",10.0.0.1", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.1,,10.0.0.2", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.1, ,10.0.0.2", 8, CW_E_CONFIG, 0, 0 },
    { __LINE__, "1111:2222:3333:4444:5555:6666:7777:8888:9999:0000:1111:2222",
      8, CW_E_CONFIG, 0, 0 },
    /* too many entries */
    { __LINE__, "10.0.0.1,10.0.0.2", 2, CW_OK, 2, 32 },
    { __LINE__, "10.0.0.1,10.0.0.2,10.0.0.3", 2, CW_E_CONFIG, 0, 0 },
    { __LINE__, "10.0.0.1", 0, CW_E_CONFIG, 0, 0 },
};

START_TEST(test_cidrs_parse)
{
    const struct cidr_parse_case *c = &cidr_parse_cases[_i];
    struct conf_cidr out[9];
    size_t           n = 99;
    enum cw_err      err;

    memset(out, 0xee, sizeof(out));
    err = conf_cidrs_parse(c->list, out, c->max, &n);
    ck_assert_msg(err == c->err, "line %d: '%s' err %d want %d", c->line,
                  c->list, (int)err, (int)c->err);
    if (err == CW_OK) {
        ck_assert_msg(n == c->n, "line %d: n %zu want %zu", c->line, n, c->n);
        if (n > 0)
            ck_assert_msg(out[0].prefix == c->prefix0,
                          "line %d: prefix %d want %d", c->line,
                          out[0].prefix, c->prefix0);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(out[i].family == AF_INET ||
                              out[i].family == AF_INET6,
                          "line %d: entry %zu family", c->line, i);
    }
    /* Never writes past max. */
    ck_assert_msg(out[c->max].family == (int)0xeeeeeeee,
                  "line %d: wrote past max", c->line);
}
END_TEST

START_TEST(test_cidrs_parse_limit)
{
    struct conf_cidr out[LIM_TRUSTED_PROXIES];
    char             list[2048];
    size_t           o = 0;
    size_t           n = 0;

    for (int i = 0; i < LIM_TRUSTED_PROXIES; i++)
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s10.0.%d.0/24",
                              i ? "," : "", i);
    ck_assert_int_eq(conf_cidrs_parse(list, out, LIM_TRUSTED_PROXIES, &n),
                     CW_OK);
    ck_assert_uint_eq(n, LIM_TRUSTED_PROXIES);
    ck_assert(conf_cidr_match(out, n, "10.0.63.200"));
    ck_assert(!conf_cidr_match(out, n, "10.0.64.1"));
    snprintf(list + o, sizeof(list) - o, ",10.0.99.0/24");
    ck_assert_int_eq(conf_cidrs_parse(list, out, LIM_TRUSTED_PROXIES, &n),
                     CW_E_CONFIG);
    /* The config struct holds LIM_TRUSTED_PROXIES entries. */
    ck_assert_uint_eq(sizeof(((struct cw_config *)0)->proxies) /
                          sizeof(struct conf_cidr),
                      LIM_TRUSTED_PROXIES);
}
END_TEST

struct cidr_match_case {
    int         line;
    const char *list;
    const char *addr;
    int         match;
};

static const struct cidr_match_case cidr_match_cases[] = {
    { __LINE__, "10.0.0.0/8", "10.1.2.3", 1 },
    { __LINE__, "10.0.0.0/8", "10.255.255.255", 1 },
    { __LINE__, "10.0.0.0/8", "11.0.0.0", 0 },
    { __LINE__, "10.0.0.0/8", "9.255.255.255", 0 },
    { __LINE__, "10.1.2.3/8", "10.200.0.1", 1 },
    { __LINE__, "10.0.0.0/7", "11.255.255.255", 1 },
    { __LINE__, "10.0.0.0/7", "12.0.0.0", 0 },
    { __LINE__, "192.168.1.0/25", "192.168.1.127", 1 },
    { __LINE__, "192.168.1.0/25", "192.168.1.128", 0 },
    { __LINE__, "192.168.1.1/32", "192.168.1.1", 1 },
    { __LINE__, "192.168.1.1/32", "192.168.1.2", 0 },
    { __LINE__, "192.168.1.1", "192.168.1.1", 1 },
    { __LINE__, "192.168.1.1", "192.168.1.0", 0 },
    { __LINE__, "0.0.0.0/0", "1.2.3.4", 1 },
    { __LINE__, "0.0.0.0/0", "255.255.255.255", 1 },
    { __LINE__, "0.0.0.0/0", "::1", 0 },
    /* a v4-mapped IPv6 address is the IPv4 client */
    { __LINE__, "10.0.0.0/8", "::ffff:10.1.2.3", 1 },
    { __LINE__, "10.0.0.0/8", "::FFFF:10.1.2.3", 1 },
    { __LINE__, "10.0.0.0/8", "::ffff:11.1.2.3", 0 },
    { __LINE__, "127.0.0.1", "::ffff:127.0.0.1", 1 },
    { __LINE__, "0.0.0.0/0", "::ffff:1.2.3.4", 1 },
    { __LINE__, "10.0.0.0/8", "::10.1.2.3", 0 },
    { __LINE__, "10.0.0.0/8", "64:ff9b::10.1.2.3", 0 },
    /* IPv6 */
    { __LINE__, "::/0", "::1", 1 },
    { __LINE__, "::/0", "2001:db8::1", 1 },
    { __LINE__, "::/0", "1.2.3.4", 0 },
    { __LINE__, "::1/128", "::1", 1 },
    { __LINE__, "::1/128", "0:0:0:0:0:0:0:1", 1 },
    { __LINE__, "::1/128", "::2", 0 },
    { __LINE__, "::1", "::1", 1 },
    { __LINE__, "2001:db8::/32", "2001:db8:ffff::1", 1 },
    { __LINE__, "2001:db8::/32", "2001:DB8::1", 1 },
    { __LINE__, "2001:db8::/32", "2001:db9::1", 0 },
    { __LINE__, "fe80::/10", "fe80::1", 1 },
    { __LINE__, "fe80::/10", "febf:ffff::1", 1 },
    { __LINE__, "fe80::/10", "fec0::1", 0 },
    /* lists */
    { __LINE__, "10.0.0.0/8,192.168.0.0/16,::1", "192.168.9.9", 1 },
    { __LINE__, "10.0.0.0/8,192.168.0.0/16,::1", "::1", 1 },
    { __LINE__, "10.0.0.0/8,192.168.0.0/16,::1", "172.16.0.1", 0 },
    { __LINE__, "", "10.0.0.1", 0 },
    /* junk addresses never match */
    { __LINE__, "0.0.0.0/0", "", 0 },
    { __LINE__, "0.0.0.0/0", "junk", 0 },
    { __LINE__, "0.0.0.0/0", "1.2.3.4 ", 0 },
    { __LINE__, "0.0.0.0/0", " 1.2.3.4", 0 },
    { __LINE__, "0.0.0.0/0", "1.2.3", 0 },
    { __LINE__, "0.0.0.0/0", "1.2.3.4:80", 0 },
    { __LINE__, "::/0", "[::1]", 0 },
    { __LINE__, "::/0", "fe80::1%lo", 0 },
};

START_TEST(test_cidr_match)
{
    const struct cidr_match_case *c = &cidr_match_cases[_i];
    struct conf_cidr out[8];
    size_t           n = 0;

    ck_assert_msg(conf_cidrs_parse(c->list, out, 8, &n) == CW_OK,
                  "line %d: list", c->line);
    ck_assert_msg(conf_cidr_match(out, n, c->addr) == c->match,
                  "line %d: '%s' in '%s' should be %s", c->line, c->addr,
                  c->list, c->match ? "a match" : "no match");
}
END_TEST

/* An entry the parser accepts must be able to match something: at least
 * the address it was written with. */
struct cidr_self_case {
    int         line;
    const char *entry;
    const char *addr;
};

static const struct cidr_self_case cidr_self_cases[] = {
    { __LINE__, "10.0.0.1", "10.0.0.1" },
    { __LINE__, "10.0.0.0/8", "10.0.0.0" },
    { __LINE__, "::1", "::1" },
    { __LINE__, "2001:db8::/32", "2001:db8::" },
    { __LINE__, "::ffff:10.0.0.1", "::ffff:10.0.0.1" },
    { __LINE__, "::ffff:10.0.0.0/104", "::ffff:10.0.0.5" },
    { __LINE__, "::ffff:0:0/96", "::ffff:192.0.2.1" },
};

START_TEST(test_cidr_self_match)
{
    const struct cidr_self_case *c = &cidr_self_cases[_i];
    struct conf_cidr out[2];
    size_t           n = 0;

    if (conf_cidrs_parse(c->entry, out, 2, &n) != CW_OK)
        return;     /* refusing the entry is also acceptable */
    ck_assert_msg(conf_cidr_match(out, n, c->addr),
                  "line %d: trusted_proxies entry '%s' is accepted but "
                  "never matches '%s'",
                  c->line, c->entry, c->addr);
}
END_TEST

/* ---- conf_load: secret files -------------------------------------------- */

struct secret_case {
    int         line;
    const char *jwt;        /* contents; NULL: file missing */
    int         jwt_len;    /* -1: strlen */
    mode_t      jwt_mode;
    const char *master;
    mode_t      master_mode;
    const char *dbpw;       /* NULL: no password_file key */
    mode_t      dbpw_mode;
    enum cw_err err;
    const char *msg;        /* substring of the error */
};

static const struct secret_case secret_cases[] = {
    { __LINE__, jwt_ok, -1, 0600, master_ok, 0600, NULL, 0, CW_OK, NULL },
    { __LINE__, jwt_ok, -1, 0400, master_ok, 0400, NULL, 0, CW_OK, NULL },
    { __LINE__, jwt_ok, -1, 0700, master_ok, 0600, NULL, 0, CW_OK, NULL },
    { __LINE__, jwt_ok, -1, 0600, master_ok, 0600, "s3cret\n", 0600, CW_OK,
      NULL },
    /* missing files name their key */
    { __LINE__, NULL, 0, 0, master_ok, 0600, NULL, 0, CW_E_CONFIG,
      "security.jwt_secret_file: cannot open" },
    { __LINE__, jwt_ok, -1, 0600, NULL, 0, NULL, 0, CW_E_CONFIG,
      "security.master_key_file: cannot open" },
    { __LINE__, jwt_ok, -1, 0600, master_ok, 0600, "", 0, CW_E_CONFIG,
      "database.password_file: cannot open" },
    /* group/other permission bits */
    { __LINE__, jwt_ok, -1, 0644, master_ok, 0600, NULL, 0, CW_E_CONFIG,
      "security.jwt_secret_file" },
    { __LINE__, jwt_ok, -1, 0640, master_ok, 0600, NULL, 0, CW_E_CONFIG,
      "accessible by group or others (mode 640)" },
    { __LINE__, jwt_ok, -1, 0604, master_ok, 0600, NULL, 0, CW_E_CONFIG,
      "accessible by group or others" },
    { __LINE__, jwt_ok, -1, 0610, master_ok, 0600, NULL, 0, CW_E_CONFIG,
      "accessible by group or others" },
    { __LINE__, jwt_ok, -1, 0600, master_ok, 0644, NULL, 0, CW_E_CONFIG,
      "security.master_key_file" },
    { __LINE__, jwt_ok, -1, 0600, master_ok, 0600, "pw\n", 0644, CW_E_CONFIG,
      "database.password_file" },
    /* jwt secret length */
    { __LINE__, "0123456789012345678901234567890", -1, 0600, master_ok, 0600,
      NULL, 0, CW_E_CONFIG, "at least 32 bytes" },
    { __LINE__, "0123456789012345678901234567890\n", -1, 0600, master_ok,
      0600, NULL, 0, CW_E_CONFIG, "at least 32 bytes" },
    { __LINE__, "0123456789012345678901234567890\r\n", -1, 0600, master_ok,
      0600, NULL, 0, CW_E_CONFIG, "at least 32 bytes" },
    { __LINE__, "", -1, 0600, master_ok, 0600, NULL, 0, CW_E_CONFIG,
      "at least 32 bytes" },
    { __LINE__, "01234567890123456789012345678901", -1, 0600, master_ok, 0600,
      NULL, 0, CW_OK, NULL },
    { __LINE__, "01234567890123456789012345678901\r\n", -1, 0600, master_ok,
      0600, NULL, 0, CW_OK, NULL },
    { __LINE__, NULL, LIM_SECRET_FILE + 1, 0600, master_ok, 0600, NULL, 0,
      CW_E_CONFIG, "too large" },
    { __LINE__, NULL, LIM_SECRET_FILE, 0600, master_ok, 0600, NULL, 0, CW_OK,
      NULL },
    /* master key: exactly 64 hex digits */
    { __LINE__, jwt_ok, -1, 0600,
      "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
      0600, NULL, 0, CW_OK, NULL },
    { __LINE__, jwt_ok, -1, 0600,
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\r\n",
      0600, NULL, 0, CW_OK, NULL },
    { __LINE__, jwt_ok, -1, 0600,
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",
      0600, NULL, 0, CW_E_CONFIG, "64 hex" },
    { __LINE__, jwt_ok, -1, 0600,
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0",
      0600, NULL, 0, CW_E_CONFIG, "64 hex" },
    { __LINE__, jwt_ok, -1, 0600,
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",
      0600, NULL, 0, CW_E_CONFIG, "64 hex" },
    { __LINE__, jwt_ok, -1, 0600,
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f ",
      0600, NULL, 0, CW_E_CONFIG, "64 hex" },
    { __LINE__, jwt_ok, -1, 0600,
      " 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
      0600, NULL, 0, CW_E_CONFIG, "64 hex" },
    { __LINE__, jwt_ok, -1, 0600,
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n",
      0600, NULL, 0, CW_E_CONFIG, "64 hex" },
    { __LINE__, jwt_ok, -1, 0600, "", 0600, NULL, 0, CW_E_CONFIG, "64 hex" },
};

START_TEST(test_load_secrets)
{
    const struct secret_case *c = &secret_cases[_i];
    struct cw_config *cfg;
    struct conf_why   why;
    char              jwt[256];
    char              master[256];
    char              extra[512] = "";
    char              name[64];
    char              confpath[128];
    char             *big = NULL;
    enum cw_err       err;

    snprintf(name, sizeof(name), "jwt-%d", c->line);
    if (c->jwt == NULL && c->jwt_len > 0) {
        big = cw_xmalloc((size_t)c->jwt_len);
        memset(big, 'k', (size_t)c->jwt_len);
        snprintf(jwt, sizeof(jwt), "%s",
                 put_file(0, name, big, (size_t)c->jwt_len, c->jwt_mode));
    } else if (c->jwt == NULL) {
        snprintf(jwt, sizeof(jwt), "%s/%s", tmpdir, name);
        unlink(jwt);
    } else {
        snprintf(jwt, sizeof(jwt), "%s",
                 put_file(0, name, c->jwt,
                          c->jwt_len < 0 ? strlen(c->jwt) : (size_t)c->jwt_len,
                          c->jwt_mode));
    }
    snprintf(name, sizeof(name), "master-%d", c->line);
    if (c->master == NULL) {
        snprintf(master, sizeof(master), "%s/%s", tmpdir, name);
        unlink(master);
    } else {
        snprintf(master, sizeof(master), "%s",
                 put_file(1, name, c->master, strlen(c->master),
                          c->master_mode));
    }
    if (c->dbpw != NULL) {
        snprintf(name, sizeof(name), "dbpw-%d", c->line);
        if (c->dbpw_mode == 0)
            snprintf(extra, sizeof(extra),
                     "[database]\npassword_file = %s/%s\n", tmpdir, name);
        else
            snprintf(extra, sizeof(extra), "[database]\npassword_file = %s\n",
                     put_file(2, name, c->dbpw, strlen(c->dbpw),
                              c->dbpw_mode));
    }
    err = load_conf("127.0.0.1:9000", "https://ca.example.com", jwt, master,
                    extra, &cfg, &why);
    free(big);
    if (err == CW_OK && c->err != CW_OK)
        conf_free(cfg);
    ck_assert_msg(err == c->err, "line %d: err %d want %d (%s)", c->line,
                  (int)err, (int)c->err, why.msg);
    if (err != CW_OK) {
        ck_assert_msg(cfg == NULL, "line %d: *out set on error", c->line);
        ck_assert_msg(strstr(why.msg, c->msg) != NULL,
                      "line %d: message '%s' lacks '%s'", c->line, why.msg,
                      c->msg);
        return;
    }
    ck_assert_ptr_nonnull(cfg);
    ck_assert_ptr_nonnull(cfg->jwt_secret);
    ck_assert_msg(cfg->jwt_secret_len >= 32, "line %d", c->line);
    ck_assert_msg(cfg->jwt_secret[cfg->jwt_secret_len] == '\0', "line %d",
                  c->line);
    ck_assert_msg(memchr(cfg->jwt_secret, '\n', cfg->jwt_secret_len) == NULL &&
                      memchr(cfg->jwt_secret, '\r', cfg->jwt_secret_len) ==
                          NULL,
                  "line %d: line ending kept in the secret", c->line);
    for (int i = 0; i < 32; i++)
        ck_assert_msg(cfg->master_key[i] == (uint8_t)i,
                      "line %d: master key byte %d", c->line, i);
    if (c->dbpw != NULL)
        ck_assert_str_eq(cfg->db_password, "s3cret");
    else
        ck_assert_ptr_null(cfg->db_password);
    snprintf(confpath, sizeof(confpath), "%s/certward.conf", tmpdir);
    ck_assert_str_eq(cfg->path, confpath);
    conf_free(cfg);
}
END_TEST

START_TEST(test_load_secret_not_regular)
{
    struct cw_config *cfg;
    struct conf_why   why;
    char              link[256];
    char              dir[256];

    /* A symlink to a good secret is refused (O_NOFOLLOW). */
    snprintf(link, sizeof(link), "%s/jwt-link", tmpdir);
    unlink(link);
    ck_assert(symlink(jwt_path, link) == 0);
    ck_assert_int_eq(load_conf("127.0.0.1:9000", "https://ca.example.com",
                               link, NULL, NULL, &cfg, &why),
                     CW_E_CONFIG);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(why.msg, "security.jwt_secret_file") != NULL, "%s",
                  why.msg);
    /* A directory is not a secret. */
    snprintf(dir, sizeof(dir), "%s/jwt-dir", tmpdir);
    mkdir(dir, 0700);
    ck_assert_int_eq(load_conf("127.0.0.1:9000", "https://ca.example.com",
                               dir, NULL, NULL, &cfg, &why),
                     CW_E_CONFIG);
    ck_assert_msg(strstr(why.msg, "not a regular file") != NULL, "%s",
                  why.msg);
}
END_TEST

START_TEST(test_load_valid)
{
    struct cw_config *cfg;
    struct conf_why   why;
    enum cw_err       err;

    err = load_conf("127.0.0.1:9000", "https://ca.example.com/", NULL, NULL,
                    "[server]\ntrusted_proxies = 10.0.0.0/8, ::1\n"
                    "[log]\nlevel = debug\n",
                    &cfg, &why);
    ck_assert_msg(err == CW_OK, "%s", why.msg);
    ck_assert_str_eq(cfg->listen, "127.0.0.1:9000");
    ck_assert_str_eq(cfg->public_url, "https://ca.example.com");
    ck_assert_uint_eq(cfg->nproxies, 2);
    ck_assert(conf_cidr_match(cfg->proxies, cfg->nproxies, "10.9.8.7"));
    ck_assert(conf_cidr_match(cfg->proxies, cfg->nproxies, "::1"));
    ck_assert_int_eq(cfg->log_prio, LOG_DEBUG);
    ck_assert_uint_eq(cfg->jwt_secret_len, strlen(jwt_ok) - 1);
    ck_assert(memcmp(cfg->jwt_secret, jwt_ok, cfg->jwt_secret_len) == 0);
    conf_free(cfg);
}
END_TEST

/* Other validations done by conf_load. */
struct validate_case {
    int         line;
    const char *extra;
    enum cw_err err;
    const char *msg;
};

static const struct validate_case validate_cases[] = {
    { __LINE__, "", CW_OK, NULL },
    { __LINE__, "[log]\nlevel = err\n", CW_OK, NULL },
    { __LINE__, "[log]\nlevel = warning\n", CW_OK, NULL },
    { __LINE__, "[log]\nlevel = verbose\n", CW_E_CONFIG, "log.level" },
    { __LINE__, "[log]\nlevel = DEBUG\n", CW_E_CONFIG, "log.level" },
    { __LINE__, "[log]\nlevel =\n", CW_E_CONFIG, "log.level" },
    { __LINE__, "[database]\nname =\n", CW_E_CONFIG, "database.name" },
    { __LINE__, "[database]\nuser =\n", CW_E_CONFIG, "database.user" },
    { __LINE__, "[database]\nhost =\n", CW_E_CONFIG, "database.host" },
    { __LINE__, "[database]\nhost =\nsocket = /run/mysqld/mysqld.sock\n",
      CW_OK, NULL },
    { __LINE__, "[database]\ntls_ca = /nonexistent/ca.pem\n", CW_E_CONFIG,
      "database.tls_ca" },
    { __LINE__, "[server]\ntrusted_proxies = 10.0.0.0/8,junk\n", CW_E_CONFIG,
      "server.trusted_proxies" },
    { __LINE__, "[server]\ntrusted_proxies = 10.0.0.0/33\n", CW_E_CONFIG,
      "server.trusted_proxies" },
    { __LINE__, "[security]\njwt_secret_file =\n", CW_E_CONFIG,
      "jwt_secret_file" },
    { __LINE__, "[security]\nmaster_key_file =\n", CW_E_CONFIG,
      "master_key_file" },
    { __LINE__, "[nosuch]\n", CW_E_CONFIG, "certward.conf:9: unknown section" },
};

START_TEST(test_load_validate)
{
    const struct validate_case *c = &validate_cases[_i];
    struct cw_config *cfg;
    struct conf_why   why;
    enum cw_err       err;

    err = load_conf("127.0.0.1:9000", "https://ca.example.com", NULL, NULL,
                    c->extra, &cfg, &why);
    if (err == CW_OK && c->err != CW_OK)
        conf_free(cfg);
    ck_assert_msg(err == c->err, "line %d: err %d want %d (%s)", c->line,
                  (int)err, (int)c->err, why.msg);
    if (err == CW_OK) {
        conf_free(cfg);
        return;
    }
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(why.msg, c->msg) != NULL,
                  "line %d: message '%s' lacks '%s'", c->line, why.msg,
                  c->msg);
}
END_TEST

/* Whole 100-byte comment lines, over LIM_CONF_FILE. */
#define BIG_CONF ((LIM_CONF_FILE / 100 + 2) * 100)

START_TEST(test_load_file_errors)
{
    struct cw_config *cfg;
    struct conf_why   why;
    char              path[256];
    char             *big;
    const char       *p;

    snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmpdir);
    ck_assert_int_eq(conf_load(path, &cfg, &why), CW_E_CONFIG);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(why.msg, "cannot open configuration") != NULL &&
                      strstr(why.msg, path) != NULL,
                  "%s", why.msg);

    ck_assert_int_eq(conf_load(tmpdir, &cfg, &why), CW_E_CONFIG);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(why.msg, "not a regular file") != NULL, "%s",
                  why.msg);

    /* Over LIM_CONF_FILE: comment lines only, so only the size fails. */
    big = cw_xmalloc(BIG_CONF);
    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i < BIG_CONF; i += 100) {
        memset(big + i, '#', 99);
        big[i + 99] = '\n';
    }
    p = put_file(0, "big.conf", big, BIG_CONF, 0600);
    free(big);
    ck_assert_int_eq(conf_load(p, &cfg, &why), CW_E_CONFIG);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(why.msg, "too large") != NULL, "%s", why.msg);
}
END_TEST

/* ---- conf_load: listen -------------------------------------------------- */

struct listen_case {
    int         line;
    const char *listen;
    int         ok;
};

static const struct listen_case listen_cases[] = {
    { __LINE__, "127.0.0.1:9000", 1 },
    { __LINE__, "0.0.0.0:9000", 1 },
    { __LINE__, "[::1]:9000", 1 },
    { __LINE__, "[::]:9000", 1 },
    { __LINE__, "[::ffff:127.0.0.1]:9000", 1 },
    { __LINE__, "127.0.0.1:1", 1 },
    { __LINE__, "127.0.0.1:65535", 1 },
    { __LINE__, "/tmp/x.sock", 1 },
    { __LINE__, "/run/certward/fcgi.sock", 1 },
    /* no explicit address */
    { __LINE__, ":9000", 0 },
    { __LINE__, "9000", 0 },
    { __LINE__, "*:9000", 0 },
    /* names are not addresses */
    { __LINE__, "localhost:9000", 0 },
    { __LINE__, "[localhost]:9000", 0 },
    { __LINE__, "ca.example.com:9000", 0 },
    /* malformed */
    { __LINE__, "127.0.0.1", 0 },
    { __LINE__, "127.0.0.1:", 0 },
    { __LINE__, "127.0.0.1:0", 0 },
    { __LINE__, "127.0.0.1:65536", 0 },
    { __LINE__, "127.0.0.1:09000", 0 },
    { __LINE__, "127.0.0.1:+80", 0 },
    { __LINE__, "127.0.0.1:http", 0 },
    { __LINE__, "127.1:9000", 0 },
    { __LINE__, "::1:9000", 0 },
    { __LINE__, "[::1]", 0 },
    { __LINE__, "[::1]:", 0 },
    { __LINE__, "[]:9000", 0 },
    { __LINE__, "[127.0.0.1]:9000", 0 },
    { __LINE__, "::1]:9000", 0 },
    { __LINE__, "x.sock", 0 },
    { __LINE__, "", 0 },
};

START_TEST(test_load_listen)
{
    const struct listen_case *c = &listen_cases[_i];
    struct cw_config *cfg;
    struct conf_why   why;
    enum cw_err       err;

    err = load_conf(c->listen, "https://ca.example.com", NULL, NULL, NULL,
                    &cfg, &why);
    if (err == CW_OK && !c->ok)
        conf_free(cfg);
    ck_assert_msg((err == CW_OK) == c->ok, "line %d: listen '%s' %s (%s)",
                  c->line, c->listen, err == CW_OK ? "accepted" : "refused",
                  why.msg);
    if (err == CW_OK) {
        ck_assert_str_eq(cfg->listen, c->listen);
        conf_free(cfg);
    } else {
        ck_assert_ptr_null(cfg);
        ck_assert_msg(strstr(why.msg, "server.listen") != NULL,
                      "line %d: message '%s'", c->line, why.msg);
    }
}
END_TEST

START_TEST(test_load_listen_unix_path_length)
{
    struct cw_config *cfg;
    struct conf_why   why;
    char              path[200];

    /* sun_path holds 107 characters plus the NUL. */
    memset(path, 'a', sizeof(path));
    path[0] = '/';
    path[107] = '\0';
    ck_assert_int_eq(load_conf(path, "https://ca.example.com", NULL, NULL,
                               NULL, &cfg, &why),
                     CW_OK);
    conf_free(cfg);
    path[107] = 'a';
    path[108] = '\0';
    ck_assert_int_eq(load_conf(path, "https://ca.example.com", NULL, NULL,
                               NULL, &cfg, &why),
                     CW_E_CONFIG);
    ck_assert_msg(strstr(why.msg, "too long") != NULL, "%s", why.msg);
}
END_TEST

/* ---- conf_load: public_url ---------------------------------------------- */

struct url_case {
    int         line;
    const char *url;
    const char *want;       /* NULL: refused */
};

static const struct url_case url_cases[] = {
    { __LINE__, "https://ca.example.com", "https://ca.example.com" },
    { __LINE__, "https://ca.example.com/", "https://ca.example.com" },
    { __LINE__, "https://ca.example.com///", "https://ca.example.com" },
    { __LINE__, "http://ca.example.com/", "http://ca.example.com" },
    { __LINE__, "http://localhost:8080", "http://localhost:8080" },
    { __LINE__, "https://[::1]:8443/", "https://[::1]:8443" },
    { __LINE__, "https://192.0.2.1", "https://192.0.2.1" },
    /* a path is refused */
    { __LINE__, "https://ca.example.com/path", NULL },
    { __LINE__, "https://ca.example.com/path/", NULL },
    { __LINE__, "https://ca.example.com/a/b", NULL },
    { __LINE__, "http://ca.example.com/x", NULL },
    { __LINE__, "http://a/x", NULL },
    { __LINE__, "http:///x", NULL },
    { __LINE__, "https:///x", NULL },
    /* no host */
    { __LINE__, "https://", NULL },
    { __LINE__, "https:///", NULL },
    { __LINE__, "http://", NULL },
    { __LINE__, "http:///", NULL },
    /* non-http schemes and junk */
    { __LINE__, "ftp://ca.example.com", NULL },
    { __LINE__, "ldap://ca.example.com", NULL },
    { __LINE__, "javascript:alert(1)", NULL },
    { __LINE__, "ca.example.com", NULL },
    { __LINE__, "//ca.example.com", NULL },
    { __LINE__, "https:ca.example.com", NULL },
    { __LINE__, "", NULL },
    { __LINE__, "https://ca.example.com?x=1", NULL },
    { __LINE__, "https://ca.example.com#top", NULL },
    { __LINE__, "https://ca example.com", NULL },
    { __LINE__, "https://ca.example.com\"", NULL },
    { __LINE__, "https://ca.example.com<", NULL },
};

START_TEST(test_load_public_url)
{
    const struct url_case *c = &url_cases[_i];
    struct cw_config *cfg;
    struct conf_why   why;
    enum cw_err       err;

    char              got[256] = "";

    err = load_conf("127.0.0.1:9000", c->url, NULL, NULL, NULL, &cfg, &why);
    if (c->want == NULL) {
        if (err == CW_OK) {
            snprintf(got, sizeof(got), "%s", cfg->public_url);
            conf_free(cfg);
        }
        ck_assert_msg(err == CW_E_CONFIG,
                      "line %d: public_url '%s' accepted as '%s'", c->line,
                      c->url, got);
        ck_assert_msg(strstr(why.msg, "server.public_url") != NULL,
                      "line %d: message '%s'", c->line, why.msg);
        return;
    }
    ck_assert_msg(err == CW_OK, "line %d: public_url '%s' refused: %s",
                  c->line, c->url, why.msg);
    snprintf(got, sizeof(got), "%s", cfg->public_url);
    conf_free(cfg);
    ck_assert_msg(strcmp(got, c->want) == 0,
                  "line %d: public_url '%s' want '%s'", c->line, got,
                  c->want);
}
END_TEST

/* ---- runner ------------------------------------------------------------- */

#define LOOP(tc, t, arr) tcase_add_loop_test(tc, t, 0, (int)N_ELEMS(arr))

static Suite *
conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc;

    tc = tcase_create("parse");
    LOOP(tc, test_defaults, default_cases);
    tcase_add_test(tc, test_parse_valid_file);
    LOOP(tc, test_parse_text, parse_cases);
    LOOP(tc, test_env_override, env_cases);
    tcase_add_test(tc, test_env_override_load);
    suite_add_tcase(s, tc);

    tc = tcase_create("cidr");
    LOOP(tc, test_cidrs_parse, cidr_parse_cases);
    tcase_add_test(tc, test_cidrs_parse_limit);
    LOOP(tc, test_cidr_match, cidr_match_cases);
    LOOP(tc, test_cidr_self_match, cidr_self_cases);
    suite_add_tcase(s, tc);

    tc = tcase_create("load");
    tcase_set_timeout(tc, 30);
    LOOP(tc, test_load_secrets, secret_cases);
    tcase_add_test(tc, test_load_secret_not_regular);
    tcase_add_test(tc, test_load_valid);
    LOOP(tc, test_load_validate, validate_cases);
    tcase_add_test(tc, test_load_file_errors);
    LOOP(tc, test_load_listen, listen_cases);
    tcase_add_test(tc, test_load_listen_unix_path_length);
    LOOP(tc, test_load_public_url, url_cases);
    suite_add_tcase(s, tc);
    return s;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The environment must not leak CERTWARD_* settings into the tests. */
static void
env_scrub(void)
{
    for (;;) {
        char **e;
        char   name[256];

        for (e = environ; *e != NULL; e++)
            if (strncmp(*e, "CERTWARD_", 9) == 0)
                break;
        if (*e == NULL)
            return;
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(*e, "="), *e);
        unsetenv(name);
    }
}

int
main(void)
{
    SRunner *sr;
    int      failed;

    log_set_level(LOG_CRIT);
    env_scrub();
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/certward-test-conf-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    snprintf(jwt_path, sizeof(jwt_path), "%s/jwt.secret", tmpdir);
    snprintf(master_path, sizeof(master_path), "%s/master.key", tmpdir);
    if (write_file(jwt_path, jwt_ok, strlen(jwt_ok), 0600) != 0 ||
        write_file(master_path, master_ok, strlen(master_ok), 0600) != 0) {
        perror(tmpdir);
        return EXIT_FAILURE;
    }

    sr = srunner_create(conf_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

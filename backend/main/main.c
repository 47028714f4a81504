/*
 * main.c: the certward command line. Thin: parses arguments, loads the
 * configuration and calls into the library. Exit codes: 0 ok, 1 runtime
 * failure, 2 usage or configuration error, with one line on stderr.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <mysql.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <sodium.h>

#include "auth/password.h"
#include "auth/users.h"
#include "ca/ca.h"
#include "http/http.h"
#include "jobs/jobs.h"
#include "cw_limits.h"
#include "store/migrate.h"
#include "store/store.h"
#include "util/conf.h"
#include "util/log.h"
#include "util/mem.h"

static void
usage(void)
{
    fputs("usage: certward [-c FILE] serve\n"
          "       certward [-c FILE] cron TASK|all [--force]\n"
          "       certward [-c FILE] migrate\n"
          "       certward [-c FILE] user add --username NAME --role ROLE "
          "[--email ADDR] [--password-file FILE]\n"
          "       certward [-c FILE] check-config\n"
          "       certward version\n",
          stderr);
}

static int
die2(const char *msg)
{
    fprintf(stderr, "certward: %s\n", msg);
    return 2;
}

static struct cw_config *
load(const char *path)
{
    struct cw_config *cfg = NULL;
    struct conf_why   why;

    if (conf_load(path, &cfg, &why) != CW_OK) {
        fprintf(stderr, "certward: %s\n", why.msg);
        return NULL;
    }
    log_set_level(cfg->log_prio);
    return cfg;
}

static int
cmd_version(void)
{
    printf("certward %s\n", PACKAGE_VERSION);
    printf("schema %u\n", store_schema_expected());
    printf("openssl %s, mariadb-connector-c %s, jansson %s, libsodium %s\n",
           OpenSSL_version(OPENSSL_VERSION_STRING), mysql_get_client_info(),
           JANSSON_VERSION, sodium_version_string());
    return 0;
}

static int
cmd_migrate(const struct cw_config *cfg)
{
    struct store *db = store_new(cfg);
    unsigned      applied = 0;
    unsigned      v = 0;
    enum cw_err   err;

    err = store_migrate(db, &applied);
    if (err == CW_OK)
        err = store_schema_version(db, &v);
    store_free(db);
    if (err == CW_E_SCHEMA) {
        fprintf(stderr, "certward: the database schema is newer than this "
                        "certward: upgrade certward\n");
        return 1;
    }
    if (err != CW_OK) {
        fprintf(stderr, "certward: migrate failed: %s\n", cw_err_name(err));
        return 1;
    }
    printf("schema at version %u (%u migration%s applied)\n", v, applied,
           applied == 1 ? "" : "s");
    return 0;
}

/* Read a password file: private, one line, newline stripped. */
static int
read_password_file(const char *path, char *out, size_t n)
{
    struct stat st;
    int         fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t     r;
    size_t      len = 0;

    if (fd < 0) {
        fprintf(stderr, "certward: cannot open %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (st.st_mode & 077) != 0) {
        fprintf(stderr, "certward: %s must be a regular file readable only "
                        "by its owner (chmod 600)\n", path);
        close(fd);
        return -1;
    }
    while (len < n - 1) {
        r = read(fd, out + len, n - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    out[len] = '\0';
    if (len == n - 1) {
        fprintf(stderr, "certward: %s: password too long\n", path);
        return -1;
    }
    if (len > 0 && out[len - 1] == '\n')
        out[--len] = '\0';
    if (len > 0 && out[len - 1] == '\r')
        out[--len] = '\0';
    return 0;
}

static int
cmd_user_add(const struct cw_config *cfg, int argc, char **argv)
{
    const char          *username = NULL;
    const char          *role = NULL;
    const char          *email = NULL;
    const char          *pwfile = NULL;
    char                 pw[LIM_PASSWORD + 2];
    char                 why[256];
    struct auth_user_new u;
    struct store        *db;
    uint64_t             id = 0;
    enum cw_err          err;
    int                  generated = 0;

    for (int i = 0; i < argc; i++) {
        const char **dst = NULL;

        if (strcmp(argv[i], "--username") == 0)
            dst = &username;
        else if (strcmp(argv[i], "--role") == 0)
            dst = &role;
        else if (strcmp(argv[i], "--email") == 0)
            dst = &email;
        else if (strcmp(argv[i], "--password-file") == 0)
            dst = &pwfile;
        if (dst == NULL || i + 1 >= argc) {
            usage();
            return 2;
        }
        *dst = argv[++i];
    }
    if (username == NULL || role == NULL) {
        usage();
        return 2;
    }
    if (strcmp(role, "admin") != 0 && strcmp(role, "operator") != 0 &&
        strcmp(role, "auditor") != 0 && strcmp(role, "viewer") != 0) {
        fprintf(stderr, "certward: --role must be admin, operator, auditor "
                        "or viewer\n");
        return 2;
    }
    if (pwfile != NULL) {
        if (read_password_file(pwfile, pw, sizeof(pw)) != 0)
            return 2;
    } else {
        auth_password_generate(pw, 21);
        generated = 1;
    }
    memset(&u, 0, sizeof(u));
    u.username = username;
    u.email = email;
    u.password = pw;
    u.role = role;
    /* A generated password was shown on a terminal: it must be changed at
     * first login. */
    u.must_change = generated;
    u.actor_name = "cli";
    u.client_addr = "";
    db = store_new(cfg);
    err = auth_user_create(db, cfg, &u, &id, why, sizeof(why));
    store_free(db);
    if (err != CW_OK) {
        OPENSSL_cleanse(pw, sizeof(pw));
        if (err == CW_E_BADREQ || err == CW_E_PASSWORD) {
            fprintf(stderr, "certward: %s%s\n",
                    err == CW_E_PASSWORD ? "password " : "", why);
            return 2;
        }
        if (err == CW_E_CONFLICT) {
            fprintf(stderr, "certward: %s\n", why);
            return 1;
        }
        fprintf(stderr, "certward: user add failed: %s\n", cw_err_name(err));
        return 1;
    }
    printf("user %s created with id %llu and role %s\n", username,
           (unsigned long long)id, role);
    if (generated)
        printf("password: %s\n(shown once; it must be changed at first "
               "login)\n", pw);
    OPENSSL_cleanse(pw, sizeof(pw));
    return 0;
}

static int
cmd_serve(const struct cw_config *cfg, char **argv)
{
    struct store *db = store_new(cfg);
    char          why[256];
    enum cw_err   err;

    /* A wrong master key would fail every signature later; say so now.
     * An unreachable database is not fatal here (workers answer 503). */
    err = store_connect(db, 0);
    if (err == CW_OK)
        err = ca_master_key_check(db, cfg, why, sizeof(why));
    store_free(db);
    if (err == CW_E_CRYPTO) {
        fprintf(stderr, "certward: %s\n", why);
        return 1;
    }
    return http_serve(cfg, argv);
}

int
main(int argc, char **argv)
{
    const char       *path = NULL;
    struct cw_config *cfg;
    char             *verb;
    int               i = 1;
    int               rc;

    if (sodium_init() < 0)
        return die2("libsodium failed to initialize");
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            path = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else {
            usage();
            return 2;
        }
    }
    if (i >= argc) {
        usage();
        return 2;
    }
    verb = argv[i++];
    if (strcmp(verb, "version") == 0)
        return cmd_version();
    if (strcmp(verb, "serve") != 0 && strcmp(verb, "cron") != 0 &&
        strcmp(verb, "migrate") != 0 && strcmp(verb, "user") != 0 &&
        strcmp(verb, "check-config") != 0) {
        usage();
        return 2;
    }
    /* Validate the verb's arguments before touching the configuration. */
    if (strcmp(verb, "cron") == 0 &&
        (i >= argc || i + 2 < argc ||
         (i + 1 < argc && strcmp(argv[i + 1], "--force") != 0))) {
        usage();
        return 2;
    }
    if (strcmp(verb, "user") == 0 && (i >= argc || strcmp(argv[i], "add"))) {
        usage();
        return 2;
    }
    if ((strcmp(verb, "serve") == 0 || strcmp(verb, "migrate") == 0 ||
         strcmp(verb, "check-config") == 0) && i != argc) {
        usage();
        return 2;
    }
    cfg = load(path);
    if (cfg == NULL)
        return 2;
    if (mysql_library_init(0, NULL, NULL) != 0) {
        conf_free(cfg);
        return die2("cannot initialize the MariaDB client library");
    }
    if (strcmp(verb, "check-config") == 0) {
        printf("%s: ok\n", cfg->path);
        rc = 0;
    } else if (strcmp(verb, "migrate") == 0) {
        rc = cmd_migrate(cfg);
    } else if (strcmp(verb, "cron") == 0) {
        rc = job_cron(cfg, argv[i], i + 1 < argc);
    } else if (strcmp(verb, "user") == 0) {
        rc = cmd_user_add(cfg, argc - i - 1, argv + i + 1);
    } else {
        rc = cmd_serve(cfg, argv);
    }
    conf_free(cfg);
    mysql_library_end();
    return rc;
}

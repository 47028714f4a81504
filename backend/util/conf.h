/*
 * conf.h: the configuration file. A {section, key, type, min, max, default}
 * table drives parsing; unknown sections and keys are fatal; every key can
 * be overridden from the environment as CERTWARD_<SECTION>_<KEY>. Secrets
 * are read from *_file keys whose files must not be group/world accessible.
 * After conf_load() the configuration is immutable.
 */
#ifndef CW_UTIL_CONF_H
#define CW_UTIL_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CONF_DEFAULT_PATH "/etc/certward/certward.conf"

struct conf_cidr {
    int     family;     /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    int     prefix;
};

struct cw_config {
    /* [database] */
    char     *db_host;
    unsigned  db_port;
    char     *db_socket;
    char     *db_name;
    char     *db_user;
    char     *db_password_file;
    char     *db_tls_ca;
    unsigned  db_connect_timeout;
    unsigned  db_io_timeout;
    /* [server] */
    char     *listen;
    unsigned  socket_mode;
    char     *socket_group;
    unsigned  workers;
    unsigned  threads;
    unsigned  drain_timeout;
    char     *public_url;
    char     *trusted_proxies;
    char     *run_user;
    /* [security] */
    char     *jwt_secret_file;
    char     *master_key_file;
    unsigned  session_ttl;
    int       cookie_secure;
    unsigned  argon2_memory_kib;
    unsigned  argon2_iterations;
    unsigned  argon2_parallelism;
    /* [log] */
    char     *log_level;

    /* Derived, filled by conf_load(). */
    char             *path;          /* the file read                      */
    char             *db_password;   /* NULL when no password_file         */
    uint8_t          *jwt_secret;    /* secret bytes                       */
    size_t            jwt_secret_len;
    uint8_t           master_key[32];
    int               log_prio;
    struct conf_cidr  proxies[64];
    size_t            nproxies;
};

/* Why loading failed: one line for stderr. */
struct conf_why {
    char msg[512];
};

/* Load and validate path (NULL = default), reading the secret files. On
 * failure why holds one line for stderr (exit code 2). */
enum cw_err conf_load(const char *path, struct cw_config **out,
                      struct conf_why *why);
/* Parse text (for tests); environment overrides are applied. */
enum cw_err conf_parse_text(const char *text, size_t len,
                            struct cw_config *cfg, struct conf_why *why);
void conf_defaults(struct cw_config *cfg);
void conf_free(struct cw_config *cfg);
/* Parse a comma-separated list of addresses/CIDRs. */
enum cw_err conf_cidrs_parse(const char *list, struct conf_cidr *out,
                             size_t max, size_t *n);
/* Does the textual address match one of the ranges? */
int conf_cidr_match(const struct conf_cidr *c, size_t n, const char *addr);

#endif

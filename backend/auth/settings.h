/*
 * settings.h: security settings stored in the database (table settings,
 * row "security"), so every worker on every node applies the same policy.
 * Each worker thread caches them for a few seconds; a change takes effect
 * everywhere within AUTH_SETTINGS_TTL seconds.
 */
#ifndef CW_AUTH_SETTINGS_H
#define CW_AUTH_SETTINGS_H

#include <jansson.h>

#include "http/http.h"
#include "store/store.h"
#include "util/conf.h"

#define AUTH_SETTINGS_TTL 5
#define AUTH_MAX_2FA_ROLES 16

struct auth_rl_rule {
    unsigned per_minute;   /* 0 = unlimited */
    unsigned burst;
};

struct auth_settings {
    unsigned            session_ttl;
    unsigned            lockout_threshold;
    unsigned            lockout_addr_threshold;
    unsigned            lockout_window;
    unsigned            lockout_duration;
    struct auth_rl_rule rl[RL__MAX];
    struct conf_cidr    allow[LIM_TRUSTED_PROXIES];
    size_t              nallow;
    int                 proxies_set;   /* else the config file's list */
    struct conf_cidr    proxies[LIM_TRUSTED_PROXIES];
    size_t              nproxies;
    char                tfa_roles[AUTH_MAX_2FA_ROLES][65];
    size_t              ntfa_roles;
    unsigned            audit_retention_days;
    int                 from_db;       /* 0: defaults, never loaded    */
};

/* The current settings (cached per thread; defaults when the database
 * cannot be read). Never NULL. */
const struct auth_settings *auth_settings_get(struct store *db,
                                              const struct cw_config *cfg);
/* Drop this thread's cache (after a change made by this thread). */
void auth_settings_invalidate(void);
/* Parse a security document over defaults; CW_E_BADREQ with why. */
enum cw_err auth_settings_parse(const struct cw_config *cfg, json_t *doc,
                                struct auth_settings *out, char *why,
                                size_t whylen);
/* The JSON shape of the security settings. */
json_t *auth_settings_json(const struct auth_settings *s);
int auth_settings_requires_2fa(const struct auth_settings *s,
                               const char *role);

#endif

/*
 * settings.c: security settings from the database with a short per-thread
 * cache. The stored document is validated on write and again on read (a
 * bad row never breaks authentication: defaults apply and it is logged).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/settings.h"
#include "util/log.h"

static const char sql_get[] =
    "SELECT name, value FROM settings WHERE name IN ('security', "
    "'audit_retention')";

static const char *const rl_names[RL__MAX] = {
    [RL_DEFAULT] = "default",     [RL_LOGIN] = "login",
    [RL_PROTOCOL] = "protocol",   [RL_REVOCATION] = "revocation",
    [RL_NONE] = NULL,
};

struct settings_cache {
    struct auth_settings s;
    time_t               loaded;
    int                  valid;
};

static _Thread_local struct settings_cache cache;

static void
defaults(const struct cw_config *cfg, struct auth_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->session_ttl = cfg->session_ttl;
    s->lockout_threshold = 5;
    /* Many users may share one address (NAT): a higher bar. */
    s->lockout_addr_threshold = 20;
    s->lockout_window = 900;
    s->lockout_duration = 900;
    /* Per client address and minute; burst = requests allowed at once. */
    s->rl[RL_LOGIN] = (struct auth_rl_rule){ 10, 3 };
    s->rl[RL_DEFAULT] = (struct auth_rl_rule){ 120, 20 };
    s->rl[RL_PROTOCOL] = (struct auth_rl_rule){ 300, 50 };
    s->rl[RL_REVOCATION] = (struct auth_rl_rule){ 500, 100 };
    s->rl[RL_NONE] = (struct auth_rl_rule){ 0, 0 };
    s->audit_retention_days = 365;
}

static enum cw_err
get_uint(json_t *obj, const char *where, const char *key, unsigned lo,
         unsigned hi, unsigned *out, char *why, size_t whylen)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL)
        return CW_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo ||
        json_integer_value(v) > hi) {
        snprintf(why, whylen, "%s%s must be an integer from %u to %u", where,
                 key, lo, hi);
        return CW_E_BADREQ;
    }
    *out = (unsigned)json_integer_value(v);
    return CW_OK;
}

static enum cw_err
only_keys(json_t *obj, const char *const *keys, const char *where, char *why,
          size_t whylen)
{
    const char *k;
    json_t     *v;

    json_object_foreach(obj, k, v) {
        int ok = 0;

        for (size_t i = 0; keys[i] != NULL; i++)
            if (strcmp(keys[i], k) == 0)
                ok = 1;
        if (!ok) {
            snprintf(why, whylen, "%s%.40s: unknown field", where, k);
            return CW_E_BADREQ;
        }
    }
    return CW_OK;
}

static enum cw_err
get_cidrs(json_t *doc, const char *key, struct conf_cidr *out, size_t *n,
          int *set, char *why, size_t whylen)
{
    json_t *arr = json_object_get(doc, key);
    char    list[LIM_TRUSTED_PROXIES * 48];
    size_t  o = 0;

    if (arr == NULL)
        return CW_OK;
    if (!json_is_array(arr) || json_array_size(arr) > LIM_TRUSTED_PROXIES) {
        snprintf(why, whylen, "%s must be an array of at most %d addresses",
                 key, LIM_TRUSTED_PROXIES);
        return CW_E_BADREQ;
    }
    list[0] = '\0';
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));

        if (s == NULL || strlen(s) > 43 || strchr(s, ',') != NULL) {
            snprintf(why, whylen, "%s[%zu] must be an address or CIDR", key,
                     i);
            return CW_E_BADREQ;
        }
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
                              o ? "," : "", s);
    }
    if (conf_cidrs_parse(list, out, LIM_TRUSTED_PROXIES, n) != CW_OK) {
        snprintf(why, whylen, "%s holds an invalid address or CIDR", key);
        return CW_E_BADREQ;
    }
    if (set != NULL)
        *set = 1;
    return CW_OK;
}

enum cw_err
auth_settings_parse(const struct cw_config *cfg, json_t *doc,
                    struct auth_settings *s, char *why, size_t whylen)
{
    static const char *const top[] = { "session_ttl", "lockout",
                                       "rate_limits", "rate_limit_allowlist",
                                       "trusted_proxies", "require_2fa_roles",
                                       NULL };
    static const char *const lk[] = { "threshold", "address_threshold",
                                      "window_seconds", "duration_seconds",
                                      NULL };
    static const char *const rk[] = { "per_minute", "burst", NULL };
    json_t     *o;
    enum cw_err err;

    defaults(cfg, s);
    if (doc == NULL)
        return CW_OK;
    if (!json_is_object(doc)) {
        snprintf(why, whylen, "settings must be an object");
        return CW_E_BADREQ;
    }
    err = only_keys(doc, top, "", why, whylen);
    if (err == CW_OK)
        err = get_uint(doc, "", "session_ttl", 300, 604800, &s->session_ttl, why,
                       whylen);
    if (err != CW_OK)
        return err;
    o = json_object_get(doc, "lockout");
    if (o != NULL) {
        if (!json_is_object(o)) {
            snprintf(why, whylen, "lockout must be an object");
            return CW_E_BADREQ;
        }
        err = only_keys(o, lk, "lockout.", why, whylen);
        if (err == CW_OK)
            err = get_uint(o, "lockout.", "threshold", 1, 1000, &s->lockout_threshold,
                           why, whylen);
        if (err == CW_OK)
            err = get_uint(o, "lockout.", "address_threshold", 1, 100000,
                           &s->lockout_addr_threshold, why, whylen);
        if (err == CW_OK)
            err = get_uint(o, "lockout.", "window_seconds", 10, 86400,
                           &s->lockout_window, why, whylen);
        if (err == CW_OK)
            err = get_uint(o, "lockout.", "duration_seconds", 1, 86400,
                           &s->lockout_duration, why, whylen);
        if (err != CW_OK)
            return err;
    }
    o = json_object_get(doc, "rate_limits");
    if (o != NULL) {
        const char *k;
        json_t     *v;
        char        rl_where[48];

        if (!json_is_object(o)) {
            snprintf(why, whylen, "rate_limits must be an object");
            return CW_E_BADREQ;
        }
        json_object_foreach(o, k, v) {
            int cls = -1;

            for (int i = 0; i < RL__MAX; i++)
                if (rl_names[i] != NULL && strcmp(rl_names[i], k) == 0)
                    cls = i;
            if (cls < 0 || !json_is_object(v)) {
                snprintf(why, whylen,
                         "rate_limits.%.40s: unknown class (login, default, "
                         "protocol, revocation)", k);
                return CW_E_BADREQ;
            }
            snprintf(rl_where, sizeof(rl_where), "rate_limits.%s.", k);
            err = only_keys(v, rk, rl_where, why, whylen);
            if (err == CW_OK)
                err = get_uint(v, rl_where, "per_minute", 0, 1000000,
                               &s->rl[cls].per_minute, why, whylen);
            if (err == CW_OK)
                err = get_uint(v, rl_where, "burst", 1, 1000000, &s->rl[cls].burst,
                               why, whylen);
            if (err != CW_OK)
                return err;
        }
    }
    err = get_cidrs(doc, "rate_limit_allowlist", s->allow, &s->nallow, NULL,
                    why, whylen);
    if (err == CW_OK)
        err = get_cidrs(doc, "trusted_proxies", s->proxies, &s->nproxies,
                        &s->proxies_set, why, whylen);
    if (err != CW_OK)
        return err;
    o = json_object_get(doc, "require_2fa_roles");
    if (o != NULL) {
        if (!json_is_array(o) || json_array_size(o) > AUTH_MAX_2FA_ROLES) {
            snprintf(why, whylen, "require_2fa_roles must be an array of at "
                                  "most %d role names", AUTH_MAX_2FA_ROLES);
            return CW_E_BADREQ;
        }
        for (size_t i = 0; i < json_array_size(o); i++) {
            const char *r = json_string_value(json_array_get(o, i));

            if (r == NULL || r[0] == '\0' || strlen(r) > 64) {
                snprintf(why, whylen, "require_2fa_roles[%zu] must be a role "
                                      "name", i);
                return CW_E_BADREQ;
            }
            snprintf(s->tfa_roles[s->ntfa_roles++], 65, "%s", r);
        }
    }
    return CW_OK;
}

static json_t *
cidrs_json(const struct conf_cidr *c, size_t n)
{
    json_t *arr = json_array();
    char    txt[64];

    for (size_t i = 0; i < n; i++) {
        char addr[48];

        inet_ntop(c[i].family, c[i].addr, addr, sizeof(addr));
        if (c[i].prefix == (c[i].family == AF_INET ? 32 : 128))
            snprintf(txt, sizeof(txt), "%s", addr);
        else
            snprintf(txt, sizeof(txt), "%s/%d", addr, c[i].prefix);
        json_array_append_new(arr, json_string(txt));
    }
    return arr;
}

json_t *
auth_settings_json(const struct auth_settings *s)
{
    json_t *rl = json_object();
    json_t *roles = json_array();

    for (int i = 0; i < RL__MAX; i++)
        if (rl_names[i] != NULL)
            json_object_set_new(rl, rl_names[i],
                                json_pack("{s:i, s:i}", "per_minute",
                                          (int)s->rl[i].per_minute, "burst",
                                          (int)s->rl[i].burst));
    for (size_t i = 0; i < s->ntfa_roles; i++)
        json_array_append_new(roles, json_string(s->tfa_roles[i]));
    return json_pack("{s:i, s:{s:i, s:i, s:i, s:i}, s:o, s:o, s:o, s:o}",
                     "session_ttl", (int)s->session_ttl, "lockout",
                     "threshold", (int)s->lockout_threshold,
                     "address_threshold", (int)s->lockout_addr_threshold,
                     "window_seconds",
                     (int)s->lockout_window, "duration_seconds",
                     (int)s->lockout_duration, "rate_limits", rl,
                     "rate_limit_allowlist", cidrs_json(s->allow, s->nallow),
                     "trusted_proxies",
                     s->proxies_set ? cidrs_json(s->proxies, s->nproxies)
                                    : json_null(),
                     "require_2fa_roles", roles);
}

void
auth_settings_invalidate(void)
{
    cache.valid = 0;
}

const struct auth_settings *
auth_settings_get(struct store *db, const struct cw_config *cfg)
{
    time_t            now = time(NULL);
    struct arena      a;
    struct store_rows rows;
    char              why[160];

    if (cache.valid && now - cache.loaded < AUTH_SETTINGS_TTL)
        return &cache.s;
    arena_init(&a);
    if (db == NULL || store_query(db, &a, sql_get, NULL, 0, &rows) != CW_OK) {
        /* Keep the last good settings while the database is away, and do
         * not retry on every request. */
        if (!cache.valid)
            defaults(cfg, &cache.s);   /* from_db stays 0 */
        cache.valid = 1;
        cache.loaded = now;
        arena_reset(&a);
        return &cache.s;
    }
    defaults(cfg, &cache.s);
    for (size_t r = 0; r < rows.nrows; r++) {
        const char *name = store_cell_str(&rows, r, 0);
        json_t     *doc = json_loads(store_cell_str(&rows, r, 1),
                                     JSON_REJECT_DUPLICATES, NULL);

        if (strcmp(name, "security") == 0) {
            struct auth_settings tmp;

            if (auth_settings_parse(cfg, doc, &tmp, why, sizeof(why)) ==
                CW_OK) {
                tmp.audit_retention_days = cache.s.audit_retention_days;
                cache.s = tmp;
            } else {
                log_err("stored security settings invalid (%s): using "
                        "defaults", why);
            }
        } else if (strcmp(name, "audit_retention") == 0) {
            json_t *d = json_object_get(doc, "days");

            if (json_is_integer(d) && json_integer_value(d) >= 1 &&
                json_integer_value(d) <= 36500)
                cache.s.audit_retention_days =
                    (unsigned)json_integer_value(d);
        }
        json_decref(doc);
    }
    arena_reset(&a);
    cache.s.from_db = 1;
    cache.loaded = now;
    cache.valid = 1;
    return &cache.s;
}

int
auth_settings_requires_2fa(const struct auth_settings *s, const char *role)
{
    for (size_t i = 0; i < s->ntfa_roles; i++)
        if (strcmp(s->tfa_roles[i], role) == 0)
            return 1;
    return 0;
}

/* rbac.c: the permission whitelist and the built-in roles. */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "auth/rbac.h"

const char *const auth_perms_all[] = {
    "read:account",     "write:account",
    "read:system",
    "read:cas",         "write:cas",          "delete:cas",
    "read:certificates", "write:certificates", "revoke:certificates",
    "delete:certificates",
    "read:csrs",        "write:csrs",         "delete:csrs",
    "read:templates",   "write:templates",
    "read:crl",         "write:crl",
    "read:users",       "write:users",
    "read:roles",       "write:roles",
    "read:audit",       "export:audit",
    "read:settings",    "write:settings",
    "export:private_keys",
    NULL,
};

static const char *const perms_operator[] = {
    "read:account", "write:account", "read:system", "read:cas", "write:cas",
    "read:certificates", "write:certificates", "revoke:certificates",
    "delete:certificates", "read:csrs", "write:csrs", "delete:csrs",
    "read:templates", "write:templates", "read:crl", "write:crl", NULL,
};

static const char *const perms_auditor[] = {
    "read:account", "write:account", "read:system", "read:cas",
    "read:certificates", "read:csrs", "read:templates", "read:crl",
    "read:users", "read:roles", "read:audit", "export:audit",
    "read:settings", NULL,
};

static const char *const perms_viewer[] = {
    "read:account", "write:account", "read:system", "read:cas",
    "read:certificates", "read:csrs", "read:templates", "read:crl", NULL,
};

static const struct {
    const char        *name;
    const char *const *perms;
} builtin[] = {
    { "admin", auth_perms_all },
    { "operator", perms_operator },
    { "auditor", perms_auditor },
    { "viewer", perms_viewer },
};

int
auth_perm_valid(const char *perm)
{
    for (size_t i = 0; auth_perms_all[i] != NULL; i++)
        if (strcmp(auth_perms_all[i], perm) == 0)
            return 1;
    return 0;
}

int
auth_role_builtin(const char *name)
{
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        if (strcmp(builtin[i].name, name) == 0)
            return 1;
    return 0;
}

int
auth_role_reserved(const char *name)
{
    static const char *const reserved[] = { "root", "system", "superuser",
                                            "cli", "cron", "anonymous",
                                            "public" };

    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        if (strcasecmp(builtin[i].name, name) == 0)
            return 1;
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcasecmp(reserved[i], name) == 0)
            return 1;
    return 0;
}

const char **
auth_role_perms(struct arena *a, const char *role, const char *json)
{
    json_t      *arr;
    const char **out;
    size_t       n = 0;

    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        if (strcmp(builtin[i].name, role) == 0)
            return (const char **)(uintptr_t)builtin[i].perms;
    arr = json_loads(json ? json : "[]", JSON_REJECT_DUPLICATES, NULL);
    out = arena_alloc(a, (json_array_size(arr) + 3) * sizeof(*out));
    /* Every account manages its own sessions, password and keys. */
    out[n++] = "read:account";
    out[n++] = "write:account";
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *p = json_string_value(json_array_get(arr, i));

        if (p != NULL && auth_perm_valid(p) &&
            strcmp(p, "read:account") != 0 && strcmp(p, "write:account") != 0)
            out[n++] = arena_strdup(a, p);
    }
    out[n] = NULL;
    json_decref(arr);
    return out;
}

int
auth_perms_has(const char *const *perms, const char *perm)
{
    for (size_t i = 0; perms != NULL && perms[i] != NULL; i++)
        if (strcmp(perms[i], perm) == 0)
            return 1;
    return 0;
}

/*
 * rbac.h: permissions are "action:resource" strings from a fixed
 * whitelist. Built-in roles (admin, operator, auditor, viewer) have their
 * lists here in the code and cannot be changed; custom roles store a JSON
 * array drawn from the whitelist. Every role implicitly holds
 * read:account and write:account (one's own sessions, password, keys).
 */
#ifndef CW_AUTH_RBAC_H
#define CW_AUTH_RBAC_H

#include <stddef.h>

#include "util/arena.h"
#include "util/err.h"

extern const char *const auth_perms_all[];     /* NULL-terminated */

int auth_perm_valid(const char *perm);
int auth_role_builtin(const char *name);
/* Reserved names a custom role may not take (built-ins and a few more). */
int auth_role_reserved(const char *name);
/* The role's permissions as a NULL-terminated arena array: the built-in
 * list, or the parsed JSON array of a custom role (invalid entries are
 * dropped). */
const char **auth_role_perms(struct arena *a, const char *role,
                             const char *json);
int auth_perms_has(const char *const *perms, const char *perm);

#endif

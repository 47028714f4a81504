/* users.h: user accounts (storage side). */
#ifndef CW_AUTH_USERS_H
#define CW_AUTH_USERS_H

#include <stdint.h>

#include <jansson.h>

#include "store/store.h"

struct auth_user_new {
    const char *username;
    const char *email;          /* may be NULL */
    const char *password;
    const char *role;
    int         must_change;
    uint64_t    actor_id;       /* 0 = command line */
    const char *actor_name;
    const char *client_addr;
    const char *request_id;
};

/* Validate and create; CW_E_CONFLICT when the name exists, CW_E_BADREQ
 * for a bad name or unknown role (why says which). */
enum cw_err auth_user_create(struct store *db, const struct cw_config *cfg,
                             const struct auth_user_new *u, uint64_t *id,
                             char *why, size_t whylen);
/* A user row as JSON: columns id, username, email, role, active,
 * must_change_password, 2fa, created_at starting at column c0. */
json_t *auth_user_json(const struct store_rows *rows, size_t r, size_t c0);
#define AUTH_USER_COLS                                                      \
    "u.id, u.username, u.email, r.name, u.active, u.must_change_password, " \
    "(SELECT COUNT(*) FROM user_totp t WHERE t.user_id = u.id AND "         \
    "t.confirmed_at IS NOT NULL), "                                         \
    "DATE_FORMAT(u.created_at, '%Y-%m-%dT%H:%i:%sZ')"

/* Usernames: 1-64 of [A-Za-z0-9._@-], starting with a letter or digit. */
int auth_username_valid(const char *s);

#endif

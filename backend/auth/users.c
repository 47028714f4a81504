/*
 * users.c: creating and changing user accounts. Input here comes from the
 * REST API or the command line and is validated before any statement.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "auth/password.h"
#include "auth/users.h"
#include "cw_limits.h"
#include "store/audit.h"
#include "util/log.h"

static const char sql_role_id[] = "SELECT id FROM roles WHERE name = ?";
static const char sql_user_insert[] =
    "INSERT INTO users (username, email, password_hash, role_id, "
    "must_change_password) VALUES (?, ?, ?, ?, ?)";

int
auth_username_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > LIM_USERNAME || !isalnum((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!isalnum(c) && c != '.' && c != '_' && c != '-' && c != '@')
            return 0;
    }
    return 1;
}

struct create_tx {
    const struct auth_user_new *u;
    const char                 *hash;
    uint64_t                    id;
    int                         no_role;
};

static enum cw_err
create_body(struct store *db, void *arg)
{
    struct create_tx  *c = arg;
    struct arena       a;
    struct store_rows  rows;
    struct store_param p[5];
    enum cw_err        err;
    uint64_t           role_id;

    arena_init(&a);
    p[0] = SP_STR(c->u->role);
    err = store_query(db, &a, sql_role_id, p, 1, &rows);
    if (err != CW_OK)
        goto out;
    if (rows.nrows != 1) {
        c->no_role = 1;
        err = CW_E_BADREQ;
        goto out;
    }
    role_id = store_cell_u64(&rows, 0, 0);
    p[0] = SP_STR(c->u->username);
    p[1] = c->u->email ? SP_STR(c->u->email) : SP_NULLV;
    p[2] = SP_STR(c->hash);
    p[3] = SP_U64(role_id);
    p[4] = SP_U64(c->u->must_change ? 1 : 0);
    err = store_exec(db, sql_user_insert, p, 5, NULL, &c->id);
    if (err == CW_OK) {
        struct store_audit_event ev;
        char                     rid[24];
        char                     detail[160];

        snprintf(rid, sizeof(rid), "%llu", (unsigned long long)c->id);
        snprintf(detail, sizeof(detail),
                 "{\"username\":\"%s\",\"role\":\"%s\"}",
                 c->u->username, c->u->role);
        memset(&ev, 0, sizeof(ev));
        ev.user_id = c->u->actor_id;
        ev.username = c->u->actor_name;
        ev.action = "user.create";
        ev.resource_type = "user";
        ev.resource_id = rid;
        ev.outcome = "success";
        ev.client_addr = c->u->client_addr;
        ev.request_id = c->u->request_id;
        /* username and role were validated: no characters to escape */
        ev.detail = detail;
        err = store_audit_append(db, &ev);
    }
out:
    arena_reset(&a);
    return err;
}

enum cw_err
auth_user_create(struct store *db, const struct cw_config *cfg,
                 const struct auth_user_new *u, uint64_t *id, char *why,
                 size_t whylen)
{
    char             hash[AUTH_HASH_MAX];
    struct create_tx c = { u, hash, 0, 0 };
    enum cw_err      err;

    if (!auth_username_valid(u->username) || strlen(u->role) > 64) {
        snprintf(why, whylen, "username must be 1-64 letters, digits or "
                              "._@- and start with a letter or digit");
        return CW_E_BADREQ;
    }
    err = auth_password_policy(u->password, strlen(u->password), why,
                               whylen);
    if (err != CW_OK)
        return err;
    /* Hash outside the transaction: it is slow on purpose. */
    err = auth_password_hash(cfg, u->password, strlen(u->password), hash);
    if (err != CW_OK)
        return err;
    err = store_tx(db, create_body, &c);
    if (err == CW_E_CONFLICT)
        snprintf(why, whylen, "user %s already exists", u->username);
    else if (c.no_role)
        snprintf(why, whylen, "no role named %s", u->role);
    if (err == CW_OK)
        *id = c.id;
    return err;
}

json_t *
auth_user_json(const struct store_rows *rows, size_t r, size_t c0)
{
    return json_pack(
        "{s:I, s:s, s:o, s:s, s:b, s:b, s:b, s:o}", "id",
        (json_int_t)store_cell_u64(rows, r, c0), "username",
        store_cell_str(rows, r, c0 + 1), "email",
        store_cell_isnull(rows, r, c0 + 2)
            ? json_null()
            : json_string(store_cell_str(rows, r, c0 + 2)),
        "role", store_cell_str(rows, r, c0 + 3), "active",
        store_cell_u64(rows, r, c0 + 4) == 1, "must_change_password",
        store_cell_u64(rows, r, c0 + 5) == 1, "two_factor_enabled",
        store_cell_u64(rows, r, c0 + 6) > 0, "created_at",
        store_cell_isnull(rows, r, c0 + 7) ? json_null() : json_string(store_cell_str(rows, r, c0 + 7)));
}

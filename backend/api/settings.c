/*
 * settings.c (api): /api/v2/settings/security. The document is validated
 * completely before it is stored; workers pick it up within
 * AUTH_SETTINGS_TTL seconds.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/settings.h"
#include "util/jsonx.h"

static const char sql_put[] =
    "INSERT INTO settings (name, value, updated_by) VALUES ('security', ?, ?) "
    "ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = NOW(6), "
    "updated_by = VALUES(updated_by)";

static enum cw_err
security_get(struct http_req *req, struct http_resp *resp)
{
    const struct auth_settings *st = auth_settings_get(req->db, req->cfg);

    return http_resp_data(resp, 200, auth_settings_json(st), NULL);
}

struct put_tx {
    struct http_req *req;
    const char      *doc;
};

static enum cw_err
put_body(struct store *db, void *arg)
{
    struct put_tx     *pt = arg;
    struct store_param p[2];
    enum cw_err        err;

    p[0] = SP_STR(pt->doc);
    p[1] = SP_STR(pt->req->who->username);
    err = store_exec(db, sql_put, p, 2, NULL, NULL);
    if (err != CW_OK)
        return err;
    return api_audit(pt->req, db, "settings.update", "settings", "security",
                     json_loads(pt->doc, 0, NULL));
}

static enum cw_err
security_put(struct http_req *req, struct http_resp *resp)
{
    static const struct jsonx_field fields[] = {
        { "session_ttl", JSONX_INT, 0, 0, 300, 604800 },
        { "lockout", JSONX_OBJECT, 0, 0, 0, 0 },
        { "rate_limits", JSONX_OBJECT, 0, 0, 0, 0 },
        { "rate_limit_allowlist", JSONX_ARRAY, 0, 64, 0, 0 },
        { "trusted_proxies", JSONX_ANY, 0, 0, 0, 0 },
        { "require_2fa_roles", JSONX_ARRAY, 0, 16, 0, 0 },
    };
    const struct auth_settings *cur;
    struct auth_settings        next;
    struct put_tx               pt = { req, NULL };
    json_t                     *body;
    json_t                     *merged;
    const char                 *k;
    json_t                     *v;
    char                        why[200];
    char                       *doc;
    enum cw_err                 err;

    err = http_req_json(req, fields, 6, &body);
    if (err != CW_OK)
        return err;
    /* Fields left out keep their current values. */
    cur = auth_settings_get(req->db, req->cfg);
    merged = auth_settings_json(cur);
    json_object_foreach(body, k, v) {
        json_t *cur_v = json_object_get(merged, k);

        /* Nested objects merge one level down: {"lockout":
         * {"threshold": 3}} keeps the other lockout values. */
        if (json_is_object(v) && json_is_object(cur_v)) {
            const char *k2;
            json_t     *v2;

            json_object_foreach(v, k2, v2) {
                json_t *cur2 = json_object_get(cur_v, k2);

                if (json_is_object(v2) && json_is_object(cur2))
                    json_object_update(cur2, v2);
                else
                    json_object_set(cur_v, k2, v2);
            }
        } else {
            json_object_set(merged, k, v);
        }
    }
    if (json_is_null(json_object_get(merged, "trusted_proxies")))
        json_object_del(merged, "trusted_proxies");
    err = auth_settings_parse(req->cfg, merged, &next, why, sizeof(why));
    if (err != CW_OK) {
        /* The reason starts with the setting's path: name it as the field
         * ("lockout.threshold", "rate_limit_allowlist[2]"). */
        char field[64];

        snprintf(field, sizeof(field), "%.*s", (int)strcspn(why, " :["), why);
        json_decref(merged);
        return http_fail(req, err, field, "%s", why);
    }
    json_decref(merged);
    merged = auth_settings_json(&next);
    if (!next.proxies_set)
        json_object_del(merged, "trusted_proxies");
    doc = jsonx_dumps(merged);
    json_decref(merged);
    arena_defer(req->arena, free, doc);
    pt.doc = doc;
    err = store_tx(req->db, put_body, &pt);
    if (err != CW_OK)
        return err;
    auth_settings_invalidate();
    return http_resp_data(resp, 200, auth_settings_json(&next), NULL);
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/api/v2/settings/security",
      .handler = security_get, .auth = AUTH_USER, .perm = "read:settings" },
    { .methods = HTTP_M_PUT, .pattern = "/api/v2/settings/security",
      .handler = security_put, .auth = AUTH_USER, .perm = "write:settings",
      .body_max = LIM_BODY_JSON_SMALL },
};

const struct http_route_table api_settings_table =
    HTTP_TABLE("settings", routes);

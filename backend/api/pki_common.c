/* pki_common.c: what the PKI handlers share: the start of a change to a
 * resource, and ca/ refusals mapped to problem documents. */
#include "config.h"

#include "api/api.h"
#include "auth/auth.h"
#include "ca/ca.h"

enum cw_err
api_id_json(struct http_req *req, const struct jsonx_field *fields,
            size_t nfields, uint64_t *id, json_t **body,
            struct store_audit_event *ev)
{
    enum cw_err err;

    err = http_req_path_u64(req, "id", id);
    if (err == CW_OK)
        err = http_req_json(req, fields, nfields, body);
    if (err == CW_OK)
        auth_audit_event(req, ev);
    return err;
}

enum cw_err
api_ca_fail(struct http_req *req, enum cw_err err, const struct ca_why *why)
{
    if (why->msg[0] != '\0')
        return http_fail(req, err, why->field[0] ? why->field : NULL, "%s",
                         why->msg);
    if (err == CW_E_NOTFOUND)
        return http_fail(req, err, NULL, "no such resource");
    return err;
}

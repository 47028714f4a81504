/* pki_common.c: mapping ca/ refusals to problem documents. */
#include "config.h"

#include "api/api.h"
#include "ca/ca.h"

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

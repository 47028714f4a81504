/* system.c: GET /api/v2/system/info (version, build, schema). */
#include "config.h"

#include <mysql.h>
#include <openssl/crypto.h>

#include "api/api.h"
#include "store/store.h"

static enum cw_err
info(struct http_req *req, struct http_resp *resp)
{
    unsigned    v = 0;
    enum cw_err err = store_schema_version(req->db, &v);

    if (err != CW_OK)
        return err;
    return http_resp_data(
        resp, 200,
        json_pack("{s:s, s:s, s:i, s:i, s:{s:s, s:s, s:s}}", "version",
                  PACKAGE_VERSION, "build", "gcc " __VERSION__, "schema",
                  (int)v, "schema_expected", (int)store_schema_expected(),
                  "libraries", "openssl",
                  OpenSSL_version(OPENSSL_VERSION_STRING), "mariadb_client",
                  mysql_get_client_info(), "jansson", JANSSON_VERSION),
        NULL);
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/api/v2/system/info",
      .handler = info, .auth = AUTH_USER, .perm = "read:system" },
};

const struct http_route_table api_system_table = HTTP_TABLE("system", routes);

/* templates.c (api): GET /api/v2/templates (the built-in templates). */
#include "config.h"

#include "api/api.h"
#include "ca/ca.h"

static enum cw_err
templates_list(struct http_req *req, struct http_resp *resp)
{
    json_t *arr = json_array();

    (void)req;
    for (size_t i = 0; i < ca_ntemplates; i++)
        json_array_append_new(arr, ca_template_json(&ca_templates[i]));
    return http_resp_data(resp, 200, arr,
                          api_meta(ca_ntemplates, 1, ca_ntemplates));
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/api/v2/templates",
      .handler = templates_list, .auth = AUTH_USER,
      .perm = "read:templates" },
};

const struct http_route_table api_templates_table =
    HTTP_TABLE("templates", routes);

/* routes.c: every route table of the server, in one reviewable list. */
#include "config.h"

#include "api/api.h"
#include "http/http.h"
#include "protocols/protocols.h"

/* The public PKI protocols first: relying parties call them far more often
 * than anything else, and the router tries the tables in this order (no
 * pattern of one table matches a path of another). */
const struct http_route_table *const http_tables[] = {
    &proto_ocsp_table,
    &proto_crl_table,
    &api_health_table,
    &api_auth_table,
    &api_account_table,
    &api_users_table,
    &api_roles_table,
    &api_audit_table,
    &api_settings_table,
    &api_system_table,
    &api_cas_table,
    &api_certificates_table,
    &api_templates_table,
    &api_csrs_table,
    &api_tools_table,
    &api_dashboard_table,
    &api_crls_table,
    NULL,
};

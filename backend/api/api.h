/*
 * api.h: REST resources, one file per resource, each exporting its route
 * table; helpers shared by the handlers.
 */
#ifndef CW_API_H
#define CW_API_H

#include <jansson.h>

#include "http/http.h"
#include "store/audit.h"
#include "store/store.h"
#include "auth/users.h"

extern const struct http_route_table api_health_table;
extern const struct http_route_table api_auth_table;
extern const struct http_route_table api_account_table;
extern const struct http_route_table api_users_table;
extern const struct http_route_table api_roles_table;
extern const struct http_route_table api_audit_table;
extern const struct http_route_table api_settings_table;
extern const struct http_route_table api_system_table;
extern const struct http_route_table api_cas_table;
extern const struct http_route_table api_certificates_table;
extern const struct http_route_table api_templates_table;
extern const struct http_route_table api_csrs_table;
extern const struct http_route_table api_tools_table;
extern const struct http_route_table api_dashboard_table;
extern const struct http_route_table api_crls_table;

/* Append an audit row for this request inside the current transaction.
 * detail is a JSON object (stolen) or NULL. */
enum cw_err api_audit(struct http_req *req, struct store *db,
                      const char *action, const char *rtype,
                      const char *rid, json_t *detail);
/* Same, in a transaction of its own (for events that change nothing). */
void api_audit_now(struct http_req *req, const char *action,
                   const char *rtype, const char *rid, const char *outcome,
                   json_t *detail);

/* As api_audit_now, naming the account the event is about when there is
 * no authenticated caller (failed logins). */
void api_audit_as(struct http_req *req, const char *username,
                  const char *action, const char *rtype, const char *rid,
                  const char *outcome, json_t *detail);
/* ?page=&per_page= with per_page <= 200; 400 on junk. */
enum cw_err api_paging(struct http_req *req, uint64_t *page,
                       uint64_t *per_page);
json_t *api_meta(uint64_t total, uint64_t page, uint64_t per_page);

/* A ?name= time (RFC 3339 UTC or a date) as SQL DATETIME text, "" when
 * absent; 400 when malformed. */
enum cw_err api_time_param(struct http_req *req, const char *name,
                           char out[32]);
/* The same for a value from a JSON body. */
enum cw_err api_time_text(struct http_req *req, const char *name,
                          const char *v, char out[32]);
struct ca_why;
struct store_audit_event;
/* The start of a change to resource {id}: the path id, the JSON body
 * checked against fields, and the request's audit event. */
enum cw_err api_id_json(struct http_req *req, const struct jsonx_field *fields,
                        size_t nfields, uint64_t *id, json_t **body,
                        struct store_audit_event *ev);
/* Answer a refusal of ca/ with its field and reason. */
enum cw_err api_ca_fail(struct http_req *req, enum cw_err err,
                        const struct ca_why *why);
/* RFC 3339 UTC from a DATE_FORMATted cell, or JSON null. */
json_t *api_time(const struct store_rows *rows, size_t r, size_t c);

#endif

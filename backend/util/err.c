/* err.c: names and HTTP mapping of enum cw_err. */
#include "config.h"

#include <stddef.h>

#include "util/err.h"

static const struct cw_err_info err_table[CW_E__MAX] = {
    [CW_OK] = { "ok", "OK", 200 },
    [CW_E_INTERNAL] = { "internal_error", "Internal error", 500 },
    [CW_E_BADREQ] = { "bad_request", "Bad request", 400 },
    [CW_E_JSON] = { "malformed_json", "Malformed JSON", 400 },
    [CW_E_TOOLARGE] = { "payload_too_large", "Payload too large", 413 },
    [CW_E_NOLENGTH] = { "length_required", "Length required", 411 },
    [CW_E_NOTFOUND] = { "not_found", "Not found", 404 },
    [CW_E_METHOD] = { "method_not_allowed", "Method not allowed", 405 },
    [CW_E_UNAUTH] = { "unauthorized", "Authentication required", 401 },
    [CW_E_FORBIDDEN] = { "forbidden", "Forbidden", 403 },
    [CW_E_CONFLICT] = { "conflict", "Conflict", 409 },
    [CW_E_DB] = { "database_error", "Database error", 500 },
    [CW_E_DB_RETRY] = { "database_busy", "Database busy", 503 },
    [CW_E_DB_DOWN] = { "database_unavailable", "Database unavailable", 503 },
    [CW_E_MEDIATYPE] = { "unsupported_media_type", "Unsupported media type",
                         415 },
    [CW_E_RATELIMIT] = { "rate_limited", "Too many requests", 429 },
    [CW_E_CONFIG] = { "config_error", "Configuration error", 500 },
    [CW_E_IO] = { "io_error", "I/O error", 500 },
    [CW_E_CRYPTO] = { "crypto_error", "Cryptographic error", 500 },
    [CW_E_SCHEMA] = { "schema_mismatch", "Database schema mismatch", 503 },
    [CW_E_CSRF] = { "csrf_failed", "CSRF token missing or invalid", 403 },
    [CW_E_LOCKED] = { "locked", "Locked", 423 },
    [CW_E_BUSY] = { "busy", "Busy, try again", 503 },
    [CW_E_UNAVAILABLE] = { "unavailable", "Service unavailable", 503 },
    [CW_E_PASSWORD] = { "weak_password", "Password does not meet the policy",
                        400 },
    [CW_E_TOTP_REQUIRED] = { "totp_required",
                             "Two-factor code required", 401 },
    [CW_E_BADCSR] = { "bad_csr", "Invalid certificate request", 400 },
    [CW_E_BADCERT] = { "bad_certificate", "Invalid certificate", 400 },
    [CW_E_BADKEY] = { "bad_key", "Invalid or unsupported key", 400 },
    [CW_E_POLICY] = { "policy_violation", "Refused by policy", 422 },
    [CW_E_DECRYPT] = { "decrypt_failed", "Wrong password or corrupted data",
                       400 },
};

const struct cw_err_info *
cw_err_info(enum cw_err err)
{
    if ((unsigned)err >= CW_E__MAX || err_table[err].code == NULL)
        return &err_table[CW_E_INTERNAL];
    return &err_table[err];
}

const char *
cw_err_name(enum cw_err err)
{
    return cw_err_info(err)->code;
}

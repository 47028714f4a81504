/*
 * err.h: the one error enum of certward. Codes are append-only and never
 * renumbered: logs, tests and docs/errors.md cite the numbers. Each code has
 * a stable machine name (the "code" member of problem+json) and a default
 * HTTP status; protocol modules map codes to their own formats.
 */
#ifndef CW_UTIL_ERR_H
#define CW_UTIL_ERR_H

enum cw_err {
    CW_OK = 0,
    CW_E_INTERNAL = 1,      /* a bug or an impossible state             */
    CW_E_BADREQ = 2,        /* malformed or invalid input               */
    CW_E_JSON = 3,          /* body is not valid JSON                   */
    CW_E_TOOLARGE = 4,      /* input over its cap                       */
    CW_E_NOLENGTH = 5,      /* body without Content-Length              */
    CW_E_NOTFOUND = 6,      /* no such resource                         */
    CW_E_METHOD = 7,        /* path exists, method does not             */
    CW_E_UNAUTH = 8,        /* no or bad credentials                    */
    CW_E_FORBIDDEN = 9,     /* authenticated but not permitted          */
    CW_E_CONFLICT = 10,     /* state conflict, duplicate key            */
    CW_E_DB = 11,           /* database error (not the client's fault)  */
    CW_E_DB_RETRY = 12,     /* deadlock / lock wait / certification     */
    CW_E_DB_DOWN = 13,      /* database unreachable                     */
    CW_E_MEDIATYPE = 14,    /* wrong Content-Type                       */
    CW_E_RATELIMIT = 15,    /* too many requests                        */
    CW_E_CONFIG = 16,       /* configuration error                      */
    CW_E_IO = 17,           /* file or socket error                     */
    CW_E_CRYPTO = 18,       /* cryptographic library failure            */
    CW_E_SCHEMA = 19,       /* database schema is not the expected one  */
    CW_E_CSRF = 20,         /* missing or wrong CSRF token              */
    CW_E_LOCKED = 21,       /* account or resource locked               */
    CW_E_BUSY = 22,         /* someone else holds the lease             */
    CW_E_UNAVAILABLE = 23,  /* temporarily unavailable                  */
    CW_E_PASSWORD = 24,     /* password fails the policy                */
    CW_E_TOTP_REQUIRED = 25, /* second factor needed                    */
    CW_E_BADCSR = 26,       /* CSR malformed, bad signature, bad key    */
    CW_E_BADCERT = 27,      /* certificate or chain malformed           */
    CW_E_BADKEY = 28,       /* key malformed, unsupported or mismatched */
    CW_E_POLICY = 29,       /* valid input that the CA policy refuses   */
    CW_E_DECRYPT = 30,      /* wrong password or corrupted container    */
    CW_E__MAX
};

struct cw_err_info {
    const char *code;   /* stable machine name, e.g. "malformed_json"  */
    const char *title;  /* short human title                            */
    int         status; /* default HTTP status                          */
};

const struct cw_err_info *cw_err_info(enum cw_err err);
const char *cw_err_name(enum cw_err err);

#endif

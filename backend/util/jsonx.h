/*
 * jsonx.h: strict JSON input for REST bodies. Duplicate keys are rejected
 * (two parsers must never disagree on a body), nesting is capped, the top
 * level must be an object, and a field table rejects unknown members, wrong
 * types, overlong strings and control characters, naming the field.
 */
#ifndef CW_UTIL_JSONX_H
#define CW_UTIL_JSONX_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/err.h"

enum jsonx_type {
    JSONX_STRING,
    JSONX_TEXT,     /* a string that may hold line breaks (PEM)        */
    JSONX_INT,      /* integer, range from min/max                     */
    JSONX_BOOL,
    JSONX_OBJECT,
    JSONX_ARRAY,
    JSONX_ANY,
};

struct jsonx_field {
    const char      *name;
    enum jsonx_type  type;
    int              required;
    size_t           max;       /* strings: bytes (0 = LIM_JSON_STRING);   */
                                /* arrays: items (0 = no limit)            */
    int64_t          min_int;
    int64_t          max_int;
};

/* Why a body was refused: a field name (may be "") and a reason. */
struct jsonx_why {
    char field[64];
    char reason[128];
};

/* Parse len bytes as a JSON object. On failure returns CW_E_JSON (syntax,
 * duplicates, depth) with why->reason set. */
enum cw_err jsonx_parse_object(const uint8_t *p, size_t len, json_t **out,
                               struct jsonx_why *why);
/* Check obj against the field table; unknown members are refused. */
enum cw_err jsonx_check(json_t *obj, const struct jsonx_field *fields,
                        size_t nfields, struct jsonx_why *why);
/* Borrowed string member or NULL when absent/null. */
const char *jsonx_str(const json_t *obj, const char *name);
/* Serialize compactly into a malloc'd string (never NULL). */
char *jsonx_dumps(const json_t *v);

#endif

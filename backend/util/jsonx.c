/* jsonx.c: strict JSON parsing and field validation. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cw_limits.h"
#include "util/jsonx.h"
#include "util/mem.h"

static void
why_set(struct jsonx_why *why, const char *field, const char *reason)
{
    if (why == NULL)
        return;
    snprintf(why->field, sizeof(why->field), "%s", field);
    snprintf(why->reason, sizeof(why->reason), "%s", reason);
}

/* depth is the nesting level of v; only containers count. */
static int
depth_ok(json_t *v, int depth)
{
    const char *k;
    json_t     *m;
    size_t      i;

    if (!json_is_object(v) && !json_is_array(v))
        return 1;
    if (depth > LIM_JSON_DEPTH)
        return 0;
    if (json_is_object(v)) {
        json_object_foreach(v, k, m) {
            if (!depth_ok(m, depth + 1))
                return 0;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, m) {
            if (!depth_ok(m, depth + 1))
                return 0;
        }
    }
    return 1;
}

enum cw_err
jsonx_parse_object(const uint8_t *p, size_t len, json_t **out,
                   struct jsonx_why *why)
{
    json_error_t jerr;
    json_t      *v;

    *out = NULL;
    if (len == 0) {
        why_set(why, "", "empty body");
        return CW_E_JSON;
    }
    /* jansson rejects trailing data and (without JSON_ALLOW_NUL) NULs. */
    v = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL) {
        char reason[128];

        snprintf(reason, sizeof(reason), "line %d column %d: %.80s",
                 jerr.line, jerr.column, jerr.text);
        why_set(why, "", reason);
        return CW_E_JSON;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        why_set(why, "", "body must be a JSON object");
        return CW_E_JSON;
    }
    if (!depth_ok(v, 1)) {
        json_decref(v);
        why_set(why, "", "nesting too deep");
        return CW_E_JSON;
    }
    *out = v;
    return CW_OK;
}

static int
has_control(const char *s, size_t n, int text)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (text && (c == '\n' || c == '\r' || c == '\t'))
            continue;
        if (c < 0x20 || c == 0x7f)
            return 1;
    }
    return 0;
}

static enum cw_err
check_one(const json_t *v, const struct jsonx_field *f, struct jsonx_why *why)
{
    switch (f->type) {
    case JSONX_STRING:
    case JSONX_TEXT: {
        size_t max = f->max ? f->max : LIM_JSON_STRING;

        if (!json_is_string(v)) {
            why_set(why, f->name, "must be a string");
            return CW_E_BADREQ;
        }
        if (json_string_length(v) > max) {
            why_set(why, f->name, "too long");
            return CW_E_BADREQ;
        }
        if (has_control(json_string_value(v), json_string_length(v),
                        f->type == JSONX_TEXT)) {
            why_set(why, f->name, "contains control characters");
            return CW_E_BADREQ;
        }
        return CW_OK;
    }
    case JSONX_INT:
        if (!json_is_integer(v)) {
            why_set(why, f->name, "must be an integer");
            return CW_E_BADREQ;
        }
        if ((f->min_int != 0 || f->max_int != 0) &&
            (json_integer_value(v) < f->min_int ||
             json_integer_value(v) > f->max_int)) {
            why_set(why, f->name, "out of range");
            return CW_E_BADREQ;
        }
        return CW_OK;
    case JSONX_BOOL:
        if (!json_is_boolean(v)) {
            why_set(why, f->name, "must be true or false");
            return CW_E_BADREQ;
        }
        return CW_OK;
    case JSONX_OBJECT:
        if (!json_is_object(v)) {
            why_set(why, f->name, "must be an object");
            return CW_E_BADREQ;
        }
        return CW_OK;
    case JSONX_ARRAY:
        if (!json_is_array(v)) {
            why_set(why, f->name, "must be an array");
            return CW_E_BADREQ;
        }
        if (f->max != 0 && json_array_size(v) > f->max) {
            why_set(why, f->name, "too many items");
            return CW_E_BADREQ;
        }
        return CW_OK;
    case JSONX_ANY:
        return CW_OK;
    }
    why_set(why, f->name, "unsupported field type");
    return CW_E_INTERNAL;
}

enum cw_err
jsonx_check(json_t *obj, const struct jsonx_field *fields,
            size_t nfields, struct jsonx_why *why)
{
    const char *key;
    json_t     *v;
    enum cw_err err;

    json_object_foreach(obj, key, v) {
        const struct jsonx_field *f = NULL;

        for (size_t i = 0; i < nfields; i++) {
            if (strcmp(fields[i].name, key) == 0) {
                f = &fields[i];
                break;
            }
        }
        if (f == NULL) {
            char   name[64];
            size_t n = strlen(key);

            /* The name is client text: keep it printable and short, and
             * cut it on a UTF-8 character boundary. */
            if (n > 60) {
                n = 60;
                while (n > 0 && ((unsigned char)key[n] & 0xc0) == 0x80)
                    n--;
            }
            memcpy(name, key, n);
            name[n] = '\0';
            for (char *c = name; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                    *c = '?';
            why_set(why, name, "unknown field");
            return CW_E_BADREQ;
        }
        if (json_is_null(v) && !f->required)
            continue;
        err = check_one(v, f, why);
        if (err != CW_OK)
            return err;
    }
    for (size_t i = 0; i < nfields; i++) {
        v = json_object_get(obj, fields[i].name);
        if (fields[i].required && (v == NULL || json_is_null(v))) {
            why_set(why, fields[i].name, "is required");
            return CW_E_BADREQ;
        }
    }
    return CW_OK;
}

const char *
jsonx_str(const json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

char *
jsonx_dumps(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);

    if (s == NULL)
        s = cw_xstrdup("null");
    return s;
}

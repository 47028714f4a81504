/* fuzz_json.c: libFuzzer driver for REST JSON bodies (util/jsonx). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "util/jsonx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct jsonx_field fields[] = {
        { "username", JSONX_STRING, 1, 64, 0, 0 },
        { "password", JSONX_STRING, 0, 512, 0, 0 },
        { "days", JSONX_INT, 0, 0, 1, 36500 },
        { "active", JSONX_BOOL, 0, 0, 0, 0 },
        { "scopes", JSONX_ARRAY, 0, 64, 0, 0 },
        { "lockout", JSONX_OBJECT, 0, 0, 0, 0 },
    };
    struct jsonx_why why;
    json_t          *obj = NULL;

    if (jsonx_parse_object(data, size, &obj, &why) == CW_OK) {
        jsonx_check(obj, fields, sizeof(fields) / sizeof(fields[0]), &why);
        json_decref(obj);
    }
    return 0;
}

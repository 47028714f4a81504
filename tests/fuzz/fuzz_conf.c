/* fuzz_conf.c: libFuzzer driver for the configuration parser. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cw_config *cfg = calloc(1, sizeof(*cfg));
    struct conf_why   why;

    conf_defaults(cfg);
    conf_parse_text((const char *)data, size, cfg, &why);
    conf_free(cfg);
    return 0;
}

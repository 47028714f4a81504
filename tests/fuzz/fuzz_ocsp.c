/*
 * fuzz_ocsp.c: libFuzzer driver for OCSP requests (pki/ocsp.c): the input
 * as a POST body (DER) and as the GET form (base64, then DER). Whatever is
 * accepted is walked the way the responder walks it, so that a CertID the
 * parser hands out is safe to use, and freed.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include <openssl/err.h>

#include "cw_limits.h"
#include "pki/ocsp.h"
#include "util/buf.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
parse_and_use(const uint8_t *p, size_t len)
{
    struct pki_ocsp_req r;
    OCSP_BASICRESP     *bs = NULL;

    if (pki_ocsp_req_parse(p, len, &r) != CW_OK)
        return;
    /* Answer "unknown" for everything: copies each CertID and the nonce,
     * as a real answer would. */
    if (pki_ocsp_basic_new(&bs) == CW_OK) {
        for (size_t i = 0; i < r.nids; i++)
            pki_ocsp_add(bs, r.ids[i].certid, V_OCSP_CERTSTATUS_UNKNOWN, 0,
                         -1, 1700000000, 0);
        if (r.has_nonce)
            pki_ocsp_copy_nonce(bs, r.req);
        OCSP_BASICRESP_free(bs);
    }
    pki_ocsp_req_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int  init;
    struct buf  der;

    if (!init) {
        log_set_level(LOG_EMERG);
        init = 1;
    }
    parse_and_use(data, size);
    buf_init(&der, LIM_OCSP_REQ);
    if (pki_ocsp_b64_decode((const char *)data, size, &der) == CW_OK)
        parse_and_use(der.p, der.len);
    buf_cleanup(&der);
    ERR_clear_error();
    return 0;
}

/*
 * fuzz_ocsp.c: libFuzzer driver for OCSP requests (pki/ocsp.c): the input
 * as a POST body (DER) and as the GET form (base64, then DER). Whatever is
 * accepted is walked the way the responder walks it, so that a CertID the
 * parser hands out is safe to use, and freed. What the hand parser of the
 * common request (pki_ocsp_simple_parse) accepts, the full parser must
 * accept with the same CertID and no nonce: otherwise the fuzzer aborts.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "cw_limits.h"
#include "pki/ocsp.h"
#include "util/buf.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_id(const struct pki_ocsp_id *a, const struct pki_ocsp_id *b)
{
    return a->hash_nid == b->hash_nid && a->hash_len == b->hash_len &&
           memcmp(a->name_hash, b->name_hash, a->hash_len) == 0 &&
           memcmp(a->key_hash, b->key_hash, a->hash_len) == 0 &&
           a->serial_len == b->serial_len &&
           memcmp(a->serial, b->serial, a->serial_len) == 0;
}

static void
parse_and_use(const uint8_t *p, size_t len)
{
    struct pki_ocsp_req r;
    struct pki_ocsp_id  simple;
    OCSP_BASICRESP     *bs = NULL;
    int                 is_simple;

    is_simple = pki_ocsp_simple_parse(p, len, &simple) == CW_OK;
    if (pki_ocsp_req_parse(p, len, &r) != CW_OK) {
        if (is_simple)
            abort();   /* the hand parser accepted what OpenSSL refuses */
        return;
    }
    if (is_simple && (r.nids != 1 || r.has_nonce ||
                      !same_id(&simple, &r.ids[0])))
        abort();
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

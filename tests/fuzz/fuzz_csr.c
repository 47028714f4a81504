/*
 * fuzz_csr.c: libFuzzer driver for PKCS#10 requests (pki/csr.c,
 * pki/csr_fast.c): the input as DER and as PEM. What OpenSSL's reader
 * (pki_csr_parse_der) takes is walked the way issuance walks it (subject,
 * names, key). What the fast reader (pki_csr_fast) takes, OpenSSL's must
 * take too, with the same subject, the same encoded key, an equal decoded
 * key and the same names: otherwise the fuzzer aborts.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "cw_limits.h"
#include "pki/csr.h"
#include "pki/key.h"
#include "pki/san.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_names(X509_REQ *a, X509_REQ *b)
{
    GENERAL_NAMES *ga = NULL;
    GENERAL_NAMES *gb = NULL;
    int            same;
    enum cw_err    ea = pki_san_get_csr(a, &ga);
    enum cw_err    eb = pki_san_get_csr(b, &gb);

    same = ea == eb && (ga == NULL) == (gb == NULL) &&
           (ga == NULL || sk_GENERAL_NAME_num(ga) == sk_GENERAL_NAME_num(gb));
    for (int i = 0; same && ga != NULL && i < sk_GENERAL_NAME_num(ga); i++)
        same = GENERAL_NAME_cmp(sk_GENERAL_NAME_value(ga, i),
                                sk_GENERAL_NAME_value(gb, i)) == 0;
    GENERAL_NAMES_free(ga);
    GENERAL_NAMES_free(gb);
    return same;
}

static int
same_spki(X509_REQ *a, X509_REQ *b)
{
    const unsigned char *pa;
    const unsigned char *pb;
    int                  la;
    int                  lb;
    X509_ALGOR          *aa;
    X509_ALGOR          *ab;

    return X509_PUBKEY_get0_param(NULL, &pa, &la, &aa,
                                  X509_REQ_get_X509_PUBKEY(a)) == 1 &&
           X509_PUBKEY_get0_param(NULL, &pb, &lb, &ab,
                                  X509_REQ_get_X509_PUBKEY(b)) == 1 &&
           la == lb && memcmp(pa, pb, (size_t)la) == 0 &&
           X509_ALGOR_cmp(aa, ab) == 0;
}

static void
use(X509_REQ *req, EVP_PKEY *pub)
{
    X509_NAME     *subj = NULL;
    GENERAL_NAMES *g = NULL;

    if (pki_csr_subject_take(req, &subj) == CW_OK)
        X509_NAME_free(subj);
    if (pki_san_get_csr(req, &g) == CW_OK)
        GENERAL_NAMES_free(g);
    (void)pki_key_check(pub);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    X509_REQ *full = NULL;
    X509_REQ *fast = NULL;
    EVP_PKEY *pub = NULL;
    int       taken;

    log_set_level(LOG_EMERG);
    if (size > LIM_CSR_PEM)
        return 0;
    taken = pki_csr_fast(data, size, &fast, &pub);
    if (pki_csr_parse_der(data, size, &full) == CW_OK) {
        use(full, X509_REQ_get0_pubkey(full));
        if (taken &&
            (X509_NAME_cmp(X509_REQ_get_subject_name(fast),
                           X509_REQ_get_subject_name(full)) != 0 ||
             !same_spki(fast, full) ||
             EVP_PKEY_eq(pub, X509_REQ_get0_pubkey(full)) != 1 ||
             !same_names(fast, full)))
            abort();    /* the fast reader read something else */
    } else if (taken) {
        abort();        /* the fast reader took what OpenSSL refuses */
    }
    if (taken)
        use(fast, pub);
    X509_REQ_free(full);
    X509_REQ_free(fast);
    EVP_PKEY_free(pub);
    full = NULL;
    /* The PEM form (and anything else that is text) */
    if (pki_csr_parse(data, size, &full) == CW_OK)
        use(full, X509_REQ_get0_pubkey(full));
    X509_REQ_free(full);
    ERR_clear_error();
    return 0;
}

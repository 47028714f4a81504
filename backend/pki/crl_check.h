/*
 * crl_check.h: checking a CRL signed elsewhere (an offline CA's, uploaded
 * by its operator) before certward publishes it.
 */
#ifndef CW_PKI_CRL_CHECK_H
#define CW_PKI_CRL_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "util/buf.h"
#include "util/err.h"

struct pki_crl_facts {
    uint64_t number;        /* cRLNumber (required here)               */
    uint64_t delta_base;    /* deltaCRLIndicator, 0 for a full CRL      */
    time_t   this_update;
    time_t   next_update;   /* required here                           */
    uint64_t entries;
    char     why[160];      /* the reason of a refusal                 */
};

/* PEM ("X509 CRL") or DER, at most LIM_CRL_UPLOAD bytes, DER consumed
 * completely; issued by and signed with the key of issuer; v2 with a
 * cRLNumber below 2^63 and a nextUpdate after thisUpdate. The DER is
 * appended to der. CW_E_BADREQ (why set) otherwise. */
enum cw_err pki_crl_check(const uint8_t *p, size_t len, X509 *issuer,
                          struct buf *der, struct pki_crl_facts *out);

#endif

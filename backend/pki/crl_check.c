/*
 * crl_check.c: an uploaded CRL is untrusted input until its structure,
 * issuer and signature check out (RFC 5280 6.3.3 (f)).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cw_limits.h"
#include "pki/crl_check.h"
#include "pki/pki-int.h"

static int
asn1_int_u64(const ASN1_INTEGER *ai, uint64_t *out)
{
    return ai != NULL && ASN1_INTEGER_get_uint64(out, ai) == 1 &&
           *out < (UINT64_C(1) << 63);
}

static time_t
asn1_time_t(const ASN1_TIME *t)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return timegm(&tm);
}

enum cw_err
pki_crl_check(const uint8_t *p, size_t len, X509 *issuer, struct buf *der,
              struct pki_crl_facts *out)
{
    static const char *const labels[] = { "X509 CRL" };
    unsigned char           *pem_der = NULL;
    long                     der_len = (long)len;
    const unsigned char     *q;
    const unsigned char     *start;
    X509_CRL                *crl = NULL;
    ASN1_INTEGER            *num = NULL;
    ASN1_INTEGER            *base = NULL;
    EVP_PKEY                *pub;
    size_t                   which;
    int                      crit = -1;
    int                      n;
    enum cw_err              err = CW_E_BADREQ;

    memset(out, 0, sizeof(*out));
    if (len > LIM_CRL_UPLOAD * 2) {
        snprintf(out->why, sizeof(out->why), "the CRL is over %u bytes",
                 LIM_CRL_UPLOAD);
        return CW_E_TOOLARGE;
    }
    if (pki_is_pem(p, len)) {
        err = pki_pem_decode(p, len, labels, 1, LIM_CRL_UPLOAD, &pem_der,
                             &der_len, &which);
        if (err != CW_OK) {
            snprintf(out->why, sizeof(out->why),
                     "expected one PEM block \"X509 CRL\" of at most %u "
                     "bytes", LIM_CRL_UPLOAD);
            return err;
        }
        start = pem_der;
    } else {
        if (len > LIM_CRL_UPLOAD) {
            snprintf(out->why, sizeof(out->why), "the CRL is over %u bytes",
                     LIM_CRL_UPLOAD);
            return CW_E_TOOLARGE;
        }
        start = p;
    }
    err = CW_E_BADREQ;
    q = start;
    ERR_clear_error();
    crl = d2i_X509_CRL(NULL, &q, der_len);
    if (crl == NULL || q != start + der_len) {
        pki_ssl_refused("d2i_X509_CRL");
        snprintf(out->why, sizeof(out->why),
                 "not a DER CRL, or bytes after it");
        goto out;
    }
    if (X509_CRL_get_version(crl) != X509_CRL_VERSION_2) {
        snprintf(out->why, sizeof(out->why), "the CRL is not version 2");
        goto out;
    }
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
                      X509_get_subject_name(issuer)) != 0) {
        snprintf(out->why, sizeof(out->why),
                 "the CRL's issuer is not this CA");
        goto out;
    }
    pub = X509_get0_pubkey(issuer);
    if (pub == NULL || X509_CRL_verify(crl, pub) != 1) {
        pki_ssl_refused("X509_CRL_verify");
        snprintf(out->why, sizeof(out->why),
                 "the CRL's signature does not verify with this CA's key");
        goto out;
    }
    num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
    if (!asn1_int_u64(num, &out->number)) {
        snprintf(out->why, sizeof(out->why),
                 "the CRL has no usable cRLNumber");
        goto out;
    }
    base = X509_CRL_get_ext_d2i(crl, NID_delta_crl, &crit, NULL);
    if (base != NULL && !asn1_int_u64(base, &out->delta_base)) {
        snprintf(out->why, sizeof(out->why),
                 "the CRL's deltaCRLIndicator is not usable");
        goto out;
    }
    out->this_update = asn1_time_t(X509_CRL_get0_lastUpdate(crl));
    out->next_update = asn1_time_t(X509_CRL_get0_nextUpdate(crl));
    if (out->this_update == 0 || out->next_update <= out->this_update) {
        snprintf(out->why, sizeof(out->why),
                 "the CRL needs a nextUpdate after its thisUpdate");
        goto out;
    }
    /* -1 for a CRL without revokedCertificates */
    n = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
    out->entries = n > 0 ? (uint64_t)n : 0;
    err = buf_append(der, start, (size_t)der_len);
out:
    ERR_clear_error();
    ASN1_INTEGER_free(num);
    ASN1_INTEGER_free(base);
    X509_CRL_free(crl);
    OPENSSL_free(pem_der);
    return err;
}

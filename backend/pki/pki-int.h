/*
 * pki-int.h: helpers shared by the files of backend/pki and not exported
 * beyond it. OpenSSL failures are logged once, where detected, with the
 * whole error queue drained so that stale entries are never blamed on a
 * later call (STYLE 3).
 */
#ifndef CW_PKI_PKI_INT_H
#define CW_PKI_PKI_INT_H

#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "util/buf.h"
#include "util/err.h"

/* Log what failed and the drained OpenSSL queue. Input that OpenSSL refuses
 * is logged at LOG_INFO (the client's fault), our own failures at LOG_ERR. */
void pki_ssl_log_at(int prio, const char *file, int line, const char *what);
#define pki_ssl_refused(what) \
    pki_ssl_log_at(LOG_INFO, __FILE__, __LINE__, (what))
#define pki_ssl_failed(what) \
    pki_ssl_log_at(LOG_ERR, __FILE__, __LINE__, (what))

/* Append everything written to a memory BIO to out. */
enum cw_err pki_bio_to_buf(BIO *bio, struct buf *out);
/* A read-only memory BIO over p[0..len); len must be <= INT_MAX. */
BIO *pki_bio_mem(const uint8_t *p, size_t len);
/* Is p to be read as PEM? Everything not starting with a DER SEQUENCE
 * tag is; text before the first PEM block is allowed. */
int pki_is_pem(const uint8_t *p, size_t len);
/* Decode the first PEM block of p[0..len); its label must be one of
 * labels[0..nlabels) and it must carry no headers. On success *der
 * (free with OPENSSL_free) holds at most max bytes and *which the label's
 * index. CW_E_BADREQ for no block, another label, headers, or a second
 * block (whole or broken) after the first; CW_E_TOOLARGE over max. */
enum cw_err pki_pem_decode(const uint8_t *p, size_t len,
                           const char *const *labels, size_t nlabels,
                           size_t max, unsigned char **der, long *der_len,
                           size_t *which);
/* Is s[0..len) valid UTF-8 (no overlongs, surrogates) without control
 * characters (C0, DEL, C1)? Returns the number of code points or -1. */
long pki_utf8_text_len(const char *s, size_t len);
/* Set dst to the algorithm alg (copied with its parameters) and the key
 * bits bits[0..len), as they are: no key is decoded or encoded. */
enum cw_err pki_spki_set(X509_PUBKEY *dst, const X509_ALGOR *alg,
                         const unsigned char *bits, int len);

#endif

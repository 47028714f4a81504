/*
 * common.c: shared helpers of backend/pki: OpenSSL error draining, memory
 * BIOs, PEM decoding with label checks, UTF-8 text validation. Runs in
 * every worker; everything it parses is untrusted.
 */
#include "config.h"

#include <limits.h>

#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cw_limits.h"
#include "pki/cert.h"
#include "pki/pki-int.h"
#include "util/log.h"

void
pki_ssl_log_at(int prio, const char *file, int line, const char *what)
{
    char          msg[512];
    size_t        used = 0;
    unsigned long e;
    int           n = 0;

    msg[0] = '\0';
    while ((e = ERR_get_error()) != 0) {
        char one[160];

        /* Keep the first few reasons; drain the rest. */
        if (n++ >= 4 || used + 3 >= sizeof(msg))
            continue;
        ERR_error_string_n(e, one, sizeof(one));
        used += (size_t)snprintf(msg + used, sizeof(msg) - used, "%s%s",
                                 used ? "; " : "", one);
        if (used >= sizeof(msg))
            used = sizeof(msg) - 1;
    }
    log_write(prio, file, line, "%s failed%s%s", what, msg[0] ? ": " : "",
              msg);
}

enum cw_err
pki_bio_to_buf(BIO *bio, struct buf *out)
{
    char *data = NULL;
    long  n;

    n = BIO_get_mem_data(bio, &data);
    if (n < 0 || (n > 0 && data == NULL))
        return CW_E_INTERNAL;
    return buf_append(out, data, (size_t)n);
}

BIO *
pki_bio_mem(const uint8_t *p, size_t len)
{
    BIO *bio;

    if (len > INT_MAX)
        return NULL;
    bio = BIO_new_mem_buf(len == 0 ? "" : (const void *)p, (int)len);
    if (bio == NULL)
        pki_ssl_failed("BIO_new_mem_buf");
    return bio;
}

int
pki_is_pem(const uint8_t *p, size_t len)
{
    /* Every DER object we read is a SEQUENCE. Anything else is taken for
     * PEM, which may be preceded by text (openssl x509 -text output, mail
     * quotes); the PEM reader skips it. */
    return len > 0 && p[0] != 0x30;
}

enum cw_err
pki_pem_decode(const uint8_t *p, size_t len, const char *const *labels,
               size_t nlabels, size_t max, unsigned char **der,
               long *der_len, size_t *which)
{
    BIO          *bio = NULL;
    char         *name = NULL;
    char         *header = NULL;
    unsigned char *data = NULL;
    long          n = 0;
    size_t        i;
    enum cw_err   err = CW_E_BADREQ;

    ERR_clear_error();
    bio = pki_bio_mem(p, len);
    if (bio == NULL) {
        err = len > INT_MAX ? CW_E_TOOLARGE : CW_E_INTERNAL;
        goto out;
    }
    if (PEM_read_bio(bio, &name, &header, &data, &n) != 1) {
        pki_ssl_refused("PEM_read_bio");
        goto out;
    }
    for (i = 0; i < nlabels; i++) {
        if (strcmp(name, labels[i]) == 0)
            break;
    }
    if (i == nlabels) {
        log_info("PEM label not accepted here");
        goto out;
    }
    if (header[0] != '\0') {
        log_info("PEM block with headers refused");
        goto out;
    }
    if (n <= 0) {
        log_info("empty PEM block");
        goto out;
    }
    if ((unsigned long)n > max) {
        err = CW_E_TOOLARGE;
        goto out;
    }
    /* One object per input: a second block is an error, not ignored. */
    {
        char          *n2 = NULL;
        char          *h2 = NULL;
        unsigned char *d2 = NULL;
        long           l2 = 0;
        int            more = PEM_read_bio(bio, &n2, &h2, &d2, &l2);

        unsigned long  e = ERR_peek_last_error();

        OPENSSL_free(n2);
        OPENSSL_free(h2);
        OPENSSL_free(d2);
        if (more == 1) {
            ERR_clear_error();
            log_info("more than one PEM block");
            goto out;
        }
        /* "No start line" is the expected end; a broken second block is
         * refused like a whole one. */
        if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
            ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
            pki_ssl_refused("PEM_read_bio (after the first block)");
            goto out;
        }
        ERR_clear_error();
    }
    *der = data;
    data = NULL;
    *der_len = n;
    *which = i;
    err = CW_OK;
out:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    BIO_free(bio);
    return err;
}

long
pki_utf8_text_len(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t               i = 0;
    long                 count = 0;

    while (i < len) {
        unsigned char c = p[i];
        size_t        k;
        unsigned long cp;

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return -1;
            i++;
            count++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return -1;
        }
        if (len - i <= k)
            return -1;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return -1;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
            (cp >= 0x80 && cp <= 0x9f))
            return -1;
        i += k + 1;
        count++;
    }
    return count;
}

enum cw_err
pki_pem_armor(const char *label, const uint8_t *der, size_t len,
              struct buf *out)
{
    unsigned char line[65 + 1];
    enum cw_err   err;

    err = buf_printf(out, "-----BEGIN %s-----\n", label);
    /* RFC 7468 section 2: 64 characters per line. */
    for (size_t off = 0; err == CW_OK && off < len; off += 48) {
        size_t n = len - off < 48 ? len - off : 48;
        int    k = EVP_EncodeBlock(line, der + off, (int)n);

        line[k] = '\n';
        err = buf_append(out, line, (size_t)k + 1);
    }
    if (err == CW_OK)
        err = buf_printf(out, "-----END %s-----\n", label);
    return err;
}

enum cw_err
pki_spki_set(X509_PUBKEY *dst, const X509_ALGOR *alg,
             const unsigned char *bits, int len)
{
    const ASN1_OBJECT *aobj = NULL;
    const void        *pval = NULL;
    int                ptype = V_ASN1_UNDEF;
    ASN1_OBJECT       *obj_copy;
    void              *val_copy = NULL;
    unsigned char     *bits_copy;

    if (len <= 0)
        return CW_E_CRYPTO;
    X509_ALGOR_get0(&aobj, &ptype, &pval, alg);
    obj_copy = OBJ_dup(aobj);
    bits_copy = OPENSSL_memdup(bits, (size_t)len);
    if (ptype == V_ASN1_OBJECT)
        val_copy = OBJ_dup(pval);
    else if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL)
        val_copy = ASN1_STRING_dup(pval);  /* a SEQUENCE (PSS params) */
    if (obj_copy == NULL || bits_copy == NULL ||
        (val_copy == NULL && ptype != V_ASN1_UNDEF &&
         ptype != V_ASN1_NULL) ||
        X509_PUBKEY_set0_param(dst, obj_copy, ptype, val_copy, bits_copy,
                               len) != 1) {
        pki_ssl_failed("X509_PUBKEY_set0_param");
        ASN1_OBJECT_free(obj_copy);
        if (ptype == V_ASN1_OBJECT)
            ASN1_OBJECT_free(val_copy);
        else
            ASN1_STRING_free(val_copy);
        OPENSSL_free(bits_copy);
        return CW_E_CRYPTO;
    }
    return CW_OK;
}

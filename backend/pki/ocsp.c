/*
 * ocsp.c: OCSP requests (untrusted, from anyone: the responder is public)
 * and unsigned responses. Runs in the workers that answer OCSP; no key is
 * touched here (pki_ocsp_sign() is in sign.c).
 */
#include "config.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/sha.h>

#include "cw_limits.h"
#include "pki/ocsp.h"
#include "pki/pki-int.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sp.h"

/* Base64 text of LIM_OCSP_REQ octets, padded. */
#define OCSP_B64_MAX (4 * ((LIM_OCSP_REQ + 2) / 3))

/* The CertID fields of one Request (RFC 6960 section 4.1.1). */
static enum cw_err
ocsp_id_get(OCSP_CERTID *cid, struct pki_ocsp_id *id)
{
    ASN1_OCTET_STRING *nh = NULL;
    ASN1_OCTET_STRING *kh = NULL;
    ASN1_OBJECT       *alg = NULL;
    ASN1_INTEGER      *serial = NULL;
    const uint8_t     *s;
    int                nid;
    int                nlen;
    int                klen;
    int                slen;

    if (cid == NULL ||
        OCSP_id_get0_info(&nh, &alg, &kh, &serial, cid) != 1 ||
        nh == NULL || kh == NULL || alg == NULL || serial == NULL) {
        log_info("OCSP request without a complete CertID");
        return CW_E_BADREQ;
    }
    nid = OBJ_obj2nid(alg);
    nlen = ASN1_STRING_length(nh);
    klen = ASN1_STRING_length(kh);
    /* Both are hashes by hashAlgorithm: the same length, and the known
     * algorithms' length. */
    if (nlen != klen || nlen <= 0 || nlen > PKI_OCSP_HASH_MAX ||
        (nid == NID_sha1 && nlen != SHA_DIGEST_LENGTH) ||
        (nid == NID_sha256 && nlen != SHA256_DIGEST_LENGTH)) {
        log_info("OCSP CertID hashes of %d and %d octets", nlen, klen);
        return CW_E_BADREQ;
    }
    memset(id, 0, sizeof(*id));
    id->hash_nid = nid == NID_sha1 || nid == NID_sha256 ? nid : 0;
    id->hash_len = (size_t)nlen;
    memcpy(id->name_hash, ASN1_STRING_get0_data(nh), (size_t)nlen);
    memcpy(id->key_hash, ASN1_STRING_get0_data(kh), (size_t)klen);
    id->certid = cid;
    /* A serial that no certificate of ours can have is not malformed:
     * the answer for it is "unknown" (RFC 6960 section 2.2). OpenSSL keeps
     * the magnitude in the data and the sign in the type. */
    if (ASN1_STRING_type(serial) != V_ASN1_INTEGER)
        return CW_OK;
    s = ASN1_STRING_get0_data(serial);
    slen = ASN1_STRING_length(serial);
    while (slen > 0 && s[0] == 0) {
        s++;
        slen--;
    }
    if (slen > 0 && slen <= (int)sizeof(id->serial)) {
        memcpy(id->serial, s, (size_t)slen);
        id->serial_len = (size_t)slen;
    }
    return CW_OK;
}

/* The nonce extension, if present: exactly once, an OCTET STRING of
 * 1..LIM_OCSP_NONCE octets inside extnValue (RFC 9654). */
static enum cw_err
ocsp_nonce_check(OCSP_REQUEST *req, int *has_nonce)
{
    X509_EXTENSION      *ext;
    ASN1_OCTET_STRING   *val;
    ASN1_OCTET_STRING   *nonce = NULL;
    const unsigned char *p;
    int                  idx;
    int                  n;
    enum cw_err          err = CW_E_BADREQ;

    idx = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1);
    if (idx < 0) {
        *has_nonce = 0;
        return CW_OK;
    }
    /* Two nonces: which one would we echo? (RFC 5280 4.2: an extension
     * appears at most once.) */
    if (OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, idx) >= 0) {
        log_info("OCSP request with two nonces");
        return CW_E_BADREQ;
    }
    ext = OCSP_REQUEST_get_ext(req, idx);
    val = ext != NULL ? X509_EXTENSION_get_data(ext) : NULL;
    if (val == NULL)
        return CW_E_BADREQ;
    p = ASN1_STRING_get0_data(val);
    n = ASN1_STRING_length(val);
    ERR_clear_error();
    nonce = d2i_ASN1_OCTET_STRING(NULL, &p, n);
    if (nonce == NULL || p != ASN1_STRING_get0_data(val) + n) {
        pki_ssl_refused("OCSP nonce");
        goto out;
    }
    n = ASN1_STRING_length(nonce);
    if (n < 1 || n > LIM_OCSP_NONCE) {
        log_info("OCSP nonce of %d octets", n);
        goto out;
    }
    *has_nonce = 1;
    err = CW_OK;
out:
    ASN1_OCTET_STRING_free(nonce);
    return err;
}

enum cw_err
pki_ocsp_req_parse(const uint8_t *der, size_t len, struct pki_ocsp_req *out)
{
    const unsigned char *q = der;
    OCSP_REQUEST        *req = NULL;
    struct pki_ocsp_req  r;
    int                  n;
    enum cw_err          err = CW_E_BADREQ;

    if (len == 0 || der == NULL)
        return CW_E_BADREQ;
    if (len > LIM_OCSP_REQ)             /* LIM_OCSP_REQ << LONG_MAX */
        return CW_E_TOOLARGE;
    memset(&r, 0, sizeof(r));
    ERR_clear_error();
    req = d2i_OCSP_REQUEST(NULL, &q, (long)len);
    if (req == NULL || q != der + len) {    /* garbage or trailing bytes */
        pki_ssl_refused("d2i_OCSP_REQUEST");
        goto out;
    }
    n = OCSP_request_onereq_count(req);
    if (n <= 0) {
        log_info("OCSP request without CertIDs");
        goto out;
    }
    if (n > LIM_OCSP_CERTIDS) {
        log_info("OCSP request with %d CertIDs", n);
        err = CW_E_TOOLARGE;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        OCSP_ONEREQ *one = OCSP_request_onereq_get0(req, i);

        err = ocsp_id_get(one != NULL ? OCSP_onereq_get0_id(one) : NULL,
                          &r.ids[i]);
        if (err != CW_OK)
            goto out;
    }
    err = ocsp_nonce_check(req, &r.has_nonce);
    if (err != CW_OK)
        goto out;
    r.nids = (size_t)n;
    r.req = req;
    req = NULL;
    *out = r;
out:
    OCSP_REQUEST_free(req);
    return err;
}

/* One DER element of tag at *p (before end), definite length in its
 * shortest form (at most two octets: LIM_OCSP_REQ is 16 KiB): its
 * contents at *c, *n octets; *p moves past it. 0, or -1 if not so. */
static int
der_take(const uint8_t **p, const uint8_t *end, uint8_t tag,
         const uint8_t **c, size_t *n)
{
    const uint8_t *q = *p;
    size_t         len;

    if (end - q < 2 || q[0] != tag)
        return -1;
    q++;
    if (q[0] < 0x80) {
        len = q[0];
        q++;
    } else if (q[0] == 0x81) {
        if (end - q < 2 || q[1] < 0x80)
            return -1;
        len = q[1];
        q += 2;
    } else if (q[0] == 0x82) {
        if (end - q < 3)
            return -1;
        len = (size_t)q[1] << 8 | q[2];
        if (len < 0x100)
            return -1;
        q += 3;
    } else {
        return -1;
    }
    if ((size_t)(end - q) < len)
        return -1;
    *c = q;
    *n = len;
    *p = q + len;
    return 0;
}

enum cw_err
pki_ocsp_simple_parse(const uint8_t *der, size_t len, struct pki_ocsp_id *id)
{
    static const uint8_t oid_sha1[] = { 0x2b, 0x0e, 0x03, 0x02, 0x1a };
    static const uint8_t oid_sha256[] = { 0x60, 0x86, 0x48, 0x01, 0x65,
                                          0x03, 0x04, 0x02, 0x01 };
    const uint8_t *p = der;
    const uint8_t *c;
    const uint8_t *tbs;
    const uint8_t *list;
    const uint8_t *one;
    const uint8_t *cid;
    const uint8_t *alg;
    const uint8_t *oid;
    const uint8_t *nh;
    const uint8_t *kh;
    const uint8_t *ser;
    size_t         n;
    size_t         ntbs;
    size_t         nlist;
    size_t         none;
    size_t         ncid;
    size_t         nalg;
    size_t         noid;
    size_t         nnh;
    size_t         nkh;
    size_t         nser;
    size_t         hlen;
    int            nid;

    if (der == NULL || len == 0 || len > LIM_OCSP_REQ)
        return CW_E_NOTFOUND;
    /* OCSPRequest ::= SEQUENCE { tbsRequest } (no optionalSignature) */
    if (der_take(&p, der + len, 0x30, &c, &n) != 0 || p != der + len)
        return CW_E_NOTFOUND;
    p = c;
    if (der_take(&p, c + n, 0x30, &tbs, &ntbs) != 0 || p != c + n)
        return CW_E_NOTFOUND;
    /* TBSRequest ::= SEQUENCE { requestList } (nothing optional) */
    p = tbs;
    if (der_take(&p, tbs + ntbs, 0x30, &list, &nlist) != 0 ||
        p != tbs + ntbs)
        return CW_E_NOTFOUND;
    /* requestList: exactly one Request ::= SEQUENCE { reqCert } */
    p = list;
    if (der_take(&p, list + nlist, 0x30, &one, &none) != 0 ||
        p != list + nlist)
        return CW_E_NOTFOUND;
    p = one;
    if (der_take(&p, one + none, 0x30, &cid, &ncid) != 0 || p != one + none)
        return CW_E_NOTFOUND;
    /* CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash,
     * serialNumber } */
    p = cid;
    if (der_take(&p, cid + ncid, 0x30, &alg, &nalg) != 0 ||
        der_take(&p, cid + ncid, 0x04, &nh, &nnh) != 0 ||
        der_take(&p, cid + ncid, 0x04, &kh, &nkh) != 0 ||
        der_take(&p, cid + ncid, 0x02, &ser, &nser) != 0 || p != cid + ncid)
        return CW_E_NOTFOUND;
    p = alg;
    if (der_take(&p, alg + nalg, 0x06, &oid, &noid) != 0)
        return CW_E_NOTFOUND;
    if (p != alg + nalg && (alg + nalg - p != 2 || p[0] != 0x05 ||
                            p[1] != 0x00))
        return CW_E_NOTFOUND;   /* parameters other than NULL */
    if (noid == sizeof(oid_sha1) && memcmp(oid, oid_sha1, noid) == 0) {
        nid = NID_sha1;
        hlen = SHA_DIGEST_LENGTH;
    } else if (noid == sizeof(oid_sha256) &&
               memcmp(oid, oid_sha256, noid) == 0) {
        nid = NID_sha256;
        hlen = SHA256_DIGEST_LENGTH;
    } else {
        return CW_E_NOTFOUND;
    }
    if (nnh != hlen || nkh != hlen)
        return CW_E_NOTFOUND;
    /* A positive INTEGER in its shortest form, magnitude 1..20 octets. */
    if (nser == 0 || (ser[0] & 0x80) != 0)
        return CW_E_NOTFOUND;
    if (ser[0] == 0) {
        if (nser == 1 || (ser[1] & 0x80) == 0)
            return CW_E_NOTFOUND;   /* zero, or not the shortest form */
        ser++;
        nser--;
    }
    if (nser > sizeof(id->serial))
        return CW_E_NOTFOUND;
    memset(id, 0, sizeof(*id));
    id->hash_nid = nid;
    id->hash_len = hlen;
    memcpy(id->name_hash, nh, hlen);
    memcpy(id->key_hash, kh, hlen);
    memcpy(id->serial, ser, nser);
    id->serial_len = nser;
    return CW_OK;
}

void
pki_ocsp_req_free(struct pki_ocsp_req *r)
{
    if (r == NULL)
        return;
    OCSP_REQUEST_free(r->req);
    /* Only the used CertIDs: the array is 32 of them, the common request
     * one (and the fields are the request's, nothing secret). */
    memset(r->ids, 0, r->nids * sizeof(r->ids[0]));
    r->req = NULL;
    r->nids = 0;
    r->has_nonce = 0;
}

enum cw_err
pki_ocsp_b64_decode(const char *s, size_t len, struct buf *out)
{
    uint8_t    *dst;
    size_t      n = len;
    size_t      pad = 0;
    size_t      olen;
    size_t      i;
    size_t      k = 0;
    unsigned    acc = 0;
    int         bits = 0;
    enum cw_err err;

    if (len == 0 || s == NULL)
        return CW_E_BADREQ;
    if (len > OCSP_B64_MAX)
        return CW_E_TOOLARGE;
    while (n > 0 && pad < 2 && s[n - 1] == '=') {
        n--;
        pad++;
    }
    /* Padding completes a quad; one character alone carries 6 bits, not
     * an octet. */
    if ((pad > 0 && len % 4 != 0) || n % 4 == 1)
        return CW_E_BADREQ;
    olen = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
    if (olen > LIM_OCSP_REQ)
        return CW_E_TOOLARGE;
    err = buf_reserve(out, olen, &dst);
    if (err != CW_OK)
        return err;
    /* Whole quads first (four table lookups, three octets), then the
     * 2 or 3 characters of a last partial quad. */
    for (i = 0; i + 4 <= n; i += 4) {
        int a = sp_b64val((unsigned char)s[i]);
        int b = sp_b64val((unsigned char)s[i + 1]);
        int c = sp_b64val((unsigned char)s[i + 2]);
        int d = sp_b64val((unsigned char)s[i + 3]);

        if ((a | b | c | d) < 0)
            return CW_E_BADREQ;     /* out->len unchanged */
        acc = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 |
              (unsigned)d;
        dst[k++] = (uint8_t)(acc >> 16);
        dst[k++] = (uint8_t)(acc >> 8);
        dst[k++] = (uint8_t)acc;
    }
    acc = 0;
    for (; i < n; i++) {
        int v = sp_b64val((unsigned char)s[i]);

        if (v < 0)
            return CW_E_BADREQ;
        acc = (acc << 6 | (unsigned)v) & 0xfff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[k++] = (uint8_t)(acc >> bits);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0)
        return CW_E_BADREQ;         /* non-canonical trailing bits */
    CW_ASSERT(k == olen);
    out->len += olen;
    out->p[out->len] = '\0';
    return CW_OK;
}

static const EVP_MD *
ocsp_md(int hash_nid)
{
    switch (hash_nid) {
    case NID_sha1:
        return EVP_sha1();
    case NID_sha256:
        return EVP_sha256();
    default:
        return NULL;
    }
}

enum cw_err
pki_ocsp_certid(X509 *issuer, const uint8_t *serial, size_t serial_len,
                int hash_nid, OCSP_CERTID **out)
{
    const EVP_MD *md = ocsp_md(hash_nid);
    BIGNUM       *bn = NULL;
    ASN1_INTEGER *ai = NULL;
    OCSP_CERTID  *id = NULL;
    enum cw_err   err = CW_E_CRYPTO;

    if (md == NULL || serial_len == 0 || serial_len > 20)
        return CW_E_BADREQ;
    ERR_clear_error();
    bn = BN_bin2bn(serial, (int)serial_len, NULL);
    if (bn == NULL) {
        pki_ssl_failed("BN_bin2bn");
        goto out;
    }
    if (BN_is_zero(bn)) {
        err = CW_E_BADREQ;
        goto out;
    }
    ai = BN_to_ASN1_INTEGER(bn, NULL);
    if (ai == NULL) {
        pki_ssl_failed("BN_to_ASN1_INTEGER");
        goto out;
    }
    id = OCSP_cert_id_new(md, X509_get_subject_name(issuer),
                          X509_get0_pubkey_bitstr(issuer), ai);
    if (id == NULL) {
        pki_ssl_failed("OCSP_cert_id_new");
        goto out;
    }
    *out = id;
    err = CW_OK;
out:
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    return err;
}

enum cw_err
pki_ocsp_issuer_hashes(X509 *issuer, int hash_nid,
                       uint8_t name_hash[PKI_OCSP_HASH_MAX],
                       uint8_t key_hash[PKI_OCSP_HASH_MAX], size_t *len)
{
    const EVP_MD *md = ocsp_md(hash_nid);
    unsigned char nh[EVP_MAX_MD_SIZE];
    unsigned char kh[EVP_MAX_MD_SIZE];
    unsigned int  nlen = 0;
    unsigned int  klen = 0;

    if (md == NULL)
        return CW_E_BADREQ;
    ERR_clear_error();
    /* What OCSP_cert_id_new() hashes: the DER of the subject Name and the
     * subjectPublicKey BIT STRING's contents without the unused-bits
     * octet. */
    if (X509_NAME_digest(X509_get_subject_name(issuer), md, nh, &nlen) != 1 ||
        X509_pubkey_digest(issuer, md, kh, &klen) != 1 || nlen != klen ||
        nlen == 0 || nlen > PKI_OCSP_HASH_MAX) {
        pki_ssl_failed("issuer hashes");
        return CW_E_CRYPTO;
    }
    memcpy(name_hash, nh, nlen);
    memcpy(key_hash, kh, klen);
    *len = nlen;
    return CW_OK;
}

enum cw_err
pki_ocsp_basic_new(OCSP_BASICRESP **out)
{
    OCSP_BASICRESP *bs;

    ERR_clear_error();
    bs = OCSP_BASICRESP_new();
    if (bs == NULL) {
        pki_ssl_failed("OCSP_BASICRESP_new");
        return CW_E_CRYPTO;
    }
    *out = bs;
    return CW_OK;
}

enum cw_err
pki_ocsp_add(OCSP_BASICRESP *bs, OCSP_CERTID *id, int status,
             time_t revoked_at, int reason, time_t this_update,
             time_t next_update)
{
    ASN1_GENERALIZEDTIME *rev = NULL;
    ASN1_GENERALIZEDTIME *thisu = NULL;
    ASN1_GENERALIZEDTIME *nextu = NULL;
    int                   r = OCSP_REVOKED_STATUS_NOSTATUS;
    enum cw_err           err = CW_E_CRYPTO;

    switch (status) {
    case V_OCSP_CERTSTATUS_GOOD:
    case V_OCSP_CERTSTATUS_UNKNOWN:
        break;
    case V_OCSP_CERTSTATUS_REVOKED:
        switch (reason) {
        case -1:
        case 0:     /* unspecified: absent, as on CRLs (RFC 5280 5.3.1) */
            break;
        case 1: case 2: case 3: case 4: case 5: case 6: case 9: case 10:
            r = reason;
            break;
        default:    /* 7 unused; 8 removeFromCRL is for delta CRLs */
            log_err("OCSP revocation reason %d", reason);
            return CW_E_INTERNAL;
        }
        if (revoked_at <= 0) {
            log_err("OCSP revocation without a time");
            return CW_E_INTERNAL;
        }
        break;
    default:
        log_err("OCSP certificate status %d", status);
        return CW_E_INTERNAL;
    }
    if (this_update <= 0 || (next_update != 0 && next_update < this_update)) {
        log_err("OCSP thisUpdate/nextUpdate out of order");
        return CW_E_INTERNAL;
    }
    if (OCSP_resp_count(bs) >= LIM_OCSP_CERTIDS)
        return CW_E_TOOLARGE;
    ERR_clear_error();
    /* All OCSP times are GeneralizedTime (RFC 6960 section 4.2.1). */
    thisu = ASN1_GENERALIZEDTIME_set(NULL, this_update);
    if (thisu == NULL)
        goto fail;
    if (next_update != 0) {
        nextu = ASN1_GENERALIZEDTIME_set(NULL, next_update);
        if (nextu == NULL)
            goto fail;
    }
    if (status == V_OCSP_CERTSTATUS_REVOKED) {
        rev = ASN1_GENERALIZEDTIME_set(NULL, revoked_at);
        if (rev == NULL)
            goto fail;
    }
    if (OCSP_basic_add1_status(bs, id, status, r, rev, thisu, nextu) == NULL)
        goto fail;
    err = CW_OK;
    goto out;
fail:
    pki_ssl_failed("OCSP_basic_add1_status");
out:
    ASN1_GENERALIZEDTIME_free(rev);
    ASN1_GENERALIZEDTIME_free(thisu);
    ASN1_GENERALIZEDTIME_free(nextu);
    return err;
}

enum cw_err
pki_ocsp_copy_nonce(OCSP_BASICRESP *bs, OCSP_REQUEST *req)
{
    ERR_clear_error();
    /* 1: copied, 2: the request had none. */
    if (OCSP_copy_nonce(bs, req) <= 0) {
        pki_ssl_failed("OCSP_copy_nonce");
        return CW_E_CRYPTO;
    }
    return CW_OK;
}

enum cw_err
pki_ocsp_resp_der(OCSP_BASICRESP *bs, struct buf *out)
{
    OCSP_RESPONSE *resp = NULL;
    unsigned char *der = NULL;
    int            n;
    enum cw_err    err = CW_E_CRYPTO;

    ERR_clear_error();
    /* Encodes bs into the responseBytes; bs stays the caller's. */
    resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    if (resp == NULL) {
        pki_ssl_failed("OCSP_response_create");
        goto out;
    }
    n = i2d_OCSP_RESPONSE(resp, &der);
    if (n <= 0) {
        pki_ssl_failed("i2d_OCSP_RESPONSE");
        goto out;
    }
    if ((size_t)n > LIM_OCSP_RESP) {
        err = CW_E_TOOLARGE;
        goto out;
    }
    err = buf_append(out, der, (size_t)n);
out:
    OPENSSL_free(der);
    OCSP_RESPONSE_free(resp);
    return err;
}

const uint8_t *
pki_ocsp_error_der(int status, size_t *len)
{
    /* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes
     * [0] EXPLICIT OPTIONAL } without responseBytes (RFC 6960 4.2.1). */
    static const uint8_t der[][5] = {
        { 0x30, 0x03, 0x0a, 0x01, 0x00 },
        { 0x30, 0x03, 0x0a, 0x01, 0x01 },
        { 0x30, 0x03, 0x0a, 0x01, 0x02 },
        { 0x30, 0x03, 0x0a, 0x01, 0x03 },
        { 0x30, 0x03, 0x0a, 0x01, 0x04 },
        { 0x30, 0x03, 0x0a, 0x01, 0x05 },
        { 0x30, 0x03, 0x0a, 0x01, 0x06 },
    };

    switch (status) {
    case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST:
    case OCSP_RESPONSE_STATUS_INTERNALERROR:
    case OCSP_RESPONSE_STATUS_TRYLATER:
    case OCSP_RESPONSE_STATUS_SIGREQUIRED:
    case OCSP_RESPONSE_STATUS_UNAUTHORIZED:
        *len = sizeof(der[status]);
        return der[status];
    default:    /* 0 successful needs responseBytes; 4 is not used */
        *len = 0;
        return NULL;
    }
}

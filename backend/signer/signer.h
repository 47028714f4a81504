/*
 * signer.h: the only interface through which private keys are used. A key
 * lives in the database wrapped (signer/wrap.h) and bound to its row
 * ("<table>:<id>:key"); the signer unwraps it for one operation, signs,
 * and wipes it. Code outside signer/ never holds a CA's private key.
 * (First implementation: in-process; the interface is what a separate
 * signer process or a PKCS#11 token will serve.)
 */
#ifndef CW_SIGNER_H
#define CW_SIGNER_H

#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "util/buf.h"
#include "util/conf.h"
#include "util/err.h"

/* Wrap key (PKCS#8) for the row table/id; appends the blob to out. */
enum cw_err signer_key_wrap(const struct cw_config *cfg, const char *table,
                            uint64_t id, EVP_PKEY *key, struct buf *out);
/* Sign tbs with the key wrapped in blob for table/id. CW_E_CRYPTO when
 * the blob does not unwrap (another row's key, another master key). */
enum cw_err signer_sign_cert(const struct cw_config *cfg, const char *table,
                             uint64_t id, const uint8_t *blob, size_t len,
                             X509 *tbs);
/* Sign raw to-be-signed bytes (a CRL's TBSCertList, RFC 5280 5.1.1.3);
 * the signature is appended to sig. */
enum cw_err signer_sign_bytes(const struct cw_config *cfg, const char *table,
                              uint64_t id, const uint8_t *blob, size_t len,
                              const uint8_t *tbs, size_t tbs_len,
                              struct buf *sig);
/* Sign an OCSP basic response as signer_cert (the CA itself or its
 * delegated responder, whose key blob/table/id is), adding extra to the
 * response's certs. */
enum cw_err signer_sign_ocsp(const struct cw_config *cfg, const char *table,
                             uint64_t id, const uint8_t *blob, size_t len,
                             OCSP_BASICRESP *bs, X509 *signer_cert,
                             STACK_OF(X509) *extra);
/* Free the keys this thread keeps for signing (thread exit). */
void signer_thread_cleanup(void);
/* The key itself, for an explicit, authorized export only (PKCS#12). The
 * caller frees it with EVP_PKEY_free as soon as the export is built. */
enum cw_err signer_key_export(const struct cw_config *cfg, const char *table,
                              uint64_t id, const uint8_t *blob, size_t len,
                              EVP_PKEY **out);

/* Move a wrapped key from one row to another (a generated CSR's key to
 * the certificate issued for it): unwrapped and wrapped again, bound to
 * the new row. */
enum cw_err signer_key_rebind(const struct cw_config *cfg,
                              const char *from_table, uint64_t from_id,
                              const char *to_table, uint64_t to_id,
                              const uint8_t *blob, size_t len,
                              struct buf *out);
/* Offline CAs. An operator password protects the key instead of the
 * master key: the blob becomes "cwpw" | t (4) | m KiB (4) | p (1) |
 * salt (16) | wrap under Argon2id(password, salt), still bound to the
 * row. CW_E_UNAUTH for a wrong password. */
enum cw_err signer_key_to_password(const struct cw_config *cfg,
                                   const char *table, uint64_t id,
                                   const uint8_t *blob, size_t len,
                                   const char *password, struct buf *out);
enum cw_err signer_key_from_password(const struct cw_config *cfg,
                                     const char *table, uint64_t id,
                                     const uint8_t *blob, size_t len,
                                     const char *password, struct buf *out);
/* The key as password-encrypted PKCS#8 PEM (for "file_exported"). */
enum cw_err signer_key_export_pem(const struct cw_config *cfg,
                                  const char *table, uint64_t id,
                                  const uint8_t *blob, size_t len,
                                  const char *password, struct buf *out);

#endif

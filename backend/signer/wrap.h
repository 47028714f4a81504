/*
 * wrap.h: secrets at rest. XChaCha20-Poly1305 (libsodium) under the
 * 32-byte master key. The blob carries a format version and a key id (the
 * first 4 bytes of a BLAKE2b hash of the master key) so a wrong or rotated
 * master key is told apart from corruption; the additional data binds the
 * blob to its row ("table:id:purpose"), so a blob copied to another row
 * does not unwrap.
 *
 * Layout: version (1) | key id (4) | nonce (24) | ciphertext + tag (16).
 */
#ifndef CW_SIGNER_WRAP_H
#define CW_SIGNER_WRAP_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define SIGNER_WRAP_VERSION  1
#define SIGNER_WRAP_OVERHEAD (1 + 4 + 24 + 16)

/* Wrap plaintext for the row named by ad; appends the blob to out. */
enum cw_err signer_wrap(const uint8_t key[32], const char *ad,
                        const uint8_t *pt, size_t len, struct buf *out);
/* Unwrap; out receives the plaintext (wipe with buf_cleanup_secret).
 * CW_E_CRYPTO on a wrong key id, a wrong row or tampering. */
enum cw_err signer_unwrap(const uint8_t key[32], const char *ad,
                          const uint8_t *blob, size_t len, struct buf *out);
/* The key id of a master key (4 bytes). */
void signer_key_id(const uint8_t key[32], uint8_t id[4]);

#endif

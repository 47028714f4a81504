/*
 * totp.h: RFC 6238 time-based one-time passwords (HMAC-SHA-1, 30 s steps,
 * 6 digits, as every authenticator app implements), with RFC 4648 base32
 * secrets for the otpauth:// URI.
 */
#ifndef CW_AUTH_TOTP_H
#define CW_AUTH_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_TOTP_SECRET 20   /* bytes: RFC 4226 section 4 recommends 160 bits */
#define AUTH_TOTP_STEP   30

/* The 6-digit code for a time step (RFC 4226 section 5.3). */
unsigned auth_totp_code(const uint8_t *secret, size_t len, uint64_t step);
/* Step of a valid code within +-1 step of now (RFC 6238 section 5.2), or
 * -1. Codes are compared in constant time. */
int64_t auth_totp_match(const uint8_t *secret, size_t len, const char *code,
                        uint64_t now);
/* Unpadded base32 into out (n >= 8 * ceil(len / 5) + 1). */
void auth_base32(const uint8_t *p, size_t len, char *out, size_t n);

#endif

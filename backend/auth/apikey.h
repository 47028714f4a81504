/*
 * apikey.h: API keys are "cwk_" followed by 64 hex characters (256 random
 * bits). Only their SHA-256 is stored; the token is shown once.
 */
#ifndef CW_AUTH_APIKEY_H
#define CW_AUTH_APIKEY_H

#define AUTH_APIKEY_PREFIX "cwk_"
#define AUTH_APIKEY_LEN    68
#define AUTH_APIKEY_SHOWN  12   /* "cwk_" + 8 characters, for lists */

int auth_apikey_token_valid(const char *token);
void auth_apikey_hash(const char *token, char out[65]);
/* A new token (AUTH_APIKEY_LEN + 1 bytes). */
void auth_apikey_generate(char *out);

#endif

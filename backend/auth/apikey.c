/* apikey.c: API key tokens. */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "auth/apikey.h"
#include "util/sp.h"

int
auth_apikey_token_valid(const char *token)
{
    if (token == NULL || strlen(token) != AUTH_APIKEY_LEN ||
        strncmp(token, AUTH_APIKEY_PREFIX, 4) != 0)
        return 0;
    for (size_t i = 4; i < AUTH_APIKEY_LEN; i++) {
        char c = token[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

void
auth_apikey_hash(const char *token, char out[65])
{
    unsigned char md[32];
    unsigned int  n = 0;

    EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL);
    sp_hex_encode(md, 32, out);
}

void
auth_apikey_generate(char *out)
{
    memcpy(out, AUTH_APIKEY_PREFIX, 4);
    sp_random_hex(out + 4, 32);
}

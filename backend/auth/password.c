/*
 * password.c: Argon2id via libargon2. Passwords are client input: lengths
 * are capped before hashing (LIM_PASSWORD) so nobody can make us hash
 * megabytes.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <argon2.h>
#include <sodium.h>

#include "auth/password.h"
#include "cw_limits.h"
#include "util/log.h"
#include "util/mem.h"

enum cw_err
auth_password_hash(const struct cw_config *cfg, const char *pw, size_t len,
                   char *out)
{
    uint8_t salt[16];
    int     rc;

    if (len > LIM_PASSWORD)
        return CW_E_BADREQ;
    randombytes_buf(salt, sizeof(salt));
    rc = argon2id_hash_encoded(cfg->argon2_iterations, cfg->argon2_memory_kib,
                               cfg->argon2_parallelism, pw, len, salt,
                               sizeof(salt), 32, out, AUTH_HASH_MAX);
    if (rc != ARGON2_OK) {
        log_err("argon2id_hash_encoded: %s", argon2_error_message(rc));
        return CW_E_CRYPTO;
    }
    return CW_OK;
}

enum cw_err
auth_password_verify(const char *hash, const char *pw, size_t len)
{
    int rc;

    if (len > LIM_PASSWORD || strncmp(hash, "$argon2id$", 10) != 0)
        return CW_E_UNAUTH;
    rc = argon2id_verify(hash, pw, len);
    if (rc == ARGON2_OK)
        return CW_OK;
    if (rc != ARGON2_VERIFY_MISMATCH)
        log_warn("argon2id_verify: %s", argon2_error_message(rc));
    return CW_E_UNAUTH;
}

/* Common passwords and the words they are built from; compared
 * case-insensitively against the password with digits and specials
 * stripped from its ends, and as substrings for the longer words. */
static const char *const blocklist[] = {
    "password", "passw0rd", "p@ssw0rd", "p@ssword", "qwerty", "qwertz",
    "azerty", "letmein", "welcome", "admin", "administrator", "changeme",
    "iloveyou", "monkey", "dragon", "football", "baseball", "master",
    "sunshine", "princess", "trustno1", "superman", "batman", "shadow",
    "michael", "jennifer", "hunter", "freedom", "whatever", "starwars",
    "certward", "secret", "default", "login", "access", "zaq12wsx",
    "1q2w3e4r", "q1w2e3r4", "asdfgh", "zxcvbn", "abc123", "111111",
    "123456", "654321", "000000", "root", "toor", "test", "guest",
    "summer", "winter", "spring", "autumn", "company", "pki", "certificate",
};

static int
is_special(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && !isalnum(c);
}

enum cw_err
auth_password_policy(const char *pw, size_t len, char *why, size_t whylen)
{
    int    up = 0;
    int    lo = 0;
    int    di = 0;
    int    sp = 0;
    char   low[LIM_PASSWORD + 1];

#define WHY(msg)                                                            \
    do {                                                                    \
        snprintf(why, whylen, "%s", msg);                                   \
        return CW_E_PASSWORD;                                               \
    } while (0)
    if (len < AUTH_PW_MIN)
        WHY("must be at least 12 characters");
    if (len > LIM_PASSWORD)
        WHY("must be at most 128 characters");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pw[i];

        if (c < 0x20 || c == 0x7f)
            WHY("must not contain control characters");
        up |= isupper(c) != 0;
        lo |= islower(c) != 0;
        di |= isdigit(c) != 0;
        sp |= is_special(c) || c >= 0x80 || c == ' ';
        low[i] = (char)tolower(c);
        if (i >= 3) {
            unsigned char a = (unsigned char)low[i - 3];
            unsigned char b = (unsigned char)low[i - 2];
            unsigned char d = (unsigned char)low[i - 1];
            unsigned char e = (unsigned char)low[i];

            if (a == b && b == d && d == e)
                WHY("must not repeat a character 4 or more times in a row");
            if (isalnum(a) && isalnum(e) &&
                ((b == a + 1 && d == b + 1 && e == d + 1) ||
                 (b == a - 1 && d == b - 1 && e == d - 1)))
                WHY("must not contain 4 or more sequential characters");
        }
    }
    low[len] = '\0';
    if (!up)
        WHY("needs an upper-case letter");
    if (!lo)
        WHY("needs a lower-case letter");
    if (!di)
        WHY("needs a digit");
    if (!sp)
        WHY("needs a special character");
    for (size_t i = 0; i < sizeof(blocklist) / sizeof(blocklist[0]); i++) {
        const char *w = blocklist[i];
        size_t      wl = strlen(w);
        size_t      s = 0;
        size_t      e = len;

        /* "Password123!" is "password" with decoration. */
        while (s < e && !isalpha((unsigned char)low[s]))
            s++;
        while (e > s && !isalpha((unsigned char)low[e - 1]))
            e--;
        if (e - s == wl && memcmp(low + s, w, wl) == 0)
            WHY("is a commonly used password");
        if (wl >= 6 && strstr(low, w) != NULL)
            WHY("contains a commonly used password");
    }
#undef WHY
    return CW_OK;
}

int
auth_password_score(const char *pw, size_t len)
{
    int classes = 0;
    int up = 0, lo = 0, di = 0, sp = 0;
    int score;
    char why[8];

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pw[i];

        up |= isupper(c) != 0;
        lo |= islower(c) != 0;
        di |= isdigit(c) != 0;
        sp |= !isalnum(c);
    }
    classes = up + lo + di + sp;
    /* Length dominates; classes add; policy failures cap the score. */
    score = (int)(len > 32 ? 32 : len) * 2 + classes * 9;
    if (score > 100)
        score = 100;
    if (auth_password_policy(pw, len, why, sizeof(why)) != CW_OK &&
        score > 40)
        score = 40;
    return score;
}

void
auth_password_generate(char *out, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.!@#%+=";
    char              why[8];

    CW_ASSERT(n >= AUTH_PW_MIN + 1 && n <= LIM_PASSWORD + 1);
    /* Rejection sampling: draw until the policy is met (a few tries). */
    do {
        for (size_t i = 0; i + 1 < n; i++)
            out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
        out[n - 1] = '\0';
    } while (auth_password_policy(out, n - 1, why, sizeof(why)) != CW_OK);
}

/*
 * test_auth.c: unit tests for backend/auth/password.c (policy, score,
 * generator, Argon2id hash and verify) and auth_username_valid().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "auth/password.h"
#include "auth/users.h"
#include "cw_limits.h"
#include "util/conf.h"
#include "util/log.h"
#include "util/mem.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A password that passes the policy; repeated to build long ones. */
#define GOOD12 "Kx9!mq2#Lw7$"

/* GOOD12 repeated to n characters (n <= 256). */
static const char *
good_of_len(size_t n)
{
    static char buf[257];

    for (size_t i = 0; i < n; i++)
        buf[i] = GOOD12[i % 12];
    buf[n] = '\0';
    return buf;
}

/* ==== auth_password_policy ============================================== */

struct policy_case {
    int         line;
    const char *pw;         /* NULL: good_of_len(len) */
    int         len;        /* -1: strlen */
    int         ok;
    const char *why;        /* substring when refused */
};

static const struct policy_case policy_cases[] = {
    /* good */
    { __LINE__, GOOD12, -1, 1, NULL },
    { __LINE__, "Tr0ub4dor&3Xq", -1, 1, NULL },
    { __LINE__, "correct-Horse-battery-7", -1, 1, NULL },
    { __LINE__, "Zebra!Lamp7Quiet", -1, 1, NULL },
    { __LINE__, "Kx9 mq2 Lw7t", -1, 1, NULL },              /* space */
    { __LINE__, "Kx9\xc3\xa9mq2Lw7tz", -1, 1, NULL },       /* non-ASCII */
    { __LINE__, "Kx9!aaa#Lw7z", -1, 1, NULL },              /* 3 repeats */
    { __LINE__, "Kx9!abc#Lw7z", -1, 1, NULL },              /* 3 in a row */
    { __LINE__, "Kx9!xyz{Lw7z", -1, 1, NULL },
    { __LINE__, NULL, 128, 1, NULL },
    /* length */
    { __LINE__, "", -1, 0, "at least 12" },
    { __LINE__, "Sh0rt!pw", -1, 0, "at least 12" },
    { __LINE__, "Kx9!mq2#Lw7", -1, 0, "at least 12" },
    { __LINE__, NULL, 129, 0, "at most 128" },
    { __LINE__, NULL, 200, 0, "at most 128" },
    /* character classes */
    { __LINE__, "kx9!mq2#lw7$", -1, 0, "upper-case" },
    { __LINE__, "KX9!MQ2#LW7$", -1, 0, "lower-case" },
    { __LINE__, "Kxq!mqz#Lwy$", -1, 0, "digit" },
    { __LINE__, "Kx9rmq2sLw7t", -1, 0, "special" },
    { __LINE__, "Kx9!mq2#Lw7\n", -1, 0, "control" },
    { __LINE__, "Kx9!mq2\t#Lw7", -1, 0, "control" },
    { __LINE__, "Kx9!mq2\0#Lw7$", 13, 0, "control" },
    { __LINE__, "Kx9!mq2\x7f#Lw7$", -1, 0, "control" },
    /* runs of 4+ repeated characters */
    { __LINE__, "Kx9!aaaa#Lw7", -1, 0, "repeat" },
    { __LINE__, "Kx9!1111#Lw7", -1, 0, "repeat" },
    { __LINE__, "Kx9!!!!qLw7z", -1, 0, "repeat" },
    { __LINE__, "Kx9!AaAa#Lw7", -1, 0, "repeat" },
    { __LINE__, "aaaaKx9!mq2#Lw7", -1, 0, "repeat" },
    { __LINE__, "Kx9!mq2#Lw7zzzz", -1, 0, "repeat" },
    /* sequences of 4+ */
    { __LINE__, "Kx9!abcd#Lw7", -1, 0, "sequential" },
    { __LINE__, "Kx!4321#Lwqz", -1, 0, "sequential" },
    { __LINE__, "Kx!1234#Lwqz", -1, 0, "sequential" },
    { __LINE__, "Kx9!DCBA#Lw7", -1, 0, "sequential" },
    { __LINE__, "Kx9!AbCd#Lw7", -1, 0, "sequential" },
    { __LINE__, "Kx9!wxyz#Lw7", -1, 0, "sequential" },
    { __LINE__, "6789Kx!mq#Lw", -1, 0, "sequential" },
    /* common passwords */
    { __LINE__, "Password123!", -1, 0, "commonly used" },
    { __LINE__, "Welcome2024!!", -1, 0, "commonly used" },
    { __LINE__, "P@ssw0rd2024!", -1, 0, "commonly used" },
    { __LINE__, "!!Admin1357#", -1, 0, "commonly used" },
    { __LINE__, "Xq7!Certward#9", -1, 0, "commonly used" },
    { __LINE__, "9#QWERTYuiop!", -1, 0, "commonly used" },
    { __LINE__, "My-Sunshine-07", -1, 0, "commonly used" },
};

START_TEST(test_policy)
{
    const struct policy_case *c = &policy_cases[_i];
    const char *pw = c->pw ? c->pw : good_of_len((size_t)c->len);
    size_t      len = c->len < 0 ? strlen(pw) : (size_t)c->len;
    char        why[128];
    enum cw_err err;

    memset(why, 0, sizeof(why));
    err = auth_password_policy(pw, len, why, sizeof(why));
    if (c->ok) {
        ck_assert_msg(err == CW_OK, "line %d: refused: %s", c->line, why);
        return;
    }
    ck_assert_msg(err == CW_E_PASSWORD, "line %d: err %d", c->line, (int)err);
    ck_assert_msg(strstr(why, c->why) != NULL, "line %d: why '%s' lacks '%s'",
                  c->line, why, c->why);
}
END_TEST

START_TEST(test_policy_why_truncated)
{
    char why[6];

    memset(why, 'Z', sizeof(why));
    ck_assert_int_eq(auth_password_policy("short", 5, why, 4), CW_E_PASSWORD);
    ck_assert_uint_eq(strlen(why), 3);
    ck_assert(why[4] == 'Z' && why[5] == 'Z');
}
END_TEST

/* ==== auth_password_score =============================================== */

START_TEST(test_score_range)
{
    static const char *const pws[] = {
        "", "a", "aaaaaaaaaaaa", "Password123!", GOOD12,
        "Kx9!mq2#Lw7$Kx9!mq2#Lw7$Kx9!mq2#Lw7$Kx9!",
        "\x01\x02\x03", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4",
    };

    for (size_t i = 0; i < N_ELEMS(pws); i++) {
        int s = auth_password_score(pws[i], strlen(pws[i]));

        ck_assert_msg(s >= 0 && s <= 100, "'%s' scores %d", pws[i], s);
    }
    ck_assert_int_eq(auth_password_score("", 0), 0);
    for (size_t n = 0; n <= 200; n++) {
        int s = auth_password_score(good_of_len(n), n);

        ck_assert_msg(s >= 0 && s <= 100, "length %zu scores %d", n, s);
    }
    /* Long, all classes, passes the policy: the top score. */
    ck_assert_int_eq(auth_password_score(good_of_len(40), 40), 100);
}
END_TEST

/* Pairs: the second scores strictly higher than the first. */
struct score_order_case {
    int         line;
    const char *weaker;
    const char *stronger;
};

static const struct score_order_case score_order_cases[] = {
    { __LINE__, "a", "ab" },
    { __LINE__, "abc", "abcdefgh" },
    { __LINE__, "kxqmqzlwytzq", "Kxqmqzlwytzq" },
    { __LINE__, "kxqm", "Kxqm" },
    { __LINE__, "Kxqm", "Kx9m" },
    { __LINE__, "Kx9m", "Kx9!" },
    { __LINE__, "kxqmqzlwytzq", GOOD12 },
    { __LINE__, GOOD12, GOOD12 "Rb5%" },
    { __LINE__, GOOD12, "Kx9!mq2#Lw7$Rb5%Tn8&Vc3*" },
    { __LINE__, "Password123!", GOOD12 },
    { __LINE__, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", GOOD12 },
};

START_TEST(test_score_order)
{
    const struct score_order_case *c = &score_order_cases[_i];
    int w = auth_password_score(c->weaker, strlen(c->weaker));
    int s = auth_password_score(c->stronger, strlen(c->stronger));

    ck_assert_msg(s > w, "line %d: '%s' scores %d, '%s' scores %d", c->line,
                  c->weaker, w, c->stronger, s);
}
END_TEST

/* A password that fails the policy never scores above 40. */
struct score_capped_case {
    int         line;
    const char *pw;
    int         len;
};

static const struct score_capped_case score_capped_cases[] = {
    { __LINE__, "Password123!", -1 },
    { __LINE__, "Password123!Password123!Password123!", -1 },
    { __LINE__, "Welcome2024!!Welcome2024!!Welcome2024!!", -1 },
    { __LINE__, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", -1 },
    { __LINE__, "Kx9!abcd#Lw7Kx9!mq2#Lw7$Kx9!mq2#Lw7$", -1 },
    { __LINE__, "kx9!mq2#lw7$kx9!mq2#lw7$kx9!mq2#lw7$", -1 },
    { __LINE__, "Kx9!mq2#Lw7", -1 },
    { __LINE__, NULL, 129 },
    { __LINE__, NULL, 200 },
};

START_TEST(test_score_capped)
{
    const struct score_capped_case *c = &score_capped_cases[_i];
    const char *pw = c->pw ? c->pw : good_of_len((size_t)c->len);
    size_t      len = c->len < 0 ? strlen(pw) : (size_t)c->len;
    char        why[128];
    int         s;

    ck_assert_msg(auth_password_policy(pw, len, why, sizeof(why)) != CW_OK,
                  "line %d: passes the policy", c->line);
    s = auth_password_score(pw, len);
    ck_assert_msg(s <= 40 && s >= 0, "line %d: scores %d", c->line, s);
}
END_TEST

/* ==== auth_password_generate ============================================ */

struct generate_case {
    int    line;
    size_t n;
    int    rounds;
};

static const struct generate_case generate_cases[] = {
    { __LINE__, 17, 200 },
    { __LINE__, AUTH_PW_MIN + 1, 200 },
    { __LINE__, 25, 200 },
    { __LINE__, LIM_PASSWORD + 1, 50 },
};

START_TEST(test_generate)
{
    const struct generate_case *c = &generate_cases[_i];
    char out[LIM_PASSWORD + 8];
    char prev[LIM_PASSWORD + 8] = "";

    for (int r = 0; r < c->rounds; r++) {
        char why[128] = "";

        memset(out, 'Z', sizeof(out));
        auth_password_generate(out, c->n);
        ck_assert_msg(strlen(out) == c->n - 1,
                      "line %d: length %zu want %zu", c->line, strlen(out),
                      c->n - 1);
        ck_assert_msg(out[c->n] == 'Z', "line %d: wrote past n", c->line);
        ck_assert_msg(auth_password_policy(out, c->n - 1, why, sizeof(why)) ==
                          CW_OK,
                      "line %d: generated '%s' fails the policy: %s", c->line,
                      out, why);
        for (size_t i = 0; i < c->n - 1; i++)
            ck_assert_msg(out[i] > 0x20 && out[i] < 0x7f,
                          "line %d: non-printable byte", c->line);
        ck_assert_msg(strcmp(out, prev) != 0, "line %d: repeated output",
                      c->line);
        memcpy(prev, out, sizeof(prev));
    }
}
END_TEST

/* ==== hash / verify ===================================================== */

static struct cw_config *
tiny_cfg(void)
{
    struct cw_config *cfg = cw_xcalloc(1, sizeof(*cfg));

    ck_assert_ptr_nonnull(cfg);
    conf_defaults(cfg);
    cfg->argon2_memory_kib = 8;
    cfg->argon2_iterations = 1;
    cfg->argon2_parallelism = 1;
    return cfg;
}

START_TEST(test_hash_roundtrip)
{
    struct cw_config *cfg = tiny_cfg();
    char              h1[AUTH_HASH_MAX];
    char              h2[AUTH_HASH_MAX];
    char              tampered[AUTH_HASH_MAX];
    char             *m;
    enum cw_err       e1;
    enum cw_err       e2;

    memset(h1, 'Z', sizeof(h1));
    e1 = auth_password_hash(cfg, GOOD12, strlen(GOOD12), h1);
    e2 = auth_password_hash(cfg, GOOD12, strlen(GOOD12), h2);
    conf_free(cfg);
    ck_assert_int_eq(e1, CW_OK);
    ck_assert_int_eq(e2, CW_OK);
    ck_assert_msg(strncmp(h1, "$argon2id$v=19$m=8,t=1,p=1$", 27) == 0,
                  "encoded hash '%s'", h1);
    ck_assert(strlen(h1) < AUTH_HASH_MAX);
    /* A fresh salt each time. */
    ck_assert_str_ne(h1, h2);

    ck_assert_int_eq(auth_password_verify(h1, GOOD12, strlen(GOOD12)), CW_OK);
    ck_assert_int_eq(auth_password_verify(h2, GOOD12, strlen(GOOD12)), CW_OK);
    /* Wrong passwords. */
    ck_assert_int_eq(auth_password_verify(h1, "Kx9!mq2#Lw7%", 12),
                     CW_E_UNAUTH);
    ck_assert_int_eq(auth_password_verify(h1, "kx9!mq2#Lw7$", 12),
                     CW_E_UNAUTH);
    ck_assert_int_eq(auth_password_verify(h1, GOOD12, 11), CW_E_UNAUTH);
    ck_assert_int_eq(auth_password_verify(h1, GOOD12 "x", 13), CW_E_UNAUTH);
    ck_assert_int_eq(auth_password_verify(h1, "", 0), CW_E_UNAUTH);
    /* The parameters travel with the hash: changing them breaks it. */
    snprintf(tampered, sizeof(tampered), "%s", h1);
    m = strstr(tampered, "m=8,");
    ck_assert_ptr_nonnull(m);
    m[2] = '9';
    ck_assert_int_eq(auth_password_verify(tampered, GOOD12, strlen(GOOD12)),
                     CW_E_UNAUTH);
}
END_TEST

START_TEST(test_hash_lengths)
{
    struct cw_config *cfg = tiny_cfg();
    char              h[AUTH_HASH_MAX];
    char              pw[LIM_PASSWORD + 2];
    enum cw_err       e_max;
    enum cw_err       e_over;
    enum cw_err       e_nul;
    char              hnul[AUTH_HASH_MAX];

    memset(pw, 'p', sizeof(pw));
    e_max = auth_password_hash(cfg, pw, LIM_PASSWORD, h);
    e_over = auth_password_hash(cfg, pw, LIM_PASSWORD + 1, hnul);
    /* Length-delimited: an embedded NUL is part of the password. */
    e_nul = auth_password_hash(cfg, "ab\0cd", 5, hnul);
    conf_free(cfg);
    ck_assert_int_eq(e_max, CW_OK);
    ck_assert_int_eq(auth_password_verify(h, pw, LIM_PASSWORD), CW_OK);
    ck_assert_int_eq(e_over, CW_E_BADREQ);
    ck_assert_int_eq(auth_password_verify(h, pw, LIM_PASSWORD + 1),
                     CW_E_UNAUTH);
    ck_assert_int_eq(e_nul, CW_OK);
    ck_assert_int_eq(auth_password_verify(hnul, "ab\0cd", 5), CW_OK);
    ck_assert_int_eq(auth_password_verify(hnul, "ab", 2), CW_E_UNAUTH);
}
END_TEST

/* Anything but an Argon2id encoding is refused, without crashing. */
struct foreign_hash_case {
    int         line;
    const char *hash;
};

static const struct foreign_hash_case foreign_hash_cases[] = {
    { __LINE__, "" },
    { __LINE__, "Kx9!mq2#Lw7$" },
    { __LINE__, "$2b$12$C6UzMDM.H6dfI/f/IKcEeO5zWbGzXtfrGZ1Iom9k3"
                "WyA6lmIMx.Ky" },
    { __LINE__, "$argon2i$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
                "0123456789012345678901234567890123456789012" },
    { __LINE__, "$argon2d$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
                "0123456789012345678901234567890123456789012" },
    { __LINE__, "$ARGON2ID$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
                "0123456789012345678901234567890123456789012" },
    { __LINE__, "$argon2id$" },
    { __LINE__, "$argon2id$garbage" },
    { __LINE__, "$argon2id$v=19$m=8,t=1,p=1$$" },
    { __LINE__, "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$!!!!" },
    { __LINE__, "$6$salt$IxDD3jeSOb5eB1CX5LBsqZFVkJdido3OUILO5Ifz5iwMuTS4XMS1"
                "30MTSuDDl3aCI6WouIL9AjRbLCelDCy.g." },
    { __LINE__, "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=" },
};

START_TEST(test_verify_foreign)
{
    const struct foreign_hash_case *c = &foreign_hash_cases[_i];

    ck_assert_msg(auth_password_verify(c->hash, GOOD12, strlen(GOOD12)) ==
                      CW_E_UNAUTH,
                  "line %d: '%s' not refused", c->line, c->hash);
}
END_TEST

/* ==== auth_username_valid =============================================== */

struct username_case {
    int         line;
    const char *name;       /* NULL: 'u' * len */
    int         len;
    int         ok;
};

static const struct username_case username_cases[] = {
    { __LINE__, "alice", 0, 1 },
    { __LINE__, "a", 0, 1 },
    { __LINE__, "A1", 0, 1 },
    { __LINE__, "1abc", 0, 1 },
    { __LINE__, "alice.smith", 0, 1 },
    { __LINE__, "alice_smith", 0, 1 },
    { __LINE__, "alice-smith", 0, 1 },
    { __LINE__, "alice@example.com", 0, 1 },
    { __LINE__, "a.", 0, 1 },
    { __LINE__, NULL, 64, 1 },
    { __LINE__, NULL, 65, 0 },
    { __LINE__, "", 0, 0 },
    { __LINE__, ".alice", 0, 0 },
    { __LINE__, "_alice", 0, 0 },
    { __LINE__, "-alice", 0, 0 },
    { __LINE__, "@alice", 0, 0 },
    { __LINE__, "alice smith", 0, 0 },
    { __LINE__, " alice", 0, 0 },
    { __LINE__, "alice ", 0, 0 },
    { __LINE__, "alice/x", 0, 0 },
    { __LINE__, "alice\\x", 0, 0 },
    { __LINE__, "alice\n", 0, 0 },
    { __LINE__, "a\tb", 0, 0 },
    { __LINE__, "alic\xc3\xa9", 0, 0 },
    { __LINE__, "\xc3\xa9lise", 0, 0 },
    { __LINE__, "alice+tag", 0, 0 },
    { __LINE__, "alice:x", 0, 0 },
    { __LINE__, "al'ice", 0, 0 },
    { __LINE__, "al\"ice", 0, 0 },
    { __LINE__, "al<ice>", 0, 0 },
    { __LINE__, "al%ice", 0, 0 },
    { __LINE__, "al*ice", 0, 0 },
};

START_TEST(test_username)
{
    const struct username_case *c = &username_cases[_i];
    char        buf[128];
    const char *name = c->name;

    if (name == NULL) {
        memset(buf, 'u', (size_t)c->len);
        buf[c->len] = '\0';
        name = buf;
    }
    ck_assert_msg(auth_username_valid(name) == c->ok, "line %d: '%s' %s",
                  c->line, name, c->ok ? "refused" : "accepted");
}
END_TEST

/* ==== runner ============================================================ */

#define LOOP(tc, t, arr) tcase_add_loop_test(tc, t, 0, (int)N_ELEMS(arr))

static Suite *
auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc;

    tc = tcase_create("policy");
    LOOP(tc, test_policy, policy_cases);
    tcase_add_test(tc, test_policy_why_truncated);
    tcase_add_test(tc, test_score_range);
    LOOP(tc, test_score_order, score_order_cases);
    LOOP(tc, test_score_capped, score_capped_cases);
    suite_add_tcase(s, tc);

    tc = tcase_create("generate");
    tcase_set_timeout(tc, 60);
    LOOP(tc, test_generate, generate_cases);
    suite_add_tcase(s, tc);

    tc = tcase_create("hash");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_hash_roundtrip);
    tcase_add_test(tc, test_hash_lengths);
    LOOP(tc, test_verify_foreign, foreign_hash_cases);
    suite_add_tcase(s, tc);

    tc = tcase_create("username");
    LOOP(tc, test_username, username_cases);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr;
    int      failed;

    log_set_level(LOG_CRIT);
    sr = srunner_create(auth_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

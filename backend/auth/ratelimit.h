/*
 * ratelimit.h: request rate limits per client address and route class,
 * as token buckets in memory shared by all worker processes of a node
 * (mapped by the master before it forks). Requests are counted per node:
 * the counters are protective, short-lived and worthless after a restart,
 * and a database write per request would cost more than most requests.
 * Login failures and lockouts, which must hold across nodes, are in the
 * database (auth/lockout.c).
 */
#ifndef CW_AUTH_RATELIMIT_H
#define CW_AUTH_RATELIMIT_H

#include <stdint.h>

/* Map the shared table; call once before forking workers. */
void auth_ratelimit_init(void);

struct auth_rl_result {
    int      allowed;
    unsigned limit;        /* per minute                                */
    unsigned remaining;
    unsigned reset;        /* seconds until the bucket is full again    */
    unsigned retry_after;  /* seconds until the next request may pass   */
    int      first_denial; /* first refusal since the bucket was last ok */
};

/* Take one token for (class, addr) with rule per_minute/burst. */
void auth_ratelimit_take(int cls, const char *addr, unsigned per_minute,
                         unsigned burst, struct auth_rl_result *out);

#endif

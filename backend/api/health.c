/*
 * health.c: GET /api/health, for load balancers and monitoring. Public and
 * never rate limited; answers 503 when the database is unreachable so a
 * balancer takes the node out.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "api/api.h"
#include "store/store.h"

/* Load balancers poll this route many times a second on every node; a
 * successful database check is reused by the thread for HEALTH_CACHE_MS so
 * that polling costs no query each time. A failure is never cached: an
 * outage shows within HEALTH_CACHE_MS, a recovery on the next request. */
#define HEALTH_CACHE_MS 1000

static _Thread_local struct {
    long     at_ms;
    unsigned version;
} health_cache;

static long
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static enum cw_err
health_get(struct http_req *req, struct http_resp *resp)
{
    unsigned    v = 0;
    long        now = mono_ms();
    enum cw_err err = CW_OK;
    char        body[96];
    int         n;

    if (health_cache.at_ms != 0 && now - health_cache.at_ms < HEALTH_CACHE_MS) {
        v = health_cache.version;
    } else {
        err = store_connect(req->db, 1);
        if (err == CW_OK)
            err = store_schema_version(req->db, &v);
    }
    if (err != CW_OK) {
        health_cache.at_ms = 0;
        http_resp_header(req, resp, "Retry-After", "5");
        return http_resp_json(
            resp, 503,
            json_pack("{s:s, s:s, s:n, s:s}", "status", "error", "database",
                      err == CW_E_SCHEMA ? "schema_mismatch" : "down",
                      "schema", "request_id", req->request_id));
    }
    if (health_cache.at_ms == 0 || now - health_cache.at_ms >= HEALTH_CACHE_MS) {
        health_cache.at_ms = now;
        health_cache.version = v;
    }
    /* A fixed document: formatted directly, no JSON library needed. */
    n = snprintf(body, sizeof(body),
                 "{\"status\":\"ok\",\"database\":\"ok\",\"schema\":%u}", v);
    return http_resp_bytes(resp, 200, "application/json", body, (size_t)n);
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/api/health",
      .handler = health_get, .auth = AUTH_PUBLIC, .rl = RL_NONE },
};

const struct http_route_table api_health_table = HTTP_TABLE("health", routes);

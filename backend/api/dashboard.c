/*
 * dashboard.c (api): GET /api/v2/dashboard/stats: certificate and CA
 * counts and issuance per day, from three aggregate queries. Pending rows
 * (serial reserved, not signed) never count. The states follow the
 * certificate list's ?status= filter, so a number and its list agree:
 * valid = status valid and not_after in the future, expired = status valid
 * and not_after <= UTC_TIMESTAMP(), expiring_Nd = valid and not_after
 * within N days; total = valid + expired + revoked. Trusts the database
 * only; the session is UTC (store.c), so DATETIME columns are UTC.
 */
#include "config.h"

#include "api/api.h"

/* Days in issued_per_day, today (UTC) included. */
#define DASHBOARD_DAYS 30

static const char SQL_CERT_STATS[] =
    "SELECT COUNT(*), "
    "COALESCE(SUM(status = 'valid' AND not_after > UTC_TIMESTAMP()), 0), "
    "COALESCE(SUM(status = 'revoked'), 0), "
    "COALESCE(SUM(status = 'valid' AND not_after <= UTC_TIMESTAMP()), 0), "
    "COALESCE(SUM(status = 'valid' AND not_after > UTC_TIMESTAMP() "
    "  AND not_after <= UTC_TIMESTAMP() + INTERVAL 7 DAY), 0), "
    "COALESCE(SUM(status = 'valid' AND not_after > UTC_TIMESTAMP() "
    "  AND not_after <= UTC_TIMESTAMP() + INTERVAL 30 DAY), 0) "
    "FROM certificates WHERE status <> 'pending'";

static const char SQL_CA_STATS[] =
    "SELECT COUNT(*), "
    "COALESCE(SUM(status = 'active' AND not_after > UTC_TIMESTAMP()), 0) "
    "FROM cas WHERE status <> 'pending'";

/* One row per day from today - (n - 1) to today, zeros included; each day
 * is an index range on certificates_created. */
static const char SQL_ISSUED_PER_DAY[] =
    "WITH RECURSIVE days (d) AS ("
    "  SELECT UTC_DATE() - INTERVAL ? DAY "
    "  UNION ALL SELECT d + INTERVAL 1 DAY FROM days WHERE d < UTC_DATE()) "
    "SELECT DATE_FORMAT(days.d, '%Y-%m-%d'), COUNT(c.id) FROM days "
    "LEFT JOIN certificates c ON c.created_at >= days.d "
    "  AND c.created_at < days.d + INTERVAL 1 DAY AND c.status <> 'pending' "
    "GROUP BY days.d ORDER BY days.d";

static enum cw_err
dashboard_stats(struct http_req *req, struct http_resp *resp)
{
    const struct store_param back[] = { SP_U64(DASHBOARD_DAYS - 1) };
    struct store_rows        certs;
    struct store_rows        cas;
    struct store_rows        days;
    json_t                  *per_day;
    enum cw_err              err;

    err = store_query(req->db, req->arena, SQL_CERT_STATS, NULL, 0, &certs);
    if (err == CW_OK)
        err = store_query(req->db, req->arena, SQL_CA_STATS, NULL, 0, &cas);
    if (err == CW_OK)
        err = store_query(req->db, req->arena, SQL_ISSUED_PER_DAY, back, 1,
                          &days);
    if (err != CW_OK)
        return err;
    if (certs.nrows != 1 || certs.ncols != 6 || cas.nrows != 1 ||
        cas.ncols != 2 || days.nrows != DASHBOARD_DAYS || days.ncols != 2)
        return CW_E_INTERNAL;
    per_day = json_array();
    for (size_t r = 0; r < days.nrows; r++)
        json_array_append_new(
            per_day,
            json_pack("{s:s, s:I}", "date", store_cell_str(&days, r, 0),
                      "count", (json_int_t)store_cell_u64(&days, r, 1)));
    return http_resp_data(
        resp, 200,
        json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I}, s:o}",
                  "certificates",
                  "total", (json_int_t)store_cell_u64(&certs, 0, 0),
                  "valid", (json_int_t)store_cell_u64(&certs, 0, 1),
                  "revoked", (json_int_t)store_cell_u64(&certs, 0, 2),
                  "expired", (json_int_t)store_cell_u64(&certs, 0, 3),
                  "expiring_7d", (json_int_t)store_cell_u64(&certs, 0, 4),
                  "expiring_30d", (json_int_t)store_cell_u64(&certs, 0, 5),
                  "cas",
                  "total", (json_int_t)store_cell_u64(&cas, 0, 0),
                  "active", (json_int_t)store_cell_u64(&cas, 0, 1),
                  "issued_per_day", per_day),
        NULL);
}

static const struct http_route routes[] = {
    { .methods = HTTP_M_GET, .pattern = "/api/v2/dashboard/stats",
      .handler = dashboard_stats, .auth = AUTH_USER,
      .perm = "read:certificates" },
};

const struct http_route_table api_dashboard_table =
    HTTP_TABLE("dashboard", routes);

/*
 * templates.c: the built-in certificate templates. A template fixes the
 * key usage (0: the default for the key type, RFC 5280 4.2.1.3), the
 * extended key usage, the longest validity and which SAN types a request
 * may carry.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca-int.h"
#include "pki/cert.h"
#include "pki/key.h"
#include "util/jsonx.h"
#include "pki/san.h"

#define SAN(t) (1u << (t))
#define SAN_HOST (SAN(PKI_SAN_DNS) | SAN(PKI_SAN_IP))
#define SAN_ALL                                                            \
    (SAN(PKI_SAN_DNS) | SAN(PKI_SAN_IP) | SAN(PKI_SAN_EMAIL) |            \
     SAN(PKI_SAN_URI) | SAN(PKI_SAN_UPN))

static const char *const eku_server[] = { "serverAuth" };
static const char *const eku_client[] = { "clientAuth" };
static const char *const eku_both[] = { "serverAuth", "clientAuth" };
static const char *const eku_email[] = { "emailProtection" };
static const char *const eku_code[] = { "codeSigning" };
static const char *const eku_ocsp[] = { "OCSPSigning" };

const struct ca_template ca_templates[] = {
    { "server", "TLS server", 0, eku_server, 1, LEAF_MAX_DAYS,
      SAN_HOST | SAN(PKI_SAN_URI), 0, 0, 0, 0, NULL, 0 },
    { "client", "TLS client (users, devices)", 0, eku_client, 1, LEAF_MAX_DAYS,
      SAN_ALL, 0, 0, 0, 0, NULL, 0 },
    { "server-client", "TLS server and client", 0, eku_both, 2, LEAF_MAX_DAYS,
      SAN_ALL, 0, 0, 0, 0, NULL, 0 },
    { "email", "S/MIME email protection",
      PKI_KU(PKI_KU_DIGITAL_SIGNATURE) | PKI_KU(PKI_KU_NON_REPUDIATION),
      eku_email, 1, LEAF_MAX_DAYS, SAN(PKI_SAN_EMAIL) | SAN(PKI_SAN_UPN), 0, 0, 0, 0, NULL, 0 },
    { "code-signing", "Code signing", PKI_KU(PKI_KU_DIGITAL_SIGNATURE),
      eku_code, 1, LEAF_MAX_DAYS, SAN(PKI_SAN_EMAIL) | SAN(PKI_SAN_URI), 0, 0, 0, 0, NULL, 0 },
    { "ocsp-signing", "Delegated OCSP responder",
      PKI_KU(PKI_KU_DIGITAL_SIGNATURE), eku_ocsp, 1, 365,
      SAN(PKI_SAN_DNS) | SAN(PKI_SAN_URI), 0, 1, 0, 0, NULL, 0 },
    { "sub-ca", "Subordinate CA (use POST /api/v2/cas)", 0, NULL, 0,
      CA_MAX_DAYS, 0, 1, 0, 0, 0, NULL, 0 },
};
const size_t ca_ntemplates = sizeof(ca_templates) / sizeof(ca_templates[0]);

const struct ca_template *
ca_template_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < ca_ntemplates; i++)
        if (strcmp(ca_templates[i].name, name) == 0)
            return &ca_templates[i];
    return NULL;
}

json_t *
ca_template_json(const struct ca_template *t)
{
    json_t *ku = json_array();
    json_t *eku = json_array();
    json_t *sans = json_array();

    for (int b = 0; b < PKI_KU__MAX; b++)
        if (t->key_usage & PKI_KU(b))
            json_array_append_new(ku, json_string(pki_ku_name(b)));
    for (size_t i = 0; i < t->n_eku; i++)
        json_array_append_new(eku, json_string(t->eku[i]));
    for (int s = 0; s < PKI_SAN__MAX; s++)
        if (t->san_types & SAN(s))
            json_array_append_new(sans, json_string(pki_san_type_name(s)));
    return json_pack("{s:s, s:s, s:b, s:o, s:b, s:o, s:i, s:o, s:b}", "name",
                     t->name, "description", t->description, "builtin", 1,
                     "key_usage", ku, "key_usage_by_key_type",
                     t->key_usage == 0, "extended_key_usage", eku,
                     "max_validity_days", (int)t->max_days,
                     "allowed_san_types", sans, "is_ca", t->is_ca);
}

/* ---- custom templates ------------------------------------------------ */

static const char sql_by_name[] =
    "SELECT id, name, description, key_usage, ext_key_usage, max_days, "
    "san_types, key_types, subject_fields FROM templates WHERE name = ?";
static const char sql_by_id[] =
    "SELECT id, name, description, key_usage, ext_key_usage, max_days, "
    "san_types, key_types, subject_fields FROM templates WHERE id = ?";
static const char sql_all[] =
    "SELECT id, name, description, key_usage, ext_key_usage, max_days, "
    "san_types, key_types, subject_fields FROM templates ORDER BY name";
static const char sql_insert[] =
    "INSERT INTO templates (name, description, key_usage, ext_key_usage, "
    "max_days, san_types, key_types, subject_fields, created_by) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_update[] =
    "UPDATE templates SET name = ?, description = ?, key_usage = ?, "
    "ext_key_usage = ?, max_days = ?, san_types = ?, key_types = ?, "
    "subject_fields = ?, updated_at = NOW(6) WHERE id = ?";
static const char sql_delete[] = "DELETE FROM templates WHERE id = ?";

static const char *const subject_attrs[] = {
    "CN", "O", "OU", "C", "ST", "L", "emailAddress", "serialNumber",
};
static const char *const eku_names[] = {
    "serverAuth", "clientAuth", "emailProtection", "codeSigning",
    "OCSPSigning", "timeStamping",
};

static const char **
str_array(struct arena *a, const char *json, size_t *n)
{
    json_t      *arr = json_loads(json, 0, NULL);
    const char **out = arena_alloc(a, (json_array_size(arr) + 1) *
                                          sizeof(*out));

    *n = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));

        if (s != NULL)
            out[(*n)++] = arena_strdup(a, s);
    }
    out[*n] = NULL;
    json_decref(arr);
    return out;
}

static struct ca_template *
row_template(struct arena *a, const struct store_rows *rows, size_t r)
{
    struct ca_template *t = arena_zalloc(a, sizeof(*t));
    const char        **list;
    size_t              n;

    t->id = store_cell_u64(rows, r, 0);
    t->name = store_cell_str(rows, r, 1);
    t->description = store_cell_str(rows, r, 2);
    list = str_array(a, store_cell_str(rows, r, 3), &n);
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < PKI_KU__MAX; b++)
            if (strcmp(pki_ku_name(b), list[i]) == 0)
                t->key_usage |= PKI_KU(b);
    t->eku = str_array(a, store_cell_str(rows, r, 4), &t->n_eku);
    t->max_days = (unsigned)store_cell_u64(rows, r, 5);
    list = str_array(a, store_cell_str(rows, r, 6), &n);
    for (size_t i = 0; i < n; i++) {
        enum pki_san_type st;

        if (pki_san_type_parse(list[i], &st) == CW_OK)
            t->san_types |= SAN(st);
    }
    list = str_array(a, store_cell_str(rows, r, 7), &n);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < PKI_KEY__MAX; k++)
            if (strcmp(pki_key_type_name(k), list[i]) == 0)
                t->key_types |= 1u << k;
    t->subject_fields = str_array(a, store_cell_str(rows, r, 8),
                                  &t->n_subject_fields);
    if (t->n_subject_fields == 0)
        t->subject_fields = NULL;
    return t;
}

enum cw_err
ca_template_load(struct store *db, struct arena *a, const char *name,
                 const struct ca_template **out)
{
    struct store_rows  rows;
    struct store_param p[1];
    enum cw_err        err;

    *out = ca_template_find(name);
    if (*out != NULL)
        return CW_OK;
    p[0] = SP_STR(name);
    err = store_query(db, a, sql_by_name, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;
    *out = row_template(a, &rows, 0);
    return CW_OK;
}

static json_t *
custom_json(const struct store_rows *rows, size_t r)
{
    json_t *doc = json_pack("{s:I, s:s, s:s, s:b, s:I}", "id",
                            (json_int_t)store_cell_u64(rows, r, 0), "name",
                            store_cell_str(rows, r, 1), "description",
                            store_cell_str(rows, r, 2), "builtin", 0,
                            "max_validity_days",
                            (json_int_t)store_cell_u64(rows, r, 5));
    static const struct {
        const char *key;
        size_t      col;
    } lists[] = { { "key_usage", 3 }, { "extended_key_usage", 4 },
                  { "allowed_san_types", 6 }, { "key_types", 7 },
                  { "subject_fields", 8 } };

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        json_t *v = json_loads(store_cell_str(rows, r, lists[i].col), 0,
                               NULL);

        json_object_set_new(doc, lists[i].key, v ? v : json_array());
    }
    json_object_set_new(doc, "key_usage_by_key_type",
                        json_boolean(json_array_size(json_object_get(
                                         doc, "key_usage")) == 0));
    json_object_set_new(doc, "is_ca", json_false());
    return doc;
}

enum cw_err
ca_templates_json(struct store *db, struct arena *a, json_t **out)
{
    struct store_rows rows;
    enum cw_err       err;

    err = store_query(db, a, sql_all, NULL, 0, &rows);
    if (err != CW_OK)
        return err;
    *out = json_array();
    for (size_t i = 0; i < ca_ntemplates; i++)
        json_array_append_new(*out, ca_template_json(&ca_templates[i]));
    for (size_t r = 0; r < rows.nrows; r++)
        json_array_append_new(*out, custom_json(&rows, r));
    return CW_OK;
}

enum cw_err
ca_template_get_json(struct store *db, struct arena *a, uint64_t id,
                     json_t **out)
{
    struct store_rows  rows;
    struct store_param p[1];
    enum cw_err        err;

    p[0] = SP_U64(id);
    err = store_query(db, a, sql_by_id, p, 1, &rows);
    if (err != CW_OK)
        return err;
    if (rows.nrows != 1)
        return CW_E_NOTFOUND;
    *out = custom_json(&rows, 0);
    return CW_OK;
}

/* Every entry of arr (may be absent) must be one of allowed (or, with
 * oid_ok, a dotted OID); returns its canonical JSON text. */
static enum cw_err
list_check(struct arena *a, json_t *arr, const char *field,
           const char *const *allowed, size_t nallowed, int oid_ok,
           const char **text, struct ca_why *why)
{
    json_t *canon = json_array();
    char   *s;

    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *v = json_string_value(json_array_get(arr, i));
        int         ok = 0;

        for (size_t k = 0; v != NULL && k < nallowed; k++)
            ok |= strcmp(allowed[k], v) == 0;
        if (!ok && v != NULL && oid_ok && strlen(v) < 64 &&
            strspn(v, "0123456789.") == strlen(v) && strchr(v, '.') != NULL)
            ok = 1;
        if (!ok) {
            json_decref(canon);
            ca_why_set(why, field, "%s[%zu] is not allowed here", field, i);
            return CW_E_BADREQ;
        }
        json_array_append_new(canon, json_string(v));
    }
    s = jsonx_dumps(canon);
    *text = arena_strdup(a, s);
    free(s);
    json_decref(canon);
    return CW_OK;
}

struct tpl_tx {
    uint64_t                        id;   /* 0: create */
    const char                     *name;
    const char                     *desc;
    const char                     *lists[5];
    unsigned                        max_days;
    const struct store_audit_event *ev;
    uint64_t                        out_id;
};

static enum cw_err
tpl_body(struct store *db, void *arg)
{
    struct tpl_tx           *t = arg;
    struct store_param       p[9];
    uint64_t                 n = 0;
    enum cw_err              err;

    p[0] = SP_STR(t->name);
    p[1] = SP_STR(t->desc);
    for (int i = 0; i < 2; i++)
        p[2 + i] = SP_STR(t->lists[i]);
    p[4] = SP_U64(t->max_days);
    for (int i = 2; i < 5; i++)
        p[3 + i] = SP_STR(t->lists[i]);
    if (t->id == 0) {
        p[8] = SP_STR(t->ev->username ? t->ev->username : "");
        err = store_exec(db, sql_insert, p, 9, NULL, &t->out_id);
    } else {
        p[8] = SP_U64(t->id);
        err = store_exec(db, sql_update, p, 9, &n, NULL);
        if (err == CW_OK && n == 0)
            err = CW_E_NOTFOUND;
        t->out_id = t->id;
    }
    if (err != CW_OK)
        return err;
    return ca_audit(db, t->ev,
                    t->id ? "template.update" : "template.create",
                    "template", t->out_id, "{}");
}

enum cw_err
ca_template_put(struct store *db, struct arena *a, uint64_t id, json_t *body,
                const struct store_audit_event *ev, uint64_t *out_id,
                struct ca_why *why)
{
    const char *ku_names[PKI_KU__MAX];
    const char *san_names[PKI_SAN__MAX];
    const char *key_names[PKI_KEY__MAX];
    struct tpl_tx t;
    const char *name = json_string_value(json_object_get(body, "name"));
    enum cw_err err;

    for (int b = 0; b < PKI_KU__MAX; b++)
        ku_names[b] = pki_ku_name(b);
    for (int s = 0; s < PKI_SAN__MAX; s++)
        san_names[s] = pki_san_type_name(s);
    for (int k = 0; k < PKI_KEY__MAX; k++)
        key_names[k] = pki_key_type_name(k);
    memset(&t, 0, sizeof(t));
    if (name == NULL || name[0] == '\0' || strlen(name) > 64 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
            strlen(name)) {
        ca_why_set(why, "name", "name must be 1-64 lower-case letters, "
                                "digits, - or _");
        return CW_E_BADREQ;
    }
    if (ca_template_find(name) != NULL) {
        ca_why_set(why, "name", "%s is a built-in template", name);
        return CW_E_CONFLICT;
    }
    err = list_check(a, json_object_get(body, "key_usage"), "key_usage",
                     ku_names, PKI_KU__MAX, 0, &t.lists[0], why);
    if (err == CW_OK)
        err = list_check(a, json_object_get(body, "extended_key_usage"),
                         "extended_key_usage", eku_names,
                         sizeof(eku_names) / sizeof(eku_names[0]), 1,
                         &t.lists[1], why);
    if (err == CW_OK)
        err = list_check(a, json_object_get(body, "allowed_san_types"),
                         "allowed_san_types", san_names, PKI_SAN__MAX, 0,
                         &t.lists[2], why);
    if (err == CW_OK)
        err = list_check(a, json_object_get(body, "key_types"), "key_types",
                         key_names, PKI_KEY__MAX, 0, &t.lists[3], why);
    if (err == CW_OK)
        err = list_check(a, json_object_get(body, "subject_fields"),
                         "subject_fields", subject_attrs,
                         sizeof(subject_attrs) / sizeof(subject_attrs[0]), 0,
                         &t.lists[4], why);
    if (err != CW_OK)
        return err;
    t.id = id;
    t.name = name;
    t.desc = json_string_value(json_object_get(body, "description"));
    if (t.desc == NULL)
        t.desc = "";
    t.max_days = (unsigned)json_integer_value(
        json_object_get(body, "max_validity_days"));
    t.ev = ev;
    err = store_tx(db, tpl_body, &t);
    if (err == CW_E_CONFLICT)
        ca_why_set(why, "name", "a template named %s exists", name);
    if (err == CW_OK)
        *out_id = t.out_id;
    return err;
}

struct tpl_del_tx {
    uint64_t                        id;
    const struct store_audit_event *ev;
};

static enum cw_err
tpl_del_body(struct store *db, void *arg)
{
    struct tpl_del_tx       *t = arg;
    struct store_param       p[1];
    uint64_t                 n = 0;
    enum cw_err              err;

    p[0] = SP_U64(t->id);
    err = store_exec(db, sql_delete, p, 1, &n, NULL);
    if (err != CW_OK)
        return err;
    if (n == 0)
        return CW_E_NOTFOUND;
    return ca_audit(db, t->ev, "template.delete", "template", t->id, "{}");
}

enum cw_err
ca_template_delete(struct store *db, uint64_t id,
                   const struct store_audit_event *ev)
{
    struct tpl_del_tx t = { id, ev };

    return store_tx(db, tpl_del_body, &t);
}

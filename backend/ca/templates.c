/*
 * templates.c: the built-in certificate templates. A template fixes the
 * key usage (0: the default for the key type, RFC 5280 4.2.1.3), the
 * extended key usage, the longest validity and which SAN types a request
 * may carry.
 */
#include "config.h"

#include <string.h>

#include "ca/ca.h"
#include "pki/cert.h"
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
      SAN_HOST | SAN(PKI_SAN_URI), 0, 0 },
    { "client", "TLS client (users, devices)", 0, eku_client, 1, LEAF_MAX_DAYS,
      SAN_ALL, 0, 0 },
    { "server-client", "TLS server and client", 0, eku_both, 2, LEAF_MAX_DAYS,
      SAN_ALL, 0, 0 },
    { "email", "S/MIME email protection",
      PKI_KU(PKI_KU_DIGITAL_SIGNATURE) | PKI_KU(PKI_KU_NON_REPUDIATION),
      eku_email, 1, LEAF_MAX_DAYS, SAN(PKI_SAN_EMAIL) | SAN(PKI_SAN_UPN), 0, 0 },
    { "code-signing", "Code signing", PKI_KU(PKI_KU_DIGITAL_SIGNATURE),
      eku_code, 1, LEAF_MAX_DAYS, SAN(PKI_SAN_EMAIL) | SAN(PKI_SAN_URI), 0, 0 },
    { "ocsp-signing", "Delegated OCSP responder",
      PKI_KU(PKI_KU_DIGITAL_SIGNATURE), eku_ocsp, 1, 365,
      SAN(PKI_SAN_DNS) | SAN(PKI_SAN_URI), 0, 1 },
    { "sub-ca", "Subordinate CA (use POST /api/v2/cas)", 0, NULL, 0,
      CA_MAX_DAYS, 0, 1, 0 },
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

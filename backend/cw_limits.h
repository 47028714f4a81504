/*
 * cw_limits.h: every size and count cap certward applies to input, in one
 * file so that a reviewer can see the whole attack surface's bounds at
 * once. Units are bytes unless a name says otherwise. (Not "limits.h":
 * backend/ is on the include path, and system headers that include
 * <limits.h> must find the C library's.)
 */
#ifndef CW_LIMITS_H
#define CW_LIMITS_H

/* HTTP and FastCGI */
#define LIM_PATH            2048    /* request path (from REQUEST_URI)      */
#define LIM_QUERY           4096    /* QUERY_STRING                          */
#define LIM_PATH_PARAMS     8       /* {param} captures per route            */
#define LIM_PATH_SEGMENTS   32      /* segments in a routed path             */
#define LIM_HEADER_VALUE    8192    /* one header value we look at           */
#define LIM_XFF_HOPS        16      /* X-Forwarded-For entries we walk       */
#define LIM_BODY_JSON_SMALL (16u * 1024)   /* login, small settings bodies  */
#define LIM_BODY_JSON       (64u * 1024)   /* ordinary REST JSON bodies     */
#define LIM_BODY_MAX        (2u * 1024 * 1024) /* no route takes more      */
#define LIM_BODY_CHAIN      (256u * 1024)  /* a PEM certificate chain    */
#define LIM_RESP_BODY       (256u * 1024 * 1024) /* a buffered response: the */
                                                 /* largest CRL we serve      */
#define LIM_RESP_HEADERS    16      /* extra response headers                */
#define LIM_REQUEST_ID      32      /* request id characters                 */

/* JSON */
#define LIM_JSON_DEPTH      32      /* nesting we accept in REST bodies      */
#define LIM_JSON_STRING     4096    /* a generic JSON string field           */
#define LIM_USERNAME        64
#define LIM_EMAIL           254     /* RFC 5321 path limit                   */
#define LIM_PASSWORD        128

/* Configuration */
#define LIM_CONF_FILE       (256u * 1024)
#define LIM_CONF_LINE       4096
#define LIM_CONF_VALUE      1024
#define LIM_SECRET_FILE     4096
#define LIM_TRUSTED_PROXIES 64      /* CIDR entries in trusted_proxies       */

/* Storage */
#define LIM_SQL_STMTS       64      /* cached prepared statements per conn   */
#define LIM_MIGRATION_STMTS 512     /* statements in one migration file      */
#define LIM_TX_RETRIES      5       /* store_tx attempts on deadlock/cert.   */
#define LIM_LIST_COUNT      1000    /* list totals are exact up to this      */

/* Cron */
#define LIM_JOB_NAME        64

/* PKI objects (backend/pki). DER caps stay far below LONG_MAX. */
#define LIM_KEY_PEM         (64u * 1024)   /* a private key, PEM            */
#define LIM_KEY_DER         (16u * 1024)   /* a private key, DER/PKCS#8     */
#define LIM_RSA_BITS_MIN    2048    /* smallest RSA modulus accepted         */
#define LIM_RSA_BITS_MAX    8192    /* largest RSA modulus accepted          */
#define LIM_CSR_PEM         (64u * 1024)
#define LIM_CSR_DER         (32u * 1024)
#define LIM_CERT_PEM        (64u * 1024)
#define LIM_CERT_DER        (32u * 1024)
#define LIM_CHAIN_PEM       (512u * 1024)  /* a PEM bundle                  */
#define LIM_CHAIN_CERTS     16      /* certificates in a bundle/P7B/P12      */
#define LIM_P7B             (512u * 1024)
#define LIM_P7B_PEM         (768u * 1024)  /* base64 of LIM_P7B, lines  */
#define LIM_P12             (512u * 1024)
#define LIM_SANS            100     /* subjectAltName entries                */
#define LIM_SAN_VALUE       1024    /* one SAN value (DNS, email, UPN)       */
#define LIM_URI             2048    /* a URI SAN, CDP or AIA URL             */
#define LIM_DNS_NAME        253     /* RFC 1035 presentation length          */
#define LIM_EKUS            16      /* extendedKeyUsage entries              */
#define LIM_NAME_CONSTRAINTS 64     /* permitted + excluded subtrees each    */
#define LIM_NAME_STRING     255     /* longest subject attribute (email)     */

/* Tools (api/tools.c) */
#define LIM_BODY_DECODE     (512u * 1024)  /* POST /tools/decode body        */
#define LIM_DECODE_INPUT    (256u * 1024)  /* its "data": PEM or base64 DER  */
#define LIM_CRL_ENTRIES_SHOWN 10000 /* revoked entries a decoded CRL lists   */

/* CA import: base64 of a PKCS#12 (LIM_P12) in JSON, with room to spare */
#define LIM_BODY_IMPORT     (1536u * 1024)

/* Revocation services (protocols/ocsp, protocols/crl, ca/crl.c) */
#define LIM_OCSP_REQ        (16u * 1024)   /* an OCSP request, DER (POST)   */
#define LIM_OCSP_CERTIDS    32      /* CertIDs in one OCSP request           */
#define LIM_OCSP_NONCE      128     /* nonce octets (RFC 9654: 1..128)       */
#define LIM_OCSP_RESP       (32u * 1024)   /* one signed OCSP response      */
#define LIM_CRL_UPLOAD      (1024u * 1024) /* an uploaded CRL (offline CAs)  */
#define LIM_CRL_ENTRIES     3000000 /* revoked entries one CRL may list (at  */
                                    /* most ~85 octets each: under LIM_CRL_DER) */
#define LIM_CRL_DER         (256u * 1024 * 1024) /* one CRL, DER           */

#endif /* CW_LIMITS_H */

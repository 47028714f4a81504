/*
 * protocols.h: the route tables of the public PKI protocols. Their
 * answers are in each protocol's own format (an OCSP error response, a
 * CRL, a certificate), never problem+json, except where HTTP itself
 * refuses (404 for an unknown CA, 405, 413, 415).
 */
#ifndef CW_PROTOCOLS_H
#define CW_PROTOCOLS_H

#include "http/http.h"

extern const struct http_route_table proto_ocsp_table;
extern const struct http_route_table proto_crl_table;

#endif

"""The same requests behind nginx, lighttpd and Apache (mod_proxy_fcgi).

The first group talks to the session's certward through each web server. The
second group puts the FastCGI echo responder (tests/lib/fcgi_echo.py) behind
each server to check exactly what the server passes on: the request URI,
client address, forwarded headers, the body, and the TLS client certificate.
"""

import shutil
import urllib.parse

import pytest
import requests

import expect
import stack
from httpc import raw_request

KINDS = ["nginx", "lighttpd", "apache"]
BINARIES = {"nginx": "nginx", "lighttpd": "lighttpd", "apache": "apache2"}
LOGIN = "/api/v2/auth/login"
PROTOCOL_PATHS = ["/api/health", "/acme/directory", "/scep?operation=GetCACaps",
                  "/.well-known/est/cacerts", "/ocsp", "/cdp/no-such-ca.crl",
                  "/ca/no-such-ca.cer"]
STATIC_PATHS = ["/static.txt", "/assets/app.js", "/scepx", "/apix", "/ocspx/y"]


def _need(kind):
    if shutil.which(BINARIES[kind]) is None:
        pytest.skip(f"{BINARIES[kind]} is not installed")


@pytest.fixture(scope="module", params=KINDS)
def web(request, session_stack, used_session):
    _need(request.param)
    server = stack.WEB_SERVERS[request.param](session_stack.cw.socket, stack.make_docroot())
    used_session.parts.append(server)
    server.start()
    yield server
    server.stop()


# ---------------------------------------------------------------------------
# certward behind each server

def test_health(web):
    r = requests.get(web.url + "/api/health", timeout=10)
    assert r.status_code == 200, expect.describe(r)
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    doc = r.json()
    assert doc["status"] == "ok" and doc["database"] == "ok", doc
    assert r.headers.get("X-Request-Id")


def test_request_id_passes_through(web):
    ids = [requests.get(web.url + "/api/health", timeout=10).headers.get("X-Request-Id")
           for _ in range(10)]
    assert all(ids), ids
    assert len(set(ids)) == len(ids), ids


def test_404_and_405_are_problems(web):
    expect.problem(requests.get(web.url + "/api/v2/does-not-exist", timeout=10), 404)
    r = requests.get(web.url + LOGIN, timeout=10)
    expect.problem(r, 405)
    assert "POST" in [m.strip() for m in r.headers.get("Allow", "").split(",")], r.headers


def test_oversized_body_413(web):
    body = b'{"username": "' + b"a" * 20000 + b'", "password": "x"}'
    r = requests.post(web.url + LOGIN, data=body, headers={"Content-Type": "application/json"},
                      timeout=15)
    expect.problem(r, 413)


def test_huge_announced_body_does_not_hang(web):
    req = (b"POST " + LOGIN.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
           b"Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{\"user")
    r = raw_request(stack.LOOPBACK, web.port, req, timeout=10)
    assert r.status == 413, r
    assert r.elapsed < 5, f"413 took {r.elapsed:.1f}s"


def test_login_body_reaches_certward(web):
    r = requests.post(web.url + LOGIN, json={"username": "nobody-here", "password": "wrong pw"},
                      timeout=15)
    expect.problem(r, 401)
    r = requests.post(web.url + LOGIN, data=b'{"username": "x", ',
                      headers={"Content-Type": "application/json"}, timeout=15)
    expect.problem(r, 400, code="malformed_json")


def test_static_files(web):
    r = requests.get(web.url + "/static.txt", timeout=10)
    assert r.status_code == 200 and r.text == "certward static file\n", expect.describe(r)
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "X-Request-Id" not in r.headers, "static file went through certward"
    r = requests.get(web.url + "/", timeout=10)
    assert r.status_code == 200 and "certward static index" in r.text, expect.describe(r)
    assert "X-Request-Id" not in r.headers


@pytest.mark.parametrize("path", PROTOCOL_PATHS)
def test_protocol_paths_reach_certward(web, path):
    r = requests.get(web.url + path, timeout=10)
    assert r.headers.get("X-Request-Id"), f"{path} did not reach certward: {expect.describe(r)}"
    expect.not_5xx(r, path)


@pytest.mark.parametrize("xff", [
    "203.0.113.7",
    "203.0.113.7, 198.51.100.2",
    "2001:db8::1",
    "garbage, , ::::, 999.999.999.999",
    ", ".join(f"10.0.{i // 250}.{i % 250}" for i in range(300)),
    "",
], ids=["one", "two", "ipv6", "garbage", "300-hops", "empty"])
def test_forwarded_for_does_not_break(web, xff):
    r = requests.get(web.url + "/api/health", headers={"X-Forwarded-For": xff}, timeout=10)
    assert r.status_code == 200, expect.describe(r)
    r = requests.post(web.url + LOGIN, json={"username": "nobody-here", "password": "wrong"},
                      headers={"X-Forwarded-For": xff}, timeout=15)
    expect.problem(r, 401)


# ---------------------------------------------------------------------------
# what each server passes to FastCGI (echo responder)

@pytest.fixture(scope="module")
def echo(used_session):
    e = stack.FcgiEcho().start()
    used_session.parts.append(e)
    yield e
    e.stop()


@pytest.fixture(scope="module")
def tls():
    return stack.TlsMaterial()


@pytest.fixture(scope="module", params=KINDS)
def echo_web(request, echo, tls, used_session):
    kind = request.param
    _need(kind)
    use_tls = tls if kind != "lighttpd" or stack.Lighttpd.tls_available() else None
    server = stack.WEB_SERVERS[kind](echo.socket, stack.make_docroot(), tls=use_tls)
    used_session.parts.append(server)
    server.start()
    yield server
    server.stop()


def _echo(r):
    assert r.status_code == 200, expect.describe(r)
    assert r.headers["Content-Type"] == "application/json", expect.describe(r)
    return r.json()


def test_params_request_line_and_client(echo_web):
    r = requests.get(echo_web.url + "/api/v2/a%20b/c%2Fd?q=a%2Fb&r=1",
                     headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
    p = _echo(r)["params"]
    assert p["REQUEST_URI"] == "/api/v2/a%20b/c%2Fd?q=a%2Fb&r=1", p
    assert p["QUERY_STRING"] == "q=a%2Fb&r=1", p
    assert p["REQUEST_METHOD"] == "GET", p
    assert p["REMOTE_ADDR"] == "127.0.0.1", p
    assert p["HTTP_X_FORWARDED_FOR"] == "203.0.113.9", p
    assert p.get("HTTPS", "off") in ("", "off"), p


def test_params_body_streamed(echo_web):
    body = b"x" * 300000
    r = requests.post(echo_web.url + "/acme/new-order", data=body,
                      headers={"Content-Type": "application/jose+json"}, timeout=15)
    doc = _echo(r)
    assert doc["stdin_length"] == len(body), doc
    assert doc["params"]["CONTENT_LENGTH"] == str(len(body)), doc["params"]
    assert doc["params"]["CONTENT_TYPE"] == "application/jose+json", doc["params"]


def test_params_ocsp_get_path_kept(echo_web):
    # base64 in an OCSP GET path may hold "//" and "%2B"; REQUEST_URI must keep both
    path = "/ocsp/MEow//SDBGMEQw%2BjAJBgUrDgMCGgUA"
    p = _echo(requests.get(echo_web.url + path, timeout=10))["params"]
    assert p["REQUEST_URI"] == path, p


def test_routing_split(echo_web):
    for path in PROTOCOL_PATHS:
        r = requests.get(echo_web.url + path, timeout=10)
        assert r.headers.get("Content-Type") == "application/json", f"{path} not proxied"
    for path in STATIC_PATHS:
        r = requests.get(echo_web.url + path, timeout=10)
        assert r.status_code == 200, (path, r.status_code)
        assert r.headers.get("Content-Type") != "application/json", f"{path} was proxied"


def test_params_tls_client_certificate(echo_web, tls):
    if echo_web.tls is None:
        pytest.skip("lighttpd TLS needs mod_openssl (package lighttpd-mod-openssl)")
    client = (str(tls.client_cert), str(tls.client_key))
    p = _echo(requests.get(echo_web.tls_url + "/.well-known/est/simplereenroll", cert=client,
                           verify=str(tls.ca_cert), timeout=10))["params"]
    assert p.get("HTTPS") == "on", p
    assert p.get("SSL_CLIENT_VERIFY") == "SUCCESS", p
    pem = urllib.parse.unquote(p["SSL_CLIENT_CERT"])
    assert "".join(pem.split()) == "".join(tls.client_pem_text.split()), p["SSL_CLIENT_CERT"]

    p = _echo(requests.get(echo_web.tls_url + "/.well-known/est/simpleenroll",
                           verify=str(tls.ca_cert), timeout=10))["params"]
    assert p.get("HTTPS") == "on", p
    assert not p.get("SSL_CLIENT_CERT"), p
    assert p.get("SSL_CLIENT_VERIFY", "NONE") == "NONE", p


@pytest.fixture(scope="module")
def ocsp_case(session_stack):
    """A CA, a certificate of it and an OCSP request for it (SHA-1 and
    SHA-256 CertIDs: their base64 differ, so '/' and '+' are likely)."""
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    import identity as idn
    import pki_helpers as pk

    admin = idn.session_admin(session_stack)
    ca = pk.create_ca(admin, name=pk.unique_name("Web OCSP CA"))
    leaf = pk.issue(admin, ca["id"], cn="web-ocsp.example.com")
    reqs = []
    for algo in (hashes.SHA1(), hashes.SHA256()):
        der = ocsp.OCSPRequestBuilder().add_certificate(
            pk.cert(leaf["pem"]), pk.cert(ca["pem"]), algo).build() \
            .public_bytes(serialization.Encoding.DER)
        reqs.append((der, base64.b64encode(der).decode()))
    return {"ca": ca, "reqs": reqs}


def test_ocsp_and_crl_through_each_server(web, ocsp_case):
    """RFC 6960 GET with the base64 percent-encoded and raw, POST, the CRL
    and the AIA file: the same answers behind every server."""
    from cryptography import x509
    from cryptography.x509 import ocsp

    for der, b64 in ocsp_case["reqs"]:
        for path in ("/ocsp/" + urllib.parse.quote(b64, safe=""), "/ocsp/" + b64):
            r = requests.get(web.url + path, timeout=20)
            assert r.status_code == 200, (path, expect.describe(r))
            resp = ocsp.load_der_ocsp_response(r.content)
            assert resp.certificate_status == ocsp.OCSPCertStatus.GOOD, path
            assert "max-age=" in r.headers.get("Cache-Control", "")
        r = requests.post(web.url + "/ocsp", data=der, timeout=20,
                          headers={"Content-Type": "application/ocsp-request"})
        assert r.status_code == 200
        assert ocsp.load_der_ocsp_response(r.content).certificate_status == \
            ocsp.OCSPCertStatus.GOOD
    slug = ocsp_case["ca"]["slug"]
    r = requests.get(f"{web.url}/cdp/{slug}.crl", timeout=20)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pkix-crl"
    x509.load_der_x509_crl(r.content)
    r = requests.get(f"{web.url}/ca/{slug}.cer", timeout=20)
    assert r.status_code == 200
    x509.load_der_x509_certificate(r.content)

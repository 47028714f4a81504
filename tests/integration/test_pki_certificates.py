"""PKI: certificates (/api/v2/certificates): issuance with server-generated
keys and from CSRs (PEM, base64 DER, subject-less), the leaf profile of
every template and key type, SAN encodings (UPN as Microsoft's otherName),
validity limits, refusals that store nothing, search and filters over the
whole table, revocation, export formats and the PKCS#12 export with its
permission and audit row.

Every certificate is checked with python-cryptography, `openssl verify`
and GnuTLS `certtool`. Runs on the session stack.
"""

import base64
import datetime
import ipaddress
import secrets

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

import expect
import identity as idn
import pki_helpers as pk
from identity import API

CERTS = API + "/certificates"
SERVER = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT = ExtendedKeyUsageOID.CLIENT_AUTH


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


@pytest.fixture(scope="module")
def viewer(admin):
    return idn.login_new(admin, role="viewer", prefix="pkicv")


@pytest.fixture(scope="module")
def operator(admin):
    return idn.login_new(admin, role="operator", prefix="pkico")


@pytest.fixture(scope="module")
def chain(admin):
    """An RSA root and a P-256 issuing CA under it."""
    root = pk.create_ca(admin, name=pk.unique_name("Cert Root"), key=pk.KEY_SPECS["rsa2048"],
                        path_length=1, validity_days=3650)
    inter = pk.create_ca(admin, name=pk.unique_name("Cert Issuing"), type="intermediate",
                         parent_id=root["id"], key=pk.KEY_SPECS["p256"], path_length=0,
                         validity_days=1825)
    return {"root": root, "inter": inter, "root_cert": pk.cert(root["pem"]),
            "inter_cert": pk.cert(inter["pem"])}


@pytest.fixture(scope="module")
def templates(admin):
    return {t["name"]: t for t in idn.data(admin.get(API + "/templates"))}


def _verify(chain, pem, purpose=None):
    pk.assert_chain_valid(chain["root"]["pem"], pem, [chain["inter"]["pem"]], purpose=purpose)


def _check_issued(d, chain, eku=None, purpose=None):
    """The common checks of a certificate issued by the chain's issuing CA;
    returns the parsed certificate."""
    c = pk.cert(d["pem"])
    pk.check_leaf_profile(c, chain["inter_cert"], eku)
    pk.check_leaf_key_usage(c)
    pk.check_urls(c, chain["inter"]["slug"])
    assert pk.sn(d["serial"]) == c.serial_number, (d["serial"], c.serial_number)
    assert d["fingerprint_sha256"].lower().replace(":", "") == pk.fingerprint(c), d
    assert d["status"] == "valid" and d["ca_id"] == chain["inter"]["id"], d
    assert abs((pk.parse_time(d["not_after"]) - pk.utc(c, "not_valid_after"))
               .total_seconds()) <= 1, d
    assert "PRIVATE KEY" not in str(d), "a private key in the response"
    _verify(chain, d["pem"], purpose)
    return c


def _refused(client, cw, body, status, code=None, field=None):
    """POST /certificates that must be refused without storing anything."""
    before = pk.counts(cw)
    r = pk.post_raw(client, CERTS, body)
    expect.not_5xx(r, str(body)[:200])
    what = str(body)[:300]
    if isinstance(status, tuple):
        assert r.status_code in status, f"{what}: {idn.describe(r)}"
        status = r.status_code
    try:
        doc = expect.problem(r, status, code)
    except AssertionError as e:
        raise AssertionError(f"request {what}: {e}") from None
    if field is not None:
        assert doc.get("field") == field or str(doc.get("field", "")).startswith(field), \
            f"problem should name {field}: {doc}"
    assert pk.counts(cw) == before, "a refused request stored something"
    return doc


# --------------------------------------------------------------------------
# server-generated keys, every key type


LEAF_KEYS = ["rsa2048", "p256", "p384", "ed25519"]


@pytest.mark.parametrize("kind", LEAF_KEYS)
def test_server_leaf_with_generated_key(admin, chain, kind):
    spec = pk.KEY_SPECS[kind]
    cn = f"{kind}-{secrets.token_hex(3)}.example.com"
    d = pk.issue(admin, chain["inter"]["id"], cn=cn, key=spec,
                 sans=[{"type": "dns", "value": cn}, {"type": "ip", "value": "192.0.2.7"},
                       {"type": "ip", "value": "2001:db8::7"}],
                 validity_days=90)
    c = _check_issued(d, chain, [SERVER], purpose="serverAuth")
    pk.assert_public_key(c, spec)
    assert d["has_private_key"] is True, d
    assert d["template"] == "server" and d["key_type"], d
    assert pk.cn_of(c) == cn and d["subject"]["CN"] == cn, d
    assert pk.sans_of(c) == [{"type": "dns", "value": cn}, {"type": "ip", "value": "192.0.2.7"},
                             {"type": "ip", "value": "2001:db8::7"}], pk.sans_of(c)
    assert {(s["type"], s["value"]) for s in d["sans"]} == \
        {("dns", cn), ("ip", "192.0.2.7"), ("ip", "2001:db8::7")}, d["sans"]
    days = (pk.utc(c, "not_valid_after") - pk.utc(c, "not_valid_before")).total_seconds()
    assert abs(days / 86400 - 90) <= 1, days / 86400
    assert c.signature_hash_algorithm is None or \
        c.signature_hash_algorithm.name in ("sha256", "sha384", "sha512")
    got = idn.data(admin.get(f"{CERTS}/{d['id']}"))
    assert got["pem"].strip() == d["pem"].strip() and got["serial"] == d["serial"], got
    assert "PRIVATE KEY" not in str(got)
    # certtool checks the hostname as well
    res = pk.certtool_verify(chain["root"]["pem"], d["pem"], [chain["inter"]["pem"]],
                             hostname=cn)
    for x in res:
        assert x.returncode == 0, x.stdout[-2000:]


@pytest.mark.parametrize("kind", LEAF_KEYS)
def test_root_and_leaf_of_the_same_key_type(admin, kind):
    """A root of each key type signs a leaf of that key type directly."""
    spec = pk.KEY_SPECS[kind]
    root = pk.create_ca(admin, name=pk.unique_name(f"Direct {kind}"), key=spec,
                        validity_days=365)
    cn = f"direct-{kind}.example.com"
    d = pk.issue(admin, root["id"], cn=cn, key=spec, validity_days=30)
    c = pk.cert(d["pem"])
    r = pk.cert(root["pem"])
    pk.check_leaf_profile(c, r, [SERVER])
    pk.check_leaf_key_usage(c)
    pk.check_urls(c, root["slug"])
    pk.assert_public_key(c, spec)
    pk.assert_chain_valid(root["pem"], d["pem"], purpose="serverAuth")
    if kind == "ed25519":
        assert c.signature_algorithm_oid.dotted_string == "1.3.101.112"
    elif kind == "rsa2048":
        assert c.signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.RSA_WITH_SHA256
    elif kind == "p384":
        assert c.signature_hash_algorithm.name in ("sha384", "sha512"), c.signature_hash_algorithm


# --------------------------------------------------------------------------
# CSRs


@pytest.mark.parametrize("kind,form", [("rsa2048", "pem"), ("p256", "pem"), ("p384", "der"),
                                       ("ed25519", "pem"), ("rsa3072", "der")])
def test_issue_from_csr(admin, chain, cw, kind, form):
    key = pk.gen_key(kind)
    cn = f"csr-{kind}-{secrets.token_hex(3)}.example.com"
    csr = pk.make_csr(key, cn, [x509.DNSName(cn)], der=(form == "der"))
    if form == "der":
        csr = base64.b64encode(csr).decode()
    d = pk.issue(admin, chain["inter"]["id"], cn=None, csr=csr, validity_days=30,
                 sans=[{"type": "dns", "value": cn}])
    c = _check_issued(d, chain, [SERVER], purpose="serverAuth")
    assert d["has_private_key"] is False, d
    assert c.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo) == \
        key.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    assert pk.cn_of(c) == cn
    assert {"type": "dns", "value": cn} in pk.sans_of(c)
    # no p12 for a key the server never had
    before = pk.counts(cw)
    r = admin.post(f"{CERTS}/{d['id']}/export", json={"format": "p12", "password": "Pw-1234567"})
    expect.problem(r, 409)
    assert pk.counts(cw) == before


@pytest.mark.parametrize("how", ["csr", "key", "many-names"])
def test_issue_answer_equals_the_stored_certificate(admin, chain, cw, how):
    """The 201 answer is rendered from what was just stored, without reading
    it back: it must be the document GET returns, member for member."""
    cn = f"answer-{secrets.token_hex(3)}.example.com"
    if how == "csr":
        key = pk.gen_key("p256")
        d = pk.issue(admin, chain["inter"]["id"], cn=None, validity_days=30,
                     csr=pk.make_csr(key, cn, [x509.DNSName(cn)]))
    elif how == "key":
        d = pk.issue(admin, chain["inter"]["id"], cn=cn, validity_days=30,
                     subject={"CN": cn, "O": "Answer Org", "C": "DE"})
    else:
        # 11 names: batches of 8, 2 and 1 name rows.
        sans = [{"type": "dns", "value": f"n{i}-{cn}"} for i in range(10)]
        d = pk.issue(admin, chain["inter"]["id"], cn=cn, validity_days=30, sans=sans)
        names = cw.sql(f"SELECT name, HEX(name_rev) FROM certificate_names "
                       f"WHERE cert_id = {d['id']} ORDER BY id")
        want = [cn.lower()] + [s["value"] for s in sans]
        assert [n for n, _ in names] == want, names
        assert all(bytes.fromhex(r).decode() == n[::-1] for n, r in names), names
    got = idn.data(admin.get(f"{CERTS}/{d['id']}"))
    assert list(d) == list(got), (list(d), list(got))
    assert d == got, {k: (d[k], got.get(k)) for k in d if d[k] != got.get(k)}
    assert cw.scalar(f"SELECT status FROM certificates WHERE id = {d['id']}") == "valid"


def test_subjectless_csr_takes_cn_from_first_san(admin, chain):
    key = pk.gen_key("p256")
    csr = pk.make_csr(key, None, [x509.DNSName("first.example.net"),
                                  x509.DNSName("second.example.net")])
    d = pk.issue(admin, chain["inter"]["id"], cn=None, csr=csr, validity_days=30)
    c = _check_issued(d, chain, [SERVER], purpose="serverAuth")
    assert pk.cn_of(c) == "first.example.net", c.subject
    assert [s["value"] for s in pk.sans_of(c)] == ["first.example.net", "second.example.net"]
    assert d["subject"].get("CN") == "first.example.net", d


def test_csr_sans_are_used_when_the_request_has_none(admin, chain):
    key = pk.gen_key("p256")
    csr = pk.make_csr(key, "csrsans.example.net", [x509.DNSName("csrsans.example.net"),
                                                   x509.DNSName("alt.example.net")])
    d = pk.issue(admin, chain["inter"]["id"], cn=None, csr=csr, validity_days=30, sans=None,
                 template="client")
    c = pk.cert(d["pem"])
    assert pk.cn_of(c) == "csrsans.example.net"


# --------------------------------------------------------------------------
# templates, SAN encodings


def test_client_certificate_with_upn_and_email(admin, chain):
    upn = f"jdoe-{secrets.token_hex(2)}@corp.example.com"
    d = pk.issue(admin, chain["inter"]["id"], template="client", cn="John Doe",
                 sans=[{"type": "upn", "value": upn},
                       {"type": "email", "value": "john.doe@example.com"}],
                 key=pk.KEY_SPECS["rsa2048"], validity_days=365)
    c = _check_issued(d, chain, [CLIENT], purpose="clientAuth")
    san = pk.ext(c, x509.SubjectAlternativeName).value
    others = san.get_values_for_type(x509.OtherName)
    assert [o.type_id for o in others] == [pk.UPN_OID], others
    assert pk.decode_utf8string(others[0].value) == upn
    assert san.get_values_for_type(x509.RFC822Name) == ["john.doe@example.com"]
    eku = list(pk.ext(c, x509.ExtendedKeyUsage).value)
    assert SERVER not in eku, eku
    assert {"type": "upn", "value": upn} in d["sans"], d["sans"]
    # openssl can print the otherName too
    res = pk.openssl("x509", "-noout", "-ext", "subjectAltName", input=d["pem"].encode())
    assert res.returncode == 0 and b"1.3.6.1.4.1.311.20.2.3" in res.stdout + res.stderr \
        or b"UPN" in res.stdout or b"othername" in res.stdout.lower(), res.stdout


TEMPLATE_EKU = [
    ("server", [SERVER], "server-t.example.com",
     [{"type": "dns", "value": "server-t.example.com"}]),
    ("client", [CLIENT], "client-t", [{"type": "email", "value": "client-t@example.com"}]),
    ("server-client", [SERVER, CLIENT], "sc-t.example.com",
     [{"type": "dns", "value": "sc-t.example.com"}]),
    ("email", [ExtendedKeyUsageOID.EMAIL_PROTECTION], "Mail User",
     [{"type": "email", "value": "mail.user@example.com"}]),
    ("code-signing", [ExtendedKeyUsageOID.CODE_SIGNING], "Code Signer", []),
    ("ocsp-signing", [ExtendedKeyUsageOID.OCSP_SIGNING], "OCSP Responder", []),
]


@pytest.mark.parametrize("name,eku,cn,sans", TEMPLATE_EKU, ids=[t[0] for t in TEMPLATE_EKU])
def test_template_profiles(admin, chain, templates, name, eku, cn, sans):
    allowed = set(templates[name]["allowed_san_types"])
    sans = [s for s in sans if s["type"] in allowed]
    d = pk.issue(admin, chain["inter"]["id"], template=name, cn=cn, sans=sans,
                 validity_days=min(90, templates[name]["max_validity_days"]))
    c = _check_issued(d, chain, eku)
    assert d["template"] == name
    got = list(pk.ext(c, x509.ExtendedKeyUsage).value)
    assert set(got) == set(eku), (name, got)
    r = pk.openssl_verify(chain["root"]["pem"], d["pem"], [chain["inter"]["pem"]])
    assert r.returncode == 0, r.stdout + r.stderr
    if name == "code-signing":
        assert pk.ext(c, x509.KeyUsage).value.digital_signature


def test_ocsp_signing_template_has_nocheck(admin, chain):
    """Delegated OCSP responder certificates carry id-pkix-ocsp-nocheck
    (DESIGN.md section 6)."""
    d = pk.issue(admin, chain["inter"]["id"], template="ocsp-signing", cn="OCSP Responder",
                 sans=[], validity_days=30)
    c = pk.cert(d["pem"])
    assert list(pk.ext(c, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.OCSP_SIGNING]
    oids = [e.oid.dotted_string for e in c.extensions]
    assert "1.3.6.1.5.5.7.48.1.5" in oids, f"no id-pkix-ocsp-nocheck in {oids}"


def test_sub_ca_template_is_not_for_leaves_or_makes_a_ca(admin, chain, cw):
    """The sub-ca template issues CA certificates only through POST /cas, or a
    CA:TRUE certificate within the parent's path length (0 here: refused)."""
    before = pk.counts(cw)
    r = admin.post(CERTS, json={"ca_id": chain["inter"]["id"], "template": "sub-ca",
                                "subject": {"CN": "Sneaky Sub CA"},
                                "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30})
    expect.not_5xx(r)
    if r.status_code == 201:
        c = pk.cert(r.json()["data"]["pem"])
        raise AssertionError(f"CA:TRUE issued under pathlen 0: "
                             f"{pk.ext(c, x509.BasicConstraints)}")
    expect.problem(r, r.status_code)
    assert r.status_code in (400, 409, 422)
    assert pk.counts(cw) == before


def test_san_types_outside_the_template_are_refused(admin, chain, templates, cw):
    samples = {"dns": "x.example.com", "ip": "192.0.2.1", "email": "a@example.com",
               "uri": "https://example.com/x", "upn": "a@corp.example.com"}
    tried = 0
    for name in ("server", "client", "email", "code-signing"):
        allowed = set(templates[name]["allowed_san_types"])
        for t, v in samples.items():
            if t in allowed:
                continue
            tried += 1
            _refused(admin, cw, {"ca_id": chain["inter"]["id"], "template": name,
                                 "subject": {"CN": "refused-san"},
                                 "sans": [{"type": t, "value": v}],
                                 "key": {"type": "ec", "curve": "P-256"},
                                 "validity_days": 30}, 400, field="sans")
    assert tried > 0, "every template allows every SAN type?"


def test_uri_and_ipv6_encodings(admin, chain, templates):
    allowed = set(templates["server-client"]["allowed_san_types"]) | set()
    sans = [{"type": "dns", "value": "enc.example.com"},
            {"type": "ip", "value": "2001:db8::1"}]
    if "uri" in allowed:
        sans.append({"type": "uri", "value": "spiffe://example.com/ns/default/sa/web"})
    d = pk.issue(admin, chain["inter"]["id"], template="server-client", cn="enc.example.com",
                 sans=sans, validity_days=30)
    c = pk.cert(d["pem"])
    got = pk.ext(c, x509.SubjectAlternativeName).value
    assert got.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("2001:db8::1")]
    if "uri" in allowed:
        assert got.get_values_for_type(x509.UniformResourceIdentifier) == \
            ["spiffe://example.com/ns/default/sa/web"]
    _verify(chain, d["pem"], "serverAuth")


def test_dns_names_are_stored_lower_case(admin, chain):
    d = pk.issue(admin, chain["inter"]["id"], cn="MiXeD.Example.COM",
                 sans=[{"type": "dns", "value": "MiXeD.Example.COM"}], validity_days=30)
    c = pk.cert(d["pem"])
    assert pk.ext(c, x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == \
        ["mixed.example.com"]


def test_wildcard_dns_name(admin, chain):
    d = pk.issue(admin, chain["inter"]["id"], cn="*.wild.example.com",
                 sans=[{"type": "dns", "value": "*.wild.example.com"}], validity_days=30)
    c = _check_issued(d, chain, [SERVER], purpose="serverAuth")
    assert pk.ext(c, x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == \
        ["*.wild.example.com"]


# --------------------------------------------------------------------------
# validity


def test_leaf_validity_limits(admin, cw):
    root = pk.create_ca(admin, validity_days=4000)
    d = pk.issue(admin, root["id"], cn="ten.example.com", template="client", sans=[],
                 validity_days=3650)
    c = pk.cert(d["pem"])
    days = (pk.utc(c, "not_valid_after") - pk.utc(c, "not_valid_before")).total_seconds()
    assert abs(days / 86400 - 3650) <= 1, days / 86400
    pk.assert_chain_valid(root["pem"], d["pem"])
    for bad in (3651, 0, -1, 10 ** 12):
        _refused(admin, cw, {"ca_id": root["id"], "template": "client",
                             "subject": {"CN": "bad validity"},
                             "key": {"type": "ec", "curve": "P-256"},
                             "validity_days": bad}, 400, field="validity_days")


def test_leaf_never_outlives_its_ca(admin, cw):
    short = pk.create_ca(admin, validity_days=30)
    ca_end = pk.utc(pk.cert(short["pem"]), "not_valid_after")
    before = pk.counts(cw)
    r = admin.post(CERTS, json={"ca_id": short["id"], "template": "server",
                                "subject": {"CN": "past.example.com"},
                                "sans": [{"type": "dns", "value": "past.example.com"}],
                                "key": {"type": "ec", "curve": "P-256"},
                                "validity_days": 90})
    expect.not_5xx(r)
    if r.status_code == 201:
        c = pk.cert(r.json()["data"]["pem"])
        assert pk.utc(c, "not_valid_after") <= ca_end, "leaf outlives its CA"
    else:
        doc = expect.problem(r, 400)
        assert doc.get("field") == "validity_days", doc
        assert pk.counts(cw) == before


# --------------------------------------------------------------------------
# refusals that store nothing


def _flip_signature(csr_pem):
    der = bytearray(pk.pem_to_der(csr_pem))
    der[-3] ^= 0x01
    return pk.der_to_pem(bytes(der))


def test_bad_csrs_are_refused(admin, chain, cw):
    ca = chain["inter"]["id"]
    good_key = pk.gen_key("p256")
    good = pk.make_csr(good_key, "csr.example.com", [x509.DNSName("csr.example.com")])
    cases = {
        "bad signature": _flip_signature(good),
        "trailing bytes (DER)": base64.b64encode(pk.pem_to_der(good) + b"\x00").decode(),
        "trailing bytes (PEM)": pk.der_to_pem(pk.pem_to_der(good) + b"\x05\x00"),
        "RSA 1024": pk.make_csr(rsa.generate_private_key(65537, 1024), "weak.example.com",
                                [x509.DNSName("weak.example.com")]),
        "P-192": pk.make_csr(pk.gen_key("p192"), "p192.example.com",
                             [x509.DNSName("p192.example.com")]),
        "secp256k1": pk.make_csr(pk.gen_key("secp256k1"), "k1.example.com",
                                 [x509.DNSName("k1.example.com")]),
        "not a CSR": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE "
                     "REQUEST-----\n",
        "a certificate": chain["inter"]["pem"],
        "base64 junk": "!!!not base64!!!",
        "empty": "",
        "truncated DER": base64.b64encode(pk.pem_to_der(good)[:-10]).decode(),
    }
    for what, csr in cases.items():
        doc = _refused(admin, cw, {"ca_id": ca, "template": "server", "csr": csr,
                                   "sans": [{"type": "dns", "value": "csr.example.com"}],
                                   "validity_days": 30}, 400)
        assert doc["code"] in ("bad_csr", "bad_request"), (what, doc)


def test_csr_and_key_together_are_refused(admin, chain, cw):
    csr = pk.make_csr(pk.gen_key("p256"), "both.example.com", [x509.DNSName("both.example.com")])
    _refused(admin, cw, {"ca_id": chain["inter"]["id"], "template": "server", "csr": csr,
                         "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30}, 400)


def test_neither_csr_nor_key_is_refused(admin, chain, cw):
    _refused(admin, cw, {"ca_id": chain["inter"]["id"], "template": "server",
                         "subject": {"CN": "neither.example.com"},
                         "sans": [{"type": "dns", "value": "neither.example.com"}],
                         "validity_days": 30}, 400)


def test_bad_sans_are_refused(admin, chain, cw):
    ca = chain["inter"]["id"]

    def body(sans, cn="san.example.com"):
        return {"ca_id": ca, "template": "server", "subject": {"CN": cn}, "sans": sans,
                "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30}

    dns = lambda v: {"type": "dns", "value": v}  # noqa: E731
    for bad in ("-bad.example.com", "bad-.example.com", "a..example.com", "exa mple.com",
                "x" * 64 + ".example.com", ("a" * 60 + ".") * 5 + "com", "example.com.",
                "*.*.example.com", "www.*.example.com", "*", "ex_ample.com", "", "exämple.com",
                "a\u0001b.example.com", "foo.example.com/x", "*.com"):
        _refused(admin, cw, body([dns(bad)]), 400, field="sans")
    # a NUL may already be refused by the JSON parser
    doc = _refused(admin, cw, body([dns("a\u0000b.example.com")]), 400)
    assert doc["code"] == "malformed_json" or str(doc.get("field", "")).startswith("sans"), doc
    _refused(admin, cw, body([dns("dup.example.com"), dns("dup.example.com")]), 400,
             field="sans")
    _refused(admin, cw, body([dns("Dup2.example.com"), dns("dup2.example.com")]), 400,
             field="sans")
    _refused(admin, cw, body([{"type": "ip", "value": "300.1.1.1"}]), 400, field="sans")
    _refused(admin, cw, body([{"type": "ip", "value": "10.0.0.0/8"}]), 400, field="sans")
    _refused(admin, cw, body([{"type": "dnsname", "value": "x.example.com"}]), 400,
             field="sans")
    _refused(admin, cw, body([{"type": "dns"}]), 400, field="sans")
    _refused(admin, cw, body([{"type": "dns", "value": 5}]), 400, field="sans")
    _refused(admin, cw, body([dns("x.example.com") | {"extra": 1}]), 400, field="sans")
    _refused(admin, cw, body("x.example.com"), 400, field="sans")
    _refused(admin, cw, body([dns(f"h{i}.example.com") for i in range(101)]), 400,
             field="sans")
    # 10,000 SANs: more than the body cap (413) or refused as too many (400)
    _refused(admin, cw, body([dns(f"h{i}.example.com") for i in range(10000)]), (400, 413))


def test_no_name_at_all_is_refused(admin, chain, cw):
    _refused(admin, cw, {"ca_id": chain["inter"]["id"], "template": "server", "subject": {},
                         "sans": [], "key": {"type": "ec", "curve": "P-256"},
                         "validity_days": 30}, 400)


def test_unknown_ca_template_and_key_are_refused(admin, chain, cw):
    base = {"ca_id": chain["inter"]["id"], "template": "server",
            "subject": {"CN": "u.example.com"}, "sans": [{"type": "dns", "value": "u.example.com"}],
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30}
    doc = _refused(admin, cw, dict(base, ca_id=987654321), (400, 404))
    if doc["status"] == 400:
        assert doc.get("field") == "ca_id", doc
    _refused(admin, cw, dict(base, template="nope"), (400, 404), field="template")
    for key in ({"type": "rsa", "bits": 1024}, {"type": "rsa", "bits": 2047},
                {"type": "rsa", "bits": 100000}, {"type": "ec", "curve": "P-192"},
                {"type": "ec", "curve": "secp256k1"}, {"type": "dsa"},
                {"type": "ed448x"}, {"curve": "P-256"}, {"type": "rsa", "bits": "2048"}, "ec",
                {"type": "ec", "curve": "P-256", "extra": True}):
        _refused(admin, cw, dict(base, key=key), 400, field="key")


def test_serials_are_distinct_positive_lower_case_hex(admin, chain):
    """Two certificates never share a serial under one CA."""
    serials = {pk.issue(admin, chain["inter"]["id"], cn=f"s{i}.example.com",
                        validity_days=7)["serial"] for i in range(5)}
    assert len(serials) == 5
    for s in serials:
        assert len(s) <= 40 and s == s.lower() and int(s, 16) > 0, s


# --------------------------------------------------------------------------
# search and filters


@pytest.fixture(scope="module")
def searchable(admin, chain):
    """Seven certificates sharing a token: five server (one of them expiring in
    3 days), two client; one server certificate revoked later by a test."""
    token = "srch" + secrets.token_hex(4)
    made = []
    for i in range(5):
        made.append(pk.issue(admin, chain["inter"]["id"], cn=f"{token}-{i}.example.com",
                             sans=[{"type": "dns", "value": f"{token}-{i}.example.com"},
                                   {"type": "dns", "value": f"alt{i}-{token}.example.org"},
                                   {"type": "dns", "value": f"san{i}x{token}.example.net"}],
                             validity_days=3 if i == 0 else 200))
    other = pk.create_ca(admin, name=pk.unique_name("Search Other"), validity_days=365)
    for i in range(2):
        made.append(pk.issue(admin, other["id"], template="client", cn=f"{token}-client-{i}",
                             sans=[], validity_days=100))
    return {"token": token, "made": made, "other": other}


def _ids(client, **params):
    r = client.get(CERTS, params=params)
    assert r.status_code == 200, idn.describe(r)
    doc = r.json()
    return [x["id"] for x in doc["data"]], doc["meta"]


def test_search_over_the_whole_table(admin, chain, searchable):
    token, made = searchable["token"], searchable["made"]
    ids = {d["id"] for d in made}
    got, meta = _ids(admin, q=token, per_page=200)
    assert set(got) == ids and meta["total"] == 7, (got, meta)
    # paging: total is over every matching row, pages are disjoint
    seen = []
    for page in (1, 2, 3, 4):
        got, meta = _ids(admin, q=token, per_page=2, page=page)
        assert meta["total"] == 7 and meta["page"] == page and meta["per_page"] == 2, meta
        seen += got
    assert sorted(seen) == sorted(ids), seen
    # a SAN only (not the CN): without and with a hyphen
    got, meta = _ids(admin, q=f"san3x{token}.example.net")
    assert got == [made[3]["id"]] and meta["total"] == 1, (got, meta)
    got, meta = _ids(admin, q=f"alt3-{token}.example.org")
    assert got == [made[3]["id"]] and meta["total"] == 1, (got, meta)
    # the serial, and a fingerprint prefix
    got, _ = _ids(admin, q=made[2]["serial"])
    assert got == [made[2]["id"]], got
    fp = made[4]["fingerprint_sha256"].lower().replace(":", "")
    got, _ = _ids(admin, q=fp[:16])
    assert got == [made[4]["id"]], got
    # every listed row has the public fields and no key
    r = admin.get(CERTS, params={"q": token})
    for x in r.json()["data"]:
        for key in ("id", "serial", "status", "not_after", "ca_id", "template"):
            assert key in x, (key, x)
    assert "PRIVATE" not in r.text


def test_filters(admin, chain, searchable, viewer, cw):
    token, made = searchable["token"], searchable["made"]
    got, meta = _ids(admin, q=token, ca=searchable["other"]["id"])
    assert set(got) == {made[5]["id"], made[6]["id"]} and meta["total"] == 2, (got, meta)
    got, meta = _ids(admin, q=token, template="client")
    assert set(got) == {made[5]["id"], made[6]["id"]}, got
    got, meta = _ids(admin, q=token, template="server", ca=chain["inter"]["id"])
    assert meta["total"] == 5, meta
    soon = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=10))
    got, meta = _ids(admin, q=token, expires_before=soon.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert got == [made[0]["id"]], (got, meta)
    got, meta = _ids(admin, q=token, status="valid")
    assert meta["total"] == 7, meta
    got, meta = _ids(admin, q=token, status="expired")
    assert meta["total"] == 0, meta
    idn.data(admin.post(f"{CERTS}/{made[1]['id']}/revoke", json={"reason": "superseded"}))
    got, meta = _ids(admin, q=token, status="revoked")
    assert got == [made[1]["id"]] and meta["total"] == 1, (got, meta)
    got, meta = _ids(admin, q=token, status="valid")
    assert meta["total"] == 6 and made[1]["id"] not in got, meta
    # viewers read the same
    got, meta = _ids(viewer, q=token)
    assert meta["total"] == 7
    # expired: by the stored notAfter (moved into the past for one row)
    cw.sql(f"UPDATE certificates SET not_after = '2020-01-01 00:00:00' "
           f"WHERE id = {made[6]['id']}")
    got, meta = _ids(admin, q=token, status="expired")
    assert got == [made[6]["id"]] and meta["total"] == 1, (got, meta)
    got, meta = _ids(admin, q=token, status="valid")
    assert meta["total"] == 5 and made[6]["id"] not in got, (got, meta)
    got, meta = _ids(admin, q=token, expires_before="2021-01-01T00:00:00Z")
    assert got == [made[6]["id"]], got
    for params, field in (({"status": "bogus"}, "status"), ({"per_page": 201}, "per_page"),
                          ({"per_page": 0}, "per_page"), ({"page": 0}, "page"),
                          ({"expires_before": "tomorrow"}, "expires_before"),
                          ({"ca": "abc"}, "ca"), ({"q": "q" * 300}, "q")):
        doc = expect.problem(admin.get(CERTS, params=params), 400)
        assert doc.get("field") == field, (params, doc)
    _, meta = _ids(admin, per_page=200)
    assert meta["per_page"] == 200 and meta["total"] >= 7


# --------------------------------------------------------------------------
# revocation


def test_revoke(admin, chain, cw):
    d = pk.issue(admin, chain["inter"]["id"], cn="revoke.example.com", validity_days=30)
    r = admin.post(f"{CERTS}/{d['id']}/revoke",
                   json={"reason": "keyCompromise", "invalidity_date": "2026-01-02T03:04:05Z"})
    got = idn.data(r)
    assert got["status"] == "revoked", got
    again = idn.data(admin.get(f"{CERTS}/{d['id']}"))
    assert again["status"] == "revoked", again
    row = cw.sql(f"SELECT status, revocation_reason, invalidity_date FROM certificates "
                 f"WHERE id = {d['id']}")[0]
    assert row[0] == "revoked" and row[1] == "keyCompromise", row
    assert row[2] and row[2].startswith("2026-01-02 03:04:05"), row
    doc = expect.problem(admin.post(f"{CERTS}/{d['id']}/revoke",
                                    json={"reason": "superseded"}), 409)
    assert cw.scalar(f"SELECT revocation_reason FROM certificates WHERE id = {d['id']}") == \
        "keyCompromise", doc
    audit = idn.audit_rows(admin, action="certificate.revoke")
    assert str(d["id"]) in [str(x.get("resource_id")) for x in audit], audit[:3]


@pytest.mark.parametrize("reason", pk.REASONS)
def test_every_reason_name(admin, chain, reason):
    d = pk.issue(admin, chain["inter"]["id"], cn=f"{reason.lower()}.example.com",
                 validity_days=7)
    got = idn.data(admin.post(f"{CERTS}/{d['id']}/revoke", json={"reason": reason}))
    assert got["status"] == "revoked"


def test_revoke_refusals(admin, chain, operator, viewer, cw):
    d = pk.issue(admin, chain["inter"]["id"], cn="norevoke.example.com", validity_days=30)
    path = f"{CERTS}/{d['id']}/revoke"
    for body, field in (({"reason": "compromised"}, "reason"), ({"reason": ""}, "reason"),
                        ({"reason": 1}, "reason"), ({"reason": "removeFromCRL"}, "reason"),
                        ({"reason": "KEYCOMPROMISE"}, "reason"),
                        ({"reason": "keyCompromise", "invalidity_date": "yesterday"},
                         "invalidity_date"),
                        ({"reason": "keyCompromise", "invalidity_date": 5},
                         "invalidity_date"),
                        ({"reason": "keyCompromise", "extra": 1}, "extra")):
        doc = expect.problem(admin.post(path, json=body), 400)
        assert doc.get("field") == field, (body, doc)
    expect.problem(viewer.post(path, json={"reason": "keyCompromise"}), 403)
    expect.problem(admin.post(f"{CERTS}/987654321/revoke", json={"reason": "superseded"}),
                   404)
    assert cw.scalar(f"SELECT status FROM certificates WHERE id = {d['id']}") == "valid"
    got = idn.data(operator.post(path, json={"reason": "cessationOfOperation"}))
    assert got["status"] == "revoked"


# --------------------------------------------------------------------------
# export


def test_export_formats(admin, chain):
    d = pk.issue(admin, chain["inter"]["id"], cn="export.example.com", validity_days=30)
    url = f"{CERTS}/{d['id']}/export"
    r = admin.get(url, params={"format": "pem"})
    assert r.status_code == 200, idn.describe(r)
    assert r.headers["Content-Type"].split(";")[0] == "application/x-pem-file"
    assert [c.serial_number for c in pk.pem_certs(r.text)] == [pk.sn(d["serial"])]
    assert "PRIVATE" not in r.text
    r = admin.get(url, params={"format": "der"})
    assert r.headers["Content-Type"].split(";")[0] == "application/pkix-cert"
    assert x509.load_der_x509_certificate(r.content) == pk.cert(d["pem"])
    r = admin.get(url, params={"format": "chain"})
    assert r.status_code == 200
    assert [c.serial_number for c in pk.pem_certs(r.text)] == \
        [pk.sn(x["serial"]) for x in (d, chain["inter"], chain["root"])]
    r = admin.get(url, params={"format": "p7b"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == "application/pkcs7-mime"
    got = {c.serial_number for c in pkcs7.load_der_pkcs7_certificates(r.content)}
    assert got == {pk.sn(x["serial"]) for x in (d, chain["inter"], chain["root"])}
    for bad in ("p12", "xml", ""):
        doc = expect.problem(admin.get(url, params={"format": bad}), 400)
        assert doc.get("field") == "format", doc
    expect.problem(admin.get(f"{CERTS}/987654321/export", params={"format": "pem"}), 404)
    expect.problem(admin.get(f"{CERTS}/987654321"), 404)


def test_export_of_an_unreadable_stored_certificate(admin, chain, cw):
    """A row whose DER cannot be read (damaged, or written by hand in SQL)
    answers 409 with a reason on every export path, never 5xx; the row
    still shows and lists."""
    d = pk.issue(admin, chain["inter"]["id"], cn="damaged.example.com", validity_days=30)
    other = pk.issue(admin, chain["inter"]["id"], cn="intact.example.com", validity_days=30)
    good = cw.sql(f"SELECT HEX(der) FROM certificates WHERE id = {d['id']}")[0][0]
    try:
        _unreadable_exports(admin, cw, d, other)
    finally:
        # The session's database is shared: later tests export every row.
        cw.sql(f"UPDATE certificates SET der = UNHEX('{good}') WHERE id = {d['id']}")
    r = admin.get(f"{CERTS}/{d['id']}/export", params={"format": "chain"})
    assert r.status_code == 200, idn.describe(r)


def _unreadable_exports(admin, cw, d, other):
    for der in ("''", "UNHEX('3082')", "UNHEX('300300')"):
        cw.sql(f"UPDATE certificates SET der = {der} WHERE id = {d['id']}")
        for fmt in ("pem", "der", "chain", "p7b"):
            doc = expect.problem(admin.get(f"{CERTS}/{d['id']}/export",
                                           params={"format": fmt}), 409)
            assert "cannot be read" in doc["detail"], doc
        doc = expect.problem(admin.post(f"{CERTS}/{d['id']}/export",
                                        json={"format": "p12", "password": P12_PASSWORD}), 409)
        assert "cannot be read" in doc["detail"], doc
        doc = expect.problem(admin.post(CERTS + "/bulk/export",
                                        json={"ids": [other["id"], d["id"]]}), 409)
        assert doc.get("field") == "ids" and str(d["id"]) in doc["detail"], doc
        r = admin.get(f"{CERTS}/{d['id']}")
        assert r.status_code == 200, idn.describe(r)
        r = admin.get(CERTS, params={"q": "damaged.example.com"})
        assert r.status_code == 200 and d["id"] in [x["id"] for x in idn.data(r)], idn.describe(r)
    r = admin.get(f"{CERTS}/{other['id']}/export", params={"format": "pem"})
    assert r.status_code == 200, idn.describe(r)


P12_PASSWORD = "Exp0rt-pass-phrase"


def _p12(client, cert_id, password=P12_PASSWORD):
    r = client.post(f"{CERTS}/{cert_id}/export", json={"format": "p12", "password": password})
    return r


def test_pkcs12_export(admin, chain, tmp_path):
    d = pk.issue(admin, chain["inter"]["id"], cn="p12.example.com",
                 key=pk.KEY_SPECS["p256"], validity_days=30)
    r = _p12(admin, d["id"])
    assert r.status_code == 200, idn.describe(r)
    assert r.headers["Content-Type"].split(";")[0] == "application/x-pkcs12", r.headers
    assert b"PRIVATE KEY" not in r.content
    f = tmp_path / "x.p12"
    f.write_bytes(r.content)
    res = pk.openssl("pkcs12", "-in", f, "-passin", f"pass:{P12_PASSWORD}", "-nodes")
    assert res.returncode == 0, res.stderr
    assert b"BEGIN PRIVATE KEY" in res.stdout and b"BEGIN CERTIFICATE" in res.stdout
    info = pk.openssl("pkcs12", "-info", "-in", f, "-passin", f"pass:{P12_PASSWORD}", "-noout")
    text = (info.stdout + info.stderr).decode()
    assert info.returncode == 0, text
    # the key bag and the certificates' encrypted data both PBES2/PBKDF2
    # (HMAC-SHA256) with AES-256-CBC; the MAC SHA-256
    assert "MAC: sha256" in text, text
    bags = [line for line in text.splitlines()
            if line.startswith(("Shrouded Keybag:", "PKCS7 Encrypted data:"))]
    assert any(b.startswith("Shrouded Keybag:") for b in bags), text
    for b in bags:
        for want in ("PBES2", "PBKDF2", "AES-256-CBC", "hmacWithSHA256"):
            assert want in b, (want, b)
    assert "RC2" not in text and "3DES" not in text and "pbeWithSHA1" not in text, text
    wrong = pk.openssl("pkcs12", "-in", f, "-passin", "pass:wrong", "-nodes")
    assert wrong.returncode != 0
    key, c, extra = pkcs12.load_key_and_certificates(r.content, P12_PASSWORD.encode())
    assert c == pk.cert(d["pem"])
    assert key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == \
        c.public_key().public_bytes(serialization.Encoding.DER,
                                    serialization.PublicFormat.SubjectPublicKeyInfo)
    # the chain travels along
    assert {x.serial_number for x in extra} <= {pk.sn(chain["inter"]["serial"]),
                                                 pk.sn(chain["root"]["serial"])}
    # the key signs what the certificate verifies
    sig = key.sign(b"hello", ec.ECDSA(hashes.SHA256()))
    c.public_key().verify(sig, b"hello", ec.ECDSA(hashes.SHA256()))
    rows = idn.audit_rows(admin, action="certificate.export")
    assert str(d["id"]) in [str(x.get("resource_id")) for x in rows], rows[:3]
    assert P12_PASSWORD not in str(rows)


@pytest.mark.parametrize("kind", ["rsa2048", "ed25519"])
def test_pkcs12_export_of_other_key_types(admin, chain, kind, tmp_path):
    d = pk.issue(admin, chain["inter"]["id"], cn=f"p12-{kind}.example.com",
                 key=pk.KEY_SPECS[kind], validity_days=30)
    r = _p12(admin, d["id"])
    assert r.status_code == 200, idn.describe(r)
    key, c, _ = pkcs12.load_key_and_certificates(r.content, P12_PASSWORD.encode())
    assert pk.key_kind(key.public_key()) == pk.KEY_SPECS[kind]["type"]
    f = tmp_path / "k.p12"
    f.write_bytes(r.content)
    res = pk.openssl("pkcs12", "-in", f, "-passin", f"pass:{P12_PASSWORD}", "-nodes")
    assert res.returncode == 0, res.stderr


def test_pkcs12_export_permissions_and_refusals(admin, chain, operator, viewer, cw):
    d = pk.issue(admin, chain["inter"]["id"], cn="p12deny.example.com", validity_days=30)
    ok_exports = ("SELECT COUNT(*) FROM audit_log WHERE action = 'certificate.export' "
                  "AND outcome = 'success'")
    audits = int(cw.scalar(ok_exports))
    expect.problem(_p12(operator, d["id"]), 403)
    expect.problem(_p12(viewer, d["id"]), 403)
    for body, field in (({"format": "p12"}, "password"),
                        ({"format": "p12", "password": ""}, "password"),
                        ({"format": "p12", "password": 5}, "password"),
                        ({"format": "p12", "password": "x" * 5000}, "password"),
                        ({"format": "pfx", "password": "Abcdefgh1!"}, "format"),
                        ({"format": "p12", "password": "Abcdefgh1!", "extra": 1}, "extra")):
        doc = expect.problem(admin.post(f"{CERTS}/{d['id']}/export", json=body), 400)
        assert doc.get("field") == field, (body, doc)
    expect.problem(_p12(admin, 987654321), 404)
    assert int(cw.scalar(ok_exports)) == audits


# --------------------------------------------------------------------------
# permissions


def test_certificate_permissions(admin, chain, operator, viewer, base_url, cw):
    body = {"ca_id": chain["inter"]["id"], "template": "server",
            "subject": {"CN": "perm.example.com"},
            "sans": [{"type": "dns", "value": "perm.example.com"}],
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30}
    before = pk.counts(cw)
    expect.problem(viewer.post(CERTS, json=body), 403)
    expect.problem(idn.Client(base_url).post(CERTS, json=body), 401)
    expect.problem(idn.Client(base_url).get(CERTS), 401)
    assert pk.counts(cw) == before
    # the session cookie without the CSRF token changes nothing
    expect.problem(operator.post(CERTS, json=body, csrf=False), 403)
    assert pk.counts(cw) == before
    d = idn.data(operator.post(CERTS, json=body), 201)
    assert idn.data(viewer.get(f"{CERTS}/{d['id']}"))["id"] == d["id"]
    expect.problem(operator.post(f"{CERTS}/{d['id']}/revoke", json={"reason": "superseded"},
                                 csrf=False), 403)
    expect.problem(admin.post(f"{CERTS}/{d['id']}/export",
                              json={"format": "p12", "password": P12_PASSWORD},
                              csrf=False), 403)
    assert cw.scalar(f"SELECT status FROM certificates WHERE id = {d['id']}") == "valid"
    rows = idn.audit_rows(admin, action="certificate.issue")
    assert str(d["id"]) in [str(x.get("resource_id")) for x in rows], rows[:3]


def test_responses_never_carry_private_keys(admin, chain):
    d = pk.issue(admin, chain["inter"]["id"], cn="nokey.example.com",
                 key=pk.KEY_SPECS["rsa2048"], validity_days=30)
    texts = [admin.post(CERTS, json={
        "ca_id": chain["inter"]["id"], "template": "server",
        "subject": {"CN": "nokey2.example.com"},
        "sans": [{"type": "dns", "value": "nokey2.example.com"}],
        "key": {"type": "rsa", "bits": 2048}, "validity_days": 30}).text]
    for path in (f"{CERTS}/{d['id']}", CERTS, f"{API}/cas/{chain['inter']['id']}", API + "/cas",
                 f"{CERTS}/{d['id']}/export?format=chain"):
        texts.append(admin.get(path).text)
    for t in texts:
        assert "PRIVATE KEY" not in t and "key_wrapped" not in t, t[:300]




# --------------------------------------------------------------------------
# more profile and policy checks


def test_mixed_key_types_along_the_chain(admin):
    """RSA root -> Ed25519 issuing CA -> P-384 and RSA leaves."""
    top = pk.create_ca(admin, key=pk.KEY_SPECS["rsa2048"], path_length=1, validity_days=365)
    mid = pk.create_ca(admin, type="intermediate", parent_id=top["id"],
                       key=pk.KEY_SPECS["ed25519"], path_length=0, validity_days=300)
    for kind in ("p384", "rsa2048", "p521"):
        d = pk.issue(admin, mid["id"], cn=f"mixed-{kind}.example.com", key=pk.KEY_SPECS[kind],
                     validity_days=30)
        c = pk.cert(d["pem"])
        pk.check_leaf_profile(c, pk.cert(mid["pem"]), [SERVER])
        pk.check_leaf_key_usage(c)
        pk.check_urls(c, mid["slug"])
        pk.assert_public_key(c, pk.KEY_SPECS[kind])
        assert c.signature_algorithm_oid.dotted_string == "1.3.101.112"
        pk.assert_chain_valid(top["pem"], d["pem"], [mid["pem"]], purpose="serverAuth")


def test_csr_extensions_do_not_make_a_ca(admin, chain):
    """Only the SANs of a CSR are used: a CSR asking for CA:TRUE, keyCertSign
    and anyExtendedKeyUsage gets the template's leaf profile."""
    key = pk.gen_key("p256")
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME,
                                                       "sneaky.example.com")]))
           .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
           .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                        False), critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
                                                 ExtendedKeyUsageOID.CODE_SIGNING]),
                          critical=False)
           .add_extension(x509.SubjectAlternativeName([x509.DNSName("sneaky.example.com")]),
                          critical=False)
           .sign(key, hashes.SHA256()))
    pem = csr.public_bytes(serialization.Encoding.PEM).decode()
    d = pk.issue(admin, chain["inter"]["id"], cn=None, csr=pem, validity_days=30,
                 sans=[{"type": "dns", "value": "sneaky.example.com"}])
    c = _check_issued(d, chain, [SERVER], purpose="serverAuth")
    assert pk.ext(c, x509.BasicConstraints).value.ca is False
    ku = pk.ext(c, x509.KeyUsage).value
    assert not ku.key_cert_sign and not ku.crl_sign, ku
    assert list(pk.ext(c, x509.ExtendedKeyUsage).value) == [SERVER]


def test_subject_values_are_not_parsed_as_dn_syntax(admin, chain):
    cn = "Evil, O=Injected\\, Inc/CN=admin+OU=x"
    d = pk.issue(admin, chain["inter"]["id"], template="client", cn=cn, sans=[],
                 validity_days=30)
    c = pk.cert(d["pem"])
    attrs = [(a.oid.dotted_string, a.value) for a in c.subject]
    assert attrs == [("2.5.4.3", cn)], attrs
    d = pk.issue(admin, chain["inter"]["id"], template="client", cn="Jürgen Müßig ✓",
                 sans=[], validity_days=30)
    c = pk.cert(d["pem"])
    assert pk.cn_of(c) == "Jürgen Müßig ✓"
    _verify(chain, d["pem"], "clientAuth")


def test_template_max_validity_is_enforced(admin, templates, cw):
    root = pk.create_ca(admin, validity_days=5000)
    samples = {"server": [{"type": "dns", "value": "max.example.com"}],
               "client": [], "server-client": [{"type": "dns", "value": "max.example.com"}],
               "email": [{"type": "email", "value": "max@example.com"}],
               "code-signing": [], "ocsp-signing": []}
    for name, sans in samples.items():
        limit = templates[name]["max_validity_days"]
        assert limit <= 3650, (name, limit)
        sans = [s for s in sans if s["type"] in templates[name]["allowed_san_types"]]
        d = pk.issue(admin, root["id"], template=name, cn="max.example.com", sans=sans,
                     validity_days=limit)
        c = pk.cert(d["pem"])
        days = (pk.utc(c, "not_valid_after") - pk.utc(c, "not_valid_before")).total_seconds()
        assert days / 86400 <= limit + 1, (name, days / 86400, limit)
        _refused(admin, cw, {"ca_id": root["id"], "template": name,
                             "subject": {"CN": "max.example.com"}, "sans": sans,
                             "key": {"type": "ec", "curve": "P-256"},
                             "validity_days": limit + 1}, 400, field="validity_days")


def test_parallel_issuance_from_one_ca(admin, chain):
    clients = []
    for _ in range(12):
        c = idn.Client(admin.base)
        c.login(admin.username, admin.password)
        clients.append(c)

    def one(i):
        return clients[i].post(CERTS, json={
            "ca_id": chain["inter"]["id"], "template": "server",
            "subject": {"CN": f"par{i}.example.com"},
            "sans": [{"type": "dns", "value": f"par{i}.example.com"}],
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 7})

    results = idn.parallel(one, 12)
    for r in results:
        assert not isinstance(r, Exception), r
        assert r.status_code == 201, idn.describe(r)
    serials = [r.json()["data"]["serial"] for r in results]
    assert len(set(serials)) == len(serials), serials
    for r in results[:3]:
        _verify(chain, r.json()["data"]["pem"], "serverAuth")


def test_bearer_api_key_issues_and_revokes(admin, chain, base_url):
    key = idn.data(admin.post(API + "/account/api-keys", json={
        "name": "pki-certs", "scopes": ["read:certificates", "write:certificates",
                                        "revoke:certificates"]}), 201)
    c = idn.bearer(base_url, key["token"])
    d = pk.issue(c, chain["inter"]["id"], cn="bearer.example.com", validity_days=7)
    _verify(chain, d["pem"], "serverAuth")
    assert idn.data(c.post(f"{CERTS}/{d['id']}/revoke",
                           json={"reason": "superseded"}))["status"] == "revoked"
    # no export:private_keys scope: no PKCS#12
    expect.problem(c.post(f"{CERTS}/{d['id']}/export",
                          json={"format": "p12", "password": P12_PASSWORD}), 403)


def test_viewer_reads_and_exports_public_parts(admin, chain, viewer):
    d = pk.issue(admin, chain["inter"]["id"], cn="viewer-read.example.com", validity_days=7)
    r = viewer.get(f"{CERTS}/{d['id']}/export", params={"format": "chain"})
    assert r.status_code == 200, idn.describe(r)
    assert len(pk.pem_certs(r.text)) == 3
    r = viewer.get(f"{API}/cas/{chain['inter']['id']}/export", params={"format": "p7b"})
    assert r.status_code == 200, idn.describe(r)
    expect.problem(viewer.post(f"{CERTS}/{d['id']}/revoke", json={"reason": "superseded"}),
                   403)


def test_search_wildcards_are_literal(admin, searchable):
    """LIKE and full-text operators in q are plain characters: no issued name
    contains them, so they match nothing (or are refused)."""
    token = searchable["token"]
    for q in ("%", "_", "%%", "_%_", token[:6] + "%", token[:6] + "_", token + "*"):
        r = admin.get(CERTS, params={"q": q})
        expect.not_5xx(r, q)
        if r.status_code == 400:
            expect.problem(r, 400)
            continue
        assert r.status_code == 200, idn.describe(r)
        assert r.json()["meta"]["total"] == 0, (q, r.json()["meta"], r.json()["data"][:2])
    # a page past the end is empty, with the same total
    got, meta = _ids(admin, q=token, per_page=5, page=99)
    assert got == [] and meta["total"] == 7, meta


def test_subject_attributes_over_their_upper_bounds(admin, chain, cw):
    """RFC 5280 upper bounds: CN and O 64 characters, C two letters. Longer
    values are refused up front, not half-way through signing."""
    base = {"ca_id": chain["inter"]["id"], "template": "client",
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30}
    d = pk.issue(admin, chain["inter"]["id"], template="client", sans=[],
                 subject={"CN": "c" * 64, "O": "o" * 64, "C": "DE"}, validity_days=30)
    assert pk.cn_of(pk.cert(d["pem"])) == "c" * 64
    for subject in ({"CN": "c" * 65}, {"CN": "x", "O": "o" * 65}, {"CN": "x", "OU": "u" * 65},
                    {"CN": "x", "C": "D"}, {"CN": "x", "C": "12"}, {"CN": "x", "L": "l" * 129},
                    {"CN": "x", "ST": "s" * 129}):
        _refused(admin, cw, dict(base, subject=subject), 400, field="subject")


def test_csr_sans_outside_the_template(admin, chain, templates, cw):
    """A CSR's SANs are held to the template like the request's."""
    # The built-in code-signing template allows email and URI names only.
    assert "dns" not in set(templates["code-signing"]["allowed_san_types"])
    key = pk.gen_key("p256")
    csr = pk.make_csr(key, "Code Signer", [x509.DNSName("www.example.com")])
    before = pk.counts(cw)
    r = admin.post(CERTS, json={"ca_id": chain["inter"]["id"], "template": "code-signing",
                                "csr": csr, "validity_days": 30})
    expect.not_5xx(r)
    if r.status_code == 201:
        c = pk.cert(r.json()["data"]["pem"])
        assert x509.DNSName("www.example.com") not in (
            pk.ext(c, x509.SubjectAlternativeName).value
            if pk.ext(c, x509.SubjectAlternativeName) else []), "template bypassed by a CSR"
    else:
        expect.problem(r, 400)
        assert pk.counts(cw) == before

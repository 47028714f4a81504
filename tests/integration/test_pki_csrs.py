"""PKI: requests kept for review (/api/v2/csrs): upload (PEM and base64 DER),
generation with a server-side key that stays wrapped, the decoded view,
listing with paging and filters, signing with a CA and template (a
generated key moves to the certificate and can be exported as PKCS#12),
rejection, deletion, permissions, audit rows, and bad input on every route
that is refused without storing anything.

Certificates are checked with python-cryptography and `openssl verify`.
Runs on the session stack; the exact list totals on a private stack.
"""

import base64
import json
import secrets

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import expect
import identity as idn
import pki_helpers as pk
from identity import API

CSRS = API + "/csrs"
CERTS = API + "/certificates"
TABLES = ("csrs", "certificates")
SERVER = ExtendedKeyUsageOID.SERVER_AUTH
P12_PASSWORD = "Csr-Export-1234!"
KEY_TYPES = {"rsa2048": "rsa2048", "p256": "ec-p256", "p384": "ec-p384",
             "ed25519": "ed25519"}


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


@pytest.fixture(scope="module")
def viewer(admin):
    return idn.login_new(admin, role="viewer", prefix="pkirv")


@pytest.fixture(scope="module")
def operator(admin):
    return idn.login_new(admin, role="operator", prefix="pkiro")


@pytest.fixture(scope="module")
def chain(admin):
    """An RSA root and a P-256 issuing CA under it."""
    root = pk.create_ca(admin, name=pk.unique_name("CSR Root"), key=pk.KEY_SPECS["rsa2048"],
                        path_length=1, validity_days=3650)
    inter = pk.create_ca(admin, name=pk.unique_name("CSR Issuing"), type="intermediate",
                         parent_id=root["id"], key=pk.KEY_SPECS["p256"], path_length=0,
                         validity_days=1825)
    return {"root": root, "inter": inter, "root_cert": pk.cert(root["pem"]),
            "inter_cert": pk.cert(inter["pem"])}


@pytest.fixture(scope="module")
def templates(admin):
    return {t["name"]: t for t in idn.data(admin.get(API + "/templates"))}


def _verify(chain, pem, purpose="serverAuth"):
    r = pk.openssl_verify(chain["root"]["pem"], pem, [chain["inter"]["pem"]],
                          purpose={"serverAuth": "sslserver",
                                   "clientAuth": "sslclient"}.get(purpose))
    assert r.returncode == 0 and r.stdout.strip().endswith(": OK"), \
        f"openssl verify failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"


def _csr_row(cw, csr_id):
    """status, certificate_id, reject_reason and whether key_wrapped is set,
    straight from the table."""
    rows = cw.sql("SELECT status, certificate_id, reject_reason, key_wrapped IS NOT NULL "
                  f"FROM csrs WHERE id = {int(csr_id)}")
    if not rows:
        return None
    status, cert_id, reason, has_key = rows[0]
    return {"status": status, "certificate_id": cert_id, "reject_reason": reason,
            "key_wrapped": has_key == "1"}


def _refused(client, cw, method, path, body, status, field=None, code=None, raw=False,
             csrf=True):
    """A request that must be refused (4xx problem, naming field when given)
    without adding or changing a row of csrs or certificates."""
    before = pk.counts(cw, TABLES)
    snapshot = cw.sql("SELECT id, status, COALESCE(certificate_id, ''), "
                      "key_wrapped IS NOT NULL FROM csrs ORDER BY id")
    what = f"{method} {path} {str(body)[:200]}"
    if raw:
        r = client.request(method, path, data=body, csrf=csrf,
                           headers={"Content-Type": "application/json"})
    elif body is None:
        r = client.request(method, path, csrf=csrf)
    else:
        r = client.request(method, path, json=body, csrf=csrf)
    expect.not_5xx(r, what)
    if isinstance(status, tuple):
        assert r.status_code in status, f"{what}: {idn.describe(r)}"
        status = r.status_code
    try:
        doc = expect.problem(r, status, code)
    except AssertionError as e:
        raise AssertionError(f"{what}: {e}") from None
    if field is not None:
        assert doc.get("field") == field, f"{what}: problem should name {field}: {doc}"
    assert pk.counts(cw, TABLES) == before, f"{what}: a refused request stored something"
    assert cw.sql("SELECT id, status, COALESCE(certificate_id, ''), key_wrapped IS NOT NULL "
                  "FROM csrs ORDER BY id") == snapshot, f"{what}: a refused request changed csrs"
    return doc


def _flip_signature(der):
    der = bytearray(der)
    der[-3] ^= 0x01
    return bytes(der)


def _sans_set(sans):
    return {(s["type"], s["value"]) for s in sans}


# --------------------------------------------------------------------------
# upload


UPLOADS = [("rsa2048", "pem"), ("rsa2048", "der"), ("p256", "pem"), ("p256", "der"),
           ("ed25519", "pem"), ("ed25519", "der")]


@pytest.mark.parametrize("kind,form", UPLOADS, ids=[f"{k}-{f}" for k, f in UPLOADS])
def test_upload(admin, cw, kind, form):
    key = pk.gen_key(kind)
    cn = f"up-{kind}-{secrets.token_hex(3)}.example.com"
    upn = f"svc-{secrets.token_hex(2)}@corp.example.com"
    gens = [x509.DNSName(cn), x509.DNSName("alt." + cn),
            x509.IPAddress(pk.ip("192.0.2.10")), x509.RFC822Name("ops@example.com"),
            pk.upn_name(upn)]
    der = pk.make_csr(key, cn, gens, der=True)
    name = f"upload {kind} {form}"
    before = pk.counts(cw, TABLES)
    d = pk.upload_csr(admin, der if form == "der" else pk.der_to_pem(der), name=name)
    assert pk.counts(cw, TABLES) == dict(before, csrs=before["csrs"] + 1)
    assert d["status"] == "pending", d
    assert d["has_private_key"] is False, d
    assert d["certificate_id"] is None and d["reject_reason"] is None, d
    assert d["name"] == name and d["created_by"] == admin.username, d
    assert d["key_type"] == KEY_TYPES[kind], d
    assert pk.parse_time(d["created_at"]), d
    dec = d["decoded"]
    assert dec["subject"] == {"CN": cn}, dec
    assert _sans_set(dec["sans"]) == {("dns", cn), ("dns", "alt." + cn), ("ip", "192.0.2.10"),
                                      ("email", "ops@example.com"), ("upn", upn)}, dec["sans"]
    assert dec["key"]["type"] == pk.key_kind(key.public_key()), dec
    if kind == "rsa2048":
        assert dec["key"]["bits"] == 2048, dec
    if kind == "p256":
        assert dec["key"].get("curve") == "P-256", dec
    # the PEM is the request as uploaded, byte for byte
    assert pk.pem_to_der(d["pem"]) == der
    csr = pk.csr_of(d["pem"])
    assert csr.is_signature_valid
    assert pk.spki(csr) == pk.spki(key)
    assert "PRIVATE KEY" not in json.dumps(d)
    # GET shows the same
    got = idn.data(admin.get(f"{CSRS}/{d['id']}"))
    assert got == d, (got, d)
    row = _csr_row(cw, d["id"])
    assert row == {"status": "pending", "certificate_id": None, "reject_reason": None,
                   "key_wrapped": False}, row
    assert pk.blob_column(cw, "csrs", "der", d["id"]) == der


def test_upload_new_certificate_request_label(admin):
    key = pk.gen_key("p256")
    der = pk.make_csr(key, "newlabel.example.net", [x509.DNSName("newlabel.example.net")],
                      der=True)
    d = pk.upload_csr(admin, pk.der_to_pem(der, "NEW CERTIFICATE REQUEST"))
    assert d["status"] == "pending" and d["decoded"]["subject"] == {"CN": "newlabel.example.net"}
    assert pk.pem_to_der(d["pem"]) == der


def test_upload_without_common_name(admin, chain, cw):
    """A request without a CN (SANs only, as RFC 5280 allows, or O only
    plus SANs) is stored like any other, and signs (the certificate takes
    its CN from the first SAN when the subject is empty)."""
    key = pk.gen_key("p256")
    der = pk.make_csr(key, None, [x509.DNSName("nosubject.example.net")], der=True)
    before = pk.counts(cw, TABLES)
    r = admin.post(CSRS, json={"csr": pk.der_to_pem(der)})
    expect.not_5xx(r)
    d = idn.data(r, 201)
    assert pk.counts(cw, TABLES)["csrs"] == before["csrs"] + 1
    assert d["status"] == "pending" and d["decoded"]["subject"] == {}, d
    assert d["decoded"]["sans"] == [{"type": "dns", "value": "nosubject.example.net"}], d
    assert pk.pem_to_der(d["pem"]) == der
    c = pk.sign_csr(admin, d["id"], chain["inter"]["id"])
    assert pk.cn_of(pk.cert(c["pem"])) == "nosubject.example.net"
    _verify(chain, c["pem"])
    # an organisation but no CN
    req = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                                       "No CN Corp")]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName("nocn.example.net")]),
                          critical=False)
           .sign(key, hashes.SHA256()))
    d = pk.upload_csr(admin, req.public_bytes(serialization.Encoding.PEM).decode())
    assert d["decoded"]["subject"] == {"O": "No CN Corp"}, d


def _bad_csrs():
    good_key = pk.gen_key("p256")
    good = pk.make_csr(good_key, "bad.example.com", [x509.DNSName("bad.example.com")],
                       der=True)
    ed = pk.make_csr(pk.gen_key("ed25519"), "bad-ed.example.com",
                     [x509.DNSName("bad-ed.example.com")], der=True)
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return {
        "garbage": "!!!not base64 at all!!!",
        "random base64": b64(secrets.token_bytes(300)),
        "garbage PEM": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE "
                       "REQUEST-----\n",
        "truncated DER": b64(good[:-10]),
        "truncated PEM": pk.der_to_pem(good[:-10]),
        "trailing byte DER": b64(good + b"\x00"),
        "trailing byte PEM": pk.der_to_pem(good + b"\x00"),
        "flipped signature byte": pk.der_to_pem(_flip_signature(good)),
        "flipped signature byte (Ed25519, DER)": b64(_flip_signature(ed)),
        "RSA 1024": pk.make_csr(rsa.generate_private_key(65537, 1024), "weak.example.com",
                                [x509.DNSName("weak.example.com")]),
        "secp256k1": pk.make_csr(pk.gen_key("secp256k1"), "k1.example.com",
                                 [x509.DNSName("k1.example.com")]),
        "a certificate": pk.to_pem(pk.build_cert(pk.gen_key("p256"), "not a request")),
        "empty": "",
        "whitespace": "   \n  ",
    }


def test_bad_csrs_are_refused(admin, cw):
    for what, csr in _bad_csrs().items():
        try:
            _refused(admin, cw, "POST", CSRS, {"csr": csr}, 400, field="csr")
        except AssertionError as e:
            raise AssertionError(f"{what}: {e}") from None


# --------------------------------------------------------------------------
# generate


GENERATE = ["p256", "rsa2048", "ed25519", "p384"]


@pytest.mark.parametrize("kind", GENERATE)
def test_generate(admin, cw, kind):
    cn = f"gen-{kind}-{secrets.token_hex(3)}.example.com"
    upn = f"gen-{secrets.token_hex(2)}@corp.example.com"
    sans = [{"type": "dns", "value": cn}, {"type": "ip", "value": "2001:db8::5"},
            {"type": "upn", "value": upn}]
    subject = {"CN": cn, "O": "certward tests", "C": "DE"}
    before = pk.counts(cw, TABLES)
    d = pk.generate_csr(admin, subject=subject, sans=sans, key=pk.KEY_SPECS[kind],
                        name=f"gen {kind}")
    assert pk.counts(cw, TABLES) == dict(before, csrs=before["csrs"] + 1)
    assert d["status"] == "pending" and d["has_private_key"] is True, d
    assert d["key_type"] == KEY_TYPES[kind], d
    assert d["name"] == f"gen {kind}" and d["certificate_id"] is None, d
    assert d["decoded"]["subject"] == subject, d["decoded"]
    assert _sans_set(d["decoded"]["sans"]) == _sans_set(sans), d["decoded"]
    text = json.dumps(d)
    assert "PRIVATE KEY" not in text and "key_wrapped" not in text
    csr = pk.csr_of(d["pem"])
    assert csr.is_signature_valid, "the generated CSR's signature does not verify"
    pk.assert_public_key(csr, pk.KEY_SPECS[kind])
    assert pk.cn_of(csr) == cn
    san = pk.ext(csr, x509.SubjectAlternativeName)
    assert san is not None and not san.critical
    assert pk.sans_of(csr) == sans, pk.sans_of(csr)
    res = pk.openssl("req", "-verify", "-noout", input=d["pem"].encode())
    assert res.returncode == 0, res.stderr
    # the key is stored wrapped
    assert _csr_row(cw, d["id"])["key_wrapped"] is True
    pk.assert_wrapped_key(pk.blob_column(cw, "csrs", "key_wrapped", d["id"]),
                          f"csr {d['id']}")
    assert cw.scalar("SELECT COUNT(*) FROM csrs WHERE key_wrapped LIKE '%BEGIN%' "
                     "OR key_wrapped LIKE '%PRIVATE%'") == "0"
    assert idn.data(admin.get(f"{CSRS}/{d['id']}")) == d


def test_generate_without_common_name(admin):
    """subject may be left out when there are SANs (the route says "give a
    subject or at least one SAN")."""
    r = admin.post(f"{CSRS}/generate", json={
        "key": pk.KEY_SPECS["p256"], "sans": [{"type": "dns", "value": "sansonly.example.com"}]})
    expect.not_5xx(r)
    d = idn.data(r, 201)
    csr = pk.csr_of(d["pem"])
    assert csr.is_signature_valid
    assert len(csr.subject) == 0 and d["decoded"]["subject"] == {}, d["decoded"]
    # an empty subject makes the subjectAltName critical (RFC 5280 4.2.1.6)
    assert pk.ext(csr, x509.SubjectAlternativeName).critical


# --------------------------------------------------------------------------
# sign


@pytest.mark.parametrize("kind", ["rsa2048", "p256", "ed25519"])
def test_sign_uploaded(admin, operator, chain, cw, kind):
    key = pk.gen_key(kind)
    cn = f"sign-{kind}-{secrets.token_hex(3)}.example.com"
    d = pk.upload_csr(operator, pk.make_csr(key, cn, [x509.DNSName(cn)]))
    before = pk.counts(cw, TABLES)
    c = pk.sign_csr(operator, d["id"], chain["inter"]["id"], template="server",
                    validity_days=45)
    assert pk.counts(cw, TABLES) == dict(before, certificates=before["certificates"] + 1)
    assert c["status"] == "valid" and c["ca_id"] == chain["inter"]["id"], c
    assert c["template"] == "server" and c["has_private_key"] is False, c
    x = pk.cert(c["pem"])
    assert pk.spki(x) == pk.spki(key), "the certificate's key is not the request's"
    pk.check_leaf_profile(x, chain["inter_cert"], [SERVER])
    pk.check_leaf_key_usage(x)
    assert pk.cn_of(x) == cn and pk.sans_of(x) == [{"type": "dns", "value": cn}]
    assert abs(pk.lifetime_days(x) - 45) <= 1, pk.lifetime_days(x)
    _verify(chain, c["pem"])
    got = idn.data(admin.get(f"{CSRS}/{d['id']}"))
    assert got["status"] == "signed" and got["certificate_id"] == c["id"], got
    assert idn.data(admin.get(f"{CERTS}/{c['id']}"))["serial"] == c["serial"]
    # signing again, by anyone, is a conflict and issues nothing
    _refused(admin, cw, "POST", f"{CSRS}/{d['id']}/sign",
             {"ca_id": chain["inter"]["id"], "template": "server", "validity_days": 30}, 409)
    # a signed request cannot be rejected
    _refused(admin, cw, "POST", f"{CSRS}/{d['id']}/reject", {"reason": "late"}, 409)
    rows = idn.audit_rows(admin, action="csr.sign")
    assert str(d["id"]) in [str(r.get("resource_id")) for r in rows], rows[:3]


@pytest.mark.parametrize("kind", ["p256", "rsa2048", "ed25519"])
def test_sign_generated_moves_the_key(admin, operator, chain, cw, kind, tmp_path):
    cn = f"genSign-{kind}-{secrets.token_hex(3)}.example.com".lower()
    g = pk.generate_csr(operator, subject={"CN": cn}, sans=[{"type": "dns", "value": cn}],
                        key=pk.KEY_SPECS[kind])
    csr_spki = pk.spki(pk.csr_of(g["pem"]))
    c = pk.sign_csr(operator, g["id"], chain["inter"]["id"], template="server",
                    validity_days=30)
    assert c["has_private_key"] is True, c
    x = pk.cert(c["pem"])
    assert pk.spki(x) == csr_spki
    pk.check_leaf_profile(x, chain["inter_cert"], [SERVER])
    _verify(chain, c["pem"])
    # the key left the request
    row = _csr_row(cw, g["id"])
    assert row == {"status": "signed", "certificate_id": str(c["id"]), "reject_reason": None,
                   "key_wrapped": False}, row
    got = idn.data(admin.get(f"{CSRS}/{g['id']}"))
    assert got["status"] == "signed" and got["has_private_key"] is False, got
    assert got["certificate_id"] == c["id"], got
    pk.assert_wrapped_key(pk.blob_column(cw, "certificates", "key_wrapped", c["id"]),
                          f"certificate {c['id']}")
    # and is the certificate's: PKCS#12 export
    r = admin.post(f"{CERTS}/{c['id']}/export", json={"format": "p12",
                                                      "password": P12_PASSWORD})
    assert r.status_code == 200, idn.describe(r)
    key, p12_cert, _ = pkcs12.load_key_and_certificates(r.content, P12_PASSWORD.encode())
    assert p12_cert == x
    assert pk.spki(key) == pk.spki(x) == csr_spki
    if kind == "p256":
        sig = key.sign(b"proof", ec.ECDSA(hashes.SHA256()))
        x.public_key().verify(sig, b"proof", ec.ECDSA(hashes.SHA256()))
    f = tmp_path / "k.p12"
    f.write_bytes(r.content)
    res = pk.openssl("pkcs12", "-in", f, "-passin", f"pass:{P12_PASSWORD}", "-nodes")
    assert res.returncode == 0, res.stderr
    # the key bytes are in no stored column in the clear
    for table, rid in (("certificates", c["id"]), ("csrs", g["id"])):
        blob = pk.blob_column(cw, table, "key_wrapped", rid) + pk.row_bytes(cw, table, rid)
        for secret in pk.private_key_bytes(key):
            assert secret not in blob, f"{table} {rid}: key material in the clear"


def test_sign_outside_name_constraints(admin, chain, cw):
    ca = pk.create_ca(admin, type="intermediate", parent_id=chain["root"]["id"],
                      path_length=0, validity_days=365,
                      name_constraints={"permitted": {"dns": ["example.com"]}})
    key = pk.gen_key("p256")
    d = pk.upload_csr(admin, pk.make_csr(key, "www.example.org",
                                         [x509.DNSName("www.example.org")]))
    g = pk.generate_csr(admin, subject={"CN": "evil.example.net"},
                        sans=[{"type": "dns", "value": "evil.example.net"}])
    for req in (d, g):
        _refused(admin, cw, "POST", f"{CSRS}/{req['id']}/sign",
                 {"ca_id": ca["id"], "template": "server", "validity_days": 30}, 422,
                 code="policy_violation")
        got = idn.data(admin.get(f"{CSRS}/{req['id']}"))
        assert got["status"] == "pending" and got["certificate_id"] is None, got
    assert _csr_row(cw, g["id"])["key_wrapped"] is True, "the generated key was lost"
    # inside the constraints it signs, and the chain verifies
    ok = pk.upload_csr(admin, pk.make_csr(key, "www.example.com",
                                          [x509.DNSName("www.example.com")]))
    c = pk.sign_csr(admin, ok["id"], ca["id"])
    pk.assert_chain_valid(chain["root"]["pem"], c["pem"], [ca["pem"]], purpose="serverAuth")
    # the pending requests still sign with a CA without constraints
    c2 = pk.sign_csr(admin, g["id"], chain["inter"]["id"])
    assert c2["has_private_key"] is True
    _verify(chain, c2["pem"])


def test_sign_refusals_keep_the_request_pending(admin, chain, cw, templates):
    key = pk.gen_key("p256")
    d = pk.upload_csr(admin, pk.make_csr(key, "refuse.example.com",
                                         [x509.DNSName("refuse.example.com")]))
    g = pk.generate_csr(admin, subject={"CN": "refuse-gen.example.com"},
                        sans=[{"type": "dns", "value": "refuse-gen.example.com"}])
    ca = chain["inter"]["id"]
    server_max = templates["server"]["max_validity_days"]
    cases = [
        ({"template": "server", "validity_days": 30}, 400, "ca_id"),
        ({"ca_id": ca, "validity_days": 30}, 400, "template"),
        ({"ca_id": ca, "template": "server"}, 400, "validity_days"),
        ({"ca_id": str(ca), "template": "server", "validity_days": 30}, 400, "ca_id"),
        ({"ca_id": ca, "template": 7, "validity_days": 30}, 400, "template"),
        ({"ca_id": ca, "template": "server", "validity_days": "30"}, 400, "validity_days"),
        ({"ca_id": ca, "template": "server", "validity_days": 30.5}, 400, "validity_days"),
        ({"ca_id": ca, "template": "server", "validity_days": 0}, 400, "validity_days"),
        ({"ca_id": ca, "template": "server", "validity_days": -1}, 400, "validity_days"),
        ({"ca_id": ca, "template": "server", "validity_days": server_max + 1}, 400,
         "validity_days"),
        ({"ca_id": 0, "template": "server", "validity_days": 30}, 400, "ca_id"),
        ({"ca_id": -5, "template": "server", "validity_days": 30}, 400, "ca_id"),
        ({"ca_id": True, "template": "server", "validity_days": 30}, 400, "ca_id"),
        ({"ca_id": ca, "template": "server", "validity_days": 10 ** 12}, 400, "validity_days"),
        ({"ca_id": ca, "template": "server", "validity_days": [30]}, 400, "validity_days"),
        ({"ca_id": ca, "template": "", "validity_days": 30}, 400, "template"),
        ({"ca_id": ca, "template": "no-such-template", "validity_days": 30}, 400, "template"),
        ({"ca_id": ca, "template": "sub-ca", "validity_days": 30}, 400, "template"),
        ({"ca_id": ca, "template": "server", "validity_days": 30, "subject": {"CN": "x"}},
         400, "subject"),
        ({"ca_id": ca, "template": "server", "validity_days": 30, "key": {"type": "ec"}},
         400, "key"),
        ({"ca_id": None, "template": "server", "validity_days": 30}, 400, "ca_id"),
    ]
    if "dns" not in templates["code-signing"]["allowed_san_types"]:
        cases.append(({"ca_id": ca, "template": "code-signing", "validity_days": 30}, 400,
                      "sans"))
    for req in (d, g):
        for body, status, field in cases:
            _refused(admin, cw, "POST", f"{CSRS}/{req['id']}/sign", body, status, field=field)
        for missing in (987654321, 2 ** 63 - 1):
            _refused(admin, cw, "POST", f"{CSRS}/{req['id']}/sign",
                     {"ca_id": missing, "template": "server", "validity_days": 30}, 404,
                     field="ca_id")
        for raw in (b"", b"{", b"[]", b'{"ca_id": 1,}', b"null"):
            _refused(admin, cw, "POST", f"{CSRS}/{req['id']}/sign", raw, 400, raw=True)
        got = idn.data(admin.get(f"{CSRS}/{req['id']}"))
        assert got["status"] == "pending", got
    assert _csr_row(cw, g["id"])["key_wrapped"] is True
    # a request that does not exist
    _refused(admin, cw, "POST", f"{CSRS}/987654321/sign",
             {"ca_id": ca, "template": "server", "validity_days": 30}, 404)
    # still signable after all that
    c = pk.sign_csr(admin, g["id"], ca)
    assert c["has_private_key"] is True


def test_sign_client_template_with_upn(admin, chain):
    upn = f"user-{secrets.token_hex(2)}@corp.example.com"
    key = pk.gen_key("rsa2048")
    d = pk.upload_csr(admin, pk.make_csr(key, "UPN User", [pk.upn_name(upn),
                                                           x509.RFC822Name("u@example.com")]))
    c = pk.sign_csr(admin, d["id"], chain["inter"]["id"], template="client",
                    validity_days=365)
    x = pk.cert(c["pem"])
    assert pk.sans_of(x) == [{"type": "upn", "value": upn},
                             {"type": "email", "value": "u@example.com"}], pk.sans_of(x)
    assert list(pk.ext(x, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    pk.check_leaf_key_usage(x)
    _verify(chain, c["pem"], "clientAuth")


def test_sign_past_the_ca_end(admin, cw):
    short = pk.create_ca(admin, validity_days=20)
    ca_end = pk.utc(pk.cert(short["pem"]), "not_valid_after")
    d = pk.upload_csr(admin, pk.make_csr(pk.gen_key("p256"), "past.example.com",
                                         [x509.DNSName("past.example.com")]))
    before = pk.counts(cw, TABLES)
    r = admin.post(f"{CSRS}/{d['id']}/sign", json={"ca_id": short["id"], "template": "server",
                                                  "validity_days": 90})
    expect.not_5xx(r)
    if r.status_code == 201:
        assert pk.utc(pk.cert(r.json()["data"]["pem"]), "not_valid_after") <= ca_end
    else:
        doc = expect.problem(r, 400)
        assert doc.get("field") == "validity_days", doc
        assert pk.counts(cw, TABLES) == before
        assert idn.data(admin.get(f"{CSRS}/{d['id']}"))["status"] == "pending"
        c = pk.sign_csr(admin, d["id"], short["id"], validity_days=10)
        pk.assert_chain_valid(short["pem"], c["pem"], purpose="serverAuth")


def test_sign_with_a_ca_without_key(admin, cw):
    """An imported CA without its key signs nothing: 409 naming ca_id, and
    the request (with its generated key) stays pending."""
    ca_key = pk.gen_key("p256")
    imported = pk.import_ca(admin, pk.der_of(pk.build_cert(ca_key, pk.unique_name("Keyless"))))
    g = pk.generate_csr(admin, subject={"CN": "keyless.example.com"},
                        sans=[{"type": "dns", "value": "keyless.example.com"}])
    _refused(admin, cw, "POST", f"{CSRS}/{g['id']}/sign",
             {"ca_id": imported["id"], "template": "server", "validity_days": 30}, 409,
             field="ca_id")
    assert _csr_row(cw, g["id"]) == {"status": "pending", "certificate_id": None,
                                     "reject_reason": None, "key_wrapped": True}


def test_wrapped_key_copied_to_another_request_does_not_sign(admin, chain, cw):
    """A generated key is bound to its row: copied into another request it
    does not unwrap, nothing is issued, and the request stays pending."""
    a = pk.generate_csr(admin, subject={"CN": "tamper-a.example.com"},
                        sans=[{"type": "dns", "value": "tamper-a.example.com"}])
    b = pk.generate_csr(admin, subject={"CN": "tamper-b.example.com"},
                        sans=[{"type": "dns", "value": "tamper-b.example.com"}])
    original = cw.scalar(f"SELECT HEX(key_wrapped) FROM csrs WHERE id = {b['id']}")
    cw.sql(f"UPDATE csrs SET key_wrapped = (SELECT k FROM (SELECT key_wrapped AS k FROM csrs "
           f"WHERE id = {a['id']}) t) WHERE id = {b['id']}")
    valid = "SELECT COUNT(*) FROM certificates WHERE status <> 'pending'"
    before = int(cw.scalar(valid))
    r = admin.post(f"{CSRS}/{b['id']}/sign", json={"ca_id": chain["inter"]["id"],
                                                  "template": "server", "validity_days": 30})
    assert r.status_code != 201, f"signed with a key moved from another row: {r.text[:300]}"
    assert r.status_code in (409, 500, 503), idn.describe(r)
    doc = expect.problem(r, r.status_code)
    if r.status_code == 500:
        assert doc["code"] == "crypto_error", doc
    assert "BEGIN" not in r.text
    assert int(cw.scalar(valid)) == before, "a certificate was stored"
    assert _csr_row(cw, b["id"])["status"] == "pending"
    # with its own blob back it signs, and A was never affected
    cw.sql(f"UPDATE csrs SET key_wrapped = UNHEX('{original}') WHERE id = {b['id']}")
    for req in (a, b):
        c = pk.sign_csr(admin, req["id"], chain["inter"]["id"])
        assert c["has_private_key"] is True
        assert pk.spki(pk.cert(c["pem"])) == pk.spki(pk.csr_of(req["pem"]))


# --------------------------------------------------------------------------
# reject, delete


def test_reject(admin, operator, chain, cw):
    key = pk.gen_key("p256")
    d = pk.upload_csr(operator, pk.make_csr(key, "reject.example.com",
                                            [x509.DNSName("reject.example.com")]))
    r = idn.data(operator.post(f"{CSRS}/{d['id']}/reject",
                               json={"reason": "wrong department"}))
    assert r["status"] == "rejected" and r["reject_reason"] == "wrong department", r
    assert r["certificate_id"] is None and r["id"] == d["id"], r
    assert idn.data(admin.get(f"{CSRS}/{d['id']}")) == r
    # rejected is final
    _refused(admin, cw, "POST", f"{CSRS}/{d['id']}/reject", {"reason": "again"}, 409)
    _refused(admin, cw, "POST", f"{CSRS}/{d['id']}/sign",
             {"ca_id": chain["inter"]["id"], "template": "server", "validity_days": 30}, 409)
    assert idn.data(admin.get(f"{CSRS}/{d['id']}"))["reject_reason"] == "wrong department"
    rows = idn.audit_rows(admin, action="csr.reject")
    assert str(d["id"]) in [str(x.get("resource_id")) for x in rows], rows[:3]


def test_reject_generated_discards_the_key(admin, chain, cw):
    g = pk.generate_csr(admin, subject={"CN": "discard.example.com"},
                        sans=[{"type": "dns", "value": "discard.example.com"}])
    assert _csr_row(cw, g["id"])["key_wrapped"] is True
    r = idn.data(admin.post(f"{CSRS}/{g['id']}/reject", json={"reason": "duplicate"}))
    assert r["status"] == "rejected" and r["has_private_key"] is False, r
    row = _csr_row(cw, g["id"])
    assert row == {"status": "rejected", "certificate_id": None, "reject_reason": "duplicate",
                   "key_wrapped": False}, row
    _refused(admin, cw, "POST", f"{CSRS}/{g['id']}/sign",
             {"ca_id": chain["inter"]["id"], "template": "server", "validity_days": 30}, 409)


def test_reject_with_an_empty_body(admin, cw):
    d = pk.upload_csr(admin, pk.make_csr(pk.gen_key("p256"), "empty-reject.example.com"))
    r = admin.post(f"{CSRS}/{d['id']}/reject")
    assert r.request.headers.get("Content-Length") == "0", r.request.headers
    got = idn.data(r)
    assert got["status"] == "rejected" and got["reject_reason"] in ("", None), got
    # with an empty object and a JSON content type too
    d2 = pk.upload_csr(admin, pk.make_csr(pk.gen_key("p256"), "empty-reject2.example.com"))
    got = idn.data(admin.post(f"{CSRS}/{d2['id']}/reject", json={}))
    assert got["status"] == "rejected", got


def test_reject_bad_input(admin, cw):
    d = pk.upload_csr(admin, pk.make_csr(pk.gen_key("p256"), "reject-bad.example.com"))
    path = f"{CSRS}/{d['id']}/reject"
    for body, field in (({"reason": 5}, "reason"), ({"reason": ["x"]}, "reason"),
                        ({"reason": "r" * 256}, "reason"), ({"why": "x"}, "why"),
                        ({"reason": "x", "extra": True}, "extra")):
        _refused(admin, cw, "POST", path, body, 400, field=field)
    for raw in (b"{", b"[]", b'"reason"', b"{\"reason\": \"x\"} junk"):
        _refused(admin, cw, "POST", path, raw, 400, raw=True)
    assert idn.data(admin.get(f"{CSRS}/{d['id']}"))["status"] == "pending"
    # 255 characters is the limit
    r = idn.data(admin.post(path, json={"reason": "r" * 255}))
    assert r["reject_reason"] == "r" * 255


def test_delete(admin, operator, cw):
    for make in ("upload", "generate"):
        if make == "upload":
            d = pk.upload_csr(operator, pk.make_csr(pk.gen_key("p256"), "del.example.com"))
        else:
            d = pk.generate_csr(operator, subject={"CN": "del-gen.example.com"})
        before = pk.counts(cw, TABLES)
        r = operator.delete(f"{CSRS}/{d['id']}")
        assert r.status_code == 204, idn.describe(r)
        assert r.content == b""
        assert pk.counts(cw, TABLES) == dict(before, csrs=before["csrs"] - 1)
        assert _csr_row(cw, d["id"]) is None
        expect.problem(admin.get(f"{CSRS}/{d['id']}"), 404)
        expect.problem(admin.delete(f"{CSRS}/{d['id']}"), 404)
        rows = idn.audit_rows(admin, action="csr.delete")
        assert str(d["id"]) in [str(x.get("resource_id")) for x in rows], rows[:3]


def test_unknown_request_is_404_on_every_route(admin, chain, cw):
    """A request id that does not exist (never did, or was deleted) is 404
    on GET, DELETE, sign and reject alike (the contract lists 404 for
    reject; 409 is for a request that exists but is no longer pending)."""
    d = pk.upload_csr(admin, pk.make_csr(pk.gen_key("p256"), "gone.example.com"))
    assert admin.delete(f"{CSRS}/{d['id']}").status_code == 204
    sign = {"ca_id": chain["inter"]["id"], "template": "server", "validity_days": 30}
    for rid in (d["id"], 987654321):
        expect.problem(admin.get(f"{CSRS}/{rid}"), 404)
        expect.problem(admin.delete(f"{CSRS}/{rid}"), 404)
        _refused(admin, cw, "POST", f"{CSRS}/{rid}/sign", sign, 404)
        _refused(admin, cw, "POST", f"{CSRS}/{rid}/reject", {"reason": "x"}, 404)
        _refused(admin, cw, "POST", f"{CSRS}/{rid}/reject", None, 404)


def test_delete_signed_keeps_the_certificate(admin, chain, cw):
    g = pk.generate_csr(admin, subject={"CN": "del-signed.example.com"},
                        sans=[{"type": "dns", "value": "del-signed.example.com"}])
    c = pk.sign_csr(admin, g["id"], chain["inter"]["id"])
    r = admin.delete(f"{CSRS}/{g['id']}")
    assert r.status_code == 204, idn.describe(r)
    got = idn.data(admin.get(f"{CERTS}/{c['id']}"))
    assert got["status"] == "valid" and got["has_private_key"] is True, got


# --------------------------------------------------------------------------
# list


def test_list_paging_and_filters(make_stack):
    st, admin = idn.private_stack(make_stack)
    cw = st.cw
    ca = pk.create_ca(admin, validity_days=365)
    token = secrets.token_hex(3)
    ids = {}
    for i in range(7):
        cn = f"list{token}-{i}.example.com"
        ids[i] = pk.upload_csr(admin, pk.make_csr(pk.gen_key("p256"), cn,
                                                  [x509.DNSName(cn)]))["id"]
    for i in range(2):
        cn = f"other{token}-{i}.example.com"
        ids[7 + i] = pk.generate_csr(admin, subject={"CN": cn},
                                     sans=[{"type": "dns", "value": cn}])["id"]
    pk.sign_csr(admin, ids[0], ca["id"])
    pk.sign_csr(admin, ids[7], ca["id"])
    idn.data(admin.post(f"{CSRS}/{ids[1]}/reject", json={"reason": "no"}))
    idn.data(admin.post(f"{CSRS}/{ids[2]}/reject"))
    assert cw.scalar("SELECT COUNT(*) FROM csrs") == "9"

    def listing(**params):
        r = admin.get(CSRS, params=params)
        assert r.status_code == 200, idn.describe(r)
        doc = r.json()
        return [x["id"] for x in doc["data"]], doc["meta"]

    got, meta = listing()
    assert meta["total"] == 9 and sorted(got) == sorted(ids.values()), (got, meta)
    assert got == sorted(got, reverse=True), "newest first"
    # pages
    seen = []
    for page in (1, 2, 3, 4):
        part, meta = listing(page=page, per_page=4)
        assert meta["total"] == 9, meta
        assert len(part) == {1: 4, 2: 4, 3: 1, 4: 0}[page], (page, part)
        seen += part
    assert seen == got
    # status
    for status, want in (("pending", {ids[i] for i in (3, 4, 5, 6, 8)}),
                         ("signed", {ids[0], ids[7]}), ("rejected", {ids[1], ids[2]})):
        part, meta = listing(status=status, per_page=100)
        assert meta["total"] == len(want) and set(part) == want, (status, part, meta)
    rows, _ = pk.list_all(admin, "/csrs", status="signed")
    assert all(x["status"] == "signed" and x["certificate_id"] for x in rows), rows
    # common name prefix
    part, meta = listing(q=f"list{token}")
    assert meta["total"] == 7 and set(part) == {ids[i] for i in range(7)}, (part, meta)
    part, meta = listing(q=f"list{token}-3")
    assert part == [ids[3]] and meta["total"] == 1, (part, meta)
    part, meta = listing(q=f"other{token}", status="signed")
    assert part == [ids[7]] and meta["total"] == 1, (part, meta)
    part, meta = listing(q=f"other{token}", status="rejected")
    assert part == [] and meta["total"] == 0, (part, meta)
    # a prefix, not a substring; LIKE characters are literal
    for q in (token, "example.com", "%", "_", f"list{token}%", f"list{token}-_"):
        part, meta = listing(q=q)
        assert part == [] and meta["total"] == 0, (q, part, meta)
    # bad parameters
    for params, field in (({"status": "valid"}, "status"), ({"status": "PENDING"}, "status"),
                          ({"q": "x" * 129}, "q"), ({"page": "0"}, "page"),
                          ({"per_page": "-1"}, "per_page"), ({"page": "abc"}, "page")):
        r = admin.get(CSRS, params=params)
        expect.not_5xx(r, str(params))
        doc = expect.problem(r, 400)
        assert doc.get("field") == field, (params, doc)


# --------------------------------------------------------------------------
# permissions and audit


def test_permissions(admin, viewer, operator, chain, cw, base_url):
    d = pk.upload_csr(admin, pk.make_csr(pk.gen_key("p256"), "perm.example.com",
                                         [x509.DNSName("perm.example.com")]))
    # the viewer reads
    assert idn.data(viewer.get(f"{CSRS}/{d['id']}"))["id"] == d["id"]
    r = viewer.get(CSRS)
    assert r.status_code == 200 and r.json()["meta"]["total"] >= 1, idn.describe(r)
    # and changes nothing
    csr = pk.make_csr(pk.gen_key("p256"), "viewer.example.com")
    sign = {"ca_id": chain["inter"]["id"], "template": "server", "validity_days": 30}
    for method, path, body in (("POST", CSRS, {"csr": csr}),
                               ("POST", f"{CSRS}/generate", {"key": pk.KEY_SPECS["p256"],
                                                             "subject": {"CN": "v"}}),
                               ("POST", f"{CSRS}/{d['id']}/sign", sign),
                               ("POST", f"{CSRS}/{d['id']}/reject", {"reason": "no"}),
                               ("DELETE", f"{CSRS}/{d['id']}", None)):
        _refused(viewer, cw, method, path, body, 403)
    # no credentials: 401 everywhere
    anon = idn.Client(base_url)
    for method, path, body in (("GET", CSRS, None), ("GET", f"{CSRS}/{d['id']}", None),
                               ("POST", CSRS, {"csr": csr}),
                               ("POST", f"{CSRS}/generate", {"key": pk.KEY_SPECS["p256"],
                                                             "subject": {"CN": "a"}}),
                               ("POST", f"{CSRS}/{d['id']}/sign", sign),
                               ("POST", f"{CSRS}/{d['id']}/reject", {}),
                               ("DELETE", f"{CSRS}/{d['id']}", None)):
        _refused(anon, cw, method, path, body, 401)
    # the operator's cookie without the CSRF token changes nothing
    for method, path, body in (("POST", CSRS, {"csr": csr}),
                               ("POST", f"{CSRS}/generate", {"key": pk.KEY_SPECS["p256"],
                                                             "subject": {"CN": "c"}}),
                               ("POST", f"{CSRS}/{d['id']}/sign", sign),
                               ("POST", f"{CSRS}/{d['id']}/reject", {}),
                               ("POST", f"{CSRS}/{d['id']}/reject", None),
                               ("DELETE", f"{CSRS}/{d['id']}", None)):
        _refused(operator, cw, method, path, body, 403, code="csrf_failed", csrf=False)
    # the operator does everything
    u = pk.upload_csr(operator, csr)
    g = pk.generate_csr(operator, subject={"CN": "op-gen.example.com"},
                        sans=[{"type": "dns", "value": "op-gen.example.com"}])
    c = pk.sign_csr(operator, g["id"], chain["inter"]["id"])
    assert c["has_private_key"] is True
    assert idn.data(operator.post(f"{CSRS}/{u['id']}/reject", json={"reason": "op"}))[
        "status"] == "rejected"
    assert operator.delete(f"{CSRS}/{u['id']}").status_code == 204
    assert operator.delete(f"{CSRS}/{d['id']}").status_code == 204
    # but cannot take the key out
    expect.problem(operator.post(f"{CERTS}/{c['id']}/export",
                                 json={"format": "p12", "password": P12_PASSWORD}), 403)


def test_audit_rows(admin, operator, chain):
    u = pk.upload_csr(operator, pk.make_csr(pk.gen_key("p256"), "audit.example.com",
                                            [x509.DNSName("audit.example.com")]))
    g = pk.generate_csr(operator, subject={"CN": "audit-gen.example.com"},
                        sans=[{"type": "dns", "value": "audit-gen.example.com"}])
    s = pk.upload_csr(operator, pk.make_csr(pk.gen_key("p256"), "audit-s.example.com",
                                            [x509.DNSName("audit-s.example.com")]))
    pk.sign_csr(operator, s["id"], chain["inter"]["id"])
    idn.data(operator.post(f"{CSRS}/{u['id']}/reject", json={"reason": "audit"}))
    assert operator.delete(f"{CSRS}/{g['id']}").status_code == 204
    for action, rid in (("csr.upload", u["id"]), ("csr.generate", g["id"]),
                        ("csr.sign", s["id"]), ("csr.reject", u["id"]),
                        ("csr.delete", g["id"])):
        rows = [x for x in idn.audit_rows(admin, action=action)
                if str(x.get("resource_id")) == str(rid)]
        assert len(rows) == 1, (action, rid, rows)
        row = rows[0]
        assert row.get("outcome") == "success", row
        assert row.get("resource_type") == "csr", row
        assert row.get("username") in (operator.username, None) or \
            operator.username in json.dumps(row), row
        assert "PRIVATE KEY" not in json.dumps(row)


def test_api_key_scopes(admin, chain, base_url, cw):
    """A Bearer key with read:csrs and write:csrs uploads, generates and
    rejects, but signing needs write:certificates and deleting delete:csrs."""
    key = idn.data(admin.post(API + "/account/api-keys", json={
        "name": "pki-csrs", "scopes": ["read:csrs", "write:csrs"]}), 201)
    c = idn.bearer(base_url, key["token"])
    d = pk.upload_csr(c, pk.make_csr(pk.gen_key("p256"), "bearer.example.com",
                                     [x509.DNSName("bearer.example.com")]))
    g = pk.generate_csr(c, subject={"CN": "bearer-gen.example.com"})
    assert idn.data(c.get(f"{CSRS}/{d['id']}"))["id"] == d["id"]
    _refused(c, cw, "POST", f"{CSRS}/{d['id']}/sign",
             {"ca_id": chain["inter"]["id"], "template": "server", "validity_days": 30}, 403)
    _refused(c, cw, "DELETE", f"{CSRS}/{d['id']}", None, 403)
    assert idn.data(c.post(f"{CSRS}/{g['id']}/reject"))["status"] == "rejected"
    ro = idn.bearer(base_url, idn.data(admin.post(API + "/account/api-keys", json={
        "name": "pki-csrs-ro", "scopes": ["read:csrs"]}), 201)["token"])
    assert ro.get(CSRS).status_code == 200
    _refused(ro, cw, "POST", CSRS, {"csr": pk.make_csr(pk.gen_key("p256"), "ro.example.com")},
             403)
    _refused(ro, cw, "POST", f"{CSRS}/{d['id']}/reject", {}, 403)


# --------------------------------------------------------------------------
# bad input on every route


def test_upload_bad_input(admin, cw):
    csr = pk.make_csr(pk.gen_key("p256"), "input.example.com")
    for body, field in (({}, "csr"), ({"csr": None}, "csr"), ({"csr": 5}, "csr"),
                        ({"csr": ["x"]}, "csr"), ({"csr": {"pem": csr}}, "csr"),
                        ({"csr": csr, "name": 5}, "name"),
                        ({"csr": csr, "name": "n" * 129}, "name"),
                        ({"csr": csr, "extra": 1}, "extra"),
                        ({"csr": csr, "key": pk.KEY_SPECS["p256"]}, "key")):
        _refused(admin, cw, "POST", CSRS, body, 400, field=field)
    # over the body limit, or over the field limit
    _refused(admin, cw, "POST", CSRS, {"csr": "A" * 70000}, 413)
    _refused(admin, cw, "POST", CSRS, {"csr": "A" * 60000}, (400, 413))
    for raw in (b"", b"{", b"[]", b"null", b'"csr"', b'{"csr": "x",}',
                json.dumps({"csr": csr}).encode() + b" trailing",
                b'{"csr": "a", "csr": "b"}', b"\xff\xfe{}"):
        _refused(admin, cw, "POST", CSRS, raw, 400, raw=True)
    # not JSON at all
    before = pk.counts(cw, TABLES)
    r = admin.post(CSRS, data=csr, headers={"Content-Type": "application/pkcs10"})
    expect.problem(r, 415)
    assert pk.counts(cw, TABLES) == before


def test_generate_bad_input(admin, cw):
    ok = {"subject": {"CN": "gen-input.example.com"}, "key": pk.KEY_SPECS["p256"]}

    def body(**kw):
        b = dict(ok)
        for k, v in kw.items():
            if v is None:
                b.pop(k, None)
            else:
                b[k] = v
        return b

    cases = [
        (body(key=None), "key"),
        (body(key="ec"), "key"),
        (body(key=[]), "key"),
        (body(key={}), "key"),
        (body(key={"type": "dsa"}), "key"),
        (body(key={"type": "rsa", "bits": 1024}), "key"),
        (body(key={"type": "rsa", "bits": "2048"}), "key"),
        (body(key={"type": "ec", "curve": "secp256k1"}), "key"),
        (body(key={"type": "ec", "curve": "P-256", "extra": 1}), "key"),
        (body(subject="CN=x"), "subject"),
        (body(subject={"XX": "x"}), "subject"),
        (body(subject={"CN": 5}), "subject"),
        (body(subject={"CN": "c" * 65}), "subject"),
        (body(subject={"CN": "x", "C": "Germany"}), "subject"),
        (body(subject={}), "subject"),
        (body(subject=None), "subject"),
        (body(sans={"type": "dns"}), "sans"),
        (body(sans=["x.example.com"]), "sans"),
        (body(sans=[{"type": "dns"}]), "sans"),
        (body(sans=[{"type": "fax", "value": "1"}]), "sans"),
        (body(sans=[{"type": "ip", "value": "999.1.1.1"}]), "sans"),
        (body(sans=[{"type": "dns", "value": ""}]), "sans"),
        (body(sans=[{"type": "dns", "value": "a.example.com", "x": 1}]), "sans"),
        (body(sans=[{"type": "dns", "value": f"h{i}.example.com"} for i in range(101)]),
         "sans"),
        (body(name=5), "name"),
        (body(name="n" * 129), "name"),
        (body(extra=True), "extra"),
        (body(csr="x"), "csr"),
    ]
    for b, field in cases:
        doc = _refused(admin, cw, "POST", f"{CSRS}/generate", b, 400)
        assert doc.get("field") == field or str(doc.get("field", "")).startswith(field + "."), \
            (b, doc)
    for raw in (b"", b"{", b"[]", b"null", b'{"key": {"type": "ec"},}'):
        _refused(admin, cw, "POST", f"{CSRS}/generate", raw, 400, raw=True)


def test_paths_and_ids(admin, cw):
    """Path ids are positive decimal integers without leading zeros;
    anything else is 400 naming id, on every route."""
    d = pk.upload_csr(admin, pk.make_csr(pk.gen_key("p256"), "ids.example.com"))
    sign = {"ca_id": 1, "template": "server", "validity_days": 30}
    for rid in ("abc", "-1", "0", "1.5", f"0{d['id']}", "+1", "1e3", "99999999999999999999999",
                "18446744073709551616"):
        path = f"{CSRS}/{rid}"
        for method in ("GET", "DELETE"):
            r = admin.request(method, path)
            expect.not_5xx(r, f"{method} {path}")
            doc = expect.problem(r, 400)
            assert doc.get("field") == "id", (method, path, doc)
        _refused(admin, cw, "POST", path + "/reject", {}, 400, field="id")
        _refused(admin, cw, "POST", path + "/sign", sign, 400, field="id")
    assert _csr_row(cw, d["id"])["status"] == "pending"
    expect.problem(admin.get(f"{CSRS}/987654321"), 404)
    # methods the routes do not have
    for method, path in (("PUT", CSRS), ("PATCH", f"{CSRS}/1"), ("GET", f"{CSRS}/generate"),
                         ("GET", f"{CSRS}/1/sign"), ("PUT", f"{CSRS}/1/reject")):
        r = admin.request(method, path, json={})
        expect.not_5xx(r, f"{method} {path}")
        assert 400 <= r.status_code < 500, idn.describe(r)


def test_text_limits_in_utf8_bytes(admin, cw):
    """name (128) and reason (255) are limits in UTF-8 bytes (the contract's
    maxLength): multi-byte text up to the limit is stored whole, one byte
    more is refused naming the field."""
    name = "é" * 64
    d = pk.upload_csr(admin, pk.make_csr(pk.gen_key("p256"), "utf8.example.com"), name=name)
    assert d["name"] == name, d["name"]
    g = pk.generate_csr(admin, subject={"CN": "utf8-gen.example.com"}, name=name)
    assert g["name"] == name
    _refused(admin, cw, "POST", CSRS, {"csr": pk.make_csr(pk.gen_key("p256"), "u.example"),
                                       "name": name + "x"}, 400, field="name")
    _refused(admin, cw, "POST", f"{CSRS}/generate", {"key": pk.KEY_SPECS["p256"],
                                                     "subject": {"CN": "u"},
                                                     "name": name + "x"}, 400, field="name")
    reason = "😀" * 63 + "abc"
    assert len(reason.encode()) == 255
    _refused(admin, cw, "POST", f"{CSRS}/{d['id']}/reject", {"reason": reason + "x"}, 400,
             field="reason")
    r = idn.data(admin.post(f"{CSRS}/{d['id']}/reject", json={"reason": reason}))
    assert r["reject_reason"] == reason
    assert idn.data(admin.get(f"{CSRS}/{d['id']}"))["reject_reason"] == reason


def test_null_optional_members_are_absent(admin, chain):
    d = idn.data(admin.post(CSRS, json={
        "csr": pk.make_csr(pk.gen_key("p256"), "null.example.com"), "name": None}), 201)
    assert d["name"] == "", d
    g = idn.data(admin.post(f"{CSRS}/generate", json={
        "key": pk.KEY_SPECS["p256"], "subject": {"CN": "null-gen.example.com"}, "sans": None,
        "name": None}), 201)
    assert g["decoded"]["sans"] == [] and g["name"] == "", g
    r = idn.data(admin.post(f"{CSRS}/{d['id']}/reject", json={"reason": None}))
    assert r["status"] == "rejected" and r["reject_reason"] in ("", None), r


def test_control_characters_are_refused(admin, cw):
    csr = pk.make_csr(pk.gen_key("p256"), "ctl.example.com")
    d = pk.upload_csr(admin, csr)
    _refused(admin, cw, "POST", CSRS, {"csr": csr, "name": "a\x01b"}, 400, field="name")
    # NUL is refused by the JSON parser already (malformed_json, no field)
    _refused(admin, cw, "POST", CSRS, {"csr": csr, "name": "a\x00b"}, 400)
    _refused(admin, cw, "POST", f"{CSRS}/generate",
             {"key": pk.KEY_SPECS["p256"], "subject": {"CN": "x"}, "name": "a\nb"}, 400,
             field="name")
    _refused(admin, cw, "POST", f"{CSRS}/{d['id']}/reject", {"reason": "bad\x07bell"}, 400,
             field="reason")
    _refused(admin, cw, "POST", f"{CSRS}/{d['id']}/sign",
             {"ca_id": 1, "template": "ser\x1fver", "validity_days": 30}, 400,
             field="template")
    assert idn.data(admin.get(f"{CSRS}/{d['id']}"))["status"] == "pending"


def test_bodies_on_routes_without_one(admin, cw):
    d = pk.upload_csr(admin, pk.make_csr(pk.gen_key("p256"), "nobody.example.com"))
    for method, path in (("GET", CSRS), ("GET", f"{CSRS}/{d['id']}"),
                         ("DELETE", f"{CSRS}/{d['id']}")):
        r = admin.request(method, path, json={"x": 1})
        expect.problem(r, 413)
    assert _csr_row(cw, d["id"])["status"] == "pending"
    # the wrong media type on routes that take JSON
    for path in (CSRS, f"{CSRS}/generate", f"{CSRS}/{d['id']}/sign",
                 f"{CSRS}/{d['id']}/reject"):
        before = pk.counts(cw, TABLES)
        r = admin.post(path, data=b"reason=x", headers={"Content-Type":
                                                        "application/x-www-form-urlencoded"})
        expect.problem(r, 415)
        assert pk.counts(cw, TABLES) == before
    assert _csr_row(cw, d["id"])["status"] == "pending"


# --------------------------------------------------------------------------
# races and odd but well-formed requests


def _clients(admin, n):
    out = []
    for _ in range(n):
        c = idn.Client(admin.base)
        c.login(admin.username, admin.password)
        out.append(c)
    return out


@pytest.mark.parametrize("made", ["upload", "generate"])
def test_parallel_signs_issue_one_certificate(admin, chain, cw, made):
    """A request is signed once: concurrent sign calls give one 201 and
    409s, and exactly one certificate (one copy of a generated key)."""
    if made == "upload":
        d = pk.upload_csr(admin, pk.make_csr(pk.gen_key("p256"), "race.example.com",
                                             [x509.DNSName("race.example.com")]))
    else:
        d = pk.generate_csr(admin, subject={"CN": "race-gen.example.com"},
                            sans=[{"type": "dns", "value": "race-gen.example.com"}])
    clients = _clients(admin, 6)
    before = pk.counts(cw, TABLES)
    last = int(cw.scalar("SELECT COALESCE(MAX(id), 0) FROM certificates"))
    body = {"ca_id": chain["inter"]["id"], "template": "server", "validity_days": 30}
    results = idn.parallel(lambda i: clients[i].post(f"{CSRS}/{d['id']}/sign", json=body), 6)
    for r in results:
        assert not isinstance(r, Exception), r
        expect.not_5xx(r)
    codes = sorted(r.status_code for r in results)
    issued = pk.counts(cw, TABLES)["certificates"] - before["certificates"]
    with_key = cw.scalar("SELECT COUNT(*) FROM certificates WHERE key_wrapped IS NOT NULL "
                         f"AND id > {last}")
    assert codes == [201] + [409] * 5, codes
    assert issued == 1, f"{issued} certificates issued for one request ({codes}, " \
                        f"{with_key} with a key)"
    got = idn.data(admin.get(f"{CSRS}/{d['id']}"))
    ok = [r for r in results if r.status_code == 201][0].json()["data"]
    assert got["status"] == "signed" and got["certificate_id"] == ok["id"], got


def test_parallel_sign_and_reject(admin, chain, cw):
    """Sign and reject racing: either the request is signed (and the reject
    is 409) or rejected with no certificate issued for it."""
    clients = _clients(admin, 2)
    body = {"ca_id": chain["inter"]["id"], "template": "server", "validity_days": 30}
    for attempt in range(4):
        g = pk.generate_csr(admin, subject={"CN": f"race{attempt}.example.com"},
                            sans=[{"type": "dns", "value": f"race{attempt}.example.com"}])
        before = pk.counts(cw, TABLES)

        def one(i):
            if i == 0:
                return clients[0].post(f"{CSRS}/{g['id']}/sign", json=body)
            return clients[1].post(f"{CSRS}/{g['id']}/reject", json={"reason": "race"})

        sign, reject = idn.parallel(one, 2)
        for r in (sign, reject):
            assert not isinstance(r, Exception), r
            expect.not_5xx(r)
        issued = pk.counts(cw, TABLES)["certificates"] - before["certificates"]
        row = _csr_row(cw, g["id"])
        assert sorted((sign.status_code, reject.status_code)) in ([200, 409], [201, 409]), \
            (idn.describe(sign), idn.describe(reject))
        if row["status"] == "signed":
            assert sign.status_code == 201 and issued == 1, (row, issued)
        else:
            assert row["status"] == "rejected" and reject.status_code == 200, row
            assert issued == 0, f"a certificate was issued for a rejected request ({row})"
        assert row["key_wrapped"] is False, row


def _long_subjects():
    return {
        "cn300": [x509.NameAttribute(NameOID.COMMON_NAME, "c" * 300, _validate=False)],
        "dn1500": [x509.NameAttribute(NameOID.COMMON_NAME, "long-dn")] +
                  [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,
                                      f"unit {i:02d} " + "u" * 50) for i in range(25)],
    }


@pytest.mark.parametrize("what", ["cn300", "dn1500"])
def test_upload_long_subject_values(admin, cw, what):
    """Subject values past the columns' sizes (common_name 255, subject_dn
    1024 characters) are refused as a bad CSR or stored whole, never a 5xx."""
    attrs = _long_subjects()[what]
    key = pk.gen_key("p256")
    req = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
           .sign(key, hashes.SHA256()))
    pem = req.public_bytes(serialization.Encoding.PEM).decode()
    before = pk.counts(cw, TABLES)
    r = admin.post(CSRS, json={"csr": pem})
    assert r.status_code < 500, f"{what}: {idn.describe(r)}"
    if r.status_code == 201:
        d = r.json()["data"]
        assert pk.pem_to_der(d["pem"]) == pk.pem_to_der(pem), what
        assert d["decoded"]["subject"].get("CN") == attrs[0].value, what
    else:
        doc = expect.problem(r, 400)
        assert doc.get("field") == "csr", (what, doc)
        assert pk.counts(cw, TABLES) == before, what


def _odd_san_csrs(key):
    many = [x509.DNSName(f"h{i}.many.example.com") for i in range(150)]
    return {
        "150 DNS names": many,
        "directoryName": [x509.DNSName("dirname.example.com"), x509.DirectoryName(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "inner")]))],
        "registeredID": [x509.DNSName("rid.example.com"),
                         x509.RegisteredID(x509.ObjectIdentifier("1.2.3.4"))],
        "other otherName": [x509.DNSName("other.example.com"),
                            x509.OtherName(x509.ObjectIdentifier("1.2.3.4.5"), b"\x05\x00")],
        "UPN not a UTF8String": [x509.DNSName("badupn.example.com"),
                                 x509.OtherName(pk.UPN_OID, b"\x02\x01\x05")],
    }


@pytest.mark.parametrize("what", ["150 DNS names", "directoryName", "registeredID",
                                  "other otherName", "UPN not a UTF8String"])
def test_odd_san_requests_never_5xx(admin, chain, cw, what):
    """Requests with SANs the API does not issue: upload either refuses them
    (400 csr) or stores them and GET shows them; signing then issues or
    refuses with a 4xx, and a refusal leaves the request pending."""
    key = pk.gen_key("p256")
    gens = _odd_san_csrs(key)[what]
    pem = pk.make_csr(key, "odd.example.com", gens)
    before = pk.counts(cw, TABLES)
    r = admin.post(CSRS, json={"csr": pem})
    assert r.status_code < 500, f"{what}: {idn.describe(r)}"
    if r.status_code != 201:
        doc = expect.problem(r, 400)
        assert doc.get("field") == "csr", (what, doc)
        assert pk.counts(cw, TABLES) == before
        return
    d = r.json()["data"]
    got = admin.get(f"{CSRS}/{d['id']}")
    assert got.status_code == 200, idn.describe(got)
    assert pk.pem_to_der(got.json()["data"]["pem"]) == pk.pem_to_der(pem), what
    listed = admin.get(CSRS, params={"q": "odd.example.com"})
    assert listed.status_code == 200, idn.describe(listed)
    before = pk.counts(cw, TABLES)
    r = admin.post(f"{CSRS}/{d['id']}/sign", json={"ca_id": chain["inter"]["id"],
                                                  "template": "server", "validity_days": 30})
    assert r.status_code < 500, f"{what}: {idn.describe(r)}"
    if r.status_code == 201:
        c = pk.cert(r.json()["data"]["pem"])
        _verify(chain, r.json()["data"]["pem"])
        assert pk.spki(c) == pk.spki(key)
    else:
        expect.problem(r, r.status_code)
        assert 400 <= r.status_code < 500
        assert pk.counts(cw, TABLES) == before
        assert idn.data(admin.get(f"{CSRS}/{d['id']}"))["status"] == "pending"

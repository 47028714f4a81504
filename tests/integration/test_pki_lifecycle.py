"""PKI: the life cycle after issuance. Renewal (a new key of the same type,
or a CSR's), certificateHold and its release, deleting expired or revoked
certificates, CAs taken offline (key re-wrapped under a password, or handed
out once as encrypted PKCS#8) and restored, CA retirement (an
intermediate's certificate revoked on its parent), and importing existing
CAs (PEM, DER, PKCS#7, PKCS#12; with or without the key; roots and
intermediates, with and without a certward parent).

Certificates and keys for import are made with python-cryptography; what
certward signs afterwards is checked with `openssl verify` and GnuTLS
`certtool`. Every refusal is checked to store nothing. Runs on the session
stack; tests that need exact counts or touch dates in the database use a
private stack.
"""

import base64
import secrets

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID

import expect
import identity as idn
import pki_helpers as pk
from identity import API

CERTS = API + "/certificates"
CAS = API + "/cas"
IMPORT = CAS + "/import"


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


@pytest.fixture(scope="module")
def viewer(admin):
    return idn.login_new(admin, role="viewer", prefix="pkilv")


@pytest.fixture(scope="module")
def operator(admin):
    return idn.login_new(admin, role="operator", prefix="pkilo")


@pytest.fixture(scope="module")
def chain(admin):
    """An RSA root and a P-256 issuing CA under it (nothing here takes them
    offline or revokes them)."""
    root = pk.create_ca(admin, name=pk.unique_name("Life Root"), key=pk.KEY_SPECS["rsa2048"],
                        path_length=1, validity_days=3650)
    inter = pk.create_ca(admin, name=pk.unique_name("Life Issuing"), type="intermediate",
                         parent_id=root["id"], key=pk.KEY_SPECS["p256"], path_length=0,
                         validity_days=1825)
    return {"root": root, "inter": inter, "root_cert": pk.cert(root["pem"]),
            "inter_cert": pk.cert(inter["pem"])}


def _verify(chain, pem, purpose=None):
    pk.assert_chain_valid(chain["root"]["pem"], pem, [chain["inter"]["pem"]], purpose=purpose)


def _refused(client, cw, method, path, body, status, code=None, field=None):
    """A request that must be refused with a problem document without
    storing a CA or certificate. body: None (no body), bytes/str (sent
    as is, as JSON) or an object."""
    before = pk.counts(cw)
    if body is None:
        r = client.request(method, path)
    elif isinstance(body, (bytes, str)):
        r = client.request(method, path, data=body,
                           headers={"Content-Type": "application/json"})
    else:
        r = client.request(method, path, json=body)
    what = f"{method} {path} {str(body)[:200]}"
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
    assert pk.counts(cw) == before, f"{what}: a refused request stored something"
    return doc


def _audited(admin, action, resource_id):
    rows = idn.audit_rows(admin, action=action)
    hits = [x for x in rows if str(x.get("resource_id")) == str(resource_id)]
    assert hits, f"no {action} audit row for {resource_id}: {rows[:3]}"
    assert all(x.get("outcome", "success") == "success" for x in hits), hits
    return hits


def _issue_refused(client, cw, ca_id, code="conflict"):
    """Issuing from this CA is refused with 409 and stores nothing."""
    body = {"ca_id": ca_id, "template": "server", "subject": {"CN": "refused.example.com"},
            "sans": [{"type": "dns", "value": "refused.example.com"}],
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30}
    return _refused(client, cw, "POST", CERTS, body, 409, code=code)


def _ca(client, ca_id):
    return idn.data(client.get(f"{CAS}/{ca_id}"))


# --------------------------------------------------------------------------
# renewal


@pytest.mark.parametrize("kind", ["rsa3072", "p384", "ed25519"])
def test_renew_without_body_makes_a_new_key_of_the_same_type(admin, chain, kind):
    spec = pk.KEY_SPECS[kind]
    cn = f"renew-{kind}-{secrets.token_hex(3)}.example.com"
    sans = [{"type": "dns", "value": cn}, {"type": "dns", "value": "alt." + cn},
            {"type": "ip", "value": "192.0.2.44"}]
    old = pk.issue(admin, chain["inter"]["id"], cn=cn, key=spec, sans=sans, validity_days=60)
    old_c = pk.cert(old["pem"])
    new = pk.renew(admin, old["id"])
    c = pk.cert(new["pem"])
    assert new["id"] != old["id"], new
    assert new["renewed_from"] == old["id"], new
    assert new["serial"] != old["serial"] and c.serial_number != old_c.serial_number
    assert pk.sn(new["serial"]) == c.serial_number
    assert new["status"] == "valid" and new["ca_id"] == chain["inter"]["id"], new
    assert new["template"] == old["template"] == "server", new
    assert new["has_private_key"] is True, new
    assert c.subject == old_c.subject, (c.subject, old_c.subject)
    assert pk.sans_of(c) == pk.sans_of(old_c), (pk.sans_of(c), pk.sans_of(old_c))
    pk.assert_public_key(c, spec)
    assert new["key_type"] == old["key_type"], (new["key_type"], old["key_type"])
    assert pk.spki(c) != pk.spki(old_c), "the renewal kept the old key"
    # the lifetime defaults to the old one
    assert abs(pk.lifetime_days(c) - pk.lifetime_days(old_c)) <= 1, pk.lifetime_days(c)
    pk.check_leaf_profile(c, chain["inter_cert"], [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH])
    pk.check_leaf_key_usage(c)
    pk.check_urls(c, chain["inter"]["slug"])
    _verify(chain, new["pem"], purpose="serverAuth")
    assert "PRIVATE KEY" not in str(new)
    # the old certificate is left alone; both are found by the link
    assert idn.data(admin.get(f"{CERTS}/{old['id']}"))["status"] == "valid"
    got = idn.data(admin.get(f"{CERTS}/{new['id']}"))
    assert got["renewed_from"] == old["id"] and got["serial"] == new["serial"], got
    assert idn.data(admin.get(f"{CERTS}/{old['id']}"))["renewed_from"] is None
    # and the new key is one the server keeps (PKCS#12 export works)
    r = admin.post(f"{CERTS}/{new['id']}/export",
                   json={"format": "p12", "password": "Renew-exp0rt-pw"})
    assert r.status_code == 200, idn.describe(r)
    key, p12cert, _ = pkcs12.load_key_and_certificates(r.content, b"Renew-exp0rt-pw")
    assert pk.spki(key) == pk.spki(c) and p12cert == c


def test_renew_with_a_csr_uses_its_key(admin, chain):
    cn = f"renewcsr-{secrets.token_hex(3)}.example.com"
    old = pk.issue(admin, chain["inter"]["id"], cn=cn, validity_days=90)
    old_c = pk.cert(old["pem"])
    key = pk.gen_key("rsa2048")
    # the CSR's own names do not replace the certificate's
    csr = pk.make_csr(key, "other.example.org", [x509.DNSName("other.example.org")])
    new = pk.renew(admin, old["id"], {"csr": csr, "validity_days": 30})
    c = pk.cert(new["pem"])
    assert pk.spki(c) == pk.spki(key), "the renewal does not carry the CSR's key"
    assert new["has_private_key"] is False, new
    assert new["renewed_from"] == old["id"] and new["serial"] != old["serial"], new
    assert c.subject == old_c.subject and pk.sans_of(c) == pk.sans_of(old_c)
    assert abs(pk.lifetime_days(c) - 30) <= 1, pk.lifetime_days(c)
    pk.check_leaf_key_usage(c)
    _verify(chain, new["pem"], purpose="serverAuth")
    # base64 DER works too
    der = base64.b64encode(pk.make_csr(pk.gen_key("p256"), cn, der=True)).decode()
    again = pk.renew(admin, new["id"], {"csr": der})
    assert again["renewed_from"] == new["id"]
    assert abs(pk.lifetime_days(pk.cert(again["pem"])) - 30) <= 1


def _rich_subject(cn, ous):
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
             x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Bayern"),
             x509.NameAttribute(NameOID.LOCALITY_NAME, "M\u00fcnchen"),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example GmbH")]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou) for ou in ous]
    attrs += [x509.NameAttribute(NameOID.COMMON_NAME, cn),
              x509.NameAttribute(NameOID.SERIAL_NUMBER, "4711")]
    return x509.Name(attrs)


@pytest.mark.parametrize("ous", [["IT"], ["IT", "PKI"]], ids=["one-ou", "two-ous"])
def test_renew_keeps_a_rich_subject(admin, chain, ous):
    """The renewal's subject is the old certificate's, attribute for
    attribute and in order, also with a multi-valued attribute (two OUs, as
    a CSR may carry and issuance accepts)."""
    cn = f"rich-{secrets.token_hex(3)}.example.com"
    key = pk.gen_key("p256")
    csr = (x509.CertificateSigningRequestBuilder().subject_name(_rich_subject(cn, ous))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
           .sign(key, hashes.SHA256()))
    old = pk.issue(admin, chain["inter"]["id"], cn=None, validity_days=30,
                   csr=csr.public_bytes(serialization.Encoding.PEM).decode())
    old_c = pk.cert(old["pem"])
    assert old_c.subject == _rich_subject(cn, ous), old_c.subject
    r = admin.post(f"{CERTS}/{old['id']}/renew",
                   json={"csr": pk.make_csr(pk.gen_key("p256"), "ignored")})
    assert r.status_code == 201, f"renewal of {old_c.subject.rfc4514_string()}: " \
                                 f"{idn.describe(r)}"
    c = pk.cert(r.json()["data"]["pem"])
    assert c.subject == old_c.subject, (c.subject.rfc4514_string(),
                                        old_c.subject.rfc4514_string())
    _verify(chain, r.json()["data"]["pem"])


def test_renew_validity_days(admin, chain, cw):
    old = pk.issue(admin, chain["inter"]["id"], cn="renewdays.example.com", validity_days=45)
    same = pk.renew(admin, old["id"], {})
    assert abs(pk.lifetime_days(pk.cert(same["pem"])) - 45) <= 1
    shorter = pk.renew(admin, old["id"], {"validity_days": 7})
    assert abs(pk.lifetime_days(pk.cert(shorter["pem"])) - 7) <= 1
    assert shorter["renewed_from"] == old["id"]
    # a renewal never outlives its CA: capped, or refused storing nothing
    before = pk.counts(cw)
    r = admin.post(f"{CERTS}/{old['id']}/renew", json={"validity_days": 3650})
    expect.not_5xx(r)
    if r.status_code == 201:
        c = pk.cert(r.json()["data"]["pem"])
        assert pk.utc(c, "not_valid_after") <= pk.utc(chain["inter_cert"], "not_valid_after")
    else:
        assert expect.problem(r, 400).get("field") == "validity_days"
        assert pk.counts(cw) == before


def test_renew_of_a_certificate_from_a_csr_needs_a_csr(admin, chain, cw):
    key = pk.gen_key("p256")
    cn = f"csrrenew-{secrets.token_hex(3)}.example.com"
    old = pk.issue(admin, chain["inter"]["id"], cn=None,
                   csr=pk.make_csr(key, cn, [x509.DNSName(cn)]), validity_days=30)
    assert old["has_private_key"] is False
    path = f"{CERTS}/{old['id']}/renew"
    _refused(admin, cw, "POST", path, None, 400, field="csr")
    _refused(admin, cw, "POST", path, {}, 400, field="csr")
    _refused(admin, cw, "POST", path, {"validity_days": 10}, 400, field="csr")
    new_key = pk.gen_key("p256")
    new = pk.renew(admin, old["id"], {"csr": pk.make_csr(new_key, cn)})
    c = pk.cert(new["pem"])
    assert pk.spki(c) == pk.spki(new_key)
    assert pk.sans_of(c) == [{"type": "dns", "value": cn}], pk.sans_of(c)
    _verify(chain, new["pem"])


def test_renew_refusals(admin, chain, cw):
    old = pk.issue(admin, chain["inter"]["id"], cn="renewbad.example.com", validity_days=30)
    path = f"{CERTS}/{old['id']}/renew"
    for body, field in (({"csr": 5}, "csr"), ({"csr": ["x"]}, "csr"),
                        ({"csr": "not a csr"}, "csr"),
                        ({"csr": pk.make_csr(pk.gen_key("p256"), "x")[:-40]}, "csr"),
                        ({"validity_days": "30"}, "validity_days"),
                        ({"validity_days": 0}, "validity_days"),
                        ({"validity_days": -1}, "validity_days"),
                        ({"validity_days": 1.5}, "validity_days"),
                        ({"validity_days": 10 ** 9}, "validity_days"),
                        ({"extra": 1}, "extra"), ({"validity_days": 10, "key": {}}, "key")):
        _refused(admin, cw, "POST", path, body, 400, field=field)
    for raw in (b'{"validity_days": ', b"[]", b'"x"', b"{,}", b"\xff\xfe"):
        _refused(admin, cw, "POST", path, raw, 400)
    r = admin.post(path, data=b'{"validity_days": 5}', headers={"Content-Type": "text/plain"})
    expect.problem(r, 415)
    _refused(admin, cw, "POST", f"{CERTS}/987654321/renew", None, 404)
    _refused(admin, cw, "POST", f"{CERTS}/987654321/renew", {"validity_days": 5}, 404)
    _refused(admin, cw, "POST", f"{CERTS}/abc/renew", None, (400, 404))
    _refused(admin, cw, "POST", path, {"validity_days": 3651}, 400, field="validity_days")
    assert cw.scalar(f"SELECT COUNT(*) FROM certificates WHERE renewed_from = {old['id']}") == "0"


def test_renew_permissions_and_audit(admin, chain, operator, viewer, base_url, cw):
    old = pk.issue(admin, chain["inter"]["id"], cn="renewperm.example.com", validity_days=30)
    path = f"{CERTS}/{old['id']}/renew"
    _refused(viewer, cw, "POST", path, None, 403)
    _refused(idn.Client(base_url), cw, "POST", path, None, 401)
    before = pk.counts(cw)
    expect.problem(operator.post(path, csrf=False), 403)
    assert pk.counts(cw) == before
    new = pk.renew(operator, old["id"])
    assert new["renewed_from"] == old["id"]
    rows = _audited(admin, "certificate.renew", new["id"])
    assert operator.username in str(rows[0]), rows[0]
    # a renewal is not logged as a plain issuance
    issued = [str(x.get("resource_id")) for x in idn.audit_rows(admin, action="certificate.issue")]
    assert str(new["id"]) not in issued


def test_renew_from_an_offline_ca_is_refused(admin, cw):
    root = pk.create_ca(admin, name=pk.unique_name("Renew Offline"), validity_days=365)
    old = pk.issue(admin, root["id"], cn="renewoff.example.com", validity_days=30)
    pw = idn.strong_password()
    pk.ca_offline(admin, root["id"], "password_protected", pw)
    _refused(admin, cw, "POST", f"{CERTS}/{old['id']}/renew", None, 409, code="conflict")
    pk.ca_restore(admin, root["id"], pw)
    new = pk.renew(admin, old["id"])
    pk.assert_chain_valid(root["pem"], new["pem"])


def test_renew_an_expired_certificate_on_a_private_stack(make_stack):
    st, admin = idn.private_stack(make_stack)
    cw = st.cw
    root = pk.create_ca(admin, name=pk.unique_name("Renew Expired"), validity_days=365)
    old = pk.issue(admin, root["id"], cn="expired-renew.example.com", validity_days=20)
    cw.sql(f"UPDATE certificates SET not_after = UTC_TIMESTAMP() - INTERVAL 1 DAY "
           f"WHERE id = {old['id']}")
    assert idn.data(admin.get(f"{CERTS}/{old['id']}"))["status"] == "expired"
    new = pk.renew(admin, old["id"])
    assert new["status"] == "valid" and new["renewed_from"] == old["id"], new
    assert abs(pk.lifetime_days(pk.cert(new["pem"])) - 20) <= 1
    assert pk.counts(cw) == {"cas": 1, "certificates": 2}
    pk.assert_chain_valid(root["pem"], new["pem"])


# --------------------------------------------------------------------------
# certificateHold and release


def test_hold_and_release(admin, chain, cw):
    d = pk.issue(admin, chain["inter"]["id"], cn="hold.example.com", validity_days=30)
    held = idn.data(admin.post(f"{CERTS}/{d['id']}/revoke", json={"reason": "certificateHold"}))
    assert held["status"] == "revoked" and held["revocation_reason"] == "certificateHold", held
    assert held["revoked_at"], held
    got = idn.data(admin.post(f"{CERTS}/{d['id']}/release"))
    assert got["status"] == "valid", got
    assert got["revoked_at"] is None and got["revocation_reason"] is None, got
    assert got["invalidity_date"] is None, got
    again = idn.data(admin.get(f"{CERTS}/{d['id']}"))
    assert again["status"] == "valid" and again["revoked_at"] is None, again
    row = cw.sql(f"SELECT status, revoked_at, revocation_reason FROM certificates "
                 f"WHERE id = {d['id']}")[0]
    assert row == ("valid", None, None), row
    _audited(admin, "certificate.release", d["id"])
    # not on hold any more
    _refused(admin, cw, "POST", f"{CERTS}/{d['id']}/release", None, 409)
    # it can be held and released again, and revoked for good afterwards
    idn.data(admin.post(f"{CERTS}/{d['id']}/revoke",
                        json={"reason": "certificateHold",
                              "invalidity_date": "2026-01-02T03:04:05Z"}))
    got = idn.data(admin.post(f"{CERTS}/{d['id']}/release"))
    assert got["status"] == "valid" and got["invalidity_date"] is None, got
    final = idn.data(admin.post(f"{CERTS}/{d['id']}/revoke", json={"reason": "superseded"}))
    assert final["status"] == "revoked" and final["revocation_reason"] == "superseded"


@pytest.mark.parametrize("reason", [r for r in pk.REASONS if r != "certificateHold"])
def test_only_a_hold_is_released(admin, chain, cw, reason):
    d = pk.issue(admin, chain["inter"]["id"], cn="nohold.example.com", validity_days=7)
    idn.data(admin.post(f"{CERTS}/{d['id']}/revoke", json={"reason": reason}))
    _refused(admin, cw, "POST", f"{CERTS}/{d['id']}/release", None, 409, code="conflict")
    row = cw.sql(f"SELECT status, revocation_reason FROM certificates WHERE id = {d['id']}")[0]
    assert row == ("revoked", reason), row


def test_release_refusals(admin, chain, operator, viewer, base_url, cw):
    d = pk.issue(admin, chain["inter"]["id"], cn="relvalid.example.com", validity_days=30)
    path = f"{CERTS}/{d['id']}/release"
    _refused(admin, cw, "POST", path, None, 409, code="conflict")
    assert cw.scalar(f"SELECT status FROM certificates WHERE id = {d['id']}") == "valid"
    _refused(admin, cw, "POST", f"{CERTS}/987654321/release", None, 404)
    _refused(admin, cw, "POST", f"{CERTS}/0/release", None, (400, 404))
    idn.data(admin.post(f"{CERTS}/{d['id']}/revoke", json={"reason": "certificateHold"}))
    _refused(viewer, cw, "POST", path, None, 403)
    _refused(idn.Client(base_url), cw, "POST", path, None, 401)
    expect.problem(operator.post(path, csrf=False), 403)
    # the route takes no body
    r = admin.post(path, json={"reason": "x"})
    expect.not_5xx(r)
    expect.problem(r, r.status_code)
    assert r.status_code in (400, 413), idn.describe(r)
    assert cw.scalar(f"SELECT revocation_reason FROM certificates WHERE id = {d['id']}") == \
        "certificateHold"
    # revoke:certificates is enough
    got = idn.data(operator.post(path))
    assert got["status"] == "valid"


# --------------------------------------------------------------------------
# deletion


def test_delete_valid_and_revoked(admin, chain, operator, viewer, cw):
    d = pk.issue(admin, chain["inter"]["id"], cn="delete.example.com", validity_days=30)
    path = f"{CERTS}/{d['id']}"
    _refused(admin, cw, "DELETE", path, None, 409, code="conflict")
    assert idn.data(admin.get(path))["status"] == "valid"
    idn.data(admin.post(f"{path}/revoke", json={"reason": "superseded"}))
    _refused(viewer, cw, "DELETE", path, None, 403)
    expect.problem(admin.delete(path, csrf=False), 403)
    assert idn.data(admin.get(path))["status"] == "revoked"
    r = admin.delete(path)
    assert r.status_code == 204, idn.describe(r)
    assert r.content == b""
    expect.problem(admin.get(path), 404)
    assert cw.scalar(f"SELECT COUNT(*) FROM certificates WHERE id = {d['id']}") == "0"
    assert cw.scalar(f"SELECT COUNT(*) FROM certificate_names WHERE cert_id = {d['id']}") == "0"
    _refused(admin, cw, "DELETE", path, None, 404)
    _audited(admin, "certificate.delete", d["id"])
    # operator has delete:certificates
    e = pk.issue(admin, chain["inter"]["id"], cn="delete-op.example.com", validity_days=30)
    idn.data(admin.post(f"{CERTS}/{e['id']}/revoke", json={"reason": "keyCompromise"}))
    r = operator.delete(f"{CERTS}/{e['id']}")
    assert r.status_code == 204, idn.describe(r)
    expect.problem(admin.get(f"{CERTS}/{e['id']}"), 404)
    # a certificate on hold is revoked too
    h = pk.issue(admin, chain["inter"]["id"], cn="delete-hold.example.com", validity_days=30)
    idn.data(admin.post(f"{CERTS}/{h['id']}/revoke", json={"reason": "certificateHold"}))
    assert admin.delete(f"{CERTS}/{h['id']}").status_code == 204


def test_delete_refusals(admin, chain, cw):
    d = pk.issue(admin, chain["inter"]["id"], cn="delbad.example.com", validity_days=30)
    idn.data(admin.post(f"{CERTS}/{d['id']}/revoke", json={"reason": "superseded"}))
    r = admin.delete(f"{CERTS}/{d['id']}", json={"force": True})
    expect.not_5xx(r)
    expect.problem(r, r.status_code)
    assert r.status_code in (400, 413), idn.describe(r)
    assert idn.data(admin.get(f"{CERTS}/{d['id']}"))["status"] == "revoked"
    for bad in ("987654321", "abc", "-1", "1.5"):
        _refused(admin, cw, "DELETE", f"{CERTS}/{bad}", None, (400, 404))


def test_delete_expired_on_a_private_stack(make_stack):
    st, admin = idn.private_stack(make_stack)
    cw = st.cw
    root = pk.create_ca(admin, name=pk.unique_name("Del Root"), validity_days=365)
    keep = pk.issue(admin, root["id"], cn="keep.example.com", validity_days=30)
    old = pk.issue(admin, root["id"], cn="expired.example.com", validity_days=30)
    assert pk.counts(cw) == {"cas": 1, "certificates": 2}
    cw.sql(f"UPDATE certificates SET not_after = UTC_TIMESTAMP() - INTERVAL 1 DAY "
           f"WHERE id = {old['id']}")
    assert idn.data(admin.get(f"{CERTS}/{old['id']}"))["status"] == "expired"
    doc = expect.problem(admin.delete(f"{CERTS}/{keep['id']}"), 409, "conflict")
    assert pk.counts(cw) == {"cas": 1, "certificates": 2}, doc
    r = admin.delete(f"{CERTS}/{old['id']}")
    assert r.status_code == 204, idn.describe(r)
    assert pk.counts(cw) == {"cas": 1, "certificates": 1}
    assert cw.scalar("SELECT COUNT(*) FROM certificate_names WHERE cert_id = "
                     f"{old['id']}") == "0"
    assert [x["id"] for x in idn.data(admin.get(CERTS))] == [keep["id"]]
    rows = idn.audit_rows(admin, action="certificate.delete")
    assert [str(x.get("resource_id")) for x in rows] == [str(old["id"])], rows
    # a renewed certificate's source can go; the renewal stays
    new = pk.renew(admin, keep["id"])
    idn.data(admin.post(f"{CERTS}/{keep['id']}/revoke", json={"reason": "superseded"}))
    assert admin.delete(f"{CERTS}/{keep['id']}").status_code == 204
    got = idn.data(admin.get(f"{CERTS}/{new['id']}"))
    assert got["status"] == "valid", got
    assert pk.counts(cw) == {"cas": 1, "certificates": 1}


def test_a_ca_certificate_row_is_not_deleted(admin, cw):
    root = pk.create_ca(admin, name=pk.unique_name("Del CA Root"), path_length=1,
                        validity_days=365)
    inter = pk.create_ca(admin, name=pk.unique_name("Del CA Inter"), type="intermediate",
                         parent_id=root["id"], validity_days=300)
    idn.data(admin.post(f"{CAS}/{inter['id']}/revoke", json={"reason": "superseded"}))
    row = [x for x in idn.data(admin.get(CERTS, params={"ca": root["id"]}))
           if x["is_ca"]][0]
    assert row["status"] == "revoked", row
    r = admin.delete(f"{CERTS}/{row['id']}")
    expect.not_5xx(r)
    assert r.status_code in (404, 409), idn.describe(r)
    assert idn.data(admin.get(f"{CERTS}/{row['id']}"))["status"] == "revoked"
    # nor renewed or released like a leaf
    _refused(admin, cw, "POST", f"{CERTS}/{row['id']}/renew", None, (404, 409))
    _refused(admin, cw, "POST", f"{CERTS}/{row['id']}/release", None, (404, 409))


# --------------------------------------------------------------------------
# offline CAs


def test_offline_password_protected_and_restore(admin, cw):
    root = pk.create_ca(admin, name=pk.unique_name("Offline PW"), validity_days=365)
    before_key = cw.scalar(f"SELECT HEX(key_wrapped) FROM cas WHERE id = {root['id']}")
    pw = idn.strong_password()
    got = pk.ca_offline(admin, root["id"], "password_protected", pw)
    assert got["key_state"] == "password_protected", got
    assert got["id"] == root["id"] and got["status"] == "active", got
    assert "key_pem" not in got and "PRIVATE KEY" not in str(got), got
    assert _ca(admin, root["id"])["key_state"] == "password_protected"
    row = cw.sql(f"SELECT key_state, HEX(key_wrapped) FROM cas WHERE id = {root['id']}")[0]
    assert row[0] == "password_protected" and row[1] and row[1] != before_key, row
    assert not pk.looks_like_pkcs8_der(bytes.fromhex(row[1])), "the key is stored in clear"
    _issue_refused(admin, cw, root["id"])
    # once is enough
    _refused(admin, cw, "POST", f"{CAS}/{root['id']}/offline",
             {"mode": "password_protected", "password": idn.strong_password()}, 409)
    # the wrong password opens nothing
    doc = _refused(admin, cw, "POST", f"{CAS}/{root['id']}/restore",
                   {"password": pw + "x"}, 403, field="password")
    assert pw not in str(doc)
    assert _ca(admin, root["id"])["key_state"] == "password_protected"
    got = pk.ca_restore(admin, root["id"], pw)
    assert got["key_state"] == "online" and got["has_private_key"] is True, got
    _refused(admin, cw, "POST", f"{CAS}/{root['id']}/restore", {"password": pw}, 409)
    d = pk.issue(admin, root["id"], cn="back.example.com", validity_days=30)
    pk.assert_chain_valid(root["pem"], d["pem"], purpose="serverAuth")
    assert pk.cert(_ca(admin, root["id"])["pem"]) == pk.cert(root["pem"])
    _audited(admin, "ca.offline", root["id"])
    _audited(admin, "ca.restore", root["id"])
    rows = idn.audit_rows(admin, action="ca.offline") + idn.audit_rows(admin, action="ca.restore")
    assert pw not in str(rows)


def test_offline_intermediate_keeps_the_chain(admin, cw):
    """The parent of an offline CA still signs; the offline CA's children
    are unaffected."""
    root = pk.create_ca(admin, name=pk.unique_name("Off Parent"), path_length=1,
                        validity_days=365)
    inter = pk.create_ca(admin, name=pk.unique_name("Off Child"), type="intermediate",
                         parent_id=root["id"], validity_days=300)
    pw = idn.strong_password()
    pk.ca_offline(admin, root["id"], "password_protected", pw)
    d = pk.issue(admin, inter["id"], cn="child.example.com", validity_days=30)
    pk.assert_chain_valid(root["pem"], d["pem"], [inter["pem"]])
    # an offline parent cannot sign a new intermediate
    body = {"name": pk.unique_name("Off Refused"), "type": "intermediate",
            "parent_id": root["id"], "subject": {"CN": "Off Refused"},
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 100}
    _refused(admin, cw, "POST", CAS, body, 409)
    pk.ca_restore(admin, root["id"], pw)
    pk.create_ca(admin, type="intermediate", parent_id=root["id"], validity_days=100)


@pytest.mark.parametrize("weak", ["password", "short1!A", "aaaaaaaaaaaaaaaa",
                                  "Abcdefgh1234!xyz", "certward-Ca-2026!x", ""])
def test_offline_refuses_a_weak_password(admin, cw, weak):
    root = pk.create_ca(admin, name=pk.unique_name("Weak PW"), validity_days=365)
    for mode in ("password_protected", "file_exported"):
        doc = _refused(admin, cw, "POST", f"{CAS}/{root['id']}/offline",
                       {"mode": mode, "password": weak}, 400, code="weak_password"
                       if weak else None, field="password")
        if len(weak) >= 12:
            assert weak not in doc.get("detail", ""), doc
    got = _ca(admin, root["id"])
    assert got["key_state"] == "online" and got["has_private_key"] is True, got
    pk.issue(admin, root["id"], cn="stillonline.example.com", validity_days=30)


@pytest.mark.parametrize("kind", ["p256", "rsa2048", "ed25519"])
def test_offline_file_exported_and_restore(admin, cw, kind):
    root = pk.create_ca(admin, name=pk.unique_name(f"Exported {kind}"),
                        key=pk.KEY_SPECS[kind], validity_days=365)
    ca_cert = pk.cert(root["pem"])
    pw = idn.strong_password()
    got = pk.ca_offline(admin, root["id"], "file_exported", pw)
    assert got["key_state"] == "file_exported" and got["has_private_key"] is False, got
    pem = got["key_pem"]
    assert pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----"), pem[:60]
    assert "BEGIN PRIVATE KEY" not in pem
    key = serialization.load_pem_private_key(pem.encode(), pw.encode())
    assert pk.spki(key) == pk.spki(ca_cert), "the exported key is not the CA's"
    with pytest.raises((ValueError, TypeError)):
        serialization.load_pem_private_key(pem.encode(), b"wrong-" + pw.encode())
    res = pk.openssl("pkey", "-in", "/dev/stdin", "-passin", f"pass:{pw}", "-noout",
                     input=pem.encode())
    assert res.returncode == 0, res.stderr
    # PBES2 with a modern KDF and cipher, not a PKCS#12-era PBE
    asn1 = pk.openssl("asn1parse", input=pem.encode()).stdout.decode()
    assert ":PBES2" in asn1 and (":PBKDF2" in asn1 or ":id-scrypt" in asn1), asn1
    assert ":aes-256-cbc" in asn1 or ":aes-256-gcm" in asn1, asn1
    # the database keeps no copy, and shows none
    assert cw.scalar(f"SELECT key_wrapped IS NULL FROM cas WHERE id = {root['id']}") == "1"
    assert cw.scalar(f"SELECT key_state FROM cas WHERE id = {root['id']}") == "file_exported"
    shown = _ca(admin, root["id"])
    assert shown["key_state"] == "file_exported" and "key_pem" not in shown, shown
    assert "PRIVATE KEY" not in admin.get(f"{CAS}/{root['id']}").text
    _issue_refused(admin, cw, root["id"])
    path = f"{CAS}/{root['id']}/restore"
    # the file is needed, it must be this CA's, and the password must open it
    _refused(admin, cw, "POST", path, {"password": pw}, 400, field="key_pem")
    other = pk.key_pem(pk.gen_key("p256"), pw)
    _refused(admin, cw, "POST", path, {"password": pw, "key_pem": other}, 400, field="key_pem")
    other_plain = pk.key_pem(pk.gen_key(kind if kind != "rsa2048" else "rsa2048"))
    _refused(admin, cw, "POST", path, {"password": pw, "key_pem": other_plain}, 400,
             field="key_pem")
    _refused(admin, cw, "POST", path, {"password": "Wrong-" + pw, "key_pem": pem}, 400,
             field="key_pem")
    _refused(admin, cw, "POST", path, {"password": pw, "key_pem": "garbage"}, 400,
             field="key_pem")
    _refused(admin, cw, "POST", path, {"password": pw, "key_pem": pem[:len(pem) // 2]}, 400,
             field="key_pem")
    assert cw.scalar(f"SELECT key_wrapped IS NULL FROM cas WHERE id = {root['id']}") == "1"
    got = pk.ca_restore(admin, root["id"], pw, pem)
    assert got["key_state"] == "online" and got["has_private_key"] is True, got
    assert "PRIVATE KEY" not in str(got)
    d = pk.issue(admin, root["id"], cn=f"restored-{kind}.example.com", validity_days=30)
    pk.assert_chain_valid(root["pem"], d["pem"], purpose="serverAuth")
    pk.check_leaf_profile(pk.cert(d["pem"]), ca_cert)
    _audited(admin, "ca.offline", root["id"])
    _audited(admin, "ca.restore", root["id"])
    assert pw not in str(idn.audit_rows(admin, action="ca.offline"))


def test_restore_of_an_exported_key_without_encryption(admin, cw):
    """key_pem may be an unencrypted PEM too (the operator may have
    re-encoded the file); the password is then not used."""
    root = pk.create_ca(admin, name=pk.unique_name("Exported Plain"), validity_days=365)
    pw = idn.strong_password()
    got = pk.ca_offline(admin, root["id"], "file_exported", pw)
    key = serialization.load_pem_private_key(got["key_pem"].encode(), pw.encode())
    got = pk.ca_restore(admin, root["id"], "unused", pk.key_pem(key))
    assert got["key_state"] == "online", got
    pk.issue(admin, root["id"], cn="plain.example.com", validity_days=30)


def test_offline_and_back_again_and_again(admin, cw):
    """Both offline modes, one after the other, keep the same key."""
    root = pk.create_ca(admin, name=pk.unique_name("Cycle"), key=pk.KEY_SPECS["p384"],
                        validity_days=365)
    spki = pk.spki(pk.cert(root["pem"]))
    for mode in ("file_exported", "password_protected", "file_exported", "password_protected"):
        pw = idn.strong_password()
        got = pk.ca_offline(admin, root["id"], mode, pw)
        assert got["key_state"] == mode, got
        _issue_refused(admin, cw, root["id"])
        if mode == "file_exported":
            key = serialization.load_pem_private_key(got["key_pem"].encode(), pw.encode())
            assert pk.spki(key) == spki
            pk.ca_restore(admin, root["id"], pw, got["key_pem"])
        else:
            pk.ca_restore(admin, root["id"], pw)
        d = pk.issue(admin, root["id"], cn=f"cycle-{mode.replace('_', '-')}.example.com",
                     validity_days=30)
        pk.assert_chain_valid(root["pem"], d["pem"])


def test_offline_permissions(admin, operator, viewer, base_url, cw):
    root = pk.create_ca(admin, name=pk.unique_name("Offline Perm"), validity_days=365)
    path = f"{CAS}/{root['id']}/offline"
    pw = idn.strong_password()
    body = {"mode": "password_protected", "password": pw}
    for client in (operator, viewer, idn.Client(base_url)):
        _refused(client, cw, "POST", path, body, 401 if client.csrf is None else 403)
    expect.problem(admin.post(path, json=body, csrf=False), 403)
    assert _ca(admin, root["id"])["key_state"] == "online"
    assert not [x for x in idn.audit_rows(admin, action="ca.offline", outcome="success")
                if str(x.get("resource_id")) == str(root["id"])]
    pk.ca_offline(admin, root["id"], "password_protected", pw)
    # restoring needs write:cas, which the operator has and the viewer not
    _refused(viewer, cw, "POST", f"{CAS}/{root['id']}/restore", {"password": pw}, 403)
    assert _ca(admin, root["id"])["key_state"] == "password_protected"
    got = pk.ca_restore(operator, root["id"], pw)
    assert got["key_state"] == "online"


def test_offline_and_restore_refusals(admin, cw):
    root = pk.create_ca(admin, name=pk.unique_name("Offline Bad"), validity_days=365)
    path = f"{CAS}/{root['id']}/offline"
    pw = idn.strong_password()
    for body, field in (({"mode": "cold", "password": pw}, "mode"),
                        ({"mode": "", "password": pw}, "mode"),
                        ({"mode": "PASSWORD_PROTECTED", "password": pw}, "mode"),
                        ({"mode": 1, "password": pw}, "mode"),
                        ({"password": pw}, "mode"),
                        ({"mode": None, "password": pw}, "mode"),
                        ({"mode": "password_protected"}, "password"),
                        ({"mode": "password_protected", "password": None}, "password"),
                        ({"mode": "password_protected", "password": 12345678}, "password"),
                        ({"mode": "password_protected", "password": ["x"]}, "password"),
                        ({"mode": "file_exported", "password": "x" * 5000}, "password"),
                        ({"mode": "password_protected", "password": pw, "extra": 1}, "extra"),
                        ({"mode": "password_protected", "password": pw, "key_pem": "x"},
                         "key_pem")):
        _refused(admin, cw, "POST", path, body, 400, field=field)
    for raw in (b'{"mode": ', b"[]", b"null", b"", b'{"mode": "file_exported",}'):
        _refused(admin, cw, "POST", path, raw, 400)
    r = admin.post(path, data=b'{"mode":"file_exported","password":"x"}',
                   headers={"Content-Type": "text/plain"})
    expect.problem(r, 415)
    _refused(admin, cw, "POST", f"{CAS}/987654321/offline",
             {"mode": "password_protected", "password": pw}, 404)
    _refused(admin, cw, "POST", f"{CAS}/abc/offline",
             {"mode": "password_protected", "password": pw}, (400, 404))
    got = _ca(admin, root["id"])
    assert got["key_state"] == "online", got
    assert not [x for x in idn.audit_rows(admin, action="ca.offline")
                if str(x.get("resource_id")) == str(root["id"])]

    rpath = f"{CAS}/{root['id']}/restore"
    for body, field in (({}, "password"), ({"key_pem": "x"}, "password"),
                        ({"password": None}, "password"), ({"password": 5}, "password"),
                        ({"password": "x" * 5000}, "password"),
                        ({"password": pw, "key_pem": 5}, "key_pem"),
                        ({"password": pw, "key_pem": "x" * 40000}, "key_pem"),
                        ({"password": pw, "mode": "online"}, "mode")):
        _refused(admin, cw, "POST", rpath, body, 400, field=field)
    for raw in (b'{"password": ', b"[1]", b"", b"\x00"):
        _refused(admin, cw, "POST", rpath, raw, 400)
    _refused(admin, cw, "POST", f"{CAS}/987654321/restore", {"password": pw}, 404)
    # an online CA has nothing to restore
    _refused(admin, cw, "POST", rpath, {"password": pw}, 409, code="conflict")
    assert _ca(admin, root["id"])["key_state"] == "online"


def test_offline_on_a_private_stack_stores_nothing_else(make_stack):
    """Exact counts: going offline and back changes no row count but the
    audit log's (two rows)."""
    st, admin = idn.private_stack(make_stack)
    cw = st.cw
    root = pk.create_ca(admin, name=pk.unique_name("Exact Offline"), validity_days=365)
    pk.issue(admin, root["id"], cn="exact.example.com", validity_days=30)
    audits = int(cw.scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'ca.%'"))
    pw = idn.strong_password()
    got = pk.ca_offline(admin, root["id"], "file_exported", pw)
    for _ in range(3):
        expect.problem(admin.post(CERTS, json={
            "ca_id": root["id"], "template": "server", "subject": {"CN": "x.example.com"},
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30}), 409, "conflict")
    assert pk.counts(cw) == {"cas": 1, "certificates": 1}
    assert cw.scalar("SELECT COUNT(*) FROM certificates WHERE status = 'pending'") == "0"
    pk.ca_restore(admin, root["id"], pw, got["key_pem"])
    assert int(cw.scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'ca.%'")) == \
        audits + 2
    assert [r[0] for r in cw.sql("SELECT action FROM audit_log WHERE action LIKE 'ca.%' "
                                 "ORDER BY id")][-2:] == ["ca.offline", "ca.restore"]


# --------------------------------------------------------------------------
# CA retirement


def test_revoke_an_intermediate(admin, cw):
    root = pk.create_ca(admin, name=pk.unique_name("Retire Root"), path_length=1,
                        validity_days=365)
    inter = pk.create_ca(admin, name=pk.unique_name("Retire Inter"), type="intermediate",
                         parent_id=root["id"], validity_days=300)
    leaf = pk.issue(admin, inter["id"], cn="retire.example.com", validity_days=30)
    got = idn.data(admin.post(f"{CAS}/{inter['id']}/revoke", json={"reason": "keyCompromise"}))
    assert got["status"] == "revoked" and got["id"] == inter["id"], got
    assert _ca(admin, inter["id"])["status"] == "revoked"
    _issue_refused(admin, cw, inter["id"])
    _refused(admin, cw, "POST", f"{CERTS}/{leaf['id']}/renew", None, 409)
    # its certificate, a row of the parent, is revoked there
    rows = [x for x in idn.data(admin.get(CERTS, params={"ca": root["id"]}))]
    ca_rows = [x for x in rows if x["is_ca"]]
    assert len(ca_rows) == 1, rows
    row = ca_rows[0]
    assert row["serial"] == inter["serial"], (row, inter["serial"])
    assert row["status"] == "revoked" and row["revocation_reason"] == "keyCompromise", row
    assert row["revoked_at"], row
    assert idn.data(admin.get(f"{CERTS}/{row['id']}"))["status"] == "revoked"
    # the parent is untouched and still signs
    assert _ca(admin, root["id"])["status"] == "active"
    pk.issue(admin, root["id"], cn="parent-ok.example.com", validity_days=30)
    # the leaves already issued are not revoked by this
    assert idn.data(admin.get(f"{CERTS}/{leaf['id']}"))["status"] == "valid"
    # twice is a conflict and changes nothing
    _refused(admin, cw, "POST", f"{CAS}/{inter['id']}/revoke", {"reason": "superseded"}, 409,
             code="conflict")
    assert cw.scalar(f"SELECT revocation_reason FROM certificates WHERE id = {row['id']}") == \
        "keyCompromise"
    hits = _audited(admin, "ca.revoke", inter["id"])
    assert len(hits) == 1, hits


def test_revoke_a_root(admin, cw):
    root = pk.create_ca(admin, name=pk.unique_name("Retire Only Root"), path_length=1,
                        validity_days=365)
    before = int(cw.scalar("SELECT COUNT(*) FROM certificates WHERE status = 'revoked'"))
    got = idn.data(admin.post(f"{CAS}/{root['id']}/revoke",
                              json={"reason": "cessationOfOperation"}))
    assert got["status"] == "revoked", got
    assert int(cw.scalar("SELECT COUNT(*) FROM certificates WHERE status = 'revoked'")) == before
    _issue_refused(admin, cw, root["id"])
    body = {"name": pk.unique_name("Under Revoked"), "type": "intermediate",
            "parent_id": root["id"], "subject": {"CN": "Under Revoked"},
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 100}
    _refused(admin, cw, "POST", CAS, body, 409)
    # still listed and exported
    assert root["id"] in [x["id"] for x in pk.list_all(admin, "/cas")[0]]
    r = admin.get(f"{CAS}/{root['id']}/export", params={"format": "pem"})
    assert r.status_code == 200 and pk.pem_certs(r.text)[0] == pk.cert(root["pem"])


def test_subordinates_of_a_retired_ca_sign_nothing(admin, cw):
    """What a CA below a revoked CA certificate signs fails path validation
    (RFC 5280 6.1.3: every certificate on the path must be unrevoked), so
    it must not be issued: a retired intermediate's sub-CA is refused too."""
    root = pk.create_ca(admin, name=pk.unique_name("Sub Retire Root"), path_length=2,
                        validity_days=365)
    mid = pk.create_ca(admin, name=pk.unique_name("Sub Retire Mid"), type="intermediate",
                       parent_id=root["id"], path_length=1, validity_days=300)
    low = pk.create_ca(admin, name=pk.unique_name("Sub Retire Low"), type="intermediate",
                       parent_id=mid["id"], path_length=0, validity_days=200)
    pk.issue(admin, low["id"], cn="before-retire.example.com", validity_days=30)
    idn.data(admin.post(f"{CAS}/{mid['id']}/revoke", json={"reason": "keyCompromise"}))
    _issue_refused(admin, cw, low["id"])


def test_a_ca_whose_certificate_row_is_revoked_signs_nothing(admin, cw):
    """An intermediate's certificate is a row of its parent. Revoking that
    row through /certificates either is refused (CAs are retired with
    /cas/{id}/revoke) or retires the CA; a CA whose certificate is revoked
    must not keep issuing."""
    root = pk.create_ca(admin, name=pk.unique_name("Row Revoke Root"), path_length=1,
                        validity_days=365)
    inter = pk.create_ca(admin, name=pk.unique_name("Row Revoke Inter"), type="intermediate",
                         parent_id=root["id"], validity_days=300)
    row = [x for x in idn.data(admin.get(CERTS, params={"ca": root["id"]})) if x["is_ca"]][0]
    r = admin.post(f"{CERTS}/{row['id']}/revoke", json={"reason": "keyCompromise"})
    expect.not_5xx(r)
    if r.status_code == 200:
        assert idn.data(admin.get(f"{CERTS}/{row['id']}"))["status"] == "revoked"
        _issue_refused(admin, cw, inter["id"])
    else:
        expect.problem(r, r.status_code)
        assert r.status_code in (400, 409), idn.describe(r)
        assert idn.data(admin.get(f"{CERTS}/{row['id']}"))["status"] == "valid"


@pytest.mark.parametrize("reason", [r for r in pk.REASONS if r != "certificateHold"])
def test_every_ca_revocation_reason(admin, reason):
    root = pk.create_ca(admin, name=pk.unique_name("Reason Root"), path_length=1,
                        validity_days=365)
    inter = pk.create_ca(admin, type="intermediate", parent_id=root["id"], validity_days=100)
    got = idn.data(admin.post(f"{CAS}/{inter['id']}/revoke", json={"reason": reason}))
    assert got["status"] == "revoked"
    row = [x for x in idn.data(admin.get(CERTS, params={"ca": root["id"]})) if x["is_ca"]][0]
    assert row["revocation_reason"] == reason, row


def test_revoke_ca_refusals(admin, operator, viewer, base_url, cw):
    root = pk.create_ca(admin, name=pk.unique_name("Retire Bad"), path_length=1,
                        validity_days=365)
    inter = pk.create_ca(admin, type="intermediate", parent_id=root["id"], validity_days=100)
    path = f"{CAS}/{inter['id']}/revoke"
    for body, field in (({"reason": "certificateHold"}, "reason"),
                        ({"reason": "removeFromCRL"}, "reason"),
                        ({"reason": "compromised"}, "reason"),
                        ({"reason": "KEYCOMPROMISE"}, "reason"),
                        ({"reason": ""}, "reason"), ({"reason": 1}, "reason"),
                        ({"reason": None}, "reason"), ({}, "reason"),
                        ({"reason": "x" * 100}, "reason"),
                        ({"reason": "superseded", "invalidity_date": "2026-01-01T00:00:00Z"},
                         "invalidity_date"),
                        ({"reason": "superseded", "extra": True}, "extra")):
        _refused(admin, cw, "POST", path, body, 400, field=field)
    for raw in (b'{"reason": "superseded"', b"[]", b"", b"true"):
        _refused(admin, cw, "POST", path, raw, 400)
    _refused(operator, cw, "POST", path, {"reason": "superseded"}, 403)
    _refused(viewer, cw, "POST", path, {"reason": "superseded"}, 403)
    _refused(idn.Client(base_url), cw, "POST", path, {"reason": "superseded"}, 401)
    expect.problem(admin.post(path, json={"reason": "superseded"}, csrf=False), 403)
    _refused(admin, cw, "POST", f"{CAS}/987654321/revoke", {"reason": "superseded"}, 404)
    assert _ca(admin, inter["id"])["status"] == "active"
    assert cw.scalar(f"SELECT COUNT(*) FROM certificates WHERE ca_id = {root['id']} "
                     "AND status = 'revoked'") == "0"
    pk.issue(admin, inter["id"], cn="not-retired.example.com", validity_days=30)


# --------------------------------------------------------------------------
# import


def _external_root(kind="p256", cn=None, days=730):
    key = pk.gen_key(kind)
    return key, pk.build_cert(key, cn or pk.unique_name("External Root"), days=days)


def test_import_certificate_only_root_then_give_it_its_key(admin, cw):
    key, c = _external_root("p256")
    pem = pk.to_pem(c)
    name = pk.unique_name("Imported Root")
    got = pk.import_ca(admin, pem, name=name)
    assert got["type"] == "root" and got["parent_id"] is None, got
    assert got["has_private_key"] is False and got["key_state"] == "certificate_only", got
    assert got["status"] == "active" and got["name"] == name, got
    assert got["slug"] == pk.slugify(name), got
    assert pk.sn(got["serial"]) == c.serial_number, got
    assert pk.cert(got["pem"]) == c
    assert got["subject"].get("CN") == pk.cn_of(c), got
    assert abs((pk.parse_time(got["not_after"]) - pk.utc(c, "not_valid_after"))
               .total_seconds()) <= 1, got
    assert got["key_type"], got
    assert cw.scalar(f"SELECT key_wrapped IS NULL FROM cas WHERE id = {got['id']}") == "1"
    _audited(admin, "ca.import", got["id"])
    # it signs nothing yet, and cannot go offline (there is no key)
    _issue_refused(admin, cw, got["id"])
    _refused(admin, cw, "POST", f"{CAS}/{got['id']}/offline",
             {"mode": "password_protected", "password": idn.strong_password()}, 409)
    path = f"{CAS}/{got['id']}/restore"
    _refused(admin, cw, "POST", path, {"password": "x"}, 400, field="key_pem")
    _refused(admin, cw, "POST", path, {"password": "x", "key_pem": pk.key_pem(pk.gen_key("p256"))},
             400, field="key_pem")
    # the key, unencrypted
    back = pk.ca_restore(admin, got["id"], "x", pk.key_pem(key))
    assert back["key_state"] == "online" and back["has_private_key"] is True, back
    leaf = pk.issue(admin, got["id"], cn="imported-leaf.example.com", validity_days=30)
    lc = pk.cert(leaf["pem"])
    pk.check_leaf_profile(lc, c)
    pk.check_urls(lc, got["slug"])
    r = pk.openssl_verify(pem, leaf["pem"])
    assert r.returncode == 0 and r.stdout.strip().endswith(": OK"), r.stdout + r.stderr
    pk.assert_chain_valid(pem, leaf["pem"], purpose="serverAuth")
    _audited(admin, "ca.restore", got["id"])


def test_an_imported_cas_constraints_are_kept(admin, cw):
    """What the imported certificate says binds what certward signs with
    it: its nameConstraints and its pathLenConstraint of 0."""
    key = pk.gen_key("p256")
    nc = x509.NameConstraints(permitted_subtrees=[x509.DNSName("corp.example")],
                              excluded_subtrees=None)
    c = pk.build_cert(key, pk.unique_name("Constrained Import"), path_length=0,
                      extensions=[(nc, True)])
    got = pk.import_ca(admin, pk.to_pem(c), key=pk.key_pem(key))
    assert got["path_length"] == 0, got
    d = pk.issue(admin, got["id"], cn="www.corp.example", validity_days=30)
    pk.assert_chain_valid(pk.to_pem(c), d["pem"], purpose="serverAuth")
    body = {"ca_id": got["id"], "template": "server", "subject": {"CN": "www.evil.example"},
            "sans": [{"type": "dns", "value": "www.evil.example"}],
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30}
    _refused(admin, cw, "POST", CERTS, body, (400, 422))
    body = {"name": pk.unique_name("Under Pathlen 0"), "type": "intermediate",
            "parent_id": got["id"], "subject": {"CN": "Under Pathlen 0"},
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30}
    _refused(admin, cw, "POST", CAS, body, (400, 409, 422))


def test_import_with_an_encrypted_key(admin, cw):
    key, c = _external_root("rsa2048")
    pw = "Imp0rt-key-pass"
    got = pk.import_ca(admin, pk.to_pem(c), key=pk.key_pem(key, pw), password=pw)
    assert got["has_private_key"] is True and got["key_state"] == "online", got
    leaf = pk.issue(admin, got["id"], cn="imported-key.example.com", validity_days=30)
    pk.assert_chain_valid(pk.to_pem(c), leaf["pem"])
    # a key that does not open or does not match
    _, c2 = _external_root("p256")
    body = {"name": pk.unique_name("Imp Bad Key"), "certificate": pk.to_pem(c2)}
    for extra, field in (({"key": pk.key_pem(pk.gen_key("p256"))}, "key"),
                         ({"key": pk.key_pem(key, pw), "password": "wrong"}, "key"),
                         ({"key": pk.key_pem(key, pw)}, "key"),
                         ({"key": "not a key"}, "key")):
        _refused(admin, cw, "POST", IMPORT, dict(body, **extra), 400, field=field)
    # after the refusals the certificate itself imports fine
    got2 = pk.import_ca(admin, pk.to_pem(c2), key=None)
    assert got2["key_state"] == "certificate_only"


@pytest.mark.parametrize("kind", ["p256", "rsa2048", "ed25519"])
def test_import_pkcs12_with_key(admin, cw, kind):
    key, c = _external_root(kind)
    pw = "P12-imp0rt-pass"
    blob = pkcs12.serialize_key_and_certificates(
        b"ca", key, c, None, serialization.BestAvailableEncryption(pw.encode()))
    body = {"name": pk.unique_name("P12 CA"), "certificate": base64.b64encode(blob).decode()}
    _refused(admin, cw, "POST", IMPORT, dict(body, password="wrong"), 400, field="certificate")
    _refused(admin, cw, "POST", IMPORT, body, 400, field="certificate")
    got = idn.data(admin.post(IMPORT, json=dict(body, password=pw)), 201)
    assert got["has_private_key"] is True and got["key_state"] == "online", got
    assert got["type"] == "root" and pk.cert(got["pem"]) == c, got
    assert cw.scalar(f"SELECT key_wrapped IS NOT NULL FROM cas WHERE id = {got['id']}") == "1"
    blob_db = pk.blob_column(cw, "cas", "key_wrapped", got["id"])
    assert key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()) not in blob_db, "key stored in clear"
    leaf = pk.issue(admin, got["id"], cn=f"p12-{kind}.example.com", validity_days=30)
    pk.assert_chain_valid(pk.to_pem(c), leaf["pem"])


def test_import_pkcs12_without_key(admin, cw):
    """A PKCS#12 holding only the certificate: imported certificate-only,
    or refused as a bad certificate upload (nothing stored either way)."""
    _, c = _external_root("p256")
    blob = pkcs12.serialize_key_and_certificates(
        b"ca", None, c, None, serialization.BestAvailableEncryption(b"Only-cert-pw1"))
    body = {"name": pk.unique_name("P12 No Key"), "certificate": base64.b64encode(blob).decode(),
            "password": "Only-cert-pw1"}
    before = pk.counts(cw)
    r = admin.post(IMPORT, json=body)
    expect.not_5xx(r)
    if r.status_code == 201:
        got = r.json()["data"]
        assert got["key_state"] == "certificate_only" and got["has_private_key"] is False, got
        assert pk.cert(got["pem"]) == c
        _issue_refused(admin, cw, got["id"])
    else:
        assert expect.problem(r, 400).get("field") == "certificate"
        assert pk.counts(cw) == before


def test_import_der_and_pkcs7(admin, cw):
    _, c = _external_root("p384")
    got = pk.import_ca(admin, pk.der_of(c))
    assert got["type"] == "root" and pk.cert(got["pem"]) == c, got
    # base64 with line breaks
    b64 = base64.encodebytes(pk.der_of(pk.build_cert(pk.gen_key("p256"), "Wrapped B64"))).decode()
    assert "\n" in b64
    assert pk.import_ca(admin, b64)["type"] == "root"
    # PKCS#7 bundles, PEM and DER, with a leaf before the CA
    for enc in (serialization.Encoding.PEM, serialization.Encoding.DER):
        ca_key, ca = _external_root("p256")
        leaf = pk.build_cert(pk.gen_key("p256"), "leaf in bundle", issuer_key=ca_key,
                             issuer_cert=ca, ca=False)
        p7 = pkcs7.serialize_certificates([leaf, ca], enc)
        got = pk.import_ca(admin, p7.decode() if enc == serialization.Encoding.PEM else p7)
        assert pk.cert(got["pem"]) == ca, got
        assert got["key_state"] == "certificate_only", got
    # a PEM bundle: the first CA certificate is taken
    ca_key, ca = _external_root("p256")
    leaf = pk.build_cert(pk.gen_key("p256"), "leaf in pem", issuer_key=ca_key, issuer_cert=ca,
                         ca=False)
    got = pk.import_ca(admin, pk.to_pem(leaf) + pk.to_pem(ca))
    assert pk.cert(got["pem"]) == ca


def test_import_refuses_non_ca_and_duplicates(admin, cw):
    key = pk.gen_key("p256")
    leaf = pk.build_cert(key, "not a ca", ca=False)
    for cert_in in (pk.to_pem(leaf), base64.b64encode(pk.der_of(leaf)).decode(),
                    pkcs7.serialize_certificates([leaf], serialization.Encoding.PEM).decode()):
        _refused(admin, cw, "POST", IMPORT, {"name": pk.unique_name("Leaf"),
                                             "certificate": cert_in}, 400, field="certificate")
    p12 = pkcs12.serialize_key_and_certificates(b"x", key, leaf, None,
                                                serialization.BestAvailableEncryption(b"pw1"))
    _refused(admin, cw, "POST", IMPORT, {"name": pk.unique_name("Leaf P12"),
                                         "certificate": base64.b64encode(p12).decode(),
                                         "password": "pw1"}, 400, field="certificate")
    # a CA certificate without keyCertSign is no CA
    no_sign = pk.build_cert(pk.gen_key("p256"), "CA without certSign", ca=True,
                            key_usage=x509.KeyUsage(True, False, False, False, False, False,
                                                    True, False, False))
    _refused(admin, cw, "POST", IMPORT, {"name": pk.unique_name("No Sign"),
                                         "certificate": pk.to_pem(no_sign)}, 400,
             field="certificate")
    # the same CA twice
    _, c = _external_root("p256")
    first = pk.import_ca(admin, pk.to_pem(c))
    doc = _refused(admin, cw, "POST", IMPORT, {"name": pk.unique_name("Again"),
                                               "certificate": pk.to_pem(c)}, 409,
                   code="conflict")
    assert str(first["id"]) in doc.get("detail", ""), doc
    _refused(admin, cw, "POST", IMPORT, {"name": pk.unique_name("Again DER"),
                                         "certificate": base64.b64encode(
                                             pk.der_of(c)).decode()}, 409)
    # a CA certward made itself is already there
    own = pk.create_ca(admin, validity_days=100)
    _refused(admin, cw, "POST", IMPORT, {"name": pk.unique_name("Own"),
                                         "certificate": own["pem"]}, 409)


def test_import_pem_with_text_before_it(admin):
    """RFC 7468 section 2: data before the encapsulation boundary is
    permitted and parsers must not fail on it (openssl pkcs12 and x509
    -text write such PEM files; editors add a leading line break)."""
    for before in ("\n", "\r\n\r\n",
                   "Bag Attributes\n    friendlyName: ca\nsubject=CN = External Root\n"
                   "issuer=CN = External Root\n"):
        _, c = _external_root("p256")
        r = admin.post(IMPORT, json={"name": pk.unique_name("Leading Text"),
                                     "certificate": before + pk.to_pem(c)})
        assert r.status_code == 201, f"text before the PEM {before!r}: {idn.describe(r)}"
        assert pk.cert(r.json()["data"]["pem"]) == c


def test_import_refuses_a_certificate_without_basic_constraints(admin, cw):
    """RFC 5280 4.2.1.9: without basicConstraints cA=TRUE a public key must
    not verify certificate signatures, keyCertSign or not; what such a
    "CA" issued no verifier accepts."""
    c = pk.build_cert(pk.gen_key("p256"), "keyCertSign only", basic_constraints=False)
    _refused(admin, cw, "POST", IMPORT, {"name": pk.unique_name("No BC"),
                                         "certificate": pk.to_pem(c)}, 400,
             field="certificate")


def test_import_bad_input(admin, cw):
    _, c = _external_root("p256")
    pem = pk.to_pem(c)
    for body, field in (({"certificate": pem}, "name"),
                        ({"name": "", "certificate": pem}, "name"),
                        ({"name": "x" * 129, "certificate": pem}, "name"),
                        ({"name": 5, "certificate": pem}, "name"),
                        ({"name": None, "certificate": pem}, "name"),
                        ({"name": "Imp"}, "certificate"),
                        ({"name": "Imp", "certificate": None}, "certificate"),
                        ({"name": "Imp", "certificate": ""}, "certificate"),
                        ({"name": "Imp", "certificate": 5}, "certificate"),
                        ({"name": "Imp", "certificate": [pem]}, "certificate"),
                        ({"name": "Imp", "certificate": "garbage!"}, "certificate"),
                        ({"name": "Imp", "certificate": "QUJD"}, "certificate"),
                        ({"name": "Imp", "certificate": "===="}, "certificate"),
                        ({"name": "Imp", "certificate": pem[:200]}, "certificate"),
                        ({"name": "Imp", "certificate": pem.replace("CERTIFICATE", "X509")},
                         "certificate"),
                        ({"name": "Imp", "certificate": "-----BEGIN PKCS7-----\nAAAA\n"
                                                        "-----END PKCS7-----\n"},
                         "certificate"),
                        ({"name": "Imp", "certificate": pem, "key": 5}, "key"),
                        ({"name": "Imp", "certificate": pem, "password": 5}, "password"),
                        ({"name": "Imp", "certificate": pem, "parent_id": 1}, "parent_id"),
                        ({"name": "Imp", "certificate": pem, "type": "root"}, "type")):
        _refused(admin, cw, "POST", IMPORT, body, 400, field=field)
    for raw in (b'{"name": "x", "certificate": ', b"[]", b"", b"{}}", b'{"name":"a\x00"}'):
        _refused(admin, cw, "POST", IMPORT, raw, 400)
    r = admin.post(IMPORT, data=pem, headers={"Content-Type": "application/x-pem-file"})
    expect.problem(r, 415)
    # nothing of that certificate was stored
    fp = pk.fingerprint(c)
    assert cw.scalar(f"SELECT COUNT(*) FROM cas WHERE fp_sha256 = '{fp}'") == "0"


def test_import_permissions(admin, operator, viewer, base_url, cw):
    _, c = _external_root("p256")
    body = {"name": pk.unique_name("Perm Import"), "certificate": pk.to_pem(c)}
    _refused(viewer, cw, "POST", IMPORT, body, 403)
    _refused(idn.Client(base_url), cw, "POST", IMPORT, body, 401)
    expect.problem(operator.post(IMPORT, json=body, csrf=False), 403)
    got = idn.data(operator.post(IMPORT, json=body), 201)
    assert got["key_state"] == "certificate_only"
    assert idn.data(viewer.get(f"{CAS}/{got['id']}"))["id"] == got["id"]


def test_import_external_intermediate(admin, cw):
    root_key, root = _external_root("p256")
    key = pk.gen_key("p256")
    inter = pk.build_cert(key, pk.unique_name("External Inter"), issuer_key=root_key,
                          issuer_cert=root, path_length=0, days=365)
    got = pk.import_ca(admin, pk.to_pem(inter), key=pk.key_pem(key))
    assert got["type"] == "intermediate" and got["parent_id"] is None, got
    assert got["path_length"] == 0 and got["key_state"] == "online", got
    leaf = pk.issue(admin, got["id"], cn="ext-inter.example.com", validity_days=30)
    pk.assert_chain_valid(pk.to_pem(root), leaf["pem"], [pk.to_pem(inter)],
                          purpose="serverAuth")
    # the chain export ends where certward's knowledge ends
    r = admin.get(f"{CERTS}/{leaf['id']}/export", params={"format": "chain"})
    assert r.status_code == 200, idn.describe(r)
    assert [x.serial_number for x in pk.pem_certs(r.text)][:2] == \
        [pk.sn(leaf["serial"]), inter.serial_number]
    # importing its root afterwards does not re-parent it, and is a root
    r2 = pk.import_ca(admin, pk.to_pem(root))
    assert r2["type"] == "root" and r2["parent_id"] is None


def test_import_intermediate_signed_by_a_certward_ca(admin, cw):
    """A certward root's key, exported while it is offline, signs an
    intermediate outside certward; importing it finds its parent."""
    root = pk.create_ca(admin, name=pk.unique_name("Import Parent"), path_length=1,
                        validity_days=3650)
    pw = idn.strong_password()
    exported = pk.ca_offline(admin, root["id"], "file_exported", pw)
    root_key = serialization.load_pem_private_key(exported["key_pem"].encode(), pw.encode())
    root_cert = pk.cert(root["pem"])
    key = pk.gen_key("p256")
    inter = pk.build_cert(key, pk.unique_name("Signed Outside"), issuer_key=root_key,
                          issuer_cert=root_cert, path_length=0, days=365)
    pk.ca_restore(admin, root["id"], pw, exported["key_pem"])
    got = pk.import_ca(admin, pk.to_pem(inter), key=pk.key_pem(key))
    assert got["type"] == "intermediate" and got["parent_id"] == root["id"], got
    assert _ca(admin, root["id"])["children"] >= 1
    leaf = pk.issue(admin, got["id"], cn="signed-outside.example.com", validity_days=30)
    pk.assert_chain_valid(root["pem"], leaf["pem"], [pk.to_pem(inter)], purpose="serverAuth")
    r = admin.get(f"{CERTS}/{leaf['id']}/export", params={"format": "chain"})
    assert [x.serial_number for x in pk.pem_certs(r.text)] == \
        [pk.sn(leaf["serial"]), inter.serial_number, root_cert.serial_number]
    # a look-alike naming the root as issuer but signed by another key has
    # no parent
    fake = pk.build_cert(pk.gen_key("p256"), pk.unique_name("Look-alike"),
                         issuer_key=pk.gen_key("p256"), issuer_cert=root_cert, path_length=0)
    got2 = pk.import_ca(admin, pk.to_pem(fake))
    assert got2["type"] == "intermediate" and got2["parent_id"] is None, got2


def test_import_names_and_slugs(admin):
    name = pk.unique_name("Same Name")
    a = pk.import_ca(admin, pk.to_pem(_external_root()[1]), name=name)
    b = pk.import_ca(admin, pk.to_pem(_external_root()[1]), name=name)
    assert a["slug"] == pk.slugify(name), a
    assert b["slug"] != a["slug"] and b["slug"].startswith(pk.slugify(name)), (a, b)


def test_revoking_an_imported_intermediate_reaches_its_certward_parent(admin, cw):
    """An imported intermediate whose parent is a certward CA: retiring it
    must be reported by the parent (a revoked row with its serial), as for
    intermediates made here."""
    root = pk.create_ca(admin, name=pk.unique_name("Imp Rev Parent"), path_length=1,
                        validity_days=3650)
    pw = idn.strong_password()
    exported = pk.ca_offline(admin, root["id"], "file_exported", pw)
    root_key = serialization.load_pem_private_key(exported["key_pem"].encode(), pw.encode())
    key = pk.gen_key("p256")
    inter = pk.build_cert(key, pk.unique_name("Imp Rev Inter"), issuer_key=root_key,
                          issuer_cert=pk.cert(root["pem"]), path_length=0, days=365)
    pk.ca_restore(admin, root["id"], pw, exported["key_pem"])
    got = pk.import_ca(admin, pk.to_pem(inter), key=pk.key_pem(key))
    assert got["parent_id"] == root["id"], got
    idn.data(admin.post(f"{CAS}/{got['id']}/revoke", json={"reason": "keyCompromise"}))
    assert _ca(admin, got["id"])["status"] == "revoked"
    rows = idn.data(admin.get(CERTS, params={"ca": root["id"]}))
    revoked = [x for x in rows if pk.sn(x["serial"]) == inter.serial_number]
    assert revoked and revoked[0]["status"] == "revoked", \
        f"the parent does not report the retired intermediate: {rows}"
    assert revoked[0]["revocation_reason"] == "keyCompromise", revoked


# --------------------------------------------------------------------------
# state changes racing each other


def test_concurrent_state_changes_have_one_winner(admin, chain, cw):
    """The updates are conditional on the state read before: of requests
    racing for the same change exactly one succeeds, the others get 409
    (or 404 once the certificate is gone)."""
    root = pk.create_ca(admin, name=pk.unique_name("Race Offline"), validity_days=365)
    pws = [idn.strong_password() for _ in range(4)]
    res = idn.parallel(lambda i: admin.post(f"{CAS}/{root['id']}/offline", json={
        "mode": "file_exported" if i % 2 else "password_protected", "password": pws[i]}), 4)
    codes = sorted(r.status_code for r in res)
    assert codes == [200, 409, 409, 409], [idn.describe(r) for r in res]
    win = [i for i, r in enumerate(res) if r.status_code == 200][0]
    for i, r in enumerate(res):
        if i != win:
            assert "key_pem" not in r.text and "PRIVATE KEY" not in r.text
    state = _ca(admin, root["id"])["key_state"]
    assert state == ("file_exported" if win % 2 else "password_protected"), state
    assert len(_audited(admin, "ca.offline", root["id"])) == 1
    key_pem = res[win].json()["data"].get("key_pem")
    res = idn.parallel(lambda i: admin.post(f"{CAS}/{root['id']}/restore",
                                            json={"password": pws[win], "key_pem": key_pem}
                                            if key_pem else {"password": pws[win]}), 3)
    assert sorted(r.status_code for r in res) == [200, 409, 409], \
        [idn.describe(r) for r in res]
    assert len(_audited(admin, "ca.restore", root["id"])) == 1

    d = pk.issue(admin, chain["inter"]["id"], cn="race.example.com", validity_days=30)
    idn.data(admin.post(f"{CERTS}/{d['id']}/revoke", json={"reason": "certificateHold"}))
    res = idn.parallel(lambda i: admin.post(f"{CERTS}/{d['id']}/release"), 4)
    assert sorted(r.status_code for r in res) == [200, 409, 409, 409], \
        [idn.describe(r) for r in res]
    assert len(_audited(admin, "certificate.release", d["id"])) == 1
    idn.data(admin.post(f"{CERTS}/{d['id']}/revoke", json={"reason": "superseded"}))
    res = idn.parallel(lambda i: admin.delete(f"{CERTS}/{d['id']}"), 4)
    codes = sorted(r.status_code for r in res)
    assert codes[0] == 204 and codes.count(204) == 1 and set(codes[1:]) <= {404, 409}, codes
    assert len(_audited(admin, "certificate.delete", d["id"])) == 1

    inter = pk.create_ca(admin, type="intermediate", parent_id=chain["root"]["id"],
                         validity_days=100)
    res = idn.parallel(lambda i: admin.post(f"{CAS}/{inter['id']}/revoke",
                                            json={"reason": "superseded"}), 4)
    assert sorted(r.status_code for r in res) == [200, 409, 409, 409], \
        [idn.describe(r) for r in res]
    assert len(_audited(admin, "ca.revoke", inter["id"])) == 1

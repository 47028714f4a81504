"""PKI: private keys at rest (DESIGN.md section 5). CA keys and
server-generated certificate keys are stored only wrapped
(XChaCha20-Poly1305, bound to their row): no PEM, no DER PKCS#8, not the
key's own bytes; a wrapped key copied into another CA's row does not
unwrap, so that CA cannot sign, and nothing is issued.

Runs on a private stack of its own (module scope): the tamper test edits
rows directly.
"""

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

import expect
import identity as idn
import pki_helpers as pk
import stack
from identity import API

P12_PASSWORD = "Wrap-check-passphrase-1"


@pytest.fixture(scope="module")
def env(mariadb, certward_bin, used_session):
    st = stack.Stack(mariadb, workers=2, threads=4, name="certward-private")
    try:
        st.prepare()
        idn.seed_security(st.cw, {"rate_limit_allowlist": idn.LOOPBACK_ALLOW})
        name, pw = idn.unique("root"), idn.strong_password()
        res, _ = idn.cli_user(st.cw, name, "admin", pw)
        assert res.returncode == 0, res
        st.start()
    except Exception:
        st.stop()
        raise
    used_session.parts.append(st)
    admin = idn.Client(st.url)
    admin.login(name, pw)
    yield {"stack": st, "cw": st.cw, "admin": admin}
    st.stop()


def _private_bytes(key):
    """Byte strings a plaintext copy of this key would contain."""
    out = [key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        n = (key.curve.key_size + 7) // 8
        out.append(key.private_numbers().private_value.to_bytes(n, "big"))
    elif isinstance(key, rsa.RSAPrivateKey):
        nums = key.private_numbers()
        out.append(nums.d.to_bytes((nums.d.bit_length() + 7) // 8, "big"))
        out.append(nums.p.to_bytes((nums.p.bit_length() + 7) // 8, "big"))
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        out.append(key.private_bytes(serialization.Encoding.Raw,
                                     serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption()))
    return out


def _assert_wrapped(blob, what):
    assert blob, f"{what}: no key_wrapped"
    assert b"BEGIN" not in blob and b"PRIVATE" not in blob, f"{what}: PEM at rest"
    assert not pk.looks_like_pkcs8_der(blob), f"{what}: DER PKCS#8 at rest: {blob[:16].hex()}"
    assert len(blob) > 41, f"{what}: too short to be a wrapped key"


@pytest.mark.parametrize("kind", ["rsa2048", "p256", "p384", "ed25519"])
def test_keys_are_stored_wrapped(env, kind):
    admin, cw = env["admin"], env["cw"]
    ca = pk.create_ca(admin, key=pk.KEY_SPECS[kind], validity_days=365)
    _assert_wrapped(pk.blob_column(cw, "cas", "key_wrapped", ca["id"]), f"CA {kind}")
    d = pk.issue(admin, ca["id"], cn=f"wrap-{kind}.example.com", key=pk.KEY_SPECS[kind],
                 validity_days=30)
    blob = pk.blob_column(cw, "certificates", "key_wrapped", d["id"])
    _assert_wrapped(blob, f"certificate {kind}")
    # the real key, from the PKCS#12 export, is nowhere in the blob
    r = admin.post(f"{API}/certificates/{d['id']}/export",
                   json={"format": "p12", "password": P12_PASSWORD})
    assert r.status_code == 200, idn.describe(r)
    key, _, _ = pkcs12.load_key_and_certificates(r.content, P12_PASSWORD.encode())
    for secret in _private_bytes(key):
        assert secret not in blob, f"{kind}: key material in key_wrapped"
    # and in no other column of the row
    row = pk.row_bytes(cw, "certificates", d["id"])
    assert len(row) > 100
    for secret in _private_bytes(key):
        assert secret not in row
    # a certificate issued from a CSR has no key here
    csr = pk.make_csr(pk.gen_key("p256"), "csr-wrap.example.com")
    d2 = pk.issue(admin, ca["id"], cn=None, csr=base64.b64encode(
        pk.pem_to_der(csr)).decode(), sans=[{"type": "dns", "value": "csr-wrap.example.com"}],
        validity_days=30)
    assert d2["has_private_key"] is False
    assert pk.blob_column(cw, "certificates", "key_wrapped", d2["id"]) == b""


def test_no_key_material_anywhere_in_the_tables(env):
    cw = env["cw"]
    pk.create_ca(env["admin"], validity_days=30)
    assert cw.scalar("SELECT COUNT(*) FROM cas WHERE key_wrapped LIKE '%BEGIN%' "
                     "OR key_wrapped LIKE '%PRIVATE%'") == "0"
    assert cw.scalar("SELECT COUNT(*) FROM certificates WHERE key_wrapped LIKE '%BEGIN%' "
                     "OR key_wrapped LIKE '%PRIVATE%'") == "0"
    assert cw.scalar("SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%PRIVATE KEY%'") == "0"
    for table in ("cas", "certificates"):
        for (rid,) in cw.sql(f"SELECT id FROM {table} WHERE key_wrapped IS NOT NULL"):
            _assert_wrapped(pk.blob_column(cw, table, "key_wrapped", rid), f"{table} {rid}")


def _valid_count(cw):
    return int(cw.scalar("SELECT COUNT(*) FROM certificates WHERE status <> 'pending'"))


def test_wrapped_key_copied_to_another_ca_does_not_sign(env):
    admin, cw = env["admin"], env["cw"]
    a = pk.create_ca(admin, name=pk.unique_name("Tamper A"), key=pk.KEY_SPECS["p256"],
                     validity_days=365)
    b = pk.create_ca(admin, name=pk.unique_name("Tamper B"), key=pk.KEY_SPECS["p256"],
                     validity_days=365)
    original = cw.scalar(f"SELECT HEX(key_wrapped) FROM cas WHERE id = {b['id']}")
    cw.sql(f"UPDATE cas SET key_wrapped = (SELECT k FROM (SELECT key_wrapped AS k FROM cas "
           f"WHERE id = {a['id']}) t) WHERE id = {b['id']}")
    assert cw.scalar(f"SELECT HEX(key_wrapped) FROM cas WHERE id = {b['id']}") != original
    before_rows = _valid_count(cw)
    before_list = idn.data(admin.get(API + "/certificates", params={"ca": b["id"]}))
    body = {"ca_id": b["id"], "template": "server", "subject": {"CN": "tamper.example.com"},
            "sans": [{"type": "dns", "value": "tamper.example.com"}],
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30}
    r = admin.post(API + "/certificates", json=body)
    assert r.status_code != 201, f"signed with a key moved from another row: {r.text[:300]}"
    assert r.status_code in (409, 500, 503), idn.describe(r)
    doc = expect.problem(r, r.status_code)
    if r.status_code == 500:
        assert doc["code"] == "crypto_error", doc
    assert "BEGIN" not in r.text
    assert _valid_count(cw) == before_rows, "a certificate was stored"
    assert cw.scalar(f"SELECT COUNT(*) FROM certificates WHERE ca_id = {b['id']} "
                     "AND status = 'valid'") == "0"
    assert idn.data(admin.get(API + "/certificates", params={"ca": b["id"]})) == before_list
    # an intermediate under the tampered CA cannot be made either
    r = admin.post(API + "/cas", json={
        "name": pk.unique_name("Under Tampered"), "type": "intermediate", "parent_id": b["id"],
        "subject": {"CN": "Under Tampered"}, "key": {"type": "ec", "curve": "P-256"},
        "validity_days": 30})
    assert r.status_code != 201, r.text[:300]
    expect.problem(r, r.status_code)
    assert cw.scalar(f"SELECT COUNT(*) FROM cas WHERE parent_id = {b['id']} "
                     "AND status = 'active'") == "0"
    # CA A still works; B works again once its own blob is back
    pk.issue(admin, a["id"], cn="a-still-works.example.com", validity_days=30)
    cw.sql(f"UPDATE cas SET key_wrapped = UNHEX('{original}') WHERE id = {b['id']}")
    d = pk.issue(admin, b["id"], cn="b-works-again.example.com", validity_days=30)
    pk.assert_chain_valid(b["pem"], d["pem"])


def test_wrapped_certificate_key_copied_to_another_row_does_not_export(env):
    admin, cw = env["admin"], env["cw"]
    ca = pk.create_ca(admin, validity_days=365)
    x = pk.issue(admin, ca["id"], cn="x.example.com", validity_days=30)
    y = pk.issue(admin, ca["id"], cn="y.example.com", validity_days=30)
    cw.sql(f"UPDATE certificates SET key_wrapped = (SELECT k FROM (SELECT key_wrapped AS k "
           f"FROM certificates WHERE id = {x['id']}) t) WHERE id = {y['id']}")
    ok_exports = ("SELECT COUNT(*) FROM audit_log WHERE action = 'certificate.export' "
                  "AND outcome = 'success'")
    audits = int(cw.scalar(ok_exports))
    r = admin.post(f"{API}/certificates/{y['id']}/export",
                   json={"format": "p12", "password": P12_PASSWORD})
    assert r.status_code != 200, "exported a key moved from another row"
    expect.problem(r, r.status_code)
    assert r.status_code in (409, 500, 503), idn.describe(r)
    assert int(cw.scalar(ok_exports)) == audits, \
        f"an export that failed ({idn.describe(r)}) is in the audit log with outcome 'success'"
    r = admin.post(f"{API}/certificates/{x['id']}/export",
                   json={"format": "p12", "password": P12_PASSWORD})
    assert r.status_code == 200, idn.describe(r)
    assert int(cw.scalar(ok_exports)) == audits + 1

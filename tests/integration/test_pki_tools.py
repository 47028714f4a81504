"""PKI tools: POST /api/v2/tools/decode (certificates issued by certward,
CSRs, CRLs made with python-cryptography, the P7B of a CA export; PEM and
base64 DER; malformed, truncated, trailing and mislabelled input; caps and
permissions) and GET /api/v2/dashboard/stats, whose numbers are followed
exactly on a private stack while certificates are issued, revoked and
back-dated.

Decoding runs on the session stack; the dashboard test has a database of
its own so that no other test moves its counts.
"""

import base64
import datetime
import secrets

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

import expect
import identity as idn
import pki_helpers as pk
from identity import API

DECODE = API + "/tools/decode"
STATS = API + "/dashboard/stats"
INPUT_MAX = 256 * 1024
UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


@pytest.fixture(scope="module")
def viewer(admin):
    return idn.login_new(admin, role="viewer", prefix="toolv")


@pytest.fixture(scope="module")
def chain(admin):
    """A P-256 root and an issuing CA under it."""
    root = pk.create_ca(admin, name=pk.unique_name("Tools Root"), key=pk.KEY_SPECS["p256"],
                        path_length=1)
    inter = pk.create_ca(admin, name=pk.unique_name("Tools Issuing"), type="intermediate",
                         parent_id=root["id"], key=pk.KEY_SPECS["p256"], path_length=0,
                         validity_days=1825)
    return {"root": root, "inter": inter}


@pytest.fixture(scope="module")
def leaf(admin, chain):
    cn = f"decode-{secrets.token_hex(3)}.example.com"
    return pk.issue(admin, chain["inter"]["id"], cn=cn,
                    sans=[{"type": "dns", "value": cn}, {"type": "ip", "value": "192.0.2.9"}])


def b64(der, wrap=False):
    text = base64.b64encode(der).decode()
    if wrap:
        text = "\r\n".join(text[i:i + 64] for i in range(0, len(text), 64))
    return text


def decode(client, data, type=None, status=200):
    body = {"data": data}
    if type is not None:
        body["type"] = type
    return idn.data(client.post(DECODE, json=body), status)


def refused(client, body, status=400, code=None, field="data", detail=None):
    """A decode request that must fail with a problem naming field."""
    r = pk.post_raw(client, DECODE, body)
    expect.not_5xx(r, str(body)[:200])
    doc = expect.problem(r, status, code)
    if field is not None:
        assert doc.get("field") == field, f"{str(body)[:200]}: {doc}"
    if detail is not None:
        assert detail in doc["detail"], f"{str(body)[:200]}: {doc}"
    return doc


# --------------------------------------------------------------------------
# certificates


def check_leaf(d, leaf, chain):
    c = pk.cert(leaf["pem"])
    assert d["type"] == "certificate", d
    assert pk.sn(d["serial"]) == c.serial_number == pk.sn(leaf["serial"]), d
    assert d["sha256"].lower().replace(":", "") == pk.fingerprint(c), d
    assert d["sha1"].lower().replace(":", "") == c.fingerprint(hashes.SHA1()).hex(), d
    assert d["subject"]["CN"] == pk.cn_of(c) and d["subject_dn"] == f"CN={pk.cn_of(c)}", d
    assert d["issuer"]["CN"] == pk.cn_of(pk.cert(chain["inter"]["pem"])), d
    assert d["sans"] == pk.sans_of(c), d
    assert pk.parse_time(d["not_after"]) == pk.utc(c, "not_valid_after"), d
    assert pk.parse_time(d["not_before"]) == pk.utc(c, "not_valid_before"), d
    assert d["is_ca"] is False and d["path_len"] is None, d
    assert "digitalSignature" in d["key_usage"] and "serverAuth" in d["eku"], d
    assert d["key"] == {"type": "ec", "curve": "P-256", "bits": 256}, d
    assert d["ski"] and d["aki"], d
    assert pk.cert(d["pem"]) == c, "the PEM does not round-trip"


def test_decode_certificate_pem(admin, chain, leaf):
    d = decode(admin, leaf["pem"])
    check_leaf(d, leaf, chain)
    # Explicit type, and the text `openssl x509 -text` puts around a PEM.
    d2 = decode(admin, "Certificate:\n    Data: ...\n" + leaf["pem"] + "\n", type="certificate")
    assert d2 == d


@pytest.mark.parametrize("wrap", [False, True], ids=["one-line", "wrapped"])
def test_decode_certificate_base64_der(admin, chain, leaf, wrap):
    der = pk.pem_to_der(leaf["pem"])
    d = decode(admin, b64(der, wrap))
    check_leaf(d, leaf, chain)
    assert decode(admin, b64(der), type="certificate") == d


def test_decode_ca_certificate(admin, chain):
    d = decode(admin, chain["root"]["pem"])
    c = pk.cert(chain["root"]["pem"])
    assert d["type"] == "certificate" and d["is_ca"] is True and d["path_len"] == 1, d
    assert d["subject_dn"] == d["issuer_dn"], d
    assert pk.sn(d["serial"]) == c.serial_number
    assert "keyCertSign" in d["key_usage"] and "cRLSign" in d["key_usage"], d


# --------------------------------------------------------------------------
# CSRs


def test_decode_csr_pem_and_der(admin):
    key = pk.gen_key("p384")
    cn = f"csr-{secrets.token_hex(3)}.example.com"
    sans = [x509.DNSName(cn), x509.IPAddress(pk.ip("2001:db8::5")),
            x509.RFC822Name("ops@example.com")]
    pem = pk.make_csr(key, cn=cn, sans=sans)
    d = decode(admin, pem)
    assert d["type"] == "csr", d
    assert d["subject"] == {"CN": cn} and d["subject_dn"] == f"CN={cn}", d
    assert d["sans"] == [{"type": "dns", "value": cn}, {"type": "ip", "value": "2001:db8::5"},
                         {"type": "email", "value": "ops@example.com"}], d
    assert d["key"] == {"type": "ec", "curve": "P-384", "bits": 384}, d
    assert d["signature_valid"] is True, d
    assert x509.load_pem_x509_csr(d["pem"].encode()).public_bytes(
        serialization.Encoding.PEM).decode() == pem
    der = pk.make_csr(key, cn=cn, sans=sans, der=True)
    dd = decode(admin, b64(der, wrap=True), type="csr")
    # (signed again: ECDSA signatures differ, so the PEM does too)
    assert {k: v for k, v in dd.items() if k != "pem"} == \
        {k: v for k, v in d.items() if k != "pem"}, dd
    assert pk.pem_to_der(dd["pem"]) == der


def test_decode_csr_bad_signature_is_reported(admin):
    """A decoder shows a request whose signature does not verify instead of
    refusing it (enrollment refuses it)."""
    der = bytearray(pk.make_csr(pk.gen_key("rsa2048"), cn="tampered.example.com", der=True))
    der[-1] ^= 0x01                       # last octet of the RSA signature
    d = decode(admin, b64(bytes(der)))
    assert d["type"] == "csr" and d["signature_valid"] is False, d
    assert d["subject"] == {"CN": "tampered.example.com"}, d
    assert d["key"]["type"] == "rsa" and d["key"]["bits"] == 2048, d
    # and the unmodified request verifies
    ok = pk.make_csr(pk.gen_key("ed25519"), cn="fine.example.com")
    assert decode(admin, ok)["signature_valid"] is True


# --------------------------------------------------------------------------
# CRLs


SERIAL_20 = int.from_bytes(b"\x7f" + secrets.token_bytes(19), "big")   # 20 octets


def make_crl(entries, number=42, issuer_cn="Decode Test CA"):
    """A CRL signed by a fresh P-256 key; entries: (serial, date, reason or
    None, invalidity date or None)."""
    key = pk.gen_key("p256")
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "certward"),
                                 x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)]))
         .last_update(now - datetime.timedelta(hours=1))
         .next_update(now + datetime.timedelta(days=7)))
    if number is not None:
        b = b.add_extension(x509.CRLNumber(number), critical=False)
    for serial, when, reason, invalid in entries:
        rb = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        if reason is not None:
            rb = rb.add_extension(x509.CRLReason(reason), critical=False)
        if invalid is not None:
            rb = rb.add_extension(x509.InvalidityDate(invalid), critical=False)
        b = b.add_revoked_certificate(rb.build())
    crl = b.sign(key, hashes.SHA256())
    return crl, now


def crl_entries():
    t0 = datetime.datetime(2026, 3, 1, 12, 30, 0, tzinfo=UTC)
    return [
        (1, t0, x509.ReasonFlags.key_compromise, t0 - datetime.timedelta(days=2)),
        (SERIAL_20, t0 + datetime.timedelta(days=1), None, None),
        (0x1234abcd, t0 + datetime.timedelta(days=2), x509.ReasonFlags.cessation_of_operation,
         None),
        (0xfedcba9876543210, t0 + datetime.timedelta(days=3),
         x509.ReasonFlags.certificate_hold, None),
        (77, t0 + datetime.timedelta(days=4), x509.ReasonFlags.aa_compromise, None),
    ]


REASON_NAMES = {x509.ReasonFlags.key_compromise: "keyCompromise",
                x509.ReasonFlags.cessation_of_operation: "cessationOfOperation",
                x509.ReasonFlags.certificate_hold: "certificateHold",
                x509.ReasonFlags.aa_compromise: "aACompromise"}


def rfc3339(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_crl(d, crl, entries):
    assert d["type"] == "crl", d
    assert d["version"] == 2, d
    assert d["issuer"] == {"CN": "Decode Test CA", "O": "certward"}, d
    assert d["issuer_dn"] == "CN=Decode Test CA,O=certward", d
    last = getattr(crl, "last_update_utc", None) or crl.last_update.replace(tzinfo=UTC)
    nxt = getattr(crl, "next_update_utc", None) or crl.next_update.replace(tzinfo=UTC)
    assert d["this_update"] == rfc3339(last) and d["next_update"] == rfc3339(nxt), d
    assert d["crl_number"] == "42" and d["delta_base"] is None, d
    assert d["revoked_count"] == len(entries) and d["truncated"] is False, d
    got = {pk.sn(e["serial"]): e for e in d["revoked"]}
    assert len(got) == len(entries), d["revoked"]
    for serial, when, reason, invalid in entries:
        e = got[serial]
        assert e["revocation_date"] == rfc3339(when), e
        assert e["reason"] == (REASON_NAMES[reason] if reason else None), e
        assert e["invalidity_date"] == (rfc3339(invalid) if invalid else None), e
    assert len(got[SERIAL_20]["serial"]) == 40, got[SERIAL_20]     # 20 octets
    assert x509.load_pem_x509_crl(d["pem"].encode()) == crl, "the PEM does not round-trip"


def test_decode_crl_pem_and_der(admin):
    entries = crl_entries()
    crl, _ = make_crl(entries)
    pem = crl.public_bytes(serialization.Encoding.PEM).decode()
    d = decode(admin, pem)
    check_crl(d, crl, entries)
    der = crl.public_bytes(serialization.Encoding.DER)
    assert decode(admin, b64(der)) == d            # auto from the structure
    assert decode(admin, b64(der, wrap=True), type="crl") == d
    # a CRL is not a certificate
    refused(admin, {"data": pem, "type": "certificate"}, detail="crl")
    refused(admin, {"data": b64(der), "type": "certificate"},
            detail="not a well-formed X.509 certificate")


def test_decode_crl_without_entries_or_number(admin):
    crl, _ = make_crl([], number=None)
    d = decode(admin, crl.public_bytes(serialization.Encoding.PEM).decode(), type="crl")
    assert d["revoked"] == [] and d["revoked_count"] == 0 and d["truncated"] is False, d
    assert d["crl_number"] is None and d["next_update"] is not None, d


def test_decode_crl_many_entries(admin):
    t = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    entries = [(1000 + i, t, None, None) for i in range(2000)]
    crl, _ = make_crl(entries)
    d = decode(admin, b64(crl.public_bytes(serialization.Encoding.DER)))
    assert d["revoked_count"] == 2000 and len(d["revoked"]) == 2000, d["revoked_count"]
    assert d["truncated"] is False
    assert sorted(pk.sn(e["serial"]) for e in d["revoked"]) == [1000 + i for i in range(2000)]


# --------------------------------------------------------------------------
# PKCS#7


def test_decode_p7b_from_ca_export(admin, chain):
    r = admin.get(f"{API}/cas/{chain['inter']['id']}/export", params={"format": "p7b"})
    assert r.status_code == 200, idn.describe(r)
    data = r.text if r.content.startswith(b"-----") else b64(r.content)
    d = decode(admin, data)
    assert d["type"] == "pkcs7", d
    assert d["count"] == len(d["certificates"]) >= 1, d
    serials = {pk.sn(c["serial"]) for c in d["certificates"]}
    assert pk.cert(chain["inter"]["pem"]).serial_number in serials, d
    for c in d["certificates"]:
        assert c["is_ca"] is True and "-----BEGIN CERTIFICATE-----" in c["pem"], c
    expected = {pk.fingerprint(pk.cert(chain[k]["pem"])) for k in ("inter", "root")}
    assert {c["sha256"] for c in d["certificates"]} <= expected, d
    if data.startswith("-----"):
        der = pk.pem_to_der(data)
    else:
        der = r.content
    assert decode(admin, b64(der), type="pkcs7") == d
    assert decode(admin, pk.der_to_pem(der, "PKCS7")) == d


# --------------------------------------------------------------------------
# refusals


def test_decode_refuses_bad_input(admin, leaf):
    pem = leaf["pem"]
    der = pk.pem_to_der(pem)
    cases = [
        ("garbage", {"data": "hello, world!"}, "PEM or base64"),
        ("base64 of text", {"data": b64(b"just some text, not DER")}, "not DER"),
        ("truncated", {"data": b64(der[:-10])}, "truncated DER"),
        ("truncated header", {"data": b64(der[:3])}, "truncated"),
        ("trailing byte", {"data": b64(der + b"\x00")}, "1 trailing byte after"),
        ("trailing object", {"data": b64(der + der)}, "trailing bytes"),
        ("BER indefinite", {"data": b64(b"\x30\x80" + der[4:] + b"\x00\x00")}, "indefinite"),
        ("sequence of junk", {"data": b64(b"\x30\x03\x02\x01\x05")},
         "not a certificate, CSR, CRL or PKCS#7"),
        ("junk as crl", {"data": b64(b"\x30\x03\x02\x01\x05"), "type": "crl"},
         "not a well-formed X.509 CRL"),
        ("junk as csr", {"data": b64(b"\x30\x03\x02\x01\x05"), "type": "csr"},
         "PKCS#10"),
        ("junk as pkcs7", {"data": b64(b"\x30\x03\x02\x01\x05"), "type": "pkcs7"},
         "PKCS#7"),
        ("wrong label", {"data": pem.replace("CERTIFICATE", "X509 CRL")},
         "not a well-formed X.509 CRL"),
        ("label of another type", {"data": pem, "type": "csr"},
         "announces a certificate, not a csr"),
        ("private key label", {"data": pem.replace("CERTIFICATE", "PRIVATE KEY")},
         'PEM label "PRIVATE KEY" is not'),
        ("no END line", {"data": pem.split("-----END")[0]}, "no matching END"),
        ("mismatched END", {"data": pem.replace("END CERTIFICATE", "END X509 CRL")},
         "no matching END"),
        ("two blocks", {"data": pem + pem}, "more than one PEM block"),
        ("bad base64 in PEM", {"data": pem.replace("\n", "\n!", 1)}, "not valid base64"),
        ("PEM headers", {"data": pem.replace("-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n",
                                             1)}, "headers"),
        ("empty", {"data": ""}, "empty"),
        ("blanks", {"data": " \n\t"}, "PEM or base64"),
        ("misplaced padding", {"data": "MA==MA=="}, "PEM or base64"),
        ("control bytes", {"data": "MAA=\x01"}, None),
        ("not a string", {"data": 12}, None),
        ("null", {"data": None}, None),
    ]
    for what, body, detail in cases:
        try:
            refused(admin, body, detail=detail)
        except AssertionError as e:
            raise AssertionError(f"{what}: {e}") from None


def test_decode_refuses_bad_fields(admin, leaf):
    refused(admin, {}, field="data")
    refused(admin, {"data": leaf["pem"], "extra": 1}, field="extra")
    refused(admin, {"data": leaf["pem"], "type": "x509"}, field="type",
            detail="auto, certificate, csr, crl or pkcs7")
    refused(admin, {"data": leaf["pem"], "type": 3}, field="type")
    refused(admin, b'{"data": "a", "data": "b"}', code="malformed_json", field=None)
    refused(admin, b"[]", code="malformed_json", field=None)
    r = admin.post(DECODE, data=b'{"data": "MAA="}', headers={"Content-Type": "text/plain"})
    expect.problem(r, 415)


def test_decode_size_caps(admin, leaf):
    # Over 256 KiB of input: 413 from the handler, naming data.
    big = leaf["pem"] + " " * (INPUT_MAX + 1 - len(leaf["pem"]))
    assert len(big) == INPUT_MAX + 1
    refused(admin, {"data": big}, status=413, code="payload_too_large", detail="256 KiB")
    refused(admin, {"data": "A" * (300 * 1024)}, status=413, code="payload_too_large")
    # Exactly at the cap is decoded.
    ok = leaf["pem"] + " " * (INPUT_MAX - len(leaf["pem"]))
    assert decode(admin, ok)["type"] == "certificate"
    # Over the route's 512 KiB body cap: refused before the handler.
    r = pk.post_raw(admin, DECODE, {"data": "A" * (600 * 1024)})
    expect.problem(r, 413, "payload_too_large")


def test_decode_permissions(session_stack, admin, viewer, leaf):
    assert decode(viewer, leaf["pem"])["type"] == "certificate"
    anon = idn.Client(session_stack.url)
    expect.problem(anon.post(DECODE, json={"data": leaf["pem"]}), 401)
    key = idn.data(viewer.post(API + "/account/api-keys",
                               json={"name": "cas only", "scopes": ["read:cas"]}), 201)
    k = idn.bearer(session_stack.url, key["token"])
    expect.problem(k.post(DECODE, json={"data": leaf["pem"]}), 403, "forbidden")
    expect.problem(k.get(STATS), 403, "forbidden")
    expect.problem(anon.get(STATS), 401)
    d = idn.data(viewer.get(STATS))
    assert len(d["issued_per_day"]) == 30


# --------------------------------------------------------------------------
# dashboard


def stats(client):
    d = idn.data(client.get(STATS))
    days = d["issued_per_day"]
    assert len(days) == 30, days
    dates = [datetime.date.fromisoformat(x["date"]) for x in days]
    assert all(b - a == datetime.timedelta(days=1) for a, b in zip(dates, dates[1:])), dates
    return d


def test_dashboard_counts_follow_the_certificates(make_stack):
    st, admin = idn.private_stack(make_stack)
    cw = st.cw
    today = datetime.date.fromisoformat(cw.scalar("SELECT UTC_DATE()"))

    d = stats(admin)
    assert d["certificates"] == {"total": 0, "valid": 0, "revoked": 0, "expired": 0,
                                 "expiring_7d": 0, "expiring_30d": 0}, d
    assert d["cas"] == {"total": 0, "active": 0}, d
    assert datetime.date.fromisoformat(d["issued_per_day"][-1]["date"]) == today
    assert all(x["count"] == 0 for x in d["issued_per_day"]), d

    root = pk.create_ca(admin, name=pk.unique_name("Dash Root"))
    other = pk.create_ca(admin, name=pk.unique_name("Dash Other"))
    d = stats(admin)
    assert d["cas"] == {"total": 2, "active": 2}, d
    assert d["certificates"]["total"] == 0, "a root CA is no certificate row"

    ids = [pk.issue(admin, root["id"], cn=f"dash{i}.example.com")["id"] for i in range(6)]
    d = stats(admin)
    assert d["certificates"] == {"total": 6, "valid": 6, "revoked": 0, "expired": 0,
                                 "expiring_7d": 0, "expiring_30d": 0}, d
    assert d["issued_per_day"][-1] == {"date": today.isoformat(), "count": 6}, d

    a, b, c, e, f, g = ids
    idn.data(admin.post(f"{API}/certificates/{a}/revoke", json={"reason": "keyCompromise"}))
    cw.sql(f"UPDATE certificates SET not_after = UTC_TIMESTAMP() - INTERVAL 1 DAY WHERE id = {b}")
    cw.sql(f"UPDATE certificates SET not_after = UTC_TIMESTAMP() + INTERVAL 3 DAY WHERE id = {c}")
    cw.sql(f"UPDATE certificates SET not_after = UTC_TIMESTAMP() + INTERVAL 20 DAY "
           f"WHERE id = {e}")
    # issued three days ago, and one before the 30-day window
    cw.sql(f"UPDATE certificates SET created_at = UTC_TIMESTAMP() - INTERVAL 3 DAY "
           f"WHERE id = {f}")
    cw.sql(f"UPDATE certificates SET created_at = UTC_TIMESTAMP() - INTERVAL 45 DAY "
           f"WHERE id = {g}")
    d = stats(admin)
    assert d["certificates"] == {"total": 6, "valid": 4, "revoked": 1, "expired": 1,
                                 "expiring_7d": 1, "expiring_30d": 2}, d
    per_day = {x["date"]: x["count"] for x in d["issued_per_day"]}
    three_ago = cw.scalar("SELECT DATE(UTC_TIMESTAMP() - INTERVAL 3 DAY)")
    assert per_day[today.isoformat()] == 4, d
    assert per_day[three_ago] == 1, d
    assert sum(per_day.values()) == 5, d

    # A revoked certificate that has also expired counts as revoked only;
    # pending rows (serial reserved, never signed) never count.
    cw.sql(f"UPDATE certificates SET not_after = UTC_TIMESTAMP() - INTERVAL 2 DAY WHERE id = {a}")
    cw.sql("INSERT INTO certificates (ca_id, serial, status, not_after) VALUES "
           f"({root['id']}, '{secrets.token_hex(20)}', 'pending', "
           "UTC_TIMESTAMP() + INTERVAL 2 DAY)")
    # An expired CA is no longer active.
    cw.sql(f"UPDATE cas SET not_after = UTC_TIMESTAMP() - INTERVAL 1 HOUR WHERE id = {other['id']}")
    d2 = stats(admin)
    assert d2["certificates"] == d["certificates"], d2
    assert d2["issued_per_day"] == d["issued_per_day"], d2
    assert d2["cas"] == {"total": 2, "active": 1}, d2

    # Expiry moves with time: push C past its notAfter.
    cw.sql(f"UPDATE certificates SET not_after = UTC_TIMESTAMP() - INTERVAL 1 SECOND "
           f"WHERE id = {c}")
    d3 = stats(admin)
    assert d3["certificates"] == {"total": 6, "valid": 3, "revoked": 1, "expired": 2,
                                  "expiring_7d": 0, "expiring_30d": 1}, d3

    # An intermediate's own certificate is a row of its parent and counts.
    pk.create_ca(admin, name=pk.unique_name("Dash Sub"), type="intermediate",
                 parent_id=root["id"], validity_days=365)
    d4 = stats(admin)
    assert d4["cas"] == {"total": 3, "active": 2}, d4
    assert d4["certificates"]["total"] == 7 and d4["certificates"]["valid"] == 4, d4
    assert d4["issued_per_day"][-1]["count"] == 5, d4

"""Revocation services end to end, checked by real relying-party tools:
`openssl ocsp` (POST, and GET through curl, with and without a nonce, SHA-1
and SHA-256 CertIDs, CA-signed and delegated responses), GnuTLS
`ocsptool`, `openssl verify -crl_check / -crl_check_all / -use_deltas`
with the CRLs certward publishes at /cdp, AIA files at /ca, the cron tasks
crl-regen, ocsp-presign and ocsp-responder-renew, offline CAs (answered by
their delegated responder; an externally signed CRL uploaded), and bad
OCSP input answered in OCSP's own terms.

Runs on the session stack (nginx in front of certward).
"""

import base64
import datetime
import re
import subprocess
import urllib.parse

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

import identity as idn
import pki_helpers as pk
import stack
from identity import API

CAS = API + "/cas"
CERTS = API + "/certificates"
OCSP_REQ = "application/ocsp-request"
OCSP_RESP = "application/ocsp-response"


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


@pytest.fixture(scope="module")
def tmp():
    d = stack.make_tmpdir("cwrev.")
    return d


def cron(cw, task):
    res = cw.command("cron", task, "--force", timeout=300)
    assert res.returncode == 0, f"cron {task}: {res.stdout}\n{res.stderr}"
    return res.stdout


def set_revocation(admin, ca_id, crl_days=7, delta_hours=0, ocsp_hours=24, ocsp_signer="ca"):
    return idn.data(admin.put(f"{CAS}/{ca_id}/crl/settings", json={
        "crl_days": crl_days, "delta_hours": delta_hours, "ocsp_hours": ocsp_hours,
        "ocsp_signer": ocsp_signer}))


def revoke(admin, cert_id, reason="keyCompromise"):
    idn.data(admin.post(f"{CERTS}/{cert_id}/revoke", json={"reason": reason}))


@pytest.fixture(scope="module")
def pki(admin, tmp):
    """A P-384 root, a P-256 issuing CA under it (CA-signed OCSP) and leaves:
    good, revoked (keyCompromise), on hold."""
    root = pk.create_ca(admin, name=pk.unique_name("Rev Root"), key=pk.KEY_SPECS["p384"],
                        path_length=1)
    inter = pk.create_ca(admin, name=pk.unique_name("Rev Issuing"), type="intermediate",
                         parent_id=root["id"], key=pk.KEY_SPECS["p256"], path_length=0,
                         validity_days=1000)
    set_revocation(admin, inter["id"], ocsp_signer="ca")
    good = pk.issue(admin, inter["id"], cn="good.example.com")
    bad = pk.issue(admin, inter["id"], cn="revoked.example.com")
    held = pk.issue(admin, inter["id"], cn="held.example.com")
    revoke(admin, bad["id"], "keyCompromise")
    revoke(admin, held["id"], "certificateHold")
    files = {
        "root": pk.write(tmp, "root.pem", root["pem"]),
        "inter": pk.write(tmp, "inter.pem", inter["pem"]),
        "chain": pk.write(tmp, "chain.pem", inter["pem"] + root["pem"]),
        "good": pk.write(tmp, "good.pem", good["pem"]),
        "bad": pk.write(tmp, "bad.pem", bad["pem"]),
        "held": pk.write(tmp, "held.pem", held["pem"]),
    }
    return {"root": root, "inter": inter, "good": good, "bad": bad, "held": held,
            "files": files}


def ocsp_cli(base_url, issuer, certs, *extra, url_path="/ocsp", digest=None):
    argv = ["openssl", "ocsp", "-issuer", str(issuer)]
    if digest:
        argv.append(digest)   # before -cert, which it applies to
    for c in certs:
        argv += ["-cert", str(c)]
    argv += ["-url", base_url + url_path, "-resp_text", "-timeout", "20", *map(str, extra)]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return res.returncode, res.stdout + res.stderr


# --------------------------------------------------------------------------
# OCSP with openssl


@pytest.mark.parametrize("nonce", [False, True])
def test_openssl_ocsp_post_statuses(base_url, pki, nonce):
    f = pki["files"]
    extra = ["-CAfile", f["root"], "-verify_other", f["inter"]]
    if not nonce:
        extra.append("-no_nonce")
    rc, out = ocsp_cli(base_url, f["inter"], [f["good"], f["bad"], f["held"]], *extra)
    assert rc == 0, out
    assert "Response verify OK" in out, out
    assert re.search(r"good\.pem: good", out), out
    assert re.search(r"bad\.pem: revoked", out), out
    assert "Reason: keyCompromise" in out, out
    assert "Reason: certificateHold" in out, out
    if nonce:
        assert "WARNING: no nonce" not in out and "Response Extensions" in out, out
        assert "OCSP Nonce" in out, out


def test_openssl_ocsp_unknown_serial(base_url, pki):
    f = pki["files"]
    argv = ["openssl", "ocsp", "-issuer", str(f["inter"]), "-serial", "0x1badc0ffee",
            "-url", base_url + "/ocsp", "-CAfile", str(f["root"]), "-verify_other",
            str(f["inter"]), "-no_nonce", "-resp_text", "-timeout", "20"]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert "Response verify OK" in res.stdout + res.stderr, res.stdout + res.stderr
    assert re.search(r"0x1BADC0FFEE: unknown", res.stdout, re.I), res.stdout


def test_openssl_ocsp_sha256_certid(base_url, pki):
    f = pki["files"]
    rc, out = ocsp_cli(base_url, f["inter"], [f["bad"]], "-no_nonce", "-CAfile", f["root"],
                       "-verify_other", f["inter"], digest="-sha256")
    assert rc == 0 and "Response verify OK" in out, out
    assert "Hash Algorithm: sha256" in out, out
    assert "sha1" not in out.split("Response Data")[1].split("Signature Algorithm")[0], out


def test_ocsp_get_with_cache_headers(base_url, pki, tmp):
    f = pki["files"]
    req = tmp / "get-req.der"
    res = pk.openssl("ocsp", "-issuer", f["inter"], "-cert", f["good"], "-no_nonce",
                     "-reqout", req)
    assert res.returncode == 0, res.stderr
    b64 = base64.b64encode(req.read_bytes()).decode()
    path = "/ocsp/" + urllib.parse.quote(b64, safe="")
    r = requests.get(base_url + path, timeout=20)
    assert r.status_code == 200 and r.headers["Content-Type"] == OCSP_RESP
    m = re.search(r"max-age=(\d+)", r.headers.get("Cache-Control", ""))
    assert m and 3600 < int(m.group(1)) <= 24 * 3600, r.headers
    assert "Expires" in r.headers
    resp_file = tmp / "get-resp.der"
    resp_file.write_bytes(r.content)
    res = pk.openssl("ocsp", "-respin", resp_file, "-issuer", f["inter"], "-cert", f["good"],
                     "-CAfile", f["root"], "-verify_other", f["inter"], "-no_nonce")
    out = (res.stdout + res.stderr).decode()
    assert "Response verify OK" in out and "good.pem: good" in out, out
    # The unescaped form (base64 with '/' and '+' in the path) works too.
    r2 = requests.get(base_url + "/ocsp/" + b64, timeout=20)
    assert r2.status_code == 200 and r2.content[:1] == b"\x30"
    assert ocsp.load_der_ocsp_response(r2.content).certificate_status == \
        ocsp.OCSPCertStatus.GOOD


def test_stored_response_is_reused_and_revocation_is_immediate(base_url, admin, pki, tmp):
    """Two requests without a nonce get the same bytes (ECDSA signatures
    differ each time, so nothing was signed again); a revocation replaces
    the stored answer at once."""
    leaf = pk.issue(admin, pki["inter"]["id"], cn="flip.example.com")
    c = pk.cert(leaf["pem"])
    issuer = pk.cert(pki["inter"]["pem"])
    req = ocsp.OCSPRequestBuilder().add_certificate(c, issuer, hashes.SHA1()).build()
    body = req.public_bytes(serialization.Encoding.DER)

    def ask():
        r = requests.post(base_url + "/ocsp", data=body, timeout=20,
                          headers={"Content-Type": OCSP_REQ})
        assert r.status_code == 200 and r.headers["Content-Type"] == OCSP_RESP
        return r.content

    first = ask()
    assert first == ask()
    assert ocsp.load_der_ocsp_response(first).certificate_status == ocsp.OCSPCertStatus.GOOD
    revoke(admin, leaf["id"], "superseded")
    after = ocsp.load_der_ocsp_response(ask())
    assert after.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert after.revocation_reason == x509.ReasonFlags.superseded


def test_revocation_on_another_node_seen_within_the_bound(base_url, admin, cw, pki):
    """A revocation committed by another node (here: its statements, run
    straight on the database, as ca_revocation_touch runs them) reaches
    this node's answer cache within the documented bound (one check of
    the CAs' revocation_seq per second per node), without any request
    to this node in between but the ones that ask."""
    import time
    leaf = pk.issue(admin, pki["inter"]["id"], cn="othernode.example.com")
    body = ocsp.OCSPRequestBuilder().add_certificate(
        pk.cert(leaf["pem"]), pk.cert(pki["inter"]["pem"]), hashes.SHA1()).build() \
        .public_bytes(serialization.Encoding.DER)

    def status():
        r = requests.post(base_url + "/ocsp", data=body, timeout=20,
                          headers={"Content-Type": OCSP_REQ})
        assert r.status_code == 200 and r.headers["Content-Type"] == OCSP_RESP
        return ocsp.load_der_ocsp_response(r.content).certificate_status

    for _ in range(20):     # stored, and in the node's cache
        assert status() == ocsp.OCSPCertStatus.GOOD
    cw.sql(f"UPDATE certificates SET status = 'revoked', revoked_at = UTC_TIMESTAMP(), "
           f"revocation_reason = 'keyCompromise', updated_at = NOW(6) WHERE id = {leaf['id']}")
    cw.sql(f"UPDATE cas SET revocation_seq = revocation_seq + 1 "
           f"WHERE id = {pki['inter']['id']}")
    cw.sql(f"DELETE FROM ocsp_responses WHERE cert_id = {leaf['id']}")
    t0 = time.monotonic()
    while status() != ocsp.OCSPCertStatus.REVOKED:
        assert time.monotonic() - t0 < 3.0, "still good 3 s after another node revoked"
        time.sleep(0.05)
    # Every later answer, from any worker and thread, says revoked.
    for _ in range(20):
        assert status() == ocsp.OCSPCertStatus.REVOKED


def test_renewed_responder_signs_at_once(base_url, admin, cw, pki, tmp):
    """Workers keep the parsed CA and responder certificates per thread;
    a renewed responder (new key, new certificate) is used from the next
    signed answer on, by every thread."""
    ca = pk.create_ca(admin, name=pk.unique_name("Rev Renewing"), type="intermediate",
                      parent_id=pki["root"]["id"], key=pk.KEY_SPECS["p256"], path_length=0,
                      validity_days=500)
    set_revocation(admin, ca["id"], ocsp_signer="delegated")
    leaf = pk.issue(admin, ca["id"], cn="renew.example.com")
    cron(cw, "ocsp-responder-renew")

    def responder():
        rid = int(cw.scalar(f"SELECT ocsp_responder_id FROM cas WHERE id = {ca['id']}"))
        return rid, pk.cert(idn.data(admin.get(f"{CERTS}/{rid}"))["pem"])

    def check_signed_by(rcert, n=24):
        for _ in range(n):      # nonce: signed each time, by every thread
            resp = ocsp.load_der_ocsp_response(_post_for(base_url, leaf["pem"], ca["pem"],
                                                         nonce=True))
            assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
            assert [c.serial_number for c in resp.certificates] == [rcert.serial_number]
            rcert.public_key().verify(resp.signature, resp.tbs_response_bytes,
                                      ec.ECDSA(resp.signature_hash_algorithm))

    old_id, old = responder()
    check_signed_by(old)
    # Due for renewal (ten days left): the cron task issues a new one.
    cw.sql(f"UPDATE certificates SET not_after = UTC_TIMESTAMP() + INTERVAL 5 DAY "
           f"WHERE id = {old_id}")
    cron(cw, "ocsp-responder-renew")
    new_id, new = responder()
    assert new_id != old_id and new.serial_number != old.serial_number
    assert new.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != \
        old.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    check_signed_by(new)


def test_delegated_responder_issued_by_cron(base_url, admin, cw, pki, tmp):
    ca = pk.create_ca(admin, name=pk.unique_name("Rev Delegating"), type="intermediate",
                      parent_id=pki["root"]["id"], key=pk.KEY_SPECS["p256"], path_length=0,
                      validity_days=500)
    set_revocation(admin, ca["id"], ocsp_signer="delegated")
    leaf = pk.issue(admin, ca["id"], cn="deleg.example.com")
    out = cron(cw, "ocsp-responder-renew")
    assert "responders issued" in out
    responder_id = int(cw.scalar(f"SELECT ocsp_responder_id FROM cas WHERE id = {ca['id']}"))
    assert responder_id > 0
    rcert = pk.cert(idn.data(admin.get(f"{CERTS}/{responder_id}"))["pem"])
    eku = rcert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING in eku
    assert rcert.extensions.get_extension_for_oid(x509.oid.ExtensionOID.OCSP_NO_CHECK)
    # A second run finds nothing to do.
    cron(cw, "ocsp-responder-renew")
    assert int(cw.scalar(f"SELECT ocsp_responder_id FROM cas WHERE id = {ca['id']}")) == \
        responder_id
    inter_f = pk.write(tmp, "deleg-ca.pem", ca["pem"])
    leaf_f = pk.write(tmp, "deleg-leaf.pem", leaf["pem"])
    rc, out = ocsp_cli(base_url, inter_f, [leaf_f], "-no_nonce", "-CAfile", pki["files"]["root"],
                       "-verify_other", inter_f)
    assert rc == 0 and "Response verify OK" in out and "deleg-leaf.pem: good" in out, out
    resp = ocsp.load_der_ocsp_response(_post_for(base_url, leaf["pem"], ca["pem"]))
    assert resp.responder_name == rcert.subject
    assert [c.serial_number for c in resp.certificates] == [rcert.serial_number]
    # Signed by the responder's key, which the CA certified.
    rcert.public_key().verify(resp.signature, resp.tbs_response_bytes,
                              ec.ECDSA(resp.signature_hash_algorithm))
    # The same CA offline (key under a password): its responder still answers.
    pw = idn.strong_password()
    pk.ca_offline(admin, ca["id"], "password_protected", pw)
    try:
        leaf_resp = ocsp.load_der_ocsp_response(_post_for(base_url, leaf["pem"], ca["pem"],
                                                          nonce=True))
        assert leaf_resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
        assert leaf_resp.certificate_status == ocsp.OCSPCertStatus.GOOD
        r = admin.post(f"{CAS}/{ca['id']}/crl", json={})
        assert r.status_code == 409, idn.describe(r)
    finally:
        pk.ca_restore(admin, ca["id"], pw)


def _post_for(base_url, leaf_pem, issuer_pem, nonce=False, algo=hashes.SHA1()):
    b = ocsp.OCSPRequestBuilder().add_certificate(pk.cert(leaf_pem), pk.cert(issuer_pem), algo)
    if nonce:
        b = b.add_extension(x509.OCSPNonce(b"0123456789abcdef"), critical=False)
    body = b.build().public_bytes(serialization.Encoding.DER)
    r = requests.post(base_url + "/ocsp", data=body, timeout=20,
                      headers={"Content-Type": OCSP_REQ})
    assert r.status_code == 200, r.text
    return r.content


def test_nonce_echoed_and_not_cached(base_url, pki):
    one = ocsp.load_der_ocsp_response(_post_for(base_url, pki["good"]["pem"],
                                                pki["inter"]["pem"], nonce=True))
    n = one.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    assert n == b"0123456789abcdef"
    two = _post_for(base_url, pki["good"]["pem"], pki["inter"]["pem"], nonce=True)
    assert ocsp.load_der_ocsp_response(two).signature != one.signature


def test_gnutls_ocsptool(base_url, pki, tmp):
    f = pki["files"]
    for leaf, want in ((f["good"], "good"), (f["bad"], "revoked")):
        res = subprocess.run(["ocsptool", "--ask=" + base_url + "/ocsp", "--load-issuer",
                              str(f["inter"]), "--load-cert", str(leaf), "--load-trust",
                              str(f["chain"]), "--no-nonce"],
                             capture_output=True, text=True, timeout=60)
        out = res.stdout + res.stderr
        assert f"Certificate Status: {want}" in out, out
        assert "Verifying OCSP Response: Success." in out, out


def test_ocsp_presign_cron(admin, cw, pki):
    leaf = pk.issue(admin, pki["inter"]["id"], cn="presign.example.com")
    assert int(cw.scalar(f"SELECT COUNT(*) FROM ocsp_responses WHERE cert_id = {leaf['id']}")) \
        == 0
    out = cron(cw, "ocsp-presign")
    assert "responses signed" in out
    rows = cw.sql(f"SELECT hash_alg, status FROM ocsp_responses WHERE cert_id = {leaf['id']}")
    assert ("sha1", "good") in rows, rows


# --------------------------------------------------------------------------
# Bad OCSP input


def _raw(base_url, body, ctype=OCSP_REQ):
    return requests.post(base_url + "/ocsp", data=body, timeout=20,
                         headers={"Content-Type": ctype})


def _status_of(content):
    return ocsp.load_der_ocsp_response(content).response_status


def _der(tag, content):
    n = len(content)
    if n < 0x80:
        head = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + head + content


def _request_with(nids, good_req):
    """An OCSPRequest repeating the single Request of good_req nids times."""
    req = ocsp.load_der_ocsp_request(good_req)
    # Rebuild from the parsed CertID fields.
    alg = _der(0x30, _der(0x06, bytes.fromhex("2b0e03021a")) + b"\x05\x00")
    certid = _der(0x30, alg + _der(0x04, req.issuer_name_hash) + _der(0x04, req.issuer_key_hash)
                  + _der(0x02, req.serial_number.to_bytes(
                      (req.serial_number.bit_length() + 8) // 8, "big")))
    one = _der(0x30, certid)
    return _der(0x30, _der(0x30, _der(0x30, one * nids)))


def test_bad_ocsp_input(base_url, pki, cw):
    good = ocsp.OCSPRequestBuilder().add_certificate(
        pk.cert(pki["good"]["pem"]), pk.cert(pki["inter"]["pem"]), hashes.SHA1()).build() \
        .public_bytes(serialization.Encoding.DER)
    # A request the test's encoder builds with one CertID is answered (the
    # encoder is right); its answer is stored before counting.
    assert _status_of(_raw(base_url, _request_with(1, good)).content) == \
        ocsp.OCSPResponseStatus.SUCCESSFUL
    before = int(cw.scalar("SELECT COUNT(*) FROM ocsp_responses"))
    malformed = ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    for body in (b"", b"garbage", good[:-3], good + b"\x00", b"\x30\x80\x00\x00",
                 _request_with(33, good)):
        r = _raw(base_url, body)
        assert r.status_code == 200 and r.headers["Content-Type"] == OCSP_RESP, r.text
        assert _status_of(r.content) == malformed, body[:20]
    # MD5 CertID: an algorithm we do not answer for.
    md5 = _request_md5(pki)
    assert _status_of(_raw(base_url, md5).content) == malformed
    # An issuer we do not know.
    other = pk.build_cert(ec.generate_private_key(ec.SECP256R1()), "Stranger CA")
    body = ocsp.OCSPRequestBuilder().add_certificate(
        pk.cert(pki["good"]["pem"]), other, hashes.SHA1()).build() \
        .public_bytes(serialization.Encoding.DER)
    assert _status_of(_raw(base_url, body).content) == ocsp.OCSPResponseStatus.UNAUTHORIZED
    # HTTP-level refusals.
    assert _raw(base_url, good, ctype="application/json").status_code == 415
    assert _raw(base_url, b"\x30" * 20000).status_code == 413
    # 1,000 CertIDs do not fit the request cap: refused before reading.
    assert _raw(base_url, _request_with(1000, good)).status_code == 413
    r = requests.get(base_url + "/ocsp/%%%not-base64!!", timeout=20)
    assert r.status_code in (200, 400)
    if r.status_code == 200:
        assert _status_of(r.content) == malformed
    r = requests.get(base_url + "/ocsp/AAAA*", timeout=20)
    assert r.status_code == 200 and _status_of(r.content) == malformed
    r = requests.get(base_url + "/ocsp/../api/health", timeout=20,
                     allow_redirects=False)
    assert r.status_code < 500
    assert int(cw.scalar("SELECT COUNT(*) FROM ocsp_responses")) == before
    assert requests.get(base_url + "/api/health", timeout=20).status_code == 200


def _request_md5(pki):
    c = pk.cert(pki["good"]["pem"])
    issuer = pk.cert(pki["inter"]["pem"])
    import hashlib
    name_hash = hashlib.md5(issuer.subject.public_bytes()).digest()
    spki = issuer.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    # The subjectPublicKey BIT STRING content is the tail of the SPKI.
    key_hash = hashlib.md5(spki[-65:]).digest()
    alg = _der(0x30, _der(0x06, bytes.fromhex("2a864886f70d0205")) + b"\x05\x00")
    serial = c.serial_number.to_bytes((c.serial_number.bit_length() + 8) // 8, "big")
    certid = _der(0x30, alg + _der(0x04, name_hash) + _der(0x04, key_hash) + _der(0x02, serial))
    return _der(0x30, _der(0x30, _der(0x30, _der(0x30, certid))))


# --------------------------------------------------------------------------
# CRLs


def fetch_crl(base_url, slug, delta=False, pem=False):
    path = f"/cdp/{slug}{'-delta' if delta else ''}.crl{'.pem' if pem else ''}"
    r = requests.get(base_url + path, timeout=30)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r


def test_crl_published_and_checked_by_openssl(base_url, admin, pki, tmp):
    inter = pki["inter"]
    info = idn.data(admin.post(f"{CAS}/{inter['id']}/crl", json={}))
    number = info["full"]["number"]
    assert info["full"]["entries"] >= 2   # and others the tests above revoked
    r = fetch_crl(base_url, inter["slug"])
    assert r.headers["Content-Type"] == "application/pkix-crl"
    assert "max-age=" in r.headers["Cache-Control"] and r.headers.get("ETag")
    crl = x509.load_der_x509_crl(r.content)
    assert crl.issuer == pk.cert(inter["pem"]).subject
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == number
    assert crl.is_signature_valid(pk.cert(inter["pem"]).public_key())
    bad = crl.get_revoked_certificate_by_serial_number(pk.cert(pki["bad"]["pem"]).serial_number)
    assert bad.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.key_compromise
    # 304 with the ETag; the PEM twin has the same content.
    r304 = requests.get(base_url + f"/cdp/{inter['slug']}.crl", timeout=20,
                        headers={"If-None-Match": r.headers["ETag"]})
    assert r304.status_code == 304
    pem = fetch_crl(base_url, inter["slug"], pem=True)
    assert pk.pem_to_der(pem.text) == r.content
    crl_file = pk.write(tmp, "inter-crl.pem", pem.text)
    f = pki["files"]
    ok = stack.run(["openssl", "verify", "-crl_check", "-CAfile", f["root"], "-untrusted",
                    f["inter"], "-CRLfile", crl_file, f["good"]], timeout=60)
    assert ok.returncode == 0 and ok.stdout.strip().endswith("OK"), ok.stdout + ok.stderr
    ko = stack.run(["openssl", "verify", "-crl_check", "-CAfile", f["root"], "-untrusted",
                    f["inter"], "-CRLfile", crl_file, f["bad"]], timeout=60)
    assert ko.returncode != 0 and "certificate revoked" in ko.stdout + ko.stderr
    # Numbers only grow.
    again = idn.data(admin.post(f"{CAS}/{inter['id']}/crl", json={}))
    assert again["full"]["number"] > number


def test_revoked_intermediate_fails_every_leaf(base_url, admin, pki, tmp):
    root = pki["root"]
    sub = pk.create_ca(admin, name=pk.unique_name("Rev Doomed"), type="intermediate",
                       parent_id=root["id"], key=pk.KEY_SPECS["p256"], path_length=0,
                       validity_days=300)
    leaves = [pk.issue(admin, sub["id"], cn=f"l{i}.example.com") for i in range(2)]
    root_crl_before = fetch_crl(base_url, root["slug"], pem=True).text
    idn.data(admin.post(f"{CAS}/{sub['id']}/crl", json={}))
    sub_crl = fetch_crl(base_url, sub["slug"], pem=True).text
    idn.data(admin.post(f"{CAS}/{sub['id']}/revoke", json={"reason": "cACompromise"}))
    idn.data(admin.post(f"{CAS}/{root['id']}/crl", json={}))
    root_crl = fetch_crl(base_url, root["slug"], pem=True).text
    assert root_crl != root_crl_before
    crls = pk.write(tmp, "crls-all.pem", root_crl + sub_crl)
    rootf = pk.write(tmp, "r.pem", root["pem"])
    subf = pk.write(tmp, "sub.pem", sub["pem"])
    for i, leaf in enumerate(leaves):
        lf = pk.write(tmp, f"doomed{i}.pem", leaf["pem"])
        res = stack.run(["openssl", "verify", "-crl_check_all", "-CAfile", rootf, "-untrusted",
                         subf, "-CRLfile", crls, lf], timeout=60)
        assert res.returncode != 0 and "certificate revoked" in res.stdout + res.stderr, \
            res.stdout + res.stderr
    # Before the revocation the same chain checked out.
    old = pk.write(tmp, "crls-old.pem", root_crl_before + sub_crl)
    res = stack.run(["openssl", "verify", "-crl_check_all", "-CAfile", rootf, "-untrusted",
                     subf, "-CRLfile", old, pk.write(tmp, "d0.pem", leaves[0]["pem"])],
                    timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def test_delta_crl(base_url, admin, cw, pki, tmp):
    ca = pk.create_ca(admin, name=pk.unique_name("Rev Delta"), type="intermediate",
                      parent_id=pki["root"]["id"], key=pk.KEY_SPECS["p256"], path_length=0,
                      validity_days=300)
    set_revocation(admin, ca["id"], crl_days=7, delta_hours=12)
    a = pk.issue(admin, ca["id"], cn="a.example.com")
    b = pk.issue(admin, ca["id"], cn="b.example.com")
    h = pk.issue(admin, ca["id"], cn="h.example.com")
    revoke(admin, a["id"])
    revoke(admin, h["id"], "certificateHold")
    cron(cw, "crl-regen")
    base = x509.load_der_x509_crl(fetch_crl(base_url, ca["slug"]).content)
    base_no = base.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    fresh = base.extensions.get_extension_for_class(x509.FreshestCRL).value
    assert fresh[0].full_name[0].value.endswith(f"/cdp/{ca['slug']}-delta.crl")
    assert base.get_revoked_certificate_by_serial_number(pk.cert(h["pem"]).serial_number)
    revoke(admin, b["id"], "superseded")
    idn.data(admin.post(f"{CERTS}/{h['id']}/release"))
    cron(cw, "crl-regen")
    delta = x509.load_der_x509_crl(fetch_crl(base_url, ca["slug"], delta=True).content)
    ind = delta.extensions.get_extension_for_class(x509.DeltaCRLIndicator).value.crl_number
    assert ind == base_no
    assert delta.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > base_no
    serials = {rc.serial_number for rc in delta}
    assert pk.cert(b["pem"]).serial_number in serials
    # The released hold leaves through the delta (RFC 5280 5.3.1).
    gone = delta.get_revoked_certificate_by_serial_number(pk.cert(h["pem"]).serial_number)
    assert gone.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.remove_from_crl
    assert delta.is_signature_valid(pk.cert(ca["pem"]).public_key())
    # The base (still current) does not list b; base + delta do for openssl.
    assert base.get_revoked_certificate_by_serial_number(pk.cert(b["pem"]).serial_number) is None
    crls = pk.write(tmp, "delta-crls.pem",
                    base.public_bytes(serialization.Encoding.PEM).decode()
                    + delta.public_bytes(serialization.Encoding.PEM).decode())
    res = stack.run(["openssl", "verify", "-crl_check", "-use_deltas", "-CAfile",
                     pki["files"]["root"], "-untrusted", pk.write(tmp, "dca.pem", ca["pem"]),
                     "-CRLfile", crls, pk.write(tmp, "db.pem", b["pem"])], timeout=60)
    assert res.returncode != 0 and "certificate revoked" in res.stdout + res.stderr, \
        res.stdout + res.stderr


def test_crl_regenerated_on_fetch_and_aia(base_url, admin, cw, pki):
    ca = pki["inter"]
    idn.data(admin.post(f"{CAS}/{ca['id']}/crl", json={}))
    cw.sql(f"UPDATE crls SET next_update = UTC_TIMESTAMP() - INTERVAL 1 HOUR "
           f"WHERE ca_id = {ca['id']}")
    before = int(cw.scalar(f"SELECT MAX(number) FROM crls WHERE ca_id = {ca['id']}"))
    crl = x509.load_der_x509_crl(fetch_crl(base_url, ca["slug"]).content)
    assert crl.next_update > datetime.datetime.utcnow()
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > before
    r = requests.get(base_url + f"/ca/{ca['slug']}.cer", timeout=20)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pkix-cert"
    assert r.content == pk.der_of(pk.cert(ca["pem"]))
    r = requests.get(base_url + f"/ca/{ca['slug']}.pem", timeout=20)
    assert pk.cert(r.text) == pk.cert(ca["pem"])
    for path in ("/ca/nope.cer", "/cdp/nope.crl", "/cdp/a%2F..%2Fx.crl", "/cdp/UPPER.crl",
                 f"/cdp/{ca['slug']}-delta.crl"):
        r = requests.get(base_url + path, timeout=20, allow_redirects=False)
        assert 400 <= r.status_code < 500, (path, r.status_code)


def test_crl_api_permissions_and_settings(base_url, admin, pki):
    viewer = idn.login_new(admin, role="viewer", prefix="revv")
    ca_id = pki["inter"]["id"]
    info = idn.data(viewer.get(f"{CAS}/{ca_id}/crl"))
    assert info["crl_url"].endswith(f"/cdp/{pki['inter']['slug']}.crl")
    assert viewer.post(f"{CAS}/{ca_id}/crl", json={}).status_code == 403
    assert viewer.put(f"{CAS}/{ca_id}/crl/settings", json={}).status_code == 403
    for body, field in (({"crl_days": 0, "delta_hours": 0, "ocsp_hours": 24,
                          "ocsp_signer": "ca"}, "crl_days"),
                        ({"crl_days": 7, "delta_hours": 200, "ocsp_hours": 24,
                          "ocsp_signer": "ca"}, "delta_hours"),
                        ({"crl_days": 7, "delta_hours": 0, "ocsp_hours": 24,
                          "ocsp_signer": "me"}, "ocsp_signer"),
                        ({"crl_days": 7, "delta_hours": 0, "ocsp_hours": 24,
                          "ocsp_signer": "ca", "extra": 1}, "extra")):
        r = admin.put(f"{CAS}/{ca_id}/crl/settings", json=body)
        assert r.status_code == 400 and field in r.text, idn.describe(r)
    assert admin.get(f"{CAS}/999999/crl").status_code == 404
    # removeFromCRL is a delta CRL's word, not a revocation reason.
    leaf = pk.issue(admin, ca_id, cn="nope.example.com")
    r = admin.post(f"{CERTS}/{leaf['id']}/revoke", json={"reason": "removeFromCRL"})
    assert r.status_code == 400 and "reason" in r.text, idn.describe(r)


def test_offline_ca_uploads_its_crl(base_url, admin, pki, tmp):
    """An imported root with its key, taken offline (file_exported): its
    CRL is signed elsewhere and uploaded; certward checks and serves it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = pk.unique_name("Rev Offline Root")
    root_cert = pk.build_cert(key, name)
    ca = pk.import_ca(admin, pk.to_pem(root_cert), name=name, key=pk.key_pem(key))
    pk.ca_offline(admin, ca["id"], "file_exported", idn.strong_password())
    r = admin.post(f"{CAS}/{ca['id']}/crl", json={})
    assert r.status_code == 409, idn.describe(r)

    def crl(number, signer=key):
        now = datetime.datetime.now(datetime.timezone.utc)
        b = (x509.CertificateRevocationListBuilder().issuer_name(root_cert.subject)
             .last_update(now).next_update(now + datetime.timedelta(days=30))
             .add_extension(x509.CRLNumber(number), critical=False))
        return b.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()

    up = idn.data(admin.post(f"{CAS}/{ca['id']}/crl/upload", json={"crl": crl(7)}))
    assert up["full"]["number"] == 7 and up["full"]["source"] == "uploaded"
    got = x509.load_der_x509_crl(fetch_crl(base_url, ca["slug"]).content)
    assert got.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 7
    r = admin.post(f"{CAS}/{ca['id']}/crl/upload", json={"crl": crl(7)})
    assert r.status_code == 409, idn.describe(r)
    stranger = ec.generate_private_key(ec.SECP256R1())
    r = admin.post(f"{CAS}/{ca['id']}/crl/upload", json={"crl": crl(8, stranger)})
    assert r.status_code == 400 and "signature" in r.text, idn.describe(r)
    r = admin.post(f"{CAS}/{ca['id']}/crl/upload", json={"crl": "not a crl"})
    assert r.status_code == 400, idn.describe(r)


def test_deleted_revoked_certificate_stays_revoked(base_url, admin, cw, pki):
    """Deleting a revoked certificate that has not expired keeps it on the
    CRL and OCSP keeps answering revoked (RFC 5280 3.3)."""
    leaf = pk.issue(admin, pki["inter"]["id"], cn="gone.example.com")
    serial = pk.cert(leaf["pem"]).serial_number
    revoke(admin, leaf["id"], "affiliationChanged")
    r = admin.delete(f"{CERTS}/{leaf['id']}")
    assert r.status_code in (200, 204), idn.describe(r)
    assert int(cw.scalar(f"SELECT COUNT(*) FROM certificates WHERE id = {leaf['id']}")) == 0
    resp = ocsp.load_der_ocsp_response(_post_for(base_url, leaf["pem"], pki["inter"]["pem"]))
    assert resp.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert resp.revocation_reason == x509.ReasonFlags.affiliation_changed
    idn.data(admin.post(f"{CAS}/{pki['inter']['id']}/crl", json={}))
    crl = x509.load_der_x509_crl(fetch_crl(base_url, pki["inter"]["slug"]).content)
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.affiliation_changed


def test_one_generator_per_ca(base_url, admin, cw, pki):
    """While another generator holds the CA's lease (on any node), a
    regeneration is refused with 503 + Retry-After and /cdp serves the
    previous CRL, even an expired one."""
    ca = pki["inter"]
    idn.data(admin.post(f"{CAS}/{ca['id']}/crl", json={}))
    prev = fetch_crl(base_url, ca["slug"]).content
    cw.sql(f"UPDATE cas SET crl_lock_until = UTC_TIMESTAMP(6) + INTERVAL 1 HOUR "
           f"WHERE id = {ca['id']}")
    try:
        r = admin.post(f"{CAS}/{ca['id']}/crl", json={})
        assert r.status_code == 503 and r.headers.get("Retry-After") == "5", idn.describe(r)
        cw.sql(f"UPDATE crls SET next_update = UTC_TIMESTAMP() - INTERVAL 1 MINUTE "
               f"WHERE ca_id = {ca['id']}")
        r = requests.get(f"{base_url}/cdp/{ca['slug']}.crl", timeout=20)
        assert r.status_code == 200 and r.content == prev
        assert "max-age=0" in r.headers["Cache-Control"]
    finally:
        cw.sql(f"UPDATE cas SET crl_lock_until = '1970-01-02' WHERE id = {ca['id']}")
    # Released: the expired CRL is replaced on the next fetch.
    r = requests.get(f"{base_url}/cdp/{ca['slug']}.crl", timeout=20)
    assert r.status_code == 200 and r.content != prev


def test_same_name_intermediates_are_revocable_by_serial(base_url, admin, pki):
    """A second intermediate with the same name gets another slug; its
    certificate's serial is the one its parent records, so OCSP (and the
    parent's CRL) report its revocation."""
    name = pk.unique_name("Rev Twin")
    cas = [pk.create_ca(admin, name=name, type="intermediate", parent_id=pki["root"]["id"],
                        key=pk.KEY_SPECS["p256"], path_length=0, validity_days=300)
           for _ in range(2)]
    assert cas[0]["slug"] != cas[1]["slug"]
    twin = cas[1]
    idn.data(admin.post(f"{CAS}/{twin['id']}/revoke", json={"reason": "superseded"}))
    resp = ocsp.load_der_ocsp_response(_post_for(base_url, twin["pem"], pki["root"]["pem"]))
    assert resp.certificate_status == ocsp.OCSPCertStatus.REVOKED
    resp = ocsp.load_der_ocsp_response(_post_for(base_url, cas[0]["pem"], pki["root"]["pem"]))
    assert resp.certificate_status == ocsp.OCSPCertStatus.GOOD

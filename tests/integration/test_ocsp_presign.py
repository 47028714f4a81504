"""`certward cron ocsp-presign` in batches: more certificates than two
batches (1,000 rows each) of one CA, some revoked, each get exactly one
SHA-1 answer whose status, serial and signature are right; a second run
signs nothing; a certificate revoked between runs gets a fresh "revoked"
answer; and a certificate revoked while a batch is being signed never
keeps a "good" answer (the batch is written only for rows whose
updated_at is still the one read).

The last test holds the run between signing and writing its first batch
through the CERTWARD_TEST_PRESIGN_PAUSE FIFOs (see ca_ocsp_presign_due):
the run writes the batch's certificate ids to P.signed and waits for a
line on P.go.

Runs on the session stack (nginx in front of certward).
"""

import os
import secrets
import select
import subprocess
import time

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

import identity as idn
import pki_helpers as pk
import stack
from identity import API

BULK = 2500
REVOKED_EVERY = 7


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


def cron(cw, env=None):
    res = cw.command("cron", "ocsp-presign", "--force", timeout=600, env=env)
    assert res.returncode == 0, f"{res.stdout}\n{res.stderr}"
    return res.stdout


def signed_count(out):
    """N of "... N responses signed, M skipped"."""
    words = out.split()
    return int(words[words.index("responses") - 1])


def revoke(admin, cert_id):
    idn.data(admin.post(f"{API}/certificates/{cert_id}/revoke",
                        json={"reason": "keyCompromise"}))


def sha1_rows(cw, ca_id):
    """{cert_id: (certificate status, [(answer status, der hex), ...])} of
    every certificate of ca_id, with its SHA-1 answers."""
    out = {}
    for cid, cstatus, rstatus, der in cw.sql(
            "SELECT c.id, c.status, r.status, HEX(r.der) FROM certificates c "
            "LEFT JOIN ocsp_responses r ON r.cert_id = c.id AND r.hash_alg = 'sha1' "
            f"WHERE c.ca_id = {int(ca_id)} AND c.status IN ('valid', 'revoked')"):
        ent = out.setdefault(int(cid), (cstatus, []))
        if rstatus is not None:
            ent[1].append((rstatus, der))
    return out


@pytest.fixture(scope="module")
def ca(admin, cw):
    """A P-256 root whose answers it signs itself, with BULK certificate
    rows loaded in SQL (OCSP needs only serial and status), every
    REVOKED_EVERY-th revoked, and one issued leaf. The bulk rows are
    deleted afterwards."""
    c = pk.create_ca(admin, name=pk.unique_name("Presign Root"), key=pk.KEY_SPECS["p256"])
    idn.data(admin.put(f"{API}/cas/{c['id']}/crl/settings", json={
        "crl_days": 7, "delta_hours": 0, "ocsp_hours": 24, "ocsp_signer": "ca"}))
    prefix = "5" + secrets.token_hex(4)[:7]
    cw.sql("INSERT INTO certificates (ca_id, serial, status, template, key_type, "
           "subject_dn, common_name, not_before, not_after, revoked_at, revocation_reason, "
           "created_by, der) "
           f"SELECT {int(c['id'])}, CONCAT('{prefix}', LPAD(LOWER(HEX(seq)), 32, '0')), "
           f"IF(seq % {REVOKED_EVERY} = 0, 'revoked', 'valid'), 'server', 'ec-p256', "
           "CONCAT('CN=presign', seq, '.example.com'), CONCAT('presign', seq, '.example.com'), "
           "UTC_TIMESTAMP() - INTERVAL 1 DAY, UTC_TIMESTAMP() + INTERVAL 30 DAY, "
           f"IF(seq % {REVOKED_EVERY} = 0, UTC_TIMESTAMP() - INTERVAL 1 HOUR, NULL), "
           f"IF(seq % {REVOKED_EVERY} = 0, 'keyCompromise', NULL), 'presign-test', '' "
           f"FROM seq_1_to_{BULK}")
    c["leaf"] = pk.issue(admin, c["id"], cn="presign-leaf.example.com")
    c["cert"] = pk.cert(c["pem"])
    yield c
    # The rows have no DER: the modules after this one (the PKI sweep
    # exports every certificate) must not see them. Their answers go with
    # them (ON DELETE CASCADE).
    cw.sql(f"DELETE FROM certificates WHERE ca_id = {int(c['id'])} "
           "AND created_by = 'presign-test'")


def check_answer(der_hex, serial, want, ca_cert):
    r = ocsp.load_der_ocsp_response(bytes.fromhex(der_hex))
    assert r.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert r.serial_number == serial
    assert r.hash_algorithm.name == "sha1"
    assert r.certificate_status.name.lower() == want, (serial, want)
    # Signed by the CA itself over the tbsResponseData.
    ca_cert.public_key().verify(r.signature, r.tbs_response_bytes,
                                ec.ECDSA(r.signature_hash_algorithm))


def test_every_certificate_gets_one_answer(cw, ca, base_url):
    out = cron(cw)
    assert signed_count(out) >= BULK + 1, out
    rows = sha1_rows(cw, ca["id"])
    assert len(rows) == BULK + 1
    serials = {int(cid): int(s, 16) for cid, s in cw.sql(
        f"SELECT id, serial FROM certificates WHERE ca_id = {int(ca['id'])}")}
    revoked = 0
    for cid, (cstatus, answers) in rows.items():
        assert len(answers) == 1, (cid, answers)
        want = "good" if cstatus == "valid" else "revoked"
        assert answers[0][0] == want, (cid, cstatus, answers[0][0])
        check_answer(answers[0][1], serials[cid], want, ca["cert"])
        revoked += cstatus == "revoked"
    assert revoked == BULK // REVOKED_EVERY
    # The stored key is the CertID a client sends: answered as stored.
    req = ocsp.OCSPRequestBuilder().add_certificate(
        pk.cert(ca["leaf"]["pem"]), ca["cert"], hashes.SHA1()).build() \
        .public_bytes(serialization.Encoding.DER)
    stored = cw.scalar(f"SELECT HEX(der) FROM ocsp_responses WHERE cert_id = "
                       f"{int(ca['leaf']['id'])} AND hash_alg = 'sha1'")
    got = requests.post(base_url + "/ocsp", data=req, timeout=20,
                        headers={"Content-Type": "application/ocsp-request"})
    assert got.status_code == 200
    assert got.content.hex().upper() == stored


def test_second_run_signs_nothing(cw, ca):
    before = cw.sql("SELECT cert_id, MD5(der), this_update FROM ocsp_responses "
                    f"WHERE ca_id = {int(ca['id'])} ORDER BY cert_id")
    out = cron(cw)
    assert signed_count(out) == 0, out
    after = cw.sql("SELECT cert_id, MD5(der), this_update FROM ocsp_responses "
                   f"WHERE ca_id = {int(ca['id'])} ORDER BY cert_id")
    assert after == before
    assert len(after) == BULK + 1


def test_revoked_between_runs_gets_fresh_answer(admin, cw, ca):
    leaf = ca["leaf"]
    assert sha1_rows(cw, ca["id"])[leaf["id"]][1][0][0] == "good"
    revoke(admin, leaf["id"])
    # The revocation dropped the stored "good" in its own transaction.
    assert sha1_rows(cw, ca["id"])[leaf["id"]][1] == []
    out = cron(cw)
    assert signed_count(out) == 1, out
    cstatus, answers = sha1_rows(cw, ca["id"])[leaf["id"]]
    assert cstatus == "revoked" and len(answers) == 1 and answers[0][0] == "revoked"
    check_answer(answers[0][1], pk.cert(leaf["pem"]).serial_number, "revoked", ca["cert"])


def _read_fifo(path, proc, timeout=300):
    """Everything written to the FIFO path by proc's one writer."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk and data:
                    return data.decode()
                data += chunk
            elif proc.poll() is not None:
                raise AssertionError(f"presign ended before pausing: {proc.communicate()}")
    finally:
        os.close(fd)
    raise AssertionError("presign did not pause")


def _write_fifo(path, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:   # ENXIO: the run has not opened it yet
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
            continue
        os.write(fd, b"go\n")
        os.close(fd)
        return
    raise AssertionError("presign did not wait on the go FIFO")


def test_revoked_while_signing_keeps_no_good(admin, cw, ca):
    # Everything else is signed now, so the next batch is these two.
    victim = pk.issue(admin, ca["id"], cn="presign-race.example.com")
    control = pk.issue(admin, ca["id"], cn="presign-control.example.com")
    d = stack.make_tmpdir("cwpresign.")
    pause = os.path.join(str(d), "pause")
    os.mkfifo(pause + ".signed")
    os.mkfifo(pause + ".go")
    env = dict(os.environ, CERTWARD_TEST_PRESIGN_PAUSE=pause)
    proc = subprocess.Popen([str(cw.binary), "-c", str(cw.config_path), "cron",
                             "ocsp-presign", "--force"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        batch = {int(x) for x in _read_fifo(pause + ".signed", proc).split()}
        # Both were read as valid and signed "good" in the held batch.
        assert {victim["id"], control["id"]} <= batch, batch
        revoke(admin, victim["id"])
        _write_fifo(pause + ".go", proc)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out + err
    rows = sha1_rows(cw, ca["id"])
    assert rows[victim["id"]] == ("revoked", []), rows[victim["id"]]
    assert [a[0] for a in rows[control["id"]][1]] == ["good"]
    # The next run answers "revoked" for it.
    out = cron(cw)
    assert signed_count(out) == 1, out
    cstatus, answers = sha1_rows(cw, ca["id"])[victim["id"]]
    assert cstatus == "revoked" and [a[0] for a in answers] == ["revoked"]
    check_answer(answers[0][1], pk.cert(victim["pem"]).serial_number, "revoked", ca["cert"])

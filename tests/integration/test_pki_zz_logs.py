"""Runs after the other PKI modules: nothing they did put key material in
the server's log (keys, PEM blocks, export passwords)."""

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

import identity as idn
import pki_helpers as pk
from identity import API


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


def test_no_key_material_in_the_log(admin, session_stack):
    ca = pk.create_ca(admin, name=pk.unique_name("Log CA"), validity_days=100)
    d = pk.issue(admin, ca["id"], cn="log.example.com", validity_days=10)
    password = "Log-Export#2026pw"
    r = admin.post(f"{API}/certificates/{d['id']}/export",
                   json={"format": "p12", "password": password})
    assert r.status_code == 200
    key, _, _ = pkcs12.load_key_and_certificates(r.content, password.encode())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    log = session_stack.cw.log_text()
    assert log, "the server log is empty"
    # No PEM armour at all (the words may appear in a refusal's reason,
    # e.g. "PEM label PRIVATE KEY is not a certificate").
    assert "-----BEGIN" not in log and "KEY-----" not in log
    assert password not in log
    for blob in (der, der[-32:]):
        assert base64.b64encode(blob).decode()[:40] not in log
        assert blob.hex()[:40] not in log

"""An intermediate CA signed outside certward: POST /api/v2/cas/csr makes
the key here and answers a CSR; an external CA (python cryptography here)
signs it; POST /api/v2/cas/{id}/certificate installs the certificate; the
CA then issues certificates that verify against the external root.
"""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import expect
import identity as idn
import pki_helpers as pk
from identity import API


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


def _external_root():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "External Root")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True,
                                         False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _sign(root_key, root, csr, ca=True):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(root.subject)
            .public_key(csr.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1000))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                           critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, ca, ca,
                                         False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(csr.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                root.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))


def _pem(c):
    return c.public_bytes(serialization.Encoding.PEM).decode()


def test_external_intermediate_round_trip(admin):
    root_key, root = _external_root()
    d = idn.data(admin.post(API + "/cas/csr", json={
        "name": pk.unique_name("External Sub"), "subject": {"CN": "External Sub CA"},
        "key": {"type": "ec", "curve": "P-384"}, "path_length": 0}), 201)
    assert d["status"] == "awaiting_certificate"
    csr = x509.load_pem_x509_csr(d["csr"].encode())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == \
        "External Sub CA"
    # the CSR can be fetched again; a waiting CA signs nothing
    r = admin.get(f"{API}/cas/{d['id']}/csr")
    assert r.status_code == 200 and "BEGIN CERTIFICATE REQUEST" in r.text
    body = {"ca_id": d["id"], "template": "server", "subject": {"CN": "ext.example.com"},
            "sans": [{"type": "dns", "value": "ext.example.com"}],
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30}
    expect.problem(admin.post(API + "/certificates", json=body), 409, "conflict")
    # a certificate for another key, and a leaf certificate, are refused
    other = x509.CertificateSigningRequestBuilder().subject_name(csr.subject).sign(
        ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    bad = _sign(root_key, root, other)
    doc = expect.problem(admin.post(f"{API}/cas/{d['id']}/certificate",
                                    json={"certificate": _pem(bad)}), 400)
    assert doc.get("field") == "certificate"
    leaf = _sign(root_key, root, csr, ca=False)
    expect.problem(admin.post(f"{API}/cas/{d['id']}/certificate",
                              json={"certificate": _pem(leaf)}), 400)
    # the right certificate makes the CA active
    signed = _sign(root_key, root, csr)
    ca = idn.data(admin.post(f"{API}/cas/{d['id']}/certificate",
                             json={"certificate": _pem(signed)}))
    assert ca["status"] == "active" and ca["parent_id"] is None
    expect.problem(admin.post(f"{API}/cas/{d['id']}/certificate",
                              json={"certificate": _pem(signed)}), 409)
    cert = idn.data(admin.post(API + "/certificates", json=body), 201)
    pk.assert_chain_valid(_pem(root), cert["pem"], [_pem(signed)])


def test_external_bad_input(admin):
    for body, field in (({"subject": {"CN": "x"}, "key": {"type": "ec"}}, "name"),
                        ({"name": "x", "key": {"type": "ec"}}, "subject"),
                        ({"name": "x", "subject": {"CN": "x"}}, "key"),
                        ({"name": "x", "subject": {"CN": "x"}, "key": {"type": "dsa"}}, "key"),
                        ({"name": "x", "subject": {}, "key": {"type": "ec"}}, "subject"),
                        ({"name": "x", "subject": {"CN": "x"}, "key": {"type": "ec"},
                          "extra": 1}, "extra")):
        doc = expect.problem(admin.post(API + "/cas/csr", json=body), 400)
        assert doc.get("field") == field, (body, doc)
    expect.problem(admin.post(API + "/cas/987654321/certificate",
                              json={"certificate": "x"}), 404)
    expect.problem(admin.get(API + "/cas/987654321/csr"), 404)

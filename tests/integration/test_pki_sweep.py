"""PKI: every certificate on the session stack passes the external checks.

Runs after the other test_pki_* modules (file order) and walks every CA and
every certificate the API lists: the chain from ?format=chain must verify
with `openssl verify` and GnuTLS `certtool`, and each certificate must meet
the common profile (positive serial of at most 20 octets, SKI, AKI equal to
the issuer's SKI, critical basicConstraints on CAs, keyUsage by key type
on leaves).
"""

import pytest
from cryptography import x509

import identity as idn
import pki_helpers as pk
from identity import API


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


def _chain(admin, path):
    r = admin.get(f"{API}{path}/export", params={"format": "chain"})
    assert r.status_code == 200, idn.describe(r)
    certs = pk.pem_certs(r.text)
    assert certs, r.text[:200]
    return certs


def _external(certs):
    """A chain that ends below a CA outside certward (an imported or
    externally signed intermediate): its root is not here to check."""
    top = certs[-1]
    return top.issuer != top.subject


def _check(certs, what):
    leaf, issuers = certs[0], certs[1:]
    if _external(certs):
        # Without the external root only the links certward made can be
        # checked: each certificate is signed by the next one.
        for c, issuer in zip(certs, certs[1:]):
            c.verify_directly_issued_by(issuer) if hasattr(c, "verify_directly_issued_by") \
                else pk.check_common(c, issuer)
        return
    root = issuers[-1] if issuers else leaf
    assert root.issuer == root.subject, f"{what}: chain does not end in a root"
    for c, issuer in zip(certs, certs[1:] + [None]):
        bc = pk.ext(c, x509.BasicConstraints)
        if bc is not None and bc.value.ca:
            pk.check_ca_profile(c, issuer, bc.value.path_length)
        else:
            pk.check_common(c, issuer)
            pk.check_leaf_key_usage(c)
    pk.assert_chain_valid(pk.to_pem(root), pk.to_pem(leaf), [pk.to_pem(c) for c in issuers[:-1]])


def test_every_ca_chain_verifies(admin):
    rows, meta = pk.list_all(admin, "/cas")
    assert meta["total"] == len(rows)
    checked = 0
    for ca in rows:
        # An imported CA is checked as it came (certward did not make it).
        if ca.get("status") != "active" or ca.get("origin") == "imported":
            continue
        certs = _chain(admin, f"/cas/{ca['id']}")
        assert certs[0] == pk.cert(ca["pem"]), ca["id"]
        _check(certs, f"CA {ca['id']}")
        checked += 1
    assert checked > 0


def test_every_certificate_verifies(admin):
    rows, meta = pk.list_all(admin, "/certificates")
    assert meta["total"] == len(rows)
    checked = 0
    for d in rows:
        certs = _chain(admin, f"/certificates/{d['id']}")
        assert pk.sn(d["serial"]) == certs[0].serial_number, d
        _check(certs, f"certificate {d['id']}")
        checked += 1
    assert checked > 0

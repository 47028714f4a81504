"""PKI: every certificate on the session stack passes the external checks.

Creates a root, an intermediate and leaves of its own (so it also runs
alone), then walks every CA and every certificate the API lists (after the
other test_pki_* modules in file order, theirs too): the chain from ?format=chain must verify
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


@pytest.fixture(scope="module")
def own(admin):
    """What this module checks at the least: a root, an intermediate under
    it, and an EC and an RSA leaf under the intermediate."""
    root = pk.create_ca(admin, name=pk.unique_name("Sweep Root"), key=pk.KEY_SPECS["p384"],
                        path_length=1)
    inter = pk.create_ca(admin, name=pk.unique_name("Sweep Issuing"), type="intermediate",
                         parent_id=root["id"], key=pk.KEY_SPECS["p256"], path_length=0,
                         validity_days=1000)
    leaves = [pk.issue(admin, inter["id"], cn=f"sweep-{k}.example.com", key=pk.KEY_SPECS[k])
              for k in ("p256", "rsa2048")]
    return {"cas": {root["id"], inter["id"]}, "certs": {c["id"] for c in leaves}}


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


def test_every_ca_chain_verifies(admin, own):
    rows, meta = pk.list_all(admin, "/cas")
    assert meta["total"] == len(rows)
    checked = 0
    seen = set()
    for ca in rows:
        # An imported CA is checked as it came (certward did not make it).
        if ca.get("status") != "active" or ca.get("origin") == "imported":
            continue
        certs = _chain(admin, f"/cas/{ca['id']}")
        assert certs[0] == pk.cert(ca["pem"]), ca["id"]
        _check(certs, f"CA {ca['id']}")
        checked += 1
        seen.add(ca["id"])
    assert checked > 0
    assert own["cas"] <= seen, own["cas"] - seen


def test_every_certificate_verifies(admin, own):
    rows, meta = pk.list_all(admin, "/certificates")
    assert meta["total"] == len(rows)
    checked = 0
    seen = set()
    for d in rows:
        certs = _chain(admin, f"/certificates/{d['id']}")
        assert pk.sn(d["serial"]) == certs[0].serial_number, d
        _check(certs, f"certificate {d['id']}")
        checked += 1
        seen.add(d["id"])
    assert checked > 0
    assert own["certs"] <= seen, own["certs"] - seen

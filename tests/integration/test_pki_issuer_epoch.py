"""Issuing CAs kept per worker thread under the authentication epoch.

Workers keep the chain of each issuing CA they read (the CA row, its
parents, whether each certificate is revoked on its parent) and reuse it
while the authentication epoch is unchanged; migration 0009 advances the
epoch on every change that can alter it. These tests run two certward
nodes, each with its own nginx, on one database: after issuing from a CA
on both nodes (every worker thread warm), each change takes effect on the
very next issuance on both nodes, whether made through the API or directly
in SQL.
"""

import pytest
from cryptography import x509

import expect
import identity as idn
import pki_helpers as pk
from identity import API

CERTS = API + "/certificates"
CAS = API + "/cas"
KEYS = API + "/account/api-keys"
# Issuances per node for warming and for checking: more than the worker
# threads of a node (2 workers x 4 threads), over fresh connections.
ROUNDS = 12


@pytest.fixture
def two_nodes(make_stack):
    """Node A (a private stack) and node B on the same database; an admin
    session on A and one admin API key, usable on both nodes."""
    with idn.second_node(make_stack, "caepoch") as (a, url_b, admin):
        key = idn.data(admin.post(KEYS, json={"name": idn.unique("cakey")}), 201)
        yield a, url_b, admin, key["token"]


def _epoch(cw):
    return int(cw.scalar("SELECT gen FROM auth_epoch WHERE id = 1"))


def _body(ca_id, cn):
    return {"ca_id": ca_id, "template": "server", "subject": {"CN": cn},
            "sans": [{"type": "dns", "value": cn}],
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30}


def _issue_all(url, token, ca_id, cn="epoch.example.com"):
    """ROUNDS issuances on fresh connections (nginx hands them to every
    worker); the responses."""
    return [idn.bearer(url, token).post(CERTS, json=_body(ca_id, cn))
            for _ in range(ROUNDS)]


def _warm(a, url_b, token, ca_id):
    for url in (a.url, url_b):
        for r in _issue_all(url, token, ca_id, cn="warm.example.com"):
            assert r.status_code == 201, idn.describe(r)


def _count(cw, ca_id):
    return int(cw.scalar(f"SELECT COUNT(*) FROM certificates WHERE ca_id = {ca_id}"))


def _refused_on_both(a, url_b, token, ca_id, status=409, code="conflict"):
    before = _count(a.cw, ca_id) if status != 404 else None
    for url in (url_b, a.url):
        for r in _issue_all(url, token, ca_id, cn="refused.example.com"):
            expect.problem(r, status, code)
    if before is not None:
        assert _count(a.cw, ca_id) == before


def _chain(admin):
    root = pk.create_ca(admin, name=pk.unique_name("Epoch Root"), path_length=2,
                        validity_days=365)
    mid = pk.create_ca(admin, name=pk.unique_name("Epoch Mid"), type="intermediate",
                       parent_id=root["id"], path_length=1, validity_days=300)
    low = pk.create_ca(admin, name=pk.unique_name("Epoch Low"), type="intermediate",
                       parent_id=mid["id"], path_length=0, validity_days=200)
    return root, mid, low


def test_ca_put_offline_is_seen_by_the_next_issuance_on_both_nodes(two_nodes):
    a, url_b, admin, token = two_nodes
    root = pk.create_ca(admin, name=pk.unique_name("Epoch Offline"), validity_days=365)
    _warm(a, url_b, token, root["id"])
    before = _epoch(a.cw)
    pk.ca_offline(admin, root["id"], "password_protected", idn.strong_password())
    assert _epoch(a.cw) > before
    _refused_on_both(a, url_b, token, root["id"])


def test_ca_retired_is_seen_by_the_next_issuance_on_both_nodes(two_nodes):
    a, url_b, admin, token = two_nodes
    root, mid, _ = _chain(admin)
    _warm(a, url_b, token, mid["id"])
    before = _epoch(a.cw)
    got = idn.data(admin.post(f"{CAS}/{mid['id']}/revoke", json={"reason": "keyCompromise"}))
    assert got["status"] == "revoked", got
    assert _epoch(a.cw) > before
    _refused_on_both(a, url_b, token, mid["id"])
    # the parent is untouched and still signs, on both nodes
    for url in (a.url, url_b):
        r = idn.bearer(url, token).post(CERTS, json=_body(root["id"], "parent.example.com"))
        assert r.status_code == 201, idn.describe(r)


def test_parent_certificate_revoked_two_levels_up(two_nodes):
    a, url_b, admin, token = two_nodes
    _, mid, low = _chain(admin)
    _warm(a, url_b, token, low["id"])
    idn.data(admin.post(f"{CAS}/{mid['id']}/revoke", json={"reason": "superseded"}))
    _refused_on_both(a, url_b, token, low["id"])


@pytest.mark.parametrize("level", ["issuer", "parent"])
def test_ca_certificate_revoked_on_its_parent_in_sql(two_nodes, level):
    """The row of the CA's certificate (a certificate of its parent)
    revoked by hand, not through the CA: nothing in cas changes."""
    a, url_b, admin, token = two_nodes
    _, mid, low = _chain(admin)
    _warm(a, url_b, token, low["id"])
    target = low if level == "issuer" else mid
    fp = a.cw.scalar(f"SELECT fp_sha256 FROM cas WHERE id = {target['id']}")
    cas_before = a.cw.sql("CHECKSUM TABLE cas")
    before = _epoch(a.cw)
    a.cw.sql("UPDATE certificates SET status = 'revoked', revoked_at = NOW(6), "
             f"revocation_reason = 'keyCompromise' WHERE fp_sha256 = '{fp}'")
    assert a.cw.sql("CHECKSUM TABLE cas") == cas_before
    assert _epoch(a.cw) > before
    _refused_on_both(a, url_b, token, low["id"])
    # and back: the next issuance signs again
    a.cw.sql(f"UPDATE certificates SET status = 'valid', revoked_at = NULL, "
             f"revocation_reason = NULL WHERE fp_sha256 = '{fp}'")
    _warm(a, url_b, token, low["id"])


@pytest.mark.parametrize("sql", [
    "UPDATE cas SET status = 'disabled' WHERE id = {id}",
    "UPDATE cas SET key_state = 'offline' WHERE id = {id}",
    "UPDATE cas SET key_wrapped = NULL WHERE id = {id}",
])
def test_ca_row_changed_in_sql(two_nodes, sql):
    a, url_b, admin, token = two_nodes
    root = pk.create_ca(admin, name=pk.unique_name("Epoch SQL"), validity_days=365)
    _warm(a, url_b, token, root["id"])
    before = _epoch(a.cw)
    a.cw.sql(sql.format(id=root["id"]))
    assert _epoch(a.cw) > before
    _refused_on_both(a, url_b, token, root["id"])


def test_parent_disabled_in_sql(two_nodes):
    a, url_b, admin, token = two_nodes
    root, _, low = _chain(admin)
    _warm(a, url_b, token, low["id"])
    a.cw.sql(f"UPDATE cas SET status = 'disabled' WHERE id = {root['id']}")
    _refused_on_both(a, url_b, token, low["id"])


def test_ca_deleted_in_sql(two_nodes):
    a, url_b, admin, token = two_nodes
    root = pk.create_ca(admin, name=pk.unique_name("Epoch Gone"), validity_days=365)
    _warm(a, url_b, token, root["id"])
    before = _epoch(a.cw)
    # The certificates it issued keep their rows: only the CA goes.
    a.cw.sql(f"SET foreign_key_checks = 0; DELETE FROM cas WHERE id = {root['id']}")
    assert a.cw.scalar(f"SELECT COUNT(*) FROM cas WHERE id = {root['id']}") == "0"
    assert _epoch(a.cw) > before
    _refused_on_both(a, url_b, token, root["id"], status=404, code="not_found")


def _urls(pem):
    c = pk.cert(pem)
    cdp = pk.ext(c, x509.CRLDistributionPoints)
    aia = pk.ext(c, x509.AuthorityInformationAccess)
    crl = [n.value for dp in cdp.value for n in (dp.full_name or [])]
    ocsp = [d.access_location.value for d in aia.value
            if d.access_method == x509.oid.AuthorityInformationAccessOID.OCSP]
    issuers = [d.access_location.value for d in aia.value
               if d.access_method == x509.oid.AuthorityInformationAccessOID.CA_ISSUERS]
    return crl, ocsp, issuers


def test_changed_ca_urls_reach_the_next_certificate_on_both_nodes(two_nodes):
    a, url_b, admin, token = two_nodes
    root = pk.create_ca(admin, name=pk.unique_name("Epoch URLs"), validity_days=365)
    for url in (a.url, url_b):
        for r in _issue_all(url, token, root["id"]):
            assert r.status_code == 201, idn.describe(r)
            pk.check_urls(pk.cert(idn.data(r, 201)["pem"]), root["slug"])
    before = _epoch(a.cw)
    a.cw.sql("UPDATE cas SET crl_url = 'http://crl.example.net/new.crl', "
             "ocsp_url = 'http://ocsp.example.net/', "
             "ca_issuers_url = 'http://aia.example.net/new.cer' "
             f"WHERE id = {root['id']}")
    assert _epoch(a.cw) > before
    for url in (url_b, a.url):
        for r in _issue_all(url, token, root["id"]):
            assert r.status_code == 201, idn.describe(r)
            crl, ocsp, issuers = _urls(idn.data(r, 201)["pem"])
            assert crl == ["http://crl.example.net/new.crl"], crl
            assert ocsp == ["http://ocsp.example.net/"], ocsp
            assert issuers == ["http://aia.example.net/new.cer"], issuers


def test_crl_bookkeeping_and_leaf_revocations_leave_the_epoch(two_nodes):
    """Writes that cannot change an issuance do not advance the epoch
    (it would make every node read its sessions and CAs again)."""
    a, url_b, admin, token = two_nodes
    root = pk.create_ca(admin, name=pk.unique_name("Epoch Quiet"), validity_days=365)
    leaf = pk.issue(admin, root["id"], cn="quiet.example.com", validity_days=30)
    before = _epoch(a.cw)
    idn.data(admin.post(f"{CERTS}/{leaf['id']}/revoke", json={"reason": "superseded"}))
    a.cw.sql("UPDATE cas SET crl_number = crl_number + 1, "
             f"revocation_seq = revocation_seq + 1 WHERE id = {root['id']}")
    assert _epoch(a.cw) == before
    for r in _issue_all(url_b, token, root["id"]):
        assert r.status_code == 201, idn.describe(r)

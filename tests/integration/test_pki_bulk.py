"""Bulk operations on certificates: each id is handled on its own, every
outcome is reported, and one failure stops nothing."""

import pytest
import expect
import identity as idn
import pki_helpers as pk
from identity import API

CERTS = API + "/certificates"


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


@pytest.fixture(scope="module")
def viewer(admin):
    return idn.login_new(admin, role="viewer", prefix="bulkv")


@pytest.fixture(scope="module")
def ca(admin):
    return pk.create_ca(admin, name=pk.unique_name("Bulk CA"), validity_days=365)


def test_bulk_renew_revoke_export(admin, ca):
    made = [pk.issue(admin, ca["id"], cn=f"bulk{i}.example.com", validity_days=30)
            for i in range(3)]
    ids = [d["id"] for d in made]
    res = idn.data(admin.post(CERTS + "/bulk/renew", json={"ids": ids + [987654321]}))
    results = res["results"]
    assert [r["status"] for r in results] == ["ok", "ok", "ok", "error"], results
    assert results[3]["code"] == "not_found"
    for old, r in zip(made, results):
        new = idn.data(admin.get(f"{CERTS}/{r['new_id']}"))
        assert new["renewed_from"] == old["id"]
        assert new["serial"] != old["serial"] and new["subject"] == old["subject"]
    res = idn.data(admin.post(CERTS + "/bulk/revoke",
                              json={"ids": ids + [ids[0]], "reason": "superseded"}))
    statuses = [r["status"] for r in res["results"]]
    assert statuses == ["ok", "ok", "ok", "error"], res
    assert res["results"][3]["code"] == "conflict"
    for i in ids:
        d = idn.data(admin.get(f"{CERTS}/{i}"))
        assert d["status"] == "revoked" and d["revocation_reason"] == "superseded"
    r = admin.post(CERTS + "/bulk/export", json={"ids": ids, "format": "chain"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/x-pem-file")
    certs = pk.pem_certs(r.text)
    assert len(certs) == 6   # each leaf with its (one-certificate) chain
    assert {pk.serial_hex(c) for c in certs} >= {pk.serial_hex(pk.cert(d["pem"])) for d in made}


def test_bulk_bad_input_and_permissions(admin, viewer, ca):
    d = pk.issue(admin, ca["id"], cn="bulkperm.example.com", validity_days=30)
    for path, body, field in (("/bulk/revoke", {"ids": [], "reason": "superseded"}, "ids"),
                              ("/bulk/revoke", {"ids": [0], "reason": "superseded"}, "ids"),
                              ("/bulk/revoke", {"ids": ["1"], "reason": "superseded"}, "ids"),
                              ("/bulk/revoke", {"ids": [1], "reason": "bogus"}, "reason"),
                              ("/bulk/revoke", {"ids": list(range(1, 202)),
                                                "reason": "superseded"}, "ids"),
                              ("/bulk/renew", {"ids": [1], "extra": 1}, "extra"),
                              ("/bulk/export", {"ids": [d["id"]], "format": "p12"}, "format")):
        doc = expect.problem(admin.post(CERTS + path, json=body), 400)
        assert doc.get("field") == field, (path, body, doc)
    expect.problem(admin.post(CERTS + "/bulk/export", json={"ids": [987654321]}), 404)
    expect.problem(viewer.post(CERTS + "/bulk/revoke",
                               json={"ids": [d["id"]], "reason": "superseded"}), 403)
    expect.problem(viewer.post(CERTS + "/bulk/renew", json={"ids": [d["id"]]}), 403)
    assert idn.data(admin.get(f"{CERTS}/{d['id']}"))["status"] == "valid"
    r = viewer.post(CERTS + "/bulk/export", json={"ids": [d["id"]]})
    assert r.status_code == 200 and b"BEGIN CERTIFICATE" in r.content


def test_ca_list_search_and_tree(admin):
    root = pk.create_ca(admin, name=pk.unique_name("Tree Root"), validity_days=365)
    kids = [pk.create_ca(admin, name=pk.unique_name(f"Tree Kid {i}"), type="intermediate",
                         parent_id=root["id"], validity_days=100) for i in range(2)]
    got = idn.data(admin.get(API + "/cas", params={"parent": root["id"], "per_page": 200}))
    assert sorted(c["id"] for c in got) == sorted(k["id"] for k in kids)
    r = admin.get(API + "/cas", params={"q": root["name"][:14], "sort": "name"})
    doc = r.json()
    assert r.status_code == 200 and root["id"] in [c["id"] for c in doc["data"]]
    assert doc["meta"]["total"] >= 1
    idn.data(admin.post(f"{API}/cas/{kids[0]['id']}/revoke", json={"reason": "superseded"}))
    revoked = idn.data(admin.get(API + "/cas", params={"status": "revoked", "per_page": 200}))
    assert kids[0]["id"] in [c["id"] for c in revoked]
    assert kids[1]["id"] not in [c["id"] for c in revoked]
    for params, field in (({"status": "bogus"}, "status"), ({"parent": "x"}, "parent"),
                          ({"sort": "slug"}, "sort"), ({"q": "x" * 200}, "q")):
        d = expect.problem(admin.get(API + "/cas", params=params), 400)
        assert d.get("field") == field, (params, d)


def test_certificate_list_key_type_filter(admin, ca):
    token = pk.unique_name("kt").split()[-1].lower()
    rsa = pk.issue(admin, ca["id"], cn=f"{token}-rsa.example.com",
                   key={"type": "rsa", "bits": 2048}, validity_days=30)
    ec = pk.issue(admin, ca["id"], cn=f"{token}-ec.example.com",
                  key={"type": "ec", "curve": "P-384"}, validity_days=30)
    def ids(**params):
        return {d["id"] for d in idn.data(admin.get(CERTS, params={"q": token, **params}))}
    assert ids() == {rsa["id"], ec["id"]}
    assert ids(key_type="rsa") == {rsa["id"]}
    assert ids(key_type="ec") == {ec["id"]}
    assert ids(key_type="ec-p384") == {ec["id"]}
    assert ids(key_type="ec-p256") == set()
    doc = expect.problem(admin.get(CERTS, params={"key_type": "dsa"}), 400)
    assert doc.get("field") == "key_type"

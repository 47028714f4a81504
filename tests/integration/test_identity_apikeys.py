"""Identity: API keys (/api/v2/account/api-keys): shown once, stored as a
SHA-256 digest, Bearer authentication, scopes never above the owner's
rights (at creation and at every use), revocation, expiry, last use.
"""

import re
import secrets

import pytest

import expect
import identity as idn
from identity import API

KEYS = API + "/account/api-keys"


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


def _key_rows_text(cw, key_id):
    """Every column of one api_keys row, as text."""
    return " ".join(v or "" for v in cw.sql(
        "SELECT CONCAT_WS('|', id, user_id, name, prefix, token_hash, scopes, created_at, "
        f"COALESCE(expires_at, ''), COALESCE(last_used_at, '')) FROM api_keys WHERE id = {key_id}")
        [0])


def test_key_is_shown_once_and_stored_as_digest(admin, cw, base_url):
    owner = idn.login_new(admin, role="auditor", prefix="keyowner")
    r = owner.post(KEYS, json={"name": "ci export", "scopes": ["read:users", "read:audit"],
                               "expires_in_days": 30})
    key = idn.data(r, 201)
    token = key["token"]
    assert re.fullmatch(r"cwk_[0-9a-f]{64}", token), key
    assert key["prefix"] == token[:12] and key["name"] == "ci export", key
    assert key["scopes"] == ["read:users", "read:audit"], key

    lst = owner.get(KEYS)
    items = idn.data(lst)
    mine = [k for k in items if k["id"] == key["id"]]
    assert len(mine) == 1 and "token" not in mine[0], items
    assert mine[0]["prefix"] == key["prefix"] and mine[0]["expires_at"], mine
    assert token not in lst.text and token[4:] not in lst.text

    digest = cw.scalar(f"SELECT token_hash FROM api_keys WHERE id = {key['id']}")
    assert digest == idn.sha256_hex(token), digest
    text = _key_rows_text(cw, key["id"])
    assert token[4:] not in text and token[12:] not in text, "token stored in the clear"
    leaks = cw.scalar("SELECT COUNT(*) FROM audit_log WHERE "
                      f"CONCAT_WS('|', detail, resource_id) LIKE '%{token[12:]}%'")
    assert leaks == "0", "token written to the audit log"
    rows = idn.audit_rows(admin, action="api_key.create", user=owner.username)
    assert [x["resource_id"] for x in rows] == [str(key["id"])], rows
    assert rows[0]["detail"]["prefix"] == key["prefix"], rows


def test_bearer_key_scopes_and_last_use(admin, cw, base_url):
    owner = idn.login_new(admin, role="auditor", prefix="keyscope")
    key = idn.data(owner.post(KEYS, json={"name": "users only", "scopes": ["read:users"]}), 201)
    k = idn.bearer(base_url, key["token"])
    assert cw.scalar(f"SELECT last_used_at FROM api_keys WHERE id = {key['id']}") is None

    assert owner.username in [u["username"] for u in idn.data(
        k.get(API + "/users", params={"q": owner.username}))]
    # The owner may read the audit log and the settings; the key may not.
    for path in (API + "/audit", API + "/settings/security", API + "/auth/me"):
        doc = expect.problem(k.get(path), 403, "forbidden")
        assert "permission" in doc["detail"], doc
    assert cw.scalar(f"SELECT last_used_at IS NOT NULL FROM api_keys "
                     f"WHERE id = {key['id']}") == "1"
    listed = [x for x in idn.data(owner.get(KEYS)) if x["id"] == key["id"]][0]
    assert listed["last_used_at"] and listed["last_used_at"].endswith("Z"), listed

    # No scopes: everything the owner holds now.
    full = idn.data(owner.post(KEYS, json={"name": "everything"}), 201)
    me = idn.data(idn.bearer(base_url, full["token"]).me())["user"]
    assert me["auth"] == "api_key" and me["username"] == owner.username, me
    assert sorted(me["permissions"]) == sorted(idn.data(owner.me())["user"]["permissions"])


def test_scopes_above_the_owner_are_refused(admin, cw):
    owner = idn.login_new(admin, role="viewer", prefix="keyabove")
    before = idn.table_counts(cw)["api_keys"]
    for scopes in (["write:users"], ["read:system", "read:audit"], ["export:private_keys"]):
        doc = expect.problem(owner.post(KEYS, json={"name": "too much", "scopes": scopes}),
                             403, "forbidden")
        assert doc.get("field") == "scopes", doc
    doc = expect.problem(owner.post(KEYS, json={"name": "nonsense", "scopes": ["fly:away"]}),
                         400, "bad_request")
    assert doc.get("field") == "scopes", doc
    assert idn.table_counts(cw)["api_keys"] == before


def test_demoting_the_owner_shrinks_the_key_at_once(admin, base_url):
    owner = idn.login_new(admin, role="auditor", prefix="keydemote")
    key = idn.data(owner.post(KEYS, json={"name": "audit", "scopes": ["read:audit",
                                                                     "read:system"]}), 201)
    k = idn.bearer(base_url, key["token"])
    assert idn.data(k.get(API + "/audit", params={"per_page": 1})) is not None
    uid = owner.user["id"]
    assert idn.data(admin.patch(f"{API}/users/{uid}", json={"role": "viewer"}))
    expect.problem(k.get(API + "/audit"), 403, "forbidden")
    assert idn.data(k.get(API + "/system/info"))        # still within both
    assert idn.data(admin.patch(f"{API}/users/{uid}", json={"role": "auditor"}))
    assert idn.data(k.get(API + "/audit", params={"per_page": 1})) is not None
    # A disabled owner's keys stop working.
    assert idn.data(admin.patch(f"{API}/users/{uid}", json={"active": False}))
    expect.problem(k.get(API + "/system/info"), 401, "unauthorized")
    assert idn.data(admin.patch(f"{API}/users/{uid}", json={"active": True}))
    assert idn.data(k.get(API + "/system/info"))


def test_revoked_and_expired_keys_are_refused(admin, cw, base_url):
    owner = idn.login_new(admin, role="viewer", prefix="keyrevoke")
    key = idn.data(owner.post(KEYS, json={"name": "short-lived"}), 201)
    k = idn.bearer(base_url, key["token"])
    assert idn.data(k.get(API + "/system/info"))

    other = idn.login_new(admin, role="viewer", prefix="keythief")
    expect.problem(other.delete(f"{KEYS}/{key['id']}"), 404, "not_found")
    assert idn.data(k.get(API + "/system/info"))

    r = owner.delete(f"{KEYS}/{key['id']}")
    assert r.status_code == 204, idn.describe(r)
    expect.problem(k.get(API + "/system/info"), 401, "unauthorized")
    expect.problem(owner.delete(f"{KEYS}/{key['id']}"), 404, "not_found")
    listed = [x for x in idn.data(owner.get(KEYS)) if x["id"] == key["id"]][0]
    assert listed["revoked_at"], listed

    key2 = idn.data(owner.post(KEYS, json={"name": "expiring", "expires_in_days": 1}), 201)
    k2 = idn.bearer(base_url, key2["token"])
    assert idn.data(k2.get(API + "/system/info"))
    cw.sql(f"UPDATE api_keys SET expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = {key2['id']}")
    expect.problem(k2.get(API + "/system/info"), 401, "unauthorized")
    rows = idn.audit_rows(admin, action="api_key.revoke", user=owner.username)
    assert [x["resource_id"] for x in rows] == [str(key["id"])], rows


@pytest.mark.parametrize("authorization", [
    "Bearer cwk_" + "0" * 64,
    "Bearer cwk_" + secrets.token_hex(32),
    "Bearer cwk_" + secrets.token_hex(31),
    "Bearer " + "x" * 68,
    "Bearer ",
    "Basic YWRtaW46YWRtaW4=",
    "cwk_" + "0" * 64,
])
def test_bad_bearer_tokens(base_url, authorization):
    r = idn.Client(base_url).get(API + "/system/info", headers={"Authorization": authorization})
    expect.problem(r, 401, "unauthorized")


def test_key_token_is_case_sensitive(admin, base_url):
    owner = idn.login_new(admin, role="viewer", prefix="keycase")
    key = idn.data(owner.post(KEYS, json={"name": "case"}), 201)
    upper = "cwk_" + key["token"][4:].upper()
    assert upper != key["token"]
    expect.problem(idn.bearer(base_url, upper).get(API + "/system/info"), 401)

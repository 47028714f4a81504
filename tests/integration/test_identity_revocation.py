"""Session and API key revocation across workers and nodes with reused
rows.

Workers keep the session rows and API key rows they read and reuse them
while the authentication epoch (table auth_epoch, kept by triggers) is
unchanged; the epoch is read for every request. These tests run two
certward nodes, each with its own nginx, on one database, and check that
every change that ends or alters a session or an API key takes effect on
the very next request on both nodes, including changes made directly in
SQL.
"""

import datetime
import time

import pytest

import expect
import identity as idn
import stack
from identity import API

ME = API + "/auth/me"


@pytest.fixture
def two_nodes(make_stack):
    """Node A (a private stack) and node B: a second `certward serve` with
    the same database and secrets, behind its own nginx."""
    with idn.second_node(make_stack, "epadmin") as nodes:
        yield nodes


def _me_all_workers(url, token, n=12):
    """n GETs on fresh connections (nginx hands them to either worker)."""
    return [idn.cookie_get(url, ME, token) for _ in range(n)]


def _warm(url, token):
    for r in _me_all_workers(url, token):
        assert r.status_code == 200, idn.describe(r)
    return idn.data(r)["user"]


def _all_unauth(url, token):
    for r in _me_all_workers(url, token):
        expect.problem(r, 401, "unauthorized")


def _epoch(cw):
    return int(cw.scalar("SELECT gen FROM auth_epoch WHERE id = 1"))


def test_logout_on_one_node_ends_the_session_on_the_other(two_nodes):
    a, url_b, admin = two_nodes
    c = idn.login_new(admin, role="viewer", prefix="epout")
    token = c.cookie
    _warm(url_b, token)
    before = _epoch(a.cw)
    r = c.post(API + "/auth/logout")
    assert r.status_code == 204, idn.describe(r)
    assert _epoch(a.cw) > before
    _all_unauth(url_b, token)


def test_revoking_a_session_is_seen_by_the_other_node(two_nodes):
    a, url_b, admin = two_nodes
    uid, name, pw = idn.new_user(admin, role="viewer", prefix="eprev")
    first = idn.Client(a.url)
    first.login(name, pw)
    second = idn.Client(a.url)
    second.login(name, pw)
    _warm(url_b, second.cookie)
    sid = idn.jwt_decode(second.cookie)[1]["sid"]
    sessions = idn.data(first.get(API + "/account/sessions"))
    target = [s for s in sessions if a.cw.scalar(
        f"SELECT sid FROM sessions WHERE id = {int(s['id'])}") == sid]
    assert len(target) == 1, sessions
    r = first.delete(f"{API}/account/sessions/{target[0]['id']}")
    assert r.status_code == 204, idn.describe(r)
    _all_unauth(url_b, second.cookie)
    assert _warm(url_b, first.cookie)["id"] == uid


def test_role_change_and_disabling_take_effect_on_the_next_request(two_nodes):
    a, url_b, admin = two_nodes
    c = idn.login_new(admin, role="viewer", prefix="eprole")
    token = c.cookie
    me = _warm(url_b, token)
    assert me["role"] == "viewer" and "read:audit" not in me["permissions"], me
    r = admin.patch(f"{API}/users/{c.user['id']}", json={"role": "auditor"})
    assert r.status_code == 200, idn.describe(r)
    for r in _me_all_workers(url_b, token):
        me = idn.data(r)["user"]
        assert me["role"] == "auditor" and "read:audit" in me["permissions"], me
    r = admin.patch(f"{API}/users/{c.user['id']}", json={"active": False})
    assert r.status_code == 200, idn.describe(r)
    _all_unauth(url_b, token)


def test_custom_role_permissions_change_on_the_next_request(two_nodes):
    a, url_b, admin = two_nodes
    role = idn.data(admin.post(API + "/roles", json={
        "name": idn.unique("eprole"), "description": "", "permissions": ["read:users"]}), 201)
    c = idn.login_new(admin, role=role["name"], prefix="epcustom")
    me = _warm(url_b, c.cookie)
    assert "read:users" in me["permissions"], me
    r = admin.put(f"{API}/roles/{role['id']}", json={"permissions": ["read:audit"]})
    assert r.status_code == 200, idn.describe(r)
    for r in _me_all_workers(url_b, c.cookie):
        perms = idn.data(r)["user"]["permissions"]
        assert "read:audit" in perms and "read:users" not in perms, perms
    expect.problem(idn.cookie_get(url_b, API + "/users", c.cookie), 403, "forbidden")


@pytest.mark.parametrize("sql", [
    "UPDATE users SET active = 0 WHERE id = {uid}",
    "UPDATE sessions SET revoked_at = NOW(6) WHERE user_id = {uid}",
    "UPDATE sessions SET expires_at = NOW(6) - INTERVAL 1 SECOND WHERE user_id = {uid}",
    "DELETE FROM sessions WHERE user_id = {uid}",
    "DELETE FROM users WHERE id = {uid}",
])
def test_changes_made_in_sql_take_effect_on_the_next_request(two_nodes, sql):
    a, url_b, admin = two_nodes
    c = idn.login_new(admin, role="viewer", prefix="epsql")
    _warm(a.url, c.cookie)
    _warm(url_b, c.cookie)
    a.cw.sql(sql.format(uid=int(c.user["id"])))
    _all_unauth(a.url, c.cookie)
    _all_unauth(url_b, c.cookie)


def test_second_factor_change_is_seen_at_once(two_nodes):
    """A role that requires 2FA: the restriction lifts as soon as the
    enrolment row says so (set here in SQL), on either node."""
    a, url_b, admin = two_nodes
    c = idn.login_new(admin, role="viewer", prefix="ep2fa")
    me = _warm(url_b, c.cookie)
    assert me["two_factor_enabled"] is False, me
    a.cw.sql("INSERT INTO user_totp (user_id, secret_wrapped, confirmed_at) "
             f"VALUES ({int(c.user['id'])}, x'00', NOW(6))")
    for r in _me_all_workers(url_b, c.cookie):
        assert idn.data(r)["user"]["two_factor_enabled"] is True, r.text
    a.cw.sql(f"DELETE FROM user_totp WHERE user_id = {int(c.user['id'])}")
    for r in _me_all_workers(a.url, c.cookie):
        assert idn.data(r)["user"]["two_factor_enabled"] is False, r.text


def test_authenticated_reads_write_nothing(two_nodes):
    """Repeated GETs neither advance the epoch nor write last_seen_at more
    than once a minute; a stale last_seen_at is refreshed on first use."""
    a, url_b, admin = two_nodes
    c = idn.login_new(admin, role="viewer", prefix="epseen")
    sid = idn.jwt_decode(c.cookie)[1]["sid"]
    a.cw.sql("UPDATE sessions SET last_seen_at = '2000-01-01 00:00:00' "
             f"WHERE sid = '{sid}'")
    before = _epoch(a.cw)
    _warm(url_b, c.cookie)
    seen = a.cw.scalar(f"SELECT last_seen_at FROM sessions WHERE sid = '{sid}'")
    assert seen.startswith(str(datetime.datetime.now(datetime.timezone.utc).year)), seen
    _warm(url_b, c.cookie)
    _warm(a.url, c.cookie)
    assert a.cw.scalar(f"SELECT last_seen_at FROM sessions WHERE sid = '{sid}'") == seen
    assert _epoch(a.cw) == before


# --------------------------------------------------------------------------
# API keys: the key rows are kept per thread by the key's hash, under the
# same epoch (migration 0008 adds the api_keys triggers).

KEYS = API + "/account/api-keys"


def _key(owner, **body):
    body.setdefault("name", idn.unique("epkey"))
    return idn.data(owner.post(KEYS, json=body), 201)


def _key_all_workers(url, token, path=ME, n=12):
    k = idn.bearer(url, token)
    return [k.get(path) for _ in range(n)]


def _key_warm(url, token, path=ME):
    for r in _key_all_workers(url, token, path):
        assert r.status_code == 200, idn.describe(r)
    return idn.data(r)


def _key_all_unauth(url, token):
    for r in _key_all_workers(url, token):
        expect.problem(r, 401, "unauthorized")


def _key_on_both(a, url_b, admin, role="viewer", prefix="epk", **body):
    owner = idn.login_new(admin, role=role, prefix=prefix)
    key = _key(owner, **body)
    for url in (a.url, url_b):
        me = _key_warm(url, key["token"])["user"]
        assert me["auth"] == "api_key" and me["username"] == owner.username, me
    return owner, key


def test_api_key_revoked_through_the_api_ends_on_both_nodes(two_nodes):
    a, url_b, admin = two_nodes
    owner, key = _key_on_both(a, url_b, admin)
    before = _epoch(a.cw)
    r = owner.delete(f"{KEYS}/{key['id']}")
    assert r.status_code == 204, idn.describe(r)
    assert _epoch(a.cw) > before
    _key_all_unauth(url_b, key["token"])
    _key_all_unauth(a.url, key["token"])


def test_api_key_of_a_deleted_user_ends_on_both_nodes(two_nodes):
    a, url_b, admin = two_nodes
    owner, key = _key_on_both(a, url_b, admin, prefix="epkdel")
    r = admin.delete(f"{API}/users/{owner.user['id']}")
    assert r.status_code in (200, 204), idn.describe(r)
    _key_all_unauth(url_b, key["token"])
    _key_all_unauth(a.url, key["token"])


def test_api_key_of_a_disabled_user_ends_on_both_nodes(two_nodes):
    a, url_b, admin = two_nodes
    owner, key = _key_on_both(a, url_b, admin, prefix="epkoff")
    r = admin.patch(f"{API}/users/{owner.user['id']}", json={"active": False})
    assert r.status_code == 200, idn.describe(r)
    _key_all_unauth(url_b, key["token"])
    _key_all_unauth(a.url, key["token"])


def test_api_key_loses_a_removed_role_permission_at_once(two_nodes):
    a, url_b, admin = two_nodes
    role = idn.data(admin.post(API + "/roles", json={
        "name": idn.unique("epkrole"), "description": "",
        "permissions": ["read:account", "write:account", "read:users", "read:audit"]}), 201)
    owner = idn.login_new(admin, role=role["name"], prefix="epkperm")
    key = _key(owner, scopes=["read:users", "read:audit"])
    for url in (a.url, url_b):
        _key_warm(url, key["token"], API + "/users")
        _key_warm(url, key["token"], API + "/audit")
    r = admin.put(f"{API}/roles/{role['id']}", json={"permissions": ["read:account", "write:account", "read:audit"]})
    assert r.status_code == 200, idn.describe(r)
    for url in (url_b, a.url):
        for r in _key_all_workers(url, key["token"], API + "/users"):
            expect.problem(r, 403, "forbidden")
        _key_warm(url, key["token"], API + "/audit")


@pytest.mark.parametrize("sql", [
    "UPDATE api_keys SET revoked_at = NOW(6) WHERE id = {kid}",
    "DELETE FROM api_keys WHERE id = {kid}",
    "UPDATE api_keys SET expires_at = NOW(6) - INTERVAL 1 SECOND WHERE id = {kid}",
    "UPDATE api_keys SET token_hash = SHA2(CONCAT(token_hash, 'x'), 256) WHERE id = {kid}",
    "UPDATE users SET active = 0 WHERE id = {uid}",
])
def test_api_key_changes_made_in_sql_take_effect_on_the_next_request(two_nodes, sql):
    a, url_b, admin = two_nodes
    owner, key = _key_on_both(a, url_b, admin, prefix="epksql")
    a.cw.sql(sql.format(kid=int(key["id"]), uid=int(owner.user["id"])))
    _key_all_unauth(url_b, key["token"])
    _key_all_unauth(a.url, key["token"])


def test_api_key_scopes_narrowed_in_sql_on_the_next_request(two_nodes):
    a, url_b, admin = two_nodes
    owner, key = _key_on_both(a, url_b, admin, role="auditor", prefix="epkscope",
                              scopes=["read:users", "read:audit", "read:account"])
    _key_warm(url_b, key["token"], API + "/audit")
    a.cw.sql("UPDATE api_keys SET scopes = '[\"read:users\", \"read:account\"]' "
             f"WHERE id = {int(key['id'])}")
    for url in (url_b, a.url):
        for r in _key_all_workers(url, key["token"], API + "/audit"):
            expect.problem(r, 403, "forbidden")
        _key_warm(url, key["token"], API + "/users")


def test_api_key_expiry_is_kept_by_the_clock(two_nodes):
    """An expiry reached while the epoch stands still ends the key on the
    first request after it, on both nodes."""
    a, url_b, admin = two_nodes
    owner = idn.login_new(admin, role="viewer", prefix="epkexp")
    key = _key(owner)
    a.cw.sql("UPDATE api_keys SET expires_at = NOW(6) + INTERVAL 8 SECOND "
             f"WHERE id = {int(key['id'])}")
    for url in (a.url, url_b):
        _key_warm(url, key["token"])
    before = _epoch(a.cw)
    expires = float(a.cw.scalar("SELECT UNIX_TIMESTAMP(expires_at) - UNIX_TIMESTAMP(NOW(6)) "
                                f"FROM api_keys WHERE id = {int(key['id'])}"))
    assert expires > 0, "the key expired before it was used on both nodes"
    time.sleep(expires + 0.2)
    _key_all_unauth(url_b, key["token"])
    _key_all_unauth(a.url, key["token"])
    assert _epoch(a.cw) == before


def test_api_key_use_writes_last_used_at_and_not_the_epoch(two_nodes):
    """A key's use writes last_used_at when it is a minute old, at most once
    a minute between the workers and nodes, and never advances the epoch."""
    a, url_b, admin = two_nodes
    owner = idn.login_new(admin, role="viewer", prefix="epkused")
    key = _key(owner)
    kid = int(key["id"])
    assert a.cw.scalar(f"SELECT last_used_at FROM api_keys WHERE id = {kid}") is None
    before = _epoch(a.cw)
    _key_warm(url_b, key["token"])
    used = a.cw.scalar(f"SELECT last_used_at FROM api_keys WHERE id = {kid}")
    assert used is not None and used.startswith(
        str(datetime.datetime.now(datetime.timezone.utc).year)), used
    _key_warm(a.url, key["token"])
    _key_warm(url_b, key["token"])
    assert a.cw.scalar(f"SELECT last_used_at FROM api_keys WHERE id = {kid}") == used
    assert _epoch(a.cw) == before
    # A minute old: the next use on a node that had not read the row
    # since writes it again.
    a.cw.sql("UPDATE api_keys SET last_used_at = '2000-01-01 00:00:00' "
             f"WHERE id = {kid}")
    assert _epoch(a.cw) == before
    other = _key(owner)
    a.cw.sql(f"UPDATE api_keys SET revoked_at = NOW(6) WHERE id = {int(other['id'])}")
    _key_warm(url_b, key["token"])       # the epoch moved: the row is read again
    again = a.cw.scalar(f"SELECT last_used_at FROM api_keys WHERE id = {kid}")
    assert again.startswith(str(datetime.datetime.now(datetime.timezone.utc).year)), again
    listed = [x for x in idn.data(owner.get(KEYS)) if x["id"] == key["id"]][0]
    assert listed["last_used_at"] and listed["last_used_at"].endswith("Z"), listed


def test_requests_answer_503_while_the_database_is_down(make_stack):
    """A failed epoch read fails every request that waited for it with 503
    (never a stale 200 from a kept session or API key row), and the next
    read after the database is back succeeds."""
    st = make_stack(own_db=True, workers=2, threads=2, loopback_unlimited=True)
    name = idn.unique("epdown")
    pw = idn.strong_password()
    res, _ = idn.cli_user(st.cw, name, "viewer", pw)
    assert res.returncode == 0, res
    c = idn.login_retrying(st.url, name, pw)
    key = _key(c)
    k = idn.bearer(st.url, key["token"])
    _warm(st.url, c.cookie)
    _key_warm(st.url, key["token"])
    st.db.stop()
    for r in _me_all_workers(st.url, c.cookie, n=8) + _key_all_workers(st.url, key["token"], n=8):
        expect.problem(r, 503)
    st.db.start()
    stack.wait_until(lambda: idn.cookie_get(st.url, ME, c.cookie).status_code == 200, 30,
                     what="GET /auth/me after the database restart")
    stack.wait_until(lambda: k.get(ME).status_code == 200, 30,
                     what="GET /auth/me with an API key after the database restart")
    _warm(st.url, c.cookie)
    _key_warm(st.url, key["token"])

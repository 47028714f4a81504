"""Identity: login, the session cookie, /auth/me, logout, the account's
sessions, JWT verification pitfalls, CSRF, and passwords (policy, strength,
change, forced change after `certward user add`).

Runs on the shared session stack; the Secure-cookie check uses a private
stack with cookie_secure = true.
"""

import hashlib
import hmac
import json
import re
import time

import pytest

import expect
import identity as idn
from identity import API

ME = API + "/auth/me"
PW_CHANGE = API + "/account/password"


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


def _unauth(r, code="unauthorized"):
    doc = expect.problem(r, 401, code)
    return doc


def _no_request_id(doc):
    return {k: v for k, v in doc.items() if k != "request_id"}


# --------------------------------------------------------------------------
# login, cookie, me, logout


def test_login_answer_and_cookie_attributes(admin, cw, base_url):
    uid, name, pw = idn.new_user(admin, role="viewer", prefix="login", email="l@example.com")
    c = idn.Client(base_url)
    r = c.login(name, pw)
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    body = r.json()
    assert set(body) >= {"data"}, body
    d = body["data"]
    user = d["user"]
    assert user["id"] == uid and user["username"] == name, user
    assert user["role"] == "viewer" and user["active"] is True, user
    assert user["email"] == "l@example.com", user
    assert user["must_change_password"] is False and user["two_factor_enabled"] is False
    assert "password_hash" not in user and pw not in r.text
    assert re.fullmatch(r"\d+\.[0-9a-f]{64}", d["csrf_token"]), d["csrf_token"]

    value, attrs = idn.set_cookie_attrs(r)
    assert "httponly" in attrs, attrs
    assert attrs.get("samesite", "").lower() == "strict", attrs
    assert "secure" not in attrs, f"cookie_secure=false but cookie is Secure: {attrs}"
    assert attrs.get("path") == "/", attrs
    ttl = int(attrs["max-age"])
    assert ttl == d["expires_in"] > 0, (attrs, d)

    header, claims, _ = idn.jwt_decode(value)
    assert header["alg"] == "HS256", header
    assert claims["sub"] == str(uid) and claims["aud"] == "certward", claims
    assert claims["iss"] == cw.settings["server"]["public_url"], claims
    assert claims["exp"] - claims["iat"] == ttl, claims
    assert abs(claims["iat"] - time.time()) < 60, claims
    row = cw.sql(f"SELECT user_id, revoked_at FROM sessions WHERE sid = '{claims['sid']}'")
    assert row == [(str(uid), None)], row


def test_cookie_secure_when_configured(make_stack):
    st, admin = idn.private_stack(make_stack, config={"security": {"cookie_secure": True}})
    _, attrs = idn.set_cookie_attrs(admin.login_response)
    assert "secure" in attrs and "httponly" in attrs, attrs
    assert attrs.get("samesite", "").lower() == "strict", attrs
    # requests does not send a Secure cookie over http: pass it by hand.
    token = admin.login_response.cookies.get(idn.COOKIE)
    r = admin.post(API + "/auth/logout", headers={"Cookie": f"{idn.COOKIE}={token}"})
    assert r.status_code == 204, idn.describe(r)
    value, attrs = idn.set_cookie_attrs(r)
    assert value == "" and attrs.get("max-age") == "0", attrs
    assert "secure" in attrs, attrs


def test_unknown_user_and_wrong_password_answer_alike(admin, base_url):
    uid, name, pw = idn.new_user(admin, role="viewer", prefix="alike")
    off_id, off_name, off_pw = idn.new_user(admin, role="viewer", prefix="alikeoff")
    r = admin.patch(f"{API}/users/{off_id}", json={"active": False})
    assert r.status_code == 200, idn.describe(r)

    answers = {
        "wrong password": idn.Client(base_url).login(name, pw + "x", check=False),
        "unknown user": idn.Client(base_url).login(idn.unique("nobody"), pw, check=False),
        "disabled account, right password":
            idn.Client(base_url).login(off_name, off_pw, check=False),
    }
    docs = {}
    for what, r in answers.items():
        docs[what] = _no_request_id(_unauth(r))
        assert "Set-Cookie" not in r.headers, (what, r.headers)
        assert r.headers.get("WWW-Authenticate") == 'Bearer realm="certward"', (what, r.headers)
    first = docs["wrong password"]
    for what, doc in docs.items():
        assert doc == first, f"{what} answers differently: {doc} vs {first}"


def test_me_reports_role_and_permissions(admin, base_url):
    d = idn.data(admin.me())["user"]
    assert d["role"] == "admin" and d["auth"] == "session", d
    assert sorted(d["permissions"]) == sorted(idn.ALL_PERMISSIONS), d["permissions"]

    auditor = idn.login_new(admin, role="auditor", prefix="meaud")
    d = idn.data(auditor.me())["user"]
    assert d["role"] == "auditor" and d["username"] == auditor.username, d
    perms = set(d["permissions"])
    assert {"read:users", "read:audit", "export:audit", "read:settings"} <= perms, perms
    assert not perms & {"write:users", "write:settings", "write:roles"}, perms

    _unauth(idn.Client(base_url).me())


def test_logout_ends_the_session_on_every_worker(admin, cw, base_url, session_stack):
    c = idn.login_new(admin, role="viewer", prefix="logout")
    token = c.cookie
    for _ in range(4):
        assert idn.cookie_get(base_url, ME, token).status_code == 200
    r = c.post(API + "/auth/logout")
    assert r.status_code == 204 and r.content == b"", idn.describe(r)
    value, attrs = idn.set_cookie_attrs(r)
    assert value == "" and attrs.get("max-age") == "0", attrs
    sid = idn.jwt_decode(token)[1]["sid"]
    assert cw.scalar(f"SELECT revoked_at IS NOT NULL FROM sessions WHERE sid = '{sid}'") == "1"
    # Fresh connections: nginx hands them to whichever worker accepts first.
    workers = session_stack.cw.worker_pids()
    assert len(workers) >= 2, workers
    ids = []
    for i in range(16):
        r = idn.cookie_get(base_url, ME, token)
        _unauth(r)
        ids.append(r.headers["X-Request-Id"])
    served = set(idn.served_by(session_stack.cw, ids))
    assert None not in served and len(served & workers) >= 2, (served, workers)
    r = idn.cookie_get(base_url, API + "/account/sessions", token)
    _unauth(r)


def test_sessions_list_and_revoke(admin, cw, base_url):
    a = idn.login_new(admin, role="viewer", prefix="sess")
    b = idn.Client(base_url)
    b.login(a.username, a.password)
    sid_a = idn.jwt_decode(a.cookie)[1]["sid"]
    sid_b = idn.jwt_decode(b.cookie)[1]["sid"]
    id_a = int(cw.scalar(f"SELECT id FROM sessions WHERE sid = '{sid_a}'"))
    id_b = int(cw.scalar(f"SELECT id FROM sessions WHERE sid = '{sid_b}'"))

    r = a.get(API + "/account/sessions")
    lst = idn.data(r)
    ids = {s["id"]: s for s in lst}
    assert set(ids) == {id_a, id_b}, lst
    assert ids[id_a]["current"] is True and ids[id_b]["current"] is False, lst
    assert ids[id_a]["client_addr"] == "127.0.0.1", lst
    assert r.json()["meta"]["total"] == 2

    # Someone else cannot revoke this user's session.
    other = idn.login_new(admin, role="viewer", prefix="sessother")
    expect.problem(other.delete(f"{API}/account/sessions/{id_a}"), 404, "not_found")
    assert a.me().status_code == 200

    r = a.delete(f"{API}/account/sessions/{id_b}")
    assert r.status_code == 204, idn.describe(r)
    _unauth(b.me())
    assert a.me().status_code == 200
    expect.problem(a.delete(f"{API}/account/sessions/{id_b}"), 404, "not_found")
    doc = expect.problem(a.delete(f"{API}/account/sessions/abc"), 400, "bad_request")
    assert doc.get("field") == "id", doc

    # DELETE /account/sessions: every session but the current one.
    c = idn.Client(base_url)
    c.login(a.username, a.password)
    d = idn.Client(base_url)
    d.login(a.username, a.password)
    r = a.delete(API + "/account/sessions")
    assert idn.data(r)["revoked"] == 2, r.text
    _unauth(c.me())
    _unauth(d.me())
    assert a.me().status_code == 200
    assert [s["id"] for s in idn.data(a.get(API + "/account/sessions"))] == [id_a]


# --------------------------------------------------------------------------
# JWT pitfalls


@pytest.fixture(scope="module")
def jwt_ctx(admin, cw, base_url):
    c = idn.login_new(admin, role="viewer", prefix="jwt")
    other_id, _, _ = idn.new_user(admin, role="viewer", prefix="jwtother")
    ended = idn.Client(base_url)
    ended.login(c.username, c.password)
    ended_sid = idn.jwt_decode(ended.cookie)[1]["sid"]
    assert ended.post(API + "/auth/logout").status_code == 204
    header, claims, sig = idn.jwt_decode(c.cookie)
    return {"client": c, "token": c.cookie, "header": header, "claims": claims, "sig": sig,
            "key": idn.jwt_secret(cw), "other_id": other_id, "ended_sid": ended_sid}


def _hs256(ctx, **changes):
    claims = dict(ctx["claims"], **changes)
    return idn.jwt_encode({"alg": "HS256", "typ": "JWT"}, claims, ctx["key"])


def test_forged_token_with_the_right_key_is_accepted(jwt_ctx, base_url):
    """The control for the cases below: our own HS256 encoding with the
    server's key and the real claims is a valid session."""
    now = int(time.time())
    token = _hs256(jwt_ctx, iat=now - 5, exp=now + 600)
    assert token != jwt_ctx["token"]
    r = idn.cookie_get(base_url, ME, token)
    assert r.status_code == 200, idn.describe(r)
    assert idn.data(r)["user"]["id"] == jwt_ctx["client"].user["id"]


def _tok_alg_none(ctx):
    return idn.jwt_encode({"alg": "none", "typ": "JWT"}, ctx["claims"], alg=None)


def _tok_alg_none_keeping_signature(ctx):
    return idn.jwt_encode({"alg": "none", "typ": "JWT"}, ctx["claims"], alg=None) + ctx["sig"]


def _tok_wrong_key(ctx):
    return idn.jwt_encode({"alg": "HS256", "typ": "JWT"}, ctx["claims"],
                          b"not-the-server-secret-0123456789abcdef")


def _tok_hs512_right_key(ctx):
    return idn.jwt_encode({"alg": "HS512", "typ": "JWT"}, ctx["claims"], ctx["key"], "HS512")


def _tok_hs384_right_key(ctx):
    return idn.jwt_encode({"alg": "HS384", "typ": "JWT"}, ctx["claims"], ctx["key"], "HS384")


def _tok_expired(ctx):
    now = int(time.time())
    return _hs256(ctx, iat=now - 3600, exp=now - 30)


def _tok_revoked_session(ctx):
    return _hs256(ctx, sid=ctx["ended_sid"])


def _tok_tampered_sub_original_signature(ctx):
    h, _, s = ctx["token"].split(".")
    claims = dict(ctx["claims"], sub=str(ctx["other_id"]))
    c = idn.b64u(json.dumps(claims, separators=(",", ":")).encode())
    return f"{h}.{c}.{s}"


def _tok_other_sub_resigned(ctx):
    return _hs256(ctx, sub=str(ctx["other_id"]))


def _tok_wrong_iss(ctx):
    return _hs256(ctx, iss="https://evil.example")


def _tok_wrong_aud(ctx):
    return _hs256(ctx, aud="someone-else")


def _tok_iat_in_future(ctx):
    now = int(time.time())
    return _hs256(ctx, iat=now + 3600, exp=now + 7200)


def _tok_no_exp(ctx):
    claims = {k: v for k, v in ctx["claims"].items() if k != "exp"}
    return idn.jwt_encode({"alg": "HS256", "typ": "JWT"}, claims, ctx["key"])


def _tok_garbage(ctx):
    return "not.a.jwt"


@pytest.mark.parametrize("make", [
    _tok_alg_none, _tok_alg_none_keeping_signature, _tok_wrong_key, _tok_hs512_right_key,
    _tok_hs384_right_key, _tok_expired, _tok_revoked_session,
    _tok_tampered_sub_original_signature, _tok_other_sub_resigned, _tok_wrong_iss,
    _tok_wrong_aud, _tok_iat_in_future, _tok_no_exp, _tok_garbage,
], ids=lambda f: f.__name__[5:])
def test_bad_session_tokens_are_refused(jwt_ctx, base_url, make):
    token = make(jwt_ctx)
    for path in (ME, API + "/account/sessions"):
        _unauth(idn.cookie_get(base_url, path, token))
    # The real token still works: the refusal was about the forged one.
    assert idn.cookie_get(base_url, ME, jwt_ctx["token"]).status_code == 200


# --------------------------------------------------------------------------
# CSRF


@pytest.fixture(scope="module")
def csrf_ctx(admin, cw, base_url):
    a = idn.login_new(admin, role="admin", prefix="csrf")
    a2 = idn.Client(base_url)
    a2.login(a.username, a.password)
    other = idn.login_new(admin, role="viewer", prefix="csrfother")
    target_id, _, _ = idn.new_user(admin, role="viewer", prefix="csrftarget")
    role = idn.data(a.post(API + "/roles", json={"name": idn.unique("csrfrole"),
                                                 "permissions": ["read:users"]}), 201)
    return {"a": a, "a2": a2, "other": other, "target": target_id, "role": role["id"]}


def _csrf_state(cw, ctx):
    uid = ctx["a"].user["id"]
    return cw.sql(
        f"SELECT (SELECT COUNT(*) FROM api_keys WHERE user_id = {uid} AND revoked_at IS NULL), "
        f"(SELECT description FROM roles WHERE id = {ctx['role']}), "
        f"(SELECT COALESCE(email, '') FROM users WHERE id = {ctx['target']})")[0]


def _csrf_request(ctx, method, n):
    """(path, json body) of a state change by method; n makes it unique."""
    a = ctx["a"]
    if method == "POST":
        return API + "/account/api-keys", {"name": f"csrf-{n}", "scopes": ["read:users"]}
    if method == "PUT":
        return f"{API}/roles/{ctx['role']}", {"description": f"changed {n}"}
    if method == "PATCH":
        return f"{API}/users/{ctx['target']}", {"email": f"c{n}@example.com"}
    key = idn.data(a.post(API + "/account/api-keys", json={"name": f"del-{n}"}), 201)
    return f"{API}/account/api-keys/{key['id']}", None


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_cookie_state_changes_need_the_session_csrf_token(csrf_ctx, cw, method):
    a = csrf_ctx["a"]
    path, body = _csrf_request(csrf_ctx, method, time.monotonic_ns())
    before = _csrf_state(cw, csrf_ctx)
    bad_tokens = {
        "no header": None,
        "garbage": "123.abc",
        "another user's session": csrf_ctx["other"].csrf,
        "another session of the same user": csrf_ctx["a2"].csrf,
        "a token with a forged time": str(int(time.time()) + 5) + a.csrf[a.csrf.index("."):],
    }
    for what, tok in bad_tokens.items():
        headers = {"X-CSRF-Token": tok} if tok is not None else {}
        r = a.request(method, path, json=body, csrf=False, headers=headers)
        doc = expect.problem(r, 403, "csrf_failed")
        assert _csrf_state(cw, csrf_ctx) == before, f"{what}: state changed ({doc})"
    r = a.request(method, path, json=body)
    assert r.status_code in (200, 201, 204), idn.describe(r)
    assert _csrf_state(cw, csrf_ctx) != before


def _csrf_for(key, sid, ts):
    """A CSRF token as the server makes them (HMAC-SHA256 of the session id
    and the issue time under the JWT secret); used only to simulate time."""
    mac = hmac.new(key, f"csrf\n{sid}\n{ts}".encode(), hashlib.sha256).hexdigest()
    return f"{ts}.{mac}"


def test_csrf_protection_lasts_as_long_as_the_session(make_stack):
    """session_ttl may be up to 7 days; a client logged in 25 hours ago must
    still be able to make changes: either its login CSRF token still works,
    or it can get a fresh one (from /auth/me) without logging in again."""
    st, admin = idn.private_stack(make_stack, security={"session_ttl": 604800})
    c = idn.login_new(admin, role="viewer", prefix="longsession")
    key = idn.jwt_secret(st.cw)
    _, claims, _ = idn.jwt_decode(c.cookie)
    sid = claims["sid"]
    assert claims["exp"] - claims["iat"] == 604800, claims
    now = int(time.time())
    # Control: our CSRF encoding is the server's.
    r = c.post(API + "/account/api-keys", json={"name": "now"}, csrf=False,
               headers={"X-CSRF-Token": _csrf_for(key, sid, now)})
    assert r.status_code == 201, idn.describe(r)

    # The same session as if it had been opened 25 hours ago.
    then = now - 25 * 3600
    st.cw.sql(f"UPDATE sessions SET created_at = NOW(6) - INTERVAL 25 HOUR WHERE sid = '{sid}'")
    old = idn.Client(st.url)
    old.http.cookies.set(idn.COOKIE, idn.jwt_encode(
        {"alg": "HS256", "typ": "JWT"}, dict(claims, iat=then, exp=then + 604800), key))
    old.csrf = _csrf_for(key, sid, then)
    me = idn.data(old.me())
    r = old.post(API + "/account/api-keys", json={"name": "a day later"})
    if r.status_code != 201 and me.get("csrf_token"):
        old.csrf = me["csrf_token"]
        r = old.post(API + "/account/api-keys", json={"name": "a day later"})
    assert r.status_code == 201, \
        f"a valid 25-hour-old session can no longer change anything: {idn.describe(r)}"


def test_password_change_with_an_api_key_ends_the_sessions(admin, base_url):
    """A new password ends the account's sessions however it was changed."""
    c = idn.login_new(admin, role="viewer", prefix="pwkey")
    other = idn.Client(base_url)
    other.login(c.username, c.password)
    key = idn.data(c.post(API + "/account/api-keys", json={"name": "pw"}), 201)
    k = idn.bearer(base_url, key["token"])
    r = k.post(PW_CHANGE, json={"current_password": c.password,
                                "new_password": idn.strong_password()})
    assert r.status_code == 204, idn.describe(r)
    _unauth(other.me())
    _unauth(c.me())


def test_logout_needs_csrf_too(admin):
    c = idn.login_new(admin, role="viewer", prefix="csrflogout")
    expect.problem(c.post(API + "/auth/logout", csrf=False), 403, "csrf_failed")
    assert c.me().status_code == 200
    assert c.post(API + "/auth/logout").status_code == 204


def test_api_keys_need_no_csrf_token(csrf_ctx, cw, base_url):
    a = csrf_ctx["a"]
    key = idn.data(a.post(API + "/account/api-keys", json={"name": "no-csrf"}), 201)
    k = idn.bearer(base_url, key["token"])
    r = k.post(API + "/account/api-keys", json={"name": "made-by-key", "scopes": ["read:users"]})
    assert r.status_code == 201, idn.describe(r)
    made = idn.data(r, 201)
    r = k.patch(f"{API}/users/{csrf_ctx['target']}", json={"email": "bearer@example.com"})
    assert idn.data(r)["email"] == "bearer@example.com"
    r = k.delete(f"{API}/account/api-keys/{made['id']}")
    assert r.status_code == 204, idn.describe(r)
    assert cw.scalar(f"SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = {made['id']}") == "1"


# --------------------------------------------------------------------------
# passwords


def test_password_policy_document(admin):
    d = idn.data(admin.get(API + "/users/password-policy"))
    assert d["min_length"] == 12 and d["max_length"] == 128, d
    for k in ("require_upper", "require_lower", "require_digit", "require_special"):
        assert d[k] is True, d


@pytest.mark.parametrize("pw,reason", [
    ("Sh0rt!x", "at least 12"),
    ("alllowercase-only", "upper-case"),
    ("NoDigitsHere!!x", "digit"),
    ("NoSpecials12345Ab", None),
    ("Password123!", "common"),
    ("Xaaaa1234!zzQ", None),
    ("Wxyz#Abcd-9876", "sequential"),
])
def test_password_strength_flags_weak_passwords(admin, pw, reason):
    d = idn.data(admin.post(API + "/users/password-strength", json={"password": pw}))
    assert d["meets_policy"] is False, (pw, d)
    assert isinstance(d["reason"], str) and d["reason"], d
    if reason:
        assert reason in d["reason"], (pw, d)
    assert 0 <= d["score"] <= 40, (pw, d)


def test_password_strength_scores_strong_passwords_higher(admin):
    strong = idn.strong_password()
    longer = strong + "-Kp9#Wm3$Tv"
    s1 = idn.data(admin.post(API + "/users/password-strength", json={"password": strong}))
    s2 = idn.data(admin.post(API + "/users/password-strength", json={"password": longer}))
    weak = idn.data(admin.post(API + "/users/password-strength", json={"password": "abc"}))
    assert s1["meets_policy"] is True and s1.get("reason") is None, s1
    assert s2["meets_policy"] is True, s2
    assert weak["score"] < s1["score"] <= s2["score"] <= 100, (weak, s1, s2)


def test_password_change(admin, cw, base_url):
    a = idn.login_new(admin, role="viewer", prefix="pwchange")
    b = idn.Client(base_url)
    b.login(a.username, a.password)
    old = a.password
    hash_before = cw.scalar(f"SELECT password_hash FROM users WHERE id = {a.user['id']}")

    doc = expect.problem(a.post(PW_CHANGE, json={"current_password": old + "x",
                                                 "new_password": idn.strong_password()}),
                         403, "forbidden")
    assert doc.get("field") == "current_password", doc
    doc = expect.problem(a.post(PW_CHANGE, json={"current_password": old,
                                                 "new_password": "weakpassword"}),
                         400, "weak_password")
    assert doc.get("field") == "new_password", doc
    doc = expect.problem(a.post(PW_CHANGE, json={"current_password": old, "new_password": old}),
                         400, "weak_password")
    assert doc.get("field") == "new_password", doc
    assert cw.scalar(f"SELECT password_hash FROM users WHERE id = {a.user['id']}") == hash_before
    assert b.me().status_code == 200, "a refused change ended another session"

    new = idn.strong_password()
    r = a.post(PW_CHANGE, json={"current_password": old, "new_password": new})
    assert r.status_code == 204, idn.describe(r)
    _unauth(b.me())
    assert a.me().status_code == 200, "the session that changed the password must live on"
    _unauth(idn.Client(base_url).login(a.username, old, check=False))
    idn.Client(base_url).login(a.username, new)
    row = cw.sql(f"SELECT password_hash, must_change_password FROM users WHERE id = {a.user['id']}")
    assert row[0][0].startswith("$argon2id$") and new not in row[0][0] and row[0][1] == "0", row


def test_generated_password_must_be_changed_first(cw, base_url):
    name = idn.unique("gen")
    res, pw = idn.cli_user(cw, name, "auditor")
    assert res.returncode == 0, res
    assert pw and len(pw) >= 12, res.stdout
    assert cw.scalar(f"SELECT must_change_password FROM users WHERE username = '{name}'") == "1"

    c = idn.Client(base_url)
    r = c.login(name, pw)
    d = r.json()["data"]
    assert d["must_change_password"] is True and d["user"]["must_change_password"] is True, d
    assert idn.data(c.me())["user"]["username"] == name
    for path in (API + "/users", API + "/audit", API + "/system/info",
                 API + "/account/api-keys"):
        expect.problem(c.get(path), 403, "forbidden")
    r = c.post(API + "/account/api-keys", json={"name": "before-change"})
    expect.problem(r, 403, "forbidden")
    assert idn.data(c.get(API + "/users/password-policy"))["min_length"] == 12

    new = idn.strong_password()
    r = c.post(PW_CHANGE, json={"current_password": pw, "new_password": new})
    assert r.status_code == 204, idn.describe(r)
    assert cw.scalar(f"SELECT must_change_password FROM users WHERE username = '{name}'") == "0"
    assert idn.data(c.get(API + "/users"))  # the same session is now unrestricted
    assert idn.data(c.me())["user"]["must_change_password"] is False

"""Identity: bad input on every identity endpoint. Malformed JSON, wrong
types, unknown fields, oversized strings and missing fields are refused
with a 4xx problem document naming the field where one applies, never a
5xx, and nothing is written (row counts and the stored settings are the
same before and after).

Runs on a private stack of its own (module scope): a bad request that were
wrongly accepted must not change the shared stack's settings.
"""

import json

import pytest

import expect
import identity as idn
import stack
from identity import API

STRONG = "Qz7!Kp3#Wm9$Tv"
DEEP = {"username": "a", "password": "b", "x": json.loads("[" * 40 + "]" * 40)}


@pytest.fixture(scope="module")
def env(mariadb, certward_bin, used_session):
    st = stack.Stack(mariadb, workers=2, threads=4, name="certward-private")
    try:
        st.prepare()
        idn.seed_security(st.cw, {"rate_limit_allowlist": idn.LOOPBACK_ALLOW})
        name, pw = idn.unique("root"), idn.strong_password()
        res, _ = idn.cli_user(st.cw, name, "admin", pw)
        assert res.returncode == 0, res
        st.start()
    except Exception:
        st.stop()
        raise
    used_session.parts.append(st)
    admin = idn.Client(st.url)
    admin.login(name, pw)
    user_id, _, _ = idn.new_user(admin, role="viewer", prefix="target")
    role = idn.data(admin.post(API + "/roles", json={"name": idn.unique("target"),
                                                     "permissions": ["read:users"]}), 201)
    yield {"stack": st, "admin": admin, "user": user_id, "role": role["id"]}
    st.stop()


def J(**kw):
    return kw


# (id, method, path, body, status, code, field). body: dict -> JSON;
# bytes -> sent as is with Content-Type application/json; ("ctype", bytes).
# field: the exact field name, a "prefix*", or None when no field applies.
CASES = [
    # POST /api/v2/auth/login
    ("login truncated", "POST", "/auth/login", b'{"username": "a", "password": ', 400,
     "malformed_json", None),
    ("login not an object", "POST", "/auth/login", b'["a", "b"]', 400, "malformed_json", None),
    ("login duplicate key", "POST", "/auth/login",
     b'{"username": "a", "username": "b", "password": "p"}', 400, "malformed_json", None),
    ("login empty body", "POST", "/auth/login", b"", 400, "malformed_json", None),
    ("login trailing data", "POST", "/auth/login", b'{"username": "a", "password": "b"} x',
     400, "malformed_json", None),
    ("login nested too deep", "POST", "/auth/login", DEEP, 400, "malformed_json", None),
    ("login username number", "POST", "/auth/login", J(username=5, password="x"), 400,
     "bad_request", "username"),
    ("login password missing", "POST", "/auth/login", J(username="a"), 400, "bad_request",
     "password"),
    ("login password null", "POST", "/auth/login", J(username="a", password=None), 400,
     "bad_request", "password"),
    ("login unknown field", "POST", "/auth/login", J(username="a", password="b", remember=True),
     400, "bad_request", "remember"),
    ("login username oversized", "POST", "/auth/login", J(username="a" * 300, password="b"),
     400, "bad_request", "username"),
    ("login password oversized", "POST", "/auth/login", J(username="a", password="b" * 600),
     400, "bad_request", "password"),
    ("login totp number", "POST", "/auth/login", J(username="a", password="b", totp=123456),
     400, "bad_request", "totp"),
    ("login totp oversized", "POST", "/auth/login", J(username="a", password="b", totp="1" * 40),
     400, "bad_request", "totp"),
    ("login control character", "POST", "/auth/login", J(username="a\u0001b", password="b"),
     400, "bad_request", "username"),
    ("login wrong content type", "POST", "/auth/login",
     ("text/plain", b'{"username": "a", "password": "b"}'), 415, "unsupported_media_type",
     None),
    ("login body over the cap", "POST", "/auth/login", J(username="a", password="b" * 17000),
     413, "payload_too_large", None),
    # POST /api/v2/users
    ("user create malformed", "POST", "/users", b'{"username":', 400, "malformed_json", None),
    ("user create bad username", "POST", "/users",
     J(username="bad name!", password=STRONG, role="viewer"), 400, "bad_request", "username"),
    ("user create username oversized", "POST", "/users",
     J(username="u" * 65, password=STRONG, role="viewer"), 400, "bad_request", "username"),
    ("user create bad email", "POST", "/users",
     J(username="okname1", password=STRONG, role="viewer", email="not-an-email"), 400,
     "bad_request", "email"),
    ("user create email oversized", "POST", "/users",
     J(username="okname2", password=STRONG, role="viewer", email="a" * 250 + "@x.io"), 400,
     "bad_request", "email"),
    ("user create role number", "POST", "/users", J(username="okname3", password=STRONG, role=3),
     400, "bad_request", "role"),
    ("user create role missing", "POST", "/users", J(username="okname4", password=STRONG), 400,
     "bad_request", "role"),
    ("user create role unknown", "POST", "/users",
     J(username="okname5", password=STRONG, role="nope"), 400, "bad_request", "role"),
    ("user create must_change string", "POST", "/users",
     J(username="okname6", password=STRONG, role="viewer", must_change_password="yes"), 400,
     "bad_request", "must_change_password"),
    ("user create unknown field", "POST", "/users",
     J(username="okname7", password=STRONG, role="viewer", is_admin=True), 400, "bad_request",
     "is_admin"),
    ("user create weak password", "POST", "/users",
     J(username="okname8", password="password", role="viewer"), 400, "weak_password",
     "password"),
    ("user create password number", "POST", "/users",
     J(username="okname9", password=123456789012345, role="viewer"), 400, "bad_request",
     "password"),
    # PATCH /api/v2/users/{id}
    ("user patch malformed", "PATCH", "/users/{user}", b'{"active": tru}', 400,
     "malformed_json", None),
    ("user patch active string", "PATCH", "/users/{user}", J(active="false"), 400,
     "bad_request", "active"),
    ("user patch role number", "PATCH", "/users/{user}", J(role=1), 400, "bad_request", "role"),
    ("user patch role unknown", "PATCH", "/users/{user}", J(role="nope"), 400, "bad_request",
     "role"),
    ("user patch bad email", "PATCH", "/users/{user}", J(email="x@"), 400, "bad_request",
     "email"),
    ("user patch rename", "PATCH", "/users/{user}", J(username="renamed"), 400, "bad_request",
     "username"),
    ("user patch id not a number", "PATCH", "/users/abc", J(active=True), 400, "bad_request",
     "id"),
    ("user patch id overflow", "PATCH", "/users/99999999999999999999999", J(active=True), 400,
     "bad_request", "id"),
    ("user get id zero", "GET", "/users/0", None, 400, "bad_request", "id"),
    ("users list page zero", "GET", "/users?page=0", None, 400, "bad_request", "page"),
    ("users list per_page 201", "GET", "/users?per_page=201", None, 400, "bad_request",
     "per_page"),
    ("users list page junk", "GET", "/users?page=-1", None, 400, "bad_request", "page"),
    ("users list q oversized", "GET", "/users?q=" + "q" * 200, None, 400, "bad_request", "q"),
    # POST /api/v2/users/{id}/password, password-strength
    ("user reset password missing", "POST", "/users/{user}/password", J(), 400, "bad_request",
     "password"),
    ("user reset password weak", "POST", "/users/{user}/password", J(password="weak"), 400,
     "weak_password", "password"),
    ("strength missing", "POST", "/users/password-strength", J(), 400, "bad_request",
     "password"),
    ("strength number", "POST", "/users/password-strength", J(password=5), 400, "bad_request",
     "password"),
    # POST/PUT /api/v2/roles
    ("role create bad name", "POST", "/roles", J(name="bad name", permissions=[]), 400,
     "bad_request", "name"),
    ("role create name oversized", "POST", "/roles", J(name="r" * 65, permissions=[]), 400,
     "bad_request", "name"),
    ("role create permissions string", "POST", "/roles",
     J(name="okrole1", permissions="read:users"), 400, "bad_request", "permissions"),
    ("role create permission number", "POST", "/roles", J(name="okrole2", permissions=[1]), 400,
     "bad_request", "permissions"),
    ("role create permission unknown", "POST", "/roles",
     J(name="okrole3", permissions=["nope:x"]), 400, "bad_request", "permissions"),
    ("role create too many permissions", "POST", "/roles",
     J(name="okrole4", permissions=["read:users"] * 65), 400, "bad_request", "permissions"),
    ("role create permissions missing", "POST", "/roles", J(name="okrole5"), 400, "bad_request",
     "permissions"),
    ("role create description oversized", "POST", "/roles",
     J(name="okrole6", permissions=[], description="d" * 300), 400, "bad_request",
     "description"),
    ("role create unknown field", "POST", "/roles",
     J(name="okrole7", permissions=[], builtin=True), 400, "bad_request", "builtin"),
    ("role update permission unknown", "PUT", "/roles/{role}", J(permissions=["nope"]), 400,
     "bad_request", "permissions"),
    ("role update rename", "PUT", "/roles/{role}", J(name="renamed"), 400, "bad_request", "name"),
    ("role update description number", "PUT", "/roles/{role}", J(description=5), 400,
     "bad_request", "description"),
    ("role delete id junk", "DELETE", "/roles/x1", None, 400, "bad_request", "id"),
    # PUT /api/v2/settings/security
    ("settings malformed", "PUT", "/settings/security", b'{"session_ttl": }', 400,
     "malformed_json", None),
    ("settings ttl too low", "PUT", "/settings/security", J(session_ttl=10), 400, "bad_request",
     "session_ttl"),
    ("settings ttl string", "PUT", "/settings/security", J(session_ttl="3600"), 400,
     "bad_request", "session_ttl"),
    ("settings lockout threshold 0", "PUT", "/settings/security", J(lockout={"threshold": 0}),
     400, "bad_request", "lockout*"),
    ("settings lockout unknown member", "PUT", "/settings/security",
     J(lockout={"forever": True}), 400, "bad_request", "lockout*"),
    ("settings lockout not an object", "PUT", "/settings/security", J(lockout=5), 400,
     "bad_request", "lockout"),
    ("settings rate class unknown", "PUT", "/settings/security",
     J(rate_limits={"everything": {"per_minute": 1, "burst": 1}}), 400, "bad_request",
     "rate_limits*"),
    ("settings rate burst 0", "PUT", "/settings/security",
     J(rate_limits={"login": {"per_minute": 1, "burst": 0}}), 400, "bad_request",
     "rate_limits*"),
    ("settings allowlist junk", "PUT", "/settings/security",
     J(rate_limit_allowlist=["not-an-address"]), 400, "bad_request", "rate_limit_allowlist*"),
    ("settings allowlist number", "PUT", "/settings/security", J(rate_limit_allowlist=[5]), 400,
     "bad_request", "rate_limit_allowlist*"),
    ("settings proxies string", "PUT", "/settings/security", J(trusted_proxies="10.0.0.1"), 400,
     "bad_request", "trusted_proxies*"),
    ("settings 2fa role empty", "PUT", "/settings/security", J(require_2fa_roles=[""]), 400,
     "bad_request", "require_2fa_roles*"),
    ("settings unknown field", "PUT", "/settings/security", J(password_min=4), 400,
     "bad_request", "password_min"),
    ("settings body over the cap", "PUT", "/settings/security",
     J(rate_limit_allowlist=["10.0.0.1"] * 3000), 413, "payload_too_large", None),
    # PUT /api/v2/system/audit/retention
    ("retention zero", "PUT", "/system/audit/retention", J(days=0), 400, "bad_request", "days"),
    ("retention string", "PUT", "/system/audit/retention", J(days="30"), 400, "bad_request",
     "days"),
    ("retention missing", "PUT", "/system/audit/retention", J(), 400, "bad_request", "days"),
    ("retention unknown field", "PUT", "/system/audit/retention", J(days=30, forever=True), 400,
     "bad_request", "forever"),
    # POST /api/v2/account/password
    ("password change new missing", "POST", "/account/password", J(current_password="x"), 400,
     "bad_request", "new_password"),
    ("password change current number", "POST", "/account/password",
     J(current_password=1, new_password=STRONG), 400, "bad_request", "current_password"),
    ("password change unknown field", "POST", "/account/password",
     J(current_password="x", new_password=STRONG, confirm=STRONG), 400, "bad_request",
     "confirm"),
    ("password change oversized", "POST", "/account/password",
     J(current_password="x", new_password="Aa1!" * 200), 400, "bad_request", "new_password"),
    # POST/DELETE /api/v2/account/api-keys, sessions
    ("key name empty", "POST", "/account/api-keys", J(name=""), 400, "bad_request", "name"),
    ("key name oversized", "POST", "/account/api-keys", J(name="k" * 200), 400, "bad_request",
     "name"),
    ("key name missing", "POST", "/account/api-keys", J(), 400, "bad_request", "name"),
    ("key scopes string", "POST", "/account/api-keys", J(name="k", scopes="read:users"), 400,
     "bad_request", "scopes"),
    ("key scope unknown", "POST", "/account/api-keys", J(name="k", scopes=["nope"]), 400,
     "bad_request", "scopes"),
    ("key expiry zero", "POST", "/account/api-keys", J(name="k", expires_in_days=0), 400,
     "bad_request", "expires_in_days"),
    ("key expiry huge", "POST", "/account/api-keys", J(name="k", expires_in_days=4000), 400,
     "bad_request", "expires_in_days"),
    ("key expiry string", "POST", "/account/api-keys", J(name="k", expires_in_days="5"), 400,
     "bad_request", "expires_in_days"),
    ("key expiry float", "POST", "/account/api-keys", J(name="k", expires_in_days=1.5), 400,
     "bad_request", "expires_in_days"),
    ("key revoke id junk", "DELETE", "/account/api-keys/abc", None, 400, "bad_request", "id"),
    ("session revoke id junk", "DELETE", "/account/sessions/-1", None, 400, "bad_request", "id"),
    # two-factor
    ("2fa confirm code missing", "POST", "/account/2fa/confirm", J(), 400, "bad_request",
     "code"),
    ("2fa confirm code number", "POST", "/account/2fa/confirm", J(code=123456), 400,
     "bad_request", "code"),
    ("2fa confirm code oversized", "POST", "/account/2fa/confirm", J(code="1" * 20), 400,
     "bad_request", "code"),
    ("2fa disable password missing", "DELETE", "/account/2fa", J(), 400, "bad_request",
     "password"),
    # GET /api/v2/audit, export
    ("audit from junk", "GET", "/audit?from=yesterday", None, 400, "bad_request", "from"),
    ("audit to month 13", "GET", "/audit?to=2026-13-01", None, 400, "bad_request", "to"),
    ("audit from 30 February", "GET", "/audit?from=2026-02-30", None, 400, "bad_request",
     "from"),
    ("audit from with offset", "GET", "/audit?from=2026-01-01T00:00:00%2B02:00", None, 400,
     "bad_request", "from"),
    ("audit per_page 0", "GET", "/audit?per_page=0", None, 400, "bad_request", "per_page"),
    ("audit user oversized", "GET", "/audit?user=" + "u" * 65, None, 400, "bad_request", "user"),
    ("audit action oversized", "GET", "/audit?action=" + "a" * 65, None, 400, "bad_request",
     "action"),
    ("audit export format", "GET", "/audit/export?format=xml", None, 400, "bad_request",
     "format"),
]


def _send(env, method, path, body):
    admin = env["admin"]
    path = API + path.format(user=env["user"], role=env["role"])
    client = idn.Client(admin.base) if path == idn.LOGIN else admin
    if body is None:
        return client.request(method, path)
    if isinstance(body, tuple):
        ctype, raw = body
        return client.request(method, path, data=raw, headers={"Content-Type": ctype})
    if isinstance(body, bytes):
        return client.request(method, path, data=body,
                              headers={"Content-Type": "application/json"})
    return client.request(method, path, json=body)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_writes_nothing(env, case):
    _, method, path, body, status, code, field = case
    cw = env["stack"].cw
    counts = idn.table_counts(cw)
    settings = idn.settings_row(cw)
    r = _send(env, method, path, body)
    expect.not_5xx(r, case[0])
    doc = expect.problem(r, status, code)
    if field is None:
        pass
    elif field.endswith("*"):
        assert str(doc.get("field", "")).startswith(field[:-1]), \
            f"problem should name the field {field[:-1]}(...): {doc}"
    else:
        assert doc.get("field") == field, f"problem should name the field {field}: {doc}"
    assert idn.table_counts(cw) == counts, "bad input changed the database"
    assert idn.settings_row(cw) == settings


def test_stack_still_answers_after_bad_input(env):
    admin = env["admin"]
    assert idn.data(admin.me())["user"]["role"] == "admin"
    v = idn.data(admin.get(API + "/audit/verify"))
    assert v["valid"] is True, v

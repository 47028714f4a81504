"""Identity: user administration (/api/v2/users), the permission matrix of
the built-in roles, custom roles (/api/v2/roles) and the last-admin
invariant (private stacks, including concurrent demotions).
"""

import time

import pytest
import requests

import expect
import identity as idn
from identity import API

# The built-in roles as DESIGN.md section 5 and the product's role table
# describe them, for the routes checked below.
ROLE_PERMS = {
    "admin": set(idn.ALL_PERMISSIONS),
    "operator": {"read:account", "write:account", "read:system"},
    "auditor": {"read:account", "write:account", "read:system", "read:users", "read:roles",
                "read:audit", "export:audit", "read:settings"},
    "viewer": {"read:account", "write:account", "read:system"},
}
ROUTES = [
    ("GET", "/users", "read:users"),
    ("POST", "/users", "write:users"),
    ("GET", "/audit", "read:audit"),
    ("GET", "/audit/export", "export:audit"),
    ("GET", "/settings/security", "read:settings"),
    ("PUT", "/settings/security", "write:settings"),
    ("GET", "/system/audit/retention", "read:settings"),
    ("PUT", "/system/audit/retention", "write:settings"),
    ("GET", "/roles", "read:roles"),
    ("GET", "/roles/permissions", "read:roles"),
    ("POST", "/roles", "write:roles"),
    ("GET", "/system/info", "read:system"),
]


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


def _body(method, path):
    if (method, path) == ("POST", "/users"):
        return {"username": idn.unique("matrix"), "password": idn.strong_password(),
                "role": "viewer"}
    if (method, path) == ("PUT", "/settings/security"):
        return {}                         # keeps every current value
    if (method, path) == ("PUT", "/system/audit/retention"):
        return {"days": 365}
    if (method, path) == ("POST", "/roles"):
        return {"name": idn.unique("matrixrole"), "permissions": ["read:users"]}
    return None


# --------------------------------------------------------------------------
# users


def test_user_crud_by_admin(admin, cw, base_url):
    uid, name, pw = idn.new_user(admin, role="viewer", prefix="crud", email="crud@example.com")
    u = idn.data(admin.get(f"{API}/users/{uid}"))
    assert u == {"id": uid, "username": name, "email": "crud@example.com", "role": "viewer",
                 "active": True, "must_change_password": False, "two_factor_enabled": False,
                 "created_at": u["created_at"]}, u
    assert u["created_at"].endswith("Z")
    row = cw.sql(f"SELECT password_hash FROM users WHERE id = {uid}")[0][0]
    assert row.startswith("$argon2id$") and pw not in row

    r = admin.get(API + "/users", params={"q": name})
    assert [x["id"] for x in idn.data(r)] == [uid] and r.json()["meta"]["total"] == 1, r.text

    users_before = idn.table_counts(cw)["users"]
    doc = expect.problem(admin.post(API + "/users", json={"username": name, "role": "viewer",
                                                          "password": idn.strong_password()}),
                         409, "conflict")
    assert doc.get("field") == "username", doc
    doc = expect.problem(admin.post(API + "/users", json={
        "username": idn.unique("crud"), "role": "no-such-role",
        "password": idn.strong_password()}), 400, "bad_request")
    assert doc.get("field") == "role", doc
    doc = expect.problem(admin.post(API + "/users", json={
        "username": idn.unique("crud"), "role": "viewer", "password": "short"}),
        400, "weak_password")
    assert doc.get("field") == "password", doc
    assert idn.table_counts(cw)["users"] == users_before

    c = idn.Client(base_url)
    c.login(name, pw)
    expect.problem(c.get(API + "/audit"), 403, "forbidden")
    u = idn.data(admin.patch(f"{API}/users/{uid}", json={"email": "new@example.com",
                                                         "role": "auditor"}))
    assert u["email"] == "new@example.com" and u["role"] == "auditor", u
    assert idn.data(c.get(API + "/audit")) is not None, "role change must apply at once"
    assert idn.data(admin.patch(f"{API}/users/{uid}", json={"email": None}))["email"] is None

    assert idn.data(admin.patch(f"{API}/users/{uid}", json={"active": False}))["active"] is False
    expect.problem(c.me(), 401)
    expect.problem(idn.Client(base_url).login(name, pw, check=False), 401)
    assert idn.data(admin.patch(f"{API}/users/{uid}", json={"active": True}))["active"] is True
    c.login(name, pw)

    new = idn.strong_password()
    r = admin.post(f"{API}/users/{uid}/password", json={"password": new})
    assert r.status_code == 204, idn.describe(r)
    expect.problem(c.me(), 401)
    expect.problem(idn.Client(base_url).login(name, pw, check=False), 401)
    r = c.login(name, new)
    assert r.json()["data"]["must_change_password"] is True
    expect.problem(c.get(API + "/audit"), 403, "forbidden")

    r = admin.delete(f"{API}/users/{uid}")
    assert r.status_code == 204, idn.describe(r)
    expect.problem(admin.get(f"{API}/users/{uid}"), 404, "not_found")
    expect.problem(admin.delete(f"{API}/users/{uid}"), 404, "not_found")
    expect.problem(admin.patch(f"{API}/users/{uid}", json={"active": True}), 404, "not_found")
    expect.problem(c.me(), 401)
    expect.problem(idn.Client(base_url).login(name, new, check=False), 401)
    assert cw.scalar(f"SELECT COUNT(*) FROM sessions WHERE user_id = {uid}") == "0"

    expect.problem(admin.delete(f"{API}/users/{admin.user['id']}"), 409, "conflict")


def test_users_list_paging_and_filters(admin):
    prefix = idn.unique("page")
    ids = [idn.new_user(admin, role=role, prefix=prefix)[0]
           for role in ("viewer", "viewer", "auditor")]
    p1 = admin.get(API + "/users", params={"q": prefix, "per_page": 2, "page": 1})
    p2 = admin.get(API + "/users", params={"q": prefix, "per_page": 2, "page": 2})
    assert p1.json()["meta"] == {"total": 3, "page": 1, "per_page": 2}, p1.text
    assert p2.json()["meta"]["total"] == 3
    got = [x["id"] for x in idn.data(p1)] + [x["id"] for x in idn.data(p2)]
    assert sorted(got) == sorted(ids) and len(set(got)) == 3, got
    r = admin.get(API + "/users", params={"q": prefix, "role": "auditor"})
    assert [x["id"] for x in idn.data(r)] == [ids[2]], r.text
    r = admin.get(API + "/users", params={"q": prefix, "page": 3, "per_page": 2})
    assert idn.data(r) == [] and r.json()["meta"]["total"] == 3


# --------------------------------------------------------------------------
# permission matrix


@pytest.fixture(scope="module")
def by_role(admin):
    return {role: idn.login_new(admin, role=role, prefix=f"m{role}") for role in ROLE_PERMS}


@pytest.mark.parametrize("method,path,perm", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_routes_need_authentication(base_url, method, path, perm):
    r = idn.Client(base_url).request(method, API + path, json=_body(method, path))
    expect.problem(r, 401, "unauthorized")
    assert r.headers.get("WWW-Authenticate") == 'Bearer realm="certward"'


@pytest.mark.parametrize("role", list(ROLE_PERMS))
@pytest.mark.parametrize("method,path,perm", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_permission_matrix(by_role, admin, cw, method, path, perm, role):
    c = by_role[role]
    body = _body(method, path)
    users_before = idn.table_counts(cw)["users"]
    r = c.request(method, API + path, json=body)
    if perm in ROLE_PERMS[role]:
        assert r.status_code in (200, 201), idn.describe(r)
        return
    doc = expect.problem(r, 403, "forbidden")
    assert perm in doc["detail"], doc
    if body and "username" in body:
        assert idn.table_counts(cw)["users"] == users_before
        assert cw.scalar(f"SELECT COUNT(*) FROM users WHERE username = '{body['username']}'") \
            == "0"
    rows = idn.audit_rows(admin, action="access.denied", user=c.username)
    assert any(x["resource_id"] == API + path and x["detail"].get("method") == method
               and x["detail"].get("permission") == perm and x["outcome"] == "denied"
               for x in rows), rows


# --------------------------------------------------------------------------
# custom roles


def test_permission_list_and_builtin_roles(admin):
    assert sorted(idn.data(admin.get(API + "/roles/permissions"))) == sorted(idn.ALL_PERMISSIONS)
    roles = {r["name"]: r for r in idn.data(admin.get(API + "/roles"))}
    for name, perms in ROLE_PERMS.items():
        assert roles[name]["builtin"] is True, roles[name]
        assert perms <= set(roles[name]["permissions"]), roles[name]
    assert set(roles["admin"]["permissions"]) == set(idn.ALL_PERMISSIONS)


def test_custom_role_grants_exactly_its_permissions(admin, cw, base_url):
    name = idn.unique("certaudit")
    r = admin.post(API + "/roles", json={"name": name, "description": "reads users and audit",
                                         "permissions": ["read:users", "read:audit",
                                                         "read:users"]})
    role = idn.data(r, 201)
    expected = {"read:account", "write:account", "read:users", "read:audit"}
    assert role["name"] == name and role["builtin"] is False and role["users"] == 0, role
    assert sorted(role["permissions"]) == sorted(expected), role
    assert idn.data(admin.get(f"{API}/roles/{role['id']}"))["permissions"] == role["permissions"]

    c = idn.login_new(admin, role=name, prefix="custom")
    me = idn.data(c.me())["user"]
    assert me["role"] == name and sorted(me["permissions"]) == sorted(expected), me
    assert idn.data(c.get(API + "/users")) and idn.data(c.get(API + "/audit"))
    for method, path in (("GET", "/settings/security"), ("GET", "/roles"),
                         ("GET", "/system/info"), ("GET", "/audit/export")):
        expect.problem(c.request(method, API + path), 403, "forbidden")
    expect.problem(c.post(API + "/users", json=_body("POST", "/users")), 403, "forbidden")

    # Changing the role changes its users' rights on their next request.
    r = admin.put(f"{API}/roles/{role['id']}", json={"permissions": ["read:settings"]})
    assert sorted(idn.data(r)["permissions"]) == ["read:account", "read:settings",
                                                  "write:account"], r.text
    expect.problem(c.get(API + "/users"), 403, "forbidden")
    assert idn.data(c.get(API + "/settings/security"))["lockout"]
    assert idn.data(admin.get(f"{API}/roles/{role['id']}"))["users"] == 1

    # In use: cannot be deleted.
    expect.problem(admin.delete(f"{API}/roles/{role['id']}"), 409, "conflict")
    assert idn.data(admin.patch(f"{API}/users/{c.user['id']}", json={"role": "viewer"}))
    r = admin.delete(f"{API}/roles/{role['id']}")
    assert r.status_code == 204, idn.describe(r)
    expect.problem(admin.get(f"{API}/roles/{role['id']}"), 404, "not_found")
    rows = idn.audit_rows(admin, action="role", resource="role")
    acts = {x["action"] for x in rows if x["resource_id"] == str(role["id"])}
    assert acts == {"role.create", "role.update", "role.delete"}, acts


def test_custom_role_validation(admin, cw):
    before = idn.table_counts(cw)["roles"]
    doc = expect.problem(admin.post(API + "/roles", json={
        "name": idn.unique("bad"), "permissions": ["read:users", "launch:missiles"]}),
        400, "bad_request")
    assert doc.get("field") == "permissions", doc
    name = idn.unique("dup")
    idn.data(admin.post(API + "/roles", json={"name": name, "permissions": []}), 201)
    doc = expect.problem(admin.post(API + "/roles", json={"name": name, "permissions": []}),
                         409, "conflict")
    assert doc.get("field") == "name", doc
    assert idn.table_counts(cw)["roles"] == before + 1


@pytest.mark.parametrize("name", ["admin", "viewer", "operator", "auditor", "root", "system",
                                  "Root", "SYSTEM", "Admin", "VIEWER"])
def test_reserved_role_names(admin, cw, name):
    before = idn.table_counts(cw)["roles"]
    doc = expect.problem(admin.post(API + "/roles", json={"name": name,
                                                          "permissions": ["read:users"]}),
                         409, "conflict")
    assert doc.get("field") == "name", doc
    assert idn.table_counts(cw)["roles"] == before


@pytest.mark.parametrize("role", list(ROLE_PERMS))
def test_builtin_roles_are_immutable(admin, cw, role):
    rid = idn.role_id(admin, role)
    before = cw.sql(f"SELECT name, description, permissions, builtin FROM roles WHERE id = {rid}")
    expect.problem(admin.put(f"{API}/roles/{rid}", json={"description": "mine now"}),
                   409, "conflict")
    expect.problem(admin.put(f"{API}/roles/{rid}", json={"permissions": ["read:users"]}),
                   409, "conflict")
    expect.problem(admin.delete(f"{API}/roles/{rid}"), 409, "conflict")
    assert cw.sql(f"SELECT name, description, permissions, builtin FROM roles "
                  f"WHERE id = {rid}") == before


# --------------------------------------------------------------------------
# the last active admin


def _admins(cw):
    return int(cw.scalar("SELECT COUNT(*) FROM users u JOIN roles r ON r.id = u.role_id "
                         "WHERE r.name = 'admin' AND u.active = 1"))


OPERATOR_PERMS = ["read:system", "read:cas", "write:cas", "read:certificates",
                  "write:certificates", "revoke:certificates", "delete:certificates",
                  "read:csrs", "write:csrs", "delete:csrs", "read:templates",
                  "write:templates", "read:crl", "write:crl"]


def _user_manager(admin, perms=None):
    """A user with write:users who is not an admin (a custom role). By
    default it also holds the operator's permissions, so that it may grant
    the operator and viewer roles (nobody grants what they do not hold)."""
    name = idn.unique("usermgr")
    perms = perms if perms is not None else ["read:users", "write:users"] + OPERATOR_PERMS
    idn.data(admin.post(API + "/roles", json={"name": name, "permissions": perms}), 201)
    return idn.login_new(admin, role=name, prefix="mgr")


def _role_of(cw, uid):
    return cw.scalar(f"SELECT r.name FROM users u JOIN roles r ON r.id = u.role_id "
                     f"WHERE u.id = {int(uid)}")


def test_last_admin_cannot_be_removed(make_stack):
    st, root = idn.private_stack(make_stack)
    rid = root.user["id"]
    mgr = _user_manager(root)
    assert _admins(st.cw) == 1

    for who, method, body in ((mgr, "DELETE", None), (mgr, "PATCH", {"active": False}),
                              (mgr, "PATCH", {"role": "viewer"}),
                              (root, "PATCH", {"role": "operator"}),
                              (root, "PATCH", {"active": False})):
        r = who.request(method, f"{API}/users/{rid}", json=body)
        expect.problem(r, 409, "conflict")
        assert _admins(st.cw) == 1, (method, body)
    assert idn.data(root.me())["user"]["role"] == "admin"
    assert idn.data(mgr.patch(f"{API}/users/{rid}", json={"email": "root@example.com"}))

    # With a second admin, one may go; then the other is the last one.
    a2 = idn.login_new(root, role="admin", prefix="admin2")
    assert idn.data(mgr.patch(f"{API}/users/{rid}", json={"role": "viewer"}))["role"] == "viewer"
    expect.problem(mgr.delete(f"{API}/users/{a2.user['id']}"), 409, "conflict")
    expect.problem(mgr.patch(f"{API}/users/{a2.user['id']}", json={"active": False}),
                   409, "conflict")
    assert idn.data(a2.patch(f"{API}/users/{rid}", json={"role": "admin"}))["role"] == "admin"
    # A disabled admin does not count.
    assert idn.data(root.patch(f"{API}/users/{a2.user['id']}", json={"active": False}))
    expect.problem(mgr.patch(f"{API}/users/{rid}", json={"role": "viewer"}), 409, "conflict")
    assert _admins(st.cw) == 1


def test_concurrent_demotions_leave_an_admin(make_stack):
    st, root = idn.private_stack(make_stack)
    a2 = idn.login_new(root, role="admin", prefix="admin2")
    mgr = _user_manager(root)
    mgr2 = idn.Client(st.url)
    mgr2.login(mgr.username, mgr.password)
    admins = [root, a2]
    for rnd in range(6):
        if rnd % 2 == 0:
            # A non-admin demotes both admins at once from two sessions.
            actors = [(mgr, a2), (mgr2, root)]
            losing = (409,)
        else:
            # Each admin demotes the other. The loser is refused by the
            # invariant (409), or, when its request is authorized after the
            # other's demotion committed, for lack of write:users (403).
            actors = [(root, a2), (a2, root)]
            losing = (403, 409)
        results = idn.parallel(lambda i: actors[i][0].patch(
            f"{API}/users/{actors[i][1].user['id']}", json={"role": "operator"}), 2)
        statuses = sorted(getattr(r, "status_code", repr(r)) for r in results)
        assert statuses[0] == 200 and statuses[1] in losing, \
            (rnd, [getattr(r, "text", r) for r in results])
        assert _admins(st.cw) == 1, rnd
        # Only an admin can grant admin: the one left promotes the other.
        boss = next(a for a in admins if _role_of(st.cw, a.user["id"]) == "admin")
        for a in admins:
            if a is not boss:
                r = boss.patch(f"{API}/users/{a.user['id']}", json={"role": "admin"})
                assert r.status_code == 200, idn.describe(r)
        assert _admins(st.cw) == 2


def test_nobody_grants_more_than_they_hold(make_stack):
    st, root = idn.private_stack(make_stack)
    mgr = _user_manager(root, perms=["read:users", "write:users"])
    # Creating an admin, or making anyone (itself included) an admin or an
    # operator, needs every permission of that role.
    r = mgr.post(API + "/users", json={"username": idn.unique("esc"),
                                       "password": "Escalate#2026pw", "role": "admin"})
    expect.problem(r, 403, "forbidden")
    assert r.json()["field"] == "role"
    before = _role_of(st.cw, mgr.user["id"])
    for target, role in ((mgr.user["id"], "admin"), (mgr.user["id"], "operator"),
                         (root.user["id"], "operator")):
        r = mgr.patch(f"{API}/users/{target}", json={"role": role})
        expect.problem(r, 403, "forbidden")
    assert _role_of(st.cw, mgr.user["id"]) == before
    assert _role_of(st.cw, root.user["id"]) == "admin"
    # A role editor cannot put into a role a permission it lacks.
    editor_role = idn.unique("roleed")
    idn.data(root.post(API + "/roles", json={"name": editor_role,
                                             "permissions": ["read:roles", "write:roles"]}), 201)
    editor = idn.login_new(root, role=editor_role, prefix="ed")
    r = editor.post(API + "/roles", json={"name": idn.unique("big"),
                                          "permissions": ["export:private_keys"]})
    expect.problem(r, 403, "forbidden")
    rid = int(st.cw.scalar(f"SELECT id FROM roles WHERE name = '{editor_role}'"))
    r = editor.request("PUT", f"{API}/roles/{rid}",
                       json={"permissions": ["read:roles", "write:roles", "write:users"]})
    expect.problem(r, 403, "forbidden")
    assert "write:users" not in st.cw.scalar(f"SELECT permissions FROM roles WHERE id = {rid}")


def test_api_key_obeys_obligations_and_dies_with_a_password_reset(make_stack):
    st, root = idn.private_stack(make_stack)
    op = idn.login_new(root, role="operator", prefix="keyed")
    token = idn.data(op.post(API + "/account/api-keys", json={"name": "k"}), 201)["token"]
    key = {"Authorization": f"Bearer {token}"}
    assert requests.get(st.url + API + "/auth/me", headers=key).status_code == 200
    # A reset by an admin sets must_change_password: the key may only do
    # what the account may do until the password is changed...
    r = root.post(f"{API}/users/{op.user['id']}/password",
                  json={"password": "Rotated-Kestrel#2026"})
    assert r.status_code == 204, idn.describe(r)
    # ...and in fact the reset ends the key at once.
    assert requests.get(st.url + API + "/auth/me", headers=key).status_code == 401
    revoked = st.cw.scalar(f"SELECT COUNT(*) FROM api_keys WHERE user_id = {op.user['id']} "
                           "AND revoked_at IS NULL")
    assert revoked == "0"
    # An operator whose role requires 2FA and who has not enrolled: the
    # key is refused outside the enrolment routes, like a session.
    op2 = idn.login_new(root, role="operator", prefix="keyed2")
    token2 = idn.data(op2.post(API + "/account/api-keys", json={"name": "k2"}), 201)["token"]
    key2 = {"Authorization": f"Bearer {token2}"}
    assert requests.get(st.url + API + "/roles/permissions", headers=key2).status_code in (200, 403)
    r = root.put(API + "/settings/security", json={"require_2fa_roles": ["operator"]})
    assert r.status_code == 200, idn.describe(r)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        r = requests.get(st.url + API + "/system/info", headers=key2)
        if r.status_code == 403:
            break
        time.sleep(0.3)
    expect.problem(r, 403, "forbidden")
    assert "two-factor" in r.json()["detail"]
    assert requests.get(st.url + API + "/auth/me", headers=key2).status_code == 200

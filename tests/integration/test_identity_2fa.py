"""Identity: two-factor authentication (RFC 6238 TOTP and backup codes):
enrolment, login with a code, replay and concurrent use, admin reset, the
user turning it off, and the require_2fa_roles policy (private stack).
"""

import base64
import re
from urllib.parse import parse_qs, unquote, urlparse

import pytest

import expect
import identity as idn
from identity import API

TFA = API + "/account/2fa"


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


def _enrol(c):
    """Enrol and confirm 2FA for a logged-in client; returns (secret,
    backup codes, the step of the confirming code)."""
    d = idn.data(c.post(TFA + "/enroll"))
    secret = d["secret"]
    step = idn.current_step()
    r = c.post(TFA + "/confirm", json={"code": idn.totp(secret, step)})
    codes = idn.data(r)["backup_codes"]
    return secret, codes, step


def _login(base_url, c, totp=None):
    return idn.Client(base_url).login(c.username, c.password, totp=totp, check=False)


def _wrong_code(secret, step):
    window = {idn.totp(secret, step + d) for d in (-1, 0, 1, 2)}
    for k in range(10, 40):
        code = idn.totp(secret, step + k)
        if code not in window:
            return code
    raise AssertionError("no code outside the window")


def test_enrol_confirm_and_login_with_totp(admin, cw, base_url):
    c = idn.login_new(admin, role="viewer", prefix="tfa")
    uid = c.user["id"]
    assert idn.data(c.get(TFA)) == {"enabled": False, "pending": False, "required": False}

    d = idn.data(c.post(TFA + "/enroll"))
    secret = d["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), d
    uri = urlparse(d["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp", d
    q = parse_qs(uri.query)
    assert q["secret"] == [secret] and q["algorithm"] == ["SHA1"], q
    assert q["digits"] == ["6"] and q["period"] == ["30"] and q["issuer"], q
    assert c.username in unquote(uri.path), uri
    assert idn.data(c.get(TFA))["pending"] is True
    # The secret is stored wrapped, never as is.
    raw = base64.b32decode(secret).hex().upper()
    stored = cw.scalar(f"SELECT HEX(secret_wrapped) FROM user_totp WHERE user_id = {uid}")
    assert stored and raw not in stored, "TOTP secret stored in the clear"
    # Not enabled until confirmed: login needs no code yet.
    assert _login(base_url, c).status_code == 200

    step = idn.current_step()
    doc = expect.problem(c.post(TFA + "/confirm", json={"code": _wrong_code(secret, step)}),
                         400, "bad_request")
    assert doc.get("field") == "code", doc
    r = c.post(TFA + "/confirm", json={"code": idn.totp(secret, step)})
    d = idn.data(r)
    codes = d["backup_codes"]
    assert d["enabled"] is True and len(codes) == 10 == len(set(codes)), d
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", x) for x in codes), codes
    assert idn.data(c.get(TFA))["enabled"] is True
    stored = " ".join(v for row in cw.sql(
        f"SELECT lookup_hash, code_hash FROM user_backup_codes WHERE user_id = {uid}") for v in row)
    assert len(stored.split()) == 20
    assert not any(x in stored or x.replace("-", "") in stored for x in codes)
    expect.problem(c.post(TFA + "/enroll"), 409, "conflict")

    doc = expect.problem(_login(base_url, c), 401, "totp_required")
    assert doc.get("field") == "totp", doc
    expect.problem(_login(base_url, c, totp=_wrong_code(secret, step)), 401, "unauthorized")
    expect.problem(_login(base_url, c, totp="abcdef"), 401, "unauthorized")

    code = idn.totp(secret, step + 1)   # the confirming step is spent
    r = _login(base_url, c, totp=code)
    assert r.status_code == 200, idn.describe(r)
    assert r.json()["data"]["user"]["two_factor_enabled"] is True
    expect.problem(_login(base_url, c, totp=code), 401, "unauthorized")            # replay
    expect.problem(_login(base_url, c, totp=idn.totp(secret, step)), 401, "unauthorized")


def test_totp_code_used_by_concurrent_logins_works_once(admin, base_url):
    c = idn.login_new(admin, role="viewer", prefix="tfarace")
    secret, _, step = _enrol(c)
    code = idn.totp(secret, step + 1)
    results = idn.parallel(lambda i: _login(base_url, c, totp=code), 8)
    statuses = sorted(getattr(r, "status_code", r) for r in results)
    assert statuses == [200] + [401] * 7, statuses


def test_backup_codes_work_once(admin, cw, base_url):
    c = idn.login_new(admin, role="viewer", prefix="tfabackup")
    uid = c.user["id"]
    _, codes, _ = _enrol(c)
    r = _login(base_url, c, totp=codes[0])
    assert r.status_code == 200, idn.describe(r)
    expect.problem(_login(base_url, c, totp=codes[0]), 401, "unauthorized")
    # Typed without the dash and in capitals: the same code.
    r = _login(base_url, c, totp=codes[1].replace("-", "").upper())
    assert r.status_code == 200, idn.describe(r)
    expect.problem(_login(base_url, c, totp=codes[1]), 401, "unauthorized")

    results = idn.parallel(lambda i: _login(base_url, c, totp=codes[2]), 8)
    statuses = sorted(getattr(r, "status_code", r) for r in results)
    assert statuses == [200] + [401] * 7, statuses
    used = cw.scalar(f"SELECT COUNT(*) FROM user_backup_codes WHERE user_id = {uid} "
                     "AND used_at IS NOT NULL")
    assert used == "3", used
    rows = idn.audit_rows(admin, action="auth.login", user=c.username)
    assert sum(1 for x in rows if x["detail"].get("backup_code") is True) == 3, rows


def test_admin_resets_2fa(admin, cw, base_url):
    c = idn.login_new(admin, role="viewer", prefix="tfareset")
    uid = c.user["id"]
    _enrol(c)
    expect.problem(_login(base_url, c), 401, "totp_required")
    expect.problem(c.post(f"{API}/users/{uid}/reset-2fa"), 403, "forbidden")
    expect.problem(admin.post(f"{API}/users/999999999/reset-2fa"), 404, "not_found")

    r = admin.post(f"{API}/users/{uid}/reset-2fa")
    assert r.status_code == 204, idn.describe(r)
    assert idn.data(admin.get(f"{API}/users/{uid}"))["two_factor_enabled"] is False
    assert cw.scalar(f"SELECT (SELECT COUNT(*) FROM user_totp WHERE user_id = {uid}) + "
                     f"(SELECT COUNT(*) FROM user_backup_codes WHERE user_id = {uid})") == "0"
    assert _login(base_url, c).status_code == 200
    rows = idn.audit_rows(admin, action="user.2fa_reset")
    assert any(x["resource_id"] == str(uid) and x["username"] == admin.username for x in rows)


def test_user_turns_2fa_off_with_password(admin, base_url):
    c = idn.login_new(admin, role="viewer", prefix="tfaoff")
    _enrol(c)
    doc = expect.problem(c.delete(TFA, json={"password": c.password + "x"}), 403, "forbidden")
    assert doc.get("field") == "password", doc
    expect.problem(_login(base_url, c), 401, "totp_required")
    r = c.delete(TFA, json={"password": c.password})
    assert r.status_code == 204, idn.describe(r)
    assert _login(base_url, c).status_code == 200


def test_required_2fa_roles_restrict_unenrolled_sessions(make_stack):
    st, admin = idn.private_stack(make_stack)
    op = idn.login_new(admin, role="operator", prefix="op")
    viewer = idn.login_new(admin, role="viewer", prefix="view")
    assert idn.data(op.get(API + "/system/info"))

    t, d = idn.put_security(admin, {"require_2fa_roles": ["operator"]})
    assert d["require_2fa_roles"] == ["operator"], d
    idn.wait_settings(t)

    doc = expect.problem(op.get(API + "/system/info"), 403, "forbidden")
    assert "two-factor" in doc["detail"], doc
    expect.problem(op.post(API + "/account/api-keys", json={"name": "bypass"}), 403, "forbidden")
    me = idn.data(op.me())["user"]
    assert me["two_factor_enrolment_required"] is True, me
    assert idn.data(op.get(TFA))["required"] is True
    fresh = idn.Client(st.url)
    r = fresh.login(op.username, op.password)
    assert r.json()["data"]["two_factor_enrolment_required"] is True, r.text
    expect.problem(fresh.get(API + "/system/info"), 403, "forbidden")

    # Other roles are not affected.
    assert idn.data(viewer.get(API + "/system/info"))
    assert idn.data(admin.get(API + "/system/info"))

    _enrol(op)
    assert idn.data(op.get(API + "/system/info"))["schema"] >= 2
    assert idn.data(op.me())["user"]["two_factor_enrolment_required"] is False

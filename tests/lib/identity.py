"""Helpers for the identity integration tests (tests/integration/test_identity_*):
HTTP clients that carry the session cookie and the CSRF token, users and
roles made through the API, JWT forging, TOTP codes, and private stacks
with seeded security settings.

Nothing here depends on pytest. Every request has a timeout.
"""

import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import struct
import threading
import time
from pathlib import Path

import requests

import stack

API = "/api/v2"
LOGIN = API + "/auth/login"
COOKIE = "cw_session"
TIMEOUT = 30
# Security settings are cached per worker thread for 5 s (AUTH_SETTINGS_TTL).
SETTINGS_TTL = 5.3
LOOPBACK_ALLOW = ["127.0.0.1", "::1"]
ALL_PERMISSIONS = [
    "read:account", "write:account", "read:system",
    "read:cas", "write:cas", "delete:cas",
    "read:certificates", "write:certificates", "revoke:certificates", "delete:certificates",
    "read:csrs", "write:csrs", "delete:csrs",
    "read:templates", "write:templates",
    "read:crl", "write:crl",
    "read:users", "write:users",
    "read:roles", "write:roles",
    "read:audit", "export:audit",
    "read:settings", "write:settings",
    "export:private_keys",
]
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


# --------------------------------------------------------------------------
# names and passwords

def unique(prefix):
    """A user or role name nobody else in this test session uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


# Words of 6+ letters the server's blocklist matches as substrings.
_BLOCKED = ("password", "passw0rd", "p@ssw0rd", "p@ssword", "qwerty", "qwertz", "azerty",
            "letmein", "welcome", "administrator", "changeme", "iloveyou", "monkey",
            "dragon", "football", "baseball", "master", "sunshine", "princess",
            "trustno1", "superman", "batman", "shadow", "michael", "jennifer", "hunter",
            "freedom", "whatever", "starwars", "certward", "secret", "default", "access",
            "zaq12wsx", "1q2w3e4r", "q1w2e3r4", "asdfgh", "zxcvbn", "abc123", "111111",
            "123456", "654321", "000000", "summer", "winter", "spring", "autumn",
            "company", "certificate")


def _policy_ok(pw):
    low = pw.lower()
    for i in range(3, len(low)):
        a, b, c, d = (ord(x) for x in low[i - 3:i + 1])
        if a == b == c == d:
            return False
        if low[i - 3].isalnum() and low[i].isalnum() and (
                (b == a + 1 and c == b + 1 and d == c + 1) or
                (b == a - 1 and c == b - 1 and d == c - 1)):
            return False
    return not any(w in low for w in _BLOCKED)


def strong_password():
    """A random password that meets the server's policy (12+ characters,
    upper, lower, digit, special, no runs, no common words)."""
    while True:
        pw = "Qz7!" + secrets.token_urlsafe(15)
        if _policy_ok(pw):
            return pw


# --------------------------------------------------------------------------
# HTTP

class Client:
    """One browser-like client: a cookie jar, the CSRF token from its last
    login, optionally a Bearer API key instead of the cookie."""

    def __init__(self, base_url, token=None):
        self.base = base_url
        self.http = requests.Session()
        self.csrf = None
        self.token = token
        self.user = None
        self.username = None
        self.password = None
        self.login_response = None

    def request(self, method, path, csrf=True, headers=None, **kw):
        hdrs = dict(headers or {})
        if csrf and self.csrf and method.upper() in STATE_CHANGING:
            hdrs.setdefault("X-CSRF-Token", self.csrf)
        if self.token:
            hdrs.setdefault("Authorization", "Bearer " + self.token)
        kw.setdefault("timeout", TIMEOUT)
        return self.http.request(method, self.base + path, headers=hdrs, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    @property
    def cookie(self):
        return self.http.cookies.get(COOKIE)

    def login(self, username, password, totp=None, check=True, headers=None):
        body = {"username": username, "password": password}
        if totp is not None:
            body["totp"] = totp
        r = self.http.post(self.base + LOGIN, json=body, headers=headers or {},
                           timeout=TIMEOUT)
        self.login_response = r
        if check:
            assert r.status_code == 200, f"login {username}: {describe(r)}"
        if r.status_code == 200:
            data = r.json()["data"]
            self.csrf = data["csrf_token"]
            self.user = data["user"]
            self.username = username
            self.password = password
        return r

    def me(self):
        return self.get(API + "/auth/me")


def describe(r):
    return f"{r.request.method} {r.request.path_url} -> HTTP {r.status_code} {r.text[:500]!r}"


def data(r, status=200):
    """Assert a success status and return the "data" member."""
    assert r.status_code == status, f"expected {status}: {describe(r)}"
    doc = r.json()
    assert "data" in doc, doc
    return doc["data"]


def login_retrying(base_url, username, password, deadline=90):
    """Log in, waiting out 429 answers (the session stack may have spent its
    login bucket on earlier test modules before the allowlist is set)."""
    client = Client(base_url)
    end = time.monotonic() + deadline
    while True:
        r = client.login(username, password, check=False)
        if r.status_code == 200:
            return client
        if r.status_code != 429 or time.monotonic() > end:
            raise AssertionError(f"login {username}: {describe(r)}")
        time.sleep(min(float(r.headers.get("Retry-After", "1")), 10.0))


def set_cookie_attrs(r):
    """The cw_session Set-Cookie of a response as (value, {attr: value}) with
    lower-case attribute names."""
    headers = r.raw.headers.getlist("Set-Cookie") if hasattr(r.raw.headers, "getlist") \
        else [r.headers.get("Set-Cookie", "")]
    for h in headers:
        parts = [p.strip() for p in h.split(";")]
        name, _, value = parts[0].partition("=")
        if name == COOKIE:
            attrs = {}
            for p in parts[1:]:
                k, _, v = p.partition("=")
                attrs[k.strip().lower()] = v.strip()
            return value, attrs
    raise AssertionError(f"no {COOKIE} Set-Cookie in {headers!r}")


def cookie_get(base_url, path, token, **kw):
    """GET with exactly this session token as the cookie (fresh connection)."""
    return requests.get(base_url + path, headers={"Cookie": f"{COOKIE}={token}"},
                        timeout=TIMEOUT, **kw)


def bearer(base_url, token):
    return Client(base_url, token=token)


# --------------------------------------------------------------------------
# users, roles, settings

def new_user(admin, role="viewer", prefix="u", email=None, password=None, **extra):
    """Create a user through POST /api/v2/users; returns (id, username, password)."""
    username = unique(prefix)
    password = password or strong_password()
    body = {"username": username, "password": password, "role": role}
    if email is not None:
        body["email"] = email
    body.update(extra)
    d = data(admin.post(API + "/users", json=body), 201)
    assert d["username"] == username and d["role"] == role, d
    return d["id"], username, password


def login_new(admin, role="viewer", prefix="u", **kw):
    """A new user of this role, logged in; returns the Client (.user has id)."""
    uid, name, pw = new_user(admin, role=role, prefix=prefix, **kw)
    c = Client(admin.base)
    c.login(name, pw)
    assert c.user["id"] == uid
    return c


def role_id(admin, name):
    for r in data(admin.get(API + "/roles")):
        if r["name"] == name:
            return r["id"]
    raise AssertionError(f"no role {name}")


def put_security(admin, doc):
    """PUT /api/v2/settings/security (fields left out keep their values);
    returns the time it was accepted (monotonic)."""
    d = data(admin.put(API + "/settings/security", json=doc))
    return time.monotonic(), d


def wait_settings(since):
    """Sleep until every worker thread's settings cache has expired."""
    left = since + SETTINGS_TTL - time.monotonic()
    if left > 0:
        time.sleep(left)


def seed_security(cw, doc):
    """Store the security settings document directly (before the server
    starts, so no worker has a cached copy)."""
    text = json.dumps(doc, separators=(",", ":"))
    assert "'" not in text and "\\" not in text, text
    cw.sql("INSERT INTO settings (name, value, updated_by) VALUES ('security', "
           f"'{text}', 'test') ON DUPLICATE KEY UPDATE value = VALUES(value)")


def cli_user(cw, username, role, password=None):
    """`certward user add` with a password file (or a generated password
    when password is None); returns (CompletedProcess, password)."""
    if password is None:
        res = cw.command("user", "add", "--username", username, "--role", role)
        m = re.search(r"^password: (\S+)$", res.stdout, re.M)
        return res, (m.group(1) if m else None)
    d = stack.make_tmpdir("cwidpw.")
    pwfile = stack.write_secret(Path(d) / "pw", password + "\n")
    res = cw.command("user", "add", "--username", username, "--role", role,
                     "--password-file", pwfile)
    return res, password


def table_counts(cw, tables=("users", "roles", "sessions", "api_keys", "settings",
                             "user_totp", "user_backup_codes", "login_failures",
                             "audit_log")):
    row = cw.sql("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables))[0]
    return dict(zip(tables, (int(v) for v in row)))


def settings_row(cw):
    return cw.scalar("SELECT value FROM settings WHERE name = 'security'")


def audit_rows(client, **filters):
    """Every audit row matching the filters (newest first), over all pages."""
    rows = []
    page = 1
    while True:
        params = dict(filters, page=page, per_page=200)
        d = client.get(API + "/audit", params=params)
        assert d.status_code == 200, describe(d)
        doc = d.json()
        rows += doc["data"]
        if len(rows) >= doc["meta"]["total"] or not doc["data"]:
            return rows
        page += 1


# --------------------------------------------------------------------------
# private stacks

_session_admins = {}
_session_lock = threading.Lock()


def session_admin(st):
    """An admin on the shared session stack, created once per session. The
    first call also puts loopback in rate_limit_allowlist (many tests log in
    from 127.0.0.1) and raises the per-account lockout threshold (some tests
    fail logins on purpose, several at once on one account); lockout
    behaviour itself is tested on private stacks."""
    with _session_lock:
        key = id(st)
        if key not in _session_admins:
            name = unique("idadmin")
            pw = strong_password()
            res, _ = cli_user(st.cw, name, "admin", pw)
            assert res.returncode == 0, res
            admin = login_retrying(st.url, name, pw)
            cur = data(admin.get(API + "/settings/security"))
            if not (set(LOOPBACK_ALLOW) <= set(cur["rate_limit_allowlist"])
                    and cur["lockout"]["threshold"] >= 1000):
                t, _ = put_security(admin, {
                    "rate_limit_allowlist": sorted(set(cur["rate_limit_allowlist"])
                                                   | set(LOOPBACK_ALLOW)),
                    "lockout": dict(cur["lockout"], threshold=1000)})
                wait_settings(t)
            _session_admins[key] = (name, pw)
        name, pw = _session_admins[key]
    c = Client(st.url)
    c.login(name, pw)
    return c


def private_stack(make_stack, security=None, workers=2, threads=4, config=None):
    """A private stack (fresh database in the shared MariaDB) whose security
    settings are seeded before it starts: loopback allowlisted unless the
    document says otherwise. Returns (stack, admin Client)."""
    st = make_stack(workers=workers, threads=threads, settings=config, start=False)
    doc = {"rate_limit_allowlist": LOOPBACK_ALLOW}
    doc.update(security or {})
    seed_security(st.cw, doc)
    name = unique("root")
    pw = strong_password()
    res, _ = cli_user(st.cw, name, "admin", pw)
    assert res.returncode == 0, res
    st.start()
    admin = Client(st.url)
    admin.login(name, pw)
    return st, admin


def jwt_secret(cw):
    """The HS256 key the server signs sessions with (the secret file's text,
    one trailing newline stripped)."""
    raw = Path(cw.settings["security"]["jwt_secret_file"]).read_bytes()
    return raw[:-1] if raw.endswith(b"\n") else raw


# --------------------------------------------------------------------------
# JWT and TOTP

def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_HMAC = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def jwt_encode(header, claims, key=None, alg="HS256"):
    """header.claims.signature; alg None leaves the signature empty."""
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    c = b64u(json.dumps(claims, separators=(",", ":")).encode())
    sig = ""
    if alg is not None:
        sig = b64u(hmac.new(key, f"{h}.{c}".encode(), _HMAC[alg]).digest())
    return f"{h}.{c}.{sig}"


def jwt_decode(token):
    h, c, s = token.split(".")
    return json.loads(b64u_decode(h)), json.loads(b64u_decode(c)), s


def totp(secret_b32, step=None):
    """RFC 6238 code (HMAC-SHA1, 30 s steps, 6 digits) for a step (default:
    now)."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    if step is None:
        step = int(time.time()) // 30
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
    return f"{code:06d}"


def current_step():
    return int(time.time()) // 30


def parallel(fn, n):
    """Run fn(i) in n threads released together; returns the results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as e:  # reported by the caller's assertions
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def served_by(cw, request_ids):
    """Worker pid of each request id (None if unknown), from the log lines
    certward writes for refused requests:
    "<6>TIME certward[PID] info file:line [REQUEST-ID] message"."""
    pids = {}
    for m in re.finditer(r"certward\[(\d+)\] \w+ \S+ \[([0-9a-f]+)\]", cw.log_text()):
        pids[m.group(2)] = int(m.group(1))
    return [pids.get(rid) for rid in request_ids]


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


@contextlib.contextmanager
def second_node(make_stack, user_prefix):
    """Node A (a private stack from make_stack) and node B: a second
    `certward serve` on the same database with the same secrets, behind its
    own nginx. Yields (a, url of B, an admin session logged in on A)."""
    a = make_stack(loopback_unlimited=True)
    cw_b = stack.Certward(a.cw.mariadb, database=a.cw.database, settings={
        "security": {"jwt_secret_file": a.cw.jwt_secret_file,
                     "master_key_file": a.cw.master_key_file}}, name="certward-b")
    web_b = None
    try:
        cw_b.start()
        web_b = stack.WEB_SERVERS["nginx"](cw_b.socket, stack.make_docroot()).start()
        name = unique(user_prefix)
        pw = strong_password()
        res, _ = cli_user(a.cw, name, "admin", pw)
        assert res.returncode == 0, res
        yield a, web_b.url, login_retrying(a.url, name, pw)
    finally:
        if web_b is not None:
            web_b.stop()
        cw_b.stop()

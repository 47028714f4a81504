"""Foundation: health, errors, body limits, CLI verbs, process supervision,
database outages, cron leases and schema versions, end to end through nginx."""

import json
import os
import re
import signal
import subprocess
import threading

import pytest
import requests

import expect
import stack
from httpc import raw_request

LOGIN = "/api/v2/auth/login"
BODY_CAP = 16 * 1024  # cap of the login route


def host_port(st):
    return stack.LOOPBACK, st.web.port


def post_raw(st, path, headers, body=b"", timeout=10):
    head = f"POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return raw_request(*host_port(st), head.encode() + b"\r\n" + body, timeout=timeout)


def health(url, timeout=10):
    return requests.get(url + "/api/health", timeout=timeout)


# ---------------------------------------------------------------------------
# HTTP surface

def test_health_ok(base_url, http, schema_version):
    r = http.get(base_url + "/api/health", timeout=10)
    assert r.status_code == 200, expect.describe(r)
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    doc = r.json()
    assert doc["status"] == "ok", doc
    assert doc["database"] == "ok", doc
    assert doc["schema"] == schema_version, doc
    assert type(doc["schema"]) is int, doc


def test_request_ids_present_and_distinct(base_url, http):
    ids = []
    for path in ["/api/health"] * 15 + ["/api/v2/nope", LOGIN]:
        r = http.get(base_url + path, timeout=10)
        rid = r.headers.get("X-Request-Id")
        assert rid, f"no X-Request-Id on GET {path}: {expect.describe(r)}"
        assert len(rid) >= 8 and re.fullmatch(r"[\x21-\x7e]+", rid), rid
        ids.append(rid)
    assert len(set(ids)) == len(ids), ids


@pytest.mark.parametrize("path", ["/api/v2/does-not-exist", "/api/nope", "/api/v2/auth/nope",
                                  "/api/healthz", "/api/health/extra"])
def test_unknown_path_404(base_url, http, path):
    r = http.get(base_url + path, timeout=10)
    expect.problem(r, 404)


@pytest.mark.parametrize("method,path,allowed", [
    ("GET", LOGIN, "POST"),
    ("PUT", LOGIN, "POST"),
    ("DELETE", "/api/health", "GET"),
    ("PATCH", "/api/health", "GET"),
])
def test_wrong_method_405(base_url, http, method, path, allowed):
    r = http.request(method, base_url + path, timeout=10)
    expect.problem(r, 405)
    allow = [m.strip() for m in r.headers.get("Allow", "").split(",")]
    assert allowed in allow, f"Allow header {r.headers.get('Allow')!r} lacks {allowed}"


def test_post_without_content_length_411(session_stack):
    r = post_raw(session_stack, LOGIN, {"Content-Type": "application/json"})
    expect.problem(r, 411)


def test_huge_content_length_refused_before_body(session_stack):
    # Announce 10 MB, send a few bytes, keep the connection open: the answer
    # must come at once, without waiting for the body.
    r = post_raw(session_stack, LOGIN,
                 {"Content-Type": "application/json", "Content-Length": "10000000"},
                 b'{"username": "a', timeout=10)
    expect.problem(r, 413)
    assert r.elapsed < 5, f"413 took {r.elapsed:.1f}s"


def test_body_cap_boundary(base_url, http):
    # exactly at the cap: read and parsed (malformed JSON), one byte more: 413
    at_cap = b"{" + b" " * (BODY_CAP - 1)
    r = http.post(base_url + LOGIN, data=at_cap,
                  headers={"Content-Type": "application/json"}, timeout=10)
    expect.problem(r, 400)
    r = http.post(base_url + LOGIN, data=at_cap + b" ",
                  headers={"Content-Type": "application/json"}, timeout=10)
    expect.problem(r, 413)


@pytest.mark.parametrize("body", [
    b'{"username": "a", ',
    b"{",
    b"not json",
    b'{"username": "a" "password": "b"}',
    b'{"username": "a", "password": "b"} trailing',
    b"\xff\xfe\x00garbage",
])
def test_malformed_json_400(base_url, http, body):
    r = http.post(base_url + LOGIN, data=body, headers={"Content-Type": "application/json"},
                  timeout=10)
    expect.problem(r, 400, code="malformed_json")


@pytest.mark.parametrize("doc", [
    '{"username": "admin", "password": "secret-password", "unexpected": 1}',
    '{"username": 42, "password": "secret-password"}',
    '{"username": "admin", "password": ["secret-password"]}',
    '{"username": "admin", "password": null}',
    '{"username": "admin", "password": "x", "password": "y"}',
    '["admin", "secret-password"]',
    '"admin"',
    "{}",
])
def test_invalid_login_documents_400(base_url, http, doc):
    r = http.post(base_url + LOGIN, data=doc.encode(),
                  headers={"Content-Type": "application/json"}, timeout=10)
    expect.problem(r, 400)


GARBAGE = [
    ("GET", "/api/", {}, None),
    ("GET", "/api", {}, None),
    ("GET", "/api/v2", {}, None),
    ("GET", "/api/v2/", {}, None),
    ("GET", "/api//health", {}, None),
    ("GET", "/api/../api/health", {}, None),
    ("GET", "/api/%2e%2e/%2e%2e/etc/passwd", {}, None),
    ("GET", "/api/health%00", {}, None),
    ("GET", "/api/health?%zz=%%&&==&a[]=1", {}, None),
    ("GET", "/api/" + "a" * 3000, {}, None),
    ("GET", "/api/v2/%F0%9F%92%A9/%C3%28", {}, None),
    ("OPTIONS", "/api/health", {}, None),
    ("HEAD", "/api/health", {}, None),
    ("HEAD", LOGIN, {}, None),
    ("FOO", "/api/health", {}, None),
    ("GET", "/api/v2/auth/me", {"Authorization": "Bearer garbage"}, None),
    ("GET", "/api/v2/auth/me", {"Authorization": "Basic !!!"}, None),
    ("GET", "/api/v2/auth/me", {"Cookie": "session=" + "x" * 2000 + "; =; ;;"}, None),
    ("GET", "/api/health", {"X-Forwarded-For": "not-an-address, , 999.1.1.1"}, None),
    ("POST", LOGIN, {"Content-Type": "text/plain"}, b'{"username":"a","password":"b"}'),
    ("POST", LOGIN, {"Content-Type": "application/json; charset=latin1"}, b"{}"),
    ("POST", LOGIN, {"Content-Type": "application/json"}, b"null"),
    ("POST", LOGIN, {"Content-Type": "application/json"}, b"[]"),
    ("POST", LOGIN, {"Content-Type": "application/json"}, b"[" * 8000 + b"]" * 8000),
    ("POST", LOGIN, {"Content-Type": "application/json"}, b'{"a":' * 3000 + b"1" + b"}" * 3000),
    ("POST", LOGIN, {"Content-Type": "application/json"},
     b'{"username": 1e999999, "password": -0.0e-99999}'),
    ("POST", LOGIN, {"Content-Type": "application/json"},
     b'{"username": "a\\u0000b", "password": "\\ud800"}'),
    ("POST", LOGIN, {"Content-Type": "application/json"},
     b'{"username": "\xc3\x28", "password": "\xff"}'),
    ("POST", LOGIN, {"Content-Type": "application/json"},
     json.dumps({"username": "u" * 10000, "password": "p"}).encode()),
    ("POST", LOGIN, {"Content-Type": "application/json"}, b"\x00" * 100),
    ("POST", LOGIN, {}, b""),
    ("POST", "/api/health", {"Content-Type": "application/json"}, b"{}"),
    ("POST", "/api/v2/nope", {"Content-Type": "application/json"}, b"{}"),
    ("GET", "/acme/", {}, None),
    ("GET", "/acme/directory/../../x", {}, None),
    ("POST", "/acme/new-order", {"Content-Type": "application/jose+json"}, b"{garbage"),
    ("GET", "/scep?operation=Bogus", {}, None),
    ("POST", "/scep?operation=PKIOperation", {"Content-Type": "application/x-pki-message"},
     b"\x30\x82\xff\xff garbage"),
    ("GET", "/.well-known/est/cacerts/../../x", {}, None),
    ("POST", "/.well-known/est/simpleenroll", {"Content-Type": "application/pkcs10"}, b"!!!"),
    ("GET", "/ocsp/!!!not-base64!!!", {}, None),
    ("POST", "/ocsp", {"Content-Type": "application/ocsp-request"}, b"\x30\x03\x02\x01"),
    ("GET", "/cdp/nope.crl", {}, None),
    ("GET", "/cdp/../../etc/passwd", {}, None),
    ("GET", "/ca/nope.cer", {}, None),
]


@pytest.mark.parametrize("method,path,headers,body", GARBAGE,
                         ids=[f"{i:02d}-{g[0]}" for i, g in enumerate(GARBAGE)])
def test_no_5xx_for_bad_input(session_stack, method, path, headers, body):
    # raw request: the path goes to the server exactly as written
    head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    hdrs = dict(headers)
    if body is not None:
        hdrs.setdefault("Content-Length", str(len(body)))
    head += "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
    r = raw_request(*host_port(session_stack), head.encode() + b"\r\n" + (body or b""),
                    timeout=15, no_body=(method == "HEAD"))
    expect.not_5xx(r, f"{method} {path}")
    if r.status >= 400 and r.header("X-Request-Id") and method != "HEAD":
        # answered by certward: errors are problem documents (protocol
        # endpoints may answer in their own formats)
        if path.startswith("/api/"):
            expect.problem(r, r.status)
    # the stack is still healthy afterwards
    assert health(session_stack.url).status_code == 200


# ---------------------------------------------------------------------------
# command line

def test_version(certward_bin, repo):
    res = stack.run([certward_bin, "version"], timeout=30)
    assert res.returncode == 0, res
    m = re.search(r"AC_INIT\(\[certward\],\s*\[([^\]]+)\]", (repo / "configure.ac").read_text())
    assert m, "AC_INIT version not found"
    assert m.group(1) in res.stdout, f"version {m.group(1)} not in {res.stdout!r}"


def test_migrate_idempotent(cw, base_url, schema_files, schema_version):
    count = int(cw.scalar("SELECT COUNT(*) FROM schema_migrations"))
    assert count == len(schema_files)
    top = int(cw.scalar("SELECT MAX(version) FROM schema_migrations"))
    assert top == schema_version
    for _ in range(2):
        res = cw.command("migrate", timeout=120)
        assert res.returncode == 0, res
        assert int(cw.scalar("SELECT COUNT(*) FROM schema_migrations")) == count
    assert health(base_url).json()["schema"] == schema_version


def test_check_config_valid(cw):
    res = cw.command("check-config")
    assert res.returncode == 0, res


def _bad_unknown_key(s, d):
    s["server"]["no_such_key"] = "1"


def _bad_unknown_section(s, d):
    s["no_such_section"] = {"key": "value"}


def _bad_missing_secret(s, d):
    s["security"]["jwt_secret_file"] = str(d / "does-not-exist.secret")


def _bad_world_readable_secret(s, d):
    path = stack.write_secret(d / "jwt.secret", "k" * 48 + "\n")
    os.chmod(path, 0o644)
    s["security"]["jwt_secret_file"] = str(path)


def _bad_group_readable_db_password(s, d):
    path = stack.write_secret(d / "db.password", "pw\n")
    os.chmod(path, 0o640)
    s["database"]["password_file"] = str(path)


def _bad_short_jwt_secret(s, d):
    s["security"]["jwt_secret_file"] = str(stack.write_secret(d / "jwt.secret",
                                                              "short-secret-31-bytes-long-xxxx\n"))


def _bad_master_key_hex(s, d):
    s["security"]["master_key_file"] = str(stack.write_secret(d / "master.key",
                                                              "zz" + "ab" * 31 + "\n"))


def _bad_master_key_length(s, d):
    s["security"]["master_key_file"] = str(stack.write_secret(d / "master.key", "ab" * 31 + "\n"))


def _bad_bare_port(s, d):
    s["server"]["listen"] = ":9000"


def _bad_workers(s, d):
    s["server"]["workers"] = "many"


BAD_CONFIGS = [_bad_unknown_key, _bad_unknown_section, _bad_missing_secret,
               _bad_world_readable_secret, _bad_group_readable_db_password,
               _bad_short_jwt_secret, _bad_master_key_hex, _bad_master_key_length,
               _bad_bare_port, _bad_workers]


@pytest.mark.parametrize("mutate", BAD_CONFIGS, ids=[f.__name__[5:] for f in BAD_CONFIGS])
def test_check_config_refuses(cw, tmp_path, mutate):
    settings = cw.settings_copy()
    mutate(settings, tmp_path)
    config = cw.write_config(tmp_path / "certward.conf", settings)
    res = cw.command("check-config", config=config)
    assert res.returncode == 2, res
    lines = expect.stderr_lines(res.stderr)
    assert len(lines) == 1, f"expected one stderr line, got {lines}"
    # never print a secret
    for name in ("jwt.secret", "master.key", "db.password"):
        p = tmp_path / name
        if p.exists():
            secret = p.read_text().strip()
            assert secret not in res.stderr and secret not in res.stdout


def test_check_config_environment_override(cw):
    res = cw.command("check-config", env={"CERTWARD_SERVER_LISTEN": ":9000"})
    assert res.returncode == 2, res
    assert len(expect.stderr_lines(res.stderr)) == 1, res.stderr
    res = cw.command("check-config", env={"CERTWARD_SERVER_WORKERS": "3"})
    assert res.returncode == 0, res


def _user_row(cw, username):
    rows = cw.sql("SELECT u.username, r.name, u.password_hash FROM users u "
                  f"JOIN roles r ON r.id = u.role_id WHERE u.username = '{username}'")
    return rows[0] if rows else None


def _login(base_url, username, password):
    return requests.post(base_url + LOGIN, json={"username": username, "password": password},
                         timeout=15)


def _password_accepted(r):
    """A login that got past the password check: 200, or a refusal that asks
    for a password change (generated passwords must be changed first)."""
    if r.status_code == 200:
        return True
    if r.status_code in (401, 429) or r.status_code >= 500:
        return False
    try:
        return "change" in r.json().get("code", "")
    except ValueError:
        return False


def test_user_add_with_password_file(cw, base_url, tmp_path):
    password = "Correct Horse Battery Staple 1"
    pwfile = stack.write_secret(tmp_path / "pw", password + "\n")
    res = cw.command("user", "add", "--username", "alice", "--role", "operator",
                     "--password-file", pwfile)
    assert res.returncode == 0, res
    assert password not in res.stdout and password not in res.stderr
    row = _user_row(cw, "alice")
    assert row is not None and row[1] == "operator", row
    assert row[2].startswith("$argon2id$") and password not in row[2], row

    r = _login(base_url, "alice", password)
    assert r.status_code == 200, expect.describe(r)
    assert "csrf_token" in r.json()["data"], r.text
    assert r.json()["data"]["user"]["username"] == "alice"
    assert r.cookies, "login set no cookie"
    r = _login(base_url, "alice", password + "x")
    expect.problem(r, 401)


def test_user_add_generated_password(cw, base_url):
    res = cw.command("user", "add", "--username", "bob", "--role", "viewer")
    assert res.returncode == 0, res
    row = _user_row(cw, "bob")
    assert row is not None and row[1] == "viewer", row
    candidates = [t for t in re.split(r"\s+", res.stdout) if len(t) >= 12]
    assert candidates, f"no generated password on stdout: {res.stdout!r}"
    working = [c for c in candidates if _password_accepted(_login(base_url, "bob", c))]
    assert len(working) == 1, f"stdout {res.stdout!r}: no token logs in"
    password = working[0]
    assert res.stdout.count(password) == 1
    assert password not in res.stderr
    assert len(password) >= 16


def test_user_add_duplicate(cw, tmp_path):
    pwfile = stack.write_secret(tmp_path / "pw", "Tangerine Lighthouse 47 Quartz\n")
    res = cw.command("user", "add", "--username", "carol", "--role", "auditor",
                     "--password-file", pwfile)
    assert res.returncode == 0, res
    res = cw.command("user", "add", "--username", "carol", "--role", "auditor",
                     "--password-file", pwfile)
    assert res.returncode != 0, res
    assert len(expect.stderr_lines(res.stderr)) == 1, res.stderr
    assert int(cw.scalar("SELECT COUNT(*) FROM users WHERE username = 'carol'")) == 1


def test_user_add_invalid_role(cw, tmp_path):
    pwfile = stack.write_secret(tmp_path / "pw", "Tangerine Lighthouse 47 Quartz\n")
    res = cw.command("user", "add", "--username", "dave", "--role", "superuser",
                     "--password-file", pwfile)
    assert res.returncode == 2, res
    assert len(expect.stderr_lines(res.stderr)) == 1, res.stderr
    assert _user_row(cw, "dave") is None


# ---------------------------------------------------------------------------
# database outage

def _assert_db_down(url):
    # a thread may reuse a successful check for up to a second, so the outage
    # must show within a few seconds on every thread (several in a row)
    def down_everywhere():
        return all(health(url).status_code == 503 for _ in range(6))

    stack.wait_until(down_everywhere, 5, interval=0.2, what="health 503 on every thread")
    r = health(url)
    assert r.status_code == 503, expect.describe(r)
    retry = r.headers.get("Retry-After", "")
    assert retry.isdigit() and int(retry) >= 1, f"Retry-After {retry!r}"
    assert r.json()["database"] == "down", r.text
    assert r.headers.get("X-Request-Id")
    # a request that needs the database fails the same way
    r = requests.post(url + LOGIN, json={"username": "x", "password": "y"}, timeout=15)
    expect.problem(r, 503)
    assert r.headers.get("Retry-After", "").isdigit(), r.headers


def _assert_db_back(url, schema_version):
    # every thread notices the dead connection on its own next request; allow
    # a couple of attempts for the first success, then everything must work
    statuses = []
    for _ in range(3):
        r = health(url)
        statuses.append(r.status_code)
        if r.status_code == 200:
            break
    assert statuses[-1] == 200, f"no recovery after restart: {statuses}"
    for _ in range(12):
        r = health(url)
        assert r.status_code == 200, expect.describe(r)
        assert r.json() == {"status": "ok", "database": "ok", "schema": schema_version}
    r = requests.post(url + LOGIN, json={"username": "nobody", "password": "wrong password"},
                      timeout=15)
    expect.problem(r, 401)


def test_database_restart(make_stack, schema_version):
    st = make_stack(own_db=True, workers=1, threads=2, loopback_unlimited=True)
    assert health(st.url).status_code == 200
    # let both threads load the security settings (loopback allowlisted)
    # while the database is up, as on any node that has been serving
    for _ in range(8):
        expect.problem(_login(st.url, "nobody", "Wrong Password 1"), 401)
    st.db.stop()
    _assert_db_down(st.url)
    st.db.start()
    _assert_db_back(st.url, schema_version)
    # and a crash rather than a clean shutdown
    st.db.kill()
    _assert_db_down(st.url)
    st.db.start()
    _assert_db_back(st.url, schema_version)
    assert st.cw.running()


# ---------------------------------------------------------------------------
# process supervision

def test_killed_worker_is_replaced(make_stack):
    st = make_stack(workers=2, threads=2)
    old = st.cw.worker_pids()
    assert len(old) == 2, old
    victim = min(old)
    os.kill(victim, signal.SIGKILL)

    def replaced():
        pids = st.cw.worker_pids()
        return pids if len(pids) == 2 and victim not in pids else None

    new = stack.wait_until(replaced, timeout=15, what="a replacement worker")
    assert len(new - old) == 1 and (old - {victim}) <= new, (old, new)
    assert not stack.alive(victim)
    for _ in range(20):
        assert health(st.url).status_code == 200
    assert st.cw.running()


class Hammer(threading.Thread):
    """Sends health requests in a loop and records every outcome."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url
        self.results = []
        self.halt = threading.Event()

    def run(self):
        with requests.Session() as s:
            while not self.halt.is_set():
                try:
                    self.results.append(s.get(self.url + "/api/health", timeout=10).status_code)
                except requests.RequestException as e:
                    self.results.append(repr(e))

    def stop(self):
        self.halt.set()
        self.join(timeout=30)
        return self.results


def test_sighup_replaces_workers_without_errors(make_stack):
    st = make_stack(workers=2, threads=4)
    old = st.cw.worker_pids()
    inode = os.stat(st.cw.socket).st_ino
    hammer = Hammer(st.url)
    hammer.start()
    stack.wait_until(lambda: len(hammer.results) >= 20, 15, what="traffic before reload")
    os.kill(st.cw.pid, signal.SIGHUP)
    stack.wait_until(lambda: len(p := st.cw.worker_pids()) == 2 and not (p & old), 30,
                     what="new workers after SIGHUP")
    before = len(hammer.results)
    stack.wait_until(lambda: len(hammer.results) >= before + 20, 15, what="traffic after reload")
    results = hammer.stop()
    bad = [x for x in results if x != 200]
    assert not bad, f"{len(bad)} of {len(results)} requests failed during reload: {bad[:5]}"
    assert st.cw.running(), "master exited on SIGHUP"
    assert os.stat(st.cw.socket).st_ino == inode, "socket was recreated"
    assert not any(stack.alive(p) for p in old), "old workers still running"


def test_sighup_rereads_config(make_stack):
    st = make_stack(workers=2, threads=2)
    old = st.cw.worker_pids()
    settings = st.cw.settings_copy()
    settings["server"]["workers"] = 3
    st.cw.write_config(st.cw.config_path, settings)
    os.kill(st.cw.pid, signal.SIGHUP)
    stack.wait_until(lambda: len(p := st.cw.worker_pids()) == 3 and not (p & old), 30,
                     what="three new workers after SIGHUP")
    assert health(st.url).status_code == 200


def test_sigterm_drains_and_removes_socket(make_stack):
    st = make_stack(workers=2, threads=2)
    workers = st.cw.worker_pids()
    assert st.cw.socket.exists()
    st.cw.proc.send(signal.SIGTERM)
    rc = st.cw.proc.wait(timeout=30)
    assert rc == 0, f"exit status {rc}:\n{stack.tail(st.cw.log_path)}"
    assert not st.cw.socket.exists(), "socket file left behind"
    stack.wait_until(lambda: not any(stack.alive(p) for p in workers), 10,
                     what="workers to exit")


def test_newer_schema_refused(make_stack):
    st = make_stack(start=False)
    st.cw.sql("INSERT INTO schema_migrations (version, name, checksum) "
              "VALUES (9999, '9999_from_the_future', REPEAT('0', 64))")
    try:
        proc = st.cw.spawn()
        rc = proc.wait(timeout=30)
        assert rc != 0, "serve started on an unknown schema"
        log = st.cw.log_text()
        assert re.search(r"schema", log, re.I) and "9999" in log, log
        assert not st.cw.socket.exists() or not stack.unix_accepting(st.cw.socket)
    finally:
        st.cw.sql("DELETE FROM schema_migrations WHERE version = 9999")
    st.start()
    assert health(st.url).status_code == 200


# ---------------------------------------------------------------------------
# cron

CRON_LINE = re.compile(
    r"^(\S+): (ran ok|skipped \(not due\)|skipped \(lease held\))(?:: .*)?$")
TASK = "job-history-purge"


def _cron_lines(stdout):
    out = {}
    for line in stdout.splitlines():
        m = CRON_LINE.match(line.strip())
        assert m, f"unexpected cron output line {line!r}"
        assert m.group(1) not in out, f"task {m.group(1)} reported twice"
        out[m.group(1)] = m.group(2)
    return out


def test_cron_lease_is_exclusive(make_stack):
    st = make_stack(start=False)
    cw, db = st.cw, st.db
    before = int(cw.scalar("SELECT COUNT(*) FROM job_runs"))
    # Line the contenders up: hold the task's lease row locked while the six
    # processes start, so that they all reach the lease at the same instant
    # (a task that already finished may legitimately run again with --force).
    cw.sql(f"INSERT IGNORE INTO job_leases (name) VALUES ('{TASK}')")
    locker = db.session(cw.database)
    procs = []
    try:
        locker.query(f"BEGIN; SELECT name FROM job_leases WHERE name = '{TASK}' FOR UPDATE")
        argv = [str(cw.binary), "-c", str(cw.config_path), "cron", TASK, "--force"]
        procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(6)]

        def waiting():
            blocked = int(db.scalar(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                f"WHERE db = '{cw.database}' AND command IN ('Query', 'Execute') "
                "AND info LIKE '%job_leases%'"))
            return blocked >= 6 or any(p.poll() is not None for p in procs)

        try:
            stack.wait_until(waiting, 20, what="six cron processes at the lease")
        except TimeoutError:
            raise AssertionError("cron processes did not reach the lease row: " + repr(
                db.sql("SELECT id, db, command, time, state, info "
                       "FROM information_schema.PROCESSLIST"))) from None
        locker.query("COMMIT")
        results = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
    finally:
        locker.close()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    outcomes = []
    for out, err, rc in results:
        assert rc == 0, (rc, out, err)
        lines = _cron_lines(out)
        assert list(lines) == [TASK], out
        outcomes.append(lines[TASK])
    assert outcomes.count("ran ok") == 1, outcomes
    assert outcomes.count("skipped (lease held)") == 5, outcomes
    rows = cw.sql("SELECT name, finished_at FROM job_runs ORDER BY id")
    assert len(rows) == before + 1, rows
    assert rows[-1][0] == TASK and rows[-1][1] is not None, rows


def test_cron_all_runs_due_tasks_once(make_stack):
    st = make_stack(start=False)
    cw = st.cw
    before = int(cw.scalar("SELECT COUNT(*) FROM job_runs"))
    first = cw.command("cron", "all")
    assert first.returncode == 0, first
    first_lines = _cron_lines(first.stdout)
    assert first_lines.get(TASK) == "ran ok", first.stdout
    ran = [t for t, s in first_lines.items() if s == "ran ok"]
    assert int(cw.scalar("SELECT COUNT(*) FROM job_runs")) == before + len(ran)

    second = cw.command("cron", "all")
    assert second.returncode == 0, second
    second_lines = _cron_lines(second.stdout)
    assert set(second_lines) == set(first_lines), (first.stdout, second.stdout)
    for task in ran:
        assert second_lines[task] == "skipped (not due)", second.stdout
    assert int(cw.scalar("SELECT COUNT(*) FROM job_runs")) == before + len(ran)

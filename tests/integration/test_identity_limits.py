"""Identity: account lockout after failed logins (shared by every worker,
the same for unknown user names) and per-address rate limits with their
allowlist. Every test here runs on a private stack.

Client addresses other than 127.0.0.1 are simulated with X-Forwarded-For,
which certward believes because trusted_proxies holds 127.0.0.1 (nginx).
"""

import re
import time

import expect
import identity as idn
from identity import API, LOGIN

PROXY = {"trusted_proxies": ["127.0.0.1"]}


def _lockout(threshold):
    return {"lockout": {"threshold": threshold, "window_seconds": 900,
                        "duration_seconds": 900}}


def _login(base_url, username, password, addr=None):
    headers = {"X-Forwarded-For": addr} if addr else {}
    return idn.Client(base_url).login(username, password, check=False, headers=headers)


def _failures(cw, username):
    return cw.sql("SELECT failures, locked_until IS NOT NULL FROM login_failures "
                  f"WHERE subject = 'user:{username}'")


def _shape(doc):
    """A problem document without what may differ between two answers
    (request id, the exact seconds to wait)."""
    return {k: re.sub(r"\d+", "N", v) if isinstance(v, str) else v
            for k, v in doc.items() if k != "request_id"}


def test_account_locks_after_threshold_failures(make_stack):
    st, admin = idn.private_stack(make_stack)
    t, d = idn.put_security(admin, dict(_lockout(3), **PROXY))
    assert d["lockout"]["threshold"] == 3, d
    idn.wait_settings(t)
    _, name, pw = idn.new_user(admin, role="viewer", prefix="lock")
    _, other, other_pw = idn.new_user(admin, role="viewer", prefix="lockother")
    ghost = idn.unique("ghost")

    real_fail, ghost_fail = [], []
    for i in range(3):
        real_fail.append(expect.problem(_login(st.url, name, "Wrong-pass-1!", f"10.1.0.{i}"),
                                        401, "unauthorized"))
        ghost_fail.append(expect.problem(_login(st.url, ghost, "Wrong-pass-1!", f"10.2.0.{i}"),
                                         401, "unauthorized"))
    assert _failures(st.cw, name) == [("0", "1")], _failures(st.cw, name)
    assert _failures(st.cw, ghost) == [("0", "1")], "unknown names must be counted too"

    r = _login(st.url, name, pw, "10.1.0.9")            # the right password
    locked = expect.problem(r, 423, "locked")
    retry = int(r.headers["Retry-After"])
    assert 850 <= retry <= 901, r.headers
    r = _login(st.url, ghost, pw, "10.2.0.9")
    ghost_locked = expect.problem(r, 423, "locked")
    # No user enumeration: the same answers for an account and a made-up name.
    assert [_shape(x) for x in real_fail] == [_shape(x) for x in ghost_fail]
    assert _shape(locked) == _shape(ghost_locked), (locked, ghost_locked)
    assert "Set-Cookie" not in r.headers

    # Another account from the same address is not locked.
    assert _login(st.url, other, other_pw, "10.1.0.9").status_code == 200
    rows = idn.audit_rows(admin, action="auth.login", outcome="failure")
    assert any(x["detail"].get("reason") == "locked" and x["detail"].get("username") == name
               for x in rows), rows

    # When the lock ends, the right password works and clears the counter.
    st.cw.sql(f"UPDATE login_failures SET locked_until = NOW(6) - INTERVAL 1 SECOND "
              f"WHERE subject = 'user:{name}'")
    assert _login(st.url, name, pw, "10.1.0.10").status_code == 200
    assert _failures(st.cw, name) == []


def test_locked_account_answers_423_to_the_same_client(make_stack):
    """One client mistypes its password `threshold` times: its account is
    locked, and the answer says so (423), as it does for other addresses."""
    st, admin = idn.private_stack(make_stack, security=_lockout(3))
    _, name, pw = idn.new_user(admin, role="viewer", prefix="lockself")
    for _ in range(3):
        expect.problem(_login(st.url, name, "Wrong-pass-1!"), 401, "unauthorized")
    expect.problem(_login(st.url, name, pw), 423, "locked")


def test_one_accounts_failures_do_not_lock_other_accounts_at_the_address(make_stack):
    """The address is allowlisted and only one account failed `threshold`
    times: other users behind the same address (an office NAT) can still log
    in."""
    st, admin = idn.private_stack(make_stack, security=_lockout(3))
    _, name, _ = idn.new_user(admin, role="viewer", prefix="lockaddr")
    _, other, other_pw = idn.new_user(admin, role="viewer", prefix="lockaddr2")
    for _ in range(3):
        expect.problem(_login(st.url, name, "Wrong-pass-1!"), 401, "unauthorized")
    r = _login(st.url, other, other_pw)
    assert r.status_code == 200, idn.describe(r)


def test_address_lockout_stops_spraying_but_not_allowlisted_addresses(make_stack):
    """Failures on many accounts from one address lock the address (429)
    at lockout.address_threshold; allowlisted addresses are never locked as
    a whole."""
    st, admin = idn.private_stack(make_stack, security=dict(
        {"lockout": {"threshold": 10, "address_threshold": 4, "window_seconds": 900,
                     "duration_seconds": 900},
         "rate_limits": {"login": {"per_minute": 1000, "burst": 100}},
         "rate_limit_allowlist": ["10.9.0.3"]}, **PROXY))
    users = [idn.new_user(admin, role="viewer", prefix="spray") for _ in range(6)]
    for _, name, _ in users[:4]:
        expect.problem(_login(st.url, name, "Wrong-pass-1!", "10.9.0.1"), 401, "unauthorized")
    _, name, pw = users[4]
    r = _login(st.url, name, pw, "10.9.0.1")
    expect.problem(r, 429, "rate_limited")
    assert 850 <= int(r.headers["Retry-After"]) <= 901, r.headers
    assert _login(st.url, name, pw, "10.9.0.2").status_code == 200
    assert all(_failures(st.cw, n) == [("1", "0")] for _, n, _ in users[:4])

    for _, name, _ in users[:5]:
        expect.problem(_login(st.url, name, "Wrong-pass-1!", "10.9.0.3"), 401, "unauthorized")
    _, name, pw = users[5]
    assert _login(st.url, name, pw, "10.9.0.3").status_code == 200
    assert st.cw.scalar("SELECT COUNT(*) FROM login_failures "
                        "WHERE subject = 'addr:10.9.0.3'") == "0"


def test_lockout_count_is_shared_by_worker_processes(make_stack):
    threshold = 24
    st, admin = idn.private_stack(make_stack, workers=2, security=dict(_lockout(threshold),
                                                                         **PROXY))
    workers = st.cw.worker_pids()
    assert len(workers) == 2, workers
    _, name, pw = idn.new_user(admin, role="viewer", prefix="lockworkers")

    sent = []
    n = 0
    # Parallel batches until both workers have counted failures.
    while n < threshold - 4:
        batch = idn.parallel(lambda i: _login(st.url, name, "Wrong-pass-1!",
                                              f"10.3.{n // 250}.{n % 250 + i}"), 4)
        for r in batch:
            expect.problem(r, 401, "unauthorized")
            sent.append(r.headers["X-Request-Id"])
        n += 4
        if len(set(idn.served_by(st.cw, sent)) & workers) == 2:
            break
    served = idn.served_by(st.cw, sent)
    assert set(served) == workers, f"failures served by {served}, workers {workers}"
    assert _failures(st.cw, name) == [(str(n), "0")], "one counter for every worker"

    while n < threshold:
        expect.problem(_login(st.url, name, "Wrong-pass-1!", f"10.4.0.{n}"), 401)
        n += 1
    assert _failures(st.cw, name) == [("0", "1")]
    locked = idn.parallel(lambda i: _login(st.url, name, pw, f"10.5.0.{i}"), 8)
    for r in locked:
        expect.problem(r, 423, "locked")
    assert None not in idn.served_by(st.cw, [r.headers["X-Request-Id"] for r in locked])


def _rl_headers(r):
    return {k: r.headers.get(k) for k in
            ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")}


def test_login_rate_limit_and_allowlist(make_stack):
    st, admin = idn.private_stack(make_stack)
    _, name, pw = idn.new_user(admin, role="viewer", prefix="rl")
    t, d = idn.put_security(admin, dict(
        {"rate_limits": {"login": {"per_minute": 6, "burst": 2}}, "rate_limit_allowlist": []},
        **PROXY))
    assert d["rate_limits"]["login"] == {"per_minute": 6, "burst": 2}, d
    assert d["rate_limit_allowlist"] == [], d
    idn.wait_settings(t)
    failures_before = idn.table_counts(st.cw)["login_failures"]

    answers = [_login(st.url, name, pw) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 429, 429], \
        [idn.describe(r) for r in answers]
    h = _rl_headers(answers[0])
    assert h["X-RateLimit-Limit"] == "6" and h["X-RateLimit-Remaining"] == "1", h
    h = _rl_headers(answers[2])
    expect.problem(answers[2], 429, "rate_limited")
    assert h["X-RateLimit-Limit"] == "6" and h["X-RateLimit-Remaining"] == "0", h
    assert 1 <= int(h["Retry-After"]) <= 11, h
    assert 1 <= int(h["X-RateLimit-Reset"]) <= 21, h
    # A refused attempt never reaches the password check.
    expect.problem(_login(st.url, name, "Wrong-pass-1!"), 429, "rate_limited")
    assert idn.table_counts(st.cw)["login_failures"] == failures_before
    # Buckets are per address; other routes have their own class.
    assert _login(st.url, name, pw, "10.7.0.1").status_code == 200
    assert admin.get(API + "/system/info").status_code == 200
    rows = idn.audit_rows(admin, action="access.rate_limited")
    assert any(x["resource_id"] == LOGIN and x["client_addr"] == "127.0.0.1" for x in rows), rows

    t, d = idn.put_security(admin, {"rate_limit_allowlist": ["127.0.0.1"]})
    assert d["rate_limit_allowlist"] == ["127.0.0.1"], d
    deadline = time.monotonic() + 6
    while True:
        r = _login(st.url, name, pw)
        if r.status_code == 200 and "X-RateLimit-Limit" not in r.headers:
            break
        assert time.monotonic() < deadline, f"allowlist not applied within 6 s: {idn.describe(r)}"
        time.sleep(0.3)
    idn.wait_settings(t)
    for _ in range(10):
        r = _login(st.url, name, pw)
        assert r.status_code == 200 and "X-RateLimit-Limit" not in r.headers, idn.describe(r)

"""Fixtures for the integration tests: a real stack on loopback.

Session scope: one MariaDB, one `certward serve` and nginx in front of it.
Function scope: `make_stack(...)` builds a private stack (a fresh database in
the shared MariaDB, or with own_db=True a MariaDB of its own) for tests that
stop, kill or reconfigure things. Every process is stopped by PID in the
finalizers; tests/lib/stack.py also stops leftovers at exit.

When a test fails, the logs of every server it used are copied to
tests/out/logs/<test name>/.
"""

import hashlib
import os
import re
import signal
import shutil
import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import identity  # noqa: E402
import stack  # noqa: E402

OUT = stack.REPO / "tests" / "out"


TEST_TIMEOUT = int(os.environ.get("CERTWARD_TEST_TIMEOUT", "300"))


class TestTimeout(Exception):
    pass


def _on_sigterm(signum, frame):
    # stop like on ^C: pytest runs the finalizers, which stop every server
    raise KeyboardInterrupt(f"signal {signum}")


def _on_alarm(signum, frame):
    raise TestTimeout(f"test still running after {TEST_TIMEOUT}s")


def pytest_configure(config):
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGALRM, _on_alarm)


@pytest.fixture(autouse=True)
def _time_limit():
    """A hung test fails (and its fixtures are torn down) instead of hanging
    the whole run."""
    signal.alarm(TEST_TIMEOUT)
    yield
    signal.alarm(0)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def pytest_sessionfinish(session, exitstatus):
    stack.stop_all()


def _save_logs(nodeid, parts):
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)
    if len(name) > 120:
        name = name[:100] + "-" + hashlib.sha256(nodeid.encode()).hexdigest()[:16]
    dest = OUT / "logs" / name
    dest.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(parts):
        for f in part.log_files():
            f = Path(f)
            if f.is_file():
                try:
                    shutil.copy(f, dest / f"{i}-{type(part).__name__}-{f.name}")
                except OSError:
                    pass


class _Used:
    """Servers a test touched, for log collection on failure."""

    def __init__(self):
        self.parts = []


@pytest.fixture(scope="session")
def used_session():
    return _Used()


@pytest.fixture(autouse=True)
def _collect_logs(request, used_session):
    used = _Used()
    request.node._used = used
    yield
    failed = any(getattr(request.node, f"rep_{when}", None) is not None
                 and getattr(request.node, f"rep_{when}").failed
                 for when in ("setup", "call", "teardown"))
    if failed:
        _save_logs(request.node.nodeid, used_session.parts + used.parts)


@pytest.fixture(scope="session")
def certward_bin():
    path = stack.certward_binary()
    if not path.exists():
        pytest.fail(f"certward binary not found at {path}: run make (or set CERTWARD_BIN)",
                    pytrace=False)
    return path


@pytest.fixture(scope="session")
def repo():
    return stack.REPO


@pytest.fixture(scope="session")
def schema_version(repo):
    """Number of the highest schema/NNNN_*.sql migration."""
    numbers = [int(m.group(1)) for p in (repo / "schema").glob("*.sql")
               if (m := re.match(r"^(\d{4})_.+\.sql$", p.name))]
    assert numbers, "no schema/NNNN_*.sql files"
    return max(numbers)


@pytest.fixture(scope="session")
def schema_files(repo):
    return sorted(p for p in (repo / "schema").glob("*.sql") if re.match(r"^\d{4}_", p.name))


@pytest.fixture(scope="session")
def mariadb(used_session):
    db = stack.MariaDB().start()
    used_session.parts.append(db)
    yield db
    db.stop()


def allow_loopback(cw):
    """Exempt loopback clients from rate limits and address lockouts, and
    raise the per-account lockout threshold: every test client is 127.0.0.1
    and many tests fail logins on purpose. Limits and lockouts themselves are
    tested on private stacks. Done before the server starts."""
    identity.seed_security(cw, {
        "rate_limit_allowlist": identity.LOOPBACK_ALLOW,
        "lockout": {"threshold": 1000, "window_seconds": 900, "duration_seconds": 900}})


@pytest.fixture(scope="session")
def session_stack(certward_bin, mariadb, used_session):
    st = stack.Stack(mariadb, web="nginx", workers=2, threads=4)
    try:
        st.prepare()
        allow_loopback(st.cw)
        used_session.parts.append(st.cw)
        st.start()
        used_session.parts.append(st.web)
    except Exception:
        st.stop()
        raise
    yield st
    st.stop()


@pytest.fixture(scope="session")
def base_url(session_stack):
    return session_stack.url


@pytest.fixture(scope="session")
def cw(session_stack):
    """The session's Certward (config, CLI runner, database access)."""
    return session_stack.cw


@pytest.fixture
def http():
    with requests.Session() as s:
        yield s


@pytest.fixture
def make_stack(request, certward_bin, mariadb):
    """Factory for private stacks: make_stack(own_db=False, web="nginx",
    workers=2, threads=4, settings=None, start=True, loopback_unlimited=False).
    settings: certward.conf sections to override; loopback_unlimited: see
    allow_loopback()."""
    made = []

    def factory(own_db=False, web="nginx", workers=2, threads=4, settings=None, start=True,
                loopback_unlimited=False):
        st = stack.Stack(None if own_db else mariadb, web=web, workers=workers,
                         threads=threads, settings=settings, name="certward-private")
        made.append(st)
        request.node._used.parts.append(st)
        st.prepare()
        if loopback_unlimited:
            allow_loopback(st.cw)
        if start:
            st.start()
        return st

    yield factory
    errors = []
    for st in reversed(made):
        try:
            st.stop()
        except Exception as e:
            errors.append(e)
    if errors:
        raise errors[0]

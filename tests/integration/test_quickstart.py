"""deploy/quickstart.sh end to end: start, reuse, status, stop.

Runs the real script in a fresh temporary --dir on a free loopback port. The
script builds certward (make), starts MariaDB, certward serve, nginx and the
cron loop from that directory. Everything it started is stopped in the
finalizer, whatever happens.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "quickstart.sh"
PASSWORD_LINE = re.compile(r"^\s*Password:\s+\S+", re.MULTILINE)
START_TIMEOUT = 1800   # the first run may build certward (and the web UI)
STOP_TIMEOUT = 300


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args, timeout=START_TIMEOUT):
    p = subprocess.run([str(SCRIPT), *args], cwd=str(REPO),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    print(f"$ quickstart.sh {' '.join(args)}  -> {p.returncode}\n{p.stdout}")
    return p


def alive(pid):
    """True if pid runs and is not a zombie (PID 1 may reap slowly)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def recorded_pids(d):
    """{name: pid} from DIR/pids."""
    out = {}
    f = Path(d) / "pids"
    if f.exists():
        for line in f.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2:
                out[parts[0]] = int(parts[1])
    return out


def processes_using(d):
    """PIDs of live processes whose command line mentions directory d."""
    found = []
    needle = str(d).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmd and alive(int(entry)):
            found.append(int(entry))
    return found


def get(port, path, timeout=10):
    return requests.get(f"http://127.0.0.1:{port}{path}", timeout=timeout,
                        allow_redirects=False)


@pytest.fixture(scope="module")
def qs(request):
    """A quickstart directory and port; stopped and removed afterwards."""
    d = tempfile.mkdtemp(prefix="cwq-", dir="/tmp")
    port = free_port()
    state = {"dir": d, "port": port, "pids": set(), "runs": []}

    def finish():
        try:
            run("stop", "--dir", d, timeout=STOP_TIMEOUT)
        finally:
            leftovers = [p for p in state["pids"] if alive(p)]
            if request.session.testsfailed == 0 and not leftovers:
                shutil.rmtree(d, ignore_errors=True)
            else:
                print(f"kept {d} for inspection")

    request.addfinalizer(finish)
    return state


def remember(qs):
    qs["pids"].update(recorded_pids(qs["dir"]).values())


def test_first_run_starts_everything(qs):
    p = run("--dir", qs["dir"], "--port", str(qs["port"]))
    qs["runs"].append(p.stdout)
    remember(qs)
    assert p.returncode == 0, p.stdout

    # the admin password is shown exactly once
    assert len(PASSWORD_LINE.findall(p.stdout)) == 1, p.stdout
    assert f"http://127.0.0.1:{qs['port']}/" in p.stdout
    qs["password"] = PASSWORD_LINE.search(p.stdout).group(0).split(None, 1)[1]

    r = get(qs["port"], "/api/health")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok"

    pids = recorded_pids(qs["dir"])
    assert {"mariadb", "certward", "nginx"} <= set(pids), pids
    for name, pid in pids.items():
        assert alive(pid), f"{name} (pid {pid}) is not running"


def test_serves_spa_and_protocol_paths(qs):
    r = get(qs["port"], "/")
    assert r.status_code == 200
    assert "text/html" in r.headers["Content-Type"]
    # a client-side route of the SPA falls back to index.html
    r = get(qs["port"], "/certificates/42")
    assert r.status_code == 200
    assert "text/html" in r.headers["Content-Type"]
    # a FastCGI path is answered by certward (JSON problem), not by nginx
    r = get(qs["port"], "/api/v2/no-such-resource")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/problem+json")


def test_admin_can_log_in_with_the_printed_password(qs):
    r = requests.post(f"http://127.0.0.1:{qs['port']}/api/v2/auth/login",
                      json={"username": "admin", "password": qs["password"]},
                      timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["user"]["username"] == "admin"
    # plain http on loopback: the session cookie is not marked Secure
    cookie = r.headers.get("Set-Cookie", "")
    attrs = [a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]]
    assert cookie and "secure" not in attrs, cookie


def test_binds_loopback_and_private_files_only(qs):
    d = Path(qs["dir"])
    out = subprocess.run(["ss", "-Htlnp"], stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    ours = set(recorded_pids(d).values())
    users = set(processes_using(d))
    for line in out.splitlines():
        pids = {int(x) for x in re.findall(r"pid=(\d+)", line)}
        if pids & ours or pids & users:
            local = line.split()[3]
            assert local.startswith("127.0.0.1:"), line
    for f in ("etc/certward.conf", "etc/jwt.secret", "etc/master.key",
              "etc/db.password"):
        assert (d / f).stat().st_mode & 0o077 == 0, f


def test_status_reports_running(qs):
    p = run("status", "--dir", qs["dir"], timeout=60)
    assert p.returncode == 0, p.stdout
    assert '"status":"ok"' in p.stdout.replace(" ", "")


def test_second_run_reuses_dir_without_new_password(qs):
    # while running: nothing is restarted
    p = run("--dir", qs["dir"])
    qs["runs"].append(p.stdout)
    assert p.returncode == 0, p.stdout
    assert not PASSWORD_LINE.search(p.stdout), p.stdout
    assert "already running" in p.stdout

    # stopped, then started again from the same directory
    p = run("stop", "--dir", qs["dir"], timeout=STOP_TIMEOUT)
    assert p.returncode == 0, p.stdout
    p = run("--dir", qs["dir"])
    qs["runs"].append(p.stdout)
    remember(qs)
    assert p.returncode == 0, p.stdout
    assert not PASSWORD_LINE.search(p.stdout), p.stdout
    assert "reusing" in p.stdout
    # the port of the first run is kept
    r = get(qs["port"], "/api/health")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok"


def test_stop_leaves_nothing_running(qs):
    remember(qs)
    assert qs["pids"]
    p = run("stop", "--dir", qs["dir"], timeout=STOP_TIMEOUT)
    assert p.returncode == 0, p.stdout
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = [pid for pid in qs["pids"] if alive(pid)]
        left += processes_using(qs["dir"])
        if not left:
            break
        time.sleep(0.2)
    assert not left, f"still running: {left}"
    p = run("status", "--dir", qs["dir"], timeout=60)
    assert p.returncode != 0
    with pytest.raises(requests.ConnectionError):
        get(qs["port"], "/api/health", timeout=3)

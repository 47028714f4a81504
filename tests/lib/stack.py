"""Throwaway test stack: MariaDB, certward, nginx, lighttpd and Apache.

Every server runs in the foreground in its own temporary directory under /tmp
with a private configuration, listens on 127.0.0.1 (or a unix socket) on a
free port, and is stopped by its PID. Nothing here depends on pytest, so the
helpers can be used from a Python shell too:

    from stack import MariaDB, Certward, Nginx
    db = MariaDB(); db.start()
    cw = Certward(db); cw.migrate(); cw.start()
    web = Nginx(cw.socket, make_docroot()); web.start()
    ... requests.get(web.url + "/api/health") ...
    stop_all()

Set CERTWARD_KEEP_TMP=1 to keep the temporary directories after a run.
"""

import atexit
import datetime
import grp
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIB = Path(__file__).resolve().parent
LOOPBACK = "127.0.0.1"
# Group of the web servers' worker processes when the tests run as root.
WEB_GROUP = "www-data"
# Paths proxied to FastCGI; everything else is a static file.
FCGI_PREFIXES = ("/api/", "/acme/", "/scep", "/.well-known/est/", "/ocsp", "/cdp/", "/ca/")
FCGI_PATH_REGEX = r"^/(api/|acme/|scep(/|$)|\.well-known/est/|ocsp(/|$)|cdp/|ca/)"

_processes = []
_sessions = []
_tmpdirs = []
_ports_handed_out = set()


class StackError(RuntimeError):
    """A helper could not start or stop something; the message says why."""


# --------------------------------------------------------------------------
# small utilities

def is_root():
    return os.geteuid() == 0


def keep_tmp():
    return os.environ.get("CERTWARD_KEEP_TMP", "") not in ("", "0")


def certward_binary():
    return Path(os.environ.get("CERTWARD_BIN", str(REPO / "certward")))


def make_tmpdir(prefix):
    """A fresh directory under /tmp with a short path (unix socket paths are
    limited to 107 bytes). Removed by cleanup() unless CERTWARD_KEEP_TMP is set."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    _tmpdirs.append(path)
    return path


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now and that
    this process has not handed out before."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((LOOPBACK, 0))
            port = s.getsockname()[1]
        if port not in _ports_handed_out:
            _ports_handed_out.add(port)
            return port
    raise StackError("no free loopback port found")


def alive(pid):
    """True while the process exists and is not a zombie (the same test as
    `ps -o stat= -p PID` not starting with Z): PID 1 reaps orphans late."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = data.rsplit(b")", 1)[1].split()[0]
    return state not in (b"Z", b"X")


def children_of(pid):
    """Live child PIDs of a process."""
    kids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        fields = data.rsplit(b")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] not in (b"Z", b"X"):
            kids.add(int(entry))
    return kids


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """Poll predicate() until it returns a true value (returned) or raise
    TimeoutError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def tcp_accepting(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def unix_accepting(path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(str(path))
            return True
    except OSError:
        return False


def tail(path, lines=40):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def write_secret(path, content):
    """Write a file readable by its owner only (0600)."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content)
    os.chmod(path, 0o600)
    return path


def web_group_gid():
    """gid of the web servers' group when running as root, else None."""
    if not is_root():
        return None
    try:
        return grp.getgrnam(WEB_GROUP).gr_gid
    except KeyError:
        return None


def shared_dir(path):
    """Make a directory reachable by the web servers' workers: 0750 and owned by
    their group when running as root (workers run as www-data), else 0700."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    gid = web_group_gid()
    if gid is not None:
        os.chown(path, -1, gid)
        os.chmod(path, 0o750)
    else:
        os.chmod(path, 0o700)
    return path


def make_docroot(parent=None):
    """A static document root (like frontend/dist) with an index.html and a
    couple of files, world-readable so any web server user can serve it."""
    root = Path(parent) if parent else make_tmpdir("cwdist.")
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    files = {
        "index.html": "<!doctype html><html><head><title>certward</title></head>"
                      "<body><div id=\"app\">certward static index</div></body></html>\n",
        "static.txt": "certward static file\n",
        "assets/app.js": "console.log('certward');\n",
    }
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(p.parent, 0o755)
        p.write_text(text)
        os.chmod(p, 0o644)
    return root


# --------------------------------------------------------------------------
# processes

class Process:
    """A child process in its own session, output appended to a log file."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env, cwd=cwd, start_new_session=True)
        self.pid = self.popen.pid
        _processes.append(self)

    def running(self):
        return self.popen.poll() is None and alive(self.pid)

    @property
    def returncode(self):
        return self.popen.poll()

    def send(self, sig):
        if self.popen.poll() is None:
            os.kill(self.pid, sig)

    def wait(self, timeout):
        """Wait for the process to exit; returns its exit status or raises
        TimeoutError."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{self.name} (pid {self.pid}) still running after {timeout}s")

    def _kill_group(self):
        # The process leads its own session: the group id is its pid. This
        # catches children left behind when the leader was killed.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Send sig, wait up to timeout, then SIGKILL the process group.
        Returns the exit status (negative signal number when killed)."""
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._kill_group()
                self.popen.wait(timeout=10)
        self._kill_group()
        if self in _processes:
            _processes.remove(self)
        return self.popen.returncode

    def kill(self):
        return self.stop(signal.SIGKILL, timeout=10)


def stop_all():
    """Stop every process still running, newest first (web servers before
    their backends), and remove temporary directories."""
    for session in list(_sessions):
        session.close()
    for proc in list(reversed(_processes)):
        try:
            proc.stop(timeout=10)
        except Exception:  # keep going: this is the last line of cleanup
            proc._kill_group()
    if not keep_tmp():
        for d in _tmpdirs:
            shutil.rmtree(d, ignore_errors=True)
        _tmpdirs.clear()


atexit.register(stop_all)


def run(argv, timeout=60, check=False, **kwargs):
    """subprocess.run with text output captured and a timeout."""
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          timeout=timeout, check=check, **kwargs)


# --------------------------------------------------------------------------
# MariaDB

class MariaDB:
    """A throwaway MariaDB server in /tmp/cwdb.XXXXXX, reachable over its unix
    socket and on 127.0.0.1:port. stop()/kill() then start() reuse the same
    datadir and port."""

    user = "certward"

    def __init__(self, extra_args=()):
        self.extra_args = list(extra_args)
        self.dir = make_tmpdir("cwdb.")
        self.datadir = self.dir / "data"
        self.tmp = self.dir / "tmp"
        self.tmp.mkdir()
        self.socket = self.dir / "mysqld.sock"
        self.pid_file = self.dir / "mysqld.pid"
        self.error_log = self.dir / "error.log"
        self.port = free_port()
        self.password = secrets.token_hex(16)
        self.proc = None
        self._databases = set()
        argv = ["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal", "--skip-test-db",
                "--skip-name-resolve"]
        if is_root():
            argv.insert(2, "--user=root")
        res = run(argv, timeout=120)
        if res.returncode != 0:
            raise StackError(f"mariadb-install-db failed ({res.returncode}):\n"
                             f"{res.stdout}\n{res.stderr}")

    def log_files(self):
        return [self.error_log, self.dir / "stdout.log"]

    def start(self, timeout=60):
        if self.proc and self.proc.running():
            return self
        argv = ["mariadbd", "--no-defaults"]
        if is_root():
            argv.append("--user=root")
        argv += [f"--datadir={self.datadir}", f"--tmpdir={self.tmp}", f"--socket={self.socket}",
                 f"--port={self.port}", f"--bind-address={LOOPBACK}",
                 f"--pid-file={self.pid_file}", f"--log-error={self.error_log}",
                 "--skip-name-resolve", "--character-set-server=utf8mb4",
                 "--collation-server=utf8mb4_unicode_ci", "--innodb-buffer-pool-size=64M",
                 "--innodb-log-file-size=16M", "--innodb-flush-log-at-trx-commit=2",
                 "--skip-log-bin", "--max-connections=500", *self.extra_args]
        self.proc = Process("mariadbd", argv, self.dir / "stdout.log")
        deadline = time.monotonic() + timeout
        while not self.ping():
            if not self.proc.running():
                raise StackError(f"mariadbd exited ({self.proc.returncode}):\n"
                                 f"{tail(self.error_log)}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise StackError(f"mariadbd not ready after {timeout}s:\n{tail(self.error_log)}")
            time.sleep(0.1)
        return self

    def ping(self):
        res = subprocess.run(["mariadb-admin", "--no-defaults", "-S", str(self.socket), "-uroot",
                              "--connect-timeout=2", "ping"],
                             capture_output=True, timeout=30)
        return res.returncode == 0

    def stop(self, timeout=60):
        """Clean shutdown (SIGTERM); returns once the process is gone."""
        if self.proc:
            self.proc.stop(signal.SIGTERM, timeout=timeout)

    def kill(self):
        """Crash the server (SIGKILL)."""
        if self.proc:
            self.proc.kill()

    def running(self):
        return bool(self.proc and self.proc.running())

    def sql(self, query, database=None, timeout=60):
        """Run SQL as root over the socket; returns the rows as tuples of strings
        (NULL as None)."""
        argv = ["mariadb", "--no-defaults", "-S", str(self.socket), "-uroot", "-N", "-B",
                "-e", query]
        if database:
            argv.append(database)
        res = run(argv, timeout=timeout)
        if res.returncode != 0:
            raise StackError(f"SQL failed: {query!r}: {res.stderr.strip()}")
        rows = []
        for line in res.stdout.splitlines():
            rows.append(tuple(None if v == "NULL" else v for v in line.split("\t")))
        return rows

    def scalar(self, query, database=None):
        rows = self.sql(query, database)
        return rows[0][0] if rows else None

    def session(self, database=None):
        """A long-lived root connection (for holding locks or transactions)."""
        return SqlSession(self, database)

    def create_database(self, name):
        """Create an empty database and grant it to the certward user, which
        exists both for socket (localhost) and TCP (127.0.0.1) logins."""
        if not all(c.isalnum() or c == "_" for c in name):
            raise ValueError(f"bad database name {name!r}")
        stmts = [f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"]
        for host in ("localhost", LOOPBACK):
            stmts.append(f"CREATE USER IF NOT EXISTS '{self.user}'@'{host}' "
                         f"IDENTIFIED BY '{self.password}'")
            stmts.append(f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{self.user}'@'{host}'")
        self.sql("; ".join(stmts))
        self._databases.add(name)
        return name

    def new_database(self, prefix="certward"):
        return self.create_database(f"{prefix}_{secrets.token_hex(4)}")


class SqlSession:
    """One `mariadb` client connection kept open across statements."""

    def __init__(self, mariadb, database=None):
        argv = ["mariadb", "--no-defaults", "-S", str(mariadb.socket), "-uroot", "-N", "-B",
                "--unbuffered"]
        if database:
            argv.append(database)
        self.popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
        self._n = 0
        self._buf = b""
        _sessions.append(self)

    def _line(self, deadline, sql):
        import select
        fd = self.popen.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"SQL session: no answer to {sql!r}")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise StackError(f"SQL session ended during {sql!r}: {self._buf!r}")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")

    def query(self, sql, timeout=30):
        """Run statements; returns the rows they printed (tuples of strings)."""
        self._n += 1
        marker = f"--end-of-statements-{self._n}--"
        self.popen.stdin.write(f"{sql.rstrip().rstrip(';')};\nSELECT '{marker}';\n".encode())
        self.popen.stdin.flush()
        rows = []
        deadline = time.monotonic() + timeout
        while True:
            line = self._line(deadline, sql)
            if line == marker:
                return rows
            if line.startswith("ERROR"):
                raise StackError(f"SQL failed: {sql!r}: {line}")
            rows.append(tuple(line.split("\t")))

    def close(self, timeout=15):
        if self in _sessions:
            _sessions.remove(self)
        if self.popen.poll() is None:
            try:
                self.popen.communicate(b"", timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


# --------------------------------------------------------------------------
# certward

def render_ini(settings):
    lines = []
    for section, values in settings.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            lines.append(f"{key} = {value}")
        lines.append("")
    return "\n".join(lines)


class Certward:
    """A certward configuration in /tmp/cw.XXXXXX (config, 0600 secret files,
    FastCGI socket under run/) and, after start(), the `certward serve` master."""

    def __init__(self, mariadb, database=None, workers=2, threads=4, settings=None,
                 binary=None, name="certward"):
        self.mariadb = mariadb
        self.binary = Path(binary) if binary else certward_binary()
        if not self.binary.exists():
            raise StackError(f"certward binary not found at {self.binary} "
                             "(build it with make, or set CERTWARD_BIN)")
        self.name = name
        self.database = database or mariadb.new_database()
        self.dir = make_tmpdir("cw.")
        os.chmod(self.dir, 0o711)
        self.rundir = shared_dir(self.dir / "run")
        self.socket = self.rundir / "fcgi.sock"
        self.log_path = self.dir / f"{name}.log"
        self.db_password_file = write_secret(self.dir / "db.password", mariadb.password + "\n")
        self.jwt_secret_file = write_secret(self.dir / "jwt.secret",
                                            secrets.token_urlsafe(48) + "\n")
        self.master_key_file = write_secret(self.dir / "master.key", secrets.token_hex(32) + "\n")
        self.settings = {
            "database": {
                "socket": mariadb.socket,
                "name": self.database,
                "user": mariadb.user,
                "password_file": self.db_password_file,
                "connect_timeout": 2,
            },
            "server": {
                "listen": self.socket,
                "socket_mode": "0660",
                "socket_group": WEB_GROUP if web_group_gid() is not None else "",
                "workers": workers,
                "threads": threads,
                "drain_timeout": 10,
                "public_url": "http://localhost",
            },
            "security": {
                "jwt_secret_file": self.jwt_secret_file,
                "master_key_file": self.master_key_file,
                "cookie_secure": False,
                "argon2_memory_kib": 8192,
                "argon2_iterations": 1,
            },
            "log": {"level": "info"},
        }
        for section, values in (settings or {}).items():
            self.settings.setdefault(section, {}).update(values)
        self.config_path = self.write_config(self.dir / "certward.conf", self.settings)
        self.proc = None

    # configuration -------------------------------------------------------

    def write_config(self, path, settings):
        path = Path(path)
        path.write_text(render_ini(settings))
        os.chmod(path, 0o600)
        return path

    def settings_copy(self):
        return {section: dict(values) for section, values in self.settings.items()}

    # commands ------------------------------------------------------------

    def command(self, *args, config=None, timeout=60, env=None, stdin=None):
        """Run `certward -c CONFIG ARGS...`; returns CompletedProcess (text)."""
        argv = [self.binary, "-c", config or self.config_path, *args]
        full_env = None
        if env:
            full_env = dict(os.environ)
            full_env.update(env)
        return run(argv, timeout=timeout, env=full_env, input=stdin)

    def migrate(self):
        res = self.command("migrate", timeout=120)
        if res.returncode != 0:
            raise StackError(f"certward migrate failed ({res.returncode}):\n"
                             f"{res.stdout}\n{res.stderr}")
        return res

    def sql(self, query):
        return self.mariadb.sql(query, self.database)

    def scalar(self, query):
        return self.mariadb.scalar(query, self.database)

    # the server ----------------------------------------------------------

    def spawn(self, config=None):
        """Start `certward serve` without waiting for it to become ready."""
        self.proc = Process(self.name, [self.binary, "-c", config or self.config_path, "serve"],
                            self.log_path)
        return self.proc

    def start(self, timeout=30):
        self.spawn()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        workers = int(self.settings["server"]["workers"])
        while True:
            if not self.proc.running():
                raise StackError(f"certward serve exited ({self.proc.returncode}):\n"
                                 f"{tail(self.log_path)}")
            if unix_accepting(self.socket) and len(self.worker_pids()) >= workers:
                return
            if time.monotonic() > deadline:
                raise StackError(f"certward serve not ready after {timeout}s:\n"
                                 f"{tail(self.log_path)}")
            time.sleep(0.05)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return bool(self.proc and self.proc.running())

    def worker_pids(self):
        return children_of(self.proc.pid) if self.proc else set()

    def stop(self, timeout=30):
        """SIGTERM the master and wait; returns its exit status."""
        if not self.proc:
            return None
        return self.proc.stop(signal.SIGTERM, timeout=timeout)

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_files(self):
        return [self.log_path, self.config_path]


# --------------------------------------------------------------------------
# TLS material for the web servers' https listeners (mTLS client params)

class TlsMaterial:
    """A private CA with a server certificate for 127.0.0.1/localhost and a
    client certificate, as PEM files in a temp dir."""

    def __init__(self, directory=None):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
        import ipaddress

        self.dir = Path(directory) if directory else make_tmpdir("cwtls.")
        os.chmod(self.dir, 0o755)
        now = datetime.datetime.now(datetime.timezone.utc)

        def name(cn):
            return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

        def key_pem(key):
            return key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())

        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = (x509.CertificateBuilder().subject_name(name("certward test TLS CA"))
              .issuer_name(name("certward test TLS CA")).public_key(ca_key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(days=2))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                           False, False), critical=True)
              .sign(ca_key, hashes.SHA256()))

        def leaf(cn, eku, sans):
            key = ec.generate_private_key(ec.SECP256R1())
            builder = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca.subject)
                       .public_key(key.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(now - datetime.timedelta(minutes=5))
                       .not_valid_after(now + datetime.timedelta(days=1))
                       .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                      critical=True)
                       .add_extension(x509.ExtendedKeyUsage([eku]), critical=False))
            if sans:
                builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
            return key, builder.sign(ca_key, hashes.SHA256())

        srv_key, srv = leaf("localhost", ExtendedKeyUsageOID.SERVER_AUTH,
                            [x509.DNSName("localhost"),
                             x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        cli_key, cli = leaf("certward-test-client", ExtendedKeyUsageOID.CLIENT_AUTH, [])
        pem = serialization.Encoding.PEM
        self.ca_cert = self.dir / "ca.pem"
        self.ca_cert.write_bytes(ca.public_bytes(pem))
        self.server_cert = self.dir / "server.pem"
        self.server_cert.write_bytes(srv.public_bytes(pem))
        self.server_key = self.dir / "server.key"
        self.server_key.write_bytes(key_pem(srv_key))
        self.client_cert = self.dir / "client.pem"
        self.client_cert.write_bytes(cli.public_bytes(pem))
        self.client_key = self.dir / "client.key"
        self.client_key.write_bytes(key_pem(cli_key))
        os.chmod(self.server_key, 0o600)
        os.chmod(self.client_key, 0o600)
        self.client_pem_text = cli.public_bytes(pem).decode()


# --------------------------------------------------------------------------
# web servers

class WebServer:
    """Base class: a web server in the foreground with a private config in
    its own temp dir, listening on 127.0.0.1:port (and optionally an https
    port with optional client certificates), proxying the FastCGI paths to
    backend_socket and serving docroot."""

    kind = "web"

    def __init__(self, backend_socket, docroot, tls=None):
        self.backend_socket = Path(backend_socket)
        self.docroot = Path(docroot)
        self.tls = tls
        self.dir = make_tmpdir(f"cw{self.kind}.")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.tls_url = f"https://{LOOPBACK}:{self.tls_port}" if tls else None
        self.proc = None

    def argv(self):
        raise NotImplementedError

    def render(self):
        raise NotImplementedError

    def check_argv(self):
        return None

    def log_files(self):
        return sorted(p for p in self.dir.glob("*") if p.is_file())

    def start(self, timeout=20):
        self.conf = self.render()
        check = self.check_argv()
        if check:
            res = run(check, timeout=30)
            if res.returncode != 0:
                raise StackError(f"{self.kind} config test failed:\n{res.stdout}\n{res.stderr}\n"
                                 f"--- config {self.conf}:\n{self.conf.read_text()}")
        self.proc = Process(self.kind, self.argv(), self.dir / f"{self.kind}.out")
        ports = [self.port] + ([self.tls_port] if self.tls_port else [])
        deadline = time.monotonic() + timeout
        while not all(tcp_accepting(LOOPBACK, p) for p in ports):
            if not self.proc.running():
                raise StackError(f"{self.kind} exited ({self.proc.returncode}):\n"
                                 + "\n".join(f"--- {p.name}\n{tail(p)}" for p in self.log_files()))
            if time.monotonic() > deadline:
                raise StackError(f"{self.kind} not listening after {timeout}s")
            time.sleep(0.05)
        return self

    def stop(self, timeout=15):
        if self.proc:
            return self.proc.stop(signal.SIGTERM, timeout=timeout)
        return None

    def running(self):
        return bool(self.proc and self.proc.running())


class Nginx(WebServer):
    kind = "nginx"

    def render(self):
        d = self.dir
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (d / sub).mkdir(exist_ok=True)
        user = f"user {WEB_GROUP} {WEB_GROUP};" if web_group_gid() is not None else ""
        tls = ""
        if self.tls:
            tls = f"""
        listen {LOOPBACK}:{self.tls_port} ssl;
        ssl_certificate {self.tls.server_cert};
        ssl_certificate_key {self.tls.server_key};
        ssl_client_certificate {self.tls.ca_cert};
        ssl_verify_client optional;
        ssl_verify_depth 2;"""
        conf = f"""# generated by tests/lib/stack.py
{user}
worker_processes 1;
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server_tokens off;
    server {{
        listen {LOOPBACK}:{self.port};{tls}
        server_name localhost;
        # OCSP GET requests carry base64 (which may contain "//") in the path.
        merge_slashes off;
        root {self.docroot};
        index index.html;
        location ~ {FCGI_PATH_REGEX} {{
            # certward enforces its own per-route body caps (413 before reading).
            client_max_body_size 64m;
            fastcgi_request_buffering off;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SSL_CLIENT_CERT $ssl_client_escaped_cert if_not_empty;
            fastcgi_param SSL_CLIENT_VERIFY $ssl_client_verify if_not_empty;
            fastcgi_pass unix:{self.backend_socket};
        }}
        location / {{
            try_files $uri $uri/ /index.html;
        }}
    }}
}}
"""
        path = d / "nginx.conf"
        path.write_text(conf)
        return path

    def _base(self):
        return ["nginx", "-p", f"{self.dir}/", "-c", self.conf, "-e", self.dir / "error.log"]

    def check_argv(self):
        return self._base() + ["-t", "-q"]

    def argv(self):
        return self._base()


class Lighttpd(WebServer):
    kind = "lighttpd"

    @staticmethod
    def tls_available():
        return Path("/usr/lib/lighttpd/mod_openssl.so").exists()

    def render(self):
        d = self.dir
        (d / "upload").mkdir(exist_ok=True)
        os.chmod(d / "upload", 0o1777)
        user = ""
        if web_group_gid() is not None:
            user = f'server.username = "{WEB_GROUP}"\nserver.groupname = "{WEB_GROUP}"'
            # lighttpd opens its logs after dropping privileges.
            import pwd
            uid = pwd.getpwnam(WEB_GROUP).pw_uid
            for log in ("error.log", "access.log"):
                (d / log).touch()
                os.chown(d / log, uid, web_group_gid())
        modules = ['"mod_access"', '"mod_accesslog"', '"mod_rewrite"', '"mod_fastcgi"']
        tls = ""
        if self.tls:
            if not self.tls_available():
                raise StackError("lighttpd TLS needs mod_openssl (package lighttpd-mod-openssl)")
            modules.append('"mod_openssl"')
            tls = f"""
$SERVER["socket"] == "{LOOPBACK}:{self.tls_port}" {{
    ssl.engine = "enable"
    ssl.pemfile = "{self.tls.server_cert}"
    ssl.privkey = "{self.tls.server_key}"
    ssl.ca-file = "{self.tls.ca_cert}"
    ssl.verifyclient.activate = "enable"
    ssl.verifyclient.enforce = "disable"
    ssl.verifyclient.exportcert = "enable"
}}"""
        backend = (f'( "/" => (( "socket" => "{self.backend_socket}", '
                   f'"check-local" => "disable", "max-procs" => 1 )) )')
        conf = f"""# generated by tests/lib/stack.py
server.modules = ( {", ".join(modules)} )
server.document-root = "{self.docroot}"
server.bind = "{LOOPBACK}"
server.port = {self.port}
server.pid-file = "{d}/lighttpd.pid"
server.errorlog = "{d}/error.log"
accesslog.filename = "{d}/access.log"
server.upload-dirs = ( "{d}/upload" )
server.tag = "lighttpd"
{user}
# stream request bodies to the backend so certward can refuse oversized
# ones (413) before they are read; lighttpd's own cap (KiB) stays generous.
server.stream-request-body = 2
server.max-request-size = 65536
index-file.names = ( "index.html" )
mimetype.assign = (
    ".html" => "text/html", ".txt" => "text/plain", ".js" => "text/javascript",
    ".css" => "text/css", ".json" => "application/json", ".svg" => "image/svg+xml",
    ".png" => "image/png", ".ico" => "image/x-icon", "" => "application/octet-stream" )
$HTTP["url"] =~ "{FCGI_PATH_REGEX}" {{
    fastcgi.server = {backend}
}}
else {{
    url.rewrite-if-not-file = ( "" => "/index.html" )
}}
{tls}
"""
        path = d / "lighttpd.conf"
        path.write_text(conf)
        return path

    def check_argv(self):
        return ["lighttpd", "-tt", "-f", self.conf]

    def argv(self):
        return ["lighttpd", "-D", "-f", self.conf]


class Apache(WebServer):
    kind = "apache"
    modules_dir = Path("/usr/lib/apache2/modules")

    def render(self):
        d = self.dir
        mods = ["mpm_event", "authz_core", "mime", "dir", "rewrite", "proxy", "proxy_fcgi",
                "setenvif"]
        if self.tls:
            mods += ["socache_shmcb", "ssl"]
        load = "\n".join(f"LoadModule {m}_module {self.modules_dir}/mod_{m}.so" for m in mods)
        user = f"User {WEB_GROUP}\nGroup {WEB_GROUP}" if web_group_gid() is not None else ""
        backend = f"unix:{self.backend_socket}|fcgi://localhost"
        tls = ""
        if self.tls:
            tls = f"""
Listen {LOOPBACK}:{self.tls_port} https
SSLSessionCache shmcb:{d}/ssl_scache(512000)
<VirtualHost {LOOPBACK}:{self.tls_port}>
    AllowEncodedSlashes NoDecode
    SSLEngine on
    SSLCertificateFile {self.tls.server_cert}
    SSLCertificateKeyFile {self.tls.server_key}
    SSLCACertificateFile {self.tls.ca_cert}
    SSLVerifyClient optional
    SSLVerifyDepth 2
    SSLOptions +StdEnvVars +ExportCertData
</VirtualHost>"""
        conf = f"""# generated by tests/lib/stack.py
ServerRoot "{d}"
ServerName localhost
Listen {LOOPBACK}:{self.port}
PidFile {d}/apache.pid
DefaultRuntimeDir {d}
Mutex file:{d} default
ErrorLog {d}/error.log
LogLevel warn
{load}
{user}
StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
TypesConfig /etc/mime.types
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog {d}/access.log common
ServerTokens Prod
# OCSP GET requests carry URL-encoded base64, which may contain %2F.
AllowEncodedSlashes NoDecode
DocumentRoot "{self.docroot}"
<Directory "{self.docroot}">
    Options None
    AllowOverride None
    Require all granted
</Directory>
DirectoryIndex index.html
FallbackResource /index.html
ProxyFCGIBackendType GENERIC
<LocationMatch "{FCGI_PATH_REGEX}">
    SetHandler "proxy:{backend}"
    LimitRequestBody 1048576
</LocationMatch>
# mod_proxy_fcgi sends the whole body before it reads the answer, so an early
# 413 from certward cannot reach a client that announced a huge body and waits:
# refuse those here, before reading anything.
RewriteEngine On
RewriteCond expr "%{{HTTP:Content-Length}} -gt 1048576"
RewriteRule "{FCGI_PATH_REGEX}" - [R=413,L]
{tls}
"""
        path = d / "apache.conf"
        path.write_text(conf)
        return path

    def check_argv(self):
        return ["apache2", "-f", self.conf, "-t"]

    def argv(self):
        return ["apache2", "-f", self.conf, "-DFOREGROUND"]


WEB_SERVERS = {"nginx": Nginx, "lighttpd": Lighttpd, "apache": Apache}


# --------------------------------------------------------------------------
# FastCGI echo backend (see fcgi_echo.py)

class FcgiEcho:
    """The echo responder on a unix socket reachable by the web servers."""

    def __init__(self):
        self.dir = make_tmpdir("cwecho.")
        os.chmod(self.dir, 0o711)
        self.rundir = shared_dir(self.dir / "run")
        self.socket = self.rundir / "echo.sock"
        self.proc = None

    def start(self, timeout=10):
        import sys
        group = WEB_GROUP if web_group_gid() is not None else ""
        self.proc = Process("fcgi-echo", [sys.executable, LIB / "fcgi_echo.py", self.socket,
                                          "0660", group], self.dir / "echo.log")
        wait_until(lambda: unix_accepting(self.socket), timeout, what="fcgi_echo socket")
        return self

    def stop(self):
        if self.proc:
            self.proc.stop()

    def log_files(self):
        return [self.dir / "echo.log"]


# --------------------------------------------------------------------------
# a whole stack

class Stack:
    """MariaDB (own, or a fresh database in a shared server) + certward serve +
    one web server in front of it."""

    def __init__(self, mariadb=None, web="nginx", workers=2, threads=4, settings=None,
                 tls=None, name="certward"):
        self.own_db = mariadb is None
        self.db = mariadb
        self.web_kind = web
        self.workers = workers
        self.threads = threads
        self.settings = settings
        self.tls = tls
        self.name = name
        self.cw = None
        self.web = None
        self.docroot = None

    def prepare(self):
        """Database, config and migrations, without starting anything else."""
        if self.own_db:
            self.db = MariaDB().start()
        self.cw = Certward(self.db, workers=self.workers, threads=self.threads,
                           settings=self.settings, name=self.name)
        self.cw.migrate()
        return self

    def start(self):
        if self.cw is None:
            self.prepare()
        self.cw.start()
        if self.web_kind:
            self.docroot = make_docroot()
            self.web = WEB_SERVERS[self.web_kind](self.cw.socket, self.docroot,
                                                  tls=self.tls).start()
        return self

    @property
    def url(self):
        return self.web.url

    def stop(self):
        errors = []
        for part in (self.web, self.cw):
            if part is not None:
                try:
                    part.stop()
                except Exception as e:  # keep stopping the rest
                    errors.append(e)
        if self.own_db and self.db is not None:
            self.db.stop()
        if errors:
            raise errors[0]

    def log_files(self):
        files = []
        for part in (self.web, self.cw):
            if part is not None:
                files += part.log_files()
        if self.db is not None:
            files += self.db.log_files()
        return files

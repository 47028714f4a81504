#!/usr/bin/env python3
"""Start the real stack for the browser tests and keep it up until stdin
closes (or SIGTERM/SIGINT): a throwaway MariaDB, `certward serve` and nginx
serving a copy of the built web app (frontend/dist) with the SPA fallback.

    python3 tests/lib/e2e_stack.py [--dist frontend/dist]

prints one JSON line on stdout when everything answers:
    {"url": "http://127.0.0.1:PORT", "admin": {"username": ..., "password": ...}}
and stops everything by PID when its stdin reaches EOF. Loopback is exempt
from the rate limits (the tests log in many times). The session cookie is not Secure (`cookie_secure = false`),
since the browser talks plain http to 127.0.0.1.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import identity  # noqa: E402
import stack  # noqa: E402


def copy_dist(dist):
    """A world-readable copy of dist (nginx workers run as nobody)."""
    root = stack.make_tmpdir("cwspa.")
    os.chmod(root, 0o755)
    for src in sorted(Path(dist).rglob("*")):
        dst = root / src.relative_to(dist)
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
            os.chmod(dst, 0o755)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o644)
    return root


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dist", default=str(HERE.parent.parent / "frontend" / "dist"))
    args = ap.parse_args()
    dist = Path(args.dist)
    if not (dist / "index.html").is_file():
        print(f"e2e_stack: {dist}/index.html not found (npm run build first)", file=sys.stderr)
        return 2

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())

    st = stack.Stack(web="nginx", workers=2, threads=8)
    try:
        st.prepare()
        identity.seed_security(st.cw, {"rate_limit_allowlist": identity.LOOPBACK_ALLOW})
        name = identity.unique("admin")
        password = identity.strong_password()
        res, _ = identity.cli_user(st.cw, name, "admin", password)
        if res.returncode != 0:
            raise stack.StackError(f"certward user add: {res.stdout} {res.stderr}")
        st.cw.start()
        st.docroot = copy_dist(dist)
        st.web = stack.Nginx(st.cw.socket, st.docroot).start()
        print(json.dumps({"url": st.url,
                          "admin": {"username": name, "password": password},
                          "logs": [str(p) for p in st.log_files()]}), flush=True)

        def wait_stdin():
            try:
                while sys.stdin.read(4096):
                    pass
            finally:
                done.set()
        threading.Thread(target=wait_stdin, daemon=True).start()
        done.wait()
    finally:
        try:
            st.stop()
        finally:
            stack.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())

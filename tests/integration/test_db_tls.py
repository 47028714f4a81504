"""TLS to the database: with [database] tls_ca set, certward connects over
TLS and verifies the server certificate.

The MariaDB server here requires secure transport on TCP, so a connection
without TLS is refused by the server itself: a successful migrate proves the
connection was encrypted, and a wrong CA proves the certificate is checked.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import stack  # noqa: E402


@pytest.fixture(scope="module")
def tls_db(certward_bin):
    tls = stack.TlsMaterial()
    db = stack.MariaDB(extra_args=[f"--ssl-ca={tls.ca_cert}",
                                   f"--ssl-cert={tls.server_cert}",
                                   f"--ssl-key={tls.server_key}",
                                   "--require-secure-transport=ON"])
    db.start()
    yield db, tls
    db.stop()


def tcp_settings(db, tls_ca):
    return {"database": {"socket": "", "host": "127.0.0.1", "port": db.port,
                         "tls_ca": tls_ca}}


def test_tls_connection_verifies_the_server(tls_db):
    db, tls = tls_db
    cw = stack.Certward(db, settings=tcp_settings(db, tls.ca_cert))
    res = cw.command("migrate")
    assert res.returncode == 0, res.stderr
    assert "schema at version" in res.stdout
    res = cw.command("cron", "job-history-purge", "--force")
    assert res.returncode == 0, res.stderr
    assert "job-history-purge: ran ok" in res.stdout


def test_plain_tcp_is_refused_by_a_tls_only_server(tls_db):
    db, _ = tls_db
    cw = stack.Certward(db, settings=tcp_settings(db, ""))
    res = cw.command("migrate")
    assert res.returncode == 1
    assert "migrate failed" in res.stderr


def test_wrong_ca_fails_verification(tls_db):
    db, _ = tls_db
    other = stack.TlsMaterial()
    cw = stack.Certward(db, settings=tcp_settings(db, other.ca_cert))
    res = cw.command("migrate")
    assert res.returncode == 1
    assert "migrate failed" in res.stderr
    assert "cannot connect" in res.stderr

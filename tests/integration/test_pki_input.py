"""PKI: bad input on every PKI route (/api/v2/cas, /api/v2/certificates,
revoke, export, templates). Malformed JSON, wrong types, unknown fields,
oversized strings and missing fields are refused with a 4xx problem
document naming the field where one applies, never a 5xx, and nothing is
written (row counts of cas, certificates and audit_log are the same before
and after).

Runs on a private stack of its own (module scope), like
test_identity_input.py.
"""

import json

import pytest

import expect
import identity as idn
import pki_helpers as pk
import stack
from identity import API

DEEP = json.loads("[" * 40 + "]" * 40)
EC = {"type": "ec", "curve": "P-256"}


@pytest.fixture(scope="module")
def env(mariadb, certward_bin, used_session):
    st = stack.Stack(mariadb, workers=2, threads=4, name="certward-private")
    try:
        st.prepare()
        idn.seed_security(st.cw, {"rate_limit_allowlist": idn.LOOPBACK_ALLOW})
        name, pw = idn.unique("root"), idn.strong_password()
        res, _ = idn.cli_user(st.cw, name, "admin", pw)
        assert res.returncode == 0, res
        st.start()
    except Exception:
        st.stop()
        raise
    used_session.parts.append(st)
    admin = idn.Client(st.url)
    admin.login(name, pw)
    ca = pk.create_ca(admin, name="Input Root", validity_days=365, path_length=1)
    cert = pk.issue(admin, ca["id"], cn="input.example.com", validity_days=30)
    yield {"stack": st, "admin": admin, "ca": ca["id"], "cert": cert["id"]}
    st.stop()


def CA(**kw):
    """A valid POST /cas body with kw changed (None removes a member)."""
    body = {"name": "Bad Input CA", "type": "root", "subject": {"CN": "Bad Input CA"},
            "key": dict(EC), "validity_days": 365}
    for k, v in kw.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    return body


def CERT(**kw):
    """A valid POST /certificates body (ca_id filled in later) with kw changed."""
    body = {"ca_id": "{ca}", "template": "server", "subject": {"CN": "bad.example.com"},
            "sans": [{"type": "dns", "value": "bad.example.com"}], "key": dict(EC),
            "validity_days": 30}
    for k, v in kw.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    return body


# (id, method, path, body, status, code, field). body: dict -> JSON (a "{ca}"
# value becomes the CA id); bytes -> sent as is with Content-Type
# application/json; ("ctype", bytes). field: exact, "prefix*", or None.
CASES = [
    # POST /api/v2/cas: JSON itself
    ("ca truncated", "POST", "/cas", b'{"name": "x", "type": ', 400, "malformed_json", None),
    ("ca not an object", "POST", "/cas", b'["root"]', 400, "malformed_json", None),
    ("ca duplicate key", "POST", "/cas",
     b'{"name": "a", "name": "b", "type": "root", "subject": {"CN": "x"}, '
     b'"key": {"type": "ed25519"}, "validity_days": 30}', 400, "malformed_json", None),
    ("ca empty body", "POST", "/cas", b"", 400, "malformed_json", None),
    ("ca trailing data", "POST", "/cas", json.dumps(CA()).encode() + b" x", 400,
     "malformed_json", None),
    ("ca nested too deep", "POST", "/cas", CA(extra=DEEP), 400, "malformed_json", None),
    ("ca wrong content type", "POST", "/cas", ("text/plain", json.dumps(CA()).encode()), 415,
     "unsupported_media_type", None),
    ("ca body over the cap", "POST", "/cas", CA(name="n" * 70000), 413, "payload_too_large",
     None),
    # POST /api/v2/cas: members
    ("ca name missing", "POST", "/cas", CA(name=None), 400, "bad_request", "name"),
    ("ca name number", "POST", "/cas", CA(name=5), 400, "bad_request", "name"),
    ("ca name empty", "POST", "/cas", CA(name=""), 400, "bad_request", "name"),
    ("ca name oversized", "POST", "/cas", CA(name="n" * 300), 400, "bad_request", "name"),
    ("ca name control character", "POST", "/cas", CA(name="a\u0001b"), 400, "bad_request",
     "name"),
    ("ca type unknown", "POST", "/cas", CA(type="leaf"), 400, "bad_request", "type"),
    ("ca type missing", "POST", "/cas", CA(type=None), 400, "bad_request", "type"),
    ("ca type number", "POST", "/cas", CA(type=1), 400, "bad_request", "type"),
    ("ca subject missing", "POST", "/cas", CA(subject=None), 400, "bad_request", "subject"),
    ("ca subject string", "POST", "/cas", CA(subject="CN=x"), 400, "bad_request", "subject"),
    ("ca subject empty", "POST", "/cas", CA(subject={}), 400, "bad_request", "subject*"),
    ("ca subject CN number", "POST", "/cas", CA(subject={"CN": 5}), 400, "bad_request",
     "subject*"),
    ("ca subject unknown attribute", "POST", "/cas", CA(subject={"CN": "x", "XX": "y"}), 400,
     "bad_request", "subject*"),
    ("ca subject CN oversized", "POST", "/cas", CA(subject={"CN": "c" * 300}), 400,
     "bad_request", "subject*"),
    ("ca subject C three letters", "POST", "/cas", CA(subject={"CN": "x", "C": "DEU"}), 400,
     "bad_request", "subject*"),
    ("ca subject CN empty", "POST", "/cas", CA(subject={"CN": ""}), 400, "bad_request",
     "subject*"),
    ("ca key missing", "POST", "/cas", CA(key=None), 400, "bad_request", "key"),
    ("ca key string", "POST", "/cas", CA(key="ec"), 400, "bad_request", "key"),
    ("ca key type unknown", "POST", "/cas", CA(key={"type": "dsa"}), 400, "bad_request",
     "key*"),
    ("ca key rsa 1024", "POST", "/cas", CA(key={"type": "rsa", "bits": 1024}), 400,
     "bad_request", "key*"),
    ("ca key rsa 5000", "POST", "/cas", CA(key={"type": "rsa", "bits": 5000}), 400,
     "bad_request", "key*"),
    ("ca key rsa bits string", "POST", "/cas", CA(key={"type": "rsa", "bits": "2048"}), 400,
     "bad_request", "key*"),
    ("ca key curve P-192", "POST", "/cas", CA(key={"type": "ec", "curve": "P-192"}), 400,
     "bad_request", "key*"),
    ("ca key unknown member", "POST", "/cas",
     CA(key={"type": "ec", "curve": "P-256", "exportable": True}), 400, "bad_request", "key*"),
    ("ca validity zero", "POST", "/cas", CA(validity_days=0), 400, "bad_request",
     "validity_days"),
    ("ca validity string", "POST", "/cas", CA(validity_days="365"), 400, "bad_request",
     "validity_days"),
    ("ca validity float", "POST", "/cas", CA(validity_days=1.5), 400, "bad_request",
     "validity_days"),
    ("ca validity missing", "POST", "/cas", CA(validity_days=None), 400, "bad_request",
     "validity_days"),
    ("ca validity huge", "POST", "/cas", CA(validity_days=10 ** 15), 400, "bad_request",
     "validity_days"),
    ("ca path_length negative", "POST", "/cas", CA(path_length=-1), 400, "bad_request",
     "path_length"),
    ("ca path_length string", "POST", "/cas", CA(path_length="1"), 400, "bad_request",
     "path_length"),
    ("ca parent_id string", "POST", "/cas", CA(type="intermediate", parent_id="1"), 400,
     "bad_request", "parent_id"),
    ("ca parent_id zero", "POST", "/cas", CA(type="intermediate", parent_id=0), 400,
     "bad_request", "parent_id"),
    ("ca nc not an object", "POST", "/cas", CA(name_constraints=5), 400, "bad_request",
     "name_constraints"),
    ("ca nc bad dns", "POST", "/cas",
     CA(name_constraints={"permitted": {"dns": ["bad name!"]}}), 400, "bad_request",
     "name_constraints*"),
    ("ca nc ip host bits", "POST", "/cas",
     CA(name_constraints={"permitted": {"ip": ["10.0.0.1/8"]}}), 400, "bad_request",
     "name_constraints*"),
    ("ca nc ip junk", "POST", "/cas",
     CA(name_constraints={"permitted": {"ip": ["not-an-ip"]}}), 400, "bad_request",
     "name_constraints*"),
    ("ca nc unknown type", "POST", "/cas",
     CA(name_constraints={"permitted": {"x400": ["a"]}}), 400, "bad_request",
     "name_constraints*"),
    ("ca nc unknown member", "POST", "/cas",
     CA(name_constraints={"allowed": {"dns": ["example.com"]}}), 400, "bad_request",
     "name_constraints*"),
    ("ca nc list string", "POST", "/cas",
     CA(name_constraints={"permitted": {"dns": "example.com"}}), 400, "bad_request",
     "name_constraints*"),
    ("ca nc too many", "POST", "/cas",
     CA(name_constraints={"permitted": {"dns": [f"d{i}.example.com" for i in range(65)]}}),
     400, "bad_request", "name_constraints*"),
    ("ca unknown field", "POST", "/cas", CA(is_ca=True), 400, "bad_request", "is_ca"),
    # POST /api/v2/certificates: JSON itself
    ("cert truncated", "POST", "/certificates", b'{"ca_id": 1, "template": ', 400,
     "malformed_json", None),
    ("cert not an object", "POST", "/certificates", b'"x"', 400, "malformed_json", None),
    ("cert duplicate key", "POST", "/certificates",
     b'{"ca_id": 1, "ca_id": 2, "template": "server", "subject": {"CN": "a.example.com"}, '
     b'"key": {"type": "ed25519"}, "validity_days": 30}', 400, "malformed_json", None),
    ("cert empty body", "POST", "/certificates", b"", 400, "malformed_json", None),
    ("cert nested too deep", "POST", "/certificates", CERT(extra=DEEP), 400,
     "malformed_json", None),
    ("cert wrong content type", "POST", "/certificates",
     ("application/x-www-form-urlencoded", b"ca_id=1"), 415, "unsupported_media_type", None),
    ("cert body over the cap", "POST", "/certificates", CERT(csr="A" * 600000), 413,
     "payload_too_large", None),
    # POST /api/v2/certificates: members
    ("cert ca_id missing", "POST", "/certificates", CERT(ca_id=None), 400, "bad_request",
     "ca_id"),
    ("cert ca_id string", "POST", "/certificates", CERT(ca_id="1"), 400, "bad_request",
     "ca_id"),
    ("cert ca_id zero", "POST", "/certificates", CERT(ca_id=0), 400, "bad_request", "ca_id"),
    ("cert ca_id negative", "POST", "/certificates", CERT(ca_id=-5), 400, "bad_request",
     "ca_id"),
    ("cert ca_id float", "POST", "/certificates", CERT(ca_id=1.5), 400, "bad_request",
     "ca_id"),
    ("cert template missing", "POST", "/certificates", CERT(template=None), 400,
     "bad_request", "template"),
    ("cert template number", "POST", "/certificates", CERT(template=1), 400, "bad_request",
     "template"),
    ("cert template oversized", "POST", "/certificates", CERT(template="t" * 5000), 400,
     "bad_request", "template"),
    ("cert subject string", "POST", "/certificates", CERT(subject="CN=x"), 400,
     "bad_request", "subject"),
    ("cert subject unknown attribute", "POST", "/certificates",
     CERT(subject={"CN": "bad.example.com", "XX": "y"}), 400, "bad_request", "subject*"),
    ("cert subject CN oversized", "POST", "/certificates", CERT(subject={"CN": "c" * 300}),
     400, "bad_request", "subject*"),
    ("cert subject CN array", "POST", "/certificates", CERT(subject={"CN": ["a"]}), 400,
     "bad_request", "subject*"),
    ("cert sans object", "POST", "/certificates", CERT(sans={"dns": "x.example.com"}), 400,
     "bad_request", "sans"),
    ("cert san string", "POST", "/certificates", CERT(sans=["x.example.com"]), 400,
     "bad_request", "sans*"),
    ("cert san value oversized", "POST", "/certificates",
     CERT(sans=[{"type": "uri", "value": "https://example.com/" + "p" * 3000}]), 400,
     "bad_request", "sans*"),
    ("cert key string", "POST", "/certificates", CERT(key="ec"), 400, "bad_request", "key"),
    ("cert csr number", "POST", "/certificates", CERT(key=None, csr=5), 400, "bad_request",
     "csr"),
    ("cert csr junk", "POST", "/certificates", CERT(key=None, csr="Z" * 40000), 400, None,
     "csr"),
    ("cert validity string", "POST", "/certificates", CERT(validity_days="30"), 400,
     "bad_request", "validity_days"),
    ("cert validity float", "POST", "/certificates", CERT(validity_days=30.5), 400,
     "bad_request", "validity_days"),
    ("cert validity null", "POST", "/certificates", CERT(validity_days=None) | {
        "validity_days": None}, 400, "bad_request", "validity_days"),
    ("cert unknown field", "POST", "/certificates", CERT(is_ca=True), 400, "bad_request",
     "is_ca"),
    ("cert unknown field serial", "POST", "/certificates", CERT(serial="01"), 400,
     "bad_request", "serial"),
    # revoke
    ("revoke malformed", "POST", "/certificates/{cert}/revoke", b'{"reason": ', 400,
     "malformed_json", None),
    ("revoke empty body", "POST", "/certificates/{cert}/revoke", b"", 400, "malformed_json",
     None),
    ("revoke reason missing", "POST", "/certificates/{cert}/revoke", {}, 400, "bad_request",
     "reason"),
    ("revoke reason unknown", "POST", "/certificates/{cert}/revoke", {"reason": "lost"}, 400,
     "bad_request", "reason"),
    ("revoke reason oversized", "POST", "/certificates/{cert}/revoke",
     {"reason": "r" * 5000}, 400, "bad_request", "reason"),
    ("revoke invalidity junk", "POST", "/certificates/{cert}/revoke",
     {"reason": "superseded", "invalidity_date": "2026-13-01T00:00:00Z"}, 400, "bad_request",
     "invalidity_date"),
    ("revoke unknown field", "POST", "/certificates/{cert}/revoke",
     {"reason": "superseded", "crl": True}, 400, "bad_request", "crl"),
    ("revoke id junk", "POST", "/certificates/abc/revoke", {"reason": "superseded"}, 400,
     "bad_request", "id"),
    ("revoke id zero", "POST", "/certificates/0/revoke", {"reason": "superseded"}, 400,
     "bad_request", "id"),
    # p12 export
    ("p12 malformed", "POST", "/certificates/{cert}/export", b'{"format": "p12"', 400,
     "malformed_json", None),
    ("p12 password missing", "POST", "/certificates/{cert}/export", {"format": "p12"}, 400,
     "bad_request", "password"),
    ("p12 password number", "POST", "/certificates/{cert}/export",
     {"format": "p12", "password": 12345678}, 400, "bad_request", "password"),
    ("p12 password oversized", "POST", "/certificates/{cert}/export",
     {"format": "p12", "password": "p" * 3000}, 400, "bad_request", "password"),
    ("p12 format missing", "POST", "/certificates/{cert}/export",
     {"password": "Long-enough-1"}, 400, "bad_request", "format"),
    ("p12 unknown field", "POST", "/certificates/{cert}/export",
     {"format": "p12", "password": "Long-enough-1", "legacy": True}, 400, "bad_request",
     "legacy"),
    ("p12 id overflow", "POST", "/certificates/99999999999999999999999/export",
     {"format": "p12", "password": "Long-enough-1"}, 400, "bad_request", "id"),
    # GET routes
    ("ca get id junk", "GET", "/cas/abc", None, 400, "bad_request", "id"),
    ("ca get id zero", "GET", "/cas/0", None, 400, "bad_request", "id"),
    ("ca get id overflow", "GET", "/cas/99999999999999999999999", None, 400, "bad_request",
     "id"),
    ("ca export format", "GET", "/cas/{ca}/export?format=jks", None, 400, "bad_request",
     "format"),
    ("ca export format oversized", "GET", "/cas/{ca}/export?format=" + "p" * 300, None, 400,
     "bad_request", "format"),
    ("ca list per_page 201", "GET", "/cas?per_page=201", None, 400, "bad_request", "per_page"),
    ("ca list page zero", "GET", "/cas?page=0", None, 400, "bad_request", "page"),
    ("ca list page junk", "GET", "/cas?page=x", None, 400, "bad_request", "page"),
    ("cert get id junk", "GET", "/certificates/1x", None, 400, "bad_request", "id"),
    ("cert get id negative", "GET", "/certificates/-1", None, 400, "bad_request", "id"),
    ("cert export format", "GET", "/certificates/{cert}/export?format=pfx", None, 400,
     "bad_request", "format"),
    ("cert list per_page 201", "GET", "/certificates?per_page=201", None, 400,
     "bad_request", "per_page"),
    ("cert list per_page junk", "GET", "/certificates?per_page=ten", None, 400,
     "bad_request", "per_page"),
    ("cert list status", "GET", "/certificates?status=bogus", None, 400, "bad_request",
     "status"),
    ("cert list ca junk", "GET", "/certificates?ca=x", None, 400, "bad_request", "ca"),
    ("cert list expires_before junk", "GET", "/certificates?expires_before=2026-02-30", None,
     400, "bad_request", "expires_before"),
    ("cert list q oversized", "GET", "/certificates?q=" + "q" * 300, None, 400,
     "bad_request", "q"),
    ("cert list template oversized", "GET", "/certificates?template=" + "t" * 300, None, 400,
     "bad_request", "template"),
]


def _fill(obj, env):
    if isinstance(obj, dict):
        return {k: _fill(v, env) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_fill(v, env) for v in obj]
    if obj == "{ca}":
        return env["ca"]
    return obj


def _send(env, method, path, body):
    admin = env["admin"]
    path = API + path.format(ca=env["ca"], cert=env["cert"])
    if body is None:
        return admin.request(method, path)
    if isinstance(body, tuple):
        ctype, raw = body
        return admin.request(method, path, data=raw, headers={"Content-Type": ctype})
    if isinstance(body, bytes):
        return admin.request(method, path, data=body,
                             headers={"Content-Type": "application/json"})
    return admin.request(method, path, json=_fill(body, env))


def _counts(cw):
    return pk.counts(cw, ("cas", "certificates", "audit_log"))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_writes_nothing(env, case):
    name, method, path, body, status, code, field = case
    cw = env["stack"].cw
    before = _counts(cw)
    r = _send(env, method, path, body)
    expect.not_5xx(r, name)
    doc = expect.problem(r, status, code)
    if field is None:
        pass
    elif field.endswith("*"):
        assert str(doc.get("field", "")).startswith(field[:-1]), \
            f"problem should name the field {field[:-1]}(...): {doc}"
    else:
        assert doc.get("field") == field, f"problem should name the field {field}: {doc}"
    assert _counts(cw) == before, "bad input changed the database"


def test_valid_bodies_of_the_table_are_accepted(env):
    """The tables' base bodies are good: each refusal above is down to the
    one change it makes."""
    admin = env["admin"]
    d = idn.data(admin.post(API + "/cas", json=CA(name=pk.unique_name("Base"))), 201)
    assert d["status"] == "active"
    d = idn.data(admin.post(API + "/certificates", json=_fill(CERT(), env)), 201)
    assert d["status"] == "valid"


def test_stack_still_answers_after_bad_input(env):
    admin = env["admin"]
    assert idn.data(admin.me())["user"]["role"] == "admin"
    assert idn.data(admin.get(API + "/audit/verify"))["valid"] is True
    assert idn.data(admin.get(f"{API}/cas/{env['ca']}"))["id"] == env["ca"]

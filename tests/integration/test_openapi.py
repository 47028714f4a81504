"""docs/openapi.yaml against the route tables of backend/api/*.c.

No server is started: the route tables (`static const struct http_route
routes[]`) are read with regular expressions and compared with the spec.
A route missing from the spec, a spec operation that is no route, or a
permission, authentication mode, body cap or rate-limit class that differs
fails here, so the published API description cannot drift from the code.
Also checked: the spec's permission and error-code enums against
backend/auth/rbac.c and backend/util/err.c, that every $ref resolves, and
that the YAML has no duplicate keys.
"""

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "docs" / "openapi.yaml"
API_DIR = REPO / "backend" / "api"
PROTO_DIR = REPO / "backend" / "protocols"
ROUTES_C = REPO / "backend" / "http" / "routes.c"
LIMITS_H = REPO / "backend" / "cw_limits.h"
RBAC_C = REPO / "backend" / "auth" / "rbac.c"
ERR_C = REPO / "backend" / "util" / "err.c"

METHOD_BITS = {
    "HTTP_M_GET": "get",
    "HTTP_M_HEAD": "head",
    "HTTP_M_POST": "post",
    "HTTP_M_PUT": "put",
    "HTTP_M_PATCH": "patch",
    "HTTP_M_DELETE": "delete",
    "HTTP_M_OPTIONS": "options",
}
OAS_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
RL_CLASSES = {
    "RL_DEFAULT": "default",
    "RL_LOGIN": "login",
    "RL_PROTOCOL": "protocol",
    "RL_REVOCATION": "revocation",
    "RL_NONE": "none",
}


# ---------------------------------------------------------------------------
# Reading the C sources

def strip_c_comments(text):
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def limits():
    """LIM_* macros of cw_limits.h evaluated to integers."""
    out = {}
    for line in strip_c_comments(LIMITS_H.read_text()).splitlines():
        m = re.match(r"\s*#define\s+(LIM_\w+)\s+(.+?)\s*$", line)
        if not m:
            continue
        expr = re.sub(r"(\d+)[uUlL]+\b", r"\1", m.group(2))
        if re.fullmatch(r"[\d\s*+()]+", expr):
            out[m.group(1)] = eval(expr, {"__builtins__": {}})  # digits and * + ( ) only
    return out


def body_cap(token, lim):
    if token is None:
        return 0
    if token.isdigit():
        return int(token)
    assert token in lim, f"body_max {token} is not a LIM_* constant of cw_limits.h"
    return lim[token]


def split_entries(body):
    """The { ... } initializers of an array body; braces inside string
    literals (the {id} of a pattern) do not count."""
    hide = str.maketrans("{}", "\x01\x02")
    show = str.maketrans("\x01\x02", "{}")
    masked = re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: m.group(0).translate(hide), body)
    return [e.translate(show) for e in re.findall(r"\{([^{}]*)\}", masked)]


def route_sources():
    return sorted(API_DIR.glob("*.c")) + sorted(PROTO_DIR.glob("*/*.c"))


def parse_route_tables():
    """Every route of every table in backend/api/*.c and
    backend/protocols/*/*.c, as a list of dicts."""
    lim = limits()
    routes = []
    for src in route_sources():
        text = strip_c_comments(src.read_text())
        arrays = re.findall(
            r"static\s+const\s+struct\s+http_route\s+\w+\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\}\s*;",
            text, flags=re.S)
        entries = [e for body in arrays for e in split_entries(body)]
        # Every ".pattern =" of the file must be inside a parsed entry.
        assert text.count(".pattern") == len(entries), (
            f"{src.name}: {text.count('.pattern')} route patterns but "
            f"{len(entries)} parsed entries; the route table layout changed")
        for e in entries:
            m_methods = re.search(r"\.methods\s*=\s*([A-Z_|\s]+?)\s*,", e)
            m_pattern = re.search(r'\.pattern\s*=\s*"([^"]+)"', e)
            assert m_methods and m_pattern, f"{src.name}: cannot parse route entry {e!r}"
            bits = [b.strip() for b in m_methods.group(1).split("|")]
            unknown = [b for b in bits if b not in METHOD_BITS]
            assert not unknown, f"{src.name}: unknown method bits {unknown}"
            m_auth = re.search(r"\.auth\s*=\s*(AUTH_\w+)", e)
            m_perm = re.search(r'\.perm\s*=\s*"([^"]*)"', e)
            m_body = re.search(r"\.body_max\s*=\s*(\w+)", e)
            m_rl = re.search(r"\.rl\s*=\s*(RL_\w+)", e)
            routes.append({
                "file": src.name,
                "methods": [METHOD_BITS[b] for b in bits],
                # {name*} (rest of the path) is {name} in OpenAPI.
                "path": re.sub(r"\{(\w+)\*\}", r"{\1}", m_pattern.group(1)),
                "auth": m_auth.group(1) if m_auth else "AUTH_PUBLIC",
                "perm": m_perm.group(1) if m_perm else None,
                "body_max": body_cap(m_body.group(1) if m_body else None, lim),
                "rl": RL_CLASSES[m_rl.group(1) if m_rl else "RL_DEFAULT"],
            })
    return routes


def route_operations():
    """{(path, method): route} over every route table."""
    ops = {}
    for r in parse_route_tables():
        for m in r["methods"]:
            key = (r["path"], m)
            assert key not in ops, f"{m.upper()} {r['path']} is declared twice"
            ops[key] = r
    return ops


# ---------------------------------------------------------------------------
# Reading the spec

class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML keeps the last)."""


def _unique_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


@pytest.fixture(scope="module")
def spec():
    return yaml.load(SPEC.read_text(), Loader=UniqueKeyLoader)


@pytest.fixture(scope="module")
def routes():
    return route_operations()


def spec_operations(spec):
    return {(path, m): op
            for path, item in spec["paths"].items()
            for m, op in item.items() if m in OAS_METHODS}


def names(ops):
    return sorted(f"{m.upper()} {p}" for p, m in ops)


# ---------------------------------------------------------------------------
# Tests

def test_route_tables_found(routes):
    assert ("/api/health", "get") in routes
    assert len(routes) >= 30, "suspiciously few routes parsed"


def test_every_table_is_registered():
    """Tables defined in api/*.c and protocols/ are the ones the
    dispatcher serves."""
    defined = set()
    for src in route_sources():
        defined |= set(re.findall(r"const\s+struct\s+http_route_table\s+(\w+)\s*=",
                                  src.read_text()))
    registered = set(re.findall(r"&(\w+)", strip_c_comments(ROUTES_C.read_text())))
    assert defined == registered, (
        f"defined but not in http_tables: {sorted(defined - registered)}; "
        f"in http_tables but not defined in api/: {sorted(registered - defined)}")


def test_spec_is_openapi_3_0(spec):
    assert spec["openapi"] == "3.0.3"
    assert spec["info"]["title"] and spec["info"]["version"]


def test_every_route_is_in_spec(spec, routes):
    missing = set(routes) - set(spec_operations(spec))
    assert not missing, f"routes missing from docs/openapi.yaml: {names(missing)}"


def test_every_spec_operation_is_a_route(spec, routes):
    extra = set(spec_operations(spec)) - set(routes)
    assert not extra, f"operations in docs/openapi.yaml that are no route: {names(extra)}"


def test_permissions_match(spec, routes):
    wrong = []
    for key, op in spec_operations(spec).items():
        if key not in routes:
            continue
        want = routes[key]["perm"]
        got = op.get("x-permission")
        if got != want:
            wrong.append(f"{key[1].upper()} {key[0]}: spec {got!r}, route table {want!r}")
    assert not wrong, "x-permission differs:\n" + "\n".join(wrong)


def test_security_matches_auth(spec, routes):
    wrong = []
    for key, op in spec_operations(spec).items():
        if key not in routes:
            continue
        path, method = key
        r = routes[key]
        sec = op.get("security")
        if r["auth"] == "AUTH_PUBLIC":
            if sec != []:
                wrong.append(f"{method.upper()} {path}: public route needs security: []")
            continue
        cookie = {"cookieAuth": []}
        if method not in ("get", "head", "options"):
            cookie["csrfToken"] = []
        want = [cookie, {"bearerAuth": []}]
        if sec != want:
            wrong.append(f"{method.upper()} {path}: security {sec!r}, expected {want!r}")
    assert not wrong, "\n".join(wrong)


def test_body_caps_match(spec, routes):
    wrong = []
    for key, op in spec_operations(spec).items():
        if key not in routes:
            continue
        cap = routes[key]["body_max"]
        label = f"{key[1].upper()} {key[0]}"
        if op.get("x-body-max") != cap:
            wrong.append(f"{label}: x-body-max {op.get('x-body-max')!r}, route table {cap}")
        if cap > 0 and "requestBody" not in op:
            wrong.append(f"{label}: takes a body (cap {cap}) but has no requestBody")
        if cap == 0 and "requestBody" in op:
            wrong.append(f"{label}: takes no body but has a requestBody")
    assert not wrong, "\n".join(wrong)


def test_rate_limit_classes_match(spec, routes):
    wrong = [f"{m.upper()} {p}: spec {op.get('x-rate-limit-class')!r}, "
             f"route table {routes[(p, m)]['rl']!r}"
             for (p, m), op in spec_operations(spec).items()
             if (p, m) in routes and op.get("x-rate-limit-class") != routes[(p, m)]["rl"]]
    assert not wrong, "\n".join(wrong)


def test_permissions_are_whitelisted(spec):
    text = strip_c_comments(RBAC_C.read_text())
    m = re.search(r"auth_perms_all\[\]\s*=\s*\{(.*?)\};", text, flags=re.S)
    assert m, "auth_perms_all not found in rbac.c"
    whitelist = re.findall(r'"([a-z_]+:[a-z_]+)"', m.group(1))
    enum = spec["components"]["schemas"]["Permission"]["enum"]
    assert enum == whitelist, "Permission enum differs from auth_perms_all"
    for (p, meth), op in spec_operations(spec).items():
        if "x-permission" in op:
            assert op["x-permission"] in whitelist, f"{meth.upper()} {p}: unknown permission"


def test_error_codes_match(spec):
    text = ERR_C.read_text()
    codes = re.findall(r'\[CW_E_\w+\]\s*=\s*\{\s*"(\w+)"', text)
    assert codes, "no error codes found in err.c"
    enum = spec["components"]["schemas"]["ErrorCode"]["enum"]
    assert enum == codes, "ErrorCode enum differs from err_table in err.c (same order)"


def test_path_parameters_declared(spec):
    wrong = []
    for (path, method), op in spec_operations(spec).items():
        want = set(re.findall(r"\{(\w+)\}", path))
        got = set()
        for prm in op.get("parameters", []):
            if "$ref" in prm:
                prm = resolve(spec, prm["$ref"])
            if prm["in"] == "path":
                got.add(prm["name"])
        if want != got:
            wrong.append(f"{method.upper()} {path}: path parameters {sorted(got)}, "
                         f"expected {sorted(want)}")
    assert not wrong, "\n".join(wrong)


def resolve(spec, ref):
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node = spec
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"unresolved $ref {ref}"
        node = node[part]
    return node


def test_refs_resolve(spec):
    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    resolve(spec, v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(spec)


def test_operation_ids_unique(spec):
    ids = [op.get("operationId") for op in spec_operations(spec).values()]
    assert None not in ids, "every operation needs an operationId"
    assert len(ids) == len(set(ids)), "duplicate operationId"


def test_request_bodies_are_closed(spec):
    """Request objects refuse unknown members, as the server does."""
    wrong = []
    for (path, method), op in spec_operations(spec).items():
        rb = op.get("requestBody")
        if rb is None:
            continue
        if "application/json" not in rb["content"]:
            continue   # a protocol's own body (an OCSP request)
        schema = rb["content"]["application/json"]["schema"]
        if "$ref" in schema:
            schema = resolve(spec, schema["$ref"])
        if schema.get("additionalProperties") is not False:
            wrong.append(f"{method.upper()} {path}")
    assert not wrong, "request bodies without additionalProperties: false: " + ", ".join(wrong)

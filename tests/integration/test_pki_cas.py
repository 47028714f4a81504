"""PKI: certificate authorities (/api/v2/cas) and templates (/api/v2/templates).

Roots and intermediates of every key type, the CA certificate profile
(RFC 5280: serial, SKI/AKI, critical basicConstraints with the requested
pathLenConstraint, critical keyUsage, nameConstraints), the URLs derived
from public_url and the slug, validity limits (30 years, never beyond the
parent), listing, export formats and permissions. Every CA certificate is
checked with `openssl verify` and GnuTLS `certtool` as well as parsed with
python-cryptography. Runs on the session stack.
"""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID

import expect
import identity as idn
import pki_helpers as pk
from identity import API


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


@pytest.fixture(scope="module")
def root(admin):
    return pk.create_ca(admin, name=pk.unique_name("CA Module Root"), path_length=1,
                        validity_days=3650)


@pytest.fixture(scope="module")
def viewer(admin):
    return idn.login_new(admin, role="viewer", prefix="pkiview")


@pytest.fixture(scope="module")
def operator(admin):
    return idn.login_new(admin, role="operator", prefix="pkiop")


def _days(c):
    return (pk.utc(c, "not_valid_after") - pk.utc(c, "not_valid_before")).total_seconds() / 86400


# --------------------------------------------------------------------------
# templates


def test_templates_are_listed_with_their_profile(admin, viewer):
    for client in (admin, viewer):
        rows = idn.data(client.get(API + "/templates"))
        by_name = {t["name"]: t for t in rows}
        assert set(pk.TEMPLATES) <= set(by_name), sorted(by_name)
        for t in rows:
            for key in ("key_usage", "extended_key_usage", "max_validity_days",
                        "allowed_san_types"):
                assert key in t, (key, t)
            assert isinstance(t["max_validity_days"], int) and t["max_validity_days"] > 0, t
            assert set(t["allowed_san_types"]) <= {"dns", "ip", "email", "uri", "upn"}, t
        assert by_name["server"]["max_validity_days"] <= 3650
        eku_text = {n: " ".join(map(str, by_name[n]["extended_key_usage"])) for n in by_name}
        assert "serverAuth" in eku_text["server"] or "1.3.6.1.5.5.7.3.1" in eku_text["server"]
        assert "clientAuth" in eku_text["client"] or "1.3.6.1.5.5.7.3.2" in eku_text["client"]
        assert "dns" in by_name["server"]["allowed_san_types"]


def test_templates_need_authentication(base_url):
    expect.problem(idn.Client(base_url).get(API + "/templates"), 401)


# --------------------------------------------------------------------------
# roots of every key type


ROOT_KEYS = ["rsa2048", "p256", "p384", "p521", "ed25519"]


@pytest.mark.parametrize("kind", ROOT_KEYS)
def test_root_ca_of_each_key_type(admin, kind):
    spec = pk.KEY_SPECS[kind]
    name = pk.unique_name(f"Root {kind}")
    subject = {"CN": name, "O": "certward tests", "OU": "PKI", "C": "DE", "ST": "Berlin",
               "L": "Berlin"}
    d = pk.create_ca(admin, name=name, key=spec, subject=subject, validity_days=3650,
                     path_length=2)
    assert d["name"] == name and d["type"] == "root" and d["status"] == "active", d
    assert d["parent_id"] is None, d
    assert d["slug"] == pk.slugify(name), d
    assert d["crl_url"] == f"{pk.PUBLIC_URL}/cdp/{d['slug']}.crl", d
    assert d["ocsp_url"] == f"{pk.PUBLIC_URL}/ocsp", d
    assert d["ca_issuers_url"] == f"{pk.PUBLIC_URL}/ca/{d['slug']}.cer", d
    assert "PRIVATE KEY" not in str(d), d

    c = pk.cert(d["pem"])
    pk.assert_public_key(c, spec)
    pk.check_ca_profile(c, None, path_length=2)
    assert pk.sn(d["serial"]) == c.serial_number, (d["serial"], c.serial_number)
    assert pk.cn_of(c) == name
    attrs = {a.oid._name: a.value for a in c.subject}
    assert attrs.get("organizationName") == "certward tests", attrs
    assert attrs.get("countryName") == "DE" and attrs.get("localityName") == "Berlin", attrs
    assert attrs.get("organizationalUnitName") == "PKI", attrs
    assert attrs.get("stateOrProvinceName") == "Berlin", attrs
    assert abs(_days(c) - 3650) <= 1, _days(c)
    assert abs((pk.parse_time(d["not_after"]) - pk.utc(c, "not_valid_after"))
               .total_seconds()) <= 1, d
    assert abs((pk.parse_time(d["not_before"]) - pk.utc(c, "not_valid_before"))
               .total_seconds()) <= 1, d
    # a root's own certificate carries no CDP/AIA
    assert pk.ext(c, x509.CRLDistributionPoints) is None
    assert pk.ext(c, x509.AuthorityInformationAccess) is None
    assert pk.ext(c, x509.NameConstraints) is None
    # ca:TRUE, keyCertSign and cRLSign only on the CA's own certificate
    ku = pk.ext(c, x509.KeyUsage).value
    assert not ku.key_encipherment and not ku.data_encipherment, ku
    # external verifiers accept the self-signed root
    pk.assert_chain_valid(d["pem"], d["pem"])

    got = idn.data(admin.get(f"{API}/cas/{d['id']}"))
    assert got["pem"].strip() == d["pem"].strip() and got["slug"] == d["slug"], got
    assert pk.sn(got["serial"]) == pk.sn(d["serial"]), got


def test_ca_response_describes_its_key(admin):
    """The contract: "key": {"type", ...} with the request's parameters."""
    for kind in ("rsa2048", "p384", "ed25519"):
        spec = pk.KEY_SPECS[kind]
        d = pk.create_ca(admin, key=spec, validity_days=30)
        assert isinstance(d.get("key"), dict), f"no \"key\" object in {sorted(d)}"
        assert d["key"]["type"] == spec["type"], d["key"]
        for k, v in spec.items():
            assert d["key"].get(k) == v, (spec, d["key"])
        assert idn.data(admin.get(f"{API}/cas/{d['id']}"))["key"] == d["key"]


def test_root_without_path_length_has_none(admin):
    d = pk.create_ca(admin, key=pk.KEY_SPECS["p256"])
    pk.check_ca_profile(pk.cert(d["pem"]), None, path_length=None)


def test_rsa_root_keys_of_3072_and_4096_bits(admin):
    for bits in (3072, 4096):
        d = pk.create_ca(admin, key={"type": "rsa", "bits": bits}, validity_days=30)
        c = pk.cert(d["pem"])
        assert c.public_key().key_size == bits
        pk.assert_chain_valid(d["pem"], d["pem"])


# --------------------------------------------------------------------------
# intermediates


def test_intermediate_chain_profile_and_urls(admin, root):
    name = pk.unique_name("Issuing CA")
    d = pk.create_ca(admin, name=name, type="intermediate", parent_id=root["id"],
                     key=pk.KEY_SPECS["p384"], validity_days=1825, path_length=0)
    assert d["type"] == "intermediate" and d["parent_id"] == root["id"], d
    assert d["status"] == "active"
    r, c = pk.cert(root["pem"]), pk.cert(d["pem"])
    pk.check_ca_profile(c, r, path_length=0)
    # an intermediate carries its parent's CDP and AIA
    pk.check_urls(c, root["slug"])
    assert d["crl_url"] == f"{pk.PUBLIC_URL}/cdp/{d['slug']}.crl", d
    pk.assert_chain_valid(root["pem"], d["pem"])
    r2 = pk.openssl_verify(root["pem"], d["pem"], extra=["-purpose", "any"])
    assert r2.returncode == 0, r2.stdout + r2.stderr
    got = idn.data(admin.get(f"{API}/cas/{d['id']}"))
    assert got["parent_id"] == root["id"] and got["pem"].strip() == d["pem"].strip(), got


def test_three_level_chain(admin):
    top = pk.create_ca(admin, key=pk.KEY_SPECS["rsa2048"], path_length=2, validity_days=3650)
    mid = pk.create_ca(admin, type="intermediate", parent_id=top["id"],
                       key=pk.KEY_SPECS["p256"], path_length=1, validity_days=2000)
    low = pk.create_ca(admin, type="intermediate", parent_id=mid["id"],
                       key=pk.KEY_SPECS["ed25519"], path_length=0, validity_days=1000)
    pk.check_ca_profile(pk.cert(low["pem"]), pk.cert(mid["pem"]), path_length=0)
    pk.check_urls(pk.cert(low["pem"]), mid["slug"])
    pk.assert_chain_valid(top["pem"], low["pem"], [mid["pem"]])
    chain = idn.data(admin.get(f"{API}/cas/{low['id']}"))
    assert chain["parent_id"] == mid["id"]
    r = admin.get(f"{API}/cas/{low['id']}/export", params={"format": "chain"})
    assert r.status_code == 200, idn.describe(r)
    got = [c.serial_number for c in pk.pem_certs(r.text)]
    assert got == [pk.sn(x["serial"]) for x in (low, mid, top)], got


def test_path_length_of_parent_is_enforced(admin, cw):
    top = pk.create_ca(admin, path_length=0)
    before = pk.counts(cw)
    r = admin.post(API + "/cas", json={
        "name": pk.unique_name("Too Deep"), "type": "intermediate", "parent_id": top["id"],
        "subject": {"CN": "Too Deep"}, "key": {"type": "ec", "curve": "P-256"},
        "validity_days": 365})
    assert r.status_code in (400, 409, 422), idn.describe(r)
    expect.problem(r, r.status_code)
    assert pk.counts(cw) == before


def test_intermediate_cannot_outlive_its_parent(admin, cw):
    short = pk.create_ca(admin, validity_days=365)
    ok = pk.create_ca(admin, type="intermediate", parent_id=short["id"], validity_days=300)
    assert pk.utc(pk.cert(ok["pem"]), "not_valid_after") <= \
        pk.utc(pk.cert(short["pem"]), "not_valid_after")
    before = pk.counts(cw)
    body = {"name": pk.unique_name("Outliver"), "type": "intermediate",
            "parent_id": short["id"], "subject": {"CN": "Outliver"},
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 400}
    doc = expect.problem(admin.post(API + "/cas", json=body), 400)
    assert doc.get("field") == "validity_days", doc
    assert pk.counts(cw) == before


def test_ca_validity_limit_is_thirty_years(admin, cw):
    d = pk.create_ca(admin, validity_days=10950)
    assert abs(_days(pk.cert(d["pem"])) - 10950) <= 1
    before = pk.counts(cw)
    doc = expect.problem(admin.post(API + "/cas", json={
        "name": pk.unique_name("Too Long"), "type": "root", "subject": {"CN": "Too Long"},
        "key": {"type": "ec", "curve": "P-256"}, "validity_days": 10951}), 400)
    assert doc.get("field") == "validity_days", doc
    assert pk.counts(cw) == before


def test_intermediate_needs_an_existing_parent(admin, cw):
    before = pk.counts(cw)
    base = {"type": "intermediate", "subject": {"CN": "Orphan"},
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 365}
    doc = expect.problem(admin.post(API + "/cas", json=dict(base, name=pk.unique_name())), 400)
    assert doc.get("field") == "parent_id", doc
    r = admin.post(API + "/cas", json=dict(base, name=pk.unique_name(), parent_id=987654321))
    assert r.status_code in (400, 404), idn.describe(r)
    expect.problem(r, r.status_code)
    assert pk.counts(cw) == before


def test_root_with_parent_id_is_refused(admin, root, cw):
    before = pk.counts(cw)
    r = admin.post(API + "/cas", json={
        "name": pk.unique_name(), "type": "root", "parent_id": root["id"],
        "subject": {"CN": "Root with parent"}, "key": {"type": "ec", "curve": "P-256"},
        "validity_days": 365})
    doc = expect.problem(r, 400)
    assert doc.get("field") == "parent_id", doc
    assert pk.counts(cw) == before


# --------------------------------------------------------------------------
# slugs, listing, export


def test_slug_is_derived_and_unique(admin, cw):
    token = pk.unique_name("").strip()
    first = pk.create_ca(admin, name=f"Example Root {token}")
    assert first["slug"] == f"example-root-{token}", first
    before = pk.counts(cw)
    r = admin.post(API + "/cas", json={
        "name": f"EXAMPLE   root {token}!", "type": "root", "subject": {"CN": "Example"},
        "key": {"type": "ec", "curve": "P-256"}, "validity_days": 365})
    if r.status_code == 201:
        second = r.json()["data"]
        assert second["slug"] != first["slug"], (first, second)
        assert second["slug"] == second["slug"].lower()
        assert all(ch.isalnum() or ch == "-" for ch in second["slug"]), second
    else:
        doc = expect.problem(r, 409)
        assert doc.get("field") in ("name", "slug"), doc
        assert pk.counts(cw) == before
    # the same name twice
    r = admin.post(API + "/cas", json={
        "name": f"Example Root {token}", "type": "root", "subject": {"CN": "Example"},
        "key": {"type": "ec", "curve": "P-256"}, "validity_days": 365})
    if r.status_code == 201:
        assert r.json()["data"]["slug"] != first["slug"]
    else:
        expect.problem(r, 409)


def test_list_and_paging(admin, root):
    made = [pk.create_ca(admin, validity_days=30)["id"] for _ in range(3)]
    rows, meta = pk.list_all(admin, "/cas")
    ids = [x["id"] for x in rows]
    assert set(made) | {root["id"]} <= set(ids), ids
    assert meta["total"] == len(rows) and len(set(ids)) == len(ids)
    r = admin.get(API + "/cas", params={"per_page": 2, "page": 1})
    doc = r.json()
    assert r.status_code == 200 and len(doc["data"]) == 2, idn.describe(r)
    assert doc["meta"]["total"] == meta["total"] and doc["meta"]["per_page"] == 2, doc["meta"]
    p2 = admin.get(API + "/cas", params={"per_page": 2, "page": 2}).json()["data"]
    assert not {x["id"] for x in p2} & {x["id"] for x in doc["data"]}
    for x in doc["data"]:
        assert "pem" in x or "serial" in x, x
        assert "key_wrapped" not in x and "PRIVATE" not in str(x), x


def test_unknown_ca_is_404(admin):
    expect.problem(admin.get(API + "/cas/987654321"), 404)
    expect.problem(admin.get(API + "/cas/987654321/export?format=pem"), 404)


def test_export_formats(admin, root):
    inter = pk.create_ca(admin, type="intermediate", parent_id=root["id"], path_length=0,
                         validity_days=365)
    r = admin.get(f"{API}/cas/{inter['id']}/export", params={"format": "pem"})
    assert r.status_code == 200, idn.describe(r)
    assert r.headers["Content-Type"].split(";")[0] == "application/x-pem-file", r.headers
    certs = pk.pem_certs(r.text)
    assert len(certs) == 1 and certs[0].serial_number == pk.sn(inter["serial"])
    assert "PRIVATE" not in r.text

    r = admin.get(f"{API}/cas/{inter['id']}/export", params={"format": "der"})
    assert r.status_code == 200, idn.describe(r)
    assert r.headers["Content-Type"].split(";")[0] == "application/pkix-cert", r.headers
    c = x509.load_der_x509_certificate(r.content)
    assert c == pk.cert(inter["pem"])

    r = admin.get(f"{API}/cas/{inter['id']}/export", params={"format": "chain"})
    assert r.status_code == 200, idn.describe(r)
    assert r.headers["Content-Type"].split(";")[0] == "application/x-pem-file", r.headers
    assert [x.serial_number for x in pk.pem_certs(r.text)] == \
        [pk.sn(inter["serial"]), pk.sn(root["serial"])]

    r = admin.get(f"{API}/cas/{inter['id']}/export", params={"format": "p7b"})
    assert r.status_code == 200, idn.describe(r)
    assert r.headers["Content-Type"].split(";")[0] == "application/pkcs7-mime", r.headers
    got = pkcs7.load_der_pkcs7_certificates(r.content)
    assert {x.serial_number for x in got} == {pk.sn(inter["serial"]),
                                              pk.sn(root["serial"])}
    res = pk.openssl("pkcs7", "-inform", "DER", "-print_certs", "-noout", input=r.content)
    assert res.returncode == 0, res.stderr

    # a root's chain is itself
    r = admin.get(f"{API}/cas/{root['id']}/export", params={"format": "chain"})
    assert [x.serial_number for x in pk.pem_certs(r.text)] == [pk.sn(root["serial"])]

    for bad in ("xml", "p12", "", "PEM1"):
        doc = expect.problem(admin.get(f"{API}/cas/{inter['id']}/export",
                                       params={"format": bad}), 400)
        assert doc.get("field") == "format", doc


# --------------------------------------------------------------------------
# name constraints


NC = {"permitted": {"dns": ["example.com"], "ip": ["10.0.0.0/8"], "email": ["example.com"]},
      "excluded": {"dns": ["bad.example.com"]}}


def test_name_constraints_are_critical_and_enforced(admin, root, cw):
    ca = pk.create_ca(admin, type="intermediate", parent_id=root["id"], path_length=0,
                      name_constraints=NC, validity_days=365)
    c = pk.cert(ca["pem"])
    nc = pk.ext(c, x509.NameConstraints)
    assert nc is not None and nc.critical, "nameConstraints missing or not critical"
    permitted = set(nc.value.permitted_subtrees or [])
    excluded = set(nc.value.excluded_subtrees or [])
    import ipaddress
    assert x509.DNSName("example.com") in permitted, permitted
    assert x509.IPAddress(ipaddress.ip_network("10.0.0.0/8")) in permitted, permitted
    assert x509.RFC822Name("example.com") in permitted, permitted
    assert x509.DNSName("bad.example.com") in excluded, excluded

    ok = pk.issue(admin, ca["id"], cn="www.example.com",
                  sans=[{"type": "dns", "value": "www.example.com"},
                        {"type": "ip", "value": "10.1.2.3"}])
    leaf = pk.cert(ok["pem"])
    pk.check_leaf_profile(leaf, c, [ExtendedKeyUsageOID.SERVER_AUTH])
    pk.assert_chain_valid(root["pem"], ok["pem"], [ca["pem"]], purpose="serverAuth")

    outside = [
        ("other domain", "www.example.org", [{"type": "dns", "value": "www.example.org"}]),
        ("excluded subtree", "x.bad.example.com",
         [{"type": "dns", "value": "x.bad.example.com"}]),
        ("suffix trick", "evilexample.com", [{"type": "dns", "value": "evilexample.com"}]),
        ("ip outside", "www.example.com", [{"type": "dns", "value": "www.example.com"},
                                           {"type": "ip", "value": "192.168.1.1"}]),
        ("ipv6 outside the IPv4 constraint", "www.example.com",
         [{"type": "dns", "value": "www.example.com"}, {"type": "ip", "value": "2001:db8::1"}]),
        ("upper-case excluded", "X.BAD.example.com",
         [{"type": "dns", "value": "X.BAD.example.com"}]),
        ("cn outside, san inside", "www.example.net",
         [{"type": "dns", "value": "www.example.com"}]),
    ]
    # email: the permitted host, not another
    mail = pk.issue(admin, ca["id"], template="email", cn="user@example.com",
                    sans=[{"type": "email", "value": "user@example.com"}])
    pk.assert_chain_valid(root["pem"], mail["pem"], [ca["pem"]])
    before = pk.counts(cw)
    r = admin.post(API + "/certificates", json={
        "ca_id": ca["id"], "template": "email", "subject": {"CN": "user@example.org"},
        "sans": [{"type": "email", "value": "user@example.org"}],
        "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30})
    expect.problem(r, 422, "policy_violation")
    assert pk.counts(cw) == before

    for what, cn, sans in outside:
        before = pk.counts(cw)
        r = admin.post(API + "/certificates", json={
            "ca_id": ca["id"], "template": "server", "subject": {"CN": cn}, "sans": sans,
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30})
        try:
            expect.problem(r, 422, "policy_violation")
        except AssertionError as e:
            raise AssertionError(f"{what}: {e}") from None
        assert pk.counts(cw) == before, what


def test_sub_ca_outside_parent_constraints_is_refused(admin, cw):
    top = pk.create_ca(admin, path_length=2, validity_days=3650)
    ca = pk.create_ca(admin, type="intermediate", parent_id=top["id"], path_length=1,
                      name_constraints={"permitted": {"dns": ["corp.example"]}},
                      validity_days=365)
    before = pk.counts(cw)
    # the CN is inside corp.example: GnuTLS checks a CA's CN against its
    # issuer's DNS constraints too
    r = admin.post(API + "/cas", json={
        "name": pk.unique_name("Escaping"), "type": "intermediate", "parent_id": ca["id"],
        "subject": {"CN": "escaping.corp.example"}, "key": {"type": "ec", "curve": "P-256"},
        "validity_days": 100, "name_constraints": {"permitted": {"dns": ["example.org"]}}})
    if r.status_code == 201:
        # accepted: then the chain must not validate anything outside corp.example
        sub = r.json()["data"]
        r2 = admin.post(API + "/certificates", json={
            "ca_id": sub["id"], "template": "server", "subject": {"CN": "www.example.org"},
            "sans": [{"type": "dns", "value": "www.example.org"}],
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30})
        expect.problem(r2, 422, "policy_violation")
    else:
        assert r.status_code in (400, 422), idn.describe(r)
        expect.problem(r, r.status_code)
        assert pk.counts(cw) == before


# --------------------------------------------------------------------------
# permissions


def test_permissions(admin, viewer, operator, base_url, cw):
    assert idn.data(viewer.get(API + "/cas")) is not None
    before = pk.counts(cw)
    body = {"name": pk.unique_name("By Viewer"), "type": "root", "subject": {"CN": "V"},
            "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30}
    expect.problem(viewer.post(API + "/cas", json=body), 403)
    expect.problem(idn.Client(base_url).get(API + "/cas"), 401)
    expect.problem(idn.Client(base_url).post(API + "/cas", json=body), 401)
    assert pk.counts(cw) == before
    d = pk.create_ca(operator, name=pk.unique_name("By Operator"), validity_days=30)
    assert d["status"] == "active"
    # CSRF: the cookie without the token is refused
    r = operator.post(API + "/cas", json=dict(body, name=pk.unique_name()), csrf=False)
    assert r.status_code == 403, idn.describe(r)


def test_api_key_can_create_and_read(admin, base_url):
    key = idn.data(admin.post(API + "/account/api-keys",
                              json={"name": "pki", "scopes": ["read:cas", "write:cas"]}), 201)
    c = idn.bearer(base_url, key["token"])
    d = pk.create_ca(c, validity_days=30)
    assert idn.data(c.get(f"{API}/cas/{d['id']}"))["id"] == d["id"]
    # the key's scopes bound it: no certificates
    r = c.post(API + "/certificates", json={
        "ca_id": d["id"], "template": "server", "subject": {"CN": "www.example.com"},
        "sans": [{"type": "dns", "value": "www.example.com"}],
        "key": {"type": "ec", "curve": "P-256"}, "validity_days": 30})
    expect.problem(r, 403)


def test_not_before_is_not_in_the_future(admin):
    d = pk.create_ca(admin, validity_days=30)
    nb = pk.utc(pk.cert(d["pem"]), "not_valid_before")
    assert nb <= datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)

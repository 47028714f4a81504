"""Custom certificate templates: created, listed beside the built-ins,
enforced at issuance (key types, subject attributes, SAN types, validity,
EKU), replaced and deleted; built-in names are refused."""

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

import expect
import identity as idn
import pki_helpers as pk
from identity import API

TPL = API + "/templates"


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


@pytest.fixture(scope="module")
def ca(admin):
    return pk.create_ca(admin, name=pk.unique_name("Template CA"), validity_days=365)


def _name():
    return "tpl-" + pk.unique_name("x").split()[-1].lower()


def test_custom_template_lifecycle(admin, ca, session_stack):
    name = _name()
    body = {"name": name, "description": "EC web servers",
            "extended_key_usage": ["serverAuth", "1.3.6.1.5.5.7.3.2"],
            "max_validity_days": 90, "allowed_san_types": ["dns"],
            "key_types": ["ec-p256"], "subject_fields": ["CN"]}
    t = idn.data(admin.post(TPL, json=body), 201)
    assert t["name"] == name and t["builtin"] is False and t["key_types"] == ["ec-p256"]
    names = [x["name"] for x in idn.data(admin.get(TPL))]
    assert "server" in names and name in names
    req = {"ca_id": ca["id"], "template": name, "subject": {"CN": "tpl.example.com"},
           "sans": [{"type": "dns", "value": "tpl.example.com"}],
           "key": {"type": "ec", "curve": "P-256"}, "validity_days": 90}
    d = idn.data(admin.post(API + "/certificates", json=req), 201)
    c = pk.cert(d["pem"])
    eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku and ExtendedKeyUsageOID.CLIENT_AUTH in eku
    for change, field in (({"key": {"type": "rsa", "bits": 2048}}, "key"),
                          ({"subject": {"CN": "tpl.example.com", "O": "x"}}, "subject"),
                          ({"sans": [{"type": "ip", "value": "10.0.0.1"}]}, "sans"),
                          ({"validity_days": 91}, "validity_days")):
        doc = expect.problem(admin.post(API + "/certificates", json={**req, **change}), 400)
        assert doc.get("field") == field, (change, doc)
    # replace: now RSA is allowed too
    body["key_types"] = ["ec-p256", "rsa2048"]
    t2 = idn.data(admin.put(f"{TPL}/{t['id']}", json=body))
    assert t2["key_types"] == ["ec-p256", "rsa2048"]
    idn.data(admin.post(API + "/certificates",
                        json={**req, "key": {"type": "rsa", "bits": 2048}}), 201)
    # delete: the name is gone
    assert admin.delete(f"{TPL}/{t['id']}").status_code == 204
    expect.problem(admin.get(f"{TPL}/{t['id']}"), 404)
    doc = expect.problem(admin.post(API + "/certificates", json=req), 400)
    assert doc.get("field") == "template"


def test_template_bad_input(admin):
    base = {"name": _name(), "max_validity_days": 30}
    for change, status, field in (({"name": "server"}, 409, "name"),
                                  ({"name": "Bad Name"}, 400, "name"),
                                  ({"key_usage": ["fly"]}, 400, "key_usage"),
                                  ({"extended_key_usage": ["x.y"]}, 400, "extended_key_usage"),
                                  ({"allowed_san_types": ["x400"]}, 400, "allowed_san_types"),
                                  ({"key_types": ["dsa"]}, 400, "key_types"),
                                  ({"subject_fields": ["SN"]}, 400, "subject_fields"),
                                  ({"max_validity_days": 5000}, 400, "max_validity_days"),
                                  ({"extra": 1}, 400, "extra")):
        doc = expect.problem(admin.post(TPL, json={**base, **change}), status)
        assert doc.get("field") == field, (change, doc)
    name = _name()
    idn.data(admin.post(TPL, json={"name": name, "max_validity_days": 30}), 201)
    expect.problem(admin.post(TPL, json={"name": name, "max_validity_days": 30}), 409)
    viewer = idn.login_new(admin, role="viewer", prefix="tplv")
    expect.problem(viewer.post(TPL, json={"name": _name(), "max_validity_days": 30}), 403)
    assert viewer.get(TPL).status_code == 200

import identity as idn, pki_helpers as pk
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
def test_probe(session_stack):
    admin = idn.session_admin(session_stack)
    root = pk.create_ca(admin, validity_days=300)
    key = pk.gen_key("p256")
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
                      x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Bayern"),
                      x509.NameAttribute(NameOID.LOCALITY_NAME, "München"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example GmbH"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "IT"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "subj.example.com"),
                      x509.NameAttribute(NameOID.SERIAL_NUMBER, "1234")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).add_extension(
        x509.SubjectAlternativeName([x509.DNSName("subj.example.com")]), critical=False).sign(key, hashes.SHA256())
    pem = csr.public_bytes(serialization.Encoding.PEM).decode()
    r = admin.post(pk.API + "/certificates", json={"ca_id": root["id"], "template": "server", "csr": pem, "validity_days": 30})
    print("ISSUE", r.status_code, r.text[:300])
    if r.status_code != 201: return
    old = r.json()["data"]
    oc = pk.cert(old["pem"])
    print("OLDSUBJ", oc.subject.rfc4514_string())
    new = admin.post(f"{pk.API}/certificates/{old['id']}/renew", json={"csr": pk.make_csr(pk.gen_key("p256"), "x")})
    print("RENEW", new.status_code, new.text[:200])
    if new.status_code == 201:
        nc = pk.cert(new.json()["data"]["pem"])
        print("NEWSUBJ", nc.subject.rfc4514_string(), nc.subject == oc.subject)

"""PKI: the certificate list on a table larger than its count cap
(/api/v2/certificates): meta.total exact up to 1,000 matching rows and a
lower bound past that (meta.total_exact), keyset paging with ?after= in
every sort order, each filter (status, CA, template, key type, expiry
window) with its exact total, and ?q= finding a row of page 3 from page 1.

The 10,050 rows of one CA are written with SQL (as the search benchmark
does, without DER), then listed through the API; the module removes them
at the end. Runs on the session stack.
"""

import datetime
import secrets

import pytest

import expect
import identity as idn
import pki_helpers as pk
from identity import API

CERTS = API + "/certificates"
ROWS = 10_050
CAP = 1_000
SORTS = ("-created_at", "created_at", "not_after", "-not_after",
         "common_name", "-common_name")


def _template(k):
    return "client" if k % 500 == 7 else "server"


def _key_type(k):
    return "rsa3072" if k % 1000 == 3 else "ed25519" if k % 1000 == 4 else "ec-p256"


def _days(k):
    """not_after is now + this many days + 1 hour."""
    return k % 400 - 50


def _revoked(k):
    return k % 10 == 0


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


@pytest.fixture(scope="module")
def big(admin, cw):
    ca = pk.create_ca(admin, name=pk.unique_name("Big List CA"), validity_days=3650)
    tag = secrets.token_hex(4)
    cw.sql(
        "INSERT INTO certificates (ca_id, serial, status, template, key_type, "
        "subject_dn, common_name, sans, not_before, not_after, fp_sha256, "
        "created_by, revoked_at, revocation_reason) "
        f"SELECT {ca['id']}, CONCAT('{tag}', LPAD(LOWER(HEX(seq)), 8, '0')), "
        "IF(seq % 10 = 0, 'revoked', 'valid'), "
        "IF(seq % 500 = 7, 'client', 'server'), "
        "CASE seq % 1000 WHEN 3 THEN 'rsa3072' WHEN 4 THEN 'ed25519' "
        "ELSE 'ec-p256' END, "
        f"CONCAT('CN=big{tag}-', seq, '.example.com'), "
        f"CONCAT('big{tag}-', seq, '.example.com'), '[]', "
        "UTC_TIMESTAMP() - INTERVAL 90 DAY, "
        "UTC_TIMESTAMP() + INTERVAL (CAST(seq % 400 AS SIGNED) - 50) DAY "
        "+ INTERVAL 1 HOUR, "
        f"SHA2(CONCAT('{tag}', seq), 256), 'test', "
        "IF(seq % 10 = 0, UTC_TIMESTAMP(6), NULL), "
        "IF(seq % 10 = 0, 'superseded', NULL) "
        f"FROM seq_1_to_{ROWS} ORDER BY seq")
    cw.sql("INSERT INTO certificate_names (cert_id, name, name_rev) "
           "SELECT id, common_name, REVERSE(common_name) FROM certificates "
           f"WHERE ca_id = {ca['id']}")
    rows = cw.sql("SELECT id, serial FROM certificates "
                  f"WHERE ca_id = {ca['id']} ORDER BY id")
    assert len(rows) == ROWS
    # row k (1-based) has the k-th id: inserted in seq order
    ids = {k + 1: int(r[0]) for k, r in enumerate(rows)}
    serials = {k + 1: r[1] for k, r in enumerate(rows)}
    yield {"ca": ca, "tag": tag, "ids": ids, "serials": serials}
    cw.sql(f"DELETE FROM certificates WHERE ca_id = {ca['id']}")


def _iso_days(days):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _get(client, **params):
    r = client.get(CERTS, params=params)
    assert r.status_code == 200, idn.describe(r)
    doc = r.json()
    return doc["data"], doc["meta"]


def _expect(big, pred):
    return sorted(big["ids"][k] for k in range(1, ROWS + 1) if pred(k))


def test_total_is_capped_past_1000(admin, big):
    ca = big["ca"]["id"]
    data, meta = _get(admin, ca=ca)
    assert meta["total"] == CAP and meta["total_exact"] is False, meta
    assert meta["page"] == 1 and meta["per_page"] == 50 and len(data) == 50
    assert [d["id"] for d in data] == sorted(big["ids"].values(), reverse=True)[:50]
    # the revoked rows (1,005) are past the cap too
    data, meta = _get(admin, ca=ca, status="revoked", per_page=200)
    assert meta["total"] == CAP and meta["total_exact"] is False, meta
    # below the cap the count is exact
    want = _expect(big, lambda k: _revoked(k) and _days(k) < 0)
    assert 50 < len(want) < CAP
    data, meta = _get(admin, ca=ca, status="revoked", per_page=50,
                      expires_before=_iso_days(0))
    assert meta["total"] == len(want) and meta["total_exact"] is True, meta
    assert [d["id"] for d in data] == want[::-1][:50]
    # a deep page still works with page=
    data, meta = _get(admin, ca=ca, page=100, per_page=100)
    assert [d["id"] for d in data] == sorted(big["ids"].values(), reverse=True)[9900:10000]
    assert meta["total_exact"] is False


def test_small_totals_are_exact(admin, big):
    ca = big["ca"]["id"]
    want = _expect(big, lambda k: _template(k) == "client")
    data, meta = _get(admin, ca=ca, template="client", per_page=200)
    assert sorted(d["id"] for d in data) == want, meta
    assert meta["total"] == len(want) == 21 and meta["total_exact"] is True
    assert meta["next_after"] is None
    # a page past the end: no rows, the total still exact
    data, meta = _get(admin, ca=ca, template="client", per_page=10, page=5)
    assert data == [] and meta["total"] == 21 and meta["total_exact"] is True
    # the last partial page
    data, meta = _get(admin, ca=ca, template="client", per_page=10, page=3)
    assert len(data) == 1 and meta["total"] == 21 and meta["total_exact"] is True


@pytest.mark.parametrize("params,pred", [
    ({"status": "revoked"}, _revoked),
    ({"status": "expired"}, lambda k: not _revoked(k) and _days(k) < 0),
    ({"status": "expiring"}, lambda k: not _revoked(k) and 0 <= _days(k) <= 29),
    ({"status": "valid", "template": "client"},
     lambda k: not _revoked(k) and _days(k) >= 0 and _template(k) == "client"),
    ({"key_type": "rsa"}, lambda k: _key_type(k) == "rsa3072"),
    ({"key_type": "rsa3072"}, lambda k: _key_type(k) == "rsa3072"),
    ({"key_type": "ed25519"}, lambda k: _key_type(k) == "ed25519"),
    ({"key_type": "rsa2048"}, lambda k: False),
    ({"key_type": "ec", "status": "expired"},
     lambda k: _key_type(k) == "ec-p256" and not _revoked(k) and _days(k) < 0),
    ({"template": "client", "key_type": "ec"},
     lambda k: _template(k) == "client" and _key_type(k) == "ec-p256"),
])
def test_filters_with_exact_totals(admin, big, params, pred):
    want = _expect(big, pred)
    got = []
    page = 1
    while True:
        data, meta = _get(admin, ca=big["ca"]["id"], per_page=200, page=page, **params)
        got += [d["id"] for d in data]
        if len(want) <= CAP:
            assert meta["total"] == len(want) and meta["total_exact"] is True, (params, meta)
        if len(data) < 200:
            break
        page += 1
    assert sorted(got) == want, params
    for d in data:
        if "status" in params and params["status"] == "revoked":
            assert d["status"] == "revoked"


def test_expiry_window(admin, big):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    lo = (now + datetime.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    hi = (now + datetime.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # not_after = now + d days + 1 h: in [lo, hi) for d = 10..19
    want = _expect(big, lambda k: 10 <= _days(k) <= 19)
    data, meta = _get(admin, ca=big["ca"]["id"], expires_after=lo, expires_before=hi,
                      per_page=200)
    assert len(want) > 200 and meta["total"] == len(want) and meta["total_exact"], meta
    assert all(lo <= d["not_after"] < hi for d in data), data[:3]
    want = _expect(big, lambda k: _days(k) >= 340)
    data, meta = _get(admin, ca=big["ca"]["id"], per_page=200, sort="not_after",
                      expires_after=(now + datetime.timedelta(days=340))
                      .strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert meta["total"] == len(want) and meta["total_exact"], meta
    assert [d["not_after"] for d in data] == sorted(d["not_after"] for d in data)
    for bad in ("tomorrow", "2026-13-01", "1"):
        doc = expect.problem(admin.get(CERTS, params={"expires_after": bad}), 400)
        assert doc.get("field") == "expires_after", doc


@pytest.mark.parametrize("sort", SORTS)
def test_after_cursor_walks_like_pages(admin, big, sort):
    params = {"ca": big["ca"]["id"], "status": "expiring", "sort": sort, "per_page": 97}
    by_page = []
    page = 1
    while True:
        data, meta = _get(admin, page=page, **params)
        by_page += [(d["id"], d["not_after"], d["common_name"]) for d in data]
        if len(data) < 97:
            break
        page += 1
    want = _expect(big, lambda k: not _revoked(k) and 0 <= _days(k) <= 29)
    assert sorted(i for i, _, _ in by_page) == want and len(by_page) == len(want)
    assert 97 * 2 < len(want) < CAP
    by_cursor = []
    after = None
    while True:
        extra = {"after": after} if after else {}
        data, meta = _get(admin, **params, **extra)
        by_cursor += [(d["id"], d["not_after"], d["common_name"]) for d in data]
        assert meta["total"] == len(want) and meta["total_exact"] is True
        if len(data) == 97:
            assert meta["next_after"] == data[-1]["id"], meta
        else:
            assert meta["next_after"] is None, meta
        after = meta["next_after"]
        if after is None:
            break
    assert by_cursor == by_page, sort
    # the order is the one asked for (id breaks ties)
    key = {"created_at": lambda r: r[0], "not_after": lambda r: (r[1], r[0]),
           "common_name": lambda r: (r[2], r[0])}[sort.lstrip("-")]
    assert by_page == sorted(by_page, key=key, reverse=sort.startswith("-"))


def test_after_cursor_on_the_capped_list(admin, big):
    ca = big["ca"]["id"]
    data, meta = _get(admin, ca=ca, per_page=200)
    seen = [d["id"] for d in data]
    for _ in range(3):
        data, meta = _get(admin, ca=ca, per_page=200, after=meta["next_after"])
        seen += [d["id"] for d in data]
    assert seen == sorted(big["ids"].values(), reverse=True)[:800]
    assert meta["total"] == CAP and meta["total_exact"] is False


def test_after_cursor_refusals(admin, big):
    first = big["ids"][1]
    for params in ({"after": "x"}, {"after": "0"}, {"after": "-3"},
                   {"after": str(first), "page": "2"},
                   {"after": "987654321", "sort": "not_after"},
                   {"after": "987654321", "sort": "-common_name"}):
        doc = expect.problem(admin.get(CERTS, params=params), 400)
        assert doc.get("field") == "after", (params, doc)


def test_q_finds_a_row_of_page_3_from_page_1(admin, big):
    ca = big["ca"]["id"]
    data, meta = _get(admin, ca=ca, page=3, per_page=50)
    target = data[17]
    page1, _ = _get(admin, ca=ca, per_page=50)
    assert target["id"] not in [d["id"] for d in page1]
    k = next(k for k, i in big["ids"].items() if i == target["id"])
    for q in (target["common_name"], f"big{big['tag']}-{k}.example",
              big["serials"][k], target["fingerprint_sha256"][:20]
              if "fingerprint_sha256" in target else big["serials"][k][:12]):
        data, meta = _get(admin, q=q)
        assert target["id"] in [d["id"] for d in data], (q, meta)
        assert meta["page"] == 1 and meta["total_exact"] is True
    # a name suffix matches every row of the CA: capped, and in sort order
    data, meta = _get(admin, q=f"{big['tag']}-1.example.com", ca=ca)
    assert big["ids"][1] in [d["id"] for d in data] and meta["total"] == 1, meta
    data, meta = _get(admin, q=f"big{big['tag']}", ca=ca, sort="common_name")
    assert meta["total"] == CAP and meta["total_exact"] is False, meta
    names = [d["common_name"] for d in data]
    assert names == sorted(names) and len(names) == 50


def test_q_counts_no_pending_row(admin, big, cw):
    """?q= alone is counted from the matching ids (names, serials,
    fingerprints) without reading the rows: a pending row (a reserved
    serial, not signed yet) that matches the serial prefix is neither
    listed nor counted."""
    ca, tag = big["ca"]["id"], big["tag"]
    prefix = f"{tag}000000"      # serials of rows 1..255 (8 hex digits)
    want = [big["ids"][k] for k in range(1, 256)]
    pending = [f"{prefix}x{i}" for i in range(3)]
    cw.sql("INSERT INTO certificates (ca_id, serial, status, template, key_type, "
           "created_by) VALUES " + ", ".join(
               f"({ca}, '{s}', 'pending', 'server', 'ec-p256', 'test')" for s in pending))
    try:
        for extra in ({}, {"sort": "common_name"}, {"sort": "-not_after"}):
            got = []
            for page in (1, 2, 3):
                data, meta = _get(admin, q=prefix.upper(), per_page=100, page=page, **extra)
                assert meta["total"] == 255 and meta["total_exact"] is True, (extra, meta)
                got += [d["id"] for d in data]
            assert sorted(got) == want, extra
        data, meta = _get(admin, q=prefix, per_page=10)
        assert [d["id"] for d in data] == want[::-1][:10]
        assert meta["total"] == 255 and meta["total_exact"] is True, meta
        # only the pending rows match: nothing
        data, meta = _get(admin, q=f"{prefix}x")
        assert data == [] and meta["total"] == 0, meta
        # with a filter the rows are joined: the same total
        data, meta = _get(admin, q=prefix, per_page=10, ca=ca)
        assert meta["total"] == 255 and meta["total_exact"] is True, meta
    finally:
        cw.sql(f"DELETE FROM certificates WHERE ca_id = {ca} AND status = 'pending'")


def test_list_rows_carry_the_subject(admin):
    """A list row's subject is read from the stored certificate without
    parsing all of it: it equals what GET of the certificate shows, for a
    subject of several attributes and for a subject-less (SAN only) one."""
    ca = pk.create_ca(admin)
    tag = secrets.token_hex(4)
    subj = {"CN": f"subj-{tag}.example.com", "O": "Ex Ltd", "OU": "Ops", "C": "DE",
            "L": "Köln"}
    full = pk.issue(admin, ca["id"], subject=subj, cn=None,
                    sans=[{"type": "dns", "value": f"subj-{tag}.example.com"}])
    bare = pk.issue(admin, ca["id"], cn=None, template="server",
                    sans=[{"type": "dns", "value": f"bare-{tag}.example.com"}])
    data, meta = _get(admin, ca=ca["id"], per_page=10)
    rows = {d["id"]: d for d in data}
    assert set(rows) == {full["id"], bare["id"]}, data
    for want in (full, bare):
        got = idn.data(admin.get(f"{CERTS}/{want['id']}"))
        assert rows[want["id"]]["subject"] == got["subject"], (rows[want["id"]], got)
    assert rows[full["id"]]["subject"]["L"] == "Köln"
    assert rows[full["id"]]["subject"]["OU"] == "Ops"

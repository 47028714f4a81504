"""Identity: the audit log. Security-relevant actions leave rows that the
filters find; paging counts the whole table and lists by id (time); time
filters; the hash chains (one per audit_head row) verify and detect edits
and deletions (private stacks); retention by cron re-anchors every chain;
CSV and JSON export.
"""

import csv
import datetime
import io
import json
import time

import pytest

import expect
import identity as idn
from identity import API

AUDIT = API + "/audit"
VERIFY = API + "/audit/verify"
RETENTION = API + "/system/audit/retention"


@pytest.fixture(scope="module")
def admin(session_stack):
    return idn.session_admin(session_stack)


def _one(rows, **want):
    """The rows whose fields (or detail members, as detail__name) match."""
    out = []
    for x in rows:
        ok = True
        for k, v in want.items():
            got = x["detail"].get(k[8:]) if k.startswith("detail__") else x.get(k)
            ok = ok and got == v
        if ok:
            out.append(x)
    assert out, f"no audit row with {want} in {rows}"
    return out


def _utc(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------
# rows for actions


def test_actions_leave_audit_rows(admin, base_url):
    u = idn.login_new(admin, role="viewer", prefix="aud")
    name = u.username
    uid = u.user["id"]
    idn.Client(base_url).login(name, u.password + "x", check=False)
    r = admin.post(API + "/users", json={"username": idn.unique("audnew"), "role": "viewer",
                                         "password": idn.strong_password()})
    created = idn.data(r, 201)
    create_request_id = r.headers["X-Request-Id"]
    idn.data(admin.patch(f"{API}/users/{created['id']}", json={"email": "audit@example.com"}))
    assert admin.delete(f"{API}/users/{created['id']}").status_code == 204
    role = idn.data(admin.post(API + "/roles", json={"name": idn.unique("audrole"),
                                                     "permissions": ["read:users"]}), 201)
    idn.data(admin.put(f"{API}/roles/{role['id']}", json={"description": "changed"}))
    assert admin.delete(f"{API}/roles/{role['id']}").status_code == 204
    key = idn.data(u.post(API + "/account/api-keys", json={"name": "audited"}), 201)
    idn.data(admin.put(API + "/settings/security", json={}))
    idn.data(admin.put(RETENTION, json={"days": 365}))
    expect.problem(u.get(API + "/users"), 403, "forbidden")
    assert u.post(API + "/auth/logout").status_code == 204

    rows = idn.audit_rows(admin, action="auth.login", user=name)
    ok = _one(rows, outcome="success", resource_id=str(uid))[0]
    assert ok["user_id"] == uid and ok["client_addr"] == "127.0.0.1", ok
    assert ok["at"].endswith("Z") and len(ok["hash"]) == 64, ok
    rows = idn.audit_rows(admin, action="auth.login", outcome="failure")
    bad = _one(rows, resource_id=name, detail__username=name, detail__reason="wrong password")
    assert bad[0]["client_addr"] == "127.0.0.1", bad

    rows = idn.audit_rows(admin, action="user", user=admin.username)
    c = _one(rows, action="user.create", resource_id=str(created["id"]))[0]
    assert c["detail"]["username"] == created["username"], c
    assert c["request_id"] == create_request_id, c
    _one(rows, action="user.update", resource_id=str(created["id"]),
         detail__email="audit@example.com")
    _one(rows, action="user.delete", resource_id=str(created["id"]))
    rows = idn.audit_rows(admin, action="role", user=admin.username)
    for act in ("role.create", "role.update", "role.delete"):
        _one(rows, action=act, resource_id=str(role["id"]))
    rows = idn.audit_rows(admin, action="settings.update", user=admin.username)
    _one(rows, resource_id="security")
    _one(rows, resource_id="audit_retention", detail__days=365)
    rows = idn.audit_rows(admin, action="api_key.create", user=name)
    _one(rows, resource_id=str(key["id"]), detail__prefix=key["prefix"])
    rows = idn.audit_rows(admin, action="access.denied", user=name)
    _one(rows, resource_id=API + "/users", outcome="denied", detail__permission="read:users")
    _one(idn.audit_rows(admin, action="auth.logout", user=name), outcome="success")


def test_failed_logins_are_found_by_the_name_tried(admin, base_url):
    """GET /api/v2/audit?action=auth.login&user=NAME lists the failed
    attempts on that account too, not only its successful logins."""
    u = idn.login_new(admin, role="viewer", prefix="audfail")
    idn.Client(base_url).login(u.username, u.password + "x", check=False)
    rows = idn.audit_rows(admin, action="auth.login", user=u.username)
    _one(rows, outcome="success")
    _one(rows, outcome="failure", detail__reason="wrong password")


def test_audit_filters(admin):
    rows = idn.audit_rows(admin, action="auth")
    assert rows and all(x["action"].startswith("auth.") for x in rows)
    rows = idn.audit_rows(admin, resource="role")
    assert rows and all(x["resource_type"] == "role" for x in rows)
    rows = idn.audit_rows(admin, outcome="denied")
    assert rows and all(x["outcome"] == "denied" for x in rows)
    assert idn.audit_rows(admin, user=idn.unique("nobody")) == []
    # "auth" matches auth.* but not a prefix of a word.
    assert idn.audit_rows(admin, action="aut") == []


def test_audit_paging_counts_the_whole_table(admin, cw):
    r1 = admin.get(AUDIT, params={"per_page": 5, "page": 1})
    r2 = admin.get(AUDIT, params={"per_page": 5, "page": 2})
    total = int(cw.scalar("SELECT COUNT(*) FROM audit_log"))
    assert total > 10
    m1, m2 = r1.json()["meta"], r2.json()["meta"]
    assert m1 == {"total": total, "page": 1, "per_page": 5}, m1
    assert m2 == {"total": total, "page": 2, "per_page": 5}, m2
    p1, p2 = idn.data(r1), idn.data(r2)
    assert len(p1) == len(p2) == 5
    s1, s2 = [x["id"] for x in p1], [x["id"] for x in p2]
    assert s1 == sorted(s1, reverse=True) and s2 == sorted(s2, reverse=True)
    assert min(s1) > max(s2), (s1, s2)
    assert all(1 <= x["chain"] <= 16 and x["seq"] >= 1 for x in p1 + p2), p1 + p2
    last = admin.get(AUDIT, params={"per_page": 200, "page": total // 200 + 2})
    assert idn.data(last) == [] and last.json()["meta"]["total"] == total
    d = admin.get(AUDIT, params={"per_page": 3, "action": "auth.login"})
    assert d.json()["meta"]["total"] == int(cw.scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login'"))


def test_audit_time_filters(admin):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = now - datetime.timedelta(seconds=1)
    names = []
    for _ in range(3):
        names.append(idn.new_user(admin, role="viewer", prefix="audtime")[0])
    end = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) \
        + datetime.timedelta(seconds=2)
    ids = {str(i) for i in names}

    def created(**params):
        rows = idn.audit_rows(admin, action="user.create", **params)
        return {x["resource_id"] for x in rows} & ids

    assert created(**{"from": _utc(start), "to": _utc(end)}) == ids
    assert created(**{"from": _utc(start)}) == ids
    assert created(to=_utc(start)) == set()
    assert created(**{"from": _utc(end)}) == set()
    assert created(**{"from": start.strftime("%Y-%m-%d")}) == ids
    inside = idn.audit_rows(admin, **{"from": _utc(start), "to": _utc(end)})
    for x in inside:
        at = datetime.datetime.strptime(x["at"][:19], "%Y-%m-%dT%H:%M:%S")
        assert _utc(start)[:19] <= at.strftime("%Y-%m-%dT%H:%M:%S") < _utc(end)[:19], x


# --------------------------------------------------------------------------
# export


def test_audit_export_json_and_csv(admin, cw, base_url):
    # A name a spreadsheet would run as a formula ends up in the log.
    idn.Client(base_url).login("=HYPERLINK(\"http://x\")", "Whatever-1!x", check=False)
    ids_before = {int(v[0]) for v in cw.sql("SELECT id FROM audit_log")}

    r = admin.get(AUDIT + "/export", params={"format": "json"})
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    assert "attachment" in r.headers.get("Content-Disposition", ""), r.headers
    rows = idn.data(r)
    exported = {x["id"] for x in rows}
    assert exported == ids_before, exported ^ ids_before
    assert r.json()["meta"]["total"] == len(rows)
    assert [x["id"] for x in rows] == sorted(x["id"] for x in rows)
    sample = rows[-1]
    db = cw.sql(f"SELECT action, username, hash FROM audit_log WHERE id = {sample['id']}")[0]
    assert (sample["action"], sample["username"], sample["hash"]) == db

    r = admin.get(AUDIT + "/export", params={"format": "csv"})
    assert r.headers["Content-Type"].startswith("text/csv"), r.headers
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8"), newline="")))
    header, body = table[0], table[1:]
    assert header == ["id", "seq", "at", "user_id", "username", "action", "resource_type",
                      "resource_id", "outcome", "client_addr", "request_id", "detail", "hash",
                      "chain"]
    assert all(len(line) == 14 for line in body), [line for line in body if len(line) != 14]
    by_id = {int(line[0]): dict(zip(header, line)) for line in body}
    assert ids_before <= set(by_id), ids_before - set(by_id)
    for x in rows[-20:]:
        line = by_id[x["id"]]
        assert line["action"] == x["action"] and line["hash"] == x["hash"], (line, x)
        assert int(line["chain"]) == x["chain"] and int(line["seq"]) == x["seq"], (line, x)
        assert json.loads(line["detail"]) == x["detail"], (line, x)
    evil = [v for v in by_id.values() if "HYPERLINK" in v["resource_id"]]
    assert evil and all(v["resource_id"].startswith("'=") for v in evil), evil
    _one(idn.audit_rows(admin, action="audit.export", user=admin.username), resource_id="csv")

    expect.problem(admin.get(AUDIT + "/export", params={"format": "xml"}), 400, "bad_request")


# --------------------------------------------------------------------------
# verification (private stacks: these tests edit the table)


def _verify(client):
    return idn.data(client.get(VERIFY))


def _activity(st, admin, n=4):
    for i in range(n):
        uid, name, pw = idn.new_user(admin, role="viewer", prefix="chain")
        idn.Client(st.url).login(name, pw)
        idn.Client(st.url).login(name, pw + "x", check=False)


def test_verify_on_the_session_stack(admin, cw):
    v = _verify(admin)
    assert v["valid"] is True and v["first_bad_id"] is None, v
    assert v["checked"] == int(cw.scalar("SELECT COUNT(*) FROM audit_log")), v


def _chains(cw):
    """{chain: [(id, seq), ...] in id order} of the whole table."""
    out = {}
    for i, c, q in cw.sql("SELECT id, chain, seq FROM audit_log ORDER BY id"):
        out.setdefault(int(c), []).append((int(i), int(q)))
    return out


def test_concurrent_appends_keep_every_chain_whole(make_stack):
    """Appends from every worker thread at once: each chain goes on without a
    fork or a gap, in id order, and its head records its last row."""
    st, admin = idn.private_stack(make_stack, workers=2, threads=4)
    clients = [idn.login_new(admin, role="admin", prefix="chainpar") for _ in range(4)]
    before = int(st.cw.scalar("SELECT COUNT(*) FROM audit_log"))

    def work(i):
        c = clients[i % 4]
        return [c.post(API + "/roles", json={"name": idn.unique("par"), "permissions": []})
                .status_code for _ in range(3)]

    results = idn.parallel(work, 8)
    assert all(x == [201, 201, 201] for x in results), results
    chains = _chains(st.cw)
    total = sum(len(v) for v in chains.values())
    assert total == before + 24, (before, chains)
    # More than one chain takes appends: they do not all queue on one head.
    assert len(chains) >= 2, chains
    heads = {int(i): (int(q), h) for i, q, h in
             st.cw.sql("SELECT id, last_seq, last_hash FROM audit_head")}
    assert sorted(heads) == list(range(1, 17)), heads
    for c, rows in chains.items():
        assert [q for _, q in rows] == list(range(1, len(rows) + 1)), (c, rows)
        last = st.cw.scalar(f"SELECT hash FROM audit_log WHERE id = {rows[-1][0]}")
        assert heads[c] == (len(rows), last), (c, heads[c])
    for c in set(heads) - set(chains):
        assert heads[c][0] == 0, (c, heads[c])
    v = _verify(admin)
    assert v["valid"] is True and v["checked"] == total, v


def test_rows_of_every_chain_are_listed_by_time(make_stack):
    """GET /audit is one list over all chains, newest first by id."""
    st, admin = idn.private_stack(make_stack, workers=2, threads=4)
    _activity(st, admin, n=3)
    chains = _chains(st.cw)
    ids = sorted((i for rows in chains.values() for i, _ in rows), reverse=True)
    got = [x["id"] for x in idn.data(admin.get(AUDIT, params={"per_page": 200}))]
    assert got == ids[:len(got)] and len(got) == min(200, len(ids)), (got, ids)
    ats = [x["at"] for x in idn.data(admin.get(AUDIT, params={"per_page": 200}))]
    assert ats == sorted(ats, reverse=True), ats


def test_edited_row_is_detected(make_stack):
    st, admin = idn.private_stack(make_stack)
    _activity(st, admin)
    total = int(st.cw.scalar("SELECT COUNT(*) FROM audit_log"))
    v = _verify(admin)
    assert v["valid"] is True and v["checked"] == total and v["first_bad_id"] is None, v

    rows = st.cw.sql("SELECT id, detail FROM audit_log WHERE detail <> '{}' ORDER BY id")
    x, detail = rows[len(rows) // 2]
    st.cw.sql(f"UPDATE audit_log SET detail = '{{}}' WHERE id = {x}")
    v = _verify(admin)
    assert v["valid"] is False and v["first_bad_id"] == int(x), v
    assert v["checked"] < total, v
    st.cw.sql(f"UPDATE audit_log SET detail = '{detail}' WHERE id = {x}")
    assert _verify(admin)["valid"] is True

    y = rows[1][0]
    st.cw.sql(f"UPDATE audit_log SET username = 'someone-else' WHERE id = {y}")
    v = _verify(admin)
    assert v["valid"] is False and v["first_bad_id"] == int(y), v


def test_row_moved_to_another_chain_is_detected(make_stack):
    """The chain number is part of the hash: a row copied into another
    chain, with the links of that chain, does not verify."""
    st, admin = idn.private_stack(make_stack)
    _activity(st, admin)
    chains = _chains(st.cw)
    c, rows = max(chains.items(), key=lambda kv: len(kv[1]))
    other = next(k for k in range(1, 17) if k not in chains)
    last_id = rows[-1][0]
    # Move the newest row of chain c to an empty chain as its first row,
    # and make both heads agree: only the hash can tell.
    st.cw.sql(f"UPDATE audit_log SET chain = {other}, seq = 1, "
              f"prev_hash = REPEAT('0', 64) WHERE id = {last_id}")
    st.cw.sql(f"UPDATE audit_head SET last_seq = 1, last_hash = "
              f"(SELECT hash FROM audit_log WHERE id = {last_id}) WHERE id = {other}")
    prev = st.cw.scalar(f"SELECT hash FROM audit_log WHERE id = {rows[-2][0]}")
    st.cw.sql(f"UPDATE audit_head SET last_seq = last_seq - 1, last_hash = '{prev}' "
              f"WHERE id = {c}")
    v = _verify(admin)
    assert v["valid"] is False and v["first_bad_id"] == last_id, v


def test_deleted_middle_row_is_detected(make_stack):
    # One worker thread: its appends keep to one chain, which grows long.
    st, admin = idn.private_stack(make_stack, workers=1, threads=1)
    _activity(st, admin)
    chains = _chains(st.cw)
    c, rows = max(chains.items(), key=lambda kv: len(kv[1]))
    assert len(rows) >= 3, chains
    ids = [i for i, _ in rows]
    gone = ids[len(ids) // 2]
    st.cw.sql(f"DELETE FROM audit_log WHERE id = {gone}")
    v = _verify(admin)
    assert v["valid"] is False, v
    assert v["first_bad_id"] == ids[ids.index(gone) + 1], v


def test_deleted_newest_rows_are_detected(make_stack):
    """Cutting the tail of the log (the last actions of an intruder) must
    not verify: each audit_head row records its chain's last seq and hash."""
    st, admin = idn.private_stack(make_stack)
    _activity(st, admin)
    st.cw.sql("DELETE FROM audit_log ORDER BY id DESC LIMIT 2")
    v = _verify(admin)
    assert v["valid"] is False, v


def test_cut_tail_of_any_chain_is_detected(make_stack):
    """The newest row of each chain in turn, deleted alone, is found."""
    st, admin = idn.private_stack(make_stack, workers=2, threads=4)
    _activity(st, admin)
    chains = _chains(st.cw)
    assert len(chains) >= 2, chains
    for c, rows in chains.items():
        i = rows[-1][0]
        st.cw.sql(f"CREATE TABLE audit_cut AS SELECT * FROM audit_log WHERE id = {i}; "
                  f"DELETE FROM audit_log WHERE id = {i}")
        v = _verify(admin)
        assert v["valid"] is False and v["first_bad_id"] is None, (c, v)
        st.cw.sql("INSERT INTO audit_log SELECT * FROM audit_cut; DROP TABLE audit_cut")
        assert _verify(admin)["valid"] is True, c


# --------------------------------------------------------------------------
# retention


def test_retention_setting_and_cron_purge(make_stack):
    st, admin = idn.private_stack(make_stack)
    assert idn.data(admin.get(RETENTION)) == {"days": 365}
    t = time.monotonic()
    assert idn.data(admin.put(RETENTION, json={"days": 30})) == {"days": 30}
    for bad in (0, 36501, "30", None):
        doc = expect.problem(admin.put(RETENTION, json={"days": bad}), 400, "bad_request")
        assert doc.get("field") == "days", doc
    # Every worker thread sees the new value once its settings cache expires.
    idn.wait_settings(t)
    for _ in range(8):
        assert idn.data(admin.get(RETENTION)) == {"days": 30}

    _activity(st, admin, n=3)
    cw = st.cw
    chains = _chains(cw)
    ordered = sorted(i for rows in chains.values() for i, _ in rows)
    total = len(ordered)
    old = 6
    assert total > old + 4
    edge = ordered[old - 1]
    # The oldest rows by id are a prefix of each chain they belong to.
    purged = {c for c, rows in chains.items() if rows[0][0] <= edge}
    cw.sql(f"UPDATE audit_log SET at = NOW(6) - INTERVAL 400 DAY WHERE id <= {edge}")
    res = cw.command("cron", "audit-retention", "--force")
    assert res.returncode == 0, res
    assert cw.scalar(f"SELECT COUNT(*) FROM audit_log WHERE id <= {edge}") == "0"
    after = int(cw.scalar("SELECT COUNT(*) FROM audit_log"))
    assert after == total - old + 1, (total, after)        # + the retention row
    for c in purged:
        kept = [q for i, q in chains[c] if i > edge]
        anchor = max(q for i, q in chains[c] if i <= edge)
        assert cw.scalar(f"SELECT anchor_seq FROM audit_head WHERE id = {c}") == str(anchor)
        if kept:
            assert cw.scalar(f"SELECT MIN(seq) FROM audit_log WHERE chain = {c}") == \
                str(anchor + 1), c
    v = _verify(admin)
    assert v["valid"] is True and v["checked"] == after and v["first_bad_id"] is None, v
    _one(idn.audit_rows(admin, action="audit.retention"), detail__deleted=old,
         detail__chains=len(purged), username="cron")

    # Each chain goes on from its new anchor, and edits are still found.
    _activity(st, admin, n=1)
    assert _verify(admin)["valid"] is True
    # The first kept row of a re-anchored chain.
    x = min(rows[0][0] for c, rows in _chains(cw).items() if c in purged)
    cw.sql(f"UPDATE audit_log SET outcome = 'success2' WHERE id = {x}")
    v = _verify(admin)
    assert v["valid"] is False and v["first_bad_id"] == int(x), v

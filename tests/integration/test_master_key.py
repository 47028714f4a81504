"""The master key: the database remembers which key wrapped its keys, and
`certward serve` refuses to start with another one, with a clear line,
instead of failing every signature later."""

import secrets

import stack


def test_wrong_master_key_refused_at_start(make_stack):
    st = make_stack()
    assert st.cw.scalar("SELECT value FROM settings WHERE name = 'master_key_id'")
    st.cw.stop()
    settings = st.cw.settings_copy()
    other = stack.write_secret(st.cw.dir / "other.key", secrets.token_hex(32) + "\n")
    settings["security"]["master_key_file"] = other
    conf = st.cw.write_config(st.cw.dir / "other.conf", settings)
    res = st.cw.command("serve", config=conf, timeout=30)
    assert res.returncode == 1, (res.returncode, res.stderr)
    lines = [l for l in res.stderr.splitlines() if l.startswith("certward:")]
    assert len(lines) == 1 and "master_key_file" in lines[0] and "key id" in lines[0], \
        res.stderr
    # the right key still starts
    st.cw.start()
    assert st.cw.running()

"""Commanders end to end: two `wallclient run` nodes of one wall against the reference
backend. A commander's switch on node A shows on node B within 200 ms of A; the same
from a viewer's node is refused and shown; both leave audit rows."""

import json

import pytest

from tests.helpers import DemoServer, WallProcess, run_cli, timeout, wait_for


@pytest.fixture
def two_nodes(tmp_path):
    server = DemoServer(tmp_path).start()
    a = WallProcess(
        tmp_path, server.url, "tok-commander", "--layout", "layouts/desk-dual.json", node="node-a"
    )
    b = WallProcess(
        tmp_path, server.url, "tok-viewer", "--layout", "layouts/desk-dual.json", node="node-b"
    )
    try:
        a.start(wait=False)
        b.start(wait=False)
        for n in (a, b):
            wait_for(lambda n=n: n.control.reachable(), timeout(30), "control API")
            wait_for(lambda n=n: n.conn()["state"] == "live", timeout(30), "live")
        # a running wall, as a commander finds it: each node has started its tiles (the
        # first preset's players are created at start-up, a few hundred ms of GUI work)
        for n in (a, b):
            wait_for(lambda n=n: all(t["state"] != "connecting" for t in n.status()["tiles"]),
                     timeout(30), "tiles started")  # fmt: skip
        yield server, a, b
    finally:
        a.stop()
        b.stop()
        server.stop()


def _preset_on(node):
    return node.status()["wall"]["preset"]


def test_a_commanders_switch_reaches_both_nodes_together_and_a_viewers_is_refused(two_nodes):
    server, a, b = two_nodes
    presets = [p["id"] for p in server.admin("state")["presets"] if not p["emergency"]]
    target = next(p for p in presets if p != _preset_on(a))
    assert a.control.ok("preset.activate", preset=target) == {"accepted": True, "local": False}
    wait_for(lambda: _preset_on(a) == target and _preset_on(b) == target, timeout(5), "both nodes")
    ta = a.status()["switch"]["wall_applied_at"]
    tb = b.status()["switch"]["wall_applied_at"]
    assert abs(ta - tb) <= 0.2, (ta, tb)
    assert a.status()["switch"]["pending"] is None
    # emergency in one action, on both nodes; back to normal and the preset before
    emergency = next(p["id"] for p in server.admin("state")["presets"] if p["emergency"])
    a.control.ok("emergency", preset=emergency)
    wait_for(lambda: all(n.status()["wall"]["mode"] == "emergency" and _preset_on(n) == emergency
                         for n in (a, b)), timeout(5), "emergency on both")  # fmt: skip
    assert {s["mode"] for n in (a, b) for s in n.status()["screens"]} == {"emergency"}
    a.control.ok("normal")
    wait_for(lambda: all(n.status()["wall"]["mode"] == "normal" and _preset_on(n) == target
                         for n in (a, b)), timeout(5), "back to normal and the preset before")  # fmt: skip
    # the viewer's node: refused, and it says so
    reply = b.control("preset.activate", preset=presets[0])
    assert not reply["ok"] and reply["error"]["code"] == "forbidden"
    refusal = b.status()["switch"]["refusal"]
    assert refusal["code"] == "forbidden" and refusal["what"] == {"preset": presets[0]}
    assert _preset_on(a) == target  # nothing changed

    # the audit: who, what, how it ended, in each node's cache
    def rows(node):
        out = run_cli("audit", "show", "--cache", str(node.cache), "--json", check=True)
        return json.loads(out.stdout)

    wait_for(lambda: len(rows(a)) >= 5, timeout(5), "node A's audit rows")
    got = [(r["user"], r["action"], r["outcome"]) for r in rows(a)]
    assert got[0] == ("指挥长", "preset.activate", "ok")
    assert ("指挥长", "mode.set", "ok") in got
    assert all(json.loads(r["args"])["via"] == "control" for r in rows(a))
    wait_for(lambda: rows(b), timeout(5), "node B's audit row")
    assert [(r["role"], r["action"], r["outcome"]) for r in rows(b)] == [
        ("viewer", "switch", "forbidden")
    ]
    since = run_cli("audit", "show", "--cache", str(a.cache), "--since", "1h", check=True)
    assert "preset.activate" in since.stdout and "指挥长" in since.stdout
    later = run_cli("audit", "show", "--cache", str(a.cache), "--since", "2099-01-01", check=True)
    assert "no audit rows" in later.stdout
    bad = run_cli("audit", "show", "--cache", str(a.cache), "--since", "yesterday-ish")
    assert bad.returncode == 2 and "--since" in bad.stderr

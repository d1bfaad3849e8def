"""The data spine end to end: real `wallclient serve-demo` and `wallclient run` processes,
real WebSockets on 127.0.0.1, real SQLite files (issue: Data spine, "Must show")."""

import json
import random
import signal
import sqlite3

import pytest

from tests.helpers import DemoServer, WallProcess, cache_view, run_cli, wait_for
from wallclient import protocol
from wallclient.state import WallState

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path):
    # no indicator batches: one arriving between the last two reads would fail the comparison
    s = DemoServer(tmp_path, "--rate", "5", "--no-media", "--replay-window", "500",
                   "--indicator-period", "3600").start()
    yield s
    s.stop()


@pytest.fixture
def walls(tmp_path):
    started: list[WallProcess] = []

    def make(url, *extra, **kw):
        w = WallProcess(tmp_path, url, *extra, **kw)
        started.append(w)
        return w

    yield make
    for w in started:
        w.stop(kill=True)


def live_at_head(wall, server):
    head = server.admin("head")["seq"]
    conn = wall.conn()
    return conn["state"] == "live" and conn["last_seq"] is not None and conn["last_seq"] >= head


def comparable(view):
    return {k: view[k] for k in ("incidents", "cameras", "presets", "indicators")}


def test_the_spine_end_to_end(server, walls, tmp_path):
    wall = walls(server.url).start()
    # first contact → snapshot, then live
    wait_for(lambda: wall.conn()["state"] == "live", 20, "live")
    first = wall.conn()
    assert first["snapshots"] == 1 and wall.status()["role"] == "commander"

    # restart → resume from the cache, no snapshot
    wall.stop()
    cached = cache_view(wall.cache)
    assert cached["last_seq"] is not None and len(cached["cameras"]) == 360
    server.admin("events", n=20)
    wall.start()
    wait_for(lambda: live_at_head(wall, server), 20, "resumed to head")
    assert wall.conn()["snapshots"] == 0

    # an injected gap → hang up and resume (a reconnect, still no snapshot)
    server.admin("drop_next", n=1)
    server.admin("events", n=5)
    wait_for(lambda: wall.conn()["gaps"] == 1 and live_at_head(wall, server), 20, "gap healed")
    assert wall.conn()["snapshots"] == 0

    # duplicates are ignored
    server.admin("duplicate", n=4)
    wait_for(lambda: wall.conn()["duplicates"] >= 4, 10, "duplicates counted")

    # an invalid message is skipped and counted while the connection stays
    reconnects = wall.conn()["reconnects"]
    server.admin(
        "raw", text='{"v":1,"type":"incident.upsert","seq":{seq},"data":{"title":5}}', with_seq=True
    )
    server.admin("raw", text='{"v":9,"type":"ping","data":{}}')
    server.admin("events", n=3)
    wait_for(
        lambda: wall.conn()["invalid"] >= 2 and live_at_head(wall, server), 10, "invalid skipped"
    )
    assert wall.conn()["reconnects"] == reconnects

    # replay window exceeded while away → snapshot; a cut in that snapshot keeps the old state
    wall.stop()
    before = cache_view(wall.cache)
    server.admin("events", n=600)  # the window holds 500
    server.admin("cut_snapshot", after_parts=2)
    wall.start()
    wait_for(lambda: live_at_head(wall, server), 30, "snapshot after the cut")
    assert wall.conn()["snapshots"] == 1 and wall.conn()["reconnects"] >= 1
    assert before["last_seq"] < wall.conn()["last_seq"]

    # server killed → offline, cache kept; server back → catches up
    server.admin("save")
    server.stop(kill=True)
    wait_for(lambda: wall.conn()["state"] == "offline", 45, "offline")
    offline = wall.conn()
    assert offline["error"] and offline["since"]
    assert cache_view(wall.cache)["last_seq"] == offline["last_seq"]
    server.start()
    server.admin("events", n=10)
    wait_for(lambda: live_at_head(wall, server), 45, "caught up after the backend came back")

    # at the end the cache equals the server's own view
    server.admin("rate", rate=0)
    wait_for(lambda: live_at_head(wall, server), 20, "quiet and at head")
    wall.stop()
    mine, theirs = comparable(cache_view(wall.cache)), comparable(server.admin("state"))
    only_mine = [i for i in mine["incidents"] if i not in theirs["incidents"]]
    only_theirs = [i for i in theirs["incidents"] if i not in mine["incidents"]]
    assert mine == theirs, (only_mine[:3], only_theirs[:3])
    assert run_cli("cache", "check", "--cache", str(wall.cache)).returncode == 0


def expected_state_at(server, seq):
    """The backend's state at ``seq``: its state at 0 plus its log up to ``seq``."""
    initial = server.admin("initial")
    state = WallState("wall-1")
    state.load(initial["tables"], initial["walls"]["wall-1"], 0)
    log = server.admin("log", upto=seq)
    assert log and log[0][0] == 1, "the replay window must reach back to seq 1 for this check"
    for s, text in log:
        msg = protocol.parse(text)
        state.apply(msg.type, msg.data, s)
    return state.view()


def test_sigkill_during_heavy_ingest_never_splits_data_from_seq(tmp_path, walls):
    server = DemoServer(tmp_path, "--rate", "1500", "--no-media", "--replay-window", "2000000",
                        "--indicator-period", "0.5", state=False).start()  # fmt: skip
    try:
        rng = random.Random(4)
        wall = walls(server.url, headless=True)  # the spine alone: no screens to paint
        for round_ in range(5):
            wall.start()
            # kill at a random point of the ingest, measured in messages, not in time
            target = server.admin("head")["seq"] + rng.randrange(1, 3000)
            wait_for(lambda t=target: (wall.conn()["last_seq"] or 0) >= t, 30, "ingesting")
            wall.proc.send_signal(signal.SIGKILL)
            wall.proc.wait()
            wall.proc = None
            view = cache_view(wall.cache)
            assert run_cli("cache", "check", "--cache", str(wall.cache)).returncode == 0
            seq = view["last_seq"]
            if seq is None:  # killed before its first transaction: empty, and consistent
                assert view["cameras"] == [] and view["incidents"] == []
                continue
            expected = expected_state_at(server, seq)
            assert comparable(view) == comparable(expected), (
                f"round {round_}: cache differs from its seq {seq}"
            )
            server.admin("events", n=rng.randrange(100, 3000))
    finally:
        server.stop()


def test_bad_inputs_get_clear_errors(tmp_path, server, walls):
    # a bad token: the wall runs on, says so
    wall = walls(server.url, token="wrong", node="bad-token")
    wall.start()
    wait_for(lambda: "401" in (wall.conn()["error"] or ""), 20, "token refused")
    assert wall.conn()["state"] == "offline"
    log_text = wall.log.read_text()
    assert "token refused" in log_text and "wrong" not in log_text.replace("wrong token", "")

    # an unreachable server
    dead = walls("ws://127.0.0.1:9/wall/v1", node="unreachable").start()
    wait_for(lambda: dead.conn()["state"] == "offline" and dead.conn()["error"], 20, "unreachable")

    # a corrupt cache: set aside with a log line, the wall starts fresh and syncs
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"\x00garbage" * 5000)
    w = walls(server.url, node="corrupt", cache=corrupt).start()
    wait_for(lambda: w.conn()["state"] == "live", 20, "live after a corrupt cache")
    assert "moved to" in w.log.read_text()
    assert list(tmp_path.glob("corrupt.sqlite.corrupt-*"))

    # a foreign database: refused with exit code != 0, never touched
    foreign = tmp_path / "foreign.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE payroll (x)")
    conn.commit()
    conn.close()
    proc = run_cli("run", "--server", server.url, "--token-file", str(wall.token_file), "--cache", str(foreign),
                   "--offscreen", "--exit-after", "1")  # fmt: skip
    assert proc.returncode == 2 and "not a wallclient cache" in proc.stderr
    assert run_cli("cache", "show", "--cache", str(foreign)).returncode == 2

    # a bad config file and a missing token file
    bad = tmp_path / "bad.toml"
    bad.write_text("[wall]\nnode = 5\n", encoding="utf-8")
    proc = run_cli("run", "--config", str(bad))
    assert proc.returncode == 2 and "wall.node: must be a string" in proc.stderr
    proc = run_cli("run", "--token-file", str(tmp_path / "none"), "--offscreen")
    assert proc.returncode == 2 and "token file" in proc.stderr


def test_cache_show_json_has_the_promised_shape(server, walls):
    wall = walls(server.url).start()
    wait_for(lambda: wall.conn()["state"] == "live", 20)
    wall.stop()
    view = cache_view(wall.cache)
    assert isinstance(view["last_seq"], int) and isinstance(view["invalid"], int)
    assert {"id", "status", "priority", "title"} <= set(view["incidents"][0])
    assert {"id", "name", "status"} <= set(view["cameras"][0])
    assert {"id", "name", "emergency"} <= set(view["presets"][0])
    assert len(view["indicators"]) == 349 and view["wall"]["mode"] == "normal"
    json.dumps(view)

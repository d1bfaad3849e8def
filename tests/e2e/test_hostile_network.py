"""Hostile networks: a fault-injecting proxy between a running wall and the reference
backend — latency, a stall, a reset mid-frame, a half-open connection, a backend that
accepts and never answers. Through all of it the wall loses and duplicates nothing
(its cache ends equal to the backend's) and its GUI thread never stalls over 50 ms."""

import json
import os

import pytest

from tests.helpers import DemoServer, WallProcess, run_cli, timeout, wait_for
from wallclient.demo.proxy import FaultProxy

LAYOUT = {
    "name": "no-video",
    "screens": [{"name": "s", "x": 0, "y": 0, "width": 1920, "height": 1080}],
    "modes": {"normal": {"s": [
        {"id": "feed", "panel": "incidents", "rect": [0, 0, 8, 24]},
        {"id": "vitals", "panel": "indicators", "rect": [8, 0, 8, 24]},
        {"id": "map", "panel": "map", "rect": [16, 0, 8, 24]},
    ]}},
}  # fmt: skip


@pytest.fixture
def behind_proxy(tmp_path):
    server = DemoServer(tmp_path, "--no-media", "--rate", "30")
    # the backend takes what the wall leaves (on a wall PC it runs elsewhere): the budget
    # below is the wall's GUI thread's, not the two cores' share-out (bench/endurance.py
    # does the same)
    server.nice = 10
    server.start()
    proxy = FaultProxy("127.0.0.1", server.port).start()
    layout = tmp_path / "layout.json"
    layout.write_text(json.dumps(LAYOUT), encoding="utf-8")
    wall = WallProcess(
        tmp_path, f"ws://127.0.0.1:{proxy.port}/wall/v1", "tok-viewer", "--layout", str(layout)
    )
    # a half-open connection noticed in 2 × 3 s instead of 2 × 20 s (the keep-alive is the
    # same code at either period)
    wall.env = dict(os.environ, WALLCLIENT_KEEPALIVE_S="3")
    try:
        wall.start()
        wait_for(lambda: wall.conn()["state"] == "live", timeout(30), "live")
        yield server, proxy, wall
    finally:
        wall.stop()
        proxy.stop()
        server.stop()


def _caught_up(server, wall, what):
    head = server.admin("head")["seq"]
    wait_for(
        lambda: wall.conn()["state"] == "live" and wall.conn()["last_seq"] >= head,
        timeout(60),
        what,
    )


def test_faults_lose_nothing_duplicate_nothing_and_never_stall_the_gui(behind_proxy):
    server, proxy, wall = behind_proxy
    wall.control.ok("gui.reset")
    reconnects = wall.conn()["reconnects"]
    # latency: slower, but live
    proxy.set("latency", delay_s=0.3)
    _caught_up(server, wall, "caught up through 300 ms of latency")
    # a stall: the connection stays open and silent for 5 s, then flows again
    proxy.set("stall")
    wait_for(
        lambda: server.admin("head")["seq"] > wall.conn()["last_seq"] + 50, timeout(10), "behind"
    )
    proxy.set("pass")
    _caught_up(server, wall, "caught up after a stall")
    # a reset in the middle of a frame: reconnect and resume
    proxy.set("reset")
    wait_for(lambda: proxy.resets > 0, timeout(10), "a reset")
    proxy.set("pass")
    wait_for(lambda: wall.conn()["reconnects"] > reconnects, timeout(20), "reconnected")
    _caught_up(server, wall, "resumed after a reset")
    # half-open: no FIN, no RST, just silence; the keep-alive notices
    reconnects = wall.conn()["reconnects"]
    proxy.set("half_open")
    conn = wait_for(lambda: (c := wall.conn())["state"] != "live" and c, timeout(60),
                    "the dead connection noticed")  # fmt: skip
    assert "1011" in conn["error"]  # the keep-alive's verdict, said (the same reading)
    proxy.set("pass")
    _caught_up(server, wall, "back after a half-open connection")
    assert wall.conn()["reconnects"] > reconnects
    # a backend that accepts and never answers: the connection is cut, and every new one
    # goes into a black hole
    proxy.set("blackhole")
    proxy.cut()
    conn = wait_for(lambda: "timed out" in ((c := wall.conn())["error"] or "") and c,
                    timeout(40), "a silent backend, said")  # fmt: skip
    assert conn["state"] == "offline"  # the same reading: between attempts it says so
    proxy.set("pass")
    _caught_up(server, wall, "back after the blackhole")
    # the end: nothing lost, nothing twice
    server.admin("rate", rate=0)
    # the backend still flips a camera every 30 s: both sides are compared at one seq
    for _ in range(5):
        backend = server.admin("state")
        _caught_up(server, wall, "final")
        view = json.loads(
            run_cli("cache", "show", "--cache", str(wall.cache), "--json", check=True).stdout
        )
        if view["last_seq"] == backend["last_seq"]:
            break
    assert view["incidents"] == backend["incidents"]
    assert view["cameras"] == backend["cameras"] and view["presets"] == backend["presets"]
    assert len({i["id"] for i in view["incidents"]}) == len(view["incidents"])
    # The budget: the GUI thread never stalls over 50 ms, through every fault and resume
    # (19–22 ms measured since repaints and collections are paced: docs/benchmarks.md).
    gui = wall.status()["gui"]
    assert gui["longest_stall_ms"] <= 50, gui
    assert wall.proc.poll() is None

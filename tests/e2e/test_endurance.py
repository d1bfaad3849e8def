"""Months without a restart, in miniature (issue 30): the whole `wallclient run` against
the reference backend and its real cameras, switched, maximised and flipped between
modes of different tile sizes; then what it holds, through `status.resources` and
`wallclient doctor --control-port`. bench/endurance.py is the long version."""

import json
import time
from datetime import UTC, datetime

import pytest

from tests.helpers import DemoServer, WallProcess, live, run_cli, wait_for, write_layout


def _grid(rows, cols):
    return [{"id": "grid", "panel": "video", "rect": [0, 0, 24, 24],
             "options": {"rows": rows, "cols": cols}}]  # fmt: skip


LAYOUT = {
    "name": "churn",
    "screens": [{"name": "v", "x": 0, "y": 0, "width": 1920, "height": 1080}],
    # the two modes' tiles are of different sizes: each flip asks the pool for others
    "modes": {"normal": {"v": _grid(3, 3)}, "emergency": {"v": _grid(2, 2)}},
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _wall_state(server, mode, preset):
    server.admin("publish", type="wall.state", data={
        "wall": "wall-1", "mode": mode, "preset": preset,
        "changed_by": "指挥长", "changed_at": _now()})  # fmt: skip


@pytest.fixture
def churned(tmp_path):
    server = DemoServer(tmp_path).start()
    try:
        wall = WallProcess(tmp_path, server.url, "tok-commander",
                           "--layout", str(write_layout(tmp_path, LAYOUT)))  # fmt: skip
        with live(wall):
            yield server, wall
    finally:
        server.stop()


def test_a_churned_wall_keeps_no_player_it_no_longer_uses(churned):
    server, wall = churned
    cams = [c["id"] for c in server.admin("state")["cameras"]
            if c["status"] == "online" and not c.get("ptz")]  # fmt: skip
    for n in range(4):
        server.admin("publish", type="preset.upsert", data={
            "id": f"T{n}", "name": f"预案{n}", "scenario": "test", "emergency": False,
            "cameras": cams[n * 3 : n * 3 + 9], "dwell_s": 60})  # fmt: skip
    for cycle in range(6):
        preset = f"T{cycle % 4}"
        _wall_state(server, "normal", preset)
        wait_for(lambda p=preset: wall.status()["wall"]["preset"] == p, 20, "preset shown")
        wait_for(lambda: sum(t["state"] == "playing" for t in wall.status()["tiles"]) >= 5,
                 30, "tiles playing")  # fmt: skip
        wall.control.ok("tile.maximise", tile=cycle % 9)  # the main stream, another size
        wait_for(lambda c=cycle: wall.status()["tiles"][c % 9]["stream"] == "main", 20, "main stream")
        wall.control.ok("tile.maximise", tile=cycle % 9, restore=True)
        _wall_state(server, "emergency", preset)
        wait_for(lambda: len(wall.status()["tiles"]) == 4, 20, "emergency layout")
        wait_for(lambda: any(t["state"] == "playing" for t in wall.status()["tiles"]), 30, "playing")

    res = wall.status()["resources"]
    players = res["players"]
    # every player ever made is live, idle, ended by the pool or abandoned: none astray
    assert players["created"] == (
        players["live"] + players["idle"] + players["closed"] + players["abandoned"]
    )
    # libvlc players follow their tile's size (3 × 3, maximised, the 2 × 2 emergency
    # layout): never more of them than tiles shown at once; the rest are PyAV's, kept
    # within the pool's bound
    vlc = players["routes"].get("libvlc", {"live": 0, "idle": 0})
    assert 0 < vlc["live"] + vlc["idle"] <= 9, players
    assert players["live"] <= 9 and players["idle"] <= 16
    assert players["vlc_retained"] == 0  # python-vlc keeps none of them
    assert res["control"]["stuck"] == 0 and res["control"]["queue"] < 50
    # libvlc's own threads run behind the GUI thread ([video] decoder_nice, default 10)
    assert res["control"]["lowered_threads"] > 0
    assert res["native_windows"] == 0  # offscreen: frames through callbacks
    assert res["cache"]["wal_bytes"] <= 8 * 1024 * 1024
    assert res["process"]["fds"]["total"] > 0 and res["python"]["allocated_blocks"] > 0


def test_doctor_reads_a_running_walls_resources_with_what_is_normal(churned):
    _server, wall = churned
    wait_for(lambda: wall.status()["resources"]["players"]["live"] > 0, 30, "players")
    out = run_cli("doctor", "--control-port", str(wall.port),
                  "--control-token-file", str(wall.control_token), "--json")  # fmt: skip
    checks = {c["check"]: c for c in json.loads(out.stdout)}
    assert checks["running wall"]["ok"] and "RSS" in checks["running wall"]["detail"]
    assert "kept by python-vlc 0 (normal: 0)" in checks["players"]["detail"]
    assert not checks["players"]["warn"] and not checks["libvlc control thread"]["warn"]
    assert "libvlc threads behind the GUI" in checks["libvlc control thread"]["detail"]
    assert "write-ahead log" in checks["cache files"]["detail"]
    # a wrong token: said, not a crash
    bad = wall.tmp / "bad.token"
    bad.write_text("nope\n", encoding="utf-8")
    bad.chmod(0o600)
    t0 = time.monotonic()
    out = run_cli("doctor", "--control-port", str(wall.port), "--control-token-file", str(bad), "--json")
    checks = {c["check"]: c for c in json.loads(out.stdout)}
    assert not checks["running wall"]["ok"] and "401" in checks["running wall"]["detail"]
    assert out.returncode == 1 and time.monotonic() - t0 < 60

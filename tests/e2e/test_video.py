"""Video wall end to end: `wallclient run --offscreen` plays real H.264 from the demo's
real streaming servers (HTTP-TS and RTSP/TCP on 127.0.0.1), seen through `status`."""

import json
import time
from datetime import UTC, datetime

import pytest

from tests.helpers import DemoServer, WallProcess, timeout, wait_for

LAYOUT = {
    "name": "video-3x3",
    "screens": [{"name": "v", "x": 0, "y": 0, "width": 1920, "height": 1080}],
    "modes": {
        "normal": {
            "v": [
                {
                    "id": "grid",
                    "panel": "video",
                    "rect": [0, 0, 24, 24],
                    "options": {"rows": 3, "cols": 3},
                }
            ]
        }
    },
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def video_wall(tmp_path):
    server = DemoServer(tmp_path).start()
    layout = tmp_path / "layout.json"
    layout.write_text(json.dumps(LAYOUT), encoding="utf-8")
    wall = WallProcess(tmp_path, server.url, "tok-commander", "--layout", str(layout))
    try:
        wall.start()
        wait_for(lambda: wall.conn()["state"] == "live", timeout(30))
        yield server, wall
    finally:
        wall.stop()
        server.stop()


def _show(server, cams, preset="T-VIDEO", dwell_s=30):
    server.admin("publish", type="preset.upsert", data={
        "id": preset, "name": "测试预案", "scenario": "test", "emergency": False,
        "cameras": cams, "dwell_s": dwell_s})  # fmt: skip
    server.admin("publish", type="wall.state", data={
        "wall": "wall-1", "mode": "normal", "preset": preset,
        "changed_by": "指挥长", "changed_at": _now()})  # fmt: skip


def _online(server, n, skip=0):
    cams = [c["id"] for c in server.admin("state")["cameras"] if c["status"] == "online"]
    return cams[skip : skip + n]


def _tiles(wall):
    return wall.status()["tiles"]


def test_nine_tiles_play_drop_to_no_signal_when_the_streams_stop_and_recover(video_wall):
    server, wall = video_wall
    cams = _online(server, 9)
    _show(server, cams)
    wait_for(
        lambda: [t["camera"] for t in _tiles(wall)] == cams, timeout(10), "preset on the tiles"
    )

    def all_playing():
        tiles = _tiles(wall)
        return all(t["state"] == "playing" and t["fps"] >= 20 for t in tiles)

    wait_for(all_playing, timeout(40), "nine tiles playing at ≥ 20 fps")
    tiles = _tiles(wall)
    assert {t["route"] for t in tiles} <= {"libvlc", "pyav"}
    assert all(t["frame_age_ms"] < 1000 for t in tiles)
    assert "admin:" not in json.dumps(tiles)  # stream credentials never leave the player

    server.admin("media", mode="down")
    stopped = time.monotonic()
    wait_for(lambda: all(t["state"] == "no_signal" for t in _tiles(wall)), timeout(10), "no_signal")
    assert time.monotonic() - stopped < 5 + 1  # within 5 s (+ one status poll)
    wait_for(
        lambda: any(t["retry_in_s"] is not None for t in _tiles(wall)), timeout(5), "a countdown"
    )

    server.admin("media", mode="normal")
    wait_for(all_playing, timeout(60), "recovered by themselves")


@pytest.mark.parametrize("mode", ["hang", "garbage"])
def test_a_camera_server_that_hangs_or_sends_garbage_ends_in_error_or_no_signal(video_wall, mode):
    server, wall = video_wall
    server.admin("media", mode=mode)
    cams = _online(server, 4, skip=20)
    _show(server, cams, preset=f"T-{mode}")
    wait_for(
        lambda: [t["camera"] for t in _tiles(wall)][:4] == cams, timeout(10), "preset on the tiles"
    )
    wait_for(
        lambda: all(t["state"] in ("error", "no_signal") for t in _tiles(wall)[:4]),
        timeout(30),
        f"{mode}: error or no_signal",
    )
    assert all(t["error"] for t in _tiles(wall)[:4])  # with its reason
    assert wall.proc.poll() is None  # the wall runs on


def test_a_preset_switch_retargets_every_tile_and_tours_by_server_time(video_wall):
    server, wall = video_wall
    first = _online(server, 9)
    _show(server, first, preset="T-A")
    wait_for(lambda: [t["camera"] for t in _tiles(wall)] == first, timeout(10), "first preset")
    second = _online(server, 12, skip=9)  # 12 cameras on 9 tiles: two tour pages
    _show(server, second, preset="T-B", dwell_s=30)
    wait_for(lambda: [t["camera"] for t in _tiles(wall)] == second[:9], timeout(10), "retargeted")
    tiles = _tiles(wall)
    assert {t["pages"] for t in tiles} == {2} and {t["page"] for t in tiles} == {0}


def test_two_nodes_flip_tour_pages_together(tmp_path):
    """Two `run` nodes of one wall: the tour page flips on both at the same moment (server
    time, no extra messages), to the same cameras, and the new page plays."""
    server = DemoServer(tmp_path).start()
    small = {**LAYOUT, "modes": {"normal": {"v": [
        {"id": "grid", "panel": "video", "rect": [0, 0, 24, 24], "options": {"rows": 2, "cols": 2}}]}}}  # fmt: skip
    layout = tmp_path / "layout.json"
    layout.write_text(json.dumps(small), encoding="utf-8")
    nodes = [WallProcess(tmp_path, server.url, "tok-viewer", "--layout", str(layout), node=f"n{i}")
             for i in (1, 2)]  # fmt: skip
    try:
        for n in nodes:
            n.start()
        for n in nodes:
            wait_for(lambda n=n: n.conn()["state"] == "live", timeout(30))
        cams = _online(server, 8)  # 8 cameras on 4 tiles: two pages
        _show(server, cams, preset="T-TOUR", dwell_s=10)
        flips: dict[str, float] = {}
        paged: dict[str, list] = {}
        seen: list = []
        shown_at: dict[str, float] = {}
        deadline = time.monotonic() + timeout(30)
        while len(shown_at) < 2 and time.monotonic() < deadline:
            for n in nodes:
                tiles = _tiles(n)
                key = n.args[n.args.index("--node") + 1]
                seen.append((round(time.monotonic(), 2), key, tiles[0]["pages"], tiles[0]["page"]))
                if tiles[0]["pages"] == 2 and tiles[0]["page"] == 1 and key not in flips:
                    flips[key] = time.monotonic()
                    paged[key] = [t["camera"] for t in tiles]
                if (
                    key in flips
                    and key not in shown_at
                    and all(t["state"] == "playing" for t in tiles)
                ):
                    shown_at[key] = time.monotonic()
            time.sleep(0.02)
        assert len(flips) == 2, flips
        assert abs(flips["n1"] - flips["n2"]) < 0.5, seen  # the same page at the same time
        assert paged["n1"] == paged["n2"] == cams[4:]
        # the new page plays on both nodes (how soon after the flip, with its streams
        # started ahead, is measured by bench/video.py switch: docs/benchmarks.md)
        assert set(shown_at) == {"n1", "n2"}, (flips, shown_at)
    finally:
        for n in nodes:
            n.stop()
        server.stop()

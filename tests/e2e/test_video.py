"""Video wall end to end: `wallclient run --offscreen` plays real H.264 from the demo's
real streaming servers (HTTP-TS and RTSP/TCP on 127.0.0.1), seen through `status`."""

import concurrent.futures
import json
import os
import subprocess
import time
from datetime import UTC, datetime

import pytest

from tests.helpers import (
    DemoServer,
    WallProcess,
    live,
    start_xvfb,
    timeout,
    wait_for,
    write_layout,
)

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
    try:
        with live(
            WallProcess(
                tmp_path,
                server.url,
                "tok-commander",
                "--layout",
                str(write_layout(tmp_path, LAYOUT)),
            )
        ) as (wall,):
            yield server, wall
    finally:
        server.stop()


def _show(server, cams, preset="T-VIDEO", dwell_s=30):
    server.admin("publish", type="preset.upsert", data={
        "id": preset, "name": "测试预案", "scenario": "test", "emergency": False,
        "cameras": cams, "dwell_s": dwell_s})  # fmt: skip
    server.admin("publish", type="wall.state", data={
        "wall": "wall-1", "mode": "normal", "preset": preset,
        "changed_by": "指挥长", "changed_at": _now()})  # fmt: skip


def _online(server, n, skip=0):
    cams = [c["id"] for c in server.admin("state")["cameras"] if c["status"] == "online" and not c.get("ptz")]
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
    # each tile says its failure, with its reason (between attempts it retries: a hung
    # server's tiles go back to connecting, each on its own backoff, so they are not all
    # read failed at one moment)
    said: dict[int, str] = {}

    def each_said() -> bool:
        for i, t in enumerate(_tiles(wall)[:4]):
            if t["state"] in ("error", "no_signal") and t["camera"] == cams[i]:
                said[i] = t["error"]
        return len(said) == 4

    wait_for(each_said, timeout(30), f"{mode}: error or no_signal on every tile")
    assert all(said.values()), said  # with its reason
    # a retry is "connecting" again and still says which attempt it is and why the last failed
    retry = wait_for(lambda: next((t for t in _tiles(wall)[:4] if t["state"] == "connecting"
                                   and t["failures"] >= 1), None), timeout(20), "a retry")  # fmt: skip
    assert retry["last_failure"], retry
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
        _show(server, cams, preset="T-TOUR", dwell_s=3)
        # Sample both nodes at the same moment, for two whole tours (each call on a thread
        # of its own, so one busy node cannot delay the other's answer).
        samples = []
        times: list[float] = []
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            end = time.monotonic() + timeout(13)  # two whole tours and a bit
            while time.monotonic() < end:
                a, b = pool.map(_tiles, nodes)
                if a[0]["pages"] == b[0]["pages"] == 2:
                    samples.append(((a[0]["page"], [t["camera"] for t in a]),
                                    (b[0]["page"], [t["camera"] for t in b]),
                                    [t["state"] for t in a + b]))  # fmt: skip
                    times.append(time.monotonic())
                time.sleep(0.1)
        assert len(samples) > 25  # (two status answers a sample, both nodes on two pages)
        agree = [x for x, y, _ in samples if x == y]
        # the nodes differ only for the instant around a flip (two answers ~ms apart)
        odd = [
            (round(t, 2), x[0], y[0]) for t, (x, y, _) in zip(times, samples, strict=True) if x != y
        ]
        assert len(agree) >= 0.9 * len(samples), odd
        assert {page for page, _ in agree} == {0, 1}  # both pages were shown, on both
        assert {tuple(c) for page, c in agree if page == 1} == {tuple(cams[4:])}
        # and the pages play on both nodes
        assert any(all(st == "playing" for st in states) for x, _, states in samples if x[0] == 1)
    finally:
        for n in nodes:
            n.stop()
        server.stop()


def test_on_a_real_x_server_libvlc_draws_into_the_tiles_own_windows(tmp_path):
    """Where a display exists the tiles are native windows libvlc draws into (no copy
    through Qt): nine of them play at ≥ 20 fps, and a tile's snapshot is a picture."""
    from PySide6.QtGui import QImage

    xvfb, display = start_xvfb(tmp_path, "1920x1080")
    server = DemoServer(tmp_path).start()
    try:
        wall = WallProcess(tmp_path, server.url, "tok-commander", "--layout",
                           str(write_layout(tmp_path, LAYOUT)), display=display)  # fmt: skip
        with live(wall):
            http = [c["id"] for c in server.admin("cameras")
                    if c["status"] == "online" and not c.get("ptz")
                    and c["streams"]["sub"].startswith("http")]  # fmt: skip
            cams = http[:9]
            _show(server, cams)

            def all_playing():
                tiles = _tiles(wall)
                return all(t["state"] == "playing" and t["fps"] >= 20 for t in tiles)

            wait_for(all_playing, timeout(40), "nine native tiles playing at ≥ 20 fps")
            tiles = _tiles(wall)
            assert {t["route"] for t in tiles} == {"libvlc-native"}
            assert [t["camera"] for t in tiles] == cams
            shot = tmp_path / "tile4.png"
            wall.control.ok("tile.snapshot", index=4, file=str(shot))
            image = QImage(str(shot))
            assert image.width() >= 320 and image.height() >= 180
            colours = {image.pixel(x, y) for x in range(0, image.width(), 37)
                       for y in range(0, image.height(), 23)}  # fmt: skip
            assert len(colours) > 20  # a picture, not a black or blank window
            # a real double-click through the X server onto libvlc's window reaches the
            # panel: the tile is maximised with the main stream, the others stop decoding
            env = dict(os.environ, DISPLAY=display)
            subprocess.run(["xdotool", "mousemove", "960", "560", "click", "--repeat", "2",
                            "--delay", "80", "1"], env=env, check=True)  # fmt: skip

            def maximised():
                tiles = _tiles(wall)
                return [t["state"] for t in tiles].count("playing") == 1 and tiles[4][
                    "stream"
                ] == "main"

            wait_for(maximised, timeout(20), "tile 4 maximised with the main stream")
            subprocess.run(["xdotool", "key", "Escape"], env=env, check=True)
            wait_for(all_playing, timeout(40), "Esc: back to the nine tiles")
    finally:
        server.stop()
        xvfb.terminate()
        xvfb.wait(10)

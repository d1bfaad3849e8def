"""Steering cameras against the demo's virtual PTZ cameras: a real `wallclient run` turns
a dome and the picture on its tile turns the way the command says (read from the bearing
strip of the decoded frames, not from status); locks, roles, the dead-man timer after a
SIGKILL, point here against Karney's geodesics, digital zoom on a painted tile and on a
native one (under Xvfb)."""

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import av
import pytest
from geographiclib.geodesic import Geodesic
from websockets.asyncio.client import connect

from tests.helpers import DemoServer, WallProcess, live, start_xvfb, timeout, wait_for, write_layout
from wallclient import protocol
from wallclient.demo.ptz import read_strip

LAYOUT = {
    "name": "ptz-3x3",
    "screens": [{"name": "v", "x": 0, "y": 0, "width": 1920, "height": 1080}],
    "modes": {"normal": {"v": [
        {"id": "grid", "panel": "video", "rect": [0, 0, 16, 24],
         "options": {"rows": 3, "cols": 3, "linkage": True}},
        {"id": "map", "panel": "map", "rect": [16, 0, 8, 24]},
    ]}},
}  # fmt: skip


def show(server: DemoServer, cams: list[str]) -> None:
    server.admin("publish", type="preset.upsert", data={"id": "T-PTZ", "name": "T-PTZ", "scenario": "test",
                                                        "emergency": False, "cameras": cams})  # fmt: skip
    server.admin("publish", type="wall.state", data={"wall": "wall-1", "mode": "normal", "preset": "T-PTZ",
                                                     "changed_by": "t", "changed_at": datetime.now(UTC).isoformat()})  # fmt: skip


def strip(wall: WallProcess, tmp, tile: int = 0) -> tuple[float, float] | None:
    """The bearing and tilt the tile's last decoded frame was cut at."""
    path = tmp / f"tile{tile}-{time.monotonic_ns()}.png"
    wall.control.ok("tile.snapshot", index=tile, file=str(path), picture=True)
    with av.open(str(path)) as c:
        return read_strip(next(c.decode(video=0)).to_ndarray(format="gray"))


def dome_state(server: DemoServer, cam: str) -> dict:
    return next(c for c in server.admin("cameras") if c["id"] == cam)["ptz_state"]


async def as_user(server: DemoServer, token: str, type_: str, data: dict) -> dict:
    """One protocol command from another user's own connection: its ack."""
    async with connect(server.url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        await ws.send(protocol.hello(client="t/1", wall="wall-1", node=f"other-{token}",
                                     scope={"level": "district", "code": "310114"}, resume_from=None))  # fmt: skip
        await ws.send(protocol.encode(type_, data, id="x1"))
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout(20)))
            if msg["type"] == "ack" and msg["data"]["id"] == "x1":
                return dict(msg["data"])


def first_white_run(row) -> int:
    """The width of the strip's first cell (white, its sync): from the picture's left."""
    xs = [i for i, v in enumerate(row) if v > 200]
    if not xs:
        return 0
    start = xs[0]
    end = start
    while end < len(row) and row[end] > 200:
        end += 1
    return end - start


def strip_cell_px(gray) -> int:
    """The strip's first cell width, in the bottom rows of a picture (or a screen grab)."""
    rows = [r for r in range(gray.shape[0] - 1, gray.shape[0] // 2, -1) if (gray[r] > 200).sum() > 40]
    return max((first_white_run(gray[r]) for r in rows[:40]), default=0)


@pytest.mark.slow
def test_the_wall_steers_a_virtual_dome_and_its_picture_turns(tmp_path):
    server = DemoServer(tmp_path).start()
    try:
        cams = server.admin("cameras")
        domes = [c for c in cams if c.get("ptz") and c["status"] == "online"
                 and c["streams"]["sub"].startswith("http")]  # fmt: skip
        fixed = next(c["id"] for c in cams if not c.get("ptz") and c["status"] == "online"
                     and c["streams"]["sub"].startswith("http"))  # fmt: skip
        dome, other = domes[0]["id"], domes[1]["id"]
        show(server, [dome, fixed, other])
        layout = write_layout(tmp_path, LAYOUT)
        with live(WallProcess(tmp_path, server.url, "tok-commander", "--layout", str(layout))) as (wall,):
            c = wall.control
            wait_for(lambda: all(t["state"] == "playing" for t in wall.status()["tiles"][:3]),
                     timeout(30), "playing")  # fmt: skip
            tile = wall.status()["tiles"][0]
            assert tile["ptz"]["steerable"] and "ptz" not in wall.status()["tiles"][1]
            before = wait_for(lambda: strip(wall, tmp_path), timeout(10), "a strip")
            assert abs(before[0] - dome_state(server, dome)["pan_deg"]) < 0.2
            # a held move to the right: the picture's bearing grows (clockwise), then stops
            c.ok("ptz.move", camera=dome, pan=0.5, tilt=0, zoom=0, hold=True)
            time.sleep(1.5)
            moving = strip(wall, tmp_path)
            c.ok("ptz.stop", camera=dome)
            assert moving is not None and 10 < (moving[0] - before[0]) % 360 < 120, (before, moving)
            time.sleep(1.0)
            at_rest = dome_state(server, dome)
            wait_for(lambda: (s := strip(wall, tmp_path)) and abs(s[0] - at_rest["pan_deg"]) < 0.2,
                     timeout(5), "the picture where the dome stopped")  # fmt: skip
            # a tilt down: the strip says so too
            c.ok("ptz.move", camera=dome, pan=0, tilt=-1, zoom=0)
            wait_for(lambda: (s := strip(wall, tmp_path)) and s[1] <= at_rest["tilt_deg"] - 5,
                     timeout(5), "the picture tilts down")  # fmt: skip
            # presets: a known one moves it, an unknown one is refused with a message
            assert c("ptz.goto", camera=dome, preset="99")["error"]["code"] == "bad_request"
            time.sleep(1.2)
            c.ok("ptz.goto", camera=dome, preset="3")
            # one audit line per continuous move: the held move's repeats are not audited
            audit = subprocess.run([sys.executable, "-m", "wallclient", "audit", "show", "--cache",
                                    str(wall.cache), "--json"], capture_output=True, text=True, timeout=60)  # fmt: skip
            rows = [r for r in json.loads(audit.stdout) if r["action"].startswith("ptz.")]
            assert [r["action"] for r in rows].count("ptz.move") == 2, rows  # the held one, the tilt

            # another user holds a camera: the wall is refused and says who holds it
            got = asyncio.run(as_user(server, "tok-installer", "ptz.move",
                                      {"camera": other, "pan": 0.2, "tilt": 0, "zoom": 0}))  # fmt: skip
            assert got["ok"], got
            refused = c("ptz.move", camera=other, pan=0.5, tilt=0, zoom=0)
            assert refused["error"]["code"] == "ptz_locked" and "实施" in refused["error"]["message"]
            wait_for(lambda: wall.status()["tiles"][2]["ptz"]["holder"] == "实施", timeout(5), "the holder shown")
            # a viewer: refused by the backend, whatever its client does
            got = asyncio.run(as_user(server, "tok-viewer", "ptz.move",
                                      {"camera": dome, "pan": 0.2, "tilt": 0, "zoom": 0}))  # fmt: skip
            assert not got["ok"] and got["error"]["code"] == "forbidden"
            # a fixed camera has no PTZ
            assert c("ptz.move", camera=fixed, pan=0.5, tilt=0, zoom=0)["error"]["code"] == "not_ptz"

            # point here: bearings against Karney's geodesics, the domes onto the linkage tiles
            loc = domes[0]["location"]
            spot = Geodesic.WGS84.Direct(loc["lat"], loc["lon"], 37.0, 420.0)
            got = c.ok("ptz.point", lon=spot["lon2"], lat=spot["lat2"], radius_m=2500)
            assert got["cameras"] and got["linked"] == [r["camera"] for r in got["cameras"]]
            by_id = {cam["id"]: cam for cam in cams}
            for row in got["cameras"]:
                home = by_id[row["camera"]]["location"]
                ref = Geodesic.WGS84.Inverse(home["lat"], home["lon"], spot["lat2"], spot["lon2"])
                assert abs((row["pan_deg"] - ref["azi1"] + 180) % 360 - 180) <= 0.1, (row, ref["azi1"])
                assert abs(row["distance_m"] - ref["s12"]) < 1
                assert by_id[row["camera"]]["ptz"] and row["distance_m"] <= 2500
            assert wall.status()["linkage"]["point"]["radius_m"] == 2500
            mine = next(r for r in got["cameras"] if r["camera"] == dome)
            wait_for(lambda: (s := strip(wall, tmp_path, wall.status()["linkage"]["cameras"].index(dome)))
                     and abs((s[0] - mine["pan_deg"] + 180) % 360 - 180) <= 0.2,
                     timeout(10), "the dome's picture looking at the spot")  # fmt: skip

            # the dead-man timer: the wall holds a move and is SIGKILLed; the dome stops
            c.ok("ptz.move", camera=dome, pan=1, tilt=0, zoom=0, hold=True)
            time.sleep(1.0)
            wall.proc.kill()
            killed = time.monotonic()
            last, still_since = dome_state(server, dome)["pan_deg"], None
            while time.monotonic() - killed < 4:
                now_pan = dome_state(server, dome)["pan_deg"]
                if now_pan != last:
                    last, still_since = now_pan, None
                elif still_since is None:
                    still_since = time.monotonic()
                if still_since is not None and time.monotonic() - still_since > 1.0:
                    break
                time.sleep(0.05)
            assert still_since is not None and still_since - killed <= 1.5, still_since - killed
    finally:
        server.stop()


@pytest.mark.slow
def test_digital_zoom_enlarges_a_painted_and_a_native_tile(tmp_path):
    """The strip's first cell (1/24 of the picture's width) is twice as wide when the
    tile shows the bottom-left quarter of the picture — on a painted tile (offscreen)
    and on a tile libvlc draws itself under a real X server."""
    server = DemoServer(tmp_path).start()
    xvfb = None
    try:
        dome = next(c["id"] for c in server.admin("cameras") if c.get("ptz") and c["status"] == "online"
                    and c["streams"]["sub"].startswith("http"))  # fmt: skip
        show(server, [dome])
        layout = write_layout(tmp_path, LAYOUT)
        shots = os.environ.get("WALLCLIENT_SHOTS")  # docs/screenshots when asked for
        with live(WallProcess(tmp_path, server.url, "tok-viewer", "--layout", str(layout))) as (wall,):
            c = wall.control
            wait_for(lambda: wall.status()["tiles"][0]["state"] == "playing", timeout(30), "playing")
            wait_for(lambda: strip(wall, tmp_path), timeout(10), "a picture")
            assert not wall.status()["tiles"][0]["ptz"]["steerable"]  # a viewer's wall
            whole, zoomed = tmp_path / "whole.png", tmp_path / "zoomed.png"
            c.ok("tile.snapshot", index=0, file=str(whole))
            sub = wall.status()["tiles"][0]
            c.ok("tile.zoom", tile=0, x=0, y=0.5, size=0.5)
            wait_for(lambda: wall.status()["tiles"][0]["state"] == "playing"
                     and wall.status()["tiles"][0]["stream"] == "main", timeout(15), "the main stream")  # fmt: skip
            t = wall.status()["tiles"][0]
            assert t["zoom"]["factor"] == 2.0 and t["picture"][0] > sub["picture"][0]  # decoded larger
            time.sleep(0.5)
            c.ok("tile.snapshot", index=0, file=str(zoomed))
            if shots:
                c.ok("snapshot", dir=shots)
            cells = [strip_cell_px(av_gray(p)) for p in (whole, zoomed)]
            assert abs(cells[1] / cells[0] - 2) < 0.15, cells
            c.ok("tile.zoom", tile=0)
            wait_for(lambda: wall.status()["tiles"][0]["stream"] == "sub", timeout(15), "back to the sub stream")

        xvfb, display = start_xvfb(tmp_path)
        native = WallProcess(tmp_path, server.url, "tok-viewer", "--layout", str(layout),
                             node="node-x", display=display)  # fmt: skip
        with live(native):
            wait_for(lambda: native.status()["tiles"][0]["state"] == "playing", timeout(30), "playing")
            assert native.status()["tiles"][0]["route"] == "libvlc-native"
            grabs = []
            for zoom in (None, {"x": 0, "y": 0.5, "size": 0.5}):
                native.control.ok("tile.zoom", tile=0, **(zoom or {}))
                if zoom:
                    wait_for(lambda: native.status()["tiles"][0]["state"] == "playing"
                             and native.status()["tiles"][0]["stream"] == "main", timeout(15), "main")  # fmt: skip
                time.sleep(1.5)
                shot = tmp_path / f"native-{len(grabs)}.png"
                grab = ("from PySide6.QtGui import QGuiApplication; import sys; "
                        "app = QGuiApplication(sys.argv); app.primaryScreen().grabWindow(0).save(sys.argv[1])")  # fmt: skip
                env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
                subprocess.run([sys.executable, "-c", grab, str(shot)], env=env, check=True, timeout=60)
                grabs.append(shot)
            if shots:
                import shutil

                shutil.copy(grabs[1], os.path.join(shots, "native-zoomed.png"))
            # the first tile's area of the screen (a third of the 2/3 video region)
            cells = [strip_cell_px(av_gray(p)[64:424, :426]) for p in grabs]  # tile 0 of the 3 × 3
            assert cells[0] > 0 and abs(cells[1] / cells[0] - 2) < 0.15, cells
    finally:
        server.stop()
        if xvfb is not None:
            xvfb.kill()
            xvfb.wait()


def av_gray(path):
    with av.open(str(path)) as c:
        return next(c.decode(video=0)).to_ndarray(format="gray")

"""Time on the wall against the real recorder: ffmpeg writing real segments on 127.0.0.1,
served by the playback API (MediaMTX's), played back by a real `wallclient run`."""

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from tests.helpers import (
    DemoServer,
    WallProcess,
    http,
    live,
    recorded,
    timeout,
    wait_for,
    write_layout,
)
from wallclient.protocol import epoch
from wallclient.replay import rfc3339

LAYOUT = {
    "name": "replay-3x3",
    "screens": [{"name": "v", "x": 0, "y": 0, "width": 1920, "height": 1080}],
    "modes": {"normal": {"v": [
        {"id": "grid", "panel": "video", "rect": [0, 0, 16, 24], "options": {"rows": 3, "cols": 3}},
        {"id": "feed", "panel": "incidents", "rect": [16, 0, 8, 12]},
        {"id": "ind", "panel": "indicators", "rect": [16, 12, 8, 12]},
    ]}},
}  # fmt: skip


@pytest.mark.slow
def test_the_playback_api_lists_gets_and_refuses(tmp_path):
    server = DemoServer(tmp_path, "--no-media", record=True)
    server.args.remove("--no-media")
    server.start()
    try:
        cam = server.admin("cameras")[0]["id"]
        server.admin("playback", record=[cam])
        spans = recorded(server, cam, 8)
        base = server.ready["playback"]
        start = epoch(spans[0]["start"])
        # /get: an MP4 from the key frame at or before start, and its recorded time
        code, headers, body = http(f"{base}/get?path={cam}&start={quote(rfc3339(start + 3.3))}"
                                   f"&duration=3&format=mp4")  # fmt: skip
        assert code == 200 and body[4:8] == b"ftyp" and b"moov" in body[:200_000]
        first = epoch(headers["X-Recorded-Start"])
        assert start <= first <= start + 3.3 and start + 3.3 - first <= 2.1  # a segment's start
        import io

        import av

        with av.open(io.BytesIO(body)) as c:
            s = c.streams.video[0]
            assert s.codec_context.name == "h264" and s.width == 1280
            assert 3.0 <= float(c.duration / 1e6) <= 8.0  # whole segments
        code, _, _ = http(f"{base}/get?path={cam}&start={quote(rfc3339(start))}&duration=2&format=fmp4")
        assert code == 200
        # no token, a bad token: 401; a range with no recording: 404
        assert http(f"{base}/list?path={cam}&start={quote(rfc3339(start))}", token=None)[0] == 401
        assert http(f"{base}/get?path={cam}&start={quote(rfc3339(start))}&duration=2", "nope")[0] == 401
        hour_ago = quote(rfc3339(start - 3600))
        assert http(f"{base}/get?path={cam}&start={hour_ago}&duration=60&format=mp4")[0] == 404
        assert http(f"{base}/list?path={cam}&start={hour_ago}&end={quote(rfc3339(start - 3000))}")[0] == 404
        # a camera nobody recorded is a real gap
        other = server.admin("cameras")[5]["id"]
        assert http(f"{base}/list?path={other}&start={quote(rfc3339(start))}&end={quote(rfc3339(time.time()))}")[0] == 404
    finally:
        server.stop()


def show(server: DemoServer, cams: list[str], preset: str = "T-REPLAY") -> None:
    server.admin("publish", type="preset.upsert", data={"id": preset, "name": preset, "scenario": "test",
                                                        "emergency": False, "cameras": cams})  # fmt: skip
    server.admin("publish", type="wall.state", data={"wall": "wall-1", "mode": "normal", "preset": preset,
                                                     "changed_by": "t", "changed_at": datetime.now(UTC).isoformat()})  # fmt: skip


@pytest.mark.slow
def test_a_tile_replays_seeks_and_goes_back_to_live(tmp_path):
    server = DemoServer(tmp_path, record=True).start()
    try:
        cams = [c["id"] for c in server.admin("cameras") if c["status"] == "online"
                and not c.get("ptz") and c["streams"]["sub"].startswith("http")][:3]  # fmt: skip
        layout = write_layout(tmp_path, LAYOUT)
        with live(WallProcess(tmp_path, server.url, "tok-viewer", "--layout", str(layout))) as (wall,):
            show(server, cams)  # playing them makes the backend record them
            wait_for(lambda: all(t["state"] == "playing" for t in wall.status()["tiles"][:3]),
                     timeout(30), "live")  # fmt: skip
            spans = recorded(server, cams[0], 8)
            c = wall.control

            def tile(i: int = 0) -> dict:
                return wall.status()["tiles"][i]

            # the instant replay: the last 5 s, on tile 0 alone, then live again by itself
            c.ok("replay.start", tile=0, seconds_back=5)
            gesture = time.time()
            # one reading of the tiles decides (not a wait for one condition, then an
            # assertion of another on a later reading: issue 30)
            tiles = wait_for(lambda: (ts := wall.status()["tiles"])[0]["mode"] == "replay"
                             and ts[0]["frames"] > 5 and ts[0]["state"] == "playing" and ts,
                             timeout(10), "replaying")  # fmt: skip
            t0 = tiles[0]
            assert t0["route"] == "replay", t0
            assert tiles[1]["mode"] == "live"  # the rest stays live
            wait_for(lambda: tile(1)["state"] == "playing", timeout(10), "tile 1 plays on")
            reached = 0.0

            def back_live() -> bool:
                nonlocal reached
                t = tile()
                if t["mode"] == "replay":
                    reached = max(reached, epoch(t["position"]))
                return t["mode"] == "live"

            wait_for(back_live, timeout(20), "live again by itself")
            assert reached >= gesture - 5, (gesture, reached)  # it reached within 5 s of the gesture
            # a replay from a moment
            c.ok("replay.start", tile=0, at=spans[0]["start"])
            wait_for(lambda: tile()["mode"] == "replay" and tile()["frames"] > 5, timeout(10), "replaying")
            # seek: the tile's position follows the recording's own timestamps
            at = epoch(spans[0]["start"]) + 2.5
            c.ok("replay.control", tile=0, seek=rfc3339(at), paused=True)
            wait_for(lambda: tile()["paused"] and abs(epoch(tile()["position"]) - at) <= 0.5,
                     timeout(5), "the picture at the seek")  # fmt: skip
            pos = epoch(tile()["position"])
            time.sleep(1.0)
            assert epoch(tile()["position"]) == pos  # paused: it stays
            c.ok("replay.control", tile=0, paused=False, speed=4)
            wait_for(lambda: epoch(tile()["position"]) > pos + 4, timeout(5), "4× runs on")
            # a range before any recording: "no recording" on the tile, the clock runs on
            c.ok("replay.control", tile=0, seek=rfc3339(epoch(spans[0]["start"]) - 600), speed=1)
            wait_for(lambda: tile()["gap"], timeout(5), "a gap")
            # back to live
            c.ok("replay.stop", tile=0)
            wait_for(lambda: tile()["mode"] == "live" and tile()["state"] == "playing", timeout(15), "live again")
            assert "position" not in tile()
    finally:
        server.stop()


def backend_at(server: DemoServer, t: float) -> tuple[dict[str, str], dict[str, float | None]]:
    """The backend's own record of the wall at ``t``: its initial state and its log of
    every state message (incidents by their change time, readings by theirs)."""
    tables = server.admin("initial")["tables"]
    incidents = {i["id"]: i["status"] for i in tables["incidents"]}
    readings = {i["id"]: i.get("value") for i in tables["indicators"]}
    for _seq, text in server.admin("log"):
        msg = json.loads(text)
        d = msg["data"]
        if msg["type"] == "incident.upsert" and epoch(d["updated_at"]) <= t:
            incidents[d["id"]] = d["status"]
        elif msg["type"] == "incident.remove" and epoch(msg["ts"]) <= t:
            incidents.pop(d["id"], None)
        elif msg["type"] == "indicator.values" and epoch(d["t"]) <= t:
            readings.update({v["id"]: v["value"] for v in d["values"]})
    return incidents, readings


@pytest.mark.slow
def test_incident_replay_keeps_tiles_together_and_shows_the_data_of_then(tmp_path):
    # no incidents of its own making (their cameras would be recorded too, and the
    # recorder's cap would stop ours): the test makes the incident events itself
    server = DemoServer(tmp_path, "--rate", "0", "--indicator-period", "2", record=True).start()
    try:
        cams = [c for c in server.admin("cameras") if c["status"] == "online" and not c.get("ptz")]
        layout = write_layout(tmp_path, LAYOUT)
        with live(WallProcess(tmp_path, server.url, "tok-commander", "--layout", str(layout))) as (wall,):
            server.admin("events", n=20)
            time.sleep(2)  # some history in this node's cache before the incident
            inc = server.admin("incident", priority=1, location=cams[10]["location"], fresh=True)["incident"]
            server.admin("events", n=20)
            reported = epoch(inc["reported_at"])
            wait_for(lambda: len(server.admin("playback")["recording"]) >= 3, timeout(20), "recording")
            time.sleep(4)
            server.admin("events", n=20)
            server.admin("publish", type="incident.upsert",
                         data={**inc, "status": "dispatched", "updated_at": rfc3339(time.time())})  # fmt: skip
            # recorded ahead of the replay clock: its 4× phase (below) gains 9 s on now
            time.sleep(8)
            c = wall.control
            got = c.ok("incident.replay", incident=inc["id"], before_s=2)
            replayed = got["cameras"]
            assert len(got["cameras"]) == 3 and got["not_recorded"] == []
            # the recorder began a moment after the report: the tiles cross that gap first
            wait_for(lambda: sum(t["mode"] == "replay" and t["frames"] > 0 and not t["gap"]
                                 for t in wall.status()["tiles"]) == 3, timeout(20), "three replaying")  # fmt: skip

            def spread() -> float | None:
                tiles = [t for t in wall.status()["tiles"] if t["mode"] == "replay"]
                if any(t["gap"] for t in tiles):
                    return None
                pos = [epoch(t["position"]) for t in tiles]
                return max(pos) - min(pos)

            for speed, seconds in ((1, 5), (4, 3)):
                c.ok("replay.control", speed=speed)
                time.sleep(0.5)  # a change of speed re-aligns the tiles on a new grid of moments
                # read for ``seconds``, and up to a second on until three readings a second
                # were had (a status answer takes longer on a busy machine; at 4× a longer
                # phase would run into the live edge); gaps are not readings
                samples = []
                end = time.monotonic() + seconds
                while time.monotonic() < end or (len(samples) < seconds * 3 and time.monotonic() < end + 1.0):
                    s = spread()
                    if s is not None:
                        samples.append(s)
                    time.sleep(0.2)
                assert len(samples) >= seconds * 3, samples
                print(f"spread at {speed}×: max {max(samples) * 1000:.0f} ms over {len(samples)} samples")
                # within 100 ms of each other (at 4× a tile that skipped a moment is held
                # until the others reach it: panels.video, _held_replays). Under the whole
                # suite's load one sample in a run at 4× can still catch a tile whose hold
                # ran out (170 ms once in six runs, session 11): there the bound is on all
                # but the worst sample
                bound = sorted(samples)[-2] if speed > 1 else max(samples)
                assert bound <= 0.1, (speed, samples)
            # the data panels at the replay clock equal the backend's own record of then
            c.ok("replay.control", paused=True, seek=rfc3339(reported + 3.5))
            past = wait_for(lambda: (p := c.ok("replay.past"))["at"] and
                            abs(epoch(p["at"]) - (reported + 3.5)) < 0.01 and p, timeout(5), "past")  # fmt: skip
            # the wall times the seek itself: its pictures and its panels at the new moment
            seek = wait_for(lambda: (s := wall.status()["replay"]["last_seek"])["picture_ms"] is not None
                            and s["panels_ms"] is not None and s, timeout(10), "the seek on the screen")  # fmt: skip
            assert abs(epoch(seek["to"]) - (reported + 3.5)) < 0.01, seek
            incidents, readings = backend_at(server, epoch(past["at"]))
            assert past["incidents"] == incidents
            assert past["incidents"][inc["id"]] == "new"  # dispatched only later
            assert past["indicators"] == readings
            st = wall.status()["replay"]
            assert st["incident"] == inc["id"] and st["paused"]
            # back to live: every tile and panel
            c.ok("replay.stop")
            wait_for(lambda: all(t["mode"] == "live" for t in wall.status()["tiles"]), timeout(5), "live")
            assert wall.status()["replay"] is None and c.ok("replay.past")["at"] is None
            # its evidence, as the card's 导出证据 writes it (the same exporter): the three
            # cameras' recordings around the report, the record, every file's hash
            got = c.ok("export", incident=inc["id"], dir=str(tmp_path / "evidence"), before_s=2, after_s=8)
            with open(got["manifest"], encoding="utf-8") as fh:
                manifest = json.load(fh)
            clips = [f for f in manifest["files"] if f["kind"] == "clip"]
            assert {f["camera"] for f in clips} == set(replayed) and manifest["incident"] == inc["id"]
            assert any(f["kind"] == "incident" for f in manifest["files"])
            for f in manifest["files"]:
                with open(os.path.join(got["dir"], f["file"]), "rb") as fh:
                    assert hashlib.sha256(fh.read()).hexdigest() == f["sha256"]
    finally:
        server.stop()


@pytest.mark.slow
def test_replay_and_back_to_live_on_every_route(tmp_path):
    """A tile whose live picture libvlc draws into its own native window (a real X server)
    or PyAV decodes (RTSP here) replays, then goes back to live on the same route. (libvlc
    into Qt's frames, the offscreen route: test_a_tile_replays_seeks_and_goes_back_to_live.)"""
    from tests.helpers import start_xvfb

    native = True
    xvfb, display = start_xvfb(tmp_path)
    server = DemoServer(tmp_path, record=True).start()
    try:
        online = [c for c in server.admin("cameras") if c["status"] == "online" and not c.get("ptz")]
        http = [c["id"] for c in online if c["streams"]["sub"].startswith("http")][:2]
        rtsp = [c["id"] for c in online if c["streams"]["sub"].startswith("rtsp")][:1]
        layout = write_layout(tmp_path, LAYOUT)
        with live(WallProcess(tmp_path, server.url, "tok-viewer", "--layout", str(layout),
                              display=display)) as (wall,):  # fmt: skip
            show(server, http + rtsp)
            wait_for(lambda: all(t["state"] == "playing" for t in wall.status()["tiles"][:3]),
                     timeout(30), "live")  # fmt: skip
            routes = [t["route"] for t in wall.status()["tiles"][:3]]
            assert routes[0] == ("libvlc-native" if native else "libvlc") and "pyav" in routes
            starts = [recorded(server, cam, 4)[0]["start"] for cam in http + rtsp]
            for i in range(3):
                wall.control.ok("replay.start", tile=i, at=starts[i])
                wait_for(lambda i=i: (t := wall.status()["tiles"][i])["mode"] == "replay"
                         and t["frames"] > 3, timeout(15), f"tile {i} replaying")  # fmt: skip
                wall.control.ok("replay.stop", tile=i)
                wait_for(lambda i=i: (t := wall.status()["tiles"][i])["mode"] == "live"
                         and t["state"] == "playing" and t["route"] == routes[i],
                         timeout(15), f"tile {i} live again")  # fmt: skip
    finally:
        server.stop()
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)


@pytest.mark.slow
def test_the_timeline_is_above_native_video_windows(tmp_path):
    """Under a real X server libvlc draws live tiles into native windows of their own; the
    incident replay's timeline bar, laid over the bottom row of tiles, is seen on the
    screen, not hidden under their pictures."""
    from PySide6.QtGui import QImage

    from tests.helpers import start_xvfb

    xvfb, display = start_xvfb(tmp_path)
    server = DemoServer(tmp_path, "--rate", "0", record=True).start()
    try:
        online = [c for c in server.admin("cameras") if c["status"] == "online" and not c.get("ptz")]
        http = [c["id"] for c in online if c["streams"]["sub"].startswith("http")][:9]
        layout = write_layout(tmp_path, LAYOUT)
        with live(WallProcess(tmp_path, server.url, "tok-commander", "--layout", str(layout),
                              display=display)) as (wall,):  # fmt: skip
            show(server, http)
            wait_for(lambda: sum(t["state"] == "playing" and t["route"] == "libvlc-native"
                                 for t in wall.status()["tiles"]) >= 8, timeout(40), "native tiles")  # fmt: skip
            inc = server.admin("incident", priority=1, location=online[40]["location"], fresh=True)["incident"]
            # the backend records the cameras nearest to it, besides the nine shown
            wait_for(lambda: len(set(server.admin("playback")["recording"]) - set(http)) >= 3,
                     timeout(20), "its cameras recorded")  # fmt: skip
            wall.control.ok("incident.replay", incident=inc["id"], before_s=0)
            x, y, w, h = wait_for(lambda: (wall.status()["replay"] or {}).get("timeline"), timeout(10), "bar")
            bottom = [t for t in wall.status()["tiles"][6:9]]
            assert all(t["mode"] == "live" and t["route"] == "libvlc-native" for t in bottom)
            time.sleep(1.0)  # a few of the native tiles' frames drawn since
            shot = tmp_path / "screen.png"
            grab = ("from PySide6.QtGui import QGuiApplication; import sys; "
                    "app = QGuiApplication(sys.argv); app.primaryScreen().grabWindow(0).save(sys.argv[1])")  # fmt: skip
            env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
            subprocess.run([sys.executable, "-c", grab, str(shot)], env=env, check=True, timeout=60)
            image = QImage(str(shot))
            # the bar's violet top strip and its dark body, all along it, over the tiles
            for px in range(x + 20, x + w - 20, 40):
                strip, body = image.pixelColor(px, y + 1), image.pixelColor(px, y + h - 3)
                assert (strip.red(), strip.green(), strip.blue()) == (0xC7, 0x7D, 0xFF), (px, strip.name())
                assert (body.red(), body.green(), body.blue()) == (0x0E, 0x16, 0x26), (px, body.name())
    finally:
        server.stop()
        xvfb.terminate()
        xvfb.wait(10)

"""Every URL form a GB/T 28181 platform hands a desktop player plays on a real wall
(`wallclient run --offscreen` against the demo's real servers on 127.0.0.1, and the real
relay for RTMP): HTTP-TS (joined mid-GOP: its first packet is no key frame), HTTP-FLV
without audio, with AAC, and announcing an audio track that never comes, fMP4 over HTTP,
live HLS, RTSP/TCP and RTMP. Each tile plays on the route docs/video.md gives it."""

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from tests.helpers import DemoServer, WallProcess, live, timeout, wait_for, write_layout
from wallclient.demo import relay as relay_mod
from wallclient.edges.video import libvlc_has_rtsp

LAYOUT = {
    "name": "forms-3x3",
    "screens": [{"name": "v", "x": 0, "y": 0, "width": 1920, "height": 1080}],
    "modes": {"normal": {"v": [{"id": "grid", "panel": "video", "rect": [0, 0, 24, 24],
                                "options": {"rows": 3, "cols": 3}}]}},
}  # fmt: skip

# the form's path tail on the demo's media server (wallclient.demo.media.HTTP_FORMS)
HTTP_TAILS = {"http-ts": ".ts", "http-flv": ".live.flv", "http-flv-aac": "-aac.live.flv",
              "http-flv-silent": "-silent.live.flv", "http-fmp4": ".live.mp4", "hls": "/hls/index.m3u8"}  # fmt: skip


def form_urls(ready: dict, cam: str, relay: relay_mod.Relay | None = None) -> dict[str, str]:
    """The same camera's sub stream in every form the demo serves."""
    base = f"http://127.0.0.1:{ready['http_port']}/live/{cam}/sub"
    urls = {form: base + tail for form, tail in HTTP_TAILS.items()}
    urls["rtsp"] = f"rtsp://admin:Demo-2026@127.0.0.1:{ready['rtsp_port']}/live/{cam}/sub"
    if relay is not None:
        urls["rtmp"] = relay.rtmp(cam)
    return urls


def show(server, cams: list[dict], streams: list[dict[str, str]], preset: str) -> None:
    """Point ``cams`` at ``streams`` and put them on the wall as one preset."""
    for cam, s in zip(cams, streams, strict=True):
        server.admin("publish", type="camera.upsert", data={**cam, "streams": s})
    server.admin("publish", type="preset.upsert", data={"id": preset, "name": preset, "scenario": "test",
                                                        "emergency": False, "cameras": [c["id"] for c in cams]})  # fmt: skip
    server.admin("publish", type="wall.state", data={"wall": "wall-1", "mode": "normal", "preset": preset,
                                                     "changed_by": "t", "changed_at": datetime.now(UTC).isoformat()})  # fmt: skip


@pytest.mark.slow
def test_every_url_form_plays_on_its_route(tmp_path):
    server = DemoServer(tmp_path).start()
    relay = None
    try:
        cams = [c for c in server.admin("cameras") if c["status"] == "online" and not c.get("ptz")][:8]
        relay = relay_mod.Relay(
            {cams[7]["id"]: form_urls(server.ready, cams[7]["id"])["rtsp"]}
        ).start()
        urls = [form_urls(server.ready, c["id"], relay) for c in cams]
        forms = list(urls[0])
        assert len(forms) == 8
        # tile i plays camera i in form i (one stream per camera: sub and main alike)
        streams = [{"sub": urls[i][f], "main": urls[i][f]} for i, f in enumerate(forms)]
        layout = write_layout(tmp_path, LAYOUT)
        with live(WallProcess(tmp_path, server.url, "tok-viewer", "--layout", str(layout))) as (
            wall,
        ):
            show(server, cams, streams, "T-FORMS")

            def playing() -> bool:
                tiles = wall.status()["tiles"][:8]
                return all(t["state"] == "playing" and t["fps"] >= 20 for t in tiles)

            wait_for(playing, timeout(60), "every form playing at ≥ 20 fps")
            tiles = wall.status()["tiles"][:8]
            route = {t["camera"]: t["route"] for t in tiles}
            want = {"http-ts": "libvlc", "http-fmp4": "libvlc", "http-flv": "pyav", "http-flv-aac": "pyav",
                    "http-flv-silent": "pyav", "hls": "pyav", "rtmp": "pyav",
                    "rtsp": "libvlc" if libvlc_has_rtsp() else "pyav"}  # fmt: skip
            assert {f: route[cams[i]["id"]] for i, f in enumerate(forms)} == want
    finally:
        if relay is not None:
            relay.stop()
        server.stop()


# A 4 × 4 region on a 1080p screen: picture areas of ~474×206, far wider than 16:9; a
# 2 × 1 region a third of the screen wide: areas of ~634×470, taller than 16:9.
ASPECT_LAYOUT = {
    "name": "aspect",
    "screens": [{"name": "v", "x": 0, "y": 0, "width": 1920, "height": 1080}],
    "modes": {"normal": {"v": [
        {"id": "wide", "panel": "video", "rect": [0, 0, 16, 24], "options": {"rows": 4, "cols": 4}},
        {"id": "tall", "panel": "video", "rect": [16, 0, 8, 24], "options": {"rows": 2, "cols": 1}},
    ]}},
}  # fmt: skip


def _longest_run(image, x: int, y0: int, y1: int) -> int:
    """The longest run of rows, down one column of a screenshot, that are not dark (the
    bars beside a native picture show the panel's dark background, 14/22/38)."""
    best = run = 0
    for y in range(y0, y1):
        c = image.pixelColor(x, y)
        run = run + 1 if c.red() + c.green() + c.blue() >= 100 else 0
        best = max(best, run)
    return best


@pytest.mark.slow
@pytest.mark.parametrize("native", [False, True], ids=["callbacks", "native-x11"])
def test_pictures_keep_their_aspect_in_tiles_of_any_shape(tmp_path, native):
    """Tiles wider and taller than 16:9, on the callbacks route (libvlc and PyAV) and
    on native windows under a real X server: every picture is 16:9, never stretched."""
    from tests.helpers import start_xvfb

    xvfb, display = start_xvfb(tmp_path, "1920x1080") if native else (None, None)
    server = DemoServer(tmp_path).start()
    try:
        cams = [c for c in server.admin("cameras") if c["status"] == "online" and not c.get("ptz")][:18]
        base = [form_urls(server.ready, c["id"]) for c in cams]
        # HTTP-TS (libvlc) on most tiles, HTTP-FLV and RTSP (PyAV) on some of each region
        forms = ["http-ts"] * 14 + ["http-flv", "rtsp"] + ["http-ts", "http-flv"]
        streams = [{"sub": u[f], "main": u[f]} for u, f in zip(base, forms, strict=True)]
        layout = write_layout(tmp_path, ASPECT_LAYOUT)
        wall = WallProcess(tmp_path, server.url, "tok-viewer", "--layout", str(layout), "--config",
                           str(_decoders(tmp_path, 18)), display=display)  # fmt: skip
        with live(wall):
            show(server, cams, streams, "T-ASPECT")

            def playing() -> bool:
                tiles = wall.status()["tiles"]
                return len(tiles) == 18 and all(t["state"] == "playing" for t in tiles)

            wait_for(playing, timeout(60), "18 tiles playing")
            tiles = wall.status()["tiles"]
            if not native:
                for t in tiles:
                    w, h = t["picture"]
                    assert abs(w / h - 16 / 9) < 0.03, (t["region"], t["route"], w, h)
                assert {t["route"] for t in tiles} == {"libvlc", "pyav"}
                return
            assert "libvlc-native" in {t["route"] for t in tiles}
            shot = tmp_path / "screen.png"
            grab = (
                "from PySide6.QtGui import QGuiApplication; import sys; "
                "app = QGuiApplication(sys.argv); "
                "app.primaryScreen().grabWindow(0).save(sys.argv[1])"
            )
            env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
            subprocess.run([sys.executable, "-c", grab, str(shot)], env=env, check=True, timeout=60)
            if os.environ.get("WALLCLIENT_SHOTS"):  # docs/screenshots when asked for
                import shutil

                shutil.copy(shot, os.path.join(os.environ["WALLCLIENT_SHOTS"], "video-aspect-x11.png"))
            from PySide6.QtGui import QImage

            image = QImage(str(shot))
            # The first tile of the tall region (x 1280–1920, below the status strip) plays
            # HTTP-TS on a native window: libvlc letterboxes the 16:9 picture into its
            # ~634×470 area — a run of picture rows ~356 high between dark bars, not 470.
            # (the test pattern has a dark mark here and there: the longest of a few columns)
            picture_rows = max(_longest_run(image, x, 70, 620) for x in (1450, 1600, 1750, 1850))
            assert abs(picture_rows - 634 * 9 / 16) <= 10, picture_rows
    finally:
        server.stop()
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)


def _decoders(tmp_path, n: int):
    cfg = tmp_path / "video.toml"
    cfg.write_text(f"[video]\nmax_decoders = {n}\n", encoding="utf-8")
    return cfg

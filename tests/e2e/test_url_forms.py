"""Every URL form a GB/T 28181 platform hands a desktop player plays on a real wall
(`wallclient run --offscreen` against the demo's real servers on 127.0.0.1, and the real
relay for RTMP): HTTP-TS (joined mid-GOP: its first packet is no key frame), HTTP-FLV
without audio, with AAC, and announcing an audio track that never comes, fMP4 over HTTP,
live HLS, RTSP/TCP and RTMP. Each tile plays on the route docs/video.md gives it."""

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
        cams = [c for c in server.admin("cameras") if c["status"] == "online"][:8]
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

"""Video fan-out through a media relay (docs/deployment.md): a real relay on loopback
(Node-Media-Server) pulls each camera once from the demo's RTSP server; two wall PCs play
the relayed streams (HTTP-FLV through libvlc, RTMP through PyAV) while the camera side
sees one viewer per camera, not one per wall."""

import asyncio
import contextlib
import time

import pytest

from tests.helpers import DemoServer, WallProcess, live, timeout, wait_for, write_layout
from wallclient.demo.relay import Relay

LAYOUT = {
    "name": "relay-2x2",
    "screens": [{"name": "r", "x": 0, "y": 0, "width": 1280, "height": 720}],
    "modes": {"normal": {"r": [{"id": "grid", "panel": "video", "rect": [0, 0, 24, 24],
                                "options": {"rows": 2, "cols": 2}}]}},
}  # fmt: skip


@pytest.fixture
def relayed(tmp_path):
    server = DemoServer(tmp_path).start()
    cams = [
        c
        for c in server.admin("cameras")
        if c["status"] == "online" and c["streams"]["sub"].startswith("rtsp")
    ][:2]
    relay = Relay({c["id"]: c["streams"]["sub"] for c in cams}).start()
    layout = write_layout(tmp_path, LAYOUT)
    try:
        with live(*(WallProcess(tmp_path, server.url, "tok-viewer", "--layout", str(layout), node=f"pc{i}")
                    for i in (1, 2))) as walls:  # fmt: skip
            yield server, relay, cams, walls
    finally:
        relay.stop()
        server.stop()


def test_two_walls_play_relayed_cameras_the_camera_serves_the_relay_once(relayed):
    server, relay, cams, walls = relayed
    for c in cams:  # the backend points the wall at the relay, not at the camera
        server.admin("publish", type="camera.upsert",
                     data={**c, "streams": {"sub": relay.flv(c["id"]), "main": relay.rtmp(c["id"])}})  # fmt: skip
    ids = [c["id"] for c in cams]
    server.admin("publish", type="preset.upsert", data={"id": "T-RELAY", "name": "中继", "scenario": "test",
                                                        "emergency": False, "cameras": ids * 2})  # fmt: skip
    server.admin("publish", type="wall.state", data={"wall": "wall-1", "mode": "normal", "preset": "T-RELAY",
                                                     "changed_by": "t", "changed_at": "2026-11-23T15:00:00+08:00"})  # fmt: skip

    def playing(w):
        tiles = w.status()["tiles"]
        return len(tiles) == 4 and all(t["state"] == "playing" and t["fps"] >= 15 for t in tiles)

    for w in walls:
        wait_for(lambda w=w: playing(w), timeout(60), "relayed video on both walls")
    tiles = walls[0].status()["tiles"]
    assert {t["camera"] for t in tiles} == set(ids)
    # eight tiles on two walls; the camera side is asked for each camera once (by the relay)
    viewers = server.admin("media_viewers")
    assert all(viewers.get(c, 0) == 1 for c in ids), viewers


async def _reader(url: str, got: dict[str, int], stop: asyncio.Event) -> None:
    """A plain viewer of a relayed HTTP-FLV stream: reads and counts, decodes nothing."""
    host, rest = url.removeprefix("http://").split("/", 1)
    h, port = host.split(":")
    reader, writer = await asyncio.open_connection(h, int(port))
    writer.write(f"GET /{rest} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                data = await asyncio.wait_for(reader.read(65536), 0.5)
                if not data:
                    return
                got[url] = got.get(url, 0) + len(data)
    finally:
        writer.close()


@pytest.mark.slow
def test_the_relay_pulls_only_what_walls_watch_and_lets_go_after_a_switch(tmp_path):
    media_server = DemoServer(tmp_path).start()  # the cameras: the demo's RTSP server
    rtsp = f"rtsp://admin:pw@127.0.0.1:{media_server.ready['rtsp_port']}/live"
    catalogue = {f"34020000001320{i:06d}": f"{rtsp}/34020000001320{i:06d}/sub" for i in range(1000)}
    relay = Relay(catalogue, linger_s=3.0).start()  # (10 s in service: a tour coming back)
    ids = list(catalogue)
    first, second = ids[:36], ids[500:536]
    try:

        async def watch(cams: list[str], until) -> dict[str, int]:
            got: dict[str, int] = {}
            stop = asyncio.Event()
            # two walls watching the same 36 cameras
            tasks = [
                asyncio.create_task(_reader(relay.flv(c), got, stop)) for c in cams for _ in (1, 2)
            ]
            try:
                deadline = time.monotonic() + timeout(90)
                while time.monotonic() < deadline and not await asyncio.to_thread(until, got):
                    await asyncio.sleep(0.5)
                return dict(got)
            finally:
                stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)

        def pulled() -> dict[str, int]:  # what the camera side sees: one viewer per pulled camera
            return media_server.admin("media_viewers")

        def streaming(cams):
            return lambda got: (sum(1 for c in cams if got.get(relay.flv(c), 0) > 50_000) == len(cams)
                                and set(pulled()) == set(cams))  # fmt: skip

        got = asyncio.run(watch(first, streaming(first)))
        assert all(got.get(relay.flv(c), 0) > 50_000 for c in first), "every relayed stream flowed"
        # the 36 watched cameras, each pulled once for two viewers; none of the other 964
        switched_at = time.monotonic()
        got = asyncio.run(watch(second, streaming(second)))
        viewers = pulled()
        assert set(viewers) == set(second) and all(n == 1 for n in viewers.values()), viewers
        # the first 36 were let go soon after their linger past their last viewer leaving
        assert time.monotonic() - switched_at <= 30 + timeout(60), "the switch took too long"
        left_at = time.monotonic()
        wait_for(lambda: not set(pulled()) & set(first), 30, "old pulls ended")
        assert time.monotonic() - left_at <= relay.linger_s + 10
        # the viewers of the second set are gone too: it is let go as well
        wait_for(lambda: not pulled(), 30, "every pull ended after the last viewer left")
        # one pull per camera watched (72), each ended (its ffmpeg gone, as the relay logs it)
        wait_for(lambda: relay.pulls()["end"] == 72, 10, "the relay's own count of ended pulls")
        assert relay.pulls() == {"start": 72, "end": 72}
    finally:
        relay.stop()
        media_server.stop()

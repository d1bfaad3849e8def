"""Video fan-out through a media relay (docs/deployment.md): a real relay on loopback
(Node-Media-Server) pulls each camera once from the demo's RTSP server; two wall PCs play
the relayed streams (HTTP-FLV through libvlc, RTMP through PyAV) while the camera side
sees one viewer per camera, not one per wall."""

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

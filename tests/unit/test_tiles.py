"""Tile states and tour pages: the rules, with a stand-in player (the e2e test plays real video)."""

import random

from wallclient import tiles
from wallclient.tiles import Tile

CAM = {
    "id": "c1",
    "status": "online",
    "streams": {"sub": "rtsp://u:p@h/s", "main": "rtsp://u:p@h/m"},
}


class FakePlayer:
    def __init__(self):
        self.state, self.error, self.last = "connecting", None, None

    def frames(self):
        return 0 if self.last is None else 1

    def last_frame_at(self):
        return self.last

    def fps(self, now):
        return 25.0


def started(tile, now, cam=CAM, size=(640, 360)):
    actions = tile.step(now, cam, *size)
    assert [a.kind for a in actions] == ["start"]
    tile.player = FakePlayer()
    return tile.player


def test_a_tile_is_live_only_while_frames_arrive():
    t = Tile(random.Random(1))
    t.assign("c1")
    p = started(t, 0.0)
    assert t.state == "connecting"
    p.last = 1.0
    t.step(1.2, CAM, 640, 360)
    assert t.state == "playing"
    t.step(1.0 + tiles.STALE_S + 0.1, CAM, 640, 360)
    assert t.state == "stale"  # a frozen picture is never passed off as live
    actions = t.step(1.0 + tiles.LOST_S + 0.1, CAM, 640, 360)
    assert t.state == "no_signal" and [a.kind for a in actions] == ["stop"]
    assert actions[0].player is p and t.player is None
    assert t.retry_in(1.0 + tiles.LOST_S + 0.1) > 0  # a countdown to the reconnect


def test_never_answering_is_an_error_and_retries_back_off():
    t = Tile(random.Random(1))
    t.assign("c1")
    now = 0.0
    waits = []
    for _ in range(4):
        started(t, now)
        now += tiles.CONNECT_S + 0.1
        assert [a.kind for a in t.step(now, CAM, 640, 360)] == ["stop"]
        assert t.state == "error" and "no picture" in t.error
        waits.append(t.retry_in(now))
        now += waits[-1]
    assert waits == sorted(waits) and waits[-1] > 2 * waits[0]
    # between attempts the retry is "connecting" again, and still says it has failed: which
    # attempt this is and why the last one failed (a status field and a line on the tile)
    started(t, now)
    assert t.state == "connecting" and t.error is None
    assert t.failures == 4 and t.last_failure.startswith("no picture within")
    # a picture: the slate is clean
    t.player.last = now + 0.5
    t.step(now + 0.6, CAM, 640, 360)
    assert t.state == "playing" and t.failures == 0 and t.last_failure is None


def test_offline_camera_is_not_even_tried_and_size_picks_the_stream():
    t = Tile()
    t.assign("c1")
    assert t.step(0, {**CAM, "status": "offline"}, 640, 360) == [] and t.state == "offline"
    started(t, 1.0)
    assert t.stream == "sub"
    actions = t.step(2.0, CAM, 1920, 1080)  # maximised: the main stream
    assert [a.kind for a in actions] == ["stop", "start"] and t.stream == "main"
    assert tiles.stream_for(1920, 1080, {"sub": "x"}) == "sub"  # only one: that one
    assert tiles.stream_for(10, 10, {}) is None


def test_every_node_computes_the_same_tour_page_from_server_time():
    cams = [f"c{i}" for i in range(20)]
    pages = tiles.pages_of(cams, 9)
    assert pages == 3
    changed = 1_000_000.0
    seen = [tiles.tour_page(changed + s, changed, 15, pages) for s in (0, 14.9, 15, 31, 45, 46)]
    assert seen == [0, 0, 1, 2, 0, 0]
    assert tiles.page_cameras(cams, 9, 2) == cams[18:] + [None] * 7

"""Players that never outlive their use (issue 30): real libvlc on real H.264, real
FFmpeg reader threads against a real socket that never answers, the real control
thread and its watchdog."""

import gc
import socket
import threading
import time
import weakref
from pathlib import Path

import pytest
import vlc

from tests.helpers import h264_ts, wait_for
from wallclient.edges.video import AvPlayer, PlayerPool, VlcPlayer, control, memory, pyav


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return h264_ts(tmp_path_factory.mktemp("clip") / "clip.ts", "320x180")


def settled() -> None:
    """Every control job submitted so far has run."""
    control.jobs.submit(lambda: None).result(timeout=20)


def memoized_players() -> int:
    """Media players python-vlc's memoized ``event_manager`` keeps for ever."""
    return len(vlc.MediaPlayer.__dict__["event_manager"]._cache)


def test_tile_size_churn_reuses_one_player_and_the_players_the_pool_ends_are_freed(clip):
    pool = PlayerPool(max_live=2)
    before = memoized_players()
    # tile sizes churn (maximise/restore, other layouts): one libvlc player takes every
    # size, its pictures drawn at each new one — none ended, none made
    for w, h in [(320, 180), (640, 360), (480, 270), (960, 540), (400, 224), (512, 288)]:
        p = pool.acquire(clip, w, h)
        wait_for(lambda p=p, w=w, h=h: p.frames() > 0 and p.slot.width <= w and p.slot.height <= h
                 and (p.slot.width == w or p.slot.height == h), 20, f"frames at {w}x{h}")  # fmt: skip
        pool.release(p)
    assert pool.counts()["created"] == 1 and pool.counts()["closed"] == 0
    ended = weakref.ref(p)
    pool.close()
    settled()
    del p
    gc.collect()
    assert ended() is None, "a player the pool closed is still alive"
    assert memoized_players() == before


def test_pyav_players_take_every_tile_size_too_and_each_picture_fits_its_box(clip):
    # FFmpeg's route (here forced as for a steered camera): tile sizes churn, one player
    # takes them all, its reader drawing each stream at the box it has then
    pool = PlayerPool(max_live=2)
    sizes = [(320, 180), (640, 360), (480, 270), (960, 540), (400, 224)]
    for w, h in sizes:
        p = pool.acquire(clip, w, h, caching_ms=100)
        assert p is not None and p.route == "pyav"
        wait_for(lambda p=p, w=w, h=h: p.frames() > 2 and p.slot.width <= w and p.slot.height <= h
                 and (p.slot.width == w or p.slot.height == h) and p.slot.take(), 20,
                 f"frames at {w}x{h}")  # fmt: skip
        _buf, fw, fh, _pitch = p.slot.front_frame()
        assert fw <= w and fh <= h and (fw == w or fh == h)  # the box, at the picture's aspect
        pool.release(p)
    assert pool.counts()["created"] == 1 and pool.counts()["closed"] == 0
    pool.close()
    assert pyav.readers() == 0


def test_a_closed_player_is_not_called_back_by_libvlc(clip):
    p = VlcPlayer(320, 180)
    p.play(clip)
    wait_for(lambda: p.frames() > 0, 20, "frames")
    p.close()
    settled()
    assert p._events is None
    frames = p.frames()
    time.sleep(0.3)  # a closed player: libvlc's threads have nothing more to hand over
    assert p.frames() == frames


@pytest.mark.parametrize("kind", [VlcPlayer, AvPlayer])
def test_a_closed_player_and_its_picture_buffers_are_freed_without_the_collector(clip, kind):
    # On a busy wall the collector's full pass is minutes apart: a dead player kept alive
    # by a reference cycle (libvlc's callbacks hold it) took its megabytes of picture
    # buffers with it until then — RSS grew with every player the pool ended
    def played_and_closed() -> tuple[weakref.ref, weakref.ref]:
        p = kind(320, 180)
        p.play(clip)
        wait_for(lambda: p.frames() > 2, 20, "frames")
        p.close()
        settled()
        if isinstance(p, AvPlayer):
            assert p.join(6)
        return weakref.ref(p), weakref.ref(p.slot)

    gc.collect()
    gc.disable()
    try:
        player, slot = played_and_closed()
        wait_for(lambda: player() is None and slot() is None, 5, "the player freed by its last reference")
    finally:
        gc.enable()


@pytest.fixture
def silent_server():
    """A TCP server that accepts and never says a word (a camera stuck mid-handshake)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held: list[socket.socket] = []

    def accept():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield srv.getsockname()[1]
    srv.close()
    for c in held:
        c.close()


@pytest.mark.parametrize("form", ["http-flv", "rtsp", "rtmp"])
def test_reader_threads_of_a_stalled_stream_end_within_6_s_of_close(silent_server, form):
    url = {
        "http-flv": f"http://127.0.0.1:{silent_server}/live/a.flv",
        "rtsp": f"rtsp://127.0.0.1:{silent_server}/a",
        "rtmp": f"rtmp://127.0.0.1:{silent_server}/live/a",
    }[form]
    players = [AvPlayer(320, 180) for _ in range(3)]
    for p in players:
        p.play(url)
    wait_for(lambda: pyav.readers() >= 3, 5, "readers started")
    time.sleep(0.5)  # each stuck in FFmpeg's open
    t0 = time.monotonic()
    for p in players:
        p.close()
    left = pyav.reap(6.0)
    assert left == 0, f"{left} reader threads still running 6 s after close"
    assert time.monotonic() - t0 < 6.5
    assert not any(t.name == "pyav-player" for t in threading.enumerate())


def test_a_hung_libvlc_call_abandons_its_player_and_the_rest_keep_playing(clip, monkeypatch):
    monkeypatch.setattr(control.jobs, "stuck_s", 1.5)
    pool = PlayerPool()
    hung = pool.acquire(clip, 320, 180)
    wait_for(lambda: hung.frames() > 0, 20, "first player plays")
    gate = threading.Event()
    # a set_media that never returns (as libvlc's can, on an input it cannot interrupt)
    control.jobs.submit(gate.wait, owner=hung)
    try:
        hung.stop()  # queued behind the hung call
        other = pool.acquire(clip, 640, 360)  # the next tile's switch, also queued
        wait_for(lambda: hung.state == "error", 10, "the hung player given up on")
        assert hung.error == control.STUCK_REASON
        assert control.jobs.stuck >= 1
        wait_for(lambda: other.frames() > 5, 20, "the other tile plays on")
        pool.release(hung)  # its tile lets go: no call into it
        assert pool.counts()["abandoned"] == 1
        again = pool.acquire(clip, 320, 180)
        assert again is not hung  # never handed out again
        wait_for(lambda: again.frames() > 0, 20, "its tile plays again with a new player")
    finally:
        gate.set()
        pool.close()
        settled()
    # the hung call returned: its thread freed the abandoned player and quit
    wait_for(lambda: hung.released, 10, "the abandoned player freed")
    frames = hung.frames()
    time.sleep(0.3)
    assert hung.frames() == frames
    assert control.jobs.oldest_s() < 1.0


def test_the_stops_of_a_switch_make_one_heap_trim_and_start_no_thread_each(monkeypatch):
    # trim_soon is asked on the GUI thread at every player's stop (36 at a switch): a
    # thread started per ask made the GUI wait for each start on a loaded machine
    trims: list[float] = []
    wait_for(lambda: not memory._trim_due, 10, "no trim pending from before")
    monkeypatch.setattr(memory, "trim_heap", lambda: trims.append(time.monotonic()))
    monkeypatch.setattr(memory, "TRIM_AFTER_S", 0.3)
    t0 = time.monotonic()
    for _ in range(36):
        memory.trim_soon()
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    assert [t.name for t in threading.enumerate()].count("heap-trim") == 1
    wait_for(lambda: trims, 5, "the trim")
    assert trims[0] - t0 >= 0.3  # after the last stop asked for, not at the first
    wait_for(lambda: not memory._trim_due and control.jobs.depth() == 0, 5, "nothing pending")
    assert len(trims) == 1


@pytest.mark.parametrize("native", [False, True])
def test_a_libvlc_player_is_made_on_the_control_thread_not_the_callers(clip, monkeypatch, native):
    # media_player_new took 3–17 ms of the GUI thread, 100s of ms on a loaded wall PC,
    # for each player a switch needs; made on the control thread, the tile goes on
    from wallclient.edges.video.libvlc import NativeVlcPlayer

    made_on: list[str] = []
    make = vlc.Instance.media_player_new

    def recorded(self, *args):
        made_on.append(threading.current_thread().name)
        return make(self, *args)

    monkeypatch.setattr(vlc.Instance, "media_player_new", recorded)
    p = NativeVlcPlayer(320, 180) if native else VlcPlayer(320, 180)
    try:
        if not native:  # (a native player draws into a window this test has not got)
            p.play(clip)
            wait_for(lambda: p.frames() > 2, 20, "frames")
        settled()  # its jobs so far have run
        assert made_on == [control.jobs.name]
    finally:
        p.close()
        settled()


@pytest.fixture
def live_http(clip):
    """The clip as a live HTTP stream: no length, sent at about its own pace, as a
    camera's HTTP-FLV or an HLS relay is (libvlc reads such a stream ahead through its
    prefetch filter)."""
    data = Path(clip).read_bytes()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: video/mp2t\r\n\r\n")
            step = max(1, len(data) // 200)  # the 20-s clip in 0.1-s pieces
            for at in range(0, len(data), step):
                if stop.wait(0.1):
                    return
                try:
                    conn.sendall(data[at : at + step])
                except OSError:
                    return

    def accept() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/live/a.ts"
    stop.set()
    srv.close()


def test_a_live_http_stream_does_not_map_a_16_mib_read_ahead_per_tile(live_http):
    # libvlc 3.0's prefetch filter sized its ring by its 16-MiB read size: each HTTP tile
    # mapped 16 MiB and filled it at its bitrate, and the wall's memory grew with every
    # minute a preset stayed up (200+ MB on 16 tiles); now 2 MiB
    from wallclient.resources import heap

    settled()
    before = heap()["mapped"]
    players = [VlcPlayer(320, 180) for _ in range(3)]
    try:
        for p in players:
            p.play(live_http)
        wait_for(lambda: all(p.frames() > 0 for p in players), 20, "pictures from the live stream")
        grew = heap()["mapped"] - before
        assert grew < 3 * 6, f"{grew:.1f} MB mapped for three 320×180 live tiles"
    finally:
        for p in players:
            p.close()
        settled()


@pytest.mark.parametrize("kind", [VlcPlayer, AvPlayer])
def test_an_idle_player_holds_no_picture_and_plays_again_at_its_next_size(clip, kind):
    # idle players kept three pictures of their last tile's size: 16 of them held
    # hundreds of MB on a wall between switches (a maximised tile's alone: 25 MB)
    from wallclient.resources import heap

    def held() -> float:
        h = heap()
        return h["used"] + h["mapped"]

    player = kind(960, 540)
    try:
        player.play(clip)
        wait_for(lambda: player.frames() > 2 and player.slot.width > 480, 20, "pictures at about 960×540")
        settled()
        w, h = player.slot.width, player.slot.height
        before = held()
        player.stop()
        settled()
        assert (player.slot.width, player.slot.height) == (0, 0)
        assert before - held() >= 0.9 * 3 * w * h * 4 / 2**20, "the pictures' memory not handed back"
        player.slot.box = (480, 270)  # the pool hands it to a smaller tile
        player.play(clip)
        wait_for(lambda: player.frames() > 2 and 0 < player.slot.width <= 480, 20, "pictures at 480×270")
    finally:
        player.close()
        settled()

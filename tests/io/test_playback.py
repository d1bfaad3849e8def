"""The replay player and the evidence exporter against a real HTTP playback server on
127.0.0.1 that misbehaves on purpose: each failure is a clear reason on the tile, never a
crash, and an export that cannot finish leaves nothing half-written."""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import timeout, wait_for
from wallclient.edges.evidence import Exporter
from wallclient.edges.playback import Recording, ReplayPlayer
from wallclient.errors import CommandError
from wallclient.replay import Clock, rfc3339

T0 = 1_790_000_000.0  # the recording's start (any fixed moment)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, bytes]:
    """Real recordings made by ffmpeg: H.264 and H.265, 6 s, a key frame each second."""
    out = {}
    d = tmp_path_factory.mktemp("clips")
    for name, codec, seconds in (("h264", "libx264", 6), ("h265", "libx265", 6), ("second", "libx264", 1)):
        path = d / f"{name}.mp4"
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi",
                        "-i", f"testsrc2=size=640x360:rate=25:duration={seconds}", "-c:v", codec,
                        "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
                        "-movflags", "+faststart", str(path)], check=True)  # fmt: skip
        out[name] = path.read_bytes()
    return out


class Playback(ThreadingHTTPServer):
    """/list and /get as the protocol page says, in a chosen ``mode``."""

    daemon_threads = True

    def __init__(self, clips: dict[str, bytes]) -> None:
        self.clips = clips
        self.mode = "ok"
        self.tokens: list[str] = []
        self.born = time.monotonic()  # "growing": the recording is being made from here on
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Playback

    def log_message(self, *_args: object) -> None:
        pass

    def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        srv = self.server
        srv.tokens.append(self.headers.get("Authorization", ""))
        mode = srv.mode
        if mode == "hang":
            time.sleep(30)
            return
        if mode == "401" or self.headers.get("Authorization") != "Bearer tok":
            self._send(401, b"no")
            return
        if self.path.startswith("/list"):
            if mode == "malformed":
                self._send(200, b'{"not": "a list"')
            elif mode == "empty":
                self._send(404, b"no recording")
            elif mode == "growing":  # recorded until half a second ahead of a 1x clock at T0 + 1
                made = time.monotonic() - srv.born + 1.5
                self._send(200, json.dumps([{"start": rfc3339(T0), "duration": made, "url": "x"}]).encode())
            else:
                self._send(200, json.dumps([{"start": rfc3339(T0), "duration": 6.0, "url": "x"}]).encode())
            return
        if mode == "growing":  # one second from the moment asked for, as a recorder cuts it
            start = parse_qs(urlsplit(self.path).query)["start"][0]
            self._send(200, srv.clips["second"], {"Content-Type": "video/mp4", "X-Recorded-Start": start})
            return
        body = {"garbage": os.urandom(200_000), "truncated": srv.clips["h264"][: len(srv.clips["h264"]) // 3],
                "h265": srv.clips["h265"]}.get(mode, srv.clips["h264"])  # fmt: skip
        self._send(200, body, {"Content-Type": "video/mp4", "X-Recorded-Start": rfc3339(T0)})


@pytest.fixture
def server(clips):
    srv = Playback(clips)
    yield srv
    srv.shutdown()
    srv.server_close()


def play(base: str, at: float = T0 + 1.0, token: str = "tok") -> ReplayPlayer:
    player = ReplayPlayer(320, 180)
    player.start(Recording(base, "cam-1", token), Clock(at))
    return player


def test_a_recording_plays_with_the_token_in_the_header_and_its_own_timestamps(server):
    player = play(server.base)
    try:
        wait_for(lambda: player.frames() >= 10, timeout(10), "frames")
        assert player.state == "playing" and player.error is None
        assert T0 + 1.0 - 0.05 <= player.position <= T0 + 6.0  # from the asked moment on
        assert set(server.tokens) == {"Bearer tok"}  # on every request: list and get
    finally:
        player.stop()


@pytest.mark.parametrize("mode, reason", [
    ("401", "playback refused the token (401)"),
    ("malformed", "malformed recording list"),
    ("garbage", "recording unreadable"),
    ("hang", "playback server did not answer"),
])  # fmt: skip
def test_a_bad_playback_server_is_a_reason_on_the_tile(server, mode, reason):
    server.mode = mode
    player = play(server.base)
    try:
        wait_for(lambda: player.state == "error", timeout(15), f"{mode}: an error")
        assert player.error.startswith(reason), player.error
        assert player.frames() == 0
    finally:
        player.stop()


def test_a_server_that_is_down_and_a_range_without_recording(server):
    down = play("http://127.0.0.1:9")  # nothing listens there
    server.mode = "empty"
    gap = play(server.base)
    try:
        wait_for(lambda: down.state == "error", timeout(10), "down")
        assert down.error == "playback server unreachable"
        wait_for(lambda: gap.gap, timeout(10), "a gap")  # "无录像", the clock running on
        assert gap.error is None and gap.shown_at() >= T0 + 1.0
    finally:
        down.stop()
        gap.stop()


def test_a_recording_still_being_made_plays_on_past_what_was_first_listed(server):
    # the list said "until half a second from now"; a second later the recording has grown:
    # the tile asks again and plays on, it does not show 「无录像」 over recorded video
    server.mode = "growing"
    server.born = time.monotonic()
    player = play(server.base)
    try:
        wait_for(lambda: player.frames() >= 1, timeout(10), "the first picture")
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            assert not player.gap and player.state == "playing", (player.gap, player.state, player.error)
            time.sleep(0.02)
        assert player.position > T0 + 3.0  # it went on past the first listing's end
    finally:
        player.stop()


def test_a_truncated_recording_shows_what_it_has(server):
    server.mode = "truncated"
    player = play(server.base, at=T0)
    try:
        # moov first: a file cut short still has its first frames
        wait_for(lambda: player.frames() >= 1 or player.state == "error", timeout(10), "an answer")
        assert player.frames() >= 1 or player.error.startswith("recording unreadable")
    finally:
        player.stop()


def test_an_h265_recording_plays_where_the_machine_decodes_it(server):
    # (this machine's FFmpeg decodes H.265; where it cannot, the tile says FFmpeg's reason,
    # as the garbage case shows)
    server.mode = "h265"
    player = play(server.base)
    try:
        wait_for(lambda: player.frames() >= 5, timeout(10), "H.265 frames")
    finally:
        player.stop()


def _exporter(base: str) -> Exporter:
    return Exporter(
        recording=lambda cam: Recording(base, cam, "tok"),
        cameras_for=lambda _iid: [], incident=lambda _iid: None, history=lambda _iid: [],
        snapshot=lambda _cam, _path: False, who=lambda: {"user": "u", "role": "commander"},
        audit=lambda _row: None,
    )  # fmt: skip


def test_an_export_is_whole_with_its_hashes(server, tmp_path):
    got = asyncio.run(_exporter(server.base).export(
        {"camera": "cam-1", "start": rfc3339(T0), "duration_s": 5, "dir": str(tmp_path)}))  # fmt: skip
    manifest = json.loads(Path(got["manifest"]).read_text())
    import hashlib

    for f in manifest["files"]:
        data = (Path(got["dir"]) / f["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
    assert [p.name for p in tmp_path.iterdir()] == [Path(got["dir"]).name]


def test_an_export_into_a_read_only_folder_leaves_nothing_and_says_why(server, tmp_path):
    ro = tmp_path / "evidence"
    ro.mkdir()
    ro.chmod(0o555)
    immutable = False
    if os.access(ro, os.W_OK):  # root writes anywhere: the folder is made immutable instead
        immutable = subprocess.run(["chattr", "+i", str(ro)], capture_output=True).returncode == 0
        assert immutable, "cannot make a folder read-only for root here (chattr)"
    try:
        with pytest.raises(CommandError) as err:
            asyncio.run(_exporter(server.base).export(
                {"camera": "cam-1", "start": rfc3339(T0), "duration_s": 5, "dir": str(ro)}))  # fmt: skip
        assert err.value.code == "export_failed"
        assert ("Permission denied" in err.value.message or "not permitted" in err.value.message)
        assert str(ro) in err.value.message  # says where
        assert list(ro.iterdir()) == []
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(ro)], check=True)
        ro.chmod(0o700)


FULL_DISK = """
import asyncio, resource, signal, sys
sys.path.insert(0, {root!r})
from tests.io.test_playback import _exporter
from wallclient.errors import CommandError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))  # a disk with 50 kB left
try:
    asyncio.run(_exporter({base!r}).export({{"camera": "cam-1", "start": {start!r}, "duration_s": 5, "dir": {dir!r}}}))
except CommandError as exc:
    print(exc.code, exc.message)
"""


def test_an_export_onto_a_full_disk_leaves_nothing_and_says_why(server, tmp_path):
    root = str(Path(__file__).resolve().parents[2])
    out = subprocess.run([sys.executable, "-c", FULL_DISK.format(
        root=root, base=server.base, start=rfc3339(T0), dir=str(tmp_path))],
        capture_output=True, text=True, timeout=timeout(60))  # fmt: skip
    assert out.stdout.startswith("export_failed File too large"), out.stdout + out.stderr
    assert list(tmp_path.iterdir()) == []  # no half-written package, no partial folder

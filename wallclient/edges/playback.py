"""Playing the past: the playback server's client and a player that follows a Clock.

``PlaybackClient`` speaks MediaMTX's playback API (docs/protocol.md, "Recording and
playback"): ``/list`` and ``/get`` with the wall's bearer token in the request header,
timeouts on every read, no redirect to another host, a cap on the bytes. libvlc cannot
send a header, so the past is fetched here and decoded by PyAV from memory: the same
route on every platform, and the recorded time of every frame is known
(``X-Recorded-Start`` + the frame's timestamp).

A camera whose recordings are the video platform's (a ``resolve`` camera: WVP's
``/api/playback/start``, iSecure Center's ``playbackURLs``) is read the same way, window
by window, but each window is a play URL asked of the backend (``stream.resolve`` with
``kind: playback``, ``PlatformRecordings``), fetched once and released
(``PlatformPlayback``); the platform lists nothing, so a range with no recording is the
platform's 404, said on the tile.

``ReplayPlayer`` is a ``Player`` (wallclient.edges.video) for a tile: it shows the
frame whose recorded time the ``Clock`` has reached, fetches the recording in windows
(a short first one, so the first picture comes quickly, then longer ones fetched
ahead), goes through gaps ("无录像" on the tile while the clock crosses one), and
skips frames it could not decode in time instead of falling behind the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from wallclient.edges.fetch import same_host_opener
from wallclient.edges.video import DECODER_THREADS, FrameSlot, Player, av_reason
from wallclient.edges.video.resolved import REASONS, RESOLVE_TIMEOUT_S, expired
from wallclient.errors import CommandError
from wallclient.replay import Clock, Span, covering, epoch_of, next_start, parse_spans, rfc3339

log = logging.getLogger(__name__)

TIMEOUT_S = 5.0  # connect and each read
MAX_BYTES = 256 * 1024 * 1024  # one window of a main stream is tens of MB at most
# the first fetch after a start or a seek: small, for a quick first picture (one or two
# whole segments: a server may send one as it is, with nothing to join)
FIRST_WINDOW_S = 1.0
WINDOW_S = 30.0  # then windows this long, the next fetched while one plays
LIST_AHEAD_S = 120.0  # /list asks this far ahead of the clock
RETRY_S = 3.0  # after a failure, asked again this long after
SHOWN_FPS = 25.0  # faster than real time, at most this many pictures a second are made
EARLY_S = 0.045  # a frame is shown when the clock is this close to it (half a 25 fps frame + a bit)


class PlaybackError(Exception):
    """Why the past could not be had (shown on the tile; known reasons are translated)."""


@dataclass(frozen=True)
class Recording:
    """Where a camera's recording is read: ``camera.upsert.recording`` and the token, or
    (``platform`` set, ``path`` the camera) the video platform's play URLs."""

    playback: str
    path: str
    token: str
    platform: PlatformRecordings | None = None


_opener = same_host_opener(lambda why: PlaybackError(f"playback server {why}"))


def playback_client(rec: Recording, timeout: float = TIMEOUT_S) -> PlaybackClient:
    """The reader of ``rec``: the playback server's or the platform's."""
    return PlatformPlayback(rec, timeout) if rec.platform is not None else PlaybackClient(rec, timeout)


class PlaybackClient:
    def __init__(self, rec: Recording, timeout: float = TIMEOUT_S) -> None:
        self.rec = rec
        self.timeout = timeout

    def _open(self, query: str) -> Any:
        url = self.rec.playback.rstrip("/") + query
        return self._request(urllib.request.Request(url, headers={"Authorization": f"Bearer {self.rec.token}"}))

    def _request(self, req: urllib.request.Request) -> Any:
        try:
            return _opener.open(req, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                raise PlaybackError("playback refused the token (401)") from None
            if exc.code == 404:
                raise PlaybackError("no recording here") from None
            raise PlaybackError(f"playback server answered {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
                raise PlaybackError("playback server did not answer") from None
            raise PlaybackError("playback server unreachable") from None

    def _read(self, resp: Any) -> bytes:
        chunks, total = [], 0
        try:
            while chunk := resp.read(1 << 20):
                total += len(chunk)
                if total > MAX_BYTES:
                    raise PlaybackError("recording window too large")
                chunks.append(chunk)
        except (OSError, TimeoutError):
            raise PlaybackError("playback server did not answer") from None
        finally:
            resp.close()
        return b"".join(chunks)

    def list(self, start: float, end: float) -> list[Span]:
        """The recorded spans overlapping [start, end] ([] for none)."""
        try:
            resp = self._open(
                f"/list?path={quote(self.rec.path)}&start={quote(rfc3339(start))}"
                f"&end={quote(rfc3339(end))}"
            )
        except PlaybackError as exc:
            if str(exc) == "no recording here":
                return []
            raise
        try:
            return parse_spans(self._read(resp))
        except ValueError as exc:
            raise PlaybackError(f"malformed recording list: {exc}") from None

    def get(self, start: float, duration: float, fmt: str = "mp4") -> tuple[bytes, float]:
        """The recording from ``start`` as an MP4, and the recorded time of its first frame."""
        resp = self._open(
            f"/get?path={quote(self.rec.path)}&start={quote(rfc3339(start))}"
            f"&duration={duration:.3f}&format={fmt}"
        )
        return self._window(resp, start)

    def _window(self, resp: Any, start: float) -> tuple[bytes, float]:
        """A fetched window's bytes and the recorded time of its first frame (the
        server's ``X-Recorded-Start``, else the time asked for)."""
        header = resp.headers.get("X-Recorded-Start")
        try:
            first = epoch_of(header) if header else start
        except ValueError:
            first = start
        return self._read(resp), first


class PlatformRecordings:
    """A camera's recordings asked of the video platform (``stream.resolve``, ``kind:
    playback``) from the replay's and the exporter's threads, through the wall's
    ``Resolver`` on its event loop (its cap and counts shared with the live opens)."""

    # MP4 over HTTP first (a recording's own container), then what FFmpeg reads from memory
    FORMS = ["fmp4", "http-flv", "http-ts"]

    def __init__(self, resolver: Any, loop: Any = None) -> None:
        self.resolver = resolver  # wallclient.edges.video.resolved.Resolver
        self.loop = loop  # the wall's event loop (set once it runs)

    def resolve(self, camera: str, start: float, end: float) -> dict[str, Any]:
        """The platform's answer for ``camera`` from ``start`` to ``end`` (PlaybackError
        with the tile's reason when it says no)."""
        if self.loop is None:
            raise PlaybackError(REASONS["offline"])
        job = self.resolver.resolve(camera, "main", "playback", rfc3339(start), rfc3339(end),
                                    protocols=self.FORMS)  # fmt: skip
        fut = asyncio.run_coroutine_threadsafe(job, self.loop)
        try:
            data: dict[str, Any] = fut.result(RESOLVE_TIMEOUT_S + 2)
        except CommandError as exc:
            raise PlaybackError(REASONS.get(exc.code) or exc.message or exc.code) from None
        except TimeoutError:
            fut.cancel()
            raise PlaybackError(REASONS["platform_timeout"]) from None
        if expired(data.get("expires_at")):
            self.resolver.expired += 1
            raise PlaybackError("the platform's URL had expired")
        return data

    def release(self, token: str) -> None:
        self.loop.call_soon_threadsafe(self.resolver.release, token)


class PlatformPlayback(PlaybackClient):
    """``PlaybackClient``'s reads, each window a fresh play URL from the platform: opened
    once (no bearer token: the URL is its own credential), then released."""

    def list(self, start: float, end: float) -> list[Span]:
        return [Span(start, end - start)]  # the platform lists nothing: a gap is its 404

    def get(self, start: float, duration: float, fmt: str = "mp4") -> tuple[bytes, float]:
        platform = self.rec.platform
        assert platform is not None
        answer = platform.resolve(self.rec.path, start, start + duration)
        try:
            return self._window(self._request(urllib.request.Request(str(answer["url"]))), start)
        finally:
            if answer.get("release"):
                platform.release(str(answer["release"]))


class ReplayPlayer(Player):
    """A tile's player for recorded video, following a Clock."""

    route = "replay"
    slot: FrameSlot

    def __init__(self, width: int, height: int) -> None:
        super().__init__(width, height)
        self.clock: Clock | None = None
        self.position: float | None = None  # recorded time of the frame shown
        self.gap = False  # the clock is in a stretch with no recording
        self.rec: Recording | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.fetches = 0

    def start(self, rec: Recording, clock: Clock) -> None:
        self.stop()
        self.rec, self.clock = rec, clock
        self.url = f"{rec.playback} {rec.path}"
        self.state, self.error = "connecting", None
        self.position, self.gap = None, False
        self.slot.reset()
        stop = self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(rec, clock, stop), name="replay-player", daemon=True
        )
        self._thread.start()

    def play(self, url: str) -> None:
        raise PlaybackError("a replay player starts from a recording and a clock (start)")

    def stop(self) -> None:
        self._stop.set()
        if self.state in ("connecting", "playing"):
            self.state = "idle"

    def shown_at(self) -> float | None:
        """The recorded time on the tile: the frame's the GUI shows (every tile's is taken
        in the same pass), or the clock's across a gap."""
        if self.gap or self.position is None:
            return self.clock.position() if self.clock is not None else None
        shown = self.slot.front_stamp()
        return self.position if shown is None else shown

    # --- the player's thread ---------------------------------------------------------------

    def _run(self, rec: Recording, clock: Clock, stop: threading.Event) -> None:
        client = playback_client(rec)
        ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-fetch")
        nxt: tuple[float, Future[tuple[bytes, float]]] | None = None
        spans: list[Span] = []
        listed = (0.0, 0.0)
        shown_version = -1  # the clock version of the last frame shown
        try:
            while not stop.is_set():
                version = clock.version
                pos = clock.position()
                try:
                    # listed again past the listing, and where it shows no recording: a
                    # recording still being made has grown since (its last span's end is
                    # old news, not a gap)
                    if not (listed[0] <= pos < listed[1] - 5) or covering(spans, pos) is None:
                        spans = client.list(pos - 2, pos + LIST_AHEAD_S)
                        listed = (pos - 2, pos + LIST_AHEAD_S)
                    span = covering(spans, pos)
                    if span is None:
                        self._in_gap(clock, spans, pos, version, stop)
                        listed = (0.0, 0.0)  # the recording may have grown meanwhile
                        continue
                    if nxt is not None and abs(nxt[0] - pos) < 1.0:
                        data, first = nxt[1].result()
                    else:
                        if nxt is not None:
                            nxt[1].cancel()
                        # the first window after a start or a seek is short: its picture
                        # comes sooner; the ones after it are long, fetched ahead
                        first_one = self.position is None or shown_version != version
                        length = FIRST_WINDOW_S if first_one else WINDOW_S
                        data, first = client.get(pos, min(length, span.end - pos + 1.0))
                    nxt = None
                    self.fetches += 1
                    after = self.position if shown_version == version else None

                    def fetch_next(t: float, end: float = span.end) -> Any:
                        if t >= end - 0.1:
                            return None  # a gap (or the recording's end) comes next
                        return (t, ahead.submit(client.get, t, min(WINDOW_S, end - t + 1.0)))

                    nxt = self._play(data, first, clock, version, stop, after, fetch_next)
                    if self.position is not None and self.position != after:
                        shown_version = version
                    if (
                        clock.version == version
                        and self.position is not None
                        and clock.position() < self.position
                    ):  # the window is done: the next one starts after its last frame
                        clock.wait_until(self.position, stop, version)
                except PlaybackError as exc:
                    self._fail(str(exc), clock, stop, version)
                    listed = (0.0, 0.0)
                    nxt = None
        except Exception as exc:  # every failure is a tile state, never a crash
            if not stop.is_set():
                self.state, self.error = "error", av_reason(exc)
                log.info("replay %s: %s", rec.path, self.error)
        finally:
            ahead.shutdown(wait=False, cancel_futures=True)

    def _fail(self, reason: str, clock: Clock, stop: threading.Event, version: int) -> None:
        if stop.is_set():
            return
        self.state, self.error = "error", reason
        log.info("replay %s: %s", self.rec.path if self.rec else "?", reason)
        deadline = time.monotonic() + RETRY_S
        while not stop.is_set() and clock.version == version and time.monotonic() < deadline:
            stop.wait(0.1)

    def _in_gap(self, clock: Clock, spans: list[Span], pos: float, version: int,
                stop: threading.Event) -> None:  # fmt: skip
        """No recording at the clock: say so until it reaches the next span (or, when
        none is listed, re-ask a little later: the recorder may catch up)."""
        self.gap = True
        self.state, self.error = "playing", None
        self.slot.last_frame_at = time.monotonic()  # the tile is alive, not frozen
        resume = next_start(spans, pos)
        target = resume if resume is not None else pos + 2.0
        while not stop.is_set() and clock.version == version:
            if clock.wait_until(target, stop, version, limit=0.25):
                return
            self.slot.last_frame_at = time.monotonic()
        return

    def _play(self, data: bytes, first: float, clock: Clock, version: int,
              stop: threading.Event, after: float | None,
              fetch_next: Callable[[float], Any]) -> Any:  # fmt: skip
        """Show the window's frames on the clock (those after ``after`` only: windows
        overlap by up to a segment); returns the prefetch of the next window, if any."""
        import av

        nxt = None
        try:
            container = av.open(io.BytesIO(data), mode="r")
        except Exception as exc:
            raise PlaybackError(f"recording unreadable: {av_reason(exc)}") from None
        try:
            if not container.streams.video:
                raise PlaybackError("the recording has no video track")
            stream = container.streams.video[0]
            stream.thread_type = "SLICE"
            stream.thread_count = DECODER_THREADS
            length = (container.duration or 0) / 1_000_000  # AV_TIME_BASE
            base: float | None = None
            shape: tuple[int, int] | None = None
            w, h = self.slot.width, self.slot.height
            shown_one = False
            try:
                for frame in container.decode(stream):
                    if stop.is_set() or clock.version != version:
                        return nxt
                    ft = frame.time if frame.time is not None else 0.0
                    base = ft if base is None else base
                    t = first + (ft - base)
                    if after is not None and t <= after + 1e-3:
                        continue  # shown from the window before
                    if nxt is None and length > 0 and t - first > min(2.0, length / 2):
                        # fetched while this one plays, from just past its end: a server
                        # that sends whole segments then starts the next one on its own
                        nxt = fetch_next(first + length + 0.05)
                    if t + EARLY_S < clock.position():
                        continue  # behind the clock: skipped, never converted
                    if clock.speed > 1 and shown_one and self.position is not None:
                        # faster than real time: one picture per step of a grid on the
                        # recorded time that every tile on this clock shares, so they show
                        # the same moments and convert a quarter of the frames at 4×
                        step = clock.speed / SHOWN_FPS
                        if (t + EARLY_S) // step <= (self.position + EARLY_S) // step:
                            continue
                    # paused right after a seek: the frame at the clock is shown at once, and
                    # then nothing more until the clock runs again
                    if shown_one and clock.paused and not clock.wait_running(stop, version):
                        return nxt
                    if (shown_one or not clock.paused) and not clock.wait_until(
                        t - EARLY_S, stop, version
                    ):
                        return nxt
                    if shape != (frame.width, frame.height):
                        shape = (frame.width, frame.height)
                        w, h = self.slot.fitted(*shape)
                    out = frame.reformat(width=w, height=h, format="bgra",
                                         interpolation="FAST_BILINEAR")  # fmt: skip
                    plane = out.planes[0]
                    self.slot.write(plane, plane.line_size, w, h)
                    if stop.is_set() or clock.version != version:
                        return nxt
                    self.position = t
                    self.gap = False  # (a gap is over when its first picture is there)
                    self.slot.produced(t)
                    shown_one = True
                    if self.state != "playing" or self.error:
                        self.state, self.error = "playing", None
            except av.error.FFmpegError as exc:
                if not shown_one and after is None:
                    raise PlaybackError(f"recording unreadable: {av_reason(exc)}") from None
                log.info("replay window cut short: %s", av_reason(exc))  # a truncated file
            return nxt
        finally:
            with contextlib.suppress(Exception):
                container.close()

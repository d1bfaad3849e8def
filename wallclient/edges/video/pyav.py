"""The PyAV (FFmpeg) route: a reader thread per player, for ``rtsp://`` (over TCP),
``rtmp://``, HTTP-FLV and HLS, where libvlc cannot or is slow (Debian builds VLC without
live555: docs/field-notes.md). Measured against libvlc in bench/video.py."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

from wallclient.edges.video.frames import FrameSlot
from wallclient.edges.video.player import DECODER_THREADS, READ_TIMEOUT_S, Player
from wallclient.edges.video.routes import url_form
from wallclient.redact import redact_url

log = logging.getLogger(__name__)

# Every reader thread there is, until it has returned (``reap``, ``status.resources``)
_readers: set[threading.Thread] = set()
_readers_lock = threading.Lock()


class _Reader(threading.Thread):
    """A player's reader thread, started by the launcher (``_launch``)."""

    def __init__(self, player: AvPlayer, args: tuple[Any, ...]) -> None:
        super().__init__(target=player._read, args=args, name="pyav-player", daemon=True)
        self.player = weakref.ref(player)  # not a reference: the player holds its reader
        self.launched = threading.Event()  # started, or failed to start


_launches: queue.SimpleQueue[_Reader] = queue.SimpleQueue()
_launcher: threading.Thread | None = None


def _launch(reader: _Reader) -> None:
    """Start ``reader`` from a thread of its own, not the caller's (the GUI thread's):
    ``Thread.start`` waits until the new thread runs, and on a loaded wall PC that took
    tens of ms of the GUI's time at every switch."""
    global _launcher
    with _readers_lock:
        _readers.add(reader)
        if _launcher is None:
            _launcher = threading.Thread(target=_launching, name="pyav-launcher", daemon=True)
            _launcher.start()
    _launches.put(reader)


def _launching() -> None:
    while True:  # a daemon thread: it ends with the process
        reader = _launches.get()
        try:
            reader.start()
        except RuntimeError as exc:  # no thread to be had: the tile says so
            with _readers_lock:
                _readers.discard(reader)
            player = reader.player()
            if player is not None and player._thread is reader:
                player.state, player.error = "error", f"no reader thread: {exc}"
                player._thread = None  # (its target, never run, would hold the player)
            log.error("pyav: a reader thread could not start: %s", exc)
        finally:
            reader.launched.set()


def _join(reader: threading.Thread, timeout: float) -> None:
    """Wait up to ``timeout`` for a reader to return (one the launcher has not started
    yet: for its start first)."""
    deadline = time.monotonic() + timeout
    launched = getattr(reader, "launched", None)
    if launched is not None and not launched.wait(timeout):
        return
    if reader.ident is not None:
        reader.join(max(0.0, deadline - time.monotonic()))


class AvPlayer(Player):
    """FFmpeg through PyAV on a thread: RTSP over TCP, RTMP, anything libvlc lacks here."""

    route = "pyav"
    slot: FrameSlot
    resizable = True  # its reader fits each stream to the box it has then (``reshape``)

    def __init__(self, width: int, height: int) -> None:
        super().__init__(width, height)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def play(self, url: str) -> None:
        self.stop()
        self.url = url
        self.state, self.error = "connecting", None
        self.slot.reset()
        session = self.slot.begin()  # a reader still finishing the last stream writes no more
        stop = self._stop = threading.Event()
        self._thread = _Reader(self, (url, stop, session))
        _launch(self._thread)

    def stop(self) -> None:
        self._stop.set()  # the thread notices within one frame or one read timeout
        self.slot.release_buffers()  # (its writes are refused from now on)
        if self.state in ("connecting", "playing"):
            self.state = "idle"

    def close(self) -> None:
        """Stop reading; the thread returns within a frame, or within ``READ_TIMEOUT_S``
        of a stalled open or read (FFmpeg's own timeout), and ``reap`` joins it."""
        self.stop()

    def join(self, timeout: float) -> bool:
        """Wait for this player's reader (True: none is left)."""
        thread = self._thread
        if thread is not None:
            _join(thread, timeout)
        return thread is None or not (thread.is_alive() or thread in _readers)

    def _read(self, url: str, stop: threading.Event, session: int) -> None:
        try:
            self._run(url, stop, session)
        finally:
            with _readers_lock:
                _readers.discard(threading.current_thread())

    def _run(self, url: str, stop: threading.Event, session: int) -> None:
        import av

        # Short probing: a live camera is one known H.264 stream; the default probe
        # (5 s of analysis) would delay the first picture of every switch. And no
        # "nobuffer": it throws away the packets read while probing, the keyframe
        # among them, so the first picture waited a whole GOP more (first frame p50
        # 1.21 s with it, 0.27 s without, on a 1 s GOP: docs/benchmarks.md).
        form = url_form(url)
        options = {"flags": "low_delay", "analyzeduration": "0", "probesize": "4096"}
        if form == "rtsp":
            options["rtsp_transport"] = "tcp"
        elif form == "hls":
            options["live_start_index"] = "-1"  # the newest segment, not three behind
        container = None
        if stop.is_set():
            return  # stopped before its launcher got to it: nothing to open
        try:
            container = av.open(url, options=options, timeout=(READ_TIMEOUT_S, READ_TIMEOUT_S))
            if not container.streams.video:
                raise RuntimeError("the stream has no video track")
            stream = container.streams.video[0]
            stream.thread_type = "SLICE"  # frame threading would hold back the first frames
            stream.thread_count = DECODER_THREADS
            # Files play at their own rate; so does live HLS, whose newest segment is
            # read in one go. Live streams arrive at theirs.
            pace = Pacer() if form in ("file", "hls") else None
            shape: tuple[int, int] | None = None
            w, h = self.slot.width, self.slot.height
            for frame in _decoded(container, stream, url):
                if stop.is_set():
                    return
                if pace is not None and frame.time is not None:
                    delay = pace.delay(frame.time, time.monotonic())
                    if delay > 0:
                        time.sleep(delay)
                if shape != (frame.width, frame.height):
                    shape = (frame.width, frame.height)
                    size = self.slot.reshape(*shape, session=session)
                    if size is None:
                        return  # the player plays another stream now
                    w, h = size
                out = frame.reformat(
                    width=w, height=h, format="bgra", interpolation="FAST_BILINEAR"
                )
                plane = out.planes[0]
                if not self.slot.write(plane, plane.line_size, w, h, session):
                    return  # the player plays another stream now: its buffers are not ours
                if stop.is_set():
                    return  # this session is over: its last frame is not shown
                self.slot.produced(session=session)
                if self.state == "connecting" and not stop.is_set():
                    self.state = "playing"
            if not stop.is_set():
                self.state, self.error = "ended", "stream ended"
        except Exception as exc:  # every FFmpeg failure is a tile state, never a crash
            if not stop.is_set():
                self.state, self.error = "error", av_reason(exc)
                log.info("pyav %s: %s", redact_url(url), self.error)
        finally:
            if container is not None:
                with contextlib.suppress(Exception):
                    container.close()


def readers() -> int:
    """PyAV reader threads running now (players playing, and stopped ones finishing)."""
    with _readers_lock:
        return len(_readers)


def reap(timeout: float) -> int:
    """Wait up to ``timeout`` in all for reader threads to return; how many are left."""
    deadline = time.monotonic() + timeout
    with _readers_lock:
        threads = list(_readers)
    for thread in threads:
        _join(thread, max(0.0, deadline - time.monotonic()))
    return readers()


MAX_BAD_PACKETS = 50  # a live stream's packets in a row the decoder may refuse (2 s at 25 fps)


def _decoded(container: Any, stream: Any, url: str) -> Iterator[Any]:
    """The frames of a live stream, past packets its decoder refuses: a camera's or a
    server's hiccup (a restarted encoder, a lost TCP segment, a stream joined mid-GOP)
    costs a few frames, as in libvlc, not the tile (an error and seconds of reconnecting).
    A stream that is nothing but refused packets still fails, with FFmpeg's reason."""
    import av

    bad = 0
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            bad += 1
            if bad > MAX_BAD_PACKETS:
                raise
            if bad == 1:
                log.info("pyav %s: a packet the decoder refused, skipped", redact_url(url))
            continue
        bad = 0
        yield from frames


class Pacer:
    """When a frame of a stream read faster than real time is due (its own clock
    against ours); a jump in the stream's timestamps (a loop, a camera's clock reset)
    starts the count again instead of sleeping or racing."""

    JUMP_S = 1.0

    def __init__(self) -> None:
        self._t0: float | None = None

    def delay(self, pts: float, now: float) -> float:
        if self._t0 is None or abs(self._t0 + pts - now) > self.JUMP_S:
            self._t0 = now - pts
        return self._t0 + pts - now


def av_reason(exc: BaseException) -> str:
    """What went wrong, as a tile says it: FFmpeg's own words without its error number
    and the URL it quotes ("Invalid data found when processing input", "Connection
    refused": translated on the wall), else the exception's text, credentials dropped."""
    strerror = getattr(exc, "strerror", None)
    if isinstance(strerror, str) and strerror:
        return strerror[:200]
    text = str(exc) or type(exc).__name__
    # FFmpeg errors quote the URL: keep the reason, drop credentials
    for token in text.split():
        if "://" in token:
            text = text.replace(token, redact_url(token.strip("'\":,")))
    return text[:200]


# --- routes ----------------------------------------------------------------------------

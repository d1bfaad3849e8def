"""Video players behind one small interface, and the route each URL takes.

- ``VlcPlayer``: libvlc (python-vlc) decoding into our own buffers through its
  video callbacks, so frames land in a ``FrameSlot`` whatever the platform and
  whether or not a display exists. HTTP-TS, HLS, HTTP-FLV, files; RTSP where the
  libvlc build has live555 (official Windows and macOS builds do).
- ``AvPlayer``: PyAV (FFmpeg) on a thread of its own, for ``rtsp://`` (over TCP)
  and ``rtmp://`` where libvlc cannot (Debian builds VLC without live555:
  docs/field-notes.md). Measured against libvlc in bench/video.py.

A ``FrameSlot`` is triple-buffered: the decoder writes the back buffer and swaps it
with the ready one under a lock; the GUI swaps ready and front when a new frame is
there and paints the front buffer, which nobody else touches. No copy, no tearing,
and the decoder never waits for a paint.

Stream URLs may carry credentials: they are never logged (``redact_url``).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from wallclient.redact import redact_url

log = logging.getLogger(__name__)

VLC_ARGS = (
    # Pictures are scaled to their tiles with swscale's fast bilinear filter (default:
    # bicubic): at a wall's tile sizes it cannot be told apart from 5 m, and it took the
    # whole 4 × 4 wall from 2.1 to 1.2–1.5 × a bare decode (docs/benchmarks.md).
    "--swscale-mode=0",
    "--quiet",
    "--no-audio",
    "--avcodec-hw=none",  # no VDPAU/VAAPI probing noise on machines without them
    "--no-osd",
    "--no-snapshot-preview",
    "--no-video-title-show",
)
# Live view: a short network buffer. 300 ms absorbs LAN jitter; lower values show
# more freezes on a loaded 2-core PC, higher ones only add delay (docs/video.md).
NETWORK_CACHING_MS = 300
READ_TIMEOUT_S = 5.0
DECODER_THREADS = 1  # per stream (docs/video.md, "Cost at real sizes")


def fit(src_w: int, src_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """The largest even size with the picture's aspect that fits the tile's box: a
    picture is never stretched (letterboxed or pillarboxed instead)."""
    if src_w <= 0 or src_h <= 0:
        return box_w, box_h
    scale = min(box_w / src_w, box_h / src_h)
    w = max(2, int(round(src_w * scale, 6)) // 2 * 2)  # round: 720 × 1010/720 is 1010
    h = max(2, int(round(src_h * scale, 6)) // 2 * 2)
    return min(w, box_w), min(h, box_h)


def native_window(area_w: int, area_h: int, src_w: int, src_h: int) -> tuple[int, int]:
    """The size of a native tile window inside a picture area of ``area_w`` × ``area_h``
    for a ``src_w`` × ``src_h`` picture: the picture's aspect, and such that the width
    libvlc's X11 output scales to is even. libvlc places the picture at
    ⌊src_w · h / src_h⌋ × h when that fits the window's width, else at the window's width;
    and swscale, asked for an odd width, interpolates chroma over the whole width in a
    plain C path that cost a 4 × 4 wall twice its scaling (docs/video.md)."""
    w, h = fit(src_w, src_h, area_w, area_h)
    if src_w <= 0 or src_h <= 0:
        return w, h
    for _ in range(8):
        placed = src_w * h // src_h
        if placed > w:
            return w, h  # placed at the window's (even) width
        if placed % 2 == 0:
            return placed, h  # the window is the picture
        h -= 1  # one row less: the placed width becomes the even one below
    return w, h


# The aspects cameras send (16:9 HD and its sub streams, 4:3 D1/VGA, 11:9 CIF/D1 PAL, 5:4
# SXGA, 16:10), for sizes that are only known rounded up to the codec's 16-pixel blocks
ASPECTS = (16 / 9, 4 / 3, 11 / 9, 5 / 4, 16 / 10, 3 / 2)


def picture_aspect(width: int, height: int) -> tuple[int, int]:
    """A picture size with the camera's aspect, from a size that may be the coded one
    (rounded up to 16 pixels: 640×368, 1920×1088): snapped to the nearest common aspect
    within 3 %, else as given."""
    if width <= 0 or height <= 0:
        return width, height
    ratio = width / height
    best = min(ASPECTS, key=lambda a: abs(ratio / a - 1))
    if abs(ratio / best - 1) <= 0.03:
        return width, max(2, round(width / best))
    return width, height


class FrameSlot:
    """Three BGRA buffers: back (decoder), ready, front (GUI). Made for the tile's box
    (``box``); once the decoder knows the picture's size it ``reshape``s them to fit the
    box with the picture's own aspect, so the GUI blits 1:1 and nothing is stretched."""

    def __init__(self, width: int, height: int) -> None:
        self.box = (width, height)
        self._lock = threading.Lock()
        self._allocate(width, height)
        self._fresh = False
        self._times: deque[float] = deque(maxlen=64)
        self.frames = 0
        self.shown = 0  # frames the GUI took to paint (a frame replaced before that is not)
        self.last_frame_at: float | None = None

    def _allocate(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.pitch = width * 4
        size = self.pitch * height
        self.buffers = [(ctypes.c_ubyte * size)() for _ in range(3)]
        self.stamps: list[float | None] = [None, None, None]  # each buffer's frame time, if told
        self._back, self._ready, self._front = 0, 1, 2

    def reshape(self, src_w: int, src_h: int) -> tuple[int, int]:
        """The decoder's picture is ``src_w`` × ``src_h``: buffers of the size it is to be
        drawn at (decoder thread, before it writes a frame). Returns that size."""
        w, h = fit(src_w, src_h, *self.box)
        if (w, h) != (self.width, self.height):
            with self._lock:
                # the GUI may still hold the old front buffer in a paint: it keeps its own
                # reference, and frames of the old size are never taken after this
                self._allocate(w, h)
                self._fresh = False
        return w, h

    def front_frame(self) -> tuple[Any, int, int, int]:
        """The front buffer with its size and pitch, consistent with each other (GUI)."""
        with self._lock:
            return self.buffers[self._front], self.width, self.height, self.pitch

    def back_address(self) -> int:
        return ctypes.addressof(self.buffers[self._back])

    def back(self) -> Any:
        return self.buffers[self._back]

    def produced(self, stamp: float | None = None) -> None:
        """The back buffer holds a whole new frame (decoder thread); ``stamp``: its time
        in the stream (a recording's), kept with the buffer until the GUI shows it."""
        t = time.monotonic()
        with self._lock:
            self.stamps[self._back] = stamp
            self._back, self._ready = self._ready, self._back
            self._fresh = True
            self.frames += 1
            self.last_frame_at = t
            self._times.append(t)

    def take(self) -> bool:
        """Make the newest frame the front one (GUI thread); False if none is new."""
        with self._lock:
            if not self._fresh:
                return False
            self._ready, self._front = self._front, self._ready
            self._fresh = False
            self.shown += 1
            return True

    def front(self) -> Any:
        return self.buffers[self._front]

    @property
    def fresh(self) -> bool:
        """A new frame is ready for the GUI to take."""
        return self._fresh

    def ready_stamp(self) -> float | None:
        """The stream time of the new frame waiting for the GUI (None: none, or not told)."""
        with self._lock:
            return self.stamps[self._ready] if self._fresh else None

    def front_stamp(self) -> float | None:
        """The stream time of the frame the GUI shows (None: not told, or none yet)."""
        with self._lock:
            return self.stamps[self._front] if self.shown else None

    def fps(self, now: float, window: float = 2.0) -> float:
        with self._lock:
            times = [t for t in self._times if now - t <= window]
        if len(times) < 2:
            return 0.0
        span = max(times[-1] - times[0], 1e-6)
        return (len(times) - 1) / span

    def reset(self) -> None:
        with self._lock:
            self._fresh = False
            self.frames = 0
            self.shown = 0
            self.last_frame_at = None
            self._times.clear()


class FrameCount:
    """What a tile knows of a player that draws into a native window itself: no
    picture to paint, only how many frames were shown and when (polled)."""

    def __init__(self, width: int, height: int) -> None:
        self.box = (width, height)
        self.width = width
        self.height = height
        self.frames = 0
        self.last_frame_at: float | None = None
        self._samples: deque[tuple[float, int]] = deque(maxlen=64)

    def seen(self, total: int, t: float) -> None:
        """The player has shown ``total`` frames of this session so far (GUI thread)."""
        if total > self.frames:
            self.frames = total
            self.last_frame_at = t
            self._samples.append((t, total))

    def take(self) -> bool:
        return False  # nothing for Qt to paint: the frames are already on the screen

    @property
    def shown(self) -> int:
        return self.frames  # libvlc's own count of pictures displayed

    def fps(self, now: float, window: float = 4.0) -> float:
        # libvlc updates its counts in bursts: a longer window than FrameSlot's smooths them
        recent = [s for s in self._samples if now - s[0] <= window]
        if len(recent) < 2:
            return 0.0
        return (recent[-1][1] - recent[0][1]) / max(recent[-1][0] - recent[0][0], 1e-6)

    def reset(self) -> None:
        self.frames = 0
        self.last_frame_at = None
        self._samples.clear()


class Player:
    """What a tile needs of a player (both kinds)."""

    route = "none"

    native = False  # draws into a native window of its own (``attach``), not into ``slot``

    def __init__(self, width: int, height: int, counted: bool = False) -> None:
        # ``counted``: frames are counted, never held (a native window shows them)
        self.slot: FrameSlot | FrameCount = (FrameCount if counted else FrameSlot)(width, height)
        self.state = "idle"  # idle | connecting | playing | ended | error
        self.error: str | None = None
        self.url: str | None = None
        self.caching_ms: int | None = None  # None: NETWORK_CACHING_MS (a steered tile: less)

    def set_crop(self, crop: tuple[float, float, float, float] | None) -> None:
        """Show only this part of the picture, enlarged (x, y, w, h as fractions): a
        native player's own business; a painted one's tile blits the part itself."""

    def frames(self) -> int:
        return self.slot.frames

    def shown(self) -> int:
        """Frames that reached the screen (painted by Qt, or displayed by libvlc)."""
        return self.slot.shown

    def last_frame_at(self) -> float | None:
        return self.slot.last_frame_at

    def fps(self, now: float) -> float:
        return self.slot.fps(now)

    def play(self, url: str) -> None:
        raise NotImplementedError

    def poll(self, now: float) -> None:
        """Catch up on frames shown (players that cannot tell as they go)."""

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.stop()


TRIM_AFTER_S = 1.0  # the heap is trimmed this long after the last player stopped
TRIM_AT_LEAST_S = 5.0  # … and, however fast presets switch, at least this often
_trim_timer: threading.Timer | None = None
_trim_since = 0.0  # when the pending trim was first asked for
_trim_lock = threading.Lock()


def _trim_soon() -> None:
    """Hand the memory freed by finished inputs back to the system (glibc) once the
    players stopped now are done: TRIM_AFTER_S after the last stop asked for, queued on
    the libvlc control thread behind the stops themselves. One trim per preset switch."""
    global _trim_timer, _trim_since
    if not sys.platform.startswith("linux"):
        return
    with _trim_lock:
        now = time.monotonic()
        if _trim_timer is not None and _trim_timer.is_alive():
            if now - _trim_since > TRIM_AT_LEAST_S:
                return  # switching without a pause: let the pending trim happen
            _trim_timer.cancel()
        else:
            _trim_since = now
        _trim_timer = threading.Timer(TRIM_AFTER_S, lambda: _vlc_jobs.submit(_trim_heap))
        _trim_timer.daemon = True
        _trim_timer.start()


def _trim_heap() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


MMAP_THRESHOLD = 256 * 1024  # blocks this large are mapped (and unmapped when freed)


def cap_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (Linux), before any decoder thread starts.

    libvlc starts threads for every input; with glibc's default of 8 arenas per core
    their freed memory stays fragmented over many arenas and a wall's RSS grew ~20 %
    over 200 preset switches. Capped here it levels off (+10 % at 400 switches);
    exported as MALLOC_ARENA_MAX=2 before the interpreter starts, +2.6 %
    (docs/benchmarks.md). A no-op elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_arena_max, m_mmap_threshold = -8, -3  # from malloc.h
        # A fixed mmap threshold: glibc otherwise raises it each time a large block
        # is freed, and decoders' picture buffers then come from the heap and stay
        # there, fragmented; mapped, they go back to the system when freed.
        libc.mallopt(m_mmap_threshold, MMAP_THRESHOLD)
        return bool(libc.mallopt(m_arena_max, arenas))
    except (OSError, AttributeError):
        return False


# --- libvlc ----------------------------------------------------------------------------

_vlc_instance: Any = None
_vlc_lock = threading.Lock()
# libvlc's stop() blocks for up to a few hundred ms: players are started and stopped
# on this one worker thread, in order, never on the GUI thread.
_vlc_jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vlc-control")


def warm_up() -> None:
    """Start libvlc (its plugin cache, 20–450 ms) on a thread of its own at start-up,
    not on the GUI thread when the first preset arrives."""
    threading.Thread(target=vlc_instance, name="vlc-warm-up", daemon=True).start()


def vout_args() -> list[str]:
    """How libvlc draws into native windows (players with callbacks are not affected).

    On X11 the plain X11 output with OpenGL off: under Xvfb or without a GPU driver,
    libvlc's OpenGL output renders through llvmpipe and cost 5–7 × the bare decode,
    while X11 shared-memory images cost 0.75–1.05 × (docs/benchmarks.md). A wall PC
    whose GPU driver works can take OpenGL back: ``WALLCLIENT_VLC_VOUT=gl``.
    Windows and macOS keep libvlc's defaults (Direct3D, OpenGL on Cocoa).
    """
    if not sys.platform.startswith("linux"):
        return []
    choice = os.environ.get("WALLCLIENT_VLC_VOUT", "x11")
    if choice == "gl":
        return []
    return ["--vout=xcb_x11", "--gl=none", "--gles2=none"]


def native_output(display: bool) -> tuple[bool, str]:
    """How tiles will show video on this machine (``wallclient doctor``; ``display``:
    one can be reached): False when there is an X11 display but libvlc lacks the
    output module to draw into native windows."""
    if sys.platform in ("win32", "darwin"):
        return True, "native windows (libvlc draws into each tile)"
    x11 = os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM", "xcb") == "xcb"
    if not display or not x11:
        return True, "frames through callbacks, painted by Qt (no X11 display)"
    if os.environ.get("WALLCLIENT_VIDEO_NATIVE") == "0":
        return True, "frames through callbacks (WALLCLIENT_VIDEO_NATIVE=0)"
    found = glob.glob("/usr/lib/*/vlc/plugins/video_output/libxcb_x11_plugin.so") + glob.glob(
        "/usr/lib/vlc/plugins/video_output/libxcb_x11_plugin.so"
    )
    if not found:
        return False, "a display, but libvlc has no X11 video output: tiles cannot play natively"
    vout = " ".join(vout_args()) or "libvlc's OpenGL output"
    return True, f"native X11 windows ({vout})"


def native_kind(platform: str) -> str | None:
    """The kind of native window libvlc can draw into under this Qt platform, if any
    (offscreen, Wayland and the rest: frames come through callbacks instead)."""
    return {"xcb": "xwindow", "windows": "hwnd", "cocoa": "nsobject"}.get(platform)


def vlc_instance() -> Any:
    """One libvlc instance per process (its start-up loads the plugin cache once)."""
    global _vlc_instance
    with _vlc_lock:
        if _vlc_instance is None:
            import vlc

            extra = os.environ.get("WALLCLIENT_VLC_ARGS", "").split()  # diagnosis, benches
            _vlc_instance = vlc.Instance(list(VLC_ARGS) + vout_args() + extra)
            if _vlc_instance is None:
                raise RuntimeError("libvlc failed to start (is libvlc installed?)")
        return _vlc_instance


# libvlc_video_format_cb with the chroma as a pointer we may write the four-cc into
# (python-vlc declares it as a read-only string, so a callback could not choose one)
_FORMAT_CB = ctypes.CFUNCTYPE(
    ctypes.c_uint, ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p,
    ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint),
    ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint),
)  # fmt: skip


def _set_format_callbacks(mp: Any, setup: Any) -> None:
    import vlc

    fn = vlc.dll.libvlc_video_set_format_callbacks
    fn.argtypes = [ctypes.c_void_p, _FORMAT_CB, ctypes.c_void_p]
    fn.restype = None
    fn(mp._as_parameter_, setup, None)


class VlcPlayer(Player):
    """libvlc decoding into a FrameSlot through video callbacks (RV32 = BGRA)."""

    route = "libvlc"
    slot: FrameSlot

    def __init__(self, width: int, height: int) -> None:
        super().__init__(width, height)
        import vlc

        self._vlc = vlc
        self._mp = vlc_instance().media_player_new()
        cb = vlc.CallbackDecorators
        # references kept on self: libvlc calls these from its own threads
        self._lock_cb = cb.VideoLockCb(self._on_lock)
        self._display_cb = cb.VideoDisplayCb(self._on_display)
        # no unlock callback: it has nothing to do, and each call into Python from libvlc's
        # threads takes the GIL from the GUI thread (three calls a frame became two)
        self._mp.video_set_callbacks(self._lock_cb, None, self._display_cb, None)
        # libvlc tells the picture's size first: it then scales to the size the tile
        # draws it at, with the picture's own aspect (fit), in one swscale pass
        self._format_cb = _FORMAT_CB(self._on_format)
        self._format_for: tuple[int, tuple[int, int]] | None = None  # (session, size)
        _set_format_callbacks(self._mp, self._format_cb)
        self._watch()

    def _watch(self) -> None:
        vlc = self._vlc
        events = self._mp.event_manager()
        self._event_cb = self._on_event
        for kind in (
            vlc.EventType.MediaPlayerEncounteredError,
            vlc.EventType.MediaPlayerEndReached,
            vlc.EventType.MediaPlayerPlaying,
        ):
            events.event_attach(kind, self._event_cb)
        self._generation = 0  # the session asked for last (GUI thread)
        self._live = 0  # the session libvlc is playing (control thread)

    def _on_format(self, _opaque: Any, chroma: Any, width: Any, height: Any,
                   pitches: Any, lines: Any) -> int:  # fmt: skip
        # libvlc's thread, before the first picture of a stream. libvlc asks several times
        # (a hardware chroma, then another, then I420) and the sizes it hands over are
        # not the picture's: the first is the coded size (640×368 for a 640×360 stream),
        # later ones are derived from our earlier answers (640×386). So the first ask of
        # a session decides, its aspect snapped to the cameras' own (picture_aspect).
        if self._format_for is None or self._format_for[0] != self._live:
            aw, ah = picture_aspect(int(width[0]), int(height[0]))
            self._format_for = (self._live, self.slot.reshape(aw, ah))
        w, h = self._format_for[1]
        ctypes.memmove(chroma, b"RV32", 4)
        width[0], height[0] = w, h
        pitches[0], lines[0] = w * 4, h
        return 1  # one picture buffer plane

    def _on_lock(self, _opaque: Any, planes: Any) -> Any:
        planes[0] = self.slot.back_address()
        return None

    def _on_display(self, _opaque: Any, _picture: Any) -> None:
        if self._live != self._generation:
            return  # a late frame of the previous camera: never shown as this one's
        self.slot.produced()
        if self.state == "connecting":
            self.state = "playing"

    def _on_event(self, event: Any) -> None:
        # libvlc's thread: set plain attributes only, never call back into libvlc
        t = event.type
        if t == self._vlc.EventType.MediaPlayerEncounteredError:
            self.state, self.error = "error", "libvlc could not open or read the stream"
        elif t == self._vlc.EventType.MediaPlayerEndReached:
            self.state, self.error = "ended", "stream ended"

    def play(self, url: str) -> None:
        self.url = url
        self.state, self.error = "connecting", None
        self.slot.reset()
        self._generation += 1
        generation = self._generation
        media = vlc_instance().media_new(url)
        media.add_option(f":network-caching={self.caching_ms or NETWORK_CACHING_MS}")
        media.add_option(":no-audio")
        # One decoding thread per stream: a wall decodes many streams on few cores, and
        # each decoder's own thread pool (cores + 1 threads) only adds switching and
        # synchronisation (docs/video.md, "Cost at real sizes")
        media.add_option(f":avcodec-threads={DECODER_THREADS}")

        def start() -> None:
            self._mp.set_media(media)  # stops what played before, synchronously
            self._keep(media)
            self._live = generation
            if self._mp.play() != 0:
                self.state, self.error = "error", "libvlc refused to play"

        _vlc_jobs.submit(start)
        log.debug("libvlc plays %s", redact_url(url))

    def _keep(self, media: Any) -> None:
        """The player holds its own reference to the media: ours would leak per switch."""
        media.release()

    def stop(self) -> None:
        self.state = "idle"
        self._generation += 1  # frames still in flight belong to no one
        _vlc_jobs.submit(self._mp.stop)

    def close(self) -> None:
        self.state = "idle"
        mp = self._mp

        def release() -> None:
            mp.stop()
            mp.release()

        _vlc_jobs.submit(release)


class NativeVlcPlayer(VlcPlayer):
    """libvlc drawing straight into a native window (``attach``): no copy into Qt.

    X11 (``set_xwindow``), Windows (``set_hwnd``) and macOS (``set_nsobject``) behind
    the same call; a tile gives the window id of a native child widget. libvlc shows
    the frames itself, so the tile learns of them by polling the media's statistics
    (``poll``, five times a second). Measured against the bare decode in bench/video.py.
    """

    route = "libvlc-native"
    native = True
    slot: FrameCount  # type: ignore[assignment]

    def __init__(self, width: int, height: int) -> None:
        Player.__init__(self, width, height, counted=True)
        import vlc

        self._vlc = vlc
        self._mp = vlc_instance().media_player_new()
        self._mp.video_set_mouse_input(False)  # clicks and keys belong to the wall
        self._mp.video_set_key_input(False)
        self._media: Any = None  # ours, for its statistics (GUI thread)
        self._stats = vlc.MediaStats()
        self._crop: tuple[float, float, float, float] | None = None  # wanted
        self._cropped: tuple[Any, ...] | None = None  # (generation, crop) given to libvlc
        self._size: tuple[int, tuple[int, int]] | None = None  # (generation, picture size)
        self._watch()

    def set_crop(self, crop: tuple[float, float, float, float] | None) -> None:
        self._crop = crop
        self._apply_crop()

    def _apply_crop(self) -> None:
        """libvlc's crop (its vout scales the part to the window: no copy in Qt), in the
        picture's pixels — known once it plays, so tried again from ``poll``."""
        want = (self._generation, self._crop)
        if want == self._cropped or self._live != self._generation:
            return
        if self._crop is None:
            if self._cropped is None or self._cropped[1] is None:
                self._cropped = want
                return
            geometry = None
        else:
            w, h = self._mp.video_get_size(0)
            if not w or not h:
                return  # not playing yet
            x, y, cw, ch = self._crop
            # as the borders cut off ("left+top+right+bottom"): libvlc 3 takes a crop
            # window "WxH+X+Y" as if W and H were its right and bottom edges (measured:
            # 640x360+320+180 of 1280×720 showed 320×180; one touching the bottom, 1 row)
            left, top = round(x * w), round(y * h)
            right, bottom = max(0, w - left - round(cw * w)), max(0, h - top - round(ch * h))
            geometry = f"{left}+{top}+{right}+{bottom}"
        self._cropped = want
        _vlc_jobs.submit(self._mp.video_set_crop_geometry, geometry)

    def attach(self, kind: str, handle: int) -> None:
        """Draw into this native window from the next ``play`` on."""
        mp = self._mp
        setter = {"xwindow": mp.set_xwindow, "hwnd": mp.set_hwnd, "nsobject": mp.set_nsobject}[kind]
        _vlc_jobs.submit(setter, handle)  # in order with the stop before and the play after

    def play(self, url: str) -> None:
        self._drop_media()
        super().play(url)
        self._cropped = None

    def _keep(self, media: Any) -> None:
        self._media = media  # released at the next play or close (GUI thread)

    def _drop_media(self) -> None:
        media, self._media = self._media, None
        if media is not None:
            _vlc_jobs.submit(media.release)  # after the player has let go of it

    def poll(self, now: float) -> None:
        media = self._media
        if (
            media is None
            or self._live != self._generation
            or self.state not in ("connecting", "playing")
        ):
            return
        if media.get_stats(self._stats):
            self.slot.seen(int(self._stats.displayed_pictures), now)
            if self.slot.frames and self.state == "connecting":
                self.state = "playing"
        if self.slot.frames and self._cropped != (self._generation, self._crop):
            self._apply_crop()

    def source_size(self) -> tuple[int, int]:
        """The picture's size as libvlc has it (16 × 9 until it plays)."""
        known = self._size
        if known is not None and known[0] == self._generation:
            return known[1]
        if self._live == self._generation and self.state == "playing":
            w, h = self._mp.video_get_size(0)
            if w and h:
                self._size = (self._generation, (int(w), int(h)))
                return int(w), int(h)
        return 16, 9

    def snapshot(self, path: str) -> bool:
        """The picture shown, as a PNG (libvlc's own snapshot: Qt cannot grab it)."""
        return bool(self._mp.video_take_snapshot(0, path, 0, 0) == 0)

    def close(self) -> None:
        super().close()
        self._drop_media()


# --- PyAV (FFmpeg) ---------------------------------------------------------------------


class AvPlayer(Player):
    """FFmpeg through PyAV on a thread: RTSP over TCP, RTMP, anything libvlc lacks here."""

    route = "pyav"
    slot: FrameSlot

    def __init__(self, width: int, height: int) -> None:
        super().__init__(width, height)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def play(self, url: str) -> None:
        self.stop()
        self.url = url
        self.state, self.error = "connecting", None
        self.slot.reset()
        stop = self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(url, stop), name="pyav-player", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()  # the thread notices within one frame or one read timeout
        if self.state in ("connecting", "playing"):
            self.state = "idle"

    def _run(self, url: str, stop: threading.Event) -> None:
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
                    w, h = self.slot.reshape(*shape)
                out = frame.reformat(
                    width=w, height=h, format="bgra", interpolation="FAST_BILINEAR"
                )
                plane = out.planes[0]
                back = self.slot.back()
                if plane.line_size == self.slot.pitch:
                    ctypes.memmove(back, plane.buffer_ptr, self.slot.pitch * h)
                else:
                    src = bytes(plane)
                    for row in range(h):
                        start = row * plane.line_size
                        ctypes.memmove(
                            ctypes.addressof(back) + row * self.slot.pitch,
                            src[start : start + self.slot.pitch],
                            self.slot.pitch,
                        )
                if stop.is_set():
                    return  # this session is over: its last frame is not shown
                self.slot.produced()
                if self.state == "connecting" and not stop.is_set():
                    self.state = "playing"
            if not stop.is_set():
                self.state, self.error = "ended", "stream ended"
        except Exception as exc:  # every FFmpeg failure is a tile state, never a crash
            if not stop.is_set():
                self.state, self.error = "error", _av_reason(exc)
                log.info("pyav %s: %s", redact_url(url), self.error)
        finally:
            if container is not None:
                with contextlib.suppress(Exception):
                    container.close()


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


def _av_reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    # FFmpeg errors quote the URL: keep the reason, drop credentials
    for token in text.split():
        if "://" in token:
            text = text.replace(token, redact_url(token.strip("'\":,")))
    return text[:200]


# --- routes ----------------------------------------------------------------------------


def libvlc_has_rtsp() -> bool:
    """Does this machine's libvlc have live555 (its RTSP client)?"""
    if sys.platform in ("win32", "darwin"):
        return True  # the official builds include it
    patterns = [
        "/usr/lib/*/vlc/plugins/access/liblive555_plugin.so",
        "/usr/lib/vlc/plugins/access/liblive555_plugin.so",
        "/usr/local/lib/vlc/plugins/access/liblive555_plugin.so",
        "/usr/lib64/vlc/plugins/access/liblive555_plugin.so",
    ]
    extra = os.environ.get("VLC_PLUGIN_PATH")
    if extra:
        patterns.append(os.path.join(extra, "**", "liblive555_plugin.so"))
    return any(glob.glob(p, recursive=True) for p in patterns)


# The URL forms GB/T 28181 platforms hand a desktop player (ZLMediaKit's playing URLs as
# WVP gives them out), and the route each takes. Chosen by measurement (docs/video.md,
# "URL forms"): libvlc waits for an FLV's announced audio track (2–6 s, or for ever when
# it never comes) and takes 2.3 s into live HLS, where PyAV shows a picture in 0.1 s;
# HTTP-TS and fMP4 start within 0.7 s in libvlc, which can draw into native windows.
URL_FORMS = {
    "http-ts": "libvlc",
    "http-fmp4": "libvlc",
    "http-flv": "pyav",
    "hls": "pyav",
    "rtmp": "pyav",
    "rtsp": "pyav",  # libvlc where it has live555: route_for
    "http": "libvlc",
    "file": "libvlc",
    "other": "libvlc",  # UDP-TS and the rest libvlc knows
}
FORM_EXAMPLES = {
    "http-ts": "http://host/live/cam.live.ts",
    "http-fmp4": "http://host/live/cam.live.mp4",
    "http-flv": "http://host/live/cam.live.flv",
    "hls": "http://host/live/cam/hls.m3u8",
    "rtmp": "rtmp://host/live/cam",
    "rtsp": "rtsp://host/live/cam",
    "http": "http://host/other",
    "file": "file:///path.mp4",
    "other": "udp://@239.0.0.1:1234",
}


def url_form(url: str) -> str:
    """Which of URL_FORMS a stream URL is (by scheme and the path's ending)."""
    scheme = url.split(":", 1)[0].lower() if "://" in url else "file"  # a bare path: a file
    if scheme in ("rtsp", "rtsps"):
        return "rtsp"
    if scheme in ("rtmp", "rtmps"):
        return "rtmp"
    if scheme in ("http", "https"):
        path = urlsplit(url).path.lower()
        for end, form in ((".flv", "http-flv"), (".m3u8", "hls"), (".mp4", "http-fmp4"),
                          (".ts", "http-ts")):  # fmt: skip
            if path.endswith(end):
                return form
        return "http"
    return "file" if scheme == "file" else "other"


def route_for(url: str, rtsp_in_vlc: bool | None = None) -> str:
    """``libvlc`` or ``pyav`` for a URL on this machine."""
    form = url_form(url)
    if form == "rtsp":
        has = libvlc_has_rtsp() if rtsp_in_vlc is None else rtsp_in_vlc
        return "libvlc" if has else "pyav"
    return URL_FORMS[form]


def routes() -> dict[str, str]:
    """Which route each URL form takes here (``wallclient doctor``)."""
    rtsp = libvlc_has_rtsp()
    return {f"{form} ({FORM_EXAMPLES[form]})": route_for(FORM_EXAMPLES[form], rtsp)
            for form in URL_FORMS}  # fmt: skip


class PlayerPool:
    """Players are reused, not created per camera; at most ``max_live`` decode at once."""

    def __init__(self, max_live: int = 16) -> None:
        self.max_live = max_live
        self.live: set[Player] = set()
        self._idle: list[Player] = []
        self.created = 0

    def acquire(
        self, url: str, width: int, height: int, window: tuple[str, int] | None = None,
        caching_ms: int | None = None,
    ) -> Player | None:
        """A player for ``url`` at ``width`` × ``height`` (drawing into the native
        ``window`` (kind, handle) where libvlc plays it); None when the budget is spent."""
        if len(self.live) >= self.max_live:
            return None
        route = route_for(url)
        if caching_ms is not None:
            # a picture that must follow the hand (a steered PTZ camera): FFmpeg, reading
            # as the packets come — libvlc's callbacks route held 1.2 s even at 100 ms of
            # network caching (measured: docs/benchmarks.md, "Steering")
            route = "pyav"
        if route == "libvlc" and window is not None:
            route = NativeVlcPlayer.route
        for i, p in enumerate(self._idle):
            if p.route == route and (p.native or p.slot.box == (width, height)):
                player = self._idle.pop(i)
                break
        else:
            kind = {"libvlc": VlcPlayer, "pyav": AvPlayer}.get(route, NativeVlcPlayer)
            player = kind(width, height)
            self.created += 1
        if isinstance(player, NativeVlcPlayer) and window is not None:
            player.attach(*window)
        self.live.add(player)
        player.caching_ms = caching_ms
        player.set_crop(None)
        player.play(url)
        return player

    def release(self, player: Player) -> None:
        player.stop()
        # each input libvlc or FFmpeg closes frees megabytes in scattered pieces: given
        # back to the system after the stops, RSS stays level over thousands of switches
        _trim_soon()
        self.live.discard(player)
        self._idle.append(player)
        while len(self._idle) > self.max_live:  # sizes that are no longer asked for
            self._idle.pop(0).close()

    def close(self) -> None:
        for p in list(self.live) + self._idle:
            p.close()
        self.live.clear()
        self._idle.clear()

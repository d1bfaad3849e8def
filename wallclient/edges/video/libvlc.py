"""The libvlc route: one libvlc instance per process, players decoding into a
``FrameSlot`` through video callbacks (``VlcPlayer``), or drawing straight into a
native window (``NativeVlcPlayer``). HTTP-TS, HLS, HTTP-FLV, files; RTSP where the
libvlc build has live555 (official Windows and macOS builds do).

Every call that may block goes to the control thread (``control.jobs``); libvlc's own
threads call our callbacks, which set plain attributes only.
"""

from __future__ import annotations

import ctypes
import glob
import logging
import os
import sys
import threading
from typing import Any

from wallclient.edges.video import control
from wallclient.edges.video.frames import FrameCount, FrameSlot
from wallclient.edges.video.geometry import picture_aspect
from wallclient.edges.video.player import DECODER_THREADS, NETWORK_CACHING_MS, Player
from wallclient.edges.video.sink import SinkSlot, callbacks, library
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
    # libvlc reads a stream that cannot seek fast (HTTP-FLV, HLS) through its prefetch
    # filter, whose ring buffer is the larger of its buffer size and its read size — in
    # 3.0 the read size is 16 MiB, so each such player mapped 16 MiB, touched page by
    # page as the stream came in: a tile's memory grew by its bitrate for minutes (14 MB
    # at 1 Mbit/s after 2 min), 200+ MB over a 16-tile wall, given back at each switch —
    # the wall's RSS swung by that much (docs/benchmarks.md, "Endurance"). 2 MiB is 4 s of
    # a 4 Mbit/s main stream ahead of the demuxer, which takes a live stream as it comes.
    "--prefetch-buffer-size=2048",  # KiB
    "--prefetch-read-size=65536",  # bytes
)


_vlc_instance: Any = None
_vlc_lock = threading.Lock()


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


def _set_sink_callbacks(mp: Any, handle: int | None) -> None:
    """libvlc calls the C sink's ``lock`` and ``display`` with ``handle`` (sink.c)."""
    import vlc

    fn = vlc.dll.libvlc_video_set_callbacks
    fn.argtypes = [ctypes.c_void_p] * 5
    fn.restype = None
    lock, display = callbacks()
    fn(mp._as_parameter_, lock, None, display, handle)


def _set_format_callbacks(mp: Any, setup: Any) -> None:
    import vlc

    fn = vlc.dll.libvlc_video_set_format_callbacks
    fn.argtypes = [ctypes.c_void_p, _FORMAT_CB, ctypes.c_void_p]
    fn.restype = None
    fn(mp._as_parameter_, setup, None)


WATCHED_EVENTS = ("MediaPlayerEncounteredError", "MediaPlayerEndReached", "MediaPlayerPlaying")


class VlcPlayer(Player):
    """libvlc decoding into a FrameSlot through video callbacks (RV32 = BGRA)."""

    route = "libvlc"
    slot: FrameSlot
    released = False  # its libvlc player freed (``release_now``)
    _sink: SinkSlot | None = None  # the C sink its pictures go through (None: Python's callbacks)
    resizable = True  # the format callback fits each stream to the box it has then

    def __init__(self, width: int, height: int) -> None:
        super().__init__(width, height)
        import vlc

        self._vlc = vlc
        if library() is not None:
            # the C sink: libvlc's decoder threads call no Python for a picture (sink.py)
            self.slot = self._sink = SinkSlot(width, height)
            self._lock_cb: Any = None
            self._display_cb: Any = None
        else:
            cb = vlc.CallbackDecorators
            # references kept on self: libvlc calls these from its own threads
            self._lock_cb = cb.VideoLockCb(self._on_lock)
            self._display_cb = cb.VideoDisplayCb(self._on_display)
        # libvlc tells the picture's size first: it then scales to the size the tile
        # draws it at, with the picture's own aspect (fit), in one swscale pass
        self._format_cb: Any = _FORMAT_CB(self._on_format)
        self._format_for: tuple[int, tuple[int, int]] | None = None  # (session, size)
        self._begin()

    def _begin(self) -> None:
        """The libvlc player itself is made on the control thread, first of its jobs:
        ``media_player_new`` took 3–17 ms of the GUI thread here, and 100s of ms on a
        loaded wall PC, for each player a switch needed."""
        self._mp: Any = None
        self._events: Any = None
        self._generation = 0  # the session asked for last (GUI thread)
        self._live = 0  # the session libvlc is playing (control thread)
        control.jobs.submit(self._make, owner=self)

    def _make(self) -> None:
        self._mp = vlc_instance().media_player_new()
        # no unlock callback: it has nothing to do, and each call into Python from libvlc's
        # threads takes the GIL from the GUI thread (three calls a frame became two; with
        # the C sink, none)
        if self._sink is not None:
            _set_sink_callbacks(self._mp, self._sink.handle)
        else:
            self._mp.video_set_callbacks(self._lock_cb, None, self._display_cb, None)
        _set_format_callbacks(self._mp, self._format_cb)
        self._watch()

    def _watch(self) -> None:
        vlc = self._vlc
        # Not ``self._mp.event_manager()``: python-vlc memoizes it in a dict on the class
        # keyed by the player, so every player that ever asked — with the callbacks it
        # attached, and through them this object and its frame buffers — would live as
        # long as the process (one per pool eviction). Asked of libvlc directly, the
        # manager is ours alone, and ``close`` detaches its callbacks.
        self._events = vlc.libvlc_media_player_event_manager(self._mp)
        for kind in WATCHED_EVENTS:
            self._events.event_attach(getattr(vlc.EventType, kind), self._on_event)

    def _on_format(self, _opaque: Any, chroma: Any, width: Any, height: Any,
                   pitches: Any, lines: Any) -> int:  # fmt: skip
        # libvlc's thread, before the first picture of a stream. libvlc asks several times
        # (a hardware chroma, then another, then I420) and the sizes it hands over are
        # not the picture's: the first is the coded size (640×368 for a 640×360 stream),
        # later ones are derived from our earlier answers (640×386). So the first ask of
        # a session decides, its aspect snapped to the cameras' own (picture_aspect).
        if self._format_for is None or self._format_for[0] != self._live:
            aw, ah = picture_aspect(int(width[0]), int(height[0]))
            self._format_for = (self._live, self.slot.fitted(aw, ah))
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
        if self._sink is not None:
            self._sink.want(generation)
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
            if self._sink is not None:
                self._sink.live(generation)
            if self._mp.play() != 0:
                self.state, self.error = "error", "libvlc refused to play"

        control.jobs.submit(start, owner=self)
        log.debug("libvlc plays %s", redact_url(url))

    def _keep(self, media: Any) -> None:
        """The player holds its own reference to the media: ours would leak per switch."""
        media.release()

    def stop(self) -> None:
        self.state = "idle"
        self._generation += 1  # frames still in flight belong to no one
        if self._sink is not None:
            self._sink.want(self._generation)
        control.jobs.submit(self._stop_now, owner=self)

    def last_frame_at(self) -> float | None:
        at = self.slot.last_frame_at
        if at is not None and self.state == "connecting":
            self.state = "playing"  # what ``_on_display`` says at once on the Python route
        return at

    def _stop_now(self) -> None:
        self._mp.stop()  # synchronous: no callback of libvlc's writes a picture after it
        self.slot.release_buffers()

    def close(self) -> None:
        self.state = "idle"
        control.jobs.submit(self.release_now, owner=self)

    def release_now(self) -> None:
        """Detach, stop and free the libvlc player, here and now (the control thread;
        or the thread of a hung call, once it returns after its player was abandoned)."""
        if self.released:
            return
        self.released = True
        events, self._events = self._events, None
        if events is not None:
            for kind in WATCHED_EVENTS:  # libvlc calls no Python of ours from now on
                events.event_detach(getattr(self._vlc.EventType, kind))
        if self._mp is not None:  # (None: abandoned before it was made)
            self._mp.stop()
            self._mp.release()
        if self._sink is not None:  # libvlc holds its address no more
            self._sink.free()
        # libvlc calls none of them any more: let go of the callbacks, which hold this
        # player (a cycle), so that it and its picture buffers are freed now — not at
        # the collector's next full pass, minutes away on a busy wall (issue 30)
        self._lock_cb = self._display_cb = self._format_cb = None


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
        self._media: Any = None  # ours, for its statistics (GUI thread)
        self._stats = vlc.MediaStats()
        self._crop: tuple[float, float, float, float] | None = None  # wanted
        self._cropped: tuple[Any, ...] | None = None  # (generation, crop) given to libvlc
        self._size: tuple[int, tuple[int, int]] | None = None  # (generation, picture size)
        self._begin()

    def _make(self) -> None:
        self._mp = vlc_instance().media_player_new()
        self._mp.video_set_mouse_input(False)  # clicks and keys belong to the wall
        self._mp.video_set_key_input(False)
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
        control.jobs.submit(lambda: self._mp.video_set_crop_geometry(geometry), owner=self)

    def attach(self, kind: str, handle: int) -> None:
        """Draw into this native window from the next ``play`` on."""
        name = {"xwindow": "set_xwindow", "hwnd": "set_hwnd", "nsobject": "set_nsobject"}[kind]
        # in order with the stop before and the play after (and the player's making)
        control.jobs.submit(lambda: getattr(self._mp, name)(handle), owner=self)

    def play(self, url: str) -> None:
        self._drop_media()
        super().play(url)
        self._cropped = None

    def _keep(self, media: Any) -> None:
        self._media = media  # released at the next play or close (GUI thread)

    def _drop_media(self) -> None:
        media, self._media = self._media, None
        if media is not None:
            control.jobs.submit(media.release, owner=self)  # after the player has let go of it

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
        mp = self._mp
        return mp is not None and bool(mp.video_take_snapshot(0, path, 0, 0) == 0)

    def close(self) -> None:
        super().close()
        self._drop_media()

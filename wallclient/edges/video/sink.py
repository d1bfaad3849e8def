"""libvlc's pictures into a tile's buffers without Python on the decoder threads.

``SinkSlot`` is a ``FrameSlot`` whose frame bookkeeping (which buffer is back, ready,
front; the counts and times) lives in C (``sink.c``, built by `make setup` into
``_sink.so``), so that libvlc's ``lock`` and ``display`` callbacks are C functions and
never take the GIL from the GUI thread. The buffers stay Python's (ctypes arrays), sized
by the format callback (Python, once a stream) exactly as before.

Where the library cannot be loaded (not built), ``library()`` is None and the libvlc
route keeps its Python callbacks: slower on a busy wall, the same pictures (``doctor``
says which).
"""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path
from typing import Any

from wallclient.edges.video.frames import FrameSlot

log = logging.getLogger(__name__)

LIBRARY = Path(__file__).with_name("_sink.so")
_VP = ctypes.c_void_p

_lib: Any = None
_tried = False


def library() -> Any:
    """The loaded sink library, or None (not built: the Python callbacks serve)."""
    global _lib, _tried
    if _tried:
        return _lib
    _tried = True
    try:
        # PyDLL: the GUI thread's calls keep the GIL (each is a mutex and a few words);
        # libvlc's threads call lock and display through their addresses, never through
        # Python
        lib = ctypes.PyDLL(str(LIBRARY))
    except OSError as exc:
        log.warning("frame sink not loaded (%s): libvlc's pictures go through Python", exc)
        return None
    lib.wc_sink_new.restype = _VP
    lib.wc_sink_new.argtypes = []
    for name, args in (("wc_sink_free", [_VP]), ("wc_sink_buffers", [_VP, _VP, _VP, _VP]),
                       ("wc_sink_want", [_VP, ctypes.c_long]), ("wc_sink_live", [_VP, ctypes.c_long]),
                       ("wc_sink_reset", [_VP]),
                       ("wc_sink_counts", [_VP, ctypes.POINTER(ctypes.c_long), ctypes.POINTER(ctypes.c_double)])):  # fmt: skip
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, None
    lib.wc_sink_take.argtypes, lib.wc_sink_take.restype = [_VP], ctypes.c_int
    lib.wc_sink_rate.argtypes = [_VP, ctypes.c_double, ctypes.c_double, ctypes.POINTER(ctypes.c_double)]
    lib.wc_sink_rate.restype = ctypes.c_int
    _lib = lib
    return lib


def callbacks() -> tuple[int, int]:
    """The addresses of the C ``lock`` and ``display`` callbacks, for libvlc."""
    lib = library()
    return (ctypes.cast(lib.wc_sink_lock, _VP).value or 0,
            ctypes.cast(lib.wc_sink_display, _VP).value or 0)  # fmt: skip


def _from_sink(k: int) -> Any:
    """A ``SinkSlot`` attribute read from the sink's counts (``_look``'s ``k``-th)."""
    return property(lambda self: self._look()[k], lambda self, _value: None)


class SinkSlot(FrameSlot):
    """A ``FrameSlot`` filled by libvlc through the C sink (``handle`` is its ``opaque``)."""

    def __init__(self, width: int, height: int) -> None:
        self._lib = library()
        self.handle: int | None = self._lib.wc_sink_new()
        if not self.handle:
            raise MemoryError("frame sink")
        super().__init__(width, height)

    def _allocate(self, width: int, height: int) -> None:
        super()._allocate(width, height)
        if self.handle:
            self._lib.wc_sink_buffers(self.handle, *(ctypes.addressof(b) for b in self.buffers))

    # what FrameSlot kept in Python attributes, read from the sink
    def _look(self) -> tuple[int, int, int, float | None, float | None]:
        counts, at = (ctypes.c_long * 3)(), (ctypes.c_double * 2)()  # any thread may look
        with self._lock:  # (and ``free`` may not come between)
            if not self.handle:
                return 0, 0, 0, None, None
            self._lib.wc_sink_counts(self.handle, counts, at)
        return (counts[0], counts[1], counts[2],
                at[0] if at[0] >= 0 else None, at[1] if at[1] >= 0 else None)  # fmt: skip

    # FrameSlot's own bookkeeping assigns these (``__init__``, ``reset``): here the sink
    # keeps them, so an assignment is ignored and a read asks the sink
    frames = _from_sink(0)
    shown = _from_sink(1)
    first_frame_at = _from_sink(3)
    last_frame_at = _from_sink(4)

    @property
    def fresh(self) -> bool:
        return bool(self._look()[2])

    def want(self, session: int) -> None:
        """Frames count from now only once libvlc plays ``session`` (GUI thread)."""
        with self._lock:
            if self.handle:
                self._lib.wc_sink_want(self.handle, session)

    def live(self, session: int) -> None:
        """libvlc plays ``session`` now (control thread)."""
        with self._lock:
            if self.handle:
                self._lib.wc_sink_live(self.handle, session)

    def take(self) -> bool:
        with self._lock:
            front = self._lib.wc_sink_take(self.handle) if self.handle else -1
            if front < 0:
                return False
            self._front = front
            return True

    def ready_stamp(self) -> float | None:
        return None  # libvlc's pictures carry no stream time here (replays use PyAV's)

    def front_stamp(self) -> float | None:
        return None

    def fps(self, now: float, window: float = 2.0) -> float:
        span = (ctypes.c_double * 2)()
        with self._lock:
            if not self.handle:
                return 0.0
            n: int = self._lib.wc_sink_rate(self.handle, now, window, span)
        if n < 2:
            return 0.0
        return float((n - 1) / max(span[1] - span[0], 1e-6))

    def reset(self) -> None:
        with self._lock:
            if self.handle:
                self._lib.wc_sink_reset(self.handle)

    def free(self) -> None:
        """The sink's memory back: only once libvlc calls neither callback any more."""
        with self._lock:
            handle, self.handle = self.handle, None
            if handle:
                self._lib.wc_sink_free(handle)

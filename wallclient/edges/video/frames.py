"""What a decoder fills and a tile takes: ``FrameSlot`` (three BGRA buffers for a
painted tile) and ``FrameCount`` (a native tile's frames, counted, never held).

A ``FrameSlot`` is triple-buffered: the decoder writes the back buffer and swaps it
with the ready one under a lock; the GUI swaps ready and front when a new frame is
there and paints the front buffer, which nobody else touches. No copy, no tearing,
and the decoder never waits for a paint.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections import deque
from typing import Any

from wallclient.edges.video.geometry import fit


class FrameSlot:
    """Three BGRA buffers: back (decoder), ready, front (GUI). Made for the tile's box
    (``box``); once the decoder knows the picture's size it ``reshape``s them to fit the
    box with the picture's own aspect, so the GUI blits 1:1 and nothing is stretched."""

    def __init__(self, width: int, height: int) -> None:
        self.box = (width, height)
        self._lock = threading.Lock()
        self._allocate(width, height)
        self._fresh = False
        self.session = 0  # a reader thread's turn (``begin``): an older one writes nothing
        self._times: deque[float] = deque(maxlen=64)
        self.frames = 0
        self.shown = 0  # frames the GUI took to paint (a frame replaced before that is not)
        self.first_frame_at: float | None = None  # this stream's first (``reset`` forgets it)
        self.last_frame_at: float | None = None

    def _allocate(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.pitch = width * 4
        size = self.pitch * height
        self.buffers = [(ctypes.c_ubyte * size)() for _ in range(3)]
        self.stamps: list[float | None] = [None, None, None]  # each buffer's frame time, if told
        self._back, self._ready, self._front = 0, 1, 2

    def begin(self) -> int:
        """A new reader's turn (GUI thread, as a player plays a stream): the session it
        passes to ``reshape``, ``write`` and ``produced``. A reader still finishing an
        older session — stopped, not yet returned — can no longer touch the buffers."""
        with self._lock:
            self.session += 1
            return self.session

    def reshape(self, src_w: int, src_h: int, session: int | None = None) -> tuple[int, int] | None:
        """The decoder's picture is ``src_w`` × ``src_h``: buffers of the size it is to be
        drawn at (decoder thread, before it writes a frame). Returns that size (None: the
        ``session`` is over)."""
        w, h = fit(src_w, src_h, *self.box)
        with self._lock:
            if session is not None and session != self.session:
                return None
            if (w, h) != (self.width, self.height):
                # the GUI may still hold the old front buffer in a paint: it keeps its own
                # reference, and frames of the old size are never taken after this
                self._allocate(w, h)
                self._fresh = False
        return w, h

    def fitted(self, src_w: int, src_h: int) -> tuple[int, int]:
        """``reshape`` for a slot one reader alone ever writes (a replay's)."""
        size = self.reshape(src_w, src_h)
        assert size is not None  # no session given: never refused
        return size

    def write(self, src: Any, src_pitch: int, width: int, height: int,
              session: int | None = None) -> bool:  # fmt: skip
        """Copy a decoded BGRA picture (``src``: any buffer, its rows ``src_pitch`` bytes
        apart) into the back buffer (decoder thread). Refused (False) when the buffers
        are no longer ``width`` × ``height`` or the ``session`` is over: a stopped
        reader's last picture never lands in buffers reshaped for the next one.

        The copy is made outside the lock (the GUI takes frames meanwhile: the back
        buffer is the writer's alone) and in one call, padded rows included: a copy row
        by row in Python handed the GIL back and forth 360 times a picture, and under
        load each hand-back could wait for another thread's whole switch interval."""
        import numpy as np

        with self._lock:
            if (width, height) != (self.width, self.height):
                return False
            if session is not None and session != self.session:
                return False
            back, pitch = self.buffers[self._back], self.pitch
        rows = np.frombuffer(src, np.uint8, count=src_pitch * height).reshape(height, src_pitch)
        np.frombuffer(memoryview(back), np.uint8).reshape(height, pitch)[:] = rows[:, :pitch]
        return True

    def front_frame(self) -> tuple[Any, int, int, int]:
        """The front buffer with its size and pitch, consistent with each other (GUI)."""
        with self._lock:
            return self.buffers[self._front], self.width, self.height, self.pitch

    def back_address(self) -> int:
        return ctypes.addressof(self.buffers[self._back])

    def produced(self, stamp: float | None = None, session: int | None = None) -> None:
        """The back buffer holds a whole new frame (decoder thread); ``stamp``: its time
        in the stream (a recording's), kept with the buffer until the GUI shows it."""
        t = time.monotonic()
        with self._lock:
            if session is not None and session != self.session:
                return  # a stopped reader's: never shown as the new stream's
            self.stamps[self._back] = stamp
            self._back, self._ready = self._ready, self._back
            self._fresh = True
            self.frames += 1
            if self.first_frame_at is None:
                self.first_frame_at = t
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

    def release_buffers(self) -> None:
        """Hand the pictures' memory back while the player waits idle in the pool; its
        next stream allocates them again at the size it is drawn at (``reshape``). Idle
        players held three pictures each at the size of their last tile — 25 MB for a
        maximised one, 100s of MB over a pool of 16 — and the wall's RSS swung with how
        many were idle. Called once the decoder can no longer write into them: libvlc
        stopped (on the control thread, after its ``stop`` returned); a PyAV reader still
        finishing is refused from here on (its session is over)."""
        with self._lock:
            self.session += 1
            self._allocate(0, 0)
            self._fresh = False

    def reset(self) -> None:
        with self._lock:
            self._fresh = False
            self.frames = 0
            self.shown = 0
            self.first_frame_at = None
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
        self.first_frame_at: float | None = None
        self.last_frame_at: float | None = None
        self._samples: deque[tuple[float, int]] = deque(maxlen=64)

    def seen(self, total: int, t: float) -> None:
        """The player has shown ``total`` frames of this session so far (GUI thread)."""
        if total > self.frames:
            if not self.frames:
                self.first_frame_at = t
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

    def release_buffers(self) -> None:
        """Nothing to hand back: libvlc draws into the window, no picture is held here."""

    def reset(self) -> None:
        self.frames = 0
        self.first_frame_at = None
        self.last_frame_at = None
        self._samples.clear()

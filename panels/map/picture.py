"""One layer's picture, drawn for one view and one version of what it shows.

A layer is drawn by a generator that yields every millisecond or so of work; ``Picture``
drives it on a back buffer in slices of the caller's choosing and swaps it in whole, so
the map never shows half a layer and no paint or tick waits for a whole one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QPointF, QSize
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPixmap, QTransform

from wallclient.viewport import Viewport

XY = Callable[[float, float], QPointF]
Draw = Callable[[QPainter], Iterator[object]]
WAIT = object()  # yielded by a layer whose picture another thread is making: the turn ends here


def qxy(v: Viewport) -> XY:
    """``v.xy`` as QPointF, in one closure (called for every marker of a layer)."""
    cx, cy, clon, clat, k = v.width / 2, v.height / 2, v.lon, v.lat, v.k
    kk = v.kx * k

    def xy(lon: float, lat: float) -> QPointF:
        return QPointF(cx + (lon - clon) * kk, cy - (lat - clat) * k)

    return xy


class Picture:
    """A layer's front picture (what paints show) and the job drawing its next one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.key: Any = None  # what ``front`` shows: (view key, data key)
        self.front: QPixmap | None = None
        self._job: _Slices | None = None
        self._job_key: Any = None
        self._back: QPixmap | None = None
        self.step_ms: list[float] = []  # the last slices' durations (bench)
        self.waiting = False  # the last ``work`` ended on a WAIT: another thread makes it

    def shows(self, key: Any) -> bool:
        return self.front is not None and self.key == key

    def pending(self, key: Any) -> bool:
        """A job for ``key`` is under way."""
        return self._job is not None and self._job_key == key

    def work(self, key: Any, size: QSize, fill: QColor, draw: Draw, until: float) -> bool:
        """Draw towards ``key`` until ``time.perf_counter()`` reaches ``until`` (at least
        one slice); True once ``front`` shows it."""
        if self.shows(key):
            return True
        if self._job is None or self._job_key != key:
            self.drop()
            back = self._back if self._back is not None and self._back.size() == size else QPixmap(size)
            back.fill(fill)
            self._back, self._job_key = back, key
            self._job = _Slices(back, draw)
        job = self._job
        self.waiting = False
        job.begin()
        try:
            while True:
                t = time.perf_counter()
                more = job.step()
                self.step_ms.append((time.perf_counter() - t) * 1000)
                del self.step_ms[:-2000]
                if more is WAIT:
                    self.waiting = True
                    return False  # come back next turn, rather than spin on the GUI thread
                if not more:
                    self._job = None
                    self.front, self._back = self._back, self.front
                    self.key = key
                    return True
                if time.perf_counter() >= until:
                    return False
        finally:
            job.end()

    def drop(self) -> None:
        """Abandon the job under way (its painter is ended)."""
        if self._job is not None:
            self._job.close()
            self._job = None


class _Slices:
    """A layer's drawing, a slice at a time, its painter open only while a turn of the event
    loop draws it (``begin`` … ``end``): no painter stays active between turns (a job left to the garbage
    collector — it and its panel refer to each other — is then harmless on whichever
    thread collects it), and the painter's state is carried from one slice to the next."""

    def __init__(self, back: QPixmap, draw: Draw) -> None:
        self._back = back
        self._p = QPainter()
        self._state: tuple[Any, ...] | None = None
        self._gen = draw(self._p)

    def begin(self) -> None:
        p = self._p
        p.begin(self._back)
        if self._state is not None:
            hints, pen, brush, font, opacity, transform = self._state
            p.setRenderHints(hints)
            p.setPen(pen)
            p.setBrush(brush)
            p.setFont(font)
            p.setOpacity(opacity)
            p.setTransform(transform)

    def step(self) -> object:
        """One slice (between ``begin`` and ``end``): False when the drawing is done,
        WAIT while another thread makes what it draws, True otherwise."""
        try:
            return WAIT if next(self._gen) is WAIT else True
        except StopIteration:
            return False

    def end(self) -> None:
        p = self._p
        if p.isActive():
            self._state = (p.renderHints(), QPen(p.pen()), QBrush(p.brush()), QFont(p.font()),
                           p.opacity(), QTransform(p.transform()))  # fmt: skip
            p.end()

    def close(self) -> None:
        close = getattr(self._gen, "close", None)
        if close is not None:
            close()

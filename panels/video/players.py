"""The players a video panel holds, acquired from the wall's pool and given back to it
through ``Players`` alone; and, where the platform has them, the native windows libvlc
draws into: one ``Surface`` per native player, made once and kept (spare ones reused),
shown over its tile's picture area while the tile plays, hidden otherwise."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QGuiApplication, QPaintEvent
from PySide6.QtWidgets import QWidget

from panels.video.geometry import centred, parts
from wallclient.edges.video import native_kind, native_window


class Surface(QWidget):
    """A native child window that libvlc draws a camera into. Qt never paints it, and
    it lets mouse and drops through to the panel (double-click, drag a camera onto it)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        for attr in (Qt.WidgetAttribute.WA_NativeWindow,
                     Qt.WidgetAttribute.WA_DontCreateNativeAncestors,  # the panel stays Qt's
                     Qt.WidgetAttribute.WA_NoSystemBackground,
                     Qt.WidgetAttribute.WA_OpaquePaintEvent,
                     Qt.WidgetAttribute.WA_TransparentForMouseEvents):  # fmt: skip
            self.setAttribute(attr)
        self.hide()

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        return  # libvlc's


def native_video() -> str | None:
    """The native window kind tiles hand to libvlc here (None: frames through callbacks).
    ``WALLCLIENT_VIDEO_NATIVE=0`` keeps callbacks on any platform."""
    if os.environ.get("WALLCLIENT_VIDEO_NATIVE", "1") == "0":
        return None
    return native_kind(QGuiApplication.platformName())


class Players:
    """Players of one panel, acquired from the pool and given back to it; on a platform
    with native windows each native player gets a window of the panel's to draw into."""

    def __init__(self, panel: QWidget, pool: Any) -> None:
        self.panel = panel
        self.pool = pool  # the wall's PlayerPool (None: tiles show no picture)
        self.kind = native_video() if pool is not None else None
        self._held: dict[int, tuple[Any, Surface]] = {}  # id(player) → (player, window)
        self._spare: list[Surface] = []
        self._lost: list[Surface] = []  # windows of abandoned players

    def acquire(self, url: str, w: int, h: int, caching_ms: int | None = None) -> Any:
        """A pooled player; on a platform with native windows, one drawing into a window
        of the panel's (hidden until its tile plays)."""
        if self.pool is None:
            return None
        if self.kind is None:
            return self.pool.acquire(url, w, h, caching_ms=caching_ms)
        surface = self._spare.pop() if self._spare else Surface(self.panel)
        player = self.pool.acquire(url, w, h, (self.kind, int(surface.winId())), caching_ms=caching_ms)
        if player is None or not player.native:  # the budget, or a PyAV route (RTSP here)
            self._spare.append(surface)
            return player
        self._held[id(player)] = (player, surface)
        return player

    def acquire_resolved(self, camera: str, stream: str, w: int, h: int,
                         caching_ms: int | None = None, hold_s: float = 0.0) -> Any:  # fmt: skip
        """A player for a camera whose play URL is asked for at each open (``resolve``);
        on a platform with native windows it may draw into one of the panel's, shown only
        once it does (the URL's form decides: PyAV's pictures are painted). ``hold_s``:
        how long its URL may wait for a decoder (a tour page started ahead)."""
        if self.pool is None:
            return None
        if self.kind is None:
            return self.pool.acquire_resolved(camera, stream, w, h, caching_ms=caching_ms, hold_s=hold_s)
        surface = self._spare.pop() if self._spare else Surface(self.panel)
        player = self.pool.acquire_resolved(camera, stream, w, h, (self.kind, int(surface.winId())),
                                            caching_ms=caching_ms, hold_s=hold_s)  # fmt: skip
        self._held[id(player)] = (player, surface)
        return player

    def give_back(self, player: Any) -> None:
        if self.pool is not None:
            self.pool.release(player)
        got = self._held.pop(id(player), None)
        if got is not None:
            got[1].hide()
            if player.abandoned:
                # libvlc, hung, may still draw into it: never lent to another player
                self._lost.append(got[1])
            else:
                self._spare.append(got[1])

    def windows(self) -> int:
        """Native windows this panel has made (each one an X client's drawable)."""
        return len(self._held) + len(self._spare) + len(self._lost)

    def poll(self, now: float) -> None:
        """Native players say how many frames they have shown."""
        for native, _surface in self._held.values():
            native.poll(now)

    def place(self, tiles: Iterable[Any], rects: Iterable[QRectF], scale: float) -> None:
        """Each tile's native window over its picture area, shown while it plays; the
        rest hidden (a frozen picture, an error, a pre-started player not due yet)."""
        if not self._held:
            return
        placed: set[int] = set()
        for tile, rect in zip(tiles, rects, strict=True):
            got = self._held.get(id(tile.player)) if tile.player is not None else None
            if got is None:
                continue
            placed.add(id(got[1]))
            area = parts(rect, scale)[1]
            # the picture's own size and aspect, its width even (edges.video.native_window)
            w, h = native_window(int(area.width()), int(area.height()), *got[0].source_size())
            got[1].setGeometry(centred(area, w, h).toAlignedRect())
            got[1].setVisible(tile.state == "playing" and got[0].native and not rect.isEmpty())
        for _player, surface in self._held.values():
            if id(surface) not in placed:
                surface.hide()

    def __len__(self) -> int:
        """Native players held (each with its window)."""
        return len(self._held)

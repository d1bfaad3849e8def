"""The map's ground: basemap tiles under everything the map draws.

Tiles are read and decoded off the GUI thread (one reader thread: the newest requests
first, so a pan's tiles come before the ones it left behind) into QImages kept in a
bounded cache (least recently drawn out). A tile not there yet is drawn from its parent
(up to four levels up), scaled, until it arrives; a ring of tiles around the view is
asked for ahead; zooms past the file's deepest level are drawn from that level, scaled.
The basemap is drawn as the file has it, dimmed for a dark wall (never recoloured).

Datums: the map's own coordinates are WGS-84 (the protocol's). A GCJ-02 basemap (高德,
腾讯) is registered by converting each tile's corners to WGS-84 (4 points a tile, each
exact to well under a millimetre; the offset changes by centimetres across a tile), so
markers sit on the right street and a click on the map is WGS-84 already.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QPointF, QRectF, QTimer
from PySide6.QtGui import QColor, QImage, QPainter

from wallclient.edges.tiles import BasemapError, TileSource, open_basemap, sniff
from wallclient.mercator import gcj_to_wgs, tile_box, tiles_for, wgs_to_gcj, world

log = logging.getLogger(__name__)

CACHE_TILES = 768  # ~200 MB at 256 px RGB32: a 4K map's tiles and their ring, twice over
PARENT_LEVELS = 4  # a missing tile is drawn from an ancestor at most this far up
DIM = QColor(7, 11, 20, 96)  # a veil over the basemap so markers stand out on a dark wall
MAX_PIXELS = 1024 * 1024  # a tile larger than this when decoded is refused
TILES_PER_SLICE = 3  # tiles drawn between two yields of ``drawing`` (~1 ms)
XY = Callable[[float, float], QPointF]
Key = tuple[int, int, int]


class Basemap(QObject):
    """One basemap file for the maps of this node (shared: one cache, one reader)."""

    def __init__(self, source: TileSource | None, error: str | None = None, datum: str = "wgs84") -> None:
        super().__init__()
        self.source = source
        self.error = error
        self.datum = datum
        self.version = 0  # grows when tiles arrive (the map's layer key)
        self.unreadable = 0  # tiles that were not images or would not decode
        self.missing = 0  # tiles the view needed that the file does not have
        self.waiting = 0  # tiles of the last drawn view not there yet (drawn from parents)
        self.listeners: list[Callable[[], None]] = []
        self._cache: OrderedDict[Key, QImage | None] = OrderedDict()
        self._cache_limit = CACHE_TILES
        self._pending: set[Key] = set()
        self._read_done: set[Key] = set()  # read by the reader (bounded with the cache)
        self._wanted: queue.LifoQueue[Key] = queue.LifoQueue()
        self._done: queue.SimpleQueue[tuple[Key, QImage | None, str]] = queue.SimpleQueue()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._arrived)
        if source is not None:
            threading.Thread(target=self._read, name="basemap-reader", daemon=True).start()
            self._timer.start(40)

    @classmethod
    def open(cls, path: str | None, datum: str = "wgs84") -> Basemap | None:
        """The basemap in ``path`` (None: none configured); a broken one says why."""
        if not path:
            return None
        try:
            return cls(open_basemap(path), None, datum)
        except BasemapError as exc:
            log.warning("basemap: %s", exc)
            return cls(None, str(exc), datum)

    @property
    def coming(self) -> int:
        """Tiles asked for and not read yet."""
        return len(self._pending)

    def status(self) -> dict[str, Any]:
        error = self.error
        if error is None and self.unreadable:
            error = f"{self.unreadable} tiles could not be read as images"
        return {"source": str(self.source.path) if self.source else None,
                "ok": self.source is not None and self.error is None, "error": error,
                "datum": self.datum}  # fmt: skip

    # --- reading, off the GUI thread ------------------------------------------------------

    def _read(self) -> None:
        assert self.source is not None
        while True:
            key = self._wanted.get()
            if key in self._cache or key in self._read_done:
                continue  # asked for twice (again=True): read once
            self._read_done.add(key)
            try:
                data = self.source.get(*key)
            except Exception as exc:  # a damaged file: this tile is missing, the map goes on
                self._done.put((key, None, f"read: {exc}"))
                continue
            if data is None:
                self._done.put((key, None, "missing"))
                continue
            if sniff(data) is None:
                self._done.put((key, None, "not an image"))
                continue
            img = QImage.fromData(data)
            if img.isNull() or img.width() * img.height() > MAX_PIXELS:
                self._done.put((key, None, "not an image"))
                continue
            self._done.put((key, img.convertToFormat(QImage.Format.Format_RGB32), ""))

    def _arrived(self) -> None:
        got = False
        while True:
            try:
                key, img, why = self._done.get_nowait()
            except queue.Empty:
                break
            self._pending.discard(key)
            self._cache[key] = img
            if img is not None and self.source is not None:
                self._size_from(img)
            if why == "not an image" or why.startswith("read"):
                self.unreadable += 1
            elif why == "missing":
                self.missing += 1
            got = True
        while len(self._cache) > self._cache_limit:
            gone, _img = self._cache.popitem(last=False)
            self._read_done.discard(gone)  # may be read again when the view comes back
        if got:
            self.version += 1
            for listener in list(self.listeners):
                listener()

    def _size_from(self, img: QImage) -> None:
        """A file's tiles are the size their pictures are: MBTiles says it only in an
        optional metadata key, PMTiles not at all, and 512-px tiles are common. The zoom
        level drawn follows (a 512-px tile at z carries what four 256-px ones at z+1 do),
        and the cache holds as many pixels, not as many tiles."""
        src = self.source
        size = img.width()
        if src is None or size == src.tile_size or size != img.height() or size not in (256, 512, 1024):
            return
        log.info("basemap %s: %d-px tiles (the file said %d)", src.path, size, src.tile_size)
        src.tile_size = size
        self._cache_limit = max(64, CACHE_TILES * 256 * 256 // (size * size))

    def _want(self, key: Key, again: bool = False) -> None:
        """Ask the reader for a tile (``again``: once more even if asked before, so that it
        comes to the top of the reader's stack: the view needs it now)."""
        if key in self._cache or (key in self._pending and not again):
            return
        self._pending.add(key)
        self._wanted.put(key)

    # --- drawing ---------------------------------------------------------------------------

    def draw(self, p: QPainter, xy: XY, box: tuple[float, float, float, float],
             world_px: float) -> int:  # fmt: skip
        """Draw the tiles of the view (``box``: WGS-84 west, south, east, north; the world
        ``world_px`` pixels wide); returns how many tiles are not there yet."""
        for _ in self.drawing(p, xy, box, world_px):
            pass
        return self.waiting

    def drawing(self, p: QPainter, xy: XY, box: tuple[float, float, float, float],
                world_px: float) -> Iterator[None]:  # fmt: skip
        """``draw``, a few tiles at a time (the map's layers are drawn in slices)."""
        src = self.source
        if src is None:
            return
        z_want = math.log2(max(1.0, world_px / src.tile_size))
        z = max(src.min_zoom, min(src.max_zoom, round(z_want)))
        west, south, east, north = box
        if self.datum == "gcj02":  # the tiles' own coordinates
            west, north = wgs_to_gcj(west, north)
            east, south = wgs_to_gcj(east, south)
        x0, y0 = world(west, north)
        x1, y1 = world(east, south)
        n = 1 << z
        view = list(tiles_for(x0, y0, x1, y1, z))  # nearest the centre first
        missing = [(z, tx, ty) for tx, ty in view if (z, tx, ty) not in self._cache]
        # asked for first (a view abandoned half drawn has its tiles coming), in the order
        # the reader should take them (it takes the newest first): the ring around the
        # view, then the view's own tiles, the centre's last
        shown = {(z, tx, ty) for tx, ty in view}
        for tx, ty in tiles_for(x0, y0, x1, y1, z, ring=1):
            if 0 <= tx < n and (z, tx, ty) not in shown:
                self._want((z, tx, ty))
        for key in reversed(missing):
            self._want(key, again=True)
        waiting = len(missing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        for i, (tx, ty) in enumerate(view):
            if i % TILES_PER_SLICE == TILES_PER_SLICE - 1:
                yield
            key = (z, tx, ty)
            rect = self._rect(xy, z, tx, ty)
            img = self._cache.get(key)
            if img is not None:
                self._cache.move_to_end(key)
                p.drawImage(rect, img)
            else:
                self._from_parent(p, rect, z, tx, ty)
        p.fillRect(QRectF(p.window()), DIM)
        self.waiting = waiting

    def _rect(self, xy: XY, z: int, tx: int, ty: int) -> QRectF:
        west, south, east, north = tile_box(z, tx, ty)
        if self.datum == "gcj02":
            west, north = gcj_to_wgs(west, north)
            east, south = gcj_to_wgs(east, south)
        return QRectF(xy(west, north), xy(east, south))

    def _from_parent(self, p: QPainter, rect: QRectF, z: int, tx: int, ty: int) -> None:
        for up in range(1, PARENT_LEVELS + 1):
            if z - up < 0:
                return
            parent = self._cache.get((z - up, tx >> up, ty >> up))
            if parent is not None:
                size = parent.width() / (1 << up)
                sx = (tx - ((tx >> up) << up)) * size
                sy = (ty - ((ty >> up) << up)) * size
                p.drawImage(rect, parent, QRectF(sx, sy, size, size))
                return

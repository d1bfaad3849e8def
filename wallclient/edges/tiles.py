"""Basemap tiles from the files a centre already has: MBTiles, PMTiles, ``{z}/{x}/{y}`` folders.

Each source answers ``get(z, x, y)`` with the tile's bytes as stored (PNG, JPEG or
WebP), or None where the file has no tile; XYZ numbering everywhere (y counts down from
the north): MBTiles stores TMS rows (y from the south) and is flipped here, once.

``open_basemap`` checks what it is given and says why it cannot be used — missing,
unreadable, not a tile file, vector (pbf/MVT) tiles that are not supported yet, a
projection other than Web Mercator — as a ``BasemapError`` the map shows in its corner
and ``status.map.basemap`` and ``wallclient doctor`` report.
"""

from __future__ import annotations

import gzip
import importlib
import json
import re
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RASTER = {"png", "jpg", "jpeg", "webp"}
MAGIC = {b"\x89PNG": "png", b"\xff\xd8\xff": "jpg", b"RIFF": "webp"}


class BasemapError(Exception):
    """Why a basemap cannot be drawn (said on the map, in status and by doctor)."""


def sniff(data: bytes) -> str | None:
    """The image format of a tile's bytes (None: not an image we draw)."""
    for magic, kind in MAGIC.items():
        if data.startswith(magic) and (kind != "webp" or data[8:12] == b"WEBP"):
            return kind
    return None


@dataclass
class TileSource:
    """What every basemap file gives the map."""

    path: Path
    kind: str  # mbtiles | pmtiles | folder
    format: str  # png | jpg | webp
    min_zoom: int = 0
    max_zoom: int = 18
    tile_size: int = 256
    bounds: tuple[float, float, float, float] | None = None  # west, south, east, north
    name: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, z: int, x: int, y: int) -> bytes | None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"source": str(self.path), "kind": self.kind, "format": self.format,
                "zooms": [self.min_zoom, self.max_zoom], "tile_size": self.tile_size,
                "bounds": self.bounds}  # fmt: skip


class MBTiles(TileSource):
    def __init__(self, path: Path) -> None:
        try:
            # read-only and shared between the reader threads (one at a time: _lock)
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            meta = dict(self._db.execute("SELECT name, value FROM metadata").fetchall())
            self._db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1")
        except sqlite3.DatabaseError as exc:
            raise BasemapError(f"{path}: not an MBTiles file ({exc})") from None
        fmt = str(meta.get("format", "")).lower()
        if fmt in ("pbf", "mvt"):
            raise BasemapError(f"{path}: vector tiles (pbf) are not supported yet")
        if fmt and fmt not in RASTER:
            raise BasemapError(f"{path}: tile format {fmt!r} is not a raster image")
        if not fmt:  # older files: look at a tile
            row = self._db.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
            fmt = (sniff(bytes(row[0])) if row else None) or "png"
        projection = str(meta.get("projection", meta.get("srs", "EPSG:3857")))
        if not re.search(r"3857|900913|mercator", projection, re.IGNORECASE):
            raise BasemapError(f"{path}: projection {projection} (Web Mercator needed)")
        zooms = self._db.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        if zooms[0] is None:
            raise BasemapError(f"{path}: the file holds no tiles")
        super().__init__(path, "mbtiles", "jpg" if fmt == "jpeg" else fmt,
                         int(meta.get("minzoom", zooms[0])), int(meta.get("maxzoom", zooms[1])),
                         int(meta.get("tile_size", 256) or 256), _bounds(meta.get("bounds")),
                         str(meta.get("name", "")))  # fmt: skip

    def get(self, z: int, x: int, y: int) -> bytes | None:
        with self._lock:
            row = self._db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, (1 << z) - 1 - y),  # TMS rows count up from the south
            ).fetchone()
        return bytes(row[0]) if row else None

    def close(self) -> None:
        self._db.close()


class PMTiles(TileSource):
    def __init__(self, path: Path) -> None:
        from pmtiles.tile import Compression, TileType

        reader: Any = importlib.import_module("pmtiles.reader")  # untyped: held as Any
        try:
            self._fh = open(path, "rb")  # noqa: SIM115 — kept open for the mapping
            self._reader: Any = reader.Reader(reader.MmapSource(self._fh))
            header = self._reader.header()
        except Exception as exc:
            raise BasemapError(f"{path}: not a PMTiles file ({exc})") from None
        kind = header["tile_type"]
        if kind == TileType.MVT or kind == TileType.MLT:
            raise BasemapError(f"{path}: vector tiles (pbf) are not supported yet")
        fmt = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp"}.get(kind)
        if fmt is None:
            raise BasemapError(f"{path}: tile type {kind.name} is not supported")
        self._gzip = header["tile_compression"] == Compression.GZIP
        bounds = (header["min_lon_e7"] / 1e7, header["min_lat_e7"] / 1e7,
                  header["max_lon_e7"] / 1e7, header["max_lat_e7"] / 1e7)  # fmt: skip
        super().__init__(path, "pmtiles", fmt, header["min_zoom"], header["max_zoom"], 256, bounds)

    def get(self, z: int, x: int, y: int) -> bytes | None:
        with self._lock:
            data = self._reader.get(z, x, y)
        if data is None:
            return None
        data = bytes(data)
        return gzip.decompress(data) if self._gzip else data

    def close(self) -> None:
        self._fh.close()


class TileFolder(TileSource):
    """``{z}/{x}/{y}.png`` (or .jpg, .webp) under one folder."""

    def __init__(self, path: Path) -> None:
        zooms = sorted(int(p.name) for p in path.iterdir() if p.is_dir() and p.name.isdigit())
        if not zooms:
            raise BasemapError(f"{path}: no {{z}}/{{x}}/{{y}} tiles in this folder")
        sample = next((f for f in (path / str(zooms[0])).rglob("*") if f.is_file()), None)
        ext = sample.suffix.lstrip(".").lower() if sample else "png"
        if ext in ("pbf", "mvt"):
            raise BasemapError(f"{path}: vector tiles (pbf) are not supported yet")
        if ext not in RASTER:
            raise BasemapError(f"{path}: tiles ending .{ext} are not raster images")
        self._ext = ext
        meta: dict[str, Any] = {}
        if (path / "metadata.json").exists():
            try:
                meta = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
            except ValueError:
                meta = {}
        super().__init__(path, "folder", "jpg" if ext == "jpeg" else ext, zooms[0], zooms[-1],
                         int(meta.get("tile_size", 256) or 256), _bounds(meta.get("bounds")))  # fmt: skip

    def get(self, z: int, x: int, y: int) -> bytes | None:
        f = self.path / str(z) / str(x) / f"{y}.{self._ext}"
        try:
            return f.read_bytes()
        except OSError:
            return None


def _bounds(value: Any) -> tuple[float, float, float, float] | None:
    try:
        parts = [float(v) for v in (value.split(",") if isinstance(value, str) else value)]
    except (TypeError, ValueError, AttributeError):
        return None
    return (parts[0], parts[1], parts[2], parts[3]) if len(parts) == 4 else None


def open_basemap(path: Path | str) -> TileSource:
    """The tile source in ``path`` (by what it is, not by its name); BasemapError says why not."""
    p = Path(path).expanduser()
    if not p.exists():
        raise BasemapError(f"{p}: no such file or folder")
    if p.is_dir():
        return TileFolder(p)
    try:
        with open(p, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise BasemapError(f"{p}: {exc.strerror}") from None
    if not head:
        raise BasemapError(f"{p}: the file is empty")
    if head.startswith(b"PMTiles"):
        return PMTiles(p)
    if head.startswith(b"SQLite format 3"):
        return MBTiles(p)
    raise BasemapError(f"{p}: neither MBTiles, PMTiles nor a tile folder")

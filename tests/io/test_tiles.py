"""Basemap files the tests make — MBTiles, PMTiles, a {z}/{x}/{y} folder — whose tiles
each carry their own z/x/y, read back at known lon/lat: a TMS row flip done the same
wrong way in writer and reader cannot hide. And broken files, each with its reason."""

import gzip
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QColor, QImage

from wallclient.edges.tiles import BasemapError, open_basemap, sniff
from wallclient.mercator import tile_of

# places in 嘉定 and around, and the zooms a wall uses
PLACES = [(121.25, 31.38), (121.10, 31.30), (121.40, 31.45), (121.2655, 31.3750)]
ZOOMS = [10, 13, 16]


def tile_png(z: int, x: int, y: int, fmt: str = "PNG") -> bytes:
    """A tile painted with its own address: red = z, green/blue = x, y (mod 256)."""
    img = QImage(256, 256, QImage.Format.Format_RGB32)
    img.fill(QColor(z * 10, x % 256, y % 256))
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, fmt)
    return bytes(buf.data())


def address(data: bytes) -> tuple[int, int, int]:
    img = QImage.fromData(data)
    c = img.pixelColor(128, 128)
    return c.red() // 10, c.green(), c.blue()


def wanted() -> set[tuple[int, int, int]]:
    return {(z, *tile_of(lon, lat, z)) for z in ZOOMS for lon, lat in PLACES}


def make_mbtiles(path: Path, fmt: str = "png", projection: str | None = None) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    meta = {"name": "t", "format": fmt, "minzoom": "10", "maxzoom": "16", "bounds": "121,31,122,32"}
    if projection:
        meta["projection"] = projection
    db.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
    for z, x, y in wanted():
        db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2**z - 1 - y, tile_png(z, x, y)))  # TMS row
    db.commit()
    db.close()
    return path


def make_pmtiles(path: Path, tile_type: str = "PNG") -> Path:
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    with open(path, "wb") as f:
        w = Writer(f)
        for tid, (z, x, y) in sorted((zxy_to_tileid(*t), t) for t in wanted()):
            w.write_tile(tid, tile_png(z, x, y))
        w.finalize({"tile_type": getattr(TileType, tile_type), "tile_compression": Compression.NONE,
                    "min_zoom": 10, "max_zoom": 16, "min_lon_e7": int(121e7), "min_lat_e7": int(31e7),
                    "max_lon_e7": int(122e7), "max_lat_e7": int(32e7), "center_zoom": 12,
                    "center_lon_e7": int(121.25e7), "center_lat_e7": int(31.38e7)}, {"name": "t"})  # fmt: skip
    return path


def make_folder(path: Path) -> Path:
    for z, x, y in wanted():
        f = path / str(z) / str(x) / f"{y}.png"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(tile_png(z, x, y))
    return path


@pytest.mark.parametrize("make", [make_mbtiles, make_pmtiles, make_folder], ids=["mbtiles", "pmtiles", "folder"])
def test_every_kind_of_file_gives_the_tile_at_a_known_place(tmp_path, make):
    target = tmp_path / ("tiles" if make is make_folder else "basemap.bin")
    if make is make_folder:
        target.mkdir()
    src = open_basemap(make(target))
    try:
        assert src.format == "png" and src.min_zoom == 10 and src.max_zoom == 16
        for z in ZOOMS:
            for lon, lat in PLACES:
                x, y = tile_of(lon, lat, z)  # the slippy-map formula, checked against OSM's
                data = src.get(z, x, y)
                assert data is not None and sniff(data) == "png"
                assert address(data) == (z, x % 256, y % 256)
        assert src.get(16, 0, 0) is None  # a tile the file does not have
    finally:
        src.close()


def test_broken_files_say_why(tmp_path):
    cases = {
        "missing": (tmp_path / "nope.mbtiles", "no such file"),
        "empty": (tmp_path / "empty.mbtiles", "empty"),
        "garbage": (tmp_path / "garbage.mbtiles", "neither MBTiles, PMTiles"),
        "pbf-mbtiles": (make_mbtiles(tmp_path / "v.mbtiles", fmt="pbf"), "vector tiles"),
        "pbf-pmtiles": (make_pmtiles(tmp_path / "v.pmtiles", tile_type="MVT"), "vector tiles"),
        "projection": (make_mbtiles(tmp_path / "p.mbtiles", projection="EPSG:4326"), "projection"),
        "empty-folder": (tmp_path / "folder", "no {z}/{x}/{y}"),
    }
    (tmp_path / "empty.mbtiles").write_bytes(b"")
    (tmp_path / "garbage.mbtiles").write_bytes(b"\x00garbage" * 100)
    (tmp_path / "folder").mkdir()
    db = tmp_path / "notiles.mbtiles"
    sqlite3.connect(db).execute("CREATE TABLE metadata (name TEXT, value TEXT)").connection.close()
    cases["not-mbtiles"] = (db, "not an MBTiles file")
    for name, (path, reason) in cases.items():
        with pytest.raises(BasemapError, match=reason.replace("{", r"\{").replace("}", r"\}")):
            open_basemap(path)
        assert name


def test_a_tile_that_is_not_an_image_is_known_as_such():
    assert sniff(b"<html>error</html>") is None
    assert sniff(gzip.compress(b"\x1a\x02pbf")) is None
    assert sniff(tile_png(1, 2, 3)) == "png"
    assert sniff(tile_png(1, 2, 3, "JPG")) == "jpg"

"""The basemap under the map: tiles that carry their own z/x/y, looked at in the map's
rendered picture at known places — WGS-84 tiles, and GCJ-02 tiles whose offset the map
registers (a marker's place shows the tile of that place's GCJ-02 coordinates)."""

import sqlite3

from PySide6.QtGui import QColor

from panels.map import MapPanel
from panels.map.basemap import DIM, Basemap
from tests.io.test_tiles import tile_png
from wallclient.mercator import tile_of, wgs_to_gcj

P = (121.2655, 31.3750)  # 嘉定, WGS-84
Z = 16


def make(path, places, z=Z, broken=()):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    db.executemany("INSERT INTO metadata VALUES (?, ?)", {"format": "png", "minzoom": "12", "maxzoom": str(z)}.items())
    done = set()
    for lon, lat in places:
        cx, cy = tile_of(lon, lat, z)
        for x in range(cx - 3, cx + 4):
            for y in range(cy - 3, cy + 4):
                if (x, y) not in done:
                    done.add((x, y))
                    data = b"not an image" if (x, y) in broken else tile_png(z, x, y)
                    db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2**z - 1 - y, data))
    db.commit()
    db.close()
    return path


def veiled(z: int, x: int, y: int) -> QColor:
    """A tile's colour as the map shows it: under the dark veil."""
    a = DIM.alpha() / 255
    c = QColor(z * 10, x % 256, y % 256)
    return QColor(*(round(v * (1 - a) + d * a) for v, d in ((c.red(), DIM.red()), (c.green(), DIM.green()),
                                                             (c.blue(), DIM.blue()))))  # fmt: skip


def show_at(ctx, hub, qtbot, basemap, at):
    ctx.basemap = basemap
    panel = MapPanel(ctx, hub, 1.0, {})
    qtbot.addWidget(panel)
    panel.resize(800, 600)
    panel.show()
    panel.shown["cameras"] = panel.shown["incidents"] = False
    panel.centre = at
    panel.zoom = 1.0
    panel.zoom = 256 * 2**Z * 1.02 / panel.world_px()  # just above zoom 16
    panel._view_changed()
    panel.settle()  # the view's tiles asked for
    qtbot.waitUntil(lambda: basemap.version > 0 and not basemap._pending, timeout=5000)
    panel.settle()  # and drawn
    return panel


def colour_at(panel, lon, lat) -> QColor:
    pt = panel._projection()(lon, lat)
    return panel.grab().toImage().pixelColor(int(pt.x()), int(pt.y()))


def close(a: QColor, b: QColor) -> bool:
    return all(abs(u - v) <= 3 for u, v in ((a.red(), b.red()), (a.green(), b.green()), (a.blue(), b.blue())))


def test_the_tile_of_a_place_is_drawn_at_that_place(ctx, hub, qtbot, tmp_path):
    basemap = Basemap.open(str(make(tmp_path / "w.mbtiles", [P])))
    panel = show_at(ctx, hub, qtbot, basemap, P)
    for dlon, dlat in ((0, 0), (0.004, 0.003), (-0.005, -0.002)):
        lon, lat = P[0] + dlon, P[1] + dlat
        assert close(colour_at(panel, lon, lat), veiled(Z, *tile_of(lon, lat, Z))), (dlon, dlat)
    st = panel.describe_map()
    assert st["basemap"]["ok"] and st["basemap"]["error"] is None and 15.9 < st["zoom"] < 16.2


def test_a_gcj02_basemap_puts_a_place_on_its_own_street(ctx, hub, qtbot, tmp_path):
    gcj = wgs_to_gcj(*P)
    assert tile_of(*P, Z) != tile_of(*gcj, Z)  # ~450 m apart: different z16 tiles
    basemap = Basemap.open(str(make(tmp_path / "g.mbtiles", [P, gcj])), "gcj02")
    panel = show_at(ctx, hub, qtbot, basemap, P)
    # the place (WGS-84) shows the tile that holds its GCJ-02 coordinates
    assert close(colour_at(panel, *P), veiled(Z, *tile_of(*gcj, Z)))


def test_tiles_that_are_not_images_are_reported_and_the_rest_drawn(ctx, hub, qtbot, tmp_path):
    bad = tile_of(*P, Z)
    basemap = Basemap.open(str(make(tmp_path / "b.mbtiles", [P], broken={bad})))
    panel = show_at(ctx, hub, qtbot, basemap, P)
    lon, lat = P[0] + 0.006, P[1]  # a good tile beside the broken one
    assert close(colour_at(panel, lon, lat), veiled(Z, *tile_of(lon, lat, Z)))
    assert "could not be read" in panel.describe_map()["basemap"]["error"]


def test_a_missing_basemap_leaves_the_map_running_and_says_why(ctx, hub, qtbot, tmp_path):
    basemap = Basemap.open(str(tmp_path / "nope.mbtiles"))
    ctx.basemap = basemap
    panel = MapPanel(ctx, hub, 1.0, {})
    qtbot.addWidget(panel)
    panel.resize(800, 600)
    panel.show()
    panel.repaint()
    st = panel.describe_map()["basemap"]
    assert st["ok"] is False and "no such file" in st["error"]


def _png(z: int, x: int, y: int, px: int) -> bytes:
    from PySide6.QtCore import QBuffer, QIODevice
    from PySide6.QtGui import QImage

    img = QImage(px, px, QImage.Format.Format_RGB32)
    img.fill(QColor(z * 10, x % 256, y % 256))
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(buf.data())


def test_512_px_tiles_are_drawn_at_their_place_and_their_own_zoom(ctx, hub, qtbot, tmp_path):
    """A file of 512-px tiles that does not say so (PMTiles never does, MBTiles only in an
    optional key): the map learns the size from the pictures, draws the zoom level whose
    pixels match the view (z15 where 256-px tiles would be z16), each tile at its place."""
    path = tmp_path / "big.mbtiles"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    db.executemany("INSERT INTO metadata VALUES (?, ?)", {"format": "png", "minzoom": "12", "maxzoom": "16"}.items())
    for z in (15, 16):
        cx, cy = tile_of(*P, z)
        for x in range(cx - 3, cx + 4):
            for y in range(cy - 3, cy + 4):
                db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2**z - 1 - y, _png(z, x, y, 512)))
    db.commit()
    db.close()
    basemap = Basemap.open(str(path))
    panel = show_at(ctx, hub, qtbot, basemap, P)  # the view's pixels are those of 256-px z16
    assert basemap.source.tile_size == 512
    panel.settle()  # the next drawing asks for the level that fits 512-px tiles
    qtbot.waitUntil(lambda: not basemap._pending, timeout=5000)
    panel.settle()
    for dlon, dlat in ((0, 0), (0.006, 0.004), (-0.007, -0.003)):
        lon, lat = P[0] + dlon, P[1] + dlat
        assert close(colour_at(panel, lon, lat), veiled(15, *tile_of(lon, lat, 15))), (dlon, dlat)

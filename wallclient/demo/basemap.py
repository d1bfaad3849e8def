"""The demo's own basemap: raster tiles of 嘉定区 drawn from the demo district's vector data
into an MBTiles file, read back through the same tile code as any centre's basemap.

Dark style for a wall: the district's land a little lighter than the ground around it, the
river in blue, roads from the district's own cut lines (street borders as main roads, area
borders as secondary ones from zoom 12, village borders as local streets from zoom 14),
Chinese labels for what only the basemap draws (the river from zoom 12, road names from
14); the map itself labels the regions. Zoom 10–17 over the
district, made once per seed and kept (``python -m wallclient.demo.basemap --out FILE``).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from wallclient.mercator import tile_of, world

TILE = 256
ZOOMS = range(10, 18)
LAND, OUTSIDE, WATER = "#142033", "#070b14", "#1d4f7a"  # OUTSIDE: the wall's own background
ROAD = {"street": ("#5a6b86", 3.0, 10), "area": ("#46556d", 2.0, 12), "village": ("#36445a", 1.2, 14)}
# the map labels the regions itself: the basemap names what it alone draws (the river,
# the roads), as a centre's own basemap would
LABEL = {"river": (12, 17, 18, "#6fa8dc"), "road": (14, 17, 14, "#8393ab")}


def _centroid(ring: list[list[float]]) -> tuple[float, float]:
    a = cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        f = x1 * y2 - x2 * y1
        a += f
        cx += (x1 + x2) * f
        cy += (y1 + y2) * f
    if abs(a) < 1e-15:
        return ring[0][0], ring[0][1]
    return cx / (3 * a), cy / (3 * a)


def render(out: Path, seed: int = 7) -> int:
    """Write the MBTiles file; returns the number of tiles."""
    from PySide6.QtCore import QBuffer, QIODevice, QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPolygonF

    from wallclient.demo.district import DISTRICT_CODE, District

    d = District(seed=seed)
    regions = d.regions
    outline = regions[DISTRICT_CODE]["geometry"]["coordinates"][0]
    river = d.layers["L-rivers"]["features"]["features"][0]["geometry"]["coordinates"]
    lons = [p[0] for p in outline]
    lats = [p[1] for p in outline]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    from wallclient.demo.district import ROADS

    name = d.layers["L-rivers"]["features"]["features"][0]["properties"]["name"]
    labels: dict[str, list[tuple[str, tuple[float, float]]]] = {
        "river": [(name, (lon, lat)) for lon, lat in river[5::18]],
        # a road name at the middle of each area's longest border (its streets' names)
        "road": [(ROADS[i % len(ROADS)], _centroid(r["geometry"]["coordinates"][0]))
                 for i, r in enumerate(r for r in regions.values() if r["level"] == "village")],
    }  # fmt: skip
    edges = {lvl: [r["geometry"]["coordinates"][0] for r in regions.values() if r["level"] == lvl]
             for lvl in ROAD}  # fmt: skip
    tmp = out.with_suffix(".partial")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    meta = {"name": "嘉定区 (wallclient demo)", "format": "png", "minzoom": str(ZOOMS[0]),
            "maxzoom": str(ZOOMS[-1]), "bounds": f"{west},{south},{east},{north}", "type": "baselayer",
            "attribution": "嘉定区 outline: echarts-china-cities-pypkg (MIT); the rest is synthetic"}  # fmt: skip
    db.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
    family = QFont("WenQuanYi Micro Hei").family()
    count = 0
    blank: dict[int, bytes] = {}
    for z in ZOOMS:
        n = 1 << z
        scale = n * TILE
        x0, y0 = tile_of(west, north, z)
        x1, y1 = tile_of(east, south, z)

        def gp(lon: float, lat: float, scale: float = scale) -> QPointF:
            wx, wy = world(lon, lat)
            return QPointF(wx * scale, wy * scale)

        # everything in this zoom's world pixels once; each tile is a translated view of it
        land = QPolygonF([gp(lon, lat) for lon, lat in outline])
        land_box = land.boundingRect()
        water = QPainterPath()
        for i, (lon, lat) in enumerate(river):
            (water.lineTo if i else water.moveTo)(gp(lon, lat))
        roads = {lvl: [(poly, poly.boundingRect()) for poly in
                       (QPolygonF([gp(lon, lat) for lon, lat in ring]) for ring in edges[lvl])]
                 for lvl in ROAD if z >= ROAD[lvl][2]}  # fmt: skip
        names = {lvl: [(name, gp(lon, lat)) for name, (lon, lat) in labels[lvl]]
                 for lvl, (zmin, zmax, _s, _c) in LABEL.items() if zmin <= z <= zmax}  # fmt: skip
        for tx in range(x0, x1 + 1):
            for ty in range(y0, y1 + 1):
                view = QRectF(tx * TILE, ty * TILE, TILE, TILE)
                if not land_box.intersects(view):
                    data = blank.get(z)
                    if data is None:
                        img = QImage(TILE, TILE, QImage.Format.Format_RGB32)
                        img.fill(QColor(OUTSIDE))
                        data = blank[z] = _png(img, QBuffer, QIODevice)
                    db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, tx, n - 1 - ty, data))
                    count += 1
                    continue
                img = QImage(TILE, TILE, QImage.Format.Format_RGB32)
                img.fill(QColor(OUTSIDE))
                p = QPainter(img)
                p.setRenderHint(QPainter.RenderHint.Antialiasing)
                p.translate(-tx * TILE, -ty * TILE)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(LAND))
                p.drawPolygon(land)
                p.setBrush(Qt.BrushStyle.NoBrush)
                width = 2.0 + max(0, z - 12) * 1.6
                p.setPen(QPen(QColor(WATER), width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
                p.drawPath(water)
                near = view.adjusted(-20, -20, 20, 20)
                for lvl in ("village", "area", "street"):
                    if lvl not in roads:
                        continue
                    colour, w, _zmin = ROAD[lvl]
                    p.setPen(QPen(QColor(colour), w * (1 + max(0, z - 14) * 0.35)))
                    for poly, box in roads[lvl]:
                        if box.intersects(near):
                            p.drawPolygon(poly)
                for lvl, items in names.items():
                    _zmin, _zmax, size, colour = LABEL[lvl]
                    f = QFont(family)
                    f.setPixelSize(size)
                    p.setFont(f)
                    for name, at in items:
                        if view.adjusted(-120, -30, 120, 30).contains(at):
                            r = QRectF(at.x() - 120, at.y() - 14, 240, 28)
                            p.setPen(QColor(OUTSIDE))
                            for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                                p.drawText(r.translated(dx, dy), Qt.AlignmentFlag.AlignCenter, name)
                            p.setPen(QColor(colour))
                            p.drawText(r, Qt.AlignmentFlag.AlignCenter, name)
                p.end()
                db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                           (z, tx, n - 1 - ty, _png(img, QBuffer, QIODevice)))  # fmt: skip
                count += 1
        db.commit()
    db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
    db.commit()
    db.close()
    os.replace(tmp, out)
    return count


def _png(img: Any, qbuffer: Any, qiodevice: Any) -> bytes:
    buf = qbuffer()
    buf.open(qiodevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(buf.data())


def ensure(out: Path, seed: int = 7) -> Path:
    """The demo basemap for ``seed`` in ``out``, made (in a process of its own, offscreen)
    when it is not there yet."""
    if out.exists():
        return out
    import subprocess

    out.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    subprocess.run([sys.executable, "-m", "wallclient.demo.basemap", "--out", str(out), "--seed", str(seed)],
                   check=True, env=env)  # fmt: skip
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication(sys.argv[:1])
    started = time.perf_counter()
    n = render(a.out, a.seed)
    print(f"{a.out}: {n} tiles in {time.perf_counter() - started:.1f} s", flush=True)
    del _app
    return 0


if __name__ == "__main__":
    sys.exit(main())

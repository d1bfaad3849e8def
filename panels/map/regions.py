"""The map's regions: outlines of the level the zoom calls for, named where a name fits.

Names are read from the desks and the middle of the room (docs/legibility.md: ≥ 26 px at
1080p), on a dark halo over the basemap, and never over one another: a crowded map is
worse than an unlabelled one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from panels import theme
from panels.map.picture import XY
from wallclient.protocol import REGION_LEVELS
from wallclient.viewport import Box, Viewport

LABEL_PX = 26  # region names: secondary text, read at 2.5 m (docs/legibility.md)
REGIONS_PER_SLICE = 12


def level_shown(base: str, zoom: float) -> str:
    """Finer regions as the map zooms in: one level per 4× from ``base``."""
    first = REGION_LEVELS.index(base) if base in REGION_LEVELS else 1
    extra = int(math.log(max(zoom, 1.0), 4) + 1e-9)
    return REGION_LEVELS[min(len(REGION_LEVELS) - 1, first + extra)]


def draw(
    p: QPainter,
    v: Viewport,
    xy: XY,
    regions: dict[str, Any],
    level: str,
    area: Any,
    here: str | None,
    ground: bool,
    scale: float,
    labels: list[QRectF],
) -> Iterator[None]:
    """Outlines of ``level`` inside ``area`` (and the district's, and ``here``'s: the
    drill-down), filled unless a basemap (``ground``) shows through; the names put are
    appended to ``labels``."""
    s = scale
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setFont(theme.font(LABEL_PX * s, bold=True))
    fm = p.fontMetrics()
    vb = v.box()
    for n, r in enumerate(list(regions.values())):
        if n % REGIONS_PER_SLICE == REGIONS_PER_SLICE - 1:
            yield
        lvl = r.get("level")
        geom = r.get("geometry")
        this = r.get("code") == here
        wanted = (lvl == level and area.covers(r.get("code"))) or (lvl == "district" and area.everything)
        if not geom or not (wanted or this):
            continue
        ring_list = rings(geom)
        box = bbox(ring_list)
        if box[2] < vb[0] or box[0] > vb[2] or box[3] < vb[1] or box[1] > vb[3]:
            continue  # off the screen
        outer = lvl == "district" or this
        pen = QPen(theme.INFO if outer else theme.PANEL_EDGE.lighter(160))
        pen.setWidthF(3 if outer else 1.2)
        p.setPen(pen)
        fill = not outer and not ground
        p.setBrush(QColor(20, 34, 60, 120) if fill else Qt.BrushStyle.NoBrush)
        for ring in ring_list:
            poly = QPolygonF([xy(pt[0], pt[1]) for pt in ring])
            p.drawPolygon(poly)
            bounds = poly.boundingRect()
            tw = fm.horizontalAdvance(r["name"])
            if outer or tw >= bounds.width() * 0.9:
                continue
            c = bounds.center()
            rect = QRectF(c.x() - tw / 2 - 6 * s, c.y() - fm.height() / 2, tw + 12 * s, fm.height())
            if any(rect.intersects(other) for other in labels):
                continue
            labels.append(rect)
            p.setPen(QColor(7, 11, 20, 220))
            for dx, dy in ((-2, 0), (2, 0), (0, -2), (0, 2)):
                p.drawText(rect.translated(dx * s, dy * s), Qt.AlignmentFlag.AlignCenter, r["name"])
            p.setPen(theme.TEXT_DIM.lighter(125))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, r["name"])
            p.setPen(pen)


def region_at(
    v: Viewport, pos: QPointF, regions: dict[str, Any], level: str, area: Any
) -> str | None:
    """The region of ``level`` inside ``area`` that contains the pixel ``pos``."""
    ll = v.lonlat(pos.x(), pos.y())
    for code, r in regions.items():
        if r.get("level") != level or not r.get("geometry") or not area.covers(code):
            continue
        if any(inside(ll, ring) for ring in rings(r["geometry"])):
            return code
    return None


def rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    """The outer rings of a (Multi)Polygon."""
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry.get("type") == "MultiPolygon":
        return [poly[0] for poly in geometry["coordinates"]]
    return []


def bbox(ring_list: list[list[list[float]]]) -> Box:
    xs = [pt[0] for ring in ring_list for pt in ring] or [0.0]
    ys = [pt[1] for ring in ring_list for pt in ring] or [0.0]
    return min(xs), min(ys), max(xs), max(ys)


def inside(pt: tuple[float, float], ring: list[list[float]]) -> bool:
    """Even–odd rule: is ``pt`` inside the polygon ``ring``?"""
    x, y = pt
    within = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / ((yj - yi) or 1e-12) + xi:
            within = not within
        j = i
    return within

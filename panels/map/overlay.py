"""The backend's layers (``layer.upsert``): points, lines and polygons, named, each layer
in a colour of its own and switchable from the legend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from panels import theme
from panels.map.picture import XY
from panels.map.regions import rings

PER_SLICE = 100  # features between two yields


def draw(p: QPainter, xy: XY, layers: dict[str, Any], shown: dict[str, bool], zoom: float,
         scale: float) -> Iterator[None]:  # fmt: skip
    s = scale
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setFont(theme.font(16 * s))
    n = 0
    for lid, layer in sorted(layers.items()):
        if not shown.get(lid, True):
            continue
        colour = colour_of(lid)
        for feature in (layer.get("features") or {}).get("features", []) or []:
            n += 1
            if n % PER_SLICE == 0:
                yield
            g = feature.get("geometry") or {}
            kind = g.get("type")
            coords: Any = g.get("coordinates")
            try:
                if kind == "Point":
                    pt = xy(coords[0], coords[1])
                    theme.shape(p, "square", pt, 7 * s, colour)
                    name = (feature.get("properties") or {}).get("name")
                    if name and zoom >= 2:
                        p.setPen(colour)
                        p.drawText(pt + QPointF(10 * s, 5 * s), str(name))
                elif kind in ("LineString", "MultiLineString"):
                    lines = [coords] if kind == "LineString" else coords
                    p.setPen(QPen(colour, 3 * s))
                    for line in lines:
                        p.drawPolyline(QPolygonF([xy(c[0], c[1]) for c in line]))
                elif kind in ("Polygon", "MultiPolygon"):
                    p.setPen(QPen(colour, 2 * s))
                    fill = QColor(colour)
                    fill.setAlpha(50)
                    p.setBrush(fill)
                    for ring in rings(g):
                        p.drawPolygon(QPolygonF([xy(c[0], c[1]) for c in ring]))
            except (TypeError, IndexError, KeyError):
                continue  # one malformed feature never blanks the layer


_COLOURS: dict[str, QColor] = {}


def colour_of(lid: str) -> QColor:
    """Each backend layer its own colour, kept for as long as the wall runs."""
    palette = ["#b07cff", "#3ddbd9", "#ffd166", "#06d6a0", "#f78c6b", "#e0aaff"]
    got = _COLOURS.get(lid)
    if got is None:
        got = _COLOURS[lid] = QColor(palette[len(_COLOURS) % len(palette)])
    return got

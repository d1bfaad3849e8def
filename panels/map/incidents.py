"""Incidents on the map: one layer per priority, each with its own shape (◆ ▲ ■ ●) and
colour, one pre-drawn sprite blitted per marker (an antialiased shape drawn 10,000 times
costs ~10×); new priority-1 incidents pulse; the focused incident is ringed, with
numbered lines to its linkage cameras."""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap

from panels import theme
from panels.incidents import NEW_FOR_S
from panels.map.picture import XY
from wallclient import geo
from wallclient.viewport import Viewport

Mark = tuple[int, float, float, float]  # priority, lon, lat, reported (epoch s)
MAX_PULSES = 40
PER_SLICE = 400  # markers between two yields (~1 ms)


def marker_r(prio: int, zoom: float, scale: float) -> float:
    """Marker radius: smaller for the lower priorities when zoomed out, so ten thousand
    incidents leave the map readable and priority 1 still stands out."""
    full = {1: 9.0, 2: 7.0, 3: 5.5, 4: 5.0}[prio]
    if zoom < 3 and prio > 1:
        full = {2: 5.0, 3: 3.5, 4: 3.0}[prio]
    return full * scale


def draw(p: QPainter, v: Viewport, prio: int, marks: dict[str, Mark], r: float) -> Iterator[None]:
    """One priority's markers of ``marks`` in view, radius ``r``."""
    sprite, half = sprite_for(theme.PRIORITY_SHAPE[prio], r, theme.PRIORITY_COLOUR[prio])
    ox, oy, k, kk = v.width / 2 - half, v.height / 2 - half, v.k, v.k * v.kx
    clon, clat = v.lon, v.lat
    w, h = v.width + half, v.height + half
    points = [(lon, lat) for pr, lon, lat, _ in marks.values() if pr == prio]
    paint = p.drawPixmap
    for i in range(0, len(points), PER_SLICE):
        if i:
            yield
        for lon, lat in points[i : i + PER_SLICE]:
            x, y = ox + (lon - clon) * kk, oy - (lat - clat) * k
            if -half < x < w and -half < y < h:
                paint(QPointF(x, y), sprite)


def pulses(p: QPainter, xy: XY, marks: dict[str, Mark], since: float, scale: float) -> None:
    """Rings around the priority-1 incidents reported after ``since`` (their first ten
    minutes; the newest MAX_PULSES: hundreds of rings would hide the map, not point)."""
    fresh = heapq.nlargest(
        MAX_PULSES,
        ((rep, lon, lat) for pr, lon, lat, rep in marks.values() if pr == 1 and rep > since),
        key=lambda m: m[0],
    )
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    radius = (10 + 10 * theme.pulse(time.monotonic())) * scale
    p.setPen(QPen(theme.ALARM, 2))
    p.setBrush(Qt.BrushStyle.NoBrush)
    for _rep, lon, lat in fresh:
        p.drawEllipse(xy(lon, lat), radius, radius)


def pulse_since(now: float) -> float:
    return now - NEW_FOR_S


def focus(p: QPainter, xy: XY, incident: dict[str, Any] | None, linked: list[str],
          cameras: dict[str, Any], scale: float) -> None:  # fmt: skip
    """The focused incident: a ring, and numbered lines to its linkage cameras."""
    loc = geo.location(incident) if incident else None
    if loc is None:
        return
    s = scale
    at = xy(*loc)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setFont(theme.font(18 * s, bold=True))
    for n, cid in enumerate(linked, 1):
        cam = cameras.get(cid)
        cl = geo.location(cam) if cam else None
        if cl is None:
            continue
        c = xy(*cl)
        p.setPen(QPen(theme.INFO, 2.5 * s, Qt.PenStyle.DashLine))
        p.drawLine(at, c)
        p.setPen(QPen(theme.TEXT, 2 * s))
        p.setBrush(theme.INFO)
        p.drawEllipse(c, 13 * s, 13 * s)
        p.drawText(QRectF(c.x() - 13 * s, c.y() - 13 * s, 26 * s, 26 * s),
                   Qt.AlignmentFlag.AlignCenter, str(n))  # fmt: skip
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(theme.TEXT, 3 * s))
    p.drawEllipse(at, 22 * s, 22 * s)
    p.setPen(QPen(theme.ALARM, 2 * s))
    p.drawEllipse(at, 27 * s, 27 * s)


def at(xy: XY, marks: dict[str, Mark], pos: QPointF, reach: float) -> str | None:
    """The incident marker under ``pos`` (priority first, then the nearest)."""
    best: tuple[int, float, str] | None = None
    for iid, (prio, lon, lat, _) in marks.items():
        pt = xy(lon, lat)
        d = math.hypot(pt.x() - pos.x(), pt.y() - pos.y())
        if d <= reach and (best is None or (prio, d) < best[:2]):
            best = (prio, d, iid)
    return best[2] if best else None


_SPRITES: dict[tuple[Any, ...], tuple[QPixmap, float]] = {}


def sprite_for(shape: str, r: float, colour: QColor) -> tuple[QPixmap, float]:
    """A marker drawn once (antialiased, dark outline) and blitted wherever it is needed."""
    key = (shape, round(r, 1), colour.rgba())
    got = _SPRITES.get(key)
    if got is None:
        size = math.ceil(2 * r * 1.2 + 4)
        pm = QPixmap(size, size)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        c = QPointF(size / 2, size / 2)
        theme.shape(p, shape, c, r + 1.5, theme.BG)  # a dark edge: markers stay apart
        theme.shape(p, shape, c, r, colour)
        p.end()
        got = _SPRITES[key] = (pm, size / 2)
    return got

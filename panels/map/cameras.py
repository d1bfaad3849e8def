"""Cameras on the map: clustered so that at most one marker per ~40 px is drawn however
many there are, single cameras close up (online filled, offline hollow grey), and where
each one looks (its view cone) once that is long enough to see."""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import islice
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap

from panels import theme
from panels.map.picture import XY
from wallclient.viewport import Viewport

CLUSTER_PX = 40  # one camera marker per this many pixels, at most
SINGLE_PX = 160  # index cells at least this wide: every camera drawn on its own
CONE_M = 80.0  # a camera's view cone reaches this far on the map
CONE_MIN_PX = 16.0  # … and is drawn once that is at least this long on screen
MAX_CONES = 1500  # and while no more cameras than this are in view
CONES_PER_SLICE = 30
PER_SLICE = 150  # markers between two yields (the runner decides how many slices a turn)


def draw(p: QPainter, v: Viewport, xy: XY, grid: Any, cams: dict[str, Any], scale: float) -> Iterator[None]:
    """The cameras of ``grid`` (wallclient.geo's index of the cameras shown) in view."""
    s = scale
    if not len(grid):
        return
    cell_px = grid.cell * v.k * v.kx
    box = v.box()
    online_pen = QPen(QColor(77, 163, 255, 210), 6 * s)
    online_pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    offline: list[QPointF] = []
    if cell_px >= SINGLE_PX:
        online: list[QPointF] = []
        for n, (cid, (lon, lat)) in enumerate(grid.cameras_in(box)):
            if n % PER_SLICE == PER_SLICE - 1:
                yield
            (online if cams.get(cid, {}).get("status") == "online" else offline).append(xy(lon, lat))
        p.setPen(online_pen)
        p.drawPoints(online)
    else:
        level = max(0, math.ceil(math.log2(CLUSTER_PX * s / max(cell_px, 1e-9))))
        singles: list[QPointF] = []
        many = []
        for n, cl in enumerate(grid.clusters(level, box)):
            if n % PER_SLICE == PER_SLICE - 1:
                yield
            pt = xy(cl.lon, cl.lat)
            if cl.camera is not None:
                if cams.get(cl.camera, {}).get("status") == "online":
                    singles.append(pt)
                else:
                    offline.append(pt)
            else:
                many.append((cl.count, pt))
        p.setPen(online_pen)
        p.drawPoints(singles)
        for n, (count, pt) in enumerate(many):
            if n % PER_SLICE == PER_SLICE - 1:
                yield
            sprite, half = cluster_sprite(count, s)
            p.drawPixmap(QPointF(pt.x() - half, pt.y() - half), sprite)
    if offline:
        p.setPen(QPen(theme.STALE, 1.6 * s))
        p.setBrush(Qt.BrushStyle.NoBrush)
        r = 3.5 * s
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.drawRects([QRectF(pt.x() - r, pt.y() - r, 2 * r, 2 * r) for pt in offline])


def cone_px(v: Viewport) -> float:
    return v.px(CONE_M)


def draw_cones(p: QPainter, v: Viewport, xy: XY, grid: Any, cams: dict[str, Any], scale: float) -> Iterator[None]:
    """Where each camera in view looks: fixed ones by ``bearing_deg``/``fov_deg``, PTZ
    ones by their live ``ptz_state`` (camera.ptz), brighter. Compass bearings on the
    screen: north up, so a bearing b points along (sin b, −cos b). With more than
    MAX_CONES cameras in view (a town centre at area zoom) the cones would be one smear
    and cost ~50 µs each: none are drawn until the map is closer."""
    length = cone_px(v)
    here = list(islice(grid.cameras_in(v.box(pad_px=length * 2)), MAX_CONES + 1))
    if len(here) > MAX_CONES:
        return
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    fixed, domes = QColor(77, 163, 255, 50), QColor(255, 209, 102, 90)
    dome_pen = QPen(domes.lighter(160), 1.5 * scale)
    for n, (cid, (lon, lat)) in enumerate(here):
        if n % CONES_PER_SLICE == CONES_PER_SLICE - 1:
            yield
        cam = cams.get(cid) or {}
        st = cam.get("ptz_state") if cam.get("ptz") else None
        try:
            if st:
                bearing, fov = float(st["pan_deg"]), float(st["fov_deg"])
                reach = length * (1 + min(3.0, float(st.get("zoom", 1)) - 1) / 2)
            else:
                bearing, fov = float(cam["bearing_deg"]), float(cam.get("fov_deg") or 60)
                reach = length
        except (KeyError, TypeError, ValueError):
            continue
        at = xy(lon, lat)
        x, y = at.x(), at.y()
        fan = [at]
        for k in range(7):  # the cone's arc, from one edge of the view to the other
            b = math.radians(bearing - fov / 2 + fov * k / 6)
            fan.append(QPointF(x + reach * math.sin(b), y - reach * math.cos(b)))
        p.setPen(dome_pen if st else Qt.PenStyle.NoPen)
        p.setBrush(domes if st else fixed)
        p.drawPolygon(fan)


_SPRITES: dict[tuple[Any, ...], tuple[QPixmap, float]] = {}


def cluster_sprite(count: int, scale: float) -> tuple[QPixmap, float]:
    """A camera cluster: a disc sized by the count, with the count when it fits."""
    r = (9 + 3.2 * math.log10(count)) * scale
    text = str(count) if count < 1000 else f"{count / 1000:.0f}k"
    key = ("cluster", text, round(scale, 2))
    got = _SPRITES.get(key)
    if got is None:
        if len(_SPRITES) > 4000:  # bounded: counts change as cameras come and go
            _SPRITES.clear()
        size = math.ceil(2 * r + 4)
        pm = QPixmap(size, size)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor(120, 190, 255), 1.5 * scale))
        p.setBrush(QColor(30, 90, 170, 200))
        c = QPointF(size / 2, size / 2)
        p.drawEllipse(c, r, r)
        p.setFont(theme.font(13 * scale, bold=True))
        if p.fontMetrics().horizontalAdvance(text) < 2 * r - 2:
            p.setPen(theme.TEXT)
            p.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, text)
        p.end()
        got = _SPRITES[key] = (pm, size / 2)
    return got

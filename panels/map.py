"""The district on one map (一张图): region outlines, cameras and incidents by priority.

A first QPainter view: regions of one level with labels, camera points, incident
markers (new priority-1 ones pulse). Issue 6 brings zoom, clustering and linkage.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPixmap, QPolygonF

from panels import theme
from panels.hub import Context, Hub, Panel


class MapPanel(Panel):
    """Regions of ``options.level`` (default street), cameras and incidents."""

    def __init__(
        self, ctx: Context, hub: Hub, scale: float, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(ctx, hub, scale, options)
        self.level = (options or {}).get("level", "street")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._geo_version = 0  # bumped when regions or cameras change: the base layer is redrawn
        self._base_pm: QPixmap | None = None
        self._base_key: tuple[int, int, int] | None = None
        self.listen(self._tick)

    def _tick(self, dirty: set[str]) -> None:
        if "regions" in dirty:
            self._geo_version += 1
        # once a second (markers pulse, incidents move) or when the geography changes
        if dirty & {"clock", "regions", "cameras"}:
            self.update()

    def _bbox(self) -> tuple[float, float, float, float] | None:
        xs: list[float] = []
        ys: list[float] = []
        for r in self.ctx.state.regions.values():
            if r.get("level") == "district" and r.get("geometry"):
                for ring in _rings(r["geometry"]):
                    xs += [pt[0] for pt in ring]
                    ys += [pt[1] for pt in ring]
        if not xs:
            for c in self.ctx.state.cameras.values():
                if c.get("location"):
                    xs.append(c["location"]["lon"])
                    ys.append(c["location"]["lat"])
        return (min(xs), min(ys), max(xs), max(ys)) if xs else None

    def _projection(self) -> Callable[[float, float], QPointF] | None:
        box = self._bbox()
        if box is None:
            return None
        lon0, lat0, lon1, lat1 = box
        kx = math.cos(math.radians((lat0 + lat1) / 2))
        margin = 30 * self.scale
        w, h = self.width() - 2 * margin, self.height() - 2 * margin
        k = min(w / ((lon1 - lon0) * kx or 1), h / ((lat1 - lat0) or 1))
        ox = margin + (w - (lon1 - lon0) * kx * k) / 2
        oy = margin + (h - (lat1 - lat0) * k) / 2

        def xy(lon: float, lat: float) -> QPointF:
            return QPointF(ox + (lon - lon0) * kx * k, oy + (lat1 - lat) * k)

        return xy

    def _base(self, xy: Callable[[float, float], QPointF]) -> QPixmap:
        """Regions and their labels: redrawn only when they or the size change."""
        key = (self.width(), self.height(), self._geo_version)
        if self._base_key == key and self._base_pm is not None:
            return self._base_pm
        s = self.scale
        pm = QPixmap(self.size())
        pm.fill(theme.BG)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setFont(theme.font(20 * s))
        for r in self.ctx.state.regions.values():
            if r.get("level") not in (self.level, "district") or not r.get("geometry"):
                continue
            pen = QPen(theme.INFO if r["level"] == "district" else theme.PANEL_EDGE.lighter(160))
            pen.setWidthF(3 if r["level"] == "district" else 1.2)
            p.setPen(pen)
            p.setBrush(
                QColor(20, 34, 60, 120) if r["level"] != "district" else Qt.BrushStyle.NoBrush
            )
            for ring in _rings(r["geometry"]):
                poly = QPolygonF([xy(pt[0], pt[1]) for pt in ring])
                p.drawPolygon(poly)
                bounds = poly.boundingRect()
                # a label only where it fits: a crowded map is worse than an unlabelled one
                if (
                    r["level"] != "district"
                    and p.fontMetrics().horizontalAdvance(r["name"]) < bounds.width() * 0.9
                ):
                    p.setPen(theme.TEXT_DIM)
                    p.drawText(bounds, Qt.AlignmentFlag.AlignCenter, r["name"])
                    p.setPen(pen)
        p.end()
        self._base_pm, self._base_key = pm, key
        return pm

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        s = self.scale
        p = QPainter(self)
        xy = self._projection()
        if xy is None:
            p.fillRect(self.rect(), theme.BG)
            p.setPen(theme.TEXT_DIM)
            p.setFont(theme.font(28 * s))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, theme.tr("No map data"))
            p.end()
            return
        p.drawPixmap(0, 0, self._base(xy))
        # cameras: one batched call (their status changes often; the base layer does not)
        pen = QPen(QColor(77, 163, 255, 150), 4.4 * s)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.drawPoints([xy(c["location"]["lon"], c["location"]["lat"]) for c in self.ctx.state.cameras.values()
                      if c.get("location") and c.get("status") == "online"])  # fmt: skip
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        blink = theme.pulse(time.monotonic())
        # Priorities 2-4 are many: one batched point call each. Priority 1 gets its shape and pulse.
        minor: dict[int, list[QPointF]] = {2: [], 3: [], 4: []}
        major: list[tuple[int, QPointF]] = []
        for inc in self.ctx.state.incidents.values():
            loc = inc.get("location")
            if not loc or inc["status"] == "closed":
                continue
            prio = int(inc["priority"])
            pt = xy(loc["lon"], loc["lat"])
            if prio in minor:
                minor[prio].append(pt)
            else:
                major.append((prio, pt))
        for prio in (4, 3, 2):
            pen = QPen(theme.PRIORITY_COLOUR[prio], 7 * s)
            pen.setCapStyle(Qt.PenCapStyle.SquareCap)
            p.setPen(pen)
            p.drawPoints(minor[prio])
        for prio, pt in sorted(major, key=lambda t: -t[0]):
            if prio == 1:
                p.setPen(QPen(theme.ALARM, 2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(pt, (10 + 10 * blink) * s, (10 + 10 * blink) * s)
            theme.shape(p, theme.PRIORITY_SHAPE[prio], pt, 9 * s, theme.PRIORITY_COLOUR[prio])
        p.end()


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry.get("type") == "MultiPolygon":
        return [poly[0] for poly in geometry["coordinates"]]
    return []

"""The district on one map (一张图): region outlines, cameras and incidents by priority.

A first QPainter view: regions of one level with labels, camera points, incident
markers (new priority-1 ones pulse). Issue 6 brings zoom, clustering and linkage.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen, QPixmap, QPolygonF

from panels import theme
from panels.hub import Context, Hub, Panel
from panels.incidents import NEW_FOR_S
from wallclient.protocol import epoch

MAX_PULSES = 40
LAYER_GAP_S = 0.25  # four priority layers: the whole marker set once a second


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
        self._marks: dict[str, tuple[int, QPointF, float, QRectF]] = {}
        self._marks_key: tuple[int, int, int] | None = None
        self._changed: set[str] | None = None  # incidents changed since the last paint
        self._layers: dict[int, QPixmap] = {}  # per priority: its markers, drawn when they change
        self._drawn: set[int] = set()  # the priorities whose layer is up to date
        self._stale: list[int] = []
        self._layer_at = 0.0  # when a marker layer was last redrawn
        self.listen(self._tick)

    def _tick(self, dirty: set[str]) -> None:
        if "regions" in dirty:
            self._geo_version += 1
        if "incidents" in dirty:
            ids = self.hub.changed_ids("incidents")
            if ids is None or self._changed is None:
                self._changed = None  # everything may have changed (a snapshot)
            else:
                self._changed |= ids
            self._stale = [1, 2, 3, 4]
        # Markers are redrawn one priority layer at a time, at most every LAYER_GAP_S, so
        # no single step is long enough to stall the GUI thread with ten thousand
        # incidents on the map; the map itself is shown once a second.
        t = time.monotonic()
        if (
            self._stale
            and self.isVisible()
            and t - self._layer_at >= LAYER_GAP_S
            and self.hub.claim()
        ):
            self._layer_at = t
            xy = self._projection()
            if xy is not None:
                self._draw_layer(self._stale.pop(0), self._marks_for(xy))
        # once a second (markers pulse, incidents move), half a second away from the
        # clocks' repaint so the two never add up to one long frame; or when the
        # geography changes
        if dirty & {"half-second", "regions", "cameras"}:
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

    def _marks_for(
        self, xy: Callable[[float, float], QPointF]
    ) -> dict[str, tuple[int, QPointF, float, QRectF]]:
        """Each open incident's (priority, position, new): rebuilt only for those that changed."""
        key = (self.width(), self.height(), self._geo_version)
        incidents = self.ctx.state.incidents
        if key != self._marks_key or self._changed is None:
            if key != self._marks_key:
                self._drawn.clear()  # positions moved: every layer is redrawn on demand
            self._marks_key = key
            todo: set[str] | list[str] = list(incidents)
            self._marks = {}
        else:
            todo = self._changed
        self._changed = set()
        for iid in todo:
            inc = incidents.get(iid)
            loc = inc.get("location") if inc else None
            if inc is None or not loc or inc["status"] == "closed":
                self._marks.pop(iid, None)
                continue
            reported = epoch(inc["reported_at"]) or 0.0
            pt = xy(loc["lon"], loc["lat"])
            half = 3.5 * self.scale
            rect = QRectF(pt.x() - half, pt.y() - half, 2 * half, 2 * half)
            self._marks[iid] = (int(inc["priority"]), pt, reported, rect)
        return self._marks

    def _draw_layer(self, prio: int, marks: dict[str, tuple[int, QPointF, float, QRectF]]) -> None:
        """One priority's markers on a transparent layer of their own."""
        # Layers are reused, not reallocated: a fresh full-screen pixmap per draw costs
        # far more in page faults than the markers cost to draw.
        pm = self._layers.get(prio)
        if pm is None or pm.size() != self.size():
            pm = self._layers[prio] = QPixmap(self.size())
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(theme.PRIORITY_COLOUR[prio])
        if prio == 1:  # diamonds (not antialiased: ten thousand of them must raster fast)
            path = QPainterPath()
            r = 9 * self.scale
            for pr, pt, _, _ in marks.values():
                if pr == 1:
                    path.addPolygon(_diamond(pt.x(), pt.y(), r))
            p.drawPath(path)
        else:
            # filled squares in one call: far cheaper to raster than wide-pen points
            p.drawRects([rect for pr, _, _, rect in marks.values() if pr == prio])
        p.end()
        self._drawn.add(prio)

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
        marks = self._marks_for(xy)
        for prio in (4, 3, 2, 1):
            if prio not in self._drawn:
                self._draw_layer(prio, marks)
            p.drawPixmap(0, 0, self._layers[prio])
        # new priority-1 incidents pulse (their first ten minutes; the newest MAX_PULSES:
        # hundreds of rings would hide the map, not point at anything)
        since = self.ctx.server_now().timestamp() - NEW_FOR_S
        fresh = heapq.nlargest(
            MAX_PULSES,
            ((rep, pt) for pr, pt, rep, _ in marks.values() if pr == 1 and rep > since),
            key=lambda m: m[0],
        )
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        radius = (10 + 10 * theme.pulse(time.monotonic())) * s
        p.setPen(QPen(theme.ALARM, 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        for _rep, pt in fresh:
            p.drawEllipse(pt, radius, radius)
        p.end()


def _diamond(x: float, y: float, r: float) -> QPolygonF:
    return QPolygonF(
        [QPointF(x, y - r * 1.15), QPointF(x + r, y), QPointF(x, y + r * 1.15), QPointF(x - r, y)]
    )


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry.get("type") == "MultiPolygon":
        return [poly[0] for poly in geometry["coordinates"]]
    return []

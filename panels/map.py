"""The district on one map (一张图): regions, cameras, incidents and the backend's layers.

A QPainter view, chosen by measurement over QGraphicsView (docs/benchmarks.md, map):
the map is drawn in cached layers, each redrawn only when what it shows or the view
changes —

- base: the region outlines of the wall's scope at a level that follows the zoom
  (streets when the district fits, areas from 4× closer, villages from 16×, grids
  from 64×), labelled where the label fits;
- overlay: the backend's ``layer.upsert`` features, each layer switchable;
- cameras: clustered by the spatial index (wallclient.geo) so that at most one
  marker per ~40 px is drawn however many cameras there are, single cameras when
  zoomed in (online filled, offline hollow grey);
- incidents: one layer per priority, each with its own shape (◆ ▲ ■ ●) and colour;
  new priority-1 incidents pulse; the focused incident is ringed, with lines to its
  linkage cameras.

Gestures: drag to pan, wheel or +/− to zoom, arrows to pan, Home to fit the scope;
click an incident to focus it (the linkage tiles then show its nearest cameras);
click a legend entry to switch a layer; double-click a region to drill into it
(the wall's panels narrow to it for a while, Esc returns).
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
    QWheelEvent,
)

from panels import theme
from panels.heat import HEAT_HOURS, HeatLayer
from panels.heat import points as heat_points
from panels.hub import Context, Hub, Panel
from panels.incidents import NEW_FOR_S
from wallclient import geo
from wallclient.protocol import REGION_LEVELS, epoch
from wallclient.units import TRACK_S, decimate

MAX_PULSES = 40
PRIO_SLICE_S = 0.004  # a priority layer is redrawn in slices of this, one per tick
LAYER_GAP_S = 0.25  # four priority layers: the whole marker set once a second
CLUSTER_PX = 40  # one camera marker per this many pixels, at most
SINGLE_PX = 160  # index cells at least this wide: every camera drawn on its own
ZOOM_STEP = 1.25
MAX_ZOOM = 512.0
FOCUS_SPAN_M = 2500.0  # focusing an incident shows about this much ground across
CONE_M = 80.0  # a camera's view cone reaches this far on the map
CONE_MIN_PX = 14.0  # … and is drawn once that is at least this long on screen
POINT_SHOWN_S = 120.0  # a "point here" spot stays marked this long
CAMERA_REDRAW_S = 2.0  # camera status changes are drawn at most this often
SCALE_STEPS = (50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000)  # a scale bar's lengths (m)
# units: a shape per kind, a colour per status (colour and shape for every state)
UNIT_SHAPE = {"patrol_car": "square", "pump_truck": "diamond", "drone": "triangle",
              "body_cam": "ring", "grid_worker": "circle"}  # fmt: skip
LABEL_PX = 26  # region names: secondary text, read at 2.5 m (docs/legibility.md)
HEAT_COLOUR = QColor(231, 76, 60)  # the legend's mark for the heat
UNIT_COLOUR = {"idle": QColor("#2ecc71"), "enroute": QColor("#f5b041"), "onsite": QColor("#4da3ff"),
               "offline": QColor("#7f8c9d")}  # fmt: skip

XY = Callable[[float, float], QPointF]
ViewKey = tuple[int, int, float, float, float]
Mark = tuple[int, float, float, float]  # priority, lon, lat, reported (epoch s)


class MapPanel(Panel):
    """Regions from ``options.level`` (default street) down, cameras and incidents."""

    def __init__(
        self, ctx: Context, hub: Hub, scale: float, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(ctx, hub, scale, options)
        self.level = self.options.get("level", "street")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMouseTracking(False)
        # the view: centre (None = the scope's centre) and zoom relative to "scope fits"
        self.centre: tuple[float, float] | None = None
        self.zoom = 1.0
        self.shown = {"cameras": True, "incidents": True, "units": True, "heat": True}  # layer id → on
        self.heat = HeatLayer()  # 事件热力: incidents of the last hours (panels.heat)
        self.labels: list[QRectF] = []  # where the region names were put (last base drawn)
        self._incidents_version = 0
        self._geo_version = 0
        self._regions_seen: dict[str, Any] = ctx.state.regions  # the region table drawn
        self._layers_version = 0
        self._units_version = 0
        self._ptz_version = 0  # camera.ptz moves the PTZ cameras' cones
        self.point: tuple[float, float, float, float] | None = None  # lon, lat, radius, until
        self._cams_dirty_at: float | None = None
        self._cache: dict[str, tuple[Any, QPixmap]] = {}  # layer name → (key, pixmap)
        self._marks: dict[str, Mark] = {}  # open incidents in scope, by id
        self._marks_key: Any = None
        self._changed: set[str] | None = None  # incidents changed since the last paint
        self._prio: dict[int, QPixmap] = {}  # per priority: its markers
        self._drawn: set[int] = set()  # the priorities whose layer is up to date
        self._gen = 0  # counts the clearings of _drawn: a layer drawn for an older one is void
        self._job: Iterator[None] | None = None  # a priority layer being redrawn in slices
        self._back: QPixmap | None = None  # the layer it draws on, swapped in when done
        self._stale: list[int] = []
        self._layer_at = 0.0
        self._legend: list[tuple[QRectF, str]] = []
        self._press: QPointF | None = None
        self._drag = QPointF(0, 0)  # while dragging: the cached picture moves, nothing redraws
        self.paint_ms: list[float] = []  # recent paint durations (bench, status)
        self.listen(self._tick)
        if ctx.basemap is not None:
            ctx.basemap.listeners.append(self.update)  # tiles arrived: drawn on the next paint

    # --- state → what to redraw ---------------------------------------------------

    def _tick(self, dirty: set[str]) -> None:
        if "scope" in dirty or ("regions" in dirty and self._regions_changed()):
            self._geo_version += 1
        if "layers" in dirty:
            self._layers_version += 1
            for lid in self.ctx.state.layers:
                self.shown.setdefault(lid, True)
        if "cameras" in dirty and self._cams_dirty_at is None:
            self._cams_dirty_at = time.monotonic()
        if "units" in dirty:
            self._units_version += 1
            self.update()
        if "ptz" in dirty:
            self._ptz_version += 1
            self.update()
        if "incidents" in dirty or "scope" in dirty:
            self._incidents_version += 1
            ids = self.hub.changed_ids("incidents")
            if ids is None or self._changed is None or "scope" in dirty:
                self._changed = None  # everything may have changed (a snapshot)
            else:
                self._changed |= ids
            self._stale = [1, 2, 3, 4]
        # Markers are redrawn one priority layer at a time, at most every LAYER_GAP_S,
        # and each layer in slices of PRIO_SLICE_S (one per tick, on a back buffer), so
        # no tick stalls the GUI thread with ten thousand incidents on the map.
        t = time.monotonic()
        if self._job is not None:
            if self.hub.claim() and next(self._job, "done") == "done":
                self._job = None
        elif (
            self._stale
            and self.isVisible()
            and t - self._layer_at >= LAYER_GAP_S
            and self.hub.claim()
        ):
            self._layer_at = t
            self._job = self._prio_job(self._stale.pop(0), self._marks_for())
            if next(self._job, "done") == "done":
                self._job = None
        if (
            self._cams_dirty_at is not None
            and t - self._cams_dirty_at >= CAMERA_REDRAW_S
            and self.isVisible()
            and self.hub.claim()
        ):
            self._cams_dirty_at = None
            self._cache.pop("cameras", None)
        # once a second (markers pulse, incidents move), half a second away from the
        # clocks' repaint so the two never add up to one long frame
        if dirty & {"half-second", "regions", "layers", "scope"}:
            self.update()

    # --- the view -----------------------------------------------------------------

    def _home_box(self) -> tuple[float, float, float, float] | None:
        """What "fit" shows: the drill-down's or the scope's region, else all cameras."""
        regions = self.ctx.state.regions
        code = self.ctx.area_code()
        region = regions.get(code) if code else None
        if region is None:
            region = next((r for r in regions.values() if r.get("level") == "district"
                           and r.get("geometry")), None)  # fmt: skip
        if region is not None and region.get("geometry"):
            return _bbox(_rings(region["geometry"]))
        return self.ctx.locator.shown.bounds()

    def _view(self) -> tuple[float, float, float, float] | None:
        """(centre lon, centre lat, px per degree of latitude, cos(lat))."""
        box = self._home_box()
        if box is None:
            return None
        lon0, lat0, lon1, lat1 = box
        kx = math.cos(math.radians((lat0 + lat1) / 2))
        margin = 30 * self.scale
        w, h = max(1.0, self.width() - 2 * margin), max(1.0, self.height() - 2 * margin)
        fit = min(w / (max(lon1 - lon0, 1e-6) * kx), h / max(lat1 - lat0, 1e-6))
        clon, clat = self.centre or ((lon0 + lon1) / 2, (lat0 + lat1) / 2)
        return clon, clat, fit * self.zoom, kx

    def _view_key(self) -> ViewKey | None:
        v = self._view()
        if v is None:
            return None
        return (self.width(), self.height(), round(v[0], 9), round(v[1], 9), round(v[2], 6))

    def _projection(self) -> XY:
        v = self._view() or (0.0, 0.0, 1.0, 1.0)
        clon, clat, k, kx = v
        cx, cy = self.width() / 2, self.height() / 2
        kk = kx * k

        def xy(lon: float, lat: float) -> QPointF:
            return QPointF(cx + (lon - clon) * kk, cy - (lat - clat) * k)

        return xy

    def to_lonlat(self, pos: QPointF) -> tuple[float, float] | None:
        v = self._view()
        if v is None:
            return None
        clon, clat, k, kx = v
        return (
            clon + (pos.x() - self.width() / 2) / (kx * k),
            clat - (pos.y() - self.height() / 2) / k,
        )

    def _visible_box(self) -> tuple[float, float, float, float]:
        a = self.to_lonlat(QPointF(0, self.height())) or (0.0, 0.0)
        b = self.to_lonlat(QPointF(self.width(), 0)) or (0.0, 0.0)
        return a[0], a[1], b[0], b[1]

    def fit(self) -> None:
        self.centre, self.zoom = None, 1.0
        self._view_changed()

    def reuse(self, options: dict[str, Any]) -> bool:
        """Another mode's map on this screen (a mode switch): its level taken in place and
        the whole scope shown, keeping this map's layers (full-screen pixmaps: new ones
        cost their page faults, tens of ms, in the switch) and what it knows."""
        self.options = dict(options)
        self.level = self.options.get("level", "street")
        self.fit()
        return True

    def zoom_by(self, factor: float, at: QPointF | None = None) -> None:
        """Zoom keeping the point under ``at`` (default: the centre) where it is."""
        v = self._view()
        if v is None:
            return
        new = min(MAX_ZOOM, max(0.5, self.zoom * factor))
        if at is not None:
            before = self.to_lonlat(at)
            self.zoom = new
            after = self.to_lonlat(at)
            if before and after:
                self.centre = (v[0] + before[0] - after[0], v[1] + before[1] - after[1])
        else:
            self.zoom = new
            self.centre = (v[0], v[1])
        self._view_changed()

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the map by (dx, dy) pixels."""
        v = self._view()
        if v is None:
            return
        clon, clat, k, kx = v
        self.centre = (clon - dx / (kx * k), clat + dy / k)
        self._view_changed()

    def focus_on(self, incident: str | None) -> None:
        """Centre on the focused incident, close enough to see the streets around it."""
        inc = self.ctx.incidents().get(incident or "")
        loc = geo.location(inc) if inc else None
        if loc is not None:
            v = self._view()
            if v is not None:
                span_deg = FOCUS_SPAN_M / 111_195
                want = self.height() / span_deg / (v[2] / self.zoom)
                self.zoom = max(self.zoom, min(MAX_ZOOM, want))
            self.centre = loc
            self._view_changed()
        self.update()

    def _regions_changed(self) -> bool:
        """Did the regions change? A snapshot replaces the table, most often with the
        same regions (a backend restart): then the region layer and where the markers
        are stay, and the wall's map is not redrawn whole in one paint."""
        table, seen = self.ctx.state.regions, self._regions_seen
        self._regions_seen = table
        return table is seen or table != seen  # the same table: changed in place

    def _draw_units(self, p: QPainter, xy: XY) -> None:
        """Units in view by kind (its own shape), status colour and heading, each with the
        fading track of its last 30 minutes (decimated to a few pixels a step)."""
        s = self.scale
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        view = QRectF(self.rect()).adjusted(-40, -40, 40, 40)
        tracks = self.ctx.state.tracks
        for uid, unit in self.ctx.state.units.items():
            loc = unit.get("location")
            if not isinstance(loc, dict):
                continue
            at = xy(loc["lon"], loc["lat"])
            if not view.contains(at):
                continue
            colour = UNIT_COLOUR.get(unit.get("status", ""), theme.STALE)
            last = tracks.last.get(uid)
            since = (last[0] if last else time.time()) - TRACK_S  # its last 30 min of fixes
            pts = decimate([(q.x(), q.y()) for q in (xy(lon, lat) for _t, lon, lat in
                                                       tracks.track(uid, since))], 4 * s)  # fmt: skip
            pts.append((at.x(), at.y()))
            for i in range(1, len(pts)):  # older parts fainter
                c = QColor(colour)
                c.setAlpha(int(40 + 160 * i / len(pts)))
                p.setPen(QPen(c, 2.2 * s))
                p.drawLine(QPointF(*pts[i - 1]), QPointF(*pts[i]))
            heading = loc.get("heading")
            if isinstance(heading, int | float):
                rad = math.radians(heading)
                tip = QPointF(at.x() + math.sin(rad) * 16 * s, at.y() - math.cos(rad) * 16 * s)
                p.setPen(QPen(colour, 2.5 * s))
                p.drawLine(at, tip)
            theme.shape(p, UNIT_SHAPE.get(unit.get("kind", ""), "circle"), at, 8 * s, colour)
            p.setPen(QPen(theme.BG, 1.5 * s))
            p.setBrush(Qt.BrushStyle.NoBrush)

    def _draw_scale(self, p: QPainter) -> None:
        """Lower right: a scale bar of a round length (50 m … 20 km) and a north arrow."""
        s = self.scale
        v = self._view()
        if v is None:
            return
        m_per_px = 111_320.0 / v[2]  # metres per pixel (north–south, at the view's scale)
        target = 200 * s * m_per_px  # about 200 px of ground
        length = max((n for n in SCALE_STEPS if n <= target), default=SCALE_STEPS[0])
        w = length / m_per_px
        right, bottom = self.width() - 24 * s, self.height() - 24 * s
        label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(right - w - 16 * s, bottom - 54 * s, w + 32 * s, 66 * s)
        p.fillRect(box.adjusted(-64 * s, 0, 0, 0), QColor(7, 11, 20, 200))
        p.setPen(QPen(theme.TEXT, 3 * s))
        y = bottom - 6 * s
        p.drawLine(QPointF(right - w, y), QPointF(right, y))
        for x in (right - w, right):
            p.drawLine(QPointF(x, y), QPointF(x, y - 10 * s))
        p.setFont(theme.font(20 * s, bold=True))
        p.drawText(QRectF(right - w - 40 * s, bottom - 52 * s, w + 80 * s, 34 * s),
                   Qt.AlignmentFlag.AlignCenter, label)  # fmt: skip
        # north: the map's up is north (Web Mercator, never rotated)
        cx, cy = box.left() - 34 * s, bottom - 24 * s
        arrow = QPolygonF([QPointF(cx, cy - 22 * s), QPointF(cx + 10 * s, cy + 8 * s),
                           QPointF(cx, cy + 2 * s), QPointF(cx - 10 * s, cy + 8 * s)])  # fmt: skip
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(theme.TEXT)
        p.drawPolygon(arrow)
        p.setPen(theme.TEXT)
        p.setFont(theme.font(16 * s, bold=True))
        p.drawText(QRectF(cx - 12 * s, cy + 6 * s, 24 * s, 22 * s), Qt.AlignmentFlag.AlignCenter, "N")

    def unit_at(self, pos: QPointF) -> str | None:
        """The unit drawn under ``pos`` (within its marker), if any."""
        if not self.shown.get("units", True):
            return None
        xy = self._projection()
        best, best_d = None, 14 * self.scale
        for uid, unit in self.ctx.state.units.items():
            loc = unit.get("location")
            if isinstance(loc, dict):
                at = xy(loc["lon"], loc["lat"])
                d = abs(at.x() - pos.x()) + abs(at.y() - pos.y())
                if d < best_d:
                    best, best_d = uid, d
        return best

    def _drag_unit(self, uid: str) -> None:
        from PySide6.QtCore import QMimeData
        from PySide6.QtGui import QDrag

        from panels.search import MIME

        data = QMimeData()
        data.setData(MIME, uid.encode())
        drag = QDrag(self)
        drag.setMimeData(data)
        drag.exec(Qt.DropAction.CopyAction)

    def _has_ground(self) -> bool:
        return self.ctx.basemap is not None and self.ctx.basemap.source is not None

    def world_px(self) -> float:
        """How many pixels wide the whole world is at this view (Web Mercator)."""
        v = self._view()
        return 360.0 * v[2] * v[3] if v is not None else 256.0

    def describe_map(self) -> dict[str, Any]:
        """``status.map`` (control-api.md): basemap, units, centre (WGS-84) and zoom."""
        centre = self.to_lonlat(QPointF(self.width() / 2, self.height() / 2))
        basemap = self.ctx.basemap
        return {
            "basemap": basemap.status() if basemap is not None
            else {"source": None, "ok": False, "error": "no basemap configured"},
            "units": len(self.ctx.state.units),
            "center": None if centre is None else {"lon": round(centre[0], 6), "lat": round(centre[1], 6)},
            "zoom": round(math.log2(max(1.0, self.world_px() / 256)), 2),
            "heat": {"shown": self.shown.get("heat", True), "incidents": self.heat.count,
                     "hours": HEAT_HOURS, "made_ms": round(self.heat.made_ms, 1)},
        }  # fmt: skip

    def _view_changed(self) -> None:
        self._drawn.clear()
        self._gen += 1
        self.update()

    def level_shown(self) -> str:
        """Finer regions as the map zooms in: one level per 4×."""
        base = REGION_LEVELS.index(self.level) if self.level in REGION_LEVELS else 1
        extra = int(math.log(max(self.zoom, 1.0), 4) + 1e-9)
        return REGION_LEVELS[min(len(REGION_LEVELS) - 1, base + extra)]

    # --- layers -------------------------------------------------------------------

    def _cached(self, name: str, key: Any, draw: Callable[[QPainter], None]) -> QPixmap:
        got = self._cache.get(name)
        if got is not None and got[0] == key:
            return got[1]
        pm = got[1] if got is not None and got[1].size() == self.size() else QPixmap(self.size())
        opaque = ("basemap", "under") if self._has_ground() else ("base", "under")
        pm.fill(theme.BG if name in opaque else Qt.GlobalColor.transparent)
        p = QPainter(pm)
        draw(p)
        p.end()
        self._cache[name] = (key, pm)
        return pm

    def _draw_base(self, p: QPainter, xy: XY) -> None:
        s = self.scale
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        # region names are read from the desks and the middle of the room (docs/legibility.md:
        # ≥ 26 px at 1080p), on a dark halo over the basemap, and never over one another
        p.setFont(theme.font(LABEL_PX * s, bold=True))
        fm = p.fontMetrics()
        self.labels = []
        level = self.level_shown()
        area = self.ctx.area()
        vb = self._visible_box()
        for r in self.ctx.state.regions.values():
            lvl = r.get("level")
            geom = r.get("geometry")
            here = r.get("code") == self.ctx.area_code()
            wanted = (lvl == level and area.covers(r.get("code"))) or (
                lvl == "district" and area.everything
            )
            if not geom or not (wanted or here):
                continue
            rings = _rings(geom)
            box = _bbox(rings)
            if box[2] < vb[0] or box[0] > vb[2] or box[3] < vb[1] or box[1] > vb[3]:
                continue  # off the screen
            outer = lvl == "district" or here
            pen = QPen(theme.INFO if outer else theme.PANEL_EDGE.lighter(160))
            pen.setWidthF(3 if outer else 1.2)
            p.setPen(pen)
            # over a basemap the regions are outlines only: the ground shows through
            fill = not outer and not self._has_ground()
            p.setBrush(QColor(20, 34, 60, 120) if fill else Qt.BrushStyle.NoBrush)
            for ring in rings:
                poly = QPolygonF([xy(pt[0], pt[1]) for pt in ring])
                p.drawPolygon(poly)
                bounds = poly.boundingRect()
                # a label only where it fits and no other label is: a crowded map is worse
                # than an unlabelled one
                tw = fm.horizontalAdvance(r["name"])
                if outer or tw >= bounds.width() * 0.9:
                    continue
                c = bounds.center()
                rect = QRectF(c.x() - tw / 2 - 6 * s, c.y() - fm.height() / 2, tw + 12 * s, fm.height())
                if any(rect.intersects(other) for other in self.labels):
                    continue
                self.labels.append(rect)
                p.setPen(QColor(7, 11, 20, 220))
                for dx, dy in ((-2, 0), (2, 0), (0, -2), (0, 2)):
                    p.drawText(rect.translated(dx * s, dy * s), Qt.AlignmentFlag.AlignCenter, r["name"])
                p.setPen(theme.TEXT_DIM.lighter(125))
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, r["name"])
                p.setPen(pen)

    def _draw_overlay(self, p: QPainter, xy: XY) -> None:
        """The backend's layers (``layer.upsert``): points, lines and polygons, named."""
        s = self.scale
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setFont(theme.font(16 * s))
        for lid, layer in sorted(self.ctx.state.layers.items()):
            if not self.shown.get(lid, True):
                continue
            colour = _layer_colour(lid)
            for feature in (layer.get("features") or {}).get("features", []) or []:
                g = feature.get("geometry") or {}
                kind = g.get("type")
                coords: Any = g.get("coordinates")
                try:
                    if kind == "Point":
                        pt = xy(coords[0], coords[1])
                        theme.shape(p, "square", pt, 7 * s, colour)
                        name = (feature.get("properties") or {}).get("name")
                        if name and self.zoom >= 2:
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
                        for ring in _rings(g):
                            p.drawPolygon(QPolygonF([xy(c[0], c[1]) for c in ring]))
                except (TypeError, IndexError, KeyError):
                    continue  # one malformed feature never blanks the layer

    def _draw_cameras(self, p: QPainter, xy: XY) -> None:
        """Clusters at a level where each takes about CLUSTER_PX; single cameras close up."""
        s = self.scale
        grid = self.ctx.locator.shown
        v = self._view()
        if v is None or not len(grid):
            return
        cell_px = grid.cell * v[2] * v[3]
        box = self._visible_box()
        cams = self.ctx.state.cameras
        online_pen = QPen(QColor(77, 163, 255, 210), 6 * s)
        online_pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        offline: list[QPointF] = []
        if cell_px >= SINGLE_PX:
            online: list[QPointF] = []
            for cid, (lon, lat) in grid.cameras_in(box):
                (online if cams.get(cid, {}).get("status") == "online" else offline).append(
                    xy(lon, lat)
                )
            p.setPen(online_pen)
            p.drawPoints(online)
        else:
            level = max(0, math.ceil(math.log2(CLUSTER_PX * s / max(cell_px, 1e-9))))
            singles: list[QPointF] = []
            many = []
            for cl in grid.clusters(level, box):
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
            p.setFont(theme.font(13 * s, bold=True))
            for count, pt in many:
                sprite, half = _cluster_sprite(count, s)
                p.drawPixmap(QPointF(pt.x() - half, pt.y() - half), sprite)
        if offline:
            p.setPen(QPen(theme.STALE, 1.6 * s))
            p.setBrush(Qt.BrushStyle.NoBrush)
            r = 3.5 * s
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.drawRects([QRectF(pt.x() - r, pt.y() - r, 2 * r, 2 * r) for pt in offline])

    def _marks_for(self) -> dict[str, Mark]:
        """Each open incident in scope: (priority, lon, lat, reported); rebuilt only for
        those that changed (a view change only moves where they are drawn)."""
        incidents = self.ctx.incidents()
        # a replay's past is a table of its own: a new one redraws every marker
        key = (self._geo_version, self.ctx.area_code(), id(incidents))
        area = self.ctx.area()
        if key != self._marks_key or self._changed is None:
            if key != self._marks_key:  # where markers are drawn moved: every layer is
                self._drawn.clear()  # redrawn on demand (else, as after a snapshot,
                self._gen += 1  # the layers are redrawn a slice per tick: _stale)
            self._marks_key = key
            todo: set[str] | list[str] = list(incidents)
            self._marks = {}
        else:
            todo = self._changed
        self._changed = set()
        for iid in todo:
            inc = incidents.get(iid)
            loc = inc.get("location") if inc else None
            if (
                inc is None
                or not loc
                or inc["status"] == "closed"
                or not area.covers(inc.get("region"))
            ):
                self._marks.pop(iid, None)
                continue
            reported = epoch(inc["reported_at"]) or 0.0
            self._marks[iid] = (int(inc["priority"]), loc["lon"], loc["lat"], reported)
        return self._marks

    def _marker_r(self, prio: int) -> float:
        """Marker radius: smaller for the lower priorities when zoomed out, so ten
        thousand incidents leave the map readable and priority 1 still stands out."""
        full = {1: 9.0, 2: 7.0, 3: 5.5, 4: 5.0}[prio]
        if self.zoom < 3 and prio > 1:
            full = {2: 5.0, 3: 3.5, 4: 3.0}[prio]
        return full * self.scale

    def _prio_job(
        self, prio: int, marks: dict[str, Mark], slice_s: float = PRIO_SLICE_S
    ) -> Iterator[None]:
        """Redraw one priority's markers on a transparent layer of their own, one
        pre-drawn sprite blitted per marker (an antialiased shape drawn 10,000 times
        costs ~10×), ``slice_s`` at a time (yielding between slices) on the back buffer,
        then swap it in. A view change meanwhile abandons it: the next paint draws the
        layer for the new view itself. Layers are reused, not reallocated: a fresh
        full-screen pixmap per draw costs more in page faults than the markers."""
        gen, size = self._gen, self.size()
        back = self._back if self._back is not None and self._back.size() == size else QPixmap(size)
        back.fill(Qt.GlobalColor.transparent)
        sprite, half = _sprite(theme.PRIORITY_SHAPE[prio], self._marker_r(prio),
                               theme.PRIORITY_COLOUR[prio])  # fmt: skip
        clon, clat, k, kx = self._view() or (0.0, 0.0, 1.0, 1.0)
        ox, oy, kk = self.width() / 2 - half, self.height() / 2 - half, k * kx
        w, h = self.width() + half, self.height() + half
        points = [(lon, lat) for pr, lon, lat, _ in marks.values() if pr == prio]
        i = 0
        while True:
            started = time.perf_counter()
            p = QPainter(back)
            draw = p.drawPixmap
            while i < len(points) and time.perf_counter() - started < slice_s:
                for lon, lat in points[i : i + 200]:
                    x, y = ox + (lon - clon) * kk, oy - (lat - clat) * k
                    if -half < x < w and -half < y < h:
                        draw(QPointF(x, y), sprite)
                i += 200
            p.end()
            if i >= len(points):
                break
            yield
            if gen != self._gen or size != self.size():
                return
        self._back = self._prio.get(prio)
        self._prio[prio] = back
        self._drawn.add(prio)  # shown by the next once-a-second repaint, as before

    def _draw_prio(self, prio: int, marks: dict[str, Mark]) -> None:
        """One priority's layer at once (a paint that finds it missing: a new view)."""
        for _ in self._prio_job(prio, marks, slice_s=math.inf):
            pass

    # --- painting -----------------------------------------------------------------

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        started = time.perf_counter()
        s = self.scale
        p = QPainter(self)
        key = self._view_key()
        if key is None:
            p.fillRect(self.rect(), theme.BG)
            p.setPen(theme.TEXT_DIM)
            p.setFont(theme.font(28 * s))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, theme.tr("No map data"))
            p.end()
            return
        xy = self._projection()
        if not self._drag.isNull():  # dragging: the last picture, moved; redrawn on release
            p.fillRect(self.rect(), theme.BG)
            p.translate(self._drag)
        # regions, backend layers and cameras change seldom: kept flattened into one
        # opaque picture, so a paint is one blit for them instead of three with alpha
        names = ["base"]
        basemap = self.ctx.basemap
        if basemap is not None and basemap.source is not None:
            names.insert(0, "basemap")
            self._cached("basemap", (key, basemap.version),
                         lambda q: basemap.draw(q, xy, self._visible_box(), self.world_px()))  # fmt: skip
        self._cached("base", (key, self._geo_version, self.level_shown(), self.ctx.area_code()),
                     lambda q: self._draw_base(q, xy))  # fmt: skip
        shown = tuple(sorted(k for k, on in self.shown.items() if on))
        if self.ctx.state.layers:
            names.append("overlay")
            self._cached("overlay", (key, self._layers_version, shown),
                         lambda q: self._draw_overlay(q, xy))  # fmt: skip
        if self.shown.get("cameras", True):
            names.append("cameras")
            self._cached("cameras", (key, self.ctx.locator.shown.version),
                         lambda q: self._draw_cameras(q, xy))  # fmt: skip

        def flatten(q: QPainter) -> None:
            for n in names:
                q.drawPixmap(0, 0, self._cache[n][1])

        under = self._cached("under", tuple((n, self._cache[n][0]) for n in names), flatten)
        p.drawPixmap(0, 0, under)
        if self.shown.get("heat", True):
            self._draw_heat(p, key)
        marks = self._marks_for()
        if self.shown.get("incidents", True):
            for prio in (4, 3, 2, 1):
                if prio not in self._drawn:
                    self._draw_prio(prio, marks)
                p.drawPixmap(0, 0, self._prio[prio])
            self._pulses(p, marks, xy)
        if self.shown.get("cameras", True) and self._cone_px() >= CONE_MIN_PX:
            p.drawPixmap(0, 0, self._cached("cones", (key, self._ptz_version, self.ctx.locator.shown.version),
                                            lambda q: self._draw_cones(q, xy)))  # fmt: skip
        if self.shown.get("units", True) and self.ctx.state.units:
            p.drawPixmap(0, 0, self._cached("units", (key, self._units_version),
                                            lambda q: self._draw_units(q, xy)))  # fmt: skip
        self._focus(p, xy)
        self._draw_point(p, xy)
        p.resetTransform()
        self._draw_legend(p, marks)
        self._draw_scale(p)
        p.end()
        self.paint_ms.append((time.perf_counter() - started) * 1000)
        del self.paint_ms[:-50]

    def _draw_heat(self, p: QPainter, key: Any) -> None:
        """The incident heat under the markers, from its quarter-resolution picture."""
        v = self._view()
        if v is None:
            return
        clon, clat, k, kx = v
        cx, cy = self.width() / 2, self.height() / 2

        def project(lons: Any, lats: Any) -> tuple[Any, Any]:
            return cx + (lons - clon) * (kx * k), cy - (lats - clat) * k

        incidents = self.ctx.incidents()
        # a replay's past is a new table at every read: a change of data like any other
        # (at most once a second), not of the view
        image = self.heat.picture(
            # (and once a minute: incidents older than the window leave it with no change)
            (key, self.ctx.area_code()),
            (self._incidents_version, id(incidents), int(self.ctx.data_now().timestamp() // 60)),
            lambda: heat_points(incidents.values(), self.ctx.data_now().timestamp(),
                                covers=self.ctx.area().covers),
            project, (self.width(), self.height()), self.scale,
        )  # fmt: skip
        if image is None or self.heat.count == 0:
            return
        p.save()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        k = self.heat.factor
        p.drawImage(QRectF(0, 0, image.width() * k, image.height() * k), image)
        p.restore()

    def _cone_px(self) -> float:
        v = self._view()
        return 0.0 if v is None else CONE_M / 111_195 * v[2]

    def _draw_cones(self, p: QPainter, xy: XY) -> None:
        """Where each camera in view looks: fixed ones by ``bearing_deg``/``fov_deg``, PTZ
        ones by their live ``ptz_state`` (camera.ptz), brighter. Compass bearings on the
        screen: north up, so a bearing b points along (sin b, −cos b)."""
        length = self._cone_px()
        cams = self.ctx.state.cameras
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fixed, domes = QColor(77, 163, 255, 50), QColor(255, 209, 102, 90)
        for cid, (lon, lat) in self.ctx.locator.shown.cameras_in(self._visible_box()):
            cam = cams.get(cid) or {}
            st = cam.get("ptz_state") if cam.get("ptz") else None
            try:
                if st:
                    bearing, fov = float(st["pan_deg"]), float(st["fov_deg"])
                else:
                    bearing, fov = float(cam["bearing_deg"]), float(cam.get("fov_deg") or 60)
            except (KeyError, TypeError, ValueError):
                continue
            at = xy(lon, lat)
            reach = length * (1 + min(3.0, float(st.get("zoom", 1)) - 1) / 2) if st else length
            path = QPainterPath(at)
            for k in range(9):  # the cone's arc, from one edge of the view to the other
                b = math.radians(bearing - fov / 2 + fov * k / 8)
                path.lineTo(at.x() + reach * math.sin(b), at.y() - reach * math.cos(b))
            path.closeSubpath()
            colour = domes if st else fixed
            p.setPen(QPen(colour.lighter(160), 1.5 * self.scale) if st else Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawPath(path)

    def point_at(self, lon: float, lat: float, radius_m: float) -> None:
        """Mark a "point here" spot and its reach, and bring it into view."""
        self.point = (lon, lat, radius_m, time.monotonic() + POINT_SHOWN_S)
        v = self._view()
        if v is not None:
            want = self.height() / (radius_m * 3 / 111_195) / (v[2] / self.zoom)
            self.zoom = max(self.zoom, min(MAX_ZOOM, want))
        self.centre = (lon, lat)
        self._view_changed()

    def _draw_point(self, p: QPainter, xy: XY) -> None:
        if self.point is None or self.point[3] < time.monotonic():
            return
        lon, lat, radius, _ = self.point
        s = self.scale
        at = xy(lon, lat)
        v = self._view()
        r_px = radius / 111_195 * v[2] if v is not None else 0.0
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(theme.INFO, 2 * s, Qt.PenStyle.DashLine))
        p.drawEllipse(at, r_px, r_px)
        p.setPen(QPen(theme.INFO, 3 * s))
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):  # a cross-hair: the spot
            p.drawLine(at + QPointF(dx * 6 * s, dy * 6 * s), at + QPointF(dx * 22 * s, dy * 22 * s))
        for cid in self.ctx.linked:  # the cameras sent to look at it
            loc = geo.location(self.ctx.state.cameras.get(cid) or {})
            if loc is not None:
                p.setPen(QPen(QColor(255, 209, 102, 200), 2 * s))
                p.drawLine(xy(*loc), at)

    def _pulses(self, p: QPainter, marks: dict[str, Mark], xy: XY) -> None:
        # new priority-1 incidents pulse (their first ten minutes; the newest MAX_PULSES:
        # hundreds of rings would hide the map, not point at anything)
        since = self.ctx.data_now().timestamp() - NEW_FOR_S
        fresh = heapq.nlargest(
            MAX_PULSES,
            ((rep, lon, lat) for pr, lon, lat, rep in marks.values() if pr == 1 and rep > since),
            key=lambda m: m[0],
        )
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        radius = (10 + 10 * theme.pulse(time.monotonic())) * self.scale
        p.setPen(QPen(theme.ALARM, 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        for _rep, lon, lat in fresh:
            p.drawEllipse(xy(lon, lat), radius, radius)

    def _focus(self, p: QPainter, xy: XY) -> None:
        """The focused incident: a ring, and numbered lines to its linkage cameras."""
        inc = self.ctx.incidents().get(self.ctx.focused or "")
        loc = geo.location(inc) if inc else None
        if loc is None:
            return
        s = self.scale
        at = xy(*loc)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        cams = self.ctx.linked
        p.setFont(theme.font(18 * s, bold=True))
        for n, cid in enumerate(cams, 1):
            cam = self.ctx.state.cameras.get(cid)
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

    def _draw_legend(self, p: QPainter, marks: dict[str, Mark]) -> None:
        """Top left: each layer with its marker and count; a click switches it."""
        s = self.scale
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setFont(theme.font(18 * s))
        fm = p.fontMetrics()
        rows: list[tuple[str, str, str, QColor]] = [
            ("cameras", theme.tr("Cameras %1").replace("%1", f"{len(self.ctx.locator.shown):,}"),
             "circle", theme.INFO),
            ("incidents", theme.tr("Incidents %1").replace("%1", f"{len(marks):,}"),
             "diamond", theme.ALARM),
        ]  # fmt: skip
        rows.append(("heat", theme.tr("Heat, last %1 h · %2").replace("%1", f"{HEAT_HOURS:g}")
                     .replace("%2", f"{self.heat.count:,}"), "circle", HEAT_COLOUR))  # fmt: skip
        if self.ctx.state.units:
            rows.append(("units", theme.tr("Units %1").replace("%1", f"{len(self.ctx.state.units):,}"),
                         "square", UNIT_COLOUR["idle"]))  # fmt: skip
        for lid, layer in sorted(self.ctx.state.layers.items()):
            rows.append((lid, str(layer.get("name") or lid), "square", _layer_colour(lid)))
        x, y = 12 * s, 12 * s
        line = 32 * s
        width = max(fm.horizontalAdvance(r[1]) for r in rows) + 56 * s
        p.fillRect(QRectF(x - 6 * s, y - 6 * s, width + 12 * s, line * len(rows) + 12 * s),
                   QColor(7, 11, 20, 200))  # fmt: skip
        self._legend = []
        for lid, label, shape, colour in rows:
            on = self.shown.get(lid, True)
            rect = QRectF(x, y, width, line)
            theme.shape(p, shape if on else "ring", QPointF(x + 14 * s, y + line / 2), 8 * s,
                        colour if on else theme.STALE)  # fmt: skip
            p.setPen(theme.TEXT if on else theme.TEXT_DIM)
            p.drawText(rect.adjusted(34 * s, 0, 0, 0),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label)  # fmt: skip
            self._legend.append((rect, lid))
            y += line
        code = self.ctx.area_code()
        if code and code != self.ctx.scope_code:  # a drill-down says where and how to leave
            name = self.ctx.state.regions.get(code, {}).get("name", code)
            text = theme.tr("Drilled into %1 · Esc returns").replace("%1", name)
            p.setFont(theme.font(22 * s, bold=True))
            w = p.fontMetrics().horizontalAdvance(text) + 30 * s
            r = QRectF(self.width() - w - 12 * s, 12 * s, w, 40 * s)
            p.fillRect(r, QColor(77, 163, 255, 60))
            p.setPen(theme.INFO)
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
        basemap = self.ctx.basemap
        err = basemap.status()["error"] if basemap is not None else None
        if err:  # the map runs without its ground, and says why, in its corner
            text = theme.tr("No basemap: %1").replace("%1", err)
            p.setFont(theme.font(18 * s))
            text = p.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, int(self.width() * 0.6))
            w = p.fontMetrics().horizontalAdvance(text) + 40 * s
            r = QRectF(12 * s, self.height() - 48 * s, w, 36 * s)
            p.fillRect(r, QColor(7, 11, 20, 220))
            theme.shape(p, "triangle", QPointF(r.left() + 16 * s, r.center().y()), 8 * s, theme.WARN)
            p.setPen(theme.WARN)
            p.drawText(r.adjusted(30 * s, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, text)

    # --- gestures -----------------------------------------------------------------

    def toggle(self, layer: str) -> None:
        """Switch one layer (cameras, incidents or a backend layer) on or off."""
        self.shown[layer] = not self.shown.get(layer, True)
        self.update()

    def incident_at(self, pos: QPointF) -> str | None:
        """The incident marker under ``pos`` (priority first, then the nearest)."""
        best: tuple[int, float, str] | None = None
        reach = 14 * self.scale
        xy = self._projection()
        for iid, (prio, lon, lat, _) in self._marks.items():
            pt = xy(lon, lat)
            d = math.hypot(pt.x() - pos.x(), pt.y() - pos.y())
            if d <= reach and (best is None or (prio, d) < best[:2]):
                best = (prio, d, iid)
        return best[2] if best else None

    def region_at(self, pos: QPointF) -> str | None:
        """The smallest region of the level shown that contains ``pos``."""
        ll = self.to_lonlat(pos)
        if ll is None:
            return None
        level = self.level_shown()
        area = self.ctx.area()
        for code, r in self.ctx.state.regions.items():
            if r.get("level") != level or not r.get("geometry") or not area.covers(code):
                continue
            if any(_inside(ll, ring) for ring in _rings(r["geometry"])):
                return code
        return None

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.button() == Qt.MouseButton.RightButton and self.ctx.point_here is not None:
            spot = self.to_lonlat(e.position())  # WGS-84: a GCJ-02 ground is warped into it
            if spot is not None:
                self._point_menu(spot, e.globalPosition().toPoint())
            return
        if e.button() == Qt.MouseButton.LeftButton:
            uid = self.unit_at(e.position())
            if uid is not None and self.ctx.state.units[uid].get("stream"):
                self._drag_unit(uid)  # a unit with its own camera: dragged onto a tile
                return
            self._press = e.position()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._press is not None:
            self._drag = e.position() - self._press
            self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._press is None:
            return
        moved = e.position() - self._press
        self._press, self._drag = None, QPointF(0, 0)
        if abs(moved.x()) + abs(moved.y()) > 6:
            self.pan_by(moved.x(), moved.y())
            return
        for rect, lid in self._legend:
            if rect.contains(e.position()):
                self.toggle(lid)
                return
        iid = self.incident_at(e.position())
        if iid is not None and self.ctx.select_incident is not None:
            self.ctx.select_incident(iid)

    def _point_menu(self, spot: tuple[float, float], at: Any) -> None:
        from PySide6.QtWidgets import QMenu

        point = self.ctx.point_here
        if point is None:
            return
        m = QMenu(self)
        m.setFont(theme.font(20 * self.scale))
        act = m.addAction(theme.tr("Point PTZ cameras here"), lambda: point(*spot))
        may = self.ctx.ptz is not None and self.ctx.ptz.may() and self.ctx.ptz.offered()
        act.setEnabled(bool(may))
        m.popup(at)

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        code = self.region_at(e.position())
        if code is not None and self.ctx.drill_into is not None:
            self.ctx.drill_into(code)

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802
        steps = e.angleDelta().y() / 120
        if steps:
            self.zoom_by(ZOOM_STEP**steps, e.position())

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        step = 120 * self.scale
        k = e.key()
        if k in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(ZOOM_STEP)
        elif k == Qt.Key.Key_Minus:
            self.zoom_by(1 / ZOOM_STEP)
        elif k == Qt.Key.Key_Left:
            self.pan_by(step, 0)
        elif k == Qt.Key.Key_Right:
            self.pan_by(-step, 0)
        elif k == Qt.Key.Key_Up:
            self.pan_by(0, step)
        elif k == Qt.Key.Key_Down:
            self.pan_by(0, -step)
        elif k == Qt.Key.Key_Home:
            self.fit()
        elif k == Qt.Key.Key_D and self.ctx.focused and self.ctx.open_card is not None:
            self.ctx.open_card(self.ctx.focused, self)  # the focused incident's card
        elif k == Qt.Key.Key_P and self.ctx.focused and self.ctx.point_here is not None:
            loc = geo.location(self.ctx.incidents().get(self.ctx.focused) or {})
            if loc is not None:  # every PTZ camera near the focused incident looks at it
                self.ctx.point_here(*loc)
        elif k == Qt.Key.Key_R and self.ctx.focused and self.ctx.replay_incident is not None:
            self.ctx.replay_incident(self.ctx.focused)  # 事件回溯 of the incident in focus
        elif (
            k == Qt.Key.Key_Escape
            and self.ctx.drill is not None
            and self.ctx.drill_into is not None
        ):
            self.ctx.drill_into(None)
        else:
            super().keyPressEvent(e)

    def resizeEvent(self, e: Any) -> None:  # noqa: N802
        super().resizeEvent(e)
        self._drawn.clear()
        self._gen += 1

    def scope_changed(self) -> None:
        """A drill-down began or ended: fit its region."""
        self.fit()


_SPRITES: dict[tuple[Any, ...], tuple[QPixmap, float]] = {}


def _sprite(shape: str, r: float, colour: QColor) -> tuple[QPixmap, float]:
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


def _cluster_sprite(count: int, scale: float) -> tuple[QPixmap, float]:
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


_LAYER_COLOURS: dict[str, QColor] = {}


def _layer_colour(lid: str) -> QColor:
    """Each backend layer its own colour, kept for as long as the wall runs."""
    palette = ["#b07cff", "#3ddbd9", "#ffd166", "#06d6a0", "#f78c6b", "#e0aaff"]
    got = _LAYER_COLOURS.get(lid)
    if got is None:
        got = _LAYER_COLOURS[lid] = QColor(palette[len(_LAYER_COLOURS) % len(palette)])
    return got


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry.get("type") == "MultiPolygon":
        return [poly[0] for poly in geometry["coordinates"]]
    return []


def _bbox(rings: list[list[list[float]]]) -> tuple[float, float, float, float]:
    xs = [pt[0] for ring in rings for pt in ring] or [0.0]
    ys = [pt[1] for ring in rings for pt in ring] or [0.0]
    return min(xs), min(ys), max(xs), max(ys)


def _inside(pt: tuple[float, float], ring: list[list[float]]) -> bool:
    """Even–odd rule: is ``pt`` inside the polygon ``ring``?"""
    x, y = pt
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / ((yj - yi) or 1e-12) + xi:
            inside = not inside
        j = i
    return inside

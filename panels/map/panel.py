"""The district on one map (一张图): the panel, its view, its gestures and how its layers
are kept drawn.

Layers, bottom up, one module each: the basemap (``basemap``), regions (``regions``), the
backend's layers (``overlay``), cameras (``cameras``), heat (``heat``), incidents by
priority (``incidents``), view cones (``cameras``), units (``units``); the legend, scale
bar and north arrow on top (``furniture``). All of them project through one
``wallclient.viewport.Viewport``.

How it stays smooth (docs/benchmarks.md, map): each layer is a picture drawn for one
view and one version of its data (``picture.Picture``), in slices of a few ms between
turns of the event loop, on a back buffer swapped in whole. The ground layers are
flattened into one opaque picture, and that with the rest into the scene; a paint is one
blit of the scene and the small live things (pulses, the focused incident, the legend).
When the view changes (pan, zoom, drag) the last scene is moved and scaled onto the new
view at once, and the layers are redrawn for it behind it; when they are all there the
new scene replaces it. Data changes (incidents, cameras, units) redraw only their layer,
the same way, incidents one priority layer at a time.

Gestures: drag to pan, wheel or +/− to zoom, arrows to pan, Home to fit the scope;
click an incident to focus it (the linkage tiles then show its nearest cameras);
click a legend entry to switch a layer; double-click a region to drill into it
(the wall's panels narrow to it for a while, Esc returns); drag a unit with a camera
onto a tile; right-click to point PTZ cameras at a spot.
"""

from __future__ import annotations

import math
import time
from functools import partial
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent

from panels import theme
from panels.hub import Context, Hub, Panel
from panels.map import cameras, furniture, incidents, overlay, regions, units
from panels.map.heat import HEAT_HOURS, REFRESH_S, HeatLayer
from panels.map.heat import points as heat_points
from panels.map.incidents import Mark
from panels.map.picture import WAIT, XY, Draw, Picture, qxy
from wallclient import geo
from wallclient.protocol import epoch
from wallclient.viewport import M_PER_DEG, Box, Viewport

LAYER_GAP_S = 0.25  # four priority layers: each redrawn for new data at most once a second
SLICE_S = 0.004  # layer drawing per turn of the event loop, at most (about)
WAIT_POLL_MS = 10  # how often a layer made on another thread (the heat) is looked for
TILES_GAP_S = 0.12  # while tiles come, the basemap layer takes them at most this often
HEAT_AGE_S = 60.0  # the heat is remade this often with no change (incidents age out of it)
PAST_HEAT_S = 5.0  # … and this often while a replay's clock runs
HEAT_SHARE = 20.0  # the heat waits at least 20 × its last remake's time before the next
ZOOM_STEP = 1.25
MAX_ZOOM = 512.0
FOCUS_SPAN_M = 2500.0  # focusing an incident shows about this much ground across
POINT_SHOWN_S = 120.0  # a "point here" spot stays marked this long
CAMERA_REDRAW_S = 2.0  # camera status changes are drawn at most this often
HEAT_COLOUR = QColor(231, 76, 60)  # the legend's mark for the heat
ESSENTIAL = ("ground", "p4", "p3", "p2", "p1")  # a new view is shown once these are drawn for it
CLEAR = QColor(0, 0, 0, 0)
Spec = tuple[str, Any, QColor, Draw]  # a layer: name, key (view key, data), fill, how to draw


class MapPanel(Panel):
    """Regions from ``options.level`` (default street) down, cameras, incidents, units."""

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
        self.heat = HeatLayer()  # 事件热力: incidents of the last hours (panels.map.heat)
        self.labels: list[QRectF] = []  # where the region names were put (last regions drawn)
        self.point: tuple[float, float, float, float] | None = None  # lon, lat, radius, until
        self.paint_ms: list[float] = []  # recent paint durations (bench, status)
        self.work_ms: list[float] = []  # recent slices of layer drawing (bench)
        # what each layer's picture is drawn for: versions of the data it shows
        self._geo_version = 0
        self._layers_version = 0
        self._units_version = 0
        self._units_of: object = None  # the replay's Past the units are drawn of (None: live)
        self.tracks = units.Tracks()  # the units' tracks as drawn
        self._tracks_version = 0
        self._tracks_at = -math.inf
        self._ptz_version = 0  # camera.ptz moves the PTZ cameras' cones
        self._cams_version = 0
        self._cams_dirty_at: float | None = None
        self._incidents_version = 0
        self._prio_version = {1: 0, 2: 0, 3: 0, 4: 0}
        self._stale: list[int] = []  # priorities whose layer waits for its turn (LAYER_GAP_S)
        self._layer_at = 0.0
        self._heat_version = 0
        self._settling = False  # drawing every layer now: nothing waits for another turn
        self._waiting = False  # the last turn's work left a layer to another thread
        self._heat_due = False
        self._heat_at = 0.0
        self._regions_seen: dict[str, Any] = ctx.state.regions  # the region table drawn
        self._home: tuple[Any, Box | None] | None = None
        self._marks: dict[str, Mark] = {}  # open incidents in scope, by id
        self._marks_key: Any = None
        self._changed: set[str] | None = None  # incidents changed since the marks were read
        self._pics: dict[str, Picture] = {}
        self._scene_view: Viewport | None = None  # the view the scene on show was drawn for
        self._scene_names: list[str] = []  # the layers a scene is made of
        self._swapped = False
        self._pump = QTimer(self)  # drives the layer drawing, a slice per turn
        self._pump.setSingleShot(True)
        self._pump.setInterval(0)
        self._pump.timeout.connect(self._pump_once)
        self._legend: list[tuple[QRectF, str]] = []
        self._press: QPointF | None = None
        self._drag = QPointF(0, 0)  # while dragging: the scene moves, nothing redraws
        self.listen(self._tick)
        self._tiles_seen = 0  # the basemap's version its layer is drawn with
        self._tiles_at = 0.0
        self._tiles_timer = QTimer(self)
        self._tiles_timer.setSingleShot(True)
        self._tiles_timer.setInterval(int(TILES_GAP_S * 1000))
        self._tiles_timer.timeout.connect(self._take_tiles)
        if ctx.basemap is not None:
            ctx.basemap.listeners.append(self._tiles_came)

    # --- state → what to redraw ---------------------------------------------------

    def _tick(self, dirty: set[str]) -> None:
        t = time.monotonic()
        if "scope" in dirty or ("regions" in dirty and self._regions_changed()):
            self._geo_version += 1
            self._home = None
        if "layers" in dirty:
            self._layers_version += 1
            for lid in self.ctx.state.layers:
                self.shown.setdefault(lid, True)
        if "cameras" in dirty and self._cams_dirty_at is None:
            self._cams_dirty_at = t
        past = self.ctx.past
        moved = past is not self._units_of  # another moment of a replay, or live again
        if moved:
            self._units_of = past
        if "units" in dirty or moved:
            self._units_version += 1
            # tracks as live, every TRACK_REDRAW_S while a replay's clock runs (a new
            # moment each second): at once only on a seek, a replay's start or its end
            jump = moved and (past is None or past.jumped)
            if jump or t - self._tracks_at >= (units.CROWDED_REDRAW_S if self.tracks.crowded else units.TRACK_REDRAW_S):
                self._tracks_at = t
                self._tracks_version += 1
        if "ptz" in dirty:
            self._ptz_version += 1
        if "incidents" in dirty or "scope" in dirty:
            self._incidents_version += 1
            ids = self.hub.changed_ids("incidents")
            if ids is None or self._changed is None or "scope" in dirty:
                self._changed = None  # everything may have changed (a snapshot)
            else:
                self._changed |= ids
            self._heat_due = True
            if past is not None and past.jumped:  # a replay's seek: the markers of then, now
                self._stale = []
                for prio in self._prio_version:
                    self._prio_version[prio] += 1
            else:
                self._stale = [1, 2, 3, 4]
        # each priority layer takes new data at most once a second, one every LAYER_GAP_S,
        # so a busy feed never has the map redrawing ten thousand markers all the time
        if self._stale and t - self._layer_at >= LAYER_GAP_S:
            self._layer_at = t
            self._prio_version[self._stale.pop(0)] += 1
        # (a replay's running clock moves the heat's four hours by a second a second: it
        # is remade every PAST_HEAT_S then, at once on a seek)
        every = PAST_HEAT_S if self.ctx.past is not None and not self.ctx.past.jumped else REFRESH_S
        # a busy feed on a loaded PC: the heat costs the GUI thread at most ~5 % (its last
        # remake took 100 ms → again in 2 s; bench/endurance.py found it the longest stall
        # at 200 incidents a second, remade every second)
        every = max(every, HEAT_SHARE * self.heat.made_ms / 1000)
        if (self._heat_due and t - self._heat_at >= every) or t - self._heat_at >= HEAT_AGE_S:
            self._heat_due, self._heat_at = False, t
            self._heat_version += 1
        if self._cams_dirty_at is not None and t - self._cams_dirty_at >= CAMERA_REDRAW_S:
            self._cams_dirty_at = None
            self._cams_version += 1
        if self.isVisible():
            self._kick()
        # once a second (markers pulse, incidents move), half a second away from the
        # clocks' repaint so the two never add up to one long frame
        if dirty & {"half-second", "regions", "layers", "scope"}:
            self.update()

    def _regions_changed(self) -> bool:
        """Did the regions change? A snapshot replaces the table, most often with the
        same regions (a backend restart): then the region layer and where the markers
        are stay, and the wall's map is not redrawn whole."""
        table, seen = self.ctx.state.regions, self._regions_seen
        self._regions_seen = table
        return table is seen or table != seen  # the same table: changed in place

    # --- the view -----------------------------------------------------------------

    def _home_box(self) -> Box | None:
        """What "fit" shows: the drill-down's or the scope's region, else all cameras."""
        code = self.ctx.area_code()
        key = (code, self._geo_version, id(self.ctx.state.regions), self.ctx.locator.shown.version)
        if self._home is not None and self._home[0] == key:
            return self._home[1]
        table = self.ctx.state.regions
        region = table.get(code) if code else None
        if region is None:
            region = next((r for r in table.values() if r.get("level") == "district"
                           and r.get("geometry")), None)  # fmt: skip
        if region is not None and region.get("geometry"):
            box: Box | None = regions.bbox(regions.rings(region["geometry"]))
        else:
            box = self.ctx.locator.shown.bounds()
        self._home = (key, box)
        return box

    def viewport(self) -> Viewport | None:
        """What the map shows now (None: nothing to show yet)."""
        box = self._home_box()
        if box is None:
            return None
        return Viewport.fitting(box, self.width(), self.height(), 30 * self.scale, self.zoom, self.centre)

    def _view(self) -> tuple[float, float, float, float] | None:
        """(centre lon, centre lat, px per degree of latitude, cos φ₀)."""
        v = self.viewport()
        return None if v is None else (v.lon, v.lat, v.k, v.kx)

    def _projection(self) -> XY:
        v = self.viewport()
        return qxy(v if v is not None else Viewport(0.0, 0.0, 1.0, 1.0, self.width(), self.height()))

    def to_lonlat(self, pos: QPointF) -> tuple[float, float] | None:
        v = self.viewport()
        return None if v is None else v.lonlat(pos.x(), pos.y())

    def world_px(self) -> float:
        """How many pixels wide the whole world is at this view (Web Mercator)."""
        v = self.viewport()
        return v.world_px() if v is not None else 256.0

    def level_shown(self) -> str:
        return regions.level_shown(self.level, self.zoom)

    def fit(self) -> None:
        self.centre, self.zoom = None, 1.0
        self._view_changed()

    def reuse(self, options: dict[str, Any]) -> bool:
        """Another mode's map on this screen (a mode switch): its level taken in place and
        the whole scope shown, keeping this map's layers and what it knows."""
        self.options = dict(options)
        self.level = self.options.get("level", "street")
        self.fit()
        return True

    def zoom_by(self, factor: float, at: QPointF | None = None) -> None:
        """Zoom keeping the point under ``at`` (default: the centre) where it is."""
        v = self.viewport()
        if v is None:
            return
        new = min(MAX_ZOOM, max(0.5, self.zoom * factor))
        if at is not None:
            before = v.lonlat(at.x(), at.y())
            self.zoom = new
            after = self.to_lonlat(at)
            if after is not None:
                self.centre = (v.lon + before[0] - after[0], v.lat + before[1] - after[1])
        else:
            self.zoom = new
            self.centre = (v.lon, v.lat)
        self._view_changed()

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the map by (dx, dy) pixels."""
        v = self.viewport()
        if v is None:
            return
        moved = v.panned(dx, dy)
        self.centre = (moved.lon, moved.lat)
        self._view_changed()

    def focus_on(self, incident: str | None) -> None:
        """Centre on the focused incident, close enough to see the streets around it."""
        inc = self.ctx.incidents().get(incident or "")
        loc = geo.location(inc) if inc else None
        if loc is not None:
            v = self.viewport()
            if v is not None:
                want = self.height() / (FOCUS_SPAN_M / M_PER_DEG) / (v.k / self.zoom)
                self.zoom = max(self.zoom, min(MAX_ZOOM, want))
            self.centre = loc
            self._view_changed()
        self.update()

    def point_at(self, lon: float, lat: float, radius_m: float) -> None:
        """Mark a "point here" spot and its reach, and bring it into view."""
        self.point = (lon, lat, radius_m, time.monotonic() + POINT_SHOWN_S)
        v = self.viewport()
        if v is not None:
            want = self.height() / (radius_m * 3 / M_PER_DEG) / (v.k / self.zoom)
            self.zoom = max(self.zoom, min(MAX_ZOOM, want))
        self.centre = (lon, lat)
        self._view_changed()

    def _view_changed(self) -> None:
        self.update()  # the last scene, moved; the layers are redrawn behind it

    def scope_changed(self) -> None:
        """A drill-down began or ended: fit its region."""
        self.fit()

    def _has_ground(self) -> bool:
        return self.ctx.basemap is not None and self.ctx.basemap.source is not None

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

    # --- the layers ---------------------------------------------------------------

    def _marks_for(self) -> dict[str, Mark]:
        """Each open incident in scope: (priority, lon, lat, reported); rebuilt only for
        those that changed (a view change only moves where they are drawn)."""
        table = self.ctx.incidents()
        # a replay's past is a table of its own: a new one redraws every marker
        key = (self._geo_version, self.ctx.area_code(), id(table))
        area = self.ctx.area()
        if key != self._marks_key or self._changed is None:
            if key != self._marks_key:  # which markers are drawn changed: every layer now
                self._stale = []
                for prio in self._prio_version:
                    self._prio_version[prio] += 1
            self._marks_key = key
            todo: set[str] | list[str] = list(table)
            self._marks = {}
        else:
            todo = self._changed
        self._changed = set()
        for iid in todo:
            inc = table.get(iid)
            loc = inc.get("location") if inc else None
            if inc is None or not loc or inc["status"] == "closed" or not area.covers(inc.get("region")):
                self._marks.pop(iid, None)
                continue
            reported = epoch(inc["reported_at"]) or 0.0
            self._marks[iid] = (int(inc["priority"]), loc["lon"], loc["lat"], reported)
        return self._marks

    def _specs(self, v: Viewport) -> list[Spec]:
        """Every layer shown, bottom up, then the two flattened pictures: ``ground`` (the
        opaque layers under everything) and ``scene`` (what a paint shows)."""
        ctx, s, vk, xy = self.ctx, self.scale, v.key, qxy(v)
        cams = ctx.state.cameras
        grid = ctx.locator.shown
        out: list[Spec] = []
        basemap = ctx.basemap
        if basemap is not None and basemap.source is not None:
            out.append(("basemap", (vk, self._tiles_seen), theme.BG,
                        lambda p: basemap.drawing(p, xy, v.box(), v.world_px())))  # fmt: skip
        level, here, area, ground = self.level_shown(), ctx.area_code(), ctx.area(), self._has_ground()

        def draw_regions(p: QPainter) -> Any:
            self.labels = []
            return regions.draw(p, v, xy, ctx.state.regions, level, area, here, ground, s, self.labels)

        out.append(("regions", (vk, self._geo_version, level, here), CLEAR, draw_regions))
        if ctx.state.layers:
            shown = tuple(sorted(k for k, on in self.shown.items() if on))
            out.append(("overlay", (vk, self._layers_version, shown), CLEAR,
                        lambda p: overlay.draw(p, xy, ctx.state.layers, self.shown, self.zoom, s)))  # fmt: skip
        if self.shown.get("cameras", True):
            out.append(("cameras", (vk, grid.version, self._cams_version), CLEAR,
                        lambda p: cameras.draw(p, v, xy, grid, cams, s)))  # fmt: skip
        out.append(("ground", (vk, tuple((n, key) for n, key, *_ in out)), theme.BG,
                    self._flatten([n for n, *_ in out])))  # fmt: skip
        scene = ["ground"]
        if self.shown.get("heat", True):
            out.append(("heat", (vk, self._heat_version, here), CLEAR, lambda p: self._draw_heat(p, v)))
            scene.append("heat")
        if self.shown.get("incidents", True):
            marks = self._marks_for()
            for prio in (4, 3, 2, 1):
                r = incidents.marker_r(prio, self.zoom, s)
                out.append((f"p{prio}", (vk, self._prio_version[prio]), CLEAR,
                            partial(incidents.draw, v=v, prio=prio, marks=marks, r=r)))  # fmt: skip
                scene.append(f"p{prio}")
        if self.shown.get("cameras", True) and cameras.cone_px(v) >= cameras.CONE_MIN_PX:
            out.append(("cones", (vk, self._ptz_version, grid.version), CLEAR,
                        lambda p: cameras.draw_cones(p, v, xy, grid, cams, s)))  # fmt: skip
            scene.append("cones")
        if self.shown.get("units", True) and ctx.units():
            out.append(("tracks", (vk, self._tracks_version), CLEAR,
                        lambda p: self.tracks.draw(p, v, ctx.units(), ctx.fixes(), s)))  # fmt: skip
            out.append(("units", (vk, self._units_version, self._tracks_version), CLEAR,
                        lambda p: units.draw(p, v, xy, ctx.units(), self.tracks.ends, s)))  # fmt: skip
            scene += ["tracks", "units"]
        self._scene_names = scene
        keys = {n: key for n, key, *_ in out}
        out.append(("scene", (vk, tuple((n, keys[n]) for n in scene)), theme.BG, self._flatten(scene)))
        return out

    def _flatten(self, names: list[str]) -> Draw:
        def draw(p: QPainter) -> Any:
            for i, name in enumerate(names):
                if i:
                    yield
                front = self._pics[name].front
                if front is not None:
                    p.drawPixmap(0, 0, front)

        return draw

    def _draw_heat(self, p: QPainter, v: Viewport) -> Any:
        """The incident heat, from its quarter-resolution picture (panels.map.heat), made
        on the heat's own thread while the map's other layers go on (``settle``: at once)."""
        table = self.ctx.incidents()
        now = self.ctx.data_now().timestamp()

        def project(lons: Any, lats: Any) -> tuple[Any, Any]:
            return v.width / 2 + (lons - v.lon) * (v.kx * v.k), v.height / 2 - (lats - v.lat) * v.k

        job = self.heat.start(
            (v.key, self.ctx.area_code()), self._heat_version,
            lambda: heat_points(table.values(), now, covers=self.ctx.area().covers),
            project, (v.width, v.height), self.scale,
        )  # fmt: skip
        while job is not None and not job.done() and not self._settling:
            yield WAIT
        image = self.heat.image if job is None else self.heat.finish(job)
        if image is not None and self.heat.count:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            k = self.heat.factor
            p.drawImage(QRectF(0, 0, image.width() * k, image.height() * k), image)

    def _work(self, until: float) -> bool:
        """Draw the layers that are not what they should be, until ``until``
        (perf_counter); True when the scene shows the view and data of now."""
        v = self.viewport()
        if v is None:
            return True
        size = self.size()
        started = time.perf_counter()
        did = False
        specs = self._specs(v)
        waiting = False  # a layer whose picture another thread is making (the heat)
        try:
            # what a new view is shown with first (ground, incidents), the rest after it
            for name, key, fill, draw in sorted(specs, key=lambda sp: _rank(sp[0])):
                pic = self._pics.get(name)
                if pic is None:
                    pic = self._pics[name] = Picture(name)
                if pic.shows(key) or (waiting and name == "scene"):
                    continue  # (the scene is put together once every layer is there)
                out_of_time = did and time.perf_counter() >= until  # (at least one slice a call)
                if not out_of_time and not pic.work(key, size, fill, draw, until) and pic.waiting:
                    waiting = True
                    continue  # the other layers meanwhile
                if out_of_time or not pic.shows(key):
                    self._interim(v, {n: k for n, k, *_ in specs})
                    self._waiting = False  # (more to draw: the next turn at once)
                    return False
                did = True
                self._swapped = True
                if name == "scene":
                    self._scene_view = v
            if waiting:
                self._interim(v, {n: k for n, k, *_ in specs})
            self._waiting = waiting
            return not waiting
        finally:
            self.work_ms.append((time.perf_counter() - started) * 1000)
            del self.work_ms[:-200]

    def _interim(self, v: Viewport, keys: dict[str, Any]) -> None:
        """A new view's scene as soon as its ground and incidents are drawn for it, without
        the layers still being drawn (heat, cones, units join it when they are): what
        matters is on the screen first."""
        if self._scene_view is not None and self._scene_view.key == v.key:
            return  # the scene shows this view already (its data catches up behind it)
        if not all(n in self._pics and self._pics[n].shows(keys[n]) for n in ESSENTIAL if n in keys):
            return  # (a layer not begun yet has no picture at all)
        names = [n for n in self._scene_names
                 if n in self._pics and self._pics[n].key is not None and self._pics[n].key[0] == v.key]  # fmt: skip
        self._pics.setdefault("scene", Picture("scene")).work(("interim", v.key, tuple(names)), self.size(), theme.BG,
                                 self._flatten(names), math.inf)  # fmt: skip
        self._scene_view = v
        self._swapped = True

    def _tiles_came(self) -> None:
        """Tiles arrived: the basemap layer is drawn again with them once the view's last
        one is there, or every TILES_GAP_S while they come (not once per arrival)."""
        basemap = self.ctx.basemap
        if basemap is None:
            return
        if not basemap.coming or time.monotonic() - self._tiles_at >= TILES_GAP_S:
            self._take_tiles()
        elif not self._tiles_timer.isActive():
            self._tiles_timer.start()

    def _take_tiles(self) -> None:
        basemap = self.ctx.basemap
        if basemap is not None:
            self._tiles_at, self._tiles_seen = time.monotonic(), basemap.version
            self._kick()

    def _kick(self) -> None:
        if not self._pump.isActive():
            self._pump.start(0)

    def _pump_once(self) -> None:
        if not self.isVisible():
            return
        if self._work(time.perf_counter() + SLICE_S):
            if self._swapped:
                self._swapped = False
                self.update()
        else:  # the next slice next turn; a picture being made elsewhere is looked at less often
            self._pump.start(WAIT_POLL_MS if self._waiting else 0)

    def detach(self) -> None:
        super().detach()
        self._drop_jobs()

    def closeEvent(self, e: Any) -> None:  # noqa: N802
        self._drop_jobs()
        super().closeEvent(e)

    def _drop_jobs(self) -> None:
        """End the layers' drawing under way here, on the GUI thread (the jobs and the panel
        refer to each other: left to the garbage collector, they would be let go of on
        whichever thread collects them), and stop being told of tiles."""
        self._pump.stop()
        self._tiles_timer.stop()
        for pic in self._pics.values():
            pic.drop()
        basemap = self.ctx.basemap
        if basemap is not None and self._tiles_came in basemap.listeners:
            basemap.listeners.remove(self._tiles_came)

    def settled(self, names: tuple[str, ...] | None = None) -> bool:
        """Is every layer (of ``names``) drawn for the view and data of now?"""
        v = self.viewport()
        return v is None or all(
            name in self._pics and self._pics[name].shows(key)
            for name, key, *_ in self._specs(v)
            if names is None or name in names
        )

    def showing(self) -> bool:
        """Does the screen show the view of now (its ground and incidents at least)?"""
        v = self.viewport()
        return v is not None and self._scene_view is not None and self._scene_view.key == v.key

    def settle(self) -> None:
        """Every layer drawn for the view and data of now, at once (screenshots, tests)."""
        self._settling = True
        try:
            self._work(math.inf)
        finally:
            self._settling = False
        self._swapped = False

    # --- painting -----------------------------------------------------------------

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        started = time.perf_counter()
        s = self.scale
        p = QPainter(self)
        v = self.viewport()
        if v is None:
            p.fillRect(self.rect(), theme.BG)
            p.setPen(theme.TEXT_DIM)
            p.setFont(theme.font(28 * s))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, theme.tr("No map data"))
            p.end()
            return
        scene = self._pics.get("scene")
        # the first paint (a new panel: the emergency layout's map at each flip) fills the
        # background alone and leaves the layers to the pump, as for a new view below: drawn
        # here, with the heat waited for, it held the GUI thread for ~200 ms at each flip
        first = scene is None or scene.front is None
        shown = self._scene_view
        move = v.moved_from(shown) if shown is not None and not first else None
        if move is None:
            # another scope's proportions (a drill-down into a region at another latitude):
            # the last scene cannot be moved onto the new view, and drawing every layer in
            # this paint would hold the GUI thread for hundreds of ms at 77,000 cameras — the
            # ground for now; the pump draws the view in slices, its interim scene within
            # ~0.2 s (the pulses, focus and legend are drawn over it meanwhile)
            p.fillRect(self.rect(), theme.BG)
        elif move == (1.0, 0.0, 0.0) and self._drag.isNull():
            assert scene is not None and scene.front is not None
            p.drawPixmap(0, 0, scene.front)
        else:  # a view change under way: the last scene, moved, until the new one is drawn
            k, dx, dy = move
            dx, dy = dx + self._drag.x(), dy + self._drag.y()
            p.fillRect(self.rect(), theme.BG)
            p.save()
            p.translate(dx, dy)
            p.scale(k, k)
            assert scene is not None and scene.front is not None
            p.drawPixmap(0, 0, scene.front)
            p.restore()
        self._kick()  # whatever is not drawn for the view and data of now, behind this
        xy = qxy(v)
        marks = self._marks
        if self.shown.get("incidents", True):
            incidents.pulses(p, xy, marks, incidents.pulse_since(self.ctx.data_now().timestamp()), s)
        focused = self.ctx.incidents().get(self.ctx.focused or "")
        incidents.focus(p, xy, focused, self.ctx.linked, self.ctx.state.cameras, s)
        self._draw_point(p, xy, v)
        self._draw_furniture(p, v, marks)
        p.end()
        self.paint_ms.append((time.perf_counter() - started) * 1000)
        del self.paint_ms[:-50]

    def _draw_point(self, p: QPainter, xy: XY, v: Viewport) -> None:
        if self.point is None or self.point[3] < time.monotonic():
            return
        lon, lat, radius, _ = self.point
        s = self.scale
        at = xy(lon, lat)
        r_px = v.px(radius)
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

    def _draw_furniture(self, p: QPainter, v: Viewport, marks: dict[str, Mark]) -> None:
        s = self.scale
        rows: list[furniture.Row] = [
            ("cameras", theme.tr("Cameras %1").replace("%1", f"{len(self.ctx.locator.shown):,}"),
             "circle", theme.INFO),
            ("incidents", theme.tr("Incidents %1").replace("%1", f"{len(marks):,}"),
             "diamond", theme.ALARM),
            ("heat", theme.tr("Heat, last %1 h · %2").replace("%1", f"{HEAT_HOURS:g}")
             .replace("%2", f"{self.heat.count:,}"), "circle", HEAT_COLOUR),
        ]  # fmt: skip
        if self.ctx.units():
            if self.ctx.past is not None:  # a replay: where they were, their status then unknown
                rows.append(("units", theme.tr("Units %1, where they were then")
                             .replace("%1", f"{len(self.ctx.units()):,}"), "square", theme.STALE))  # fmt: skip
            else:
                rows.append(("units", theme.tr("Units %1").replace("%1", f"{len(self.ctx.units()):,}"),
                             "square", units.UNIT_COLOUR["idle"]))  # fmt: skip
        for lid, layer in sorted(self.ctx.state.layers.items()):
            rows.append((lid, str(layer.get("name") or lid), "square", overlay.colour_of(lid)))
        self._legend = furniture.legend(p, rows, self.shown, s)
        code = self.ctx.area_code()
        if code and code != self.ctx.scope_code:  # a drill-down says where and how to leave
            furniture.drilled(p, self.ctx.state.regions.get(code, {}).get("name", code), v.width, s)
        basemap = self.ctx.basemap
        err = basemap.status()["error"] if basemap is not None else None
        if err:  # the map runs without its ground, and says why, in its corner
            furniture.no_ground(p, err, v.width, v.height, s)
        furniture.scale_bar(p, v, s)

    # --- gestures -----------------------------------------------------------------

    def toggle(self, layer: str) -> None:
        """Switch one layer (cameras, incidents, heat, units or a backend layer)."""
        self.shown[layer] = not self.shown.get(layer, True)
        self.update()

    def incident_at(self, pos: QPointF) -> str | None:
        """The incident marker under ``pos`` (priority first, then the nearest)."""
        return incidents.at(self._projection(), self._marks, pos, 14 * self.scale)

    def unit_at(self, pos: QPointF) -> str | None:
        """The unit drawn under ``pos`` (within its marker), if any."""
        if not self.shown.get("units", True):
            return None
        return units.at(self._projection(), self.ctx.units(), pos, 14 * self.scale)

    def region_at(self, pos: QPointF) -> str | None:
        """The smallest region of the level shown that contains ``pos``."""
        v = self.viewport()
        if v is None:
            return None
        return regions.region_at(v, pos, self.ctx.state.regions, self.level_shown(), self.ctx.area())

    def _drag_unit(self, uid: str) -> None:
        from PySide6.QtCore import QMimeData
        from PySide6.QtGui import QDrag

        from panels.search import MIME

        data = QMimeData()
        data.setData(MIME, uid.encode())
        drag = QDrag(self)
        drag.setMimeData(data)
        drag.exec(Qt.DropAction.CopyAction)

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
        elif k == Qt.Key.Key_Escape and self.ctx.drill is not None and self.ctx.drill_into is not None:
            self.ctx.drill_into(None)
        else:
            super().keyPressEvent(e)


def _rank(name: str) -> int:
    """The order layers are drawn in (not the order they are stacked in): the ground's
    layers, the ground and the incidents first, then the rest, then the scene."""
    if name == "scene":
        return 2
    return 0 if name in ESSENTIAL or name in ("basemap", "regions", "overlay", "cameras") else 1

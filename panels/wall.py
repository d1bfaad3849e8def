"""The wall: one frameless window per physical screen, each filled from the layout.

Every window has the status banner on top and the regions of the current mode
below. A ``wall.state`` with another mode rebuilds every window in the same event
loop turn, so the whole wall flips together.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt, QTimer
from PySide6.QtGui import (
    QGuiApplication,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QPixmap,
    QScreen,
)
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QVBoxLayout, QWidget

from panels import theme
from panels.banner import BannerPanel
from panels.hub import Context, Hub, PacedWindow, Panel
from panels.incidents import NEW_FOR_S, IncidentsPanel
from panels.indicators import IndicatorsPanel
from panels.map import MapPanel
from panels.palette import Confirm, PresetPalette, hotkey_of
from panels.search import CameraSearch
from panels.status import ClockPanel, StatusPanel
from panels.trend import IndicatorChartPanel, TrendPanel
from panels.video import VideoPanel, tile_rects
from wallclient import geo
from wallclient.errors import CommandError
from wallclient.incidents import NewPriority1
from wallclient.layout import Layout, Region, Screen, unit_rect

log = logging.getLogger(__name__)

THUMB_MAX_BYTES = 28 * 1024  # a screen's thumbnail for the tablet (budget 30 KB)

PANEL_TYPES: dict[str, Callable[..., QWidget]] = {
    "video": VideoPanel,
    "indicators": IndicatorsPanel,
    "incidents": IncidentsPanel,
    "map": MapPanel,
    "status": StatusPanel,
    "clock": ClockPanel,
    "trend": TrendPanel,
    "indicator_chart": IndicatorChartPanel,
}


CHART_OPEN_S = 120
LINKAGE_N = 3  # the nearest three cameras, as the centres' own reports describe
DRILL_S = 120.0  # a drill-down narrows the panels this long, then the wall's scope returns


class _ChartOverlay(QFrame):
    """A framed chart over a screen's panels; a click anywhere on it closes it."""

    def __init__(self, window: ScreenWindow, panel: IndicatorChartPanel) -> None:
        super().__init__(window)
        self.window_ = window
        self.panel = panel
        self.setObjectName("chart")
        self.setStyleSheet(
            f"#chart {{ border: 3px solid {theme.INFO.name()}; background: {theme.BG.name()}; }}"
        )
        box = QVBoxLayout(self)
        hint = QLabel(theme.tr("Click or press Esc to close"))
        hint.setStyleSheet(
            f"color: {theme.TEXT_DIM.name()}; font-size: {round(20 * window.scale)}px;"
        )
        box.addWidget(hint)
        box.addWidget(panel, 1)
        panel.plot.scene().sigMouseClicked.connect(lambda _e: window.close_chart())

    def mousePressEvent(self, _e: QMouseEvent) -> None:  # noqa: N802
        self.window_.close_chart()


# Kept off the screen while the other mode shows (ScreenWindow.set_mode): a trend chart
# took ~65 ms to build (pyqtgraph), an incident list 10–60 ms (it sorts every live
# incident), a whole indicator panel's first paint 40–55 ms (every tile's static layer
# drawn); stowed, a chart counts without drawing, a list notes what changed and the
# indicators keep their tiles' layers and do nothing.
KEPT_TYPES = (TrendPanel, IncidentsPanel, IndicatorsPanel)


def _kept_key(region: Region) -> str:
    return f"{region.panel} {json.dumps(region.options, sort_keys=True)}"


class ScreenWindow(PacedWindow):
    """One physical screen: banner plus the regions of the current mode; its repaints
    take turns with the other screens' (panels.hub.Pacer)."""

    def __init__(self, ctx: Context, hub: Hub, layout: Layout, screen: Screen, qscreen: QScreen | None,
                 history: Callable[[str], list[tuple[float, float | None]]] | None = None) -> None:  # fmt: skip
        super().__init__(hub.pacer)
        self.ctx = ctx
        self.hub = hub
        self.layout_ = layout
        self.screen_ = screen
        self.qscreen = qscreen
        self.history = history
        self.mode = ""
        self.scale = screen.height / 1080
        self.setWindowTitle(f"wallclient · {screen.name}")
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint)
        # The background by palette, not a style sheet: a sheet on the window cascades to
        # every child and routes all their painting through the (slow) style-sheet style.
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Window, theme.BG)
        self.setPalette(pal)
        self.setAutoFillBackground(True)
        self.setCursor(Qt.CursorShape.BlankCursor)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        self.banner = BannerPanel(ctx, hub, self.scale, screen.name)
        box.addWidget(self.banner)
        self.content = QWidget()
        box.addWidget(self.content, 1)
        self.regions: dict[str, QWidget] = {}
        self._region_defs: tuple[Region, ...] = ()
        # Panels of the mode not shown whose build would stall the switch back, kept
        # (KEPT_TYPES); stowed, they only keep count of what changes. By panel and options.
        self._kept: dict[str, list[Panel]] = {}
        self.chart: _ChartOverlay | None = None
        self.search: CameraSearch | None = None
        self.preset_palette: PresetPalette | None = None
        self.confirm: Confirm | None = None
        self._chart_timer = QTimer(self)
        self._chart_timer.setSingleShot(True)
        self._chart_timer.timeout.connect(self.close_chart)
        geo = (
            qscreen.geometry()
            if qscreen is not None
            else QRect(screen.x, screen.y, screen.width, screen.height)
        )
        if qscreen is not None:
            self.setScreen(qscreen)
        self.setGeometry(geo)

    def set_mode(self, mode: str) -> None:
        """The regions of ``mode`` (emergency falls back to normal where the layout has
        none). A region of the same id and panel in both modes keeps its panel, its
        options taken in place where the panel can (``Panel.reuse``): it neither goes
        dark nor is built again. Incident lists and trend charts leaving the screen are
        kept for the switch back (KEPT_TYPES); the other panels are built afresh."""
        if mode == self.mode:
            return
        self.mode = mode
        new_defs = self.layout_.regions(mode, self.screen_.name)
        wanted = {r.id: r for r in new_defs}
        stay: dict[str, QWidget] = {}
        for region in self._region_defs:
            w = self.regions[region.id]
            other = wanted.get(region.id)
            if (
                other is not None
                and other.panel == region.panel
                and isinstance(w, Panel)
                and w.reuse(other.options)
            ):
                if isinstance(w, VideoPanel) and w.maximised is not None:
                    w.restore()  # the new mode's wall as its layout draws it
                stay[region.id] = w
                continue
            w.setParent(None)  # off the screen (a widget given a new parent is hidden)
            if isinstance(w, KEPT_TYPES):
                w.stow()
                self._kept.setdefault(_kept_key(region), []).append(w)
                continue
            if isinstance(w, Panel):
                w.detach()
            w.deleteLater()
        self.regions = {}
        self._region_defs = new_defs
        for region in self._region_defs:
            kept = self._kept.get(_kept_key(region))
            widget: QWidget
            if region.id in stay:
                self.regions[region.id] = stay[region.id]
                continue
            if kept:
                widget = kept.pop()
                widget.unstow()
            else:
                factory = PANEL_TYPES[region.panel]
                kwargs: dict[str, Any] = {"options": region.options}
                if region.panel == "indicator_chart":
                    kwargs["history"] = self.history
                widget = factory(self.ctx, self.hub, self.scale, **kwargs)
                if isinstance(widget, IndicatorsPanel):
                    widget.opened.connect(self.open_chart)
            widget.setParent(self.content)
            widget.setObjectName(region.id)
            self.regions[region.id] = widget
            widget.show()
        self._place()

    def close_all(self) -> None:
        """Done with this window (an editor preview): its panels let go, then it goes."""
        kept = [w for ws in self._kept.values() for w in ws]
        for w in [*self.regions.values(), *kept]:
            if isinstance(w, Panel):
                w.detach()
        self.banner.setParent(None)
        self.close()
        self.deleteLater()

    def open_chart(self, iid: str) -> None:
        """An indicator's 24 h chart over the middle of this screen, until clicked, Esc,
        or CHART_OPEN_S without a touch (a wall must not keep a popup for ever)."""
        self.close_chart()
        self.chart = _ChartOverlay(self, IndicatorChartPanel(
            self.ctx, self.hub, self.scale, {"id": iid}, history=self.history))  # fmt: skip
        area = self.content.geometry()
        w, h = int(area.width() * 0.7), int(area.height() * 0.6)
        self.chart.setGeometry(area.x() + (area.width() - w) // 2,
                               area.y() + (area.height() - h) // 2, w, h)  # fmt: skip
        self.chart.show()
        self.chart.raise_()
        self._chart_timer.start(CHART_OPEN_S * 1000)

    def open_search(self) -> CameraSearch:
        """The camera search over the right third of this screen (Ctrl+F)."""
        if self.search is None:
            self.search = CameraSearch(self.ctx, self.scale, self)
        area = self.content.geometry()
        w = area.width() // 3
        self.search.setGeometry(area.right() - w, area.y(), w, area.height())
        self.search.show()
        self.search.raise_()
        self.search.box.setFocus()
        return self.search

    def open_palette(self) -> PresetPalette | None:
        """The preset palette over the middle of this screen (Space or Ctrl+P); nothing
        for a role that may not switch."""
        desk = self.ctx.desk
        if desk is None or not desk.may_switch():
            return None
        if self.preset_palette is None:
            self.preset_palette = PresetPalette(self.ctx, desk, self.scale, self)
        area = self.content.geometry()
        w, h = int(area.width() * 0.5), int(area.height() * 0.8)
        self.preset_palette.setGeometry(
            area.x() + (area.width() - w) // 2, area.y() + area.height() // 10, w, h
        )
        self.preset_palette.box.clear()
        self.preset_palette.run()
        self.preset_palette.show()
        self.preset_palette.raise_()
        self.preset_palette.box.setFocus()
        return self.preset_palette

    def ask_emergency(self) -> Confirm | None:
        """Ctrl+E: confirm going into emergency mode, choosing the emergency preset."""
        desk = self.ctx.desk
        if desk is None or not desk.may_switch():
            return None
        presets = sorted((p for p in self.ctx.state.presets.values() if p.get("emergency")),
                         key=lambda p: (p.get("scenario") or "", p.get("name") or ""))  # fmt: skip
        choices = [(f"⚠ {p.get('name')} · {p.get('scenario') or ''}", p["id"]) for p in presets]
        if not choices:
            choices = [(theme.tr("Keep the current preset"), None)]
        return self._confirm(theme.tr("Switch the whole wall to EMERGENCY mode?"), choices,
                             lambda yes, pid: desk.emergency(pid) if yes else None)  # fmt: skip

    def ask_normal(self) -> Confirm | None:
        """Ctrl+N: confirm returning to normal mode and the preset active before."""
        desk = self.ctx.desk
        if desk is None or not desk.may_switch():
            return None
        back = desk.view().get("before_emergency")
        name = self.ctx.state.presets.get(back or "", {}).get("name")
        title = theme.tr("Return the wall to normal mode?")
        if name:
            title += "\n" + theme.tr("The preset %1 comes back").replace("%1", name)
        return self._confirm(title, None, lambda yes, _c: desk.normal() if yes else None)

    def _confirm(
        self, title: str, choices: list[tuple[str, Any]] | None, then: Callable[[bool, Any], Any]
    ) -> Confirm:
        if self.confirm is not None and self.confirm.answer is None:
            self.confirm.hide()
            self.confirm.deleteLater()
        self.confirm = Confirm(title, self.scale, self, choices)
        self.confirm.on_answer = then
        area = self.content.geometry()
        w, h = int(area.width() * 0.45), int(area.height() * (0.6 if choices else 0.3))
        self.confirm.setGeometry(
            area.x() + (area.width() - w) // 2, area.y() + (area.height() - h) // 2, w, h
        )
        self.confirm.show()
        self.confirm.raise_()
        self.confirm.setFocus()
        return self.confirm

    def close_chart(self) -> None:
        self._chart_timer.stop()
        if self.chart is not None:
            self.chart.panel.detach()
            self.chart.setParent(None)
            self.chart.deleteLater()
            self.chart = None

    def _place(self) -> None:
        geo = Screen(self.screen_.name, self.content.width() or self.screen_.width,
                     self.content.height() or self.screen_.height, grid=self.screen_.grid)  # fmt: skip
        for region in self._region_defs:
            x, y, w, h = unit_rect(geo, region.rect)
            self.regions[region.id].setGeometry(x, y, w, h)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        # The wall is a kiosk: no accidental quitting; Ctrl+Shift+Q is the way out.
        if event.key() == Qt.Key.Key_Escape and self.chart is not None:
            self.close_chart()
            return
        ctrl = event.modifiers() == Qt.KeyboardModifier.ControlModifier
        if event.key() == Qt.Key.Key_F and ctrl:
            self.open_search()
            return
        if (event.key() == Qt.Key.Key_Space and not ctrl) or (event.key() == Qt.Key.Key_P and ctrl):
            self.open_palette()
            return
        if event.key() == Qt.Key.Key_E and ctrl:
            self.ask_emergency()
            return
        if event.key() == Qt.Key.Key_N and ctrl:
            self.ask_normal()
            return
        key = hotkey_of(event)
        desk = self.ctx.desk
        if key is not None and desk is not None and desk.may_switch():
            pid = next(
                (p["id"] for p in self.ctx.state.presets.values() if p.get("hotkey") == key), None
            )
            if pid is not None:
                desk.activate(pid)
                return
        if event.key() == Qt.Key.Key_Q and event.modifiers() == (
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        ):
            QGuiApplication.quit()
        super().keyPressEvent(event)

    def _qscreen_name(self) -> str | None:
        if self.qscreen is None:
            return None
        try:
            return str(self.qscreen.name())
        except RuntimeError:  # the screen went away (unplugged) before we heard of it
            self.qscreen = None
            return None

    def describe(self) -> dict[str, Any]:
        g = self.geometry()
        return {
            "name": self.screen_.name,
            "geometry": [g.x(), g.y(), g.width(), g.height()],
            "qscreen": self._qscreen_name(),
            "mode": self.mode,
            "regions": [{"id": r.id, "panel": r.panel} for r in self._region_defs],
        }


class Wall:
    """All windows of this node, switched between normal and emergency together."""

    def __init__(self, ctx: Context, hub: Hub, layout: Layout,
                 history: Callable[[str], list[tuple[float, float | None]]] | None = None,
                 linkage_n: int = LINKAGE_N, auto_linkage: bool = False,
                 drill_s: float = DRILL_S, only: list[str] | None = None) -> None:  # fmt: skip
        self.ctx = ctx
        self.hub = hub
        self.layout = layout
        self.linkage_n = linkage_n
        self.auto_linkage = auto_linkage
        self.linkage: dict[str, Any] = {"incident": None, "cameras": [], "distances_m": [],
                                        "at": None, "reason": None}  # fmt: skip
        self._new = NewPriority1(ctx.state.incidents, NEW_FOR_S)  # for automatic linkage
        ctx.select_incident = self.focus
        ctx.drill_into = self.drill_into
        self.drill_s = drill_s
        qscreens = QGuiApplication.screens()
        by_name = {s.name(): s for s in qscreens}
        self.windows: list[ScreenWindow] = []
        self.missing: list[str] = []
        # Screens are matched by name when the layout names any connected screen,
        # otherwise by index (a wall PC whose outputs have generic names).
        named = _named(layout, by_name)
        # A wall of several PCs: each drives some of the layout's screens (only), the
        # others' screens are theirs, not missing.
        mine = [s for s in layout.screens if only is None or s.name in only]
        self.others = [s.name for s in layout.screens if s not in mine]
        for i, screen in enumerate(mine):
            qs = by_name.get(screen.name) if named else qscreens[i] if i < len(qscreens) else None
            if qs is None:
                self.missing.append(screen.name)
                continue
            self.windows.append(ScreenWindow(ctx, hub, layout, screen, qs, history))
        if self.missing:
            log.warning(
                "layout screens not connected: %s (running on the others)", ", ".join(self.missing)
            )
        self.apply_mode()
        hub.tick.connect(self._tick)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.screenRemoved.connect(self._screen_removed)

    def _screen_removed(self, qs: QScreen) -> None:
        """A monitor was unplugged: its window stays (Qt moves it to another screen) and
        the wall says which layout screen is missing."""
        for w in self.windows:
            if w.qscreen is not None and w.qscreen == qs:
                w.qscreen = None
                if w.screen_.name not in self.missing:
                    self.missing.append(w.screen_.name)
                log.warning("screen %s disconnected: layout screen %s is missing",
                            qs.name(), w.screen_.name)  # fmt: skip

    def _tick(self, dirty: set[str]) -> None:
        if "wall" in dirty:
            self.apply_mode()
        if "incidents" in dirty and self.auto_linkage:
            self._auto_link()
        if dirty & {"units", "incidents"} and self.linkage.get("incident"):
            self._units_on_site()
        drill = self.ctx.drill
        if "clock" in dirty and drill is not None and drill[1] <= time.monotonic():
            self.drill_into(None)  # the drill-down has had its time: back to the wall's scope

    # --- drill-down: the panels narrowed to one region for a while -------------------

    def drill_into(self, region: str | None) -> None:
        """Narrow incidents, indicators and the map to ``region`` for ``drill_s``
        seconds (None: back to the wall's scope now)."""
        if region is not None:
            if region not in self.ctx.state.regions:
                raise CommandError("not_found", f"no region {region}")
            if not self.ctx.scope().covers(region):
                raise CommandError("bad_request", f"region {region} is outside the wall's scope")
            self.ctx.drill = (region, time.monotonic() + self.drill_s)
            log.info("drill-down into %s for %.0f s", region, self.drill_s)
        elif self.ctx.drill is not None:
            self.ctx.drill = None
            log.info("drill-down ended")
        self.hub.poke("scope")
        self.hub.poke("incidents")
        for p in self.map_panels():
            p.scope_changed()

    def drill_status(self) -> dict[str, Any] | None:
        drill = self.ctx.drill
        if drill is None:
            return None
        return {"region": drill[0], "remaining_s": round(max(0.0, drill[1] - time.monotonic()), 1)}

    # --- linkage: the cameras nearest to the selected incident ---------------------

    def focus(self, incident: str | None) -> dict[str, Any]:
        """Select an incident (feed, map or control API): the map centres on it and the
        linkage tiles show the nearest online cameras. None clears the linkage."""
        if incident is None:
            self.ctx.focused = None
            self.linkage = {"incident": None, "cameras": [], "distances_m": [], "at": None,
                            "reason": None}  # fmt: skip
        else:
            inc = self.ctx.state.incidents.get(incident)
            if inc is None:
                raise CommandError("not_found", f"no live incident {incident}")
            self.ctx.focused = incident
            loc = geo.location(inc)
            found = (
                self.ctx.locator.grid.nearest(*loc, self.linkage_n, accept=self.ctx.locator.online)
                if loc is not None
                else []
            )
            self.linkage = {
                "incident": incident,
                "cameras": [c for _, c in found],
                "distances_m": [round(d) for d, _ in found],
                "at": self.ctx.server_now().isoformat(),
                "reason": None if loc is not None else "incident has no location",
            }
            log.info("linkage: incident %s → %s", incident, ", ".join(self.linkage["cameras"]))
        self.ctx.linked = list(self.linkage["cameras"])
        self._apply_linkage()
        for p in self.map_panels():
            p.focus_on(self.ctx.focused)
        return dict(self.linkage)

    async def point_here(self, lon: float, lat: float, radius_m: float) -> dict[str, Any]:
        """Point every online PTZ camera within ``radius_m`` at (lon, lat) (WGS-84) and put
        them on the linkage tiles, nearest first. ``client_ms``: this node's own time for
        it (the aiming, the tiles, the commands handed to the connection)."""
        t0 = time.perf_counter()
        driver = self.ctx.ptz
        aims = driver.aims(lon, lat, radius_m, grid=self.ctx.locator.grid)
        # the cameras first: the burst goes out on the connection …
        sending = asyncio.ensure_future(driver.point(aims, via="control"))
        await asyncio.sleep(0)
        client_ms = (time.perf_counter() - t0) * 1000
        # … then the tiles and the map follow
        self.linkage = {
            "incident": None, "cameras": [a.camera for a in aims],
            "distances_m": [round(a.distance_m) for a in aims],
            "at": self.ctx.server_now().isoformat(), "reason": None if aims else "no PTZ camera within reach",
            "point": {"lon": lon, "lat": lat, "radius_m": radius_m},
        }  # fmt: skip
        self.ctx.linked = list(self.linkage["cameras"])
        self._apply_linkage()
        for p in self.map_panels():
            p.point_at(lon, lat, radius_m)
        rows = await sending  # the acks
        log.info("point here %.6f,%.6f r=%.0f m: %d PTZ camera(s), %.1f ms", lon, lat, radius_m,
                 len(aims), client_ms)  # fmt: skip
        return {"cameras": rows, "client_ms": round(client_ms, 1), "linked": self.linkage["cameras"]}

    def _apply_linkage(self) -> None:
        panels = self.video_panels()
        marked = [p for p in panels if p.for_linkage] or panels  # else the first tiles
        cams = list(zip(self.linkage["cameras"], self.linkage["distances_m"], strict=True))
        n = 0
        for p in marked:
            linked: dict[int, tuple[str, str]] = {}
            for i in range(p.count):
                if n >= len(cams):
                    break
                cam, dist = cams[n]
                n += 1
                linked[i] = (
                    cam,
                    theme.tr("Linked %1 · %2 m").replace("%1", str(n)).replace("%2", str(dist)),
                )
            p.set_linked(linked)
        for p in panels:
            if p not in marked:
                p.set_linked({})

    def _units_on_site(self) -> None:
        """A dispatched unit with its own camera that arrived (onsite) joins the focused
        incident's linkage tiles, after its nearest cameras."""
        iid = self.linkage["incident"]
        inc = self.ctx.state.incidents.get(iid) or {}
        loc = geo.location(inc)
        joined = False
        for uid in inc.get("units") or []:
            unit = self.ctx.state.units.get(uid) or {}
            if unit.get("status") != "onsite" or not unit.get("stream") or uid in self.linkage["cameras"]:
                continue
            ul = unit.get("location")
            dist = geo.distance_m(loc[0], loc[1], ul["lon"], ul["lat"]) if loc and isinstance(ul, dict) else 0.0
            self.linkage["cameras"].append(uid)
            self.linkage["distances_m"].append(round(dist))
            joined = True
            log.info("linkage: unit %s on site at incident %s joins its tiles", uid, iid)
        if joined:
            self.ctx.linked = list(self.linkage["cameras"])
            self._apply_linkage()

    def _auto_link(self) -> None:
        """A new priority-1 incident takes the linkage tiles by itself (config)."""
        arrived = self._new.arrived(self.ctx.state.incidents, self.hub.changed_ids("incidents"),
                                    self.ctx.server_now().timestamp())  # fmt: skip
        if arrived:
            self.focus(arrived[-1])

    def map_panels(self) -> list[MapPanel]:
        return [p for w in self.windows for p in w.regions.values() if isinstance(p, MapPanel)]

    def mode(self) -> str:
        wall = self.ctx.state.wall or {}
        return str(wall.get("mode") or "normal")

    def apply_mode(self) -> None:
        mode = self.mode()
        for w in self.windows:
            w.set_mode(mode)
        self._number_tiles()
        self._apply_linkage()  # the new mode's linkage tiles take over the linkage
        for p in self.map_panels():
            p.focus_on(self.ctx.focused)

    def video_panels(self) -> list[VideoPanel]:
        """This node's video regions, in screen then region order."""
        return [p for w in self.windows for p in w.regions.values() if isinstance(p, VideoPanel)]

    def _number_tiles(self) -> None:
        """The preset's cameras run over every video tile of the whole wall, in layout
        order — this node's and those of the other PCs driving the same wall — so each
        node shows its own share of the preset, and the tour pages agree."""
        mode = self.mode()
        starts: dict[tuple[str, str], int] = {}
        total = 0
        for screen in self.layout.screens:
            for region in self.layout.regions(mode, screen.name):
                if region.panel == "video":
                    starts[(screen.name, region.id)] = total
                    o = region.options
                    total += len(tile_rects(int(o.get("rows", 3)), int(o.get("cols", 3)),
                                            list(o.get("spans", [])), 1, 1))  # fmt: skip
        for w in self.windows:
            for rid, p in w.regions.items():
                if isinstance(p, VideoPanel):
                    p.screen_name, p.region_id = w.screen_.name, rid
                    p.place_on_node(starts.get((w.screen_.name, rid), 0), total)

    def tiles(self) -> list[dict[str, Any]]:
        return [t for p in self.video_panels() for t in p.describe()]

    def show(self, fullscreen: bool) -> None:
        for w in self.windows:
            if fullscreen:
                w.showFullScreen()
            else:
                w.show()

    def describe(self) -> list[dict[str, Any]]:
        return [w.describe() for w in self.windows]

    def show_pairing(self, url: str, seconds: float = 60.0) -> None:
        """A tablet's pairing QR code over the first screen for ``seconds`` (``tablet pair
        --show``): scanned from the desk, it opens the pairing link."""
        import io

        import segno

        if not self.windows:
            return
        window = self.windows[0]
        png = io.BytesIO()
        scale = max(8, min(window.width(), window.height()) // 90)
        segno.make(url, error="m").save(png, kind="png", scale=scale, border=2)
        pix = QPixmap()
        pix.loadFromData(png.getvalue(), "PNG")
        box = QFrame(window)
        box.setObjectName("pairing")
        box.setStyleSheet(f"#pairing {{ background: {theme.PANEL.name()}; border: 4px solid {theme.INFO.name()}; }}"
                          f"QLabel {{ color: {theme.TEXT.name()}; font-size: 32px; }}")  # fmt: skip
        lay = QVBoxLayout(box)
        code = QLabel()
        code.setPixmap(pix)
        code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        words = QLabel(theme.tr("Scan with the tablet to pair it (once, within 10 minutes)"))
        words.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(code)
        lay.addWidget(words)
        box.adjustSize()
        box.move((window.width() - box.width()) // 2, (window.height() - box.height()) // 2)
        box.show()
        box.raise_()
        QTimer.singleShot(int(seconds * 1000), box.deleteLater)

    def tile_boxes(self) -> list[dict[str, Any]]:
        """Every tile (``status.tiles`` order) as a box on its screen, in fractions of the
        screen: the tablet outlines them on the screen's thumbnail."""
        out = []
        for p in self.video_panels():
            window = p.window()
            at = p.mapTo(window, QPoint(0, 0))
            w, h = max(1, window.width()), max(1, window.height())
            for r in p.rects():
                out.append({"screen": p.screen_name,
                            "box": [round((at.x() + r.x()) / w, 4), round((at.y() + r.y()) / h, 4),
                                    round(r.width() / w, 4), round(r.height() / h, 4)]})  # fmt: skip
        return out

    def thumbnail(self, screen: str, width: int = 480, quality: int = 65) -> bytes | None:
        """One screen as it is now, ``width`` pixels wide, as JPEG (the tablet's picture of
        the wall). Where libvlc draws into native windows the screen's pixels are read
        back from the display, so the video is in it; offscreen, the widgets are rendered."""
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice

        window = next((w for w in self.windows if w.screen_.name == screen), None)
        if window is None:
            return None
        native = any(p.players.kind for p in window.regions.values() if isinstance(p, VideoPanel))
        qscreen = window.screen()
        if native and qscreen is not None:
            grabbed = qscreen.grabWindow(int(window.winId()))
            small = grabbed.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation).toImage()
        else:
            # painted straight at the thumbnail's size (a quarter of the pixels to fill, no
            # full-size grab to scale down): the wall's CPU with tablets looking is budgeted
            scale = width / max(1, window.width())
            small = QImage(width, max(1, round(window.height() * scale)), QImage.Format.Format_RGB32)
            small.fill(theme.BG)
            painter = QPainter(small)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.scale(scale, scale)
            window.render(painter, QPoint(0, 0))
            _paint_over(window, painter)  # the timeline bar of a replay, as on the wall
            painter.end()
        out = b""
        for q in (quality, quality - 15, quality - 25):  # a busy screen fits 30 KB at less quality
            data = QByteArray()
            buf = QBuffer(data)
            buf.open(QIODevice.OpenModeFlag.WriteOnly)
            small.save(buf, "JPG", q)  # type: ignore[call-overload]  # the stubs say bytes; str is what works
            buf.close()
            out = bytes(data.data())
            if len(out) <= THUMB_MAX_BYTES:
                break
        return out

    def snapshot(self, out: Path) -> list[str]:
        """One PNG per screen, named after it (every camera on the maps: a re-index under
        way is finished first)."""
        out.mkdir(parents=True, exist_ok=True)
        self.ctx.locator.step(math.inf)
        files = []
        for w in self.windows:
            w.banner.update()
            finish_painting(w)
            path = out / f"{w.screen_.name}.png"
            picture = w.grab()
            _overlays(w, picture)
            picture.save(str(path))
            files.append(str(path))
        return files


def finish_painting(window: QWidget) -> None:
    """What panels draw a little per tick drawn whole now: a picture is about to be taken."""
    for panel in window.findChildren(IndicatorsPanel):
        if panel.isVisible():
            panel.finish()
    for map_panel in window.findChildren(MapPanel):
        if map_panel.isVisible():
            map_panel.settle()


def _overlays(window: QWidget, picture: QPixmap) -> None:
    """Windows of their own shown over a screen (the replay's timeline bar, which must
    stay above libvlc's native video windows) are in its snapshot as the wall shows them."""
    tops = _over(window)
    if tops:
        painter = QPainter(picture)
        _paint_over(window, painter, tops)
        painter.end()


def _over(window: QWidget) -> list[QWidget]:
    """The visible windows of their own over ``window``, bottom first."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return []
    tops = sorted(app.topLevelWidgets(), key=lambda t: getattr(t, "z", 0))  # as they are stacked
    return [t for t in tops if getattr(t, "over", None) is window and t.isVisible()]


def _paint_over(window: QWidget, painter: QPainter, tops: list[QWidget] | None = None) -> None:
    """Those windows, painted where they stand over ``window`` (in its coordinates)."""
    for top in _over(window) if tops is None else tops:
        at = top.mapToGlobal(QPoint(0, 0)) - window.mapToGlobal(QPoint(0, 0))
        painter.drawPixmap(at, top.grab())


def _named(layout: Layout, by_name: dict[str, QScreen]) -> bool:
    """Does any layout screen name match a connected screen? Then match by name only."""
    return any(s.name in by_name for s in layout.screens)

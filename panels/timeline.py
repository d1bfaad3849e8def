"""Time on the wall: replays on tiles, the incident replay's shared clock and its
timeline bar, the data panels at the replay clock.

``ReplayDesk`` does what the control API, the tile menu and the keys ask:

- ``start``: one tile plays a camera's recording from a moment (its own clock); the
  rest of the wall stays live. ``instant``: the last 30 s (即时回放), back to live by
  itself when the replay reaches the present, or on Esc.
- ``incident``: 事件回溯 — the incident is focused, its linkage tiles play their
  recordings from ``reported_at − before_s`` on one ``Clock``, and this node's data
  panels (feed, indicators, map) show the wall as it was at that clock, read from the
  cache's history (``Context.past``). A ``Timeline`` bar drives the clock.

``Timeline`` is a frameless tool window of its own over its screen, kept above the
screen's window and so above the tiles' native video windows (a child widget laid over
them is hidden under libvlc's pictures on a real X server), painted by Qt:
the recorded range (wheel zooms around the pointer), the playhead, the incident's
status changes and the bookmarks as marks; click or drag to seek; play/pause, speed
and "back to live" buttons; Space, +/−, ←/→ and Esc as keys.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QGuiApplication,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QMenu, QWidget

from panels import theme
from panels.hub import Context, Hub
from panels.incidents import IncidentsPanel
from panels.indicators import IndicatorsPanel
from panels.video import VideoPanel
from wallclient.edges.playback import PlatformRecordings, Recording
from wallclient.errors import CommandError
from wallclient.protocol import CST, epoch
from wallclient.replay import (
    BEFORE_S,
    INSTANT_BACK_S,
    SPEEDS,
    Clock,
    Past,
    past_indicators,
    rfc3339,
)
from wallclient.units import units_at

log = logging.getLogger(__name__)

PAST_EVERY_S = 0.25  # the data panels follow the replay clock this often
SEEK_WATCH_MS = 5  # a seek's arrival on the screen is looked for this often (while it lasts)
SEEK_WATCH_LIMIT_MS = 10_000
SEEK_NEAR_S = 0.5  # a tile shows the new moment when its picture is this close to it
LIVE_EDGE_S = 0.5  # an instant replay this close to its gesture's moment is over: back to live
STATUS_TEXT = {"new": "New", "dispatched": "Dispatched", "arrived": "Arrived",
               "controlled": "Controlled", "closed": "Closed"}  # fmt: skip


class ReplayDesk:
    """Replays on this node's tiles and the incident replay (one at a time)."""

    def __init__(
        self,
        ctx: Context,
        hub: Hub,
        wall: Any,
        *,
        token: str,
        read: Callable[[Callable[[Any], Any], Any], Any],
        write: Callable[[Callable[[Any], Any]], None],
        offered: Callable[[], bool],
        platform: Callable[[], PlatformRecordings | None] = lambda: None,
        instant_s: float = INSTANT_BACK_S,
        before_s: float = BEFORE_S,
    ) -> None:
        self.ctx, self.hub, self.wall = ctx, hub, wall
        self.token = token
        self.read = read  # run a function on a cache reader (SyncClient.read)
        self.write = write  # … on the cache's writer thread (bookmarks)
        self.offered = offered  # does the backend offer playback (welcome.features)?
        self.platform = platform  # the video platform's recordings, when the backend resolves
        self.instant_s = instant_s
        self.before_s = before_s
        self.shared: dict[str, Any] | None = None  # the incident replay
        # (id(panel), tile) in instant replay → the moment of the gesture: reached, it is live
        self.instants: dict[tuple[int, int], float] = {}
        self.timeline: Timeline | None = None
        self.past_ms: float | None = None  # how long the last past took to read
        self._past_for: tuple[int, float] | None = None
        self._timer = QTimer()
        self._timer.timeout.connect(self._follow)
        self._timer.start(int(PAST_EVERY_S * 1000))
        # the last seek of the incident replay, timed inside the wall: to every tile showing
        # a picture of the new moment, and to every data panel showing that moment
        self.last_seek: dict[str, Any] | None = None
        self._seek_at: tuple[float, float, int] | None = None  # (monotonic, target, version)
        self._seek_timer = QTimer()
        self._seek_timer.setInterval(SEEK_WATCH_MS)
        self._seek_timer.timeout.connect(self._watch_seek)
        ctx.tile_menu, ctx.tile_key = self.menu, self.key
        ctx.replay_incident = lambda iid: self._try(lambda: self.incident({"incident": iid}))

    # --- addressing --------------------------------------------------------------------

    def tile(self, args: dict[str, Any]) -> tuple[VideoPanel, int]:
        """``tile`` (status.tiles index) or ``camera`` (the first tile showing it)."""
        panels = self.wall.video_panels()
        if "tile" in args:
            index = args["tile"]
            if not isinstance(index, int) or isinstance(index, bool):
                raise CommandError("bad_request", "tile must be a status.tiles index")
            for p in panels:
                if index < p.count:
                    return p, index
                index -= p.count
            raise CommandError("bad_request", f"no tile {args['tile']}")
        camera = args.get("camera")
        for p in panels:
            for i, cam in enumerate(p.cameras()):
                if cam is not None and cam == camera:
                    return p, i
        raise CommandError("not_on_wall", f"camera {camera} is on no tile")

    def recording(self, camera: str | None) -> Recording:
        """Where ``camera``'s recording is read: the video platform's for a ``resolve``
        camera (``stream.resolve``, ``kind: playback``), else the playback server's."""
        cam = self.ctx.state.cameras.get(camera or "")
        if cam is not None and cam.get("resolve"):
            platform = self.platform()
            if platform is None:
                raise CommandError("no_playback", "the backend resolves no play URLs")
            return Recording("platform", str(camera), "", platform)
        if not self.offered():
            raise CommandError("no_playback", "the backend offers no playback")
        rec = (cam or {}).get("recording") or {}
        if not rec.get("playback") or not rec.get("path"):
            raise CommandError("no_recording", f"camera {camera} is not recorded")
        return Recording(str(rec["playback"]), str(rec["path"]), self.token)

    # --- one tile ------------------------------------------------------------------------

    def start(self, args: dict[str, Any]) -> dict[str, Any]:
        panel, i = self.tile(args)
        rec = self.recording(panel.tiles[i].camera)
        if "seconds_back" in args:
            back = float(args["seconds_back"])
            if not 1 <= back <= 24 * 3600:
                raise CommandError("bad_request", "seconds_back must be 1 s … 24 h")
            at = time.time() - back
        else:
            when = epoch(str(args.get("at", "")))
            if when is None:
                raise CommandError("bad_request", "at must be an RFC 3339 time")
            at = when
        clock = Clock(at, speed=float(args.get("speed", 1.0)))
        panel.start_replay(i, rec, clock)
        key = (id(panel), i)
        self.instants.pop(key, None)
        if "seconds_back" in args:
            self.instants[key] = at + float(args["seconds_back"])
        log.info("replay: tile %d of %s from %s", i, panel.region_id, rfc3339(at))
        return {"camera": panel.tiles[i].camera, "position": rfc3339(at)}

    def instant(self, panel: VideoPanel, i: int) -> None:
        self.start({"tile": self._index(panel, i), "seconds_back": self.instant_s})

    def stop(self, args: dict[str, Any]) -> dict[str, Any]:
        if "tile" in args or "camera" in args:
            panel, i = self.tile(args)
            one = panel.end_replay(i)
            self.instants.pop((id(panel), i), None)
            if self.shared is not None:
                self.shared["tiles"] = [t for t in self.shared["tiles"] if t != (panel, i)]
            return {"ended": int(one)}
        ended = 0
        for panel in self.wall.video_panels():
            for i in list(panel.replays):
                ended += int(panel.end_replay(i))
        self.instants.clear()
        self._end_shared()
        return {"ended": ended}

    def control(self, args: dict[str, Any]) -> dict[str, Any]:
        if "tile" in args or "camera" in args:
            panel, i = self.tile(args)
            player = panel.replays.get(i)
            if player is None:
                raise CommandError("not_replaying", "that tile shows live video")
            clock: Clock = player.clock
        elif self.shared is not None:
            clock = self.shared["clock"]
        else:
            raise CommandError("not_replaying", "no incident replay on this node")
        if "speed" in args:
            speed = float(args["speed"])
            if not 0.5 <= speed <= 8:
                raise CommandError("bad_request", "speed must be 0.5 … 8")
            clock.set_speed(speed)
        if "paused" in args:
            clock.set_paused(bool(args["paused"]))
        if "seek" in args:
            at = epoch(str(args["seek"]))
            if at is None:
                raise CommandError("bad_request", "seek must be an RFC 3339 time")
            if self.shared is not None and clock is self.shared["clock"]:
                # The data panels first, in this turn (~10–40 ms of the GUI thread), and
                # then the pictures: done while the tiles' decoders are still at rest, the
                # panels are not slowed threefold by three players catching up with the
                # new moment, whose pictures take 0.2–0.7 s however it is ordered.
                t0 = time.monotonic()
                self.last_seek = {"to": rfc3339(at), "picture_ms": None, "panels_ms": None}
                self._show_past(at, jumped=True)
                self.hub.flush_now()
                want = datetime.fromtimestamp(at, CST)
                painting = time.perf_counter()
                for _rid, pn in self._data_panels():
                    if pn.data_at == want:
                        pn.paint_now()
                self.last_seek["paint_ms"] = round((time.perf_counter() - painting) * 1000, 1)
                clock.seek(at)
                self._past_for = (clock.version, at)
                self._seek_at = (t0, at, clock.version)
                if self.timeline is not None:
                    self.timeline.update()
                self._watch_seek()
                self._seek_timer.start()
            else:
                clock.seek(at)
        state: dict[str, Any] = clock.state()
        return state

    def bookmark(self, args: dict[str, Any]) -> dict[str, Any]:
        """Mark a moment on a tile with a note (书签): the replay's position on a
        replaying tile, else now (or ``at``); kept in the cache, shown on the timeline."""
        panel, i = self.tile(args)
        player = panel.replays.get(i)
        if "at" in args:
            at = epoch(str(args["at"]))
            if at is None:
                raise CommandError("bad_request", "at must be an RFC 3339 time")
        else:
            at = player.shown_at() if player is not None else None
            at = time.time() if at is None else at
        note = str(args.get("note", ""))[:500]
        camera = panel.tiles[i].camera
        user = self.ctx.status().get("user")
        self.write(lambda c: c.add_bookmark(camera, at, note, user))
        if self.shared is not None:
            self.shared.setdefault("bookmarks", []).append({"camera": camera, "at": at, "note": note})
            if self.timeline is not None:
                self.timeline.update()
        return {"camera": camera, "at": rfc3339(at), "note": note}

    # --- the incident replay -------------------------------------------------------------

    def incident(self, args: dict[str, Any]) -> dict[str, Any]:
        iid = str(args.get("incident", ""))
        inc = self.ctx.state.incidents.get(iid)
        if inc is None:
            raise CommandError("not_found", f"no live incident {iid}")
        if not self.offered() and self.platform() is None:
            raise CommandError("no_playback", "the backend offers no playback")
        before = float(args.get("before_s", self.before_s))
        reported = epoch(inc.get("reported_at") or "")
        if reported is None:
            raise CommandError("bad_request", "the incident has no report time")
        self.stop({})
        self.wall.focus(iid)
        clock = Clock(reported - before)
        tiles: list[tuple[VideoPanel, int]] = []
        missing = []
        for panel in self.wall.video_panels():
            for i in sorted(panel.linked):
                cam = panel.tiles[i].camera
                try:
                    panel.start_replay(i, self.recording(cam), clock)
                    tiles.append((panel, i))
                except CommandError:
                    missing.append(cam)
        marks = self.read(lambda c: c.incident_history(iid), [])
        cams = {p.tiles[i].camera for p, i in tiles}
        start = reported - before
        marked = self.read(lambda c: c.bookmarks(start - 3600, start + 4 * 3600), [])
        self.shared = {"incident": iid, "clock": clock, "tiles": tiles, "reported": reported,
                       "marks": marks, "bookmarks": [b for b in marked if b["camera"] in cams]}  # fmt: skip
        self._follow(force=True)
        self._show_timeline(tiles)
        log.info("incident replay %s from %s on %d tiles", iid, rfc3339(reported - before), len(tiles))
        return {"incident": iid, "position": rfc3339(reported - before),
                "cameras": [p.tiles[i].camera for p, i in tiles], "not_recorded": missing}  # fmt: skip

    def _end_shared(self) -> None:
        if self.shared is None:
            return
        self.shared = None
        self.ctx.past = None
        self._past_for = None
        self.hub.poke("incidents")
        self.hub.poke("indicators")
        if self.timeline is not None:
            self.timeline.hide()
            self.timeline.deleteLater()
            self.timeline = None

    def _follow(self, force: bool = False) -> None:
        """Instant replays that caught up go live; the data panels follow the shared clock."""
        for panel in self.wall.video_panels():
            for i, player in list(panel.replays.items()):
                key = (id(panel), i)
                until = self.instants.get(key)
                if until is not None and player.clock.position() >= until - LIVE_EDGE_S:
                    del self.instants[key]
                    panel.end_replay(i)  # the instant replay reached its gesture: live again
        if self.shared is None:
            return
        if self.timeline is not None and QGuiApplication.platformName() == "xcb":
            # a tile's native video window made after the bar would cover it: kept on top
            self.timeline.raise_()
        clock = self.shared["clock"]
        at = clock.position()
        if (
            not force
            and self._past_for is not None
            and self._past_for[0] == clock.version
            # running: read again once it has moved a second; paused: at the clock exactly
            and (self._past_for[1] == at if clock.paused
                 else abs(self._past_for[1] - at) < max(1.0, clock.speed * PAST_EVERY_S))
        ):  # fmt: skip
            if self.timeline is not None:
                self.timeline.update()
            return
        self._show_past(at, jumped=force)
        self._past_for = (clock.version, at)
        if self.timeline is not None:
            self.timeline.update()

    def _show_past(self, at: float, jumped: bool) -> None:
        """The data panels of this node at ``at``: the incidents and readings of then read
        from the cache, and a tick asked for (at once, however busy the turn, when
        ``jumped``: a seek or the replay's start)."""
        started = time.perf_counter()
        got = self.read(lambda c: c.past(at), None)
        if got is not None:
            incidents, readings, series = got
            self.ctx.past = Past(
                datetime.fromtimestamp(at, CST),
                incidents,
                past_indicators(self.ctx.state.indicators, readings),
                jumped=jumped,
                history={iid: tuple(values) for iid, values in series.items()},
                units_from=lambda: units_at(self.ctx.state.units, self.ctx.state.tracks, at),
            )
            self.hub.poke("incidents", urgent=jumped)
            self.hub.poke("indicators", urgent=jumped)
        self.past_ms = (time.perf_counter() - started) * 1000

    def _data_panels(self) -> list[tuple[str, IncidentsPanel | IndicatorsPanel]]:
        """(region id, panel) of every shown panel that follows the replay clock."""
        return [(rid, pn) for w in self.wall.windows for rid, pn in w.regions.items()
                if isinstance(pn, (IncidentsPanel, IndicatorsPanel)) and not pn.stowed]  # fmt: skip

    def _watch_seek(self) -> None:
        """How long the last seek took to reach the screen: each tile's shown picture
        within SEEK_NEAR_S of the new moment (or its gap said), each data panel showing it."""
        seek, last = self._seek_at, self.last_seek
        if seek is None or last is None or self.shared is None or self.shared["clock"].version != seek[2]:
            self._seek_timer.stop()  # replaced by another seek (which watches itself), or ended
            return
        t0, at, _version = seek
        elapsed = (time.monotonic() - t0) * 1000
        if last["picture_ms"] is None:
            players = [p.replays.get(i) for p, i in self.shared["tiles"]]
            if all(pl is not None and (pl.gap or (pl.shown_at() is not None and abs(pl.shown_at() - at) <= SEEK_NEAR_S))
                   for pl in players):  # fmt: skip
                last["picture_ms"] = round(elapsed)
        if last["panels_ms"] is None:
            want = datetime.fromtimestamp(at, CST)
            panels = self._data_panels()
            reached = last.setdefault("reached", {})  # each panel's own time (support: what holds a seek up)
            for rid, pn in panels:
                if pn.data_at == want and pn.on_screen() and rid not in reached:
                    reached[rid] = round(elapsed)
            if len(reached) == len(panels):
                last["panels_ms"] = round(elapsed)
                last["tick"] = self.hub.urgent_tick  # the seek's tick: how long it waited, took
        if (last["picture_ms"] is not None and last["panels_ms"] is not None) or elapsed > SEEK_WATCH_LIMIT_MS:
            self._seek_timer.stop()

    def past(self) -> dict[str, Any]:
        """What this node's data panels show now (``replay.past``: tests and support)."""
        past = self.ctx.past
        if past is None:
            return {"at": None}
        return {
            "at": past.at.isoformat(timespec="milliseconds"),
            "incidents": {i: inc.get("status") for i, inc in past.incidents.items()},
            "indicators": {i: ind.get("value") for i, ind in past.indicators.items()},
            "read_ms": None if self.past_ms is None else round(self.past_ms, 1),
        }

    def status(self) -> dict[str, Any] | None:
        if self.shared is None:
            return None
        st = {"incident": self.shared["incident"], **self.shared["clock"].state(), "last_seek": self.last_seek}
        st["data_at"] = None if self.ctx.past is None else self.ctx.past.at.isoformat(
            timespec="milliseconds")  # fmt: skip
        tl = self.timeline
        if tl is not None and tl.isVisible():  # where the bar is on the screen (global pixels)
            at = tl.mapToGlobal(QPoint(0, 0))
            st["timeline"] = [at.x(), at.y(), tl.width(), tl.height()]
        return st

    def _show_timeline(self, tiles: list[tuple[VideoPanel, int]]) -> None:
        if not tiles:
            return
        panel = tiles[0][0]
        self.timeline = Timeline(panel.window(), self, panel.scale)
        top_left = panel.mapToGlobal(QPoint(0, 0))
        h = round(112 * panel.scale)
        self.timeline.setGeometry(top_left.x(), top_left.y() + panel.height() - h, panel.width(), h)
        self.timeline.show()
        self.timeline.raise_()

    # --- gestures: the tile menu and keys ------------------------------------------------

    def _index(self, panel: VideoPanel, i: int) -> int:
        n = 0
        for p in self.wall.video_panels():
            if p is panel:
                return n + i
            n += p.count
        raise CommandError("bad_request", "tile not on this node")

    def key(self, panel: VideoPanel, i: int, key: int) -> bool:
        try:
            if key == Qt.Key.Key_R and i not in panel.replays:
                self.instant(panel, i)
                return True
            if key == Qt.Key.Key_Escape and i in panel.replays:
                self.stop({"tile": self._index(panel, i)})
                return True
        except CommandError as exc:
            log.info("replay refused: %s", exc.message)
            panel.tiles[i].error = exc.message
        return False

    def menu(self, panel: VideoPanel, i: int, at: QPoint) -> None:
        m = QMenu(panel)
        m.setFont(theme.font(20 * panel.scale))
        index = self._index(panel, i)
        if i in panel.replays:
            m.addAction(theme.tr("Back to live"), lambda: self.stop({"tile": index}))
            for speed in SPEEDS:
                m.addAction(f"{theme.tr('Speed')} ×{speed:g}", self._speed_action(index, speed))
        else:
            label = theme.tr("Instant replay (last %1 s)").replace("%1", f"{self.instant_s:g}")
            m.addAction(label, lambda: self._try(lambda: self.instant(panel, i)))
        panel.steer.menu_items(m, i)  # PTZ presets, the way back from a digital zoom
        m.popup(at)

    def _speed_action(self, index: int, speed: float) -> Callable[[], Any]:
        return lambda: self.control({"tile": index, "speed": speed})

    @staticmethod
    def _try(fn: Callable[[], Any]) -> None:
        try:
            fn()
        except CommandError as exc:
            log.info("replay refused: %s", exc.message)


class Timeline(QWidget):
    """The incident replay's bar: the range, the playhead, marks; it drives the clock."""

    def __init__(self, over: QWidget, desk: ReplayDesk, scale: float) -> None:
        # A window of its own over the screen's window (a tool window kept on top of it):
        # libvlc's native video windows are children of the screen's window, and a child
        # of that window laid over them is hidden under their pictures on a real X server
        super().__init__(over, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint)  # fmt: skip
        self.over = over  # the screen it is shown over (its snapshot includes it)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.desk = desk
        self.scale = scale
        shared = desk.shared or {}
        reported = float(shared.get("reported", time.time()))
        before = reported - float(shared["clock"].position()) if shared else 60.0
        self.span = (reported - before - 30, reported + max(120.0, before))  # shown range
        self._buttons: dict[str, QRectF] = {}
        self._drag = False

    @property
    def clock(self) -> Clock | None:
        return self.desk.shared["clock"] if self.desk.shared else None

    def _track(self) -> QRectF:
        s = self.scale
        return QRectF(16 * s, 76 * s, self.width() - 32 * s, 28 * s)

    def _x(self, t: float) -> float:
        tr = self._track()
        a, b = self.span
        return tr.left() + (t - a) / max(1e-6, b - a) * tr.width()

    def _t(self, x: float) -> float:
        tr = self._track()
        a, b = self.span
        return a + (x - tr.left()) / max(1.0, tr.width()) * (b - a)

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        clock = self.clock
        p = QPainter(self)
        s = self.scale
        p.fillRect(self.rect(), theme.PANEL)
        p.fillRect(QRectF(0, 0, self.width(), 4 * s), theme.REPLAY)
        if clock is None:
            p.end()
            return
        # first row: play/pause, speed, back to live; then the position, large
        self._buttons = {}
        p.setFont(theme.font(22 * s, bold=True))
        x = 16 * s
        for name, text in (("pause", theme.tr("Play") if clock.paused else theme.tr("Pause")),
                           ("speed", f"×{clock.speed:g}"),
                           ("live", theme.tr("Back to live"))):  # fmt: skip
            w = p.fontMetrics().horizontalAdvance(text) + 24 * s
            r = QRectF(x, 10 * s, w, 40 * s)
            p.fillRect(r, theme.REPLAY if name == "pause" else theme.PANEL_EDGE)
            p.setPen(theme.BG if name == "pause" else theme.TEXT)
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
            self._buttons[name] = r
            x += w + 10 * s
        a, b = self.span
        at = clock.position()
        p.setPen(theme.REPLAY)
        p.setFont(theme.font(26 * s, bold=True))
        inc = (self.desk.shared or {}).get("incident", "")
        head = f"{theme.tr('Incident replay')} {inc}   {rfc3339(at)[:23].replace('T', ' ')}"
        p.drawText(QRectF(x + 14 * s, 8 * s, self.width() - x - 30 * s, 44 * s),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, head)  # fmt: skip
        track = self._track()
        p.fillRect(track, theme.BG)
        # ticks: a readable step for the shown range
        step = next((st for st in (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
                     if (b - a) / st <= 12), 3600)  # fmt: skip
        p.setFont(theme.font(15 * s))
        t = (a // step + 1) * step
        while t < b:
            xx = self._x(t)
            p.setPen(QPen(theme.PANEL_EDGE, 1))
            p.drawLine(QPointF(xx, track.top()), QPointF(xx, track.bottom()))
            p.setPen(theme.TEXT_DIM)
            label = datetime.fromtimestamp(t, CST).strftime("%H:%M:%S")
            p.drawText(QRectF(xx - 50 * s, track.top() - 22 * s, 100 * s, 20 * s),
                       Qt.AlignmentFlag.AlignCenter, label)  # fmt: skip
            t += step
        # the incident's status changes and the bookmarks
        shared = self.desk.shared or {}
        for mt, status in shared.get("marks", []):
            if a <= mt <= b:
                xx = self._x(mt)
                colour = theme.ALARM if status == "new" else theme.WARN
                p.fillRect(QRectF(xx - 2 * s, track.top(), 4 * s, track.height()), colour)
                p.setPen(colour)
                p.drawText(QRectF(xx + 4 * s, track.top() + 2 * s, 140 * s, 18 * s),
                           Qt.AlignmentFlag.AlignLeft, theme.tr(STATUS_TEXT.get(status, status)))  # fmt: skip
        for bm in shared.get("bookmarks", []):
            if a <= bm["at"] <= b:
                xx = self._x(bm["at"])
                theme.shape(p, "triangle", QPointF(xx, track.bottom() - 8 * s), 7 * s, theme.INFO)
        # the playhead
        xx = self._x(at)
        if track.left() <= xx <= track.right():
            p.fillRect(QRectF(xx - 3 * s, track.top() - 6 * s, 6 * s, track.height() + 12 * s),
                       theme.REPLAY)  # fmt: skip
        p.end()

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        pos = e.position()
        for name, r in self._buttons.items():
            if r.contains(pos):
                self._button(name)
                return
        if self._track().adjusted(0, -20, 0, 20).contains(pos):
            self._drag = True
            self._seek(pos.x())

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._drag:
            self._seek(e.position().x())

    def mouseReleaseEvent(self, _e: QMouseEvent) -> None:  # noqa: N802
        self._drag = False

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802
        """Zoom the shown range around the pointer (1 s … 4 h)."""
        a, b = self.span
        pivot = self._t(e.position().x())
        factor = 0.8 if e.angleDelta().y() > 0 else 1.25
        width = min(4 * 3600.0, max(10.0, (b - a) * factor))
        share = (pivot - a) / max(1e-6, b - a)
        self.span = (pivot - share * width, pivot + (1 - share) * width)
        self.update()

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        clock = self.clock
        if clock is None:
            return
        k = e.key()
        if k == Qt.Key.Key_Space:
            self._button("pause")
        elif k in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.desk.control({"speed": min(8.0, clock.speed * 2)})
        elif k == Qt.Key.Key_Minus:
            self.desk.control({"speed": max(0.5, clock.speed / 2)})
        elif k in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = 10 if k == Qt.Key.Key_Right else -10
            self.desk.control({"seek": rfc3339(clock.position() + step)})
        elif k == Qt.Key.Key_Escape:
            self.desk.stop({})
            return
        self.update()

    def _seek(self, x: float) -> None:
        self.desk.control({"seek": rfc3339(self._t(x))})
        self.update()

    def _button(self, name: str) -> None:
        clock = self.clock
        if clock is None:
            return
        if name == "pause":
            self.desk.control({"paused": not clock.paused})
        elif name == "speed":
            nxt = SPEEDS[(SPEEDS.index(clock.speed) + 1) % len(SPEEDS)] if clock.speed in SPEEDS else 1.0
            self.desk.control({"speed": nxt})
        elif name == "live":
            self.desk.stop({})
            return
        self.update()

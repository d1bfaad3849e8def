"""What every panel is given: the state, the clock and status, and one coalesced tick.

``Hub`` listens to the WallState and turns any number of changes into at most one
``tick`` per interval (4 Hz by default) carrying the kinds that changed, so
hundreds of messages a second cost one repaint (house style: coalesce, paint on a
timer). It also keeps the recent readings behind the indicator sparklines.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QWidget

from wallclient.collector import Collector, Release
from wallclient.geo import CameraLocator, Scope
from wallclient.replay import Past
from wallclient.state import Change, WallState

URGENT = frozenset({"incidents", "wall"})  # kinds whose change brings the next tick forward
BACKGROUND_SLICE_S = 0.006  # per tick, at most this of a snapshot's aftermath (_background)
BACKGROUND_MIN_S = 0.001  # ... and at least this, so a busy wall still gets there
SPARK_POINTS = 30  # ~3 px apart on a tile; more points cost paint time, not information


@dataclass
class Context:
    """The explicit dependencies of a panel (no service locator)."""

    state: WallState
    # connection, user, role, wall, incidents, switch: the light part of the control API's
    # status (panels ask it on every repaint; the tiles', map's and screens' parts are not in it)
    status: Callable[[], dict[str, Any]]
    server_now: Callable[[], datetime]
    ack_incident: Callable[[str], None] | None = None
    select_incident: Callable[[str], object] | None = None
    replay_incident: Callable[[str], object] | None = None  # 事件回溯 (the replay desk)
    tile_menu: Callable[..., object] | None = None  # (panel, tile, global pos): a tile's menu
    tile_key: Callable[..., bool] | None = None  # (panel, tile, key) → True when it was used
    ptz: Any = None  # wallclient.edges.ptz.PtzDriver: steering cameras (None: not here)
    point_here: Callable[[float, float], object] | None = None  # PTZ cameras look at (lon, lat)
    open_card: Callable[..., object] | None = None  # (incident, over widget): the incident card
    basemap: Any = None  # panels.map.basemap.Basemap: the maps' ground, when one is configured
    history: dict[str, deque[float | None]] = field(default_factory=dict)
    lang: str = "zh_CN"
    alert: Callable[[str], object] | None = None  # sounds the new-priority-1 alert
    video: Any = None  # the PlayerPool (wallclient.edges.video); None: tiles show no picture
    desk: Any = None  # the commander's switches (panels.palette.Desk); None: none here
    focused: str | None = None  # the incident an operator selected (the linkage's)
    linked: list[str] = field(default_factory=list)  # its nearest cameras, nearest first
    drill_into: Callable[[str | None], None] | None = None  # narrow the panels to a region
    scope_code: str = ""  # the region the wall watches ("" = all the backend sends)
    drill: tuple[str, float] | None = None  # (region, until monotonic): a drill-down
    # this node's data panels at a replay clock (wallclient.replay.Past); None: live
    past: Past | None = None
    locator: CameraLocator = field(init=False)  # the camera index for nearest and the map
    _scopes: dict[tuple[str, int, int], Scope] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.locator = CameraLocator(self.state, scope=self.scope)

    def incidents(self) -> dict[str, Any]:
        """The incidents the data panels show: live, or as they were at the replay clock."""
        return self.past.incidents if self.past is not None else self.state.incidents

    def indicators(self) -> dict[str, Any]:
        return self.past.indicators if self.past is not None else self.state.indicators

    def units(self) -> dict[str, Any]:
        """The units the map shows: live, or where they were at the replay clock."""
        then = self.past.units_then() if self.past is not None else None
        return self.state.units if then is None else then[0]

    def fixes(self) -> Any:
        """Their tracks' fixes (``.points.get(uid)``): live, or up to the replay clock."""
        then = self.past.units_then() if self.past is not None else None
        return self.state.tracks if then is None else then[1]

    def spark(self, iid: str) -> tuple[float | None, ...]:
        """An indicator's sparkline values: its recent readings, or those before the replay clock."""
        if self.past is not None:
            return self.past.history.get(iid, ())
        return tuple(self.history.get(iid, ()))

    def data_now(self) -> datetime:
        """The time the data panels show (deadlines count to it): the replay clock's, or now."""
        return self.past.at if self.past is not None else self.server_now()

    def area_code(self) -> str:
        """The region the panels show now: a drill-down's while it lasts, else the wall's."""
        if self.drill is not None and self.drill[1] > time.monotonic():
            return self.drill[0]
        return self.scope_code

    def scope(self) -> Scope:
        """The wall's own scope (what the locator indexes and the panels may show)."""
        return self._scope_of(self.scope_code)

    def area(self) -> Scope:
        """The scope the panels filter by now (narrowed by a drill-down)."""
        return self._scope_of(self.area_code())

    def _scope_of(self, code: str) -> Scope:
        regions = self.state.regions
        key = (code, id(regions), len(regions))  # a snapshot replaces the dict
        got = self._scopes.get(key)
        if got is None:
            self._scopes.clear()
            got = self._scopes[key] = Scope(code, regions)
        return got

    def role(self) -> str | None:
        role: str | None = self.status().get("role")
        return role

    def may(self, action: str) -> bool:
        """What the role may do (protocol.md, Session): viewers acknowledge only."""
        rank = {"viewer": 0, "commander": 1, "installer": 2}.get(self.role() or "", -1)
        need = {"ack": 0, "switch": 1, "layout": 2}[action]
        return rank >= need


MAX_WAITS = 2  # a repaint waits at most this many turns of the event loop
URGENT_STRETCH = 1.5  # an urgent repaint may take a burst to this many times its budget


class Pacer(QObject):
    """Keeps the GUI thread's bursts of work short: a screen's repaint that would make the
    current burst longer than ``budget_ms`` waits for the next turn of the event loop.

    A burst starts with a hub tick or a screen's repaint and ends when the event loop
    next runs its timers (a zero-length timer, ``_breath``): everything in between ran
    back to back, so timers (the video frame clock, the heartbeat) waited for all of it.
    Six screens repainting after a tick used to make one frame of 40–60 ms; paced, each
    turn holds the tick or a few screens, and the rest paint a turn (a few ms) later.
    """

    def __init__(self, budget_ms: float = 16) -> None:
        super().__init__()
        self.budget = budget_ms / 1000
        self._since: float | None = None  # when the current burst began
        self._waiting: list[QWidget] = []  # screens whose repaint waits for the next turn
        self.deferred = 0  # repaints moved to a later turn (for benches and tests)
        self.bursts = 0  # bursts of work begun (each ends when the loop next runs timers)
        self._cost: dict[int, float] = {}  # window → its last repaint's time (s)
        self._missed: dict[int, int] = {}  # window → turns its repaint has waited
        self._forced = False  # this burst let a long-waiting repaint past its budget
        # the garbage collector's costly passes, run as a turn begins (wallclient.collector)
        self.collector: Collector | None = None
        self._breath = QTimer(self)
        self._breath.setSingleShot(True)
        self._breath.setInterval(0)
        self._breath.timeout.connect(self._turn)

    def begin(self) -> float:
        """Note work starting now; returns how long the current burst has run (s)."""
        now = time.perf_counter()
        if self._since is None:
            self._since = now
            self._forced = False
            self.bursts += 1
            self._breath.start()
            if self.collector is not None:
                self.collector.step()
                now = time.perf_counter()
        return now - self._since

    def spent(self) -> float:
        """How long the current burst has run (s); 0 between bursts."""
        return 0.0 if self._since is None else time.perf_counter() - self._since

    def may_paint(self, window: QWidget) -> bool:
        """May ``window`` repaint in this burst? If not, it is asked again next turn.

        Yes when it is the burst's first work, or when the burst with this window's last
        repaint time added stays within budget. And once per burst for a window that
        has waited MAX_WAITS turns already (a costly screen is not put off for ever by
        cheaper ones that happen to come first) or that shows something urgent (a new
        or changed incident in a feed's shown rows: it is painted with the tick that
        brought it, not a turn later, if the burst stays within URGENT_STRETCH of
        the budget)."""
        key = id(window)
        spent = self.begin()
        cost = self._cost.get(key, 0.0)
        fits = spent < 0.001 or spent + cost <= self.budget
        due = self._missed.get(key, 0) >= MAX_WAITS or (
            getattr(window, "urgent", False) and spent + cost <= self.budget * URGENT_STRETCH
        )
        if not fits and due and not self._forced:
            self._forced = fits = True
        if fits:
            self._missed.pop(key, None)
            return True
        self._missed[key] = self._missed.get(key, 0) + 1
        if window not in self._waiting:
            self._waiting.append(window)
        self.deferred += 1
        return False

    def painted(self, window: QWidget, seconds: float) -> None:
        """How long ``window``'s repaint took (its cost next time)."""
        self._cost[id(window)] = seconds

    def _turn(self) -> None:
        self._since = None
        waiting, self._waiting = self._waiting, []
        for window in waiting:  # in the order they asked; each is paced again
            try:
                QCoreApplication.postEvent(
                    window,
                    QEvent(QEvent.Type.UpdateRequest),
                    Qt.EventPriority.LowEventPriority.value,
                )
            except RuntimeError:  # the window was closed meanwhile (its C++ side is gone)
                self._cost.pop(id(window), None)
                self._missed.pop(id(window), None)


class PacedWindow(QWidget):
    """A top-level window whose repaints a ``Pacer`` spreads over turns of the event loop
    (Qt posts one UpdateRequest to a top-level window for all its dirty areas)."""

    def __init__(self, pacer: Pacer) -> None:
        super().__init__()
        self.pacer = pacer
        self.urgent = False  # its next repaint shows a change a viewer waits for
        self.painted_at = 0.0  # monotonic: when its last repaint ended

    def event(self, e: QEvent) -> bool:
        if e.type() != QEvent.Type.UpdateRequest:
            return super().event(e)
        if not self.pacer.may_paint(self):
            return True  # asked again next turn, with the dirty areas gathered meanwhile
        self.urgent = False
        t = time.perf_counter()
        done = super().event(e)
        self.pacer.painted(self, time.perf_counter() - t)
        self.painted_at = time.monotonic()
        return bool(done)


class Hub(QObject):
    """Coalesces state changes into one ``tick`` per interval (10 Hz); a change of an
    URGENT kind brings the tick forward (at most one per ``min_gap_ms``), so a new
    incident is painted within ~50 ms of arriving however busy the feed is."""

    tick = Signal(set)  # the kinds that changed since the last tick, plus "clock" (each
    # new second) and "half-second" (once a second, half a second after "clock")

    def __init__(self, ctx: Context, interval_ms: int = 100, min_gap_ms: int = 40) -> None:
        super().__init__()
        self.ctx = ctx
        # Incidents and the wall's mode do not wait for the next regular tick: their
        # change brings it forward, to no closer than min_gap_ms after the last one.
        self._min_gap = min_gap_ms / 1000
        self._last_flush = 0.0
        self._urgent = False  # the next tick waits for no repaints (poke)
        self._poked_at = 0.0
        self.spans: dict[str, float] | None = None  # each panel's ms, while an urgent tick runs
        self.urgent_tick: dict[str, Any] | None = None  # the last urgent tick: waited, took, by panel
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.timeout.connect(self._flush)
        self._dirty: set[str] = set()
        self._ids: dict[str, set[str] | None] = {}  # changed ids per kind, this tick
        self._tick_ids: dict[str, set[str] | None] = {}
        self._second = 0
        self._half = 0
        self._claimed = False
        self.ticks = 0
        self.pacer = Pacer()
        self._turns: dict[str, list[object]] = {}
        self._unsubscribe = ctx.state.subscribe(self._changed)
        self.release = Release()  # what a snapshot replaced, let go of a slice per tick
        ctx.state.retire = ctx.locator.retire = self.release.later
        self._interval = interval_ms / 1000
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._regular)
        self._timer.start(interval_ms)
        for iid, ind in ctx.state.indicators.items():
            self._spark(iid).append(ind.get("value"))

    def seed_history(self, history: dict[str, list[float | None]]) -> None:
        """Start the sparklines from the cached one-a-minute history."""
        for iid, values in history.items():
            dq = self._spark(iid)
            dq.clear()
            dq.extend(values[-SPARK_POINTS:])

    def _spark(self, iid: str) -> deque[float | None]:
        dq = self.ctx.history.get(iid)
        if dq is None:
            dq = self.ctx.history[iid] = deque(maxlen=SPARK_POINTS)
        return dq

    def poke(self, kind: str, urgent: bool = False) -> None:
        """Something outside the state changed what panels show (a drill-down): tick soon;
        ``urgent`` (an operator's seek in a replay): in the next turn even if it is full
        of repaints — under six screens of video a paced tick could wait half a second."""
        self._dirty.add(kind)
        if urgent and not self._urgent:
            self._poked_at = time.monotonic()
        self._urgent = self._urgent or urgent
        if kind == "incidents":
            self._ids["incidents"] = None
        if not self._soon.isActive():
            self._soon.start(0)

    def flush_now(self) -> None:
        """The tick that was asked for, now, in this turn (a seek's data panels)."""
        self._urgent = True
        self._flush()

    def changed_ids(self, kind: str) -> set[str] | None:
        """During a tick: the ids of ``kind`` that changed (None: all of them may have)."""
        return self._tick_ids.get(kind, set())

    def _changed(self, changes: list[Change]) -> None:
        if not self._soon.isActive() and any(ch.kind in URGENT for ch in changes):
            wait = self._min_gap - (time.monotonic() - self._last_flush)
            self._soon.start(max(0, int(wait * 1000)))
        for ch in changes:
            self._dirty.add(ch.kind)
            if ch.kind == "incidents":
                ids = self._ids.get(ch.kind, set())
                if ch.ids is None or ids is None:
                    self._ids[ch.kind] = None
                else:
                    ids.update(ch.ids)
                    self._ids[ch.kind] = ids
            if ch.kind == "indicators" and ch.ids is not None:
                inds = self.ctx.state.indicators
                for iid in ch.ids:
                    ind = inds.get(iid)
                    if ind is not None:
                        self._spark(iid).append(ind.get("value"))

    def _regular(self) -> None:
        """The regular tick, unless a brought-forward one has just run: under a busy feed
        the two would otherwise often come back to back, in one turn of the loop."""
        if time.monotonic() - self._last_flush >= self._interval / 2:
            self._flush()

    def _flush(self) -> None:
        if self.pacer.begin() > self.pacer.budget and not self._urgent:  # this turn is full: tick on the next
            self._soon.start(0)
            return
        urgent, self._urgent = self._urgent, False
        self._last_flush = time.monotonic()
        self._soon.stop()
        dirty, self._dirty = self._dirty, set()
        self._tick_ids, self._ids = self._ids, {}
        t = time.time()
        second = int(t)
        if second != self._second:  # clocks and countdowns move once a second, not every tick
            self._second = second
            dirty.add("clock")
        elif t - second >= 0.5 and self._half != second:
            # once a second too, but half a second later: for views whose refresh need
            # not fall on the second, so their paints never pile onto the clocks'
            self._half = second
            dirty.add("half-second")
        self.ticks += 1
        # the once-a-second repaints are this tick's heavy work: nothing optional joins them
        self._claimed = bool(dirty & {"clock", "half-second"})
        if urgent:  # a seek's tick: how long it waited and what each panel took
            self.spans = {}
            started, cpu = time.monotonic(), time.thread_time()
            self.tick.emit(dirty)
            self.urgent_tick = {"waited_ms": round((started - self._poked_at) * 1000, 1),
                                "ms": round((time.monotonic() - started) * 1000, 1),
                                # the GUI thread's own CPU in it: the rest it waited (the
                                # other core's threads, the interpreter's lock)
                                "cpu_ms": round((time.thread_time() - cpu) * 1000, 1),
                                "panels_ms": {k: round(v, 1) for k, v in self.spans.items()}}  # fmt: skip
            self.spans = None
        else:
            self.tick.emit(dirty)
        self._background()

    def _background(self) -> None:
        """A snapshot's aftermath, a few ms per tick with what is left of the turn: the
        cameras re-indexed (CameraLocator.step), then the replaced tables let go of
        (Release.step). Done at once, either is tens to hundreds of ms at 77,000 cameras."""
        locator = self.ctx.locator
        if not (locator.indexing or self.release.pending):
            return
        left = self.pacer.budget - self.pacer.spent()
        budget = min(BACKGROUND_SLICE_S, max(BACKGROUND_MIN_S, left - BACKGROUND_MIN_S))
        if locator.indexing:
            locator.step(budget)
        else:
            self.release.step(budget)

    def join_turns(self, kind: str, member: object) -> None:
        """Panels of one ``kind`` take turns, one per tick (see ``turn``)."""
        self._turns.setdefault(kind, []).append(member)

    def leave_turns(self, kind: str, member: object) -> None:
        members = self._turns.get(kind, [])
        if member in members:
            members.remove(member)

    def turn(self, kind: str, member: object) -> bool:
        """Is it ``member``'s turn this tick among the panels of ``kind``?"""
        members = self._turns.get(kind) or [member]
        return members[self.ticks % len(members)] is member

    def claim(self) -> bool:
        """Ask for this tick's one slot of optional heavy work (a chart refresh, a map
        layer): True for the first asker, False for the rest, on the once-a-second ticks
        and when this turn of the event loop is already half full (a collection ran), so
        deferrable jobs spread over ticks instead of adding up to a stall; never in an
        operator's seek (an urgent tick: the data panels of the new moment, nothing else)."""
        if self._claimed or self.spans is not None or self.pacer.spent() > self.pacer.budget / 2:
            return False
        self._claimed = True
        return True

    def close(self) -> None:
        self._timer.stop()
        self._soon.stop()
        self._unsubscribe()
        self.ctx.state.retire = self.ctx.locator.retire = None
        self.release.step(math.inf)


class Panel(QWidget):
    """A layout region's view: its context, the screen's scale and the region's options."""

    def __init__(
        self, ctx: Context, hub: Hub, scale: float, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.hub = hub
        self.scale = scale
        self.options: dict[str, Any] = dict(options or {})
        self.stowed = False  # kept off the screen for another mode (stow)
        self._data_at: datetime | None = None
        self.data_since = 0.0  # monotonic: when it took its data_at
        self.painted_at = 0.0  # monotonic: when paint_now last painted it
        self._slots: list[Callable[[set[str]], None]] = []

    @property
    def data_at(self) -> datetime | None:
        """The past moment its data shows (None: live); on the screen once its window has
        painted after ``data_since``."""
        return self._data_at

    @data_at.setter
    def data_at(self, at: datetime | None) -> None:
        if at != self._data_at:
            self._data_at, self.data_since = at, time.monotonic()
            window = self.window()
            past = self.ctx.past
            if past is not None and past.jumped and isinstance(window, PacedWindow):
                window.urgent = True  # the moment an operator asked for: painted with this tick

    def on_screen(self) -> bool:
        """Has it been painted since it took its data_at (or is it not on a paced window)?"""
        window = self.window()
        if not isinstance(window, PacedWindow):
            return True
        return max(window.painted_at, self.painted_at) >= self.data_since

    def paint_now(self) -> None:
        """Painted in this turn, whatever the pacer's budget: the moment an operator's
        seek asked for (a few ms a panel; the video screens' repaints wait a turn)."""
        self.repaint()
        self.painted_at = time.monotonic()

    def listen(self, slot: Callable[[set[str]], None]) -> None:
        """Run ``slot`` on every hub tick, until ``detach``; timed in the hub's urgent
        ticks (``Hub.urgent_tick``: what holds a seek's panels up)."""
        def timed(dirty: set[str]) -> None:
            spans = self.hub.spans
            if spans is None:
                slot(dirty)
                return
            t = time.perf_counter()
            slot(dirty)
            name = self.objectName() or type(self).__name__  # the layout region's id
            spans[name] = spans.get(name, 0.0) + (time.perf_counter() - t) * 1000

        self.hub.tick.connect(timed)
        self._slots.append(timed)

    def stow(self) -> None:
        """Taken off the screen and kept for when its mode comes back (a mode switch)."""
        self.stowed = True

    def unstow(self) -> None:
        """Back on the screen: catch up with what changed meanwhile."""
        self.stowed = False

    def reuse(self, options: dict[str, Any]) -> bool:
        """Take the options of another mode's region in place (a mode switch), if this
        panel can: True when it did. Most panels cannot, and are rebuilt."""
        return options == self.options

    def detach(self) -> None:
        """Stop listening: a panel being replaced (mode switch) must not outlive its widget."""
        for slot in self._slots:
            self.hub.tick.disconnect(slot)
        self._slots.clear()

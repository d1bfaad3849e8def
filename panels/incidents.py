"""The live incident feed: priority, source, the next deadline as a countdown, overdue in red.

A Qt model/view list, re-sorted and repainted on the hub's coalesced tick (never
per message). Counters by status on top. Double-click acknowledges an incident
when the role allows (it sends ``incident.ack``; the ✓ appears when the backend's
``incident.upsert`` comes back).
"""

from __future__ import annotations

import bisect
import time
from collections import Counter, OrderedDict
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QRegion,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QListView,
    QMenu,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from panels import theme
from panels.hub import Context, Hub, PacedWindow, Panel
from wallclient import incidents as rules
from wallclient.protocol import DEADLINE_KINDS, epoch

NEW_FOR_S = 600  # a priority-1 incident stands out for its first ten minutes
DEADLINE_TEXT = {"respond": "Respond", "arrive": "Arrive", "control": "Control", "track": "Track"}
STATUS_TEXT = {
    "new": "New",
    "dispatched": "Dispatched",
    "arrived": "Arrived",
    "controlled": "Controlled",
    "closed": "Closed",
}
AWAY_STEP = 200  # incidents put in order per tick while the panel is kept for the other mode
MAX_ROWS = 1000  # the list never holds more (field notes: cap rows, flush on a timer)
# painted rows kept as pixmaps, least recently used out: a few screens of rows. It was 256,
# cleared when full — ~90 MB of 1,200 × 76 rows per incident list (one per mode) as
# incidents changed status, the wall's memory growing with the data for hours
ROW_CACHE = 64
ROW_HEIGHT = 78
COUNTDOWN_W = 250  # the countdown column at the right of a row (px at 1080p)
Index = QModelIndex | QPersistentModelIndex


class IncidentModel(QAbstractListModel):
    """Incidents passing a region's filter, sorted by priority and next deadline."""

    def __init__(self, ctx: Context, options: dict[str, Any]) -> None:
        super().__init__()
        self.ctx = ctx
        self.options = options
        self.rows: list[dict[str, Any]] = []
        self.moved = False  # the last refresh changed the rows shown
        self.limit = MAX_ROWS
        self._counts: dict[str, int] = {}
        self._keys: dict[str, tuple[tuple[Any, ...], tuple[int, int, float, str]]] = {}
        self._order: list[tuple[int, int, float, str]] = []  # sorted keys of every shown incident
        self._placed: dict[str, tuple[tuple[int, int, float, str], str]] = {}  # id → (key, status)
        self._by_status: Counter[str] = Counter()
        self.refresh()
        self.recount()

    def refresh(self, changed: set[str] | None = None) -> None:
        """Re-order after changes: only the ``changed`` incidents move (None: all of them)."""
        live = self.ctx.incidents()
        order = self._order
        area = self.ctx.area()  # the wall's scope, or a drill-down's region while it lasts
        if changed is None:
            self._placed, self._by_status = {}, Counter()
            for item in live.values():
                if rules.matches(item, self.options) and area.covers(item.get("region")):
                    self._place(item)
            order[:] = sorted(k for k, _ in self._placed.values())
        else:
            for iid in changed:
                old = self._placed.pop(iid, None)
                if old is not None:
                    pos = bisect.bisect_left(order, old[0])
                    if pos < len(order) and order[pos] == old[0]:
                        del order[pos]
                    self._by_status[old[1]] -= 1
                inc = live.get(iid)
                if (
                    inc is not None
                    and rules.matches(inc, self.options)
                    and area.covers(inc.get("region"))
                ):
                    bisect.insort(order, self._place(inc))
        if len(self._keys) > 2 * len(live) + 1000:  # bounded: drop keys of archived incidents
            self._keys = {k: v for k, v in self._keys.items() if k in live}
        top = [live[k[3]] for k in order[: self.limit] if k[3] in live]
        self._show(top)

    def set_limit(self, limit: int) -> None:
        """Hold only the rows a view can show (the list is a board: it does not scroll)."""
        limit = max(1, min(MAX_ROWS, limit))
        if limit != self.limit:
            self.limit = limit
            live = self.ctx.incidents()
            self._show([live[k[3]] for k in self._order[:limit] if k[3] in live])

    def _show(self, top: list[dict[str, Any]]) -> None:
        """Tell the view exactly which rows changed: a row whose incident is the same
        object as before is untouched (an upsert replaces the object), so a tick in
        which only unseen incidents moved repaints nothing."""
        old = self.rows
        common = min(len(old), len(top))
        first = 0
        while first < common and old[first] is top[first]:
            first += 1
        last = common - 1
        while last >= first and old[last] is top[last]:
            last -= 1
        if len(top) > len(old):
            self.beginInsertRows(QModelIndex(), len(old), len(top) - 1)
            self.rows = top
            self.endInsertRows()
        elif len(top) < len(old):
            self.beginRemoveRows(QModelIndex(), len(top), len(old) - 1)
            self.rows = top
            self.endRemoveRows()
        else:
            self.rows = top
        if last >= first:
            self.dataChanged.emit(self.index(first), self.index(last))
        self.moved = last >= first or len(top) != len(old)

    def _place(self, inc: dict[str, Any]) -> tuple[int, int, float, str]:
        key = self._key(inc)
        self._placed[inc["id"]] = (key, inc["status"])
        self._by_status[inc["status"]] += 1
        return key

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        inc = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return inc["title"]
        if role == Qt.ItemDataRole.UserRole:
            return inc
        return None

    def _key(self, inc: dict[str, Any]) -> tuple[int, int, float, str]:
        """The sort key, cached while the fields it depends on stay the same (time does not count)."""
        deadlines = inc.get("deadlines") or {}
        stamp = (inc["status"], inc["priority"], *(deadlines.get(k) for k in DEADLINE_KINDS))
        cached = self._keys.get(inc["id"])
        if cached is None or cached[0] != stamp:
            cached = (stamp, rules.sort_key(inc, None))
            self._keys[inc["id"]] = cached
        return cached[1]

    def recount(self) -> None:
        """Counters by status (kept as incidents move) and overdue, found by bisection:
        the order is (closed, priority, next deadline), so each priority's overdue ones
        are a prefix of its run. O(log n), however many incidents are open."""
        at_s = self.ctx.data_now().timestamp()
        overdue = 0
        for prio in (1, 2, 3, 4):
            lo = bisect.bisect_left(self._order, (0, prio, float("-inf"), ""))
            hi = bisect.bisect_left(self._order, (0, prio, at_s, ""))
            overdue += hi - lo
        counts = dict.fromkeys(STATUS_TEXT, 0)
        counts.update({k: v for k, v in self._by_status.items() if v})
        counts["overdue"] = overdue
        self._counts = counts

    def counters(self, at: datetime | None = None) -> dict[str, int]:
        """Open incidents by status, and how many are overdue (as of the last refresh)."""
        return self._counts


def _age_s(inc: dict[str, Any], at: datetime) -> float:
    """Seconds since the incident was reported (server time)."""
    reported = epoch(inc["reported_at"])
    return float("inf") if reported is None else at.timestamp() - reported


class IncidentDelegate(QStyledItemDelegate):
    """Paints one incident row: priority shape, source badge, title, countdown."""

    def __init__(self, model: IncidentModel, scale: float) -> None:
        super().__init__()
        self.model = model
        self.scale = scale
        self._rows: OrderedDict[tuple[Any, ...], QPixmap] = OrderedDict()

    def sizeHint(self, _option: QStyleOptionViewItem, _index: Index) -> QSize:  # noqa: N802
        return QSize(400, round(ROW_HEIGHT * self.scale))

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        rows = self.model.rows  # read directly: a dict through index.data() is a QVariant
        row = index.row()  # round trip, as long as the rest of a row's paint
        if not 0 <= row < len(rows):
            return
        inc = rows[row]
        s = self.scale
        r = QRectF(option.rect).adjusted(0, 1, 0, -1)
        at = self.model.ctx.data_now()
        kind, overdue = rules.next_deadline(inc, at)
        # The row's text and shapes change only with the incident: painted once into a
        # pixmap; the countdown and the pulse are drawn over it on every paint.
        key = (inc["id"], inc["title"], inc["status"], inc["priority"], inc["source"],
               inc.get("acked_by"), inc.get("address"), tuple(inc["category"][:2]),
               overdue, int(r.width()), int(r.height()))  # fmt: skip
        pm = self._rows.get(key)
        if pm is None:
            while len(self._rows) >= ROW_CACHE:
                self._rows.popitem(last=False)
            pm = self._rows[key] = self._static(inc, overdue, int(r.width()), int(r.height()))
        else:
            self._rows.move_to_end(key)
        p.drawPixmap(r.topLeft(), pm)
        prio = int(inc["priority"])
        if prio == 1 and _age_s(inc, at) < NEW_FOR_S:
            # a new priority-1 incident pulses until it has been on the wall a while
            p.save()
            pen = QPen(theme.ALARM)
            pen.setWidthF(2 + 4 * theme.pulse(time.monotonic()))
            p.setPen(pen)
            p.drawRect(r.adjusted(2, 2, -2, -2))
            p.restore()
        # the next deadline as a live countdown; overdue in red with an icon
        text = inc.get("deadlines", {}).get(kind) if kind else None
        due = epoch(text) if text else None
        if due is not None:
            right_w = COUNTDOWN_W * s
            cd = QRectF(r.right() - right_w, r.top(), right_w - 12 * s, r.height())
            left_s = due - at.timestamp()
            p.setPen(theme.ALARM if overdue else (theme.WARN if left_s < 300 else theme.TEXT))
            p.setFont(theme.font(32 * s, bold=True))
            words = theme.tr("Overdue") if overdue else theme.tr(DEADLINE_TEXT[kind or "arrive"])
            icon = "⚠ " if overdue else ""
            p.drawText(cd, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                       f"{icon}{words} {'+' if overdue else ''}{theme.countdown(left_s)}")  # fmt: skip

    def _static(self, inc: dict[str, Any], overdue: bool, w: int, h_px: int) -> QPixmap:
        """Background, priority shape, source badge, title and sub-line of one row."""
        s = self.scale
        pm = QPixmap(max(1, w), max(1, h_px))
        pm.fill(QColor(70, 14, 18) if overdue else theme.PANEL)
        p = QPainter(pm)
        r = QRectF(0, 0, w, h_px)
        h = r.height()
        prio = int(inc["priority"])
        theme.shape(p, theme.PRIORITY_SHAPE.get(prio, "circle"), QPointF(r.left() + 24 * s, r.center().y()), 13 * s,
                    theme.PRIORITY_COLOUR.get(prio, theme.STALE))  # fmt: skip
        p.setPen(theme.BG)
        p.setFont(theme.font(14 * s, bold=True))
        p.drawText(
            QRectF(r.left() + 11 * s, r.top(), 26 * s, h), Qt.AlignmentFlag.AlignCenter, str(prio)
        )
        colour, label = theme.SOURCE_STYLE.get(inc["source"], (theme.STALE, inc["source"][:4]))
        badge = QRectF(r.left() + 46 * s, r.top() + h * 0.2, 96 * s, h * 0.6)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(colour)
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRoundedRect(badge, 6 * s, 6 * s)
        p.setPen(theme.TEXT)
        p.setFont(theme.font(20 * s, bold=True))
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
        right_w = COUNTDOWN_W * s
        text_r = QRectF(
            badge.right() + 12 * s,
            r.top() + 4 * s,
            r.width() - badge.right() - right_w - 16 * s,
            h * 0.56,
        )
        p.setFont(theme.font(30 * s, bold=prio <= 2))
        p.setPen(theme.TEXT)
        title = ("✓ " if inc.get("acked_by") else "") + inc["title"]
        p.drawText(text_r, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   p.fontMetrics().elidedText(title, Qt.TextElideMode.ElideRight, int(text_r.width())))  # fmt: skip
        p.setFont(theme.font(19 * s))
        p.setPen(theme.TEXT_DIM)
        sub = f"{theme.tr(STATUS_TEXT.get(inc['status'], inc['status']))} · {' / '.join(inc['category'][:2])} · {inc.get('address') or ''}"
        sub_r = QRectF(text_r.left(), text_r.bottom(), text_r.width(), h * 0.36)
        p.drawText(sub_r, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   p.fontMetrics().elidedText(sub, Qt.TextElideMode.ElideRight, int(sub_r.width())))  # fmt: skip
        p.setPen(theme.PANEL_EDGE)
        p.drawLine(r.bottomLeft(), r.bottomRight())
        p.end()
        return pm


class _BoardView(QListView):
    """The list as a board: tells the model how many rows it can show."""

    def __init__(self, model: IncidentModel, row_height: int) -> None:
        super().__init__()
        self._model = model
        self._row_height = row_height

    def resizeEvent(self, e: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(e)
        self._model.set_limit(self.viewport().height() // self._row_height + 2)


class _Counters(QWidget):
    def __init__(self, model: IncidentModel, scale: float) -> None:
        super().__init__()
        self.model = model
        self.scale = scale
        self.setFixedHeight(round(56 * scale))

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        s = self.scale
        p = QPainter(self)
        p.fillRect(self.rect(), theme.PANEL)
        c = self.model.counters()
        x = 16 * s
        p.setFont(theme.font(26 * s, bold=True))
        p.setPen(theme.TEXT)
        title = theme.tr("Incidents")
        p.drawText(QRectF(x, 0, 300 * s, self.height()), Qt.AlignmentFlag.AlignVCenter, title)
        x += p.fontMetrics().horizontalAdvance(title) + 30 * s
        p.setFont(theme.font(24 * s))
        for key in ("new", "dispatched", "arrived", "controlled"):
            text = f"{theme.tr(STATUS_TEXT[key])} {c.get(key, 0)}"
            p.setPen(theme.TEXT_DIM)
            p.drawText(QRectF(x, 0, 400 * s, self.height()), Qt.AlignmentFlag.AlignVCenter, text)
            x += p.fontMetrics().horizontalAdvance(text) + 26 * s
        if c["overdue"]:
            p.setPen(theme.ALARM)
            p.setFont(theme.font(26 * s, bold=True))
            p.drawText(QRectF(x, 0, 400 * s, self.height()), Qt.AlignmentFlag.AlignVCenter,
                       f"⚠ {theme.tr('Overdue')} {c['overdue']}")  # fmt: skip
        p.end()


class IncidentsPanel(Panel):
    """Counters over a list of incidents, filtered by the layout region's options."""

    new_priority1 = Signal(str)  # for the alert sound and automatic linkage

    def __init__(
        self, ctx: Context, hub: Hub, scale: float, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(ctx, hub, scale, options)
        self.model = IncidentModel(ctx, self.options)
        self._new = rules.NewPriority1(ctx.state.incidents, NEW_FOR_S)
        self.view = _BoardView(self.model, round(ROW_HEIGHT * scale))
        self.view.setModel(self.model)
        self.view.setItemDelegate(IncidentDelegate(self.model, scale))
        self.view.setUniformItemSizes(True)
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setFrameShape(QFrame.Shape.NoFrame)
        pal = self.view.palette()
        pal.setColor(QPalette.ColorRole.Base, theme.BG)
        self.view.setPalette(pal)
        self.view.doubleClicked.connect(self._activated)
        self.view.clicked.connect(self._selected)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        self.counters = _Counters(self.model, scale)
        self._overdue: dict[str, bool] = {}  # shown incident → overdue at the last second
        self._held: set[str] | None = set()  # changed while stowed (None: all of them)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.counters)
        box.addWidget(self.view)
        self.hub = hub
        if self.options.get("alert") and ctx.alert is not None:
            self.new_priority1.connect(ctx.alert)
        self.listen(self._tick)

    def _tick(self, dirty: set[str]) -> None:
        if self.stowed:  # kept for the other mode: what changed, put in order a little a tick
            if "incidents" in dirty and self._held is not None:
                changed = self.hub.changed_ids("incidents")
                if changed is None:
                    self._held = None  # (a snapshot: all of them, at the return)
                else:
                    self._held |= changed
                    # priority-1 incidents that come meanwhile are the shown mode's to
                    # announce: seen now, never alerted at the return
                    self._new.arrived(self.ctx.state.incidents, changed, self.ctx.server_now().timestamp())
            if self._held:
                chunk = [self._held.pop() for _ in range(min(AWAY_STEP, len(self._held)))]
                self.model.refresh(set(chunk))
            return
        if "incidents" in dirty:
            changed = self.hub.changed_ids("incidents")
            self.model.refresh(changed)
            self.data_at = self.ctx.past.at if self.ctx.past is not None else None
            if self.model.moved:
                self._urgent()
            live = self.ctx.state.incidents  # what is new is live, whatever the feed shows
            for iid in self._new.arrived(live, changed, self.ctx.server_now().timestamp()):
                if rules.matches(live[iid], self.options):
                    self.new_priority1.emit(iid)
        if "clock" in dirty:
            self.model.recount()
            self._second()
        if dirty & {"incidents", "clock"}:
            self.counters.update()

    def stow(self) -> None:
        super().stow()
        self._held = set()

    def unstow(self) -> None:
        """Back on the screen: only the incidents that changed meanwhile and were not put
        in order while away move now (a rebuild sorted every live incident; a minute of
        a busy feed's changes at once held a mode switch for 100–300 ms). Priority-1
        incidents that came meanwhile were the shown mode's to announce: they are marked
        seen, not alerted again now."""
        super().unstow()
        held, self._held = self._held, set()
        self.model.refresh(held)
        self.model.recount()
        if held is None:  # (the others were marked as they came)
            self._new.arrived(self.ctx.state.incidents, None, self.ctx.server_now().timestamp())

    def _urgent(self) -> None:
        """The shown rows changed: this screen's next repaint goes with this tick (Pacer)."""
        window = self.window()
        if isinstance(window, PacedWindow):
            window.urgent = True

    def _second(self) -> None:
        """Repaint what moves once a second: the countdown column, and the whole of the
        rows whose border pulses (new priority-1 incidents) or that have just turned
        overdue (their background turns red). The rest of a row is a cached picture
        that changes only with the incident (a full repaint of the list every second
        cost twice as much)."""
        vp = self.view.viewport()
        w, h = vp.width(), vp.height()
        right_w = round(COUNTDOWN_W * self.scale) + 2
        dirty = QRegion(w - right_w, 0, right_w, h)
        row_h = round(ROW_HEIGHT * self.scale)
        at = self.ctx.data_now()
        overdue: dict[str, bool] = {}
        for i, inc in enumerate(self.model.rows[: h // max(1, row_h) + 1]):
            late = overdue[inc["id"]] = rules.next_deadline(inc, at)[1]
            pulses = int(inc["priority"]) == 1 and _age_s(inc, at) < NEW_FOR_S
            if pulses or late != self._overdue.get(inc["id"], late):
                dirty += self.view.visualRect(self.model.index(i))
        self._overdue = overdue
        vp.update(dirty)

    def _selected(self, index: QModelIndex) -> None:
        inc = index.data(Qt.ItemDataRole.UserRole)
        if inc is not None and self.ctx.select_incident is not None:
            self.ctx.select_incident(inc["id"])

    def _menu(self, pos: QPoint) -> None:
        """Right-click on an incident: look back at it (事件回溯)."""
        inc = self.view.indexAt(pos).data(Qt.ItemDataRole.UserRole)
        replay, card = self.ctx.replay_incident, self.ctx.open_card
        if inc is None or (replay is None and card is None):
            return
        menu = QMenu(self.view)
        menu.setFont(theme.font(20 * self.scale))
        if card is not None:
            menu.addAction(theme.tr("Incident card"), lambda: card(inc["id"], self))
        if replay is not None:
            menu.addAction(theme.tr("Incident replay"), lambda: replay(inc["id"]))
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _activated(self, index: QModelIndex) -> None:
        inc = index.data(Qt.ItemDataRole.UserRole)
        if inc is not None and self.ctx.ack_incident is not None and self.ctx.may("ack"):
            self.ctx.ack_incident(inc["id"])

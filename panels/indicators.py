"""City vital signs (城市生命体征) as tiles: value, level by colour and shape, sparkline, staleness.

One QPainter widget paints every tile (349 fit one 1080p screen): hundreds of
pyqtgraph plots cost ~10× more (docs/field-notes.md). Repaints happen on the
hub's coalesced tick, only when indicators changed or a second passed.
"""

from __future__ import annotations

import functools
import math
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
)

from panels import theme
from panels.hub import Context, Hub, Panel
from wallclient import indicators as rules

STALE_AFTER_S = 60.0  # a reading older than this is marked stale (the demo sends every 5 s)
ASPECT = 1.55  # tile width / height
PULSE_STEP_S = 0.2  # alarm borders pulse in steps of this (repaints of those tiles only)
MIN_AGE_LABEL_PX = 50  # tiles shorter than this show staleness by dimming alone
# tiles' cached static layers, least recently used out: two per tile laid out (its level
# and staleness change now and then), at least 64. It was 4,000, cleared when full: ~90 MB
# of pixmaps on a district wall whose tiles change size (modes, drill-downs) and level
STATIC_PER_TILE, STATIC_AT_LEAST = 2, 64
WARM_BUDGET_S = 0.006  # per tick, the cached tile layers drawn ahead of a block's paint
PAINT_BUDGET_S = 0.012  # a paint draws tiles not warmed ahead for this long; the rest next ticks
STALE_DIM = QColor(7, 11, 20, 110)  # laid over a stale tile


class IndicatorsPanel(Panel):
    """All indicators of a layout region's filter, grouped by category."""

    opened = Signal(str)  # an indicator tile was clicked: show its 24 h chart

    def __init__(
        self, ctx: Context, hub: Hub, scale: float, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(ctx, hub, scale, options)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._tiles: list[tuple[QRectF, str]] = []
        self._static_cache: OrderedDict[tuple[str, str, bool, int, int], QPixmap] = OrderedDict()
        # each tile's whole picture, with what it shows (its "look") to know when it is old
        self._tile_cache: dict[str, tuple[tuple[Any, ...], QPixmap]] = {}
        self._pulse_at = 0.0
        self._headers: list[tuple[QRectF, str, list[str]]] = []
        self._blocks: list[QRectF] = []  # one rectangle per category, header included
        self._pending: list[QRectF] = []  # blocks still to repaint after new readings
        self._data_next: datetime | None = None  # the moment of the readings being repainted
        self._layout_key: tuple[Any, ...] = ()
        self._header_px = 26.0
        self._last_second = 0
        self.paints = 0
        hub.join_turns("indicators", self)
        self.listen(self._tick)

    def detach(self) -> None:
        self.hub.leave_turns("indicators", self)
        super().detach()

    def stow(self) -> None:
        """Kept for the other mode (ScreenWindow.set_mode): out of the panels' turns, no
        work while away. Its tiles' static layers stay cached, so the switch back draws
        only values and sparklines (a fresh 349-tile panel's first paint is 40–55 ms, a
        kept one's 13–18 ms)."""
        super().stow()
        self.hub.leave_turns("indicators", self)
        self._pending = []

    def unstow(self) -> None:
        """Back on the screen: placed again and painted whole with current readings."""
        super().unstow()
        self.hub.join_turns("indicators", self)
        self._layout_key = ()  # the scope or the membership may have changed meanwhile
        self.update()

    def _tick(self, dirty: set[str]) -> None:
        if self.stowed:
            return
        if "indicators" in dirty or "scope" in dirty:
            # New readings: repaint one category block per tick, so no single paint is long
            # enough to stall the GUI thread (a whole 349-tile paint takes ~70 ms).
            past = self.ctx.past
            self._data_next = past.at if past is not None else None
            if self._relayout():
                self.update()
                self._pending = []
            elif past is not None and past.jumped and past.at != self.data_at:
                # a seek (an operator's move, not the clock running): every tile redrawn
                # in this turn, so the panel shows the new moment at once (~70 ms for 349)
                for block in self._blocks:
                    self._warm(block, budget_s=1.0)
                self.update()
                self._pending = []
            else:  # blocks still waiting keep their place in the queue: none starves
                self._pending += [b for b in self._blocks if b not in self._pending]
        # Several indicator panels take turns (one block per tick across them), so
        # their block paints never add up in one frame.
        if (
            self._pending
            and self.hub.turn("indicators", self)
            and self._warm(self._pending[0], self._warm_budget())
        ):
            self.update(self._pending.pop(0).toAlignedRect())
        if not self._pending:
            self.data_at = self._data_next  # every block repainted with the readings of then
        # Between readings only the alarm tiles move (their border pulses, 2 Hz): repaint just those.
        t = time.monotonic()
        if t - self._pulse_at < PULSE_STEP_S:
            return
        self._pulse_at = t
        for rect, iid in self._tiles:
            ind = self.ctx.indicators().get(iid)
            if ind is not None and rules.level(ind) == "alarm":
                self.update(rect.toAlignedRect().adjusted(-3, -3, 3, 3))
        second = int(time.monotonic())
        if second != self._last_second and second % 5 == 0:  # staleness labels age
            self._last_second = second
            self._pending = list(self._blocks)

    def _warm_budget(self) -> float:
        """WARM_BUDGET_S, less when this turn of the event loop is already well used (at
        least a tile's worth, so the block gets there)."""
        pacer = self.hub.pacer
        return min(WARM_BUDGET_S, max(0.001, pacer.budget - pacer.spent() - 0.004))

    def _warm(self, block: QRectF, budget_s: float = WARM_BUDGET_S) -> bool:
        """Draw the tiles a block's paint will show, a few at a time, into their cached
        pictures: the paint itself then only copies pixmaps. After an outage every tile
        turns stale and back, and drawing seventy tiles inside one paint stalled the GUI
        thread for 50–160 ms. True once all of the block's tiles are ready."""
        started = time.perf_counter()
        at = self.ctx.data_now()
        offline = self.ctx.status()["connection"]["state"] != "live"
        inds = self.ctx.indicators()
        todo = []
        for r, iid in self._tiles:
            ind = inds.get(iid)
            if ind is None or not block.intersects(r):
                continue
            look = self._look(ind, r, at, offline)
            cached = self._tile_cache.get(iid)
            if cached is None or cached[0] != look:
                todo.append((iid, ind, look))
        for (iid, ind, look), lines in zip(todo, self._sparks([t[2] for t in todo]), strict=True):
            if time.perf_counter() - started > budget_s:
                return False  # the rest on the next turn
            self._tile_cache[iid] = (look, self._render(ind, look, lines))
        return True

    def _sparks(self, looks: list[tuple[Any, ...]]) -> list[list[QPolygonF]]:
        """The sparklines of these tiles' looks, worked out together (theme.spark_polylines)."""
        out: list[list[QPolygonF]] = [[] for _ in looks]
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, look in enumerate(looks):
            by_size.setdefault((look[2], look[3]), []).append(i)
        for (w, h), idx in by_size.items():
            lines = theme.spark_polylines([looks[i][6] for i in idx], _geometry(w, h).spark)
            for i, got in zip(idx, lines, strict=True):
                out[i] = got
        return out

    def _relayout(self) -> bool:
        """Place headers and tiles (when size or membership changed); True if it did."""
        shown = self._shown()
        key = (self.width(), self.height(), tuple(i["id"] for i in shown))
        if key == self._layout_key:
            return False
        self._layout_key = key
        self._tiles, self._headers, self._blocks = [], [], []
        groups = rules.grouped(shown)
        if not groups:
            return True
        cols, tw, th, header = self._layout(groups, self.width(), self.height())
        y = 0.0
        for category, items in groups:
            top = y
            self._headers.append(
                (QRectF(4, y, self.width() - 8, header), category, [i["id"] for i in items])
            )
            y += header
            for n, ind in enumerate(items):
                r = QRectF((n % cols) * tw, y + (n // cols) * th, tw, th).adjusted(2, 2, -2, -2)
                self._tiles.append((r, ind["id"]))
            y += math.ceil(len(items) / cols) * th
            self._blocks.append(QRectF(0, top, self.width(), y - top))
        self._header_px = header
        shown_ids = {iid for _, iid in self._tiles}
        for gone in self._tile_cache.keys() - shown_ids:
            del self._tile_cache[gone]
        return True

    def _shown(self) -> list[dict[str, Any]]:
        """The region's indicators; a region-tagged one only when it is in the scope shown
        (a drill-down narrows them too); untagged ones are the whole city's, always shown."""
        area = self.ctx.area()
        return [
            i
            for i in self.ctx.indicators().values()
            if rules.matches(i, self.options) and (not i.get("region") or area.covers(i["region"]))
        ]

    def _layout(
        self, groups: list[tuple[str, list[Any]]], w: float, h: float
    ) -> tuple[int, float, float, float]:
        """Columns, tile width, tile height and header height so that everything fits."""
        header = 26 * self.scale
        for cols in range(2, 60):
            tw = w / cols
            th = tw / ASPECT
            rows = sum(math.ceil(len(items) / cols) for _, items in groups)
            if rows * th + len(groups) * header <= h:
                return cols, tw, th, header
        return 60, w / 60, w / 60 / ASPECT, header

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        self.paints += 1
        self._relayout()
        exposed = event.region()  # not its bounding rect: pulsing alarm tiles are scattered
        p = QPainter(self)
        if not self._tiles:
            p.fillRect(self.rect(), theme.BG)
            p.setPen(theme.TEXT_DIM)
            p.setFont(theme.font(28 * self.scale))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, theme.tr("No indicators"))
            p.end()
            return
        if exposed.contains(self.rect()):
            p.fillRect(self.rect(), theme.BG)
        at = self.ctx.data_now()
        offline = self.ctx.status()["connection"]["state"] != "live"
        blink = theme.pulse(time.monotonic())
        inds = self.ctx.indicators()
        for head, category, ids in self._headers:
            if not exposed.intersects(head.toAlignedRect()):
                continue
            p.fillRect(head, theme.BG)
            alarms = warnings = 0
            for iid in ids:
                lv = rules.level(inds.get(iid, {}))
                alarms += lv == "alarm"
                warnings += lv == "warning"
            summary = f"{category}  ·  {len(ids)}"
            if alarms:
                summary += f"   ◆ {theme.tr('Alarm')} {alarms}"
            if warnings:
                summary += f"   ▲ {theme.tr('Warning')} {warnings}"
            p.setPen(theme.TEXT)
            p.setFont(theme.font(self._header_px * 0.7, bold=True))
            p.drawText(head, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, summary)
        # Tiles not warmed ahead (a first paint, new tile sizes after a drill-down, all
        # of them turning stale when the backend goes): drawn here for PAINT_BUDGET_S,
        # then as they were (their last picture, fitted) or blank, and warmed by the next
        # ticks — a paint drawing 349 tiles on a loaded PC stalled every screen for 0.5–2 s.
        until = time.perf_counter() + PAINT_BUDGET_S
        late = False
        for r, iid in self._tiles:
            item = inds.get(iid)
            if item is None or not exposed.intersects(r.toAlignedRect()):
                continue
            p.fillRect(r.adjusted(-2, -2, 2, 2), theme.BG)
            look = self._look(item, r, at, offline)
            cached = self._tile_cache.get(iid)
            if cached is not None and cached[0] == look:
                p.drawPixmap(r.topLeft(), cached[1])
            elif time.perf_counter() < until:
                cached = self._tile_cache[iid] = (look, self._render(item, look))
                p.drawPixmap(r.topLeft(), cached[1])
            else:
                late = True
                if cached is None:
                    p.fillRect(r, theme.PANEL)
                else:
                    p.drawPixmap(r, cached[1], QRectF(cached[1].rect()))
            if look[0] == "alarm":  # alarms draw the eye: a pulsing border
                pen = QPen(theme.ALARM)
                pen.setWidthF(2 + 3 * blink)
                p.setPen(pen)
                p.drawRect(r)
        p.end()
        if late:  # the tiles left for later: warmed a block a tick, each repainted when ready
            self._pending += [b for b in self._blocks if b not in self._pending]

    def finish(self) -> None:
        """Every tile drawn now (a snapshot, a preview: a picture taken at once must be
        whole), not a block a tick."""
        self._relayout()
        for block in self._blocks:
            self._warm(block, budget_s=math.inf)

    def _static(self, ind: Mapping[str, Any], lv: str, stale: bool, w: int, h: int) -> QPixmap:
        """The parts of a tile that change rarely (background, marker, name, unit), cached."""
        key = (ind["id"], lv, stale, w, h)
        pm = self._static_cache.get(key)
        if pm is not None:
            self._static_cache.move_to_end(key)
            return pm
        most = max(STATIC_AT_LEAST, STATIC_PER_TILE * len(self._tiles))
        while len(self._static_cache) >= most:
            self._static_cache.popitem(last=False)
        pm = QPixmap(w, h)
        bg = (
            QColor(90, 16, 20)
            if lv == "alarm"
            else QColor(74, 52, 10)
            if lv == "warning"
            else QColor(theme.PANEL)
        )
        pm.fill(bg)
        p = QPainter(pm)
        unit = float(h)
        colour = theme.LEVEL_COLOUR[lv]
        theme.shape(
            p, theme.LEVEL_SHAPE[lv], QPointF(unit * 0.14, unit * 0.16), unit * 0.08, colour
        )
        p.setPen(theme.TEXT_DIM)
        p.setFont(theme.font(max(11.0, unit * 0.17)))
        name_r = QRectF(unit * 0.28, 1, w - unit * 0.3, unit * 0.3)
        # the place first, whole (it tells 南翔's 供水压力 from 江桥's), then what is
        # measured, shortened from the left where the tile is narrow
        region = self.ctx.state.regions.get(ind.get("region") or "", {}).get("name")
        place, what = rules.name_parts(ind["name"], region)
        if place:
            p.setPen(theme.TEXT)
            p.drawText(name_r, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, place)
            used = p.fontMetrics().horizontalAdvance(place + " ")
            name_r = name_r.adjusted(used, 0, 0, 0)
            p.setPen(theme.TEXT_DIM)
        name = p.fontMetrics().elidedText(what, Qt.TextElideMode.ElideLeft, int(max(0, name_r.width())))
        p.drawText(name_r, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
        p.setFont(theme.font(max(10.0, unit * 0.15)))
        p.drawText(QRectF(0, unit * 0.28, w - 4, unit * 0.4), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                   ind.get("unit", ""))  # fmt: skip
        p.end()
        self._static_cache[key] = pm
        return pm

    def _look(self, ind: Mapping[str, Any], r: QRectF, at: Any, offline: bool) -> tuple[Any, ...]:
        """Everything a tile's picture depends on; the picture is redrawn when this changes."""
        lv = rules.level(ind)
        age = rules.age_s(ind, at)
        stale = offline or age is None or age > STALE_AFTER_S
        label = ""
        if stale and r.height() >= MIN_AGE_LABEL_PX:
            label = "⏱ " + (_age(age) if age is not None else theme.tr("no data"))
        history = self.ctx.spark(ind["id"])
        value = rules.format_value(ind)
        return (lv, stale, int(r.width()), int(r.height()), value, label, history)

    def _render(self, ind: Mapping[str, Any], look: tuple[Any, ...],
                lines: list[QPolygonF] | None = None) -> QPixmap:  # fmt: skip
        """A tile's whole picture (all but the alarm's pulsing border) at the tile's size:
        the cached static layer, then the sparkline with its trend arrow and the value
        (a new reading, or a replay's seek, brings both: one painter draws them)."""
        lv, stale, w, h, value, label, history = look
        g = _geometry(w, h)
        if lines is None:
            lines = theme.spark_polylines([history], g.spark)[0]
        pm = QPixmap(self._static(ind, lv, stale, w, h))  # a copy: the layer stays cached
        p = QPainter(pm)
        colour = theme.LEVEL_COLOUR[lv]
        theme.draw_spark(p, lines, theme.STALE if stale else colour)
        trend = _trend(history)
        if trend:
            p.setPen(theme.TEXT_DIM)
            p.setFont(g.trend_font)
            p.drawText(g.trend, Qt.AlignmentFlag.AlignCenter, trend)
        # the value (its unit is in the static layer, at the right)
        p.setPen(theme.STALE if stale else (theme.TEXT if lv == "normal" else colour))
        p.setFont(g.value_font)
        p.drawText(g.value_at, value)
        if stale:  # never pass an old reading off as current: dim it and say how old
            p.fillRect(g.whole, STALE_DIM)
            if label:  # small tiles say it by dimming alone; the banner says how old
                p.setPen(theme.WARN)
                p.setFont(g.label_font)
                p.drawText(g.label, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, label)
        p.end()
        return pm

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        for rect, iid in self._tiles:
            if rect.contains(pos):
                self.opened.emit(iid)
                return


@dataclass(frozen=True)
class _Geometry:
    """Where a tile of one size draws its sparkline, trend, value and age (and in which
    fonts): the same for every tile of a panel, worked out once."""

    spark: QRectF
    trend: QRectF
    trend_font: QFont
    value_at: QPointF
    value_font: QFont
    whole: QRectF
    label: QRectF
    label_font: QFont


@functools.lru_cache(maxsize=64)
def _geometry(w: int, h: int) -> _Geometry:
    unit = float(h)
    spark = QRectF(4, unit - unit * 0.27, w - unit * 0.35, unit * 0.22)
    px = round(unit * 0.34)
    value_font = theme.font(px, bold=True)
    ascent = QFontMetricsF(value_font).ascent()
    return _Geometry(
        spark=spark,
        trend=QRectF(spark.right(), spark.top() - 2, unit * 0.3, spark.height() + 4),
        trend_font=theme.font(unit * 0.2),
        value_at=QPointF(4, unit * 0.48 + ascent * 0.36),
        value_font=value_font,
        whole=QRectF(0, 0, w, h),
        label=QRectF(0, 0, w - 4, h - 2),
        label_font=theme.font(max(10.0, unit * 0.15), bold=True),
    )


def _trend(values: Sequence[float | None]) -> str:
    pts = [v for v in values if v is not None]
    if len(pts) < 4:
        return ""
    recent = sum(pts[-3:]) / 3
    earlier = sum(pts[:-3]) / len(pts[:-3])
    span = (max(pts) - min(pts)) or 1.0
    d = (recent - earlier) / span
    return "↑" if d > 0.15 else "↓" if d < -0.15 else "→"


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f}min" if seconds >= 60 else f"{seconds:.0f}s"
    return f"{seconds / 3600:.0f}h"

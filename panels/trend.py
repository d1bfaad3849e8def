"""Detailed charts with pyqtgraph: incident trends, and one indicator's 24 h with thresholds.

pyqtgraph earns its place for the few detailed charts; the hundreds of small
sparklines are plain QPainter (panels.indicators).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout

from panels import theme
from panels.hub import Context, Hub, Panel
from wallclient.protocol import CST, epoch

HOURS = 12
REDRAW_S = 5  # a trend chart redraws at most this often


def _plot(title: str, scale: float = 1.0, grid: bool = True) -> pg.PlotWidget:
    pg.setConfigOptions(
        antialias=True, background=theme.BG.name(), foreground=theme.TEXT_DIM.name()
    )
    w = pg.PlotWidget()
    w.setTitle(title, color=theme.TEXT.name(), size=f"{round(20 * scale)}pt")
    # pyqtgraph fixes the title row at 30 px: room for wall-sized type
    title_h = round(44 * scale)
    w.getPlotItem().titleLabel.setMaximumHeight(title_h)
    w.getPlotItem().layout.setRowFixedHeight(0, title_h)
    if grid:  # pyqtgraph's grid is part of the axis: a range change redraws it whole
        w.showGrid(x=False, y=True, alpha=0.2)
    w.setMenuEnabled(False)
    w.setMouseEnabled(x=False, y=False)
    w.hideButtons()
    for axis in ("left", "bottom"):
        item = w.getAxis(axis)
        item.setStyle(tickFont=theme.font(18 * scale))
        # An axis replays its text on every paint (~13 ms each); cached as a pixmap it
        # is a blit until its range or size changes.
        item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return w


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is ≥ value (at least 1)."""
    step = 1.0
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


class HourCounts:
    """Incidents per clock hour in which they were reported, per value of one field
    (source or priority), kept up to date from the ids that changed: ten thousand live
    incidents recounted on every redraw cost 10–18 ms of a tick; a change costs two
    dictionary updates."""

    def __init__(self, field: str) -> None:
        self.field = field
        self._of: dict[str, tuple[Any, int]] = {}  # incident → (value, hour) it counts in
        self.counts: Counter[tuple[Any, int]] = Counter()

    def update(self, incidents: dict[str, dict[str, Any]], ids: set[str] | None) -> None:
        """Recount the incidents ``ids`` (None: all of them, after a snapshot)."""
        if ids is None:
            self._of.clear()
            self.counts.clear()
            ids = set(incidents)
        for iid in ids:
            old = self._of.pop(iid, None)
            if old is not None:
                left = self.counts[old] - 1
                if left:
                    self.counts[old] = left
                else:
                    del self.counts[old]
            inc = incidents.get(iid)
            if inc is None:
                continue
            reported = epoch(inc.get("reported_at") or "")
            if reported is None:
                continue
            at = (inc.get(self.field), int(reported // 3600))
            self._of[iid] = at
            self.counts[at] += 1

    def series(self, value: Any, now: float, hours: int) -> list[int]:
        """Counts of ``value`` in the last ``hours`` clock hours, the current one last."""
        hour = int(now // 3600)
        return [self.counts.get((value, hour - back), 0) for back in range(hours - 1, -1, -1)]


class TrendPanel(Panel):
    """Incidents reported per clock hour over the last 12 hours (the current hour last,
    so far), by source or by priority; during an incident replay, the 12 hours up to the
    replay clock, counted from the incidents as they were then."""

    def __init__(
        self, ctx: Context, hub: Hub, scale: float, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(ctx, hub, scale, options)
        self.kind = (options or {}).get("kind", "incidents_by_source")
        by_source = self.kind == "incidents_by_source"
        self.plot = _plot(
            theme.tr("Incidents per hour by source")
            if by_source
            else theme.tr("Incidents per hour by priority"),
            scale,
            grid=False,  # its own grid lines (_set_ymax): a new scale costs 8 ms, not 27
        )
        self.plot.addLegend(offset=(10, 10), labelTextSize="14pt")
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.plot)
        self._series: dict[str, pg.PlotDataItem] = {}
        self._last = 0.0
        self._due = False
        self._hour = 0  # the clock hour shown last, as server time's epoch hours
        # counts kept as incidents change: a tick costs the changed incidents, not all
        self._hours = HourCounts(self._groups()[0][3])
        self._hours.update(ctx.state.incidents, None)
        self._counted: object = None  # the replay's Past the counts are of (None: live)
        self._recount = False  # the replay moved (or ended): count again at the next redraw
        # Fixed ranges: the axes are regenerated (text layout, the costly part of a
        # pyqtgraph paint) only when the scale steps, not on every new count.
        self.plot.enableAutoRange(enable=False)
        # A fixed width for the count axis: a new scale with longer labels would otherwise
        # re-lay the whole plot out, and it paints four times over the next frames.
        left = self.plot.getAxis("left")
        left.setWidth(
            round(QFontMetrics(theme.font(18 * scale)).horizontalAdvance("000000") + 24 * scale)
        )
        self.plot.setXRange(-HOURS + 1, 0, padding=0.03)
        self._ymax = 0.0
        self._grid: list[pg.InfiniteLine] = []
        self.listen(self._tick)
        self.refresh()

    def _groups(self) -> list[tuple[str, str, Any, str, Any]]:
        """(key, legend, colour, incident field, value) of each line."""
        if self.kind == "incidents_by_source":
            return [
                (src, label, colour, "source", src)
                for src, (colour, label) in theme.SOURCE_STYLE.items()
            ]
        return [
            (str(pr), f"P{pr}", theme.PRIORITY_COLOUR[pr], "priority", pr) for pr in (1, 2, 3, 4)
        ]

    def _tick(self, dirty: set[str]) -> None:
        if "incidents" in dirty:
            if self.ctx.past is not self._counted:
                # another moment of the replay, or back to live: all of them again, at the
                # redraw (10–18 ms at 10,000 incidents: never inside a seek's own tick)
                self._counted, self._recount = self.ctx.past, True
            elif self.ctx.past is None and not self._recount:
                self._hours.update(self.ctx.state.incidents, self.hub.changed_ids("incidents"))
            self._due = True
        if "clock" in dirty and int(self.ctx.data_now().timestamp() // 3600) != self._hour:
            self._due = True  # a new hour: the lines move one step left
        if (
            self._due
            and time.monotonic() - self._last > REDRAW_S
            and self.isVisible()
            and self.hub.claim()
        ):
            self.refresh()

    def refresh(self) -> None:
        self._last = time.monotonic()
        self._due = False
        if self._recount:
            self._recount = False
            self._hours.update(self.ctx.incidents(), None)
        self._show(self._count())

    def _count(self) -> dict[Any, list[int]]:
        """Incidents reported in each of the last HOURS clock hours (oldest first), per line."""
        now = self.ctx.data_now().timestamp()
        self._hour = int(now // 3600)
        return {g[4]: self._hours.series(g[4], now, HOURS) for g in self._groups()}

    def _show(self, per_value: dict[Any, list[int]]) -> None:
        xs = list(range(-HOURS + 1, 1))
        groups = self._groups()
        top = 0
        for key, label, colour, _field, value in groups:
            ys = per_value[value]
            item = self._series.get(key)
            if item is None:
                pen = pg.mkPen(colour.name(), width=3)
                item = self.plot.plot(
                    xs, ys, pen=pen, symbol="o", symbolBrush=colour.name(), name=label
                )
                self._series[key] = item
            else:
                item.setData(xs, ys)
            top = max(top, max(ys))
        # The scale steps up as soon as the lines need it, and down only once they fit in
        # a quarter of it: each step re-lays the axis, so it should not flicker to and fro.
        if not self._ymax or top > self._ymax or top * 4 < self._ymax:
            self._set_ymax(nice_ceiling(top * 1.15))

    def _set_ymax(self, ymax: float) -> None:
        """The vertical scale 0…ymax, with ticks and faint grid lines at fifths of it."""
        self._ymax = ymax
        self.plot.setYRange(0, ymax, padding=0)
        step = ymax / 5
        values = [step * i for i in range(6)]
        self.plot.getAxis("left").setTicks([[(v, f"{v:g}") for v in values]])
        dim = theme.TEXT_DIM
        pen = pg.mkPen((dim.red(), dim.green(), dim.blue(), 50), width=1)
        while len(self._grid) < len(values) - 1:
            line = pg.InfiniteLine(angle=0, pen=pen, movable=False)
            line.setZValue(-10)  # under the curves
            self.plot.addItem(line)
            self._grid.append(line)
        for line, v in zip(self._grid, values[1:], strict=True):
            line.setPos(v)


class IndicatorChartPanel(Panel):
    """One indicator over the last 24 h, with its warning and alarm lines."""

    def __init__(self, ctx: Context, hub: Hub, scale: float, options: dict[str, Any] | None = None,
                 history: Callable[[str], list[tuple[float, float | None]]] | None = None) -> None:  # fmt: skip
        super().__init__(ctx, hub, scale, options)
        self.iid = str((options or {}).get("id", ""))
        self.history = history
        ind = ctx.state.indicators.get(self.iid, {})
        self.plot = _plot(f"{ind.get('name', self.iid)} ({ind.get('unit', '')}) · 24h", scale)
        # hours in China Standard Time, as the wall's clock and every time it shows
        # (not the machine's own zone); pyqtgraph counts the offset west of UTC
        dates = pg.DateAxisItem(utcOffset=-CST.utcoffset(None).total_seconds())
        dates.setStyle(tickFont=theme.font(18 * scale))
        dates.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.plot.setAxisItems({"bottom": dates})
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.plot)
        self.curve = self.plot.plot([], [], pen=pg.mkPen(theme.INFO.name(), width=2))
        for key, colour in (("warn", theme.WARN), ("alarm", theme.ALARM)):
            if ind.get(key) is not None:
                self.plot.addLine(
                    y=ind[key],
                    pen=pg.mkPen(colour.name(), width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
                )
        # during an incident replay, the replay clock on the 24 h: the moment the vital
        # signs' tiles show (their colour, and "回放" by it, as on a replaying tile)
        self.clock_line = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(theme.REPLAY.name(), width=3),
            label=theme.tr("Replay"), labelOpts={"color": theme.REPLAY.name(), "position": 0.9},
        )  # fmt: skip
        self.clock_line.label.setFont(theme.font(22 * scale, bold=True))
        self.plot.addItem(self.clock_line, ignoreBounds=True)
        self._read_at = 0.0
        self.listen(self._tick)
        self.refresh()
        self._follow_clock()

    def _tick(self, dirty: set[str]) -> None:
        # the history holds one point a minute: re-read it at most every 10 s
        if "indicators" in dirty and time.monotonic() - self._read_at > 10:
            self.refresh()
        self._follow_clock()

    def _follow_clock(self) -> None:
        past = self.ctx.past
        self.clock_line.setVisible(past is not None)
        if past is not None and self.clock_line.value() != past.at.timestamp():
            self.clock_line.setValue(past.at.timestamp())
            self.clock_line.label.setFormat(f"{theme.tr('Replay')} {past.at.astimezone(CST):%H:%M:%S}")

    def refresh(self) -> None:
        self._read_at = time.monotonic()
        points = self.history(self.iid) if self.history else []
        pts = [(t, v) for t, v in points if v is not None]
        if pts:
            self.curve.setData([t for t, _ in pts], [v for _, v in pts])

"""City vital signs (城市生命体征) as tiles: value, level by colour and shape, sparkline, staleness.

One QPainter widget paints every tile (349 fit one 1080p screen): hundreds of
pyqtgraph plots cost ~10× more (../shared/field-notes.md). Repaints happen on the
hub's coalesced tick, only when indicators changed or a second passed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from panels import theme
from panels.hub import Context, Hub
from wallclient import indicators as rules

STALE_AFTER_S = 60.0  # a reading older than this is marked stale (the demo sends every 5 s)
ASPECT = 1.55  # tile width / height


class IndicatorsPanel(QWidget):
    """All indicators of a layout region's filter, grouped by category."""

    opened = Signal(str)  # an indicator tile was clicked: show its 24 h chart

    def __init__(
        self, ctx: Context, hub: Hub, scale: float, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.scale = scale
        self.options = options or {}
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._tiles: list[tuple[QRectF, str]] = []
        self._last_second = 0
        self.paints = 0
        hub.tick.connect(self._tick)

    def _tick(self, dirty: set[str]) -> None:
        second = int(time.monotonic())
        alarm_blink = any(rules.level(i) == "alarm" for i in self._shown())
        if (
            "indicators" in dirty
            or second != self._last_second
            and (alarm_blink or second % 5 == 0)
        ):
            self._last_second = second
            self.update()

    def _shown(self) -> list[dict[str, Any]]:
        return [i for i in self.ctx.state.indicators.values() if rules.matches(i, self.options)]

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

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        self.paints += 1
        p = QPainter(self)
        p.fillRect(self.rect(), theme.BG)
        groups = rules.grouped(self._shown())
        if not groups:
            p.setPen(theme.TEXT_DIM)
            p.setFont(theme.font(28 * self.scale))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, theme.tr("No indicators"))
            p.end()
            return
        cols, tw, th, header = self._layout(groups, self.width(), self.height())
        at = self.ctx.server_now()
        offline = self.ctx.status()["connection"]["state"] != "live"
        blink = theme.pulse(time.monotonic())
        y = 0.0
        self._tiles = []
        for category, items in groups:
            counts = {lv: 0 for lv in ("warning", "alarm")}
            for ind in items:
                lv = rules.level(ind)
                if lv in counts:
                    counts[lv] += 1
            p.setPen(theme.TEXT)
            p.setFont(theme.font(header * 0.7, bold=True))
            head = QRectF(4, y, self.width() - 8, header)
            summary = f"{category}  ·  {len(items)}"
            if counts["alarm"]:
                summary += f"   ◆ {theme.tr('Alarm')} {counts['alarm']}"
            if counts["warning"]:
                summary += f"   ▲ {theme.tr('Warning')} {counts['warning']}"
            p.drawText(head, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, summary)
            y += header
            for n, ind in enumerate(items):
                r = QRectF((n % cols) * tw, y + (n // cols) * th, tw, th).adjusted(2, 2, -2, -2)
                self._tile(p, r, ind, at, offline, blink)
                self._tiles.append((r, ind["id"]))
            y += math.ceil(len(items) / cols) * th
        p.end()

    def _tile(
        self, p: QPainter, r: QRectF, ind: Mapping[str, Any], at: Any, offline: bool, blink: float
    ) -> None:
        lv = rules.level(ind)
        age = rules.age_s(ind, at)
        stale = offline or age is None or age > STALE_AFTER_S
        colour = theme.LEVEL_COLOUR[lv]
        bg = QColor(theme.PANEL)
        if lv == "alarm":
            bg = QColor(90, 16, 20)
        elif lv == "warning":
            bg = QColor(74, 52, 10)
        p.fillRect(r, bg)
        if lv == "alarm":  # alarms draw the eye: a pulsing border
            pen = QPen(theme.ALARM)
            pen.setWidthF(2 + 3 * blink)
            p.setPen(pen)
            p.drawRect(r)
        unit = r.height()
        # the state marker (shape + colour), top left
        theme.shape(
            p,
            theme.LEVEL_SHAPE[lv],
            QPointF(r.left() + unit * 0.14, r.top() + unit * 0.16),
            unit * 0.08,
            colour,
        )
        p.setPen(theme.TEXT_DIM)
        p.setFont(theme.font(max(11.0, unit * 0.17)))
        name_r = QRectF(r.left() + unit * 0.28, r.top() + 1, r.width() - unit * 0.3, unit * 0.3)
        p.drawText(name_r, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   p.fontMetrics().elidedText(ind["name"], Qt.TextElideMode.ElideLeft, int(name_r.width())))  # fmt: skip
        # the value with its unit
        p.setPen(theme.STALE if stale else (theme.TEXT if lv == "normal" else colour))
        p.setFont(theme.font(unit * 0.34, bold=True))
        value_r = QRectF(r.left() + 4, r.top() + unit * 0.28, r.width() - 8, unit * 0.4)
        text = rules.format_value(ind)
        p.drawText(value_r, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        vw = p.fontMetrics().horizontalAdvance(text)
        p.setFont(theme.font(max(10.0, unit * 0.15)))
        p.setPen(theme.TEXT_DIM)
        p.drawText(QRectF(value_r.left() + vw + 4, value_r.top(), value_r.width() - vw - 4, value_r.height()),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, ind.get("unit", ""))  # fmt: skip
        # the sparkline and its trend arrow
        history = list(self.ctx.history.get(ind["id"], ()))
        spark = QRectF(r.left() + 4, r.bottom() - unit * 0.27, r.width() - unit * 0.35, unit * 0.22)
        theme.sparkline(p, spark, history, theme.STALE if stale else colour)
        trend = _trend(history)
        if trend:
            p.setPen(theme.TEXT_DIM)
            p.setFont(theme.font(unit * 0.2))
            p.drawText(
                QRectF(spark.right(), spark.top() - 2, unit * 0.3, spark.height() + 4),
                Qt.AlignmentFlag.AlignCenter,
                trend,
            )
        if stale:  # never pass an old reading off as current: hatch and say how old
            p.fillRect(r, QColor(7, 11, 20, 110))
            p.setPen(theme.WARN)
            p.setFont(theme.font(max(10.0, unit * 0.15), bold=True))
            label = "⏱ " + (_age(age) if age is not None else theme.tr("no data"))
            p.drawText(
                r.adjusted(0, 0, -4, -2),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                label,
            )

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        for rect, iid in self._tiles:
            if rect.contains(pos):
                self.opened.emit(iid)
                return


def _trend(values: list[float | None]) -> str:
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

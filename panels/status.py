"""A large status region and a large clock, for the status screen."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPaintEvent

from panels import theme
from panels.banner import STATE_TEXT
from panels.hub import Context, Hub, Panel
from wallclient.protocol import CST


class StatusPanel(Panel):
    """Connection, data age, counts: what a duty officer checks first."""

    def __init__(
        self, ctx: Context, hub: Hub, scale: float, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(ctx, hub, scale, options)
        self.listen(lambda d: self.update() if d & {"clock", "wall"} else None)

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        s = self.scale
        st = self.ctx.status()
        conn = st["connection"]
        p = QPainter(self)
        p.fillRect(self.rect(), theme.PANEL)
        colour, kind = theme.CONNECTION.get(conn["state"], (theme.STALE, "ring"))
        theme.shape(p, kind, QPointF(50 * s, 60 * s), 26 * s, colour)
        p.setPen(colour)
        p.setFont(theme.font(52 * s, bold=True))
        p.drawText(QRectF(96 * s, 20 * s, self.width(), 80 * s), Qt.AlignmentFlag.AlignVCenter,
                   theme.tr(STATE_TEXT.get(conn["state"], conn["state"])))  # fmt: skip
        age = conn.get("data_age_s")
        inc = st["incidents"]
        lines = [
            f"{theme.tr('Data age')}: {'—' if age is None else f'{age:.1f} s'}   seq {conn.get('last_seq')}",
            f"{theme.tr('Open incidents')}: {inc['open']}   {theme.tr('Overdue')}: {inc['overdue']}",
            f"{theme.tr('Cameras')}: {len(self.ctx.state.cameras)}   {theme.tr('Presets')}: {len(self.ctx.state.presets)}"
            f"   {theme.tr('Indicators')}: {len(self.ctx.state.indicators)}",
        ]
        p.setPen(theme.TEXT)
        size = 32 * s
        p.setFont(theme.font(size))
        widest = max(p.fontMetrics().horizontalAdvance(line) for line in lines)
        if (
            widest > self.width() - 60 * s
        ):  # shrink to fit a narrow region rather than cut words off
            size *= (self.width() - 60 * s) / widest
            p.setFont(theme.font(size))
        y = 110 * s
        for line in lines:
            p.drawText(
                QRectF(40 * s, y, self.width() - 60 * s, size * 1.6),
                Qt.AlignmentFlag.AlignVCenter,
                line,
            )
            y += size * 1.6
        p.end()


class ClockPanel(Panel):
    """The server-corrected time, large."""

    def __init__(
        self, ctx: Context, hub: Hub, scale: float, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(ctx, hub, scale, options)
        self.listen(lambda d: self.update() if "clock" in d else None)

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        now = self.ctx.server_now().astimezone(CST)
        p = QPainter(self)
        p.fillRect(self.rect(), theme.BG)
        size = min(self.height() * 0.45, self.width() / 5.2)
        p.setPen(theme.TEXT)
        p.setFont(theme.font(size, bold=True))
        top = QRectF(0, 0, self.width(), self.height() * 0.7)
        p.drawText(top, Qt.AlignmentFlag.AlignCenter, now.strftime("%H:%M:%S"))
        p.setPen(theme.TEXT_DIM)
        p.setFont(theme.font(size * 0.3))
        p.drawText(QRectF(0, top.bottom() - size * 0.1, self.width(), self.height() * 0.3), Qt.AlignmentFlag.AlignHCenter,
                   now.strftime("%Y-%m-%d"))  # fmt: skip
        p.end()

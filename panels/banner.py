"""The status banner across the top of every screen: is the data live, and how old is it."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from panels import theme
from panels.hub import Context, Hub
from wallclient.protocol import CST, parse_time

STATE_TEXT = {
    "live": "Live",
    "resyncing": "Resyncing",
    "connecting": "Connecting",
    "offline": "Offline",
}


class BannerPanel(QWidget):
    """Connection and data age, server clock, wall mode and preset, user, latest error."""

    def __init__(self, ctx: Context, hub: Hub, scale: float, screen_name: str) -> None:
        super().__init__()
        self.ctx = ctx
        self.scale = scale
        self.screen_name = screen_name
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFixedHeight(round(64 * scale))
        hub.tick.connect(
            lambda dirty: self.update() if dirty & {"clock", "wall", "switch"} else None
        )

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        s = self.scale
        st = self.ctx.status()
        conn = st["connection"]
        wall = st["wall"]
        emergency = wall.get("mode") == "emergency"
        p = QPainter(self)
        p.fillRect(self.rect(), theme.EMERGENCY if emergency else theme.PANEL)
        p.setPen(theme.PANEL_EDGE)
        p.drawLine(0, self.height() - 1, self.width(), self.height() - 1)
        h = self.height()
        # left: connection state (colour + shape + words) and data age
        colour, kind = theme.CONNECTION.get(conn["state"], (theme.STALE, "ring"))
        theme.shape(p, kind, QPointF(28 * s, h / 2), 12 * s, colour)
        state = theme.tr(STATE_TEXT.get(conn["state"], conn["state"]))
        if conn["state"] == "offline" and conn.get("since"):
            since = parse_time(conn["since"]).astimezone(CST).strftime("%H:%M:%S")
            state = theme.tr("Offline since %1").replace("%1", since)
        age = conn.get("data_age_s")
        age_text = "—" if age is None else _age(age)
        p.setFont(theme.font(28 * s, bold=True))
        p.setPen(colour if conn["state"] != "live" else theme.TEXT)
        left = QRectF(52 * s, 0, 620 * s, h)
        text = f"{state}  ·  {theme.tr('Data age')} {age_text}"
        past = self.ctx.past
        if past is not None:  # this node's panels show the past: never taken for live
            p.fillRect(QRectF(0, 0, 660 * s, h), theme.REPLAY)
            theme.shape(p, "rewind", QPointF(28 * s, h / 2), 12 * s, theme.BG)
            p.setPen(theme.BG)
            text = theme.tr("Incident replay") + " · " + theme.tr("Data of %1").replace(
                "%1", past.at.astimezone(CST).strftime("%H:%M:%S"))  # fmt: skip
        p.drawText(left, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        # centre: mode and preset (who switched, when, in emergency)
        preset_id = wall.get("preset")
        preset = self.ctx.state.presets.get(preset_id or "", {}).get("name", preset_id or "—")
        if emergency:
            who = wall.get("changed_by") or "—"
            when = wall.get("changed_at")
            when_t = parse_time(when).astimezone(CST).strftime("%H:%M") if when else "—"
            centre = f"⚠ {theme.tr('EMERGENCY')} · {preset} · {who} {when_t}"
        else:
            centre = f"{theme.tr('Preset')}: {preset}"
        p.setPen(theme.TEXT)
        p.setFont(theme.font(28 * s, bold=emergency))
        mid = QRectF(660 * s, 0, self.width() - 1260 * s, h)
        switch = st.get("switch")
        if switch:  # a switch pending, refused, or made locally: said under the preset
            from panels.palette import switch_words

            words, colour = switch_words(self.ctx, switch)
            if words:
                top = QRectF(mid.left(), 0, mid.width(), h * 0.56)
                p.drawText(top, Qt.AlignmentFlag.AlignCenter, _elide(p, centre, mid.width()))
                p.setFont(theme.font(20 * s, bold=True))
                p.setPen(theme.TEXT if emergency else colour)
                low = QRectF(mid.left(), h * 0.5, mid.width(), h * 0.5)
                p.drawText(low, Qt.AlignmentFlag.AlignCenter, _elide(p, words, mid.width()))
                p.setFont(theme.font(20 * s))
                centre = ""
        if centre:
            p.drawText(mid, Qt.AlignmentFlag.AlignCenter, _elide(p, centre, mid.width()))
        # right: user and role, server-corrected clock; the latest error under it
        now = self.ctx.server_now().astimezone(CST)
        role = st.get("role")
        user = f"{st.get('user') or '—'} · {theme.tr(role.capitalize()) if role else '—'}"
        p.setFont(theme.font(20 * s))
        p.setPen(theme.TEXT_DIM)
        right = QRectF(self.width() - 600 * s, 0, 430 * s, h / 2 + 4 * s)
        p.drawText(
            right,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
            f"{user} · {self.screen_name}",
        )
        err = conn.get("error")
        if err and conn["state"] != "live":
            p.setPen(theme.WARN)
            err_rect = QRectF(self.width() - 600 * s, h / 2 + 2 * s, 430 * s, h / 2)
            p.drawText(
                err_rect,
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                _elide(p, theme.tr(err), err_rect.width()),
            )
        p.setFont(theme.font(34 * s, bold=True))
        p.setPen(theme.TEXT)
        p.drawText(
            QRectF(self.width() - 160 * s, 0, 150 * s, h),
            Qt.AlignmentFlag.AlignCenter,
            now.strftime("%H:%M:%S"),
        )
        p.end()


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}min"
    return f"{seconds / 3600:.1f}h"


def _elide(p: QPainter, text: str, width: float) -> str:
    return p.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(width))

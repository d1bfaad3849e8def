"""What sits on the map rather than in it: the legend (each layer with its mark and
count, a click switches it), the scale bar and north arrow, what the map is narrowed to,
and why the ground is missing when it is."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from panels import theme
from wallclient.viewport import M_PER_DEG, Viewport

SCALE_STEPS = (50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000)  # a scale bar's lengths (m)
Row = tuple[str, str, str, QColor]  # layer id, label, shape, colour


def legend(p: QPainter, rows: list[Row], shown: dict[str, bool], scale: float) -> list[tuple[QRectF, str]]:
    """Top left: one row a layer (hollow and grey when switched off); where each row is."""
    s = scale
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setFont(theme.font(18 * s))
    fm = p.fontMetrics()
    x, y = 12 * s, 12 * s
    line = 32 * s
    width = max(fm.horizontalAdvance(r[1]) for r in rows) + 56 * s
    p.fillRect(QRectF(x - 6 * s, y - 6 * s, width + 12 * s, line * len(rows) + 12 * s), QColor(7, 11, 20, 200))
    out = []
    for lid, label, shape, colour in rows:
        on = shown.get(lid, True)
        rect = QRectF(x, y, width, line)
        theme.shape(p, shape if on else "ring", QPointF(x + 14 * s, y + line / 2), 8 * s,
                    colour if on else theme.STALE)  # fmt: skip
        p.setPen(theme.TEXT if on else theme.TEXT_DIM)
        p.drawText(rect.adjusted(34 * s, 0, 0, 0),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label)  # fmt: skip
        out.append((rect, lid))
        y += line
    return out


def drilled(p: QPainter, name: str, width: int, scale: float) -> None:
    """Top right: a drill-down says where and how to leave."""
    s = scale
    text = theme.tr("Drilled into %1 · Esc returns").replace("%1", name)
    p.setFont(theme.font(22 * s, bold=True))
    w = p.fontMetrics().horizontalAdvance(text) + 30 * s
    r = QRectF(width - w - 12 * s, 12 * s, w, 40 * s)
    p.fillRect(r, QColor(77, 163, 255, 60))
    p.setPen(theme.INFO)
    p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)


def no_ground(p: QPainter, error: str, width: int, height: int, scale: float) -> None:
    """Lower left: the map runs without its basemap, and says why."""
    s = scale
    text = theme.tr("No basemap: %1").replace("%1", error)
    p.setFont(theme.font(18 * s))
    text = p.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, int(width * 0.6))
    w = p.fontMetrics().horizontalAdvance(text) + 40 * s
    r = QRectF(12 * s, height - 48 * s, w, 36 * s)
    p.fillRect(r, QColor(7, 11, 20, 220))
    theme.shape(p, "triangle", QPointF(r.left() + 16 * s, r.center().y()), 8 * s, theme.WARN)
    p.setPen(theme.WARN)
    p.drawText(r.adjusted(30 * s, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, text)


def scale_bar(p: QPainter, v: Viewport, scale: float) -> None:
    """Lower right: a scale bar of a round length (50 m … 20 km) and a north arrow."""
    s = scale
    m_per_px = M_PER_DEG / v.k  # metres per pixel (north–south, at the view's scale)
    target = 200 * s * m_per_px  # about 200 px of ground
    length = max((n for n in SCALE_STEPS if n <= target), default=SCALE_STEPS[0])
    w = length / m_per_px
    right, bottom = v.width - 24 * s, v.height - 24 * s
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    box = QRectF(right - w - 16 * s, bottom - 54 * s, w + 32 * s, 66 * s)
    p.fillRect(box.adjusted(-64 * s, 0, 0, 0), QColor(7, 11, 20, 200))
    p.setPen(QPen(theme.TEXT, 3 * s))
    y = bottom - 6 * s
    p.drawLine(QPointF(right - w, y), QPointF(right, y))
    for x in (right - w, right):
        p.drawLine(QPointF(x, y), QPointF(x, y - 10 * s))
    p.setFont(theme.font(20 * s, bold=True))
    p.drawText(QRectF(right - w - 40 * s, bottom - 52 * s, w + 80 * s, 34 * s),
               Qt.AlignmentFlag.AlignCenter, label)  # fmt: skip
    # north: the map's up is north (never rotated)
    cx, cy = box.left() - 34 * s, bottom - 24 * s
    arrow = QPolygonF([QPointF(cx, cy - 22 * s), QPointF(cx + 10 * s, cy + 8 * s),
                       QPointF(cx, cy + 2 * s), QPointF(cx - 10 * s, cy + 8 * s)])  # fmt: skip
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(theme.TEXT)
    p.drawPolygon(arrow)
    p.setPen(theme.TEXT)
    p.setFont(theme.font(16 * s, bold=True))
    p.drawText(QRectF(cx - 12 * s, cy + 6 * s, 24 * s, 22 * s), Qt.AlignmentFlag.AlignCenter, "N")

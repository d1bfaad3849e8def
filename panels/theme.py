"""The wall's look: a dark theme for rooms watched from five metres, colour plus shape.

Sizes are in pixels of a 1080-line screen and scale with the screen (``scale``).
docs/legibility.md gives the rule behind them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pyqtgraph.functions import arrayToQPolygonF
from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF

from wallclient.fonts import FONT_FAMILY  # named where doctor reads it too

RESOURCES = Path(__file__).resolve().parent.parent / "resources"

BG = QColor("#070b14")
PANEL = QColor("#0e1626")
PANEL_EDGE = QColor("#1f2c45")
TEXT = QColor("#e8eef8")
TEXT_DIM = QColor("#8a9bb8")
OK = QColor("#2ecc71")
WARN = QColor("#f5b041")
ALARM = QColor("#ff4d4f")
INFO = QColor("#4da3ff")
STALE = QColor("#7f8c9d")
EMERGENCY = QColor("#c0392b")
# a tile playing the past: a colour no live state uses, with its own shape (rewind)
REPLAY = QColor("#c77dff")

LEVEL_COLOUR = {"normal": OK, "warning": WARN, "alarm": ALARM, "none": STALE}
# Each state has a shape of its own, so it reads without colour too.
LEVEL_SHAPE = {"normal": "circle", "warning": "triangle", "alarm": "diamond", "none": "ring"}
PRIORITY_COLOUR = {1: ALARM, 2: QColor("#ff8c42"), 3: WARN, 4: QColor("#7f8c9d")}
PRIORITY_SHAPE = {1: "diamond", 2: "triangle", 3: "square", 4: "circle"}
CONNECTION = {
    "live": (OK, "circle"),
    "resyncing": (WARN, "triangle"),
    "connecting": (WARN, "triangle"),
    "offline": (ALARM, "diamond"),
}
SOURCE_STYLE = {  # colour and the short label drawn in the source badge
    "12345": (QColor("#3498db"), "12345"),
    "110": (QColor("#e74c3c"), "110"),
    "grid": (QColor("#1abc9c"), "网格"),
    "iot": (QColor("#9b59b6"), "物联"),
    "video_ai": (QColor("#e67e22"), "视频AI"),
}


def tr(text: str) -> str:
    """Translate a UI string (English source; zh_CN from resources/translations)."""
    return QCoreApplication.translate("wall", text)


def font(px: float, bold: bool = False) -> QFont:
    """A wall font of ``px`` pixels (cached: hundreds of tiles ask for the same few)."""
    return _font(max(8, round(px)), bold)


@functools.lru_cache(maxsize=256)
def _font(px: int, bold: bool) -> QFont:
    f = QFont(FONT_FAMILY)
    f.setPixelSize(px)
    f.setBold(bold)
    f.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    return f


def shape(p: QPainter, kind: str, centre: QPointF, r: float, colour: QColor) -> None:
    """Draw a state marker: circle, triangle, diamond, square or ring."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour)
    x, y = centre.x(), centre.y()
    if kind == "circle":
        p.drawEllipse(centre, r, r)
    elif kind == "ring":
        p.setBrush(Qt.BrushStyle.NoBrush)
        pen = p.pen()
        pen.setStyle(Qt.PenStyle.SolidLine)
        pen.setColor(colour)
        pen.setWidthF(max(1.5, r / 3))
        p.setPen(pen)
        p.drawEllipse(centre, r * 0.8, r * 0.8)
    elif kind == "triangle":
        p.drawPolygon(
            QPolygonF([QPointF(x, y - r), QPointF(x + r, y + r * 0.8), QPointF(x - r, y + r * 0.8)])
        )
    elif kind == "rewind":  # two triangles pointing back: a replaying tile
        for dx in (0.0, r):
            p.drawPolygon(QPolygonF([QPointF(x - r + dx, y), QPointF(x + dx, y - r * 0.8),
                                     QPointF(x + dx, y + r * 0.8)]))  # fmt: skip
    elif kind == "diamond":
        p.drawPolygon(
            QPolygonF(
                [
                    QPointF(x, y - r * 1.15),
                    QPointF(x + r, y),
                    QPointF(x, y + r * 1.15),
                    QPointF(x - r, y),
                ]
            )
        )
    else:
        p.drawRect(QRectF(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7))
    p.restore()


def spark_polylines(series: Sequence[Sequence[float | None]], rect: QRectF) -> list[list[QPolygonF]]:
    """The polylines (one per unbroken run) of many sparklines of one size, worked out
    together: a replay's seek draws 349 new ones, and numpy over all of them at once costs
    a tenth of numpy over each (small arrays are all call overhead)."""
    out: list[list[QPolygonF]] = [[] for _ in series]
    by_len: dict[int, list[int]] = {}
    for i, values in enumerate(series):
        if len(values) >= 2:
            by_len.setdefault(len(values), []).append(i)
    for n, rows in by_len.items():
        ys = np.array([[math.nan if v is None else v for v in series[i]] for i in rows], dtype=float)
        ok = ~np.isnan(ys)
        counts = ok.sum(axis=1)
        with np.errstate(all="ignore"):  # rows of fewer than two values are left out below
            lo = np.where(ok, ys, np.inf).min(axis=1)
            span = np.where(ok, ys, -np.inf).max(axis=1) - lo
            span = np.where(span > 0, span, np.where(np.abs(lo) > 0, np.abs(lo), 1.0))
            ys = rect.bottom() - (ys - lo[:, None]) * (rect.height() / span[:, None])
        xs = rect.left() + np.arange(n) * (rect.width() / (n - 1))
        whole = counts == n
        for k, i in enumerate(rows):
            if counts[k] < 2:
                continue
            if whole[k]:
                out[i] = [arrayToQPolygonF(xs, ys[k])]
                continue
            edges = np.flatnonzero(np.diff(np.concatenate(([0], ok[k].view(np.int8), [0]))))
            out[i] = [arrayToQPolygonF(xs[a:b], ys[k, a:b])
                      for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a > 1]  # fmt: skip
    return out


def draw_spark(p: QPainter, polylines: list[QPolygonF], colour: QColor) -> None:
    """Sparkline polylines, 2 px thick as two 1-px lines a pixel apart, without
    antialiasing: a wider pen goes through Qt's stroker, at twice the cost."""
    if not polylines:
        return
    p.setPen(QPen(colour, 1))
    for line in polylines:
        p.drawPolyline(line)
    p.translate(0, 1)
    for line in polylines:
        p.drawPolyline(line)
    p.translate(0, -1)


def pulse(t: float, period: float = 1.2) -> float:
    """0..1..0 over ``period`` seconds: for things that must draw the eye."""
    return 0.5 - 0.5 * math.cos(2 * math.pi * (t % period) / period)


def countdown(seconds: float) -> str:
    """``mm:ss`` (or ``h:mm:ss``) of a remaining or overdue time."""
    s = int(abs(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"

"""The video grid of a layout region: the active preset's cameras on rows × cols tiles.

Until playback lands (issue 4) each tile shows which camera it holds and says plainly
that no picture is playing: a tile never pretends to be live.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPaintEvent

from panels import theme
from panels.hub import Context, Hub, Panel


def tile_rects(rows: int, cols: int, spans: list[list[int]], w: float, h: float) -> list[QRectF]:
    """Tile rectangles in reading order; a span covers several cells with one tile."""
    taken: set[tuple[int, int]] = set()
    out: list[tuple[int, int, QRectF]] = []
    cw, ch = w / cols, h / rows
    for r0, c0, rs, cs in spans:
        cells = {(r, c) for r in range(r0, r0 + rs) for c in range(c0, c0 + cs)}
        if cells & taken:
            continue
        taken |= cells
        out.append((r0, c0, QRectF(c0 * cw, r0 * ch, cs * cw, rs * ch)))
    for r in range(rows):
        for c in range(cols):
            if (r, c) not in taken:
                out.append((r, c, QRectF(c * cw, r * ch, cw, ch)))
    out.sort(key=lambda t: (t[0], t[1]))
    return [rect for _, _, rect in out]


class VideoPanel(Panel):
    """A grid of camera tiles fed by the active preset (tour pages when it has more cameras)."""

    def __init__(
        self, ctx: Context, hub: Hub, scale: float, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(ctx, hub, scale, options)
        self.rows = int(self.options.get("rows", 3))
        self.cols = int(self.options.get("cols", 3))
        self.spans = list(self.options.get("spans", []))
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.listen(lambda dirty: self.update() if dirty & {"wall", "presets", "cameras"} else None)

    def cameras(self) -> list[str | None]:
        """The camera id on each tile (first page of the preset)."""
        wall = self.ctx.state.wall or {}
        preset = self.ctx.state.presets.get(wall.get("preset") or "")
        n = len(tile_rects(self.rows, self.cols, self.spans, 1, 1))
        ids: list[str | None] = list(preset["cameras"][:n]) if preset else []
        return ids + [None] * (n - len(ids))

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        s = self.scale
        p = QPainter(self)
        p.fillRect(self.rect(), theme.BG)
        rects = tile_rects(self.rows, self.cols, self.spans, self.width(), self.height())
        wall = self.ctx.state.wall or {}
        preset = self.ctx.state.presets.get(wall.get("preset") or "")
        pages = max(1, math.ceil(len(preset["cameras"]) / len(rects))) if preset else 1
        for rect, cam_id in zip(rects, self.cameras(), strict=True):
            r = rect.adjusted(3, 3, -3, -3)
            p.fillRect(r, theme.PANEL)
            p.setPen(theme.PANEL_EDGE)
            p.drawRect(r)
            if cam_id is None:
                p.setPen(theme.TEXT_DIM)
                p.setFont(theme.font(22 * s))
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, theme.tr("No camera"))
                continue
            cam = self.ctx.state.cameras.get(cam_id, {})
            region = self.ctx.state.regions.get(cam.get("region") or "", {}).get("name", "")
            p.setPen(theme.TEXT)
            p.setFont(theme.font(24 * s, bold=True))
            name_r = QRectF(r.left() + 10 * s, r.top() + 6 * s, r.width() - 20 * s, 34 * s)
            p.drawText(name_r, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       p.fontMetrics().elidedText(cam.get("name", cam_id), Qt.TextElideMode.ElideRight, int(name_r.width())))  # fmt: skip
            p.setPen(theme.TEXT_DIM)
            p.setFont(theme.font(18 * s))
            p.drawText(
                QRectF(name_r.left(), name_r.bottom(), name_r.width(), 26 * s),
                Qt.AlignmentFlag.AlignLeft,
                region,
            )
            offline = cam.get("status") == "offline"
            colour, shape = (theme.ALARM, "diamond") if offline else (theme.STALE, "ring")
            theme.shape(p, shape, r.center(), 16 * s, colour)
            p.setPen(colour)
            p.setFont(theme.font(22 * s, bold=True))
            text = theme.tr("Camera offline") if offline else theme.tr("No picture")
            p.drawText(r.adjusted(0, 60 * s, 0, 0), Qt.AlignmentFlag.AlignCenter, text)
        if pages > 1:
            p.setPen(theme.TEXT_DIM)
            p.setFont(theme.font(18 * s))
            p.drawText(self.rect().adjusted(0, 0, -10, -6), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                       theme.tr("Tour: %1 pages").replace("%1", str(pages)))  # fmt: skip
        p.end()

"""Where things lie in a video panel: the tiles of a grid (``tile_rects``), a tile's
header and picture area (``parts``), a picture centred in its area (``centred``)."""

from __future__ import annotations

from PySide6.QtCore import QRectF

HEADER_PX = 64  # a tile's header above its picture (at 1080 p)


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


def parts(rect: QRectF, scale: float) -> tuple[QRectF, QRectF]:
    """A tile's header (name, region, state, rate) and its picture area below it: the
    header never covers the picture, so a new frame repaints the picture alone."""
    # on whole pixels, so that a new frame's update never touches the header
    r = QRectF(rect.adjusted(3, 3, -3, -3).toAlignedRect())
    head = round(HEADER_PX * scale)
    return QRectF(r.left(), r.top(), r.width(), head), r.adjusted(0, head, 0, 0)


def centred(r: QRectF, w: int, h: int) -> QRectF:
    """Where a picture of ``w`` × ``h`` sits in the picture area ``r``: centred, on whole
    pixels (the frame's update and its paint must agree to the pixel)."""
    return QRectF(
        round(r.left() + (r.width() - w) / 2), round(r.top() + (r.height() - h) / 2), w, h
    )


def even(v: float) -> int:
    return max(16, int(v) // 2 * 2)

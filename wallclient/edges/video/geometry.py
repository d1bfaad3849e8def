"""Where a picture goes in a tile: its size at the picture's own aspect (``fit``), the
size of a native window libvlc scales into (``native_window``), and the aspect a coded
size stands for (``picture_aspect``). Plain arithmetic: no decoder, no Qt."""

from __future__ import annotations


def fit(src_w: int, src_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """The largest even size with the picture's aspect that fits the tile's box: a
    picture is never stretched (letterboxed or pillarboxed instead)."""
    if src_w <= 0 or src_h <= 0:
        return box_w, box_h
    scale = min(box_w / src_w, box_h / src_h)
    w = max(2, int(round(src_w * scale, 6)) // 2 * 2)  # round: 720 × 1010/720 is 1010
    h = max(2, int(round(src_h * scale, 6)) // 2 * 2)
    return min(w, box_w), min(h, box_h)


def native_window(area_w: int, area_h: int, src_w: int, src_h: int) -> tuple[int, int]:
    """The size of a native tile window inside a picture area of ``area_w`` × ``area_h``
    for a ``src_w`` × ``src_h`` picture: the picture's aspect, and such that the width
    libvlc's X11 output scales to is even. libvlc places the picture at
    ⌊src_w · h / src_h⌋ × h when that fits the window's width, else at the window's width;
    and swscale, asked for an odd width, interpolates chroma over the whole width in a
    plain C path that cost a 4 × 4 wall twice its scaling (docs/video.md)."""
    w, h = fit(src_w, src_h, area_w, area_h)
    if src_w <= 0 or src_h <= 0:
        return w, h
    for _ in range(8):
        placed = src_w * h // src_h
        if placed > w:
            return w, h  # placed at the window's (even) width
        if placed % 2 == 0:
            return placed, h  # the window is the picture
        h -= 1  # one row less: the placed width becomes the even one below
    return w, h


# The aspects cameras send (16:9 HD and its sub streams, 4:3 D1/VGA, 11:9 CIF/D1 PAL, 5:4
# SXGA, 16:10), for sizes that are only known rounded up to the codec's 16-pixel blocks
ASPECTS = (16 / 9, 4 / 3, 11 / 9, 5 / 4, 16 / 10, 3 / 2)


def picture_aspect(width: int, height: int) -> tuple[int, int]:
    """A picture size with the camera's aspect, from a size that may be the coded one
    (rounded up to 16 pixels: 640×368, 1920×1088): snapped to the nearest common aspect
    within 3 %, else as given."""
    if width <= 0 or height <= 0:
        return width, height
    ratio = width / height
    best = min(ASPECTS, key=lambda a: abs(ratio / a - 1))
    if abs(ratio / best - 1) <= 0.03:
        return width, max(2, round(width / best))
    return width, height

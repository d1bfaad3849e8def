"""Units on the map (处置力量): a shape per kind, a colour per status (colour and shape
for every state), a heading tick, and the fading track of the last 30 minutes, each track
decimated to a few pixels a step and drawn in three bands of rising opacity (three
polylines a unit, not a line per step). Two layers: the units themselves, redrawn with
every batch of positions (1 Hz), and their tracks, redrawn every TRACK_REDRAW_S (a unit
keeps one fix per 10 s) — 2,000 units a second cost the wall a few % of a core."""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import chain
from typing import Any

import numpy as np
from pyqtgraph.functions import arrayToQPolygonF
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from panels import theme
from panels.map.incidents import sprite_for
from panels.map.picture import XY
from wallclient.units import TRACK_S
from wallclient.viewport import Box, Viewport

UNIT_SHAPE = {"patrol_car": "square", "pump_truck": "diamond", "drone": "triangle",
              "body_cam": "ring", "grid_worker": "circle"}  # fmt: skip
UNIT_COLOUR = {"idle": QColor("#2ecc71"), "enroute": QColor("#f5b041"), "onsite": QColor("#4da3ff"),
               "offline": QColor("#7f8c9d")}  # fmt: skip
BANDS = 3  # a track's opacity steps, oldest faintest
TRACK_PX = 4.0  # a track keeps a point per this many pixels (at scale 1)
TRACK_REDRAW_S = 10.0  # tracks are redrawn this often (a unit keeps a fix per 10 s: MIN_STEP_S) …
CROWDED_REDRAW_S = 30.0  # … or this often when hundreds are in view (a district's worth)
PER_SLICE = 240  # units between two yields (~1 ms)
TRACKS_PER_SLICE = 20  # tracks between two yields (~1–2 ms)
SMOOTH_TRACKS = 60  # at most this many tracks in view are drawn antialiased (~0.5 ms each)


class Tracks:
    """Each unit's track as the map draws it: its last 30 minutes as arrays, kept until the
    unit's fixes change, thinned to a point per grid cell of the view's tolerance (steps of
    √2, so a zoom notch reuses them) and projected in numpy; and where each drawn track
    ends (the units layer joins it to the unit, which moves every second while its track
    is redrawn every TRACK_REDRAW_S)."""

    def __init__(self) -> None:
        self.ends: dict[str, tuple[float, float]] = {}
        # per unit: (its fixes' key, the track's box, its fixes (t, lon, lat), {tolerance: kept indices})
        self._kept: dict[str, tuple[Any, Box, np.ndarray, dict[float, np.ndarray]]] = {}
        self.crowded = False  # more tracks in view than are drawn smooth (redrawn less often)

    def draw(self, p: QPainter, v: Viewport, units: dict[str, Any], fixes: Any,
             scale: float) -> Iterator[None]:  # fmt: skip
        s = scale
        tol = 2 ** (math.floor(math.log2(TRACK_PX * s / v.k) * 2) / 2)  # degrees of latitude
        west, south, east, north = v.box(pad_px=40)
        cx, cy, clon, clat, k, kx = v.width / 2, v.height / 2, v.lon, v.lat, v.k, v.kx
        ends: dict[str, tuple[float, float]] = {}
        # antialiased wide lines cost ~10× aliased ones (2,000 tracks: ~0.8 s against
        # ~80 ms): smooth and fading while the view holds a few dozen units, crisp 2-px
        # lines of one shade beyond (hundreds of tracks: a fade is not seen in the crowd)
        in_view = 0
        for unit in units.values():
            loc = unit.get("location")
            if isinstance(loc, dict) and west <= loc.get("lon", 999) <= east and south <= loc.get("lat", 999) <= north:
                in_view += 1
        smooth = in_view <= SMOOTH_TRACKS
        bands = BANDS if smooth else 1  # (a crowded view: one polyline a track, the fade left out)
        self.crowded = not smooth
        p.setRenderHint(QPainter.RenderHint.Antialiasing, smooth)
        pens: dict[tuple[int, int], QPen] = {}
        width = (2.2 if smooth else 2.0) * s
        for n, uid in enumerate(list(units)):
            if n % TRACKS_PER_SLICE == TRACKS_PER_SLICE - 1:
                yield
            unit = units.get(uid)
            points = fixes.points.get(uid)
            if unit is None or not isinstance(unit.get("location"), dict) or not points:
                continue
            key = (len(points), points[-1][0])
            got = self._kept.get(uid)
            if got is None or got[0] != key:
                arr = _fixes(points, got[2] if got is not None else None)
                lons, lats = arr[:, 1], arr[:, 2]
                got = self._kept[uid] = (key, (float(lons.min()), float(lats.min()), float(lons.max()),
                                               float(lats.max())), arr, {})  # fmt: skip
            _key, (w, so, e, no), arr, thinned = got
            lons, lats = arr[:, 1], arr[:, 2]
            if e < west or w > east or no < south or so > north:
                continue  # off the screen: not even thinned
            idx = thinned.get(tol)
            if idx is None:
                idx = thinned[tol] = _thin(lons * kx / tol, lats / tol)
            ends[uid] = (float(lons[idx[-1]]), float(lats[idx[-1]]))
            m = len(idx)
            if m < 2:
                continue
            xs = cx + (lons[idx] - clon) * (kx * k)
            ys = cy - (lats[idx] - clat) * k
            colour = UNIT_COLOUR.get(unit.get("status", ""), theme.STALE)
            for band, lo, hi in _runs(xs, ys, v.width, v.height, bands):  # older parts fainter
                pen = pens.get((colour.rgba(), band))
                if pen is None:
                    c = QColor(colour)
                    c.setAlpha(int(40 + 160 * (band + 1) / bands) if smooth else 130)
                    pen = pens[(colour.rgba(), band)] = QPen(c, width, Qt.PenStyle.SolidLine,
                                                             Qt.PenCapStyle.FlatCap, Qt.PenJoinStyle.BevelJoin)  # fmt: skip
                p.setPen(pen)
                p.drawPolyline(arrayToQPolygonF(xs[lo : hi + 1], ys[lo : hi + 1]))
        for gone in set(self._kept) - set(units):
            del self._kept[gone]
        self.ends = ends


def _fixes(points: Any, before: np.ndarray | None) -> np.ndarray:
    """A unit's last TRACK_S of fixes as an array of (t, lon, lat): the array it had with
    the fixes since appended (one or two a redraw), else made afresh."""
    last = points[-1][0]
    if before is not None and len(before) and before[-1, 0] <= last:  # (a replay may go back)
        new = []
        for fix in reversed(points):  # the newest first, down to what the array holds
            if fix[0] <= before[-1, 0]:
                break
            new.append(fix)
        arr = np.concatenate((before, np.array(new[::-1], dtype=np.float64).reshape(-1, 3)))
    else:
        arr = np.fromiter(chain.from_iterable(points), np.float64, 3 * len(points)).reshape(-1, 3)
    start = int(np.searchsorted(arr[:, 0], last - TRACK_S))
    return arr[start:]


def _runs(xs: np.ndarray, ys: np.ndarray, width: int, height: int, bands: int) -> list[tuple[int, int, int]]:
    """A track's stretches to draw: (band, first, last point), the track cut into ``bands``
    by age and to the segments that touch the screen (Qt strokes a polyline whole before
    clipping it: a street-zoom track is mostly off the screen)."""
    m = len(xs)
    pad = 40.0
    on = (xs > -pad) & (xs < width + pad) & (ys > -pad) & (ys < height + pad)
    # a segment is drawn when either end is near the screen (one that crosses it whole,
    # both ends beyond opposite edges at a street zoom, is left out: 10-s steps are short)
    seg = on[:-1] | on[1:]
    band = np.minimum(bands - 1, np.arange(m - 1) * bands // (m - 1))
    key = np.where(seg, band, -1)
    cuts = np.flatnonzero(np.diff(key)) + 1
    out = []
    for a, b in zip(np.r_[0, cuts].tolist(), np.r_[cuts, m - 1].tolist(), strict=True):
        if key[a] >= 0:
            out.append((int(key[a]), a, b))  # segments a … b − 1: points a … b
    return out


def _thin(qx: np.ndarray, qy: np.ndarray) -> np.ndarray:
    """Indices of a track's points that enter a new grid cell (coordinates in cells), the
    first and the last always."""
    cx, cy = np.floor(qx), np.floor(qy)
    keep = np.empty(len(qx), dtype=bool)
    keep[0] = True
    keep[1:] = (cx[1:] != cx[:-1]) | (cy[1:] != cy[:-1])
    keep[-1] = True
    return np.flatnonzero(keep)


def draw(p: QPainter, v: Viewport, xy: XY, units: dict[str, Any], ends: dict[str, tuple[float, float]],
         scale: float) -> Iterator[None]:  # fmt: skip
    """Every unit in view: its marker, heading, and the stretch since its drawn track ends."""
    s = scale
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    view = QRectF(0, 0, v.width, v.height).adjusted(-40, -40, 40, 40)
    pens: dict[int, QPen] = {}
    for n, (uid, unit) in enumerate(list(units.items())):
        if n % PER_SLICE == PER_SLICE - 1:
            yield
        loc = unit.get("location")
        if not isinstance(loc, dict):
            continue
        here = xy(loc["lon"], loc["lat"])
        if not view.contains(here):
            continue
        colour = UNIT_COLOUR.get(unit.get("status", ""), theme.STALE)
        pen = pens.get(colour.rgba())
        if pen is None:
            pen = pens[colour.rgba()] = QPen(colour, 2.4 * s)
        p.setPen(pen)
        end = ends.get(uid)
        if end is not None:  # the stretch since its track was drawn
            p.drawLine(xy(*end), here)
        heading = loc.get("heading")
        if isinstance(heading, int | float):
            rad = math.radians(heading)
            p.drawLine(here, QPointF(here.x() + math.sin(rad) * 16 * s, here.y() - math.cos(rad) * 16 * s))
        sprite, half = sprite_for(UNIT_SHAPE.get(unit.get("kind", ""), "circle"), 8 * s, colour)
        p.drawPixmap(QPointF(here.x() - half, here.y() - half), sprite)


def at(xy: XY, units: dict[str, Any], pos: QPointF, reach: float) -> str | None:
    """The unit drawn under ``pos`` (within its marker), if any."""
    best, best_d = None, reach
    for uid, unit in units.items():
        loc = unit.get("location")
        if isinstance(loc, dict):
            pt = xy(loc["lon"], loc["lat"])
            d = abs(pt.x() - pos.x()) + abs(pt.y() - pos.y())
            if d < best_d:
                best, best_d = uid, d
    return best

"""The incident heatmap (事件热力): where incidents were reported over the last hours.

Density is counted at a quarter of the map's resolution (at most 480 × 270 cells), blurred (three box passes: close
to a Gaussian, in numpy), coloured from transparent through amber to red and white, and
drawn scaled up under the incident markers. It follows the view at once (a pan must not
leave the heat behind) and new incidents at most once a second. Closed incidents count too:
the heat is where things happened, not what is open now.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from PySide6.QtGui import QImage

from wallclient.protocol import epoch

HEAT_HOURS = 4.0  # incidents reported this far back make the heat
QUARTER = 4  # the density grid is this many times coarser than the map's pixels …
GRID_MAX = (480, 270)  # … and no larger than this (a 4K map: eight times; ~9 ms a picture)
REFRESH_S = 1.0  # new incidents change the heat at most this often
SPREAD_PX = 22.0  # how far one incident's warmth reaches on the screen (full pixels, scale 1)
FULL_AT = 4.0  # this many incidents on one spot make the hottest colour
# colour stops: (density 0…1, red, green, blue, alpha)
STOPS = ((0.0, 245, 176, 65, 0), (0.25, 245, 176, 65, 90), (0.6, 231, 76, 60, 170), (1.0, 255, 236, 210, 215))


# report times read once (10,000 incidents: ~30 ms); those of incidents no longer held
# let go of (a busy feed brings ~100,000 new ones a day: kept, ~15 MB a day)
_REPORTED: dict[str, float | None] = {}
_UNKNOWN = -1.0


def points(incidents: Iterable[dict[str, Any]], now: float, hours: float = HEAT_HOURS,
           covers: Any = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Longitudes and latitudes of the incidents reported within ``hours`` of ``now`` (in
    the area ``covers`` accepts, if given)."""
    lons: list[float] = []
    lats: list[float] = []
    since = now - hours * 3600
    incidents = list(incidents)
    if len(_REPORTED) > 2 * len(incidents) + 1024:  # only what incidents still held say
        keep = {str(inc.get("reported_at") or "") for inc in incidents}
        for text in _REPORTED.keys() - keep:
            del _REPORTED[text]
    for inc in incidents:
        loc = inc.get("location")
        text = str(inc.get("reported_at") or "")
        t = _REPORTED.get(text, _UNKNOWN)
        if t is _UNKNOWN:
            t = _REPORTED[text] = epoch(text)
        if not isinstance(loc, dict) or t is None or not since <= t <= now + 60:
            continue
        if covers is not None and not covers(inc.get("region")):
            continue
        try:
            lon, lat = float(loc["lon"]), float(loc["lat"])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(lon) and math.isfinite(lat):
            lons.append(lon)
            lats.append(lat)
    return np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)


def _box(a: np.ndarray, r: int, axis: int) -> np.ndarray:
    """A box blur of radius ``r`` along ``axis`` (same size out, edges as zeros)."""
    if r <= 0:
        return a
    b = a if axis == 1 else a.T
    c = np.cumsum(np.pad(b, [(0, 0), (r + 1, r)]), axis=1, dtype=np.float32)
    n = b.shape[1]
    out = (c[:, 2 * r + 1 : 2 * r + 1 + n] - c[:, :n]) * np.float32(1.0 / (2 * r + 1))
    return out if axis == 1 else out.T


def density(xs: np.ndarray, ys: np.ndarray, w: int, h: int, spread: float) -> np.ndarray:
    """Counts at grid cells (``xs``, ``ys`` in grid units), blurred to ``spread`` cells;
    1.0 is FULL_AT incidents on one spot."""
    grid = np.zeros((h, w), dtype=np.float32)
    inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    if inside.any():
        np.add.at(grid, (ys[inside].astype(np.intp), xs[inside].astype(np.intp)), 1.0)
    r = max(1, round(spread / 1.7))  # three passes of a box of radius r ≈ a Gaussian of σ ≈ r
    for _ in range(3):
        grid = _box(_box(grid, r, 0), r, 1)
    box = np.ones(2 * r + 1) / (2 * r + 1)
    peak = float(np.convolve(np.convolve(box, box), box).max()) ** 2  # one incident's centre
    scaled: np.ndarray = np.clip(grid / (peak * FULL_AT), 0.0, 1.0)
    return scaled


def _ramp() -> np.ndarray:
    """The colour of each of 256 density steps, premultiplied BGRA."""
    d = np.linspace(0.0, 1.0, 256)
    at = [st[0] for st in STOPS]
    r, g, b, a = (np.interp(d, at, [st[i] for st in STOPS]) for i in (1, 2, 3, 4))
    k = a / 255.0
    return np.stack([b * k, g * k, r * k, a], axis=-1).astype(np.uint8)


RAMP = _ramp()


def colourise(d: np.ndarray) -> np.ndarray:
    """Density 0…1 → premultiplied BGRA (little-endian ARGB32_Premultiplied) bytes."""
    out: np.ndarray = RAMP[(np.clip(d, 0.0, 1.0) * 255).astype(np.uint8)]
    return out


def pixels(xs: np.ndarray, ys: np.ndarray, w: int, h: int, spread: float) -> np.ndarray:
    """The heat's picture as premultiplied BGRA rows (numpy alone: made on the heat's own
    thread, which numpy's array loops let run beside the GUI thread)."""
    return np.ascontiguousarray(colourise(density(xs, ys, w, h, spread)))


_maker: Any = None  # one thread makes every map's heat, one picture after another
Made = tuple[np.ndarray, float]  # the picture's rows, and the seconds its making took


def _timed(*args: Any) -> Made:
    started = time.perf_counter()
    return pixels(*args), time.perf_counter() - started


def _submit(*args: Any) -> Future[Made]:
    global _maker
    if _maker is None:
        _maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="map-heat")
    future: Future[Made] = _maker.submit(_timed, *args)
    return future


class HeatLayer:
    """The heat picture of one map panel, remade when its view or its data version changes
    (the map moves that on at most once a second, REFRESH_S).

    The picture is made on a thread of its own (``start`` … ``finish``): the blur of a
    4K map's grid is ~9 ms alone, and 50–150 ms of the GUI thread on a loaded wall PC. The
    incidents are read on the GUI thread (the state is the GUI thread's), numbers only go
    across."""

    def __init__(self) -> None:
        self.image: QImage | None = None
        self.count = 0  # incidents in the heat
        self.made_ms = 0.0  # how long the last picture took (the GUI's part and the making)
        self.factor = QUARTER  # the map's pixels per cell of the last picture
        self._shows: Any = None  # (view key, data version) of ``image``
        self._points_version: Any = None
        self._points: tuple[np.ndarray, np.ndarray] | None = None
        self._job: tuple[Any, Any, int, int, int, int, float, Future[Made]] | None = None

    def start(self, view_key: Any, data_version: Any, make_points: Any, project: Any,
              size: tuple[int, int], scale: float) -> Future[Made] | None:  # fmt: skip
        """Begin the heat for this view (None: the picture shows it already; else the
        job, for ``finish``): ``make_points()`` gives (lons, lats), ``project(lons,
        lats)`` full-resolution screen (xs, ys) arrays; ``size`` the panel's pixels."""
        if self.image is not None and self._shows == (view_key, data_version):
            return None
        job = self._job
        if job is not None and job[0] == view_key and job[1] == data_version:
            return job[-1]
        if job is not None:
            job[-1].cancel()  # (one not begun yet; one under way is let finish, unused)
        started = time.perf_counter()
        if self._points is None or data_version != self._points_version:
            self._points = make_points()  # (a view change only projects them again)
            self._points_version = data_version
        lons, lats = self._points
        k = max(QUARTER, math.ceil(size[0] / GRID_MAX[0]), math.ceil(size[1] / GRID_MAX[1]))
        w, h = max(1, size[0] // k), max(1, size[1] // k)
        xs, ys = project(lons, lats)
        future = _submit(xs / k, ys / k, w, h, SPREAD_PX * scale / k)
        gui_s = time.perf_counter() - started
        self._job = (view_key, data_version, k, w, h, len(lons), gui_s, future)
        return future

    def finish(self, future: Future[Made]) -> QImage | None:
        """The picture of a job ``start`` began (waiting for it if it is not made yet)."""
        job = self._job
        if job is None or job[-1] is not future:
            return self.image  # a job since replaced: the picture is the newer one's
        view_key, version, k, w, h, count, gui_s, _ = job
        self._job = None
        data, making_s = future.result()
        started = time.perf_counter()
        self.image = QImage(data.data, w, h, w * 4, QImage.Format.Format_ARGB32_Premultiplied).copy()
        self.factor, self.count, self._shows = k, count, (view_key, version)
        self.made_ms = (gui_s + making_s + time.perf_counter() - started) * 1000
        return self.image

"""Web Mercator and the Chinese datum, without Qt or files.

- Web Mercator (EPSG:3857) as the slippy-map tiles use it: ``world(lon, lat)`` gives a
  point in [0, 1) × [0, 1) of the whole world (x east, y south); at zoom ``z`` a tile of
  ``size`` pixels covers ``1 / 2**z`` of it. ``tiles_for`` lists the tiles a view needs.
- GCJ-02 (国测局坐标, "Mars coordinates"): what 高德 and 腾讯 tiles are drawn in, offset from
  WGS-84 by up to ~500 m in China. ``wgs_to_gcj`` is the published forward transform;
  ``gcj_to_wgs`` inverts it by fixed-point iteration (to well under a millimetre). Outside
  China the two are the same.

The protocol's geometry is WGS-84: overlays are converted once, at load, when the
basemap is GCJ-02, and a click on such a map is converted back before anything uses it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

MAX_LAT = 85.05112878  # Web Mercator's edge


def world(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 (or whatever datum the tiles use) → Web Mercator world units [0, 1)."""
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    x = (lon + 180.0) / 360.0
    s = math.sin(math.radians(lat))
    y = 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)
    return x, y


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Web Mercator world units → (lon, lat)."""
    lon = x * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))
    return lon, lat


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The tile (x, y) holding a point at zoom ``z`` (XYZ: y counts down from the north)."""
    x, y = world(lon, lat)
    n = 1 << z
    return min(n - 1, max(0, int(x * n))), min(n - 1, max(0, int(y * n)))


def tile_box(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """A tile's (west, south, east, north) in degrees."""
    n = 1 << z
    west, north = lonlat(x / n, y / n)
    east, south = lonlat((x + 1) / n, (y + 1) / n)
    return west, south, east, north


def zoom_for(px_per_world: float, tile_size: int = 256) -> float:
    """The (fractional) zoom at which the world is ``px_per_world`` pixels wide."""
    return math.log2(max(1e-9, px_per_world / tile_size))


def tiles_for(
    x0: float, y0: float, x1: float, y1: float, z: int, ring: int = 0
) -> Iterator[tuple[int, int]]:
    """The tiles at zoom ``z`` covering world rectangle [x0, x1] × [y0, y1], plus ``ring``
    tiles around it (fetched ahead), nearest the centre first."""
    n = 1 << z
    tx0, tx1 = int(math.floor(x0 * n)) - ring, int(math.floor(x1 * n)) + ring
    ty0, ty1 = int(math.floor(y0 * n)) - ring, int(math.floor(y1 * n)) + ring
    cx, cy = (tx0 + tx1) / 2, (ty0 + ty1) / 2
    cells = [(tx, ty) for tx in range(tx0, tx1 + 1) for ty in range(max(0, ty0), min(n - 1, ty1) + 1)]
    cells.sort(key=lambda c: (c[0] - cx) ** 2 + (c[1] - cy) ** 2)
    for tx, ty in cells:
        yield tx % n, ty  # the world wraps east–west


# --- GCJ-02 --------------------------------------------------------------------------------

_A = 6378245.0  # Krasovsky 1940, as the transform has it
_EE = 0.00669342162296594323


def in_china(lon: float, lat: float) -> bool:
    """The rough box the transform applies in (elsewhere GCJ-02 is WGS-84)."""
    return 72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271


def _dlat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _dlon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 → GCJ-02 (the published transform)."""
    if not in_china(lon, lat):
        return lon, lat
    dlat = _dlat(lon - 105.0, lat - 35.0)
    dlon = _dlon(lon - 105.0, lat - 35.0)
    rad = math.radians(lat)
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def gcj_to_wgs(lon: float, lat: float, tolerance: float = 1e-10) -> tuple[float, float]:
    """GCJ-02 → WGS-84: the point whose forward transform is this one (fixed-point
    iteration; the offset varies slowly, so a few rounds reach ~1e-10°, ~0.01 mm)."""
    if not in_china(lon, lat):
        return lon, lat
    wlon, wlat = lon, lat
    for _ in range(30):
        glon, glat = wgs_to_gcj(wlon, wlat)
        dlon, dlat = glon - lon, glat - lat
        wlon, wlat = wlon - dlon, wlat - dlat
        if abs(dlon) < tolerance and abs(dlat) < tolerance:
            break
    return wlon, wlat

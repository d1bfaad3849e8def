"""What a map shows, and where a point of the ground falls on it (no Qt: the map's layers,
its gestures and the tests share this one object).

The map draws longitude and latitude linearly, a degree of longitude ``cos(φ₀)`` times a
degree of latitude, φ₀ the middle of the scope: across a district (40 km) that differs
from Web Mercator by less than a pixel in a thousand, and a basemap's tiles are placed by
their corners through the same projection (panels.map.basemap), so tiles and markers
agree. A view is immutable: a pan or a zoom makes a new one, and a picture drawn for an
old one can be moved onto the new one (``moved_from``) while its layers are redrawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Box = tuple[float, float, float, float]  # west, south, east, north (degrees)

M_PER_DEG = 111_195.0  # metres per degree of latitude (mean Earth radius)


@dataclass(frozen=True)
class Viewport:
    lon: float  # the centre
    lat: float
    k: float  # pixels per degree of latitude
    kx: float  # cos φ₀: a degree of longitude is kx · k pixels
    width: int
    height: int

    @classmethod
    def fitting(
        cls,
        box: Box,
        width: int,
        height: int,
        margin: float = 0.0,
        zoom: float = 1.0,
        centre: tuple[float, float] | None = None,
    ) -> Viewport:
        """The view that shows ``box`` whole inside ``margin`` pixels, ``zoom`` times
        closer, centred on ``centre`` (default: the box's centre)."""
        west, south, east, north = box
        kx = math.cos(math.radians((south + north) / 2))
        w, h = max(1.0, width - 2 * margin), max(1.0, height - 2 * margin)
        fit = min(w / (max(east - west, 1e-6) * kx), h / max(north - south, 1e-6))
        lon, lat = centre or ((west + east) / 2, (south + north) / 2)
        return cls(lon, lat, fit * zoom, kx, width, height)

    @property
    def key(self) -> tuple[int, int, float, float, float, float]:
        """Equal for views that draw the same picture (rounded past what a pixel shows)."""
        return (self.width, self.height, round(self.lon, 9), round(self.lat, 9),
                round(self.k, 6), round(self.kx, 9))  # fmt: skip

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            self.width / 2 + (lon - self.lon) * self.kx * self.k,
            self.height / 2 - (lat - self.lat) * self.k,
        )

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        return (
            self.lon + (x - self.width / 2) / (self.kx * self.k),
            self.lat - (y - self.height / 2) / self.k,
        )

    def box(self, pad_px: float = 0.0) -> Box:
        """The ground in view (and ``pad_px`` around it)."""
        west, south = self.lonlat(-pad_px, self.height + pad_px)
        east, north = self.lonlat(self.width + pad_px, -pad_px)
        return west, south, east, north

    def world_px(self) -> float:
        """How many pixels wide the whole world (360°) is at this view."""
        return 360.0 * self.k * self.kx

    def px(self, metres: float) -> float:
        """How many pixels ``metres`` of ground span at this view."""
        return metres / M_PER_DEG * self.k

    def panned(self, dx: float, dy: float) -> Viewport:
        """The view with the ground moved by (dx, dy) pixels."""
        return Viewport(self.lon - dx / (self.kx * self.k), self.lat + dy / self.k,
                        self.k, self.kx, self.width, self.height)  # fmt: skip

    def moved_from(self, old: Viewport) -> tuple[float, float, float] | None:
        """Where a picture drawn for ``old`` goes in this view: (scale, dx, dy), a pixel
        (x, y) of it landing at (scale·x + dx, scale·y + dy); None when no such move
        exists (another scope's proportions)."""
        if abs(old.kx - self.kx) > 1e-9 or old.k <= 0:
            return None
        s = self.k / old.k
        x0, y0 = self.xy(*old.lonlat(0.0, 0.0))
        return s, x0, y0

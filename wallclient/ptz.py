"""Steering cameras (云台), the pure part: where a PTZ camera must turn to look at a spot.

Bearings are geodesic on the WGS-84 ellipsoid (Vincenty's inverse formula: the initial
azimuth from the camera to the spot, well under 0.01° from a reference geodesic at the
distances a wall works at); the tilt comes from the camera's mounting height
(``height_m``) and the distance; the zoom frames about ``FRAME_M`` of scene at that
distance. ``point_here`` picks the online PTZ cameras within a radius and aims each.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

A = 6378137.0  # WGS-84 semi-major axis (m)
F = 1 / 298.257223563
B = A * (1 - F)
FRAME_M = 40.0  # what a pointed camera should frame across, at the spot
MAX_ZOOM = 30.0
DEFAULT_WIDE_FOV = 60.0  # a PTZ camera's field of view at zoom 1 when it does not say


def inverse(lon1: float, lat1: float, lon2: float, lat2: float) -> tuple[float, float]:
    """(distance in metres, initial bearing in degrees clockwise from north) from point 1
    to point 2 on the WGS-84 ellipsoid — Vincenty (1975), iterated to 1e-12 rad. Nearly
    antipodal points (never on one wall's map) fall back to the last iterate."""
    if lon1 == lon2 and lat1 == lat2:
        return 0.0, 0.0
    L = math.radians(lon2 - lon1)
    U1 = math.atan((1 - F) * math.tan(math.radians(lat1)))
    U2 = math.atan((1 - F) * math.tan(math.radians(lat2)))
    sinU1, cosU1, sinU2, cosU2 = math.sin(U1), math.cos(U1), math.sin(U2), math.cos(U2)
    lam = L
    for _ in range(200):
        sin_lam, cos_lam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(cosU2 * sin_lam, cosU1 * sinU2 - sinU1 * cosU2 * cos_lam)
        if sin_sigma == 0:
            return 0.0, 0.0
        cos_sigma = sinU1 * sinU2 + cosU1 * cosU2 * cos_lam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = cosU1 * cosU2 * sin_lam / sin_sigma
        cos2_alpha = 1 - sin_alpha**2
        cos_2sm = cos_sigma - 2 * sinU1 * sinU2 / cos2_alpha if cos2_alpha else 0.0
        C = F / 16 * cos2_alpha * (4 + F * (4 - 3 * cos2_alpha))
        prev = lam
        lam = L + (1 - C) * F * sin_alpha * (
            sigma + C * sin_sigma * (cos_2sm + C * cos_sigma * (-1 + 2 * cos_2sm**2))
        )
        if abs(lam - prev) < 1e-12:
            break
    u2 = cos2_alpha * (A**2 - B**2) / B**2
    big_a = 1 + u2 / 16384 * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)))
    big_b = u2 / 1024 * (256 + u2 * (-128 + u2 * (74 - 47 * u2)))
    d_sigma = big_b * sin_sigma * (
        cos_2sm
        + big_b / 4 * (cos_sigma * (-1 + 2 * cos_2sm**2)
                       - big_b / 6 * cos_2sm * (-3 + 4 * sin_sigma**2) * (-3 + 4 * cos_2sm**2))
    )  # fmt: skip
    dist = B * big_a * (sigma - d_sigma)
    az = math.atan2(cosU2 * math.sin(lam), cosU1 * sinU2 - sinU1 * cosU2 * math.cos(lam))
    return dist, math.degrees(az) % 360


@dataclass(frozen=True, slots=True)
class Aim:
    """Where one camera is sent: its ``ptz.absolute`` and how far the spot is."""

    camera: str
    pan_deg: float
    tilt_deg: float | None
    zoom: float | None
    distance_m: float

    def command(self) -> dict[str, Any]:
        out: dict[str, Any] = {"camera": self.camera, "pan_deg": round(self.pan_deg, 3)}
        if self.tilt_deg is not None:
            out["tilt_deg"] = round(self.tilt_deg, 2)
        if self.zoom is not None:
            out["zoom"] = round(self.zoom, 2)
        return out


def wide_fov(cam: Mapping[str, Any]) -> float:
    """A PTZ camera's horizontal field of view at zoom 1, from its state where it says."""
    st = cam.get("ptz_state") or {}
    try:
        fov, zoom = float(st["fov_deg"]), float(st["zoom"])
    except (KeyError, TypeError, ValueError):
        return DEFAULT_WIDE_FOV
    return fov * zoom if fov > 0 and zoom >= 1 else DEFAULT_WIDE_FOV


def aim(cam_id: str, cam: Mapping[str, Any], lon: float, lat: float) -> Aim | None:
    """The move that points ``cam`` at (lon, lat), None if it has no location."""
    loc = cam.get("location")
    if not isinstance(loc, Mapping):
        return None
    dist, bearing = inverse(float(loc["lon"]), float(loc["lat"]), lon, lat)
    height = cam.get("height_m")
    tilt = None
    if isinstance(height, int | float) and not isinstance(height, bool) and height > 0:
        tilt = -math.degrees(math.atan2(float(height), max(dist, 1.0)))
    want = math.degrees(2 * math.atan2(FRAME_M / 2, max(dist, 1.0)))  # the field of view wanted
    zoom = max(1.0, min(MAX_ZOOM, wide_fov(cam) / want))
    return Aim(cam_id, bearing, tilt, zoom, dist)


def candidates_box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box sure to hold every point within ``radius_m`` (for a grid lookup)."""
    dlat = radius_m / 110_574 * 1.01
    dlon = radius_m / (111_320 * max(0.01, math.cos(math.radians(lat)))) * 1.01
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def point_here(
    cameras: Mapping[str, Mapping[str, Any]],
    candidates: Iterable[str],
    lon: float,
    lat: float,
    radius_m: float,
) -> list[Aim]:
    """Every online PTZ camera among ``candidates`` within ``radius_m`` of the spot,
    aimed at it, nearest first."""
    out = []
    for cid in candidates:
        cam = cameras.get(cid)
        if cam is None or not cam.get("ptz") or cam.get("status") != "online":
            continue
        a = aim(cid, cam, lon, lat)
        if a is not None and a.distance_m <= radius_m:
            out.append(a)
    out.sort(key=lambda a: (a.distance_m, a.camera))
    return out


def speeds(dx: float, dy: float, dead: float = 0.05) -> tuple[float, float]:
    """A drag's offset from where it began, as a fraction of the picture's half-size
    (right and up positive), to pan and tilt speeds in −1…1 (a small dead zone; the
    speed grows with the distance, gently at first for fine aiming)."""

    def one(v: float) -> float:
        m = min(1.0, abs(v))
        if m < dead:
            return 0.0
        return math.copysign(round(((m - dead) / (1 - dead)) ** 1.5, 3), v)

    return one(dx), one(dy)

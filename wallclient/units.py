"""Units on the move (处置力量): body cameras, drones, patrol cars, grid workers, pump trucks.

``Tracks`` keeps where each unit has been — the last ``keep_s`` (2 h) in memory, for the
map's fading track and for looking back — and decides which reported positions are
believed: a position that is malformed, out of range, older than the unit's last one or
a jump no vehicle makes is counted and dropped, never drawn. Pure Python.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Any

from wallclient.geo import distance_m

KINDS = ("body_cam", "drone", "patrol_car", "grid_worker", "pump_truck")
KEEP_S = 2 * 3600.0  # positions kept per unit (config-free: docs/map.md)
TRACK_S = 30 * 60.0  # the map draws this much of a unit's track
MAX_SPEED_MS = 90.0  # ~320 km/h: faster than this between two fixes is a bad fix
MIN_STEP_S = 10.0  # a unit's track keeps one fix per this many seconds (2,000 units: ~1 M fixes)


@dataclass
class Dropped:
    malformed: int = 0
    out_of_range: int = 0
    out_of_order: int = 0
    jumps: int = 0

    def total(self) -> int:
        return self.malformed + self.out_of_range + self.out_of_order + self.jumps


@dataclass
class Tracks:
    keep_s: float = KEEP_S
    points: dict[str, deque[tuple[float, float, float]]] = field(default_factory=dict)  # (t, lon, lat)
    dropped: Dropped = field(default_factory=Dropped)
    last: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # the newest fix

    def accept(self, uid: str, t: float, pos: Any) -> tuple[float, float] | None:
        """(lon, lat) when the position is believed (and kept), else None (counted)."""
        if not isinstance(pos, dict):
            self.dropped.malformed += 1
            return None
        lon, lat = pos.get("lon"), pos.get("lat")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                   for v in (lon, lat)):  # fmt: skip
            self.dropped.malformed += 1
            return None
        assert isinstance(lon, int | float) and isinstance(lat, int | float)
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            self.dropped.out_of_range += 1
            return None
        last = self.last.get(uid)
        if last is not None:
            last_t, last_lon, last_lat = last
            if t < last_t:
                self.dropped.out_of_order += 1
                return None
            if distance_m(last_lon, last_lat, lon, lat) / max(t - last_t, 1.0) > MAX_SPEED_MS:
                self.dropped.jumps += 1
                return None
        self.last[uid] = (t, float(lon), float(lat))
        track = self.points.setdefault(uid, deque())
        if not track or t - track[-1][0] >= MIN_STEP_S:  # the track thins to one fix a step
            track.append((t, float(lon), float(lat)))
            self._trim(track, t)
        return float(lon), float(lat)

    def _trim(self, track: deque[tuple[float, float, float]], now: float) -> None:
        while track and track[0][0] < now - self.keep_s:
            track.popleft()

    def track(self, uid: str, since: float) -> list[tuple[float, float, float]]:
        return [p for p in self.points.get(uid, ()) if p[0] >= since]

    def forget(self, uid: str) -> None:
        self.points.pop(uid, None)
        self.last.pop(uid, None)


def decimate(points: list[tuple[float, float]], min_step: float) -> list[tuple[float, float]]:
    """Drop points closer than ``min_step`` (screen pixels) to the last one kept: a track
    of hundreds of fixes is drawn with a few dozen."""
    if not points:
        return []
    out = [points[0]]
    for x, y in points[1:-1]:
        if abs(x - out[-1][0]) + abs(y - out[-1][1]) >= min_step:
            out.append((x, y))
    if len(points) > 1:
        out.append(points[-1])
    return out


_TIME = itemgetter(0)  # a fix's time (t, lon, lat)
PAST_FIX_S = 5 * 60.0  # a unit whose last fix before a moment is older than this was not known then


class FixesUntil:
    """Each unit's fixes of the TRACK_S up to a moment (``points.get(uid)``, as
    ``Tracks.points``), worked out when asked for: the map draws the tracks of a replay's
    moment from these."""

    def __init__(self, tracks: Tracks, t: float) -> None:
        self._tracks, self._t = tracks, t
        self._got: dict[str, list[tuple[float, float, float]]] = {}
        self.points = self

    def get(self, uid: str) -> list[tuple[float, float, float]] | None:
        got = self._got.get(uid)
        if got is None:
            points = self._tracks.points.get(uid)
            if not points:
                return None
            lo = bisect.bisect_left(points, self._t - TRACK_S, key=_TIME)
            hi = bisect.bisect_right(points, self._t, key=_TIME)
            got = self._got[uid] = list(islice(points, lo, hi))
        return got or None


def units_at(units: dict[str, Any], tracks: Tracks, t: float) -> tuple[dict[str, Any], FixesUntil]:
    """The units as the map showed them at ``t`` (a replay's clock): each one with a fix
    at most PAST_FIX_S before it, at that fix, heading along its last step; its status of
    then is not kept anywhere, so it has none (drawn as unknown, never as today's)."""
    out: dict[str, Any] = {}
    for uid, unit in units.items():
        points = tracks.points.get(uid)
        if not points:
            continue
        i = bisect.bisect_right(points, t, key=_TIME)  # (a deque: ~10 block walks, not a scan)
        if i == 0 or points[i - 1][0] < t - PAST_FIX_S:
            continue
        fix, before = points[i - 1], (points[i - 2] if i >= 2 else None)
        where: dict[str, Any] = {"lon": fix[1], "lat": fix[2]}
        if before is not None and (before[1], before[2]) != (fix[1], fix[2]):
            dx = (fix[1] - before[1]) * math.cos(math.radians(fix[2]))
            where["heading"] = math.degrees(math.atan2(dx, fix[2] - before[2])) % 360
        out[uid] = {**unit, "location": where, "status": None}
    return out, FixesUntil(tracks, t)


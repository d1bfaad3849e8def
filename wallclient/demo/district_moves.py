"""How the demo's units move: each keeps a heading for a while at its kind's speed, turns
now and then, and turns back at the district's edge (it never leaves the outline)."""

from __future__ import annotations

import math
import random
from typing import Any

from wallclient.geo import inside

SPEED_MS = {"grid_worker": 1.4, "body_cam": 1.4, "patrol_car": 9.0, "pump_truck": 7.0, "drone": 12.0}
M_PER_DEG = 111_320.0




def head_for(unit: dict[str, Any], dt: float, to: dict[str, Any]) -> None:
    """Move a dispatched ``unit`` straight towards ``to`` at its kind's speed (×1.5: it
    hurries), stopping on it."""
    loc = unit["location"]
    speed = SPEED_MS.get(unit["kind"], 3.0) * 1.5
    dy = (to["lat"] - loc["lat"]) * M_PER_DEG
    dx = (to["lon"] - loc["lon"]) * M_PER_DEG * math.cos(math.radians(loc["lat"]))
    dist = math.hypot(dx, dy)
    step = min(dist, speed * dt)
    if dist > 0:
        loc["lat"] = round(loc["lat"] + dy / dist * step / M_PER_DEG, 6)
        loc["lon"] = round(loc["lon"] + dx / dist * step / (M_PER_DEG * math.cos(math.radians(loc["lat"]))), 6)
        loc["heading"] = round(math.degrees(math.atan2(dx, dy)) % 360, 1)
    loc["speed"] = round(speed, 1)


def step_unit(unit: dict[str, Any], dt: float, outline: list[tuple[float, float]], rng: random.Random) -> None:
    """Move ``unit`` (its ``location`` dict) ``dt`` seconds on."""
    loc = unit["location"]
    speed = SPEED_MS.get(unit["kind"], 3.0) * rng.uniform(0.7, 1.1)
    heading = float(loc.get("heading") or 0.0)
    if rng.random() < 0.08:  # a turn at a corner
        heading = (heading + rng.choice((-90.0, 90.0, 180.0)) + rng.uniform(-10, 10)) % 360
    for _ in range(6):
        d = speed * dt
        rad = math.radians(heading)
        lat = loc["lat"] + d * math.cos(rad) / M_PER_DEG
        lon = loc["lon"] + d * math.sin(rad) / (M_PER_DEG * math.cos(math.radians(loc["lat"])))
        if inside(outline, lon, lat):
            loc["lon"], loc["lat"] = round(lon, 6), round(lat, 6)
            break
        heading = (heading + rng.uniform(90, 270)) % 360  # the edge: turn back inward
    loc["heading"], loc["speed"] = round(heading, 1), round(speed, 1)

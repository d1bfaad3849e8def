"""Nearest online cameras to an incident among 77,000 (issue 6 budget: ≤ 1 ms).

    .venv/bin/python bench/geo.py [--cameras 77000] [--queries 2000]

Builds the demo district's catalogue, indexes it (``CameraGrid``), then times
``nearest(…, 3, online)`` for incidents placed as the reference backend places
them, and the same by brute force for comparison. Prints p50/p99/max in ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

from wallclient.demo.district import District
from wallclient.geo import CameraGrid, location, nearest_brute


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, default=77_000)
    ap.add_argument("--queries", type=int, default=2000)
    a = ap.parse_args()
    d = District(seed=4, cameras_n=a.cameras)
    t = time.perf_counter()
    grid = CameraGrid()
    grid.rebuild(d.cameras)
    build_ms = (time.perf_counter() - t) * 1000
    at = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    points = [location(d.new_incident(at)) for _ in range(a.queries)]
    cams = d.cameras

    def online(c: str) -> bool:
        return cams[c]["status"] == "online"

    times = []
    for lon, lat in points:  # type: ignore[misc]
        t = time.perf_counter()
        grid.nearest(lon, lat, 3, accept=online)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    brute = []
    for lon, lat in points[:20]:  # type: ignore[misc]
        t = time.perf_counter()
        nearest_brute(cams, lon, lat, 3, online)
        brute.append((time.perf_counter() - t) * 1000)
    offline = sum(1 for c in cams.values() if c["status"] != "online")
    print(f"cameras {len(cams)} ({offline} offline), index built in {build_ms:.0f} ms")
    print(
        f"nearest 3 online: p50 {statistics.median(times):.3f} ms, "
        f"p99 {times[int(len(times) * 0.99)]:.3f} ms, max {times[-1]:.3f} ms "
        f"over {len(times)} queries"
    )
    print(f"brute force (every camera): p50 {statistics.median(brute):.1f} ms")


if __name__ == "__main__":
    main()

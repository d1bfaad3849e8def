"""Steering cameras, measured on the whole `wallclient run` against the reference
backend's virtual PTZ cameras (issue 17):

- move: ``ptz.move`` on the control API → the first decoded frame on the tile whose
  bearing strip differs from before (p50, p90, max), per route (painted offscreen,
  native under Xvfb) and per URL form (HTTP-TS, RTSP), on a 3 × 3 wall of 1920 × 1080
  with the other eight tiles playing;
- point: ``ptz.point`` with ~50 PTZ cameras within the radius, on the district-max
  catalogue (77,000 cameras): the client's own time (``client_ms``: the aiming and the
  burst handed to the connection);
- zoom: the whole process's CPU with every tile of the 3 × 3 wall digitally zoomed
  (×1.33, which keeps the sub stream) against the same tiles unzoomed, per route.

    .venv/bin/python bench/ptz.py [--runs 20] [--only move,point,zoom] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.replay import cpu_s, pct  # noqa: E402
from tests.e2e.test_ptz import LAYOUT, show, strip  # noqa: E402
from tests.helpers import DemoServer, WallProcess, live, start_xvfb, wait_for, write_layout  # noqa: E402


def _wall(tmp: Path, server: DemoServer, route: str, node: str, display: str | None) -> WallProcess:
    layout = write_layout(tmp, LAYOUT, f"{node}.json")
    return WallProcess(tmp, server.url, "tok-commander", "--layout", str(layout), node=node,
                       display=display if route == "native" else None)  # fmt: skip


def move(tmp: Path, runs: int, display: str) -> dict:
    server = DemoServer(tmp).start()
    out: dict = {}
    try:
        cams = server.admin("cameras")
        online = [c for c in cams if c["status"] == "online"]
        for form, prefix in (("http-ts", "http"), ("rtsp", "rtsp")):
            dome = next(c["id"] for c in online if c.get("ptz") and c["streams"]["sub"].startswith(prefix))
            others = [c["id"] for c in online if not c.get("ptz")][:8]
            show(server, [dome, *others])
            for route in ("painted", "native"):
                wall = _wall(tmp, server, route, f"{route}-{form}", display)
                with live(wall):
                    wait_for(lambda w=wall: sum(t["state"] == "playing" for t in w.status()["tiles"]) >= 9,
                             60, "nine tiles playing")  # fmt: skip
                    lat, sample = [], []
                    for k in range(runs):
                        before = wait_for(lambda w=wall: strip(w, tmp), 10, "a strip")
                        t0 = time.perf_counter()
                        wall.control.ok("ptz.move", camera=dome, pan=0.5 if k % 2 == 0 else -0.5, tilt=0, zoom=0)
                        t_sent = time.perf_counter()
                        while True:
                            t_look = time.perf_counter()
                            s = strip(wall, tmp)
                            if s is not None and abs((s[0] - before[0] + 180) % 360 - 180) >= 0.1:
                                lat.append((time.perf_counter() - t0) * 1000)
                                sample.append((time.perf_counter() - t_look) * 1000)
                                break
                            if time.perf_counter() - t0 > 5:
                                lat.append(5000.0)
                                break
                        wall.control.ok("ptz.stop", camera=dome)
                        _ = t_sent
                        time.sleep(1.2)
                    route_of = wall.status()["tiles"][0]["route"]
                out[f"{route}/{form}"] = {
                    "route": route_of, "p50_ms": round(statistics.median(lat)), "p90_ms": round(pct(lat, 0.9)),
                    "max_ms": round(max(lat)), "sample_ms_p50": round(statistics.median(sample)), "n": len(lat),
                }  # fmt: skip
                print(f"move {route}/{form}: {out[f'{route}/{form}']}", flush=True)
    finally:
        server.stop()
    return out


def point(tmp: Path, runs: int) -> dict:
    server = DemoServer(tmp, "--scale", "district-max").start()
    try:
        cams = server.admin("cameras")
        domes = [c for c in cams if c.get("ptz") and c["status"] == "online" and c.get("location")]
        # a spot with at least 50 domes around it: the densest dome's neighbourhood
        spot = domes[len(domes) // 2]["location"]

        def dist(c: dict) -> float:
            dx = (c["location"]["lon"] - spot["lon"]) * 111_320 * math.cos(math.radians(spot["lat"]))
            dy = (c["location"]["lat"] - spot["lat"]) * 110_574
            return math.hypot(dx, dy)

        radius = sorted(dist(c) for c in domes)[49] * 1.003 + 1
        wall = _wall(tmp, server, "painted", "point", None)
        with live(wall, seconds=120):
            time.sleep(10)  # the camera index of 77,000 is built over the first ticks
            ms, n = [], []
            for _ in range(runs):
                got = wall.control.ok("ptz.point", lon=spot["lon"] + 1e-5, lat=spot["lat"], radius_m=radius)
                ms.append(got["client_ms"])
                n.append(len(got["cameras"]))
                time.sleep(1.5)
        out = {"cameras": statistics.median(n), "radius_m": round(radius), "p50_ms": statistics.median(ms),
               "p90_ms": pct(ms, 0.9), "max_ms": max(ms), "catalogue": len(cams)}  # fmt: skip
        print(f"point: {out}", flush=True)
        return out
    finally:
        server.stop()


def zoom(tmp: Path, seconds: float, display: str) -> dict:
    server = DemoServer(tmp).start()
    out: dict = {}
    try:
        cams = [c["id"] for c in server.admin("cameras") if c["status"] == "online" and not c.get("ptz")
                and c["streams"]["sub"].startswith("http")][:9]  # fmt: skip
        show(server, cams)
        for route in ("painted", "native"):
            wall = _wall(tmp, server, route, f"zoom-{route}", display)
            with live(wall):
                wait_for(lambda w=wall: sum(t["state"] == "playing" for t in w.status()["tiles"]) >= 9,
                         60, "nine tiles playing")  # fmt: skip
                time.sleep(3)
                runs = {}
                for label, size in (("whole", None), ("zoomed", 0.75), ("whole-again", None)):
                    for i in range(9):
                        args = {"x": 0.125, "y": 0.125, "size": size} if size else {}
                        wall.control.ok("tile.zoom", tile=i, **args)
                    wait_for(lambda w=wall: all(t["state"] == "playing" and t["stream"] == "sub"
                                                for t in w.status()["tiles"][:9]), 30, "playing")  # fmt: skip
                    time.sleep(2)
                    pid = wall.proc.pid
                    c0, t0 = cpu_s([pid]), time.perf_counter()
                    time.sleep(seconds)
                    runs[label] = round((cpu_s([pid]) - c0) / (time.perf_counter() - t0) * 100, 1)
                    fps = [t["fps"] for t in wall.status()["tiles"][:9]]
                    runs[label + "_fps_min"] = min(fps)
                base = (runs["whole"] + runs["whole-again"]) / 2
                runs["ratio"] = round(runs["zoomed"] / base, 3)
                out[route] = runs
                print(f"zoom {route}: {runs}", flush=True)
    finally:
        server.stop()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--only", default="move,point,zoom")
    a = ap.parse_args()
    tmp = Path(f"/tmp/wallclient-ptz-{time.time():.0f}")
    tmp.mkdir()
    want = set(a.only.split(","))
    xvfb, display = start_xvfb(tmp)
    results: dict = {}
    try:
        if "move" in want:
            results["move"] = move(tmp, a.runs, display)
        if "point" in want:
            results["point"] = point(tmp, a.runs)
        if "zoom" in want:
            results["zoom"] = zoom(tmp, a.seconds, display)
    finally:
        xvfb.kill()
        xvfb.wait()
    print(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

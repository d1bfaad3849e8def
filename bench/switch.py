"""A commander's switch reaching several nodes of one wall (issue 5: within 200 ms of
each other). Starts the reference backend and N `wallclient run --offscreen` nodes (the
district 3×2 layout split over them), switches presets through node 1's control API
and reads, from every node, when it applied the resulting wall.state.

    .venv/bin/python bench/switch.py [--nodes 2] [--switches 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import DemoServer, WallProcess, wait_for  # noqa: E402

SPLITS = {1: ["wall-1,wall-2,wall-3,wall-4,wall-5,wall-6"], 2: ["wall-1,wall-2,wall-3", "wall-4,wall-5,wall-6"],
          4: ["wall-1,wall-2", "wall-3", "wall-4,wall-5", "wall-6"]}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=2, choices=sorted(SPLITS))
    ap.add_argument("--switches", type=int, default=20)
    a = ap.parse_args()
    tmp = Path(f"/tmp/wallclient-switch-{time.time():.0f}")
    tmp.mkdir()
    server = DemoServer(tmp, "--no-media").start()
    nodes = [WallProcess(tmp, server.url, "tok-commander", "--layout", str(ROOT / "layouts/district-3x2.json"),
                         "--screens", screens, node=f"n{i}") for i, screens in enumerate(SPLITS[a.nodes])]  # fmt: skip
    spreads, latencies = [], []
    try:
        for n in nodes:
            n.start(wait=False)
        for n in nodes:
            wait_for(lambda n=n: n.control.reachable() and n.conn()["state"] == "live", 60, "live")
        presets = [p["id"] for p in server.admin("state")["presets"] if not p["emergency"]]
        for i in range(a.switches):
            target = presets[i % len(presets)]
            if nodes[0].status()["wall"]["preset"] == target:
                target = presets[(i + 1) % len(presets)]
            sent = time.time()
            nodes[0].control.ok("preset.activate", preset=target)
            wait_for(
                lambda t=target: all(n.status()["wall"]["preset"] == t for n in nodes),
                10,
                "applied",
            )
            applied = [n.status()["switch"]["wall_applied_at"] for n in nodes]
            spreads.append((max(applied) - min(applied)) * 1000)
            latencies.append((max(applied) - sent) * 1000)
            time.sleep(1.2)  # the backend's rate limit is 5 commands/s sustained
    finally:
        for n in nodes:
            n.stop()
        server.stop()
    spreads.sort()
    latencies.sort()
    print(f"{a.nodes} nodes, {len(spreads)} switches: spread between nodes p50 {statistics.median(spreads):.1f} ms, "
          f"max {spreads[-1]:.1f} ms; control call → last node applied p50 {statistics.median(latencies):.0f} ms, "
          f"max {latencies[-1]:.0f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

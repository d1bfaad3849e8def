"""Time on the wall, measured on the whole `wallclient run` (the district's six-screen
layout, offscreen) against the reference backend recording real segments (issue 15):

- replay command → first picture (p50, p99) — an instant replay on a tile;
- seek → the picture of that moment on every tile, and → the data panels painted with
  that moment, both timed by the wall itself (`status.replay.last_seek`, with the seek's
  tick: what it waited for, took, and each panel's part);
- live tiles' fps while three tiles replay at 1×;
- the three tiles' spread at 1× (60 s) and 4× (within the recording);
- export of 3 cameras × N minutes (default 5);
- the recorder's CPU and disk per camera.

    .venv/bin/python bench/replay.py [--minutes 5] [--runs 20] [--seeks 10] [--seeks-only]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.test_replay import recorded  # noqa: E402
from tests.helpers import DemoServer, WallProcess, wait_for  # noqa: E402
from wallclient.protocol import epoch  # noqa: E402
from wallclient.replay import rfc3339  # noqa: E402


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / 100  # utime + stime, clock ticks
        except OSError:
            pass
    return total


def recorder_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-f", "segment_list_type"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--seeks", type=int, default=10)
    ap.add_argument("--seeks-only", action="store_true",
                    help="skip the instant replays, the live fps and the 60-s spreads (while working on seeks)")
    a = ap.parse_args()
    tmp = Path(f"/tmp/wallclient-replay-{time.time():.0f}")
    tmp.mkdir()
    server = DemoServer(tmp, "--rate", "0.5", state=False, record=True).start()
    wall = WallProcess(tmp, server.url, "tok-commander", "--layout", str(ROOT / "layouts/district-3x2.json"))
    out: dict[str, object] = {}
    try:
        wall.start()
        wait_for(lambda: wall.conn()["state"] == "live", 60, "live")
        cams = [c for c in server.admin("cameras") if c["status"] == "online" and not c.get("ptz")]
        inc = server.admin("incident", priority=1, location=cams[10]["location"], fresh=True)["incident"]
        started = time.time()
        wait_for(lambda: len(server.admin("playback")["recording"]) >= 3, 60, "recording")
        pids = recorder_pids()
        cpu0, t0 = cpu_s(pids), time.monotonic()
        print(f"recording {len(pids)} cameras; waiting {a.minutes:g} min …", flush=True)
        time.sleep(max(30.0, a.minutes * 60 + 10))
        cpu = (cpu_s(pids) - cpu0) / (time.monotonic() - t0) / max(1, len(pids)) * 100
        du = subprocess.run(["du", "-sb", str(tmp / "recordings")], capture_output=True, text=True)
        per_cam_min = int(du.stdout.split()[0]) / max(1, len(list((tmp / "recordings").iterdir()))) / ((time.time() - started) / 60)
        out["recorder"] = {"cameras": len(pids), "cpu_pct_per_camera": round(cpu, 2),
                           "mb_per_camera_hour": round(per_cam_min * 60 / 1e6)}  # fmt: skip
        c = wall.control
        tiles = wall.status()["tiles"]
        live = [i for i, t in enumerate(tiles) if t["state"] == "playing" and t["camera"]]
        # 1. instant replay → first picture
        firsts = []
        for k in range(a.runs):
            i = live[k % min(6, len(live))]
            cam = tiles[i]["camera"]
            server.admin("playback", record=[cam])
        for k in range(min(6, len(live))):  # 20 s back must be recorded, not a gap
            recorded(server, tiles[live[k]]["camera"], 24)
        for k in range(0 if a.seeks_only else a.runs):
            i = live[k % min(6, len(live))]
            sent = time.monotonic()
            c.ok("replay.start", tile=i, seconds_back=20)
            wait_for(lambda i=i: (t := wall.status()["tiles"][i])["mode"] == "replay" and t["frames"] > 0
                     and not t["gap"], 10, "first picture")  # fmt: skip
            firsts.append(time.monotonic() - sent)
            c.ok("replay.stop", tile=i)
            time.sleep(0.5)
        print(json.dumps(out), flush=True)
        out["replay_first_picture_s"] = {} if a.seeks_only else {"p50": round(statistics.median(firsts), 3),
                                         "p99": round(pct(firsts, 0.99), 3), "n": len(firsts)}  # fmt: skip
        # 2. incident replay: seek → picture, seek → panels, live fps meanwhile
        got = c.ok("incident.replay", incident=inc["id"], before_s=0)
        replaying = [i for i, t in enumerate(wall.status()["tiles"]) if t["mode"] == "replay"]
        wait_for(lambda: all(wall.status()["tiles"][i]["frames"] > 0 for i in replaying), 20, "replaying")
        time.sleep(3)
        fps = []
        end = time.monotonic() + (0 if a.seeks_only else 10)
        while time.monotonic() < end:
            st = wall.status()["tiles"]
            fps += [t["fps"] for t in st if t["mode"] == "live" and t["state"] == "playing"]
            time.sleep(0.5)
        out["live_fps_while_3_replay"] = {} if a.seeks_only else {"min": min(fps), "median": statistics.median(fps),
                                          "replaying": len(replaying)}  # fmt: skip
        # the three tiles on one clock: their pictures' recorded times, 60 s at 1× and at 4×
        for speed in () if a.seeks_only else (1, 4):
            start = epoch(inc["reported_at"]) + 2
            c.ok("replay.control", speed=speed, seek=rfc3339(start))
            time.sleep(2)
            spreads, gaps = [], 0
            # within the recording: at 4× a 60-s window would run past its end (where the
            # tiles reach 无录像 one by one, which measures nothing of the clock)
            window = min(60.0, (time.time() - start - 5) / speed)
            end = time.monotonic() + window
            while time.monotonic() < end:
                st = wall.status()["tiles"]
                if any(st[i]["gap"] for i in replaying):
                    gaps += 1  # a tile says 无录像 (the recording's start or end): no picture to compare
                else:
                    pos = [epoch(st[i]["position"]) for i in replaying]
                    spreads.append((max(pos) - min(pos)) * 1000)
                time.sleep(0.2)
            out[f"spread_ms_{speed}x"] = {"seconds": round(window), "max": round(max(spreads)), "p99": round(pct(spreads, 0.99)),
                                              "p50": round(statistics.median(spreads)),
                                              "samples": len(spreads), "in_gap": gaps}  # fmt: skip
        c.ok("replay.control", speed=1)
        print(json.dumps(out), flush=True)
        # each seek timed by the wall itself (status.replay.last_seek): from the command to
        # every tile's picture, and every feed and indicator panel, at the new moment. Read
        # every 0.3 s: a console polling `status` twenty times a second would itself be a
        # load on the GUI thread that no operator's wall has (it was, in sessions 9–10)
        pictures: list[float] = []
        panels: list[float] = []
        reached: list[dict] = []  # each panel's own time (which one holds a seek up)
        reads: list[float | None] = []  # the cache read of the past (ms)
        ticks: list[dict] = []  # the seek's tick: waited for, took, each panel's part
        reported = epoch(inc["reported_at"])
        for k in range(a.seeks):
            target = reported + 10 + (k * 37) % max(20, int(a.minutes * 60) - 30) + 0.5
            c.ok("replay.control", paused=True)
            c.ok("replay.control", seek=rfc3339(target))
            deadline = time.monotonic() + 15
            while True:
                time.sleep(0.3)
                last = wall.status()["replay"]["last_seek"]
                if (last and abs(epoch(last["to"]) - target) < 0.01
                        and last["picture_ms"] is not None and last["panels_ms"] is not None):
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"seek {k}: not on the screen within 15 s: {last}")
            pictures.append(last["picture_ms"] / 1000)
            panels.append(last["panels_ms"] / 1000)
            reached.append(last.get("reached") or {})
            ticks.append(last.get("tick") or {})
            reads.append(c.ok("replay.past").get("read_ms"))
            time.sleep(1.0)  # an operator looks at the moment before the next seek
        out["seek_picture_s"] = {"p50": round(statistics.median(pictures), 3), "max": round(max(pictures), 3),
                                 "all": pictures}  # fmt: skip
        out["seek_panels_s"] = {"p50": round(statistics.median(panels), 3), "max": round(max(panels), 3),
                                "all": panels, "each_panel_ms": reached, "past_read_ms": reads,
                                "tick": ticks}  # fmt: skip
        c.ok("replay.stop")
        print(json.dumps(out), flush=True)
        # 3. export: the incident's cameras × N minutes
        sent = time.monotonic()
        exp = c.ok("export", incident=inc["id"], before_s=0, after_s=a.minutes * 60, dir=str(tmp / "evidence"))
        manifest = json.loads(Path(exp["manifest"]).read_text())
        clips = [f for f in manifest["files"] if f["kind"] == "clip"]
        out["export"] = {"seconds": round(time.monotonic() - sent, 2), "cameras": len(got["cameras"]),
                         "minutes": a.minutes, "clips": len(clips),
                         "mb": round(sum(f["bytes"] for f in clips) / 1e6)}  # fmt: skip
        print(json.dumps(out, indent=2, ensure_ascii=False))
    finally:
        wall.stop()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

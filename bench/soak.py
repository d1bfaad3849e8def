"""An accelerated day on the wall (issue 7): does it hold?

    .venv/bin/python bench/soak.py [--minutes 60] [--layout layouts/desk-dual.json]
        [--rate 20] [--out out/soak.json]

Real processes throughout: ``wallclient serve-demo`` (the reference backend and its
cameras, state persisted so a restart continues where it stopped) and ``wallclient run
--offscreen`` (commander token, the control API). During the run:

- the backend publishes incident events at ``--rate`` per second (20× its default 1/s)
  and indicators every 5 s; its live incidents settle around ``--live-cap`` (3,000), so
  the wall's data reaches a steady state and memory growth means a leak;
- a preset switch every 10 s through the wall's control API, an emergency/normal switch
  every 3 minutes;
- the backend is restarted every 5 minutes (terminated, started again on the same ports
  from its state file), the client resumes by itself;
- the cameras drop out for 20 s every 7 minutes (``media down``);
- every 30 s, and once near the end of each drop-out: the client's RSS, threads and open
  file descriptors (/proc), its log scanned for unhandled exceptions, its cache file's
  size and row counts.

The wall runs as deployed, with ``MALLOC_ARENA_MAX=2`` (the systemd unit sets it). At
the end the events stop, the client catches up, and its state is compared with the
backend's. Pass/fail per budget: after warm-up (the first 10 minutes) RSS grows ≤ 5 %,
fds do not grow, threads with no video playing do not grow (see ``judge``), no unhandled exception, the cache within its bounds, the
final state equal to the backend's. Leaves no process behind.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import DemoServer, WallProcess, free_port, run_cli, wait_for  # noqa: E402


def _proc(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {
        "rss_kb": int(fields["VmRSS"].split()[0]),
        "threads": int(fields["Threads"]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }


def _unhandled(log: Path) -> list[str]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [
        line
        for line in text.splitlines()
        if "unhandled" in line.lower() or line.startswith("Traceback")
    ]


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2]


def judge(
    samples: list[dict],
    warmup_min: float,
    problems: list[str],
    same: dict[str, bool],
    events: list[str],
) -> dict:
    """The budgets, on windows rather than single samples: the first and the last ten
    minutes after warm-up are compared (median RSS; the highest fd counts).

    Threads come and go with the video players — four tiles playing hold 18 to 37 threads
    depending on the streams and on where in its start a player is (a sample 0.5 s after
    a switch finds none "playing" yet and still 11–27 threads) — so a leak is looked for
    where no video plays: the samples taken while the cameras are down (``events``), every
    tile in "no signal", its player stopped. Their thread count is the wall's own and must not
    grow: the highest count of the later half of them is at most the earlier half's."""
    warm = [s for s in samples if s["t_min"] >= warmup_min] or samples
    span = max(1, len(warm) // 5)  # a fifth of the run at each end (10 minutes of 50)
    first, last = warm[:span], warm[-span:]
    rss0, rss1 = _median([s["rss_kb"] for s in first]), _median([s["rss_kb"] for s in last])
    growth = (rss1 - rss0) / rss0 * 100
    down = [float(e.split("s", 1)[0]) for e in events if e.endswith("cameras down")]
    quiet = [
        s["threads"]
        for s in warm
        if s["playing"] == 0 and any(0 <= s["t_min"] * 60 - t <= 20 for t in down)
    ]
    half = len(quiet) // 2
    quiet_ok = len(quiet) >= 2 and max(quiet[half:]) <= max(quiet[:half])
    return {
        "rss_mb_first_window": round(rss0 / 1024), "rss_mb_last_window": round(rss1 / 1024),
        "rss_growth_percent": round(growth, 1), "rss_max_mb": round(max(s["rss_kb"] for s in warm) / 1024),
        "threads_max_first_last": [max(s["threads"] for s in first), max(s["threads"] for s in last)],
        "threads_no_video": quiet,
        "fds_max_first_last": [max(s["fds"] for s in first), max(s["fds"] for s in last)],
        "cache_mb_first_last": [round(first[0]["cache_bytes"] / 2**20, 1), round(last[-1]["cache_bytes"] / 2**20, 1)],
        "pass": {
            "rss_growth_le_5_percent": growth <= 5,
            "threads_do_not_grow": quiet_ok,
            "fds_do_not_grow": max(s["fds"] for s in last) <= max(s["fds"] for s in first),
            "no_unhandled_exception": not problems,
            "final_state_equal": all(same.values()),
        },
    }  # fmt: skip


def main() -> int:
    # started in the background, SIGINT may be ignored: SIGTERM stops the soak cleanly
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=10, help="minutes before RSS is the baseline")
    ap.add_argument("--layout", default=str(ROOT / "layouts" / "desk-dual.json"))
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument(
        "--live-cap", type=int, default=3000, help="live incidents the backend settles around"
    )
    ap.add_argument("--out", default=str(ROOT / "out" / "soak.json"))
    ap.add_argument("--dir", default="")
    ap.add_argument("--judge", help="re-judge a saved report (its samples) and print it")
    a = ap.parse_args()
    if a.judge:
        saved = json.loads(Path(a.judge).read_text())
        verdict = judge(
            saved["samples"],
            a.warmup,
            saved.get("unhandled", []),
            saved["final_state_equal"],
            saved.get("events", []),
        )
        print(json.dumps(verdict, indent=1))
        return 0 if all(verdict["pass"].values()) else 1
    # as deployed (resources/systemd/wallclient.service): glibc's malloc arenas capped
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    tmp = Path(a.dir or f"/tmp/wallclient-soak-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    media, rtsp = free_port(), free_port()
    server = DemoServer(tmp, "--rate", str(a.rate), "--media-port", str(media), "--rtsp-port", str(rtsp),
                        "--live-cap", str(a.live_cap))  # fmt: skip
    wall = WallProcess(tmp, "", "tok-commander", "--layout", a.layout, node="soak")
    samples: list[dict[str, float]] = []
    events: list[str] = []
    started = time.monotonic()
    try:
        server.start()
        wall.args[wall.args.index("--server") + 1] = server.url
        wall.start()
        wait_for(lambda: wall.conn()["state"] == "live", 60, "live")
        presets = [p["id"] for p in server.admin("state")["presets"] if not p["emergency"]]
        emergency = [p["id"] for p in server.admin("state")["presets"] if p["emergency"]]
        end = started + a.minutes * 60
        n = 0
        next_sample = next_switch = next_mode = time.monotonic()
        next_restart = started + 300
        next_media = started + 420
        media_back: float | None = None
        quiet_taken = False
        in_emergency = False
        while time.monotonic() < end:
            now = time.monotonic()
            assert wall.proc is not None and wall.proc.poll() is None, "the wall process died"
            if now >= next_switch:
                next_switch = now + 10
                reply = wall.control("preset.activate", preset=presets[n % len(presets)])
                n += 1
                if not reply["ok"] and reply["error"]["code"] not in (
                    "offline",
                    "timeout",
                    "rate_limited",
                ):
                    events.append(f"{now - started:.0f}s switch refused: {reply['error']}")
            if now >= next_mode:
                next_mode = now + 180
                if in_emergency:
                    reply = wall.control("normal")
                else:
                    reply = wall.control("emergency", preset=emergency[n % len(emergency)])
                in_emergency = not in_emergency
                events.append(
                    f"{now - started:.0f}s {'emergency' if in_emergency else 'normal'}: {reply.get('ok')}"
                )
            if now >= next_restart:
                next_restart = now + 300
                server.stop()
                server.start()
                events.append(f"{now - started:.0f}s backend restarted")
            if now >= next_media and media_back is None:
                server.admin("media", mode="down")
                media_back = now + 20
                events.append(f"{now - started:.0f}s cameras down")
            if media_back is not None and now >= media_back - 3 and not quiet_taken:
                quiet_taken = True
                next_sample = now  # a sample with the cameras down: the wall's own threads
            if media_back is not None and now >= media_back:
                quiet_taken = False
                server.admin("media", mode="normal")
                media_back, next_media = None, now + 400
            if now >= next_sample:
                next_sample = now + 30
                st = wall.status()
                sample = {"t_min": round((now - started) / 60, 2), **_proc(wall.proc.pid),
                          "cache_bytes": wall.cache.stat().st_size,
                          "connection": st["connection"]["state"],
                          "playing": sum(1 for t in st["tiles"] if t["state"] == "playing"),
                          "tiles": len(st["tiles"]), "open": st["incidents"]["open"]}  # fmt: skip
                samples.append(sample)
                print(json.dumps(sample, ensure_ascii=False), flush=True)
            time.sleep(0.5)
        # the end: events stop, the client catches up, states compared
        server.admin("rate", rate=0)
        time.sleep(3)  # the last switch's wall.state, already on its way
        head = server.admin("head")["seq"]
        wait_for(
            lambda: wall.conn()["state"] == "live" and wall.conn()["last_seq"] >= head,
            120,
            "caught up",
        )
        view = json.loads(
            run_cli("cache", "show", "--cache", str(wall.cache), "--json", check=True).stdout
        )
        backend = server.admin("state")
        backend["wall"] = backend["walls"].get("wall-1")  # the wall this node drives
        same = {k: view[k] == backend[k] for k in ("incidents", "cameras", "presets", "wall")}
        if not same["wall"]:
            events.append(f"wall differs: client {view['wall']} backend {backend['wall']}")
        final = _proc(wall.proc.pid)
        problems = _unhandled(wall.log)
    finally:
        wall.stop()
        server.stop()
    report = {"minutes": a.minutes, "rate": a.rate, "layout": Path(a.layout).name, "live_cap": a.live_cap,
              "unhandled": problems[:20], "final_state_equal": same, "final": final,
              "events": events, "samples": samples}  # fmt: skip
    report.update(judge(samples, a.warmup, problems, same, events))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(
        json.dumps(
            {k: v for k, v in report.items() if k not in ("samples", "events")},
            ensure_ascii=False,
            indent=1,
        )
    )
    return 0 if all(report["pass"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())

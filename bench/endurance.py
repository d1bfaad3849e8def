"""Months without a restart, compressed (issue 30): does anything grow?

    .venv/bin/python bench/endurance.py [--minutes 20] [--route callbacks|native|both]
        [--warmup 4] [--rate 200] [--burst 1000] [--backend-nice 10] [--replay-hours H]
        [--diagnose] [--no-video] [--out out/endurance]
    make soak HOURS=4        # the proof: both routes, 4 hours each

Real processes throughout: ``wallclient serve-demo`` (the reference backend, its cameras,
its recorder; state kept across restarts) and the whole ``wallclient run`` on the
six-screen district layout (layouts/district-3x2.json: two 3 × 3 video screens, the map,
indicators, the feed, trends) — offscreen (frames through callbacks, painted by Qt) or on
a real X server of its own (Xvfb: libvlc draws into native windows). As deployed:
``MALLOC_ARENA_MAX=2``, the default configuration (16 decoders). A wall PC hosts neither
the backend nor the cameras: here they share its 2 cores, at ``--backend-nice`` (10), so
that they take what the wall leaves rather than half of each core (0: equal shares; the
GUI's stalls were then 3–10 × longer, docs/benchmarks.md).

What the wall goes through, on a loop (times for the default run):

- a preset switch every 2 s (18 cameras each, through the control API, as a commander),
  and every 30 s a touring preset (36 cameras, 5-s dwell) left to flip twice;
- maximise / restore a tile every 30 s (the main stream, other sizes);
- emergency ⇄ normal every 60 s (the emergency layout's tiles are other sizes again);
- an instant replay (20 s back) on a tile every 45 s, back to live 10 s later;
- a map drill-down every 50 s; pop-ups come with the backend's priority-1 incidents;
- the cameras: down for 20 s every 5 minutes, and hung for 20 s in between;
- the backend restarted every 4 minutes;
- data at ``--rate`` incident events a second, with a 60-s burst at ``--burst`` every
  10 minutes; then, at the end, a quiet phase: no video, no data.

Every 2 s it samples the wall's RSS, PSS and anonymous memory (smaps_rollup), threads,
fds by kind, the X server's clients (its sockets), the cache's file and ``-wal`` sizes,
the GUI thread's longest stall since the last sample, and what ``status.resources`` says
(players live / idle / made / ended, what python-vlc keeps, PyAV readers, Python blocks).

It prints, after warm-up, the slope of each figure with its 95 % interval — a robust fit
(Theil–Sen, Sen's interval) against switches for the video figures and against messages
for the data figures — writes every sample to a CSV and every series to a PNG, and
judges the budgets (docs/benchmarks.md, "Endurance"). Leaves no process behind.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import random
import shutil
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import (  # noqa: E402
    DemoServer,
    WallProcess,
    clip_dir,
    free_port,
    start_xvfb,
    wait_for,
)

LAYOUT = ROOT / "layouts" / "district-3x2.json"
SAMPLE_S = 2.0
VIDEO = ("rss_mb", "pss_mb", "anon_mb", "players_live", "players_idle", "vlc_retained",
         "pyav_threads", "threads", "fds", "x_clients", "native_windows", "py_blocks_k",
         "heap_used_mb", "heap_free_mb", "heap_mapped_mb")  # fmt: skip
DATA = ("db_mb", "wal_mb", "audit_rows", "incident_log_rows")


# --- what is measured ------------------------------------------------------------------


def _kb(fields: dict[str, str], key: str) -> float:
    return int(fields.get(key, "0 kB").split()[0]) / 1024


def memory(pid: int) -> dict[str, float]:
    """RSS, PSS and anonymous memory of a process in MB (smaps_rollup)."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    fields = dict(line.split(":", 1) for line in rollup.splitlines()[1:] if ":" in line)
    return {"rss_mb": round(_kb(fields, "Rss"), 1), "pss_mb": round(_kb(fields, "Pss"), 1),
            "anon_mb": round(_kb(fields, "Anonymous"), 1)}  # fmt: skip


def sockets(pid: int) -> int:
    """Sockets a process holds (an X server: one per client, plus its listeners)."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):  # closed meanwhile
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    return n


def sample_of(
    wall: WallProcess, xvfb: Any, counts: dict[str, int], t0: float, heap: bool = False
) -> dict[str, Any]:
    # glibc's heap walked afresh only at the quiet points (it holds the allocator's locks:
    # the wall's GUI thread waits on them); other samples carry the wall's last walk
    st = dict(wall.control.ok("status", heap=heap))
    wall.control.ok("gui.reset")  # the next sample's stall is that window's own
    res = st.get("resources", {})
    pl, cache, proc = res.get("players", {}), res.get("cache", {}), res.get("process", {})
    fds = proc.get("fds", {})
    db = wall.cache.stat().st_size if wall.cache.exists() else 0
    wal = Path(str(wall.cache) + "-wal")
    assert wall.proc is not None
    return {
        "t_s": round(time.monotonic() - t0, 1), **counts, **memory(wall.proc.pid),
        "threads": proc.get("threads"), "fds": fds.get("total"), "fd_sockets": fds.get("socket", 0),
        "fd_pipes": fds.get("pipe", 0), "fd_files": fds.get("file", 0), "fd_anon": fds.get("anon", 0),
        "x_clients": sockets(xvfb.pid) if xvfb is not None else 0,
        "native_windows": res.get("native_windows", 0),
        "players_live": pl.get("live"), "players_idle": pl.get("idle"),
        "players_created": pl.get("created"), "players_closed": pl.get("closed"),
        "players_abandoned": pl.get("abandoned"), "vlc_retained": pl.get("vlc_retained") or 0,
        "pyav_threads": pl.get("pyav_threads"), "control_queue": res.get("control", {}).get("queue"),
        "control_stuck": res.get("control", {}).get("stuck"),
        "py_blocks_k": round(res.get("python", {}).get("allocated_blocks", 0) / 1000, 1),
        "heap_used_mb": proc.get("heap", {}).get("used"), "heap_free_mb": proc.get("heap", {}).get("free"),
        "heap_mapped_mb": proc.get("heap", {}).get("mapped"),
        "db_mb": round(db / 2**20, 2), "wal_mb": round((wal.stat().st_size if wal.exists() else 0) / 2**20, 2),
        "audit_rows": cache.get("audit", 0), "incident_log_rows": cache.get("incident_log", 0),
        "stall_ms": st.get("gui", {}).get("longest_stall_ms", 0.0),
        # of that stall, how long the GUI thread itself ran and how long it waited for a
        # core (the rest it slept: on the GIL or another lock)
        "stall_running_ms": st.get("gui", {}).get("longest_stall_running_ms", 0.0),
        "stall_queued_ms": st.get("gui", {}).get("longest_stall_queued_ms", 0.0),
        # the collector's longest pass of each generation in the same window (a full pass
        # over a million objects is a stall of its own)
        "gc0_ms": (st.get("gui", {}).get("gc_longest_ms") or [0, 0, 0])[0],
        "gc2_ms": (st.get("gui", {}).get("gc_longest_ms") or [0, 0, 0])[2],
        "playing": sum(t["state"] == "playing" for t in st["tiles"]),
        "connection": st["connection"]["state"],
    }  # fmt: skip


# --- the fit -----------------------------------------------------------------------------


def theil_sen(xs: list[float], ys: list[float], most: int = 1200) -> tuple[float, float, float]:
    """The median of pairwise slopes, with Sen's 95 % interval: (slope, low, high).
    Long runs are thinned to ``most`` evenly spaced points (the pairs grow as n²).
    Samples 2 s apart are not independent: the interval is a lower bound of the truth."""
    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if x is not None and y is not None]
    if len(pts) > most:
        step = len(pts) / most
        pts = [pts[int(i * step)] for i in range(most)]
    slopes = sorted(
        (pts[j][1] - pts[i][1]) / (pts[j][0] - pts[i][0])
        for i in range(len(pts)) for j in range(i + 1, len(pts)) if pts[j][0] != pts[i][0]
    )  # fmt: skip
    if not slopes:
        return 0.0, 0.0, 0.0
    n, big_n = len(pts), len(slopes)
    c = 1.96 * math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    lo = max(0, int(math.floor((big_n - c) / 2)))
    hi = min(big_n - 1, int(math.ceil((big_n + c) / 2)))
    return slopes[big_n // 2], slopes[lo], slopes[hi]


def fits(samples: list[dict[str, Any]], warm_s: float) -> dict[str, dict[str, float]]:
    """Each figure's slope after warm-up: video ones per 1,000 switches, data ones per
    million messages (the quiet phase left out: nothing is switched or sent there)."""
    run = [s for s in samples if s["t_s"] >= warm_s and s["phase"] == "churn"]
    out = {}
    for key in VIDEO:
        slope, lo, hi = theil_sen([s["switches"] / 1000 for s in run], [s.get(key) for s in run])
        out[key] = {"per_1000_switches": round(slope, 3), "low": round(lo, 3), "high": round(hi, 3)}
    for key in DATA:
        slope, lo, hi = theil_sen([s["messages"] / 1e6 for s in run], [s.get(key) for s in run])
        out[key] = {"per_million_messages": round(slope, 3), "low": round(lo, 3), "high": round(hi, 3)}
    return out


def judge(samples: list[dict[str, Any]], warm_s: float, slopes: dict[str, Any],
          rss_budget: float) -> dict[str, Any]:  # fmt: skip
    """The budgets (issue 30), each a yes or no with the figures behind it."""
    churn = [s for s in samples if s["phase"] == "churn" and s["t_s"] >= warm_s]
    quiet0 = [s for s in samples if s["phase"] == "baseline"]
    quiet1 = [s for s in samples if s["phase"] == "quiet"]
    # the GUI: a window with a switch in it vs one without (the switches' own windows)
    with_switch = sorted(s["stall_ms"] for s in churn if s["switched"])
    without = [s["stall_ms"] for s in churn if not s["switched"]]
    p99 = with_switch[min(len(with_switch) - 1, int(0.99 * len(with_switch)))] if with_switch else 0.0
    half = len(churn) // 2
    first, second = churn[:half], churn[half:]

    def trend(values: list[float]) -> float:
        return statistics_median(values[len(values) // 2 :]) - statistics_median(values[: len(values) // 2])

    base = {k: min(s[k] for s in quiet0) for k in ("threads", "fds")} if quiet0 else {}
    end = {k: min(s[k] for s in quiet1) for k in ("threads", "fds")} if quiet1 else {}
    quiet_wal = max((s["wal_mb"] for s in quiet0 + quiet1), default=0.0)
    db_second = theil_sen([s["t_s"] for s in second], [s["db_mb"] for s in second])
    return {
        "rss_slope_high_mb_per_1000": slopes["rss_mb"]["high"],
        "stall_ms_without_switch_max": max(without, default=0.0),
        "stall_ms_with_switch_p99": p99,
        "stall_trend_ms": round(trend([s["stall_ms"] for s in churn]), 1) if churn else 0.0,
        "threads_fds_baseline": base, "threads_fds_end": end,
        "wal_mb_quiet_max": quiet_wal,
        "db_mb_per_hour_second_half": round(db_second[0] * 3600, 2),
        "pass": {
            "rss_slope": slopes["rss_mb"]["high"] <= rss_budget,
            "players_flat": slopes["players_live"]["high"] <= 0.5 and slopes["players_idle"]["high"] <= 0.5,
            "vlc_retained_none": max(s["vlc_retained"] for s in samples) == 0,
            "py_blocks_flat": slopes["py_blocks_k"]["low"] <= 0,
            "threads_back": bool(base) and bool(end) and abs(end["threads"] - base["threads"]) <= 2,
            "fds_back": bool(base) and bool(end) and abs(end["fds"] - base["fds"]) <= 2,
            "wal_le_8mb": quiet_wal <= 8,
            # flat: what the second half added is within 5 % of the database (or 2 MB) —
            # only once the replay window has passed (``--replay-hours``) can it be
            "db_flat_second_half": bool(second) and db_second[0] * (second[-1]["t_s"] - second[0]["t_s"])
            <= max(2.0, 0.05 * second[0]["db_mb"]),
            "stall_quiet_le_50": max(without, default=0.0) <= 50,
            "stall_switch_p99_le_100": p99 <= 100,
            # the X server's sockets: its listeners and Qt's own connection, then libvlc's
            # (one per native player drawing) — at most two per live player
            "x_clients_le_2x": all(s["x_clients"] <= 2 * (s["players_live"] or 0) + 4 for s in samples),
        },
        "first_second_half_rss_mb": [statistics_median([s["rss_mb"] for s in first]) if first else 0,
                                     statistics_median([s["rss_mb"] for s in second]) if second else 0],
        # no player decodes at the quiet points: RSS there does not swing with the players
        # in use, so what the churn left behind shows plainly (not judged: the slope is)
        "quiet_rss_mb": [statistics_median([s["rss_mb"] for s in quiet0]) if quiet0 else 0,
                         statistics_median([s["rss_mb"] for s in quiet1]) if quiet1 else 0],
        # each quiet point again after a full collection (``--diagnose``): garbage in cycles
        # awaiting the collector's rare full pass is not growth
        "collected": {s["phase"]: {k: s.get(k) for k in ("rss_mb", "heap_used_mb", "heap_free_mb", "heap_mapped_mb",
                                                          "py_blocks_k")}
                      for s in samples if s["phase"].endswith("-collected")},
    }  # fmt: skip


def statistics_median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else 0.0


# --- the picture of it -------------------------------------------------------------------


def plot(samples: list[dict[str, Any]], keys: list[str], out: Path, title: str) -> None:
    """Every series against time, small multiples in one PNG (Qt offscreen: no new dependency)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPen, QPolygonF

    _app = QGuiApplication.instance() or QGuiApplication([])
    cols, cell_w, cell_h = 4, 460, 230
    rows = math.ceil(len(keys) / cols)
    img = QImage(cols * cell_w, rows * cell_h + 40, QImage.Format.Format_RGB32)
    img.fill(QColor("#101418"))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QColor("#e8e8e8"))
    p.setFont(QFont("WenQuanYi Micro Hei", 14))
    p.drawText(QRectF(10, 5, img.width() - 20, 30), Qt.AlignmentFlag.AlignLeft, title)
    p.setFont(QFont("WenQuanYi Micro Hei", 11))
    ts = [s["t_s"] / 60 for s in samples]
    t_max = max(ts) or 1
    phase_colour = {"baseline": "#3a5f3a", "quiet": "#3a5f3a"}
    for n, key in enumerate(keys):
        x0, y0 = (n % cols) * cell_w, 40 + (n // cols) * cell_h
        box = QRectF(x0 + 50, y0 + 28, cell_w - 70, cell_h - 60)
        ys = [float(s.get(key) or 0) for s in samples]
        lo, hi = min(ys), max(ys)
        if hi == lo:
            hi = lo + 1
        for s, t in zip(samples, ts, strict=True):  # the quiet phases shaded
            if s["phase"] in phase_colour:
                xp = box.left() + t / t_max * box.width()
                p.fillRect(QRectF(xp, box.top(), max(1.0, box.width() / len(ts)), box.height()),
                           QColor(phase_colour[s["phase"]]))  # fmt: skip
        p.setPen(QColor("#606870"))
        p.drawRect(box)
        line = QPolygonF([QPointF(box.left() + t / t_max * box.width(),
                                  box.bottom() - (y - lo) / (hi - lo) * box.height())
                          for t, y in zip(ts, ys, strict=True)])  # fmt: skip
        p.setPen(QPen(QColor("#5ab0ff"), 1.5))
        p.drawPolyline(line)
        p.setPen(QColor("#e8e8e8"))
        p.drawText(QRectF(x0 + 10, y0 + 4, cell_w - 20, 22), Qt.AlignmentFlag.AlignLeft, key)
        p.drawText(QRectF(x0, box.top() - 8, 46, 16), Qt.AlignmentFlag.AlignRight, f"{hi:g}")
        p.drawText(QRectF(x0, box.bottom() - 8, 46, 16), Qt.AlignmentFlag.AlignRight, f"{lo:g}")
        p.drawText(QRectF(box.right() - 80, box.bottom() + 4, 80, 16), Qt.AlignmentFlag.AlignRight,
                   f"{t_max:.0f} min")  # fmt: skip
    p.end()
    img.save(str(out))


# --- the run ------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def patient(server: DemoServer, cmd: str, **args: Any) -> Any:
    """An admin command that waits out a backend restart (up to 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return server.admin(cmd, **args)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def run(route: str, a: argparse.Namespace, out: Path) -> dict[str, Any]:
    tmp = Path(a.dir or f"/tmp/wallclient-endurance-{os.getpid()}") / route
    tmp.mkdir(parents=True, exist_ok=True)
    media, rtsp = free_port(), free_port()
    # data starts once the wall is live (its first snapshot is not raced by 200 events a second)
    server = DemoServer(tmp, "--rate", "0", "--media-port", str(media), "--rtsp-port", str(rtsp),
                        "--live-cap", "3000", "--record-max", "4", record=True)  # fmt: skip
    server.nice = a.backend_nice
    xvfb, display = (None, None)
    if route == "native":
        xvfb, display = start_xvfb(tmp, "5760x2160")
    extra = ["--layout", str(LAYOUT)]
    settings = []  # the database's bounds, shortened: it reaches them within the run
    if a.replay_hours:
        settings.append(f"[replay]\nhours = {a.replay_hours}\n")
    if a.archive_keep:
        settings.append(f"[cache]\narchive_keep = {a.archive_keep}\n")
    if a.decoder_nice is not None:
        settings.append(f"[video]\ndecoder_nice = {a.decoder_nice}\n")
    if settings:
        config = tmp / "wall.toml"
        config.write_text("".join(settings), encoding="utf-8")
        extra += ["--config", str(config)]
    wall = WallProcess(tmp, "", "tok-commander", *extra, node=f"endurance-{route}", display=display)
    if a.tracemalloc:  # the wall alone traced: a traced backend falls behind its own admin
        wall.env = dict(wall.env or os.environ, PYTHONTRACEMALLOC=str(a.tracemalloc))
    samples: list[dict[str, Any]] = []
    events: list[str] = []
    diagnosis: dict[str, Any] = {}
    (out / f"{route}.csv").unlink(missing_ok=True)
    counts = {"switches": 0, "messages": 0}
    rng = random.Random(30)
    t0 = time.monotonic()
    churn_s = a.minutes * 60
    try:
        server.start()
        wall.args[wall.args.index("--server") + 1] = server.url
        wall.start()
        wait_for(lambda: wall.conn()["state"] == "live", 60, "live")
        patient(server, "rate", rate=a.rate)
        state = patient(server, "state")
        cams = [c["id"] for c in state["cameras"] if c["status"] == "online" and not c.get("ptz")]
        # cameras whose clips are made already (each new one costs the backend an encode:
        # dozens at once starve it, which is not what this bench measures)
        made = [c for c in cams if all((clip_dir() / f"{c}-{p}.mp4").exists() for p in ("sub", "main"))]
        cams = (made if len(made) >= 40 else cams)[:60]
        emergency = [p["id"] for p in state["presets"] if p["emergency"]]
        streets = sorted({c["region"][:9] for c in state["cameras"] if c.get("region")})
        if a.no_video:  # the data alone (diagnosis): every preset empty
            cams, emergency_cams = [], True
        else:
            emergency_cams = False
        for n in range(12):
            patient(server, "publish", type="preset.upsert", data={
                "id": f"E{n}", "name": f"耐久{n}", "scenario": "endurance", "emergency": False,
                "cameras": rng.sample(cams, min(18, len(cams))), "dwell_s": 60})  # fmt: skip
        patient(server, "publish", type="preset.upsert", data={
            "id": "E-tour", "name": "轮巡", "scenario": "endurance", "emergency": False,
            "cameras": rng.sample(cams, min(36, len(cams))), "dwell_s": 5})  # fmt: skip
        if emergency_cams:
            for pid in emergency:
                patient(server, "publish", type="preset.upsert", data={
                    "id": pid, "name": pid, "scenario": "endurance", "emergency": True, "cameras": []})
        patient(server, "publish", type="preset.upsert", data={
            "id": "E-empty", "name": "无视频", "scenario": "endurance", "emergency": False,
            "cameras": [], "dwell_s": 60})  # fmt: skip

        def ctl(cmd: str, **args: Any) -> dict[str, Any]:
            """A control command; a wall too busy to take it is said, not fatal."""
            try:
                return dict(wall.control(cmd, **args))
            except Exception as exc:
                events.append(f"{time.monotonic() - t0:.0f}s {cmd}: {exc!r}")
                return {"ok": False, "error": {"code": "unreachable", "message": repr(exc)}}

        def switch(preset: str) -> None:
            reply = ctl("preset.activate", preset=preset)
            with lock:
                counts["switches"] += 1
            if not reply["ok"] and reply["error"]["code"] not in ("offline", "timeout", "rate_limited", "unreachable"):
                events.append(f"{time.monotonic() - t0:.0f}s switch refused: {reply['error']}")

        def take(phase: str, switched: bool) -> None:
            with contextlib.suppress(Exception):  # the backend restarting: the last count stands
                counts["messages"] = int(server.admin("head")["seq"])
            try:
                s = sample_of(wall, xvfb, counts, t0, heap=phase.endswith("-collected"))
            except Exception as exc:  # a wall too busy to answer in time: said, run goes on
                events.append(f"{time.monotonic() - t0:.0f}s no sample: {exc!r}")
                return
            s.update(phase=phase, switched=switched)
            samples.append(s)
            # every sample on disk as it is taken: a run that dies keeps what it measured
            with open(out / f"{route}.csv", "a", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(s))
                if len(samples) == 1:
                    writer.writeheader()
                writer.writerow(s)
            if len(samples) % 30 == 0:
                print(json.dumps({k: s[k] for k in ("t_s", "phase", "switches", "messages", "rss_mb",
                                                    "threads", "fds", "players_live", "players_idle",
                                                    "stall_ms", "playing", "connection")}), flush=True)  # fmt: skip

        # the baseline: the wall warm, no video, no data
        restarting = threading.Lock()
        restart_due = threading.Event()

        def running() -> None:
            """The backend up (started again if a restart left it down)."""
            for attempt in range(5):  # its ports may take a moment to be free again
                if server.proc is not None and server.proc.poll() is None:
                    return
                try:
                    server.start()
                except Exception as exc:
                    events.append(f"{time.monotonic() - t0:.0f}s backend start {attempt}: {exc!r}")
                    time.sleep(2)

        def quiet(phase: str, seconds: float) -> None:
            with restarting:
                running()
            patient(server, "rate", rate=0)
            patient(server, "media", mode="normal")
            # back to normal first (it restores the preset before the emergency), then
            # the empty preset: no tile plays, no player decodes
            # the wall back on the backend first: a switch made while it reconnects would be
            # undone by the backend's wall state at the reconnect (a restart was due)
            wait_for(lambda: wall.conn()["state"] == "live", 60, "the wall live again")
            if wall.status()["wall"]["mode"] == "emergency":
                ctl("normal")
            wait_for(lambda: ctl("preset.activate", preset="E-empty")["ok"], 30, "the empty preset taken")
            with lock:
                counts["switches"] += 1
            wait_for(lambda: wall.status()["resources"]["players"]["live"] == 0, 30, "no player live")
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                time.sleep(SAMPLE_S)
                take(phase, False)
            if any(s["players_live"] for s in samples[-int(seconds / SAMPLE_S) :] if s["phase"] == phase):
                events.append(f"{time.monotonic() - t0:.0f}s {phase}: a player went live meanwhile")
            if a.diagnose:  # what lives at each quiet point, and what grew between them
                got = ctl("resources.types", n=60)
                held = {kind: ctl("resources.types", referrers=kind, depth=8).get("data")
                        for kind in ("VideoPanel", "VlcPlayer", "AvPlayer")}  # fmt: skip
                diagnosis[phase] = {"rss_mb": samples[-1]["rss_mb"] if samples else None,
                                    "types": got.get("data", got), "held": held}  # fmt: skip
                take(f"{phase}-collected", False)  # the same quiet point, the collector's full pass made
                if a.tracemalloc:  # where Python's memory grew, by line
                    grew = ctl("resources.allocations", n=40, frames=a.tracemalloc)
                    diagnosis[phase]["allocations"] = grew.get("data", grew)

        # Three hands at once, as on a real wall: the commander's switches (every 2 s),
        # everything else on its own schedule, and the sampling — each on its own thread,
        # so that a slow reply to one never delays the others.
        stop = threading.Event()
        paused = threading.Event()  # the baseline: no switching meanwhile
        touring = [0.0]
        lock = threading.Lock()

        def count(n: int = 1) -> None:
            with lock:
                counts["switches"] += n
            switched_since[0] = True

        def switcher() -> None:
            n = 0
            while not stop.wait(2.0):
                if paused.is_set() or time.monotonic() < touring[0]:
                    continue
                switch(f"E{n % 12}")
                switched_since[0] = True
                n += 1

        def scheduled() -> None:
            begin = time.monotonic()
            # the first restart a minute after the baseline (at the warm-up's end, 4 min): a
            # baseline taken while the wall reconnects holds another wall's worth of data
            next_at = {"tour": 30.0, "max": 15.0, "mode": 60.0, "replay": 45.0, "drill": 50.0,
                       "restart": 300.0, "media": 150.0, "burst": 420.0}  # fmt: skip
            media_back = burst_end = replay_end = max_end = 0.0
            media_mode, emergency_on, tile = "down", False, 0
            flips: list[float] = []  # when the tour's pages turn
            while not stop.wait(0.25):
                if paused.is_set():
                    begin += 0.25  # the schedule's clock stands still in the baseline
                    continue
                now = time.monotonic() - begin
                if now >= next_at["tour"]:
                    next_at["tour"] = now + 30
                    touring[0] = time.monotonic() + 11  # two flips, each a page of new cameras
                    switch("E-tour")
                    with lock:
                        counts["switches"] += 2
                    flips[:] = [now + 5, now + 10]  # (its dwell): each flip is a switch too
                if flips and now >= flips[0]:
                    flips.pop(0)
                    switched_since[0] = True
                if now >= next_at["max"]:
                    next_at["max"], max_end = now + 30, now + 8
                    tile = rng.randrange(9)
                    ctl("tile.maximise", tile=tile)
                    count()
                if max_end and now >= max_end:
                    max_end = 0.0
                    ctl("tile.maximise", tile=tile, restore=True)
                    count()
                if now >= next_at["mode"]:
                    next_at["mode"] = now + 60
                    if emergency_on:
                        ctl("normal")
                    else:
                        ctl("emergency", preset=rng.choice(emergency))
                    emergency_on = not emergency_on
                    count()
                if now >= next_at["replay"]:
                    next_at["replay"], replay_end = now + 45, now + 10
                    ctl("replay.start", tile=rng.randrange(9), seconds_back=20)
                    count()
                if replay_end and now >= replay_end:
                    replay_end = 0.0
                    ctl("replay.stop")
                    count()
                if now >= next_at["drill"] and streets:
                    next_at["drill"] = now + 50
                    ctl("map.drill", region=rng.choice(streets))
                if now >= next_at["media"] and not media_back:
                    next_at["media"], media_back = now + 150, now + 20
                    patient(server, "media", mode=media_mode)
                    events.append(f"{now:.0f}s cameras {media_mode}")
                    media_mode = "hang" if media_mode == "down" else "down"
                if media_back and now >= media_back:
                    media_back = 0.0
                    patient(server, "media", mode="normal")
                if now >= next_at["burst"] and not burst_end:
                    next_at["burst"], burst_end = now + 600, now + 60
                    patient(server, "rate", rate=a.burst)
                    events.append(f"{now:.0f}s burst at {a.burst}/s")
                if burst_end and now >= burst_end:
                    burst_end = 0.0
                    patient(server, "rate", rate=a.rate)
                if now >= next_at["restart"]:
                    next_at["restart"] = now + 240
                    # done by the main thread: a child dies with the *thread* that started it
                    # (PR_SET_PDEATHSIG), and this one ends before the run does
                    restart_due.set()

        def guarded(fn: Any) -> Any:
            def go() -> None:
                try:
                    fn()
                except Exception as exc:  # said, and the run goes on without this hand
                    events.append(f"{time.monotonic() - t0:.0f}s {fn.__name__} stopped: {exc!r}")

            return go

        switched_since = [False]
        hands = [threading.Thread(target=guarded(f), daemon=True) for f in (switcher, scheduled)]
        for h in hands:
            h.start()
        churn_start = time.monotonic()
        baseline_done = False
        while time.monotonic() - churn_start < churn_s:
            assert wall.proc is not None and wall.proc.poll() is None, "the wall process died"
            if not baseline_done and time.monotonic() - churn_start >= a.warmup * 60:
                baseline_done = True
                paused.set()
                time.sleep(2.5)  # a switch under way finishes
                quiet("baseline", 40)
                patient(server, "rate", rate=a.rate)
                churn_start += 42.5  # the churn's clock stands still meanwhile
                paused.clear()
                continue
            time.sleep(SAMPLE_S)
            if restart_due.is_set():
                restart_due.clear()
                with restarting:
                    try:
                        server.stop()
                    except Exception:
                        server.stop(kill=True)
                    running()
                patient(server, "rate", rate=a.rate)
                events.append(f"{time.monotonic() - t0:.0f}s backend restarted")
            switched, switched_since[0] = switched_since[0], False
            take("churn", switched)
        stop.set()
        for h in hands:
            h.join(60)
        quiet("quiet", 60)
        log = wall.log.read_text(errors="replace") if wall.log.exists() else ""
        problems = [ln for ln in log.splitlines() if ln.startswith("Traceback") or "unhandled" in ln.lower()]
    finally:
        for proc in (wall, server):
            try:
                proc.stop()
            except Exception:  # a process that does not end when asked is killed
                proc.stop(kill=True)
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
    # the recorder's files are gigabytes a run (a disk that fills ends the next run): gone,
    # and with no --dir the whole run directory (the figures are in --out)
    shutil.rmtree(tmp / "recordings", ignore_errors=True)
    if not a.dir:
        shutil.rmtree(tmp.parent, ignore_errors=True)
    report = report_of(route, a, out, samples, events, problems)
    if diagnosis:
        (out / f"{route}.diagnosis.json").write_text(json.dumps(diagnosis, ensure_ascii=False, indent=1))
    return report


def report_of(route: str, a: argparse.Namespace, out: Path, samples: list[dict[str, Any]],
              events: list[str], problems: list[str]) -> dict[str, Any]:  # fmt: skip
    """The slopes, the verdict, the PNG and the JSON of one route's samples."""
    warm_s = a.warmup * 60
    slopes = fits(samples, warm_s)
    budget = a.rss_budget if a.rss_budget is not None else (5.0 if a.minutes < 120 else 1.0)
    verdict = judge(samples, warm_s, slopes, budget)
    keys = [*VIDEO, *DATA, "stall_ms", "playing", "players_created", "fd_sockets", "fd_pipes", "control_queue"]
    switches, messages = samples[-1]["switches"], samples[-1]["messages"]
    plot(samples, keys, out / f"{route}.png",
         f"wallclient endurance · {route} · {a.minutes:g} min churn · {switches} switches · {messages} messages")  # fmt: skip
    report = {"route": route, "minutes": a.minutes, "switches": switches, "messages": messages,
              "slopes": slopes, **verdict, "unhandled": problems[:20], "events": events}  # fmt: skip
    (out / f"{route}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    return report


def judge_csv(path: Path, a: argparse.Namespace) -> dict[str, Any]:
    """A run's CSV judged again (a run that died before its end keeps its samples)."""
    numeric = ("phase", "connection")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    samples = []
    for r in rows:
        s: dict[str, Any] = {}
        for k, v in r.items():
            if k in numeric:
                s[k] = v
            elif k == "switched":
                s[k] = v == "True"
            else:
                s[k] = float(v) if v not in ("", "None") else 0.0
        samples.append(s)
    return report_of(path.stem, a, path.parent, samples, [f"judged again from {path.name}"], [])


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))  # a clean stop, children included
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=20, help="minutes of churn per route")
    ap.add_argument("--route", choices=("callbacks", "native", "both"), default="both")
    ap.add_argument("--warmup", type=float, default=4, help="minutes before the fit starts")
    ap.add_argument("--rate", type=float, default=200, help="incident events a second")
    ap.add_argument("--burst", type=float, default=1000, help="the bursts' events a second")
    ap.add_argument("--rss-budget", type=float, help="MB per 1,000 switches (default 5; 1 from 2 h)")
    ap.add_argument("--backend-nice", type=int, default=10,
                    help="the backend, its cameras and recorder at this niceness: they take what the wall leaves, "
                         "as on a wall PC that hosts none of them (0: they share the 2 cores equally)")
    ap.add_argument("--replay-hours", type=float, default=0,
                    help="the wall's replay window (default: the product's, 2 h); e.g. 0.1 to see the database level off")
    ap.add_argument("--archive-keep", type=int, default=0,
                    help="archived incidents the cache keeps (default: the product's, 100,000); e.g. 20000 — "
                         "at 200 msg/s the default is reached after ~hours, a 20-minute run never levels off")
    ap.add_argument("--decoder-nice", type=int, default=None,
                    help="the wall's [video] decoder_nice (default: the product's)")
    ap.add_argument("--no-video", action="store_true", help="diagnosis: the data alone, every preset empty")
    ap.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES",
                    help="with --diagnose: the wall traced (PYTHONTRACEMALLOC=FRAMES), growth by line")
    ap.add_argument("--diagnose", action="store_true",
                    help="at each quiet point, the Python types the wall holds (resources.types)")
    ap.add_argument("--out", default=str(ROOT / "out" / "endurance"))
    ap.add_argument("--dir", default="")
    ap.add_argument("--judge", help="judge a CSV this bench wrote (its route from the name)")
    a = ap.parse_args()
    if a.judge:
        report = judge_csv(Path(a.judge), a)
        print(json.dumps({k: v for k, v in report.items() if k != "events"}, ensure_ascii=False, indent=1))
        return 0 if all(report["pass"].values()) else 1
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")  # as the systemd unit runs it
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    ok = True
    for route in ("callbacks", "native") if a.route == "both" else (a.route,):
        report = run(route, a, out)
        print(json.dumps({k: v for k, v in report.items() if k != "events"}, ensure_ascii=False, indent=1))
        ok = ok and all(report["pass"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

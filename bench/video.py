"""Benchmarks of the video wall (issue "Video wall"). Run by hand:

    .venv/bin/python bench/video.py cpu [--seconds 12] [--counts 1,4,9,16] [--profiles cif,sub,main]
    .venv/bin/python bench/video.py switch [--switches 40]
    .venv/bin/python bench/video.py rss [--switches 1000]
    .venv/bin/python bench/video.py tour [--flips 6] [--dwell 10] [--native] [--route pyav]
    .venv/bin/python bench/video.py wall [--walls 4x4,3x3x2,4k] [--native] [--seconds 15] [--runs 1]
    .venv/bin/python bench/video.py forms [--switches 12]

- wall: the whole `wallclient run` process (every panel of its layout, the control API,
  the feed) playing live HTTP-TS cameras at a real wall's tile sizes, against a bare
  libvlc decode of the same streams in the same run: ``4x4`` — 16 sub streams (640×360)
  in a 4 × 4 region of one 1920×1080 screen (tiles ~480×210, smaller than the stream);
  ``3x3x2`` — two 1080p monitors (one 3840×1080 X screen) with a 3 × 3 region each (18
  tiles ~640×290); ``4k`` —
  2 × 2 main streams (1280×720) on 3840×2160 (tiles ~1920×1000, larger than the stream).
  ``--native`` runs the wall on its own Xvfb (libvlc drawing into native windows) and
  counts the X server's CPU too; without it, offscreen (frames through callbacks, painted
  by Qt). Reports CPU, the ratio, and the rate of every tile (from `status`).
- forms: preset switch → first picture on a real wall, per URL form (HTTP-TS, HTTP-FLV
  with and without audio and with an audio track that never comes, fMP4, HLS, RTSP,
  RTMP through the relay), 1 s GOP sources; p50 and p99 over ``--switches``.

- cpu: CPU of one process playing N tiles of one profile through our whole path
  (pooled player → frame slot → VideoPanel painting in Qt, offscreen), against the
  floor: a bare libvlc decode of the same streams into callbacks that do nothing,
  in the same run. Both over HTTP-TS (the libvlc route); `--route pyav` plays the
  RTSP URLs of the same cameras through our PyAV route instead (its own floor is
  still bare libvlc over HTTP-TS: the cheapest decode of the same pictures here).
  Also the frames delivered per tile.
- switch: preset switch → first new frame on every tile (9 tiles, 1 s GOP sources).
- rss: RSS after N preset switches against after the first 50.
- tour: a 3×3 tour of two pages; from each flip to pictures on all nine tiles (the
  next page is pre-started, as the wall does).

Each measurement runs in a child process of its own; the streams come from the demo
media server (ffmpeg clips served live) in another process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROFILE_SIZE = {"cif": (352, 288), "sub": (640, 360), "main": (1280, 720)}


def _cpu_ticks() -> float:
    t = os.times()
    return t.user + t.system


def _cameras(n: int) -> list[str]:
    return [f"3101140000132{i:07d}" for i in range(1, n + 1)]


def _urls(ready: dict, profile: str, route: str, n: int) -> list[str]:
    if route == "pyav":
        return [
            f"rtsp://u:p@127.0.0.1:{ready['rtsp_port']}/live/{c}/{profile}" for c in _cameras(n)
        ]
    return [f"http://127.0.0.1:{ready['http_port']}/live/{c}/{profile}.ts" for c in _cameras(n)]


# --- children -------------------------------------------------------------------------------


def child_floor(urls: list[str], seconds: float, size: tuple[int, int]) -> dict:
    """Bare libvlc: decode into a buffer, count frames, paint nothing."""
    import ctypes

    import vlc

    inst = vlc.Instance(["--quiet", "--no-audio", "--avcodec-hw=none"])
    w, h = size
    keep = []
    counts = [0] * len(urls)
    players = []
    for i, url in enumerate(urls):
        buf = (ctypes.c_ubyte * (w * h * 4))()

        @vlc.CallbackDecorators.VideoLockCb
        def lock(_o, planes, buf=buf):
            planes[0] = ctypes.addressof(buf)
            return None

        @vlc.CallbackDecorators.VideoDisplayCb
        def display(_o, _p, i=i):
            counts[i] += 1

        mp = inst.media_player_new()
        mp.video_set_callbacks(lock, None, display, None)
        mp.video_set_format("RV32", w, h, w * 4)
        m = inst.media_new(url)
        m.add_option(":network-caching=300")
        mp.set_media(m)
        mp.play()
        keep += [buf, lock, display]
        players.append(mp)
    time.sleep(4)  # connect and settle
    c0, f0, t0 = _cpu_ticks(), list(counts), time.monotonic()
    time.sleep(seconds)
    dt = time.monotonic() - t0
    cpu = (_cpu_ticks() - c0) / dt * 100
    fps = [(b - a) / dt for a, b in zip(f0, counts, strict=True)]
    for mp in players:
        mp.stop()
    return {
        "cpu_percent": round(cpu, 1),
        "fps_min": round(min(fps), 1),
        "fps_mean": round(statistics.mean(fps), 1),
    }


def _wall(urls: list[str], rows: int, cols: int, size: tuple[int, int] = (640, 360)):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from panels.hub import Context, Hub
    from panels.video import VideoPanel
    from wallclient.edges.video import PlayerPool
    from wallclient.protocol import format_time, now
    from wallclient.state import WallState

    app = QApplication.instance() or QApplication([])
    state = WallState("wall-1")
    cams = [{"id": f"c{i}", "name": f"测试摄像头{i}", "region": "", "status": "online",
             "location": {"lon": 121.3, "lat": 31.3}, "streams": {"sub": u, "main": u}}
            for i, u in enumerate(urls)]  # fmt: skip
    state.load({"cameras": cams}, None, 1)
    pool = PlayerPool(max_live=64)
    ctx = Context(state=state, status=lambda: {}, server_now=now, video=pool)
    hub = Hub(ctx)
    panel = VideoPanel(ctx, hub, 1.0, {"rows": rows, "cols": cols})
    # tiles whose picture area (below a 64 px header, inside 3 px margins) is the stream size
    panel.resize(cols * (size[0] + 6), rows * (size[1] + 6 + 64))
    panel.show()

    def preset(pid: str, ids: list[str], dwell_s: float = 15) -> None:
        state.apply(
            "preset.upsert",
            {"id": pid, "name": pid, "scenario": "b", "emergency": False, "cameras": ids,
             "dwell_s": dwell_s},
            None,
        )  # fmt: skip
        state.apply("wall.state", {"wall": "wall-1", "mode": "normal", "preset": pid,
                                   "changed_by": "bench", "changed_at": format_time(now())}, None)  # fmt: skip

    return app, panel, pool, preset


def _run_for(app, seconds: float, until=None) -> None:
    """Run the Qt event loop for ``seconds`` (or until ``until()``, checked every 5 ms)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    check = QTimer()
    if until is not None:
        check.timeout.connect(lambda: loop.quit() if until() else None)
        check.start(5)
    loop.exec()
    check.stop()


def _xvfb_ticks() -> float:
    """CPU seconds of the X server the child draws on (BENCH_XVFB_PID), else 0."""
    pid = os.environ.get("BENCH_XVFB_PID")
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_wall(urls: list[str], seconds: float, size: tuple[int, int]) -> dict:
    n = len(urls)
    side = max(1, int(n**0.5 + 0.999))
    app, panel, pool, preset = _wall(urls, side, side, size)
    preset("P", [f"c{i}" for i in range(n)])
    _run_for(app, 5)
    frames0 = [p.frames() for p in (t.player for t in panel.tiles) if p is not None]
    c0, x0, t0 = _cpu_ticks(), _xvfb_ticks(), time.monotonic()
    _run_for(app, seconds)
    dt = time.monotonic() - t0
    cpu = (_cpu_ticks() - c0) / dt * 100
    xcpu = (_xvfb_ticks() - x0) / dt * 100
    players = [t.player for t in panel.tiles if t.player is not None]
    fps = [(p.frames() - a) / dt for p, a in zip(players, frames0, strict=False)]
    states = [t.state for t in panel.tiles if t.camera]
    panel.detach()
    pool.close()
    return {"cpu_percent": round(cpu, 1), "fps_min": round(min(fps or [0]), 1),
            "fps_mean": round(statistics.mean(fps or [0]), 1), "playing": states.count("playing"),
            "routes": sorted({p.route for p in players}),
            "x_server_percent": round(xcpu, 1)}  # fmt: skip


def child_switch(urls: list[str], switches: int, rss_mode: bool) -> dict:
    """Alternate two 9-camera presets; time from the switch to a new frame on every tile."""
    app, panel, pool, preset = _wall(urls, 3, 3)
    a, b = [f"c{i}" for i in range(9)], [f"c{i}" for i in range(9, 18)]
    took: list[float] = []
    rss: dict[int, int] = {}
    every: list[int] = []  # RSS after each switch
    from wallclient.edges.video import control as video_control
    from wallclient.edges.video import memory as video_memory

    page = os.sysconf("SC_PAGE_SIZE")
    for k in range(switches):
        ids = a if k % 2 == 0 else b
        t0 = time.monotonic()
        preset(f"P{k % 2}", ids)

        def shown(ids=ids) -> bool:
            return panel.cameras() == ids and all(
                t.player is not None and t.player.frames() > 0 for t in panel.tiles
            )

        _run_for(app, 15, shown)
        if shown():
            took.append(time.monotonic() - t0)
        if not rss_mode:
            _run_for(app, 1.5)  # let the page play before the next switch
        # Sampled between switches as the wall is a second after one: the players it
        # stopped are gone (libvlc's control queue has run dry) and the heap trimmed.
        # Sampled any earlier, RSS swings ±15 % with how many of the eighteen old and
        # new decoders happen to exist at that instant.
        video_control.jobs.submit(video_memory.trim_heap).result(timeout=30)
        every.append(int(Path("/proc/self/statm").read_text().split()[1]) * page)
        if (k + 1) % 50 == 0 or k + 1 == switches:
            rss[k + 1] = int(statistics.median(every[-10:]))
            print(f"rss after {k + 1} switches: median of the last 10 {rss[k + 1] / 2**20:.1f} MB,"
                  f" at this switch {every[-1] / 2**20:.1f} MB", file=sys.stderr, flush=True)  # fmt: skip
    panel.detach()
    pool.close()
    s = sorted(took)
    out = {"switches": switches, "completed": len(took), "players_created": pool.created}
    if s:
        out |= {"first_frame_all_tiles_p50_s": round(s[len(s) // 2], 2),
                "first_frame_all_tiles_p99_s": round(s[min(len(s) - 1, int(0.99 * (len(s) - 1)))], 2)}  # fmt: skip
    if rss:
        out["rss_mb"] = {k: round(v / 2**20, 1) for k, v in rss.items()}
    return out


def child_tour(urls: list[str], flips: int, dwell_s: float) -> dict:
    """A 3×3 tour of two pages: from each page flip to pictures on all nine tiles (the
    next page's players were started PRESTART_S ahead, as the wall does)."""
    app, panel, pool, preset = _wall(urls, 3, 3)
    ids = [f"c{i}" for i in range(18)]
    preset("TOUR", ids, dwell_s)
    took: list[float] = []
    warm_frames: list[int] = []  # of the nine pre-started players, how many had a frame
    for _ in range(flips + 1):
        page = panel.page
        _run_for(app, dwell_s + 5, lambda page=page: panel.page != page)
        t0 = time.monotonic()
        warm_frames.append(
            sum(1 for t in panel.tiles if t.player is not None and t.player.frames() > 0)
        )

        def shown() -> bool:
            return all(t.state == "playing" and t.player is not None and t.player.frames() > 0
                       for t in panel.tiles)  # fmt: skip

        _run_for(app, 10, shown)
        took.append(time.monotonic() - t0 if shown() else float("inf"))
    took, warm_frames = took[1:], warm_frames[1:]  # the first page was not pre-started
    routes = sorted({t.player.route for t in panel.tiles if t.player is not None})
    panel.detach()
    pool.close()
    s = sorted(took)
    return {"flips": len(took), "flip_to_pictures_ms_p50": round(s[len(s) // 2] * 1000, 1),
            "flip_to_pictures_ms_max": round(s[-1] * 1000, 1), "all_ms": [round(x * 1000) for x in took],
            "prestarted_with_a_frame_at_the_flip": warm_frames,
            "routes": routes}  # fmt: skip


# --- the whole process ----------------------------------------------------------------------

WALLS = {  # name: (screens, rows × cols per region, regions per screen, profile)
    "4x4": ([(1920, 1080)], (4, 4), 1, "sub"),
    # two 1080p monitors side by side as one X screen (as a 2-output GPU shows them)
    "3x3x2": ([(3840, 1080)], (3, 3), 2, "sub"),
    "4k": ([(3840, 2160)], (2, 2), 1, "main"),
    # the whole six-screen district wall (layouts/district-3x2.json: map, indicators, the
    # feed, trends, status beside two 3 × 3 video screens), its 18 tiles playing 16 cameras
    # (a node's decoder budget): what a district centre runs, every panel included
    "district": ([(1920, 1080)] * 6, (3, 3), 1, "sub"),
}
DISTRICT_LIVE = 16


def wall_layout(name: str) -> dict:
    screens, (rows, cols), regions, _ = WALLS[name]
    out: dict = {"name": f"bench-{name}", "screens": [], "modes": {"normal": {}}}
    x = 0
    span = 24 // regions
    for i, (w, h) in enumerate(screens):
        sname = f"s{i + 1}"
        out["screens"].append({"name": sname, "x": x, "y": 0, "width": w, "height": h})
        out["modes"]["normal"][sname] = [{"id": f"v{i + 1}-{k + 1}", "panel": "video", "rect": [k * span, 0, span, 24],
                                          "options": {"rows": rows, "cols": cols}} for k in range(regions)]  # fmt: skip
        x += w
    return out


def _proc_ticks(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def whole_wall(server, tmp: Path, name: str, native: bool, seconds: float) -> dict:
    """One layout: the bare decode of its streams, then `wallclient run` playing them."""
    from tests.helpers import WallProcess, start_xvfb, wait_for, write_layout

    screens, (rows, cols), regions, profile = WALLS[name]
    n = rows * cols * regions * len(screens)
    if name == "district":
        n = DISTRICT_LIVE
    cams = [c for c in server.admin("cameras") if c["status"] == "online" and not c.get("ptz")
            and c["streams"]["sub"].endswith(".ts")][:n]  # fmt: skip
    assert len(cams) == n, "not enough HTTP-TS cameras in the demo district"
    urls = [c["streams"][profile] for c in cams]
    w, h = PROFILE_SIZE[profile]
    floor = _child(["--kind", "floor", "--urls", json.dumps(urls), "--size", f"{w}x{h}",
                    "--seconds", str(seconds)])  # fmt: skip
    xvfb = None
    display = None
    if native:
        width = sum(sw for sw, _ in screens)
        height = max(sh for _, sh in screens)
        xvfb, display = start_xvfb(tmp, f"{width}x{height}")
    cfg = tmp / f"{name}.toml"
    cfg.write_text(f"[video]\nmax_decoders = {max(16, n)}\n")
    if name == "district":
        layout = Path(__file__).resolve().parent.parent / "layouts" / "district-3x2.json"
    else:
        layout = write_layout(tmp, wall_layout(name), f"{name}.json")
    wall = WallProcess(tmp, server.url, "tok-commander", "--layout", str(layout), "--config", str(cfg),
                       node=f"bench-{name}", display=display)  # fmt: skip
    try:
        wall.start()
        wait_for(lambda: wall.conn()["state"] == "live", 30, "live")
        # the process with its tiles empty: what the wall costs besides video
        server.admin("publish", type="preset.upsert", data={"id": "B-empty", "name": "empty", "scenario": "bench",
                                                            "emergency": False, "cameras": []})  # fmt: skip
        server.admin("publish", type="wall.state", data={"wall": "wall-1", "mode": "normal", "preset": "B-empty",
                                                         "changed_by": "bench", "changed_at": _now()})  # fmt: skip
        wait_for(
            lambda: all(t["camera"] is None for t in wall.status()["tiles"]), 30, "empty tiles"
        )
        time.sleep(2)
        c0, t0 = _proc_ticks(wall.proc.pid), time.monotonic()
        time.sleep(seconds / 2)
        idle = (_proc_ticks(wall.proc.pid) - c0) / (time.monotonic() - t0) * 100
        ids = [c["id"] for c in cams]
        server.admin("publish", type="preset.upsert", data={"id": f"B-{name}", "name": name, "scenario": "bench",
                                                            "emergency": False, "cameras": ids, "dwell_s": 3600})  # fmt: skip
        server.admin("publish", type="wall.state", data={"wall": "wall-1", "mode": "normal", "preset": f"B-{name}",
                                                         "changed_by": "bench", "changed_at": _now()})  # fmt: skip

        def playing() -> bool:
            tiles = [t for t in wall.status()["tiles"] if t["camera"] is not None]
            return len(tiles) == n and all(t["state"] == "playing" for t in tiles)

        try:
            wait_for(playing, 60, "every tile playing")
        except AssertionError:
            print([(t["state"], t["error"]) for t in wall.status()["tiles"]], file=sys.stderr)
            raise
        time.sleep(4)  # settle
        pid = wall.proc.pid
        c0, x0, t0 = _proc_ticks(pid), _proc_ticks(xvfb.pid) if xvfb else 0.0, time.monotonic()
        frames0 = [t["frames"] for t in wall.status()["tiles"] if t["camera"] is not None]
        time.sleep(seconds)
        dt = time.monotonic() - t0
        cpu = (_proc_ticks(pid) - c0) / dt * 100
        xcpu = ((_proc_ticks(xvfb.pid) - x0) / dt * 100) if xvfb else 0.0
        tiles = [t for t in wall.status()["tiles"] if t["camera"] is not None]
        # frames each tile showed over the window (the players' own counts, not a rate estimate)
        per_tile = [(t["frames"] - f0) / dt for t, f0 in zip(tiles, frames0, strict=True)]
        return {"tiles": n, "profile": profile, "route": sorted({t["route"] for t in tiles}),
                "floor_cpu": floor["cpu_percent"], "floor_fps_min": floor["fps_min"],
                "wall_cpu": round(cpu, 1), "x_cpu": round(xcpu, 1), "wall_idle_cpu": round(idle, 1),
                "ratio": round(cpu / floor["cpu_percent"], 2),
                "ratio_with_x": round((cpu + xcpu) / floor["cpu_percent"], 2),
                "tile_fps_min": round(min(per_tile), 1), "tile_fps_mean": round(statistics.mean(per_tile), 1),
                "stream": {t["stream"] for t in tiles}.pop()}  # fmt: skip
    finally:
        wall.stop()
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)


def forms(server, tmp: Path, switches: int) -> dict:
    """Preset switch → first picture on all four tiles of a 2 × 2 wall, per URL form."""
    from tests.e2e.test_url_forms import form_urls
    from tests.helpers import WallProcess, wait_for, write_layout
    from wallclient.demo.relay import Relay

    cams = [c for c in server.admin("cameras") if c["status"] == "online" and not c.get("ptz")][:8]
    relay = Relay({c["id"]: form_urls(server.ready, c["id"])["rtsp"] for c in cams}).start()
    layout = {"name": "forms-2x2", "screens": [{"name": "v", "x": 0, "y": 0, "width": 1920, "height": 1080}],
              "modes": {"normal": {"v": [{"id": "g", "panel": "video", "rect": [0, 0, 24, 24],
                                          "options": {"rows": 2, "cols": 2}}]}}}  # fmt: skip
    wall = WallProcess(tmp, server.url, "tok-commander", "--layout", str(write_layout(tmp, layout, "forms.json")),
                       node="bench-forms")  # fmt: skip
    out: dict = {}
    try:
        wall.start()
        wait_for(lambda: wall.conn()["state"] == "live", 30, "live")
        for form in form_urls(server.ready, cams[0]["id"], relay):
            took: list[float] = []
            for k in range(switches + 2):  # the first round of each set warms its sources
                group = cams[:4] if k % 2 == 0 else cams[4:]
                for c in group:
                    url = form_urls(server.ready, c["id"], relay)[form]
                    server.admin(
                        "publish",
                        type="camera.upsert",
                        data={**c, "streams": {"sub": url, "main": url}},
                    )
                ids = [c["id"] for c in group]
                pid = f"F-{form}-{k % 2}"
                server.admin("publish", type="preset.upsert", data={"id": pid, "name": pid, "scenario": "bench",
                                                                    "emergency": False, "cameras": ids})  # fmt: skip
                t0 = time.monotonic()
                server.admin("publish", type="wall.state", data={"wall": "wall-1", "mode": "normal", "preset": pid,
                                                                 "changed_by": "bench", "changed_at": _now()})  # fmt: skip

                def shown(ids=ids) -> bool:
                    tiles = wall.status()["tiles"]
                    return [t["camera"] for t in tiles] == ids and all(
                        t["frame_age_ms"] is not None for t in tiles
                    )

                wait_for(shown, 20, f"{form}: pictures on every tile")
                if k >= 2:
                    took.append(time.monotonic() - t0)
                time.sleep(1.0)
            routes = sorted({t["route"] for t in wall.status()["tiles"]})
            out[form] = {"p50_s": round(pct(took, 50), 2), "p99_s": round(pct(took, 99), 2),
                         "max_s": round(max(took), 2), "switches": len(took), "route": routes}  # fmt: skip
            print(form, out[form], flush=True)
    finally:
        wall.stop()
        relay.stop()
    return out


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- parent ---------------------------------------------------------------------------------


def _child(args: list[str], env: dict | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "_child", *args], stdout=subprocess.PIPE, text=True,
        timeout=7200, env=env,
    )  # fmt: skip
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"the child printed no result (exit {out.returncode})")
    return json.loads(lines[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["cpu", "switch", "rss", "tour", "wall", "forms", "_child"])
    ap.add_argument("--walls", default="4x4,3x3x2,4k")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--flips", type=int, default=6)
    ap.add_argument("--dwell", type=float, default=10)
    ap.add_argument("--seconds", type=float, default=12)
    ap.add_argument("--counts", default="1,4,9,16")
    ap.add_argument("--profiles", default="cif,sub,main")
    ap.add_argument("--route", default="libvlc", choices=["libvlc", "pyav"])
    ap.add_argument("--native", action="store_true",
                    help="tiles on a real X server (Xvfb), libvlc drawing into native windows")  # fmt: skip
    ap.add_argument("--switches", type=int, help="default: 40 (switch, rss), 12 (forms)")
    ap.add_argument("--kind")
    ap.add_argument("--urls")
    ap.add_argument("--size")
    a = ap.parse_args()
    if a.what == "_child":
        from wallclient.edges.video import cap_malloc_arenas

        cap_malloc_arenas()  # as `wallclient run` does
        urls = json.loads(a.urls)
        if a.kind == "floor":
            w, h = (int(x) for x in a.size.split("x"))
            print(json.dumps(child_floor(urls, a.seconds, (w, h))))
        elif a.kind == "wall":
            w, h = (int(x) for x in a.size.split("x"))
            print(json.dumps(child_wall(urls, a.seconds, (w, h))))
        elif a.kind == "tour":
            print(json.dumps(child_tour(urls, a.flips, a.dwell)))
        else:
            print(json.dumps(child_switch(urls, a.switches, a.kind == "rss")))
        return
    from tests.helpers import DemoServer

    tmp = Path(tempfile.mkdtemp(prefix="bench-video-"))
    server = DemoServer(tmp, state=False).start()
    xvfb = None
    wall_env = None
    if a.native and a.what != "wall":
        from tests.helpers import start_xvfb

        xvfb, display = start_xvfb(tmp, "3000x2000")
        wall_env = dict(os.environ, QT_QPA_PLATFORM="xcb", DISPLAY=display,
                        BENCH_XVFB_PID=str(xvfb.pid))  # fmt: skip
    try:
        results: dict = {}
        if a.what == "cpu":
            for profile in a.profiles.split(","):
                w, h = PROFILE_SIZE[profile]
                for n in (int(x) for x in a.counts.split(",")):
                    floor_urls = _urls(server.ready, profile, "libvlc", n)
                    ours_urls = _urls(server.ready, profile, a.route, n)
                    floor = _child(
                        [
                            "--kind",
                            "floor",
                            "--urls",
                            json.dumps(floor_urls),
                            "--size",
                            f"{w}x{h}",
                            "--seconds",
                            str(a.seconds),
                        ]
                    )
                    ours = _child(
                        [
                            "--kind",
                            "wall",
                            "--urls",
                            json.dumps(ours_urls),
                            "--size",
                            f"{w}x{h}",
                            "--seconds",
                            str(a.seconds),
                        ],
                        wall_env,
                    )
                    ratio = (
                        ours["cpu_percent"] / floor["cpu_percent"] if floor["cpu_percent"] else None
                    )
                    results[f"{profile} x{n}"] = {"floor": floor, "ours": ours,
                                                  "ratio": None if ratio is None else round(ratio, 2)}  # fmt: skip
                    print(
                        f"{profile} x{n}: floor {floor} ours {ours} ratio {results[f'{profile} x{n}']['ratio']}",
                        flush=True,
                    )
        elif a.what == "wall":
            for run in range(a.runs):
                for name in a.walls.split(","):
                    r = whole_wall(server, tmp, name, a.native, a.seconds)
                    results[f"{name} run {run + 1}"] = r
                    print(f"{name} ({'native' if a.native else 'callbacks'}): {r}", flush=True)
        elif a.what == "forms":
            results["forms"] = forms(server, tmp, a.switches or 12)
        elif a.what == "tour":
            urls = _urls(server.ready, "sub", a.route, 18)
            results["tour"] = _child(["--kind", "tour", "--urls", json.dumps(urls), "--flips",
                                      str(a.flips), "--dwell", str(a.dwell)], wall_env)  # fmt: skip
        else:
            urls = _urls(server.ready, "sub", a.route, 18)
            kind = "rss" if a.what == "rss" else "switch"
            results[kind] = _child(
                ["--kind", kind, "--urls", json.dumps(urls), "--switches", str(a.switches or 40)]
            )
        print(json.dumps(results, ensure_ascii=False, indent=1))
    finally:
        server.stop()
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)


if __name__ == "__main__":
    main()

"""``wallclient doctor``: what this machine can do, each check with a verdict and a fix.

A check is ``ok``, ``warn`` (works, but not as well as it could: said, exit 0) or
``FAIL`` (exit 1). Video: libvlc, PyAV, the route each URL form takes (docs/video.md),
the video output; the machine: fonts, screens, the backend, the clock, the cache,
memory, screen blanking.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from wallclient import config as config_mod
from wallclient.errors import ConfigError, WallclientError
from wallclient.redact import redact_text


def run(a: argparse.Namespace) -> int:
    """Checks with a verdict and a fix each; exit 1 when one fails (a warning does not)."""
    checks: list[dict[str, Any]] = []

    def check(name: str, ok: bool, detail: str, fix: str = "", warn: bool = False) -> None:
        """``warn``: a shortcoming that is said but does not fail the machine."""
        checks.append({"check": name, "ok": ok or warn, "warn": warn and not ok,
                       "detail": detail, "fix": "" if ok else fix})  # fmt: skip

    try:
        import vlc

        inst = vlc.Instance(["--quiet"])
        ok = inst is not None
        version = vlc.libvlc_get_version().decode()
        if inst is not None:
            inst.release()
        check("libvlc", ok, f"libvlc {version}", "apt install libvlc5 vlc-plugin-base libvlc-bin")
    except Exception as exc:
        check("libvlc", False, str(exc), "apt install libvlc5 vlc-plugin-base libvlc-bin")
    try:
        import av

        check("PyAV (FFmpeg)", True, f"PyAV {av.__version__}, FFmpeg {av.ffmpeg_version_info}")
    except Exception as exc:
        check("PyAV (FFmpeg)", False, str(exc), "pip install av")
    from wallclient.edges.video import libvlc_has_rtsp, routes

    rtsp = libvlc_has_rtsp()
    check("libvlc RTSP (live555)", True,
          "present: rtsp:// plays in libvlc" if rtsp else
          "absent (Debian builds VLC without live555): rtsp:// plays through PyAV")  # fmt: skip
    for form, route in routes().items():
        check(f"route {form}", True, route)
    from wallclient.edges.video.sink import LIBRARY, library

    sink = library() is not None
    check("frame sink", sink,
          "C callbacks: libvlc's decoder threads call no Python for a picture" if sink
          else f"{LIBRARY.name} not loaded: pictures go through Python callbacks (slower on a busy wall)",
          "make setup (cc builds it from sink.c)", warn=True)  # fmt: skip
    from wallclient import display
    from wallclient.edges.video import native_output

    ok, detail = native_output(not display.no_display())
    check("video output", ok, detail, "apt install vlc-plugin-video-output")
    _doctor_machine(a, check)
    if getattr(a, "control_port", None):
        _doctor_running(a, check)
    if a.json:
        print(json.dumps(checks, ensure_ascii=False, indent=1))
    else:
        for c in checks:
            mark = "warn" if c["warn"] else "ok  " if c["ok"] else "FAIL"
            print(
                f"{mark} {c['check']:<26} {c['detail']}"
                + (f"\n     fix: {c['fix']}" if c["fix"] else "")
            )
    return 0 if all(c["ok"] for c in checks) else 1


def _doctor_basemap(cfg: Any, check: Any) -> None:
    """The map's ground: the configured basemap opens, is raster Web Mercator, and has tiles."""
    if cfg.basemap is None:
        check("basemap", True, "none configured: the map draws regions on a blank ground")
        return
    from wallclient.edges.tiles import BasemapError, open_basemap, sniff

    try:
        src = open_basemap(cfg.basemap)
    except BasemapError as exc:
        check("basemap", False, str(exc), "[map] basemap = an MBTiles/PMTiles file or a {z}/{x}/{y} "
              "folder of raster Web Mercator tiles", warn=True)  # fmt: skip
        return
    try:
        d = src.describe()
        detail = (f"{src.kind} {src.format}, zoom {src.min_zoom}–{src.max_zoom}, "
                  f"{src.tile_size} px, {cfg.basemap_datum}")  # fmt: skip
        check("basemap", True, f"{cfg.basemap}: {detail}")
        if d["bounds"]:
            from wallclient.mercator import tile_of

            west, south, east, north = d["bounds"]
            z = src.min_zoom
            data = src.get(z, *tile_of((west + east) / 2, (south + north) / 2, z))
            ok = data is not None and sniff(data) is not None
            check("basemap tiles", ok, "a tile at the centre of its bounds reads as an image" if ok
                  else "no readable tile at the centre of its bounds", "check the file", warn=True)  # fmt: skip
    finally:
        src.close()


def _doctor_tablet(cfg: Any, check: Any) -> None:
    """The tablet page's certificate: its SHA-256, to compare with what a tablet's browser
    shows on its first visit (docs/tablet.md)."""
    from wallclient.edges.tablet.cert import fingerprint

    cert = cfg.tablet_cert or Path(cfg.cache).parent / "tablet-cert.pem"
    if not cert.exists():
        detail = (f"port {cfg.tablet_port}: a certificate is made on first start" if cfg.tablet_port
                  else "off ([tablet] port)")  # fmt: skip
        check("tablet page", True, detail)
        return
    try:
        check("tablet page", True, f"port {cfg.tablet_port or 'off'}; certificate {cert} SHA-256 {fingerprint(cert)}")
    except (OSError, ValueError) as exc:
        check("tablet page", False, f"{cert}: {exc}", "give [tablet] cert/key as PEM, or remove the made ones", warn=True)


def _doctor_machine(a: argparse.Namespace, check: Any) -> None:
    """Fonts, screens, the backend (reachable, token, clock), the cache, files, memory."""
    from wallclient import display

    cfg = config_mod.load(a.config, {"server": a.server, "token_file": a.token_file,
                                     "cache": a.cache, "layout": a.layout, "ca_file": a.ca_file,
                                     "basemap": a.basemap})  # fmt: skip
    _doctor_basemap(cfg, check)
    _doctor_tablet(cfg, check)
    fallback = display.headless_fallback()
    display.make_app("zh_CN")
    from PySide6.QtGui import QFontDatabase

    from wallclient.fonts import FONT_FAMILY

    families = set(QFontDatabase.families())
    cjk = FONT_FAMILY in families or any("CJK" in f or "Hei" in f for f in families)
    check("fonts (Chinese)", cjk, FONT_FAMILY if FONT_FAMILY in families else
          ("another CJK font" if cjk else "no CJK font: Chinese shows as boxes"),
          "apt install fonts-wqy-microhei (or fonts-noto-cjk)")  # fmt: skip
    from wallclient import layout as layout_mod

    screens = display.describe_screens()
    try:
        lay = layout_mod.load(cfg.layout or layout_mod.default_path())
        names = {s["name"] for s in screens}
        matched = [s.name for s in lay.screens if s.name in names]
        by = "by name" if matched else "by order"
        missing = max(0, len(lay.screens) - (len(matched) if matched else len(screens)))
        check("screens", not fallback and missing == 0,
              ("no display (offscreen) · " if fallback else "")
              + f"{len(screens)} connected, layout {lay.name} has {len(lay.screens)} (matched {by})"
              + (f", {missing} missing" if missing else ""),
              "connect the screens, or name layout screens after `wallclient screens`; "
              "`wallclient identify --layout FILE` shows which is which")  # fmt: skip
    except WallclientError as exc:
        check("layout", False, str(exc).splitlines()[0], "wallclient layout validate FILE")
    # the backend: reachable, the token accepted, the clocks agree
    try:
        token = cfg.read_token()
    except ConfigError as exc:
        token = None
        check("token", False, str(exc), "give --token-file (chmod 600) or set $WALLCLIENT_TOKEN")
    if cfg.token_file is not None and os.name == "posix" and cfg.token_file.exists():
        loose = bool(cfg.token_file.stat().st_mode & 0o077)
        check("token file", not loose, f"{cfg.token_file} mode {oct(cfg.token_file.stat().st_mode & 0o777)}",
              f"chmod 600 {cfg.token_file}")  # fmt: skip
    if token is not None:
        welcome, error = asyncio.run(_probe_backend(cfg, token))
        if welcome is None:
            check("backend", False, f"{redact_text(cfg.server)}: {error}",
                  "check the server URL, the network and firewall, the CA file (wss://) and the token")  # fmt: skip
        else:
            check(
                "backend", True, f"{redact_text(cfg.server)}: {welcome['role']} {welcome['user']}"
            )
            check("play URLs", True, ("per open from the video platform (stream.resolve): "
                                      + welcome["resolve_probe"]) if welcome["resolve"]
                  else "fixed, from the catalogue (the backend offers no stream.resolve)")  # fmt: skip
            skew = welcome["skew_s"]
            check("clock", abs(skew) <= 2.0, f"{skew:+.2f} s against the backend",
                  "turn on time sync: timedatectl set-ntp true (or chrony); the wall corrects "
                  "its clock to the backend's, but logs and audit use this machine's")  # fmt: skip
    if cfg.cache.exists():
        from wallclient.edges.cache import Cache

        try:
            cache = Cache(cfg.cache).open(create=False)
            problems = cache.check()
            cache.close()
        except (WallclientError, OSError) as exc:
            problems = [str(exc)]
        check("cache", not problems, f"{cfg.cache}: " + ("ok" if not problems else "; ".join(problems)[:200]),
              f"move {cfg.cache} aside: the wall takes a fresh snapshot from the backend")  # fmt: skip
    else:
        check("cache", True, f"{cfg.cache}: none yet (made at the first run)")
    arenas = os.environ.get("MALLOC_ARENA_MAX")
    # the wall caps its own arenas as it starts; exported before the interpreter starts
    # (the unit does) they are capped for the threads started before that too
    check("memory (malloc arenas)", arenas is not None or sys.platform != "linux",
          f"MALLOC_ARENA_MAX={arenas}" if arenas else "not capped in the environment (the wall caps itself as it starts)",
          "run under resources/systemd/wallclient.service (sets MALLOC_ARENA_MAX=2)", warn=True)  # fmt: skip
    from wallclient.edges.kiosk import xset_state

    saver = xset_state()
    if saver is not None:
        awake = not saver["screensaver"] and not saver["dpms"]
        check("screen blanking", awake, f"X11 screen saver {'on' if saver['screensaver'] else 'off'}, "
              f"DPMS {'on' if saver['dpms'] else 'off'}",
              "run the wall with --kiosk (it turns both off while it runs)")  # fmt: skip


async def _probe_resolve(ws: Any) -> str:
    """One play URL asked for, timed, and given back: the first ``resolve`` camera of the
    snapshot that follows the welcome (``stream.resolve``, docs/protocol-decisions.md)."""
    from wallclient import protocol
    from wallclient.edges.video.resolved import preferred_protocols

    camera = None
    async with asyncio.timeout(20):
        while camera is None:
            msg = protocol.parse(await ws.recv())
            if msg.type == "snapshot.part" and msg.data.get("kind") == "cameras":
                camera = next((c["id"] for c in msg.data["items"]
                               if c.get("resolve") and c.get("status") == "online"), None)  # fmt: skip
            elif msg.type == "snapshot.end":
                return "the backend offers resolve, but no online camera uses it"
    t0 = time.monotonic()
    await ws.send(protocol.command("stream.resolve", {"camera": camera, "stream": "sub", "kind": "live",
                                                      "protocols": preferred_protocols()}, "doctor-resolve"))  # fmt: skip
    async with asyncio.timeout(20):
        while True:
            msg = protocol.parse(await ws.recv())
            if msg.type == "ack" and msg.data.get("id") == "doctor-resolve":
                break
    ms = (time.monotonic() - t0) * 1000
    if not msg.data.get("ok"):
        err = msg.data.get("error") or {}
        return f"{camera}: refused in {ms:.0f} ms ({err.get('code')}: {err.get('message')})"
    data = msg.data.get("data") or {}
    from urllib.parse import urlsplit

    from wallclient.edges.video import url_form
    from wallclient.redact import redact_url

    if data.get("release"):
        await ws.send(protocol.command("stream.release", {"release": data["release"]}, "doctor-release"))
    kind = "single-use" if data.get("single_use") else "reusable"
    # the URL's host, not its path: an iSecure Center token is as good as a password
    host = urlsplit(redact_url(str(data.get("url", "")))).netloc
    return (f"{camera}: a {url_form(data.get('url', ''))} URL from {host} in {ms:.0f} ms ({kind}"
            + (f", expires {data['expires_at']}" if data.get("expires_at") else "") + ")")


async def _probe_backend(cfg: Any, token: str) -> tuple[dict[str, Any] | None, str]:
    """Connect, say hello, read the welcome: (role, user, clock skew) or why not."""
    from websockets.asyncio.client import connect

    from wallclient import protocol
    from wallclient.edges.feed import ssl_context

    try:
        async with connect(cfg.server, additional_headers={"Authorization": f"Bearer {token}"},
                           ssl=ssl_context(cfg.server, cfg.ca_file), open_timeout=5,
                           max_size=protocol.MAX_FRAME) as ws:  # fmt: skip
            await ws.send(protocol.hello(client="wallclient-doctor", wall=cfg.wall, node=cfg.node,
                                         scope=cfg.scope, resume_from=None))  # fmt: skip
            sent = time.time()
            async with asyncio.timeout(5):
                while True:
                    msg = protocol.parse(await ws.recv())
                    if msg.type == "welcome":
                        got = time.time()
                        server = protocol.parse_time(msg.data["server_time"]).timestamp()
                        out = {"role": msg.data.get("role"), "user": msg.data.get("user"),
                               "skew_s": server - (sent + got) / 2,
                               "resolve": "resolve" in (msg.data.get("features") or [])}  # fmt: skip
                        if out["resolve"]:
                            out["resolve_probe"] = await _probe_resolve(ws)
                        return out, ""
                    if msg.type == "error":
                        return None, f"{msg.data.get('code')}: {msg.data.get('message')}"
    except Exception as exc:  # every way of not reaching it is a finding, said plainly
        text = str(exc) or type(exc).__name__
        if "401" in text:
            text = "token refused (HTTP 401)"
        return None, text
    return None, "no welcome"


def _doctor_running(a: argparse.Namespace, check: Any) -> None:
    """A running wall's ``status.resources`` (its control API), each figure against what
    is normal for a wall that runs for months (docs/operations.md)."""
    cfg = config_mod.load(a.config, {"control_port": a.control_port,
                                     "control_token_file": a.control_token_file})  # fmt: skip
    fix = "give --control-token-file (the file `run` was given)"
    if cfg.control_token_file is None:
        check("running wall", False, "--control-port needs --control-token-file", fix)
        return
    try:
        token = cfg.control_token_file.read_text(encoding="utf-8").strip()
        status = asyncio.run(_control_status(a.control_port, token))
    except Exception as exc:  # not running, another program, a refused token: said
        check("running wall", False, f"127.0.0.1:{a.control_port}: {str(exc) or type(exc).__name__}",
              "is `wallclient run --control-port` running with this token?")  # fmt: skip
        return
    res = status.get("resources") or {}
    pl, ctl, proc = res.get("players", {}), res.get("control", {}), res.get("process", {})
    cache = res.get("cache", {})
    check("running wall", True, f"{status.get('wall', {}).get('wall')} · "
          f"RSS {proc.get('rss_mb')} MB · {proc.get('threads')} threads · "
          f"fds {proc.get('fds', {}).get('total')} · Python blocks {res.get('python', {}).get('allocated_blocks')}"
          + (" · heap {used} MB used, {free} MB free, {mapped} MB mapped".format(**proc["heap"])
             if proc.get("heap") else ""))  # fmt: skip
    routes = ", ".join(f"{r} {n['live']}+{n['idle']}" for r, n in sorted(pl.get("routes", {}).items()))
    check("players", not pl.get("vlc_retained"),
          f"live {pl.get('live')}, idle {pl.get('idle')} ({routes or 'none'}); made {pl.get('created')}, "
          f"ended {pl.get('closed')}, abandoned {pl.get('abandoned')}; PyAV readers {pl.get('pyav_threads')}; "
          f"kept by python-vlc {pl.get('vlc_retained')} (normal: 0)",
          "players are being kept alive: report it with this output", warn=True)  # fmt: skip
    stuck = ctl.get("running_s", 0) > 2 or ctl.get("queue", 0) > 50
    check("libvlc control thread", not stuck and not ctl.get("stuck"),
          f"queue {ctl.get('queue')} (normal: < 50), running job {ctl.get('running_s')} s (normal: < 2), "
          f"hung calls given up on {ctl.get('stuck')} (normal: 0); libvlc threads behind the GUI "
          f"{ctl.get('lowered_threads', 0)} (normal: ~3 a live player, 0 with decoder_nice = 0)",
          "a libvlc call hung: the log names the camera; its tile recovered with a new player", warn=True)  # fmt: skip
    live_native = pl.get("routes", {}).get("libvlc-native", {}).get("live", 0)
    windows = res.get("native_windows", 0)
    check("native windows", windows <= max(2 * live_native, 2 * (pl.get("live") or 0), 4),
          f"{windows} X windows for {live_native} native players (normal: ≤ 2 × live players)",
          "report it with this output", warn=True)  # fmt: skip
    wal = cache.get("wal_bytes", 0)
    check("cache files", wal <= 8 * 1024 * 1024,
          f"database {cache.get('db_bytes', 0) / 1e6:.1f} MB, write-ahead log {wal / 1e6:.1f} MB "
          f"(normal: ≤ 8 MB); audit {cache.get('audit')} rows, replay log {cache.get('incident_log')} rows",
          "a reader holds the log: restart the wall at a quiet moment", warn=True)  # fmt: skip


async def _control_status(port: int, token: str) -> dict[str, Any]:
    from wallclient.edges.control import call

    reply = await call(port, token, "status", {"heap": True})
    if not reply.get("ok"):
        raise RuntimeError(str(reply.get("error", {}).get("message") or reply.get("error")))
    return dict(reply["data"])

"""The ``wallclient`` command: run the wall, serve the demo backend, inspect the cache."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import logging.handlers
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wallclient import config as config_mod
from wallclient import paths
from wallclient.config import CONFIG_ENV
from wallclient.errors import CacheError, ConfigError, WallclientError
from wallclient.protocol import CST, parse_time
from wallclient.redact import redact_text

log = logging.getLogger("wallclient")


class _RedactingFormatter(logging.Formatter):
    """Log lines never carry stream credentials (issue 7, security)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


def setup_logging(level: str = "INFO", log_dir: Path | None = None) -> None:
    fmt = _RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(level)
    root.handlers.clear()
    err = logging.StreamHandler(sys.stderr)
    err.setFormatter(fmt)
    root.addHandler(err)
    if log_dir is not None:
        paths.private_dir(log_dir)
        fh = logging.handlers.RotatingFileHandler(
            log_dir / "wallclient.log", maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
        fh.setFormatter(fmt)
        root.addHandler(fh)
        os.chmod(log_dir / "wallclient.log", 0o600)
    logging.getLogger("websockets").setLevel(logging.WARNING)


# --- run ----------------------------------------------------------------------------------


def _run_overrides(a: argparse.Namespace) -> dict[str, Any]:
    return {
        "server": a.server,
        "token_file": a.token_file,
        "ca_file": a.ca_file,
        "wall": a.wall,
        "node": a.node,
        "cache": a.cache,
        "layout": a.layout,
        "offscreen": True if a.offscreen else None,
        "control_port": a.control_port,
        "control_token_file": a.control_token_file,
        "tablet_port": a.tablet_port,
        "lang": a.lang,
        "scope_level": a.scope_level,
        "scope_code": a.scope_code,
        "screens": a.screens,
        "log_dir": a.log_dir,
        "basemap": a.basemap,
        "basemap_datum": a.basemap_datum,
    }


def cmd_run(a: argparse.Namespace) -> int:
    cfg = config_mod.load(a.config, _run_overrides(a))
    if a.kiosk and cfg.log_dir is None:
        cfg.log_dir = paths.user_log_dir()  # unattended: rotating logs in the platform's place
    setup_logging(a.log_level, cfg.log_dir)
    token = cfg.read_token()
    _warn_if_readable(cfg.token_file)
    control_token = None
    if cfg.control_port:
        if cfg.control_token_file is None:
            raise ConfigError("--control-port needs --control-token-file")
        control_token = cfg.control_token_file.read_text(encoding="utf-8").strip()
        _warn_if_readable(cfg.control_token_file)
    if a.headless:
        return _run_headless(cfg, token, control_token, a.exit_after)
    from wallclient import app

    return app.run(cfg, token, control_token, exit_after=a.exit_after, screenshots=a.screenshots,
                   kiosk=a.kiosk)  # fmt: skip


def cmd_supervise(a: argparse.Namespace) -> int:
    setup_logging(a.log_level)
    from wallclient.edges.kiosk import supervise

    argv = [x for x in a.argv if x != "--"] if a.argv[:1] == ["--"] else list(a.argv)
    if not argv or argv[0] != "run":
        raise ConfigError(
            "supervise runs `wallclient run …`: wallclient supervise -- run [options]"
        )
    return supervise(argv, watchdog_s=a.watchdog, max_restarts=a.max_restarts, backoff_s=a.backoff)


def _warn_if_readable(path: Path | None) -> None:
    if path is not None and os.name == "posix" and path.exists() and path.stat().st_mode & 0o077:
        log.warning("%s is readable by other users; chmod 600 it", path)


def _run_headless(
    cfg: config_mod.Config, token: str, control_token: str | None, exit_after: float | None
) -> int:
    """Sync and persist with no Qt at all (benches, soak, servers without Qt)."""
    from wallclient.edges.control import ControlServer
    from wallclient.edges.sync import SyncClient

    async def main() -> int:
        client = SyncClient(cfg, token)
        control = None
        if cfg.control_port and control_token:
            control = ControlServer(cfg.control_port, control_token)

            async def status(_args: dict[str, Any]) -> Any:
                return client.status()

            control.register("status", status)
            await control.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        task = asyncio.create_task(client.run())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), exit_after)
        await client.finish(task)
        if control is not None:
            await control.stop()
        client.writer.stop()
        return 0

    return asyncio.run(main())


# --- serve-demo -----------------------------------------------------------------------------


def cmd_serve_demo(a: argparse.Namespace) -> int:
    setup_logging(a.log_level)
    from wallclient.demo.start import serve_demo

    return asyncio.run(serve_demo(a))


# --- demo: serve-demo + run ----------------------------------------------------------------


def cmd_demo(a: argparse.Namespace) -> int:
    setup_logging(a.log_level)
    work = Path(tempfile.mkdtemp(prefix="wallclient-demo-"))
    tokens = work / "tokens"
    tokens.write_text("demo-commander commander 指挥长\ndemo-admin admin admin\n", encoding="utf-8")
    (work / "token").write_text("demo-commander\n", encoding="utf-8")
    os.chmod(work / "token", 0o600)
    from wallclient import layout as layout_mod
    from wallclient.config import Config

    # the first preset fills the layout's video tiles, up to what one node decodes at once
    tiles = layout_mod.load(a.layout or layout_mod.default_path()).video_tiles()
    first = min(tiles, Config.max_decoders) if tiles else 0
    server = subprocess.Popen(
        [sys.executable, "-m", "wallclient", "serve-demo", "--port", "0", "--media-port", "0",
         "--rtsp-port", "0", "--tokens", str(tokens), "--seed", str(a.seed),
         "--playback-port", "0", "--record-dir", str(work / "recordings"),
         "--platform", a.platform]  # the wall resolves every open, as in a centre
        + (["--first-preset-size", str(first)] if first else []),
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        ready = json.loads(server.stdout.readline())
        offscreen = a.offscreen or not os.environ.get("DISPLAY")
        out = Path(a.screenshots or "out/screenshots").resolve()
        args = [sys.executable, "-m", "wallclient", "run", "--server", ready["ws"], "--token-file", str(work / "token"),
                "--cache", str(a.cache or work / "cache.sqlite"), "--wall", "wall-1", "--node", "demo-node"]  # fmt: skip
        if a.layout:
            args += ["--layout", str(a.layout)]
        # the demo's own basemap of 嘉定区 (made once, kept): docs/map.md
        from wallclient.demo.basemap import ensure

        cache_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wallclient"
        args += ["--basemap", str(ensure(cache_dir / f"basemap-jiading-{a.seed}-v2.mbtiles", a.seed))]
        if offscreen:
            args += ["--offscreen", "--exit-after", str(a.duration), "--screenshots", str(out)]
        log.info(
            "demo backend at %s; wall client starting%s",
            ready["ws"],
            " offscreen" if offscreen else "",
        )
        code = subprocess.call(args)
        if offscreen:
            print(f"screenshots of every screen: {out}")
        return code
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


# --- tablet ---------------------------------------------------------------------------------


def cmd_tablet(a: argparse.Namespace) -> int:
    """``tablet pair|list|revoke`` through the running wall's control API."""
    cfg = config_mod.load(a.config, {"control_port": a.control_port,
                                     "control_token_file": a.control_token_file})  # fmt: skip
    if not cfg.control_port or cfg.control_token_file is None:
        raise ConfigError("the wall's control API: --control-port and --control-token-file (or [control])")
    token = cfg.control_token_file.read_text(encoding="utf-8").strip()
    if a.tablet_cmd == "pair":
        cmd, args = "tablet.pair", {"name": a.name, "role": a.role, "show": a.show}
    elif a.tablet_cmd == "list":
        cmd, args = "tablet.list", {}
    else:
        cmd, args = "tablet.revoke", {"name": a.name}
    from wallclient.edges.control import call

    try:
        reply = asyncio.run(call(cfg.control_port, token, cmd, args))
    except OSError as exc:
        print(f"wallclient: the wall's control API on 127.0.0.1:{cfg.control_port}: {exc}", file=sys.stderr)
        return 2
    if not reply.get("ok"):
        err = reply.get("error") or {}
        print(f"wallclient: {err.get('code')}: {err.get('message')}", file=sys.stderr)
        return 1
    data = reply["data"]
    if a.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    elif a.tablet_cmd == "pair":
        import segno

        print(f"配对链接 / pairing link (once, within {data['code_expires_s'] // 60} min):\n  {data['url']}")
        print(f"证书指纹 / certificate SHA-256:\n  {data['fingerprint']}")
        segno.make(data["url"], error="m").terminal(compact=True)
    elif a.tablet_cmd == "list":
        for t in data["tablets"]:
            lease = "\tholds the lease" if t.get("lease") else ""
            print(f"{t['name']}\t{t['role']}\tpaired {t['paired_at']}\tlast seen {t['last_seen'] or '-'}{lease}")
        if not data["tablets"]:
            print("no tablet is paired")
    else:
        print(f"{a.name}: revoked")
    return 0


# --- doctor ---------------------------------------------------------------------------------


def cmd_doctor(a: argparse.Namespace) -> int:
    from wallclient import doctor

    return doctor.run(a)


# --- cache ----------------------------------------------------------------------------------


def _open_existing(path: Path) -> Any:
    from wallclient.edges.cache import Cache

    if not path.exists():
        raise CacheError(f"{path}: no such file")
    return Cache(path).open(create=False)


def cmd_cache_show(a: argparse.Namespace) -> int:
    cache = _open_existing(a.cache)
    view = cache.view()
    cache.close()
    if a.json:
        print(json.dumps(view, ensure_ascii=False, indent=1))
    else:
        wall = view["wall"] or {}
        print(f"cache {a.cache}: last_seq {view['last_seq']}, invalid {view['invalid']}")
        for k, v in view["counts"].items():
            print(f"  {k:14} {v}")
        print(f"  wall mode {wall.get('mode')} preset {wall.get('preset')}")
    return 0


def cmd_cache_check(a: argparse.Namespace) -> int:
    cache = _open_existing(a.cache)
    problems = cache.check()
    cache.close()
    if problems:
        for p in problems:
            print(f"{a.cache}: {p}", file=sys.stderr)
        return 1
    print(f"{a.cache}: ok")
    return 0


def _since(text: str | None) -> datetime | None:
    """``--since``: RFC 3339 / ISO 8601 (``2026-11-23T08:00+08:00``, ``2026-11-23``) or a
    span back from now (``90s``, ``15m``, ``2h``, ``1d``)."""
    if not text:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd])", text.strip())
    if m:
        secs = float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        return datetime.now(UTC) - timedelta(seconds=secs)
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"--since {text!r}: give a time (2026-11-23T08:00+08:00) or a span (2h)"
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=CST)


def cmd_audit_show(a: argparse.Namespace) -> int:
    since = _since(a.since)
    cache = _open_existing(a.cache)
    rows = cache.audit_rows()
    cache.close()
    if since is not None:
        rows = [r for r in rows if (parse_time(r["at"]) or since) >= since]
    if a.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if not rows:
        print(f"{a.cache}: no audit rows" + (f" since {since.isoformat()}" if since else ""))
        return 0
    for r in rows:
        detail = f" — {r['detail']}" if r.get("detail") else ""
        print(f"{r['at']}  {r.get('user') or '—'} ({r.get('role') or '—'}) @{r.get('node') or '—'}"
              f"  {r['action']} {r.get('args') or ''}  → {r.get('outcome')}{detail}")  # fmt: skip
    return 0


# --- screens ---------------------------------------------------------------------------------


def cmd_screens(a: argparse.Namespace) -> int:
    from wallclient import display

    fallback = display.headless_fallback()
    qapp = display.make_app("en")
    screens = display.describe_screens()
    if fallback:
        print("no display: these are Qt's offscreen platform's virtual screens", file=sys.stderr)
    if a.json:
        print(
            json.dumps(
                {"platform": qapp.platformName(), "screens": screens}, ensure_ascii=False, indent=1
            )
        )
        return 0
    print(f"platform {qapp.platformName()}: {len(screens)} screen(s)")
    for n, sc in enumerate(screens, 1):
        x, y, w, h = sc["geometry"]
        print(f"  {n}. {sc['name']}  {w}×{h} at ({x}, {y})  dpr {sc['device_pixel_ratio']}"
              f"  {sc['manufacturer'] or '—'} {sc['model'] or '—'}  serial {sc['serial'] or '—'}"
              f"{'  (primary)' if sc['primary'] else ''}")  # fmt: skip
    return 0


def cmd_identify(a: argparse.Namespace) -> int:
    from wallclient import installer

    files = installer.identify(a.seconds, a.layout, a.out)
    for f in files:
        print(f)
    return 0


# --- snapshot and layouts -----------------------------------------------------------------


def cmd_snapshot(a: argparse.Namespace) -> int:
    setup_logging(a.log_level)
    from wallclient import installer

    files = installer.snapshot_from_cache(a.layout, a.cache, a.out, a.mode, a.lang)
    for f in files:
        print(f)
    return 0


def cmd_layout_preview(a: argparse.Namespace) -> int:
    setup_logging(a.log_level)
    from wallclient import installer

    for f in installer.preview_layout(a.file, a.out, a.cache, a.mode, a.lang):
        print(f)
    return 0


def cmd_layout_edit(a: argparse.Namespace) -> int:
    setup_logging(a.log_level)
    from wallclient import installer

    return installer.edit_layout(a.file, a.cache, a.lang)


def cmd_layout_validate(a: argparse.Namespace) -> int:
    from wallclient import layout

    lay = layout.load(a.file)
    modes = ", ".join(lay.modes)
    print(f"{a.file}: ok ({len(lay.screens)} screens; modes {modes})")
    return 0


# --- parser ----------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wallclient", description="City-operations video wall client")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="run the wall")
    r.add_argument("--config", type=Path, default=os.environ.get(CONFIG_ENV))
    r.add_argument("--server", help="ws:// or wss:// URL of the backend")
    r.add_argument("--token-file", type=Path)
    r.add_argument("--ca-file", type=Path)
    r.add_argument("--wall")
    r.add_argument("--node")
    r.add_argument("--scope-level")
    r.add_argument("--scope-code")
    r.add_argument("--cache", type=Path)
    r.add_argument("--layout", type=Path)
    r.add_argument("--screens", help="the layout screens this node drives (a wall of several PCs)")
    r.add_argument("--offscreen", action="store_true", help="no display: render screens virtually")
    r.add_argument("--headless", action="store_true", help="sync and persist only, no Qt")
    r.add_argument("--control-port", type=int)
    r.add_argument("--control-token-file", type=Path)
    r.add_argument("--tablet-port", type=int,
                   help="serve the commander's tablet page on this HTTPS port (docs/tablet.md)")  # fmt: skip
    r.add_argument("--lang", choices=["zh_CN", "en"])
    r.add_argument("--log-dir", type=Path)
    r.add_argument("--basemap", type=Path,
                   help="the map's ground: MBTiles, PMTiles or a {z}/{x}/{y} folder (raster)")  # fmt: skip
    r.add_argument("--basemap-datum", choices=["wgs84", "gcj02"],
                   help="gcj02 for 高德/腾讯 tiles (overlays are registered to them)")  # fmt: skip
    r.add_argument("--exit-after", type=float, help="stop after this many seconds")
    r.add_argument("--kiosk", action="store_true",
                   help="unattended: screens kept awake, logs in the platform's log directory")  # fmt: skip
    r.add_argument(
        "--screenshots", type=Path, help="with --exit-after: PNG of every screen at the end"
    )
    r.set_defaults(func=cmd_run)

    sv = sub.add_parser("supervise", help="run the wall and restart it when it exits or hangs")
    sv.add_argument(
        "--watchdog", type=float, default=30.0, help="seconds without a GUI heartbeat = hung"
    )
    sv.add_argument("--max-restarts", type=int)
    sv.add_argument("--backoff", type=float, default=3.0)
    sv.add_argument("argv", nargs=argparse.REMAINDER, help="-- run [run's options]")
    sv.set_defaults(func=cmd_supervise)

    s = sub.add_parser("serve-demo", help="the reference backend with a synthetic district")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--rate", type=float, default=1.0, help="incident events per second")
    s.add_argument("--tokens", type=Path, help="lines of 'token role [user]'")
    s.add_argument("--scale", choices=["default", "district-max"], default="default")
    s.add_argument("--walls", default="wall-1", help="comma-separated wall ids")
    s.add_argument("--media-port", type=int, default=8090)
    s.add_argument("--rtsp-port", type=int, default=8554)
    s.add_argument("--no-media", action="store_true")
    s.add_argument("--clip-dir", type=Path)
    s.add_argument(
        "--state", type=Path, help="persist the backend's state here (survives restarts)"
    )
    s.add_argument("--replay-window", type=int, default=10_000)
    s.add_argument("--live-cap", type=int, default=10_000,
                   help="live incidents the event mix settles around (fewer new ones above it)")  # fmt: skip
    s.add_argument("--tls-cert", type=Path, help="serve wss:// with this certificate (PEM)")
    s.add_argument("--tls-key", type=Path, help="… and its private key (PEM)")
    s.add_argument("--indicator-period", type=float, default=5.0)
    s.add_argument("--units", type=int, default=60, help="units on the move (处置力量)")
    s.add_argument("--unit-period", type=float, default=2.0, help="seconds between unit.positions")
    s.add_argument("--platform", choices=("fixed", "wvp", "isc"), default="fixed",
                   help="where play URLs come from: fixed in the catalogue (default), or made per "
                        "request by a WVP-GB28181 or an iSecure Center platform (stream.resolve)")
    s.add_argument("--platform-delay", type=float, default=0.4,
                   help="seconds the platform takes to start a stream (wvp) or hand out a URL")
    s.add_argument("--token-ttl", type=float, default=300.0, help="isc: seconds a play URL is valid")
    s.add_argument("--no-record", action="store_true", help="no recorder, no playback")
    s.add_argument("--record-dir", type=Path, help="where recordings go (default: beside the clips)")
    s.add_argument("--retention", type=float, default=7200.0, help="seconds of recording kept")
    s.add_argument("--record-max", type=int, default=32, help="cameras recorded at once")
    s.add_argument("--record-max-gb", type=float, default=20.0,
                   help="the oldest recordings go first beyond this much disk")  # fmt: skip
    s.add_argument("--playback-port", type=int, default=8091)
    s.add_argument("--first-preset-size", type=int,
                   help="cameras of the walls' first preset (the demo: its layout's video tiles)")  # fmt: skip
    s.set_defaults(func=cmd_serve_demo)

    d = sub.add_parser("demo", help="serve-demo and run together")
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--layout", type=Path)
    d.add_argument("--cache", type=Path)
    d.add_argument("--offscreen", action="store_true")
    d.add_argument(
        "--duration", type=float, default=20.0, help="offscreen: seconds before screenshots"
    )
    d.add_argument("--screenshots", type=Path)
    d.add_argument("--platform", choices=("fixed", "wvp", "isc"), default="wvp",
                   help="where the demo cameras' play URLs come from (default: a WVP platform)")
    d.set_defaults(func=cmd_demo)

    sn = sub.add_parser("snapshot", help="render every screen to PNG from the cache, no network")
    sn.add_argument("--layout", type=Path)
    sn.add_argument("--cache", type=Path, default=paths.default_cache())
    sn.add_argument("--out", type=Path, required=True)
    sn.add_argument("--mode", choices=["normal", "emergency"])
    sn.add_argument("--lang", choices=["zh_CN", "en"], default="zh_CN")
    sn.set_defaults(func=cmd_snapshot)

    lo = sub.add_parser("layout", help="layout files")
    losub = lo.add_subparsers(dest="layout_cmd", required=True)
    lv = losub.add_parser("validate", help="check a layout file; every error is listed")
    lv.add_argument("file", type=Path)
    lv.set_defaults(func=cmd_layout_validate)
    lp = losub.add_parser("preview", help="render every screen of a layout to PNG")
    lp.add_argument("file", type=Path)
    lp.add_argument("--out", type=Path, required=True)
    lp.add_argument("--cache", type=Path, help="state to show (default: the demo district)")
    lp.add_argument("--mode", choices=["normal", "emergency"])
    lp.add_argument("--lang", default="zh_CN")
    lp.add_argument("--log-level", default="WARNING")
    lp.set_defaults(func=cmd_layout_preview)
    le = losub.add_parser("edit", help="the layout editor (a window; saves only what validates)")
    le.add_argument("file", type=Path)
    le.add_argument(
        "--cache", type=Path, help="state for the live preview (default: the demo district)"
    )
    le.add_argument("--lang", default="zh_CN")
    le.add_argument("--log-level", default="WARNING")
    le.set_defaults(func=cmd_layout_edit)

    scr = sub.add_parser(
        "screens", help="the connected screens: name, maker, model, serial, geometry"
    )
    scr.add_argument("--json", action="store_true")
    scr.set_defaults(func=cmd_screens)
    ide = sub.add_parser(
        "identify", help="a large name and number on each screen for a few seconds"
    )
    ide.add_argument("--seconds", type=float, default=5.0)
    ide.add_argument("--layout", type=Path, help="also name the layout screen each one is")
    ide.add_argument("--out", type=Path, help="also save each overlay as PNG (offscreen machines)")
    ide.set_defaults(func=cmd_identify)

    au = sub.add_parser("audit", help="who switched what, when, and how it ended")
    ausub = au.add_subparsers(dest="audit_cmd", required=True)
    aus = ausub.add_parser("show")
    aus.add_argument("--cache", type=Path, default=paths.default_cache())
    aus.add_argument("--since", help="a time (2026-11-23T08:00+08:00) or a span back (2h)")
    aus.add_argument("--json", action="store_true")
    aus.set_defaults(func=cmd_audit_show)

    tb = sub.add_parser("tablet", help="pair, list and revoke the commander's tablets (a running wall)")
    tbsub = tb.add_subparsers(dest="tablet_cmd", required=True)
    tp = tbsub.add_parser("pair", help="a one-time pairing link and its QR code")
    tp.add_argument("--name", required=True, help="the device, as audit lines will name it (指挥台iPad)")
    tp.add_argument("--role", choices=["viewer", "commander"], default="viewer")
    tp.add_argument("--show", action="store_true", help="also show the QR code on the wall for 60 s")
    tl = tbsub.add_parser("list", help="the paired tablets")
    tr = tbsub.add_parser("revoke", help="end a tablet's session at once")
    tr.add_argument("name")
    for t in (tp, tl, tr):
        t.add_argument("--config", type=Path, default=os.environ.get(CONFIG_ENV))
        t.add_argument("--control-port", type=int)
        t.add_argument("--control-token-file", type=Path)
        t.add_argument("--json", action="store_true")
    tb.set_defaults(func=cmd_tablet)

    dr = sub.add_parser("doctor", help="what this machine can do: video routes, libvlc, PyAV")
    dr.add_argument("--json", action="store_true")
    dr.add_argument("--config", type=Path, default=os.environ.get(CONFIG_ENV))
    dr.add_argument("--server")
    dr.add_argument("--token-file", type=Path)
    dr.add_argument("--ca-file", type=Path)
    dr.add_argument("--cache", type=Path)
    dr.add_argument("--layout", type=Path)
    dr.add_argument("--basemap", type=Path)
    dr.add_argument("--control-port", type=int,
                    help="also ask the wall running with this control port what it holds")
    dr.add_argument("--control-token-file", type=Path)
    dr.set_defaults(func=cmd_doctor)

    c = sub.add_parser("cache", help="inspect a cache file")
    csub = c.add_subparsers(dest="cache_cmd", required=True)
    cs = csub.add_parser("show")
    cs.add_argument("--cache", type=Path, default=paths.default_cache())
    cs.add_argument("--json", action="store_true")
    cs.set_defaults(func=cmd_cache_show)
    cc = csub.add_parser("check")
    cc.add_argument("--cache", type=Path, default=paths.default_cache())
    cc.set_defaults(func=cmd_cache_check)
    return p


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    try:
        code: int = a.func(a)
        return code
    except WallclientError as exc:
        print(f"wallclient: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

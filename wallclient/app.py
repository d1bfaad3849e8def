"""The composition root: builds the QApplication, the loop, the state, the edges and
the windows, and wires them together by passing objects in explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from wallclient import layout as layout_mod
from wallclient.config import Config
from wallclient.edges.control import ControlServer
from wallclient.edges.sync import SyncClient, as_float
from wallclient.errors import CommandError
from wallclient.layout import Layout

log = logging.getLogger(__name__)
RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def _install_error_hooks(loop: asyncio.AbstractEventLoop) -> None:
    """Exceptions in slots and callbacks otherwise vanish (house style, qasync)."""

    def hook(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        log.error("unhandled exception", exc_info=(kind, exc, tb))

    def loop_hook(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        log.error("unhandled in event loop: %s", context.get("message"), exc_info=exc)

    sys.excepthook = hook
    loop.set_exception_handler(loop_hook)


def configure_offscreen(lay: Layout) -> None:
    """Qt's offscreen platform with exactly the layout's screens (before QApplication exists)."""
    screens = [
        {
            "name": s.name,
            "x": s.x,
            "y": s.y,
            "width": s.width,
            "height": s.height,
            "logicalDpi": 96,
            "dpr": 1,
        }
        for s in lay.screens
    ]
    fd, path = tempfile.mkstemp(prefix="wallclient-screens-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump({"screens": screens}, fh)
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={path}"


def make_app(lang: str) -> Any:
    """The QApplication with the wall's translation and font loaded."""
    from PySide6.QtCore import QLocale, QTranslator
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    if lang == "zh_CN":
        translator = QTranslator(app)
        qm = RESOURCES / "translations" / "wallclient_zh_CN.qm"
        if translator.load(str(qm)):
            app.installTranslator(translator)
        else:
            log.warning("translation %s not built (make builds it); showing English", qm)
        QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    return app


def run(
    cfg: Config,
    token: str,
    control_token: str | None,
    *,
    exit_after: float | None = None,
    screenshots: Path | None = None,
) -> int:
    """Run the wall until closed or signalled; returns the exit code."""
    lay = layout_mod.load(cfg.layout or layout_mod.default_path())
    from wallclient.edges.video import cap_malloc_arenas

    cap_malloc_arenas()  # before any decoder thread exists
    if cfg.offscreen:
        configure_offscreen(lay)
    import qasync

    from panels.hub import Context, Hub
    from panels.wall import Wall

    _app = make_app(cfg.lang)  # must outlive the loop
    client = SyncClient(cfg, token)
    pending: set[asyncio.Task[Any]] = set()  # keep references to background tasks (qasync)

    def ack(incident: str) -> None:
        task = asyncio.ensure_future(_command(client, "incident.ack", {"incident": incident}))
        pending.add(task)
        task.add_done_callback(pending.discard)

    wall_ref: list[Wall] = []

    def status() -> dict[str, Any]:
        st = dict(client.status())
        if wall_ref:
            st["screens"] = wall_ref[0].describe()
            st["missing_screens"] = wall_ref[0].missing
            st["tiles"] = wall_ref[0].tiles()
            st["linkage"] = dict(wall_ref[0].linkage)
            st["scope"] = {"level": cfg.scope_level, "code": cfg.scope_code,
                           "drill": wall_ref[0].drill_status()}  # fmt: skip
        return st

    alert = None
    if cfg.alert:
        from wallclient.edges.sound import DEFAULT_SOUND, AlertSound

        alert = AlertSound(cfg.alert_sound or DEFAULT_SOUND)
    from wallclient.edges.video import PlayerPool

    pool = PlayerPool(cfg.max_decoders)
    ctx = Context(
        state=client.state,
        status=status,
        server_now=client.feed.server_now,
        ack_incident=ack,
        lang=cfg.lang,
        alert=alert.play if alert is not None and alert.available else None,
        video=pool,
        scope_code=cfg.scope_code,
    )
    hub = Hub(ctx)
    hub.seed_history(client.recent_history)
    _freeze_after_loads(client.state)
    wall = Wall(ctx, hub, lay, history=client.history, linkage_n=cfg.linkage_cameras,
                auto_linkage=cfg.auto_linkage, drill_s=cfg.drill_s)  # fmt: skip
    wall_ref.append(wall)
    wall.show(fullscreen=not cfg.offscreen)
    from PySide6.QtCore import QTimer

    def first_frame() -> None:
        # Once the loop runs: paint every window now (synchronously), then say when.
        for w in wall.windows:
            w.repaint()
        log.info(
            "first frame painted on %d screen(s) at epoch %.3f", len(wall.windows), time.time()
        )

    QTimer.singleShot(0, first_frame)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        _install_error_hooks(loop)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                signal.signal(sig, lambda *_: stop.set())
        control = None
        if cfg.control_port and control_token:
            control = ControlServer(cfg.control_port, control_token)
            register_commands(control, client, wall, status)
            await control.start()
        sync = asyncio.create_task(client.run())
        started = time.monotonic()
        while not stop.is_set():
            if exit_after is not None and time.monotonic() - started > exit_after:
                break
            if sync.done():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
        if screenshots is not None:
            for f in wall.snapshot(screenshots):
                log.info("screenshot: %s", f)
        await client.finish(sync)
        if control is not None:
            await control.stop()
        hub.close()
        for panel in wall.video_panels():
            panel.detach()
        pool.close()
        if alert is not None:
            alert.close()
        client.close()
        return 0

    code: int = qasync.run(main())
    return code


def _freeze_after_loads(state: Any) -> None:
    """Keep the garbage collector's full passes short: after the cache or a snapshot
    is loaded, its tens of thousands of long-lived objects are moved out of the
    collector's view (``gc.freeze``), so a full pass no longer walks them and stalls
    the wall (52 ms measured with 10,000 live incidents). Snapshot data is acyclic
    JSON: reference counting frees it when it is replaced."""
    from PySide6.QtCore import QTimer

    gc.freeze()

    def changed(changes: list[Any]) -> None:
        if any(ch.kind == "incidents" and ch.ids is None for ch in changes):
            QTimer.singleShot(0, gc.freeze)

    state.subscribe(changed)


async def _command(client: SyncClient, type_: str, data: dict[str, Any]) -> dict[str, Any]:
    ack = await client.feed.command(type_, data)
    if not ack.ok:
        err = ack.error or {}
        raise CommandError(err.get("code", "refused"), err.get("message", ""))
    return {"accepted": True}


def register_commands(control: ControlServer, client: SyncClient, wall: Any, status: Any) -> None:
    """The control API's commands (../shared/control-api.md)."""

    def require(role: str) -> None:
        rank = {"viewer": 0, "commander": 1, "installer": 2}
        have = client.feed.status.role
        if have is None or rank.get(have, -1) < rank[role]:
            raise CommandError("forbidden", f"role {have} may not do this")

    async def status_cmd(_args: dict[str, Any]) -> Any:
        return status()

    async def snapshot(args: dict[str, Any]) -> Any:
        return {"files": wall.snapshot(Path(args["dir"]))}

    async def preset_activate(args: dict[str, Any]) -> Any:
        require("commander")
        return await _command(
            client, "preset.activate", {"wall": client.cfg.wall, "preset": args["preset"]}
        )

    async def mode_set(args: dict[str, Any]) -> Any:
        require("commander")
        return await _command(client, "mode.set", {"wall": client.cfg.wall, "mode": args["mode"]})

    async def incident_ack(args: dict[str, Any]) -> Any:
        require("viewer")
        return await _command(client, "incident.ack", {"incident": args["incident"]})

    async def tile_snapshot(args: dict[str, Any]) -> Any:
        index, path = int(args["index"]), str(args["file"])
        for panel in wall.video_panels():
            if index < panel.count:
                if not panel.snapshot_tile(index, path):
                    raise CommandError("bad_request", f"tile {args['index']} is not shown")
                return {"file": path}
            index -= panel.count
        raise CommandError("bad_request", f"no tile {args['index']}")

    async def incident_focus(args: dict[str, Any]) -> Any:
        incident = args.get("incident")
        if incident is not None and not isinstance(incident, str):
            raise CommandError("bad_request", "incident must be an id or null")
        return wall.focus(incident)

    async def map_drill(args: dict[str, Any]) -> Any:
        region = args.get("region")
        if region is not None and not isinstance(region, str):
            raise CommandError("bad_request", "region must be a code or null")
        wall.drill_into(region)
        return {"drill": wall.drill_status()}

    control.register("status", status_cmd)
    control.register("map.drill", map_drill)
    control.register("incident.focus", incident_focus)
    control.register("tile.snapshot", tile_snapshot)
    control.register("snapshot", snapshot)
    control.register("preset.activate", preset_activate)
    control.register("mode.set", mode_set)
    control.register("incident.ack", incident_ack)


def snapshot_from_cache(
    layout_path: Path | None, cache_path: Path, out: Path, mode: str | None, lang: str
) -> list[str]:
    """Render every screen of a layout to PNG from cached state, with no network."""
    from datetime import timedelta

    from wallclient.edges.cache import Cache
    from wallclient.incidents import Tally
    from wallclient.protocol import now
    from wallclient.state import WallState

    lay = layout_mod.load(layout_path or layout_mod.default_path())
    configure_offscreen(lay)
    from PySide6.QtWidgets import QApplication

    from panels.hub import Context, Hub
    from panels.wall import Wall

    make_app(lang)
    cache = Cache(cache_path).open(create=False)
    loaded = cache.load()
    recent = cache.recent_history(60)
    state = WallState()
    state.load(loaded.tables, loaded.wall, loaded.last_seq)
    if mode is not None:  # a preview of the other variant: every panel and the banner agree
        state.wall = {**(state.wall or {"wall": "preview", "preset": None}), "mode": mode}
    tally = Tally()  # the same open/overdue rule as a running wall, counted once
    tally.reset(state.incidents.values())
    data_at = as_float(loaded.data_at)
    # The newest data the cache holds is "now" for a preview, so countdowns read as they did.
    shift = timedelta(seconds=(time.time() - data_at)) if data_at else timedelta(0)

    def status() -> dict[str, Any]:
        age = time.time() - data_at if data_at else None
        return {
            "connection": {
                "state": "offline",
                "since": None,
                "last_seq": loaded.last_seq,
                "data_age_s": age,
                "error": "preview from the local cache",
            },  # fmt: skip
            "user": cache.meta("user"),
            "role": cache.meta("role"),
            "wall": dict(state.wall or {}),
            "incidents": tally.counts(now() - shift),
        }

    ctx = Context(state=state, status=status, server_now=lambda: now() - shift, lang=lang)
    hub = Hub(ctx)
    hub.seed_history(recent)
    wall = Wall(ctx, hub, lay, history=lambda iid: cache.history(iid))
    wall.show(fullscreen=False)
    app = QApplication.instance()
    assert app is not None
    for _ in range(3):
        hub._flush()
        app.processEvents()
    files = wall.snapshot(out)
    cache.close()
    return files

"""The composition root: builds the QApplication, the loop, the state, the edges and
the windows, and wires them together by passing objects in explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wallclient import commands, geo, resources
from wallclient import layout as layout_mod
from wallclient.commands import Capabilities
from wallclient.config import Config
from wallclient.display import configure_offscreen, make_app, node_screens
from wallclient.edges.control import ControlServer
from wallclient.edges.sync import SyncClient
from wallclient.errors import CommandError
from wallclient.heartbeat import Heartbeat

log = logging.getLogger(__name__)


def _install_error_hooks(loop: asyncio.AbstractEventLoop) -> None:
    """Exceptions in slots and callbacks otherwise vanish (house style, qasync)."""

    def hook(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        log.error("unhandled exception", exc_info=(kind, exc, tb))

    def loop_hook(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        log.error("unhandled in event loop: %s", context.get("message"), exc_info=exc)

    sys.excepthook = hook
    loop.set_exception_handler(loop_hook)


def run(
    cfg: Config,
    token: str,
    control_token: str | None,
    *,
    exit_after: float | None = None,
    screenshots: Path | None = None,
    kiosk: bool = False,
) -> int:
    """Run the wall until closed or signalled; returns the exit code."""
    lay = layout_mod.load(cfg.layout or layout_mod.default_path())
    from wallclient.edges.video import cap_malloc_arenas

    cap_malloc_arenas()  # before any decoder thread exists
    only = node_screens(lay, cfg.screens)
    if cfg.offscreen:
        configure_offscreen(lay, only)
    import qasync

    from panels.hub import Context, Hub
    from panels.wall import Wall

    _app = make_app(cfg.lang)  # must outlive the loop
    restore_screens: Any = None
    if kiosk and not cfg.offscreen:
        from wallclient.edges.kiosk import keep_awake

        restore_screens = keep_awake()
    client = SyncClient(cfg, token)
    pending: set[asyncio.Task[Any]] = set()  # keep references to background tasks (qasync)

    def ack(incident: str) -> None:
        task = asyncio.ensure_future(_ack(client, incident))
        pending.add(task)
        task.add_done_callback(pending.discard)

    wall_ref: list[Wall] = []
    gui_ref: list[Heartbeat] = []
    desk_ref: list[Any] = []
    ptz_ref: list[Any] = []
    popup_ref: list[Any] = []
    card_ref: list[Any] = []
    tablet_ref: list[Any] = []  # the commander's tablets (wallclient.edges.tablet), when on

    def light() -> dict[str, Any]:
        """What the panels read of the status (connection, user, role, wall, incidents,
        the commander's switch): banners ask every second on every screen, the vital
        signs at each repaint — never the tiles', map's and screens' parts."""
        return {**client.status(), "switch": commander.view()}

    def status() -> dict[str, Any]:
        st = light()
        if gui_ref:
            st["gui"] = gui_ref[0].view()
        if wall_ref:
            st["screens"] = wall_ref[0].describe()
            st["missing_screens"] = wall_ref[0].missing
            st["tiles"] = wall_ref[0].tiles()
            st["linkage"] = dict(wall_ref[0].linkage)
            st["scope"] = {"level": cfg.scope_level, "code": cfg.scope_code,
                           "drill": wall_ref[0].drill_status()}  # fmt: skip
        st["replay"] = desk_ref[0].status() if desk_ref else None
        st["ptz"] = ptz_ref[0].view() if ptz_ref else None
        st["popup"] = popup_ref[0].status() if popup_ref else None
        st["card"] = card_ref[0].status() if card_ref else None
        if wall_ref:
            maps = wall_ref[0].map_panels()
            st["map"] = maps[0].describe_map() if maps else None
        st["resolve"] = pool.resolver.view() if pool.resolver is not None else None
        st["tablet"] = tablet_ref[0].view() if tablet_ref else None
        st["resources"] = resources.view(
            pool, wall_ref[0].video_panels() if wall_ref else [], client.writer.cache
        )
        return st

    alert = None
    if cfg.alert:
        from wallclient.edges.sound import DEFAULT_SOUND, AlertSound

        alert = AlertSound(cfg.alert_sound or DEFAULT_SOUND)
    from wallclient.edges.video import PlayerPool, warm_up

    pool = PlayerPool(cfg.max_decoders)
    pool.resolver = _resolver(client, cfg.resolve_cap)
    from wallclient.edges.playback import PlatformRecordings

    recordings = PlatformRecordings(pool.resolver)  # its loop: main's, once it runs
    warm_up()
    if cfg.decoder_nice:
        from wallclient.edges.video import threads

        threads.start(cfg.decoder_nice)
    from wallclient.edges.commander import Commander, Desk

    commander = Commander(client)
    ctx = Context(
        state=client.state,
        status=light,
        server_now=client.feed.server_now,
        ack_incident=ack,
        lang=cfg.lang,
        alert=alert.play if alert is not None and alert.available else None,
        video=pool,
        scope_code=cfg.scope_code,
        desk=Desk(commander),
    )
    from panels.map.basemap import Basemap

    ctx.basemap = Basemap.open(str(cfg.basemap) if cfg.basemap else None, cfg.basemap_datum)
    hub = Hub(ctx)
    commander.on_change = lambda: hub.poke("switch")
    hub.tick.connect(lambda _dirty: commander.poll())
    hub.seed_history(client.recent_history)
    _freeze_after_loads(client.state)
    pace_collector(hub, lambda: client.session.staging)
    wall = Wall(ctx, hub, lay, history=client.history, linkage_n=cfg.linkage_cameras,
                auto_linkage=cfg.auto_linkage, drill_s=cfg.drill_s, only=only)  # fmt: skip
    wall_ref.append(wall)
    desk, exporter = _time_on_the_wall(cfg, client, ctx, hub, wall, token, recordings)
    desk_ref.append(desk)
    driver = _steering(cfg, client, ctx, hub, wall, pending)
    ptz_ref.append(driver)
    popups = _alarms(cfg, client, ctx, hub, wall, token)
    popup_ref.append(popups)
    cards = _cards(client, ctx, hub, wall, pending)
    cards.export = _card_export(cfg, exporter, pending)
    card_ref.append(cards)
    cards.pictures = popups
    popups.on_picture = lambda: cards.card.refresh() if cards.card is not None else None
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
    beat = Heartbeat()  # the GUI thread's pulse: stalls measured, the watchdog fed
    gui_ref.append(beat)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        recordings.loop = loop
        _install_error_hooks(loop)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                signal.signal(sig, lambda *_: stop.set())
        control = None
        tablets = None
        if cfg.control_port and control_token:
            control = ControlServer(cfg.control_port, control_token)
            caps = Capabilities(client, wall, status, commander, desk, exporter, driver, cards)
            commands.install(control, caps)

            async def gui_reset(_args: dict[str, Any]) -> Any:
                beat.reset()
                return beat.view()

            control.register("gui.reset", gui_reset)
            await control.start()
            if cfg.tablet_port:
                from wallclient.edges.tablet.desk import start

                caps.tablet = tablets = await start(
                    cfg, control.handlers, ctx, wall, lambda: client.feed.status.role,
                    lambda: wall_ref[0].tiles(), popups.store,
                )  # fmt: skip
                tablet_ref.append(tablets)
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
        if tablets is not None:
            await tablets.server.stop()
        if control is not None:
            await control.stop()
        driver.close()
        popups.close()
        hub.close()
        desk.stop({})
        for panel in wall.video_panels():
            panel.detach()
        pool.close()
        if restore_screens is not None:
            restore_screens()
        if alert is not None:
            alert.close()
        client.close()
        return 0

    code: int = qasync.run(main())
    return code


def _cards(client: SyncClient, ctx: Any, hub: Any, wall: Any, pending: set[asyncio.Task[Any]]) -> Any:
    """The incident card (事件卡片) and the commands its buttons send."""
    from panels.card import CardDesk

    def send(type_: str, data: dict[str, Any], say: Any) -> None:
        async def go() -> None:
            try:
                await client.command(type_, data)
                say("")
            except CommandError as exc:
                say(f"{exc.code}: {exc.message}")

        task = asyncio.ensure_future(go())
        pending.add(task)
        task.add_done_callback(pending.discard)

    cards = CardDesk(ctx, hub, wall, send)
    ctx.open_card = lambda iid, over=None: cards.open(iid, over)
    return cards


def _card_export(cfg: Config, exporter: Any, pending: set[asyncio.Task[Any]]) -> Any:
    """The card's 导出证据: the incident's evidence package into ``[export] dir`` (the
    control API's ``export``, the same exporter); ``done(folder, error)`` says how it went."""

    def export(iid: str, done: Callable[[str | None, str | None], None]) -> None:
        async def go() -> None:
            try:
                got = await exporter.export({"incident": iid, "dir": str(cfg.export_dir)})
                done(str(got["dir"]), None)
            except CommandError as exc:
                done(None, exc.message)

        task = asyncio.ensure_future(go())
        pending.add(task)
        task.add_done_callback(pending.discard)

    return export


def _resolver(client: SyncClient, cap: int) -> Any:
    """Play URLs for ``resolve`` cameras, asked of the backend at each open (not audited:
    they are the wall's opens, not a person's commands)."""
    from wallclient.edges.video.resolved import Resolver

    async def send(type_: str, data: dict[str, Any], timeout: float) -> Any:
        ack = await client.command(type_, data, audit=False, timeout=timeout)
        return ack.data

    return Resolver(send, cap=max(1, cap))


def _alarms(cfg: Config, client: SyncClient, ctx: Any, hub: Any, wall: Any, token: str) -> Any:
    """Alarm pop-ups (告警弹窗) with their pictures, kept beside the cache."""
    from panels.popup import PopupDesk
    from wallclient.edges.pictures import PictureStore

    def index(url: str, file: str, size: int) -> None:
        client.writer.call(lambda cache: cache.media_put(url, file, size), lambda _result: None)

    store = PictureStore(Path(str(client.cache_path) + ".media"), token, index=index)
    return PopupDesk(ctx, hub, wall, store, close_s=cfg.popup_close_s, ai_priority=cfg.popup_ai_priority)


def _steering(
    cfg: Config, client: SyncClient, ctx: Any, hub: Any, wall: Any, pending: set[asyncio.Task[Any]]
) -> Any:
    """PTZ (云台) of this node: the driver the tiles and the control API use, and "point
    here" from the map."""
    from wallclient.edges.ptz import PtzDriver

    driver = PtzDriver(client, cfg.ptz_radius_m)
    driver.on_change = lambda: hub.poke("ptz")
    ctx.ptz = driver

    def point_here(lon: float, lat: float) -> None:
        async def go() -> None:
            try:
                await wall.point_here(lon, lat, cfg.ptz_radius_m)
            except CommandError as exc:
                log.info("point here refused: %s", exc.message)

        task = asyncio.ensure_future(go())
        pending.add(task)
        task.add_done_callback(pending.discard)

    ctx.point_here = point_here
    return driver


def _time_on_the_wall(
    cfg: Config, client: SyncClient, ctx: Any, hub: Any, wall: Any, token: str, recordings: Any
) -> tuple[Any, Any]:
    """The replay desk (回放, 即时回放, 事件回溯) and the evidence exporter of this node;
    a ``resolve`` camera's recordings are asked of the video platform."""
    from panels.timeline import ReplayDesk
    from wallclient.edges.evidence import Exporter

    def platform() -> Any:
        return recordings if client.offers("resolve") else None

    desk = ReplayDesk(
        ctx, hub, wall, token=token, read=client.read,
        write=lambda fn: client.writer.call(fn, lambda _result: None),
        offered=lambda: client.offers("playback"), platform=platform,
        instant_s=cfg.instant_replay_s, before_s=cfg.replay_before_s,
    )  # fmt: skip

    def cameras_for(iid: str) -> list[str]:
        if wall.linkage.get("incident") == iid:
            return list(wall.linkage["cameras"])
        inc = ctx.state.incidents.get(iid) or {}
        loc = geo.location(inc)
        if loc is None:
            return []
        found = ctx.locator.grid.nearest(*loc, cfg.linkage_cameras, accept=ctx.locator.online)
        return [c for _, c in found]

    def snapshot(camera: str, path: Path) -> bool:
        for panel in wall.video_panels():
            for i, cam in enumerate(panel.cameras()):
                if cam == camera:
                    return bool(panel.snapshot_tile(i, str(path)))
        return False

    def who() -> dict[str, Any]:
        st = client.feed.status
        return {"user": st.user, "role": st.role, "wall": cfg.wall, "node": cfg.node}

    exporter = Exporter(
        recording=lambda cam: desk.recording(cam), cameras_for=cameras_for,
        incident=lambda iid: ctx.state.incidents.get(iid),
        history=lambda iid: client.read(lambda c: c.incident_history(iid), []),
        snapshot=snapshot, who=who, audit=client.audit,
    )  # fmt: skip
    return desk, exporter


def pace_collector(hub: Any, staging: Callable[[], bool] | None = None) -> None:
    """The garbage collector's costly passes run as a turn of the GUI's event loop
    begins (wallclient.collector), paced with the repaints (panels.hub.Pacer); a full
    pass waits while a snapshot is being received (``staging``)."""
    from wallclient.collector import Collector

    collector = Collector(hold_full=staging)
    collector.install()
    hub.pacer.collector = collector


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


async def _ack(client: SyncClient, incident: str) -> None:
    """An operator acknowledged an incident on the wall (audited; a refusal is logged)."""
    with contextlib.suppress(CommandError):
        await client.command("incident.ack", {"incident": incident})



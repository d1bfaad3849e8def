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
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wallclient import commands, geo
from wallclient import layout as layout_mod
from wallclient.commands import Capabilities
from wallclient.config import Config
from wallclient.edges.control import ControlServer
from wallclient.edges.sync import SyncClient, as_float
from wallclient.errors import CommandError, ConfigError, WallclientError
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


def node_screens(lay: Layout, names: str) -> list[str] | None:
    """The layout screens this node drives (None: all of them); unknown names are errors."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    if not wanted:
        return None
    known = {s.name for s in lay.screens}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ConfigError(f"--screens: no screen {', '.join(unknown)} in layout {lay.name} "
                          f"(it has {', '.join(sorted(known))})")  # fmt: skip
    return wanted


def configure_offscreen(lay: Layout, only: list[str] | None = None) -> None:
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
        if only is None or s.name in only
    ]
    fd, path = tempfile.mkstemp(prefix="wallclient-screens-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump({"screens": screens}, fh)
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={path}"


_translator: Any = None  # the wall's zh_CN translator while installed (one per process)


def make_app(lang: str) -> Any:
    """The QApplication with the wall's language: zh_CN installs its translator and
    locale once; any other language takes them away again. The QApplication is one per
    process, so the language is whatever the last call said, never what an earlier
    caller left behind (a test, a preview, the doctor)."""
    from PySide6.QtCore import QLocale, QTranslator
    from PySide6.QtWidgets import QApplication

    global _translator
    app = QApplication.instance() or QApplication(sys.argv[:1])
    if lang != "zh_CN":
        reset_language()
        return app
    if _translator is None:
        translator = QTranslator(app)
        qm = RESOURCES / "translations" / "wallclient_zh_CN.qm"
        if translator.load(str(qm)):
            app.installTranslator(translator)
            _translator = translator
        else:
            log.warning("translation %s not built (make builds it); showing English", qm)
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    return app


def reset_language() -> None:
    """English again: the translator removed, the default locale back to C."""
    from PySide6.QtCore import QLocale
    from PySide6.QtWidgets import QApplication

    global _translator
    app = QApplication.instance()
    if _translator is not None and app is not None:
        app.removeTranslator(_translator)
    _translator = None
    QLocale.setDefault(QLocale.c())


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
        return st

    alert = None
    if cfg.alert:
        from wallclient.edges.sound import DEFAULT_SOUND, AlertSound

        alert = AlertSound(cfg.alert_sound or DEFAULT_SOUND)
    from wallclient.edges.video import PlayerPool, warm_up

    pool = PlayerPool(cfg.max_decoders)
    warm_up()
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
    desk, exporter = _time_on_the_wall(cfg, client, ctx, hub, wall, token)
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
            commands.install(
                control, Capabilities(client, wall, status, commander, desk, exporter, driver, cards)
            )

            async def gui_reset(_args: dict[str, Any]) -> Any:
                beat.reset()
                return beat.view()

            control.register("gui.reset", gui_reset)
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
    cfg: Config, client: SyncClient, ctx: Any, hub: Any, wall: Any, token: str
) -> tuple[Any, Any]:
    """The replay desk (回放, 即时回放, 事件回溯) and the evidence exporter of this node."""
    from panels.timeline import ReplayDesk
    from wallclient.edges.evidence import Exporter

    desk = ReplayDesk(
        ctx, hub, wall, token=token, read=client.read,
        write=lambda fn: client.writer.call(fn, lambda _result: None),
        offered=lambda: client.offers("playback"),
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


class Heartbeat:
    """A 20 ms timer on the GUI thread: the longest gap between its ticks is the
    longest the GUI thread was busy (a stall); each tick also tells systemd's watchdog
    that the GUI lives (sd_notify WATCHDOG=1, when run under a unit with WatchdogSec)."""

    PERIOD_MS = 20

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.longest_ms = 0.0
        self.over_50 = 0
        self.stalls: list[tuple[float, float]] = []  # the last ten over 50 ms: (ms, epoch s)
        self.since = time.time()
        self._last = time.monotonic()
        self._notify = _watchdog_socket()
        self._notified = 0.0
        self.gc_longest_ms = [0.0, 0.0, 0.0]  # the longest collection, per generation
        self._gc_start = 0.0
        gc.callbacks.append(self._gc)
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.timer.start(self.PERIOD_MS)
        # WALLCLIENT_STALL_TRACE=<ms>: say in the log what the GUI thread was doing
        # during each stall longer than that (a sampling thread; for diagnosis)
        self.trace_ms = float(os.environ.get("WALLCLIENT_STALL_TRACE") or 0)
        self._seen: list[str] = []  # where the GUI thread was, sampled during this gap
        if self.trace_ms > 0:
            import threading

            self._gui_id = threading.get_ident()
            threading.Thread(target=self._sample, name="stall-trace", daemon=True).start()

    def _sample(self) -> None:
        while True:  # a daemon thread: it ends with the process
            time.sleep(0.002)
            if (time.monotonic() - self._last) * 1000 - self.PERIOD_MS < self.trace_ms / 2:
                continue
            frame = sys._current_frames().get(self._gui_id)
            names: list[str] = []
            while frame is not None and len(names) < 4:
                code = frame.f_code
                if "asyncio" not in code.co_filename:
                    names.append(f"{Path(code.co_filename).stem}.{code.co_name}:{frame.f_lineno}")
                frame = frame.f_back
            self._seen.append(" < ".join(names))

    def _tick(self) -> None:
        t = time.monotonic()
        gap = (t - self._last) * 1000 - self.PERIOD_MS
        self._last = t
        if self.trace_ms > 0:
            seen, self._seen = self._seen, []
            if gap > self.trace_ms:
                counts = Counter(seen).most_common(4)
                log.warning("GUI stall %.0f ms; sampled there: %s", gap,
                            "; ".join(f"{w} ×{n}" for w, n in counts) or "nothing (native)")  # fmt: skip
        if gap > self.longest_ms:
            self.longest_ms = gap
        if gap > 50:
            self.over_50 += 1
            self.stalls.append((round(gap, 1), round(time.time(), 2)))
            del self.stalls[:-10]
        if self._notify is not None and t - self._notified >= 1.0:
            self._notified = t
            with contextlib.suppress(OSError):
                self._notify[0].sendto(b"WATCHDOG=1", self._notify[1])

    def _gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            gen = int(info.get("generation", 0))
            ms = (time.perf_counter() - self._gc_start) * 1000
            if ms > self.gc_longest_ms[gen]:
                self.gc_longest_ms[gen] = ms

    def reset(self) -> None:
        self.gc_longest_ms = [0.0, 0.0, 0.0]
        self.longest_ms, self.over_50, self.since = 0.0, 0, time.time()
        self.stalls = []

    def view(self) -> dict[str, Any]:
        return {"longest_stall_ms": round(self.longest_ms, 1), "stalls_over_50ms": self.over_50,
                "stalls": list(self.stalls), "since": self.since,
                "gc_longest_ms": [round(x, 1) for x in self.gc_longest_ms]}  # fmt: skip


def _watchdog_socket() -> tuple[Any, Any] | None:
    """systemd's notify socket when a unit with WatchdogSec started us, else None."""
    path = os.environ.get("NOTIFY_SOCKET")
    if (
        not path
        or not os.environ.get("WATCHDOG_USEC")
        or not hasattr(__import__("socket"), "AF_UNIX")
    ):
        return None
    import socket

    addr = "\0" + path[1:] if path.startswith("@") else path
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    with contextlib.suppress(OSError):
        sock.sendto(b"READY=1", addr)
    return sock, addr


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


def _cache_context(cache_path: Path, lang: str) -> tuple[Any, Any, Any]:
    """A panel Context over a cache's state, as it was when last written: (ctx, hub, cache)."""
    from datetime import timedelta

    from panels.hub import Context, Hub
    from wallclient.edges.cache import Cache
    from wallclient.incidents import Tally
    from wallclient.protocol import now
    from wallclient.state import WallState

    make_app(lang)
    cache = Cache(cache_path).open(create=False)
    loaded = cache.load()
    recent = cache.recent_history(60)
    state = WallState()
    state.load(loaded.tables, loaded.wall, loaded.last_seq)
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
    return ctx, hub, cache


def snapshot_from_cache(
    layout_path: Path | None, cache_path: Path, out: Path, mode: str | None, lang: str
) -> list[str]:
    """Render every screen of a layout to PNG from cached state, with no network."""
    lay = layout_mod.load(layout_path or layout_mod.default_path())
    configure_offscreen(lay)
    from PySide6.QtWidgets import QApplication

    from panels.wall import Wall

    ctx, hub, cache = _cache_context(cache_path, lang)
    if mode is not None:  # a preview of the other variant: every panel and the banner agree
        ctx.state.wall = {**(ctx.state.wall or {"wall": "preview", "preset": None}), "mode": mode}
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


def preview_renderer(cache_path: Path, lang: str) -> Any:
    """For the layout editor: render one screen of a layout being edited, from the cache."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from panels.wall import ScreenWindow

    ctx, hub, cache = _cache_context(cache_path, lang)

    def render(doc: Any, screen: str, mode: str) -> Any:
        try:
            lay = doc.layout()
        except WallclientError:
            return None
        sc = next((s for s in lay.screens if s.name == screen), None)
        if sc is None:
            return None
        ctx.state.wall = {**(ctx.state.wall or {"wall": "preview", "preset": None}), "mode": mode}
        w = ScreenWindow(ctx, hub, lay, sc, None, lambda iid: cache.history(iid))
        w.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        w.set_mode(mode)
        w.resize(sc.width, sc.height)
        w.show()
        app = QApplication.instance()
        for _ in range(2):
            hub._flush()
            if app is not None:
                app.processEvents()
        pm = w.grab()
        w.close_all()
        return pm

    return render


def edit_layout(path: Path, cache_path: Path | None, lang: str) -> int:
    """`wallclient layout edit FILE`: the editor window until it is closed."""
    import tempfile

    from wallclient.layout_edit import LayoutDoc

    if no_display():
        raise ConfigError("the layout editor needs a display (DISPLAY or WAYLAND_DISPLAY); "
                          "`wallclient layout preview FILE --out DIR` works without one")  # fmt: skip
    doc = LayoutDoc.open(path)
    app = make_app(lang)
    from panels.editor import LayoutEditor

    with tempfile.TemporaryDirectory(prefix="wallclient-edit-") as tmp:
        cache = cache_path or demo_cache(Path(tmp) / "demo.sqlite")
        editor = LayoutEditor(doc, path, preview=preview_renderer(cache, lang),
                              physical=describe_screens())  # fmt: skip
        editor.resize(1600, 900)
        editor.show()
        app.exec()
    return 0


def demo_cache(path: Path) -> Path:
    """A cache holding the demo district (a preview or editor with no cache of its own)."""
    from datetime import datetime

    from wallclient.demo.district import District
    from wallclient.edges.cache import Cache

    d = District(seed=7)
    at = datetime.now().astimezone()
    d.seed_incidents(at)
    d.set_wall("wall-1", "演示", at, preset=next(iter(d.presets)))
    cache = Cache(path).open(create=True)
    cache.replace_all(d.tables(), d.walls["wall-1"], 1, str(time.time()))
    cache.set_meta(user="演示", role="installer", data_at=str(time.time()))
    cache.close()
    return path


def preview_layout(
    layout_path: Path, out: Path, cache_path: Path | None, mode: str | None, lang: str
) -> list[str]:
    """`wallclient layout preview`: every screen of a layout to PNG, from a cache or the
    demo district."""
    import tempfile

    layout_mod.load(layout_path)  # a broken layout is reported before anything is drawn
    if cache_path is not None:
        return snapshot_from_cache(layout_path, cache_path, out, mode, lang)
    with tempfile.TemporaryDirectory(prefix="wallclient-preview-") as tmp:
        return snapshot_from_cache(
            layout_path, demo_cache(Path(tmp) / "demo.sqlite"), out, mode, lang
        )


def no_display() -> bool:
    """On Linux with no X11 or Wayland display to reach, and no platform chosen: Qt
    would abort (an unreachable ``DISPLAY`` too: said in the log)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    if os.environ.get("WAYLAND_DISPLAY"):
        return False
    display = os.environ.get("DISPLAY")
    if not display:
        return True
    if not x11_reachable(display):
        log.warning("display %s cannot be reached", display)
        return True
    return False


def x11_reachable(display: str) -> bool:
    """Does an X server answer at ``display`` (":0", "unix:1", "host:0.0")? A local
    one is a socket in /tmp/.X11-unix, a remote one TCP port 6000 + n."""
    import socket

    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    if host not in ("", "unix"):
        try:
            socket.create_connection((host, 6000 + int(number)), timeout=1.0).close()
            return True
        except OSError:
            return False
    # Xorg on Linux listens on an abstract socket as well as the file (containers often
    # see only the abstract one): either will do
    for address in (f"\0/tmp/.X11-unix/X{number}", f"/tmp/.X11-unix/X{number}"):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(1.0)
                s.connect(address)
            return True
        except OSError:
            continue
    return False


def headless_fallback() -> bool:
    """Use Qt's offscreen platform when there is no display (say so); True if it did."""
    if no_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        log.warning("no display (DISPLAY / WAYLAND_DISPLAY unset): using Qt's offscreen platform")
        return True
    return False


def describe_screens() -> list[dict[str, Any]]:
    """What Qt knows of each connected screen (for installers: `wallclient screens`)."""
    from PySide6.QtGui import QGuiApplication

    primary = QGuiApplication.primaryScreen()
    out = []
    for sc in QGuiApplication.screens():
        g = sc.geometry()
        out.append({
            "name": sc.name(), "manufacturer": sc.manufacturer() or None, "model": sc.model() or None,
            "serial": sc.serialNumber() or None, "geometry": [g.x(), g.y(), g.width(), g.height()],
            "device_pixel_ratio": sc.devicePixelRatio(), "refresh_hz": round(sc.refreshRate(), 1),
            "physical_mm": [round(sc.physicalSize().width()), round(sc.physicalSize().height())],
            "primary": sc is primary,
        })  # fmt: skip
    return out


def identify(seconds: float, layout_path: Path | None, out: Path | None) -> list[str]:
    """`wallclient identify`: a large number and name over each physical screen for
    ``seconds`` (and the layout screen it is matched to); PNGs into ``out`` if given."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QLabel

    from panels import theme

    headless_fallback()
    make_app("zh_CN")
    lay = layout_mod.load(layout_path) if layout_path is not None else None
    screens = QGuiApplication.screens()
    names = {s.name() for s in screens}
    by_name = lay is not None and any(s.name in names for s in lay.screens)
    windows = []
    files: list[str] = []
    for n, sc in enumerate(screens, 1):
        g = sc.geometry()
        match = ""
        if lay is not None:
            ls = next((s for s in lay.screens if s.name == sc.name()), None) if by_name else (
                lay.screens[n - 1] if n <= len(lay.screens) else None)  # fmt: skip
            match = (
                f"\n{theme.tr('Layout screen')}: {ls.name}"
                if ls
                else f"\n{theme.tr('Not in the layout')}"
            )
        px = max(24, g.height() // 14)
        lines = [
            sc.name() or theme.tr("(unnamed)"),
            f"{g.width()}×{g.height()} @ ({g.x()}, {g.y()})",
        ]
        if match:
            lines.append(match.strip())
        w = QLabel(f"<div style='font-size:{px * 5}px'>{n}</div>" + "<br>".join(lines))
        w.setAlignment(Qt.AlignmentFlag.AlignCenter)
        w.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint)
        w.setStyleSheet(f"background: {theme.BG.name()}; color: {theme.TEXT.name()};"
                        f" border: {max(4, px // 8)}px solid {theme.INFO.name()};"
                        f" font-size: {px}px; font-weight: bold; font-family: '{theme.FONT_FAMILY}';")  # fmt: skip
        w.setScreen(sc)
        w.setGeometry(g)
        w.show()
        windows.append(w)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"identify-{n}.png"
            w.grab().save(str(path))
            files.append(str(path))
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    for w in windows:
        w.close()
    return files

"""Installer tools: a layout's screens rendered from a cache with no network (snapshot,
preview), the layout editor, and a number over each physical screen (identify)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from wallclient import layout as layout_mod
from wallclient.display import (
    configure_offscreen,
    describe_screens,
    headless_fallback,
    make_app,
    no_display,
)
from wallclient.edges.sync import as_float
from wallclient.errors import ConfigError, WallclientError
from wallclient.fonts import FONT_FAMILY


def cache_context(cache_path: Path, lang: str) -> tuple[Any, Any, Any]:
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

    ctx, hub, cache = cache_context(cache_path, lang)
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

    from panels.wall import ScreenWindow, finish_painting

    ctx, hub, cache = cache_context(cache_path, lang)

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
        finish_painting(w)
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
                        f" font-size: {px}px; font-weight: bold; font-family: '{FONT_FAMILY}';")  # fmt: skip
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

"""The composition root: builds the QApplication, the loop, the state, the edges and
the windows, and wires them together by passing objects in explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from wallclient.config import Config
from wallclient.edges.control import ControlServer
from wallclient.edges.sync import SyncClient
from wallclient.errors import CommandError

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
) -> int:
    """Run the wall until closed or signalled; returns the exit code."""
    if cfg.offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel

    _app = QApplication.instance() or QApplication(sys.argv[:1])  # must outlive the loop
    client = SyncClient(cfg, token)
    window = QLabel()
    window.setWindowTitle(f"wallclient · {cfg.wall} · {cfg.node}")
    window.setStyleSheet("background:#0b1220;color:#e6edf7;font-size:28px;padding:24px;")
    window.resize(1280, 720)

    def repaint() -> None:
        st = client.status()
        conn = st["connection"]
        age = conn["data_age_s"]
        window.setText(
            f"连接 {conn['state']}  seq {conn['last_seq']}  数据时效 {'—' if age is None else f'{age:.1f}s'}\n"
            f"摄像头 {len(client.state.cameras)}  预案 {len(client.state.presets)}  "
            f"指标 {len(client.state.indicators)}  事件 {st['incidents']['open']}（超时 {st['incidents']['overdue']}）\n"
            f"模式 {st['wall']['mode']}  预案 {st['wall']['preset']}"
        )

    timer = QTimer()
    timer.timeout.connect(repaint)
    timer.start(250)
    repaint()
    window.show()

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
            _register_commands(control, client, window)
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
            screenshots.mkdir(parents=True, exist_ok=True)
            repaint()
            window.grab().save(str(screenshots / "screen-1.png"))
            log.info("screenshot: %s", screenshots / "screen-1.png")
        client.feed.stop()
        sync.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sync
        if control is not None:
            await control.stop()
        client.writer.stop()
        return 0

    code: int = qasync.run(main())
    return code


def _register_commands(control: ControlServer, client: SyncClient, window: Any) -> None:
    """The control API's commands (../shared/control-api.md)."""

    async def status(_args: dict[str, Any]) -> Any:
        return client.status()

    async def snapshot(args: dict[str, Any]) -> Any:
        out = Path(args["dir"])
        out.mkdir(parents=True, exist_ok=True)
        path = out / "screen-1.png"
        window.grab().save(str(path))
        return {"files": [str(path)]}

    def _require(role: str) -> None:
        rank = {"viewer": 0, "commander": 1, "installer": 2}
        have = client.feed.status.role
        if have is None or rank.get(have, -1) < rank[role]:
            raise CommandError("forbidden", f"role {have} may not do this")

    async def preset_activate(args: dict[str, Any]) -> Any:
        _require("commander")
        ack = await client.feed.command(
            "preset.activate", {"wall": client.cfg.wall, "preset": args["preset"]}
        )
        if not ack.ok:
            err = ack.error or {}
            raise CommandError(err.get("code", "refused"), err.get("message", ""))
        return {"accepted": True}

    async def mode_set(args: dict[str, Any]) -> Any:
        _require("commander")
        ack = await client.feed.command("mode.set", {"wall": client.cfg.wall, "mode": args["mode"]})
        if not ack.ok:
            err = ack.error or {}
            raise CommandError(err.get("code", "refused"), err.get("message", ""))
        return {"accepted": True}

    control.register("status", status)
    control.register("snapshot", snapshot)
    control.register("preset.activate", preset_activate)
    control.register("mode.set", mode_set)

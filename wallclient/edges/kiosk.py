"""Running unattended for months: the screens kept awake, and a supervisor that restarts
a wall that died or hung.

``keep_awake()`` turns screen blanking and power saving off for as long as the wall runs
(X11: ``xset``; any desktop with a freedesktop screensaver: its D-Bus inhibit; Windows:
``SetThreadExecutionState``; macOS: ``caffeinate``) and returns how to undo it.

``supervise(argv)`` runs ``wallclient`` with ``argv`` as a child and restarts it when it
exits, or when its GUI stops beating: the child speaks systemd's notify protocol
(``READY=1``, then ``WATCHDOG=1`` about once a second from the GUI thread, see
wallclient.heartbeat.Heartbeat), so the same wall runs under a systemd unit with
``WatchdogSec`` or under this supervisor (XDG autostart, or platforms without systemd).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def keep_awake() -> Callable[[], None]:
    """Keep the screens on; returns a function that gives the settings back."""
    undo: list[Callable[[], None]] = []
    if sys.platform == "win32":
        import ctypes

        es_continuous, es_system, es_display = 0x80000000, 0x00000001, 0x00000002
        ctypes.windll.kernel32.SetThreadExecutionState(es_continuous | es_system | es_display)  # type: ignore[attr-defined]
        undo.append(lambda: ctypes.windll.kernel32.SetThreadExecutionState(es_continuous))  # type: ignore[attr-defined]
        log.info("screen kept awake (SetThreadExecutionState)")
    elif sys.platform == "darwin":
        caffeinate = shutil.which("caffeinate")
        if caffeinate:
            proc = subprocess.Popen([caffeinate, "-d", "-w", str(os.getpid())])
            undo.append(proc.terminate)
            log.info("screen kept awake (caffeinate)")
    else:
        undo += _x11_awake()
        undo += _dbus_inhibit()

    def restore() -> None:
        for fn in reversed(undo):
            with contextlib.suppress(Exception):
                fn()

    return restore


def xset_state() -> dict[str, bool] | None:
    """X11's screen saver and DPMS as ``xset q`` reports them (None without X11/xset)."""
    xset = shutil.which("xset")
    if not xset or not os.environ.get("DISPLAY"):
        return None
    try:
        out = subprocess.run([xset, "q"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    saver_on = "timeout:  0" not in out and "timeout: 0" not in out
    dpms_on = "DPMS is Enabled" in out
    return {"screensaver": saver_on, "dpms": dpms_on}


def _x11_awake() -> list[Callable[[], None]]:
    before = xset_state()
    if before is None:
        return []
    xset = shutil.which("xset") or "xset"
    for args in (["s", "off"], ["s", "noblank"], ["-dpms"]):
        subprocess.run([xset, *args], capture_output=True, timeout=5, check=False)
    log.info("X11 screen saver and DPMS off while the wall runs")

    def undo() -> None:
        if before["screensaver"]:
            subprocess.run([xset, "s", "on"], capture_output=True, timeout=5, check=False)
        if before["dpms"]:
            subprocess.run([xset, "+dpms"], capture_output=True, timeout=5, check=False)

    return [undo]


def _dbus_inhibit() -> list[Callable[[], None]]:
    """org.freedesktop.ScreenSaver.Inhibit on the session bus, where there is one."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return []
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusInterface
    except ImportError:
        return []
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return []
    iface = QDBusInterface("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver",
                           "org.freedesktop.ScreenSaver", bus)  # fmt: skip
    if not iface.isValid():
        return []
    reply = iface.call("Inhibit", "wallclient", "a video wall is showing")
    args = reply.arguments()
    if not args:
        return []
    cookie = args[0]
    log.info("screen saver inhibited over D-Bus")

    def undo() -> None:
        iface.call("UnInhibit", cookie)

    return [undo]


# --- the supervisor ------------------------------------------------------------------


def supervise(argv: list[str], watchdog_s: float = 30.0, max_restarts: int | None = None,
              backoff_s: float = 3.0) -> int:  # fmt: skip
    """Run ``wallclient <argv>`` and restart it when it exits or its GUI stops beating
    for ``watchdog_s``. Returns when stopped (SIGTERM/SIGINT) or after ``max_restarts``."""
    tmp = Path(tempfile.mkdtemp(prefix="wallclient-supervise-"))
    path = tmp / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    os.chmod(path, 0o600)
    sock.settimeout(0.5)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    env = dict(os.environ, NOTIFY_SOCKET=str(path), WATCHDOG_USEC=str(int(watchdog_s * 1e6)))
    restarts = 0
    try:
        while not stopping:
            child = subprocess.Popen([sys.executable, "-m", "wallclient", *argv], env=env)
            log.info("supervise: wall started (pid %d)", child.pid)
            print(f"supervise: started pid {child.pid}", flush=True)
            started = last_beat = time.monotonic()
            ready = False
            reason = ""
            while not stopping:
                try:
                    msg = sock.recv(4096).decode(errors="replace")
                    if "READY=1" in msg:
                        ready = True
                    if "WATCHDOG=1" in msg or "READY=1" in msg:
                        last_beat = time.monotonic()
                except TimeoutError:
                    pass
                if child.poll() is not None:
                    reason = f"exited with {child.returncode}"
                    break
                silent = time.monotonic() - last_beat
                # before READY the wall may take a while to load its cache
                if silent > (watchdog_s if ready else max(watchdog_s, 120.0)):
                    reason = f"hung: no heartbeat for {silent:.0f} s"
                    child.kill()
                    child.wait(10)
                    break
            if stopping:
                child.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(20)
                if child.poll() is None:
                    child.kill()
                break
            restarts += 1
            log.warning("supervise: wall %s; restarting (%d)", reason, restarts)
            print(f"supervise: {reason}; restarting", flush=True)
            if max_restarts is not None and restarts > max_restarts:
                return 1
            # a wall that dies at once is not restarted in a tight loop
            time.sleep(backoff_s if time.monotonic() - started > 60 else backoff_s * 3)
    finally:
        sock.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0

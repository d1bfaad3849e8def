"""The GUI thread's heartbeat: how long it was last kept busy (stalls), how long the
garbage collector took, and systemd's watchdog told that the GUI lives."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class Heartbeat:
    """A 20 ms timer on the GUI thread: the longest gap between its ticks is the
    longest the GUI thread was busy (a stall); each tick also tells systemd's watchdog
    that the GUI lives (sd_notify WATCHDOG=1, when run under a unit with WatchdogSec)."""

    PERIOD_MS = 20

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.longest_ms = 0.0
        self.longest_running_ms = 0.0  # of the longest stall, the GUI thread's own CPU
        self.longest_queued_ms = 0.0  # … and what it spent runnable, waiting for a core
        self.over_50 = 0
        self.stalls: list[tuple[float, float]] = []  # the last ten over 50 ms: (ms, epoch s)
        self.since = time.time()
        self._last = time.monotonic()
        self._sched = _schedstat()  # Linux: the GUI thread's times on a core and queued
        # the GUI thread's own CPU time and its time in the run queue at the last tick
        self._cpu, self._queued = _times(self._sched)
        self._notify = _watchdog_socket()
        self._notified = 0.0
        self.gc_longest_ms = [0.0, 0.0, 0.0]  # the longest collection, per generation
        self.gc_ms = [0.0, 0.0, 0.0]  # all collections' time, per generation (since reset)
        self.gc_passes = [0, 0, 0]
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
        cpu, queued = _times(self._sched)
        # of a stall, how much the GUI thread itself ran, how long it was ready to run and
        # waited for a core; the rest it slept (on a lock — the GIL among them — or I/O)
        busy, self._cpu = cpu - self._cpu, cpu
        waited, self._queued = queued - self._queued, queued
        if self.trace_ms > 0:
            seen, self._seen = self._seen, []
            if gap > self.trace_ms:
                counts = Counter(seen).most_common(4)
                log.warning("GUI stall %.0f ms (%.0f ms of it running, %.0f waiting for a core);"
                            " sampled there: %s", gap, busy, waited,
                            "; ".join(f"{w} ×{n}" for w, n in counts) or "nothing (native)")  # fmt: skip
        if gap > self.longest_ms:
            self.longest_ms, self.longest_running_ms, self.longest_queued_ms = gap, busy, waited
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
            self.gc_ms[gen] += ms
            self.gc_passes[gen] += 1

    def close(self) -> None:
        """Stop beating and stop listening to the collector (the process's ``gc.callbacks``
        would otherwise keep this heartbeat for ever)."""
        self.timer.stop()
        if self._sched is not None:
            with contextlib.suppress(OSError):
                os.close(self._sched)
            self._sched = None
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)

    def reset(self) -> None:
        self.gc_longest_ms = [0.0, 0.0, 0.0]
        self.gc_ms, self.gc_passes = [0.0, 0.0, 0.0], [0, 0, 0]
        self.longest_ms, self.over_50, self.since = 0.0, 0, time.time()
        self.longest_running_ms = self.longest_queued_ms = 0.0
        self.stalls = []

    def view(self) -> dict[str, Any]:
        return {"longest_stall_ms": round(self.longest_ms, 1),
                "longest_stall_running_ms": round(self.longest_running_ms, 1),
                "longest_stall_queued_ms": round(self.longest_queued_ms, 1),
                "stalls_over_50ms": self.over_50,
                "stalls": list(self.stalls), "since": self.since,
                "gc_longest_ms": [round(x, 1) for x in self.gc_longest_ms],
                "gc_ms": [round(x, 1) for x in self.gc_ms], "gc_passes": list(self.gc_passes)}  # fmt: skip


def _schedstat() -> int | None:
    """The calling thread's ``schedstat`` (Linux: its time on a core and its time ready
    to run but waiting for one, in ns), kept open: re-read at each tick, ~1 µs."""
    try:
        fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
    except OSError:
        return None
    if _read(fd) is None:  # (schedstats not kept by this kernel)
        os.close(fd)
        return None
    return fd


def _read(fd: int) -> tuple[float, float] | None:
    try:
        run, queued = os.pread(fd, 64, 0).split()[:2]
        return int(run) / 1e6, int(queued) / 1e6
    except (OSError, ValueError):
        return None


def _times(fd: int | None) -> tuple[float, float]:
    """The GUI thread's time on a core and in the run queue so far, ms (without
    schedstat: its CPU time, and no queue)."""
    got = None if fd is None else _read(fd)
    return got if got is not None else (time.thread_time() * 1000, 0.0)


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

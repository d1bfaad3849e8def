"""libvlc's own threads behind the GUI thread (``[video] decoder_nice``).

On a 2-core wall PC the GUI thread shares the cores with every decoder: when a paint is
due and both cores are busy decoding, the paint waits in the run queue (the heartbeat's
``longest_stall_queued_ms``). Lowering the decoders' priority lets the GUI thread in
first; the decoders still get every cycle the GUI does not want.

Only threads that never take Python's GIL may be lowered: a lowered Python thread,
preempted while it holds the GIL, keeps the GUI thread waiting behind it (priority
inversion — measured in session 24: stalls over 50 ms on a steady wall went 11 → 88 with
Python's workers at nice +15). libvlc's threads (input, demux, decoders, FFmpeg's frame
threads, video output) enter Python only where the wall gives them a Python callback:
with the C frame sink and with native windows they never do. So this lowers the threads
of this process that Python did not start and that nobody named (Qt and GLib name
theirs), as they appear — ``tick()`` is called once a second — and leaves the rest.
Linux only (a thread's id is a process id to ``setpriority``); elsewhere it does nothing.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

TASKS = "/proc/self/task"


def _comm(tid: int) -> str | None:
    try:
        with open(f"{TASKS}/{tid}/comm", encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return None


def nice_of(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


class NativeThreads:
    """Lowers, by ``nice`` steps below the main thread, each thread Python did not start."""

    def __init__(self, nice: int) -> None:
        self.nice = nice
        self.lowered: set[int] = set()
        self.enabled = sys.platform.startswith("linux") and nice > 0 and os.path.isdir(TASKS)
        self._name = _comm(os.getpid()) if self.enabled else None

    def tick(self) -> int:
        """Lower the threads that appeared since the last call; how many were."""
        if not self.enabled:
            return 0
        known: set[int] = set()
        for t in threading.enumerate():
            if t.native_id is None:  # one is starting: its id is not known yet, next time
                return 0
            known.add(t.native_id)
        try:
            tids = {int(n) for n in os.listdir(TASKS)}
        except OSError:
            return 0
        self.lowered &= tids
        target = min(19, nice_of(os.getpid()) + self.nice)
        count = 0
        for tid in tids - known - self.lowered:
            if _comm(tid) != self._name:  # Qt's and GLib's threads, named by their owners
                continue
            try:
                os.setpriority(os.PRIO_PROCESS, tid, target)
            except OSError:  # it ended meanwhile
                continue
            self.lowered.add(tid)
            count += 1
        if count:
            log.debug("%d libvlc threads lowered to nice %d", count, target)
        return count


keeper: NativeThreads | None = None  # the wall's, once started


def start(nice: int) -> None:
    """Keep libvlc's threads ``nice`` below the GUI thread from now on — only where they
    never enter Python (the C frame sink is loaded; without it the callbacks route's
    decoders call Python with every frame)."""
    global keeper
    from wallclient.edges.video import control, sink

    if sink.library() is None:
        log.warning("[video] decoder_nice: no C frame sink here, libvlc's threads keep their priority")
        return
    keeper = NativeThreads(nice)
    if keeper.enabled:
        control.jobs.every_second.append(keeper.tick)


def lowered() -> int:
    """Threads lowered now (``status.resources.control.lowered_threads``)."""
    return len(keeper.lowered) if keeper is not None else 0

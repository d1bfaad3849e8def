"""The GUI thread first: every worker thread of the wall runs at a lower CPU priority.

On a wall PC whose two cores are full (16 decoders, the wall's own painting, the cache
writing 200 messages a second) the scheduler shares the cores out by weight. At equal
weights the GUI thread waited for a core behind the decoders, and the wall stalled
100–200 ms at a switch. A worker calls ``background()`` when it starts: on Linux a
thread's nice value is its own and every thread it starts inherits it — so the libvlc
control thread's players (libvlc's input and decoder threads), the PyAV launcher's
readers, the cache writer and the map's heat all run at ``BACKGROUND_NICE`` behind the
GUI thread, which stays at the process's own. A decoder loses nothing it cannot buffer:
the GUI thread wants a third of one core, in bursts of a few ms (docs/benchmarks.md,
"Endurance").

Lowering a priority needs no privilege; raising one back does, so a thread that has
called this stays behind for its life — call it from workers only, never the GUI thread.
"""

from __future__ import annotations

import os
import threading

BACKGROUND_NICE = 5  # CFS weight 335 against the GUI thread's 1024 at nice 0


def background(nice: int | None = None) -> bool:
    """Lower the calling thread's priority to ``nice`` above the process's start (never
    raise it). True when it was set; False where threads have no priority of their own."""
    if threading.current_thread() is threading.main_thread():
        return False  # the GUI thread (and a test's) keeps its priority
    want = BACKGROUND_NICE if nice is None else nice
    raw = os.environ.get("WALLCLIENT_WORKER_NICE")  # for comparisons: 0 leaves them equal
    if raw is not None and raw.strip().lstrip("-").isdigit():
        want = int(raw)
    if not hasattr(os, "setpriority") or not want:
        return False
    try:
        tid = threading.get_native_id()
        base = os.getpriority(os.PRIO_PROCESS, os.getpid())
        if os.getpriority(os.PRIO_PROCESS, tid) >= base + want:
            return True
        os.setpriority(os.PRIO_PROCESS, tid, min(19, base + want))
    except OSError:
        return False
    return True

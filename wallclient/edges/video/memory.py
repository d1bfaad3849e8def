"""The process's heap under decoders that come and go: glibc's arenas capped before
any decoder starts (``cap_malloc_arenas``), and what finished inputs freed handed back
to the system after each switch (``trim_soon``)."""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
import time

from wallclient.edges.video import control

TRIM_AFTER_S = 1.0  # the heap is trimmed this long after the last player stopped
TRIM_AT_LEAST_S = 5.0  # … and, however fast presets switch, at least this often
_trim_due = 0.0  # when the pending trim is due (monotonic; 0: none pending)
_trim_since = 0.0  # when the pending trim was first asked for
_trim_wake = threading.Condition()
_trimmer: threading.Thread | None = None


def trim_soon() -> None:
    """Hand the memory freed by finished inputs back to the system (glibc) once the
    players stopped now are done: TRIM_AFTER_S after the last stop asked for, queued on
    the libvlc control thread behind the stops themselves. One trim per preset switch.

    Asked on the GUI thread at every stop, so it only moves a deadline: one thread of
    its own waits for it (a thread started per ask made the GUI wait for each start,
    tens of ms on a loaded machine)."""
    global _trim_due, _trim_since, _trimmer
    if not sys.platform.startswith("linux"):
        return
    with _trim_wake:
        now = time.monotonic()
        if _trim_due:
            if now - _trim_since > TRIM_AT_LEAST_S:
                return  # switching without a pause: let the pending trim happen
        else:
            _trim_since = now
        _trim_due = now + TRIM_AFTER_S
        if _trimmer is None:
            _trimmer = threading.Thread(target=_wait_and_trim, name="heap-trim", daemon=True)
            _trimmer.start()
        _trim_wake.notify()


def _wait_and_trim() -> None:
    global _trim_due
    while True:  # a daemon thread: it ends with the process
        with _trim_wake:
            while not _trim_due:
                _trim_wake.wait()
            wait = _trim_due - time.monotonic()
            if wait > 0:
                _trim_wake.wait(wait)
                continue  # the deadline may have moved meanwhile
            _trim_due = 0.0
        control.jobs.submit(trim_heap)


def trim_heap() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


MMAP_THRESHOLD = 256 * 1024  # blocks this large are mapped (and unmapped when freed)


def cap_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (Linux), before any decoder thread starts.

    libvlc starts threads for every input; with glibc's default of 8 arenas per core
    their freed memory stays fragmented over many arenas and a wall's RSS grew ~20 %
    over 200 preset switches. Capped here it levels off (+10 % at 400 switches);
    exported as MALLOC_ARENA_MAX=2 before the interpreter starts, +2.6 %
    (docs/benchmarks.md). A no-op elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_arena_max, m_mmap_threshold = -8, -3  # from malloc.h
        # A fixed mmap threshold: glibc otherwise raises it each time a large block
        # is freed, and decoders' picture buffers then come from the heap and stay
        # there, fragmented; mapped, they go back to the system when freed.
        libc.mallopt(m_mmap_threshold, MMAP_THRESHOLD)
        return bool(libc.mallopt(m_arena_max, arenas))
    except (OSError, AttributeError):
        return False

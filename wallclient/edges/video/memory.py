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
_trim_timer: threading.Timer | None = None
_trim_since = 0.0  # when the pending trim was first asked for
_trim_lock = threading.Lock()


def trim_soon() -> None:
    """Hand the memory freed by finished inputs back to the system (glibc) once the
    players stopped now are done: TRIM_AFTER_S after the last stop asked for, queued on
    the libvlc control thread behind the stops themselves. One trim per preset switch."""
    global _trim_timer, _trim_since
    if not sys.platform.startswith("linux"):
        return
    with _trim_lock:
        now = time.monotonic()
        if _trim_timer is not None and _trim_timer.is_alive():
            if now - _trim_since > TRIM_AT_LEAST_S:
                return  # switching without a pause: let the pending trim happen
            _trim_timer.cancel()
        else:
            _trim_since = now
        _trim_timer = threading.Timer(TRIM_AFTER_S, lambda: control.jobs.submit(trim_heap))
        _trim_timer.daemon = True
        _trim_timer.start()


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

"""What the wall holds (``status.resources``, issue 30): players per route and their
threads, the libvlc control thread's queue, native windows, the cache's rows and files,
the process's memory, threads and descriptors, Python's allocated blocks. Each figure is
one a wall that runs for months must keep level; docs/operations.md says what is normal.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


def process(heap_every_s: float = 0.0) -> dict[str, Any]:
    """This process as the kernel counts it (Linux; elsewhere what Python knows). The heap's
    figures are the last walk's if it is under ``heap_every_s`` old (0: walked now;
    ``heap.age_s`` says how old)."""
    out: dict[str, Any] = {"threads": threading.active_count()}
    status = Path("/proc/self/status")
    if status.exists():
        fields = dict(
            line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
        )
        out["rss_mb"] = round(int(fields["VmRSS"].split()[0]) / 1024, 1)
        out["threads"] = int(fields["Threads"])
        out["fds"] = fds()
        out["heap"] = _heap_at_most_every(heap_every_s)
    return out


# glibc's heap walk holds each arena's lock while it goes through every free block: 30 ms
# over 150,000 of them, and the GUI thread's own mallocs wait meanwhile. A supervisor
# that asks ``status`` ten times a second must not cost the wall a stall each time.
HEAP_EVERY_S = 60.0
HEAP_ASKED_EVERY_S = 5.0
_last_heap: tuple[float, dict[str, float]] | None = None


def _heap_at_most_every(seconds: float) -> dict[str, float]:
    global _last_heap
    now = time.monotonic()
    if _last_heap is None or now - _last_heap[0] >= seconds:
        t = time.perf_counter()
        figures = heap()
        if figures:
            figures["walk_ms"] = round((time.perf_counter() - t) * 1000, 1)
        _last_heap = (now, figures)
    at, figures = _last_heap
    return {**figures, "age_s": round(now - at, 1)} if figures else {}


_measurer: ThreadPoolExecutor | None = None


async def process_off_gui(heap_now: bool = False) -> dict[str, Any]:
    """``process`` on one thread of its own (made at the first ask), the event
    loop — the GUI thread — going on meanwhile: /proc's figures take tens of ms on a loaded
    wall. Not asyncio's default pool: that one is shared and grows to six
    threads; this is one, named, and the wall's thread count says what it is."""
    global _measurer
    if _measurer is None:
        _measurer = ThreadPoolExecutor(1, thread_name_prefix="resources")
    # asked or not, at most one walk in HEAP_ASKED_EVERY_S: a client asking at every call
    # cannot turn the walk into the stall it is kept from being
    every = HEAP_ASKED_EVERY_S if heap_now else HEAP_EVERY_S
    return await asyncio.get_running_loop().run_in_executor(_measurer, process, every)


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]  # fmt: skip


def heap() -> dict[str, float]:
    """glibc's heap over all its arenas (``mallinfo2``, glibc ≥ 2.33), in MB: ``used``
    what is allocated from the arenas, ``free`` what they hold freed but not handed back
    (fragmentation, until a trim), ``mapped`` the large blocks mapped on their own
    (decoders' pictures: handed back when freed). {} where there is no such call."""
    try:
        call = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return {}
    call.restype = _MallInfo2
    info = call()
    mb = 1 / 2**20
    return {"used": round(info.uordblks * mb, 1), "free": round(info.fordblks * mb, 1),
            "mapped": round(info.hblkhd * mb, 1)}  # fmt: skip


def fds() -> dict[str, int]:
    """Open descriptors by kind (socket, pipe, file, anon: eventfd, memfd and the like)."""
    kinds: dict[str, int] = {}
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return kinds
    for name in names:
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the listing's own descriptor, closed by now
        kind = (
            "socket" if target.startswith("socket:")
            else "pipe" if target.startswith("pipe:")
            else "anon" if target.startswith("anon_inode:")
            else "file"
        )  # fmt: skip
        kinds[kind] = kinds.get(kind, 0) + 1
    kinds["total"] = sum(kinds.values())
    return kinds


def vlc_retained() -> int | None:
    """Media players python-vlc's memoized ``event_manager`` keeps alive (0 here: the
    wall never asks it; a number that grows means something did)."""
    vlc = sys.modules.get("vlc")
    if vlc is None:
        return None
    memo = vlc.MediaPlayer.__dict__.get("event_manager")
    return len(getattr(memo, "_cache", {}))


def view(pool: Any, video_panels: list[Any], cache: Any) -> dict[str, Any]:
    """``status.resources``: ``pool`` the wall's PlayerPool, ``video_panels`` its video
    panels, ``cache`` the writer's Cache (its ``measured`` rows and sizes)."""
    from wallclient.edges.video import control, pyav, threads

    players = pool.counts() if pool is not None else {}
    players["pyav_threads"] = pyav.readers()
    players["vlc_retained"] = vlc_retained()
    return {
        "players": players,
        "control": {
            "queue": control.jobs.depth(),
            "running_s": round(control.jobs.oldest_s(), 2),
            "stuck": control.jobs.stuck,
            "jobs": control.jobs.done,
            "lowered_threads": threads.lowered(),
        },
        "native_windows": sum(p.players.windows() for p in video_panels),
        "cache": dict(getattr(cache, "measured", {}) or {}),
        "python": {"allocated_blocks": sys.getallocatedblocks()},
        # ``process``: added by the control API's ``status``, measured off the GUI thread
        # (/proc's figures and glibc's heap walk: tens of ms on a loaded wall)
    }


_last_types: dict[str, int] = {}


def top_types(n: int = 20) -> list[dict[str, Any]]:
    """Diagnosis (``resources.types``): the Python types with the most live objects, and
    how many more than at the last call — what grows, when something does. Walks every
    object the collector tracks: ~0.2–0.5 s on a busy wall, so only on request. A full
    collection first: what is counted lives (cycles awaiting the collector's rare full
    pass are not what the wall holds)."""
    import gc
    from collections import Counter

    gc.collect()
    counts = Counter(type(o).__qualname__ for o in gc.get_objects())
    global _last_types
    before, _last_types = _last_types, dict(counts)
    return [{"type": t, "count": c, "since_last": c - before.get(t, 0) if before else None}
            for t, c in counts.most_common(n)]  # fmt: skip


_last_snapshot: Any = None


def top_allocations(n: int = 20, frames: int = 1) -> dict[str, Any]:
    """Diagnosis (``resources.allocations``): where Python's traced memory grew since the
    last call, by the line (``frames`` deep) that allocated it. Only while tracemalloc
    traces: start the wall with ``PYTHONTRACEMALLOC=N`` (N frames kept per block; it
    slows the wall by a third or more, so never on a wall in service)."""
    import tracemalloc

    if not tracemalloc.is_tracing():
        return {"tracing": False, "top": []}
    snapshot = tracemalloc.take_snapshot().filter_traces(
        (tracemalloc.Filter(False, tracemalloc.__file__),)
    )
    global _last_snapshot
    before, _last_snapshot = _last_snapshot, snapshot
    key = "traceback" if frames > 1 else "lineno"
    stats: list[tuple[Any, int, int]]
    if before is None:
        stats = [(s, s.size, s.count) for s in snapshot.statistics(key)[:n]]
    else:
        stats = [(s, s.size_diff, s.count_diff) for s in snapshot.compare_to(before, key)[:n]]
    traced, _peak = tracemalloc.get_traced_memory()
    return {
        "tracing": True,
        "traced_mb": round(traced / 2**20, 1),
        "since_last": before is not None,
        "top": [{"where": [f"{f.filename}:{f.lineno}" for f in s.traceback],
                 "size_kb": round(size / 1024, 1), "count": count,
                 "total_kb": round(s.size / 1024, 1)} for s, size, count in stats],
    }  # fmt: skip


def referrers(prefix: str, depth: int = 3, most: int = 30) -> dict[str, int]:
    """Diagnosis (``resources.types`` with ``referrers``): what holds the live objects
    whose type's name starts with ``prefix`` — each one's chain of holders, ``depth``
    deep (the first holder of each level; an attribute or a dict's key named where it
    can be), counted. Each level walks every object the collector tracks: at most
    ``most`` objects are followed, and only on request."""
    import gc
    import inspect
    from collections import Counter

    gc.collect()
    found = [o for o in gc.get_objects() if type(o).__qualname__.startswith(prefix)][:most]
    chains: Counter[str] = Counter()
    for obj in found:
        chain, at = [type(obj).__qualname__], obj
        mine = {id(found), id(chain), id(obj)}
        for _ in range(depth):
            holders = [r for r in gc.get_referrers(at) if id(r) not in mine and not inspect.isframe(r)]
            mine.add(id(holders))
            if not holders:
                chain.append("(held by nothing the collector sees)")
                break
            held, at = at, holders[0]
            mine.add(id(at))
            chain.append(_holder(at, held, len(holders)))
        chains[" ← ".join(chain)] += 1
    return dict(chains.most_common(30))


def _holder(holder: Any, held: Any, among: int) -> str:
    """``holder`` as a step of a chain: its type, and where in it ``held`` is."""
    import gc

    name = type(holder).__qualname__
    if isinstance(holder, dict):
        key = next((k for k, v in holder.items() if v is held), None)
        owner = next((o for o in gc.get_referrers(holder) if getattr(o, "__dict__", None) is holder), None)
        where = f"{type(owner).__qualname__}.{key}" if owner is not None else f"{name}[{key!r}]"
        return f"{where} (1 of {among})"
    if isinstance(holder, list | tuple | set | frozenset):
        return f"{name} of {len(holder)} (1 of {among})"
    return f"{name} (1 of {among})"

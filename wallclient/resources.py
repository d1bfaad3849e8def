"""What the wall holds (``status.resources``, issue 30): players per route and their
threads, the libvlc control thread's queue, native windows, the cache's rows and files,
the process's memory, threads and descriptors, Python's allocated blocks. Each figure is
one a wall that runs for months must keep level; docs/operations.md says what is normal.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any


def process() -> dict[str, Any]:
    """This process as the kernel counts it (Linux; elsewhere what Python knows)."""
    out: dict[str, Any] = {"threads": threading.active_count()}
    status = Path("/proc/self/status")
    if status.exists():
        fields = dict(
            line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
        )
        out["rss_mb"] = round(int(fields["VmRSS"].split()[0]) / 1024, 1)
        out["threads"] = int(fields["Threads"])
        out["fds"] = fds()
    return out


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
    from wallclient.edges.video import control, pyav

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
        },
        "native_windows": sum(p.players.windows() for p in video_panels),
        "cache": dict(getattr(cache, "measured", {}) or {}),
        "python": {"allocated_blocks": sys.getallocatedblocks()},
        "process": process(),
    }


_last_types: dict[str, int] = {}


def top_types(n: int = 20) -> list[dict[str, Any]]:
    """Diagnosis (``resources.types``): the Python types with the most live objects, and
    how many more than at the last call — what grows, when something does. Walks every
    object the collector tracks: ~0.2–0.5 s on a busy wall, so only on request."""
    import gc
    from collections import Counter

    counts = Counter(type(o).__qualname__ for o in gc.get_objects())
    global _last_types
    before, _last_types = _last_types, dict(counts)
    return [{"type": t, "count": c, "since_last": c - before.get(t, 0) if before else None}
            for t, c in counts.most_common(n)]  # fmt: skip

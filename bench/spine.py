"""Benchmarks of the data spine (issue "Data spine"). Run by hand, not in `make test`:

    .venv/bin/python bench/spine.py ingest|latency|snapshot|coldopen|all

The backend is a real `wallclient serve-demo` process; the client side is the same
code `wallclient run --headless` runs (Session → WallState → CacheWriter thread →
SQLite WAL) in this process, so the two share the 2 cores as they would on a wall PC
that also runs its backend's simulator. Numbers go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import DemoServer, feed_client  # noqa: E402
from wallclient.edges.cache import Cache, CacheWriter  # noqa: E402
from wallclient.edges.feed import Feed  # noqa: E402
from wallclient.protocol import parse_time  # noqa: E402
from wallclient.session import Apply, Session  # noqa: E402
from wallclient.state import WallState  # noqa: E402


async def until(cond, seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError("bench condition not reached")
        await asyncio.sleep(0.002)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def ingest(tmp: Path, n: int = 60_000) -> dict:
    """Applied-and-persisted throughput: n state messages replayed to a resuming client.

    The backend publishes them while the client is away, so what is timed is the
    client (and the backend sending pre-encoded frames), not the event generator.
    """
    server = DemoServer(tmp, "--rate", "0", "--no-media", "--indicator-period", "3600",
                        "--replay-window", str(n + 10), state=False).start()  # fmt: skip
    try:

        async def go() -> dict:
            cache = tmp / "ingest.sqlite"
            async with feed_client(server.url, cache) as (feed, state, writer):
                await until(lambda: feed.status.state == "live")
                writer.flush()
                start_seq = state.last_seq
            t_gen = time.perf_counter()
            server.admin("events", n=n)
            generated = time.perf_counter() - t_gen
            head = server.admin("head")["seq"]
            Session_ = Session(wall="wall-1", node="bench", scope={"level": "district", "code": "310114"},
                               last_seq=start_seq)  # fmt: skip
            state = WallState("wall-1")
            writer = CacheWriter(Cache(cache).open())
            writer.start()
            feed = Feed(
                url=server.url, token="tok-commander", session=Session_, state=state, writer=writer
            )
            t0 = time.perf_counter()
            task = asyncio.create_task(feed.run())
            await until(lambda: (state.last_seq or 0) >= head)
            applied = time.perf_counter() - t0
            await until(lambda: (writer.written_seq or 0) >= head)
            persisted = time.perf_counter() - t0
            feed.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            writer.stop()
            count = head - start_seq
            return {
                "messages": count,
                "applied_s": round(applied, 3),
                "persisted_s": round(persisted, 3),
                "msg_per_s_applied": round(count / applied),
                "msg_per_s_persisted": round(count / persisted),
                "transactions": writer.transactions,
                "backend_generate_s": round(generated, 3),
            }

        return asyncio.run(go())
    finally:
        server.stop()


def latency(tmp: Path, rate: int, seconds: float = 20) -> dict:
    """publish → applied latency at a steady rate (ts stamped by the backend at publish)."""
    server = DemoServer(tmp, "--rate", str(rate), "--no-media", state=False).start()
    try:

        async def go() -> dict:
            lat: list[float] = []
            async with feed_client(server.url, tmp / f"lat{rate}.sqlite") as (feed, state, writer):
                await until(lambda: feed.status.state == "live")
                original = feed.session.receive

                def timed(frame):
                    events = original(frame)
                    for ev in events:
                        if isinstance(ev, Apply) and ev.ts:
                            lat.append(time.time() - parse_time(ev.ts).timestamp())
                    return events

                # measured after the events are applied: the feed applies them right after receive
                feed.session.receive = timed  # type: ignore[method-assign]
                t0 = time.monotonic()
                await asyncio.sleep(seconds)
                got = len(lat)
                elapsed = time.monotonic() - t0
            ms = [x * 1000 for x in lat]
            return {
                "rate": rate,
                "received_per_s": round(got / elapsed),
                "p50_ms": round(pct(ms, 50), 2),
                "p99_ms": round(pct(ms, 99), 2),
                "max_ms": round(max(ms), 2),
            }

        return asyncio.run(go())
    finally:
        server.stop()


def snapshot(tmp: Path) -> dict:
    """First contact with the 77,000-camera district: welcome → snapshot applied / persisted."""
    server = DemoServer(
        tmp, "--rate", "0", "--no-media", "--scale", "district-max", state=False
    ).start()
    try:

        async def go() -> dict:
            async with feed_client(server.url, tmp / "big.sqlite") as (feed, state, writer):
                await until(lambda: feed.session.welcome is not None, 60)
                t0 = time.perf_counter()
                await until(lambda: feed.status.snapshots == 1, 120)
                applied = time.perf_counter() - t0
                writer.flush(120)
                persisted = time.perf_counter() - t0
                return {
                    "cameras": len(state.cameras),
                    "presets": len(state.presets),
                    "applied_s": round(applied, 2),
                    "persisted_s": round(persisted, 2),
                }

        return asyncio.run(go())
    finally:
        server.stop()


def coldopen(tmp: Path, live_incidents: int = 5_000) -> dict:
    """Open a cache of 100,000 incidents and 349 × 24 h of history into a live WallState."""
    from datetime import datetime

    from wallclient.demo.district import District
    from wallclient.edges.cache import Batch

    path = tmp / f"cold-{live_incidents}.sqlite"
    d = District(seed=1)
    cache = Cache(path).open()
    cache.replace_all(d.tables(), d.walls["wall-1"], 1, "0")
    now = datetime.now().astimezone()
    incidents = [d.new_incident(now) for _ in range(100_000)]
    with cache.db.atomic():
        cache._upsert_incidents(incidents)
        cache.db.execute(
            "UPDATE incidents SET archived=1, archived_at=? WHERE rowid IN "
            "(SELECT rowid FROM incidents ORDER BY rowid LIMIT ?)",
            [time.time(), 100_000 - live_incidents],
        )
        base = int(time.time() // 60)
        cache.db.conn.executemany(
            "INSERT OR REPLACE INTO indicator_history (id, bucket, t, value) VALUES (?, ?, ?, ?)",
            ((iid, base - m, (base - m) * 60.0, 1.0) for iid in d.indicators for m in range(1440)),
        )
    cache.write(Batch(last_seq=2))
    counts = cache.counts()
    cache.close()
    # a fresh interpreter: what a restarted wall does, imports excluded (measured separately)
    code = (
        "import time,sys; t0=time.perf_counter()\n"
        "from wallclient.edges.cache import Cache; from wallclient.state import WallState\n"
        "t1=time.perf_counter(); c=Cache(sys.argv[1]).open(); l=c.load(); s=WallState('wall-1');"
        " s.load(l.tables, l.wall, l.last_seq); h=c.recent_history(60); t2=time.perf_counter()\n"
        "print(f'{t1-t0:.4f} {t2-t1:.4f} {len(s.incidents)} {len(h)}')"
    )
    runs = []
    for _ in range(5):
        out = os.popen(f'{sys.executable} -c "{code}" {path}').read().split()
        runs.append((float(out[0]), float(out[1]), int(out[2])))
    return {
        "incidents_total": counts["incidents"] + counts["archived"],
        "incidents_live": runs[0][2],
        "history_rows": counts["history"],
        "open_to_live_state_ms_median": round(statistics.median(r[1] for r in runs) * 1000, 1),
        "imports_ms_median": round(statistics.median(r[0] for r in runs) * 1000, 1),
    }


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    results = {}
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        if what in ("ingest", "all"):
            results["ingest"] = ingest(tmp)
        if what in ("latency", "all"):
            results["latency_100"] = latency(tmp, 100)
            results["latency_1000"] = latency(tmp, 1000)
        if what in ("snapshot", "all"):
            results["snapshot_77k"] = snapshot(tmp)
        if what in ("coldopen", "all"):
            results["coldopen_5k_live"] = coldopen(tmp, 5_000)
            results["coldopen_100k_live"] = coldopen(tmp, 100_000)
    print(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""The SQLite cache on real files: round trips, bounds, damage and foreign files."""

import sqlite3
import time

import pytest

from wallclient.demo.district import District
from wallclient.edges.cache import Batch, Cache, CacheWriter
from wallclient.errors import CacheError, CacheForeign
from wallclient.protocol import format_time, now


def snapshot(d: District, cache: Cache, seq: int = 10) -> None:
    cache.replace_all(d.tables(), d.walls["wall-1"], seq, "1.0")


def test_snapshot_then_messages_round_trip(tmp_path):
    d = District(seed=1)
    d.seed_incidents(now())
    cache = Cache(tmp_path / "c.sqlite").open()
    snapshot(d, cache)
    inc = d.new_incident(now())
    cache.write(Batch(messages=[("incident.upsert", inc),
                                ("camera.status", {"id": next(iter(d.cameras)), "status": "offline"}),
                                ("wall.state", {"wall": "wall-1", "mode": "emergency", "preset": "P0002"})],
                      last_seq=13, data_at="2.0"))  # fmt: skip
    cache.close()
    loaded = Cache(tmp_path / "c.sqlite").open().load()
    assert loaded.last_seq == 13 and loaded.data_at == "2.0"
    assert inc["id"] in {i["id"] for i in loaded.tables["incidents"]}
    assert loaded.tables["cameras"][0]["status"] == "offline"
    assert loaded.wall["mode"] == "emergency"
    assert len(loaded.tables["indicators"]) == 349


def test_removed_incidents_become_bounded_history(tmp_path):
    d = District(seed=1)
    cache = Cache(tmp_path / "c.sqlite", archive_keep=5).open()
    snapshot(d, cache)
    ids = [d.new_incident(now())["id"] for _ in range(12)]
    cache.write(Batch(messages=[("incident.upsert", d.incidents[i]) for i in ids], last_seq=11))
    cache.write(Batch(messages=[("incident.remove", {"id": i}) for i in ids[:10]], last_seq=12))
    assert {i["id"] for i in cache.load().tables["incidents"]} == set(ids[10:])
    cache.prune()
    assert cache.counts()["archived"] == 5
    assert len(cache.archived(100)) == 5


def test_indicator_history_is_one_point_a_minute_and_bounded(tmp_path):
    d = District(seed=1)
    cache = Cache(tmp_path / "c.sqlite", history_hours=1).open()
    for ind in d.indicators.values():
        ind["value"] = ind["t"] = None  # no reading yet: the history below is all there is
    snapshot(d, cache)
    base = time.time()
    for minute in range(120):  # two hours, two readings a minute
        for half in (0, 30):
            t = format_time(now().fromtimestamp(base - (120 - minute) * 60 + half).astimezone())
            cache.write(
                Batch(
                    messages=[
                        ("indicator.values", {"t": t, "values": [{"id": "I001", "value": minute}]})
                    ]
                )
            )
    cache.prune()
    hist = cache.history("I001", since_s=0)
    assert 58 <= len(hist) <= 62  # one hour of one-a-minute points
    assert hist[-1][1] == 119


def test_invalid_frames_are_kept_bounded(tmp_path):
    cache = Cache(tmp_path / "c.sqlite", invalid_keep=3).open()
    for n in range(10):
        cache.write(Batch(invalid=[(None, f"bad {n}", "x" * 20000)]))
    cache.prune()
    rows = cache.invalid_rows()
    assert [r["reason"] for r in rows] == ["bad 9", "bad 8", "bad 7"]
    assert len(rows[0]["raw"]) == 8192
    assert cache.load().invalid == 10


def test_garbage_file_is_refused_clearly(tmp_path):
    p = tmp_path / "c.sqlite"
    p.write_bytes(b"this is no database at all" * 100)
    with pytest.raises(CacheError, match="not a SQLite database"):
        Cache(p).open()


def test_truncated_database_is_refused_clearly(tmp_path):
    p = tmp_path / "c.sqlite"
    cache = Cache(p).open()
    snapshot(District(seed=1), cache)
    cache.close()
    data = p.read_bytes()
    p.write_bytes(data[:4096] + b"\x00" * 100 + data[8192:12000])
    with pytest.raises(CacheError):
        c = Cache(p).open()
        problems = c.check()
        c.load()
        if problems:
            raise CacheError("; ".join(problems))


def test_foreign_database_is_never_touched(tmp_path):
    p = tmp_path / "other.sqlite"
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE accounts (id INTEGER)")
    conn.commit()
    conn.close()
    before = p.read_bytes()
    with pytest.raises(CacheForeign):
        Cache(p).open()
    assert p.read_bytes() == before


def test_file_is_private_and_check_finds_broken_rows(tmp_path):
    p = tmp_path / "sub" / "c.sqlite"
    cache = Cache(p).open()
    assert oct(p.stat().st_mode & 0o777) == "0o600"
    assert oct(p.parent.stat().st_mode & 0o777) == "0o700"
    assert cache.check() == []
    cache.db.execute("INSERT INTO cameras (key, data) VALUES ('x', '{broken')")
    assert any("invalid JSON" in problem for problem in cache.check())


def test_writer_thread_batches_and_keeps_seq_with_data(tmp_path):
    d = District(seed=1)
    cache = Cache(tmp_path / "c.sqlite").open()
    snapshot(d, cache, seq=0)
    writer = CacheWriter(cache)
    writer.start()
    for seq in range(1, 2001):
        writer.apply("incident.upsert", d.new_incident(now()), seq, str(seq))
    assert writer.flush()
    assert writer.written_seq == 2000
    assert writer.transactions < 2000  # batched, not one transaction per message
    writer.stop()
    loaded = Cache(tmp_path / "c.sqlite").open().load()
    assert loaded.last_seq == 2000 and len(loaded.tables["incidents"]) == 2000


def test_the_past_holds_each_indicators_reading_and_its_sparkline_then(tmp_path):
    d = District(seed=1)
    cache = Cache(tmp_path / "c.sqlite").open()
    snapshot(d, cache)
    base = time.time() - 600
    for k in range(40):  # a reading every 5 s: I001 rises by one, I002 only every other time
        values = [{"id": "I001", "value": k}] + ([{"id": "I002", "value": -k}] if k % 2 == 0 else [])
        t = format_time(now().fromtimestamp(base + 5 * k).astimezone())
        cache.write(Batch(messages=[("indicator.values", {"t": t, "values": values})]))
    _incidents, readings, series = cache.past(base + 5 * 20 + 2)  # just after the 21st
    assert readings["I001"][1] == 20 and readings["I002"][1] == -20
    # the tile of then draws the readings up to then, oldest first, none after it
    assert series["I001"] == list(range(0, 21)) and series["I002"] == [-k for k in range(0, 21, 2)]
    _incidents, readings, series = cache.past(base + 5 * 39)
    assert series["I001"] == list(range(10, 40))  # at most 30 batches

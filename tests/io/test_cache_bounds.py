"""Every table of the cache that grows with time has a bound, and reaching it keeps the
file's size level (issue 30; docs/operations.md lists the bounds). Real SQLite files."""

import json
import os
import time
from datetime import timedelta

from wallclient.demo.district import District
from wallclient.edges.cache import Batch, Cache
from wallclient.protocol import format_time, now


def test_incidents_a_snapshot_archived_leave_no_replay_rows_past_the_horizon(tmp_path):
    d = District(seed=1)
    d.seed_incidents(now())
    # the replay window is 0 h: everything logged so far is past the horizon
    cache = Cache(tmp_path / "c.sqlite", replay_hours=0).open()
    cache.replace_all(d.tables(), d.walls["wall-1"], 10, "1.0")
    first = {i["id"] for i in d.tables()["incidents"]}
    assert cache.counts()["incident_log"] >= len(first) > 0
    # the backend restarts with none of them live: the snapshot archives them all
    tables = d.tables()
    tables["incidents"] = [d.new_incident(now()) for _ in range(3)]
    cache.replace_all(tables, d.walls["wall-1"], 20, "2.0")
    cache.prune()
    logged = {r[0] for r in cache.db.execute("SELECT DISTINCT id FROM incident_log")}
    assert logged == {i["id"] for i in tables["incidents"]}  # what is live, nothing else
    assert not logged & first


def test_the_audit_keeps_half_a_year_and_a_bounded_number_of_rows(tmp_path):
    cache = Cache(tmp_path / "c.sqlite", audit_keep=100).open()
    old = format_time(now() - timedelta(days=200))
    cache.add_audit({"at": old, "action": "preset.activate", "user": "zhang"})
    for n in range(250):
        cache.add_audit({"action": "incident.ack", "user": "li", "args": {"n": n}})
    cache.prune()
    rows = cache.audit_rows()
    assert len(rows) == 100
    assert json.loads(rows[-1]["args"]) == {"n": 249}  # the newest kept
    assert all(r["at"] != old for r in rows)


def test_bookmarks_are_kept_up_to_their_number(tmp_path):
    cache = Cache(tmp_path / "c.sqlite", bookmarks_keep=50).open()
    for n in range(120):
        cache.add_bookmark("C0001", 1000.0 + n, f"mark {n}", "li")
    cache.prune()
    marks = cache.bookmarks(0, 10_000)
    assert len(marks) == 50 and marks[-1]["note"] == "mark 119"


def test_picture_rows_go_with_their_files(tmp_path):
    cache = Cache(tmp_path / "c.sqlite").open()
    cache.media_dir.mkdir()
    for n in range(10):
        cache.media_put(f"http://pics/{n}.jpg", f"{n}.pic", 100)
        if n % 3 == 0:
            (cache.media_dir / f"{n}.pic").write_bytes(b"x" * 100)  # the store kept these
    cache.prune()
    assert set(cache.media_files()) == {f"http://pics/{n}.jpg" for n in (0, 3, 6, 9)}


def test_the_write_ahead_log_is_cut_back_after_a_big_snapshot(tmp_path):
    d = District(seed=1)
    cache = Cache(tmp_path / "c.sqlite").open()
    tables = d.tables()
    # a snapshot of 40,000 incidents in one transaction: ~30 MB through the log
    tables["incidents"] = [d.new_incident(now()) for _ in range(40_000)]
    cache.replace_all(tables, d.walls["wall-1"], 10, "1.0")
    wal = tmp_path / "c.sqlite-wal"
    assert wal.stat().st_size > 16 * 1024 * 1024
    # then a quiet point: a small batch and the minute's prune
    cache.write(Batch(messages=[("incident.upsert", d.new_incident(now()))], last_seq=11))
    cache.prune()
    cache.write(Batch(messages=[("incident.upsert", d.new_incident(now()))], last_seq=12))
    assert cache.sizes()["wal_bytes"] <= 8 * 1024 * 1024
    assert os.path.getsize(wal) <= 8 * 1024 * 1024


def test_a_burst_passing_the_replay_horizon_keeps_the_write_ahead_log_within_its_bound(tmp_path):
    # a minute at 1,000 msg/s is 60,000 replay rows reaching the horizon together: deleted
    # in one transaction they all went through the log (15 MB in the endurance run)
    d = District(seed=1)
    cache = Cache(tmp_path / "c.sqlite", replay_hours=0).open()
    before = time.time() - 60
    payload = json.dumps({"title": "占道经营" * 60})  # ~1 KB, as a real incident's row
    live = [d.new_incident(now()) for _ in range(5)]
    ids = [i["id"] for i in live] + [f"GONE{n}" for n in range(45)]
    with cache.db.atomic():
        cache.db.conn.executemany(
            "INSERT INTO incident_log (t, id, data) VALUES (?, ?, ?)",
            ((before + n / 1000, ids[n % 50], payload) for n in range(60_000)),
        )
    # five of them still live: their last change is what a replay at the horizon shows
    cache.write(Batch(messages=[("incident.upsert", inc) for inc in live], last_seq=11))
    cache.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = tmp_path / "c.sqlite-wal"
    cache.prune()
    kept = cache.db.execute("SELECT id, data FROM incident_log").fetchall()
    assert sorted(i for i, _ in kept) == sorted(i["id"] for i in live)  # the others: nothing
    assert all(json.loads(data)["title"] == inc["title"] for (_, data), inc in
               zip(sorted(kept), sorted(live, key=lambda i: i["id"]), strict=True))  # fmt: skip
    assert os.path.getsize(wal) <= 8 * 1024 * 1024, os.path.getsize(wal)

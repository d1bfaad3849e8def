"""The local cache: the wall's state in SQLite, so it starts and runs offline.

Every applied batch of state messages is one transaction that also stores the
``seq`` it reaches (protocol.md, Ordering): after a crash the cache is never
ahead of or behind its ``seq``. One thread owns the connection; ``CacheWriter``
is that thread while the client runs.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from wallclient import paths
from wallclient.errors import CacheError, CacheForeign
from wallclient.protocol import JSON, PTZ_KEYS, epoch, format_time, now

log = logging.getLogger(__name__)

APPLICATION_ID = 0x57414C4C  # "WALL": marks a SQLite file as ours
SQLITE_MAGIC = b"SQLite format 3\x00"

_KEY = {"regions": "code"}
_SIMPLE = ("regions", "cameras", "presets", "indicators", "layers", "units")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# --- schema and its migrations (PRAGMA user_version) ------------------------------------


def _m1(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    for kind in ("regions", "cameras", "presets", "indicators", "layers"):  # as they were
        db.execute(f"CREATE TABLE {kind} (key TEXT PRIMARY KEY, data TEXT NOT NULL)")
    db.execute(
        """CREATE TABLE incidents (
            id TEXT PRIMARY KEY, source TEXT, priority INTEGER, status TEXT,
            region TEXT, title TEXT, updated_at TEXT,
            archived INTEGER NOT NULL DEFAULT 0, archived_at REAL, data TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX incidents_live ON incidents (archived, priority)")
    db.execute("CREATE INDEX incidents_archived_at ON incidents (archived_at)")
    db.execute("CREATE TABLE wall (wall TEXT PRIMARY KEY, data TEXT NOT NULL)")
    # One point per indicator and minute: 24 h of 349 indicators stays ~0.5 M rows.
    db.execute(
        """CREATE TABLE indicator_history (
            id TEXT NOT NULL, bucket INTEGER NOT NULL, t REAL NOT NULL, value REAL,
            PRIMARY KEY (id, bucket)) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX indicator_history_bucket ON indicator_history (bucket)")
    db.execute(
        "CREATE TABLE invalid (rowid INTEGER PRIMARY KEY, at TEXT, seq INTEGER, reason TEXT, raw TEXT)"
    )
    db.execute(
        """CREATE TABLE audit (rowid INTEGER PRIMARY KEY, at TEXT NOT NULL, user TEXT, role TEXT,
            node TEXT, action TEXT NOT NULL, args TEXT, outcome TEXT, detail TEXT)"""
    )
    db.execute("CREATE INDEX audit_at ON audit (at)")


def _m2(db: sqlite_utils.Database) -> None:
    """The replay's history (事件回溯): every incident as each change left it, and every
    batch of indicator readings, kept for ``replay_hours`` (wallclient.replay)."""
    db.execute("CREATE TABLE incident_log (t REAL NOT NULL, id TEXT NOT NULL, data TEXT)")
    db.execute("CREATE INDEX incident_log_t ON incident_log (t)")
    db.execute("CREATE INDEX incident_log_id ON incident_log (id, t)")
    db.execute("CREATE TABLE indicator_log (t REAL PRIMARY KEY, data TEXT NOT NULL)")
    db.execute(
        """CREATE TABLE bookmarks (rowid INTEGER PRIMARY KEY, camera TEXT, at REAL NOT NULL,
            note TEXT, user TEXT, created TEXT)"""
    )


def _m3(db: sqlite_utils.Database) -> None:
    """Units (处置力量) as the backend last described them; their positions between
    upserts are kept in memory only (wallclient.units.Tracks)."""
    db.execute("CREATE TABLE units (key TEXT PRIMARY KEY, data TEXT NOT NULL)")


def _m4(db: sqlite_utils.Database) -> None:
    """Incident pictures kept on disk beside the cache (wallclient.edges.pictures)."""
    db.execute("CREATE TABLE media (url TEXT PRIMARY KEY, file TEXT NOT NULL, bytes INTEGER, "
               "fetched_at REAL)")  # fmt: skip


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_m1, _m2, _m3, _m4]
REPLAY_HOURS = 2.0  # how far back the data panels can be shown (documented: docs/operators.md)
SPARK_BATCHES = 30  # a replayed tile's sparkline: the readings of up to this many batches
SCHEMA_VERSION = len(MIGRATIONS)
# Bounds of what only grows (docs/operations.md has every table's): a wall that runs for
# months keeps the operators' audit half a year, and their bookmarks up to a number.
AUDIT_DAYS = 180.0
AUDIT_KEEP = 500_000  # rows: ~1 action a minute for a year, ~150 MB at most
BOOKMARKS_KEEP = 10_000
# The write-ahead log: truncated back to this after a checkpoint (SQLite's own
# auto-checkpoint runs at ~4 MB), so it never keeps the size of the biggest burst.
WAL_LIMIT_BYTES = 4 * 1024 * 1024
PRUNE_BATCH = 5_000  # replay rows deleted a transaction (~1–5 MB through the log)


@dataclass
class Loaded:
    """What the cache held at start-up."""

    tables: dict[str, list[JSON]]
    wall: JSON | None
    last_seq: int | None
    data_at: str | None
    origin: str | None
    invalid: int
    seconds: float = 0.0


@dataclass
class Batch:
    """State messages to persist in one transaction, with the ``seq`` they reach."""

    messages: list[tuple[str, JSON]] = field(default_factory=list)
    last_seq: int | None = None
    data_at: str | None = None
    invalid: list[tuple[int | None, str, str]] = field(default_factory=list)


class Cache:
    """One wallclient cache file. Use it from one thread only."""

    def __init__(
        self,
        path: Path | str,
        *,
        history_hours: float = 24.0,
        replay_hours: float = REPLAY_HOURS,
        archive_keep: int = 100_000,
        invalid_keep: int = 1_000,
        audit_days: float = AUDIT_DAYS,
        audit_keep: int = AUDIT_KEEP,
        bookmarks_keep: int = BOOKMARKS_KEEP,
    ) -> None:
        self.path = Path(path)
        self.history_s = history_hours * 3600
        self.replay_s = replay_hours * 3600
        self.archive_keep = archive_keep
        self.invalid_keep = invalid_keep
        self.audit_s = audit_days * 86400
        self.audit_keep = audit_keep
        self.bookmarks_keep = bookmarks_keep
        # the incident pictures' folder (wallclient.edges.pictures keeps its files there)
        self.media_dir = Path(str(self.path) + ".media")
        self.db: sqlite_utils.Database | None = None
        self._last_prune = 0.0
        self.measured: dict[str, float] = {}  # rows and file sizes at the last prune

    # --- opening ---------------------------------------------------------------------

    def open(self, *, create: bool = True) -> Cache:
        """Open (or create) the file; CacheForeign / CacheError say why not."""
        exists = self.path.exists() and self.path.stat().st_size > 0
        if not exists and not create:
            raise CacheError(f"{self.path}: no such cache")
        if exists:
            with open(self.path, "rb") as fh:
                head = fh.read(100)
            if head[:16] != SQLITE_MAGIC:
                raise CacheError(
                    f"{self.path}: not a SQLite database (corrupt or another kind of file)"
                )
        else:
            paths.private_dir(self.path.parent)
            # 0600 before SQLite writes anything into it (issue 7, security).
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        try:
            conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            db = sqlite_utils.Database(conn, execute_plugins=False)
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            tables = db.table_names()
        except sqlite3.DatabaseError as exc:
            raise CacheError(f"{self.path}: unreadable database: {exc}") from None
        if app_id != APPLICATION_ID and (app_id != 0 or tables):
            conn.close()
            raise CacheForeign(f"{self.path}: a SQLite database, but not a wallclient cache")
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a crash loses at most the last transactions, never
            # splits one, so data and seq stay together.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise CacheError(
                    f"{self.path}: schema {version} is newer than this wallclient ({SCHEMA_VERSION})"
                )
            for number in range(version, SCHEMA_VERSION):
                with db.atomic():
                    MIGRATIONS[number](db)
                    db.execute(f"PRAGMA user_version={number + 1}")
            if app_id == 0:
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise CacheError(f"{self.path}: damaged database: {exc}") from None
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(self.path) + suffix)
            if p.exists() and os.name == "posix":
                p.chmod(0o600)
        self.db = db
        return self

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        if self.db is not None:
            self.db.conn.close()
            self.db = None

    def _db(self) -> sqlite_utils.Database:
        if self.db is None:
            raise CacheError("cache is not open")
        return self.db

    # --- meta ------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._db().execute("SELECT value FROM meta WHERE key=?", [key]).fetchone()
        return None if row is None else row[0]

    def _set_meta(self, key: str, value: str | None) -> None:
        self._db().execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])

    def set_meta(self, **values: str | None) -> None:
        """Store metadata (``origin``, ``user``, ``role`` …) in one transaction."""
        with self._db().atomic():
            for k, v in values.items():
                self._set_meta(k, v)

    # --- reading ---------------------------------------------------------------------

    def load(self) -> Loaded:
        """The live state as last persisted, ready for ``WallState.load``."""
        start = time.perf_counter()
        db = self._db()
        tables: dict[str, list[JSON]] = {}
        loads = json.loads
        # Tens of thousands of fresh dicts would trigger the cyclic GC over and over;
        # none of them can form a cycle, so it is paused for the load (halves it).
        gc_was = gc.isenabled()
        gc.disable()
        try:
            for kind in _SIMPLE:
                tables[kind] = [loads(r[0]) for r in db.execute(f"SELECT data FROM {kind}")]
            tables["incidents"] = [
                loads(r[0]) for r in db.execute("SELECT data FROM incidents WHERE archived=0")
            ]
        finally:
            if gc_was:
                gc.enable()
        row = db.execute("SELECT data FROM wall LIMIT 1").fetchone()
        wall = loads(row[0]) if row else None
        seq = self.meta("last_seq")
        invalid = int(self.meta("invalid_count") or 0)
        return Loaded(
            tables=tables,
            wall=wall,
            last_seq=int(seq) if seq is not None else None,
            data_at=self.meta("data_at"),
            origin=self.meta("origin"),
            invalid=invalid,
            seconds=time.perf_counter() - start,
        )

    def history(
        self, indicator: str, since_s: float | None = None
    ) -> list[tuple[float, float | None]]:
        """(epoch seconds, value) of one indicator, oldest first."""
        since = since_s if since_s is not None else time.time() - self.history_s
        rows = self._db().execute(
            "SELECT t, value FROM indicator_history WHERE id=? AND t>=? ORDER BY bucket",
            [indicator, since],
        )
        return [(r[0], r[1]) for r in rows]

    def recent_history(self, points: int = 60) -> dict[str, list[float | None]]:
        """The newest ``points`` values of every indicator, oldest first (sparklines)."""
        since = (time.time() // 60 - points) * 60
        out: dict[str, list[float | None]] = {}
        for ind, value in self._db().execute(
            "SELECT id, value FROM indicator_history WHERE bucket>=? ORDER BY id, bucket",
            [int(since // 60)],
        ):
            out.setdefault(ind, []).append(value)
        return out

    def archived(self, limit: int = 100) -> list[JSON]:
        """The newest archived incidents (history), newest first."""
        rows = self._db().execute(
            "SELECT data FROM incidents WHERE archived=1 ORDER BY archived_at DESC LIMIT ?", [limit]
        )
        return [json.loads(r[0]) for r in rows]

    def invalid_rows(self, limit: int = 50) -> list[JSON]:
        rows = self._db().execute(
            "SELECT at, seq, reason, raw FROM invalid ORDER BY rowid DESC LIMIT ?", [limit]
        )
        return [dict(zip(("at", "seq", "reason", "raw"), r, strict=True)) for r in rows]

    def audit_rows(self, since: str | None = None) -> list[JSON]:
        db = self._db()
        cols = ("at", "user", "role", "node", "action", "args", "outcome", "detail")
        sql = f"SELECT {', '.join(cols)} FROM audit"
        if since:
            rows = db.execute(sql + " WHERE at >= ? ORDER BY rowid", [since])
        else:
            rows = db.execute(sql + " ORDER BY rowid")
        return [dict(zip(cols, r, strict=True)) for r in rows]

    def counts(self) -> dict[str, int]:
        db = self._db()
        out = {k: db.execute(f"SELECT count(*) FROM {k}").fetchone()[0] for k in _SIMPLE}
        out["incidents"] = db.execute("SELECT count(*) FROM incidents WHERE archived=0").fetchone()[
            0
        ]
        out["archived"] = db.execute("SELECT count(*) FROM incidents WHERE archived=1").fetchone()[
            0
        ]
        out["history"] = db.execute("SELECT count(*) FROM indicator_history").fetchone()[0]
        out["invalid_rows"] = db.execute("SELECT count(*) FROM invalid").fetchone()[0]
        out["audit"] = db.execute("SELECT count(*) FROM audit").fetchone()[0]
        for table in ("incident_log", "indicator_log", "bookmarks", "media"):
            out[table] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return out

    def sizes(self) -> dict[str, int]:
        """The database's files in bytes (the write-ahead log's included)."""
        out = {}
        for suffix, name in (("", "db_bytes"), ("-wal", "wal_bytes")):
            p = Path(str(self.path) + suffix)
            out[name] = p.stat().st_size if p.exists() else 0
        return out

    def check(self) -> list[str]:
        """Integrity problems (empty list: healthy)."""
        db = self._db()
        problems = [r[0] for r in db.execute("PRAGMA integrity_check") if r[0] != "ok"]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            problems.append(f"schema version {version}, expected {SCHEMA_VERSION}")
        seq = self.meta("last_seq")
        if seq is not None and not seq.isdigit():
            problems.append(f"last_seq is not a number: {seq!r}")
        for kind in (*_SIMPLE, "incidents", "wall"):
            try:
                bad = db.execute(
                    f"SELECT count(*) FROM {kind} WHERE json_valid(data)=0"
                ).fetchone()[0]
            except sqlite3.DatabaseError as exc:
                problems.append(f"{kind}: {exc}")
                continue
            if bad:
                problems.append(f"{kind}: {bad} row(s) with invalid JSON")
        return problems

    # --- writing ---------------------------------------------------------------------

    def write(self, batch: Batch) -> None:
        """Persist a batch of applied messages and its ``seq`` in one transaction."""
        db = self._db()
        with db.atomic():
            self._write_messages(batch.messages)
            for seq, reason, raw in batch.invalid:
                self._add_invalid(seq, reason, raw)
            if batch.invalid:
                count = int(self.meta("invalid_count") or 0) + len(batch.invalid)
                self._set_meta("invalid_count", str(count))
            if batch.last_seq is not None:
                self._set_meta("last_seq", str(batch.last_seq))
            if batch.data_at is not None:
                self._set_meta("data_at", batch.data_at)
        if time.monotonic() - self._last_prune > 60:
            self.prune()

    def replace_all(
        self, tables: dict[str, list[JSON]], wall: JSON | None, last_seq: int, data_at: str | None
    ) -> None:
        """A snapshot: all backend state replaced at once, with its ``seq``."""
        db = self._db()
        with db.atomic():
            for kind in _SIMPLE:
                db.execute(f"DELETE FROM {kind}")
                key = _KEY.get(kind, "id")
                db.conn.executemany(
                    f"INSERT OR REPLACE INTO {kind} (key, data) VALUES (?, ?)",
                    ((item[key], _dumps(item)) for item in tables.get(kind, ())),
                )
            # Live incidents not in the snapshot are over: keep them as history.
            db.execute(
                "UPDATE incidents SET archived=1, archived_at=? WHERE archived=0", [time.time()]
            )
            self._upsert_incidents(tables.get("incidents", ()))
            self._log_incidents(tables.get("incidents", ()), only_new=True)
            db.execute("DELETE FROM wall")
            if wall is not None:
                db.execute(
                    "INSERT INTO wall (wall, data) VALUES (?, ?)", [wall["wall"], _dumps(wall)]
                )
            self._history_from(tables.get("indicators", ()))
            self._set_meta("last_seq", str(last_seq))
            if data_at is not None:
                self._set_meta("data_at", data_at)

    def add_audit(self, row: JSON) -> None:
        """One operator action (issue 5): who, what, when, outcome."""
        db = self._db()
        with db.atomic():
            db.execute(
                "INSERT INTO audit (at, user, role, node, action, args, outcome, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    row.get("at") or format_time(now()),
                    row.get("user"),
                    row.get("role"),
                    row.get("node"),
                    row["action"],
                    _dumps(row.get("args", {})),
                    row.get("outcome"),
                    row.get("detail"),
                ],
            )

    def _delete_in_batches(self, table: str, where: str, args: list[Any]) -> None:
        """``DELETE FROM table WHERE where``, PRUNE_BATCH rows a transaction, the log
        checkpointed after each (so that it is reused, not grown)."""
        db = self._db()
        while True:
            with db.atomic():
                gone = db.execute(
                    f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {where} LIMIT ?)",
                    [*args, PRUNE_BATCH],
                ).rowcount
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            if gone < PRUNE_BATCH:
                return

    def prune(self) -> None:
        """Keep history, archive and invalid frames within their bounds."""
        self._last_prune = time.monotonic()
        db = self._db()
        horizon = time.time() - self.replay_s
        # the replay logs first, a batch a transaction: a burst's minute passing the horizon
        # is tens of thousands of rows, and deleted in one go they went through the
        # write-ahead log whole (15 MB at 1,000 msg/s, over its bound)
        self._delete_in_batches("indicator_log", "t < ?", [horizon])
        # an incident's rows before the horizon go, but for its last one (what it was at
        # the horizon), unless that was its removal. "Not its last" is asked of each row
        # (the (id, t) index), not as every incident's last row grouped again for each
        # batch: a wall back after hours off has a million rows to go (30 s, not 41 s)
        self._delete_in_batches(
            "incident_log",
            """t < ? AND (data IS NULL OR EXISTS (
                   SELECT 1 FROM incident_log AS later WHERE later.id = incident_log.id
                   AND later.t < ? AND later.rowid > incident_log.rowid))""",
            [horizon, horizon],
        )
        with db.atomic():
            oldest_bucket = int((time.time() - self.history_s) // 60)
            db.execute("DELETE FROM indicator_history WHERE bucket < ?", [oldest_bucket])
            db.execute(
                """DELETE FROM incidents WHERE archived=1 AND id IN (
                    SELECT id FROM incidents WHERE archived=1
                    ORDER BY archived_at DESC LIMIT -1 OFFSET ?)""",
                [self.archive_keep],
            )
            db.execute(
                "DELETE FROM invalid WHERE rowid <= (SELECT max(rowid) FROM invalid) - ?",
                [self.invalid_keep],
            )
            # incidents no longer live (archived by a snapshot, which logs no removal)
            # whose last change is past the horizon: nothing of them is left to replay
            db.execute(
                """DELETE FROM incident_log WHERE id IN (
                       SELECT id FROM incident_log GROUP BY id HAVING max(t) < ?)
                   AND id NOT IN (SELECT id FROM incidents WHERE archived=0)""",
                [horizon],
            )
            audit_from = format_time(datetime.fromtimestamp(time.time() - self.audit_s, UTC))
            db.execute("DELETE FROM audit WHERE at < ?", [audit_from])
            db.execute(
                "DELETE FROM audit WHERE rowid <= (SELECT max(rowid) FROM audit) - ?",
                [self.audit_keep],
            )
            db.execute(
                "DELETE FROM bookmarks WHERE rowid <= (SELECT max(rowid) FROM bookmarks) - ?",
                [self.bookmarks_keep],
            )
            # pictures whose files the store let go (least recently used, past its bytes)
            gone = [
                url for url, file in db.execute("SELECT url, file FROM media").fetchall()
                if not (self.media_dir / file).exists()
            ]
            db.conn.executemany("DELETE FROM media WHERE url=?", ((u,) for u in gone))
        # what the transactions left in the write-ahead log goes into the database now
        # (a checkpoint that waits for no reader), and the log back to WAL_LIMIT_BYTES
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        # what ``status.resources`` says of the cache, as of this minute (counted here, on
        # the writer's thread, not by each status request)
        self.measured = {**self.counts(), **self.sizes(), "at": time.time()}

    def _add_invalid(self, seq: int | None, reason: str, raw: str) -> None:
        self._db().execute(
            "INSERT INTO invalid (at, seq, reason, raw) VALUES (?, ?, ?, ?)",
            [format_time(now()), seq, reason[:1000], raw[:8192]],
        )

    def _write_messages(self, messages: Iterable[tuple[str, JSON]]) -> None:
        db = self._db()
        conn = db.conn
        for type_, data in messages:
            if type_ == "unit.positions":
                continue  # kept in memory only (wallclient.units); a unit's upsert is kept
            if type_ == "incident.upsert":
                self._upsert_incidents([data])
                self._log_incidents([data])
            elif type_ == "indicator.values":
                t = data["t"]
                conn.execute(
                    "INSERT OR REPLACE INTO indicator_log (t, data) VALUES (?, ?)",
                    [epoch(t) or time.time(), _dumps({v["id"]: v["value"] for v in data["values"]})],
                )
                conn.executemany(
                    "UPDATE indicators SET data=json_set(data, '$.value', ?, '$.t', ?) WHERE key=?",
                    ((v["value"], t, v["id"]) for v in data["values"]),
                )
                self._history(t, ((v["id"], v["value"]) for v in data["values"]))
            elif type_ == "camera.status":
                conn.execute(
                    "UPDATE cameras SET data=json_set(data, '$.status', ?) WHERE key=?",
                    [data["status"], data["id"]],
                )
            elif type_ == "camera.ptz":
                conn.execute(
                    "UPDATE cameras SET data=json_set(data, '$.ptz_state', json(?)) WHERE key=?",
                    [_dumps({k: data[k] for k in PTZ_KEYS}), data["id"]],
                )
            elif type_ == "incident.remove":
                conn.execute(
                    "UPDATE incidents SET archived=1, archived_at=? WHERE id=?",
                    [time.time(), data["id"]],
                )
                # a removal carries no time of its own: when it arrived
                conn.execute(
                    "INSERT INTO incident_log (t, id, data) VALUES (?, ?, NULL)",
                    [time.time(), data["id"]],
                )
            elif type_ == "wall.state":
                conn.execute("DELETE FROM wall")
                conn.execute(
                    "INSERT INTO wall (wall, data) VALUES (?, ?)", [data["wall"], _dumps(data)]
                )
            elif type_ == "indicator.upsert":
                old = conn.execute(
                    "SELECT data FROM indicators WHERE key=?", [data["id"]]
                ).fetchone()
                item = dict(data)
                if old is not None and "value" not in item:
                    prev = json.loads(old[0])
                    item["value"], item["t"] = prev.get("value"), prev.get("t")
                conn.execute(
                    "INSERT OR REPLACE INTO indicators (key, data) VALUES (?, ?)",
                    [data["id"], _dumps(item)],
                )
                if item.get("t") is not None:
                    self._history(item["t"], [(item["id"], item.get("value"))])
            else:
                kind, _, verb = type_.partition(".")
                table = kind + "s"
                if table not in _SIMPLE:
                    continue
                key = data[_KEY.get(table, "id")]
                if verb == "remove":
                    conn.execute(f"DELETE FROM {table} WHERE key=?", [key])
                else:
                    conn.execute(
                        f"INSERT OR REPLACE INTO {table} (key, data) VALUES (?, ?)",
                        [key, _dumps(data)],
                    )

    def _upsert_incidents(self, items: Iterable[JSON]) -> None:
        self._db().conn.executemany(
            """INSERT OR REPLACE INTO incidents
               (id, source, priority, status, region, title, updated_at, archived, archived_at, data)
               VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL, ?)""",
            (
                (
                    i["id"],
                    i["source"],
                    i["priority"],
                    i["status"],
                    i.get("region"),
                    i["title"],
                    i["updated_at"],
                    _dumps(i),
                )
                for i in items
            ),
        )

    def _log_incidents(self, items: Iterable[JSON], only_new: bool = False) -> None:
        """Each incident as this change left it, at its ``updated_at`` (the backend's
        time of the change). ``only_new``: a snapshot logs only what changed since."""
        rows = ((epoch(i["updated_at"]) or time.time(), i["id"], _dumps(i)) for i in items)
        if only_new:
            rows = (r for r in list(rows) if not self._logged(r[1], r[0]))
        self._db().conn.executemany(
            "INSERT INTO incident_log (t, id, data) VALUES (?, ?, ?)", rows
        )

    def _logged(self, iid: str, t: float) -> bool:
        got = self._db().execute(
            "SELECT 1 FROM incident_log WHERE id=? AND t>=? LIMIT 1", [iid, t]
        ).fetchone()
        return got is not None

    def past(self, t: float) -> tuple[
        dict[str, JSON], dict[str, tuple[float, float | None]], dict[str, list[float | None]]
    ]:
        """The incidents open at ``t``, each indicator's reading then, and its readings
        before it, oldest first (its sparkline then: from the batches of the five minutes
        before ``t``, at most SPARK_BATCHES of them) — replay."""
        db = self._db()
        incidents: dict[str, JSON] = {}
        for iid, data in db.execute(
            """SELECT l.id, l.data FROM incident_log l JOIN (
                   SELECT id, max(rowid) AS r FROM incident_log WHERE t <= ? GROUP BY id
               ) m ON l.rowid = m.r""",
            [t],
        ):
            if data is not None:
                incidents[iid] = json.loads(data)
        readings: dict[str, tuple[float, float | None]] = {}
        series: dict[str, list[float | None]] = {}
        for bt, data in db.execute(
            "SELECT t, data FROM indicator_log WHERE t <= ? ORDER BY t DESC LIMIT ?",
            [t, SPARK_BATCHES],
        ):
            for iid, value in json.loads(data).items():
                readings.setdefault(iid, (bt, value))
                series.setdefault(iid, []).append(value)
            if bt < t - 300:
                break  # older batches only fill in indicators not read for five minutes
        for values in series.values():
            values.reverse()
        return incidents, readings, series

    def incident_history(self, iid: str) -> list[tuple[float, str]]:
        """(time, status) of each change of an incident's status (the timeline's marks)."""
        out: list[tuple[float, str]] = []
        for t, data in self._db().execute(
            "SELECT t, data FROM incident_log WHERE id=? ORDER BY t, rowid", [iid]
        ):
            status = "removed" if data is None else json.loads(data).get("status", "")
            if not out or out[-1][1] != status:
                out.append((t, status))
        return out

    def media_put(self, url: str, file: str, size: int) -> None:
        """A picture kept on disk (wallclient.edges.pictures): its index row."""
        self._db().execute(
            "INSERT OR REPLACE INTO media (url, file, bytes, fetched_at) VALUES (?, ?, ?, ?)",
            [url, file, size, time.time()],
        )

    def media_files(self) -> dict[str, str]:
        """Every kept picture: url → file name."""
        return {r[0]: r[1] for r in self._db().execute("SELECT url, file FROM media").fetchall()}

    def add_bookmark(self, camera: str | None, at: float, note: str, user: str | None) -> int:
        db = self._db()
        with db.atomic():
            cur = db.execute(
                "INSERT INTO bookmarks (camera, at, note, user, created) VALUES (?, ?, ?, ?, ?)",
                [camera, at, note, user, format_time(now())],
            )
        return int(cur.lastrowid or 0)

    def bookmarks(self, start: float, end: float) -> list[JSON]:
        rows = self._db().execute(
            "SELECT rowid, camera, at, note, user FROM bookmarks WHERE at BETWEEN ? AND ? ORDER BY at",
            [start, end],
        )
        return [{"id": r[0], "camera": r[1], "at": r[2], "note": r[3], "user": r[4]} for r in rows]

    def _history(self, t: str, readings: Iterable[tuple[str, float | None]]) -> None:
        seconds = epoch(t) or time.time()  # an unreadable time is filed as now
        bucket = int(seconds // 60)
        self._db().conn.executemany(
            "INSERT OR REPLACE INTO indicator_history (id, bucket, t, value) VALUES (?, ?, ?, ?)",
            ((ind, bucket, seconds, value) for ind, value in readings),
        )

    def _history_from(self, indicators: Iterable[JSON]) -> None:
        for ind in indicators:
            if ind.get("t") is not None:
                self._history(ind["t"], [(ind["id"], ind.get("value"))])

    # --- views -----------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """The live state as ``wallclient cache show --json`` prints it."""
        from wallclient.state import WallState

        loaded = self.load()
        state = WallState()
        state.load(loaded.tables, loaded.wall, loaded.last_seq)
        out = state.view()
        out["invalid"] = loaded.invalid
        out["data_at"] = loaded.data_at
        out["counts"] = self.counts()
        return out


# --- the thread that owns the connection while the client runs ----------------------------


class CacheWriter:
    """Owns the Cache on its own thread; batches whatever is queued into one transaction.

    The GUI/asyncio thread only enqueues, so painting never waits on the disk.
    """

    def __init__(self, cache: Cache, max_batch: int = 5000) -> None:
        self.cache = cache
        self.max_batch = max_batch
        self._q: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="cache-writer", daemon=True)
        self.error: BaseException | None = None
        self.written_seq: int | None = None
        self.transactions = 0

    def start(self) -> None:
        self._thread.start()

    def apply(self, type_: str, data: JSON, seq: int | None, data_at: str | None) -> None:
        self._q.put(("msg", (type_, data, seq, data_at)))

    def advance(self, seq: int, invalid: tuple[int | None, str, str] | None = None) -> None:
        """A skipped message still moves ``seq`` (protocol.md, Envelope)."""
        self._q.put(("skip", (seq, invalid)))

    def invalid(self, reason: str, raw: str, seq: int | None = None) -> None:
        self._q.put(("skip", (seq, (seq, reason, raw))))

    def snapshot(
        self, tables: dict[str, list[JSON]], wall: JSON | None, seq: int, data_at: str | None
    ) -> None:
        self._q.put(("snapshot", (tables, wall, seq, data_at)))

    def audit(self, row: JSON) -> None:
        self._q.put(("audit", row))

    def meta(self, **values: str | None) -> None:
        self._q.put(("meta", values))

    def call(self, fn: Callable[[Cache], Any], done: Callable[[Any], None]) -> None:
        """Run ``fn(cache)`` on the writer thread; ``done(result)`` from that thread."""
        self._q.put(("call", (fn, done)))

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until everything queued so far is written."""
        ev = threading.Event()
        self._q.put(("flush", ev))
        return ev.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        self._q.put(("stop", None))
        self._thread.join(timeout)

    def _run(self) -> None:
        stop = False
        while not stop:
            ops = [self._q.get()]
            while len(ops) < self.max_batch:
                try:
                    ops.append(self._q.get_nowait())
                except queue.Empty:
                    break
            batch = Batch()
            waiters: list[threading.Event] = []
            for kind, arg in ops:
                try:
                    if kind == "msg":
                        type_, data, seq, data_at = arg
                        batch.messages.append((type_, data))
                        batch.last_seq = seq if seq is not None else batch.last_seq
                        batch.data_at = data_at or batch.data_at
                    elif kind == "skip":
                        seq, invalid = arg
                        if seq is not None:
                            batch.last_seq = seq
                        if invalid is not None:
                            batch.invalid.append(invalid)
                    else:
                        # Anything that is not a plain message ends the batch so far:
                        # order on disk is the order of arrival.
                        self._commit(batch)
                        batch = Batch()
                        if kind == "snapshot":
                            tables, wall, seq, data_at = arg
                            self.cache.replace_all(tables, wall, seq, data_at)
                            self.written_seq = seq
                        elif kind == "audit":
                            self.cache.add_audit(arg)
                        elif kind == "meta":
                            self.cache.set_meta(**arg)
                        elif kind == "call":
                            fn, done = arg
                            done(fn(self.cache))
                        elif kind == "flush":
                            waiters.append(arg)
                        elif kind == "stop":
                            stop = True
                except Exception as exc:  # keep writing: one bad op must not stop the cache
                    self.error = exc
                    log.exception("cache write failed (%s)", kind)
            try:
                self._commit(batch)
            except Exception as exc:
                self.error = exc
                log.exception("cache write failed")
            for ev in waiters:
                ev.set()
        self.cache.close()

    def _commit(self, batch: Batch) -> None:
        if not batch.messages and not batch.invalid and batch.last_seq is None:
            return
        self.cache.write(batch)
        self.transactions += 1
        if batch.last_seq is not None:
            self.written_seq = batch.last_seq

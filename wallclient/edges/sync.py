"""The data spine in one object: cache → state at start-up, then feed → state → cache.

No Qt here: the app shell and the headless runner both build one ``SyncClient``.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from wallclient.config import Config
from wallclient.edges.cache import Cache, CacheWriter, Loaded
from wallclient.edges.feed import Feed
from wallclient.errors import CacheError, CacheForeign
from wallclient.incidents import next_deadline
from wallclient.session import Session
from wallclient.state import WallState

log = logging.getLogger(__name__)


def open_cache(cfg: Config) -> Cache:
    """Open the configured cache; a damaged file is set aside and a new one started.

    A foreign file (a database that is not ours) is never touched: CacheForeign.
    """
    cache = Cache(
        cfg.cache,
        history_hours=cfg.history_hours,
        archive_keep=cfg.archive_keep,
        invalid_keep=cfg.invalid_keep,
    )
    try:
        return cache.open()
    except CacheForeign:
        raise
    except CacheError as exc:
        aside = Path(f"{cfg.cache}.corrupt-{datetime.now():%Y%m%d-%H%M%S}")
        log.error("cache unusable (%s); moved to %s, starting a new one", exc, aside)
        cfg.cache.rename(aside)
        for suffix in ("-wal", "-shm"):
            Path(str(cfg.cache) + suffix).unlink(missing_ok=True)
        return cache.open()


class SyncClient:
    """Keeps ``state`` in step with the backend, persisted in the cache."""

    def __init__(self, cfg: Config, token: str) -> None:
        self.cfg = cfg
        self.state = WallState(cfg.wall)
        self.started = time.monotonic()
        cache = open_cache(cfg)
        self.loaded: Loaded = cache.load()
        # read before the writer thread takes the connection over
        self.recent_history = cache.recent_history(60)
        origin = f"{cfg.server}|{cfg.wall}|{cfg.scope_level}:{cfg.scope_code}"
        # A cache written for another backend, wall or scope is shown until the
        # new backend's snapshot replaces it, but never resumed from.
        resume = self.loaded.last_seq if self.loaded.origin == origin else None
        if self.loaded.origin not in (None, origin):
            log.warning("cache was written for %s; will take a fresh snapshot", self.loaded.origin)
        self.state.load(self.loaded.tables, self.loaded.wall, self.loaded.last_seq)
        log.info(
            "cache %s: seq %s, %d cameras, %d incidents, loaded in %.0f ms",
            cfg.cache,
            self.loaded.last_seq,
            len(self.state.cameras),
            len(self.state.incidents),
            self.loaded.seconds * 1000,
        )
        self.cache_path = cfg.cache
        self._status: dict[str, Any] | None = None
        self._counts: dict[str, int] | None = None
        self._counts_at = 0.0
        self._status_at = 0.0
        self.writer = CacheWriter(cache)
        self.writer.meta(origin=origin)
        self.session = Session(wall=cfg.wall, node=cfg.node, scope=cfg.scope, last_seq=resume)
        data_at = as_float(self.loaded.data_at)
        self.feed = Feed(
            url=cfg.server,
            token=token,
            session=self.session,
            state=self.state,
            writer=self.writer,
            ca_file=cfg.ca_file,
            data_at=data_at,
            from_cache=self.loaded.last_seq is not None,
        )

    async def run(self) -> None:
        """Sync until cancelled."""
        self.writer.start()
        await self.feed.run()

    def close(self) -> None:
        self.feed.stop()
        self.writer.stop()

    # --- what the control API and the status banner read --------------------------------

    def open_incidents(self) -> dict[str, int]:
        """Open and overdue incidents, counted at most once a second (thousands of them)."""
        t = time.monotonic()
        if self._counts is not None and t - self._counts_at < 1.0:
            return self._counts
        self._counts, self._counts_at = self._count_incidents(), t
        return self._counts

    def _count_incidents(self) -> dict[str, int]:
        at = self.feed.server_now()
        open_ = overdue = 0
        for inc in self.state.incidents.values():
            if inc["status"] == "closed":
                continue
            open_ += 1
            if next_deadline(inc, at)[1]:
                overdue += 1
        return {"open": open_, "overdue": overdue}

    def status(self) -> dict[str, Any]:
        """The control API's ``status`` (screens and tiles are added by the app)."""
        t = time.monotonic()
        if self._status is not None and t - self._status_at < 0.2:
            return self._status  # every banner asks each tick: one answer per 200 ms
        self._status, self._status_at = self._status_json(), t
        return self._status

    def _status_json(self) -> dict[str, Any]:
        st = self.feed.status
        conn = st.as_json()
        wall = self.state.wall or {}
        return {
            "connection": conn,
            "user": st.user,
            "role": st.role,
            "wall": {
                "wall": self.cfg.wall,
                "node": self.cfg.node,
                "mode": wall.get("mode"),
                "preset": wall.get("preset"),
                "changed_by": wall.get("changed_by"),
                "changed_at": wall.get("changed_at"),
            },
            "screens": [],
            "tiles": [],
            "incidents": self.open_incidents(),
            "linkage": {"incident": None, "cameras": []},
            "cache": {"path": str(self.cache_path), "written_seq": self.writer.written_seq},
        }


def as_float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None

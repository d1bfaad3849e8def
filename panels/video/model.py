"""What each tile of a video panel shows, and why — no Qt, no players.

A tile shows, in this order of precedence: the camera of an incident's linkage; a camera
an operator put on it (an override, until the next preset); the active preset's camera
for this tile on the current tour page. The preset's cameras run over every video tile
of the node in order; with more cameras than tiles the tiles tour, the page computed
from server time so that every node of the wall shows the same page
(wallclient.tiles: ``pages_of``, ``tour_page``, ``page_cameras``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wallclient import tiles as rules
from wallclient.protocol import epoch

PRESTART_S = 4.0  # the next tour page starts this long before its flip (RTSP open + 1 s GOP)


@dataclass
class Plan:
    """One decision: the camera for each tile now, when the page flips (None: no tour)
    and, when that is near, the camera for each tile on the next page."""

    cameras: list[str | None]
    to_flip_s: float | None = None
    next_page: list[str | None] | None = None


class TileModel:
    """The choices behind a panel's tiles: tour page, overrides, linkage."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.offset = 0  # the panel's first tile among all video tiles of the node
        self.node_tiles = count  # all video tiles of the node (the Wall sets both)
        self.page = 0
        self.pages = 1
        self.overrides: dict[int, str] = {}  # tile → camera dropped on it, until the next preset
        self.linked: dict[int, tuple[str, str]] = {}  # tile → (camera, label): incident linkage
        self._preset_key: tuple[Any, Any] | None = None

    def plan(self, state: Any, server_ts: float) -> Plan:
        """What every tile shows at server time ``server_ts`` (a new preset ends the
        overrides)."""
        wall = state.wall or {}
        preset = state.presets.get(wall.get("preset") or "")
        cams: list[str] = list(preset["cameras"]) if preset else []
        self.pages = rules.pages_of(cams, self.node_tiles)
        changed_at = epoch(wall.get("changed_at") or "") or 0.0
        dwell = float((preset or {}).get("dwell_s") or 15)
        self.page = rules.tour_page(server_ts, changed_at, dwell, self.pages)
        key = (wall.get("preset"), wall.get("changed_at"))
        if key != self._preset_key:
            self._preset_key = key
            self.overrides.clear()
        plan = Plan(self._mine(rules.page_cameras(cams, self.node_tiles, self.page)))
        for i in range(self.count):
            plan.cameras[i] = self.overrides.get(i, plan.cameras[i])
            if i in self.linked:
                plan.cameras[i] = self.linked[i][0]
        if self.pages > 1:
            plan.to_flip_s = dwell - (server_ts - changed_at) % dwell
            if plan.to_flip_s <= PRESTART_S:
                nxt = rules.page_cameras(cams, self.node_tiles, (self.page + 1) % self.pages)
                plan.next_page = self._mine(nxt)
        return plan

    def _mine(self, page: list[str | None]) -> list[str | None]:
        """This panel's share of a node's page."""
        return [page[self.offset + i] if self.offset + i < len(page) else None
                for i in range(self.count)]  # fmt: skip

    def override(self, index: int, camera: str) -> None:
        self.overrides[index] = camera
        self.linked.pop(index, None)  # the operator's choice wins over the linkage

    def link(self, linked: dict[int, tuple[str, str]]) -> bool:
        """The linkage's tiles (False: no change)."""
        if linked == self.linked:
            return False
        for i in linked:
            self.overrides.pop(i, None)
        self.linked = dict(linked)
        return True


def source(state: Any, sid: str | None) -> dict[str, Any] | None:
    """What a tile shows: a camera, or a unit with a stream of its own (a body camera,
    a drone) seen as one — online while the unit is not offline."""
    if not sid:
        return None
    cam: dict[str, Any] | None = state.cameras.get(sid)
    if cam is not None:
        return cam
    unit = state.units.get(sid)
    if unit is None or not unit.get("stream"):
        return None
    return {"id": sid, "name": unit.get("name", sid), "region": None,
            "streams": {"sub": unit["stream"], "main": unit["stream"]},
            "status": "offline" if unit.get("status") == "offline" else "online"}  # fmt: skip

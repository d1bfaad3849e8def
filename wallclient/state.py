"""The wall's live state: everything the backend told us, as plain dicts by id.

``WallState`` applies protocol v1 state messages and snapshots, and tells its
listeners what changed. It never guesses: a command's effect appears only when
the backend's state message arrives (protocol.md, Commands).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wallclient.protocol import JSON, PTZ_KEYS, STATE_TYPES, epoch
from wallclient.units import Tracks

KINDS = ("regions", "cameras", "presets", "indicators", "incidents", "layers", "units")


@dataclass(frozen=True, slots=True)
class Change:
    """What one applied message changed: a kind and its ids (None: all of it)."""

    kind: str
    ids: tuple[str, ...] | None = None


Listener = Callable[[list[Change]], None]


class WallState:
    """Regions, cameras, presets, indicators, incidents, layers and the wall."""

    def __init__(self, wall_id: str | None = None) -> None:
        self.wall_id = wall_id  # the wall this node drives; other walls' state is not ours
        self.regions: dict[str, JSON] = {}
        self.cameras: dict[str, JSON] = {}
        self.presets: dict[str, JSON] = {}
        self.indicators: dict[str, JSON] = {}
        self.incidents: dict[str, JSON] = {}
        self.layers: dict[str, JSON] = {}
        self.units: dict[str, JSON] = {}
        self.tracks = Tracks()  # where the units have been (wallclient.units)
        self.ptz_by: dict[str, str] = {}  # camera → who moved it last (camera.ptz)
        self.wall: JSON | None = None
        self.last_seq: int | None = None
        self._listeners: list[Listener] = []
        # where the tables a load replaces go (a GUI lets go of them over several ticks:
        # wallclient.collector.Release); None: dropped at once
        self.retire: Callable[..., None] | None = None

    # --- observation ---------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with the changes of every apply; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, changes: list[Change]) -> None:
        if changes:
            for listener in list(self._listeners):
                listener(changes)

    def table(self, kind: str) -> dict[str, JSON]:
        """The dict of one kind, by its protocol name (``cameras``, ``incidents``…)."""
        table: dict[str, JSON] = getattr(self, kind)
        return table

    # --- applying --------------------------------------------------------------------

    def load(
        self, tables: Mapping[str, Iterable[JSON]], wall: JSON | None, last_seq: int | None
    ) -> None:
        """Replace everything at once (a snapshot, or the cache at start-up)."""
        old = [getattr(self, kind) for kind in KINDS]
        for kind in KINDS:
            key = "code" if kind == "regions" else "id"
            table = {item[key]: item for item in tables.get(kind, ())}
            setattr(self, kind, table)
        if self.retire is not None:
            self.retire(*old)
        del old
        self.wall = wall
        self.last_seq = last_seq
        self._emit([Change(kind) for kind in KINDS] + [Change("wall")])

    def apply(self, type_: str, data: JSON, seq: int | None = None) -> list[Change]:
        """Apply one state message; returns (and announces) what changed."""
        changes = self._apply(type_, data)
        if seq is not None:
            self.last_seq = seq
        self._emit(changes)
        return changes

    def advance(self, seq: int) -> None:
        """A skipped or invalid message still moves ``seq`` (protocol.md, Envelope)."""
        self.last_seq = seq

    def _apply(self, type_: str, data: JSON) -> list[Change]:
        if type_ not in STATE_TYPES:
            return []
        if type_ == "indicator.values":
            return self._apply_values(data)
        if type_ == "unit.positions":
            return self._apply_positions(data)
        if type_ == "unit.remove":
            self.tracks.forget(data["id"])
        if type_ == "camera.status":
            cam = self.cameras.get(data["id"])
            if cam is None or cam.get("status") == data["status"]:
                return []
            cam["status"] = data["status"]
            return [Change("cameras", (data["id"],))]
        if type_ == "camera.ptz":
            cam = self.cameras.get(data["id"])
            if cam is None:
                return []
            cam["ptz_state"] = {k: data[k] for k in PTZ_KEYS}
            self.ptz_by[data["id"]] = str(data.get("by") or "")
            return [Change("ptz", (data["id"],))]  # not "cameras": no camera list is redrawn
        if type_ == "wall.state":
            if self.wall_id is not None and data["wall"] != self.wall_id:
                return []
            if self.wall == data:
                return []
            self.wall = dict(data)
            return [Change("wall")]
        kind, _, verb = type_.partition(".")
        table_name = kind + "s"
        if table_name not in KINDS:
            return []
        table = self.table(table_name)
        key = data["code"] if table_name == "regions" else data["id"]
        if verb == "remove":
            if table.pop(key, None) is None:
                return []
            return [Change(table_name, (key,))]
        if verb == "upsert":
            item = dict(data)
            old = table.get(key)
            if table_name == "indicators" and old is not None and "value" not in item:
                # A definition update keeps the latest reading it does not restate.
                item["value"] = old.get("value")
                item["t"] = old.get("t")
            if old == item:
                return []
            table[key] = item
            loc = item.get("location") if table_name == "units" else None
            if isinstance(loc, dict):
                self.tracks.accept(key, epoch(str(loc.get("t") or "")) or 0.0, loc)
            return [Change(table_name, (key,))]
        return []

    def _apply_positions(self, data: JSON) -> list[Change]:
        """A batch of unit positions: each one believed or counted and dropped (Tracks)."""
        t = epoch(data["t"]) or 0.0
        moved: list[str] = []
        for pos in data["positions"]:
            uid = pos.get("id") if isinstance(pos, dict) else None
            unit = self.units.get(uid) if isinstance(uid, str) else None
            if unit is None or not isinstance(uid, str):
                self.tracks.dropped.malformed += 1
                continue
            if self.tracks.accept(uid, t, pos) is None:
                continue
            loc = {"lon": pos["lon"], "lat": pos["lat"], "t": data["t"]}
            for k in ("heading", "speed"):
                if isinstance(pos.get(k), int | float):
                    loc[k] = pos[k]
            unit["location"] = loc
            moved.append(uid)
        return [Change("units", tuple(moved))] if moved else []

    def _apply_values(self, data: JSON) -> list[Change]:
        t = data["t"]
        changed: list[str] = []
        for reading in data["values"]:
            ind = self.indicators.get(reading["id"])
            if ind is None:
                continue
            ind["value"] = reading["value"]
            ind["t"] = t
            changed.append(reading["id"])
        return [Change("indicators", tuple(changed))] if changed else []

    # --- views -----------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """The live state as ``wallclient cache show --json`` prints it."""
        return {
            "last_seq": self.last_seq,
            "incidents": sorted(
                (
                    {
                        "id": i["id"],
                        "status": i["status"],
                        "priority": i["priority"],
                        "title": i["title"],
                        "source": i["source"],
                        "region": i.get("region"),
                        "updated_at": i["updated_at"],
                    }
                    for i in self.incidents.values()
                ),
                key=lambda r: r["id"],
            ),
            "cameras": sorted(
                (
                    {"id": c["id"], "name": c["name"], "status": c["status"]}
                    for c in self.cameras.values()
                ),
                key=lambda r: r["id"],
            ),
            "presets": sorted(
                (
                    {"id": p["id"], "name": p["name"], "emergency": p["emergency"]}
                    for p in self.presets.values()
                ),
                key=lambda r: r["id"],
            ),
            "indicators": {k: v.get("value") for k, v in sorted(self.indicators.items())},
            "regions": len(self.regions),
            "layers": sorted(self.layers),
            "wall": dict(self.wall) if self.wall else None,
        }

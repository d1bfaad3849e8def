"""Incident rules that every view shares: which deadline is next, and is it overdue."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from wallclient.protocol import epoch, now

# Order in which an incident's deadlines fall due, with the status that meets each.
DEADLINE_ORDER = (
    ("respond", "dispatched"),
    ("arrive", "arrived"),
    ("control", "controlled"),
    ("track", "closed"),
)
_STATUS_RANK = {"new": 0, "dispatched": 1, "arrived": 2, "controlled": 3, "closed": 4}


def next_due(incident: dict[str, Any]) -> tuple[str | None, float | None]:
    """The next deadline the incident has not met yet, and when it falls (epoch s)."""
    rank = _STATUS_RANK.get(incident["status"], 0)
    for kind, meets in DEADLINE_ORDER:
        if rank >= _STATUS_RANK[meets]:
            continue
        text = incident.get("deadlines", {}).get(kind)
        due = epoch(text) if text else None
        if due is None:
            continue
        return kind, due
    return None, None


def next_deadline(incident: dict[str, Any], at: datetime | None = None) -> tuple[str | None, bool]:
    """The next deadline the incident has not met yet, and whether it is overdue."""
    kind, due = next_due(incident)
    if due is None:
        return kind, False
    return kind, due < (at or now()).timestamp()


class Tally:
    """Open and overdue incidents, kept as incidents change rather than counted.

    A wall holds ten thousand live incidents; counting them all costs ~100 ms, which
    is a stall. Here each change costs a bisection, and ``overdue`` at any time is one
    more: the open incidents' next deadlines are kept sorted.
    """

    def __init__(self) -> None:
        self._due: dict[str, float] = {}  # open incident → next deadline (inf: none)
        self._sorted: list[float] = []

    def reset(self, incidents: Iterable[dict[str, Any]]) -> None:
        self._due = {}
        for inc in incidents:
            if inc["status"] != "closed":
                self._due[inc["id"]] = _due_or_inf(inc)
        self._sorted = sorted(self._due.values())

    def update(self, iid: str, incident: dict[str, Any] | None) -> None:
        """``incident`` is its new value (None: removed)."""
        old = self._due.pop(iid, None)
        if old is not None:
            del self._sorted[bisect.bisect_left(self._sorted, old)]
        if incident is not None and incident["status"] != "closed":
            due = _due_or_inf(incident)
            self._due[iid] = due
            bisect.insort(self._sorted, due)

    def counts(self, at: datetime | None = None) -> dict[str, int]:
        at_s = (at or now()).timestamp()
        return {"open": len(self._due), "overdue": bisect.bisect_left(self._sorted, at_s)}


def _due_or_inf(incident: dict[str, Any]) -> float:
    due = next_due(incident)[1]
    return float("inf") if due is None else due


def sort_key(incident: dict[str, Any], at: datetime | None = None) -> tuple[int, int, float, str]:
    """Open before closed, then priority (1 first), then the nearest next deadline."""
    kind, _ = next_deadline(incident, at)
    text = incident.get("deadlines", {}).get(kind) if kind else None
    due = epoch(text) if text else None
    closed = 1 if incident["status"] == "closed" else 0
    return (
        closed,
        int(incident["priority"]),
        due if due is not None else float("inf"),
        incident["id"],
    )


def matches(incident: dict[str, Any], options: dict[str, Any]) -> bool:
    """Does the incident pass a layout region's filter (sources / priorities / regions)?"""
    sources = options.get("sources")
    if sources and incident["source"] not in sources:
        return False
    priorities = options.get("priorities")
    if priorities and incident["priority"] not in priorities:
        return False
    regions = options.get("regions")
    return not (
        regions and not any(str(incident.get("region") or "").startswith(r) for r in regions)
    )


class NewPriority1:
    """Spots priority-1 incidents the wall has not seen before and that were reported
    within ``new_for_s``: what sounds the alert and takes the linkage tiles. Remembers
    the ids it has seen, bounded (a wall runs for months)."""

    def __init__(self, seen: Iterable[str], new_for_s: float) -> None:
        self._seen = set(seen)
        self.new_for_s = new_for_s

    def arrived(
        self, live: dict[str, Any], changed: Iterable[str] | None, now_s: float
    ) -> list[str]:
        """The new priority-1 ids among ``changed`` (None: all of ``live``), in the order
        they were reported (then by id): a burst that lands in one tick, or a whole table
        at start, pops up and sounds in the order it happened, not a set's order."""
        out = []
        since = now_s - self.new_for_s
        for iid in live if changed is None else changed:
            inc = live.get(iid)
            if inc is None or iid in self._seen:
                continue
            self._seen.add(iid)
            reported = epoch(inc.get("reported_at") or "")
            if self.accept(inc) and reported is not None and reported > since:
                out.append((reported, iid))
        if len(self._seen) > 2 * len(live) + 1000:
            self._seen &= set(live)
        return [iid for _reported, iid in sorted(out)]

    def accept(self, inc: dict[str, Any]) -> bool:
        return bool(inc.get("priority") == 1)


class NewAlarms(NewPriority1):
    """The same, for the incidents ``pops`` accepts (the alarm pop-ups' rule)."""

    def __init__(self, seen: Iterable[str], new_for_s: float, pops: Callable[[dict[str, Any]], bool]) -> None:
        super().__init__(seen, new_for_s)
        self.pops = pops

    def accept(self, inc: dict[str, Any]) -> bool:
        return bool(self.pops(inc))


# --- incident work (the card) -----------------------------------------------------------

DEADLINE_STEPS = (("respond", "dispatched"), ("arrive", "arrived"), ("control", "controlled"),
                  ("track", "closed"))  # fmt: skip
STATUS_ORDER = ("new", "dispatched", "arrived", "controlled", "closed")

# Which unit kinds fit which incidents (the card's dispatch list), by the category's major
# class, else by its source; anything else: grid workers and patrol cars.
FITTING_KINDS: dict[str, tuple[str, ...]] = {
    "应急管理": ("pump_truck", "patrol_car", "drone", "grid_worker"),
    "防汛防台": ("pump_truck", "drone", "grid_worker"),
    "公共安全": ("patrol_car", "body_cam", "drone"),
    "消防安全": ("patrol_car", "body_cam", "grid_worker"),
    "交通运输": ("patrol_car", "drone", "body_cam"),
    "社会治理": ("body_cam", "grid_worker", "patrol_car"),
    "市容环境": ("grid_worker", "body_cam"),
    "城市管理": ("grid_worker", "body_cam", "patrol_car"),
    "环境保护": ("grid_worker", "drone"),
    "市政设施": ("grid_worker", "pump_truck"),
}
DEFAULT_KINDS = ("grid_worker", "patrol_car", "body_cam")


def fitting_kinds(inc: dict[str, Any]) -> tuple[str, ...]:
    """The unit kinds sent to an incident of this category (documented: docs/operators.md)."""
    cat = inc.get("category") or []
    return FITTING_KINDS.get(cat[0] if cat else "", DEFAULT_KINDS)


def reached_at(inc: dict[str, Any], status: str) -> float | None:
    """When the incident first reached ``status`` or a later one (its history), if it has."""
    want = STATUS_ORDER.index(status)
    for step in inc.get("history") or []:
        st = step.get("status")
        if st in STATUS_ORDER and STATUS_ORDER.index(st) >= want:
            return epoch(str(step.get("t") or ""))
    if inc.get("status") in STATUS_ORDER and STATUS_ORDER.index(inc["status"]) >= want:
        return epoch(str(inc.get("updated_at") or ""))
    return None


def deadline_chain(inc: dict[str, Any], now_s: float) -> list[dict[str, Any]]:
    """响应 / 到场 / 处置 / 跟踪: each deadline, when it was met (the status that meets it
    reached, by the history) and whether it is met, met late, running or overdue."""
    out = []
    for kind, status in DEADLINE_STEPS:
        due = epoch(str((inc.get("deadlines") or {}).get(kind) or ""))
        if due is None:
            continue
        met = reached_at(inc, status)
        if kind == "respond" and inc.get("acked_at"):
            acked = epoch(str(inc["acked_at"]))
            met = acked if met is None or (acked is not None and acked < met) else met
        if met is not None:
            state = "met" if met <= due else "late"
        else:
            state = "overdue" if now_s > due else "running"
        out.append({"kind": kind, "due": due, "met": met, "state": state, "left_s": due - now_s})
    return out


def nearest_units(units: dict[str, Any], lon: float, lat: float, kinds: tuple[str, ...],
                  n: int = 5) -> list[tuple[float, str]]:  # fmt: skip
    """The ``n`` nearest idle units of these kinds: ``[(metres, id)]``, nearest first."""
    from wallclient.geo import distance_m

    found = []
    for uid, u in units.items():
        loc = u.get("location")
        if u.get("status") != "idle" or u.get("kind") not in kinds or not isinstance(loc, dict):
            continue
        found.append((distance_m(lon, lat, float(loc["lon"]), float(loc["lat"])), uid))
    found.sort()
    return found[:n]

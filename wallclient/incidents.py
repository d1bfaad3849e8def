"""Incident rules that every view shares: which deadline is next, and is it overdue."""

from __future__ import annotations

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


def next_deadline(incident: dict[str, Any], at: datetime | None = None) -> tuple[str | None, bool]:
    """The next deadline the incident has not met yet, and whether it is overdue."""
    at_s = (at or now()).timestamp()
    rank = _STATUS_RANK.get(incident["status"], 0)
    for kind, meets in DEADLINE_ORDER:
        if rank >= _STATUS_RANK[meets]:
            continue
        text = incident.get("deadlines", {}).get(kind)
        due = epoch(text) if text else None
        if due is None:
            continue
        return kind, due < at_s
    return None, False


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

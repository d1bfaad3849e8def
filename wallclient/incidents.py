"""Incident rules that every view shares: which deadline is next, and is it overdue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wallclient.protocol import now, parse_time

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
    at = at or now()
    rank = _STATUS_RANK.get(incident["status"], 0)
    for kind, meets in DEADLINE_ORDER:
        if rank >= _STATUS_RANK[meets]:
            continue
        text = incident.get("deadlines", {}).get(kind)
        if not text:
            continue
        try:
            due = parse_time(text)
        except ValueError:
            continue
        return kind, due < at
    return None, False

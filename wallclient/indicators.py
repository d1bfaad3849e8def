"""Indicator rules every view shares: level against thresholds, staleness, filters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from wallclient.protocol import epoch

LEVELS = ("none", "normal", "warning", "alarm")  # none: no reading


def level(ind: Mapping[str, Any]) -> str:
    """``alarm`` beyond ``alarm``, ``warning`` beyond ``warn`` (in ``direction``), else ``normal``."""
    value = ind.get("value")
    if value is None:
        return "none"
    above = ind.get("direction", "above") == "above"

    def beyond(limit: float | None) -> bool:
        if limit is None:
            return False
        return bool(value >= limit if above else value <= limit)

    if beyond(ind.get("alarm")):
        return "alarm"
    if beyond(ind.get("warn")):
        return "warning"
    return "normal"


def age_s(ind: Mapping[str, Any], at: datetime) -> float | None:
    """Seconds since the latest reading, or None when there is none."""
    t = ind.get("t")
    if not t:
        return None
    seconds = epoch(t)
    return None if seconds is None else max(0.0, at.timestamp() - seconds)


def matches(ind: Mapping[str, Any], options: Mapping[str, Any]) -> bool:
    """Does the indicator pass a layout region's filter (categories / items / ids)?"""
    for key, field in (("categories", "category"), ("items", "item"), ("ids", "id")):
        wanted = options.get(key)
        if wanted and ind.get(field) not in wanted:
            return False
    return True


def format_value(ind: Mapping[str, Any]) -> str:
    value = ind.get("value")
    if value is None:
        return "—"
    decimals = int(ind.get("decimals", 0))
    return f"{value:,.{decimals}f}"


def grouped(indicators: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Indicators by category, each sorted by item then name, categories in first-seen order."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for ind in indicators:
        groups.setdefault(str(ind.get("category", "")), []).append(ind)
    return [
        (cat, sorted(items, key=lambda i: (i.get("item", ""), i.get("name", ""))))
        for cat, items in groups.items()
    ]


PLACE_SUFFIXES = ("街道", "镇", "乡")  # dropped from a place's name where it stays distinct


def name_parts(name: str, place: str | None) -> tuple[str, str]:
    """An indicator's name as (where, what) for a small tile: the place it is measured
    in, shortened ("南翔镇" → "南翔"), and the rest ("供水保障供水压力"). A tile with room
    for neither shows the place whole and shortens the rest from the left, so tiles of
    different towns never read the same (``南翔 ···供水压力`` / ``江桥 ···供水压力``)."""
    if not place or not name.startswith(place) or len(name) == len(place):
        return "", name
    short = place
    for suffix in PLACE_SUFFIXES:
        if short.endswith(suffix) and len(short) > len(suffix) + 1:
            short = short[: -len(suffix)]
            break
    return short, name[len(place) :]

"""Finding a video preset fast, under stress: search as you type over name, scenario
and pinyin initials (a preset named 防汛防台 is found by "fxft"), grouped by scenario,
emergency presets first in their group and marked; hotkeys from ``preset.hotkey``.

Pure Python. pypinyin is imported on first use (it takes ~0.25 s), so the wall's
start-up does not pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

HOTKEYS = tuple(f"F{i}" for i in range(1, 13)) + tuple(str(i) for i in range(10))


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    name: str
    scenario: str
    emergency: bool
    hotkey: str | None
    cameras: int
    initials: tuple[frozenset[str], ...]  # per character: its pinyin initials (heteronyms)
    spelled: str  # name and scenario in full pinyin, no spaces, lower case
    text: str  # id, name and scenario, lower case


_READINGS: dict[str, tuple[frozenset[str], str]] = {}  # character → (initials, first reading)


def _reading(ch: str) -> tuple[frozenset[str], str]:
    got = _READINGS.get(ch)
    if got is None:
        if "\u4e00" <= ch <= "\u9fff":
            from pypinyin import Style, pinyin

            readings = [r for r in pinyin(ch, style=Style.NORMAL, heteronym=True)[0] if r]
            got = (frozenset(r[0] for r in readings), readings[0] if readings else ch)
        else:
            got = (frozenset(ch.lower()), ch.lower())
        _READINGS[ch] = got
    return got


def _pinyin(text: str) -> tuple[tuple[frozenset[str], ...], str]:
    """Per character its pinyin initials (every reading of a heteronym such as 重), and
    the whole text spelled in pinyin; punctuation and spaces are skipped."""
    initials: list[frozenset[str]] = []
    spelled: list[str] = []
    for ch in text:
        if not ch.isalnum():
            continue
        first, reading = _reading(ch)
        initials.append(first)
        spelled.append(reading)
    return tuple(initials), "".join(spelled)


def _initials_match(query: str, initials: tuple[frozenset[str], ...]) -> int | None:
    """Where ``query`` runs as consecutive initials (the first position), else None."""
    n = len(query)
    for start in range(len(initials) - n + 1):
        if all(query[i] in initials[start + i] for i in range(n)):
            return start
    return None


class PresetIndex:
    """The presets, searchable; rebuilt when they change (a thousand take ~50 ms)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.by_hotkey: dict[str, str] = {}

    def build(self, presets: Mapping[str, Mapping[str, Any]]) -> None:
        entries = []
        hotkeys: dict[str, str] = {}
        for pid, p in presets.items():
            name = str(p.get("name") or pid)
            scenario = str(p.get("scenario") or "")
            initials, spelled = _pinyin(name)
            _, scen_spelled = _pinyin(scenario)
            hotkey = p.get("hotkey")
            hotkey = hotkey if isinstance(hotkey, str) and hotkey in HOTKEYS else None
            if hotkey is not None:
                hotkeys.setdefault(hotkey, pid)  # the first one keeps a duplicated key
            entries.append(
                Entry(
                    id=pid,
                    name=name,
                    scenario=scenario,
                    emergency=bool(p.get("emergency")),
                    hotkey=hotkey,
                    cameras=len(p.get("cameras") or []),
                    initials=initials,
                    spelled=spelled + " " + scen_spelled,
                    text=f"{pid} {name} {scenario}".lower(),
                )
            )
        entries.sort(key=lambda e: (e.scenario, not e.emergency, e.name, e.id))
        self.entries = entries
        self.by_hotkey = hotkeys

    def search(self, query: str, limit: int = 200) -> list[Entry]:
        """Presets matching every word of ``query`` (substring of id, name or scenario,
        pinyin initials or full pinyin), best first: name hits before initials before
        the rest; within a rank, by scenario then name."""
        words = query.lower().split()
        if not words:
            return self.entries[:limit]
        scored: list[tuple[int, int, Entry]] = []
        for n, e in enumerate(self.entries):
            rank = 0
            for w in words:
                r = _rank(w, e)
                if r is None:
                    break
                rank += r
            else:
                scored.append((rank, n, e))
        scored.sort(key=lambda t: (t[0], t[1]))
        return [e for _, _, e in scored[:limit]]

    def grouped(self, entries: Iterable[Entry]) -> list[tuple[str, list[Entry]]]:
        """``entries`` by scenario, in order of first appearance."""
        groups: dict[str, list[Entry]] = {}
        for e in entries:
            groups.setdefault(e.scenario, []).append(e)
        return list(groups.items())


_ASCII = re.compile(r"^[a-z0-9]+$")


def _rank(word: str, e: Entry) -> int | None:
    if word in e.name.lower():
        return 0
    if _ASCII.match(word):
        if _initials_match(word, e.initials) is not None:
            return 1
        if word in e.spelled:
            return 2
    if word in e.text:
        return 3
    return None

"""Layouts: which physical screens make the wall, and what each region of each shows.

A layout file (JSON, schema in ``layouts/layout.schema.json``) lists the wall's
screens and, per mode (``normal``, ``emergency``), the regions of each screen.
A region sits on the screen's unit grid (``grid: [cols, rows]``) at
``rect: [col, row, colspan, rowspan]`` and holds one panel. ``load`` reports every
error at once, each as ``where: what``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wallclient.errors import LayoutError
from wallclient.protocol import INCIDENT_SOURCES, MODES, REGION_LEVELS

PANELS = ("video", "indicators", "incidents", "map", "status", "clock", "trend", "indicator_chart")
TRENDS = ("incidents_by_source", "incidents_by_priority")


@dataclass(frozen=True)
class Screen:
    """One physical screen of the wall."""

    name: str
    width: int
    height: int
    x: int = 0
    y: int = 0
    grid: tuple[int, int] = (24, 24)
    bezel_mm: tuple[float, float] = (0.0, 0.0)

    @property
    def geometry(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.width, self.height)


@dataclass(frozen=True)
class Region:
    """A rectangle of one screen and the panel it holds."""

    id: str
    panel: str
    rect: tuple[int, int, int, int]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    """A whole wall: screens, and per mode the regions of each screen."""

    name: str
    screens: tuple[Screen, ...]
    modes: dict[str, dict[str, tuple[Region, ...]]]
    path: str = ""
    description: str = ""

    def regions(self, mode: str, screen: str) -> tuple[Region, ...]:
        """The regions of ``screen`` in ``mode``; emergency falls back to normal."""
        variant = self.modes.get(mode) or self.modes["normal"]
        return variant.get(screen, self.modes["normal"].get(screen, ()))

    def screen(self, name: str) -> Screen:
        return next(s for s in self.screens if s.name == name)

    def video_tiles(self, mode: str = "normal") -> int:
        """How many video tiles the wall's screens hold in ``mode`` (a span is one tile)."""
        n = 0
        for screen in self.screens:
            for r in self.regions(mode, screen.name):
                if r.panel == "video":
                    o = r.options
                    merged = sum(s[2] * s[3] - 1 for s in o.get("spans", []))
                    n += int(o.get("rows", 2)) * int(o.get("cols", 2)) - merged
        return n

    def to_json(self) -> dict[str, Any]:
        """The layout as a file would hold it (the editor saves this)."""
        return {
            "name": self.name,
            "description": self.description,
            "screens": [
                {
                    "name": s.name,
                    "x": s.x,
                    "y": s.y,
                    "width": s.width,
                    "height": s.height,
                    "grid": list(s.grid),
                    "bezel_mm": list(s.bezel_mm),
                }  # fmt: skip
                for s in self.screens
            ],
            "modes": {
                mode: {
                    screen: [
                        {"id": r.id, "panel": r.panel, "rect": list(r.rect), "options": r.options}
                        for r in regions
                    ]
                    for screen, regions in screens.items()
                }
                for mode, screens in self.modes.items()
            },
        }


class _Errors:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{where}: {what}")


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _pair(v: Any, each: Callable[[Any], bool]) -> bool:
    return isinstance(v, list) and len(v) == 2 and all(each(x) for x in v)


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _check_options(panel: str, opts: Any, where: str, err: _Errors) -> None:
    if not isinstance(opts, dict):
        err.add(where, "must be an object")
        return
    if panel == "video":
        rows, cols = opts.get("rows", 1), opts.get("cols", 1)
        if not (_int(rows) and 1 <= rows <= 8):
            err.add(f"{where}.rows", "must be an integer from 1 to 8")
        if not (_int(cols) and 1 <= cols <= 8):
            err.add(f"{where}.cols", "must be an integer from 1 to 8")
        spans = opts.get("spans", [])
        if not isinstance(spans, list):
            err.add(f"{where}.spans", "must be a list of [row, col, rowspan, colspan]")
        elif _int(rows) and _int(cols):
            for i, sp in enumerate(spans):
                if not (isinstance(sp, list) and len(sp) == 4 and all(_int(x) for x in sp)):
                    err.add(f"{where}.spans[{i}]", "must be [row, col, rowspan, colspan]")
                elif (
                    sp[2] < 1
                    or sp[3] < 1
                    or sp[0] < 0
                    or sp[1] < 0
                    or sp[0] + sp[2] > rows
                    or sp[1] + sp[3] > cols
                ):
                    err.add(f"{where}.spans[{i}]", f"{sp} does not fit a {rows}×{cols} grid")
        if "linkage" in opts and not isinstance(opts["linkage"], bool):
            err.add(f"{where}.linkage", "must be true or false")
    elif panel == "indicators":
        for key in ("categories", "items", "ids"):
            if key in opts and not _str_list(opts[key]):
                err.add(f"{where}.{key}", "must be a list of strings")
    elif panel == "incidents":
        if "sources" in opts and not _str_list(opts["sources"]):
            err.add(
                f"{where}.sources", f"must be a list of sources ({', '.join(INCIDENT_SOURCES)} …)"
            )
        if "priorities" in opts and not (
            isinstance(opts["priorities"], list)
            and all(_int(p) and 1 <= p <= 4 for p in opts["priorities"])
        ):
            err.add(f"{where}.priorities", "must be a list of 1–4")
        if "regions" in opts and not _str_list(opts["regions"]):
            err.add(f"{where}.regions", "must be a list of region codes")
        if "alert" in opts and not isinstance(opts["alert"], bool):
            err.add(f"{where}.alert", "must be true or false")
    elif panel == "map":
        if "level" in opts and opts["level"] not in REGION_LEVELS:
            err.add(f"{where}.level", f"must be one of {', '.join(REGION_LEVELS)}")
    elif panel == "trend":
        if opts.get("kind", TRENDS[0]) not in TRENDS:
            err.add(f"{where}.kind", f"must be one of {', '.join(TRENDS)}")
    elif panel == "indicator_chart" and not isinstance(opts.get("id"), str):
        err.add(f"{where}.id", "must name an indicator")


def _overlap(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def parse(obj: Any, path: str = "<layout>") -> Layout:
    """Validate a decoded layout; LayoutError lists every problem found."""
    err = _Errors()
    if not isinstance(obj, dict):
        raise LayoutError(path, ["(top): must be an object"])
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        err.add("name", "must be a non-empty string")
    screens: list[Screen] = []
    raw_screens = obj.get("screens")
    if not isinstance(raw_screens, list) or not raw_screens:
        err.add("screens", "must be a non-empty list")
        raw_screens = []
    seen: set[str] = set()
    for i, s in enumerate(raw_screens):
        where = f"screens[{i}]"
        if not isinstance(s, dict):
            err.add(where, "must be an object")
            continue
        sname = s.get("name")
        if not isinstance(sname, str) or not sname:
            err.add(f"{where}.name", "must be a non-empty string")
            continue
        if sname in seen:
            err.add(f"{where}.name", f"duplicate screen name {sname!r}")
        seen.add(sname)
        ok = True
        for key in ("width", "height"):
            if not (_int(s.get(key)) and 64 <= s[key] <= 16384):
                err.add(f"{where}.{key}", "must be an integer from 64 to 16384 (pixels)")
                ok = False
        for key in ("x", "y"):
            if key in s and not _int(s[key]):
                err.add(f"{where}.{key}", "must be an integer (pixels)")
                ok = False
        grid = s.get("grid", [24, 24])
        if not _pair(grid, lambda g: _int(g) and 1 <= g <= 96):
            err.add(f"{where}.grid", "must be [cols, rows], each 1 to 96")
            ok = False
        bezel = s.get("bezel_mm", [0, 0])
        if not _pair(bezel, lambda b: _num(b) and 0 <= b <= 50):
            err.add(f"{where}.bezel_mm", "must be [horizontal, vertical] in mm, 0 to 50")
            ok = False
        if ok:
            screens.append(
                Screen(
                    sname,
                    s["width"],
                    s["height"],
                    s.get("x", 0),
                    s.get("y", 0),
                    (grid[0], grid[1]),
                    (float(bezel[0]), float(bezel[1])),
                )  # fmt: skip
            )
    by_name = {s.name: s for s in screens}
    modes: dict[str, dict[str, tuple[Region, ...]]] = {}
    raw_modes = obj.get("modes")
    if not isinstance(raw_modes, dict) or "normal" not in raw_modes:
        err.add("modes", "must be an object with at least a 'normal' variant")
        raw_modes = raw_modes if isinstance(raw_modes, dict) else {}
    for mode, variant in raw_modes.items():
        where_m = f"modes.{mode}"
        if mode not in MODES:
            err.add(where_m, f"unknown mode (one of {', '.join(MODES)})")
            continue
        if not isinstance(variant, dict):
            err.add(where_m, "must map screen names to lists of regions")
            continue
        modes[mode] = {}
        for sname, regions in variant.items():
            where_s = f"{where_m}.{sname}"
            if sname not in seen:
                err.add(where_s, "no screen of that name in 'screens'")
                continue
            if not isinstance(regions, list):
                err.add(where_s, "must be a list of regions")
                continue
            screen = by_name.get(sname)
            parsed: list[Region] = []
            ids: set[str] = set()
            for j, r in enumerate(regions):
                where_r = f"{where_s}[{j}]"
                if not isinstance(r, dict):
                    err.add(where_r, "must be an object")
                    continue
                rid, panel, rect = r.get("id"), r.get("panel"), r.get("rect")
                if not isinstance(rid, str) or not rid:
                    err.add(f"{where_r}.id", "must be a non-empty string")
                    rid = f"#{j}"
                elif rid in ids:
                    err.add(f"{where_r}.id", f"duplicate region id {rid!r} on this screen")
                ids.add(rid)
                if panel not in PANELS:
                    err.add(
                        f"{where_r}.panel", f"unknown panel {panel!r} (one of {', '.join(PANELS)})"
                    )
                    continue
                if not (isinstance(rect, list) and len(rect) == 4 and all(_int(x) for x in rect)):
                    err.add(f"{where_r}.rect", "must be [col, row, colspan, rowspan] in grid units")
                    continue
                if screen is not None:
                    cols, rows = screen.grid
                    c, rw, cs, rs = rect
                    if c < 0 or rw < 0 or cs < 1 or rs < 1 or c + cs > cols or rw + rs > rows:
                        err.add(
                            f"{where_r}.rect", f"{rect} is outside the screen's {cols}×{rows} grid"
                        )
                        continue
                opts = r.get("options", {})
                _check_options(panel, opts, f"{where_r}.options", err)
                region = Region(
                    rid,
                    panel,
                    (rect[0], rect[1], rect[2], rect[3]),
                    opts if isinstance(opts, dict) else {},
                )
                for other in parsed:
                    if _overlap(region.rect, other.rect):
                        err.add(f"{where_r}.rect", f"overlaps region {other.id!r}")
                parsed.append(region)
            modes[mode][sname] = tuple(parsed)
    if err.items:
        raise LayoutError(path, err.items)
    desc = obj.get("description", "")
    return Layout(name=str(name), screens=tuple(screens), modes=modes, path=path,
                  description=desc if isinstance(desc, str) else "")  # fmt: skip


def load(path: Path | str) -> Layout:
    """Read and validate a layout file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise LayoutError(str(p), [f"(file): {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise LayoutError(str(p), ["(file): not UTF-8 text"]) from None
    return loads(text, str(p))


def loads(text: str, path: str = "<layout>") -> Layout:
    """A layout file's text, validated."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise LayoutError(path, [f"(file): not valid JSON: {exc}"]) from None
    return parse(obj, path)


def default_path() -> Path:
    """The layout used when none is given: the district wall shipped in layouts/."""
    return Path(__file__).resolve().parent.parent / "layouts" / "district-3x2.json"


def unit_rect(screen: Screen, rect: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """A region's pixel rectangle (x, y, w, h) within its screen."""
    cols, rows = screen.grid
    x0 = round(rect[0] * screen.width / cols)
    y0 = round(rect[1] * screen.height / rows)
    x1 = round((rect[0] + rect[2]) * screen.width / cols)
    y1 = round((rect[1] + rect[3]) * screen.height / rows)
    return (x0, y0, x1 - x0, y1 - y0)

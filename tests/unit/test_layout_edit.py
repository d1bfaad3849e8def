"""The layout editor's model: a 2×2 wall built from an empty file, split and merge,
emergency variant, undo/redo, and saving only what validates."""

import json

import pytest

from wallclient import layout
from wallclient.errors import LayoutError
from wallclient.layout_edit import LayoutDoc


def test_a_2x2_wall_from_an_empty_file_saves_a_layout_that_validates(tmp_path):
    path = tmp_path / "wall.json"
    path.write_text("", encoding="utf-8")
    doc = LayoutDoc.open(path)
    assert doc.obj["name"] == "wall" and doc.screens == []
    assert doc.errors()  # an empty layout is not a wall yet
    with pytest.raises(LayoutError):
        doc.save(path)
    assert path.read_text() == ""  # nothing written
    for row in range(2):
        for col in range(2):
            doc.add_screen(f"s{row}{col}", 1920, 1080, x=col * 1920, y=row * 1080)
    # the top-left screen: a 3×3 video grid on the left two thirds, incidents right
    right = doc.split("s00", "r1", "v", 16)
    doc.set_panel("s00", "r1", "video", {"rows": 3, "cols": 3, "linkage": True})
    doc.set_panel("s00", right, "incidents", {"priorities": [1, 2]})
    # the top-right: indicators over the map
    low = doc.split("s01", "r1", "h", 14)
    doc.set_panel("s01", "r1", "indicators")
    doc.set_panel("s01", low, "map", {"level": "street"})
    doc.set_panel("s10", "r1", "trend", {"kind": "incidents_by_source"})
    doc.set_panel("s11", "r1", "video", {"rows": 2, "cols": 2})
    doc.set_screen("s11", bezel_mm=[3.5, 3.5])
    # the emergency variant of the top-left screen: one big video grid
    doc.set_mode("emergency")
    doc.merge("s00", "r1", right)
    doc.set_panel("s00", "r1", "video", {"rows": 2, "cols": 2, "linkage": True})
    assert doc.errors() == []
    doc.save(path)
    lay = layout.load(path)  # the wall's own loader takes it
    assert [s.name for s in lay.screens] == ["s00", "s01", "s10", "s11"]
    assert [(r.panel, r.rect) for r in lay.regions("normal", "s00")] == [
        ("video", (0, 0, 16, 24)), ("incidents", (16, 0, 8, 24))]  # fmt: skip
    assert [(r.panel, r.rect) for r in lay.regions("emergency", "s00")] == [
        ("video", (0, 0, 24, 24))
    ]
    # screens without an emergency variant fall back to normal
    assert lay.regions("emergency", "s01") == lay.regions("normal", "s01")
    assert lay.screen("s11").bezel_mm == (3.5, 3.5)
    assert not doc.dirty


def test_undo_and_redo_walk_back_and_forth():
    doc = LayoutDoc()
    doc.add_screen("a")
    before = json.dumps(doc.obj, sort_keys=True)
    new = doc.split("a", "r1", "v", 12)
    doc.set_panel("a", new, "map")
    doc.undo()
    doc.undo()
    assert json.dumps(doc.obj, sort_keys=True) == before
    doc.redo()
    assert len(doc.regions("a")) == 2
    doc.redo()
    assert doc.region("a", new)["panel"] == "map"
    assert not doc.can_redo()
    doc.undo()
    doc.add_screen("b")  # a new edit forgets what could be redone
    assert not doc.can_redo()


def test_bad_operations_are_refused_and_change_nothing():
    doc = LayoutDoc()
    doc.add_screen("a")
    snapshot = json.dumps(doc.obj, sort_keys=True)
    with pytest.raises(ValueError):
        doc.split("a", "r1", "v", 0)
    with pytest.raises(ValueError):
        doc.split("a", "r1", "x", 3)
    new = doc.split("a", "r1", "h", 6)
    other = doc.split("a", new, "v", 4)
    with pytest.raises(ValueError):
        doc.merge("a", "r1", other)  # not a rectangle together
    with pytest.raises(ValueError):
        doc.set_panel("a", "r1", "teapot")
    with pytest.raises(KeyError):
        doc.set_panel("a", "nope", "map")
    with pytest.raises(ValueError):
        doc.add_screen("a")
    doc.add_screen("b")
    with pytest.raises(ValueError):
        doc.set_screen("b", name="a")
    doc.undo(), doc.undo(), doc.undo()
    assert json.dumps(doc.obj, sort_keys=True) == snapshot


def test_assigning_a_physical_screen_takes_its_name_and_geometry():
    doc = LayoutDoc()
    doc.add_screen("left")
    doc.assign("left", {"name": "HDMI-1", "geometry": [0, 0, 3840, 2160]})
    assert doc.screens[0] | {} == {
        **doc.screens[0],
        "name": "HDMI-1",
        "width": 3840,
        "height": 2160,
    }
    assert "HDMI-1" in doc.obj["modes"]["normal"] and "left" not in doc.obj["modes"]["normal"]


def test_an_existing_layout_round_trips_unchanged(tmp_path):
    src = layout.default_path()
    doc = LayoutDoc.open(src)
    assert doc.errors() == []
    out = tmp_path / "copy.json"
    doc.save(out)
    assert layout.load(out).to_json() == layout.load(src).to_json()


def test_a_broken_file_is_reported_not_overwritten(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(LayoutError) as exc:
        LayoutDoc.open(path)
    assert "not valid JSON" in str(exc.value)


def test_option_fields_come_from_the_layout_schema_and_parse_what_an_installer_types():
    from wallclient.layout_edit import field_text, option_fields, parse_field

    video = {f.name: f for f in option_fields("video")}
    assert video["rows"].kind == "int" and (video["rows"].minimum, video["rows"].maximum) == (1, 8)
    assert video["linkage"].kind == "bool" and video["spans"].kind == "spans"
    assert [f.kind for f in option_fields("map")] == ["enum"]
    assert "street" in option_fields("map")[0].choices
    assert option_fields("clock") == []
    incidents = {f.name: f for f in option_fields("incidents")}
    assert parse_field(incidents["priorities"], "1, 2") == [1, 2]
    assert parse_field(incidents["sources"], "12345，110") == ["12345", "110"]  # a Chinese comma
    assert parse_field(incidents["sources"], "  ") is None  # empty: not written
    spans = video["spans"]
    assert parse_field(spans, "0,0,2,2; 2, 2, 1, 2") == [[0, 0, 2, 2], [2, 2, 1, 2]]
    assert field_text(spans, [[0, 0, 2, 2], [2, 2, 1, 2]]) == "0, 0, 2, 2; 2, 2, 1, 2"
    for bad, why in (("0,0,2", "four numbers"), ("0,0,x,2", "whole number")):
        with pytest.raises(ValueError, match=why):
            parse_field(spans, bad)
    with pytest.raises(ValueError, match="above 4"):
        parse_field(incidents["priorities"], "1, 5")

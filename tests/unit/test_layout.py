"""Layout files: the shipped ones are valid, and a bad one lists every error with its place."""

import json
import os
from pathlib import Path

import pytest

from wallclient import layout
from wallclient.errors import LayoutError

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"


@pytest.mark.parametrize("name, screens", [("district-3x2", 6), ("street-4k", 1), ("desk-dual", 2)])
def test_shipped_layouts_are_valid(name, screens):
    lay = layout.load(LAYOUTS / f"{name}.json")
    assert len(lay.screens) == screens
    for screen in lay.screens:
        assert lay.regions("normal", screen.name), f"{screen.name} has nothing to show"


def test_district_wall_is_what_the_issue_asks():
    lay = layout.load(LAYOUTS / "district-3x2.json")
    assert {(s.width, s.height) for s in lay.screens} == {(1920, 1080)}
    normal = [r for s in lay.screens for r in lay.regions("normal", s.name)]
    grids = [
        r for r in normal if r.panel == "video" and (r.options["rows"], r.options["cols"]) == (3, 3)
    ]
    assert len(grids) == 2
    assert {"indicators", "incidents", "map", "status"} <= {r.panel for r in normal}
    assert "emergency" in lay.modes


def test_every_error_is_reported_with_where_it_is():
    bad = {
        "name": "",
        "screens": [
            {"name": "a", "width": 10, "height": 1080},
            {"name": "a", "width": 1920, "height": 1080},
        ],
        "modes": {
            "normal": {
                "a": [
                    {
                        "id": "v",
                        "panel": "video",
                        "rect": [0, 0, 12, 12],
                        "options": {"rows": 9, "spans": [[0, 0, 5, 5]]},
                    },
                    {"id": "v", "panel": "indicators", "rect": [6, 6, 12, 12]},
                    {"id": "x", "panel": "hologram", "rect": [0, 0, 1, 1]},
                    {"id": "y", "panel": "map", "rect": [20, 20, 10, 1]},
                ],
                "ghost": [],
            },
            "panic": {},
        },
    }
    with pytest.raises(LayoutError) as err:
        layout.parse(bad, "bad.json")
    text = "\n".join(err.value.errors)
    for expected in [
        "name: must be a non-empty string",
        "screens[0].width: must be an integer from 64",
        "screens[1].name: duplicate screen name 'a'",
        "modes.normal.a[0].options.rows: must be an integer from 1 to 8",
        "modes.normal.a[1].id: duplicate region id 'v'",
        "modes.normal.a[1].rect: overlaps region 'v'",
        "modes.normal.a[2].panel: unknown panel 'hologram'",
        "modes.normal.a[3].rect: [20, 20, 10, 1] is outside",
        "modes.normal.ghost: no screen of that name",
        "modes.panic: unknown mode",
    ]:
        assert expected in text, f"missing error: {expected}\n{text}"


def test_file_problems_are_layout_errors(tmp_path):
    p = tmp_path / "l.json"
    p.write_text("{not json", encoding="utf-8")
    with pytest.raises(LayoutError, match="not valid JSON"):
        layout.load(p)
    with pytest.raises(LayoutError, match="No such file"):
        layout.load(tmp_path / "missing.json")


def test_emergency_falls_back_to_normal_and_round_trips():
    lay = layout.load(LAYOUTS / "desk-dual.json")
    assert lay.regions("emergency", "desk-left") == lay.regions("normal", "desk-left")
    again = layout.parse(json.loads(json.dumps(lay.to_json())))
    assert again.modes == lay.modes and again.screens == lay.screens


def test_unit_rect_tiles_the_screen_without_gaps():
    screen = layout.Screen("s", 1920, 1016, grid=(24, 24))
    left = layout.unit_rect(screen, (0, 0, 15, 24))
    right = layout.unit_rect(screen, (15, 0, 9, 24))
    assert left[0] == 0 and left[0] + left[2] == right[0] and right[0] + right[2] == 1920
    assert left[3] == 1016


def test_shipped_layouts_follow_the_published_schema():
    import jsonschema

    schema = json.loads((LAYOUTS / "layout.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    for name in ("district-3x2", "street-4k", "desk-dual"):
        jsonschema.validate(
            json.loads((LAYOUTS / f"{name}.json").read_text(encoding="utf-8")), schema
        )
    bad = {"name": "x", "screens": [{"name": "a", "width": 1920, "height": 1080}],
           "modes": {"normal": {"a": [{"id": "r", "panel": "hologram", "rect": [0, 0, 1, 1]}]}}}  # fmt: skip
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_video_tiles_count_each_span_as_one_tile():
    lay = layout.load(layout.default_path())
    assert lay.video_tiles() == 18  # two 3 × 3 screens of video
    assert lay.video_tiles("emergency") == 9 + 9 - 3  # the linkage screen's 2 × 2 span


def test_the_offscreen_screens_file_is_one_per_set_of_screens_not_one_per_start(tmp_path, monkeypatch):
    import tempfile

    from wallclient.display import configure_offscreen

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("QT_QPA_PLATFORM", "")
    lay = layout.load(LAYOUTS / "district-3x2.json")
    for _ in range(3):  # three starts of one wall
        configure_offscreen(lay)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and os.environ["QT_QPA_PLATFORM"] == f"offscreen:configfile={files[0]}"
    assert len(json.loads(files[0].read_text())["screens"]) == 6
    configure_offscreen(lay, only=["wall-1"])  # another node's screens: a file of their own
    assert len(list(tmp_path.iterdir())) == 2

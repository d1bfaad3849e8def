"""Units move on the map from ``unit.positions``: drawn where the last believed fix is,
in their status colour, with their track; a wrong fix is never drawn."""

from datetime import datetime

from panels.map import UNIT_COLOUR, MapPanel
from wallclient.protocol import CST


def t(s: int) -> str:
    return datetime.fromtimestamp(1_796_000_000 + s, CST).isoformat()


def near(panel, lon, lat, colour, r=3) -> bool:
    img = panel.grab().toImage()
    pt = panel._projection()(lon, lat)
    want = colour.name()
    return any(img.pixelColor(int(pt.x()) + dx, int(pt.y()) + dy).name() == want
               for dx in range(-r, r + 1) for dy in range(-r, r + 1))  # fmt: skip


def test_a_unit_moves_on_the_map_and_a_bad_fix_is_not_drawn(ctx, hub, qtbot):
    panel = MapPanel(ctx, hub, 1.0, {})
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    panel.shown["cameras"] = panel.shown["incidents"] = False
    lon0, lat0 = 121.2655, 31.3750
    before = len(ctx.state.units)  # the demo district's own units
    panel.centre, panel.zoom = (lon0, lat0), 40.0
    panel._view_changed()
    ctx.state.apply("unit.upsert", {"id": "U1", "name": "巡逻车01", "kind": "patrol_car", "status": "enroute",
                                    "location": {"lon": lon0, "lat": lat0, "t": t(0)}})  # fmt: skip
    hub.poke("units")
    qtbot.waitUntil(lambda: near(panel, lon0, lat0, UNIT_COLOUR["enroute"]), timeout=3000)
    lon1 = lon0 + 0.004
    ctx.state.apply("unit.positions", {"t": t(60), "positions": [{"id": "U1", "lon": lon1, "lat": lat0, "heading": 90}]})
    hub.poke("units")
    qtbot.waitUntil(lambda: near(panel, lon1, lat0, UNIT_COLOUR["enroute"]), timeout=3000)
    # the track: between the two fixes, in the unit's colour (fainter)
    img = panel.grab().toImage()
    mid = panel._projection()((lon0 + lon1) / 2, lat0)
    c = img.pixelColor(int(mid.x()), int(mid.y()))
    assert c.red() > 60 and c.green() > 40, c.name()  # amber-ish over the dark ground
    # a jump of 100 km is not drawn, and status.map counts the unit
    ctx.state.apply("unit.positions", {"t": t(70), "positions": [{"id": "U1", "lon": lon0 + 1.0, "lat": lat0}]})
    hub.poke("units")
    panel.repaint()
    assert near(panel, lon1, lat0, UNIT_COLOUR["enroute"])
    assert panel.describe_map()["units"] == before + 1


def test_a_unit_with_its_own_camera_goes_onto_a_tile(ctx, hub, qtbot):
    from panels.video import VideoPanel

    body = next(u for u in ctx.state.units.values() if u.get("stream"))
    walker = next(u for u in ctx.state.units.values() if not u.get("stream"))
    map_panel = MapPanel(ctx, hub, 1.0, {})
    qtbot.addWidget(map_panel)
    map_panel.resize(900, 700)
    map_panel.show()
    at = map_panel._projection()(body["location"]["lon"], body["location"]["lat"])
    assert map_panel.unit_at(at) is not None  # what a press there would drag
    video = VideoPanel(ctx, hub, 1.0, {"rows": 2, "cols": 2})
    qtbot.addWidget(video)
    video.resize(800, 600)
    video.place_camera(1, body["id"])  # what the drop does
    assert video.cameras()[1] == body["id"]
    st = video.describe()[1]
    assert st["camera"] == body["id"] and st["state"] in ("idle", "connecting")
    video.place_camera(2, walker["id"])  # a grid worker has no camera: refused
    assert video.cameras()[2] != walker["id"]


def test_at_a_replay_clock_a_unit_is_where_it_was_in_the_colour_of_not_known(ctx, hub, qtbot):
    from panels import theme
    from wallclient.replay import Past, past_indicators
    from wallclient.units import units_at

    panel = MapPanel(ctx, hub, 1.0, {})
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    panel.shown["cameras"] = panel.shown["incidents"] = panel.shown["heat"] = False
    lon0, lat0 = 121.2655, 31.3750
    lon1 = lon0 + 0.004
    panel.centre, panel.zoom = (lon0, lat0), 40.0
    panel._view_changed()
    ctx.state.apply("unit.upsert", {"id": "U1", "name": "巡逻车01", "kind": "patrol_car", "status": "enroute",
                                    "location": {"lon": lon0, "lat": lat0, "t": t(0)}})  # fmt: skip
    ctx.state.apply("unit.positions", {"t": t(60), "positions": [{"id": "U1", "lon": lon1, "lat": lat0}]})
    hub.poke("units")
    qtbot.waitUntil(lambda: near(panel, lon1, lat0, UNIT_COLOUR["enroute"]), timeout=3000)
    # the replay's clock at 30 s: where it was then (its first fix), its status then unknown
    then = datetime.fromtimestamp(1_796_000_000 + 30, CST)
    units, fixes = units_at(ctx.state.units, ctx.state.tracks, then.timestamp())
    ctx.past = Past(then, {}, past_indicators(ctx.state.indicators, {}), jumped=True, units=units, fixes=fixes)
    hub.poke("incidents", urgent=True)
    qtbot.waitUntil(lambda: near(panel, lon0, lat0, theme.STALE), timeout=3000)
    here = panel._projection()
    assert panel.unit_at(here(lon0, lat0)) == "U1" and panel.unit_at(here(lon1, lat0)) is None
    assert not near(panel, lon1, lat0, UNIT_COLOUR["enroute"])
    ctx.past = None  # live again: where it is now
    hub.poke("incidents")
    qtbot.waitUntil(lambda: near(panel, lon1, lat0, UNIT_COLOUR["enroute"]), timeout=3000)

"""One map: selecting an incident (feed, map) puts its nearest online cameras on the
linkage tiles; the map pans, zooms, switches layers and drills into a region; the
wall's scope narrows what every panel shows."""

from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt

from panels.incidents import IncidentsPanel
from panels.map import MapPanel
from panels.video import VideoPanel
from panels.wall import Wall
from wallclient import layout
from wallclient.geo import location, nearest_brute
from wallclient.protocol import format_time, now

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"


def _wall(qtbot, ctx, hub, **kw):
    lay = layout.load(LAYOUTS / "street-4k.json")  # video (linkage), feed and map on one screen
    wall = Wall(ctx, hub, lay, **kw)
    for w in wall.windows:
        qtbot.addWidget(w)
        w.resize(w.screen_.width, w.screen_.height)
        w.show()
    return wall


def _panel(wall, kind):
    return next(p for w in wall.windows for p in w.regions.values() if isinstance(p, kind))


def _online(ctx):
    return lambda c: ctx.state.cameras[c]["status"] == "online"


def test_selecting_an_incident_in_the_feed_puts_its_nearest_online_cameras_on_the_linkage_tiles(
    qtbot, ctx, hub
):
    wall = _wall(qtbot, ctx, hub)
    feed, video, map_ = (
        _panel(wall, IncidentsPanel),
        _panel(wall, VideoPanel),
        _panel(wall, MapPanel),
    )
    qtbot.waitUntil(lambda: feed.model.rowCount() > 0)
    inc = feed.model.rows[0]
    # the nearest camera goes offline first: the linkage must pass it over
    lon, lat = location(inc)
    nearest = nearest_brute(ctx.state.cameras, lon, lat, 1, _online(ctx))[0][1]
    ctx.state.apply("camera.status", {"id": nearest, "status": "offline"}, 101)
    want = [c for _, c in nearest_brute(ctx.state.cameras, lon, lat, 3, _online(ctx))]
    assert nearest not in want and len(want) == 3

    rect = feed.view.visualRect(feed.model.index(0))
    qtbot.mouseClick(feed.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert wall.linkage["incident"] == inc["id"]
    assert wall.linkage["cameras"] == want
    assert wall.linkage["distances_m"] == sorted(wall.linkage["distances_m"])
    # the first three tiles of the linkage region show them, marked as linked
    assert video.cameras()[:3] == want
    described = video.describe()
    assert [t["linked"] for t in described[:4]] == [True, True, True, False]
    # the map centres on the incident
    assert map_.centre == (lon, lat) and map_.zoom > 1
    # another incident replaces the linkage; clearing it gives the tiles back to the preset
    preset_cams = list(ctx.state.presets[ctx.state.wall["preset"]]["cameras"])
    wall.focus(None)
    assert wall.linkage["cameras"] == [] and video.cameras()[:3] == preset_cams[:3]


def test_a_camera_dragged_onto_a_linked_tile_wins_and_the_linkage_survives_a_mode_switch(
    qtbot, ctx, hub
):
    wall = _wall(qtbot, ctx, hub)
    video = _panel(wall, VideoPanel)
    inc = next(i for i in ctx.state.incidents.values() if location(i))
    linked = wall.focus(inc["id"])["cameras"]
    other = next(c for c in ctx.state.cameras if c not in linked)
    video.place_camera(1, other)
    assert video.cameras()[:3] == [linked[0], other, linked[2]]
    ctx.state.apply("wall.state", {"wall": "wall-1", "mode": "emergency", "preset": "P0002",
                                   "changed_by": "指挥长", "changed_at": format_time(now())}, 101)  # fmt: skip
    qtbot.waitUntil(lambda: _panel(wall, VideoPanel) is not video)
    # the emergency layout's linkage region (its big 2×2 tile first) takes the linkage over
    assert _panel(wall, VideoPanel).cameras()[:3] == linked


def test_a_new_priority1_incident_takes_the_linkage_tiles_when_configured(
    qtbot, ctx, hub, district
):
    wall = _wall(qtbot, ctx, hub, auto_linkage=True)
    video = _panel(wall, VideoPanel)
    inc = district.new_incident(now(), priority=1)
    ctx.state.apply("incident.upsert", inc, 101)
    qtbot.waitUntil(lambda: wall.linkage["incident"] == inc["id"])
    want = [c for _, c in nearest_brute(ctx.state.cameras, *location(inc), 3, _online(ctx))]
    assert video.cameras()[:3] == want
    # a priority-3 one does not
    ctx.state.apply("incident.upsert", district.new_incident(now(), priority=3), 102)
    qtbot.wait(300)
    assert wall.linkage["incident"] == inc["id"]


def test_the_map_focuses_an_incident_clicked_on_it_and_switches_layers(qtbot, ctx, hub):
    wall = _wall(qtbot, ctx, hub)
    map_ = _panel(wall, MapPanel)
    qtbot.waitUntil(lambda: bool(map_.paint_ms))
    iid = max(map_._marks, key=lambda i: map_._marks[i][0] == 1)
    prio, lon, lat, _ = map_._marks[iid]
    at = map_._projection()(lon, lat)
    under = map_.incident_at(at)
    assert under is not None and map_._marks[under][0] == 1  # priority 1 is picked first
    qtbot.mouseClick(map_, Qt.MouseButton.LeftButton, pos=at.toPoint())
    assert wall.linkage["incident"] == under and ctx.focused == under
    assert map_.centre == map_._marks[under][1:3]  # and the map centres on it
    # the legend switches the cameras layer off and on
    rect, lid = map_._legend[0]
    assert lid == "cameras"
    qtbot.mouseClick(map_, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert map_.shown["cameras"] is False
    qtbot.mouseClick(map_, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert map_.shown["cameras"] is True
    # each backend layer is listed and switchable
    assert {lid for _, lid in map_._legend} >= set(ctx.state.layers)


def test_map_pans_and_zooms_by_keys_wheel_and_drag_and_home_fits(qtbot, ctx, hub):
    wall = _wall(qtbot, ctx, hub)
    map_ = _panel(wall, MapPanel)
    map_.setFocus()
    qtbot.keyClick(map_, Qt.Key.Key_Plus)
    assert map_.zoom > 1
    centre = map_._view()[:2]
    qtbot.keyClick(map_, Qt.Key.Key_Right)
    assert map_._view()[0] > centre[0]  # the map moved to show what is east
    before = map_._view()
    mid = QPoint(map_.width() // 2, map_.height() // 2)
    qtbot.mousePress(map_, Qt.MouseButton.LeftButton, pos=mid)
    qtbot.mouseMove(map_, mid + QPoint(120, 0))
    qtbot.mouseRelease(map_, Qt.MouseButton.LeftButton, pos=mid + QPoint(120, 0))
    assert map_._view()[0] < before[0]  # dragged right: west comes into view
    # zooming at a point keeps that point where it is
    at = QPointF(map_.width() * 0.25, map_.height() * 0.25)
    ll = map_.to_lonlat(at)
    map_.zoom_by(2.0, at)
    back = map_._projection()(*ll)
    assert abs(back.x() - at.x()) < 0.5 and abs(back.y() - at.y()) < 0.5
    # finer regions as it zooms in: one level per 4×
    assert map_.level == "village" and map_.level_shown() == "village"
    map_.zoom_by(4.0 / map_.zoom)
    assert map_.level_shown() == "grid"
    qtbot.keyClick(map_, Qt.Key.Key_Home)
    assert map_.zoom == 1.0 and map_.centre is None


def test_drilling_into_a_region_narrows_the_feed_and_map_then_returns(qtbot, ctx, hub):
    wall = _wall(qtbot, ctx, hub, drill_s=1.5)
    feed, map_ = _panel(wall, IncidentsPanel), _panel(wall, MapPanel)
    qtbot.waitUntil(lambda: bool(map_.paint_ms) and feed.model.rowCount() > 0)
    everything = len(feed.model._placed)
    # double-click inside a region of the level the map shows
    code = next(c for c, r in ctx.state.regions.items() if r["level"] == map_.level_shown()
                and any(i.get("region", "").startswith(c) for i in ctx.state.incidents.values()))  # fmt: skip
    ring = ctx.state.regions[code]["geometry"]["coordinates"][0]
    lon = sum(p[0] for p in ring[:4]) / 4
    lat = sum(p[1] for p in ring[:4]) / 4
    at = map_._projection()(lon, lat).toPoint()
    qtbot.mouseDClick(map_, Qt.MouseButton.LeftButton, pos=at)
    assert ctx.area_code() == code
    # the paint right after it shows the ground at once and draws no layer itself (the
    # region's view may be at another latitude, where the last picture cannot be moved:
    # drawing every layer inside that paint stalled a 77,000-camera wall); the pump does
    map_.repaint()
    assert not map_.settled()
    qtbot.waitUntil(lambda: map_.showing() and map_.settled(), timeout=3000)
    qtbot.waitUntil(lambda: 0 < len(feed.model._placed) < everything)
    assert all(ctx.area().covers(r["region"]) for r in feed.model.rows)
    # the map fits the region drilled into
    box = map_._home_box()
    assert map_.zoom == 1.0 and box == (min(p[0] for p in ring), min(p[1] for p in ring),
                                        max(p[0] for p in ring), max(p[1] for p in ring))  # fmt: skip
    # it ends by itself after drill_s
    qtbot.waitUntil(lambda: ctx.drill is None, timeout=4000)
    qtbot.waitUntil(lambda: len(feed.model._placed) == everything)
    # Esc on the map ends one early
    wall.drill_into(code)
    map_.setFocus()
    qtbot.keyClick(map_, Qt.Key.Key_Escape)
    assert ctx.drill is None


def test_a_street_scope_narrows_feed_linkage_and_map(qtbot, ctx, hub):
    street = next(c for c, r in ctx.state.regions.items() if r["level"] == "street")
    ctx.scope_code = street
    wall = _wall(qtbot, ctx, hub)
    feed = _panel(wall, IncidentsPanel)
    qtbot.waitUntil(lambda: feed.model.rowCount() > 0)
    assert all(ctx.scope().covers(r["region"]) for r in feed.model.rows)
    inside = [c for c in ctx.state.cameras.values() if ctx.scope().covers(c["region"])]
    # the locator re-indexes a slice per tick (hub._background): there once it is through
    qtbot.waitUntil(lambda: len(ctx.locator.grid) == len(inside), timeout=5000)
    assert len(inside) < len(ctx.state.cameras)
    # an incident at the street's edge links only to the street's cameras
    inc = next(i for i in ctx.state.incidents.values() if ctx.scope().covers(i["region"]))
    got = wall.focus(inc["id"])["cameras"]
    assert got and all(ctx.scope().covers(ctx.state.cameras[c]["region"]) for c in got)


def test_a_snapshots_cameras_reach_the_map_over_the_hubs_ticks(qtbot, ctx, hub, district):
    """A snapshot of 77,000 cameras took 200–300 ms to index inside one map paint. The
    map now draws the index it has and the hub re-indexes a few ms per tick: the map
    shows the new catalogue a few ticks later, and a query never waits for it."""
    import json

    wall = _wall(qtbot, ctx, hub)
    map_ = _panel(wall, MapPanel)
    qtbot.waitUntil(lambda: bool(map_.paint_ms) and not ctx.locator.indexing)
    before = len(ctx.locator.shown)
    assert before == len(ctx.state.cameras)
    tables = json.loads(json.dumps(district.tables()))
    extra = [
        {**tables["cameras"][0], "id": f"3101140000132{n:07d}"} for n in range(900_000, 902_000)
    ]
    tables["cameras"] += extra  # two thousand more cameras, in the snapshot
    ctx.state.load(tables, ctx.state.wall, 200)
    assert ctx.locator.indexing and len(ctx.locator.shown) == before  # not in this paint
    qtbot.waitUntil(lambda: not ctx.locator.indexing)  # the hub's ticks got there
    assert len(ctx.locator.shown) == before + 2000
    version = ctx.locator.shown.version
    cams = lambda: map_._pics.get("cameras")  # noqa: E731  (the pump makes the layer after the first paint)
    # (a layer being drawn has no key yet)
    qtbot.waitUntil(lambda: (c := cams()) is not None and c.key is not None
                    and c.key[1] == version and map_.settled())  # on the map  # fmt: skip


def test_a_snapshot_with_the_same_regions_keeps_the_region_layer_and_redraws_markers_in_slices(
    qtbot, ctx, hub, district
):
    """A backend restart sends everything again, regions unchanged: the map used to redraw
    its region layer and every marker layer inside one paint. It keeps the region layer
    and redraws the markers a slice per tick; a region that really changes is redrawn."""
    import json

    from wallclient.app import pace_collector

    wall = _wall(qtbot, ctx, hub)
    map_ = _panel(wall, MapPanel)
    qtbot.waitUntil(lambda: bool(map_.paint_ms) and map_.settled())
    base = map_._pics["regions"].key
    map_.work_ms.clear()
    tables = json.loads(json.dumps(district.tables()))  # the same district, resent
    fresh = district.new_incident(now(), priority=1)
    tables["incidents"].append(fresh)
    # the collector's older passes as the wall runs them, at the start of a turn: left to
    # CPython, a full pass over this test process's heap (whatever earlier tests left)
    # landed inside a slice once (164 ms) — a cost the wall does not have
    pace_collector(hub)
    try:
        ctx.state.load(tables, ctx.state.wall, 300)
        qtbot.waitUntil(lambda: fresh["id"] in map_._marks)
        qtbot.waitUntil(lambda: not map_._stale and map_.settled())  # every layer redrawn
    finally:
        hub.pacer.collector.uninstall()
        hub.pacer.collector = None
    assert map_._pics["regions"].key == base  # the regions were not drawn again
    # a few ms a turn of the event loop (the markers read afresh, ~15 ms, in one), not all at once
    assert max(map_.work_ms) < 40, map_.work_ms
    code, region = next((c, r) for c, r in ctx.state.regions.items() if r.get("geometry"))
    ctx.state.apply("region.upsert", {**region, "name": region["name"] + "（新）"}, 301)
    qtbot.waitUntil(lambda: map_._pics["regions"].key != base)  # a changed region is drawn


def test_the_heat_of_the_last_hours_warms_where_incidents_were_and_toggles(qtbot, ctx, hub):
    from datetime import datetime

    from wallclient.protocol import CST

    panel = MapPanel(ctx, hub, 1.0, {})
    qtbot.addWidget(panel)
    panel.resize(960, 540)
    panel.show()
    panel.shown["cameras"] = panel.shown["incidents"] = False  # the heat alone
    # a cluster of recent incidents at one spot, and one of yesterday elsewhere
    spot = next(location(i) for i in ctx.state.incidents.values() if location(i))
    t = now().timestamp()
    for n in range(6):
        ctx.state.incidents[f"HEAT{n}"] = {"id": f"HEAT{n}", "status": "closed", "priority": 3,
                                          "reported_at": format_time(datetime.fromtimestamp(t - 600, CST)),
                                          "location": {"lon": spot[0], "lat": spot[1]}, "region": None}  # fmt: skip
    hub.poke("incidents")
    qtbot.waitUntil(lambda: panel._incidents_version > 0, timeout=2000)
    qtbot.waitUntil(lambda: panel.heat.count >= 6 and panel.settled(), timeout=3000)  # ≤ 1 s
    lit = panel.grab().toImage()
    at = panel._projection()(*spot)
    warm = lit.pixelColor(int(at.x()), int(at.y()))
    assert panel.describe_map()["heat"]["incidents"] >= 6
    panel.toggle("heat")
    panel.settle()
    dark = panel.grab().toImage().pixelColor(int(at.x()), int(at.y()))
    assert warm.red() > dark.red() + 60 and warm.red() > warm.blue(), (warm.name(), dark.name())
    assert panel.describe_map()["heat"]["shown"] is False


def test_the_heat_is_made_beside_the_gui_thread_which_keeps_turning_meanwhile(qtbot, ctx, hub, monkeypatch):
    # on a loaded wall PC a heat picture took 50–150 ms, all of it the GUI thread's: every
    # screen stood still meanwhile. Here making one takes 400 ms (a slow machine).
    import time as _time

    from PySide6.QtCore import QTimer

    from panels.map import heat

    made = heat.density
    monkeypatch.setattr(heat, "density", lambda *a: (_time.sleep(0.4), made(*a))[1])
    panel = MapPanel(ctx, hub, 1.0, {})
    qtbot.addWidget(panel)
    panel.resize(960, 540)
    panel.show()
    qtbot.waitUntil(lambda: panel.heat.image is not None and panel.settled(), timeout=5000)
    gaps, last = [], [_time.monotonic()]

    def beat():
        t = _time.monotonic()
        gaps.append(t - last[0])
        last[0] = t

    timer = QTimer()
    timer.timeout.connect(beat)
    timer.start(10)
    before = panel._heat_version
    panel._heat_due, panel._heat_at = True, 0.0  # new incidents: the heat is remade
    hub.poke("incidents")
    qtbot.waitUntil(lambda: panel._heat_version > before, timeout=3000)
    qtbot.waitUntil(lambda: panel.settled(), timeout=5000)
    timer.stop()
    assert panel.heat.made_ms >= 400
    assert max(gaps) < 0.2, f"the GUI thread stood still {max(gaps) * 1000:.0f} ms"


def test_region_names_are_large_enough_for_the_room_and_never_overlap(qtbot, ctx, hub):
    from panels.map import LABEL_PX

    panel = MapPanel(ctx, hub, 1.0, {})
    qtbot.addWidget(panel)
    panel.resize(1280, 720)
    panel.show()
    assert LABEL_PX >= 26  # docs/legibility.md: secondary text, 2.5 m
    # two regions of the shown level whose names would fall on one spot: a sliver along
    # the top of a square, both centred alike — one name is put, not both over each other
    street = next(r for r in ctx.state.regions.values() if r.get("level") == "street")
    lon, lat = street["geometry"]["coordinates"][0][0]
    square = [[lon, lat], [lon + 0.06, lat], [lon + 0.06, lat + 0.06], [lon, lat + 0.06], [lon, lat]]
    for code, name in (("310114991", "甲乙丙丁戊己庚"), ("310114992", "子丑寅卯辰巳午")):
        ctx.state.regions[code] = {"code": code, "name": name, "level": "street", "parent": "310114",
                                   "geometry": {"type": "Polygon", "coordinates": [square]}}  # fmt: skip
    for zoom in (1.0, 2.5, 4.0, 9.0):
        panel.zoom = zoom
        panel._view_changed()
        panel.settle()
        rects = list(panel.labels)
        assert rects, zoom  # names where they fit
        for i, a in enumerate(rects):
            assert all(not a.intersects(b) for b in rects[i + 1 :]), zoom


def test_a_view_change_moves_the_last_picture_at_once_and_draws_the_new_one_behind_it(qtbot, ctx, hub):
    """A pan repaints at once with the last picture moved (no layer drawn in that paint);
    the layers are then drawn for the new view a few ms per turn of the event loop, and
    the markers end where the new view puts them."""
    from panels import theme

    panel = MapPanel(ctx, hub, 1.0, {})
    qtbot.addWidget(panel)
    panel.resize(960, 540)
    panel.show()
    panel.shown["heat"] = False
    panel.settle()
    red = theme.PRIORITY_COLOUR[1].name()
    marks = [m for m in panel._marks.values() if m[0] == 1]
    assert marks
    xy = panel._projection()

    def red_at(img, x, y) -> bool:
        return any(img.pixelColor(int(x) + dx, int(y) + dy).name() == red for dx in (-1, 0, 1) for dy in (-1, 0, 1))

    before = panel.grab().toImage()
    spots = [xy(lon, lat) for _, lon, lat, _ in marks]
    spots = [p for p in spots if 120 < p.x() < 840 and 60 < p.y() < 480 and red_at(before, p.x(), p.y())]
    assert spots, "a priority-1 marker in view"
    panel.work_ms.clear()
    panel.pan_by(100, 40)
    moved = panel.grab().toImage()  # the paint right after the pan
    assert not panel.showing() and not panel.work_ms  # nothing drawn for it yet …
    assert all(red_at(moved, p.x() + 100, p.y() + 40) for p in spots)  # … the picture moved
    qtbot.waitUntil(panel.settled, timeout=5000)
    assert panel.showing() and max(panel.work_ms) < 40  # drawn behind it, in slices
    after = panel.grab().toImage()
    xy = panel._projection()
    assert all(red_at(after, xy(lon, lat).x(), xy(lon, lat).y())
               for _, lon, lat, _ in marks if 0 < xy(lon, lat).x() < 960 and 0 < xy(lon, lat).y() < 540)  # fmt: skip


def test_the_maps_pump_may_draw_before_its_first_paint(qtbot, ctx, hub):
    """The pump draws a slice a turn from the moment the panel has a size, painted or not
    (a snapshot arriving before the screen's first paint): every layer gets there, none of
    its slices fails on a layer not begun yet."""
    panel = MapPanel(ctx, hub, 1.0, {})
    qtbot.addWidget(panel)
    panel.resize(1280, 720)
    for _ in range(10_000):
        if panel._work(0.0):  # one slice a call, as the busiest turn would allow
            break
    assert panel.settled() and panel.showing()

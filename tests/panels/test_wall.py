"""The wall shell: windows per screen, emergency on every screen at once, missing screens."""

from datetime import datetime
from pathlib import Path

from PySide6.QtGui import QGuiApplication

from panels.incidents import IncidentModel, IncidentsPanel
from panels.indicators import IndicatorsPanel
from panels.wall import Wall
from wallclient import indicators as rules
from wallclient import layout
from wallclient.protocol import CST, epoch, format_time, now
from wallclient.replay import Past, past_indicators

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"


def test_emergency_switches_every_screen_in_the_same_tick(qtbot, ctx, hub):
    lay = layout.load(LAYOUTS / "street-4k.json")  # one screen, different in each mode
    wall = Wall(ctx, hub, lay)
    for w in wall.windows:
        qtbot.addWidget(w)
    before = {w.screen_.name: [r["panel"] for r in w.describe()["regions"]] for w in wall.windows}
    ctx.state.apply("wall.state", {"wall": "wall-1", "mode": "emergency", "preset": "P0002",
                                   "changed_by": "指挥长", "changed_at": format_time(now())}, 101)  # fmt: skip
    qtbot.waitUntil(lambda: any(w.mode == "emergency" for w in wall.windows))
    assert {w.mode for w in wall.windows} == {"emergency"}  # all of them, together
    after = {w.screen_.name: [r["panel"] for r in w.describe()["regions"]] for w in wall.windows}
    assert after != before
    for w in wall.windows:
        assert [r.id for r in lay.regions("emergency", w.screen_.name)] == list(w.regions)
    # the replaced panels are gone for good: ticks after the switch reach no dead widget
    # (pytest-qt fails the test on an exception raised in a slot)
    qtbot.wait(400)


def test_layout_screens_that_are_not_connected_are_named_and_the_rest_run(qtbot, ctx, hub):
    connected = len(QGuiApplication.screens())
    lay = layout.load(LAYOUTS / "district-3x2.json")
    wall = Wall(ctx, hub, lay)
    for w in wall.windows:
        qtbot.addWidget(w)
    # the test platform's screens are not named like the layout's: matched by index
    assert len(wall.windows) == min(connected, 6)
    assert len(wall.missing) == 6 - len(wall.windows)


def test_clicking_an_indicator_opens_its_24h_chart_and_esc_closes_it(qtbot, ctx, hub):
    from PySide6.QtCore import Qt

    from panels.indicators import IndicatorsPanel

    asked: list[str] = []
    t0 = now().timestamp() - 3600

    def history(iid: str) -> list[tuple[float, float | None]]:
        asked.append(iid)
        return [(t0 + 60 * i, float(i % 7)) for i in range(60)]

    lay = layout.load(LAYOUTS / "street-4k.json")
    wall = Wall(ctx, hub, lay, history=history)
    for w in wall.windows:
        qtbot.addWidget(w)
        w.resize(w.screen_.width, w.screen_.height)
        w.show()
    window, panel = next(
        (w, p) for w in wall.windows for p in w.regions.values() if isinstance(p, IndicatorsPanel)
    )
    qtbot.waitUntil(lambda: bool(panel._tiles))
    rect, iid = panel._tiles[0]
    qtbot.mouseClick(panel, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    qtbot.waitUntil(lambda: window.chart is not None and window.chart.isVisible())
    assert asked == [iid]  # the chart read that indicator's stored history
    xs, ys = window.chart.panel.curve.getData()
    assert len(xs) == 60
    line = window.chart.panel.clock_line
    assert not line.isVisible()  # live: no replay clock on it
    # during an incident replay the chart marks the moment the tiles show
    then = datetime.fromtimestamp(t0 + 1800, CST)
    ctx.past = Past(then, {}, past_indicators(ctx.state.indicators, {}), jumped=True)
    hub.poke("indicators")
    qtbot.waitUntil(lambda: line.isVisible() and line.value() == then.timestamp())
    assert line.label.format == f"Replay {then:%H:%M:%S}"  # (untranslated in these tests)
    # the hours are China's, as on every clock of the wall, whatever the machine's zone
    axis = window.chart.panel.plot.getAxis("bottom")
    qtbot.waitUntil(lambda: hasattr(axis, "zoomLevel"))  # drawn once: its ticks chosen
    days = [v for spacing, values in axis.tickValues(t0 - 86400, t0 + 86400, 1200)
            if spacing == 86400 for v in values]  # fmt: skip
    assert days and all(datetime.fromtimestamp(v, CST).hour == 0 for v in days)  # China's midnight
    ctx.past = None
    hub.poke("indicators")
    qtbot.waitUntil(lambda: not line.isVisible())
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.chart is None


def test_camera_search_result_dropped_on_a_tile_overrides_it_until_the_next_preset(qtbot, ctx, hub):
    from PySide6.QtCore import QMimeData, QPointF, Qt
    from PySide6.QtGui import QDropEvent

    from panels.search import MIME
    from panels.video import VideoPanel

    lay = layout.load(LAYOUTS / "street-4k.json")
    wall = Wall(ctx, hub, lay)
    window = wall.windows[0]
    qtbot.addWidget(window)
    window.resize(1920, 1080)
    window.show()
    search = window.open_search()
    cam_id, cam = next(iter(ctx.state.cameras.items()))
    qtbot.keyClicks(search.box, cam_id[-8:])  # typed (QTest types ASCII: the id)
    qtbot.waitUntil(lambda: search.results.count() > 0)  # results once typing pauses
    item = search.results.item(0)
    assert search.results.mimeData([item]).data(MIME).data().decode() in ctx.state.cameras
    grid = next(p for p in window.regions.values() if isinstance(p, VideoPanel))
    data = QMimeData()
    data.setData(MIME, cam_id.encode())
    centre = grid.rects()[1].center()
    drop = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, data,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    grid.dropEvent(drop)
    assert grid.cameras()[1] == cam_id  # a local override on that tile
    ctx.state.apply(
        "wall.state", {**ctx.state.wall, "preset": "P0003", "changed_at": format_time(now())}, 101
    )
    qtbot.waitUntil(lambda: grid.cameras()[1] != cam_id or not grid.overrides)
    assert not grid.overrides  # the next preset ends it


def test_an_unplugged_screen_is_said_missing_and_its_window_keeps_running(qtbot, ctx, hub):
    lay = layout.load(LAYOUTS / "street-4k.json")
    wall = Wall(ctx, hub, lay)
    for w in wall.windows:
        qtbot.addWidget(w)
    window = wall.windows[0]
    assert window.describe()["qscreen"] is not None and wall.missing == []
    QGuiApplication.instance().screenRemoved.emit(window.qscreen)  # as Qt says an unplug
    assert window.describe()["qscreen"] is None
    assert wall.missing == [window.screen_.name]
    ctx.state.apply("wall.state", {"wall": "wall-1", "mode": "emergency", "preset": "P0002",
                                   "changed_by": "指挥长", "changed_at": format_time(now())}, 101)  # fmt: skip
    qtbot.waitUntil(lambda: window.mode == "emergency")  # the window still follows the wall


def test_trend_charts_are_kept_across_a_mode_switch_and_count_what_came_meanwhile(
    qtbot, ctx, hub, district
):
    from panels.trend import TrendPanel

    lay = layout.load(LAYOUTS / "district-3x2.json")  # wall-5: trends in normal mode only
    wall = Wall(ctx, hub, lay, only=["wall-5"])  # this PC drives wall-5 (the test's screen)
    window = wall.windows[0]
    qtbot.addWidget(window)
    assert window.screen_.name == "wall-5" and window.mode == "normal"
    trends = [w for w in window.regions.values() if isinstance(w, TrendPanel)]
    assert len(trends) == 2
    by_source = next(t for t in trends if t.kind == "incidents_by_source")
    window.set_mode("emergency")
    assert not any(isinstance(w, TrendPanel) for w in window.regions.values())
    inc = district.new_incident(now(), priority=2)
    # counted in the clock hour it was reported in (up to ten minutes ago: not always now's)
    reported = epoch(inc["reported_at"])
    before = by_source._hours.series(inc["source"], reported, 12)[-1]
    ctx.state.apply("incident.upsert", inc, 101)  # arrives while the chart is not shown
    qtbot.waitUntil(lambda: by_source._hours.series(inc["source"], reported, 12)[-1] == before + 1)
    window.set_mode("normal")
    back = [w for w in window.regions.values() if isinstance(w, TrendPanel)]
    assert sorted(map(id, back)) == sorted(map(id, trends))  # the same charts, not rebuilt
    assert all(t.parent() is window.content for t in back)  # back on the screen


def test_what_both_modes_share_stays_on_screen_through_a_switch(qtbot, ctx, hub):
    """district-3x2: wall-1's video grid and wall-6's status are in both modes, wall-2's
    map only changes level. A switch must not rebuild them (the grid would go dark and
    start its players again); what the new mode does not share is rebuilt."""
    lay = layout.load(LAYOUTS / "district-3x2.json")
    walls = [Wall(ctx, hub, lay, only=[name]) for name in ("wall-1", "wall-2", "wall-6")]
    by = {wall.windows[0].screen_.name: wall.windows[0] for wall in walls}  # one test screen
    for w in by.values():
        qtbot.addWidget(w)
    grid, themap = by["wall-1"].regions["preset-a"], by["wall-2"].regions["map"]
    status = by["wall-6"].regions["status"]
    assert isinstance(by["wall-6"].regions["urgent"], IncidentsPanel)
    assert themap.level == "street"
    grid.maximise(4)  # a duty officer's close look at one tile
    themap.zoom_by(4)  # and at one street
    emergency = next(p for p in ctx.state.presets.values() if p.get("emergency"))
    ctx.state.apply("wall.state", {"wall": "wall-1", "mode": "emergency", "preset": emergency["id"],
                                   "changed_by": "指挥长", "changed_at": format_time(now())}, 101)  # fmt: skip
    qtbot.waitUntil(lambda: all(w.mode == "emergency" for w in by.values()))
    assert by["wall-1"].regions["preset-a"] is grid
    assert grid.parent() is by["wall-1"].content and not grid.isHidden()  # never off the screen
    assert grid.maximised is None  # the emergency wall as its layout draws it
    qtbot.waitUntil(lambda: grid.cameras()[0] == emergency["cameras"][0])
    assert by["wall-2"].regions["map"] is themap and not themap.isHidden()
    assert (themap.level, themap.zoom, themap.centre) == ("area", 1.0, None)  # the whole scope
    assert by["wall-6"].regions["status"] is status
    assert "urgent" not in by["wall-6"].regions  # not in emergency: gone
    ctx.state.apply("wall.state", {"wall": "wall-1", "mode": "normal", "preset": "P0001",
                                   "changed_by": "指挥长", "changed_at": format_time(now())}, 102)  # fmt: skip
    qtbot.waitUntil(lambda: all(w.mode == "normal" for w in by.values()))
    assert by["wall-2"].regions["map"] is themap and themap.level == "street"
    assert by["wall-1"].regions["preset-a"] is grid
    assert isinstance(by["wall-6"].regions["urgent"], IncidentsPanel)  # rebuilt for normal


def test_an_incident_list_is_kept_through_a_switch_and_catches_up_without_a_second_alert(
    qtbot, ctx, hub, district
):
    """wall-5's feed (with the alert) is in normal mode only. Built again after each
    emergency it cost 10–60 ms of the switch (it sorts every live incident); kept, it
    must come back showing what changed meanwhile, in order, and not sound again for a
    priority-1 incident that came while the emergency wall was on."""
    alerts: list[str] = []
    ctx.alert = alerts.append
    lay = layout.load(LAYOUTS / "district-3x2.json")
    window = Wall(ctx, hub, lay, only=["wall-5"]).windows[0]
    qtbot.addWidget(window)
    feed = window.regions["feed"]
    assert isinstance(feed, IncidentsPanel) and feed.options.get("alert")
    window.set_mode("emergency")
    assert "feed" not in window.regions
    meanwhile = district.new_incident(now(), priority=1)
    meanwhile["reported_at"] = format_time(now())
    gone = feed.model.rows[0]["id"]  # the top of the list, closed meanwhile (it sinks)
    ticks = hub.ticks
    ctx.state.apply("incident.upsert", meanwhile, 101)
    ctx.state.apply("incident.upsert", {**ctx.state.incidents[gone], "status": "closed"}, 102)
    qtbot.waitUntil(lambda: hub.ticks >= ticks + 3)  # its ticks have passed
    # put in order while away, a few hundred a tick: the return has little left to do
    assert feed._held == set()
    assert alerts == []  # stowed: nothing sounds from the list not on the screen
    window.set_mode("normal")
    assert window.regions["feed"] is feed  # the same list, not rebuilt
    shown = [r["id"] for r in feed.model.rows]
    assert shown == [r["id"] for r in IncidentModel(ctx, feed.options).rows]  # as a fresh one
    assert meanwhile["id"] in shown and shown[0] != gone
    after = district.new_incident(now(), priority=1)
    after["reported_at"] = format_time(now())
    ctx.state.apply("incident.upsert", after, 103)
    qtbot.waitUntil(lambda: alerts != [])
    assert alerts == [after["id"]]  # the new one sounds; the one that came meanwhile does not


def test_indicator_tiles_are_kept_through_a_switch_and_show_the_readings_that_came_meanwhile(
    qtbot, ctx, hub, district
):
    """wall-4's 349 tiles are in normal mode only. Built again after each emergency, their
    first paint drew every tile's static layer (40–55 ms of the switch back). Kept, the
    panel does nothing while away and comes back with the current readings."""
    lay = layout.load(LAYOUTS / "district-3x2.json")
    wall = Wall(ctx, hub, lay, only=["wall-4"])
    window = wall.windows[0]
    qtbot.addWidget(window)
    wall.show(fullscreen=False)
    vitals = window.regions["vitals"]
    assert isinstance(vitals, IndicatorsPanel)
    qtbot.waitUntil(lambda: len(vitals._tile_cache) == 349)  # every tile painted once
    window.set_mode("emergency")
    assert "vitals" not in window.regions and vitals.stowed
    paints = vitals.paints
    kind, batch = district.indicator_batch(now())
    ctx.state.apply(kind, batch, 101)  # new readings while the emergency wall is on
    changed = [  # tiles whose value now reads differently from what they were drawn with
        v["id"] for v in batch["values"]
        if vitals._tile_cache[v["id"]][0][4] != rules.format_value(ctx.state.indicators[v["id"]])
    ]  # fmt: skip
    assert len(changed) > 100
    ticks = hub.ticks
    qtbot.waitUntil(lambda: hub.ticks >= ticks + 3)  # the readings' ticks have passed
    assert vitals.paints == paints  # away: no painting at all
    window.set_mode("normal")
    assert window.regions["vitals"] is vitals and vitals.parent() is window.content
    qtbot.waitUntil(lambda: vitals.paints > paints)
    # what each tile now shows (a block a tick: a paint never draws them all at once)
    qtbot.waitUntil(lambda: all(
        vitals._tile_cache[iid][0][4] == rules.format_value(ctx.state.indicators[iid]) for iid in changed))

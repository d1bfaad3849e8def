"""Each panel against real state, in a real (offscreen) Qt event loop."""

import time
from datetime import timedelta

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication

from panels import theme
from panels.banner import BannerPanel
from panels.incidents import COUNTDOWN_W, IncidentsPanel
from panels.indicators import IndicatorsPanel
from panels.video import VideoPanel, tile_rects
from wallclient.protocol import format_time, now


def test_all_349_indicators_fit_one_1080p_screen(qtbot, ctx, hub):
    panel = IndicatorsPanel(ctx, hub, 1.0)
    qtbot.addWidget(panel)
    panel.resize(1920, 1016)  # a 1080p screen below the banner
    panel.show()
    qtbot.waitUntil(lambda: len(panel._tiles) == 349)
    for rect, _ in panel._tiles:
        assert rect.bottom() <= 1016 and rect.right() <= 1920
        assert rect.height() >= 40  # tall enough for a value a duty officer can read


def test_indicator_updates_are_coalesced_into_few_repaints(qtbot, ctx, hub, district):
    panel = IndicatorsPanel(ctx, hub, 1.0)
    qtbot.addWidget(panel)
    panel.resize(1920, 1016)
    panel.show()
    qtbot.waitUntil(lambda: panel.paints > 0)
    before = panel.paints
    at = now()
    for _ in range(200):  # 200 batches of 349 readings, as fast as they can come
        ctx.state.apply(*district.indicator_batch(at))
    qtbot.wait(300)
    repaints = panel.paints - before
    assert 0 < repaints <= 8, repaints  # a few ticks' worth, not one per message


def test_when_the_backend_goes_every_tile_turns_stale_over_a_few_ticks_not_in_one_paint(qtbot, ctx, hub):
    # all 349 tiles' pictures change at once when the connection drops: drawn in one
    # paint that was 0.5–2 s of a loaded wall PC, every screen frozen meanwhile
    panel = IndicatorsPanel(ctx, hub, 1.0)
    qtbot.addWidget(panel)
    panel.resize(1920, 1016)
    panel.show()
    qtbot.waitUntil(lambda: len(panel._tile_cache) == 349 and not panel._pending)
    drawn: list[int] = []  # tiles drawn by each paint itself
    render, paint = panel._render, panel.paintEvent

    def counted_paint(event):
        before = len(rendered)
        paint(event)
        drawn.append(len(rendered) - before)

    rendered: list[str] = []
    panel._render = lambda ind, look, lines=None: (rendered.append(ind["id"]), render(ind, look, lines))[1]
    panel.paintEvent = counted_paint
    ctx.status_dict["connection"]["state"] = "offline"
    panel.repaint()  # the whole panel at once (an expose, a relayout)
    assert drawn and drawn[0] < 349, drawn
    stale = lambda: all(look[1] for look, _ in panel._tile_cache.values())  # noqa: E731
    qtbot.waitUntil(stale, timeout=5000)  # every tile says its reading is old
    assert len(set(rendered)) == 349  # the late ones drawn in the ticks that followed
    grabbed = panel.grab()  # and a picture taken at once is whole
    assert not grabbed.isNull()


def test_incidents_are_sorted_by_priority_then_deadline_and_filtered(qtbot, ctx, hub):
    panel = IncidentsPanel(ctx, hub, 1.0, {"priorities": [1, 2]})
    qtbot.addWidget(panel)
    rows = panel.model.rows
    assert rows and all(r["priority"] in (1, 2) for r in rows)
    prios = [r["priority"] for r in rows if r["status"] != "closed"]
    assert prios == sorted(prios)


def test_overdue_incident_is_counted_and_new_ones_appear_on_the_next_tick(
    qtbot, ctx, hub, district
):
    panel = IncidentsPanel(ctx, hub, 1.0)
    qtbot.addWidget(panel)
    inc = district.new_incident(now(), priority=1)
    inc["deadlines"] = {"arrive": format_time(now() - timedelta(minutes=3))}
    ctx.state.apply("incident.upsert", inc, 101)
    qtbot.waitUntil(lambda: inc["id"] in {r["id"] for r in panel.model.rows})
    ids = [r["id"] for r in panel.model.rows]
    first_p2 = next(i for i, r in enumerate(panel.model.rows) if r["priority"] > 1)
    assert ids.index(inc["id"]) < first_p2  # priority 1 and overdue: in the top block
    qtbot.waitUntil(lambda: panel.model.counters()["overdue"] >= 1)


def test_acknowledge_follows_the_role(qtbot, ctx, hub):
    panel = IncidentsPanel(ctx, hub, 1.0)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    first = panel.model.index(0)
    rect = panel.view.visualRect(first)
    # a view emits doubleClicked only after a press on the same row, as a real double-click does
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert ctx.acks == [panel.model.rows[0]["id"]]  # a viewer may acknowledge
    ctx.status_dict["role"] = None  # not signed in: nothing is sent
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(ctx.acks) == 1


def test_banner_turns_red_in_emergency_and_says_offline(qtbot, ctx, hub):
    banner = BannerPanel(ctx, hub, 1.0, "wall-1")
    qtbot.addWidget(banner)
    banner.resize(1920, 64)
    banner.show()
    image = banner.grab().toImage()
    assert image.pixelColor(QPoint(900, 5)) == theme.PANEL
    ctx.state.apply("wall.state", {"wall": "wall-1", "mode": "emergency", "preset": "P0002",
                                   "changed_by": "指挥长", "changed_at": format_time(now())}, 101)  # fmt: skip
    qtbot.waitUntil(lambda: banner.grab().toImage().pixelColor(QPoint(900, 5)) == theme.EMERGENCY)


def test_video_grid_puts_the_presets_cameras_in_order(qtbot, ctx, hub):
    panel = VideoPanel(ctx, hub, 1.0, {"rows": 3, "cols": 3, "spans": [[0, 0, 2, 2]]})
    qtbot.addWidget(panel)
    assert len(tile_rects(3, 3, [[0, 0, 2, 2]], 900, 900)) == 6
    preset = ctx.state.presets[ctx.state.wall["preset"]]
    shown = [c for c in panel.cameras() if c]
    assert shown == preset["cameras"][: len(shown)]


def test_incremental_feed_order_equals_a_full_sort(qtbot, ctx, hub, district):
    import random

    from panels.incidents import IncidentModel
    from wallclient import incidents as rules

    model = IncidentModel(ctx, {"priorities": [1, 2, 3]})
    rng = random.Random(3)
    seq = 200
    for _ in range(40):
        changed = set()
        for _ in range(rng.randrange(1, 30)):
            seq += 1
            for type_, data in district.incident_event(now()):
                ctx.state.apply(type_, data, seq)
                changed.add(data["id"])
        model.refresh(changed)
        expected = sorted(
            rules.sort_key(i)
            for i in ctx.state.incidents.values()
            if rules.matches(i, model.options)
        )
        assert model._order == expected
        assert [r["id"] for r in model.rows] == [k[3] for k in expected[: len(model.rows)]]
        # the counters, kept incrementally and by bisection, equal a count of everything
        model.recount()
        shown = [i for i in ctx.state.incidents.values() if rules.matches(i, model.options)]
        at = ctx.server_now()
        assert model.counters()["overdue"] == sum(1 for i in shown if rules.next_deadline(i, at)[1])
        for status in ("new", "dispatched", "arrived", "controlled"):
            assert model.counters()[status] == sum(1 for i in shown if i["status"] == status)


def test_new_priority1_incident_sounds_the_alert_only_where_the_layout_asks(
    qtbot, ctx, hub, district
):
    heard: list[str] = []
    ctx.alert = heard.append
    loud = IncidentsPanel(ctx, hub, 1.0, {"alert": True})
    quiet = IncidentsPanel(ctx, hub, 1.0, {"alert": False})
    qtbot.addWidget(loud)
    qtbot.addWidget(quiet)
    p2 = district.new_incident(now(), priority=2)
    p1 = district.new_incident(now(), priority=1)
    ctx.state.apply("incident.upsert", p2, 101)
    ctx.state.apply("incident.upsert", p1, 102)
    qtbot.waitUntil(lambda: heard == [p1["id"]])  # once: from the panel that asks, for P1 only
    ctx.state.apply("incident.upsert", {**p1, "status": "dispatched"}, 103)
    # the tick that shows the update is the one that would have sounded: it did not
    qtbot.waitUntil(
        lambda: any(r["status"] == "dispatched" for r in loud.model.rows if r["id"] == p1["id"])
    )
    assert heard == [p1["id"]]


def test_the_feed_holds_what_it_shows_and_a_change_below_the_fold_repaints_nothing(
    qtbot, ctx, hub, district
):
    panel = IncidentsPanel(ctx, hub, 1.0)
    qtbot.addWidget(panel)
    panel.resize(1200, 600)
    panel.show()
    qtbot.waitUntil(lambda: panel.model.limit < 20)
    shown = panel.model.limit
    assert len(panel.model.rows) == shown  # the board holds the rows it can show, no more
    changed: list[tuple[int, int]] = []
    panel.model.dataChanged.connect(lambda a, b, *_: changed.append((a.row(), b.row())))
    hidden = panel.model._order[shown + 5][3]  # an incident well below the fold
    inc = ctx.state.incidents[hidden]
    ticks: list[set[str]] = []
    hub.tick.connect(ticks.append)  # after the panel's own slot: it has refreshed by then
    ctx.state.apply("incident.upsert", {**inc, "address": inc.get("address", "") + "·"}, 101)
    qtbot.waitUntil(lambda: any("incidents" in t for t in ticks))
    assert changed == []
    top = panel.model.rows[0]
    ctx.state.apply("incident.upsert", {**top, "acked_by": "值班员"}, 102)
    qtbot.waitUntil(lambda: changed == [(0, 0)])  # exactly the row that changed


def on_screen(widget):
    """What the window shows now where ``widget`` is (its backing store, as the screen
    reads it), not a fresh render like ``QWidget.grab``: partial repaints show here."""
    top = widget.window()
    at = widget.mapTo(top, widget.rect().topLeft())
    # Not top.screen(): PySide treats a QScreen returned by a widget as that widget's
    # child, and when the widget goes the shared QScreen wrapper is marked deleted for
    # every later test (seen: "Internal C++ object (QScreen) already deleted").
    shot = QGuiApplication.primaryScreen().grabWindow(top.winId()).toImage()
    return shot.copy(at.x(), at.y(), widget.width(), widget.height())


def test_countdowns_move_every_second_and_the_rest_of_a_row_stays(qtbot, ctx, hub):
    panel = IncidentsPanel(ctx, hub, 1.0, {"priorities": [2, 3]})  # no pulsing borders
    qtbot.addWidget(panel)
    panel.resize(1400, 700)
    panel.show()
    qtbot.waitUntil(lambda: panel.model.limit < 20)
    vp = panel.view.viewport()
    row = next(i for i, r in enumerate(panel.model.rows[:6]) if r.get("deadlines"))
    rect = panel.view.visualRect(panel.model.index(row))
    left = rect.adjusted(0, 0, -(COUNTDOWN_W + 20), 0)
    right = rect.adjusted(rect.width() - COUNTDOWN_W, 0, 0, 0)
    qtbot.waitUntil(lambda: not on_screen(vp).isNull())
    before = on_screen(vp)
    second = int(time.time())
    qtbot.waitUntil(lambda: int(time.time()) >= second + 2, timeout=4000)
    qtbot.waitUntil(lambda: on_screen(vp).copy(right) != before.copy(right))
    after = on_screen(vp)  # the countdown moved; the title, badge and sub-line did not
    assert after.copy(left) == before.copy(left)


def test_a_row_turning_overdue_turns_red_across_its_whole_width(qtbot, ctx, hub, district):
    inc = district.new_incident(now(), priority=2)  # priority 2: no pulsing border
    region = inc["region"]
    panel = IncidentsPanel(ctx, hub, 1.0, {"regions": [region], "priorities": [2]})
    qtbot.addWidget(panel)
    panel.resize(1400, 700)
    panel.show()
    for other in [i for i in ctx.state.incidents.values() if i.get("region") == region]:
        ctx.state.apply("incident.upsert", {**other, "priority": 3}, 100)  # out of this feed
    inc["status"] = "new"
    inc["deadlines"] = {"respond": format_time(now() + timedelta(seconds=2))}
    ctx.state.apply("incident.upsert", inc, 101)
    qtbot.waitUntil(lambda: [r["id"] for r in panel.model.rows] == [inc["id"]])
    vp = panel.view.viewport()
    rect = panel.view.visualRect(panel.model.index(0))
    title_x = rect.left() + rect.width() // 3  # in the title, left of the countdown column

    def background():  # a pixel of the row's background, under its title text
        return on_screen(vp).pixelColor(title_x, rect.bottom() - 3)

    assert background().red() < 60  # not overdue yet: the panel colour
    qtbot.waitUntil(lambda: background().red() > 60, timeout=5000)  # overdue: red


def test_the_indicator_tiles_static_layers_stay_bounded_as_sizes_and_levels_change(qtbot, ctx, hub):
    # a tile's background, marker and name are kept per level, staleness and size: up to
    # 4,000 pixmaps were kept (~90 MB) as modes and drill-downs resized the panel
    panel = IndicatorsPanel(ctx, hub, 1.0)
    qtbot.addWidget(panel)
    panel.show()
    for size in [(1920, 1016), (1600, 900), (1280, 720), (1920, 1016), (960, 1016), (1700, 1000)]:
        for offline in ("live", "offline"):  # every tile turns stale and back: its other look
            ctx.status_dict["connection"]["state"] = offline
            panel.resize(*size)
            panel.finish()
            panel.grab()
            assert len(panel._static_cache) <= 2 * len(panel._tiles) + 1
    ctx.status_dict["connection"]["state"] = "live"
    assert len(panel._tiles) == 349


def test_the_incident_lists_painted_rows_stay_bounded_as_incidents_change(qtbot, ctx, hub):
    # each row's text and shapes are kept as a pixmap per look (status, overdue, size): up
    # to 256 were kept, ~90 MB per list at a wall's row width, growing with the data;
    # now a few screens of rows (64, ~23 MB at most)
    panel = IncidentsPanel(ctx, hub, 1.0)
    qtbot.addWidget(panel)
    panel.resize(1200, 1016)
    panel.show()
    delegate = panel.view.itemDelegate()
    qtbot.waitUntil(lambda: len(delegate._rows) > 0)
    statuses = ["new", "dispatched", "arrived", "controlled"]
    looks = set()
    for n in range(12):  # every row shown changes status, and the list's width changes
        for inc in panel.model.rows:
            inc["status"] = statuses[n % 4]
        panel.resize(1200 + 40 * (n % 3), 1016)
        panel.view.viewport().repaint()
        looks |= set(delegate._rows)
        assert len(delegate._rows) <= 64
    assert len(looks) > 2 * 64  # (the bound was reached, many times over)
    assert panel.grab().width() > 0

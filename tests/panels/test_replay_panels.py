"""The gestures and pictures of time on the wall, on real panels (offscreen Qt)."""

from datetime import datetime, timedelta

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from panels.incidents import IncidentsPanel
from panels.indicators import IndicatorsPanel
from panels.video import VideoPanel
from wallclient.protocol import CST, epoch
from wallclient.replay import Past, past_indicators


def test_a_click_selects_a_tile_and_r_asks_for_its_instant_replay(ctx, hub, qtbot):
    asked: list[tuple[int, int]] = []
    ctx.tile_key = lambda panel, tile, key: asked.append((tile, key)) or key == Qt.Key.Key_R
    panel = VideoPanel(ctx, hub, 1.0, {"rows": 2, "cols": 2})
    qtbot.addWidget(panel)
    panel.resize(800, 600)
    panel.show()
    qtbot.mouseClick(panel, Qt.MouseButton.LeftButton, pos=QPoint(600, 450))  # the 4th tile
    assert panel.selected == 3
    qtbot.keyClick(panel, Qt.Key.Key_R)
    assert asked == [(3, Qt.Key.Key_R)]


def test_the_feed_shows_the_incidents_of_the_replay_clock(ctx, hub, qtbot):
    panel = IncidentsPanel(ctx, hub, 1.0, {})
    qtbot.addWidget(panel)
    panel.resize(600, 900)
    panel.show()
    live = ctx.state.incidents
    first = next(iter(live.values()))
    then = {first["id"]: {**first, "status": "new", "priority": 1}}  # one incident, as it was
    ctx.past = Past(datetime.fromtimestamp(epoch(first["reported_at"]) + 1, CST), then,
                    past_indicators(ctx.state.indicators, {}))  # fmt: skip
    hub.poke("incidents")
    qtbot.waitUntil(lambda: len(panel.model.rows) == 1, timeout=2000)
    assert panel.model.rows[0]["id"] == first["id"] and panel.model.rows[0]["status"] == "new"
    ctx.past = None
    hub.poke("incidents")
    qtbot.waitUntil(lambda: len(panel.model.rows) > 1, timeout=2000)  # live again


def test_a_replayed_indicator_tile_looks_as_the_live_one_did_then(ctx, hub, qtbot):
    """At the replay clock a tile shows the value *and* the sparkline of then: the same
    picture the live wall showed at that moment, not today's trend under an old value."""
    panel = IndicatorsPanel(ctx, hub, 1.0, {})
    qtbot.addWidget(panel)
    panel.resize(1920, 1016)
    panel.show()
    qtbot.waitUntil(lambda: len(panel._tiles) == 349)
    rect, iid = panel._tiles[0]
    then = datetime.now(CST)
    rising = [float(v) for v in range(30)]

    def tile() -> QImage:
        qtbot.waitUntil(lambda: panel.data_at == (ctx.past.at if ctx.past else None), timeout=3000)
        panel.repaint()
        return panel.grab(rect.toAlignedRect()).toImage()

    # live, at the moment: the value 29 after thirty rising readings
    ctx.state.indicators[iid].update(value=29.0, t=then.isoformat())
    ctx.history[iid].clear()
    ctx.history[iid].extend(rising)
    ctx.server_now = lambda: then
    hub.poke("indicators")
    live_then = tile()
    # a while later the reading fell and the live trend with it
    ctx.state.indicators[iid].update(value=3.0)
    ctx.history[iid].extend([3.0] * 30)
    readings = {i: (then.timestamp(), ind["value"]) for i, ind in ctx.state.indicators.items()}
    readings[iid] = (then.timestamp(), 29.0)
    ctx.past = Past(then, {}, past_indicators(ctx.state.indicators, readings), jumped=True,
                    history={iid: tuple(rising)})  # fmt: skip
    hub.poke("indicators", urgent=True)
    replayed = tile()
    assert replayed == live_then
    ctx.past = Past(then, {}, past_indicators(ctx.state.indicators, readings), jumped=True,
                    history={iid: tuple(reversed(rising))})  # fmt: skip
    hub.poke("indicators", urgent=True)
    assert tile() != live_then  # another trend then: another picture


def test_the_hourly_trend_counts_the_incidents_of_the_replay_clock(ctx, hub, qtbot):
    from panels.trend import TrendPanel

    def lines(panel: TrendPanel) -> dict[str, list[int]]:
        return {k: [int(y) for y in item.getData()[1]] for k, item in panel._series.items()}

    panel = TrendPanel(ctx, hub, 1.0, {"kind": "incidents_by_priority"})
    qtbot.addWidget(panel)
    panel.resize(800, 500)
    panel.show()
    live = lines(panel)
    assert sum(map(sum, live.values())) > 2
    then = datetime.now(CST).replace(minute=30) - timedelta(hours=5)
    earlier = (then - timedelta(minutes=20)).isoformat()
    two = list(ctx.state.incidents.values())[:2]
    past = {i["id"]: {**i, "priority": 1, "reported_at": earlier} for i in two}  # all there was then
    ctx.past = Past(then, past, past_indicators(ctx.state.indicators, {}), jumped=True)
    hub.poke("incidents", urgent=True)
    panel._last = 0.0  # (it redraws at most every few seconds: now)
    # the replay's hour, last, and nothing else (the live lines could end in a 2 as well)
    qtbot.waitUntil(lambda: sum(map(sum, lines(panel).values())) == 2, timeout=3000)
    assert lines(panel)["1"][-1] == 2
    ctx.past = None
    hub.poke("incidents")
    panel._last = 0.0
    qtbot.waitUntil(lambda: lines(panel) == live, timeout=3000)  # live again

"""The gestures and pictures of time on the wall, on real panels (offscreen Qt)."""

from datetime import datetime

from PySide6.QtCore import QPoint, Qt

from panels.incidents import IncidentsPanel
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

"""The incident card (panels.card) on real state, offscreen: the actions follow the role,
its buttons send the protocol's commands, a refusal and an export's outcome are written on
the card, and a long history scrolls inside it while the buttons stay in view."""

from PySide6.QtWidgets import QPushButton, QWidget

from panels.card import CardDesk


def _desk(ctx, hub, qtbot, role):
    ctx.status_dict["role"] = role
    sent: list[tuple] = []
    exports: list[tuple] = []
    desk = CardDesk(ctx, hub, wall=None, send=lambda t, d, say: sent.append((t, d, say)))
    desk.export = lambda iid, done: exports.append((iid, done))
    ctx.replay_incident = lambda iid: None  # this node records: replay and export are offered
    over = QWidget()
    qtbot.addWidget(over)
    over.resize(1920, 1080)
    return desk, over, sent, exports


def _open(ctx, desk, over):
    iid = next(i for i, inc in ctx.state.incidents.items() if inc.get("status") == "new" and inc.get("location"))
    desk.open(iid, over)
    return iid


def _button(desk, name) -> QPushButton:
    found = [b for b in desk.card._buttons if b.objectName() == name]  # the current ones
    assert found, (name, desk.card.allowed())
    return found[0]


def test_a_viewer_acknowledges_and_notes_but_neither_dispatches_nor_exports(ctx, hub, qtbot):
    desk, over, _sent, _exports = _desk(ctx, hub, qtbot, "viewer")
    _open(ctx, desk, over)
    actions = desk.status()["actions"]
    assert "ack" in actions and "replay" in actions
    assert not any(a.startswith(("dispatch:", "advance:")) or a == "export" for a in actions), actions


def test_a_commander_exports_from_the_card_and_sees_where_it_went(ctx, hub, qtbot):
    desk, over, _sent, exports = _desk(ctx, hub, qtbot, "commander")
    iid = _open(ctx, desk, over)
    _button(desk, "export").click()
    assert [e[0] for e in exports] == [iid]
    # while it runs the button says so and cannot be pressed twice
    assert not _button(desk, "export").isEnabled() and desk.card.said.isVisibleTo(desk.card)
    exports[0][1]("/srv/evidence/incident-x", None)
    st = desk.status()
    assert st["exported"] == "/srv/evidence/incident-x" and "/srv/evidence/incident-x" in desk.card.said.text()
    assert _button(desk, "export").isEnabled()
    # a failure is said on the card, in the alarm's colour and shape
    _button(desk, "export").click()
    exports[1][1](None, "disk full (/srv/evidence)")
    assert "disk full" in desk.card.said.text() and desk.card.said.text().startswith("◆")


def test_a_refused_command_is_written_on_the_card(ctx, hub, qtbot):
    desk, over, sent, _exports = _desk(ctx, hub, qtbot, "commander")
    iid = _open(ctx, desk, over)
    dispatch = next(a for a in desk.status()["actions"] if a.startswith("dispatch:"))
    _button(desk, dispatch).click()
    type_, data, say = sent[-1]
    assert type_ == "incident.dispatch" and data == {"incident": iid, "unit": dispatch.split(":", 1)[1]}
    say("unknown_unit: no such unit")
    assert desk.status()["message"] == "unknown_unit: no such unit"
    assert "unknown_unit" in desk.card.said.text()
    say("")  # the next command went through: the line goes
    assert not desk.card.said.isVisibleTo(desk.card)
    # an answer after the card closed touches nothing
    desk.close()
    say("late: answer")


def test_a_long_history_scrolls_and_the_buttons_stay_in_view(ctx, hub, qtbot):
    desk, over, _sent, _exports = _desk(ctx, hub, qtbot, "commander")
    iid = _open(ctx, desk, over)
    inc = ctx.state.incidents[iid]
    inc["history"] = [{"t": inc["reported_at"], "by": f"网格员{n}", "note": f"第 {n} 次巡查：现场情况已记录"}
                      for n in range(80)]  # fmt: skip
    desk.card.refresh()
    bar = desk.card.history_box.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=2000)  # the history scrolls inside its box
    card_rect = desk.card.rect()
    for name in ("ack", "close"):
        b = _button(desk, name)
        top_left = b.mapTo(desk.card, b.rect().topLeft())
        assert card_rect.contains(top_left) and card_rect.contains(top_left + b.rect().bottomRight())

"""The commander's palette, hotkeys and emergency confirmation, driven by keystrokes on a
real wall window (the switches go to a recording desk; tests/e2e/test_commander.py sends
them to the reference backend)."""

from pathlib import Path

from PySide6.QtCore import Qt

from panels.wall import Wall
from wallclient import layout

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"


class RecordingDesk:
    def __init__(self, may=True):
        self.may = may
        self.calls = []
        self.state = {"pending": None, "refusal": None, "local": False, "before_emergency": None}

    def may_switch(self):
        return self.may

    def view(self):
        return self.state

    def activate(self, preset):
        self.calls.append(("activate", preset))
        self.state = {**self.state, "pending": {"preset": preset}}

    def emergency(self, preset):
        self.calls.append(("emergency", preset))

    def normal(self):
        self.calls.append(("normal",))


def _window(qtbot, ctx, hub, desk):
    ctx.desk = desk
    wall = Wall(ctx, hub, layout.load(LAYOUTS / "desk-dual.json"))
    for w in wall.windows:
        qtbot.addWidget(w)
        w.resize(w.screen_.width, w.screen_.height)
        w.show()
    return wall.windows[0]


def test_palette_finds_by_pinyin_initials_and_enter_switches(qtbot, ctx, hub):
    desk = RecordingDesk()
    win = _window(qtbot, ctx, hub, desk)
    qtbot.keyClick(win, Qt.Key.Key_Space)
    pal = win.preset_palette
    assert pal is not None and pal.isVisible()
    everything = pal.run()
    assert len(everything) == len(ctx.state.presets)
    qtbot.keyClicks(pal.box, "fxft")
    qtbot.waitUntil(lambda: not pal._timer.isActive())  # the search ran once typing paused
    listed = pal.listed
    assert listed and all("防汛防台" in ctx.state.presets[p]["name"] for p in listed)
    # emergency presets come first in their scenario group and say so
    first = ctx.state.presets[listed[0]]
    assert first["emergency"] and "⚠" in pal.results.item(1).text()
    qtbot.keyClick(pal.box, Qt.Key.Key_Down)
    assert pal.selected() == listed[1]
    qtbot.keyClick(pal.box, Qt.Key.Key_Return)
    assert desk.calls == [("activate", listed[1])]
    assert "切换中" in pal.state.text() or "Switching" in pal.state.text()  # pending, said
    qtbot.keyClick(pal.box, Qt.Key.Key_Escape)
    assert not pal.isVisible()


def test_hotkeys_switch_at_once(qtbot, ctx, hub):
    desk = RecordingDesk()
    win = _window(qtbot, ctx, hub, desk)
    f2 = next(p["id"] for p in ctx.state.presets.values() if p.get("hotkey") == "F2")
    three = next(p["id"] for p in ctx.state.presets.values() if p.get("hotkey") == "3")
    qtbot.keyClick(win, Qt.Key.Key_F2)
    qtbot.keyClick(win, Qt.Key.Key_3)
    assert desk.calls == [("activate", f2), ("activate", three)]


def test_emergency_asks_first_without_blocking_the_wall(qtbot, ctx, hub):
    desk = RecordingDesk()
    win = _window(qtbot, ctx, hub, desk)
    qtbot.keyClick(win, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    confirm = win.confirm
    assert confirm is not None and confirm.isVisible()
    emergency = sorted((p for p in ctx.state.presets.values() if p["emergency"]),
                       key=lambda p: (p["scenario"], p["name"]))  # fmt: skip
    assert confirm.choices.count() == len(emergency)
    ticks = hub.ticks
    qtbot.waitUntil(lambda: hub.ticks > ticks + 2)  # the wall keeps ticking while it asks
    assert desk.calls == []  # nothing happens before Enter
    qtbot.keyClick(confirm, Qt.Key.Key_Down)
    qtbot.keyClick(confirm, Qt.Key.Key_Return)
    assert desk.calls == [("emergency", emergency[1]["id"])]
    assert not confirm.isVisible()
    # back to normal: asked too; Esc cancels
    qtbot.keyClick(win, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(win.confirm, Qt.Key.Key_Escape)
    assert desk.calls[-1] != ("normal",)
    qtbot.keyClick(win, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(win.confirm, Qt.Key.Key_Return)
    assert desk.calls[-1] == ("normal",)


def test_a_viewer_gets_no_switching_controls(qtbot, ctx, hub):
    desk = RecordingDesk(may=False)
    win = _window(qtbot, ctx, hub, desk)
    qtbot.keyClick(win, Qt.Key.Key_Space)
    qtbot.keyClick(win, Qt.Key.Key_F1)
    qtbot.keyClick(win, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert win.preset_palette is None and win.confirm is None and desk.calls == []


def test_the_banner_says_a_refusal_and_a_local_switch(qtbot, ctx, hub):
    from panels.palette import switch_words

    refused = {"pending": None, "local": False,
               "refusal": {"code": "forbidden", "message": "role viewer", "what": {"preset": "P0002"}}}  # fmt: skip
    text, _ = switch_words(ctx, refused)
    assert ctx.state.presets["P0002"]["name"] in text and ("forbidden" in text or "无权限" in text)
    text, _ = switch_words(ctx, {"pending": None, "refusal": None, "local": True})
    assert text.startswith("⚑")

"""The tile gestures of steering (panels.steer) on a real panel, offscreen: a drag is one
held move with speeds from its length, keys hold and let go, the wheel zooms; Ctrl+drag
and the control API's fractions zoom digitally; a viewer's drag steers nothing."""

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent

from panels.video import VideoPanel


class Driver:
    """Records what the gestures ask of wallclient.edges.ptz.PtzDriver."""

    def __init__(self, may: bool = True) -> None:
        self.calls: list[tuple] = []
        self._may = may
        self.held: set[str] = set()

    def steerable(self, camera):
        return self._may and bool(camera)

    def may(self):
        return self._may

    def offered(self):
        return True

    def holder(self, camera):
        return None

    def moving(self, camera):
        return camera in self.held

    def hold(self, camera, pan, tilt, zoom):
        self.held.add(camera)
        self.calls.append(("hold", camera, pan, tilt, zoom))

    def release(self, camera):
        self.held.discard(camera)
        self.calls.append(("release", camera))

    def nudge(self, camera, zoom):
        self.calls.append(("nudge", camera, zoom))


def _panel(ctx, hub, qtbot, driver):
    ctx.ptz = driver
    dome = next(c for c, cam in ctx.state.cameras.items() if cam.get("ptz"))
    panel = VideoPanel(ctx, hub, 1.0, {"rows": 2, "cols": 2})
    qtbot.addWidget(panel)
    panel.resize(800, 600)
    panel.show()
    panel.place_camera(0, dome)
    return panel, dome


def _mouse(panel, kind, at, buttons=Qt.MouseButton.LeftButton, mods=Qt.KeyboardModifier.NoModifier):
    e = QMouseEvent(kind, QPointF(at), QPointF(panel.mapToGlobal(at)), Qt.MouseButton.LeftButton,
                    buttons, mods)  # fmt: skip
    {QMouseEvent.Type.MouseButtonPress: panel.mousePressEvent,
     QMouseEvent.Type.MouseMove: panel.mouseMoveEvent,
     QMouseEvent.Type.MouseButtonRelease: panel.mouseReleaseEvent}[kind](e)  # fmt: skip


def test_a_drag_on_a_ptz_tile_holds_a_move_towards_it_and_lets_go_on_release(ctx, hub, qtbot):
    driver = Driver()
    panel, dome = _panel(ctx, hub, qtbot, driver)
    pic = panel.picture_rect(0)
    c = pic.center().toPoint()
    _mouse(panel, QMouseEvent.Type.MouseButtonPress, c)
    _mouse(panel, QMouseEvent.Type.MouseMove, c + QPoint(int(pic.width() / 4), 0))  # right, a little
    _mouse(panel, QMouseEvent.Type.MouseMove, c + QPoint(int(pic.width() / 2), -int(pic.height() / 2)))
    _mouse(panel, QMouseEvent.Type.MouseButtonRelease, c)
    holds = [x for x in driver.calls if x[0] == "hold"]
    assert holds[0][1] == dome and 0 < holds[0][2] < holds[1][2] == 1.0  # faster further out
    assert holds[1][3] == 1.0 and holds[0][3] == 0.0  # up is up
    assert driver.calls[-1] == ("release", dome)


def test_keys_hold_while_pressed_and_the_wheel_nudges_the_zoom(ctx, hub, qtbot):
    driver = Driver()
    panel, dome = _panel(ctx, hub, qtbot, driver)
    qtbot.mouseClick(panel, Qt.MouseButton.RightButton, pos=panel.picture_rect(0).center().toPoint())
    panel.selected = 0
    qtbot.keyPress(panel, Qt.Key.Key_Left)
    qtbot.keyPress(panel, Qt.Key.Key_PageUp)
    qtbot.keyRelease(panel, Qt.Key.Key_Left)
    qtbot.keyRelease(panel, Qt.Key.Key_PageUp)
    assert driver.calls == [("hold", dome, -0.5, 0.0, 0.0), ("hold", dome, -0.5, 0.0, 1.0),
                            ("hold", dome, 0.0, 0.0, 1.0), ("release", dome)]  # fmt: skip


def test_a_viewer_drags_a_zoom_box_not_the_camera_and_esc_returns(ctx, hub, qtbot):
    driver = Driver(may=False)
    panel, _dome = _panel(ctx, hub, qtbot, driver)
    shown = panel.shown_rect(0)
    a = (shown.topLeft() + QPointF(shown.width() * 0.5, shown.height() * 0.5)).toPoint()
    b = (shown.topLeft() + QPointF(shown.width() * 0.75, shown.height() * 0.75)).toPoint()
    _mouse(panel, QMouseEvent.Type.MouseButtonPress, a)
    _mouse(panel, QMouseEvent.Type.MouseMove, b)
    _mouse(panel, QMouseEvent.Type.MouseButtonRelease, b, Qt.MouseButton.NoButton)
    assert driver.calls == []
    z = panel.steer.describe(0)
    assert z is not None and abs(z["x"] - 0.5) < 0.02 and abs(z["size"] - 0.25) < 0.02
    assert abs(z["factor"] - 4.0) < 0.1
    # the decode size follows: an enlarged part needs more pixels (the main stream here)
    w, h = panel.decode_size(0, panel.rects()[0])
    assert w >= 4 * (panel.picture_rect(0).width() - 2) or w == 1920
    panel.selected = 0
    qtbot.keyClick(panel, Qt.Key.Key_Escape)
    assert panel.steer.describe(0) is None


def test_ctrl_wheel_zooms_about_the_pointer_and_fractions_are_kept_inside(ctx, hub, qtbot):
    panel, _dome = _panel(ctx, hub, qtbot, Driver())
    shown = panel.shown_rect(0)
    at = shown.topLeft() + QPointF(shown.width() * 0.1, shown.height() * 0.1)
    for _ in range(4):
        panel.steer.zoom_about(0, at, 1.25)
    z = panel.steer.describe(0)
    assert z is not None and z["factor"] == round(1.25**4, 2)
    assert z["x"] < 0.1 and z["y"] < 0.1  # the corner under the pointer stays in view
    panel.steer.zoom_part(0, 0.9, 0.9, 0.5)  # clamped into the picture
    assert panel.steer.describe(0) == {"x": 0.5, "y": 0.5, "size": 0.5, "factor": 2.0}
    panel.steer.zoom_part(0, 0, 0, 0.01)
    assert panel.steer.describe(0)["factor"] == 8.0  # at most ×8

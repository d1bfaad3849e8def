"""What a hand does on a video panel: double-click to maximise and back, a click to
select a tile (keys act on it), the right button for the tile's menu, a camera dragged
onto a tile, Esc to restore; PTZ and digital zoom go to ``Steering`` (panels.steer)
first. Each handler says whether it took the event; the panel passes on the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QWheelEvent,
)

from panels.search import MIME

if TYPE_CHECKING:
    from panels.video.panel import VideoPanel


class Gestures:
    """A video panel's mouse, wheel, key and drop handling."""

    def __init__(self, panel: VideoPanel) -> None:
        self.panel = panel

    def tile_at(self, pos: QPointF) -> int | None:
        for i, r in enumerate(self.panel.rects()):
            if r.contains(pos):
                return i
        return None

    def double_click(self, e: QMouseEvent) -> None:
        panel = self.panel
        if panel.maximised is not None:
            panel.restore()
            return
        index = self.tile_at(e.position())
        if index is not None:
            panel.maximise(index)

    def press(self, e: QMouseEvent) -> bool:
        panel = self.panel
        index = self.tile_at(e.position())
        if index is None:
            return False
        panel.selected = index  # keys act on it (R: instant replay, Esc: back to live)
        panel.setFocus()
        if e.button() == Qt.MouseButton.RightButton and panel.ctx.tile_menu is not None:
            panel.ctx.tile_menu(panel, index, e.globalPosition().toPoint())
            return True
        return panel.steer.press(e, index)

    def move(self, e: QMouseEvent) -> bool:
        return self.panel.steer.move(e)

    def release(self, e: QMouseEvent) -> bool:
        return self.panel.steer.release(e)

    def wheel(self, e: QWheelEvent) -> bool:
        index = self.tile_at(e.position())
        if index is not None and self.panel.steer.wheel(e, index):
            e.accept()
            return True
        return False

    def key_release(self, e: QKeyEvent) -> bool:
        return self.panel.steer.key_release(e, self.panel.selected)

    def key_press(self, e: QKeyEvent) -> bool:
        panel = self.panel
        if panel.steer.key_press(e, panel.selected):
            return True
        if (
            panel.selected is not None
            and panel.ctx.tile_key is not None
            and panel.ctx.tile_key(panel, panel.selected, e.key())
        ):
            return True
        if e.key() == Qt.Key.Key_Escape and panel.maximised is not None:
            panel.restore()
            return True
        return False

    @staticmethod
    def drag(e: QDragEnterEvent | QDragMoveEvent) -> None:
        if e.mimeData().hasFormat(MIME):
            e.acceptProposedAction()

    def drop(self, e: QDropEvent) -> None:
        index = self.tile_at(e.position())
        if e.mimeData().hasFormat(MIME) and index is not None:
            self.panel.place_camera(index, bytes(e.mimeData().data(MIME).data()).decode())
            e.acceptProposedAction()

"""Steering on a video tile: PTZ (云台) gestures and digital zoom (电子放大).

PTZ, for commanders and installers on a PTZ camera's live tile (wallclient.edges.ptz):
drag on the picture — the camera turns towards the drag at a speed set by its length,
for as long as the button is held; the wheel zooms; arrow keys and PgUp/PgDn with the
tile selected; the camera's presets in the tile's menu. Viewers get none of it.

Digital zoom, on any tile, live or replaying: Ctrl+drag (a plain drag where the tile
cannot steer) draws a box and the tile shows that part enlarged; Ctrl+wheel zooms
about the pointer; Esc returns. The part shown is kept as fractions of the picture
(``zoom[tile]``), always of the picture's own aspect; the tile's header draws a small
overview of where it is. How the picture is enlarged is the tile's route's business
(panels.video: libvlc's crop on a native tile, a sub-rectangle blit on a painted one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QMenu, QRubberBand

from panels import theme
from wallclient.ptz import speeds

if TYPE_CHECKING:
    from panels.video import VideoPanel

ZOOM_MAX = 8.0  # the most a picture is enlarged (digital zoom)
WHEEL_STEP = 1.25
MIN_BOX_PX = 24  # a smaller box is a click, not a zoom
KEY_SPEED = 0.5
KEYS = {
    Qt.Key.Key_Left: (-KEY_SPEED, 0.0, 0.0), Qt.Key.Key_Right: (KEY_SPEED, 0.0, 0.0),
    Qt.Key.Key_Up: (0.0, KEY_SPEED, 0.0), Qt.Key.Key_Down: (0.0, -KEY_SPEED, 0.0),
    Qt.Key.Key_PageUp: (0.0, 0.0, 1.0), Qt.Key.Key_PageDown: (0.0, 0.0, -1.0),
}  # fmt: skip


def _unit(v: float) -> float:
    return max(-1.0, min(1.0, v))


def clamp_zoom(x: float, y: float, size: float) -> QRectF:
    """A part of the picture (fractions): ``size`` of it across, inside it."""
    size = max(1 / ZOOM_MAX, min(1.0, size))
    return QRectF(max(0.0, min(1 - size, x)), max(0.0, min(1 - size, y)), size, size)


class Steering:
    """The gestures of one video panel's tiles."""

    def __init__(self, panel: VideoPanel) -> None:
        self.panel = panel
        self.zoom: dict[int, QRectF] = {}  # tile → the part of the picture it shows
        self._drag: tuple[int, str, QPointF, QRectF] | None = None  # tile, camera, origin, picture
        self._box: tuple[int, QPointF] | None = None  # a zoom box being drawn: tile, origin
        self._band: QRubberBand | None = None
        self._keys: list[Qt.Key] = []

    # --- who may do what --------------------------------------------------------------

    def driver(self) -> Any:
        return self.panel.ctx.ptz

    def steerable(self, i: int) -> bool:
        """A live PTZ camera's tile, and a role that steers, and a backend that offers it."""
        d = self.driver()
        tile = self.panel.tiles[i]
        return bool(d is not None and i not in self.panel.replays and d.steerable(tile.camera))

    # --- the mouse -----------------------------------------------------------------------

    def press(self, e: QMouseEvent, i: int) -> bool:
        if e.button() != Qt.MouseButton.LeftButton:
            return False
        pic = self.panel.picture_rect(i)
        pos = e.position()
        if not pic.contains(pos):
            return False
        zoom_gesture = bool(e.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                             | Qt.KeyboardModifier.ShiftModifier))  # fmt: skip
        if not zoom_gesture and self.steerable(i):
            cam = self.panel.tiles[i].camera or ""
            self._drag = (i, cam, pos, pic)
            self.panel.tile_changed(i)
            return True
        self._box = (i, pos)
        return True

    def move(self, e: QMouseEvent) -> bool:
        pos = e.position()
        if self._drag is not None:
            i, cam, origin, pic = self._drag
            dx = (pos.x() - origin.x()) / max(1.0, pic.width() / 2)
            dy = (origin.y() - pos.y()) / max(1.0, pic.height() / 2)
            pan, tilt = speeds(dx, dy)
            if pan or tilt:
                self.driver().hold(cam, pan, tilt, 0.0)
            elif self.driver().moving(cam):
                self.driver().hold(cam, 0.0, 0.0, 0.0)
            return True
        if self._box is not None:
            i, origin = self._box
            box = QRectF(origin, pos).normalized().intersected(self.panel.picture_rect(i))
            if self._band is None:
                # a window of its own: a native tile's picture is libvlc's window, above
                # every child widget of the panel
                self._band = QRubberBand(QRubberBand.Shape.Rectangle)
            top_left = self.panel.mapToGlobal(box.topLeft().toPoint())
            self._band.setGeometry(QRect(top_left, box.size().toSize()))
            self._band.show()
            return True
        return False

    def release(self, e: QMouseEvent) -> bool:
        if self._drag is not None:
            i, cam, _origin, _pic = self._drag
            self._drag = None
            self.driver().release(cam)
            self.panel.tile_changed(i)
            return True
        if self._box is not None:
            i, origin = self._box
            self._box = None
            if self._band is not None:
                self._band.hide()
            box = QRectF(origin, e.position()).normalized()
            if box.width() >= MIN_BOX_PX and box.height() >= MIN_BOX_PX:
                self.zoom_to(i, box)
            return True
        return False

    def wheel(self, e: QWheelEvent, i: int) -> bool:
        notches = e.angleDelta().y() / 120
        if not notches:
            return False
        if e.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_about(i, e.position(), WHEEL_STEP**notches)
            return True
        if self.steerable(i):
            self.driver().nudge(self.panel.tiles[i].camera or "", 1.0 if notches > 0 else -1.0)
            return True
        return False

    # --- keys ------------------------------------------------------------------------------

    def key_press(self, e: QKeyEvent, i: int | None) -> bool:
        key = e.key()
        if key == Qt.Key.Key_Escape and i is not None and i in self.zoom:
            self.unzoom(i)
            return True
        if i is None or key not in KEYS or not self.steerable(i):
            return False
        if not e.isAutoRepeat() and key not in self._keys:
            self._keys.append(Qt.Key(key))
            self._hold_keys(i)
        return True

    def key_release(self, e: QKeyEvent, i: int | None) -> bool:
        key = e.key()
        if key not in KEYS or i is None:
            return False
        if e.isAutoRepeat():
            return True
        if key in self._keys:
            self._keys.remove(Qt.Key(key))
        cam = self.panel.tiles[i].camera or ""
        if self._keys:
            self._hold_keys(i)
        elif self.driver() is not None:
            self.driver().release(cam)
        return True

    def _hold_keys(self, i: int) -> None:
        pan = sum(KEYS[k][0] for k in self._keys)
        tilt = sum(KEYS[k][1] for k in self._keys)
        zoom = sum(KEYS[k][2] for k in self._keys)
        self.driver().hold(self.panel.tiles[i].camera or "", _unit(pan), _unit(tilt), _unit(zoom))

    # --- digital zoom --------------------------------------------------------------------

    def _fractions(self, i: int, at: QPointF) -> tuple[float, float]:
        """Where a point of tile ``i``'s picture area lies in the picture shown (0…1)."""
        shown = self.panel.shown_rect(i)
        cur = self.zoom.get(i, QRectF(0, 0, 1, 1))
        fx = (at.x() - shown.left()) / max(1.0, shown.width())
        fy = (at.y() - shown.top()) / max(1.0, shown.height())
        return cur.left() + fx * cur.width(), cur.top() + fy * cur.height()

    def zoom_to(self, i: int, box: QRectF) -> None:
        """Show the part of the picture under ``box`` (panel pixels) enlarged; the part
        keeps the picture's aspect (the box's longer side decides)."""
        x0, y0 = self._fractions(i, box.topLeft())
        x1, y1 = self._fractions(i, box.bottomRight())
        size = max(x1 - x0, y1 - y0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        self.set_zoom(i, clamp_zoom(cx - size / 2, cy - size / 2, size))

    def zoom_about(self, i: int, at: QPointF, factor: float) -> None:
        cur = self.zoom.get(i, QRectF(0, 0, 1, 1))
        fx, fy = self._fractions(i, at)
        size = cur.width() / factor
        # the point under the pointer stays under it
        rx = (fx - cur.left()) / cur.width()
        ry = (fy - cur.top()) / cur.height()
        self.set_zoom(i, clamp_zoom(fx - rx * size, fy - ry * size, size))

    def set_zoom(self, i: int, part: QRectF | None) -> None:
        if part is None or part.width() >= 0.999:
            if self.zoom.pop(i, None) is None:
                return
        else:
            self.zoom[i] = part
        self.panel.zoom_changed(i)

    def zoom_part(self, i: int, x: float, y: float, size: float) -> None:
        """Show the part at (x, y), ``size`` across (fractions of the picture)."""
        self.set_zoom(i, clamp_zoom(x, y, size))

    def unzoom(self, i: int) -> None:
        self.set_zoom(i, None)

    def forget(self, i: int) -> None:
        """The tile shows another camera: its zoom and any move of it end."""
        self.zoom.pop(i, None)
        if self._drag is not None and self._drag[0] == i:
            self.driver().release(self._drag[1])
            self._drag = None

    def describe(self, i: int) -> dict[str, Any] | None:
        part = self.zoom.get(i)
        if part is None:
            return None
        return {"x": round(part.left(), 4), "y": round(part.top(), 4), "size": round(part.width(), 4),
                "factor": round(1 / part.width(), 2)}  # fmt: skip

    # --- the tile's menu -------------------------------------------------------------------

    def menu_items(self, m: QMenu, i: int) -> None:
        """PTZ presets (where the tile steers) and the way back from a digital zoom."""
        tile = self.panel.tiles[i]
        if i in self.zoom:
            m.addAction(theme.tr("Digital zoom off"), lambda: self.unzoom(i))
        if not self.steerable(i):
            return
        cam = self.panel.ctx.state.cameras.get(tile.camera or "") or {}
        presets = cam.get("ptz_presets") or []
        if presets:
            sub = m.addMenu(theme.tr("PTZ presets"))
            sub.setFont(m.font())
            for p in presets:
                sub.addAction(
                    f"{p.get('id')} · {p.get('name', '')}", self._goto(cam["id"], str(p["id"]))
                )

    def _goto(self, camera: str, preset: str) -> Any:
        return lambda: self.driver().goto_soon(camera, preset)

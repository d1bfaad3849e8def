"""Camera search over the whole catalogue, results while typing; drag a result onto a
video tile to show that camera there until the next preset (a local override)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData, Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from panels import theme
from panels.hub import Context
from wallclient.catalogue import CameraIndex

MIME = "application/x-wallclient-camera"
TYPING_PAUSE_MS = 120  # search once the operator pauses, not on every key


class _Results(QListWidget):
    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:  # noqa: N802
        data = QMimeData()
        if items:
            data.setData(MIME, str(items[0].data(Qt.ItemDataRole.UserRole)).encode())
        return data


class CameraSearch(QFrame):
    """A search box and its results; Esc closes it."""

    def __init__(self, ctx: Context, scale: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.index = CameraIndex()
        self._indexed: tuple[int, int] | None = None
        self.setObjectName("search")
        self.setStyleSheet(
            f"#search {{ background: {theme.PANEL.name()}; border: 3px solid {theme.INFO.name()}; }}"
            f"QLineEdit, QListWidget {{ background: {theme.BG.name()}; color: {theme.TEXT.name()};"
            f" font-size: {round(26 * scale)}px; border: 1px solid {theme.PANEL_EDGE.name()}; }}"
            f"QLabel {{ color: {theme.TEXT_DIM.name()}; font-size: {round(20 * scale)}px; }}"
        )
        box = QVBoxLayout(self)
        self.box = QLineEdit()
        self.box.setPlaceholderText(theme.tr("Camera name, id or region"))
        self.hint = QLabel(theme.tr("Drag a camera onto a tile · Esc closes"))
        self.results = _Results()
        self.results.setDragEnabled(True)
        box.addWidget(self.box)
        box.addWidget(self.hint)
        box.addWidget(self.results, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.run)
        self.box.textChanged.connect(lambda _t: self._timer.start(TYPING_PAUSE_MS))

    def _reindex(self) -> None:
        cams, regions = self.ctx.state.cameras, self.ctx.state.regions
        key = (id(cams), len(cams))
        if key != self._indexed:
            self.index.build(cams, regions)
            self._indexed = key

    def run(self) -> list[str]:
        """Search now (the typing pause ends here); returns the camera ids shown."""
        self._reindex()
        ids = self.index.search(self.box.text())
        self.results.clear()
        cams = self.ctx.state.cameras
        regions = self.ctx.state.regions
        for cid in ids:
            cam = cams.get(cid, {})
            region = regions.get(cam.get("region") or "", {}).get("name", "")
            mark = (
                "● " if cam.get("status") == "online" else "◆ " + theme.tr("Camera offline") + " · "
            )
            item = QListWidgetItem(f"{mark}{cam.get('name', cid)} · {region} · {cid}")
            item.setData(Qt.ItemDataRole.UserRole, cid)
            self.results.addItem(item)
        return ids

    def keyPressEvent(self, e: object) -> None:  # noqa: N802
        from PySide6.QtGui import QKeyEvent

        if isinstance(e, QKeyEvent) and e.key() == Qt.Key.Key_Escape:
            self.hide()
            return
        super().keyPressEvent(e)  # type: ignore[arg-type]

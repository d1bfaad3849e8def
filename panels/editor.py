"""The layout editor (`wallclient layout edit FILE`): the wall canvas, regions split and
merged by dragging, each region's panel and options, physical screens assigned,
bezels, the normal and emergency variants, undo/redo, a live preview rendered from the
cache, and saving only what validates.

Gestures on the canvas:
- click a region: select it (and its screen);
- drag a stroke across a region: cut it — a mostly horizontal stroke cuts it into top
  and bottom at the stroke's height, a mostly vertical one into left and right;
- drag from one region into its neighbour: merge them (when together they make a
  rectangle; the first keeps its panel).

Every change goes through wallclient.layout_edit.LayoutDoc (undo, validation); this
module only turns gestures and form fields into its calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from panels import theme
from wallclient.errors import LayoutError
from wallclient.layout import PANELS
from wallclient.layout_edit import LayoutDoc, OptionField, field_text, option_fields, parse_field

PANEL_COLOUR = {
    "video": "#1d4e89", "indicators": "#1e6b52", "incidents": "#7a2e2e", "map": "#4b3b7a",
    "status": "#44505f", "clock": "#44505f", "trend": "#6b5a1e", "indicator_chart": "#1e5f6b",
}  # fmt: skip
MIN_STROKE_PX = 12


class WallCanvas(QWidget):
    """The wall's screens to scale, their regions, and the gestures on them."""

    def __init__(self, editor: LayoutEditor) -> None:
        super().__init__()
        self.editor = editor
        self.setMinimumSize(640, 360)
        self._press: tuple[QPointF, str, str] | None = None  # position, screen, region
        self._now: QPointF | None = None

    @property
    def doc(self) -> LayoutDoc:
        return self.editor.doc

    def _scale(self) -> tuple[float, float, float]:
        screens = self.doc.screens
        if not screens:
            return 1.0, 0.0, 0.0
        x0 = min(int(s["x"]) for s in screens)
        y0 = min(int(s["y"]) for s in screens)
        x1 = max(int(s["x"]) + int(s["width"]) for s in screens)
        y1 = max(int(s["y"]) + int(s["height"]) for s in screens)
        k = min((self.width() - 40) / max(1, x1 - x0), (self.height() - 40) / max(1, y1 - y0))
        return k, 20 - x0 * k, 20 - y0 * k

    def screen_rect(self, s: dict[str, Any]) -> QRectF:
        k, ox, oy = self._scale()
        # the bezel: the screen's glass starts inside its frame (mm → px at ~0.28 mm/px)
        bx, by = (float(v) / 0.28 * k for v in s.get("bezel_mm", [0, 0]))
        return QRectF(ox + int(s["x"]) * k + bx, oy + int(s["y"]) * k + by,
                      int(s["width"]) * k - 2 * bx, int(s["height"]) * k - 2 * by)  # fmt: skip

    def region_rect(self, s: dict[str, Any], r: dict[str, Any]) -> QRectF:
        sr = self.screen_rect(s)
        cols, rows = s.get("grid", [24, 24])
        c, rw, cs, rs = r["rect"]
        return QRectF(sr.x() + c * sr.width() / cols, sr.y() + rw * sr.height() / rows,
                      cs * sr.width() / cols, rs * sr.height() / rows)  # fmt: skip

    def hit(self, pos: QPointF) -> tuple[str, str | None, float, float] | None:
        """(screen, region, col, row) under ``pos``; col/row in grid units."""
        for s in self.doc.screens:
            sr = self.screen_rect(s)
            if sr.contains(pos):
                cols, rows = s.get("grid", [24, 24])
                col = (pos.x() - sr.x()) / sr.width() * cols
                row = (pos.y() - sr.y()) / sr.height() * rows
                return s["name"], self.doc.region_at(s["name"], col, row), col, row
        return None

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#05070c"))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.doc.screens:
            p.setPen(theme.TEXT_DIM)
            p.setFont(theme.font(22))
            p.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, theme.tr("No screens yet: add one")
            )
            p.end()
            return
        k, ox, oy = self._scale()
        sel = (self.editor.screen_name, self.editor.region_id)
        for s in self.doc.screens:
            frame = QRectF(
                ox + int(s["x"]) * k,
                oy + int(s["y"]) * k,
                int(s["width"]) * k,
                int(s["height"]) * k,
            )
            p.fillRect(frame, QColor("#20242c"))  # the bezel
            for r in self.doc.regions(s["name"]):
                rr = self.region_rect(s, r)
                p.fillRect(rr.adjusted(1, 1, -1, -1), QColor(PANEL_COLOUR.get(r["panel"], "#333")))
                chosen = sel == (s["name"], r["id"])
                p.setPen(QPen(theme.WARN if chosen else QColor("#0a0d14"), 3 if chosen else 1.5))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(rr.adjusted(1, 1, -1, -1))
                p.setPen(theme.TEXT)
                p.setFont(theme.font(max(10.0, min(18.0, rr.height() / 5)), bold=True))
                opts = r.get("options") or {}
                extra = (
                    f"\n{opts['rows']}×{opts['cols']}"
                    if r["panel"] == "video" and "rows" in opts
                    else ""
                )
                if opts.get("linkage"):
                    extra += " " + theme.tr("linkage")
                p.drawText(
                    rr, Qt.AlignmentFlag.AlignCenter, f"{r['id']} · {theme.tr(r['panel'])}{extra}"
                )
            p.setPen(theme.INFO if s["name"] == self.editor.screen_name else theme.TEXT_DIM)
            p.setFont(theme.font(14, bold=True))
            p.drawText(frame.adjusted(6, 2, -6, -2), Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft,
                       f"{s['name']}  {s['width']}×{s['height']}")  # fmt: skip
        if self._press is not None and self._now is not None:  # the stroke being drawn
            p.setPen(QPen(theme.WARN, 2, Qt.PenStyle.DashLine))
            p.drawLine(self._press[0], self._now)
        p.end()

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        h = self.hit(e.position())
        if h is None or h[1] is None:
            return
        self._press = (e.position(), h[0], h[1])
        self._now = e.position()
        self.editor.select(h[0], h[1])

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._press is not None:
            self._now = e.position()
            self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        press, self._press, self._now = self._press, None, None
        self.update()
        if press is None:
            return
        start, screen, rid = press
        end = e.position()
        d = end - start
        if abs(d.x()) + abs(d.y()) < MIN_STROKE_PX:
            return  # a click: selected already
        h = self.hit(end)
        other = h[1] if h is not None and h[0] == screen else None
        if other is not None and other != rid:
            self.editor.apply(lambda: self.doc.merge(screen, rid, other))
            return
        # a stroke within the region: cut across it
        s = self.doc.screen(screen)
        r = self.doc.region(screen, rid)
        rr = self.region_rect(s, r)
        c, rw, cs, rs = r["rect"]
        mid = (start + end) / 2
        if abs(d.x()) >= abs(d.y()):
            at = round((mid.y() - rr.y()) / rr.height() * rs)
            self.editor.apply(
                lambda: self.editor.select(screen, self.doc.split(screen, rid, "h", at))
            )
        else:
            at = round((mid.x() - rr.x()) / rr.width() * cs)
            self.editor.apply(
                lambda: self.editor.select(screen, self.doc.split(screen, rid, "v", at))
            )


class LayoutEditor(QWidget):
    """The editor window: canvas left, the selected region and screen right."""

    def __init__(self, doc: LayoutDoc, path: Path,
                 preview: Callable[[LayoutDoc, str, str], QPixmap | None] | None = None,
                 physical: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
        super().__init__()
        self.doc = doc
        self.path = path
        self.preview_fn = preview
        self.physical = physical or []
        self.screen_name: str | None = doc.screens[0]["name"] if doc.screens else None
        self.region_id: str | None = None
        self.setWindowTitle(f"wallclient · {theme.tr('Layout editor')} · {path.name}")
        self.setStyleSheet(
            f"QWidget {{ background: {theme.PANEL.name()}; color: {theme.TEXT.name()}; font-size: 16px; }}"
            f"QLineEdit, QPlainTextEdit, QSpinBox, QDoubleSpinBox, QComboBox, QListWidget {{"
            f" background: {theme.BG.name()}; border: 1px solid {theme.PANEL_EDGE.name()}; }}"
            f"QPushButton {{ background: {theme.PANEL_EDGE.name()}; padding: 6px 12px; }}"
            f"QPushButton:disabled {{ color: {theme.TEXT_DIM.name()}; }}"
        )
        self.canvas = WallCanvas(self)
        # toolbar
        self.mode = QComboBox()
        self.mode.addItem(theme.tr("Normal"), "normal")
        self.mode.addItem(theme.tr("Emergency"), "emergency")
        self.mode.currentIndexChanged.connect(lambda _i: self._set_mode(self.mode.currentData()))
        self.add_btn = QPushButton(theme.tr("Add screen"))
        self.add_btn.clicked.connect(
            lambda: self.apply(lambda: self.select(self.doc.add_screen(), "r1"))
        )
        self.del_btn = QPushButton(theme.tr("Remove screen"))
        self.del_btn.clicked.connect(self._remove_screen)
        self.undo_btn = QPushButton(theme.tr("Undo"))
        self.undo_btn.clicked.connect(self.undo)
        self.redo_btn = QPushButton(theme.tr("Redo"))
        self.redo_btn.clicked.connect(self.redo)
        self.save_btn = QPushButton(theme.tr("Save"))
        self.save_btn.clicked.connect(self.save)
        bar = QHBoxLayout()
        for w in (
            self.mode,
            self.add_btn,
            self.del_btn,
            self.undo_btn,
            self.redo_btn,
            self.save_btn,
        ):
            bar.addWidget(w)
        bar.addStretch(1)
        # the region
        self.rid = QLineEdit()
        self.panel = QComboBox()
        for name in PANELS:
            self.panel.addItem(theme.tr(name), name)
        # the region's options: a form made from the layout schema for the chosen panel
        self.options = OptionsForm()
        self.panel.currentIndexChanged.connect(
            lambda _i: self.options.switch_panel(self.panel.currentData())
        )
        self.region_apply = QPushButton(theme.tr("Apply to region"))
        self.region_apply.clicked.connect(self._apply_region)
        # the screen
        self.sname = QLineEdit()
        self.sx, self.sy, self.sw, self.sh = (QSpinBox() for _ in range(4))
        for sb in (self.sx, self.sy):
            sb.setRange(-32768, 32767)
        for sb in (self.sw, self.sh):
            sb.setRange(64, 16384)
        self.bh, self.bv = QDoubleSpinBox(), QDoubleSpinBox()
        for bz in (self.bh, self.bv):
            bz.setRange(0, 50)
            bz.setSuffix(" mm")
        self.screen_apply = QPushButton(theme.tr("Apply to screen"))
        self.screen_apply.clicked.connect(self._apply_screen)
        self.phys = QComboBox()
        for ph in self.physical:
            g = ph["geometry"]
            self.phys.addItem(
                f"{ph['name'] or theme.tr('(unnamed)')} {g[2]}×{g[3]} @ ({g[0]}, {g[1]})", ph
            )
        self.assign_btn = QPushButton(theme.tr("Assign this connected screen"))
        self.assign_btn.clicked.connect(self._assign)
        form = QFormLayout()
        form.addRow(QLabel(f"<b>{theme.tr('Region')}</b>"))
        form.addRow(theme.tr("Id"), self.rid)
        form.addRow(theme.tr("Panel"), self.panel)
        form.addRow(theme.tr("Options"), self.options)
        form.addRow(self.region_apply)
        form.addRow(QLabel(f"<b>{theme.tr('Screen')}</b>"))
        form.addRow(theme.tr("Name"), self.sname)
        form.addRow("x / y", _pair(self.sx, self.sy))
        form.addRow(theme.tr("Size"), _pair(self.sw, self.sh))
        form.addRow(theme.tr("Bezel"), _pair(self.bh, self.bv))
        form.addRow(self.screen_apply)
        form.addRow(theme.tr("Connected"), self.phys)
        form.addRow(self.assign_btn)
        self.errors = QListWidget()
        self.errors.setFixedHeight(120)
        self.preview = QLabel()
        self.preview.setFixedHeight(220)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(QLabel(f"<b>{theme.tr('Preview')}</b>"))
        side.addWidget(self.preview)
        side.addWidget(QLabel(f"<b>{theme.tr('Problems')}</b>"))
        side.addWidget(self.errors)
        body = QHBoxLayout()
        body.addWidget(self.canvas, 3)
        side_w = QWidget()
        side_w.setLayout(side)
        side_w.setFixedWidth(440)
        body.addWidget(side_w)
        root = QVBoxLayout(self)
        root.addLayout(bar)
        root.addLayout(body, 1)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.timeout.connect(self.render_preview)
        self.refresh()

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        """Ctrl+Z undo, Ctrl+Shift+Z or Ctrl+Y redo, Ctrl+S save."""
        if e.matches(QKeySequence.StandardKey.Undo):
            self.undo()
        elif e.matches(QKeySequence.StandardKey.Redo) or (
            e.key() == Qt.Key.Key_Y and e.modifiers() == Qt.KeyboardModifier.ControlModifier
        ):
            self.redo()
        elif e.matches(QKeySequence.StandardKey.Save):
            self.save()
        else:
            super().keyPressEvent(e)

    # --- changes --------------------------------------------------------------------

    def apply(self, change: Callable[[], Any]) -> bool:
        """Run one document change; a refused one is said in the problems list."""
        try:
            change()
        except (ValueError, KeyError) as exc:
            self.refresh(problem=str(exc).strip("'\""))
            return False
        self.refresh()
        return True

    def select(self, screen: str, region: str | None) -> None:
        self.screen_name, self.region_id = screen, region
        self._fill_forms()
        self.canvas.update()

    def undo(self) -> None:
        self.doc.undo()
        self._keep_selection()
        self.refresh()

    def redo(self) -> None:
        self.doc.redo()
        self._keep_selection()
        self.refresh()

    def save(self) -> bool:
        try:
            self.doc.save(self.path)
        except LayoutError:
            self.refresh(problem=theme.tr("Not saved: the layout has problems"))
            return False
        self.refresh(problem=theme.tr("Saved to %1").replace("%1", str(self.path)))
        return True

    def _keep_selection(self) -> None:
        names = [s["name"] for s in self.doc.screens]
        if self.screen_name not in names:
            self.screen_name = names[0] if names else None
        if (
            self.screen_name is not None
            and self.region_id is not None
            and all(r["id"] != self.region_id for r in self.doc.regions(self.screen_name))
        ):
            self.region_id = None

    def _set_mode(self, mode: str) -> None:
        self.doc.set_mode(mode)
        self.refresh()

    def _remove_screen(self) -> None:
        if self.screen_name is not None:
            name = self.screen_name
            self.apply(lambda: self.doc.remove_screen(name))
            self._keep_selection()
            self.refresh()

    def _apply_region(self) -> None:
        if self.screen_name is None or self.region_id is None:
            return
        screen, rid = self.screen_name, self.region_id
        try:
            opts = self.options.values()
        except ValueError as exc:
            self.refresh(problem=str(exc))
            return
        panel = self.panel.currentData()
        new_id = self.rid.text().strip()

        def change() -> None:
            self.doc.set_panel(screen, rid, panel, opts)
            if new_id and new_id != rid:
                self.doc.set_id(screen, rid, new_id)
                self.region_id = new_id

        self.apply(change)

    def _apply_screen(self) -> None:
        if self.screen_name is None:
            return
        old, new = self.screen_name, self.sname.text().strip() or self.screen_name
        fields = {"name": new, "x": self.sx.value(), "y": self.sy.value(), "width": self.sw.value(),
                  "height": self.sh.value(), "bezel_mm": [self.bh.value(), self.bv.value()]}  # fmt: skip

        def change() -> None:
            self.doc.set_screen(old, **fields)
            self.screen_name = new

        self.apply(change)

    def _assign(self) -> None:
        ph = self.phys.currentData()
        if self.screen_name is None or ph is None:
            return
        old = self.screen_name

        def change() -> None:
            self.doc.assign(old, ph)
            self.screen_name = ph["name"] or old

        self.apply(change)

    # --- showing ----------------------------------------------------------------------

    def _fill_forms(self) -> None:
        if self.screen_name is None:
            return
        s = self.doc.screen(self.screen_name)
        self.sname.setText(s["name"])
        self.sx.setValue(int(s["x"]))
        self.sy.setValue(int(s["y"]))
        self.sw.setValue(int(s["width"]))
        self.sh.setValue(int(s["height"]))
        bezel = s.get("bezel_mm", [0, 0])
        self.bh.setValue(float(bezel[0]))
        self.bv.setValue(float(bezel[1]))
        if self.region_id is not None:
            r = self.doc.region(self.screen_name, self.region_id)
            self.rid.setText(r["id"])
            self.panel.blockSignals(True)
            self.panel.setCurrentIndex(max(0, self.panel.findData(r["panel"])))
            self.panel.blockSignals(False)
            self.options.show_panel(r["panel"], dict(r.get("options") or {}))

    def refresh(self, problem: str | None = None) -> None:
        errors = self.doc.errors()
        self.errors.clear()
        if problem:
            self.errors.addItem(f"• {problem}")
        for e in errors:
            self.errors.addItem(f"✖ {e}")
        self.save_btn.setEnabled(not errors)  # only what validates can be saved
        self.undo_btn.setEnabled(self.doc.can_undo())
        self.redo_btn.setEnabled(self.doc.can_redo())
        self.del_btn.setEnabled(self.screen_name is not None)
        dirty = " *" if self.doc.dirty else ""
        self.setWindowTitle(f"wallclient · {theme.tr('Layout editor')} · {self.path.name}{dirty}")
        self._fill_forms()
        self.canvas.update()
        if not errors:
            self._preview_timer.start(300)

    def render_preview(self) -> None:
        """The selected screen as the wall will show it, from the cache (live preview)."""
        if self.preview_fn is None or self.screen_name is None or self.doc.errors():
            return
        pm = self.preview_fn(self.doc, self.screen_name, self.doc.mode)
        if pm is not None:
            self.preview.setPixmap(pm.scaled(self.preview.width(), self.preview.height(),
                                             Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))  # fmt: skip


def option_label(name: str) -> str:
    """An option's label in the wall's language (the schema's key when it has none)."""
    labels = {
        "rows": theme.tr("Rows"), "cols": theme.tr("Columns"), "spans": theme.tr("Merged tiles"),
        "linkage": theme.tr("Linkage tiles"), "categories": theme.tr("Categories"),
        "items": theme.tr("Items"), "ids": theme.tr("Indicator ids"), "sources": theme.tr("Sources"),
        "priorities": theme.tr("Priorities"), "regions": theme.tr("Regions"),
        "alert": theme.tr("Alert sound"), "level": theme.tr("Map level"), "kind": theme.tr("Kind"),
    }  # fmt: skip
    return labels.get(name, name)


class OptionsForm(QWidget):
    """A region's options as fields made from the layout schema (layout_edit.option_fields):
    numbers as spin boxes, switches as check boxes, choices as lists, lists as text.
    A field left at "default" writes nothing; options the schema does not know are kept."""

    DEFAULT = "—"

    def __init__(self) -> None:
        super().__init__()
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.fields: list[tuple[OptionField, QWidget]] = []
        self.kept: dict[str, Any] = {}
        self._shown: tuple[str, dict[str, Any]] | None = None
        self._remembered: dict[str, dict[str, Any]] = {}  # panel → its options, while choosing

    def show_panel(self, panel: str, options: dict[str, Any], choosing: bool = False) -> None:
        if self._shown == (panel, options):
            return  # as shown already: what is being typed (a refused value too) stays
        if not choosing:
            self._remembered = {}  # a region shown anew from the document
        self._shown = (panel, dict(options))
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields = []
        known = option_fields(panel)
        names = {f.name for f in known}
        self.kept = {k: v for k, v in options.items() if k not in names}
        for field in known:
            widget = self._widget(field, options.get(field.name))
            self.fields.append((field, widget))
            self.form.addRow(option_label(field.name), widget)
        if not known:
            self.form.addRow(QLabel(theme.tr("This panel has no options")))

    def _widget(self, field: OptionField, value: Any) -> QWidget:
        if field.kind == "int":
            spin = QSpinBox()
            low = field.minimum if field.minimum is not None else 0
            spin.setRange(low - 1, field.maximum if field.maximum is not None else 9999)
            spin.setSpecialValueText(self.DEFAULT)  # the value below the minimum: not set
            spin.setValue(int(value) if isinstance(value, int) else low - 1)
            return spin
        if field.kind == "bool":
            box = QCheckBox()
            box.setTristate(True)  # partly checked: not set
            box.setCheckState(Qt.CheckState.PartiallyChecked if value is None
                              else Qt.CheckState.Checked if value else Qt.CheckState.Unchecked)  # fmt: skip
            return box
        if field.kind == "enum":
            combo = QComboBox()
            combo.addItem(self.DEFAULT, None)
            for choice in field.choices:
                combo.addItem(choice, choice)
            combo.setCurrentIndex(max(0, combo.findData(value)) if value is not None else 0)
            return combo
        line = QLineEdit(field_text(field, value))
        line.setPlaceholderText(
            {"spans": "0, 0, 2, 2; …", "int_list": "1, 2", "list": "a, b"}.get(field.kind, "")
        )
        return line

    def values(self) -> dict[str, Any]:
        """The options as the form has them; ValueError names a field that does not parse."""
        out = dict(self.kept)
        for field, widget in self.fields:
            value: Any = None
            if isinstance(widget, QSpinBox):
                value = None if widget.value() < widget.minimum() + 1 else widget.value()
            elif isinstance(widget, QCheckBox):
                state = widget.checkState()
                value = (
                    None
                    if state == Qt.CheckState.PartiallyChecked
                    else state == Qt.CheckState.Checked
                )
            elif isinstance(widget, QComboBox):
                value = widget.currentData()
            elif isinstance(widget, QLineEdit):
                value = parse_field(field, widget.text())
            if value is not None:
                out[field.name] = value
        return out

    def switch_panel(self, panel: str) -> None:
        """Another panel chosen: its own form, with what was set for it earlier in this
        selection (trying another panel and coming back loses nothing; one panel's
        options are never written into another's)."""
        if self._shown is not None:
            with contextlib.suppress(ValueError):  # a value that does not parse: not kept
                self._remembered[self._shown[0]] = self.values()
        self.show_panel(panel, self._remembered.get(panel, {}), choosing=True)


def _pair(a: QWidget, b: QWidget) -> QWidget:
    w = QWidget()
    box = QHBoxLayout(w)
    box.setContentsMargins(0, 0, 0, 0)
    box.addWidget(a)
    box.addWidget(b)
    return w

"""The commander's tools at the wall: the preset palette and the emergency switch.

- **Palette** (Space or Ctrl+P): search as you type over name, scenario, pinyin
  initials ("fxft" finds 防汛防台) and full pinyin; grouped by scenario, emergency
  presets marked ⚠ and red; each preset's hotkey shown. Keyboard only: type, ↑/↓,
  Enter switches, Esc closes. The switch shows as pending until the backend's
  ``wall.state`` confirms it; a refusal is said plainly in the palette and the banner.
- **Hotkeys**: a preset's ``hotkey`` (F1–F12, 0–9) switches to it at once.
- **Emergency** (Ctrl+E): a confirmation over the screen — never a modal dialog, the
  wall keeps running — with the emergency presets to choose from (↑/↓); Enter goes
  into emergency mode with that preset, Esc cancels. **Back to normal** (Ctrl+N): the
  same confirmation, naming the preset that will come back.

A viewer gets none of this: the keys do nothing and no switching control is shown.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QKeyEvent
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
from wallclient.presets import HOTKEYS, Entry, PresetIndex

TYPING_PAUSE_MS = 60
CONFIRM_CLOSE_S = 30  # an unanswered confirmation closes by itself (nothing happens)


class Desk(Protocol):
    """What the palette asks of the composition root (wallclient.edges.commander)."""

    def may_switch(self) -> bool: ...

    def activate(self, preset: str) -> None: ...

    def emergency(self, preset: str | None) -> None: ...

    def normal(self) -> None: ...

    def view(self) -> dict[str, Any]: ...


def _style(scale: float) -> str:
    return (
        f"QFrame#palette, QFrame#confirm {{ background: {theme.PANEL.name()};"
        f" border: 3px solid {theme.INFO.name()}; }}"
        f"QLineEdit, QListWidget {{ background: {theme.BG.name()}; color: {theme.TEXT.name()};"
        f" font-size: {round(28 * scale)}px; border: 1px solid {theme.PANEL_EDGE.name()}; }}"
        f"QListWidget::item {{ padding: {round(6 * scale)}px; }}"
        f"QListWidget::item:selected {{ background: {theme.INFO.darker(160).name()}; }}"
        f"QLabel {{ color: {theme.TEXT_DIM.name()}; font-size: {round(22 * scale)}px; }}"
    )


class PresetPalette(QFrame):
    """Search box, the presets grouped by scenario, and the state of the last switch."""

    def __init__(
        self, ctx: Context, desk: Desk, scale: float, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.desk = desk
        self.index = PresetIndex()
        self._indexed: tuple[int, int, int] | None = None
        self.listed: list[str] = []  # the preset ids listed now, in order
        self.setObjectName("palette")
        self.setStyleSheet(_style(scale))
        box = QVBoxLayout(self)
        self.box = QLineEdit()
        self.box.setPlaceholderText(theme.tr("Preset name, scenario or pinyin initials"))
        self.box.installEventFilter(self)
        self.hint = QLabel(theme.tr("↑↓ choose · Enter switches · Esc closes"))
        self.results = QListWidget()
        self.results.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay in the box
        self.results.itemActivated.connect(lambda item: self._switch(item))
        self.state = QLabel("")
        self.state.setWordWrap(True)
        box.addWidget(self.box)
        box.addWidget(self.hint)
        box.addWidget(self.results, 1)
        box.addWidget(self.state)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.run)
        self.box.textChanged.connect(lambda _t: self._timer.start(TYPING_PAUSE_MS))

    def _reindex(self) -> None:
        presets = self.ctx.state.presets
        key = (id(presets), len(presets), hash(tuple(presets)))
        if key != self._indexed:
            self.index.build(presets)
            self._indexed = key

    def run(self) -> list[str]:
        """Search now; returns the preset ids listed, in order."""
        self._reindex()
        found = self.index.search(self.box.text())
        self.results.clear()
        ids: list[str] = []
        current = (self.ctx.state.wall or {}).get("preset")
        for scenario, entries in self.index.grouped(found):
            head = QListWidgetItem(f"— {scenario or theme.tr('Other')} —")
            head.setFlags(Qt.ItemFlag.NoItemFlags)  # a group header: not selectable
            head.setForeground(theme.TEXT_DIM)
            self.results.addItem(head)
            for e in entries:
                self.results.addItem(self._item(e, e.id == current))
                ids.append(e.id)
        self._select_first()
        self.show_state()
        self.listed = ids
        return ids

    def _item(self, e: Entry, current: bool) -> QListWidgetItem:
        mark = f"⚠ {theme.tr('Emergency')} · " if e.emergency else ""
        key = f"[{e.hotkey}] " if e.hotkey else ""
        now = f"  ● {theme.tr('On the wall')}" if current else ""
        item = QListWidgetItem(
            f"{key}{mark}{e.name} · {theme.tr('%1 cameras').replace('%1', str(e.cameras))}{now}"
        )
        item.setData(Qt.ItemDataRole.UserRole, e.id)
        if e.emergency:
            item.setForeground(theme.ALARM)
        elif current:
            item.setForeground(theme.OK)
        return item

    def _select_first(self) -> None:
        for i in range(self.results.count()):
            if self.results.item(i).data(Qt.ItemDataRole.UserRole):
                self.results.setCurrentRow(i)
                return

    def _move(self, step: int) -> None:
        row = self.results.currentRow()
        n = self.results.count()
        i = row + step
        while 0 <= i < n:
            if self.results.item(i).data(Qt.ItemDataRole.UserRole):
                self.results.setCurrentRow(i)
                self.results.scrollToItem(self.results.item(i))
                return
            i += step

    def selected(self) -> str | None:
        item = self.results.currentItem()
        pid = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return str(pid) if pid else None

    def _switch(self, item: QListWidgetItem | None = None) -> None:
        pid = item.data(Qt.ItemDataRole.UserRole) if item is not None else self.selected()
        if pid:
            self.desk.activate(pid)
            self.show_state()

    def show_state(self) -> None:
        """The last switch: pending, refused (why), or a local override."""
        text, colour = switch_words(self.ctx, self.desk.view())
        self.state.setText(text)
        self.state.setStyleSheet(f"color: {colour.name()}; font-weight: bold;")

    def eventFilter(self, obj: Any, e: Any) -> bool:  # noqa: N802
        if obj is self.box and isinstance(e, QKeyEvent) and e.type() == QKeyEvent.Type.KeyPress:
            k = e.key()
            moving = k in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_Return, Qt.Key.Key_Enter)
            if moving and self._timer.isActive():  # a key straight after typing: search first
                self._timer.stop()
                self.run()
            if k in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._move(1 if k == Qt.Key.Key_Down else -1)
                return True
            if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._switch()
                return True
            if k == Qt.Key.Key_Escape:
                self.hide()
                return True
        return False


def switch_words(ctx: Context, view: dict[str, Any]) -> tuple[str, QColor]:
    """What the banner and the palette say of the last switch."""
    names = ctx.state.presets

    def what(w: dict[str, Any]) -> str:
        parts = []
        if w.get("preset"):
            parts.append(names.get(w["preset"], {}).get("name", w["preset"]))
        if w.get("mode"):
            parts.append(theme.tr("EMERGENCY") if w["mode"] == "emergency" else theme.tr("Normal"))
        return " · ".join(parts)

    if view.get("pending"):
        return "⟳ " + theme.tr("Switching: %1 (waiting for the backend)").replace(
            "%1", what(view["pending"])
        ), theme.INFO
    if view.get("refusal"):
        r = view["refusal"]
        return "✖ " + theme.tr("Switch refused: %1").replace(
            "%1", f"{what(r.get('what') or {})} — {theme.tr(r['code'])} {r.get('message') or ''}"
        ), theme.ALARM
    if view.get("local"):
        return "⚑ " + theme.tr("Local switch, not synchronised (backend unreachable)"), theme.WARN
    return "", theme.TEXT_DIM


class Confirm(QFrame):
    """Enter confirms, Esc cancels; never modal (the wall keeps painting and syncing)."""

    def __init__(self, title: str, scale: float, parent: QWidget,
                 choices: list[tuple[str, str]] | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setObjectName("confirm")
        self.setStyleSheet(_style(scale) + f"QLabel#title {{ color: {theme.ALARM.name()};"
                           f" font-size: {round(40 * scale)}px; font-weight: bold; }}")  # fmt: skip
        self.answer: bool | None = None
        self.on_answer: Any = None
        box = QVBoxLayout(self)
        self.title = QLabel(title)
        self.title.setObjectName("title")
        self.title.setWordWrap(True)
        box.addWidget(self.title)
        self.choices = QListWidget()
        self.choices.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for label, value in choices or []:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, value)
            self.choices.addItem(item)
        if choices:
            self.choices.setCurrentRow(0)
            box.addWidget(self.choices, 1)
        hint = QLabel(theme.tr("Enter confirms · Esc cancels"))
        box.addWidget(hint)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        QTimer.singleShot(CONFIRM_CLOSE_S * 1000, lambda: self._done(False))

    def choice(self) -> Any:
        item = self.choices.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        k = e.key()
        if k in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.choices.count():
            row = self.choices.currentRow() + (1 if k == Qt.Key.Key_Down else -1)
            self.choices.setCurrentRow(max(0, min(self.choices.count() - 1, row)))
        elif k in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._done(True)
        elif k == Qt.Key.Key_Escape:
            self._done(False)

    def _done(self, yes: bool) -> None:
        if self.answer is not None:
            return
        self.answer = yes
        callback, self.on_answer = self.on_answer, None
        self.hide()
        if callback is not None:
            callback(yes, self.choice())
        self.deleteLater()


def hotkey_of(e: QKeyEvent) -> str | None:
    """``F1``…``F12`` or ``0``…``9`` for a key without modifiers (Shift aside)."""
    if e.modifiers() & ~Qt.KeyboardModifier.ShiftModifier & ~Qt.KeyboardModifier.KeypadModifier:
        return None
    k = int(e.key())
    if int(Qt.Key.Key_F1) <= k <= int(Qt.Key.Key_F12):
        return f"F{k - int(Qt.Key.Key_F1) + 1}"
    if int(Qt.Key.Key_0) <= k <= int(Qt.Key.Key_9):
        return str(k - int(Qt.Key.Key_0))
    return None


__all__ = ["HOTKEYS", "Confirm", "PresetPalette", "hotkey_of", "switch_words"]

"""The incident card (事件卡片): everything about one incident, and what can be done to it.

Opened from the feed (right-click → 事件详情), the map (D with an incident in focus), a
pop-up (D) or the control API (``incident.card``). It shows every field, the pictures, the
handling history as a timeline (status changes, who, when, notes, units), the deadline
chain (响应 / 到场 15 min / 处置 30 min / 跟踪 120 min: met, met late, running, overdue),
the dispatched units with their status and distance, the nearest cameras; and the
actions the role allows: acknowledge and note (any role); dispatch — the nearest idle
units of a fitting kind (wallclient.incidents.FITTING_KINDS), by distance — and advance
the status (commander, installer); replay (事件回溯) where the backend records, and the
evidence export (证据导出, commander, installer: into ``[export] dir``). It follows
the state: a dispatch or a note shows when the backend's ``incident.upsert`` comes back.
A window of its own over the screen (above native video), in the screen's snapshot.
"""

from __future__ import annotations

import html
import time
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from panels import theme
from panels.hub import Context, Hub
from wallclient import geo
from wallclient.incidents import STATUS_ORDER, deadline_chain, fitting_kinds, nearest_units
from wallclient.protocol import CST, epoch

STATUS_WORDS = {"new": "New", "dispatched": "Dispatched", "arrived": "Arrived", "controlled": "Controlled",
                "closed": "Closed"}  # fmt: skip
KIND_WORDS = {"grid_worker": "Grid worker", "patrol_car": "Patrol car", "body_cam": "Body camera",
              "drone": "Drone", "pump_truck": "Pump truck"}  # fmt: skip
UNIT_WORDS = {"idle": "Idle", "enroute": "En route", "onsite": "On site", "offline": "Offline"}
DEADLINE_WORDS = {"respond": "Respond", "arrive": "Arrive", "control": "Control", "track": "Track"}
STATE_STYLE = {"met": (theme.OK, "●"), "late": (theme.WARN, "▲"), "running": (theme.INFO, "○"),
               "overdue": (theme.ALARM, "◆")}  # fmt: skip


def _hm(t: float | None) -> str:
    return datetime.fromtimestamp(t, CST).strftime("%H:%M:%S") if t else "—"


def _c(colour: Any) -> str:
    return str(colour.name())


class CardDesk:
    """The card of this node (one at a time), and the commands its buttons send."""

    def __init__(self, ctx: Context, hub: Hub, wall: Any, send: Any) -> None:
        self.ctx, self.hub, self.wall = ctx, hub, wall
        self.send = send  # (type, data) → None: a protocol command, its refusal shown on the card
        self.card: Card | None = None
        self.opened_ms: float | None = None
        self.pictures: Any = None  # panels.popup.PopupDesk: the decoded pictures, and fetching more
        self.export: Any = None  # (incident, done(folder, error)) → None: the evidence package
        hub.tick.connect(self._tick)

    def open(self, iid: str, over: QWidget | None = None) -> dict[str, Any] | None:
        from wallclient.errors import CommandError

        inc = self.ctx.state.incidents.get(iid)
        if inc is None:
            raise CommandError("not_found", f"no live incident {iid}")
        t0 = time.perf_counter()
        self.close()
        window = over.window() if over is not None else self.wall.windows[0]
        self.card = Card(window, self, iid)
        s = self.card.scale
        w, h = min(window.width() * 0.9, 1500 * s), min(window.height() * 0.9, 980 * s)
        centre = window.mapToGlobal(window.rect().center())
        self.card.setGeometry(int(centre.x() - w / 2), int(centre.y() - h / 2), int(w), int(h))
        self.card.show()
        self.card.raise_()
        self.card.setFocus()
        self.opened_ms = (time.perf_counter() - t0) * 1000
        return self.status()

    def close(self) -> None:
        if self.card is not None:
            self.card.hide()
            self.card.deleteLater()
            self.card = None

    def _tick(self, dirty: set[str]) -> None:
        if self.card is not None and dirty & {"incidents", "units", "cameras"}:
            if self.card.incident not in self.ctx.state.incidents:
                self.close()
            else:
                self.card.refresh()

    def status(self) -> dict[str, Any] | None:
        if self.card is None:
            return None
        return {"incident": self.card.incident, "opened_ms": round(self.opened_ms or 0, 1),
                "dispatch": [u for _d, u in self.card.candidates], "actions": self.card.allowed(),
                "message": self.card.message, "exported": self.card.exported}  # fmt: skip


class Card(QWidget):
    def __init__(self, over: QWidget, desk: CardDesk, incident: str) -> None:
        super().__init__(over, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint)  # fmt: skip
        self.over = over  # its snapshot includes the card
        self.desk, self.incident = desk, incident
        self.scale = float(getattr(over, "scale", 1.0))
        self.z = 2  # above the pop-ups in the screen's snapshot (and raised above them on X11)
        self.setObjectName("card")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.candidates: list[tuple[float, str]] = []
        self._drawn: tuple[str, str] | None = None  # the picture on the card (url, boxes)
        self.message = ""  # the last refusal or outcome, shown above the buttons
        self.exported: str | None = None  # the evidence folder written from this card
        self._exporting = False
        s = self.scale
        self.setStyleSheet(
            f"QWidget {{ background: {_c(theme.PANEL)}; color: {_c(theme.TEXT)}; font-size: {round(22 * s)}px; }}"
            f"#card {{ border: {max(2, round(4 * s))}px solid {_c(theme.INFO)}; }}"
            f"QPushButton {{ background: {_c(theme.PANEL_EDGE)}; border: 2px solid {_c(theme.TEXT_DIM)};"
            f" padding: {round(6 * s)}px {round(10 * s)}px; font-weight: bold; font-size: {round(20 * s)}px; }}"
            f"QPushButton:disabled {{ color: {_c(theme.STALE)}; border-color: {_c(theme.STALE)}; }}"
            f"QLineEdit {{ background: {_c(theme.BG)}; border: 2px solid {_c(theme.TEXT_DIM)}; padding: 6px; }}"
            f"QScrollArea {{ border: none; }}"
        )  # fmt: skip
        self.head = QLabel()
        self.fields = QLabel()
        self.deadlines = QLabel()
        self.history = QLabel()
        self.units = QLabel()
        self.cameras = QLabel()
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumHeight(round(240 * s))
        for lab in (self.fields, self.deadlines, self.history, self.units, self.cameras):
            lab.setTextFormat(Qt.TextFormat.RichText)
            lab.setWordWrap(True)
            lab.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.head.setTextFormat(Qt.TextFormat.RichText)
        self.said = QLabel()  # what the last action came to (a refusal, an export's folder)
        self.said.setWordWrap(True)
        self.said.hide()
        # a long history scrolls (newest first), the rest of the card stays put
        self.history_box = QScrollArea()
        self.history_box.setWidget(self.history)
        self.history_box.setWidgetResizable(True)
        self.history_box.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.note = QLineEdit()
        self.note.setPlaceholderText(theme.tr("Write a note, Enter to add"))
        self.note.returnPressed.connect(self._note)
        self.buttons = QHBoxLayout()
        self.dispatch_row = QHBoxLayout()
        grid = QGridLayout()
        grid.addWidget(self.fields, 0, 0)
        grid.addWidget(self.deadlines, 1, 0)
        grid.addWidget(self.units, 2, 0)
        grid.addWidget(self.cameras, 3, 0)
        grid.addWidget(self.picture, 0, 1)
        grid.addWidget(self.history_box, 1, 1, 3, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(round(18 * s), round(14 * s), round(18 * s), round(14 * s))
        layout.addWidget(self.head)
        layout.addLayout(grid, 1)
        layout.addLayout(self.dispatch_row)
        layout.addWidget(self.note)
        layout.addWidget(self.said)
        layout.addLayout(self.buttons)
        self._buttons: list[QPushButton] = []
        self.refresh()

    # --- what it shows -------------------------------------------------------------------

    def refresh(self) -> None:
        ctx = self.desk.ctx
        inc = ctx.state.incidents.get(self.incident)
        if inc is None:
            return
        s = self.scale
        now = ctx.data_now().timestamp()
        prio = int(inc.get("priority") or 4)
        colour = {1: theme.ALARM, 2: theme.WARN, 3: theme.INFO}.get(prio, theme.STALE)
        status = theme.tr(STATUS_WORDS.get(inc.get("status", ""), "New"))
        self.head.setText(
            f"<span style='color:{_c(colour)}; font-size:{round(34 * s)}px; font-weight:bold'>◆ P{prio}</span> "
            f"<span style='font-size:{round(34 * s)}px; font-weight:bold'>{html.escape(str(inc.get('title', '')))}</span>"
            f" <span style='color:{_c(theme.INFO)}; font-size:{round(26 * s)}px'>· {status}</span>"
        )  # fmt: skip
        region = ctx.state.regions.get(inc.get("region") or "", {}).get("name", inc.get("region") or "")
        rows = [
            (theme.tr("Incident"), inc.get("id")), (theme.tr("Category"), " / ".join(inc.get("category") or [])),
            (theme.tr("Source"), theme.SOURCE_STYLE.get(str(inc.get("source")), (None, inc.get("source")))[1]),
            (theme.tr("Region"), region), (theme.tr("Address"), inc.get("address") or "—"),
            (theme.tr("Reported"), _hm(epoch(str(inc.get("reported_at") or "")))),
            (theme.tr("Acknowledged"), f"{inc['acked_by']} {_hm(epoch(str(inc.get('acked_at') or '')))}"
             if inc.get("acked_by") else "—"),
            (theme.tr("Pictures"), str(len([m for m in inc.get("media") or [] if m.get("kind") == "image"]))),
        ]  # fmt: skip
        detail = html.escape(str(inc.get("detail") or ""))
        self.fields.setText("<table cellspacing=4>" + "".join(
            f"<tr><td style='color:{_c(theme.TEXT_DIM)}'>{html.escape(str(k))}</td><td><b>{html.escape(str(v))}</b></td></tr>"
            for k, v in rows) + f"</table><p style='color:{_c(theme.TEXT_DIM)}'>{detail}</p>")  # fmt: skip
        chain = []
        for d in deadline_chain(inc, now):
            col, mark = STATE_STYLE[d["state"]]
            left = d["left_s"]
            when = (f"{theme.tr('met')} {_hm(d['met'])}" if d["state"] in ("met", "late")
                    else (theme.tr("overdue") + f" {int(-left) // 60} min" if left < 0
                          else theme.tr("left") + f" {int(left) // 60}:{int(left) % 60:02d}"))  # fmt: skip
            chain.append(f"<span style='color:{_c(col)}'>{mark} <b>{theme.tr(DEADLINE_WORDS[d['kind']])}</b> "
                         f"{_hm(d['due'])} · {html.escape(when)}</span>")  # fmt: skip
        self.deadlines.setText(f"<b>{theme.tr('Deadlines')}</b><br>" + "<br>".join(chain))
        steps = []
        for h in reversed(inc.get("history") or []):
            what = []
            if h.get("status"):
                what.append(theme.tr(STATUS_WORDS.get(h["status"], h["status"])))
            if h.get("unit"):
                unit = ctx.state.units.get(h["unit"], {})
                what.append(html.escape(str(unit.get("name", h["unit"]))))
            if h.get("note"):
                what.append("“" + html.escape(str(h["note"])) + "”")
            steps.append(f"<span style='color:{_c(theme.TEXT_DIM)}'>{_hm(epoch(str(h.get('t') or '')))}</span> "
                         f"<b>{html.escape(str(h.get('by', '')))}</b> {' · '.join(what)}")  # fmt: skip
        self.history.setText(f"<b>{theme.tr('History')}</b><br>" + ("<br>".join(steps) or "—"))
        loc = geo.location(inc)
        sent = []
        for uid in inc.get("units") or []:
            u = ctx.state.units.get(uid) or {}
            dist = self._distance(u, loc)
            sent.append(f"{html.escape(str(u.get('name', uid)))} · {theme.tr(UNIT_WORDS.get(u.get('status', ''), 'Offline'))}"
                        + (f" · {dist:.0f} m" if dist is not None else ""))  # fmt: skip
        self.units.setText(f"<b>{theme.tr('Units on it')}</b><br>" + ("<br>".join(sent) or "—"))
        near = ctx.locator.grid.nearest(*loc, 3, accept=ctx.locator.online) if loc else []
        cams = [f"{html.escape(str(ctx.state.cameras.get(c, {}).get('name', c)))} · {d:.0f} m" for d, c in near]
        self.cameras.setText(f"<b>{theme.tr('Nearest cameras')}</b><br>" + ("<br>".join(cams) or "—"))
        self.candidates = nearest_units(ctx.state.units, *loc, fitting_kinds(inc)) if loc else []
        self._show_picture(inc)
        self._actions(inc)

    def _show_picture(self, inc: dict[str, Any]) -> None:
        """The first picture of what raised it (the pop-ups' store: fetched if not yet)."""
        from PySide6.QtGui import QImage, QPixmap

        source = self.desk.pictures
        media = source.image_of(inc) if source is not None else None
        if media is None:
            self.picture.setText(theme.tr("No picture with this alarm"))
            return
        pic = source.picture_for(inc)
        if pic is None:
            self.picture.setText(theme.tr("Loading the picture…"))
        elif pic.error:
            self.picture.setText(theme.tr("Picture unavailable: %1").replace("%1", str(pic.error)))
        else:
            key = (pic.url, str(media.get("boxes")))
            if key == self._drawn:
                return  # a refresh for a unit's move: the picture is as it was (no rescale)
            image = QImage(pic.rgb, pic.width, pic.height, pic.width * 3, QImage.Format.Format_RGB888)
            w = round(520 * self.scale)
            pm = QPixmap.fromImage(image).scaledToWidth(w, Qt.TransformationMode.SmoothTransformation)
            self._boxes(pm, media.get("boxes") or [])
            self.picture.setPixmap(pm)
            self._drawn = key
            return
        self._drawn = None

    def _boxes(self, pm: Any, boxes: list[Any]) -> None:
        """The analytics' boxes and labels over the picture, as on the pop-up."""
        from PySide6.QtCore import QRectF
        from PySide6.QtGui import QPainter, QPen

        s = self.scale
        p = QPainter(pm)
        p.setFont(theme.font(16 * s, bold=True))
        for box in boxes:
            try:
                r = QRectF(float(box["x"]) * pm.width(), float(box["y"]) * pm.height(),
                           float(box["w"]) * pm.width(), float(box["h"]) * pm.height())  # fmt: skip
            except (KeyError, TypeError, ValueError):
                continue
            p.setPen(QPen(theme.ALARM, 3 * s))
            p.drawRect(r)
            label = str(box.get("label") or "") + (f" {float(box['score']):.0%}" if box.get("score") is not None else "")
            tag = QRectF(r.left(), max(0.0, r.top() - 24 * s), p.fontMetrics().horizontalAdvance(label) + 10 * s, 22 * s)
            p.fillRect(tag, theme.ALARM)
            p.setPen(theme.BG)
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)
        p.end()

    @staticmethod
    def _distance(unit: dict[str, Any], loc: tuple[float, float] | None) -> float | None:
        ul = unit.get("location")
        if loc is None or not isinstance(ul, dict):
            return None
        return geo.distance_m(loc[0], loc[1], float(ul["lon"]), float(ul["lat"]))

    def allowed(self) -> list[str]:
        return [b.objectName() for b in self._buttons if b.isEnabled()]

    def _actions(self, inc: dict[str, Any]) -> None:
        """The buttons the role allows, made anew (the status and the units change them)."""
        for b in self._buttons:
            b.deleteLater()
        self._buttons = []
        ctx = self.desk.ctx
        steer = ctx.may("switch")  # commanders and installers
        st = inc.get("status", "new")

        def add(row: QHBoxLayout, name: str, text: str, fn: Any, enabled: bool = True) -> None:
            b = QPushButton(text)
            b.setObjectName(name)
            b.setEnabled(enabled)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(fn)
            row.addWidget(b)
            self._buttons.append(b)

        add(self.buttons, "ack", theme.tr("Acknowledge"), self._ack, not inc.get("acked_by"))
        if steer and st != "closed":
            for nxt in STATUS_ORDER[STATUS_ORDER.index(st) + 1 :] if st in STATUS_ORDER else ():
                add(self.buttons, f"advance:{nxt}", "→ " + theme.tr(STATUS_WORDS[nxt]), self._advance_to(nxt))
        if ctx.replay_incident is not None:
            add(self.buttons, "replay", theme.tr("Incident replay"), lambda: ctx.replay_incident(self.incident))
            if steer and self.desk.export is not None:
                text = theme.tr("Exporting…") if self._exporting else theme.tr("Export evidence")
                add(self.buttons, "export", text, self._export, not self._exporting)
        add(self.buttons, "close", theme.tr("Close (Esc)"), self.desk.close)
        if steer and st != "closed":
            for dist, uid in self.candidates[:3]:
                u = ctx.state.units.get(uid) or {}
                far = f"{dist / 1000:.1f} km" if dist >= 1000 else f"{dist:.0f} m"
                text = f"{theme.tr('Dispatch')} {u.get('name', uid)} · {far}"
                add(self.dispatch_row, f"dispatch:{uid}", text, self._dispatch_to(uid))

    # --- what it does -------------------------------------------------------------------

    def _say(self, text: str, bad: bool = True) -> None:
        if self.desk.card is not self:
            return  # an answer that came after the card closed
        self.message = text
        self.said.setText(("◆ " if bad else "● ") + text if text else "")
        self.said.setStyleSheet(f"color: {_c(theme.ALARM if bad else theme.OK)}; font-weight: bold;")
        self.said.setVisible(bool(text))

    def _export(self) -> None:
        """The incident's evidence package (its cameras' recordings around the report, the
        tiles as shown, the record and history, a manifest of hashes), off the GUI thread."""
        self._exporting = True
        self._say(theme.tr("Exporting the evidence…"), bad=False)
        self._actions(self.desk.ctx.state.incidents.get(self.incident) or {})

        def done(folder: str | None, error: str | None) -> None:
            if self.desk.card is not self:
                return  # closed meanwhile: the audit log and the folder say it
            self._exporting = False
            if folder is not None:
                self.exported = folder
                self._say(theme.tr("Evidence exported: %1").replace("%1", folder), bad=False)
            else:
                self._say(theme.tr("Export failed: %1").replace("%1", str(error)))
            self.refresh()

        self.desk.export(self.incident, done)

    def _ack(self) -> None:
        if self.desk.ctx.ack_incident is not None:
            self.desk.ctx.ack_incident(self.incident)

    def _note(self) -> None:
        text = self.note.text().strip()
        if text:
            self.desk.send("incident.note", {"incident": self.incident, "text": text}, self._say)
            self.note.clear()

    def _advance_to(self, status: str) -> Any:
        return lambda: self.desk.send("incident.advance", {"incident": self.incident, "status": status}, self._say)

    def _dispatch_to(self, uid: str) -> Any:
        return lambda: self.desk.send("incident.dispatch", {"incident": self.incident, "unit": uid}, self._say)

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Escape:
            self.desk.close()
        else:
            super().keyPressEvent(e)

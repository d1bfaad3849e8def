"""Alarm pop-ups (告警弹窗): a new priority-1 incident, or a video-AI / IoT alarm at or above
the configured priority, pops up over the wall with the picture that raised it.

The pop-up shows the picture (``media``) with the analytics' boxes and labels drawn over
it, the title, category, address, source, when it was reported and the running deadline;
Enter or a click on 确认 acknowledges it (any role), Esc puts it away; it closes by itself
after ``close_s`` or when the incident is acknowledged (here or anywhere). Several at once
queue with a count — never more than one pop-up per screen. The layout says where: the
regions whose options have ``"popups": true`` (one pop-up over each such region, on its
screen); a layout that marks none has no pop-ups. An unacknowledged alarm whose pop-up
would still be showing pops up again when the wall starts (from its cache, picture
included). A pop-up is a window of its own over the
screen (so it stays above libvlc's native video windows) and is in the screen's snapshot.

Pictures are fetched, kept and decoded off the GUI thread (wallclient.edges.pictures); a
picture that cannot be had never holds the pop-up up: it shows without it and says why.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QWidget

from panels import theme
from panels.hub import Context, Hub
from wallclient.incidents import NewAlarms
from wallclient.protocol import CST, epoch

log = logging.getLogger(__name__)

NEW_FOR_S = 600.0  # an incident reported longer ago than this does not pop up
PRIORITY_COLOUR = {1: theme.ALARM, 2: theme.WARN, 3: theme.INFO, 4: theme.STALE}
PRIORITY_SHAPE = {1: "diamond", 2: "triangle", 3: "circle", 4: "ring"}
DEADLINE_WORDS = {"respond": "Respond", "arrive": "Arrive", "control": "Control", "track": "Track"}
KEEP_PICTURES = 24


class _Bridge(QObject):
    """Pictures arrive on worker threads: handed to the GUI thread by a queued signal."""

    got = Signal(object)


class PopupDesk:
    """Which alarm pops up where, the queue, and the pictures."""

    def __init__(self, ctx: Context, hub: Hub, wall: Any, pictures: Any = None,
                 close_s: float = 60.0, ai_priority: int = 2) -> None:  # fmt: skip
        self.ctx, self.hub, self.wall = ctx, hub, wall
        self.store = pictures
        self.close_s = close_s
        self.ai_priority = ai_priority
        self.queue: list[str] = []
        self.popups: dict[str, Popup] = {}  # a place (screen/region) → its pop-up
        self.pictures: OrderedDict[str, Any] = OrderedDict()  # url → Picture (decoded), newest last
        self._asked: set[str] = set()
        self._new = NewAlarms((), NEW_FOR_S, self.pops)  # unacknowledged ones pop up again
        self._bridge = _Bridge()
        self._bridge.got.connect(self._picture)
        self.shown_total = 0
        self.on_picture: Any = None  # a picture arrived (the incident card shows it too)
        hub.tick.connect(self._tick)
        self._timer = QTimer()
        self._timer.timeout.connect(self._expire)
        self._timer.start(500)
        QTimer.singleShot(0, lambda: self._tick({"incidents"}, everything=True))  # the cache's

    def pops(self, inc: dict[str, Any]) -> bool:
        """Priority 1, or an analytics / sensor alarm at or above the configured priority."""
        prio = int(inc.get("priority") or 4)
        return prio == 1 or (inc.get("source") in ("video_ai", "iot") and prio <= self.ai_priority)

    # --- the queue ----------------------------------------------------------------------

    def _tick(self, dirty: set[str], everything: bool = False) -> None:
        if "incidents" not in dirty:
            return
        live = self.ctx.state.incidents
        changed = None if everything else self.hub.changed_ids("incidents")
        # a whole table (the cache at start, a snapshot): only what would still be showing
        # had the wall not restarted pops up again; single changes: the last ten minutes
        self._new.new_for_s = self.close_s if changed is None else NEW_FOR_S
        new = self._new.arrived(live, changed, self.ctx.server_now().timestamp())
        for iid in new:
            if not self._wanted(live[iid]):
                continue
            self.queue.append(iid)
            self._ask(live[iid])
        # acknowledged, closed or gone: out of the queue and off the screen
        self.queue = [i for i in self.queue if self._wanted(live.get(i))]
        for place, popup in list(self.popups.items()):
            if not self._wanted(live.get(popup.incident)):
                self._close(place)
            elif changed is None or popup.incident in changed:
                # its own incident only: a busy feed changes others ten times a second,
                # and a whole pop-up takes 10+ ms to paint (the queue it counts: _fill)
                popup.update()
        self._fill()

    @staticmethod
    def _wanted(inc: dict[str, Any] | None) -> bool:
        return inc is not None and not inc.get("acked_by") and inc.get("status") != "closed"

    def _places(self) -> list[tuple[str, QWidget, QRectF]]:
        """Where pop-ups go: (key, screen window, rectangle in it)."""
        out = []
        for w in self.wall.windows:
            for rid, panel in w.regions.items():
                if (getattr(panel, "options", None) or {}).get("popups"):
                    tl = panel.mapTo(w, panel.rect().topLeft())
                    out.append((f"{w.screen_.name}/{rid}", w, QRectF(tl.x(), tl.y(), panel.width(), panel.height())))
        return out

    def _fill(self) -> None:
        for key, window, area in self._places():
            if key in self.popups or not self.queue:
                continue
            iid = self.queue.pop(0)
            popup = Popup(window, self, iid, window.scale if hasattr(window, "scale") else 1.0)
            s = popup.scale
            w, h = min(area.width() * 0.9, 1100 * s), min(area.height() * 0.9, 820 * s)
            top_left = window.mapToGlobal(area.center().toPoint())
            popup.setGeometry(int(top_left.x() - w / 2), int(top_left.y() - h / 2), int(w), int(h))
            popup.show()
            if QGuiApplication.platformName() == "xcb":
                popup.raise_()
            self.popups[key] = popup
            self.shown_total += 1
            log.info("pop-up: incident %s on %s (%d queued)", iid, key, len(self.queue))
        for popup in self.popups.values():
            if popup.drawn_waiting != len(self.queue):
                popup.update()  # its foot says how many alarms wait

    def _close(self, key: str) -> None:
        popup = self.popups.pop(key, None)
        if popup is not None:
            popup.hide()
            popup.deleteLater()

    def _expire(self) -> None:
        now = time.monotonic()
        for key, popup in list(self.popups.items()):
            if now - popup.since >= self.close_s:
                self._close(key)
            else:
                popup.update_deadline()  # the deadline runs: that line alone
        self._fill()

    def dismiss(self, popup: Popup) -> None:
        for key, p in list(self.popups.items()):
            if p is popup:
                self._close(key)
        self._fill()

    def acknowledge(self, popup: Popup) -> None:
        if self.ctx.ack_incident is not None:
            self.ctx.ack_incident(popup.incident)
        popup.acking = True
        popup.update()

    # --- pictures ---------------------------------------------------------------------------

    def image_of(self, inc: dict[str, Any]) -> dict[str, Any] | None:
        return next((m for m in inc.get("media") or [] if m.get("kind") == "image" and m.get("url")), None)

    def picture_for(self, inc: dict[str, Any]) -> Any:
        """The incident's decoded picture, None while it is fetched (asked for here)."""
        media = self.image_of(inc)
        if media is None:
            return None
        got = self.pictures.get(media["url"])
        if got is None:
            self._ask(inc)
        return got

    def _ask(self, inc: dict[str, Any]) -> None:
        media = self.image_of(inc)
        if media is None or self.store is None or media["url"] in self._asked:
            return
        self._asked.add(media["url"])
        self.store.fetch(media["url"], self._bridge.got.emit)

    def _picture(self, picture: Any) -> None:
        self.pictures[picture.url] = picture
        self.pictures.move_to_end(picture.url)
        while len(self.pictures) > KEEP_PICTURES:
            old, _ = self.pictures.popitem(last=False)
            self._asked.discard(old)
        for popup in self.popups.values():
            popup.update()
        if self.on_picture is not None:
            self.on_picture()

    def status(self) -> dict[str, Any]:
        """``status.popup``: the incident each pop-up shows, the queue, the pictures."""
        shown = []
        for key, p in self.popups.items():
            inc = self.ctx.state.incidents.get(p.incident) or {}
            media = self.image_of(inc)
            pic = self.pictures.get(media["url"]) if media else None
            shown.append({"place": key, "incident": p.incident, "since_s": round(time.monotonic() - p.since, 1),
                          "picture": None if media is None else
                          {"ok": bool(pic and not pic.error), "error": pic.error if pic else None,
                           "pending": pic is None, "size": [pic.width, pic.height] if pic and not pic.error else None,
                           "cached": bool(pic and pic.cached)}})  # fmt: skip
        return {"incident": shown[0]["incident"] if shown else None, "shown": shown,
                "queued": list(self.queue), "total": self.shown_total,
                "places": [key for key, _w, _r in self._places()]}  # fmt: skip

    def close(self) -> None:
        self._timer.stop()
        for key in list(self.popups):
            self._close(key)
        if self.store is not None:
            self.store.close()


class Popup(QWidget):
    """One alarm over a screen: picture and boxes, what and where, the deadline, 确认."""

    def __init__(self, over: QWidget, desk: PopupDesk, incident: str, scale: float) -> None:
        super().__init__(over, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint)  # fmt: skip
        self.over = over  # the screen it is shown over (its snapshot includes it)
        self.z = 1  # above the timeline bar, below the incident card, in the snapshot
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.desk, self.incident, self.scale = desk, incident, scale
        self.since = time.monotonic()
        self.acking = False
        self._ack_rect = QRectF()
        self._image: tuple[str, QImage] | None = None
        self._scaled: tuple[str, int, int, QImage] | None = None  # the picture at its drawn size
        self._deadline_r = QRectF()  # where the countdown is drawn (the last full paint)
        self.drawn_waiting = -1  # the queue's length its foot says (the last full paint)

    def update_deadline(self) -> None:
        """Repaint the countdown's line alone (twice a second), not the whole pop-up."""
        if self._deadline_r.isEmpty():
            self.update()
        else:
            self.update(self._deadline_r.toAlignedRect())

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.desk.acknowledge(self)
        elif e.key() == Qt.Key.Key_Escape:
            self.desk.dismiss(self)
        elif e.key() == Qt.Key.Key_D and self.desk.ctx.open_card is not None:
            self.desk.ctx.open_card(self.incident, self.over)
        else:
            super().keyPressEvent(e)

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._ack_rect.contains(e.position()):
            self.desk.acknowledge(self)
        else:
            self.setFocus()

    def paintEvent(self, e: QPaintEvent) -> None:  # noqa: N802
        inc = self.desk.ctx.state.incidents.get(self.incident) or {}
        s = self.scale
        p = QPainter(self)
        line = self._deadline_r.toAlignedRect()
        if not line.isEmpty() and line.contains(e.rect()):  # the countdown alone (update_deadline)
            p.fillRect(line, theme.PANEL)
            self._deadline(p, inc, self._deadline_r)
            p.end()
            return
        r = QRectF(self.rect())
        prio = int(inc.get("priority") or 4)
        colour = PRIORITY_COLOUR.get(prio, theme.ALARM)
        p.fillRect(r, theme.PANEL)
        p.setPen(QPen(colour, 6 * s))
        p.drawRect(r.adjusted(3 * s, 3 * s, -3 * s, -3 * s))
        # the head: priority (colour and shape), category, source
        head = QRectF(r.left(), r.top(), r.width(), 70 * s)
        p.fillRect(head.adjusted(6 * s, 6 * s, -6 * s, 0), colour)
        theme.shape(p, PRIORITY_SHAPE.get(prio, "diamond"), QPointF(head.left() + 40 * s, head.center().y() + 3 * s),
                    14 * s, theme.BG)  # fmt: skip
        p.setPen(theme.BG)
        p.setFont(theme.font(30 * s, bold=True))
        cat = inc.get("category") or ["", "", ""]
        label = theme.SOURCE_STYLE.get(str(inc.get("source")), (None, str(inc.get("source", ""))))[1]
        source = theme.tr("Source") + " " + label
        p.drawText(head.adjusted(70 * s, 6 * s, -24 * s, 0), Qt.AlignmentFlag.AlignVCenter,
                   f"{theme.tr('Priority %1 alarm').replace('%1', str(prio))} · {cat[-1] if cat else ''}")  # fmt: skip
        p.setFont(theme.font(22 * s, bold=True))
        p.drawText(head.adjusted(0, 6 * s, -24 * s, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, source)
        # the text: title, address, reported, deadline
        y = head.bottom() + 14 * s
        p.setPen(theme.TEXT)
        p.setFont(theme.font(34 * s, bold=True))
        p.drawText(QRectF(r.left() + 24 * s, y, r.width() - 48 * s, 46 * s), Qt.AlignmentFlag.AlignVCenter,
                   p.fontMetrics().elidedText(str(inc.get("title", self.incident)), Qt.TextElideMode.ElideRight,
                                              int(r.width() - 48 * s)))  # fmt: skip
        y += 50 * s
        p.setFont(theme.font(24 * s))
        p.setPen(theme.TEXT_DIM)
        reported = epoch(str(inc.get("reported_at") or ""))
        when = datetime.fromtimestamp(reported, CST).strftime("%H:%M:%S") if reported else ""
        p.drawText(QRectF(r.left() + 24 * s, y, r.width() - 48 * s, 34 * s), Qt.AlignmentFlag.AlignVCenter,
                   p.fontMetrics().elidedText(f"{inc.get('address') or ''}  ·  {theme.tr('Reported')} {when}",
                                              Qt.TextElideMode.ElideRight, int(r.width() - 48 * s)))  # fmt: skip
        y += 40 * s
        self._deadline_r = QRectF(r.left() + 24 * s, y, r.width() - 48 * s, 38 * s)
        self._deadline(p, inc, self._deadline_r)
        y += 48 * s
        # the picture, its boxes and labels
        foot = 84 * s
        area = QRectF(r.left() + 24 * s, y, r.width() - 48 * s, r.bottom() - foot - y - 10 * s)
        self._picture(p, inc, area)
        # the foot: 确认 and the queue
        self._ack_rect = QRectF(r.right() - 24 * s - 260 * s, r.bottom() - foot + 8 * s, 260 * s, foot - 24 * s)
        p.fillRect(self._ack_rect, theme.STALE if self.acking else colour)
        p.setPen(theme.BG)
        p.setFont(theme.font(28 * s, bold=True))
        p.drawText(self._ack_rect, Qt.AlignmentFlag.AlignCenter,
                   theme.tr("Acknowledging…") if self.acking else theme.tr("Acknowledge (Enter)"))  # fmt: skip
        waiting = self.drawn_waiting = len(self.desk.queue)
        p.setPen(theme.WARN if waiting else theme.TEXT_DIM)
        p.setFont(theme.font(24 * s, bold=bool(waiting)))
        p.drawText(QRectF(r.left() + 24 * s, self._ack_rect.top(), r.width() / 2, self._ack_rect.height()),
                   Qt.AlignmentFlag.AlignVCenter,
                   ((theme.tr("%1 more alarms waiting").replace("%1", str(waiting)) + " · ") if waiting else "")
                   + theme.tr("D: card · Esc: put away"))  # fmt: skip
        p.end()

    def _deadline(self, p: QPainter, inc: dict[str, Any], r: QRectF) -> None:
        """The next deadline not yet met: how long is left, or how long it is overdue."""
        s = self.scale
        now = self.desk.ctx.data_now().timestamp()
        for kind in ("respond", "arrive", "control", "track"):
            at = epoch(str((inc.get("deadlines") or {}).get(kind) or ""))
            if at is None:
                continue
            left = at - now
            if left < -24 * 3600:
                continue
            overdue = left < 0
            mins, secs = divmod(int(abs(left)), 60)
            words = theme.tr(DEADLINE_WORDS[kind])
            text = (theme.tr("%1 overdue by %2") if overdue else theme.tr("%1 in %2")).replace("%1", words).replace(
                "%2", f"{mins:02d}:{secs:02d}")  # fmt: skip
            colour = theme.ALARM if overdue else (theme.WARN if left < 300 else theme.OK)
            theme.shape(p, "triangle" if overdue else "circle", QPointF(r.left() + 12 * s, r.center().y()), 10 * s, colour)
            p.setPen(colour)
            p.setFont(theme.font(28 * s, bold=True))
            p.drawText(r.adjusted(32 * s, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, text)
            return

    def _picture(self, p: QPainter, inc: dict[str, Any], area: QRectF) -> None:
        s = self.scale
        p.fillRect(area, QColor(0, 0, 0))
        media = self.desk.image_of(inc)
        pic = self.desk.pictures.get(media["url"]) if media else None
        if media is None or pic is None or pic.error:
            if media is None:
                text = theme.tr("No picture with this alarm")
            elif pic is None:
                text = theme.tr("Loading the picture…")
            else:
                head, _, detail = str(pic.error).partition(" (")
                text = theme.tr("Picture unavailable: %1").replace("%1", theme.tr(head) + (f" ({detail}" if detail else ""))
            p.setPen(theme.TEXT_DIM if pic is None else theme.WARN)
            p.setFont(theme.font(26 * s, bold=pic is not None))
            p.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
            return
        if self._image is None or self._image[0] != pic.url:
            image = QImage(pic.rgb, pic.width, pic.height, pic.width * 3, QImage.Format.Format_RGB888).copy()
            self._image = (pic.url, image)
        image = self._image[1]
        k = min(area.width() / image.width(), area.height() / image.height())
        w, h = round(image.width() * k), round(image.height() * k)
        at = QRectF(round(area.center().x() - w / 2), round(area.center().y() - h / 2), w, h)
        if self._scaled is None or self._scaled[:3] != (pic.url, w, h):
            # scaled once per picture and size, not in every paint (the countdown repaints
            # the pop-up twice a second: a smooth scale of a 720p picture each time was
            # 10–20 ms of the GUI thread)
            smooth = image.scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation)  # fmt: skip
            # in the backing store's own format: RGB888 was converted in every paint
            smooth = smooth.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
            self._scaled = (pic.url, w, h, smooth)
        p.drawImage(at.topLeft(), self._scaled[3])
        # the analytics' boxes: fractions of the picture, labelled with their score
        p.setFont(theme.font(22 * s, bold=True))
        for box in media.get("boxes") or []:
            try:
                b = QRectF(at.left() + float(box["x"]) * w, at.top() + float(box["y"]) * h,
                           float(box["w"]) * w, float(box["h"]) * h)  # fmt: skip
            except (KeyError, TypeError, ValueError):
                continue
            p.setPen(QPen(theme.ALARM, 4 * s))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(b)
            label = str(box.get("label") or "")
            if box.get("score") is not None:
                label += f" {float(box['score']):.0%}"
            tw = p.fontMetrics().horizontalAdvance(label) + 16 * s
            tag = QRectF(b.left(), max(at.top(), b.top() - 34 * s), tw, 32 * s)
            p.fillRect(tag, theme.ALARM)
            p.setPen(theme.BG)
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)

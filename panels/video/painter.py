"""How a video panel's tiles look: a header (name, region, state, tour page, linkage,
steering) cached as a picture until it changes, the rate and frame age drawn over it,
and the picture area — a frame 1:1 with black bars, a native tile's black, a frozen
picture marked, a replay framed in its own colour, or the state in words and shape.

Colour *and* shape for every state (STATE_STYLE). The painter reads the panel's tiles
and never changes what they show.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPixmap, QRegion

from panels import theme
from panels.video.geometry import centred, parts
from panels.video.model import source
from wallclient.edges.video import fit
from wallclient.replay import rfc3339
from wallclient.tiles import Tile

INFO_EVERY_S = 0.5  # the rate and frame age in a tile's header are refreshed this often

# state → (colour, shape, words): colour *and* shape for every state
STATE_STYLE = {
    "playing": (theme.OK, "circle", "Live"),
    "connecting": (theme.INFO, "ring", "Connecting"),
    "stale": (theme.WARN, "triangle", "Frozen"),
    "no_signal": (theme.ALARM, "square", "No signal"),
    "offline": (theme.ALARM, "diamond", "Camera offline"),
    "error": (theme.ALARM, "diamond", "Error"),
    "idle": (theme.STALE, "ring", "No picture"),
}


class _Place:
    """Where a tile's parts lie: its rectangle, header, picture area and the margins
    around them, in floating and whole pixels (the update region is in whole pixels)."""

    __slots__ = ("empty", "head", "head_px", "pic", "pic_px", "strips", "whole")

    def __init__(self, rect: QRectF, scale: float) -> None:
        self.empty = rect.isEmpty()
        self.whole = rect.toAlignedRect()
        self.head, self.pic = parts(rect, scale)
        self.head_px, self.pic_px = self.head.toAlignedRect(), self.pic.toAlignedRect()
        inner = rect.adjusted(3, 3, -3, -3)
        self.strips = [(strip, strip.toAlignedRect()) for strip in (
            QRectF(rect.left(), rect.top(), rect.width(), 3),
            QRectF(rect.left(), inner.bottom(), rect.width(), 3),
            QRectF(rect.left(), inner.top(), 3, inner.height()),
            QRectF(inner.right(), inner.top(), 3, inner.height()))]  # fmt: skip


class TilePainter:
    """Paints a VideoPanel's tiles; keeps the headers it drew until they change."""

    def __init__(self, panel: Any) -> None:
        self.panel = panel
        self._places: tuple[list[QRectF], float, list[_Place]] | None = None
        self._headers: dict[int, tuple[tuple[Any, ...], QPixmap]] = {}
        self._info: dict[int, tuple[float, str]] = {}
        self._replay_drawn: dict[int, float] = {}  # tile → when its recorded time was drawn

    def forget(self, i: int | None = None) -> None:
        """Draw tile ``i``'s header anew (None: every tile's)."""
        if i is None:
            self._headers.clear()
        else:
            self._headers.pop(i, None)

    def info_at(self, i: int) -> float:
        """When tile ``i``'s rate and frame age were last worked out."""
        return self._info.get(i, (0.0, ""))[0]

    def replay_drawn_at(self, i: int) -> float:
        return self._replay_drawn.get(i, 0.0)

    def replay_ended(self, i: int) -> None:
        self._replay_drawn.pop(i, None)
        self._headers.pop(i, None)

    def places(self) -> list[_Place]:
        """Every tile's parts, worked out once per geometry (the panel keeps its list of
        rectangles while its size, grid and maximised tile stay): a paint at 50 Hz does
        not build them anew for every tile it touches."""
        panel = self.panel
        rects = panel.rects()
        if self._places is None or self._places[0] is not rects or self._places[1] != panel.scale:
            self._places = (rects, panel.scale, [_Place(r, panel.scale) for r in rects])
        return self._places[2]

    def paint(self, e: QPaintEvent) -> None:
        panel = self.panel
        p = QPainter(panel)
        # The region, not its bounding rect: at 50 Hz the tiles with a new frame are
        # scattered over the panel, and their bounding rect would repaint every tile
        region = e.region()
        now = time.monotonic()
        for i, (tile, place) in enumerate(zip(panel.tiles, self.places(), strict=True)):
            if place.empty or not region.intersects(place.whole):
                continue
            if not place.pic_px.contains(region.boundingRect()):  # not a new frame's alone
                # the margins between tiles are this panel's too (it paints opaquely): a
                # thin frame, filled, so nothing of an earlier screen shows through the gaps
                for strip, aligned in place.strips:
                    if region.intersects(aligned):
                        p.fillRect(strip, theme.BG)
                # Each part clipped to its own rectangle: under the update region alone
                # (several tiles' rectangles at once) Qt draws an image span by span, 3–4 ×
                # slower
                if region.intersects(place.head_px):
                    p.setClipRect(place.head)
                    p.drawPixmap(place.head.topLeft(), self._header(i, tile, place.head, now))
                    self._info_text(i, tile, place.head, now, p)
            if region.intersects(place.pic_px):
                p.setClipRect(place.pic)
                if i in panel.replays:
                    self._replay_picture(p, i, tile, place.pic, now, region)
                else:
                    self._picture(p, tile, place.pic, now, region, panel.crop(i))
            p.setClipping(False)
        p.end()

    def _info_text(self, i: int, tile: Tile, r: QRectF, now: float, p: QPainter) -> None:
        """The rate and frame age, over the header's cached picture (they change with
        every frame: shown anew every INFO_EVERY_S, and never part of that picture, whose
        names and state took a text layout each time it was redrawn)."""
        player: Any = tile.player
        last = player.last_frame_at() if player is not None else None
        if tile.camera is None or tile.state not in ("playing", "stale") or last is None:
            return
        at, info = self._info.get(i, (0.0, ""))
        if now - at >= INFO_EVERY_S or not info:
            fps = player.fps(now)  # 0 until a native tile's polls have two counts
            age = f"{max(0.0, now - last) * 1000:.0f} ms"
            info = f"{fps:.0f} fps · {age}" if fps > 0 else age
            self._info[i] = (now, info)
        s = self.panel.scale
        p.setPen(theme.TEXT_DIM)
        p.setFont(theme.font(16 * s))
        p.drawText(QRectF(r.right() - 186 * s, r.top() + 34 * s, 178 * s, 26 * s),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, info)  # fmt: skip

    def _header(self, i: int, tile: Tile, r: QRectF, now: float) -> QPixmap:
        """A tile's header without its rate (``_info_text``), kept until it changes."""
        panel = self.panel
        tour = f"{panel.page + 1}/{panel.pages}" if panel.pages > 1 else ""
        link = panel.linked.get(i, ("", ""))[1]
        replaying = i in panel.replays
        steering = self._steering(i, tile)
        key = (tile.camera, tile.state, tour, link, replaying, steering,
               int(r.width()), int(r.height()))  # fmt: skip
        cached = self._headers.get(i)
        if cached is not None and cached[0] == key:
            return cached[1]
        s = self.panel.scale
        pm = QPixmap(max(1, int(r.width())), max(1, int(r.height())))
        pm.fill(theme.PANEL)
        p = QPainter(pm)
        r = QRectF(0, 0, r.width(), r.height())
        if tile.camera is not None:
            cam = source(panel.ctx.state, tile.camera) or {}
            region = panel.ctx.state.regions.get(cam.get("region") or "", {}).get("name", "")
            colour, shape, words = STATE_STYLE.get(tile.state, STATE_STYLE["idle"])
            if replaying:  # never "Live": the past has its own colour, shape and word
                colour, shape, words = theme.REPLAY, "rewind", "Replay"
                p.fillRect(QRectF(r.left(), r.top(), r.width(), 4 * s), theme.REPLAY)
            theme.shape(p, shape, QPointF(r.left() + 18 * s, r.top() + 20 * s), 9 * s, colour)
            p.setPen(theme.TEXT)
            p.setFont(theme.font(24 * s, bold=True))
            name_r = QRectF(r.left() + 34 * s, r.top(), r.width() - 220 * s, 38 * s)
            p.drawText(name_r, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       p.fontMetrics().elidedText(cam.get("name", tile.camera), Qt.TextElideMode.ElideRight, int(name_r.width())))  # fmt: skip
            p.setFont(theme.font(17 * s, bold=bool(link)))
            sub_r = QRectF(name_r.left(), name_r.bottom() - 4 * s, name_r.width(), 26 * s)
            if link:  # a linkage tile says so, and how far the camera is from the incident
                p.setPen(theme.INFO)
                p.drawText(sub_r, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, link)
                sub_r.setLeft(sub_r.left() + p.fontMetrics().horizontalAdvance(link) + 12 * s)
                p.setFont(theme.font(17 * s))
            part, ptz_text, holder, moving = steering
            if part is not None:  # digital zoom: where the enlarged part is, in small
                name_r.setRight(name_r.right() - 90 * s)
                sub_r.setRight(name_r.right())
                self._overview(p, QRectF(name_r.right() + 8 * s, r.top() + 8 * s, 80 * s, 45 * s), part)
            if holder:  # another user steers it: colour and shape and words
                p.setPen(theme.WARN)
                p.setFont(theme.font(17 * s, bold=True))
                theme.shape(p, "triangle", QPointF(sub_r.left() + 8 * s, sub_r.center().y()), 7 * s, theme.WARN)
                p.drawText(sub_r.adjusted(20 * s, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                           theme.tr("PTZ held by %1").replace("%1", holder))  # fmt: skip
            elif ptz_text:
                p.setPen(theme.INFO if moving else theme.TEXT_DIM)
                p.setFont(theme.font(17 * s, bold=moving))
                p.drawText(sub_r, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, ptz_text)
            else:
                p.setPen(theme.TEXT_DIM)
                p.drawText(sub_r, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, region)
            p.setPen(colour)
            p.setFont(theme.font(21 * s, bold=True))
            right = QRectF(r.right() - 186 * s, r.top(), 178 * s, 38 * s)
            label = theme.tr(words) + (f" · {tour}" if tour else "")
            p.drawText(right, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
        p.end()
        self._headers[i] = (key, pm)
        return pm

    def _steering(self, i: int, tile: Tile) -> tuple[Any, str, str | None, bool]:
        """What a header says of steering: the zoomed part, the PTZ position, who else
        holds the camera, whether this node moves it."""
        panel = self.panel
        part = panel.steer.zoom.get(i)
        rect = None if part is None else (round(part.left(), 3), round(part.top(), 3), round(part.width(), 3))
        cam = source(panel.ctx.state, tile.camera) or {}
        if not cam.get("ptz"):
            return rect, "", None, False
        st = cam.get("ptz_state") or {}
        text = ""
        if st:
            text = (f"{theme.tr('PTZ')} {float(st.get('pan_deg', 0)):.0f}°"
                    f"{float(st.get('tilt_deg', 0)):+.0f}° ×{float(st.get('zoom', 1)):.1f}")  # fmt: skip
        d = panel.ctx.ptz
        holder = d.holder(tile.camera) if d is not None and tile.camera else None
        moving = bool(d is not None and tile.camera and d.moving(tile.camera))
        return rect, text, holder, moving

    def _overview(self, p: QPainter, box: QRectF, zoomed: tuple[float, float, float]) -> None:
        """The whole picture in small, the enlarged part (x, y, size) marked in it."""
        part = QRectF(zoomed[0], zoomed[1], zoomed[2], zoomed[2])
        p.fillRect(box, QColor(0, 0, 0))
        p.setPen(theme.TEXT_DIM)
        p.drawRect(box)
        inner = QRectF(box.left() + part.left() * box.width(), box.top() + part.top() * box.height(),
                       max(3.0, part.width() * box.width()), max(3.0, part.height() * box.height()))  # fmt: skip
        p.fillRect(inner, theme.INFO)
        p.setPen(theme.TEXT)
        p.setFont(theme.font(14 * self.panel.scale, bold=True))
        p.drawText(box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                   f"×{1 / part.width():.1f} ")  # fmt: skip

    def _picture(
        self, p: QPainter, tile: Tile, r: QRectF, now: float, region: QRegion | None = None,
        crop: tuple[float, float, float, float] | None = None,
    ) -> None:
        s = self.panel.scale
        player: Any = tile.player
        if player is not None and player.native and tile.state in ("playing", "stale"):
            p.fillRect(r, Qt.GlobalColor.black)  # libvlc's window covers it while it plays
            if tile.state == "stale":  # that window is hidden: no frozen picture at all
                self._frozen(p, r, player.last_frame_at() or now, now)
            return
        picture = player is not None and player.frames() > 0 and tile.state in ("playing", "stale")
        if picture:
            self._frame(p, player.slot, r, region, crop)
            if tile.state == "stale":  # never pass a frozen picture off as live
                p.fillRect(r, QColor(0, 0, 0, 150))
                self._frozen(p, r, player.last_frame_at() or now, now)
            return
        p.fillRect(r, theme.BG)
        p.setPen(theme.PANEL_EDGE)
        p.drawRect(r.adjusted(0, 0, -1, -1))
        if tile.camera is None:
            p.setPen(theme.TEXT_DIM)
            p.setFont(theme.font(22 * s))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, theme.tr("No camera"))
            return
        colour, shape, words = STATE_STYLE.get(tile.state, STATE_STYLE["idle"])
        theme.shape(p, shape, r.center() - QPointF(0, 62 * s), 18 * s, colour)
        p.setPen(colour)
        p.setFont(theme.font(22 * s, bold=True))
        lines = [theme.tr(words)]
        if tile.error and tile.state in ("error", "no_signal"):
            lines.append(theme.tr(tile.error))  # the known reasons are translated
        retry = tile.retry_in(now)
        if retry is not None:
            lines.append(theme.tr("Reconnecting in %1 s").replace("%1", f"{retry:.0f}"))
        elif tile.state == "connecting" and tile.failures and tile.last_failure:
            # a retry: which attempt, and why the last one failed (a dead camera is not
            # taken for one that is just slow to answer)
            lines.append(theme.tr("Attempt %1 · last: %2").replace("%1", str(tile.failures + 1))
                         .replace("%2", theme.tr(tile.last_failure)))  # fmt: skip
        p.drawText(r.adjusted(8 * s, 40 * s, -8 * s, 0),
                   Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, "\n".join(lines))  # fmt: skip

    @staticmethod
    def _frame(
        p: QPainter, slot: Any, r: QRectF, region: QRegion | None,
        crop: tuple[float, float, float, float] | None = None,
    ) -> None:
        """A slot's front frame in the picture area ``r``: decoded at its own aspect to
        fit, so centred, 1:1, with black bars. A digital zoom's part (``crop``, fractions)
        is drawn over the whole picture: decoded for it larger, so ~1:1 too."""
        buf, w, h, pitch = slot.front_frame()  # ``buf`` held until drawn
        image = QImage(memoryview(buf), w, h, pitch, QImage.Format.Format_RGB32)
        if crop is not None:
            tw, th = fit(w, h, int(r.width()), int(r.height()))
            target = centred(r, tw, th)
            source = QRectF(crop[0] * w, crop[1] * h, crop[2] * w, crop[3] * h)
            p.fillRect(r, Qt.GlobalColor.black)
            p.drawImage(target, image, source)
            return
        at = centred(r, w, h)
        x, y = int(at.left()), int(at.top())
        if region is not None and QRect(x, y, w, h).contains(region.boundingRect()):
            p.drawImage(QPointF(x, y), image)  # a new frame: the picture alone (_frames)
            return
        for bar in (QRectF(r.left(), r.top(), r.width(), y - r.top()),
                    QRectF(r.left(), y + h, r.width(), r.bottom() - y - h),
                    QRectF(r.left(), y, x - r.left(), h),
                    QRectF(x + w, y, r.right() - x - w, h)):  # fmt: skip
            # only the bars (the picture's pixels are painted once), and only where the
            # update asks: a new frame repaints the picture alone (_frames)
            if (
                bar.width() > 0
                and bar.height() > 0
                and (region is None or region.intersects(bar.toAlignedRect()))
            ):
                p.fillRect(bar, Qt.GlobalColor.black)
        p.drawImage(QPointF(x, y), image)

    def _replay_picture(
        self, p: QPainter, i: int, tile: Tile, r: QRectF, now: float, region: QRegion
    ) -> None:
        """A replaying tile can never be taken for live: the picture inside a frame of
        the replay colour, "回放" with the speed, and the recorded time, always."""
        s = self.panel.scale
        player = self.panel.replays[i]
        self._replay_drawn[i] = now
        if player.gap:
            p.fillRect(r, theme.BG)
            theme.shape(p, "square", r.center() - QPointF(0, 40 * s), 16 * s, theme.REPLAY)
            p.setPen(theme.REPLAY)
            p.setFont(theme.font(28 * s, bold=True))
            p.drawText(r.adjusted(0, 10 * s, 0, 0), Qt.AlignmentFlag.AlignCenter,
                       theme.tr("No recording"))  # fmt: skip
        elif player.frames() and tile.state == "playing":
            self._frame(p, player.slot, r, region, self.panel.crop(i))
        else:
            p.fillRect(r, theme.BG)
            colour, shape, words = (
                (theme.ALARM, "diamond", tile.error or "Error") if tile.state == "error"
                else (theme.REPLAY, "ring", "Loading the recording")
            )  # fmt: skip
            theme.shape(p, shape, r.center() - QPointF(0, 40 * s), 16 * s, colour)
            p.setPen(colour)
            p.setFont(theme.font(22 * s, bold=True))
            head, _, detail = words.partition(": ")  # the known reason translated, its detail kept
            text = theme.tr(head) + (f"\n{detail[:120]}" if detail else "")
            p.drawText(r.adjusted(8 * s, 10 * s, -8 * s, 0),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)  # fmt: skip
        # the frame, the badge and the recorded time
        edge = max(3.0, 5 * s)
        p.setPen(Qt.PenStyle.NoPen)
        for bar in (QRectF(r.left(), r.top(), r.width(), edge),
                    QRectF(r.left(), r.bottom() - edge, r.width(), edge),
                    QRectF(r.left(), r.top(), edge, r.height()),
                    QRectF(r.right() - edge, r.top(), edge, r.height())):  # fmt: skip
            p.fillRect(bar, theme.REPLAY)
        clock = player.clock
        badge = theme.tr("Replay") + f" ×{clock.speed:g}" + (" ❚❚" if clock.paused else "")
        p.setFont(theme.font(22 * s, bold=True))
        bw = p.fontMetrics().horizontalAdvance(badge) + 52 * s
        box = QRectF(r.left() + edge, r.top() + edge, bw, 38 * s)
        p.fillRect(box, theme.REPLAY)
        theme.shape(p, "rewind", QPointF(box.left() + 20 * s, box.center().y()), 8 * s, theme.BG)
        p.setPen(theme.BG)
        p.drawText(box.adjusted(36 * s, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, badge)
        at = player.shown_at()
        if at is not None:
            text = rfc3339(at)[:23].replace("T", " ")
            p.setFont(theme.font(24 * s, bold=True))
            tw = p.fontMetrics().horizontalAdvance(text) + 24 * s
            tbox = QRectF(r.right() - edge - tw, r.bottom() - edge - 40 * s, tw, 40 * s)
            p.fillRect(tbox, QColor(0, 0, 0, 190))
            p.setPen(theme.REPLAY)
            p.drawText(tbox, Qt.AlignmentFlag.AlignCenter, text)

    def _frozen(self, p: QPainter, r: QRectF, last: float, now: float) -> None:
        s = self.panel.scale
        theme.shape(p, "triangle", r.center() - QPointF(0, 30 * s), 16 * s, theme.WARN)
        p.setPen(theme.WARN)
        p.setFont(theme.font(26 * s, bold=True))
        p.drawText(r.adjusted(0, 30 * s, 0, 0), Qt.AlignmentFlag.AlignCenter,
                   theme.tr("Frozen for %1 s").replace("%1", f"{now - last:.0f}"))  # fmt: skip

"""The video grid of a layout region: the active preset's cameras on rows × cols tiles.

Each tile plays one camera through a pooled player (wallclient.edges.video) and
says honestly what it shows (wallclient.tiles): connecting, playing, stale (a frozen
picture is marked as such), no signal, offline, error with its reason, and the
countdown to the next reconnect. The preset's cameras run over every video tile of
this node in order; with more cameras than tiles the tiles tour, the page computed
from server time so every node of the wall shows the same page.

Frames are taken from the players' slots on a 25 Hz timer and only tiles with a new
frame are repainted; tile states are decided four times a second. Double-click a
tile to maximise it (the main stream when it is large enough), Esc to return.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
)

from panels import theme
from panels.hub import Context, Hub, Panel
from wallclient import tiles as rules
from wallclient.protocol import epoch
from wallclient.tiles import Tile

FRAME_MS = 40  # look for new frames at 25 Hz
INFO_EVERY_S = 0.5  # the rate and frame age under a picture are refreshed this often
STEP_MS = 250  # decide tile states four times a second

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


def tile_rects(rows: int, cols: int, spans: list[list[int]], w: float, h: float) -> list[QRectF]:
    """Tile rectangles in reading order; a span covers several cells with one tile."""
    taken: set[tuple[int, int]] = set()
    out: list[tuple[int, int, QRectF]] = []
    cw, ch = w / cols, h / rows
    for r0, c0, rs, cs in spans:
        cells = {(r, c) for r in range(r0, r0 + rs) for c in range(c0, c0 + cs)}
        if cells & taken:
            continue
        taken |= cells
        out.append((r0, c0, QRectF(c0 * cw, r0 * ch, cs * cw, rs * ch)))
    for r in range(rows):
        for c in range(cols):
            if (r, c) not in taken:
                out.append((r, c, QRectF(c * cw, r * ch, cw, ch)))
    out.sort(key=lambda t: (t[0], t[1]))
    return [rect for _, _, rect in out]


class VideoPanel(Panel):
    """A grid of camera tiles fed by the active preset (tour pages when it has more cameras)."""

    def __init__(
        self, ctx: Context, hub: Hub, scale: float, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(ctx, hub, scale, options)
        self.rows = int(self.options.get("rows", 3))
        self.cols = int(self.options.get("cols", 3))
        self.spans = list(self.options.get("spans", []))
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.count = len(tile_rects(self.rows, self.cols, self.spans, 1, 1))
        self.tiles = [Tile() for _ in range(self.count)]
        self.offset = 0  # this panel's first tile among all video tiles of the node
        self.node_tiles = self.count  # all video tiles of the node (the Wall sets both)
        self.page = 0
        self.pages = 1
        self.maximised: int | None = None
        self.screen_name = ""
        self.region_id = ""
        self._overlays: dict[int, tuple[tuple[Any, ...], QPixmap]] = {}
        self._info: dict[int, tuple[float, str]] = {}
        self._frame_timer = QTimer(self)
        self._frame_timer.timeout.connect(self._frames)
        self._frame_timer.start(FRAME_MS)
        self._step_timer = QTimer(self)
        self._step_timer.timeout.connect(self.step)
        self._step_timer.start(STEP_MS)
        self.listen(self._tick)
        self.assign()

    # --- which camera on which tile --------------------------------------------------

    def place_on_node(self, offset: int, node_tiles: int) -> None:
        self.offset, self.node_tiles = offset, max(node_tiles, self.count)
        self.assign()

    def _tick(self, dirty: set[str]) -> None:
        if dirty & {"wall", "presets", "clock"}:
            self.assign()
        if dirty & {"wall", "presets", "cameras"}:
            self.step()

    def assign(self) -> None:
        """Put the preset's cameras of the current tour page on the tiles."""
        wall = self.ctx.state.wall or {}
        preset = self.ctx.state.presets.get(wall.get("preset") or "")
        cams: list[str] = list(preset["cameras"]) if preset else []
        self.pages = rules.pages_of(cams, self.node_tiles)
        changed_at = epoch(wall.get("changed_at") or "") or 0.0
        dwell = float((preset or {}).get("dwell_s") or 15)
        self.page = rules.tour_page(
            self.ctx.server_now().timestamp(), changed_at, dwell, self.pages
        )
        page = rules.page_cameras(cams, self.node_tiles, self.page)
        moved = False
        for i, tile in enumerate(self.tiles):
            cam = page[self.offset + i] if self.offset + i < len(page) else None
            if tile.assign(cam):
                self._drop(tile)
                moved = True
        if moved:
            self.step()
            self.update()

    # --- players ---------------------------------------------------------------------

    def step(self) -> None:
        """Decide every tile's state and start or stop players accordingly."""
        pool = self.ctx.video
        now = time.monotonic()
        visible = self.isVisible()
        rects = self._rects()
        for i, (tile, rect) in enumerate(zip(self.tiles, rects, strict=True)):
            shown = visible and (self.maximised is None or self.maximised == i)
            cam = self.ctx.state.cameras.get(tile.camera or "")
            before = tile.state
            if not shown or pool is None:
                self._drop(tile)  # no decoding for what is not visible
                offline = cam is not None and cam.get("status") == "offline"
                tile.state = "offline" if offline else "idle"
                if tile.state != before:
                    self.update(rect.toAlignedRect())
                continue
            # decoded at the size it is drawn (inside the 3 px margin): a 1:1 blit
            w, h = _even(rect.width() - 6), _even(rect.height() - 6)
            for action in tile.step(now, cam, w, h):
                if action.kind == "stop":
                    pool.release(action.player)
                elif action.kind == "start" and cam is not None and action.stream:
                    url = (cam.get("streams") or {}).get(action.stream)
                    player = pool.acquire(url, w, h) if url else None
                    if player is None:
                        tile.state = "error"
                        tile.error = f"decoder budget ({pool.max_live}) reached"
                        tile.retry_at = now + 5
                    tile.player = player
            if tile.state != before or tile.retry_in(now) is not None:
                self.update(rect.toAlignedRect())  # a new state, or its countdown moved

    def _drop(self, tile: Tile) -> None:
        if tile.player is not None and self.ctx.video is not None:
            self.ctx.video.release(tile.player)  # type: ignore[arg-type]
        tile.player = None

    def _frames(self) -> None:
        rects = None
        for i, tile in enumerate(self.tiles):
            player: Any = tile.player
            if player is not None and player.slot.take():
                rects = rects or self._rects()
                self.update(rects[i].toAlignedRect())

    def detach(self) -> None:
        """Leaving the wall (mode switch): hand the players back to the pool."""
        self._frame_timer.stop()
        self._step_timer.stop()
        for tile in self.tiles:
            self._drop(tile)
        super().detach()

    # --- geometry and gestures -------------------------------------------------------

    def _rects(self) -> list[QRectF]:
        rects = tile_rects(self.rows, self.cols, self.spans, self.width(), self.height())
        if self.maximised is not None:
            full = QRectF(0, 0, self.width(), self.height())
            return [full if i == self.maximised else QRectF() for i in range(len(rects))]
        return rects

    def cameras(self) -> list[str | None]:
        """The camera id on each tile."""
        return [t.camera for t in self.tiles]

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self.maximised is not None:
            self.restore()
            return
        for i, r in enumerate(self._rects()):
            if r.contains(e.position()):
                self.maximise(i)
                return

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Escape and self.maximised is not None:
            self.restore()
            return
        super().keyPressEvent(e)

    def maximise(self, index: int) -> None:
        """One tile over the whole region, with the main stream when it is that large."""
        self.maximised = index
        self.setFocus()
        self.step()
        self.update()

    def restore(self) -> None:
        self.maximised = None
        self.step()
        self.update()

    def resizeEvent(self, e: Any) -> None:  # noqa: N802
        super().resizeEvent(e)
        self.step()

    # --- what it shows ---------------------------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        """Every tile for the control API's ``status`` (control-api.md)."""
        now = time.monotonic()
        out = []
        for i, tile in enumerate(self.tiles):
            player: Any = tile.player
            last = player.last_frame_at() if player is not None else None
            retry = tile.retry_in(now)
            out.append({
                "screen": self.screen_name, "region": self.region_id, "index": i,
                "camera": tile.camera, "stream": tile.stream if tile.camera else None,
                "state": tile.state,
                "fps": round(player.fps(now), 1) if player is not None else 0.0,
                "frame_age_ms": None if last is None else round((now - last) * 1000),
                "error": tile.error,
                "route": player.route if player is not None else None,
                "retry_in_s": None if retry is None else round(retry, 1),
                "page": self.page, "pages": self.pages,
            })  # fmt: skip
        return out

    def snapshot_tile(self, index: int, path: str) -> bool:
        """One tile, as shown, to a PNG."""
        rects = self._rects()
        if not 0 <= index < len(rects) or rects[index].isEmpty():
            return False
        return bool(self.grab(rects[index].toAlignedRect()).save(path))

    def paintEvent(self, e: QPaintEvent) -> None:  # noqa: N802
        s = self.scale
        p = QPainter(self)
        clip = QRectF(e.rect())
        p.fillRect(e.rect(), theme.BG)
        now = time.monotonic()
        for i, (tile, rect) in enumerate(zip(self.tiles, self._rects(), strict=True)):
            if rect.isEmpty() or not rect.intersects(clip):
                continue
            self._paint_tile(p, i, tile, rect.adjusted(3, 3, -3, -3), now, s)
        if self.pages > 1 and self.maximised is None:
            p.setPen(theme.TEXT)
            p.setFont(theme.font(20 * s, bold=True))
            p.drawText(QRectF(self.rect()).adjusted(0, 0, -12, -8), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                       theme.tr("Tour: %1 pages").replace("%1", str(self.pages)) + f" · {self.page + 1}")  # fmt: skip
        p.end()

    def _paint_tile(self, p: QPainter, i: int, tile: Tile, r: QRectF, now: float, s: float) -> None:
        player: Any = tile.player
        picture = player is not None and player.frames() > 0 and tile.state in ("playing", "stale")
        if picture:
            slot = player.slot
            image = QImage(memoryview(slot.front()), slot.width, slot.height, slot.pitch,
                           QImage.Format.Format_RGB32)  # fmt: skip
            p.drawImage(r, image)
            if tile.state == "stale":  # never pass a frozen picture off as live
                p.fillRect(r, QColor(0, 0, 0, 130))
        else:
            p.fillRect(r, theme.PANEL)
        # The overlay (name, region, state, rate) changes far less often than the
        # picture: drawn once into a pixmap and blitted with every frame.
        last = player.last_frame_at() if player is not None else None
        info = ""
        if picture and last is not None:
            shown = self._info.get(i)
            if shown is None or now - shown[0] >= INFO_EVERY_S:
                shown = self._info[i] = (now, f"{player.fps(now):.0f} fps · {(now - last) * 1000:.0f} ms")
            info = shown[1]
        retry = tile.retry_in(now)
        stale_for = int(now - last) if tile.state == "stale" and last is not None else 0
        key = (tile.camera, tile.state, tile.error, None if retry is None else int(retry + 0.99),
               info, stale_for, picture, int(r.width()), int(r.height()))  # fmt: skip
        cached = self._overlays.get(i)
        if cached is None or cached[0] != key:
            pm = QPixmap(max(1, int(r.width())), max(1, int(r.height())))
            pm.fill(Qt.GlobalColor.transparent)
            op = QPainter(pm)
            self._overlay(op, tile, QRectF(0, 0, r.width(), r.height()), s, picture, info, key[3], stale_for)
            op.end()
            cached = self._overlays[i] = (key, pm)
        pm = cached[1]
        if picture and tile.state == "playing":
            # over a live picture the overlay is only the top strip and the rate: blend
            # just those (a whole-tile blend per frame costs as much as the decode)
            strip = QRectF(0, 0, r.width(), 62 * s)
            rate = QRectF(r.width() - 220 * s, r.height() - 34 * s, 220 * s, 34 * s)
            for part in (strip, rate):
                p.drawPixmap(part.translated(r.topLeft()), pm, part)
        else:
            p.drawPixmap(r.topLeft(), pm)

    def _overlay(self, p: QPainter, tile: Tile, r: QRectF, s: float, picture: bool, info: str,
                 retry: int | None, stale_for: int) -> None:  # fmt: skip
        p.setPen(theme.PANEL_EDGE)
        p.drawRect(r.adjusted(0, 0, -1, -1))
        if tile.camera is None:
            p.setPen(theme.TEXT_DIM)
            p.setFont(theme.font(22 * s))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, theme.tr("No camera"))
            return
        cam = self.ctx.state.cameras.get(tile.camera, {})
        region = self.ctx.state.regions.get(cam.get("region") or "", {}).get("name", "")
        # name and region on a dark strip, readable over any picture
        strip = QRectF(r.left(), r.top(), r.width(), 62 * s)
        p.fillRect(strip, QColor(7, 11, 20, 170))
        p.setPen(theme.TEXT)
        p.setFont(theme.font(24 * s, bold=True))
        name_r = QRectF(r.left() + 10 * s, r.top() + 4 * s, r.width() - 190 * s, 32 * s)
        p.drawText(name_r, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   p.fontMetrics().elidedText(cam.get("name", tile.camera), Qt.TextElideMode.ElideRight, int(name_r.width())))  # fmt: skip
        p.setPen(theme.TEXT_DIM)
        p.setFont(theme.font(18 * s))
        p.drawText(QRectF(name_r.left(), name_r.bottom(), name_r.width(), 24 * s), Qt.AlignmentFlag.AlignLeft, region)
        colour, shape, words = STATE_STYLE.get(tile.state, STATE_STYLE["idle"])
        badge = QRectF(r.right() - 180 * s, r.top() + 8 * s, 172 * s, 34 * s)
        theme.shape(p, shape, badge.topLeft() + QRectF(0, 0, 30 * s, 34 * s).center(), 10 * s, colour)
        p.setPen(colour)
        p.setFont(theme.font(20 * s, bold=True))
        p.drawText(badge.adjusted(30 * s, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, theme.tr(words))
        if info:  # the age of what is shown, and the rate
            p.setFont(theme.font(16 * s))
            p.setPen(theme.TEXT if tile.state == "playing" else theme.WARN)
            p.drawText(r.adjusted(0, 0, -10 * s, -6 * s), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, info)
        if not picture:
            theme.shape(p, shape, r.center(), 18 * s, colour)
            p.setPen(colour)
            p.setFont(theme.font(22 * s, bold=True))
            lines = [theme.tr(words)]
            if tile.error and tile.state in ("error", "no_signal"):
                lines.append(tile.error)
            if retry is not None:
                lines.append(theme.tr("Reconnecting in %1 s").replace("%1", str(retry)))
            p.drawText(r.adjusted(8 * s, 60 * s, -8 * s, 0), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, "\n".join(lines))
        elif tile.state == "stale":
            p.setPen(theme.WARN)
            p.setFont(theme.font(26 * s, bold=True))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, theme.tr("Frozen for %1 s").replace("%1", str(stale_for)))


def _even(v: float) -> int:
    return max(16, int(v) // 2 * 2)

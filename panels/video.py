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

import os
import time
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QRegion,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from panels import theme
from panels.hub import Context, Hub, Panel
from panels.search import MIME
from panels.steer import Steering
from wallclient import tiles as rules
from wallclient.edges.video import fit, native_kind, native_window
from wallclient.protocol import epoch
from wallclient.replay import rfc3339
from wallclient.tiles import Tile

FRAME_MS = 20  # look for new frames at 50 Hz: twice a 25 fps stream, so none is skipped
FAST_FRAME_MS = 8  # … at 125 Hz while a replay runs faster than real time
# the tiles of one replay clock wait at most this long for each other: at 4× a tile that
# decodes four times the frames can lag a few steps behind on a loaded 2-core PC, and at
# 80 ms the others moved on without it (a spread of one step, 160 ms of recorded time)
HOLD_S = 0.25
TOGETHER_S = 0.1  # … for pictures of moments no further apart than this
NATIVE_POLL_MS = 200  # … or, when libvlc draws every tile itself, count its frames at 5 Hz
INFO_EVERY_S = 0.5  # the rate and frame age in a tile's header are refreshed this often
HEADER_PX = 64  # a tile's header above its picture (at 1080 p)
STEP_MS = 250  # decide tile states four times a second
PRESTART_S = 4.0  # the next tour page starts this long before its flip (RTSP open + 1 s GOP)
ZOOM_DECODE_MAX = (1920, 1080)  # a digitally zoomed tile decodes at most this large
STEER_CACHING_MS = 100  # a tile a commander can steer buffers this little (the picture follows the hand)

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


class Surface(QWidget):
    """A native child window that libvlc draws a camera into. Qt never paints it, and
    it lets mouse and drops through to the panel (double-click, drag a camera onto it)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        for attr in (Qt.WidgetAttribute.WA_NativeWindow,
                     Qt.WidgetAttribute.WA_DontCreateNativeAncestors,  # the panel stays Qt's
                     Qt.WidgetAttribute.WA_NoSystemBackground,
                     Qt.WidgetAttribute.WA_OpaquePaintEvent,
                     Qt.WidgetAttribute.WA_TransparentForMouseEvents):  # fmt: skip
            self.setAttribute(attr)
        self.hide()

    def paintEvent(self, _e: QPaintEvent) -> None:  # noqa: N802
        return  # libvlc's


def native_video() -> str | None:
    """The native window kind tiles hand to libvlc here (None: frames through callbacks).
    ``WALLCLIENT_VIDEO_NATIVE=0`` keeps callbacks on any platform."""
    if os.environ.get("WALLCLIENT_VIDEO_NATIVE", "1") == "0":
        return None
    return native_kind(QGuiApplication.platformName())


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
        self._headers: dict[int, tuple[tuple[Any, ...], QPixmap]] = {}
        self._info: dict[int, tuple[float, str]] = {}
        self._geometry: tuple[tuple[Any, ...], list[QRectF]] | None = None
        self._frame_timer = QTimer(self)
        self._frame_timer.timeout.connect(self._frames)
        self._frame_timer.start(FRAME_MS)
        self._step_timer = QTimer(self)
        self._step_timer.timeout.connect(self.step)
        self._step_timer.start(STEP_MS)
        self._flip_timer = QTimer(self)
        self._flip_timer.setSingleShot(True)
        self._flip_timer.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse one may be 5 % off
        self._flip_timer.timeout.connect(self.assign)
        self.overrides: dict[int, str] = {}  # tile → camera dropped on it, until the next preset
        self.for_linkage = bool(self.options.get("linkage"))  # the layout marks it for linkage
        self.linked: dict[int, tuple[str, str]] = {}  # tile → (camera, label): incident linkage
        self._preset_key: tuple[Any, Any] | None = None
        # native windows for libvlc to draw into, where the platform has them
        self.native = native_video() if ctx.video is not None else None
        self._surfaces: dict[int, tuple[Any, Surface]] = {}  # id(player) → (player, window)
        self._spare: list[Surface] = []
        # tiles playing the past (wallclient.edges.playback.ReplayPlayer): the rest stay live
        self.replays: dict[int, Any] = {}
        self._replay_drawn: dict[int, float] = {}  # tile → when its recorded time was drawn
        self._holding: dict[int, float] = {}  # shared clock → since when its tiles wait
        self.selected: int | None = None  # the tile a key acts on (clicked last)
        self.steer = Steering(self)  # PTZ gestures and digital zoom (panels.steer)
        self.setAcceptDrops(True)
        self.listen(self._tick)
        self.assign()

    # --- which camera on which tile --------------------------------------------------

    def place_on_node(self, offset: int, node_tiles: int) -> None:
        self.offset, self.node_tiles = offset, max(node_tiles, self.count)
        self.assign()

    def _tick(self, dirty: set[str]) -> None:
        if "ptz" in dirty:  # a camera's position or who holds it: the headers say
            for i, tile in enumerate(self.tiles):
                if tile.camera and (self._source(tile.camera) or {}).get("ptz"):
                    self.tile_changed(i)
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
        key = (wall.get("preset"), wall.get("changed_at"))
        if key != self._preset_key:  # a new preset ends the local overrides
            self._preset_key = key
            self.overrides.clear()
        moved = False
        now = time.monotonic()
        for i, tile in enumerate(self.tiles):
            cam = page[self.offset + i] if self.offset + i < len(page) else None
            cam = self.overrides.get(i, cam)
            if i in self.linked:
                cam = self.linked[i][0]
            if cam != tile.camera:
                self.end_replay(i)  # a switch that re-targets a tile ends its replay
                self.steer.forget(i)
                self._release(tile.assign(cam, now))
                moved = True
        if self.pages > 1:
            elapsed = self.ctx.server_now().timestamp() - changed_at
            to_flip = dwell - elapsed % dwell
            self._flip_timer.start(int(to_flip * 1000) + 5)  # on time, not at the next second
            if to_flip <= PRESTART_S:
                self._prestart(
                    rules.page_cameras(cams, self.node_tiles, (self.page + 1) % self.pages)
                )
        if moved:
            self.step()
            self.update()

    def _prestart(self, page: list[str | None]) -> None:
        """Start the next tour page's streams now, so its flip shows pictures at once."""
        pool = self.ctx.video
        if pool is None or not self.isVisible() or self.maximised is not None:
            return
        now = time.monotonic()
        for i, (tile, rect) in enumerate(zip(self.tiles, self._rects(), strict=True)):
            nxt = page[self.offset + i] if self.offset + i < len(page) else None
            if nxt is None or nxt == tile.camera or tile.warm is not None:
                continue
            cam = self._source(nxt)
            if cam is None or cam.get("status") == "offline":
                continue
            pic = self._parts(rect)[1]
            w, h = _even(pic.width()), _even(pic.height())
            stream = rules.stream_for(w, h, cam.get("streams") or {})
            url = (cam.get("streams") or {}).get(stream or "")
            player = self._acquire(url, w, h) if url and stream else None
            if player is not None and stream is not None:
                tile.prepare(nxt, stream, player, now)
        self._place_surfaces()

    def _release(self, players: list[Any]) -> None:
        for p in players:
            self._give_back(p)

    def _acquire(self, url: str, w: int, h: int, caching_ms: int | None = None) -> Any:
        """A pooled player; on a platform with native windows, one drawing into a window
        of this panel's (hidden until its tile plays)."""
        pool = self.ctx.video
        if pool is None:
            return None
        if self.native is None:
            return pool.acquire(url, w, h, caching_ms=caching_ms)
        surface = self._spare.pop() if self._spare else Surface(self)
        player = pool.acquire(url, w, h, (self.native, int(surface.winId())), caching_ms=caching_ms)
        if player is None or not player.native:  # the budget, or a PyAV route (RTSP here)
            self._spare.append(surface)
            return player
        self._surfaces[id(player)] = (player, surface)
        return player

    def _give_back(self, player: Any) -> None:
        if self.ctx.video is not None:
            self.ctx.video.release(player)
        got = self._surfaces.pop(id(player), None)
        if got is not None:
            got[1].hide()
            self._spare.append(got[1])

    def _place_surfaces(self) -> None:
        """Each tile's native window over its picture area, shown while it plays; the
        rest hidden (a frozen picture, an error, a pre-started player not due yet)."""
        if not self._surfaces:
            return
        placed: set[int] = set()
        for tile, rect in zip(self.tiles, self._rects(), strict=True):
            got = self._surfaces.get(id(tile.player)) if tile.player is not None else None
            if got is None:
                continue
            placed.add(id(got[1]))
            area = self._parts(rect)[1]
            # the picture's own size and aspect, its width even (edges.video.native_window)
            w, h = native_window(int(area.width()), int(area.height()), *got[0].source_size())
            got[1].setGeometry(_centred(area, w, h).toAlignedRect())
            got[1].setVisible(tile.state == "playing" and not rect.isEmpty())
        for _player, surface in self._surfaces.values():
            if id(surface) not in placed:
                surface.hide()

    # --- players ---------------------------------------------------------------------

    def step(self) -> None:
        """Decide every tile's state and start or stop players accordingly."""
        pool = self.ctx.video
        now = time.monotonic()
        visible = self.isVisible()
        rects = self._rects()
        for i, (tile, rect) in enumerate(zip(self.tiles, rects, strict=True)):
            shown = visible and (self.maximised is None or self.maximised == i)
            cam = self._source(tile.camera)
            before = tile.state
            if i in self.replays:
                self._step_replay(i, tile, rect, now)
                continue
            if not shown or pool is None:
                self._drop(tile)  # no decoding for what is not visible
                offline = cam is not None and cam.get("status") == "offline"
                tile.state = "offline" if offline else "idle"
                if tile.state != before:
                    self.update(rect.toAlignedRect())
                continue
            # decoded at the size it is drawn: a 1:1 blit (a zoomed tile: at the size its
            # enlarged part needs, which may take the main stream)
            w, h = self._decode_size(i, rect)
            for action in tile.step(now, cam, w, h):
                if action.kind == "stop":
                    self._give_back(action.player)
                elif action.kind == "start" and cam is not None and action.stream:
                    url = (cam.get("streams") or {}).get(action.stream)
                    steer = self.steer.steerable(i)
                    # a zoomed part is decoded larger only from the main stream, which has
                    # the pixels; from the sub stream the tile-sized picture is enlarged
                    # (measured: decoding larger cost 14 % for nothing the eye gets)
                    dw, dh = (w, h) if action.stream == "main" else self._decode_size(i, rect, zoomed=False)
                    player = self._acquire(url, dw, dh, STEER_CACHING_MS if steer else None) if url else None
                    if player is None:
                        tile.state = "error"
                        tile.error = "decoder budget reached"
                        tile.retry_at = now + 5
                    tile.player = player
            if tile.player is not None and tile.player.native:
                tile.player.set_crop(self._crop(i))  # libvlc enlarges a native tile's part
            if tile.state != before or tile.retry_in(now) is not None:
                self.update(rect.toAlignedRect())  # a new state, or its countdown moved
            elif (
                tile.state in ("playing", "stale")
                and now - self._info.get(i, (0.0, ""))[0] >= INFO_EVERY_S
            ):
                self.update(self._parts(rect)[0].toAlignedRect())  # the rate and frame age
        self._place_surfaces()
        # frames to fetch and paint only for players that are not native
        painted = bool(self.replays) or any(
            t.player is not None and not t.player.native for t in self.tiles
        )
        interval = NATIVE_POLL_MS if self.native and not painted else FRAME_MS
        if any(r.clock.speed > 1 and not r.clock.paused for r in self.replays.values()):
            # a fast replay brings frames 10–20 ms apart: taken as often, so that every
            # replaying tile's picture is of the same moment (docs/video.md, "Replay")
            interval = FAST_FRAME_MS
        if self._frame_timer.interval() != interval:
            self._frame_timer.setInterval(interval)

    def _drop(self, tile: Tile) -> None:
        self._release(tile.let_go())

    # --- the past on a tile (回放) -------------------------------------------------------

    def start_replay(self, index: int, rec: Any, clock: Any) -> Any:
        """Tile ``index`` plays ``rec`` (a camera's recording) on ``clock``; its live
        player is handed back. Returns the replay player."""
        from wallclient.edges.playback import ReplayPlayer

        self.end_replay(index)
        tile = self.tiles[index]
        self._release(tile.let_go())
        pic = self._parts(self._rects()[index])[1]
        player = ReplayPlayer(_even(pic.width()), _even(pic.height()))
        player.start(rec, clock)
        self.replays[index] = player
        tile.state, tile.error = "connecting", None
        self._headers.pop(index, None)
        self.step()
        self.update()
        return player

    def end_replay(self, index: int) -> bool:
        """Back to live (False: the tile was live)."""
        player = self.replays.pop(index, None)
        if player is None:
            return False
        player.stop()
        self._replay_drawn.pop(index, None)
        self._headers.pop(index, None)
        tile = self.tiles[index]
        tile.state, tile.error, tile.retry_at = "connecting", None, None
        self.step()
        self.update()
        return True

    def _step_replay(self, i: int, tile: Tile, rect: QRectF, now: float) -> None:
        player = self.replays[i]
        before = (tile.state, tile.error)
        if player.state == "error":
            tile.state, tile.error = "error", player.error
        elif player.frames() or player.gap:
            tile.state, tile.error = "playing", None
        else:
            tile.state, tile.error = "connecting", None
        if (tile.state, tile.error) != before:
            self.update(rect.toAlignedRect())
        elif now - self._replay_drawn.get(i, 0.0) >= INFO_EVERY_S:
            # the recorded time runs on while paused or across a gap: shown anew
            self.update(self._parts(rect)[1].toAlignedRect())

    def _frames(self) -> None:
        now = time.monotonic()
        for native, _surface in self._surfaces.values():
            native.poll(now)  # native players say how many frames they have shown
        rects = None
        held = self._held_replays(now)
        for i, tile in enumerate(self.tiles):
            player: Any = self.replays.get(i, tile.player)
            if i in held:
                continue
            if player is not None and player.slot.take():
                rects = rects or self._rects()
                pic = self._parts(rects[i])[1]
                # the picture alone: the bars beside it keep what the last full paint put
                # there (the backing store keeps it; WA_OpaquePaintEvent), and every Qt call
                # a paint saves is a GIL hand-over less with the decoders' callbacks
                w, h = player.slot.width, player.slot.height
                if w <= pic.width() and h <= pic.height():
                    pic = _centred(pic, w, h)
                self.update(pic.toAlignedRect())

    def _held_replays(self, now: float) -> set[int]:
        """Tiles replaying on one shared clock show their new pictures together: until each
        of them has one (or HOLD_S has passed), none is taken, so the tiles of an incident
        replay never show different moments side by side."""
        groups: dict[int, list[int]] = {}
        for i, player in self.replays.items():
            groups.setdefault(id(player.clock), []).append(i)
        held: set[int] = set()
        for members in groups.values():
            if len(members) < 2:
                continue
            ready = [self.replays[i].slot.ready_stamp() for i in members]
            waiting = [t for t in ready if t is not None]
            # every tile with its new picture, and of one moment: a tile that skipped a
            # moment (late, at 4×) is a step ahead of the others until they catch up
            if waiting and (len(waiting) < len(ready) or max(waiting) - min(waiting) > TOGETHER_S):
                key = id(self.replays[members[0]].clock)
                since = self._holding.setdefault(key, now)
                if now - since < HOLD_S:
                    held.update(members)
                    continue
            self._holding.pop(id(self.replays[members[0]].clock), None)
        return held

    def detach(self) -> None:
        """Leaving the wall (mode switch): hand the players back to the pool."""
        self._frame_timer.stop()
        self._step_timer.stop()
        self._flip_timer.stop()
        for i in list(self.replays):
            self.replays.pop(i).stop()
        for tile in self.tiles:
            self._drop(tile)
        super().detach()

    # --- geometry and gestures -------------------------------------------------------

    def _rects(self) -> list[QRectF]:
        key = (self.width(), self.height(), self.maximised, self.rows, self.cols,
               str(self.spans), self.scale)  # fmt: skip
        if self._geometry is not None and self._geometry[0] == key:
            return self._geometry[1]  # asked for by every paint and every frame: kept
        rects = tile_rects(self.rows, self.cols, self.spans, self.width(), self.height())
        if self.maximised is not None:
            full = QRectF(0, 0, self.width(), self.height())
            rects = [full if i == self.maximised else QRectF() for i in range(len(rects))]
        self._geometry = (key, rects)
        return rects

    def picture_rect(self, i: int) -> QRectF:
        """Tile ``i``'s picture area (below its header)."""
        return self._parts(self._rects()[i])[1]

    def shown_rect(self, i: int) -> QRectF:
        """Where tile ``i``'s picture lies in its picture area: at its own aspect, centred
        (a native tile's is libvlc's, taken to be the cameras' usual 16:9)."""
        pic = self.picture_rect(i)
        player: Any = self.replays.get(i, self.tiles[i].player)
        if player is not None and not player.native and player.frames():
            w, h = player.slot.width, player.slot.height
        else:
            w, h = 16, 9
        fw, fh = fit(w, h, int(pic.width()), int(pic.height()))
        return _centred(pic, fw, fh)

    def tile_changed(self, i: int) -> None:
        """Something on a tile's header changed (a PTZ move began or ended, a lock)."""
        self._headers.pop(i, None)
        rects = self._rects()
        if 0 <= i < len(rects):
            self.update(rects[i].toAlignedRect())

    def zoom_changed(self, i: int) -> None:
        self._headers.pop(i, None)
        self.step()  # the decode size (and perhaps the stream) follows the zoom
        player: Any = self.tiles[i].player
        if player is not None and player.native:
            player.set_crop(self._crop(i))
        self.update(self._rects()[i].toAlignedRect())

    def _crop(self, i: int) -> tuple[float, float, float, float] | None:
        part = self.steer.zoom.get(i)
        return None if part is None else (part.left(), part.top(), part.width(), part.height())

    def _decode_size(self, i: int, rect: QRectF, zoomed: bool = True) -> tuple[int, int]:
        pic = self._parts(rect)[1]
        w, h = _even(pic.width()), _even(pic.height())
        part = self.steer.zoom.get(i) if zoomed else None
        if part is None:
            return w, h
        zw, zh = int(w / part.width()), int(h / part.height())
        if zw > ZOOM_DECODE_MAX[0] or zh > ZOOM_DECODE_MAX[1]:
            zw, zh = fit(zw, zh, *ZOOM_DECODE_MAX)
        return _even(zw), _even(zh)

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

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        index = self.tile_at(e.position())
        if index is not None:
            self.selected = index  # keys act on it (R: instant replay, Esc: back to live)
            self.setFocus()
            if e.button() == Qt.MouseButton.RightButton and self.ctx.tile_menu is not None:
                self.ctx.tile_menu(self, index, e.globalPosition().toPoint())
                return
            if self.steer.press(e, index):
                return
        super().mousePressEvent(e)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if not self.steer.move(e):
            super().mouseMoveEvent(e)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if not self.steer.release(e):
            super().mouseReleaseEvent(e)

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802
        index = self.tile_at(e.position())
        if index is not None and self.steer.wheel(e, index):
            e.accept()
            return
        super().wheelEvent(e)

    def keyReleaseEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if not self.steer.key_release(e, self.selected):
            super().keyReleaseEvent(e)

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if self.steer.key_press(e, self.selected):
            return
        if (
            self.selected is not None
            and self.ctx.tile_key is not None
            and self.ctx.tile_key(self, self.selected, e.key())
        ):
            return
        if e.key() == Qt.Key.Key_Escape and self.maximised is not None:
            self.restore()
            return
        super().keyPressEvent(e)

    def _source(self, sid: str | None) -> dict[str, Any] | None:
        """What a tile shows: a camera, or a unit with a stream of its own (a body camera,
        a drone) seen as one — online while the unit is not offline."""
        if not sid:
            return None
        cam = self.ctx.state.cameras.get(sid)
        if cam is not None:
            return cam
        unit = self.ctx.state.units.get(sid)
        if unit is None or not unit.get("stream"):
            return None
        return {"id": sid, "name": unit.get("name", sid), "region": None,
                "streams": {"sub": unit["stream"], "main": unit["stream"]},
                "status": "offline" if unit.get("status") == "offline" else "online"}  # fmt: skip

    def place_camera(self, index: int, camera: str) -> None:
        """Show ``camera`` on tile ``index`` until the next preset (a local override)."""
        if 0 <= index < self.count and self._source(camera) is not None:
            self.overrides[index] = camera
            self.linked.pop(index, None)  # the operator's choice wins over the linkage
            self.assign()

    def set_linked(self, linked: dict[int, tuple[str, str]]) -> None:
        """Show the cameras nearest to the focused incident on these tiles (with a label
        saying so), until another incident is focused or the linkage is cleared."""
        if linked == self.linked:
            return
        for i in linked:
            self.overrides.pop(i, None)
        self.linked = dict(linked)
        self._headers.clear()
        self.assign()
        self.update()

    def tile_at(self, pos: QPointF) -> int | None:
        for i, r in enumerate(self._rects()):
            if r.contains(pos):
                return i
        return None

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802
        if e.mimeData().hasFormat(MIME):
            e.acceptProposedAction()

    def dragMoveEvent(self, e: QDragMoveEvent) -> None:  # noqa: N802
        if e.mimeData().hasFormat(MIME):
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802
        index = self.tile_at(e.position())
        if e.mimeData().hasFormat(MIME) and index is not None:
            self.place_camera(index, bytes(e.mimeData().data(MIME).data()).decode())
            e.acceptProposedAction()

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
        self.step()  # places the native windows too

    # --- what it shows ---------------------------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        """Every tile for the control API's ``status`` (control-api.md)."""
        now = time.monotonic()
        out = []
        for i, tile in enumerate(self.tiles):
            player: Any = self.replays.get(i, tile.player)
            last = player.last_frame_at() if player is not None else None
            retry = tile.retry_in(now)
            out.append({
                "screen": self.screen_name, "region": self.region_id, "index": i,
                "camera": tile.camera, "stream": tile.stream if tile.camera else None,
                "state": tile.state,
                "fps": round(player.fps(now), 1) if player is not None else 0.0,
                "frame_age_ms": None if last is None else round((now - last) * 1000),
                "frames": player.shown() if player is not None else 0,  # shown since it started
                # the size the picture is drawn at (its own aspect); libvlc sizes a native one
                "picture": None if player is None or player.native or not player.frames()
                else [player.slot.width, player.slot.height],
                "error": tile.error,
                "route": player.route if player is not None else None,
                "retry_in_s": None if retry is None else round(retry, 1),
                "page": self.page, "pages": self.pages, "linked": i in self.linked,
                "mode": "replay" if i in self.replays else "live",
                "zoom": self.steer.describe(i),
            })  # fmt: skip
            cam = self._source(tile.camera) or {}
            if cam.get("ptz"):
                d = self.ctx.ptz
                out[-1]["ptz"] = {**(cam.get("ptz_state") or {}),
                                  "steerable": self.steer.steerable(i),
                                  "holder": d.holder(tile.camera) if d is not None else None,
                                  "moving": bool(d is not None and d.moving(tile.camera or ""))}  # fmt: skip
            if i in self.replays:
                at = player.shown_at()
                out[-1].update(position=None if at is None else rfc3339(at),
                               speed=player.clock.speed, paused=player.clock.paused,
                               gap=player.gap)  # fmt: skip
        return out

    def snapshot_tile(self, index: int, path: str, picture: bool = False) -> bool:
        """One tile, as shown, to a PNG (``picture``: the decoded picture alone, at the
        size it was decoded)."""
        rects = self._rects()
        if not 0 <= index < len(rects) or rects[index].isEmpty():
            return False
        player: Any = self.replays.get(index, self.tiles[index].player)
        if player is not None and player.native and self.tiles[index].state == "playing":
            return bool(player.snapshot(path))  # Qt cannot see into libvlc's window
        if picture:
            if player is None or not player.frames():
                return False
            buf, w, h, pitch = player.slot.front_frame()
            image = QImage(memoryview(buf), w, h, pitch, QImage.Format.Format_RGB32)
            return bool(image.save(path))
        return bool(self.grab(rects[index].toAlignedRect()).save(path))

    def _parts(self, rect: QRectF) -> tuple[QRectF, QRectF]:
        """A tile's header (name, region, state, rate) and its picture area below it: the
        header never covers the picture, so a new frame repaints the picture alone."""
        # on whole pixels, so that a new frame's update never touches the header
        r = QRectF(rect.adjusted(3, 3, -3, -3).toAlignedRect())
        head = round(HEADER_PX * self.scale)
        return QRectF(r.left(), r.top(), r.width(), head), r.adjusted(0, head, 0, 0)

    def paintEvent(self, e: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        # The region, not its bounding rect: at 50 Hz the tiles with a new frame are
        # scattered over the panel, and their bounding rect would repaint every tile
        region = e.region()
        now = time.monotonic()
        for i, (tile, rect) in enumerate(zip(self.tiles, self._rects(), strict=True)):
            if rect.isEmpty() or not region.intersects(rect.toAlignedRect()):
                continue
            head, pic = self._parts(rect)
            # the margins between tiles are this panel's too (it paints opaquely): a thin
            # frame, filled, so nothing of an earlier screen shows through the gaps
            inner = rect.adjusted(3, 3, -3, -3)
            for strip in (QRectF(rect.left(), rect.top(), rect.width(), 3),
                          QRectF(rect.left(), inner.bottom(), rect.width(), 3),
                          QRectF(rect.left(), inner.top(), 3, inner.height()),
                          QRectF(inner.right(), inner.top(), 3, inner.height())):  # fmt: skip
                if region.intersects(strip.toAlignedRect()):
                    p.fillRect(strip, theme.BG)
            # Each part clipped to its own rectangle: under the update region alone (several
            # tiles' rectangles at once) Qt draws an image span by span, 3–4 × slower
            if region.intersects(head.toAlignedRect()):
                p.setClipRect(head)
                p.drawPixmap(head.topLeft(), self._header(i, tile, head, now))
                self._info_text(i, tile, head, now, p)
            if region.intersects(pic.toAlignedRect()):
                p.setClipRect(pic)
                if i in self.replays:
                    self._replay_picture(p, i, tile, pic, now, region)
                else:
                    self._picture(p, tile, pic, now, region, self._crop(i))
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
        s = self.scale
        p.setPen(theme.TEXT_DIM)
        p.setFont(theme.font(16 * s))
        p.drawText(QRectF(r.right() - 186 * s, r.top() + 34 * s, 178 * s, 26 * s),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, info)  # fmt: skip

    def _header(self, i: int, tile: Tile, r: QRectF, now: float) -> QPixmap:
        """A tile's header without its rate (``_info_text``), kept until it changes."""
        tour = f"{self.page + 1}/{self.pages}" if self.pages > 1 else ""
        link = self.linked.get(i, ("", ""))[1]
        replaying = i in self.replays
        steering = self._steering(i, tile)
        key = (tile.camera, tile.state, tour, link, replaying, steering,
               int(r.width()), int(r.height()))  # fmt: skip
        cached = self._headers.get(i)
        if cached is not None and cached[0] == key:
            return cached[1]
        s = self.scale
        pm = QPixmap(max(1, int(r.width())), max(1, int(r.height())))
        pm.fill(theme.PANEL)
        p = QPainter(pm)
        r = QRectF(0, 0, r.width(), r.height())
        if tile.camera is not None:
            cam = self._source(tile.camera) or {}
            region = self.ctx.state.regions.get(cam.get("region") or "", {}).get("name", "")
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
        part = self.steer.zoom.get(i)
        rect = None if part is None else (round(part.left(), 3), round(part.top(), 3), round(part.width(), 3))
        cam = self._source(tile.camera) or {}
        if not cam.get("ptz"):
            return rect, "", None, False
        st = cam.get("ptz_state") or {}
        text = ""
        if st:
            text = (f"{theme.tr('PTZ')} {float(st.get('pan_deg', 0)):.0f}°"
                    f"{float(st.get('tilt_deg', 0)):+.0f}° ×{float(st.get('zoom', 1)):.1f}")  # fmt: skip
        d = self.ctx.ptz
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
        p.setFont(theme.font(14 * self.scale, bold=True))
        p.drawText(box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                   f"×{1 / part.width():.1f} ")  # fmt: skip

    def _picture(
        self, p: QPainter, tile: Tile, r: QRectF, now: float, region: QRegion | None = None,
        crop: tuple[float, float, float, float] | None = None,
    ) -> None:
        s = self.scale
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
            target = _centred(r, tw, th)
            source = QRectF(crop[0] * w, crop[1] * h, crop[2] * w, crop[3] * h)
            p.fillRect(r, Qt.GlobalColor.black)
            p.drawImage(target, image, source)
            return
        at = _centred(r, w, h)
        x, y = int(at.left()), int(at.top())
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
        s = self.scale
        player = self.replays[i]
        self._replay_drawn[i] = now
        if player.gap:
            p.fillRect(r, theme.BG)
            theme.shape(p, "square", r.center() - QPointF(0, 40 * s), 16 * s, theme.REPLAY)
            p.setPen(theme.REPLAY)
            p.setFont(theme.font(28 * s, bold=True))
            p.drawText(r.adjusted(0, 10 * s, 0, 0), Qt.AlignmentFlag.AlignCenter,
                       theme.tr("No recording"))  # fmt: skip
        elif player.frames() and tile.state == "playing":
            self._frame(p, player.slot, r, region, self._crop(i))
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
        s = self.scale
        theme.shape(p, "triangle", r.center() - QPointF(0, 30 * s), 16 * s, theme.WARN)
        p.setPen(theme.WARN)
        p.setFont(theme.font(26 * s, bold=True))
        p.drawText(r.adjusted(0, 30 * s, 0, 0), Qt.AlignmentFlag.AlignCenter,
                   theme.tr("Frozen for %1 s").replace("%1", f"{now - last:.0f}"))  # fmt: skip


def _centred(r: QRectF, w: int, h: int) -> QRectF:
    """Where a picture of ``w`` × ``h`` sits in the picture area ``r``: centred, on whole
    pixels (the frame's update and its paint must agree to the pixel)."""
    return QRectF(
        round(r.left() + (r.width() - w) / 2), round(r.top() + (r.height() - h) / 2), w, h
    )


def _even(v: float) -> int:
    return max(16, int(v) // 2 * 2)

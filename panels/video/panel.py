"""The video grid of a layout region: the active preset's cameras on rows × cols tiles.

Each tile plays one camera through a pooled player (wallclient.edges.video) and
says honestly what it shows (wallclient.tiles): connecting, playing, stale (a frozen
picture is marked as such), no signal, offline, error with its reason, and the
countdown to the next reconnect.

The panel is a small composition, each part in a module of its own:
``TileModel`` (model: which camera on which tile, and why), ``Players`` (players:
the players it holds and the native windows libvlc draws into), ``ReplayTiles``
(replays: tiles playing the past), ``TilePainter`` (painter), ``Gestures`` (gestures)
and ``Steering`` (panels.steer: PTZ and digital zoom). The panel itself runs the
timers and decides each tile's state.

Frames are taken from the players' slots on a 50 Hz timer and only tiles with a new
frame are repainted; tile states are decided four times a second.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPaintEvent,
    QWheelEvent,
)

from panels.hub import Context, Hub, Panel
from panels.steer import Steering
from panels.video.geometry import centred, even, parts, tile_rects
from panels.video.gestures import Gestures
from panels.video.model import PRESTART_S, TileModel, source
from panels.video.painter import INFO_EVERY_S, TilePainter
from panels.video.players import Players
from panels.video.replays import ReplayTiles
from wallclient import tiles as rules
from wallclient.edges.video import fit
from wallclient.replay import rfc3339
from wallclient.tiles import Tile

FRAME_MS = 20  # look for new frames at 50 Hz: twice a 25 fps stream, so none is skipped
FAST_FRAME_MS = 8  # … at 125 Hz while a replay runs faster than real time
NATIVE_POLL_MS = 200  # … or, when libvlc draws every tile itself, count its frames at 5 Hz
STEP_MS = 250  # decide tile states four times a second
ZOOM_DECODE_MAX = (1920, 1080)  # a digitally zoomed tile decodes at most this large
STEER_CACHING_MS = 100  # a tile a commander can steer buffers this little (the picture follows the hand)


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
        self.model = TileModel(self.count)
        self.maximised: int | None = None
        self.screen_name = ""
        self.region_id = ""
        self.for_linkage = bool(self.options.get("linkage"))  # the layout marks it for linkage
        self.selected: int | None = None  # the tile a key acts on (clicked last)
        self._geometry: tuple[tuple[Any, ...], list[QRectF]] | None = None
        self.players = Players(self, ctx.video)
        self.replays = ReplayTiles()  # tiles playing the past: the rest stay live
        self.painter = TilePainter(self)
        self.steer = Steering(self)  # PTZ gestures and digital zoom (panels.steer)
        self.gestures = Gestures(self)
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
        self.setAcceptDrops(True)
        self.listen(self._tick)
        self.assign()

    # the model's choices, as the wall and the control API read them
    @property
    def page(self) -> int:
        return self.model.page

    @property
    def pages(self) -> int:
        return self.model.pages

    @property
    def overrides(self) -> dict[int, str]:
        return self.model.overrides

    @property
    def linked(self) -> dict[int, tuple[str, str]]:
        return self.model.linked

    # --- which camera on which tile --------------------------------------------------

    def place_on_node(self, offset: int, node_tiles: int) -> None:
        self.model.offset, self.model.node_tiles = offset, max(node_tiles, self.count)
        self.assign()

    def _tick(self, dirty: set[str]) -> None:
        if "ptz" in dirty:  # a camera's position or who holds it: the headers say
            for i, tile in enumerate(self.tiles):
                if tile.camera and (self.source(tile.camera) or {}).get("ptz"):
                    self.tile_changed(i)
        if dirty & {"wall", "presets", "clock"}:
            self.assign()
        if dirty & {"wall", "presets", "cameras"}:
            self.step()

    def assign(self) -> None:
        """Put the cameras the model chose (tour page, overrides, linkage) on the tiles."""
        plan = self.model.plan(self.ctx.state, self.ctx.server_now().timestamp())
        moved = False
        now = time.monotonic()
        for i, (tile, cam) in enumerate(zip(self.tiles, plan.cameras, strict=True)):
            if cam != tile.camera:
                self.end_replay(i)  # a switch that re-targets a tile ends its replay
                self.steer.forget(i)
                self._release(tile.assign(cam, now))
                moved = True
        if plan.to_flip_s is not None:
            self._flip_timer.start(int(plan.to_flip_s * 1000) + 5)  # on time, not at the next second
        if plan.next_page is not None:
            self._prestart(plan.next_page)
        if moved:
            self.step()
            self.update()

    def _prestart(self, page: list[str | None]) -> None:
        """Start the next tour page's streams now, so its flip shows pictures at once."""
        if self.ctx.video is None or not self.isVisible() or self.maximised is not None:
            return
        now = time.monotonic()
        for tile, rect, nxt in zip(self.tiles, self.rects(), page, strict=True):
            if nxt is None or nxt == tile.camera or tile.warm is not None:
                continue
            cam = self.source(nxt)
            if cam is None or cam.get("status") == "offline":
                continue
            pic = parts(rect, self.scale)[1]
            w, h = even(pic.width()), even(pic.height())
            stream = rules.stream_for(w, h, rules.streams_of(cam))
            # a resolve camera's URL is asked for now even when the decoders are all busy:
            # it waits for one until just after the flip
            player = self._open(cam, stream, w, h, hold_s=PRESTART_S + 2.0) if stream else None
            if player is not None and stream is not None:
                tile.prepare(nxt, stream, player, now)
        self.players.place(self.tiles, self.rects(), self.scale)

    def _open(self, cam: dict[str, Any], stream: str, w: int, h: int,
              caching_ms: int | None = None, hold_s: float = 0.0) -> Any:  # fmt: skip
        """A player for one of the camera's streams: its URL from the catalogue, or —
        a ``resolve`` camera — asked of the backend at this open (edges.video.resolved)."""
        if cam.get("resolve"):
            return self.players.acquire_resolved(cam["id"], stream, w, h, caching_ms, hold_s)
        url = (cam.get("streams") or {}).get(stream)
        return self.players.acquire(url, w, h, caching_ms) if url else None

    def _release(self, players: list[Any]) -> None:
        for p in players:
            self.players.give_back(p)

    def source(self, sid: str | None) -> dict[str, Any] | None:
        """What a tile shows (a camera, or a unit with a stream of its own)."""
        return source(self.ctx.state, sid)

    # --- players ---------------------------------------------------------------------

    def step(self) -> None:
        """Decide every tile's state and start or stop players accordingly."""
        live = self.ctx.video is not None
        now = time.monotonic()
        visible = self.isVisible()
        rects = self.rects()
        for i, (tile, rect) in enumerate(zip(self.tiles, rects, strict=True)):
            shown = visible and (self.maximised is None or self.maximised == i)
            cam = self.source(tile.camera)
            before = tile.state
            if i in self.replays:
                self._step_replay(i, tile, rect, now)
                continue
            if not shown or not live:
                self._drop(tile)  # no decoding for what is not visible
                offline = cam is not None and cam.get("status") == "offline"
                tile.state = "offline" if offline else "idle"
                if tile.state != before:
                    self.update(rect.toAlignedRect())
                continue
            # decoded at the size it is drawn: a 1:1 blit (a zoomed tile: at the size its
            # enlarged part needs, which may take the main stream)
            w, h = self.decode_size(i, rect)
            for action in tile.step(now, cam, w, h):
                if action.kind == "stop":
                    self.players.give_back(action.player)
                elif action.kind == "start" and cam is not None and action.stream:
                    steer = self.steer.steerable(i)
                    # a zoomed part is decoded larger only from the main stream, which has
                    # the pixels; from the sub stream the tile-sized picture is enlarged
                    # (measured: decoding larger cost 14 % for nothing the eye gets)
                    dw, dh = (w, h) if action.stream == "main" else self.decode_size(i, rect, zoomed=False)
                    caching = STEER_CACHING_MS if steer else None
                    player = self._open(cam, action.stream, dw, dh, caching)
                    if player is None:
                        tile.state = "error"
                        tile.error = "decoder budget reached"
                        tile.retry_at = now + 5
                    tile.player = player
            if tile.player is not None and tile.player.native:
                tile.player.set_crop(self.crop(i))  # libvlc enlarges a native tile's part
            if tile.state != before or tile.retry_in(now) is not None:
                self.update(rect.toAlignedRect())  # a new state, or its countdown moved
            elif tile.state in ("playing", "stale") and now - self.painter.info_at(i) >= INFO_EVERY_S:
                self.update(parts(rect, self.scale)[0].toAlignedRect())  # the rate and frame age
        self.players.place(self.tiles, rects, self.scale)
        # frames to fetch and paint only for players that are not native
        painted = bool(self.replays) or any(
            t.player is not None and not t.player.native for t in self.tiles
        )
        interval = NATIVE_POLL_MS if self.players.kind and not painted else FRAME_MS
        if self.replays.fast():
            # a fast replay brings frames 10–20 ms apart: taken as often, so that every
            # replaying tile's picture is of the same moment (docs/video.md, "Replay")
            interval = FAST_FRAME_MS
        if self._frame_timer.interval() != interval:
            self._frame_timer.setInterval(interval)

    def _drop(self, tile: Tile) -> None:
        self._release(tile.let_go())

    def _frames(self) -> None:
        now = time.monotonic()
        self.players.poll(now)
        places = None
        held = self.replays.held(now)
        for i, tile in enumerate(self.tiles):
            player: Any = self.replays.get(i, tile.player)
            if i in held:
                continue
            if player is not None and player.slot.take():
                places = places or self.painter.places()
                pic = places[i].pic
                # the picture alone: the bars beside it keep what the last full paint put
                # there (the backing store keeps it; WA_OpaquePaintEvent), and every Qt call
                # a paint saves is a GIL hand-over less with the decoders' callbacks
                w, h = player.slot.width, player.slot.height
                if w <= pic.width() and h <= pic.height():
                    pic = centred(pic, w, h)
                self.update(pic.toAlignedRect())
        # a tile's first picture is its news: the tile says "playing" now, not at the next
        # step (up to STEP_MS later — a quarter of a second of 「连接中」 over a live picture)
        if any(t.state in ("connecting", "no_signal") and t.player is not None
               and t.player.last_frame_at() is not None for t in self.tiles):  # fmt: skip
            self.step()

    def detach(self) -> None:
        """Leaving the wall (mode switch): hand the players back to the pool."""
        self._frame_timer.stop()
        self._step_timer.stop()
        self._flip_timer.stop()
        self.replays.end_all()
        for tile in self.tiles:
            self._drop(tile)
        super().detach()

    # --- the past on a tile (回放) -------------------------------------------------------

    def start_replay(self, index: int, rec: Any, clock: Any) -> Any:
        """Tile ``index`` plays ``rec`` (a camera's recording) on ``clock``; its live
        player is handed back. Returns the replay player."""
        from wallclient.edges.playback import ReplayPlayer

        self.end_replay(index)
        tile = self.tiles[index]
        self._release(tile.let_go())
        pic = self.picture_rect(index)
        player = ReplayPlayer(even(pic.width()), even(pic.height()))
        player.start(rec, clock)
        self.replays[index] = player
        tile.state, tile.error = "connecting", None
        self.painter.forget(index)
        self.step()
        self.update()
        return player

    def end_replay(self, index: int) -> bool:
        """Back to live (False: the tile was live)."""
        if not self.replays.end(index):
            return False
        self.painter.replay_ended(index)
        tile = self.tiles[index]
        tile.state, tile.error, tile.retry_at = "connecting", None, None
        self.step()
        self.update()
        return True

    def _step_replay(self, i: int, tile: Tile, rect: QRectF, now: float) -> None:
        before = (tile.state, tile.error)
        self.replays.tile_state(self.replays[i], tile)
        if (tile.state, tile.error) != before:
            self.update(rect.toAlignedRect())
        elif now - self.painter.replay_drawn_at(i) >= INFO_EVERY_S:
            # the recorded time runs on while paused or across a gap: shown anew
            self.update(parts(rect, self.scale)[1].toAlignedRect())

    # --- geometry --------------------------------------------------------------------

    def rects(self) -> list[QRectF]:
        """Every tile's rectangle (an empty one for tiles hidden by a maximised one)."""
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
        return parts(self.rects()[i], self.scale)[1]

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
        return centred(pic, fw, fh)

    def tile_changed(self, i: int) -> None:
        """Something on a tile's header changed (a PTZ move began or ended, a lock)."""
        self.painter.forget(i)
        rects = self.rects()
        if 0 <= i < len(rects):
            self.update(rects[i].toAlignedRect())

    def zoom_changed(self, i: int) -> None:
        self.painter.forget(i)
        self.step()  # the decode size (and perhaps the stream) follows the zoom
        player: Any = self.tiles[i].player
        if player is not None and player.native:
            player.set_crop(self.crop(i))
        self.update(self.rects()[i].toAlignedRect())

    def crop(self, i: int) -> tuple[float, float, float, float] | None:
        """The digitally zoomed part of tile ``i``'s picture (fractions), if any."""
        part = self.steer.zoom.get(i)
        return None if part is None else (part.left(), part.top(), part.width(), part.height())

    def decode_size(self, i: int, rect: QRectF, zoomed: bool = True) -> tuple[int, int]:
        pic = parts(rect, self.scale)[1]
        w, h = even(pic.width()), even(pic.height())
        part = self.steer.zoom.get(i) if zoomed else None
        if part is None:
            return w, h
        zw, zh = int(w / part.width()), int(h / part.height())
        if zw > ZOOM_DECODE_MAX[0] or zh > ZOOM_DECODE_MAX[1]:
            zw, zh = fit(zw, zh, *ZOOM_DECODE_MAX)
        return even(zw), even(zh)

    def cameras(self) -> list[str | None]:
        """The camera id on each tile."""
        return [t.camera for t in self.tiles]

    # --- what a hand does (panels.video.gestures) -------------------------------------

    def tile_at(self, pos: QPointF) -> int | None:
        return self.gestures.tile_at(pos)

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self.gestures.double_click(e)  # always the panel's: maximise or restore

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if not self.gestures.press(e):
            super().mousePressEvent(e)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if not self.gestures.move(e):
            super().mouseMoveEvent(e)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if not self.gestures.release(e):
            super().mouseReleaseEvent(e)

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802
        if not self.gestures.wheel(e):
            super().wheelEvent(e)

    def keyReleaseEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if not self.gestures.key_release(e):
            super().keyReleaseEvent(e)

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if not self.gestures.key_press(e):
            super().keyPressEvent(e)

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802
        self.gestures.drag(e)

    def dragMoveEvent(self, e: QDragMoveEvent) -> None:  # noqa: N802
        self.gestures.drag(e)

    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802
        self.gestures.drop(e)

    def place_camera(self, index: int, camera: str) -> None:
        """Show ``camera`` on tile ``index`` until the next preset (a local override)."""
        if 0 <= index < self.count and self.source(camera) is not None:
            self.model.override(index, camera)
            self.assign()

    def set_linked(self, linked: dict[int, tuple[str, str]]) -> None:
        """Show the cameras nearest to the focused incident on these tiles (with a label
        saying so), until another incident is focused or the linkage is cleared."""
        if not self.model.link(linked):
            return
        self.painter.forget()
        self.assign()
        self.update()

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

    def paintEvent(self, e: QPaintEvent) -> None:  # noqa: N802
        self.painter.paint(e)

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
                # failed attempts since it last played, and the last one's reason
                "failures": tile.failures, "last_failure": tile.last_failure,
                "page": self.page, "pages": self.pages, "linked": i in self.linked,
                "mode": "replay" if i in self.replays else "live",
                "zoom": self.steer.describe(i),
            })  # fmt: skip
            timing = getattr(player, "timing", None)
            if timing is not None:  # a resolved camera: where its open's time went
                out[-1]["resolve"] = timing()
            cam = self.source(tile.camera) or {}
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
        rects = self.rects()
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

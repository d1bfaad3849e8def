"""What the tablet page shows, read from the wall's state and its screens (no Qt here:
the wall's own methods render the thumbnails)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from wallclient.catalogue import CameraIndex
from wallclient.errors import CommandError
from wallclient.geo import location
from wallclient.incidents import fitting_kinds, nearest_units
from wallclient.presets import PresetIndex
from wallclient.protocol import epoch

INCIDENTS_SHOWN = 40


class TabletView:
    def __init__(self, ctx: Any, wall: Any, tiles: Callable[[], list[dict[str, Any]]],
                 pictures: Any = None) -> None:  # fmt: skip
        self.ctx = ctx  # panels.hub.Context: state, ptz
        self.pictures = pictures  # wallclient.edges.pictures.PictureStore: the wall's own
        self.wall = wall  # panels.wall.Wall: screens, tile boxes, thumbnails
        self.tiles = tiles  # status.tiles
        self._presets = PresetIndex()
        self._presets_key: tuple[int, int] | None = None
        self._cameras = CameraIndex()
        self._cameras_key: tuple[int, int] | None = None

    def state(self) -> dict[str, Any]:
        st = self.ctx.state
        wall = st.wall or {}
        boxes = self.wall.tile_boxes()
        tiles = []
        for i, t in enumerate(self.tiles()):
            cam = st.cameras.get(t.get("camera") or "") or {}
            ptz = t.get("ptz") or {}
            tiles.append({"index": i, "screen": t.get("screen"), "camera": t.get("camera"),
                          "name": cam.get("name"), "state": t.get("state"), "ptz": bool(cam.get("ptz")),
                          "holder": ptz.get("holder"),
                          "ptz_presets": [{"id": str(pr.get("id")), "name": pr.get("name")}
                                          for pr in cam.get("ptz_presets") or []][:12],
                          "box": boxes[i]["box"] if i < len(boxes) else None})  # fmt: skip
        return {
            "wall": {"mode": wall.get("mode"), "preset": wall.get("preset"),
                     "preset_name": (st.presets.get(wall.get("preset") or "") or {}).get("name"),
                     "changed_by": wall.get("changed_by")},  # fmt: skip
            "screens": [{"name": w["name"], "size": w["geometry"][2:]} for w in self.wall.describe()],
            "tiles": tiles,
            "incidents": self._incidents(),
            "emergency_presets": [{"id": pid, "name": p.get("name")} for pid, p in st.presets.items()
                                  if p.get("emergency")][:50],  # fmt: skip
            # an incident replayed on the wall: the moment its data panels show (None: live)
            "replay": None if self.ctx.past is None else {"at": round(self.ctx.past.at.timestamp())},
        }

    def _incidents(self) -> list[dict[str, Any]]:
        live = [i for i in self.ctx.state.incidents.values() if i.get("status") != "closed"]
        live.sort(key=lambda i: (i.get("priority", 4), -(epoch(i.get("reported_at") or "") or 0)))
        out = []
        for inc in live[:INCIDENTS_SHOWN]:
            due = None  # the next deadline, as a time: the page counts down on its own clock
            for stage in ("arrive", "control", "close"):
                t = epoch(str((inc.get("deadlines") or {}).get(stage) or ""))
                if t is not None:
                    due = {"stage": stage, "at": round(t, 1)}
                    break
            out.append({"id": inc["id"], "title": inc.get("title"), "priority": inc.get("priority"),
                        "status": inc.get("status"), "source": inc.get("source"),
                        "address": inc.get("address"), "due": due})  # fmt: skip
        return out

    def presets(self, query: str) -> dict[str, Any]:
        presets = self.ctx.state.presets
        key = (id(presets), len(presets))
        if key != self._presets_key:
            self._presets.build(presets)
            self._presets_key = key
        active = (self.ctx.state.wall or {}).get("preset")
        return {"presets": [{"id": e.id, "name": e.name, "scenario": e.scenario,
                             "emergency": e.emergency, "cameras": e.cameras, "active": e.id == active}
                            for e in self._presets.search(query, 120)]}  # fmt: skip

    def cameras(self, query: str) -> dict[str, Any]:
        cams, regions = self.ctx.state.cameras, self.ctx.state.regions
        key = (id(cams), len(cams))
        if key != self._cameras_key:
            self._cameras.build(cams, regions)
            self._cameras_key = key
        out = []
        for cid in self._cameras.search(query, 30):
            cam = cams.get(cid) or {}
            out.append({"id": cid, "name": cam.get("name"), "status": cam.get("status"),
                        "ptz": bool(cam.get("ptz")),
                        "region": (regions.get(cam.get("region") or "") or {}).get("name")})  # fmt: skip
        return {"cameras": out}

    def incident(self, iid: str) -> dict[str, Any]:
        inc = self.ctx.state.incidents.get(iid)
        if inc is None:
            raise CommandError("not_found", f"no live incident {iid}")
        units = self.ctx.state.units
        loc = location(inc)
        near = nearest_units(units, *loc, fitting_kinds(inc)) if loc else []
        offered = [{"id": uid, "name": (units.get(uid) or {}).get("name"), "distance_m": round(d)}
                   for d, uid in near]  # fmt: skip
        pictures = [{"n": n, "boxes": m.get("boxes") or []} for n, m in enumerate(_images(inc))]
        return {"incident": {k: inc.get(k) for k in ("id", "title", "detail", "priority", "status",
                                                      "source", "address", "reported_at", "deadlines",
                                                      "history", "units")},
                "pictures": pictures, "units": offered}  # fmt: skip

    async def picture(self, iid: str, n: int) -> tuple[bytes, str] | None:
        """An incident's ``n``-th picture as the backend sent it (JPEG or PNG), through the
        wall's own picture store — the page never sees the backend or its token, and can
        ask only for what a live incident names."""
        media = _images(self.ctx.state.incidents.get(iid) or {})
        if self.pictures is None or not 0 <= n < len(media):
            return None
        url = str(media[n]["url"])
        path = self.pictures.path_of(url)
        if not path.exists():
            loop = asyncio.get_running_loop()
            got: asyncio.Future[Any] = loop.create_future()
            self.pictures.fetch(url, lambda pic: loop.call_soon_threadsafe(_settle, got, pic))
            pic = await asyncio.wait_for(got, 20)
            if pic.error or not path.exists():
                return None
        data = path.read_bytes()
        return data, "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"

    def screens(self) -> list[dict[str, Any]]:
        return [{"name": w["name"]} for w in self.wall.describe()]

    def thumbnail(self, screen: str) -> bytes | None:
        data: bytes | None = self.wall.thumbnail(screen)
        return data


def _images(inc: dict[str, Any]) -> list[dict[str, Any]]:
    """An incident's pictures (its media that are images with an address), in order: the
    card's numbering, which the page asks by."""
    return [m for m in inc.get("media") or [] if m.get("kind") == "image" and m.get("url")]


def _settle(fut: asyncio.Future[Any], value: Any) -> None:
    if not fut.done():  # the page may have stopped waiting (timeout)
        fut.set_result(value)

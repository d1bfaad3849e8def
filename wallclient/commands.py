"""The control API's command table (docs/control-api.md), built from what each
capability registers: the composition root wires, it does not dispatch.

Each capability has one function here that registers its commands (``@table.command``)
beside their handlers: the wall's state and pictures, switching (presets and modes,
audited and refused by role), incidents, video tiles, the map. A new capability adds
one such function to ``CAPABILITIES``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wallclient.errors import CommandError

Handler = Callable[[dict[str, Any]], Awaitable[Any]]
# who sent the command, for the audit: the local control API, or a paired tablet
# (``tablet:<name>``, set by wallclient.edges.tablet.server for its own commands)
VIA: ContextVar[str] = ContextVar("via", default="control")
ROLE_RANK = {"viewer": 0, "commander": 1, "installer": 2}


@dataclass
class Capabilities:
    """What the commands act on: the sync client (role, backend commands), the wall of
    screens, the status function and the commander's switching."""

    client: Any
    wall: Any
    status: Callable[[], dict[str, Any]]
    commander: Any
    replay: Any = None  # panels.timeline.ReplayDesk: time on the wall
    evidence: Any = None  # wallclient.edges.evidence.Exporter
    ptz: Any = None  # wallclient.edges.ptz.PtzDriver: steering cameras
    cards: Any = None  # panels.card.CardDesk: the incident card
    tablet: Any = None  # wallclient.edges.tablet.desk.TabletDesk: the commander's tablets

    def require(self, role: str) -> None:
        """Refuse unless the role the backend gave this client is at least ``role``."""
        have = self.client.feed.status.role
        if have is None or ROLE_RANK.get(have, -1) < ROLE_RANK[role]:
            raise CommandError("forbidden", f"role {have} may not do this")


class Table:
    """Commands by name, registered by the capabilities that implement them."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}

    def command(self, name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if name in self.handlers:
                raise ValueError(f"command {name!r} registered twice")
            self.handlers[name] = handler
            return handler

        return register


def wall_commands(table: Table, cap: Capabilities) -> None:
    @table.command("status")
    async def status(args: dict[str, Any]) -> Any:
        from wallclient.resources import process_off_gui

        st = cap.status()
        if isinstance(st.get("resources"), dict):
            # glibc's heap walked afresh only when asked (``{"heap": true}``): else the last
            # walk's figures, at most a minute old (the walk holds the allocator's locks)
            st["resources"]["process"] = await process_off_gui(bool(args.get("heap")))
        return st

    @table.command("resources.types")
    async def resources_types(args: dict[str, Any]) -> Any:
        """Diagnosis: the Python types with the most live objects, and their growth since
        the last call; with ``referrers``, what holds the objects of one type
        (docs/control-api.md)."""
        from wallclient.resources import referrers, top_types

        if args.get("referrers"):
            return {"referrers": referrers(str(args["referrers"]), int(args.get("depth", 3)))}
        return {"types": top_types(int(args.get("n", 20)))}

    @table.command("resources.allocations")
    async def resources_allocations(args: dict[str, Any]) -> Any:
        """Diagnosis: where Python's traced memory grew since the last call, by line
        (the wall started with PYTHONTRACEMALLOC; docs/operations.md)."""
        from wallclient.resources import top_allocations

        return top_allocations(int(args.get("n", 20)), int(args.get("frames", 1)))

    @table.command("snapshot")
    async def snapshot(args: dict[str, Any]) -> Any:
        return {"files": cap.wall.snapshot(Path(args["dir"]))}


def switching_commands(table: Table, cap: Capabilities) -> None:
    commander = cap.commander

    def may_switch(want: dict[str, Any]) -> None:
        """A switch the role may not make is refused here, shown and audited."""
        try:
            cap.require("commander")
        except CommandError as exc:
            commander.refuse(want, exc.code, exc.message, via=VIA.get())
            raise

    @table.command("preset.activate")
    async def preset_activate(args: dict[str, Any]) -> Any:
        preset = str(args["preset"])
        may_switch({"preset": preset})
        return await commander.activate(preset, via=VIA.get())

    @table.command("mode.set")
    async def mode_set(args: dict[str, Any]) -> Any:
        mode = str(args["mode"])
        if mode not in ("normal", "emergency"):
            raise CommandError("bad_request", "mode must be normal or emergency")
        may_switch({"mode": mode})
        return await commander.set_mode(mode, via=VIA.get())

    @table.command("emergency")
    async def emergency(args: dict[str, Any]) -> Any:
        preset = args.get("preset")
        may_switch({"mode": "emergency", **({"preset": preset} if preset else {})})
        return await commander.emergency(str(preset) if preset else None, via=VIA.get())

    @table.command("normal")
    async def normal(_args: dict[str, Any]) -> Any:
        may_switch({"mode": "normal"})
        return await commander.normal(via=VIA.get())


def incident_commands(table: Table, cap: Capabilities) -> None:
    @table.command("incident.ack")
    async def incident_ack(args: dict[str, Any]) -> Any:
        cap.require("viewer")
        await cap.client.command("incident.ack", {"incident": args["incident"]}, via=VIA.get())
        return {"accepted": True}

    @table.command("incident.focus")
    async def incident_focus(args: dict[str, Any]) -> Any:
        incident = args.get("incident")
        if incident is not None and not isinstance(incident, str):
            raise CommandError("bad_request", "incident must be an id or null")
        return cap.wall.focus(incident)


def video_commands(table: Table, cap: Capabilities) -> None:
    def tile_of(args: dict[str, Any], key: str = "index") -> tuple[Any, int]:
        index = args.get(key)
        if not isinstance(index, int) or isinstance(index, bool):
            raise CommandError("bad_request", f"{key} must be a status.tiles index")
        for panel in cap.wall.video_panels():
            if index < panel.count:
                return panel, index
            index -= panel.count
        raise CommandError("bad_request", f"no tile {args[key]}")

    @table.command("tile.snapshot")
    async def tile_snapshot(args: dict[str, Any]) -> Any:
        panel, i = tile_of(args)
        path = str(args["file"])
        if not panel.snapshot_tile(i, path, picture=bool(args.get("picture"))):
            raise CommandError("bad_request", f"tile {args['index']} is not shown")
        return {"file": path}

    @table.command("tile.zoom")
    async def tile_zoom(args: dict[str, Any]) -> Any:
        """电子放大: ``x``, ``y`` (the part's top-left) and ``size`` as fractions of the
        picture; without them, back to the whole picture."""
        panel, i = tile_of(args, "tile")
        if "size" not in args:
            panel.steer.unzoom(i)
            return {"tile": args["tile"], "zoom": None}
        try:
            x, y, size = float(args.get("x", 0)), float(args.get("y", 0)), float(args["size"])
        except (TypeError, ValueError):
            raise CommandError("bad_request", "x, y and size must be numbers") from None
        if not 0 < size <= 1:
            raise CommandError("bad_request", "size must be in (0, 1]")
        panel.steer.zoom_part(i, x, y, size)
        return {"tile": args["tile"], "zoom": panel.steer.describe(i)}


    @table.command("tile.maximise")
    async def tile_maximise(args: dict[str, Any]) -> Any:
        """One tile over its whole region (main stream when that large), as a double
        click does; ``"restore": true`` back to the grid."""
        panel, i = tile_of(args, "tile")
        if args.get("restore"):
            panel.restore()
            return {"tile": args["tile"], "maximised": False}
        panel.maximise(i)
        return {"tile": args["tile"], "maximised": True}

    @table.command("tile.place")
    async def tile_place(args: dict[str, Any]) -> Any:
        """A camera — or a unit with its own camera — on a tile until the next preset (as
        dropping it there does)."""
        index, source = args.get("tile"), str(args.get("camera", ""))
        if not isinstance(index, int) or isinstance(index, bool):
            raise CommandError("bad_request", "tile must be a status.tiles index")
        for panel in cap.wall.video_panels():
            if index < panel.count:
                panel.place_camera(index, source)
                if panel.cameras()[index] != source:
                    raise CommandError("not_found", f"{source}: no such camera or unit with a stream")
                return {"tile": args["tile"], "camera": source}
            index -= panel.count
        raise CommandError("bad_request", f"no tile {args['tile']}")


def map_commands(table: Table, cap: Capabilities) -> None:
    @table.command("map.drill")
    async def map_drill(args: dict[str, Any]) -> Any:
        region = args.get("region")
        if region is not None and not isinstance(region, str):
            raise CommandError("bad_request", "region must be a code or null")
        cap.wall.drill_into(region)
        return {"drill": cap.wall.drill_status()}


def time_commands(table: Table, cap: Capabilities) -> None:
    """回放, 即时回放, 事件回溯, 证据导出 (docs/control-api.md, "Time")."""

    def desk() -> Any:
        if cap.replay is None:
            raise CommandError("no_playback", "no replay on this node")
        return cap.replay

    @table.command("replay.start")
    async def replay_start(args: dict[str, Any]) -> Any:
        return desk().start(args)

    @table.command("replay.stop")
    async def replay_stop(args: dict[str, Any]) -> Any:
        return desk().stop(args)

    @table.command("replay.control")
    async def replay_control(args: dict[str, Any]) -> Any:
        return desk().control(args)

    @table.command("incident.replay")
    async def incident_replay(args: dict[str, Any]) -> Any:
        return desk().incident(args)

    @table.command("replay.past")
    async def replay_past(_args: dict[str, Any]) -> Any:
        return desk().past()

    @table.command("bookmark.add")
    async def bookmark_add(args: dict[str, Any]) -> Any:
        return desk().bookmark(args)

    @table.command("export")
    async def export(args: dict[str, Any]) -> Any:
        cap.require("commander")  # evidence leaves the wall: commanders and installers
        if cap.evidence is None:
            raise CommandError("no_playback", "no export on this node")
        return await cap.evidence.export(args)


def work_commands(table: Table, cap: Capabilities) -> None:
    """Incident work (docs/control-api.md, "Incident work"): sent as the protocol commands."""

    def incident(args: dict[str, Any]) -> str:
        iid = args.get("incident")
        if not isinstance(iid, str) or not iid:
            raise CommandError("bad_request", "incident must be an incident id")
        return iid

    @table.command("incident.dispatch")
    async def incident_dispatch(args: dict[str, Any]) -> Any:
        cap.require("commander")
        unit = args.get("unit")
        if not isinstance(unit, str) or not unit:
            raise CommandError("bad_request", "unit must be a unit id")
        await cap.client.command("incident.dispatch", {"incident": incident(args), "unit": unit}, via=VIA.get())
        return {"accepted": True}

    @table.command("incident.advance")
    async def incident_advance(args: dict[str, Any]) -> Any:
        cap.require("commander")
        data = {"incident": incident(args), "status": str(args.get("status", ""))}
        if args.get("note"):
            data["note"] = str(args["note"])
        if data["status"] not in ("new", "dispatched", "arrived", "controlled", "closed"):
            raise CommandError("bad_request", "status must be a step of the incident's chain")
        await cap.client.command("incident.advance", data, via=VIA.get())
        return {"accepted": True}

    @table.command("incident.card")
    async def incident_card(args: dict[str, Any]) -> Any:
        """Open an incident's card on this node (``{}``: close it)."""
        if cap.cards is None:
            raise CommandError("not_offered", "no incident card on this node")
        if not args.get("incident"):
            cap.cards.close()
            return {"card": None}
        return {"card": cap.cards.open(incident(args))}

    @table.command("incident.note")
    async def incident_note(args: dict[str, Any]) -> Any:
        cap.require("viewer")
        text = str(args.get("text") or "").strip()
        if not text:
            raise CommandError("bad_request", "text must not be empty")
        await cap.client.command("incident.note", {"incident": incident(args), "text": text}, via=VIA.get())
        return {"accepted": True}


def ptz_commands(table: Table, cap: Capabilities) -> None:
    """云台 (docs/control-api.md, "PTZ"): moves sent as the protocol's commands; point here."""

    def driver() -> Any:
        cap.require("commander")  # viewers steer nothing (the backend refuses them too)
        if cap.ptz is None or not cap.ptz.offered():
            raise CommandError("not_offered", "the backend offers no PTZ")
        return cap.ptz

    def speed(args: dict[str, Any], key: str) -> float:
        v = args.get(key, 0)
        if not isinstance(v, int | float) or isinstance(v, bool) or not -1 <= v <= 1:
            raise CommandError("bad_request", f"{key} must be a speed in -1…1")
        return float(v)

    def camera(args: dict[str, Any]) -> str:
        cam = args.get("camera")
        if not isinstance(cam, str) or not cam:
            raise CommandError("bad_request", "camera must be a camera id")
        return cam

    @table.command("ptz.move")
    async def ptz_move(args: dict[str, Any]) -> Any:
        """One ``ptz.move`` (the backend stops the camera 1 s later unless repeated); with
        ``"hold": true`` the wall repeats it, as for a held control, until ``ptz.stop``."""
        d = driver()
        cam, speeds = camera(args), (speed(args, "pan"), speed(args, "tilt"), speed(args, "zoom"))
        if args.get("hold"):
            await d.move(cam, *speeds, via=VIA.get())  # the first one answers (a lock, a refusal)
            d.hold(cam, *speeds)
            return {"accepted": True, "held": True}
        await d.move(cam, *speeds, via=VIA.get())
        return {"accepted": True}

    @table.command("ptz.stop")
    async def ptz_stop(args: dict[str, Any]) -> Any:
        d, cam = driver(), camera(args)
        if d.moving(cam):
            d.release(cam)  # a held move: its repeats end, and ptz.stop goes out
            return {"accepted": True}
        await d.stop(cam, via=VIA.get())
        return {"accepted": True}

    @table.command("ptz.goto")
    async def ptz_goto(args: dict[str, Any]) -> Any:
        preset = args.get("preset")
        if not isinstance(preset, str | int) or isinstance(preset, bool):
            raise CommandError("bad_request", "preset must be a PTZ preset id")
        await driver().goto(camera(args), str(preset), via=VIA.get())
        return {"accepted": True}

    @table.command("ptz.point")
    async def ptz_point(args: dict[str, Any]) -> Any:
        d = driver()
        try:
            lon, lat = float(args["lon"]), float(args["lat"])
            radius = float(args.get("radius_m", d.radius_m))
        except (KeyError, TypeError, ValueError):
            raise CommandError("bad_request", "lon and lat (WGS-84) are required") from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90) or not 0 < radius <= 50_000:
            raise CommandError("bad_request", "lon/lat out of range or radius_m not in (0, 50000]")
        return await cap.wall.point_here(lon, lat, radius)


def tablet_commands(table: Table, cap: Capabilities) -> None:
    def desk() -> Any:
        if cap.tablet is None:
            raise CommandError("not_offered", "the tablet page is off on this node ([tablet] port)")
        return cap.tablet

    @table.command("tablet.pair")
    async def tablet_pair(args: dict[str, Any]) -> Any:
        cap.require("commander")  # an installer's or a commander's wall pairs tablets
        role = str(args.get("role", "viewer"))
        have = cap.client.feed.status.role
        if ROLE_RANK.get(role, 99) > ROLE_RANK.get(have or "", -1):
            raise CommandError("forbidden", f"a {role} tablet on a wall whose role is {have}")
        return desk().pair(str(args.get("name", "")), role, bool(args.get("show")))

    @table.command("tablet.list")
    async def tablet_list(_args: dict[str, Any]) -> Any:
        return {"tablets": desk().list()}

    @table.command("tablet.revoke")
    async def tablet_revoke(args: dict[str, Any]) -> Any:
        cap.require("commander")
        if not desk().revoke(str(args.get("name", ""))):
            raise CommandError("not_found", f"no tablet named {args.get('name')!r}")
        return {"revoked": args["name"]}


CAPABILITIES: list[Callable[[Table, Capabilities], None]] = [
    wall_commands, switching_commands, incident_commands, video_commands, map_commands,
    time_commands, ptz_commands, work_commands, tablet_commands,
]  # fmt: skip


def build(cap: Capabilities) -> Table:
    """Every capability's commands."""
    table = Table()
    for add in CAPABILITIES:
        add(table, cap)
    return table


def install(control: Any, cap: Capabilities) -> Table:
    """Serve every command on the control API (``control.register`` per command)."""
    table = build(cap)
    for name, handler in table.handlers.items():
        control.register(name, handler)
    return table

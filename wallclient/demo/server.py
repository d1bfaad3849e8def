"""The reference backend: the server side of protocol v1, for the demo, tests and benches.

Speaks docs/protocol.md as written: bearer tokens with roles, ``hello`` →
``welcome``, resume from a bounded replay window or a chunked snapshot, live
state messages with one ``seq`` per backend, commands answered by ``ack``,
``wall.state`` broadcast to every node, ``forbidden`` and ``rate_limited``.

A second path, ``/admin`` (token with role ``admin``), lets tests and benches
inject faults and read the server's own view. It is demo-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, TextIO

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from wallclient import geo, protocol
from wallclient.demo.district import District
from wallclient.demo.ptz import PtzDesk
from wallclient.demo.ptz import PtzError as Refused
from wallclient.errors import ProtocolError
from wallclient.protocol import JSON, PTZ_KEYS, epoch, format_time
from wallclient.state import WallState

log = logging.getLogger(__name__)

PART_ITEMS = 1000  # items per snapshot.part: 77,000 cameras → 77 frames well under 4 MiB
ROLE_RANK = {"viewer": 0, "commander": 1, "installer": 2, "admin": 3}
SAVE_EVERY_S = 15.0  # the state file at most this often (the journal holds what is newer)
DEFAULT_TOKENS = {
    "demo-viewer": ("值班员", "viewer"),
    "demo-commander": ("指挥长", "commander"),
    "demo-installer": ("实施工程师", "installer"),
    "demo-admin": ("admin", "admin"),
}


def load_tokens(path: Path | None) -> dict[str, tuple[str, str]]:
    """Tokens file: one ``token role user`` per line; ``#`` comments."""
    if path is None:
        return dict(DEFAULT_TOKENS)
    tokens: dict[str, tuple[str, str]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 2)
        if len(parts) < 2 or parts[1] not in ROLE_RANK:
            raise ValueError(f"{path}:{n}: expected 'token role [user]'")
        tokens[parts[0]] = (parts[2] if len(parts) > 2 else parts[1], parts[1])
    return tokens


@dataclass(eq=False)
class Client:
    """One connected wall node."""

    ws: ServerConnection
    user: str
    role: str
    wall: str = ""
    node: str = ""
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    drop: int = 0  # live messages to leave out (fault injection: a gap)
    features: tuple[str, ...] = ()  # what its hello said it understands
    live: bool = False
    bucket: float = 20.0
    bucket_at: float = field(default_factory=time.monotonic)
    gestures: dict[str, float] = field(default_factory=dict)  # PTZ command → when last sent

    def allow_command(self, rate: float = 5.0, burst: float = 20.0) -> bool:
        now_ = time.monotonic()
        self.bucket = min(burst, self.bucket + (now_ - self.bucket_at) * rate)
        self.bucket_at = now_
        if self.bucket < 1:
            return False
        self.bucket -= 1
        return True


class Backend:
    """All of the backend's state and its connections; one per process."""

    def __init__(
        self,
        district: District,
        *,
        tokens: dict[str, tuple[str, str]],
        rate: float = 1.0,
        replay_window: int = 10_000,
        indicator_period: float = 5.0,
        state_file: Path | None = None,
    ) -> None:
        self.district = district
        self.tokens = tokens
        self.rate = rate
        self.media: Any = None  # the demo MediaServer, for the "media" admin command
        self.recorder: Any = None  # the demo Recorder (playback), when it records
        self.pictures: Any = None  # the demo PictureServer (workflow)
        self.platform: Any = None  # the demo video platform (serve-demo --platform): resolve
        self._resolving: set[asyncio.Task[None]] = set()
        self.ptz = PtzDesk(district.cameras, self.publish)  # 云台: the virtual domes
        self.indicator_period = indicator_period
        self.unit_period = 2.0  # unit.positions every this many seconds
        self.seq = 0
        self.log: deque[tuple[int, str]] = deque(maxlen=replay_window)
        self.clients: set[Client] = set()
        self.session_id = secrets.token_hex(8)
        self.cut_snapshot_after: int | None = None
        self.state_file = state_file
        self._dirty = False
        # Every frame that gets a seq is journaled (and flushed) before it is sent, so a
        # killed backend never hands out a seq it cannot recall after a restart.
        self._journal: TextIO | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.server: Server | None = None
        self.published = 0
        self.initial: str | None = None  # the state at seq 0 as JSON, for consistency checks

    # --- persistence (so a restarted backend continues its seq) --------------------------

    @property
    def journal_file(self) -> Path | None:
        return None if self.state_file is None else self.state_file.with_suffix(".journal")

    def restore(self) -> bool:
        """Load the saved state, then replay the journal written after it."""
        if self.state_file is None or not self.state_file.exists():
            return False
        saved = json.loads(self.state_file.read_text(encoding="utf-8"))
        d = self.district
        d.regions, d.cameras, d.presets = saved["regions"], saved["cameras"], saved["presets"]
        d.indicators, d.incidents, d.layers = (
            saved["indicators"],
            saved["incidents"],
            saved["layers"],
        )
        d.walls = saved["walls"]
        d._incident_no = saved["incident_no"]
        self.seq = saved["seq"]
        journal = self.journal_file
        if journal is not None and journal.exists():
            for line in journal.read_text(encoding="utf-8").splitlines():
                found = re.search(r'"seq":(\d+)', line)
                if found is None:
                    continue  # a torn last line from the kill
                seq = int(found.group(1))
                if seq <= self.seq:
                    continue
                self.seq = seq
                self.log.append((seq, line))
                try:
                    msg = protocol.parse(line)
                except ProtocolError:
                    continue  # injected invalid frames keep their seq, change nothing
                self._apply_to_district(msg.type, msg.data)
                if msg.type == "incident.upsert":
                    d._incident_no = max(d._incident_no, int(msg.data["id"][-6:]))
        return True

    def _apply_to_district(self, type_: str, data: JSON) -> None:
        d = self.district
        if type_ == "wall.state":
            d.walls[data["wall"]] = data
        elif type_ == "camera.status" and data["id"] in d.cameras:
            d.cameras[data["id"]]["status"] = data["status"]
        elif type_ == "camera.ptz" and data["id"] in d.cameras:
            d.cameras[data["id"]]["ptz_state"] = {k: data[k] for k in PTZ_KEYS}
        elif type_ == "indicator.values":
            for v in data["values"]:
                if v["id"] in d.indicators:
                    d.indicators[v["id"]].update(value=v["value"], t=data["t"])
        elif type_ == "incident.remove":
            d.incidents.pop(data["id"], None)
        elif type_ == "unit.remove":
            d.units.pop(data["id"], None)
        elif type_.endswith(".upsert"):
            table = getattr(d, type_.split(".")[0] + "s")
            table[data["code"] if type_ == "region.upsert" else data["id"]] = data
        elif type_ == "preset.remove":
            d.presets.pop(data["id"], None)

    def _journal_write(self, text: str) -> None:
        if self.journal_file is None:
            return
        if self._journal is None:
            self._journal = open(self.journal_file, "a", encoding="utf-8")  # noqa: SIM115
        self._journal.write(text + "\n")
        self._journal.flush()

    def save(self) -> None:
        if self.state_file is None:
            return
        d = self.district
        saved = {
            "seq": self.seq, "regions": d.regions, "cameras": d.cameras, "presets": d.presets,
            "indicators": d.indicators, "incidents": d.incidents, "layers": d.layers,
            "walls": d.walls, "incident_no": d._incident_no,
        }  # fmt: skip
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.state_file)
        # Everything journaled so far is in the state file now.
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self.journal_file is not None:
            self.journal_file.unlink(missing_ok=True)
        self._dirty = False

    # --- publishing ------------------------------------------------------------------------

    def publish(self, type_: str, data: JSON) -> int:
        """Give a state message the next seq, keep it for replay, send it to every node."""
        self.seq += 1
        text = protocol.encode(type_, data, seq=self.seq)
        self._journal_write(text)
        self.log.append((self.seq, text))
        self._dirty = True
        self.published += 1
        if self.recorder is not None and type_ == "incident.upsert" and data.get("priority") == 1:
            self._record_near(data)
        for c in self.clients:
            if c.drop > 0 and c.live:
                c.drop -= 1
                continue
            c.queue.put_nowait(text)
        return self.seq

    def _record_near(self, incident: JSON) -> None:
        """The nearest cameras of a priority-1 incident are recorded (事件回溯 needs them)."""
        loc = geo.location(incident)
        if loc is not None and incident.get("status") == "new":
            cams = self.district.cameras
            online = lambda c: cams[c]["status"] == "online"  # noqa: E731 — the wall links these
            for _, cam in geo.nearest_brute(cams, *loc, n=3, accept=online):
                self.recorder.want(cam)

    def publish_raw(self, text: str, with_seq: bool) -> int | None:
        """Fault injection: a raw frame to every node; ``{seq}`` takes the next seq."""
        seq = None
        if with_seq:
            self.seq += 1
            seq = self.seq
            text = text.replace("{seq}", str(seq))
            self._journal_write(text)
            self.log.append((seq, text))
        for c in self.clients:
            c.queue.put_nowait(text)
        return seq

    def view(self) -> dict[str, Any]:
        """The backend's own view of state, in ``wallclient cache show`` form."""
        state = WallState()
        state.load(self.district.tables(), None, self.seq)
        out = state.view()
        out["walls"] = self.district.walls
        return out

    # --- the living city ----------------------------------------------------------------------

    async def _events(self) -> None:
        next_ind = time.monotonic() + self.indicator_period
        next_flip = time.monotonic() + 30
        next_units = time.monotonic() + self.unit_period
        credit = 0.0
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.05)
            now_m = time.monotonic()
            at = datetime.now().astimezone()
            credit = min(credit + (now_m - last) * self.rate, 1000)
            last = now_m
            while credit >= 1:
                credit -= 1
                for type_, data in self.district.incident_event(at):
                    # (the city's own alarms: their pictures are cut when first asked for —
                    # at hundreds of events a second, one ffmpeg each would swamp the machine)
                    self.publish(type_, data)
            if now_m >= next_ind:
                next_ind = now_m + self.indicator_period
                self.publish(*self.district.indicator_batch(at))
            if now_m >= next_units and self.district.units:
                next_units = now_m + self.unit_period
                self.publish(*self.district.unit_positions(at, self.unit_period))
                self.arrivals(at)
            if now_m >= next_flip:
                next_flip = now_m + 30
                self.publish(*self.district.camera_flip())

    def _needs_picture(self, type_: str, data: JSON) -> bool:
        return bool(type_ == "incident.upsert" and data.get("media") and self.pictures is not None
                    and not (self.pictures.dir / f"{data['id']}.jpg").exists())  # fmt: skip

    async def _publish_with_picture(self, type_: str, data: JSON) -> int:
        with contextlib.suppress(Exception):  # a picture that fails is the client's to report
            await self.pictures.render(data["id"])
        return self.publish(type_, data)

    async def _saver(self) -> None:
        # The journal keeps every frame since the last save, so the state file is written
        # seldom: it re-encodes the whole district (~0.15 s of this loop each time, the
        # platform's answers and the media server waiting behind it; measured in a 36-tile
        # switch, docs/benchmarks.md "Play URLs")
        while True:
            await asyncio.sleep(SAVE_EVERY_S)
            if self._dirty:
                self.save()

    # --- connections ----------------------------------------------------------------------

    def _authorize(self, request: Request) -> tuple[str, str] | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        return self.tokens.get(header[7:].strip())

    def process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path not in ("/wall/v1", "/admin"):
            return conn.respond(HTTPStatus.NOT_FOUND, "no such path\n")
        who = self._authorize(request)
        if who is None or (path == "/admin" and who[1] != "admin"):
            return conn.respond(HTTPStatus.UNAUTHORIZED, "bad or missing bearer token\n")
        return None

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        who = self._authorize(ws.request)
        assert who is not None
        if ws.request.path.startswith("/admin"):
            await self._admin(ws)
            return
        client = Client(ws=ws, user=who[0], role=who[1])
        sender = asyncio.create_task(self._sender(client))
        try:
            await self._session(client)
        except ConnectionClosed:
            pass
        finally:
            self.clients.discard(client)
            client.queue.put_nowait(None)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def _sender(self, client: Client) -> None:
        try:
            while True:
                text = await client.queue.get()
                if text is None:
                    return
                if text == "<cut>":
                    client.ws.transport.abort() if hasattr(client.ws, "transport") else None
                    return
                await client.ws.send(text)
                if client.queue.qsize() > 200_000:  # a node that cannot keep up is dropped
                    await client.ws.close(1008, "too slow")
                    return
        except ConnectionClosed:
            return

    def _error(self, code: str, message: str) -> str:
        return protocol.encode("error", {"code": code, "message": message})

    async def _session(self, client: Client) -> None:
        ws = client.ws
        first = await asyncio.wait_for(ws.recv(), timeout=30)
        try:
            msg = protocol.parse(first)
        except ProtocolError as exc:
            code = "unsupported_version" if exc.reason.startswith("v:") else "bad_request"
            await ws.send(self._error(code, exc.reason))
            await ws.close(1002 if code == "bad_request" else 4400, exc.reason[:100])
            return
        if msg.type != "hello":
            await ws.send(self._error("bad_request", "expected hello"))
            await ws.close(1002, "expected hello")
            return
        client.wall, client.node = msg.data["wall"], msg.data["node"]
        client.features = tuple(msg.data.get("features") or ())
        resume_from = msg.data["resume_from"]
        oldest = self.log[0][0] if self.log else self.seq + 1
        can_resume = resume_from is not None and oldest - 1 <= resume_from <= self.seq
        # Everything below until the client is registered runs without awaiting, so no
        # live message can fall between the snapshot or replay and the live stream.
        welcome = protocol.encode(
            "welcome",
            {
                "session": self.session_id,
                "server_time": format_time(datetime.now().astimezone()),
                "head_seq": self.seq,
                "resume": can_resume,
                "user": client.user,
                "role": client.role,
                "features": (["playback"] if self.recorder is not None else [])
                + (["resolve"] if self.platform is not None else [])
                + ["units", "ptz", "workflow"],
            },
        )
        client.queue.put_nowait(welcome)
        if can_resume:
            for seq, text in self.log:
                if seq > resume_from:
                    client.queue.put_nowait(text)
        else:
            for text in self._snapshot_frames(client.wall, units="units" in client.features):
                client.queue.put_nowait(text)
        client.live = True
        self.clients.add(client)
        log.info("node %s/%s (%s) %s", client.wall, client.node, client.role,
                 f"resumed from {resume_from}" if can_resume else "snapshot")  # fmt: skip
        async for frame in ws:
            await self._command(client, frame)

    def _snapshot_frames(self, wall: str, units: bool = False) -> list[str]:
        # a part of a kind the client does not know is invalid: units only to those that do
        tables = self.district.tables(units=units)
        counts = {k: len(v) for k, v in tables.items()}
        frames = [protocol.encode("snapshot.begin", {"head_seq": self.seq, "counts": counts})]
        for kind, items in tables.items():
            for i in range(0, len(items), PART_ITEMS):
                frames.append(
                    protocol.encode(
                        "snapshot.part", {"kind": kind, "items": items[i : i + PART_ITEMS]}
                    )
                )
        if self.cut_snapshot_after is not None:
            frames = frames[: 1 + self.cut_snapshot_after] + ["<cut>"]
            self.cut_snapshot_after = None
            return frames
        wall_state = self.district.walls.get(wall) or self.district.set_wall(
            wall, "system", datetime.now().astimezone(), mode="normal", preset=None
        )
        frames.append(protocol.encode("snapshot.end", {"wall": wall_state}, seq=self.seq))
        return frames

    async def _command(self, client: Client, frame: str | bytes) -> None:
        try:
            msg = protocol.parse(frame)
        except ProtocolError as exc:
            client.queue.put_nowait(self._error("bad_request", exc.reason))
            return
        if msg.id is None:
            client.queue.put_nowait(self._error("bad_request", f"{msg.type}: command without id"))
            return

        def ack(ok: bool, code: str | None = None, message: str = "", data: JSON | None = None) -> None:
            body: JSON = {"id": msg.id, "ok": ok}
            if not ok:
                body["error"] = {"code": code, "message": message}
            if data is not None:
                body["data"] = data
            client.queue.put_nowait(protocol.encode("ack", body))

        if msg.type not in protocol.COMMAND_TYPES:
            ack(False, "bad_request", f"unknown command {msg.type}")
            return
        if not self._allowed(client, msg.type):
            ack(False, "rate_limited", "too many commands; slow down")
            return
        at = datetime.now().astimezone()
        d = msg.data
        if msg.type == "ping":
            ack(True)
        elif msg.type == "incident.ack":
            inc = self.district.incidents.get(d["incident"])
            if inc is None:
                ack(False, "bad_request", f"no live incident {d['incident']}")
                return
            inc["acked_by"] = client.user
            inc["acked_at"] = format_time(at)
            inc["updated_at"] = format_time(at)
            ack(True)
            self.publish("incident.upsert", dict(inc))
        elif msg.type == "incident.note":  # any role may write down what it saw
            inc = self.district.incidents.get(d["incident"])
            if inc is None:
                ack(False, "unknown_incident", f"no live incident {d['incident']}")
                return
            self._history(inc, at, client.user, note=d["text"][:500])
            ack(True)
            self.publish("incident.upsert", dict(inc))
        elif msg.type == "stream.resolve":  # any role; answered when the platform answers
            task = asyncio.ensure_future(self._resolve(d, ack))
            self._resolving.add(task)
            task.add_done_callback(self._resolving.discard)
        elif msg.type == "stream.release":
            if self.platform is not None:
                self.platform.release(d["release"])
            ack(True)
        elif ROLE_RANK[client.role] < ROLE_RANK["commander"]:
            ack(False, "forbidden", f"role {client.role} may not {msg.type}")
        elif msg.type == "preset.activate":
            if d["preset"] not in self.district.presets:
                ack(False, "unknown_preset", f"no preset {d['preset']}")
                return
            ack(True)
            self.publish(
                "wall.state", self.district.set_wall(d["wall"], client.user, at, preset=d["preset"])
            )
        elif msg.type == "mode.set":
            ack(True)
            self.publish(
                "wall.state", self.district.set_wall(d["wall"], client.user, at, mode=d["mode"])
            )
        elif msg.type in ("incident.dispatch", "incident.advance"):
            try:
                self._work(client, msg.type, d, at)
            except Refused as exc:
                ack(False, exc.code, exc.message)
                return
            ack(True)
        elif msg.type.startswith("ptz."):
            try:
                self._ptz(client, msg.type, d)
            except Refused as exc:
                ack(False, exc.code, exc.message)
                return
            ack(True)

    async def _resolve(self, d: JSON, ack: Callable[..., None]) -> None:
        """``stream.resolve`` through the platform (docs/protocol-decisions.md)."""
        from wallclient.demo.platform import RESOLVE_TIMEOUT_S
        from wallclient.demo.platform import Refused as NoUrl

        cam = self.district.cameras.get(d["camera"])
        try:
            if cam is None:
                raise NoUrl("unknown_camera", f"no camera {d['camera']}")
            if self.platform is None or not cam.get("resolve"):
                raise NoUrl("bad_request", f"camera {d['camera']} has fixed URLs: nothing to resolve")
            async with asyncio.timeout(RESOLVE_TIMEOUT_S + 1):
                got = await self.platform.resolve(
                    cam, d["stream"], d["kind"], list(d["protocols"]),
                    epoch(d["start"]) if d.get("start") else None,
                    epoch(d["end"]) if d.get("end") else None,
                )  # fmt: skip
        except NoUrl as exc:
            ack(False, exc.code, exc.message)
            return
        except TimeoutError:
            ack(False, "platform_timeout", "the platform did not answer")
            return
        ack(True, data=got)

    @staticmethod
    def _history(inc: JSON, at: datetime, by: str, **what: Any) -> None:
        inc.setdefault("history", []).append({"t": format_time(at), "by": by, **what})
        del inc["history"][:-50]  # the newest 50 steps travel with the incident
        inc["updated_at"] = format_time(at)

    def _work(self, client: Client, type_: str, d: JSON, at: datetime) -> None:
        """派单 and 处置: the effect comes back as incident.upsert (and unit.upsert)."""
        inc = self.district.incidents.get(d["incident"])
        if inc is None:
            raise Refused("unknown_incident", f"no live incident {d['incident']}")
        if type_ == "incident.dispatch":
            unit = self.district.units.get(d["unit"])
            if unit is None:
                raise Refused("unknown_unit", f"no unit {d['unit']}")
            if unit["status"] == "offline":
                raise Refused("bad_request", f"unit {d['unit']} is offline")
            unit.update(status="enroute", incident=inc["id"])
            if unit["id"] not in inc.setdefault("units", []):
                inc["units"].append(unit["id"])
            if inc["status"] == "new":
                inc["status"] = "dispatched"
            self._history(inc, at, client.user, status=inc["status"], unit=unit["id"])
            self.publish("unit.upsert", dict(unit))
            self.publish("incident.upsert", dict(inc))
            return
        order = protocol.INCIDENT_STATUSES
        want = d["status"]
        if want not in order or order.index(want) <= order.index(inc["status"]):
            raise Refused("bad_transition", f"{inc['status']} → {want}: forward only")
        inc["status"] = want
        self._history(inc, at, client.user, status=want, **({"note": d["note"][:500]} if d.get("note") else {}))
        if want == "closed":
            for uid in inc.get("units") or []:
                unit = self.district.units.get(uid)
                if unit is not None and unit.get("incident") == inc["id"]:
                    unit.update(status="idle", incident=None)
                    self.publish("unit.upsert", dict(unit))
        self.publish("incident.upsert", dict(inc))

    def arrivals(self, at: datetime) -> None:
        """Dispatched units that reached their incident: on site, and the incident arrived."""
        for unit, inc in self.district.arrived():
            unit["status"] = "onsite"
            self.publish("unit.upsert", dict(unit))
            if inc["status"] == "dispatched":
                inc["status"] = "arrived"
            self._history(inc, at, unit["name"], status=inc["status"], unit=unit["id"])
            self.publish("incident.upsert", dict(inc))

    def _ptz(self, client: Client, type_: str, d: JSON) -> None:
        cam, user = d["camera"], client.user
        if type_ == "ptz.move":
            self.ptz.move(cam, user, d["pan"], d["tilt"], d["zoom"])
        elif type_ == "ptz.stop":
            self.ptz.stop(cam, user)
        elif type_ == "ptz.goto":
            self.ptz.goto(cam, user, d["preset"])
        else:
            self.ptz.absolute(cam, user, d["pan_deg"], d.get("tilt_deg"), d.get("zoom"))

    @staticmethod
    def _allowed(client: Client, type_: str) -> bool:
        """The command rate limit, where one gesture is one charge: a held PTZ control's
        repeats (ptz.move within 1.5 s of the last) and a point-here burst (ptz.absolute
        within 0.5 s of the last) ride on their first command's charge."""
        if type_ in ("stream.resolve", "stream.release"):
            return True  # a wall's opens, bounded by its own cap (not a person's commands)
        now_ = time.monotonic()
        window = {"ptz.move": 1.5, "ptz.absolute": 0.5}.get(type_)
        last = client.gestures.get(type_, -1e9)
        if window is not None:
            client.gestures[type_] = now_
            if now_ - last < window:
                return True
        return client.allow_command()

    # --- admin (tests, benches): fault injection and the server's own view ----------------

    async def _admin(self, ws: ServerConnection) -> None:
        async for frame in ws:
            req = json.loads(frame)
            try:
                data = await self._admin_cmd(req.get("cmd", ""), req.get("args", {}))
                reply = {"id": req.get("id"), "ok": True, "data": data}
            except Exception as exc:  # an admin mistake answers, it never kills the backend
                reply = {
                    "id": req.get("id"),
                    "ok": False,
                    "error": {"code": "bad_request", "message": str(exc)},
                }
            await ws.send(json.dumps(reply, ensure_ascii=False))

    async def _admin_cmd(self, cmd: str, args: JSON) -> Any:
        if cmd == "state":
            return self.view()
        if cmd == "cameras":  # the full records (locations, status), for tests of the map
            return list(self.district.cameras.values())
        if cmd == "units":
            return list(self.district.units.values())
        if cmd == "incident_of":  # one incident's full record (media, history, units)
            return self.district.incidents.get(str(args["id"]))
        if cmd == "head":
            return {
                "seq": self.seq,
                "published": self.published,
                "oldest": self.log[0][0] if self.log else None,
            }
        if cmd == "initial":
            return json.loads(self.initial) if self.initial else None
        if cmd == "log":
            upto = int(args.get("upto", self.seq))
            return [[seq, text] for seq, text in self.log if seq <= upto]
        if cmd == "connections":
            return [
                {"wall": c.wall, "node": c.node, "user": c.user, "role": c.role}
                for c in self.clients
            ]
        if cmd == "publish":  # the backend holds what it publishes (a preset can be activated)
            with contextlib.suppress(KeyError, TypeError, AttributeError):
                self._apply_to_district(args["type"], args["data"])
            return {"seq": self.publish(args["type"], args["data"])}
        if cmd == "raw":
            return {"seq": self.publish_raw(args["text"], bool(args.get("with_seq")))}
        if cmd == "drop_next":
            for c in self.clients:
                c.drop = int(args.get("n", 1))
            return {"clients": len(self.clients)}
        if cmd == "duplicate":
            last = list(self.log)[-int(args.get("n", 3)) :]
            for c in self.clients:
                for _, text in last:
                    c.queue.put_nowait(text)
            return {"sent": len(last)}
        if cmd == "cut_snapshot":
            self.cut_snapshot_after = int(args.get("after_parts", 1))
            return {}
        if cmd == "kick":
            for c in list(self.clients):
                await c.ws.close(1012, "kicked by admin")
            return {}
        if cmd == "events":
            at = datetime.now().astimezone()
            first = self.seq + 1
            for _ in range(int(args.get("n", 1))):
                for type_, data in self.district.incident_event(at):
                    self.publish(type_, data)
            return {"first": first, "last": self.seq}
        if cmd == "incident":
            inc = self.district.new_incident(
                datetime.now().astimezone(), priority=args.get("priority")
            )
            if "location" in args:
                inc["location"] = args["location"]
            if "source" in args:  # e.g. a video-AI alarm with its picture
                inc["source"] = str(args["source"])
                inc["history"][0]["by"] = inc["source"]
                inc.pop("media", None)
                if inc["source"] in ("video_ai", "iot") and self.district.pictures_base:
                    inc["media"] = [self.district._picture_of(inc, datetime.now().astimezone())]
            if args.get("fresh"):  # reported this very moment (the demo backdates a little)
                inc["reported_at"] = inc["updated_at"] = format_time(datetime.now().astimezone())
            if self._needs_picture("incident.upsert", inc):
                return {"seq": await self._publish_with_picture("incident.upsert", dict(inc)), "incident": inc}
            return {"seq": self.publish("incident.upsert", dict(inc)), "incident": inc}
        if cmd == "pictures":  # the picture server's fault modes (wallclient.demo.pictures.MODES)
            if self.pictures is None:
                raise ValueError("no picture server")
            self.pictures.mode = str(args.get("mode", "normal"))
            return {"mode": self.pictures.mode, "served": self.pictures.served, "base": self.pictures.base}
        if cmd == "rate":
            self.rate = float(args["rate"])
            return {}
        if cmd == "save":
            self.save()
            return {}
        if cmd == "playback":  # the recorder's playback server: normal | down | hang | garbage-list
            if self.recorder is None:
                raise ValueError("not recording (started with --no-record)")
            if "mode" in args:
                self.recorder.mode = str(args["mode"])
            for cam in args.get("record", []):
                self.recorder.want(str(cam))
            return {"mode": self.recorder.mode, "recording": self.recorder.recording(),
                    "base": self.recorder.base}  # fmt: skip
        if cmd == "media_viewers":  # viewers per camera (a relay in front shows as one)
            return self.media.viewers() if self.media is not None else {}
        if cmd == "ptz":  # the domes' motion: speeds, holder, last stop
            return self.ptz.motion()
        if cmd == "platform":  # the video platform's behaviour: normal | timeout | fail | early
            if self.platform is None:
                raise ValueError("no platform (serve-demo --platform wvp|isc)")
            if "mode" in args:
                self.platform.set_mode(str(args["mode"]), args.get("message"))
            if "delay" in args:
                self.platform.delay = float(args["delay"])
            if "offline" in args:
                self.platform.offline = set(args["offline"])
            return self.platform.view()
        if cmd == "media":  # the demo cameras' fault modes: normal | hang | garbage | down
            if self.media is None:
                raise ValueError("no media server (started with --no-media)")
            self.media.set_mode(str(args["mode"]))
            return {"mode": self.media.mode}
        raise ValueError(f"unknown admin command {cmd!r}")

    # --- life ---------------------------------------------------------------------------------

    async def start(self, host: str, port: int, tls: ssl.SSLContext | None = None) -> int:
        """Listen (``wss://`` with ``tls``); returns the port (0 picks a free one)."""
        if self.seq == 0 and self.initial is None:
            d = self.district
            self.initial = json.dumps({"tables": d.tables(), "walls": d.walls}, ensure_ascii=False)
        self.server = await serve(
            self.handler,
            host,
            port,
            process_request=self.process_request,
            max_size=protocol.MAX_FRAME,
            ping_interval=20,
            ping_timeout=20,
            server_header="wallclient-demo",
            ssl=tls,
        )
        self._tasks = [asyncio.create_task(self._events()), asyncio.create_task(self._saver()),
                       asyncio.create_task(self.ptz.run())]  # fmt: skip
        sock = next(iter(self.server.sockets))
        return int(sock.getsockname()[1])

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        self.save()

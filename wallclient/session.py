"""The client side of a protocol v1 session, sans I/O.

``Session.receive(text)`` takes one frame and returns the events it leads to;
``Session.outgoing()`` hands over the frames to send. The I/O pump around it
applies the events to the state and the cache and never decides anything about
ordering itself (protocol.md, Session and Ordering).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wallclient import protocol
from wallclient.errors import ProtocolError
from wallclient.protocol import JSON


@dataclass(frozen=True, slots=True)
class Welcome:
    """The server accepted us; ``resume`` says whether a replay or a snapshot follows."""

    session: str
    server_time: str
    head_seq: int
    resume: bool
    user: str
    role: str
    features: tuple[str, ...] = ()  # what the backend offers (playback, ptz, …)


@dataclass(frozen=True, slots=True)
class Apply:
    """Apply one state message, and persist it together with ``seq``."""

    seq: int
    type: str
    data: JSON
    ts: str | None = None


@dataclass(frozen=True, slots=True)
class SnapshotReady:
    """A whole snapshot, to replace all backend state at once at ``seq``."""

    seq: int
    tables: dict[str, list[JSON]]
    wall: JSON | None
    invalid_items: int = 0


@dataclass(frozen=True, slots=True)
class Skip:
    """A state message we do not apply (unknown type) that still advances ``seq``."""

    seq: int
    type: str


@dataclass(frozen=True, slots=True)
class Invalid:
    """A frame that failed validation: count it, log it, keep the raw text."""

    reason: str
    raw: str
    seq: int | None


@dataclass(frozen=True, slots=True)
class Gap:
    """A ``seq`` jumped: stop applying, close, resume from ``last_seq``."""

    last_seq: int | None
    got: int


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A ``seq`` we already applied; ignored."""

    seq: int


@dataclass(frozen=True, slots=True)
class Ack:
    """The backend's answer to one of our commands."""

    id: str
    ok: bool
    error: JSON | None
    data: JSON | None = None  # what a command answers with (stream.resolve: its URL)


@dataclass(frozen=True, slots=True)
class ServerError:
    """An ``error`` message; ``auth_failed`` means the token is refused."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class UnknownType:
    """A type this client does not know, reported once per type (protocol.md)."""

    type: str


Event = (
    Welcome
    | Apply
    | SnapshotReady
    | Skip
    | Invalid
    | Gap
    | Duplicate
    | Ack
    | ServerError
    | UnknownType
)

RAW_KEEP = 8192  # characters of an invalid frame kept for diagnosis


@dataclass
class _Staging:
    head_seq: int
    tables: dict[str, list[JSON]] = field(default_factory=dict)
    invalid_items: int = 0


class Session:
    """Decides, frame by frame: apply, ignore a duplicate, resume on a gap, skip."""

    def __init__(
        self,
        *,
        wall: str,
        node: str,
        scope: Mapping[str, str],
        last_seq: int | None,
        client: str = "wallclient/0.1",
    ) -> None:
        self.wall = wall
        self.node = node
        self.scope = dict(scope)
        self.client = client
        self.last_seq = last_seq
        self.welcome: Welcome | None = None
        self.closing = False
        self._staging: _Staging | None = None
        self._outgoing: list[str] = []
        self._ids = itertools.count(1)
        self._unknown_seen: set[str] = set()

    # --- connection lifecycle ----------------------------------------------------------

    def connected(self) -> None:
        """A new connection is open: forget the old one's staging, queue ``hello``."""
        self.welcome = None
        self.closing = False
        self._staging = None
        self._outgoing = [
            protocol.hello(
                client=self.client,
                wall=self.wall,
                node=self.node,
                scope=self.scope,
                resume_from=self.last_seq,
            )
        ]

    def disconnected(self) -> None:
        """The connection is gone; a snapshot cut short leaves the old state (protocol.md)."""
        self._staging = None
        self.welcome = None

    def outgoing(self) -> list[str]:
        """Frames to send, in order; the queue is emptied."""
        out, self._outgoing = self._outgoing, []
        return out

    def command(self, type_: str, data: Mapping[str, Any]) -> str:
        """Queue a command; returns the ``id`` its ``ack`` will carry."""
        cid = f"{self.node}-{next(self._ids)}"
        self._outgoing.append(protocol.command(type_, data, cid))
        return cid

    @property
    def staging(self) -> bool:
        """True while a snapshot is being received."""
        return self._staging is not None

    # --- frames ------------------------------------------------------------------------

    def receive(self, text: str | bytes) -> list[Event]:
        """Process one incoming frame; returns what the pump must do about it."""
        if self.closing:
            return []
        try:
            msg = protocol.parse(text)
        except ProtocolError as exc:
            raw = text if isinstance(text, str) else repr(bytes(text[:RAW_KEEP]))
            return self._invalid(exc.reason, raw[:RAW_KEEP], exc.seq)
        try:
            return self._dispatch(msg, text)
        except (KeyError, TypeError, ValueError) as exc:  # defence in depth: never raise out
            raw = text if isinstance(text, str) else ""
            return self._invalid(f"{msg.type}: {exc!r}", raw[:RAW_KEEP], msg.seq)

    def _invalid(self, reason: str, raw: str, seq: int | None) -> list[Event]:
        events: list[Event] = [Invalid(reason, raw, None)]
        if seq is None or self.welcome is None or self._staging is not None:
            return events
        # A bad frame with a seq is skipped, not waited for (protocol.md, Envelope)…
        if self.last_seq is not None and seq <= self.last_seq:
            return events
        # …but only when it is the next one; a bad frame past a gap is still a gap.
        if self.last_seq is not None and seq > self.last_seq + 1:
            return events + self._gap(seq)
        self.last_seq = seq
        return [Invalid(reason, raw, seq)]

    def _gap(self, got: int) -> list[Event]:
        self.closing = True
        return [Gap(self.last_seq, got)]

    def _dispatch(self, msg: protocol.Message, text: str | bytes) -> list[Event]:
        t = msg.type
        if t == "welcome":
            d = msg.data
            self.welcome = Welcome(
                d["session"], d["server_time"], d["head_seq"], d["resume"], d["user"], d["role"],
                tuple(d.get("features") or ()),
            )
            if not d["resume"]:
                # The snapshot that follows replaces everything; until its end,
                # nothing live may be applied.
                self._staging = None
            return [self.welcome]
        if t == "ack":
            return [Ack(msg.data["id"], msg.data["ok"], msg.data.get("error"), msg.data.get("data"))]
        if t == "error":
            return [ServerError(msg.data["code"], msg.data["message"])]
        if self.welcome is None:
            return [Invalid(f"{t} before welcome", str(text)[:RAW_KEEP], None)]
        if t == "snapshot.begin":
            self._staging = _Staging(msg.data["head_seq"])
            return []
        if t == "snapshot.part":
            return self._part(msg, text)
        if t == "snapshot.end":
            return self._end(msg, text)
        if msg.seq is None:
            if t in self._unknown_seen:
                return []
            self._unknown_seen.add(t)
            return [UnknownType(t)]
        if self._staging is not None:
            return [Invalid(f"{t} seq {msg.seq} inside a snapshot", str(text)[:RAW_KEEP], None)]
        return self._ordered(msg)

    def _ordered(self, msg: protocol.Message) -> list[Event]:
        seq = msg.seq
        assert seq is not None
        if self.last_seq is not None and seq <= self.last_seq:
            return [Duplicate(seq)]
        if self.last_seq is not None and seq != self.last_seq + 1:
            return self._gap(seq)
        self.last_seq = seq
        if msg.type in protocol.STATE_TYPES:
            return [Apply(seq, msg.type, msg.data, msg.ts)]
        events: list[Event] = [Skip(seq, msg.type)]
        if msg.type not in self._unknown_seen:
            self._unknown_seen.add(msg.type)
            events.insert(0, UnknownType(msg.type))
        return events

    def _part(self, msg: protocol.Message, text: str | bytes) -> list[Event]:
        if self._staging is None:
            return [Invalid("snapshot.part without snapshot.begin", str(text)[:RAW_KEEP], None)]
        kind = msg.data["kind"]
        items = self._staging.tables.setdefault(kind, [])
        bad = 0
        for item in msg.data["items"]:
            if protocol.item_error(kind, item) is None:
                items.append(item)
            else:
                bad += 1
        self._staging.invalid_items += bad
        if bad:
            first = next(
                protocol.item_error(kind, i)
                for i in msg.data["items"]
                if protocol.item_error(kind, i)
            )
            return [
                Invalid(f"snapshot.part {kind}: {bad} invalid item(s), first: {first}", "", None)
            ]
        return []

    def _end(self, msg: protocol.Message, text: str | bytes) -> list[Event]:
        staging, self._staging = self._staging, None
        seq = msg.seq
        assert seq is not None
        if staging is None:
            return [Invalid("snapshot.end without snapshot.begin", str(text)[:RAW_KEEP], seq)]
        if seq != staging.head_seq:
            return [Invalid(f"snapshot.end seq {seq} != head_seq {staging.head_seq}", "", None)]
        self.last_seq = seq
        return [SnapshotReady(seq, staging.tables, msg.data["wall"], staging.invalid_items)]

"""Protocol v1 messages: parse and validate frames, build the client's messages.

Pure functions over text and dicts (docs/protocol.md). Nothing here touches
a socket; the reference backend builds its frames with the same helpers, so the
two sides cannot drift apart.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from wallclient.errors import ProtocolError

VERSION = 1
MAX_FRAME = 4 * 1024 * 1024  # protocol.md, Transport: frame size limit

REGION_LEVELS = ("district", "street", "area", "village", "grid")
INCIDENT_STATUSES = ("new", "dispatched", "arrived", "controlled", "closed")
INCIDENT_SOURCES = ("12345", "110", "grid", "iot", "video_ai")
DEADLINE_KINDS = ("respond", "arrive", "control", "track")
ROLES = ("viewer", "commander", "installer")
MODES = ("normal", "emergency")
SNAPSHOT_KINDS = ("regions", "cameras", "presets", "indicators", "incidents", "layers", "units")
UNIT_STATUSES = ("idle", "enroute", "onsite", "offline")

# Types that move state and therefore carry ``seq`` (protocol.md, State messages).
STATE_TYPES = frozenset(
    {
        "snapshot.end",
        "region.upsert",
        "camera.upsert",
        "camera.status",
        "camera.ptz",
        "preset.upsert",
        "preset.remove",
        "indicator.upsert",
        "indicator.values",
        "incident.upsert",
        "incident.remove",
        "layer.upsert",
        "wall.state",
        "unit.upsert",
        "unit.positions",
        "unit.remove",
    }
)
COMMAND_TYPES = frozenset(
    {"preset.activate", "mode.set", "incident.ack", "ping",
     "ptz.move", "ptz.stop", "ptz.goto", "ptz.absolute",
     "incident.dispatch", "incident.advance", "incident.note",
     "stream.resolve", "stream.release"}  # fmt: skip
)

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    """One decoded frame: the envelope's fields and its validated ``data``."""

    type: str
    data: JSON
    seq: int | None = None
    id: str | None = None
    ts: str | None = None
    extra: JSON = field(default_factory=dict)


# --- small validation language ---------------------------------------------------
# A spec maps a field name to (check, required). A check returns an error text or
# None. Unknown fields pass untouched: protocol.md lets the backend add fields.

Check = Callable[[Any], str | None]
Spec = Mapping[str, tuple[Check, bool]]


def _is_str(v: Any) -> str | None:
    return None if isinstance(v, str) else "must be a string"


def _is_nonempty_str(v: Any) -> str | None:
    return None if isinstance(v, str) and v != "" else "must be a non-empty string"


def _is_int(v: Any) -> str | None:
    return None if isinstance(v, int) and not isinstance(v, bool) else "must be an integer"


def _is_num(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return "must be a number"
    return None if math.isfinite(v) else "must be finite"


def _is_bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _is_obj(v: Any) -> str | None:
    return None if isinstance(v, dict) else "must be an object"


def _is_time(v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be an RFC 3339 time string"
    try:
        parse_time(v)
    except ValueError:
        return f"is not an RFC 3339 time: {v[:40]!r}"
    return None


def _nullable(check: Check) -> Check:
    return lambda v: None if v is None else check(v)


def _one_of(*choices: str) -> Check:
    return lambda v: None if v in choices else f"must be one of {', '.join(choices)}"


def _list_of(check: Check) -> Check:
    def run(v: Any) -> str | None:
        if not isinstance(v, list):
            return "must be a list"
        for i, item in enumerate(v):
            err = check(item)
            if err:
                return f"[{i}] {err}"
        return None

    return run


def _int_range(lo: int, hi: int) -> Check:
    def run(v: Any) -> str | None:
        err = _is_int(v)
        if err:
            return err
        return None if lo <= v <= hi else f"must be from {lo} to {hi}"

    return run


def _shape(spec: Spec) -> Check:
    def run(v: Any) -> str | None:
        if not isinstance(v, dict):
            return "must be an object"
        return _first_error(v, spec)

    return run


def _first_error(obj: Mapping[str, Any], spec: Spec) -> str | None:
    for name, (check, required) in spec.items():
        if name not in obj:
            if required:
                return f"{name}: missing"
            continue
        err = check(obj[name])
        if err:
            return f"{name}: {err}"
    return None


def _lonlat(v: Any) -> str | None:
    err = _shape({"lon": (_is_num, True), "lat": (_is_num, True)})(v)
    if err:
        return err
    if not (-180 <= v["lon"] <= 180 and -90 <= v["lat"] <= 90):
        return "lon/lat out of range"
    return None


def _geometry(v: Any) -> str | None:
    err = _shape(
        {"type": (_one_of("Polygon", "MultiPolygon"), True), "coordinates": (_is_list, True)}
    )(v)
    return err


def _is_list(v: Any) -> str | None:
    return None if isinstance(v, list) else "must be a list"


def _category(v: Any) -> str | None:
    err = _list_of(_is_str)(v)
    if err:
        return err
    return None if 1 <= len(v) <= 3 else "must have 1 to 3 levels"


def _deadlines(v: Any) -> str | None:
    if not isinstance(v, dict):
        return "must be an object"
    for k, t in v.items():
        err = _is_time(t) if t is not None else None
        if err:
            return f"{k}: {err}"
    return None


def _feature_collection(v: Any) -> str | None:
    err = _shape({"type": (_one_of("FeatureCollection"), True), "features": (_is_list, True)})(v)
    if err:
        return err
    for i, f in enumerate(v["features"]):
        err = _shape({"geometry": (_is_obj, True)})(f)
        if err:
            return f"features[{i}].{err}"
    return None


REGION: Spec = {
    "code": (_is_nonempty_str, True),
    "name": (_is_str, True),
    "level": (_one_of(*REGION_LEVELS), True),
    "parent": (_nullable(_is_str), True),
    "geometry": (_nullable(_geometry), False),
}
def _speed(v: Any) -> str | None:
    if not isinstance(v, int | float) or isinstance(v, bool) or not -1 <= v <= 1:
        return "must be a number in -1…1"
    return None


PTZ_KEYS = ("pan_deg", "tilt_deg", "zoom", "fov_deg")
PTZ_STATE: Spec = {
    "pan_deg": (_is_num, True),
    "tilt_deg": (_is_num, True),
    "zoom": (_is_num, True),
    "fov_deg": (_is_num, True),
}
CAMERA: Spec = {
    "id": (_is_nonempty_str, True),
    "name": (_is_str, True),
    "region": (_nullable(_is_str), True),
    "location": (_nullable(_lonlat), True),
    "tags": (_list_of(_is_str), False),
    "streams": (
        _shape({"main": (_nullable(_is_str), False), "sub": (_nullable(_is_str), False)}),
        True,
    ),
    "ptz": (_nullable(_is_bool), False),
    "ptz_presets": (_list_of(_shape({"id": (_is_nonempty_str, True), "name": (_is_str, True)})), False),
    "ptz_state": (_nullable(_shape(PTZ_STATE)), False),
    "height_m": (_nullable(_is_num), False),
    "bearing_deg": (_nullable(_is_num), False),
    "fov_deg": (_nullable(_is_num), False),
    "status": (_one_of("online", "offline"), True),
    # play URLs are asked for at each open (stream.resolve), never taken from ``streams``
    "resolve": (_nullable(_is_bool), False),
    # where the camera's recording is read (playback): MediaMTX's playback API
    "recording": (
        _nullable(_shape({"playback": (_is_nonempty_str, True), "path": (_is_nonempty_str, True)})),
        False,
    ),
}
PRESET: Spec = {
    "id": (_is_nonempty_str, True),
    "name": (_is_str, True),
    "scenario": (_nullable(_is_str), True),
    "emergency": (_is_bool, True),
    "cameras": (_list_of(_is_str), True),
    "dwell_s": (_nullable(_is_num), False),
    "hotkey": (_nullable(_is_str), False),
}
INDICATOR: Spec = {
    "id": (_is_nonempty_str, True),
    "name": (_is_str, True),
    "category": (_is_str, True),
    "item": (_is_str, True),
    "unit": (_is_str, True),
    "direction": (_one_of("above", "below"), True),
    "warn": (_nullable(_is_num), True),
    "alarm": (_nullable(_is_num), True),
    "decimals": (_int_range(0, 9), True),
    "value": (_nullable(_is_num), False),
    "t": (_nullable(_is_time), False),
    "region": (_nullable(_is_str), False),
}
INCIDENT: Spec = {
    "id": (_is_nonempty_str, True),
    "source": (_is_nonempty_str, True),
    "category": (_category, True),
    "title": (_is_str, True),
    "detail": (_is_str, False),
    "priority": (_int_range(1, 4), True),
    "status": (_one_of(*INCIDENT_STATUSES), True),
    "region": (_nullable(_is_str), True),
    "location": (_nullable(_lonlat), False),
    "address": (_nullable(_is_str), False),
    "reported_at": (_is_time, True),
    "deadlines": (_deadlines, True),
    "updated_at": (_is_time, True),
    # incident work (workflow): what raised it, what was done, who is on it
    "media": (_list_of(_shape({"kind": (_is_nonempty_str, True), "url": (_is_nonempty_str, True),
                               "t": (_nullable(_is_time), False), "camera": (_nullable(_is_str), False),
                               "boxes": (_list_of(_is_obj), False)})), False),  # fmt: skip
    "history": (_list_of(_shape({"t": (_is_time, True), "by": (_is_str, True)})), False),
    "units": (_list_of(_is_str), False),
}
LAYER: Spec = {
    "id": (_is_nonempty_str, True),
    "name": (_is_str, True),
    "kind": (_is_str, True),
    "features": (_feature_collection, True),
}
def _position(v: Any) -> str | None:
    """A unit's place: lon/lat in range, heading 0–360 and speed ≥ 0 if given."""
    err = _lonlat(v)
    if err:
        return err
    heading, speed = v.get("heading"), v.get("speed")
    if heading is not None and (not isinstance(heading, int | float) or isinstance(heading, bool)
                                or not 0 <= heading <= 360):  # fmt: skip
        return "heading: must be 0…360"
    if speed is not None and (not isinstance(speed, int | float) or isinstance(speed, bool) or speed < 0):
        return "speed: must be ≥ 0"
    return None


UNIT: Spec = {
    "id": (_is_nonempty_str, True),
    "name": (_is_str, True),
    "kind": (_is_nonempty_str, True),  # body_cam | drone | patrol_car | grid_worker | pump_truck | …
    "status": (_one_of(*UNIT_STATUSES), True),
    "incident": (_nullable(_is_str), False),
    "stream": (_nullable(_is_str), False),
    "location": (_nullable(_position), False),
}
WALL: Spec = {
    "wall": (_is_nonempty_str, True),
    "mode": (_one_of(*MODES), True),
    "preset": (_nullable(_is_str), True),
    "changed_by": (_nullable(_is_str), False),
    "changed_at": (_nullable(_is_time), False),
}
ITEM_SPECS: dict[str, Spec] = {
    "regions": REGION,
    "cameras": CAMERA,
    "presets": PRESET,
    "indicators": INDICATOR,
    "incidents": INCIDENT,
    "layers": LAYER,
    "units": UNIT,
}

_ID: Spec = {"id": (_is_nonempty_str, True)}
_ERROR: Spec = {"code": (_is_str, True), "message": (_is_str, True)}

DATA_SPECS: dict[str, Spec] = {
    "welcome": {
        "session": (_is_str, True),
        "server_time": (_is_time, True),
        "head_seq": (_is_int, True),
        "resume": (_is_bool, True),
        "user": (_is_str, True),
        "role": (_one_of(*ROLES), True),
        "features": (_list_of(_is_str), False),
    },
    "snapshot.begin": {"head_seq": (_is_int, True), "counts": (_is_obj, False)},
    "snapshot.part": {"kind": (_one_of(*SNAPSHOT_KINDS), True), "items": (_is_list, True)},
    "snapshot.end": {"wall": (_nullable(_shape(WALL)), True)},
    "region.upsert": REGION,
    "camera.upsert": CAMERA,
    "camera.status": {
        "id": (_is_nonempty_str, True),
        "status": (_one_of("online", "offline"), True),
    },
    "camera.ptz": {**_ID, **PTZ_STATE, "by": (_nullable(_is_str), False)},
    "preset.upsert": PRESET,
    "preset.remove": _ID,
    "indicator.upsert": INDICATOR,
    "indicator.values": {
        "t": (_is_time, True),
        "values": (
            _list_of(_shape({"id": (_is_nonempty_str, True), "value": (_nullable(_is_num), True)})),
            True,
        ),
    },
    "incident.upsert": INCIDENT,
    "incident.remove": _ID,
    "layer.upsert": LAYER,
    "wall.state": WALL,
    "unit.upsert": UNIT,
    "unit.remove": _ID,
    # each position is checked as it is applied: one bad one is dropped, not the batch
    "unit.positions": {"t": (_is_time, True), "positions": (_is_list, True)},
    "ack": {
        "id": (_is_str, True),
        "ok": (_is_bool, True),
        "error": (_nullable(_shape(_ERROR)), False),
        "data": (_nullable(_is_obj), False),  # commands that answer with more (stream.resolve)
    },
    "error": _ERROR,
    # Client -> server, validated by the reference backend.
    "hello": {
        "client": (_is_str, True),
        "wall": (_is_nonempty_str, True),
        "node": (_is_nonempty_str, True),
        "scope": (
            _shape({"level": (_one_of(*REGION_LEVELS), True), "code": (_is_str, True)}),
            True,
        ),
        "resume_from": (_nullable(_is_int), True),
        "features": (_list_of(_is_str), False),
    },
    "preset.activate": {"wall": (_is_nonempty_str, True), "preset": (_is_nonempty_str, True)},
    "mode.set": {"wall": (_is_nonempty_str, True), "mode": (_one_of(*MODES), True)},
    "incident.ack": {"incident": (_is_nonempty_str, True)},
    "ping": {},
    "ptz.move": {"camera": (_is_nonempty_str, True), "pan": (_speed, True),
                 "tilt": (_speed, True), "zoom": (_speed, True)},  # fmt: skip
    "ptz.stop": {"camera": (_is_nonempty_str, True)},
    "incident.dispatch": {"incident": (_is_nonempty_str, True), "unit": (_is_nonempty_str, True)},
    "incident.advance": {"incident": (_is_nonempty_str, True), "status": (_one_of(*INCIDENT_STATUSES), True),
                         "note": (_nullable(_is_str), False)},  # fmt: skip
    "incident.note": {"incident": (_is_nonempty_str, True), "text": (_is_nonempty_str, True)},
    "stream.resolve": {"camera": (_is_nonempty_str, True), "stream": (_one_of("main", "sub"), True),
                       "kind": (_one_of("live", "playback"), True), "start": (_nullable(_is_time), False),
                       "end": (_nullable(_is_time), False), "protocols": (_list_of(_is_str), True)},  # fmt: skip
    "stream.release": {"release": (_is_nonempty_str, True)},
    "ptz.goto": {"camera": (_is_nonempty_str, True), "preset": (_is_nonempty_str, True)},
    "ptz.absolute": {"camera": (_is_nonempty_str, True), "pan_deg": (_is_num, True),
                     "tilt_deg": (_nullable(_is_num), False), "zoom": (_nullable(_is_num), False)},  # fmt: skip
}


def item_error(kind: str, item: Any) -> str | None:
    """Why a snapshot item of ``kind`` is invalid, or None when it is fine."""
    if not isinstance(item, dict):
        return "item must be an object"
    return _first_error(item, ITEM_SPECS[kind])


def data_error(type_: str, data: Any) -> str | None:
    """Why ``data`` does not fit ``type_``, or None (unknown types always fit)."""
    spec = DATA_SPECS.get(type_)
    if spec is None:
        return None
    if not isinstance(data, dict):
        return "data must be an object"
    return _first_error(data, spec)


def parse(text: str | bytes) -> Message:
    """Decode one frame into a Message, or raise ProtocolError saying why not.

    An invalid frame still reports the ``seq`` it carried (when it carried a
    usable one) so the session can skip past it (protocol.md, Envelope).
    """
    if isinstance(text, bytes | bytearray | memoryview):
        raise ProtocolError("binary frame (protocol v1 is text only)")
    if len(text) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(text)} characters exceeds the 4 MiB limit")
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("frame is not a JSON object")
    seq = obj.get("seq")
    if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or seq < 0):
        raise ProtocolError("seq: must be a non-negative integer")
    type_ = obj.get("type")
    if not isinstance(type_, str) or not type_:
        raise ProtocolError("type: missing or not a string", seq)
    if "v" not in obj:
        raise ProtocolError("v: missing", seq, type_)
    if obj["v"] != VERSION or isinstance(obj["v"], bool):
        raise ProtocolError(f"v: unsupported version {obj['v']!r}", seq, type_)
    data = obj.get("data", {})
    err = data_error(type_, data)
    if err:
        raise ProtocolError(f"{type_}: {err}", seq, type_)
    if type_ in STATE_TYPES and seq is None:
        raise ProtocolError(f"{type_}: state message without seq", None, type_)
    mid = obj.get("id")
    if mid is not None and not isinstance(mid, str):
        raise ProtocolError("id: must be a string", seq, type_)
    ts = obj.get("ts")
    if ts is not None and not isinstance(ts, str):
        raise ProtocolError("ts: must be a string", seq, type_)
    extra = {k: v for k, v in obj.items() if k not in ("v", "type", "seq", "id", "ts", "data")}
    return Message(type=type_, data=data, seq=seq, id=mid, ts=ts, extra=extra)


def encode(
    type_: str,
    data: Mapping[str, Any],
    *,
    seq: int | None = None,
    id: str | None = None,
    ts: str | None = None,
) -> str:
    """One frame's text. Keys keep protocol.md's order for readable logs."""
    obj: dict[str, Any] = {"v": VERSION, "type": type_}
    if seq is not None:
        obj["seq"] = seq
    if id is not None:
        obj["id"] = id
    obj["ts"] = ts if ts is not None else format_time(now(), precise=True)
    obj["data"] = data
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


FEATURES = ("playback", "units", "ptz", "workflow")  # what this client understands of the additions to version 1


def hello(
    *, client: str, wall: str, node: str, scope: Mapping[str, str], resume_from: int | None
) -> str:
    """The client's opening message (protocol.md, Session step 1)."""
    return encode(
        "hello",
        {
            "client": client,
            "wall": wall,
            "node": node,
            "scope": dict(scope),
            "resume_from": resume_from,
            "features": list(FEATURES),
        },
    )


def command(type_: str, data: Mapping[str, Any], id: str) -> str:
    """A client command frame; ``id`` comes back in the ``ack``."""
    if type_ not in COMMAND_TYPES:
        raise ValueError(f"not a protocol v1 command: {type_}")
    err = data_error(type_, data)
    if err:
        raise ValueError(f"{type_}: {err}")
    return encode(type_, data, id=id)


# --- time --------------------------------------------------------------------------

CST = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


def parse_time(text: str) -> datetime:
    """An RFC 3339 time as an aware datetime (naive input is taken as UTC)."""
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


# 32,768 times (~6 MB): every time a live incident carries, many times over; 200,000
# filled to +41 MB over hours and looked like a leak in any soak (issue 30)
@functools.lru_cache(maxsize=32_768)
def epoch(text: str) -> float | None:
    """Epoch seconds of an RFC 3339 time, or None; cached, as views re-read thousands a second."""
    try:
        return parse_time(text).timestamp()
    except ValueError:
        return None


def format_time(t: datetime, precise: bool = False) -> str:
    """RFC 3339 with the China Standard Time offset, as the backend writes it.

    ``precise`` keeps milliseconds (the envelope's ``ts``, used to measure latency).
    """
    return t.astimezone(CST).isoformat(timespec="milliseconds" if precise else "seconds")

"""A mutational fuzzer for what the wall reads from outside: protocol frames, layout
files and config files (issue 7). Pure Python; ``bench/fuzz.py`` runs a million inputs,
the test suite a few thousand.

Each input is a valid example, mutated: structurally (a key dropped, a value replaced by
a value of another type — huge and negative numbers, NaN, deep nesting, long and odd
strings —, a list emptied or multiplied) and textually (bytes flipped, cut short,
spliced). Every input must end in the target's own answer (a result, or one of the
project's errors) within the time limit; anything else is a finding.
"""

from __future__ import annotations

import copy
import json
import math
import random
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wallclient import config, layout, protocol
from wallclient.errors import WallclientError
from wallclient.state import WallState

ODD_STRINGS = ["", " ", "\x00", "\ud800", "é" * 3, "防汛" * 50, "a" * 5000, "${x}", "%s%n", "../../etc",
               "1e309", "-0", "NaN", "2026-02-30T25:61:61Z", "rtsp://u:p@h/x", "\n[backend]\n"]  # fmt: skip
ODD_VALUES: list[Any] = [None, True, False, 0, -1, 2**63, -(2**70), 1.5, -1e308, 1e308, math.inf, -math.inf,
                         math.nan, [], {}, [None], {"": None}, "x", ""]  # fmt: skip


def _odd(rng: random.Random) -> Any:
    r = rng.random()
    if r < 0.35:
        return copy.deepcopy(rng.choice(ODD_VALUES))  # never one object in two places
    if r < 0.6:
        return rng.choice(ODD_STRINGS)
    if r < 0.75:
        depth = rng.choice([2, 10, 60, 400])
        v: Any = 0
        for _ in range(depth):
            v = [v] if rng.random() < 0.5 else {"k": v}
        return v
    if r < 0.9:
        return rng.randint(-(10**12), 10**12)
    return "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(1, 40)))


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:8]):
            yield from _paths(v, (*prefix, i))


def mutate_obj(obj: Any, rng: random.Random, rounds: int = 3) -> Any:
    """``obj`` with a few structural changes."""
    obj = copy.deepcopy(obj)
    for _ in range(rng.randint(1, rounds)):
        paths = list(_paths(obj))
        path = rng.choice(paths)
        if not path:
            if rng.random() < 0.1:
                return _odd(rng)
            continue
        parent = obj
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        op = rng.random()
        if op < 0.25 and isinstance(parent, dict):
            parent.pop(key, None)
        elif op < 0.35 and isinstance(parent[key], list) and parent[key]:
            parent[key] = copy.deepcopy(parent[key] * rng.choice([0, 2, 50]))
        elif op < 0.45 and isinstance(parent, dict):
            parent[rng.choice(["extra", "", "v", "seq", "id", "__proto__"])] = _odd(rng)
        else:
            parent[key] = _odd(rng)
    return obj


def mutate_text(text: str, rng: random.Random) -> str:
    """``text`` with bytes flipped, cut, spliced or repeated."""
    if not text:
        return _odd(rng) if isinstance(_odd(rng), str) else "x"
    op = rng.random()
    i = rng.randrange(len(text))
    if op < 0.3:
        return text[:i]
    if op < 0.6:
        n = rng.randint(1, 8)
        return text[:i] + "".join(chr(rng.randint(0, 0x7F)) for _ in range(n)) + text[i + n :]
    if op < 0.8:
        j = rng.randrange(len(text))
        return text[:i] + text[j : j + rng.randint(1, 200)] + text[i:]
    return (
        text[:i]
        + rng.choice(["{", "[", '"', "\\", "\x00", "]]]]", "\ud800", "=", "\n"])
        * rng.randint(1, 50)
        + text[i:]
    )


class Hang(Exception):
    pass


@dataclass
class Report:
    target: str
    inputs: int = 0
    accepted: int = 0
    refused: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)
    slowest_ms: float = 0.0
    seconds: float = 0.0


@dataclass
class Target:
    name: str
    seeds: list[Any]  # valid examples (objects; text targets get them encoded)
    run: Callable[[str], Any]
    encode: Callable[[Any], str]


def _protocol_target(seeds: list[dict[str, Any]]) -> Target:
    state = WallState("wall-1")

    def run(text: str) -> Any:
        msg = protocol.parse(text)
        if msg.type in protocol.STATE_TYPES:
            # what the feed does with a valid state message: apply it (never raises)
            if msg.type.startswith("snapshot."):
                return msg
            state.apply(msg.type, msg.data, msg.seq)
            if len(state.incidents) > 5000:  # keep the state small: the fuzzer is long
                state.incidents.clear()
        return msg

    return Target("protocol", seeds, run, lambda o: json.dumps(o, ensure_ascii=False))


def _layout_target() -> Target:
    root = Path(__file__).resolve().parent.parent / "layouts"
    seeds = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(root.glob("*.json"))
             if p.name != "layout.schema.json"]  # fmt: skip
    return Target(
        "layout",
        seeds,
        lambda text: layout.loads(text),
        lambda o: json.dumps(o, ensure_ascii=False),
    )


CONFIG_SEED = """[backend]
server = "wss://ops.example/wall/v1"
token_file = "token"
ca_file = "ca.pem"
[wall]
wall = "district-main"
node = "pc-1"
scope_level = "street"
scope_code = "310114102"
layout = "layouts/district-3x2.json"
[cache]
path = "cache.sqlite"
history_hours = 24
archive_keep = 100000
invalid_keep = 1000
[control]
port = 7700
token_file = "control.token"
[ui]
lang = "zh_CN"
alert = true
[video]
max_decoders = 16
[map]
linkage_cameras = 3
auto_linkage = false
drill_s = 120
"""


def _config_target() -> Target:
    import tomllib

    seed = tomllib.loads(CONFIG_SEED)

    def encode(obj: Any) -> str:
        if not isinstance(obj, dict):
            return json.dumps(obj, default=str)
        lines = []
        for section, table in obj.items():
            lines.append(f"[{section}]")
            if isinstance(table, dict):
                for k, v in table.items():
                    lines.append(f"{k} = {_toml_value(v)}")
            else:
                lines.append(f"x = {_toml_value(table)}")
        return "\n".join(lines) + "\n"

    return Target("config", [seed], lambda text: config.loads(text), encode)


def _toml_value(v: Any, depth: int = 0) -> str:
    if depth > 120:  # deep enough to probe the parser, shallow enough for this encoder
        return "[]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x, depth + 1) for x in v[:20]) + "]"
    if isinstance(v, dict):
        items = list(v.items())[:20]
        return (
            "{"
            + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x, depth + 1)}" for k, x in items)
            + "}"
        )
    return json.dumps(str(v))


def protocol_seeds(n_incidents: int = 40) -> list[dict[str, Any]]:
    """Valid frames of every kind, from the demo district."""
    from datetime import datetime

    from wallclient.demo.district import District

    d = District(seed=11, cameras_n=40, presets_n=6, incidents_n=n_incidents)
    at = datetime.now().astimezone()
    d.seed_incidents(at)
    frames: list[dict[str, Any]] = []
    seq = 1

    def add(type_: str, data: Any, with_seq: bool = True) -> None:
        nonlocal seq
        frame = {"v": 1, "type": type_, "data": data, "ts": protocol.format_time(at, precise=True)}
        if with_seq:
            frame["seq"] = seq
            seq += 1
        frames.append(frame)

    add("welcome", {"session": "s", "server_time": protocol.format_time(at), "head_seq": 5, "resume": False,
                    "user": "u", "role": "viewer"}, with_seq=False)  # fmt: skip
    add("snapshot.begin", {"head_seq": 5, "counts": {"cameras": 1}}, with_seq=False)
    for kind, items in d.tables().items():
        add("snapshot.part", {"kind": kind, "items": items[:3]}, with_seq=False)
    add("snapshot.end", {})
    for r in list(d.regions.values())[:5]:
        add("region.upsert", r)
    for c in list(d.cameras.values())[:5]:
        add("camera.upsert", c)
        add("camera.status", {"id": c["id"], "status": "offline"})
    for p in list(d.presets.values())[:3]:
        add("preset.upsert", p)
    for i in list(d.indicators.values())[:5]:
        add("indicator.upsert", i)
    add(*d.indicator_batch(at))
    for _ in range(20):
        for t, data in d.incident_event(at):
            add(t, data)
    for layer in d.layers.values():
        add("layer.upsert", layer)
    add("wall.state", d.set_wall("wall-1", "u", at, preset=next(iter(d.presets))))
    add(
        "ack",
        {"id": "c1", "ok": False, "error": {"code": "forbidden", "message": "no"}},
        with_seq=False,
    )
    add("error", {"code": "bad_request", "message": "x"}, with_seq=False)
    return frames


def targets() -> list[Target]:
    return [_protocol_target(protocol_seeds()), _layout_target(), _config_target()]


def _alarm(_sig: int, _frame: Any) -> None:
    raise Hang()


def fuzz(target: Target, n: int, seed: int = 0, limit_s: float = 2.0,
         on_finding: Callable[[dict[str, Any]], None] | None = None) -> Report:  # fmt: skip
    """Feed ``n`` mutated inputs to ``target``; each must end in a result or a project
    error within ``limit_s``."""
    rng = random.Random(seed)
    report = Report(target.name)
    texts = [target.encode(s) for s in target.seeds]
    use_alarm = hasattr(signal, "SIGALRM")
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _alarm)
    started = time.perf_counter()
    try:
        for _ in range(n):
            if rng.random() < 0.6:
                text = target.encode(mutate_obj(rng.choice(target.seeds), rng))
            else:
                text = mutate_text(rng.choice(texts), rng)
            t = time.perf_counter()
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, limit_s)
            try:
                target.run(text)
                report.accepted += 1
            except WallclientError:
                report.refused += 1
            except Hang:
                finding = {"kind": "hang", "input": text[:2000]}
                report.findings.append(finding)
                if on_finding:
                    on_finding(finding)
            except Exception as exc:  # a finding: anything but the project's own errors
                finding = {
                    "kind": type(exc).__name__,
                    "error": str(exc)[:300],
                    "input": text[:2000],
                }
                report.findings.append(finding)
                if on_finding:
                    on_finding(finding)
            finally:
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            report.slowest_ms = max(report.slowest_ms, (time.perf_counter() - t) * 1000)
            report.inputs += 1
    finally:
        if use_alarm:
            signal.signal(signal.SIGALRM, old)
    report.seconds = time.perf_counter() - started
    return report

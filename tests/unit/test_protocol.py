"""Parsing and validating protocol v1 frames (docs/protocol.md)."""

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallclient import protocol
from wallclient.errors import ProtocolError

EXAMPLE = (
    '{"v":1,"type":"incident.upsert","seq":1042,"ts":"2026-07-14T09:31:05+08:00",'
    '"data":{"id":"W202607140118","source":"12345","category":["市容环境","占道经营","流动摊贩"],'
    '"title":"南翔镇民主街流动摊贩占道","detail":"…","priority":3,"status":"dispatched",'
    '"region":"310114102","location":{"lon":121.3191,"lat":31.2985},'
    '"reported_at":"2026-07-14T09:12:40+08:00",'
    '"deadlines":{"arrive":"2026-07-14T09:27:40+08:00","control":"2026-07-14T09:42:40+08:00"},'
    '"updated_at":"2026-07-14T09:31:05+08:00"}}'
)


def test_the_protocol_example_parses():
    msg = protocol.parse(EXAMPLE)
    assert msg.type == "incident.upsert"
    assert msg.seq == 1042
    assert msg.data["category"] == ["市容环境", "占道经营", "流动摊贩"]


@pytest.mark.parametrize(
    "text, reason",
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"type": "ping", "data": {}}', "v: missing"),
        ('{"v": 2, "type": "ping", "data": {}}', "unsupported version"),
        ('{"v": true, "type": "ping", "data": {}}', "unsupported version"),
        ('{"v": 1, "data": {}}', "type"),
        (
            '{"v": 1, "type": "camera.status", "seq": 3, "data": {"id": "x", "status": "broken"}}',
            "status",
        ),
        (
            '{"v": 1, "type": "camera.status", "data": {"id": "x", "status": "online"}}',
            "without seq",
        ),
        ('{"v": 1, "type": "wall.state", "seq": 1, "data": []}', "data must be an object"),
        ('{"v": 1, "type": "incident.upsert", "seq": 1, "data": {"id": "x"}}', "missing"),
        ('{"v": 1, "type": "ping", "seq": -1, "data": {}}', "seq"),
        (
            '{"v": 1, "type": "indicator.values", "seq": 5, "data": {"t": "yesterday", "values": []}}',
            "RFC 3339",
        ),
    ],
)
def test_invalid_frames_say_why(text, reason):
    with pytest.raises(ProtocolError) as err:
        protocol.parse(text)
    assert reason in err.value.reason


def test_an_invalid_frame_still_reports_its_seq():
    with pytest.raises(ProtocolError) as err:
        protocol.parse('{"v": 1, "type": "incident.upsert", "seq": 77, "data": {"id": 5}}')
    assert err.value.seq == 77


def test_binary_and_oversized_frames_are_refused():
    with pytest.raises(ProtocolError, match="binary"):
        protocol.parse(b'{"v":1}')
    with pytest.raises(ProtocolError, match="4 MiB"):
        protocol.parse("x" * (protocol.MAX_FRAME + 1))


def test_unknown_types_and_fields_pass():
    msg = protocol.parse('{"v":1,"type":"future.thing","seq":9,"data":{"a":1},"extra":2}')
    assert msg.type == "future.thing" and msg.extra == {"extra": 2}
    msg = protocol.parse(
        '{"v":1,"type":"camera.status","seq":9,"data":{"id":"c","status":"online","new":1}}'
    )
    assert msg.data["new"] == 1


def test_commands_are_built_valid_and_refused_when_not():
    text = protocol.command("preset.activate", {"wall": "w", "preset": "P1"}, "n-1")
    obj = json.loads(text)
    assert obj["id"] == "n-1" and obj["v"] == 1 and obj["type"] == "preset.activate"
    with pytest.raises(ValueError):
        protocol.command("mode.set", {"wall": "w", "mode": "panic"}, "n-2")
    with pytest.raises(ValueError):
        protocol.command("reboot", {}, "n-3")


def test_hello_round_trips_through_the_servers_validation():
    text = protocol.hello(
        client="c", wall="w", node="n", scope={"level": "street", "code": "1"}, resume_from=None
    )
    assert protocol.parse(text).data["resume_from"] is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_random_text_raises_only_protocol_errors(text):
    with contextlib.suppress(ProtocolError):
        protocol.parse(text)


@settings(max_examples=600, deadline=None)
@given(
    key=st.sampled_from(["v", "type", "seq", "data", "id", "ts"]),
    value=json_values,
    field=st.sampled_from(list(json.loads(EXAMPLE)["data"])),
    field_value=json_values,
)
def test_mutated_valid_frames_raise_only_protocol_errors(key, value, field, field_value):
    base = json.loads(EXAMPLE)
    base[key] = value
    if isinstance(base.get("data"), dict):
        base["data"][field] = field_value
    with contextlib.suppress(ProtocolError):
        protocol.parse(json.dumps(base))

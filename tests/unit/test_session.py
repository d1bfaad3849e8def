"""The session state machine: apply, duplicate, gap, invalid, snapshot staging."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from wallclient import protocol
from wallclient.session import (
    Ack,
    Apply,
    Duplicate,
    Gap,
    Invalid,
    Session,
    Skip,
    SnapshotReady,
    UnknownType,
    Welcome,
)
from wallclient.state import WallState


def welcome(resume: bool, head: int = 0) -> str:
    return protocol.encode(
        "welcome",
        {"session": "s", "server_time": "2026-07-14T09:00:00+08:00", "head_seq": head,
         "resume": resume, "user": "u", "role": "viewer"},
    )  # fmt: skip


def status(seq: int, cam: str = "c1", s: str = "offline") -> str:
    return protocol.encode("camera.status", {"id": cam, "status": s}, seq=seq)


def new_session(last_seq=None) -> Session:
    session = Session(
        wall="w", node="n", scope={"level": "district", "code": "310114"}, last_seq=last_seq
    )
    session.connected()
    return session


def test_hello_carries_resume_from():
    session = new_session(last_seq=41)
    (hello,) = session.outgoing()
    data = json.loads(hello)["data"]
    assert data["resume_from"] == 41 and data["wall"] == "w" and data["node"] == "n"
    assert session.outgoing() == []


def test_in_order_messages_apply_and_duplicates_are_ignored():
    s = new_session(last_seq=10)
    assert isinstance(s.receive(welcome(True, 10))[0], Welcome)
    (ev,) = s.receive(status(11))
    assert isinstance(ev, Apply) and ev.seq == 11
    assert s.receive(status(11)) == [Duplicate(11)]
    assert s.receive(status(5)) == [Duplicate(5)]
    assert s.last_seq == 11


def test_a_gap_stops_applying_until_reconnect():
    s = new_session(last_seq=10)
    s.receive(welcome(True, 10))
    assert s.receive(status(13)) == [Gap(10, 13)]
    assert s.closing
    assert s.receive(status(11)) == []  # nothing more is applied on this connection
    s.connected()
    assert json.loads(s.outgoing()[0])["data"]["resume_from"] == 10


def test_an_invalid_message_with_seq_is_skipped_not_waited_for():
    s = new_session(last_seq=10)
    s.receive(welcome(True, 10))
    bad = '{"v":1,"type":"incident.upsert","seq":11,"data":{"id":3}}'
    (ev,) = s.receive(bad)
    assert isinstance(ev, Invalid) and ev.seq == 11 and ev.raw == bad
    (ev,) = s.receive(status(12))
    assert isinstance(ev, Apply) and ev.seq == 12


def test_an_invalid_message_past_a_gap_is_still_a_gap():
    s = new_session(last_seq=10)
    s.receive(welcome(True, 10))
    events = s.receive('{"v":1,"type":"incident.upsert","seq":15,"data":{}}')
    assert isinstance(events[0], Invalid) and isinstance(events[-1], Gap)


def test_unknown_types_with_seq_advance_and_are_reported_once():
    s = new_session(last_seq=1)
    s.receive(welcome(True, 1))
    first = s.receive(protocol.encode("weather.alert", {"x": 1}, seq=2))
    assert first == [UnknownType("weather.alert"), Skip(2, "weather.alert")]
    assert s.receive(protocol.encode("weather.alert", {"x": 1}, seq=3)) == [
        Skip(3, "weather.alert")
    ]


def snapshot_frames(head: int) -> list[str]:
    cam = {"id": "c1", "name": "n", "region": "r", "location": {"lon": 121.3, "lat": 31.3},
           "streams": {"sub": "http://x"}, "status": "online"}  # fmt: skip
    return [
        protocol.encode("snapshot.begin", {"head_seq": head, "counts": {"cameras": 2}}),
        protocol.encode("snapshot.part", {"kind": "cameras", "items": [cam, {"id": "bad"}]}),
        protocol.encode(
            "snapshot.end", {"wall": {"wall": "w", "mode": "normal", "preset": None}}, seq=head
        ),
    ]


def test_snapshot_is_staged_and_applied_whole_at_its_end():
    s = new_session()
    s.receive(welcome(False, 30))
    begin, part, end = snapshot_frames(30)
    assert s.receive(begin) == []
    events = s.receive(part)
    assert isinstance(events[0], Invalid)  # the bad item is counted, the good one kept
    assert s.last_seq is None
    (ready,) = s.receive(end)
    assert isinstance(ready, SnapshotReady)
    assert ready.seq == 30 and [c["id"] for c in ready.tables["cameras"]] == ["c1"]
    assert ready.invalid_items == 1
    assert s.last_seq == 30


def test_a_connection_lost_mid_snapshot_applies_nothing():
    s = new_session(last_seq=5)
    s.receive(welcome(False, 30))
    begin, part, end = snapshot_frames(30)
    s.receive(begin)
    s.receive(part)
    s.disconnected()
    assert s.last_seq == 5
    s.connected()
    s.receive(welcome(True, 30))
    # the old snapshot's end, arriving on the new connection, is not applied
    assert not any(isinstance(e, SnapshotReady) for e in s.receive(end))


def test_acks_and_messages_before_welcome():
    s = new_session()
    (ev,) = s.receive(status(1))
    assert isinstance(ev, Invalid) and ev.seq is None
    cid = s.command("ping", {})
    assert json.loads(s.outgoing()[-1])["id"] == cid
    (ack,) = s.receive(protocol.encode("ack", {"id": cid, "ok": True}))
    assert ack == Ack(cid, True, None)


frames = st.one_of(
    st.builds(status, st.integers(0, 40)),
    st.builds(lambda r, h: welcome(r, h), st.booleans(), st.integers(0, 40)),
    st.sampled_from(snapshot_frames(20)),
    st.text(max_size=40),
    st.builds(
        lambda seq: f'{{"v":1,"type":"incident.upsert","seq":{seq},"data":{{}}}}',
        st.integers(0, 40),
    ),
    st.just("__reconnect__"),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(frames, max_size=60))
def test_any_frame_sequence_never_raises_and_seq_never_goes_back_within_a_connection(seq_of_frames):
    s = new_session(last_seq=3)
    state = WallState("w")
    last = s.last_seq
    for frame in seq_of_frames:
        if frame == "__reconnect__":
            s.disconnected()
            s.connected()
            last = s.last_seq
            continue
        for ev in s.receive(frame):
            if isinstance(ev, Apply):
                state.apply(ev.type, ev.data, ev.seq)
            elif isinstance(ev, SnapshotReady):
                state.load(ev.tables, ev.wall, ev.seq)
                last = ev.seq  # a snapshot may legitimately restart the numbering
        if s.last_seq is not None and last is not None:
            assert s.last_seq >= last
        last = s.last_seq

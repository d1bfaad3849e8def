"""The replay's clock and the playback server's list, without a decoder in sight."""

import threading

import pytest

from wallclient.replay import (
    Clock,
    Span,
    covering,
    next_start,
    parse_spans,
    past_incidents,
    past_indicators,
    rfc3339,
)


class FakeNow:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_the_clock_runs_at_its_speed_pauses_and_seeks():
    now = FakeNow()
    c = Clock(1000.0, now=now)
    now.t += 2
    assert c.position() == pytest.approx(1002.0)
    c.set_speed(4)
    now.t += 1
    assert c.position() == pytest.approx(1006.0)
    c.set_paused(True)
    now.t += 10
    assert c.position() == pytest.approx(1006.0)
    v = c.version
    c.seek(500.0)
    assert c.position() == 500.0 and c.version == v + 1
    c.set_speed(100)  # clamped to what a tile can show
    assert c.speed == 8.0
    c.set_speed(0.1)
    assert c.speed == 0.5


def test_waiting_for_a_moment_ends_on_a_seek():
    c = Clock(0.0, paused=True)
    stop = threading.Event()
    result: list[bool] = []
    t = threading.Thread(target=lambda: result.append(c.wait_until(10.0, stop, c.version)))
    t.start()
    c.seek(20.0)
    t.join(2)
    assert result == [False]  # the clock moved elsewhere: the player looks again


def test_a_list_answer_is_read_or_refused_with_its_reason():
    spans = parse_spans('[{"start": "2026-12-01T10:00:02+08:00", "duration": 4, "url": "x"},'
                        ' {"start": "2026-12-01T10:00:00+08:00", "duration": 1.5}]')  # fmt: skip
    assert [s.duration for s in spans] == [1.5, 4]  # in time order
    assert rfc3339(spans[1].start) == "2026-12-01T10:00:02.000+08:00"
    for bad, reason in (("nope", "not JSON"), ("{}", "not a list"), ("[1]", "not an object"),
                        ('[{"start": "later", "duration": 1}]', "start is not a time"),
                        ('[{"start": "2026-12-01T10:00:00Z", "duration": "long"}]', "duration"),
                        ('[{"start": "2026-12-01T10:00:00Z", "duration": -1}]', "duration")):  # fmt: skip
        with pytest.raises(ValueError, match=reason):
            parse_spans(bad)


def test_gaps_between_spans():
    spans = [Span(0, 10), Span(20, 5)]
    assert covering(spans, 5) == spans[0]
    assert covering(spans, 15) is None  # a gap: "无录像"
    assert next_start(spans, 15) == 20
    assert next_start(spans, 30) is None


def test_the_past_is_each_ones_last_row_and_removals_go():
    rows = [(1.0, "a", '{"id": "a", "status": "new"}'), (2.0, "b", '{"id": "b", "status": "new"}'),
            (3.0, "a", '{"id": "a", "status": "dispatched"}'), (4.0, "b", None)]  # fmt: skip
    assert {k: v["status"] for k, v in past_incidents(rows).items()} == {"a": "dispatched"}
    inds = past_indicators({"x": {"id": "x", "value": 9, "t": "now"}, "y": {"id": "y", "value": 1}},
                           {"x": (1_790_000_000.0, 3.5)})  # fmt: skip
    assert inds["x"]["value"] == 3.5 and inds["x"]["t"].startswith("2026-")
    assert inds["y"]["value"] is None  # no reading then: none shown, not today's

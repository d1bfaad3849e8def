"""Incident work, the pure parts and the picture caps: the deadline chain from the history,
the dispatch list, and pictures refused by their header before anything is decoded."""

import subprocess

import pytest

from wallclient.demo.media import ffmpeg
from wallclient.demo.pictures import giant_png
from wallclient.edges.pictures import PictureError, decode, header_size
from wallclient.incidents import NewAlarms, deadline_chain, fitting_kinds, nearest_units
from wallclient.protocol import epoch
from wallclient.replay import rfc3339

INC = {
    "id": "W1", "priority": 1, "status": "arrived", "category": ["防汛防台", "河道水位", "河道水位超警"],
    "reported_at": "2026-07-14T09:00:00+08:00", "updated_at": "2026-07-14T09:20:00+08:00",
    "deadlines": {"respond": "2026-07-14T09:05:00+08:00", "arrive": "2026-07-14T09:15:00+08:00",
                  "control": "2026-07-14T09:30:00+08:00", "track": "2026-07-14T11:00:00+08:00"},
    "history": [{"t": "2026-07-14T09:00:00+08:00", "by": "iot", "status": "new"},
                {"t": "2026-07-14T09:03:00+08:00", "by": "指挥长", "status": "dispatched", "unit": "U1"},
                {"t": "2026-07-14T09:18:00+08:00", "by": "泵车01", "status": "arrived", "unit": "U1"}],
}  # fmt: skip


def test_the_deadline_chain_says_met_late_running_and_overdue_from_the_history():
    now = epoch("2026-07-14T09:40:00+08:00")
    chain = {d["kind"]: d for d in deadline_chain(INC, now)}
    assert chain["respond"]["state"] == "met" and chain["respond"]["met"] == epoch("2026-07-14T09:03:00+08:00")
    assert chain["arrive"]["state"] == "late"  # arrived 09:18 against 09:15
    assert chain["control"]["state"] == "overdue" and chain["control"]["left_s"] == -600
    assert chain["track"]["state"] == "running"
    acked_first = {**INC, "acked_at": "2026-07-14T09:01:00+08:00"}
    assert deadline_chain(acked_first, now)[0]["met"] == epoch("2026-07-14T09:01:00+08:00")


def test_the_dispatch_list_is_the_nearest_idle_units_of_a_fitting_kind():
    assert fitting_kinds(INC) == ("pump_truck", "drone", "grid_worker")
    assert "grid_worker" in fitting_kinds({"category": ["unknown"]})
    units = {
        "near-car": {"kind": "patrol_car", "status": "idle", "location": {"lon": 121.2501, "lat": 31.35}},
        "pump-far": {"kind": "pump_truck", "status": "idle", "location": {"lon": 121.30, "lat": 31.35}},
        "pump-near": {"kind": "pump_truck", "status": "idle", "location": {"lon": 121.26, "lat": 31.35}},
        "pump-busy": {"kind": "pump_truck", "status": "enroute", "location": {"lon": 121.2502, "lat": 31.35}},
        "drone-lost": {"kind": "drone", "status": "idle", "location": None},
    }  # fmt: skip
    got = nearest_units(units, 121.25, 31.35, fitting_kinds(INC))
    assert [u for _d, u in got] == ["pump-near", "pump-far"]
    assert 900 < got[0][0] < 1000


def test_a_picture_too_large_in_pixels_is_refused_from_its_header(tmp_path):
    assert header_size(giant_png()) == (50_000, 50_000)
    with pytest.raises(PictureError, match="too many pixels"):
        decode(giant_png())
    jpg = tmp_path / "p.jpg"
    subprocess.run([ffmpeg(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=1",
                    "-frames:v", "1", str(jpg)], check=True)  # fmt: skip
    data = jpg.read_bytes()
    assert header_size(data) == (320, 180)
    w, h, rgb = decode(data)
    assert (w, h) == (320, 180) and len(rgb) == 320 * 180 * 3
    with pytest.raises(PictureError, match="too many pixels"):
        decode(data, max_pixels=320 * 179)
    with pytest.raises(PictureError, match="not a readable picture"):
        decode(b"\xff\xd8\xff" + b"\x00" * 5000)


def test_alarms_that_land_together_pop_up_in_the_order_they_were_reported():
    # twenty alarms in one tick (a set of changed ids), and a whole table at start: the
    # first reported pops first, whatever order a set or the cache gives them in
    now = 1_800_000_000.0
    live = {f"W{n:03d}": {"id": f"W{n:03d}", "priority": 1, "source": "110",
                         "reported_at": rfc3339(now - 20 + n * 0.01)} for n in range(20)}  # fmt: skip
    changed = set(reversed(list(live)))
    assert NewAlarms((), 600, lambda inc: True).arrived(live, changed, now) == sorted(live)
    scrambled = dict(sorted(live.items(), key=lambda kv: hash(kv[0]) % 7))
    assert NewAlarms((), 600, lambda inc: True).arrived(scrambled, None, now) == sorted(live)
    # reported together: by id
    same = {i: {**inc, "reported_at": rfc3339(now - 5)} for i, inc in live.items()}
    assert NewAlarms((), 600, lambda inc: True).arrived(same, set(same), now) == sorted(live)

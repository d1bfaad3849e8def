"""The reference backend's synthetic district is believable, valid and deterministic."""

from collections import Counter
from datetime import datetime

from wallclient import protocol
from wallclient.demo.district import District


def test_structure_counts_and_validity():
    d = District(seed=3)
    levels = Counter(r["level"] for r in d.regions.values())
    assert (levels["district"], levels["street"], levels["area"], levels["village"]) == (
        1,
        12,
        53,
        355,
    )
    assert levels["grid"] > 355
    assert len(d.cameras) >= 300 and all(len(c) == 20 and c.isdigit() for c in d.cameras)
    assert len(d.presets) >= 30 and any(p["emergency"] for p in d.presets.values())
    assert len(d.indicators) == 349
    assert len({i["category"] for i in d.indicators.values()}) == 5
    assert len({i["item"] for i in d.indicators.values()}) == 27
    d.seed_incidents(datetime.now().astimezone())
    for kind, items in d.tables().items():
        for item in items:
            assert protocol.item_error(kind, item) is None, (kind, item)


def test_same_seed_same_district():
    a, b = District(seed=11), District(seed=11)
    assert a.cameras == b.cameras and a.presets == b.presets
    assert District(seed=12).cameras != a.cameras


def test_events_are_valid_protocol_messages():
    d = District(seed=5)
    at = datetime.now().astimezone()
    d.seed_incidents(at)
    for _ in range(300):
        for type_, data in d.incident_event(at):
            assert protocol.data_error(type_, data) is None
    type_, data = d.indicator_batch(at)
    assert protocol.data_error(type_, data) is None and len(data["values"]) == 349


def test_the_demos_first_preset_can_fill_its_layout_and_the_rest_stays_the_seeds():
    plain, sized = District(seed=7), District(seed=7)
    sized.size_first_preset(16)
    first = next(iter(sized.presets))
    cams = sized.presets[first]["cameras"]
    assert len(cams) == len(set(cams)) == 16
    assert cams[: len(plain.presets[first]["cameras"])] == plain.presets[first]["cameras"][:16]
    assert all(sized.cameras[c]["status"] == "online" for c in cams[len(plain.presets[first]["cameras"]):])
    # nothing else drawn differently: the same incidents, cameras and other presets
    assert sized.cameras == plain.cameras and sized.incidents == plain.incidents
    assert {k: v for k, v in sized.presets.items() if k != first} == {
        k: v for k, v in plain.presets.items() if k != first}

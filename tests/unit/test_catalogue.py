"""Camera search over a 77,000-camera catalogue: by name, id and region, fast enough to type."""

import time

from wallclient.catalogue import CameraIndex
from wallclient.demo.district import District


def test_search_finds_by_name_id_and_region_and_answers_while_typing():
    d = District(seed=3, cameras_n=77_000)
    index = CameraIndex()
    index.build(d.cameras, d.regions)
    assert len(index) == 77_000
    some_id, cam = next(iter(d.cameras.items()))
    region = d.regions[cam["region"]]["name"]
    assert some_id in index.search(some_id)
    by_name = index.search(cam["name"], limit=500)
    assert some_id in by_name and all(cam["name"] in d.cameras[c]["name"] for c in by_name)
    both = index.search(f"{region} {cam['name'][:4]}")
    assert both and all(
        d.regions[d.cameras[c]["region"]]["name"] == region or region in d.cameras[c]["name"]
        for c in both
    )
    # online cameras come first
    hits = index.search(region, limit=50)
    states = [d.cameras[c]["status"] for c in hits]
    assert states == sorted(states, key=lambda s: s != "online")
    worst = 0.0
    for q in ("南翔", "3101140000", "不存在的摄像头", "路口 南"):
        t = time.perf_counter()
        index.search(q)
        worst = max(worst, time.perf_counter() - t)
    assert worst < 0.1, worst  # a no-hit scan of 77,000 cameras still answers between keys

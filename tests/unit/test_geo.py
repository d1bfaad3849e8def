"""Nearest cameras through the spatial index agree with looking at every camera;
clusters add up; the scope follows the region tree."""

import math
import random

import pytest

from wallclient.demo.district import District
from wallclient.geo import CameraGrid, Scope, distance_m, location, nearest_brute


def test_distance_matches_known_figures():
    # one degree of latitude ~111.2 km; Shanghai to Beijing ~1,067 km
    assert distance_m(121.0, 31.0, 121.0, 32.0) == pytest.approx(111_195, rel=1e-3)
    assert distance_m(121.47, 31.23, 116.40, 39.90) == pytest.approx(1_067_000, rel=0.01)
    assert distance_m(121.3, 31.3, 121.3, 31.3) == 0.0


def _catalogue(rng: random.Random, n: int, box=(121.2, 31.2, 121.5, 31.4), offline=0.2):
    cams = {}
    for i in range(n):
        cid = f"3101140000132{i:07d}"
        cams[cid] = {
            "id": cid,
            "location": {"lon": rng.uniform(box[0], box[2]), "lat": rng.uniform(box[1], box[3])},
            "status": "offline" if rng.random() < offline else "online",
        }
    return cams


def _check(grid, cams, lon, lat, n, online_only=True):
    def accept(c):
        return cams[c]["status"] == "online"

    acc = accept if online_only else None
    got = grid.nearest(lon, lat, n, accept=acc)
    want = nearest_brute(cams, lon, lat, n, accept=acc)
    assert [c for _, c in got] == [c for _, c in want]
    if online_only:
        assert all(cams[c]["status"] == "online" for _, c in got)


@pytest.mark.parametrize("seed", range(8))
def test_nearest_agrees_with_brute_force_on_random_catalogues(seed):
    rng = random.Random(seed)
    cams = _catalogue(rng, rng.choice([1, 2, 5, 50, 800, 3000]), offline=rng.random() * 0.9)
    grid = CameraGrid(cell_deg=rng.choice([0.0005, 0.0025, 0.01, 0.2]))
    grid.rebuild(cams)
    for _ in range(60):
        # inside the catalogue, at its edge and far outside it
        lon = rng.uniform(121.0, 121.7)
        lat = rng.uniform(31.0, 31.6)
        _check(grid, cams, lon, lat, rng.choice([1, 3, 5, 12]), online_only=rng.random() < 0.8)


def test_ties_offline_and_empty_neighbourhoods():
    # four cameras at exactly the same distance around the point: ties break by id
    cams = {
        f"c{i}": {"id": f"c{i}", "location": {"lon": lon, "lat": lat}, "status": "online"}
        for i, (lon, lat) in enumerate(
            [(121.31, 31.3), (121.29, 31.3), (121.3, 31.31), (121.3, 31.29)]
        )
    }
    cams["c9"] = {"id": "c9", "location": {"lon": 121.3, "lat": 31.3}, "status": "offline"}
    cams["nowhere"] = {"id": "nowhere", "status": "online"}  # no location: never picked
    cams["bad"] = {"id": "bad", "location": {"lon": "x", "lat": None}, "status": "online"}
    grid = CameraGrid(cell_deg=0.001)
    grid.rebuild(cams)
    online = lambda c: cams[c]["status"] == "online"  # noqa: E731
    got = grid.nearest(121.3, 31.3, 3, accept=online)
    assert [c for _, c in got] == [c for _, c in nearest_brute(cams, 121.3, 31.3, 3, online)]
    assert "c9" not in [c for _, c in got] and len(got) == 3
    # the offline camera on the spot is taken when offline ones are acceptable
    assert grid.nearest(121.3, 31.3, 1)[0][1] == "c9"
    # more asked than there are: all of them, nearest first
    assert len(grid.nearest(121.3, 31.3, 10, accept=online)) == 4
    # a radius with nothing in it, and an empty catalogue
    assert grid.nearest(121.0, 31.0, 3, accept=online, max_m=500) == []
    assert CameraGrid().nearest(121.3, 31.3, 3) == []
    # nothing online at all
    assert grid.nearest(121.3, 31.3, 3, accept=lambda c: False) == []


def test_moves_and_removals_are_reindexed():
    rng = random.Random(5)
    cams = _catalogue(rng, 500)
    grid = CameraGrid()
    grid.rebuild(cams)
    moved = list(cams)[:50]
    for cid in moved:
        cams[cid]["location"] = {"lon": rng.uniform(121.2, 121.5), "lat": rng.uniform(31.2, 31.4)}
    gone = list(cams)[50:80]
    for cid in gone:
        del cams[cid]
    grid.update(cams, moved + gone)
    assert len(grid) == 470
    for _ in range(30):
        _check(grid, cams, rng.uniform(121.2, 121.5), rng.uniform(31.2, 31.4), 3)


def test_nearest_three_of_77000_district_cameras():
    d = District(seed=4, cameras_n=77_000)
    grid = CameraGrid()
    grid.rebuild(d.cameras)

    def online(c):
        return d.cameras[c]["status"] == "online"

    from datetime import UTC, datetime

    at = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    for _ in range(12):
        lon, lat = location(d.new_incident(at))
        got = grid.nearest(lon, lat, 3, accept=online)
        assert [c for _, c in got] == [c for _, c in nearest_brute(d.cameras, lon, lat, 3, online)]


def test_clusters_add_up_at_every_level():
    rng = random.Random(2)
    cams = _catalogue(rng, 2000)
    grid = CameraGrid(cell_deg=0.001)
    grid.rebuild(cams)
    previous = math.inf
    for level in range(0, 9):
        cl = grid.clusters(level)
        assert sum(c.count for c in cl) == 2000
        assert len(cl) <= previous  # coarser levels never have more clusters
        previous = len(cl)
        for c in cl:
            assert (c.camera is not None) == (c.count == 1)
    # a box keeps only the clusters inside it
    inside = grid.clusters(3, box=(121.2, 31.2, 121.3, 31.3))
    assert 0 < sum(c.count for c in inside) < 2000
    # a status change leaves the clusters alone; a move is seen
    cid = next(iter(cams))
    cams[cid]["status"] = "offline"
    version = grid.version
    grid.update(cams, [cid])
    assert grid.version == version
    cams[cid]["location"] = {"lon": 122.9, "lat": 31.0}
    grid.update(cams, [cid])
    assert grid.version > version
    far = grid.clusters(0, box=(122.8, 30.9, 123.0, 31.1))
    assert [c.camera for c in far] == [cid]


def test_scope_follows_the_region_tree():
    d = District(seed=1, cameras_n=100)
    streets = [c for c, r in d.regions.items() if r["level"] == "street"]
    street = streets[0]
    scope = Scope(street, d.regions)
    assert scope.covers(street)
    villages = [c for c, r in d.regions.items() if r["level"] == "village"]
    mine = [v for v in villages if d.regions[d.regions[v]["parent"]]["parent"] == street]
    others = [v for v in villages if v not in mine]
    assert mine and others
    assert all(scope.covers(v) for v in mine)
    assert not any(scope.covers(v) for v in others)
    assert not scope.covers(None) and not scope.covers(streets[1])
    everything = Scope("", d.regions)
    assert everything.everything and everything.covers(None) and everything.covers(streets[1])


def test_a_snapshot_is_reindexed_in_steps_answering_from_the_old_index_meanwhile():
    """77,000 cameras take 200–300 ms to index: after a snapshot the wall's hub does it a
    few ms per tick. Until the last step the old index answers (a wall keeps its map and
    linkage); changes that come meanwhile are in the new one; an empty index is built at
    once (nothing to answer from). (The protocol has no camera removal.)"""
    from wallclient.geo import CameraLocator
    from wallclient.state import WallState

    rng = random.Random(8)
    state = WallState("wall-1")
    old = _catalogue(rng, 3000)
    state.load({"cameras": list(old.values())}, None, 1)
    locator = CameraLocator(state)
    assert len(locator.shown) == 0 and locator.indexing  # drawing never waits for it
    assert len(locator.grid) == 3000  # a query does: built at once, there was none before
    assert not locator.indexing
    version = locator.grid.version
    new = _catalogue(random.Random(9), 6000)  # a snapshot: other places, twice as many
    state.load({"cameras": list(new.values())}, None, 2)
    assert locator.indexing and len(locator.grid) == 3000  # the old index still answers
    steps = 1
    while not locator.step(0):  # the least a step does: one slice of cameras
        steps += 1
        if steps == 3:  # a camera already indexed moves, and one is added, mid-way
            moved = list(new)[10]
            new[moved] = {**new[moved], "location": {"lon": 121.45, "lat": 31.39}}
            state.apply("camera.upsert", new[moved])
            added = {"id": "31011400001329999999", "location": {"lon": 121.3, "lat": 31.3},
                     "status": "online"}  # fmt: skip
            new[added["id"]] = added
            state.apply("camera.upsert", added)
        assert locator.grid.version == version  # the old index, until the last step
    assert steps >= 6000 // 500
    grid = locator.grid
    assert grid.version > version and len(grid) == len(new) == 6001
    for _ in range(40):
        _check(grid, new, rng.uniform(121.2, 121.5), rng.uniform(31.2, 31.4), 3)
    assert [c for _, c in grid.nearest(121.45, 31.39, 1)] == [moved]

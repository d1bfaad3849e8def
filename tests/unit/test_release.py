"""Large replaced structures let go of in slices (wallclient.collector.Release)."""

import json
import random

from wallclient.collector import RELEASE_SLICE, Release
from wallclient.demo.district import District
from wallclient.geo import CameraLocator
from wallclient.state import WallState


def test_a_table_nobody_holds_is_emptied_in_slices_and_one_still_held_is_left_whole():
    release = Release()
    theirs = {f"i{i}": {"id": i} for i in range(3 * RELEASE_SLICE)}
    release.later(theirs)  # handed over, but still in use here
    assert release.step(0)  # simply let go of, at once
    assert len(theirs) == 3 * RELEASE_SLICE  # never taken apart under its holder
    release.later({f"c{i}": {"location": {"lon": i, "lat": i}} for i in range(5 * RELEASE_SLICE)})
    steps = 1
    while not release.step(0):  # the least a step does: one slice
        steps += 1
    assert steps == 5  # a thousand entries a step
    assert not release.pending


def test_a_snapshot_hands_the_tables_it_replaced_to_the_release():
    """What the wall's hub does with a snapshot of 77,000 cameras: nothing of the old
    state is freed inside load (40–60 ms there); the hub lets go of it over its ticks."""
    d = District(seed=3, cameras_n=20_000)

    def snapshot():  # parsed from the wire: the state owns every item
        return json.loads(json.dumps(d.tables()))

    state = WallState("wall-1")
    state.load(snapshot(), None, 1)
    release = Release()
    state.retire = release.later
    old_cameras = state.cameras
    n = len(old_cameras)
    del old_cameras
    state.load(snapshot(), None, 2)
    assert release.pending and len(state.cameras) == n  # the new state is all there
    steps = 1
    while not release.step(0):
        steps += 1
    assert steps >= n // RELEASE_SLICE  # the old cameras, a thousand a step


def test_the_cameras_index_replaced_by_a_snapshot_goes_to_the_release_too():
    rng = random.Random(1)
    state = WallState("wall-1")
    cams = [{"id": f"c{i}", "location": {"lon": 121 + rng.random(), "lat": 31 + rng.random()},
             "status": "online"} for i in range(3000)]  # fmt: skip
    state.load({"cameras": cams}, None, 1)
    locator = CameraLocator(state)
    release = Release()
    locator.retire = release.later
    old_cells = locator.grid._cells
    state.load({"cameras": cams}, None, 2)
    while not locator.step(0.01):
        pass
    assert locator.grid._cells is not old_cells and len(locator.grid) == 3000
    assert release.pending  # the old index, to be let go of over the hub's ticks

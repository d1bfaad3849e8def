"""The GUI thread's heartbeat counts the garbage collector's passes and their time (the
figures status.gui reports, by which a collector's cost is read — docs/benchmarks.md)."""

import gc

from wallclient.heartbeat import Heartbeat


def test_the_heartbeat_counts_collections_per_generation_and_reset_clears_them(qtbot):
    beat = Heartbeat()
    try:
        before = beat.view()
        gc.collect(0)
        gc.collect(1)
        seen = beat.view()
        assert seen["gc_passes"][0] >= before["gc_passes"][0] + 1
        assert seen["gc_passes"][1] >= before["gc_passes"][1] + 1
        assert seen["gc_ms"][0] >= 0.0 and len(seen["gc_ms"]) == 3
        beat.reset()
        assert beat.view()["gc_passes"] == [0, 0, 0]
    finally:
        beat.close()
    assert beat._gc not in gc.callbacks

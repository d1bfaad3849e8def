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


def test_a_stall_says_how_much_of_it_the_gui_thread_ran_and_how_much_it_waited(qtbot):
    import time

    from PySide6.QtCore import QTimer

    beat = Heartbeat()
    try:
        qtbot.wait(60)  # a few ticks first
        beat.reset()
        # the GUI thread kept from its timer by a wait (as for a core, or a lock)
        QTimer.singleShot(0, lambda: time.sleep(0.15))
        qtbot.waitUntil(lambda: beat.view()["longest_stall_ms"] >= 100, timeout=3000)
        waited = beat.view()
        assert waited["longest_stall_running_ms"] < 50, waited
        beat.reset()

        def spin() -> None:  # … and by its own work
            end = time.thread_time() + 0.15
            while time.thread_time() < end:
                pass

        QTimer.singleShot(0, spin)
        qtbot.waitUntil(lambda: beat.view()["longest_stall_ms"] >= 100, timeout=3000)
        ran = beat.view()
        assert ran["longest_stall_running_ms"] >= 100, ran
    finally:
        beat.close()

"""The GUI thread's heartbeat counts the garbage collector's passes and their time (the
figures status.gui reports, by which a collector's cost is read — docs/benchmarks.md)."""

import gc

from wallclient.heartbeat import Heartbeat


def work(cpu_s: float) -> None:
    """Keep the calling (GUI) thread busy for ``cpu_s`` of its own CPU time."""
    import time

    end = time.thread_time() + cpu_s
    while time.thread_time() < end:
        pass


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
        # asleep, not ready to run: no time in the run queue to speak of
        assert waited["longest_stall_queued_ms"] < 50, waited
        beat.reset()

        QTimer.singleShot(0, lambda: work(0.15))  # … and by its own work
        qtbot.waitUntil(lambda: beat.view()["longest_stall_ms"] >= 100, timeout=3000)
        ran = beat.view()
        assert ran["longest_stall_running_ms"] >= 100, ran
        assert ran["longest_stall_queued_ms"] < ran["longest_stall_ms"], ran
    finally:
        beat.close()


def test_a_stall_behind_other_work_on_the_same_core_reads_as_waiting_for_a_core(qtbot):
    """Two processes spinning on the GUI thread's own core: the GUI thread's work then
    takes about three times its CPU time, the rest of it in the run queue."""
    import os
    import subprocess
    import sys

    from PySide6.QtCore import QTimer

    if not os.path.exists("/proc/thread-self/schedstat"):
        raise AssertionError("this test needs Linux's per-thread schedstat")
    mine = os.sched_getaffinity(0)
    core = min(mine)
    spin = (f"import os, time\nos.sched_setaffinity(0, {{{core}}})\n"
            "end = time.monotonic() + 3\nwhile time.monotonic() < end: pass\n")
    beat = Heartbeat()
    children = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2)]
    try:
        os.sched_setaffinity(0, {core})  # this (the GUI) thread only
        qtbot.wait(300)  # the spinners running
        beat.reset()

        QTimer.singleShot(0, lambda: work(0.1))
        qtbot.waitUntil(lambda: beat.view()["longest_stall_ms"] >= 100, timeout=5000)
        view = beat.view()
        assert view["longest_stall_queued_ms"] >= 50, view
    finally:
        os.sched_setaffinity(0, mine)
        for child in children:
            child.kill()
            child.wait()
        beat.close()

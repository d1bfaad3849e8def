"""The GUI thread first (wallclient.priority): the wall's workers, and every thread they
start (libvlc's, PyAV's readers), run behind the GUI thread for a core."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from wallclient import priority
from wallclient.edges.video import control


def nice_of_this_thread() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def in_thread(fn: Any) -> Any:
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join(10)
    return out[0]


def test_a_worker_and_the_threads_it_starts_run_behind_the_gui_thread() -> None:
    base = nice_of_this_thread()

    def worker() -> tuple[bool, int, int]:
        done = priority.background()
        return done, nice_of_this_thread(), in_thread(nice_of_this_thread)

    done, own, child = in_thread(worker)
    assert done
    assert own == child == min(19, base + priority.BACKGROUND_NICE)
    assert nice_of_this_thread() == base  # the calling (GUI) thread is untouched


def test_the_gui_thread_is_never_lowered() -> None:
    base = nice_of_this_thread()
    assert threading.current_thread() is threading.main_thread()
    assert not priority.background()
    assert nice_of_this_thread() == base


def test_libvlc_calls_and_the_players_they_start_run_behind_the_gui_thread() -> None:
    base = nice_of_this_thread()
    # a player's threads are started by the control thread's libvlc calls: they inherit it
    own, started = control.jobs.submit(lambda: (nice_of_this_thread(), in_thread(nice_of_this_thread))).result(10)
    assert own == started == min(19, base + priority.BACKGROUND_NICE)


def test_an_installer_can_leave_the_workers_at_the_gui_threads_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALLCLIENT_WORKER_NICE", "0")
    base = nice_of_this_thread()
    assert in_thread(lambda: (priority.background(), nice_of_this_thread())) == (False, base)

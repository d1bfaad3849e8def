"""What ``status.resources`` says of the process itself (issue 30)."""

from __future__ import annotations

import sys

import pytest

from wallclient import resources


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap: Linux only")
def test_the_heap_figures_follow_what_the_process_allocates_and_frees():
    before = resources.process()["heap"]
    block = bytearray(64 * 2**20)  # far over the mmap threshold: mapped on its own
    held = resources.process()["heap"]
    assert held["mapped"] - before["mapped"] >= 60
    del block
    after = resources.process()["heap"]
    assert after["mapped"] - before["mapped"] < 4  # handed back at once
    assert held["used"] >= 0 and held["free"] >= 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap: Linux only")
def test_the_heap_is_walked_afresh_only_when_asked_or_a_minute_on(monkeypatch):
    """The walk holds the allocator's locks (the GUI thread's mallocs wait): a supervisor
    polling ``status`` ten times a second gets the last walk's figures and their age."""
    walks: list[int] = []
    real = resources.heap
    monkeypatch.setattr(resources, "heap", lambda: walks.append(1) or real())
    monkeypatch.setattr(resources, "_last_heap", None)
    first = resources.process(resources.HEAP_EVERY_S)["heap"]
    assert len(walks) == 1 and first["walk_ms"] >= 0
    for _ in range(20):
        polled = resources.process(resources.HEAP_EVERY_S)["heap"]
    assert len(walks) == 1 and polled["used"] == first["used"] and polled["age_s"] >= 0
    resources.process()
    assert len(walks) == 2
    at, figures = resources._last_heap
    monkeypatch.setattr(resources, "_last_heap", (at - 61, figures))  # a minute on
    assert resources.process(resources.HEAP_EVERY_S)["heap"]["age_s"] == 0 and len(walks) == 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap: Linux only")
def test_status_asking_for_the_heap_at_every_call_walks_it_once_in_five_seconds(monkeypatch):
    import asyncio

    walks: list[int] = []
    real = resources.heap
    monkeypatch.setattr(resources, "heap", lambda: walks.append(1) or real())
    monkeypatch.setattr(resources, "_last_heap", None)

    async def ask(n: int) -> None:
        for _ in range(n):
            assert (await resources.process_off_gui(heap_now=True))["heap"]["used"] >= 0

    asyncio.run(ask(10))
    assert len(walks) == 1
    monkeypatch.setattr(resources, "HEAP_ASKED_EVERY_S", 0.0)  # five seconds on
    asyncio.run(ask(1))
    assert len(walks) == 2

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

"""When the garbage collector's costly passes run: at the start of a turn of the event
loop, not in the middle of a repaint.

CPython starts a collection whenever allocations cross a threshold, so a pass of the
older generations (5–12 ms for the middle one, ~30 ms for a full pass with ten thousand
live incidents on this machine) lands wherever the wall happens to be allocating —
often inside a tick or a screen's repaint, adding to it. Here the youngest generation
still collects by itself (about a millisecond), and the two older ones collect only
when ``step`` is called, which the GUI's pacer does as a turn begins; the work after
it in that turn then waits for the next one (panels.hub.Pacer). ``step`` keeps
CPython's own rules for when each pass is due, so memory behaves as before.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from typing import Any

NEVER = 1 << 30  # a threshold no counter reaches


class Collector:
    """Runs the middle and full collections on demand, by CPython's rules of when."""

    def __init__(self, hold_full: Callable[[], bool] | None = None) -> None:
        # while this says so (a snapshot being received: its tens of thousands of new
        # objects would make a full pass 90–130 ms, and they are frozen out of the
        # collector's view once loaded), a full pass that is due waits; middle ones run
        self.hold_full = hold_full
        self._saved: tuple[int, int, int] | None = None
        self._young, self._middle, self._full = gc.get_threshold()
        self._long_lived = 0  # objects in the oldest generation after the last full pass
        self.passes = [0, 0]  # middle and full collections run by step()

    def install(self) -> None:
        """From now on only the youngest generation collects by itself."""
        if self._saved is None:
            self._saved = gc.get_threshold()
            gc.set_threshold(self._young, NEVER, NEVER)

    def uninstall(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def step(self) -> int | None:
        """Run the collection that is due, if any; returns its generation (or None)."""
        if self._saved is None or not gc.isenabled():
            return None
        _, young_passes, middle_passes = gc.get_count()
        if young_passes < self._middle:
            return None
        # CPython's rule for the full pass: enough middle passes, and the objects promoted
        # since the last full pass are more than a quarter of those that survived it
        # (so full passes stay rare when the heap is large).
        if middle_passes >= self._full and not (self.hold_full is not None and self.hold_full()):
            pending = len(gc.get_objects(2)) - self._long_lived
            if pending > self._long_lived // 4:
                gc.collect(2)
                self._long_lived = len(gc.get_objects(2))
                self.passes[1] += 1
                return 2
        gc.collect(1)
        self.passes[0] += 1
        return 1


RELEASE_SLICE = 1000  # entries let go of between two looks at the clock


class Release:
    """Large structures let go of a slice at a time instead of all at once.

    Freeing a table of 77,000 cameras (each a dict with a dict inside) takes 40–60 ms of
    deallocation in whatever call drops the last reference: a snapshot's ``load`` on the
    GUI thread. Handed here instead (``later``), each is emptied a thousand entries at a
    time by ``step``, which the wall's hub calls each tick with what is left of its turn.
    Only a structure nobody else still holds is taken apart; one still in use elsewhere
    is simply let go of, to be freed whenever its last holder drops it."""

    def __init__(self) -> None:
        self._held: list[Any] = []

    def later(self, *objs: Any) -> None:
        self._held.extend(objs)

    @property
    def pending(self) -> bool:
        return bool(self._held)

    def step(self, budget_s: float) -> bool:
        """Let go of what is held for about ``budget_s``; True when nothing is left."""
        deadline = time.perf_counter() + budget_s
        held = self._held
        while held:
            obj = held[-1]
            # the list's reference and getrefcount's own argument: nobody else's
            alone = sys.getrefcount(obj) <= 3
            if alone and isinstance(obj, dict) and len(obj) > RELEASE_SLICE:
                for _ in range(RELEASE_SLICE):
                    obj.popitem()
            elif alone and isinstance(obj, list) and len(obj) > RELEASE_SLICE:
                del obj[-RELEASE_SLICE:]
            else:
                held.pop()
            if time.perf_counter() >= deadline:
                break
        return not held

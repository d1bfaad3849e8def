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

NEVER = 1 << 30  # a threshold no counter reaches


class Collector:
    """Runs the middle and full collections on demand, by CPython's rules of when."""

    def __init__(self) -> None:
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
        if middle_passes >= self._full:
            pending = len(gc.get_objects(2)) - self._long_lived
            if pending > self._long_lived // 4:
                gc.collect(2)
                self._long_lived = len(gc.get_objects(2))
                self.passes[1] += 1
                return 2
        gc.collect(1)
        self.passes[0] += 1
        return 1

"""The libvlc control thread: every call into libvlc that may block (``set_media``,
``stop``, ``release``, a crop, a window handle) runs here, one after another, never on
the GUI thread. libvlc's ``stop()`` blocks for up to a few hundred ms; in order on one
thread, a tile's stop always comes before the play that follows it.

One thread serves every tile, so one call that never returns (a network input that
libvlc cannot interrupt, a driver that hangs) would freeze them all. A watchdog looks
once a second: a job running longer than ``STUCK_S`` gets its owner (the player it was
for) **abandoned** — it says so on its tile, its later jobs are dropped, the pool never
hands it out again — and a fresh thread takes the queue, so the rest of the wall keeps
switching. If the hung call ever returns, its thread frees the abandoned player
(``release_now``) and quits.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

log = logging.getLogger(__name__)

STUCK_S = 10.0  # a libvlc call this long is not slow, it is hung
WATCH_EVERY_S = 1.0

STUCK_REASON = "the video decoder stopped answering: player replaced"


class ControlThread:
    """A queue of jobs run one after another on a thread of their own, watched."""

    def __init__(self, name: str = "vlc-control", stuck_s: float = STUCK_S) -> None:
        self.name = name
        self.stuck_s = stuck_s
        self._queue: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], Any, Future[Any]]] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._running: tuple[float, Any] | None = None  # (started, owner) of the worker's job
        self._watchdog: threading.Thread | None = None
        self.stuck = 0  # jobs given up on (and threads replaced)
        self.done = 0
        self.every_second: list[Callable[[], Any]] = []  # run by the watchdog as it looks

    def submit(self, fn: Callable[..., Any], *args: Any, owner: Any = None) -> Future[Any]:
        """Run ``fn(*args)`` after every job submitted before it. ``owner``: the player
        the job is for (dropped unrun once that player is abandoned)."""
        future: Future[Any] = Future()
        self._queue.put((fn, args, owner, future))
        with self._lock:
            if self._worker is None:
                self._start_worker()
            if self._watchdog is None:
                self._watchdog = threading.Thread(
                    target=self._watch, name=f"{self.name}-watchdog", daemon=True
                )
                self._watchdog.start()
        return future

    def _start_worker(self) -> None:
        worker = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._worker = worker
        self._running = None
        worker.start()

    def _run(self) -> None:
        me = threading.current_thread()
        while True:
            fn, args, owner, future = self._queue.get()
            with self._lock:
                if getattr(owner, "abandoned", False) or not future.set_running_or_notify_cancel():
                    continue
                self._running = (time.monotonic(), owner)
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # a libvlc error must not end the thread
                future.set_exception(exc)
                log.warning("libvlc control job %s failed: %s", getattr(fn, "__name__", fn), exc)
            with self._lock:
                replaced = self._worker is not me
            if replaced:
                log.warning("a libvlc call given up on has returned after all: its player ends")
                late = getattr(owner, "release_now", None)
                if late is not None:
                    try:
                        late()
                    except Exception as exc:
                        log.warning("ending an abandoned player failed: %s", exc)
                return
            with self._lock:
                self._running = None
                self.done += 1

    def _watch(self) -> None:
        while True:
            time.sleep(WATCH_EVERY_S)
            self.check(time.monotonic())
            for fn in list(self.every_second):
                try:
                    fn()
                except Exception as exc:
                    log.warning("control watchdog's %s failed: %s", getattr(fn, "__name__", fn), exc)

    def check(self, now: float) -> bool:
        """Give up on a job running past ``stuck_s`` (True when one was)."""
        with self._lock:
            running = self._running
            if running is None or now - running[0] <= self.stuck_s:
                return False
            started, owner = running
            self.stuck += 1
            log.error(
                "libvlc call hung for %.0f s: its player is abandoned, a new control thread"
                " serves the others", now - started,
            )
            if owner is not None and hasattr(owner, "abandon"):
                owner.abandon(STUCK_REASON)
            self._start_worker()
            return True

    def depth(self) -> int:
        """Jobs waiting."""
        return self._queue.qsize()

    def oldest_s(self, now: float | None = None) -> float:
        """How long the job running now has run (0: none)."""
        running = self._running
        if running is None:
            return 0.0
        return max(0.0, (time.monotonic() if now is None else now) - running[0])


jobs = ControlThread()

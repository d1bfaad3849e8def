"""The libvlc control thread: every call into libvlc that may block (``set_media``,
``stop``, ``release``, a crop, a window handle) runs here, one after another, never on
the GUI thread. libvlc's ``stop()`` blocks for up to a few hundred ms; in order on one
thread, a tile's stop always comes before the play that follows it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vlc-control")

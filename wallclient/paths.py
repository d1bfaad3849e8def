"""Where wallclient keeps its files on each platform, without a dependency."""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: one writer per file is the caller's care
    fcntl = None  # type: ignore[assignment]

APP = "wallclient"
DATA_ENV = "WALLCLIENT_DATA_DIR"  # the data folder, when set (the installed wall: /var/lib/wallclient)


def user_data_dir() -> Path:
    """The platform's per-user data directory for wallclient; ``$WALLCLIENT_DATA_DIR`` when
    set (the installed product's wall keeps its data in /var/lib/wallclient)."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP


def user_log_dir() -> Path:
    """The platform's per-user log directory for wallclient."""
    if sys.platform == "win32":
        return user_data_dir() / "Logs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / APP
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / APP / "log"


def default_cache() -> Path:
    """The cache file used when neither config nor flag names one."""
    return user_data_dir() / "cache.sqlite"


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by this user only (0700); one that exists and
    belongs to another user is used as it is (the files inside keep their own modes)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if sys.platform != "win32" and path.stat().st_uid == os.getuid():
        path.chmod(0o700)  # a folder of someone else's (/tmp, a shared mount) is left as it is
    return path


_tmp_count = itertools.count()


def temp_beside(path: Path) -> Path:
    """A temporary name beside ``path``, this writer's alone (its suffix kept, for tools
    that choose a format by it): written there, then renamed onto ``path`` in one step,
    so a reader never sees half a file and two writers never write into one."""
    tag = f"{os.getpid()}-{threading.get_ident()}-{next(_tmp_count)}"
    return path.with_name(f".{path.stem}.{tag}.tmp{path.suffix}")


@contextlib.contextmanager
def made_once(path: Path) -> Iterator[Path | None]:
    """Make a generated file once, whoever asks first: yields a temporary path to write
    (renamed onto ``path`` when the block ends, if it was written), or None when ``path``
    exists — made before, or by another process or thread while this one waited."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if path.exists():
            yield None
            return
        tmp = temp_beside(path)
        try:
            yield tmp
            if tmp.exists():
                tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)

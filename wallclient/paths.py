"""Where wallclient keeps its files on each platform, without a dependency."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "wallclient"


def user_data_dir() -> Path:
    """The platform's per-user data directory for wallclient."""
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
    """Create ``path`` (and parents) readable by this user only (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if sys.platform != "win32":
        path.chmod(0o700)
    return path

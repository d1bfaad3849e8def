"""Configuration: a TOML file, overridden by command-line flags.

The file has sections ``[backend] [wall] [cache] [control] [tablet] [ui] [video] [map]``; every
key is optional. Errors name the file, the key and what is wrong.
"""

from __future__ import annotations

import os
import socket
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from wallclient import paths
from wallclient.errors import ConfigError
from wallclient.protocol import REGION_LEVELS

TOKEN_ENV = "WALLCLIENT_TOKEN"
# the config file read when no --config is given (the installed product: /etc/wallclient/wall.toml)
CONFIG_ENV = "WALLCLIENT_CONFIG"


@dataclass
class Config:
    """Everything ``wallclient run`` needs to know, with working defaults."""

    server: str = "ws://127.0.0.1:8765/wall/v1"
    token_file: Path | None = None
    token_env: str = TOKEN_ENV
    ca_file: Path | None = None
    wall: str = "wall-1"
    node: str = field(default_factory=socket.gethostname)
    scope_level: str = "district"
    scope_code: str = ""
    layout: Path | None = None
    screens: str = ""  # the layout screens this node drives, comma-separated ("" = all it has)
    cache: Path = field(default_factory=paths.default_cache)
    history_hours: float = 24.0
    archive_keep: int = 100_000
    invalid_keep: int = 1_000
    control_port: int = 0
    control_token_file: Path | None = None
    tablet_port: int = 0  # the commander's tablet page (HTTPS on the LAN); 0: off
    tablet_bind: str = "0.0.0.0"
    tablet_cert: Path | None = None  # PEM; none: one made in the data directory
    tablet_key: Path | None = None
    lang: str = "zh_CN"
    offscreen: bool = False
    alert: bool = True  # the new priority-1 sound, where the layout's region asks for it
    alert_sound: Path | None = None  # None: resources/sounds/alert.wav
    max_decoders: int = 16
    resolve_cap: int = 18  # play URLs asked of the platform at once, wall-wide (resolve cameras)
    decoder_nice: int = 10  # libvlc's own threads this far below the GUI thread (edges/video/threads.py)
    linkage_cameras: int = 3  # the nearest N online cameras put on the linkage tiles
    auto_linkage: bool = False  # a new priority-1 incident takes the linkage tiles by itself
    drill_s: float = 120.0  # a drill-down into a sub-region narrows the panels this long
    basemap: Path | None = None  # MBTiles, PMTiles or a {z}/{x}/{y} folder (raster, Web Mercator)
    basemap_datum: str = "wgs84"  # or "gcj02" (高德, 腾讯 tiles)
    log_dir: Path | None = None
    instant_replay_s: float = 30.0  # 即时回放 goes this far back
    replay_before_s: float = 60.0  # 事件回溯 starts this long before the report
    replay_hours: float = 2.0  # the data panels can be shown this far back (cache history)
    ptz_radius_m: float = 500.0  # "point here" turns the PTZ cameras within this radius
    popup_close_s: float = 60.0  # an alarm pop-up closes by itself after this long
    popup_ai_priority: int = 2  # video-AI and IoT alarms at or above this priority pop up too
    export_dir: Path = field(default_factory=lambda: paths.user_data_dir() / "evidence")  # the card's 导出

    @property
    def scope(self) -> dict[str, str]:
        """The ``scope`` object of ``hello``."""
        return {"level": self.scope_level, "code": self.scope_code}

    def read_token(self) -> str:
        """The backend token from the token file, else the environment; never logged."""
        if self.token_file is not None:
            try:
                token = self.token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"token file {self.token_file}: {exc.strerror}") from None
            if not token:
                raise ConfigError(f"token file {self.token_file} is empty")
            return token
        token = os.environ.get(self.token_env, "").strip()
        if not token:
            raise ConfigError(f"no token: give --token-file or set {self.token_env}")
        return token


# (section, key) in the TOML file -> field of Config
_KEYS: dict[tuple[str, str], str] = {
    ("backend", "server"): "server",
    ("backend", "token_file"): "token_file",
    ("backend", "token_env"): "token_env",
    ("backend", "ca_file"): "ca_file",
    ("wall", "wall"): "wall",
    ("wall", "node"): "node",
    ("wall", "scope_level"): "scope_level",
    ("wall", "scope_code"): "scope_code",
    ("wall", "layout"): "layout",
    ("wall", "screens"): "screens",
    ("cache", "path"): "cache",
    ("cache", "history_hours"): "history_hours",
    ("cache", "archive_keep"): "archive_keep",
    ("cache", "invalid_keep"): "invalid_keep",
    ("control", "port"): "control_port",
    ("control", "token_file"): "control_token_file",
    ("tablet", "port"): "tablet_port",
    ("tablet", "bind"): "tablet_bind",
    ("tablet", "cert"): "tablet_cert",
    ("tablet", "key"): "tablet_key",
    ("ui", "lang"): "lang",
    ("ui", "offscreen"): "offscreen",
    ("ui", "alert"): "alert",
    ("ui", "alert_sound"): "alert_sound",
    ("video", "max_decoders"): "max_decoders",
    ("video", "resolve_cap"): "resolve_cap",
    ("video", "decoder_nice"): "decoder_nice",
    ("map", "linkage_cameras"): "linkage_cameras",
    ("map", "auto_linkage"): "auto_linkage",
    ("map", "drill_s"): "drill_s",
    ("map", "basemap"): "basemap",
    ("map", "basemap_datum"): "basemap_datum",
    ("log", "dir"): "log_dir",
    ("replay", "instant_s"): "instant_replay_s",
    ("replay", "before_s"): "replay_before_s",
    ("replay", "hours"): "replay_hours",
    ("ptz", "radius_m"): "ptz_radius_m",
    ("popup", "close_s"): "popup_close_s",
    ("popup", "ai_priority"): "popup_ai_priority",
    ("export", "dir"): "export_dir",
}
_TYPES = {f.name: f.type for f in fields(Config)}


def _coerce(name: str, value: Any, where: str, base: Path) -> Any:
    kind = str(_TYPES[name])
    if "Path" in kind:
        if not isinstance(value, str | Path) or str(value) == "":
            raise ConfigError(f"{where}: must be a path string")
        try:
            p = Path(value).expanduser()
        except RuntimeError:  # "~someone/…" for a user this machine does not have
            raise ConfigError(
                f"{where}: {value!r} names a home directory that does not exist"
            ) from None
        return p if p.is_absolute() else base / p
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: must be true or false")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: must be an integer")
        if value < 0:
            raise ConfigError(f"{where}: must not be negative")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{where}: must be a positive number")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: must be a string")
    return value


def load(path: Path | None, overrides: dict[str, Any] | None = None) -> Config:
    """Read ``path`` (if any), apply ``overrides`` (flag values; None = not given)."""
    cfg = Config()
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        cfg = loads(text, path)
    return _finish(cfg, overrides)


def loads(text: str, path: Path = Path("<config>")) -> Config:
    """A config file's text (relative paths resolve against ``path``'s directory)."""
    cfg = Config()
    try:
        raw = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for section, table in raw.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        for key, value in table.items():
            name = _KEYS.get((section, key))
            if name is None:
                raise ConfigError(f"{path}: unknown key {section}.{key}")
            setattr(cfg, name, _coerce(name, value, f"{path}: {section}.{key}", path.parent))
    validate(cfg)
    return cfg


def _finish(cfg: Config, overrides: dict[str, Any] | None) -> Config:
    for name, value in (overrides or {}).items():
        if value is not None:
            setattr(cfg, name, _coerce(name, value, f"--{name.replace('_', '-')}", Path.cwd()))
    validate(cfg)
    return cfg


def validate(cfg: Config) -> None:
    """Checks that span fields; raises ConfigError."""
    if not cfg.server.startswith(("ws://", "wss://")):
        raise ConfigError(f"server {cfg.server!r}: must start with ws:// or wss://")
    if cfg.scope_level not in REGION_LEVELS:
        raise ConfigError(
            f"scope_level {cfg.scope_level!r}: must be one of {', '.join(REGION_LEVELS)}"
        )
    if cfg.control_port > 65535:
        raise ConfigError(f"control port {cfg.control_port}: out of range")
    if not 0 <= cfg.tablet_port <= 65535:
        raise ConfigError(f"tablet port {cfg.tablet_port}: out of range")
    if (cfg.tablet_cert is None) != (cfg.tablet_key is None):
        raise ConfigError("[tablet] cert and key go together (or neither: one is made)")
    if cfg.tablet_port and not cfg.control_port:
        raise ConfigError("[tablet] port needs the control API ([control] port and token_file)")
    if cfg.basemap_datum not in ("wgs84", "gcj02"):
        raise ConfigError(f"basemap_datum {cfg.basemap_datum!r}: must be wgs84 or gcj02")
    if cfg.lang not in ("zh_CN", "en"):
        raise ConfigError(f"lang {cfg.lang!r}: must be zh_CN or en")
    if not cfg.wall or not cfg.node:
        raise ConfigError("wall and node must not be empty")

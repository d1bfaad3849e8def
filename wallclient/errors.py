"""The one exception tree of wallclient.

WallclientError
 ├── ProtocolError      a frame that is not a valid protocol v1 message
 ├── ConfigError        a config file or flag that cannot be used
 ├── LayoutError        a layout file with errors (carries all of them)
 ├── CacheError         the local SQLite cache cannot be used
 │    └── CacheForeign  the file is SQLite but not a wallclient cache
 ├── AuthError          the backend refused our token
 └── CommandError       a command was refused, timed out, or could not be sent
"""

from __future__ import annotations


class WallclientError(Exception):
    """Base of every error wallclient raises on purpose."""


class ProtocolError(WallclientError):
    """A frame that is not a valid protocol v1 message (protocol.md, Envelope)."""

    def __init__(self, reason: str, seq: int | None = None, type_: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seq = seq
        self.type = type_


class ConfigError(WallclientError):
    """A configuration value that cannot be used."""


class LayoutError(WallclientError):
    """A layout file with errors; ``errors`` lists every one as 'where: what'."""

    def __init__(self, path: str, errors: list[str]) -> None:
        super().__init__(f"{path}: {len(errors)} error(s)\n" + "\n".join(errors))
        self.path = path
        self.errors = errors


class CacheError(WallclientError):
    """The local cache cannot be opened or is damaged."""


class CacheForeign(CacheError):
    """The file is a database, but not one wallclient wrote."""


class AuthError(WallclientError):
    """The backend rejected the token (HTTP 401 or ``auth_failed``)."""


class CommandError(WallclientError):
    """A command was refused by the backend, timed out, or could not be sent."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

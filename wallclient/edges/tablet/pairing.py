"""Pairing, not passwords: a one-time code becomes a device's session.

``tablet.pair`` (the local control API) makes a code for a named device and a role; the
code works once, within ``CODE_TTL_S``; redeemed, it becomes a session token the device
keeps in an HttpOnly cookie. Only the token's SHA-256 is kept (in the node's data
directory, so a restart keeps its tablets): the token itself is never written or logged.
Five bad codes within a minute lock pairing for a minute. ``revoke`` ends a device's
session at once (its open pages are told by the server).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CODE_TTL_S = 600.0
BAD_LIMIT = 5  # bad codes …
BAD_WINDOW_S = 60.0  # … within this long …
LOCK_S = 60.0  # … lock pairing this long
ROLES = ("viewer", "commander")
NAME_MAX = 40


class PairingError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Device:
    name: str
    role: str
    paired_at: float
    token_sha256: str
    last_seen: float | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Pairing:
    """Codes waiting to be redeemed, and the paired devices."""

    def __init__(self, store: Path | None = None, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self._codes: dict[str, tuple[str, str, float]] = {}  # sha256(code) → (name, role, expires)
        self._bad: deque[float] = deque()
        self.locked_until = 0.0
        self.devices: dict[str, Device] = {}
        self.on_revoke: list[Callable[[str], None]] = []
        self._load()

    # --- codes ---------------------------------------------------------------------------

    def new_code(self, name: str, role: str) -> str:
        name = name.strip()
        if not name or len(name) > NAME_MAX:
            raise PairingError("bad_request", f"a device name of 1 … {NAME_MAX} characters")
        if role not in ROLES:
            raise PairingError("bad_request", "role must be viewer or commander")
        now = self.clock()
        self._codes = {k: v for k, v in self._codes.items() if v[2] > now}
        code = secrets.token_urlsafe(18)
        self._codes[_digest(code)] = (name, role, now + CODE_TTL_S)
        return code

    def redeem(self, code: str) -> tuple[Device, str]:
        """The device the code was made for and its new session token (PairingError:
        ``locked``, ``bad_code``)."""
        now = self.clock()
        if now < self.locked_until:
            raise PairingError("locked", f"pairing locked for {self.locked_until - now:.0f} s after bad codes")
        got = self._codes.pop(_digest(code), None)
        if got is None or got[2] <= now:
            self._bad.append(now)
            while self._bad and self._bad[0] < now - BAD_WINDOW_S:
                self._bad.popleft()
            if len(self._bad) >= BAD_LIMIT:
                self.locked_until = now + LOCK_S
                self._bad.clear()
                log.warning("pairing locked for %.0f s: %d bad codes within a minute", LOCK_S, BAD_LIMIT)
            raise PairingError("bad_code", "this pairing code is unknown, used or expired")
        name, role, _ = got
        token = secrets.token_urlsafe(32)
        old = self.devices.get(name)
        device = Device(name, role, now, _digest(token), now)
        self.devices[name] = device
        if old is not None:  # paired again: the old session ends
            self._ended(name)
        self._save()
        log.info("tablet %s paired as %s", name, role)
        return device, token

    # --- sessions ------------------------------------------------------------------------

    def session(self, token: str | None) -> Device | None:
        if not token:
            return None
        digest = _digest(token)
        for device in self.devices.values():
            if hmac.compare_digest(device.token_sha256, digest):
                return device
        return None

    def seen(self, device: Device) -> None:
        device.last_seen = self.clock()

    def revoke(self, name: str) -> bool:
        if self.devices.pop(name, None) is None:
            return False
        self._save()
        self._ended(name)
        log.info("tablet %s revoked", name)
        return True

    def _ended(self, name: str) -> None:
        for fn in list(self.on_revoke):
            fn(name)

    # --- the store -----------------------------------------------------------------------

    def _load(self) -> None:
        if self.store is None or not self.store.exists():
            return
        try:
            rows = json.loads(self.store.read_text(encoding="utf-8"))["devices"]
            self.devices = {r["name"]: Device(**r) for r in rows}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("tablets file %s unreadable (%s): no tablet is paired", self.store, exc)
            self.devices = {}

    def _save(self) -> None:
        if self.store is None:
            return
        self.store.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.store.with_name(self.store.name + f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"devices": [asdict(d) for d in self.devices.values()]}, fh, ensure_ascii=False)
        os.replace(tmp, self.store)

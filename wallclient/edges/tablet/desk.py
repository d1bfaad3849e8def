"""The tablets of this node as the control API sees them (``tablet.pair``, ``tablet.list``,
``tablet.revoke``): the pairing link, its QR code on the wall, the paired devices."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wallclient.edges.tablet.pairing import CODE_TTL_S, Pairing, PairingError
from wallclient.errors import CommandError
from wallclient.replay import rfc3339

log = logging.getLogger(__name__)


def lan_address(bind: str) -> str:
    """The address a tablet on the LAN reaches this node at (the bound one, else the one
    the default route leaves by; no packet is sent)."""
    if bind not in ("0.0.0.0", "::", ""):
        return bind
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


class TabletDesk:
    def __init__(self, pairing: Pairing, server: Any, fingerprint: str, address: str,
                 show: Callable[[str, float], None] | None = None) -> None:  # fmt: skip
        self.pairing = pairing
        self.server = server  # wallclient.edges.tablet.server.TabletServer
        self.fingerprint = fingerprint
        self.address = address
        self.show = show  # (url, seconds): the QR code on the wall's first screen

    def pair(self, name: str, role: str, show: bool) -> dict[str, Any]:
        try:
            code = self.pairing.new_code(name, role)
        except PairingError as exc:
            raise CommandError(exc.code, exc.message) from None
        url = f"https://{self.address}:{self.server.port}/pair/{code}"
        if show and self.show is not None:
            self.show(url, 60.0)
        return {"url": url, "code_expires_s": int(CODE_TTL_S), "fingerprint": self.fingerprint}

    def list(self) -> list[dict[str, Any]]:
        lease = self.server.view_status()["lease"]
        return [{"name": d.name, "role": d.role, "paired_at": rfc3339(d.paired_at),
                 "last_seen": rfc3339(d.last_seen) if d.last_seen else None, "lease": d.name == lease}
                for d in self.pairing.devices.values()]  # fmt: skip

    def revoke(self, name: str) -> bool:
        return self.pairing.revoke(name)

    def view(self) -> dict[str, Any]:
        return {**self.server.view_status(), "paired": len(self.pairing.devices),
                "fingerprint": self.fingerprint, "at": time.time()}  # fmt: skip


async def start(cfg: Any, handlers: dict[str, Any], ctx: Any, wall: Any,
                wall_role: Callable[[], str | None], tiles: Callable[[], list[dict[str, Any]]],
                pictures: Any = None) -> TabletDesk:  # fmt: skip
    """The tablet page on ``[tablet] port``: its certificate (made on first start), its
    paired devices (beside the cache), its server on this event loop."""
    from wallclient.edges.tablet import cert as certs
    from wallclient.edges.tablet.server import TabletServer
    from wallclient.edges.tablet.view import TabletView

    data_dir = Path(cfg.cache).parent
    cert, key, made = certs.ensure(data_dir, cfg.tablet_cert, cfg.tablet_key)
    fingerprint = certs.fingerprint(cert)
    pairing = Pairing(data_dir / "tablets.json")
    pages = Path(__file__).resolve().parents[3] / "resources" / "tablet"
    server = TabletServer(port=cfg.tablet_port, bind=cfg.tablet_bind, ssl_context=certs.context(cert, key),
                          pairing=pairing, handlers=handlers, view=TabletView(ctx, wall, tiles, pictures),
                          wall_role=wall_role, pages_dir=pages)  # fmt: skip
    await server.start()
    log.info("tablet certificate %s SHA-256 %s", "made," if made else "", fingerprint)
    return TabletDesk(pairing, server, fingerprint, lan_address(cfg.tablet_bind), wall.show_pairing)

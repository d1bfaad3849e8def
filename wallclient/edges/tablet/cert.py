"""The node's HTTPS certificate for the tablet page: the installer's (``[tablet] cert`` /
``key``, PEM), or one made on first start in the data directory — self-signed, EC P-256,
ten years, its SHA-256 fingerprint printed (and shown by ``doctor``) so that the first
visit can be checked against it."""

from __future__ import annotations

import hashlib
import logging
import socket
import ssl
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)


def fingerprint(cert: Path) -> str:
    """SHA-256 of the certificate (DER), as browsers show it: ``AB:CD:…``."""
    der = ssl.PEM_cert_to_DER_cert(cert.read_text(encoding="ascii"))
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def ensure(directory: Path, cert: Path | None = None, key: Path | None = None) -> tuple[Path, Path, bool]:
    """The certificate and key to serve with, and whether they were made now."""
    if cert is not None and key is not None:
        return cert, key, False
    directory.mkdir(parents=True, exist_ok=True)
    made_cert, made_key = directory / "tablet-cert.pem", directory / "tablet-key.pem"
    if made_cert.exists() and made_key.exists():
        return made_cert, made_key, False
    host = socket.gethostname()
    args = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "3650", "-subj", f"/CN={host} wallclient",
            "-addext", f"subjectAltName=DNS:{host},DNS:localhost,IP:127.0.0.1",
            "-keyout", str(made_key), "-out", str(made_cert)]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"could not make the tablet certificate: {done.stderr.strip()[-200:]}")
    made_key.chmod(0o600)
    log.info("tablet certificate made: %s", made_cert)
    return made_cert, made_key, True


def context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert), str(key))
    return ctx

"""The core is pure Python: importing it loads no Qt, sockets library, SQL or video (house style)."""

import subprocess
import sys

CORE = ["wallclient.protocol", "wallclient.session", "wallclient.state", "wallclient.config",
        "wallclient.backoff", "wallclient.errors", "wallclient.incidents", "wallclient.redact",
        "wallclient.demo.district", "wallclient.geo", "wallclient.tiles", "wallclient.catalogue"]  # fmt: skip
FORBIDDEN = ["PySide6", "pyqtgraph", "vlc", "qasync", "websockets", "sqlite_utils", "sqlite3", "av"]


def test_core_imports_in_a_fresh_interpreter_without_qt_or_io():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

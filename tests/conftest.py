import os
import sys

import pytest

# Every Qt test runs offscreen unless a test sets up Xvfb itself.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _no_language_leaks():
    """The QApplication is one per worker: a test that put the wall in zh_CN (its
    translator, the default locale) must not leave it so for the next test (issue 30)."""
    yield
    if "PySide6.QtWidgets" in sys.modules:
        from wallclient import display

        display.reset_language()

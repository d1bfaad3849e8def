"""Regression guard: PySide6 6.12.0 on CPython 3.11 drops a reference to None per paint
call and the wall dies with "none_dealloc" (docs/field-notes.md). We pin below it;
this test fails if a build that leaks comes back."""

import sys

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap


def test_painting_does_not_leak_or_drop_references_to_none(qapp):
    target = QImage(320, 180, QImage.Format.Format_RGB32)
    frame = QImage(64, 36, QImage.Format.Format_RGB32)
    frame.fill(QColor("#345"))
    pixmap = QPixmap.fromImage(frame)
    painter = QPainter(target)
    for _ in range(50):  # warm-up: caches and interned objects settle
        painter.drawImage(QRect(0, 0, 64, 36), frame)
    before = sys.getrefcount(None)
    for i in range(1000):
        painter.drawImage(QRect(i % 200, 0, 64, 36), frame)
        painter.drawPixmap(QRect(0, i % 100, 64, 36), pixmap)
        painter.fillRect(QRect(0, 0, 8, 8), QColor("#000"))
    after = sys.getrefcount(None)
    painter.end()
    assert abs(after - before) < 100, (
        f"None refcount moved by {after - before} over 3,000 paint calls"
    )

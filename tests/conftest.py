import os

# Every Qt test runs offscreen unless a test sets up Xvfb itself.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

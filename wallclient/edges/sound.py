"""The alert sound for new priority-1 incidents, played by libvlc (it plays audio too).

A burst of priority-1 incidents sounds once, not once per incident: at most one
alert per ``min_gap_s``. Without libvlc or an audio device the wall stays silent and
says so in one line of the log ("no sound device: alerts silent"); it never fails
because of a sound, and libvlc is not asked to open a device that is not there (its
ALSA and PulseAudio modules would print screens of errors at every alert).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_SOUND = Path(__file__).resolve().parents[2] / "resources" / "sounds" / "alert.wav"


def sound_device(
    cards: Path = Path("/proc/asound/cards"), runtime: str | None = None
) -> bool:
    """Is there anything to play an alert on (Linux: a sound server's socket or an ALSA
    card)? Elsewhere the platform's own output is assumed."""
    if not sys.platform.startswith("linux") or os.environ.get("PULSE_SERVER"):
        return True
    runtime = runtime if runtime is not None else os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and any(Path(runtime, s).exists() for s in ("pulse/native", "pipewire-0")):
        return True
    try:
        text = cards.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(text.strip()) and "no soundcards" not in text


class AlertSound:
    """Plays one sound file on demand through its own libvlc instance."""

    def __init__(
        self,
        path: Path = DEFAULT_SOUND,
        *,
        min_gap_s: float = 3.0,
        vlc_args: Sequence[str] = (),
    ) -> None:
        self.path = path
        self.min_gap_s = min_gap_s
        self.played = 0
        self._last = -math.inf
        self._player: Any = None
        self._instance: Any = None
        if not path.is_file():
            log.warning("alert sound %s not found: alerts are silent", path)
            return
        chosen = any(a.startswith("--aout") for a in vlc_args)  # an output given: no device needed
        if not chosen and not sound_device():
            log.warning("no sound device: alerts silent")
            return
        try:
            import vlc

            self._instance = vlc.Instance(["--no-video", "--quiet", *vlc_args])
            if self._instance is None:
                raise RuntimeError("libvlc refused to start")
            self._media = self._instance.media_new(str(path))
            self._player = self._instance.media_player_new()
        except Exception as exc:  # no libvlc here: the wall runs on, silently
            log.warning("alert sound unavailable (%s): alerts are silent", exc)
            self._player = None

    @property
    def available(self) -> bool:
        return self._player is not None

    def play(self, _reason: str = "") -> bool:
        """Start the alert (non-blocking); False when silent or within ``min_gap_s``."""
        t = time.monotonic()
        if self._player is None or t - self._last < self.min_gap_s:
            return False
        self._last = t
        # set_media rewinds a finished player; play() returns at once (libvlc's threads play)
        self._player.set_media(self._media)
        if self._player.play() != 0:
            log.warning("alert sound could not start")
            return False
        self.played += 1
        return True

    def close(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player.release()
            self._player = None
        if self._instance is not None:
            self._instance.release()
            self._instance = None

"""Writes alert.wav: the new priority-1 incident alert (two rising tones, twice).

Run by hand (`python resources/sounds/make_alert.py`); the WAV is committed.
"""

import math
import struct
import wave
from pathlib import Path

RATE = 16_000


def tone(freq: float, seconds: float, volume: float = 0.6) -> list[int]:
    n = int(RATE * seconds)
    fade = int(RATE * 0.01)  # 10 ms ramps: no clicks
    out = []
    for i in range(n):
        env = min(1.0, i / fade, (n - i) / fade)
        out.append(int(32767 * volume * env * math.sin(2 * math.pi * freq * i / RATE)))
    return out


def main() -> None:
    samples: list[int] = []
    for _ in range(2):
        samples += tone(880, 0.18) + tone(1320, 0.18) + [0] * int(RATE * 0.08)
    path = Path(__file__).with_name("alert.wav")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    print(path, len(samples) / RATE, "s")


if __name__ == "__main__":
    main()

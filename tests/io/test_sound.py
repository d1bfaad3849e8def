"""The alert sound is played by real libvlc; its audio is captured with libvlc's file output."""

import wave

from tests.helpers import wait_for
from wallclient.edges.sound import DEFAULT_SOUND, AlertSound


def test_alert_plays_through_libvlc_and_a_burst_sounds_once(tmp_path):
    out = tmp_path / "heard.wav"
    sound = AlertSound(
        DEFAULT_SOUND, min_gap_s=60, vlc_args=["--aout=afile", f"--audiofile-file={out}"]
    )
    try:
        assert sound.available
        assert sound.play("inc-1")
        assert not sound.play("inc-2")  # a burst of priority-1 incidents: one alert
        assert sound.played == 1
        # libvlc decodes and writes the tone on its own threads
        wait_for(lambda: out.exists() and out.stat().st_size > 20_000, 10)
    finally:
        sound.close()
    with wave.open(str(out)) as w:
        assert w.getnframes() / w.getframerate() > 0.5  # most of the 0.88 s alert was played


def test_missing_sound_file_leaves_the_wall_silent_not_broken(tmp_path, caplog):
    sound = AlertSound(tmp_path / "nope.wav")
    assert not sound.available
    assert not sound.play("inc-1")
    assert "not found" in caplog.text
    sound.close()

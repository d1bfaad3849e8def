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


def test_no_sound_device_is_one_line_not_screens_of_errors(tmp_path, caplog, capfd, monkeypatch):
    from wallclient.edges import sound as sound_mod
    from wallclient.edges.sound import sound_device

    none = tmp_path / "cards"
    none.write_text("--- no soundcards ---\n")
    assert not sound_device(none, runtime="")
    assert not sound_device(tmp_path / "missing", runtime="")  # no ALSA at all
    card = tmp_path / "cards-1"
    card.write_text(" 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n")
    assert sound_device(card, runtime="")
    (tmp_path / "run" / "pulse").mkdir(parents=True)
    (tmp_path / "run" / "pulse" / "native").touch()
    assert sound_device(none, runtime=str(tmp_path / "run"))  # a sound server
    # a machine like CI's (no /dev/snd, no sound server), whatever this one has
    monkeypatch.setattr(sound_mod, "sound_device", lambda: False)
    sound = AlertSound(DEFAULT_SOUND)
    assert not sound.available and not sound.play("inc-1")
    lines = [r.getMessage() for r in caplog.records if "sound" in r.getMessage()]
    assert lines == ["no sound device: alerts silent"]
    err = capfd.readouterr().err
    assert "ALSA" not in err and "pulse" not in err.lower()
    sound.close()

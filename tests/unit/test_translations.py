"""Every string the panels put on screen through ``theme.tr`` has its Chinese in the
translation file (zh_CN is the wall's first language: an English word on the wall is a
bug a duty officer sees)."""

import re
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[2]


def test_every_on_screen_string_is_translated_to_chinese():
    tree = ElementTree.parse(ROOT / "resources/translations/wallclient_zh_CN.ts")
    translated = {
        m.findtext("source"): m.findtext("translation")
        for m in tree.iter("message")
        if (m.find("translation") is not None and m.find("translation").get("type") != "unfinished")
    }
    used: set[str] = set()
    for src in (ROOT / "panels").rglob("*.py"):
        used |= set(
            re.findall(r'theme\.tr\("((?:[^"\\]|\\.)+)"\)', src.read_text(encoding="utf-8"))
        )
    assert used, "no strings found: the pattern is wrong"
    missing = sorted(s for s in used if not translated.get(s))
    assert missing == []
    # placeholders survive translation
    for s in used:
        for ph in re.findall(r"%\d", s):
            assert ph in translated[s], (s, translated[s])

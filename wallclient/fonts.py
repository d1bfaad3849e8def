"""The wall's typeface, named once: the panels draw with it and ``doctor`` checks that
the machine has it (or another CJK font), without importing any panel."""

FONT_FAMILY = "WenQuanYi Micro Hei"  # fonts-wqy-microhei: every Chinese glyph the wall shows

"""The layout editor window: a 2×2 wall built from an empty file through the editor —
screens placed in the form, regions cut and merged by dragging on the canvas, a panel
chosen, undo — saved only once it validates; the live preview is rendered from a cache."""

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QSpinBox

from panels.editor import LayoutEditor
from wallclient import installer, layout
from wallclient.layout_edit import LayoutDoc


def _drag(qtbot, widget, a, b):
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(widget, b)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=b)


def _centre(canvas, screen, rid):
    doc = canvas.doc
    r = canvas.region_rect(doc.screen(screen), doc.region(screen, rid))
    return r, r.center().toPoint()


def test_building_a_2x2_wall_in_the_editor_and_saving_it(qtbot, tmp_path):
    path = tmp_path / "wall.json"
    path.write_text("", encoding="utf-8")
    cache = installer.demo_cache(tmp_path / "demo.sqlite")
    ed = LayoutEditor(LayoutDoc.open(path), path, preview=installer.preview_renderer(cache, "zh_CN"),
                      physical=[{"name": "HDMI-1", "geometry": [0, 0, 1920, 1080]}])  # fmt: skip
    qtbot.addWidget(ed)
    ed.resize(1600, 900)
    ed.show()
    assert not ed.save_btn.isEnabled()  # an empty layout cannot be saved
    for n in range(4):
        qtbot.mouseClick(ed.add_btn, Qt.MouseButton.LeftButton)
        # place it in the 2×2 through the screen form
        ed.sx.setValue(1920 * (n % 2))
        ed.sy.setValue(1080 * (n // 2))
        qtbot.mouseClick(ed.screen_apply, Qt.MouseButton.LeftButton)
    names = [s["name"] for s in ed.doc.screens]
    assert len(names) == 4 and ed.save_btn.isEnabled()
    canvas = ed.canvas
    # a vertical stroke through the first screen's region cuts it into left and right
    rect, mid = _centre(canvas, names[0], "r1")
    _drag(qtbot, canvas, QPoint(int(rect.left() + rect.width() * 2 / 3), int(rect.top() + 10)),
          QPoint(int(rect.left() + rect.width() * 2 / 3), int(rect.bottom() - 10)))  # fmt: skip
    regions = ed.doc.regions(names[0])
    assert [r["rect"] for r in regions] == [[0, 0, 16, 24], [16, 0, 8, 24]]
    # choose the left one's panel in the form: a 3×3 video grid
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=_centre(canvas, names[0], "r1")[1])
    assert ed.region_id == "r1"
    ed.panel.setCurrentIndex(ed.panel.findData("video"))
    # the options form is made from the schema: the video panel's rows, cols, spans, linkage
    fields = {f.name: w for f, w in ed.options.fields}
    assert set(fields) == {"rows", "cols", "spans", "linkage"}
    assert isinstance(fields["rows"], QSpinBox) and fields["rows"].maximum() == 8
    assert isinstance(fields["linkage"], QCheckBox)
    fields["rows"].setValue(3)
    fields["cols"].setValue(3)
    fields["spans"].setText("0, 0, 2, 2")
    fields["linkage"].setCheckState(Qt.CheckState.Checked)
    qtbot.mouseClick(ed.region_apply, Qt.MouseButton.LeftButton)
    region = ed.doc.region(names[0], "r1")
    assert region["panel"] == "video"
    assert region["options"] == {"rows": 3, "cols": 3, "spans": [[0, 0, 2, 2]], "linkage": True}
    # a span that is not four numbers is refused and said, nothing changes
    fields = {f.name: w for f, w in ed.options.fields}
    fields["spans"].setText("0, 0, 2")
    qtbot.mouseClick(ed.region_apply, Qt.MouseButton.LeftButton)
    assert any("four numbers" in ed.errors.item(i).text() for i in range(ed.errors.count()))
    assert ed.doc.region(names[0], "r1")["options"]["spans"] == [[0, 0, 2, 2]]
    assert fields["spans"].text() == "0, 0, 2"  # what was typed stays, to be mended
    fields["spans"].setText("")  # left empty: not written, the panel's default
    fields["linkage"].setCheckState(Qt.CheckState.PartiallyChecked)
    qtbot.mouseClick(ed.region_apply, Qt.MouseButton.LeftButton)
    assert ed.doc.region(names[0], "r1")["options"] == {"rows": 3, "cols": 3}
    # another panel's form: the map's level is a choice
    ed.panel.setCurrentIndex(ed.panel.findData("map"))
    assert [f.name for f, _ in ed.options.fields] == ["level"]
    assert isinstance(ed.options.fields[0][1], QComboBox)
    ed.options.fields[0][1].setCurrentIndex(ed.options.fields[0][1].findData("street"))
    assert ed.options.values() == {"level": "street"}  # the video's options are not the map's
    ed.panel.setCurrentIndex(ed.panel.findData("video"))
    assert ed.options.values() == {"rows": 3, "cols": 3}  # what was set is still there
    # a horizontal stroke on the second screen, then a drag from the lower part into the
    # upper merges them back; undo brings the cut back
    rect, _ = _centre(canvas, names[1], "r1")
    _drag(qtbot, canvas, QPoint(int(rect.left() + 10), int(rect.center().y())),
          QPoint(int(rect.right() - 10), int(rect.center().y())))  # fmt: skip
    assert len(ed.doc.regions(names[1])) == 2
    low = ed.doc.regions(names[1])[1]["id"]
    _drag(qtbot, canvas, _centre(canvas, names[1], low)[1], _centre(canvas, names[1], "r1")[1])
    assert [r["rect"] for r in ed.doc.regions(names[1])] == [[0, 0, 24, 24]]
    qtbot.keyClick(ed, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(ed.doc.regions(names[1])) == 2
    # the emergency variant of the first screen: one region again
    ed.mode.setCurrentIndex(ed.mode.findData("emergency"))
    _drag(qtbot, canvas, _centre(canvas, names[0], "r1")[1], _centre(canvas, names[0], "r2")[1])
    assert len(ed.doc.regions(names[0], "emergency")) == 1  # the first (video) keeps its panel
    assert len(ed.doc.regions(names[0], "normal")) == 2
    # map the first screen to the connected one
    qtbot.mouseClick(ed.assign_btn, Qt.MouseButton.LeftButton)
    assert ed.doc.screens[0]["name"] == "HDMI-1"
    # the live preview shows the screen as the wall will
    qtbot.waitUntil(lambda: ed.preview.pixmap() is not None and not ed.preview.pixmap().isNull(),
                    timeout=5000)  # fmt: skip
    qtbot.keyClick(ed, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    lay = layout.load(path)
    assert [s.name for s in lay.screens][0] == "HDMI-1" and len(lay.screens) == 4
    assert [r.panel for r in lay.regions("normal", "HDMI-1")] == ["video", "status"]
    assert [r.panel for r in lay.regions("emergency", "HDMI-1")] == ["video"]
    assert "*" not in ed.windowTitle()
    ed.grab().save(str(tmp_path.parent / "editor.png"))

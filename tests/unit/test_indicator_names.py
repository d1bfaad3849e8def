"""An indicator tile's name keeps the place that tells it from its neighbours."""

from wallclient.indicators import name_parts


def test_indicator_names_keep_their_place_when_shortened():
    assert name_parts("南翔镇供水保障供水压力", "南翔镇") == ("南翔", "供水保障供水压力")
    assert name_parts("嘉定镇街道燃气安全管网压力", "嘉定镇街道") == ("嘉定镇", "燃气安全管网压力")
    assert name_parts("菊园新区道路积水", "菊园新区") == ("菊园新区", "道路积水")
    # no place known, or the name does not begin with it: the name as it is
    assert name_parts("全区用电负荷", None) == ("", "全区用电负荷")
    assert name_parts("全区用电负荷", "南翔镇") == ("", "全区用电负荷")

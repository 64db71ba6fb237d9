"""Sparklines and bars: Unicode blocks, ASCII fallback, scaling and clamping."""

import io

from devkit import charts


def test_sparkline_scales_between_min_and_max():
    assert charts.sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert charts.sparkline([10, 0]) == "█▁"


def test_sparkline_ascii_fallback_uses_only_ascii():
    line = charts.sparkline([0, 3, 7, None, 1], ascii=True)
    assert line == "_:# ."
    assert line.isascii()


def test_sparkline_gaps_flat_and_empty_series():
    assert charts.sparkline([None, 2, None]) == " ▄ "
    assert charts.sparkline([0, 0, 0]) == "▁▁▁"
    assert charts.sparkline([]) == ""
    assert charts.sparkline([None, None]) == "  "


def test_sparkline_width_resamples_to_group_maxima():
    values = [0] * 50 + [9] + [0] * 49
    line = charts.sparkline(values, width=10)
    assert len(line) == 10
    assert line.count("█") == 1 and line.index("█") == 5


def test_bar_fills_in_eighths_and_pads_to_width():
    assert charts.bar(1, 1, 4) == "████"
    assert charts.bar(1, 2, 4) == "██  "
    assert charts.bar(1, 16, 2) == "▏ "
    assert charts.bar(0, 10, 3) == "   "
    assert charts.bar(5, 0, 3) == "   "


def test_bar_clamps_and_ascii_fallback():
    assert charts.bar(50, 10, 5) == "█████"
    assert charts.bar(3, 4, 8, ascii=True) == "######  "
    assert charts.bar(3, 4, 8, ascii=True).isascii()


def test_wants_ascii_follows_the_stream_encoding():
    ascii_stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    utf8_stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert charts.wants_ascii(ascii_stream) is True
    assert charts.wants_ascii(utf8_stream) is False

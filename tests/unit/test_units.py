"""devkit.units: every screen's numbers, sizes and times, spelled exactly."""

import pytest

from devkit import units

NOW = 1_780_000_000.0  # 2026-05-28 20:26:40 UTC


@pytest.mark.parametrize(
    "size, text",
    [
        (0, "0 B"),
        (None, "0 B"),
        (812, "812 B"),
        (1023, "1023 B"),
        (1024, "1.0 KB"),
        (40 * 1024, "40.0 KB"),
        (1536 * 1024, "1.5 MB"),
        (3 * 1024**3, "3.0 GB"),
        (2048 * 1024**4, "2,048.0 TB"),
    ],
)
def test_human_size(size, text):
    assert units.human_size(size) == text


def test_numbers_are_spelled_one_way():
    assert [units.count(v) for v in (0, 7, 1234567, None)] == ["0", "7", "1,234,567", "-"]
    assert [units.ms(v) for v in (0.04, 12.25, 1234.56, None)] == ["0.0", "12.2", "1,234.6", "-"]
    assert [units.usd(v) for v in (0.0, 0.00005, 1234.5, None)] == ["$0.0000", "$0.0001", "$1,234.5000", "-"]
    assert [units.percent(v) for v in (0.0, 0.0001, 0.125, 1 / 3, 1.0, None)] == [
        "0.0%",
        "<0.1%",
        "12.5%",
        "33.3%",
        "100.0%",
        "-",
    ]
    assert [units.rate(v) for v in (0.0, 4.35, 12345.0, None)] == ["0.0", "4.3", "12,345.0", "-"]


def test_times_are_utc_with_the_date_when_not_today():
    assert units.utc_stamp(NOW) == "2026-05-28 20:26:40"
    assert units.utc_clock(NOW - 3600, NOW) == "19:26:40"
    assert units.utc_clock(NOW - 21 * 3600, NOW) == "2026-05-27 23:26:40"
    assert units.utc_clock(NOW + 4 * 3600, NOW) == "2026-05-29 00:26:40"


def test_ago_uses_the_largest_whole_unit():
    assert [units.ago(NOW - s, NOW) for s in (0, 59, 60, 3599, 3600, 86399, 86400 * 3, -5)] == [
        "0 s",
        "59 s",
        "1 min",
        "59 min",
        "1 h",
        "23 h",
        "3 d",
        "0 s",
    ]

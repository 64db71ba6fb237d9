"""Golden screens: status, metrics, metrics tokens and the Markdown report on a fixed store and clock.

Each screen is compared whole at 80 columns and at 0 columns (a terminal reporting no width), which must
look exactly like 80. The store's own path, size and the devkit version are the only parts normalised.
"""

import re
import time

import pytest

import devkit
from tests.golden_screens._golden import check_golden
from tests.golden_screens.conftest import NOW, run_screen

SCREENS = {
    "status": ["status"],
    "status_since_1h": ["status", "--since", "1h"],
    "metrics": ["metrics"],
    "metrics_tokens": ["metrics", "tokens"],
    "report_md": ["metrics", "export", "--format", "md"],
}
STORE_SIZE = re.compile(r"(?<=devkit\.db   )[\d.,]+ (B|KB|MB|GB)")


def normalised(text, root):
    """The screen with the temporary project path, the store's size on disk and the version replaced."""
    text = text.replace(str(root), "<project>")
    text = STORE_SIZE.sub("<size>", text)
    return text.replace(f"devkit {devkit.__version__}", "devkit <version>")


@pytest.mark.parametrize("columns", ["80", "0"])
@pytest.mark.parametrize("name", sorted(SCREENS))
def test_screen_matches_its_golden_file(screens_project, name, columns):
    check_golden(name, normalised(run_screen(screens_project, SCREENS[name], columns), screens_project))


@pytest.mark.parametrize("columns", ["80", "0"])
def test_a_day_later_status_dates_every_time_and_the_windows_are_empty(screens_project, columns):
    text = run_screen(screens_project, ["status"], columns, now=NOW + 86400)
    check_golden("status_next_day", normalised(text, screens_project))


def test_times_are_utc_whatever_the_local_time_zone(screens_project, monkeypatch):
    # A POSIX zone string needs no tz database: 9 h 45 min east of UTC, so the local date differs too.
    monkeypatch.setenv("TZ", "XST-09:45")
    time.tzset()
    try:
        text = run_screen(screens_project, ["status"], "80")
    finally:
        monkeypatch.undo()
        time.tzset()
    check_golden("status", normalised(text, screens_project))


def test_every_line_of_the_80_column_screens_fits(screens_project):
    for name in ("status", "metrics", "metrics_tokens"):
        text = normalised(run_screen(screens_project, SCREENS[name], "80"), screens_project)
        too_wide = [line for line in text.splitlines() if len(line) > 80 and "<project>" not in line]
        assert too_wide == [], name

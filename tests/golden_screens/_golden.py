"""Golden files of the metrics screens live in ``data/``; the comparison is ``tests.golden``'s.

Refresh after an intended change with ``make golden`` and read the diff before committing it.
"""

import os

from tests.golden import assert_golden

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def check_golden(name, text):
    """Assert ``text`` equals the golden file ``data/NAME.txt`` (rewritten instead under DEVKIT_UPDATE_GOLDEN=1)."""
    assert_golden(name, text, DATA_DIR)

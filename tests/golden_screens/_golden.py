"""Golden files for the metrics screens: compare a screen with ``data/NAME.txt``, or rewrite it on request.

Refresh after an intended change: ``DEVKIT_UPDATE_GOLDEN=1 python -m pytest tests/golden_screens``,
then read the diff (``git diff tests/golden_screens/data``) before committing it.
"""

import difflib
import os

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
UPDATE_VARIABLE = "DEVKIT_UPDATE_GOLDEN"


def golden_path(name):
    """Where the golden copy of screen ``name`` lives."""
    return os.path.join(DATA_DIR, name + ".txt")


def check_golden(name, text):
    """Assert ``text`` equals the golden file ``name`` (writing it instead when DEVKIT_UPDATE_GOLDEN=1)."""
    path = golden_path(name)
    if os.environ.get(UPDATE_VARIABLE) == "1":
        os.makedirs(DATA_DIR, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        return
    assert os.path.exists(path), f"no golden file {path}; create it with {UPDATE_VARIABLE}=1"
    with open(path, encoding="utf-8", newline="") as handle:
        want = handle.read()
    if text != want:
        diff = difflib.unified_diff(want.splitlines(True), text.splitlines(True), "golden", "now")
        raise AssertionError(
            f"{name} differs from {path} ({UPDATE_VARIABLE}=1 refreshes it):\n" + "".join(diff)
        )

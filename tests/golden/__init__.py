"""Golden files: the exact text of a human-readable screen, kept in ``tests/golden/<name>.txt``.

A test calls ``assert_golden(name, text)``. After an intended change to a
screen, refresh every golden file with one command and review the diff:

    make golden        (= python -m tests.golden.refresh; or DEVKIT_UPDATE_GOLDEN=1 make test)
"""

import difflib
import os

GOLDEN_DIR = os.path.dirname(os.path.abspath(__file__))
UPDATE_ENV = "DEVKIT_UPDATE_GOLDEN"


# Every folder of golden files; `make golden` refreshes them all.
GOLDEN_TESTS = (GOLDEN_DIR, os.path.join(os.path.dirname(GOLDEN_DIR), "golden_screens"))


def golden_path(name, directory=GOLDEN_DIR):
    """Where the golden text ``name`` is kept."""
    return os.path.join(directory, f"{name}.txt")


def assert_golden(name, text, directory=GOLDEN_DIR):
    """Fail with a diff unless ``text`` equals golden file ``name``; with DEVKIT_UPDATE_GOLDEN=1, rewrite it."""
    path = golden_path(name, directory)
    text = text if text.endswith("\n") else text + "\n"
    if os.environ.get(UPDATE_ENV) == "1":
        os.makedirs(directory, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        return
    if not os.path.exists(path):
        raise AssertionError(f"no golden file {path}; create it with: make golden")
    with open(path, encoding="utf-8") as handle:
        expected = handle.read()
    if text != expected:
        diff = difflib.unified_diff(
            expected.splitlines(True), text.splitlines(True), f"golden/{name}.txt", "now"
        )
        raise AssertionError(
            "screen differs from its golden file (if intended: make golden)\n" + "".join(diff)
        )

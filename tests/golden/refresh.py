"""Rewrite every golden file from the current screens: ``python -m tests.golden.refresh``.

Runs the golden tests with DEVKIT_UPDATE_GOLDEN=1, then shows what changed (git diff), for review.
"""

import os
import subprocess
import sys

from tests.golden import GOLDEN_TESTS, UPDATE_ENV


def main():
    """Refresh the golden files; return pytest's exit code."""
    env = dict(os.environ, **{UPDATE_ENV: "1"})
    code = subprocess.call(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *GOLDEN_TESTS], env=env
    )
    try:
        subprocess.call(["git", "--no-pager", "diff", "--stat", "--", *GOLDEN_TESTS])
    except OSError:
        pass  # no git: the files are rewritten all the same
    return code


if __name__ == "__main__":
    sys.exit(main())

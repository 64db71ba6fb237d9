"""``python -m devkit``: the same program as the ``devkit`` command."""

import sys

from devkit.cli import main

if __name__ == "__main__":
    sys.exit(main())

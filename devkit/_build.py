"""Build ``dist/devkit.pyz`` with the stdlib zipapp: ``python -m devkit._build [OUTPUT]``.

zipapp's generated ``__main__`` drops the return value of ``main``; ours
passes it to ``sys.exit`` so exit codes survive.
"""

import os
import shutil
import sys
import tempfile
import zipapp

MAIN = "import sys\nfrom devkit.cli import main\nsys.exit(main())\n"


def build(output):
    """Write an executable zip of the devkit package to ``output``; return its path."""
    package = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as staging:
        shutil.copytree(
            package, os.path.join(staging, "devkit"), ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        with open(os.path.join(staging, "__main__.py"), "w", encoding="utf-8") as handle:
            handle.write(MAIN)
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        zipapp.create_archive(staging, output, interpreter="/usr/bin/env python3", compressed=True)
    return output


if __name__ == "__main__":
    print(build(sys.argv[1] if len(sys.argv) > 1 else os.path.join("dist", "devkit.pyz")))

"""The CLI reference is generated from the real --help, and every command is documented."""

import os
import subprocess
import sys

from devkit.commands import COMMANDS
from tests.conftest import REPO_ROOT, clean_env


def _generated():
    env = clean_env({"PYTHONPATH": REPO_ROOT, "COLUMNS": "100"})
    proc = subprocess.run([sys.executable, "-m", "devkit._docs"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _read(name):
    with open(os.path.join(REPO_ROOT, name), encoding="utf-8") as handle:
        return handle.read()


def test_cli_reference_matches_the_help_output():
    assert _read("docs/CLI.md") == _generated(), "docs/CLI.md is stale: run 'make docs'"


def test_every_command_has_help_and_a_section_in_the_reference_and_readme():
    reference, readme = _read("docs/CLI.md"), _read("README.md")
    for name, (_module, help_text) in COMMANDS.items():
        assert help_text.strip(), name
        assert f"### `devkit {name}`" in reference, name
        assert f"devkit {name}" in readme, name

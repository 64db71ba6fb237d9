"""Every bin/ script runs from a copied bin/ + devkit/ pair on the oldest and newest supported Python."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT, clean_env
from tests.e2e.test_ways_in import _pythons

# bin/ also holds the house-rule checker `make quick-check` runs: a developer tool, not a door to devkit.
DEV_TOOLS = ("house-rules",)
CASES = {
    "devkit": (["config", "show"], 0, "# state dir: "),
    "metrics-export": (["--format", "prom"], 0, "# TYPE devkit_operations_total counter"),
    "cleanup": (["--older-than", "1d"], 0, "dry run: nothing was changed"),
    "export-data": (["experiments"], 0, "_path,score"),
    "validate": (["--no-self-test"], 1, "validate: WARNING"),
    "backup": (["list"], 0, ""),
    "restore": (["--help"], 0, "usage: devkit restore"),
}


@pytest.fixture(scope="module")
def copied(tmp_path_factory):
    """bin/ and devkit/ copied side by side, and a small project elsewhere."""
    base = tmp_path_factory.mktemp("copy")
    shutil.copytree(
        os.path.join(REPO_ROOT, "devkit"),
        str(base / "tool" / "devkit"),
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(os.path.join(REPO_ROOT, "bin"), str(base / "tool" / "bin"))
    project = base / "project"
    (project / "experiments").mkdir(parents=True)
    (project / "experiments" / "r1.json").write_text('{"score": 1}')
    (project / "devkit.json").write_text(json.dumps({"experiments": {"path": "experiments"}}))
    return base / "tool" / "bin", project


def test_every_script_has_a_case_and_none_is_a_shell_builtin():
    scripts = sorted(os.listdir(os.path.join(REPO_ROOT, "bin")))
    assert [s for s in scripts if s not in DEV_TOOLS] == sorted(CASES)
    builtins = subprocess.run(["bash", "-c", "compgen -b"], capture_output=True, text=True).stdout.split()
    assert "export" in builtins
    assert [s for s in scripts if s in builtins] == []


@pytest.mark.parametrize("python", [p for p in _pythons() if p.id != "current"])
@pytest.mark.parametrize("script", sorted(CASES))
def test_script_runs_from_a_copy(python, script, copied):
    bin_dir, project = copied
    argv, code, expected = CASES[script]
    env = clean_env()
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [python, str(bin_dir / script), *argv],
        cwd=str(project),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == code, proc.stderr
    assert expected in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_maintenance_targets(copied):
    _bin_dir, project = copied
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    makefile = os.path.join(REPO_ROOT, "Makefile")

    def make(*argv):
        return subprocess.run(
            ["make", "-s", "-f", makefile, *argv, "PYTHON=" + sys.executable],
            cwd=str(project),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    planned = make("cleanup")
    assert planned.returncode == 0 and "dry run: nothing was changed" in planned.stdout, planned.stderr
    checked = make("validate")
    assert "validate: " in checked.stdout
    nameless = make("restore")
    assert nameless.returncode == 2 and "usage: make restore NAME=" in nameless.stdout

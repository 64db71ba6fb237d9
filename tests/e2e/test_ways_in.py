"""The four ways in run one program: ``python -m devkit``, a copied ``devkit/``, ``bin/devkit``, the pyz, pip."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from devkit.commands import COMMANDS
from tests.conftest import REPO_ROOT, clean_env, listed_commands

NETWORK_TROUBLE = (
    "Could not find a version",
    "No matching distribution",
    "NewConnectionError",
    "Failed to establish",
    "Network is unreachable",
    "Temporary failure in name resolution",
    "ProxyError",
    "ConnectTimeout",
)


def _find_python(version):
    try:
        proc = subprocess.run(
            [os.path.join(REPO_ROOT, ".ci", "find-python"), version],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except OSError:
        return None
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None


def _pythons():
    found = [pytest.param(sys.executable, id="current")]
    for version in ("3.9", "3.13"):
        path = _find_python(version)
        marks = [] if path else [pytest.mark.skip(reason=f"python{version} not found by .ci/find-python")]
        found.append(pytest.param(path or "", id=f"python{version}", marks=marks))
    return found


def _run(cmd, cwd, env=None, stdin=None, timeout=60):
    proc = subprocess.run(
        cmd,
        cwd=str(cwd),
        env=env if env is not None else clean_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc


def _env_without_pythonpath():
    env = clean_env()
    env.pop("PYTHONPATH", None)
    return env


@pytest.mark.parametrize("python", _pythons())
def test_checkout_help_show_and_json(python, run_devkit, tmp_path):
    helped = run_devkit("--help", python=python, cwd=tmp_path)
    assert helped.code == 0, helped
    assert helped.out.startswith("usage: devkit")
    assert [name for name, _ in listed_commands(helped.out)] == list(COMMANDS)
    shown = run_devkit("config", "show", python=python, cwd=tmp_path)
    assert shown.code == 0, shown
    lines = shown.out.splitlines()
    assert lines[0] == "# file: (none: defaults)"
    assert lines[lines.index("server") + 2].split() == ["port", "8765", "default"]
    as_json = run_devkit("--json", "config", "show", python=python, cwd=tmp_path)
    assert as_json.code == 0, as_json
    tool = _run([python, "-m", "json.tool"], tmp_path, stdin=as_json.out)
    assert tool.returncode == 0, tool.stderr
    data = json.loads(as_json.out)
    assert data["state_dir"] == os.path.join(str(tmp_path), ".devkit")
    assert data["config"]["server"]["port"] == 8765


def test_copied_package_alone(tmp_path):
    target = tmp_path / "x"
    shutil.copytree(os.path.join(REPO_ROOT, "devkit"), str(target / "devkit"))
    proc = _run([sys.executable, "-m", "devkit", "config", "show"], target, env=_env_without_pythonpath())
    assert proc.returncode == 0, proc.stderr
    assert "# state dir: " + str(target / ".devkit") in proc.stdout


def test_copied_bin_and_package_from_another_cwd(tmp_path):
    target = tmp_path / "y"
    shutil.copytree(os.path.join(REPO_ROOT, "devkit"), str(target / "devkit"))
    shutil.copytree(os.path.join(REPO_ROOT, "bin"), str(target / "bin"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "devkit.json").write_text('{"server": {"port": 9100}}')
    script = str(target / "bin" / "devkit")
    assert os.access(script, os.X_OK), "bin/devkit is not executable"
    proc = _run([script, "config", "show"], elsewhere, env=_env_without_pythonpath())
    assert proc.returncode == 0, proc.stderr
    assert "9100" in proc.stdout and "devkit.json" in proc.stdout
    bad = _run([script, "nosuchcommand"], elsewhere, env=_env_without_pythonpath())
    assert bad.returncode == 2, bad.stderr
    exported = _run(
        [str(target / "bin" / "metrics-export"), "--format", "prom"], elsewhere, env=_env_without_pythonpath()
    )
    assert exported.returncode == 0, exported.stderr
    assert "# TYPE devkit_operations_total counter" in exported.stdout


@pytest.fixture(scope="module")
def pyz(tmp_path_factory):
    """A freshly built devkit.pyz (python -m devkit._build OUT)."""
    out = tmp_path_factory.mktemp("pyz") / "devkit.pyz"
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    proc = _run([sys.executable, "-m", "devkit._build", str(out)], REPO_ROOT, env=env)
    assert proc.returncode == 0, proc.stderr
    assert out.is_file()
    return str(out)


def _pyz_and_package(pyz, cwd, *argv):
    env = _env_without_pythonpath()
    zipped = _run([sys.executable, pyz, *argv], cwd, env=env)
    package = _run([sys.executable, "-m", "devkit", *argv], cwd, env=clean_env({"PYTHONPATH": REPO_ROOT}))
    return zipped, package


@pytest.mark.parametrize(
    "argv, setup, code",
    [
        (["--version"], None, 0),
        (["config", "show"], None, 0),
        (["config", "validate"], '{"server": {"port": "x"}}', 2),
        (["config", "show"], '{"models": 3}', 2),
        (["nosuchcommand"], None, 2),
        (["config", "--bogus-option"], None, 2),
    ],
    ids=["version", "show", "validate-bad", "show-bad", "unknown-command", "bad-option"],
)
def test_pyz_exit_codes_match_package(pyz, tmp_path, argv, setup, code):
    if setup:
        (tmp_path / "devkit.json").write_text(setup)
    zipped, package = _pyz_and_package(pyz, tmp_path, *argv)
    assert package.returncode == code, package.stderr
    assert zipped.returncode == code, zipped.stderr
    assert zipped.stdout == package.stdout
    assert zipped.stderr == package.stderr
    assert "Traceback" not in zipped.stderr


def test_pyz_loads_package_data(pyz, tmp_path):
    proc = _run([sys.executable, pyz, "config", "init"], tmp_path, env=_env_without_pythonpath())
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / "devkit.json"
    assert json.loads(written.read_text())
    check = _run([sys.executable, pyz, "config", "validate"], tmp_path, env=_env_without_pythonpath())
    assert check.returncode == 0, check.stdout + check.stderr


def _venv_install(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(os.path.join(REPO_ROOT, name), str(source / name))
    shutil.copytree(
        os.path.join(REPO_ROOT, "devkit"),
        str(source / "devkit"),
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    venv = tmp_path / "venv"
    made = _run(
        [sys.executable, "-m", "venv", str(venv)], tmp_path, env=_env_without_pythonpath(), timeout=120
    )
    assert made.returncode == 0, made.stderr
    vpy = str(venv / "bin" / "python")
    has_backend = _run([vpy, "-c", "import setuptools, wheel"], tmp_path, env=_env_without_pythonpath())
    extra = ["--no-build-isolation"] if has_backend.returncode == 0 else []
    cmd = [
        vpy,
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "--timeout",
        "15",
        *extra,
        str(source),
    ]
    return venv, _run(cmd, tmp_path, env=_env_without_pythonpath(), timeout=180)


@pytest.mark.slow
def test_pip_install_gives_working_console_script(tmp_path):
    venv, installed = _venv_install(tmp_path)
    if installed.returncode != 0 and any(t in installed.stderr + installed.stdout for t in NETWORK_TROUBLE):
        pytest.skip("pip cannot reach a package index to fetch the build backend (setuptools)")
    assert installed.returncode == 0, installed.stderr
    script = str(venv / "bin" / "devkit")
    project = tmp_path / "project"
    project.mkdir()
    version = _run([script, "--version"], project, env=_env_without_pythonpath())
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("devkit ")
    shown = _run([script, "config", "show"], project, env=_env_without_pythonpath())
    assert shown.returncode == 0, shown.stderr
    assert str(project / ".devkit") in shown.stdout
    bad = _run([script, "config", "validate", "missing.json"], project, env=_env_without_pythonpath())
    assert bad.returncode == 2, bad.stderr
    exported = _run(
        [str(venv / "bin" / "devkit-metrics-export"), "--format", "json"],
        project,
        env=_env_without_pythonpath(),
    )
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["totals"]["requests"] == 0

"""Shared fixtures: run the CLI in-process (with a Context on StringIO) or as a real subprocess."""

import io
import os
import re
import subprocess
import sys

import pytest

from devkit.cli import main
from devkit.context import Context

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Result:
    """What a CLI run left behind: exit code, stdout and stderr text."""

    def __init__(self, code, out, err):
        self.code = code
        self.out = out
        self.err = err

    def __repr__(self):
        return f"Result(code={self.code}, out={self.out[:200]!r}, err={self.err[:200]!r})"


def clean_env(extra=None):
    """The current environment minus DEVKIT_*/colour variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVKIT_")}
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS"):
        env.pop(name, None)
    env.update(extra or {})
    return env


def listed_commands(help_text):
    """The command names ``devkit --help`` lists under COMMAND, in order, each with its help's first word."""
    block = help_text.split("  COMMAND\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^    (\S+) +(\S+)", block, flags=re.M)


def run_in_process(argv, cwd, env=None, stdin="", tty=False, clock=None):
    """Run ``devkit argv`` in-process in ``cwd`` on StringIO streams (``clock``: a fixed time source); a Result."""
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(
        stdout=out,
        stderr=err,
        stdin=io.StringIO(stdin),
        env=clean_env(env),
        cwd=str(cwd),
        clock=clock,
        stdout_isatty=tty,
        stderr_isatty=tty,
    )
    code = main(list(argv), ctx)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli(tmp_path):
    """Run ``devkit`` in-process: ``cli("config", "show", env={...}, cwd=..., tty=False)``."""

    def run(*argv, env=None, cwd=None, tty=False, stdin=""):
        return run_in_process(argv, cwd or tmp_path, env, stdin, tty)

    return run


@pytest.fixture
def run_devkit(tmp_path):
    """Run ``python -m devkit`` as a subprocess from the checkout: ``run_devkit("status", cwd=...)``."""

    def run(*argv, env=None, cwd=None, stdin=None, timeout=60, python=sys.executable):
        full_env = clean_env(env)
        full_env["PYTHONPATH"] = REPO_ROOT
        proc = subprocess.run(
            [python, "-m", "devkit", *argv],
            cwd=str(cwd or tmp_path),
            env=full_env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run

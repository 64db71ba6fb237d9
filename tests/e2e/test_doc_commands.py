"""Every fenced sh/bash/console block of README.md, examples/README.md and docs/*.md runs as written.

Each block runs with ``sh -e`` in a fresh copy of the checkout: no install, no
PYTHONPATH, nothing but the environment a user has. A block preceded by
``<!-- doc-test: skip (reason) -->`` is not run; background jobs a block starts
(``... &``) are stopped with their process group when it ends.
"""

import fcntl
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from tests.conftest import REPO_ROOT, clean_env

DOCS = ("README.md", os.path.join("examples", "README.md")) + tuple(
    os.path.relpath(path, REPO_ROOT) for path in sorted(glob.glob(os.path.join(REPO_ROOT, "docs", "*.md")))
)
FENCE = re.compile(r"(<!-- doc-test: skip \(([^)]*)\) -->\n)?```(sh|bash|console)\n(.*?)^```", re.S | re.M)
NOT_COPIED = (
    ".git",
    ".venv*",
    "__pycache__",
    ".devkit",
    "dist",
    "build",
    ".pytest_cache",
    ".coverage*",
    "report.md",
)


def doc_blocks(name):
    """``(skip reason or None, shell script)`` for each fenced shell block of one document."""
    with open(os.path.join(REPO_ROOT, name), encoding="utf-8") as handle:
        return shell_blocks(handle.read())


def shell_blocks(text):
    """``(skip reason or None, shell script)`` for each fenced sh/bash/console block of ``text``."""
    blocks = []
    for match in FENCE.finditer(text):
        body = match.group(4)
        if match.group(3) == "console":
            body = "".join(line[2:] + "\n" for line in body.splitlines() if line.startswith("$ "))
        blocks.append((match.group(2), body))
    return blocks


CASES = [(name, i, reason, script) for name in DOCS for i, (reason, script) in enumerate(doc_blocks(name))]


def test_blocks_are_found_with_their_skip_marks_and_console_prompts():
    text = (
        "```sh\necho one\n```\n\n<!-- doc-test: skip (slow) -->\n```bash\nsleep 99\n```\n"
        "```console\n$ echo two\ntwo\n$ echo three\n```\n```python\nprint(4)\n```\n"
    )
    assert shell_blocks(text) == [
        (None, "echo one\n"),
        ("slow", "sleep 99\n"),
        (None, "echo two\necho three\n"),
    ]


def test_the_docs_have_blocks_to_run():
    runnable = [case for case in CASES if case[2] is None]
    assert any("examples/llm_app.py" in case[3] for case in runnable)
    assert any(case[0] == "README.md" for case in runnable)
    assert any(case[0] == os.path.join("docs", "OPERATIONS.md") for case in runnable)


@pytest.mark.parametrize("name, index, reason, script", CASES, ids=[f"{c[0]}#{c[1]}" for c in CASES])
def test_doc_block_runs_as_written(name, index, reason, script, tmp_path):
    if reason is not None:
        pytest.skip(f"marked in {name}: {reason}")
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO_ROOT, str(checkout), ignore=shutil.ignore_patterns(*NOT_COPIED))
    env = clean_env()
    env.pop("PYTHONPATH", None)
    env.pop("OPENAI_API_KEY", None)  # a test never lends a real credential to the walk-through's OpenAI probe
    env["TMPDIR"] = str(tmp_path)  # what a block makes with mktemp goes away with the test
    with _ports_of(script):
        code, out, err = _run_block(script, checkout, env, tmp_path)
    assert code == 0, f"{name} block {index} failed ({code}):\n{script}\n--- stdout\n{out}\n--- stderr\n{err}"
    assert "Traceback" not in out + err and "devkit: error" not in err, err


def _run_block(script, cwd, env, tmp_path):
    """Run ``script`` with ``sh -e`` in its own session; stop whatever it left in the background."""
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        # Files, not pipes: a background server keeps a pipe open long after the block ends.
        proc = subprocess.Popen(
            ["sh", "-e", "-c", script], cwd=str(cwd), env=env, stdout=out, stderr=err, start_new_session=True
        )
        try:
            code = proc.wait(timeout=120)
        finally:
            _stop_group(proc.pid)
    return code, out_path.read_text(), err_path.read_text()


def _stop_group(pgid):
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        pass


class _ports_of:
    """Hold a machine-wide lock for each fixed port a block listens on; skip when something else has it."""

    def __init__(self, script):
        self.ports = sorted(set(re.findall(r"--port (\d+)", script)))
        self.handles = []

    def __enter__(self):
        for port in self.ports:
            handle = open(os.path.join(tempfile.gettempdir(), f"devkit-doc-test-port-{port}.lock"), "w")
            fcntl.flock(handle, fcntl.LOCK_EX)
            self.handles.append(handle)
            if _listening(int(port)):
                self.__exit__()
                pytest.skip(f"port {port} is already in use on this machine")
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.close()
        self.handles = []
        return False


def _listening(port):
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0

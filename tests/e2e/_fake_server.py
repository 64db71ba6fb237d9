"""Start examples/fake_model_server.py as a real process on a free port, and stop it."""

import contextlib
import os
import subprocess
import sys

from tests.conftest import REPO_ROOT

SCRIPT = os.path.join(REPO_ROOT, "examples", "fake_model_server.py")


@contextlib.contextmanager
def fake_model_server(first_token_ms, tokens_per_s, tokens):
    """Yield the base URL of a fake server with this pacing; on exit stop it and check it ended cleanly."""
    argv = [
        sys.executable,
        SCRIPT,
        "--port",
        "0",
        "--first-token-ms",
        str(first_token_ms),
        "--tokens-per-s",
        str(tokens_per_s),
        "--tokens",
        str(tokens),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("fake model server on http://127.0.0.1:"), line + proc.stderr.read()
        yield line.split(" on ")[1].strip()
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0

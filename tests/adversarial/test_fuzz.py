"""A bounded, seeded fuzz pass: configs, ingest events and CLI argument lists.

Asserts for every run: no traceback and no "unexpected" error, an exit code from the
documented table (0 ok, 1 failed/warn, 2 usage/config/critical, 3 unknown/busy), each
run under its deadline, memory bounded (peak RSS of the real subprocesses, growth of
this process for the in-process runs), and no special file or the store replaced.
"""

import os
import random
import resource
import stat
import subprocess
import sys
import time

import pytest

from tests.adversarial import _fuzz
from tests.adversarial.conftest import identity, make_char_device, run_cli, write_json
from tests.conftest import REPO_ROOT, clean_env

DOCUMENTED_CODES = {0, 1, 2, 3}
RUN_DEADLINE_S = 10.0
MAX_RSS_BYTES = 200 * 1024 * 1024
CONFIG_CASES = 1500
ARGV_CASES = 1200
SUBPROCESS_CASES = 40
EVENT_LINES = 150
BASELINE = {"project": {"name": "fuzz"}}


def _kib_to_bytes(value):
    return value if sys.platform == "darwin" else value * 1024


def _check_run(code, out, err, elapsed, what):
    assert "Traceback" not in err and "Traceback" not in out, (what, err[-2000:])
    assert "unexpected" not in err, (what, err[-2000:])
    assert code in DOCUMENTED_CODES, (what, code, err[-2000:])
    assert elapsed < RUN_DEADLINE_S, (what, elapsed)


def _timed(root, argv, stdin=""):
    started = time.monotonic()
    code, out, err = run_cli(root, *argv, stdin=stdin)
    return code, out, err, time.monotonic() - started


@pytest.fixture
def rss_growth_bounded():
    """The in-process runs may not grow this process's peak RSS by 200 MiB or more."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    grown = _kib_to_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
    assert grown < MAX_RSS_BYTES, grown


def test_fuzzed_configs(tmp_path, rss_growth_bounded):
    rng = random.Random(_fuzz.SEED)
    path = tmp_path / "devkit.json"
    codes = set()
    for case in range(CONFIG_CASES):
        path.write_text(_fuzz.config_text(rng), encoding="utf-8", errors="surrogatepass")
        for argv in (["config", "validate"], ["--json", "config", "show"], ["config", "models"]):
            code, out, err, elapsed = _timed(tmp_path, argv)
            _check_run(code, out, err, elapsed, (case, argv, path.read_bytes()[:300]))
            assert code in (0, 2), (case, argv, err)
            codes.add(code)
    assert codes == {0, 2}


EVENT_CATEGORIES = ("types", "numbers", "strings", "timestamps", "nesting", "raw")


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("category", EVENT_CATEGORIES)
def test_fuzzed_ingest_events(tmp_path, rss_growth_bounded, category, strict):
    rng = random.Random(f"{_fuzz.SEED}-{category}")
    write_json(tmp_path / "devkit.json", BASELINE)
    lines = [_fuzz.event_line(rng, category) for _ in range(EVENT_LINES)]
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    argv = ["metrics", "ingest", str(source)] + (["--strict"] if strict else [])
    code, out, err, elapsed = _timed(tmp_path, argv)
    _check_run(code, out, err, elapsed, (category, strict))
    for argv in (["--json", "status"], ["metrics"], ["metrics", "export", "--format", "csv"]):
        code, out, err, elapsed = _timed(tmp_path, argv)
        _check_run(code, out, err, elapsed, (category, argv))
        assert code == 0, (category, argv, err)


@pytest.fixture
def fuzz_project(project):
    """The project plus the special files fuzzed argument lists point at; yields (root, identities)."""
    os.mkfifo(project / "fifo.json")
    make_char_device(str(project / "chardev"), 1, 3)
    (project / "folder").mkdir()
    os.symlink("loop.json", project / "loop.json")
    with open(project / "huge.json", "wb") as handle:
        handle.truncate(2 * 1024 * 1024)
    watched = ["fifo.json", "chardev", "folder", ".devkit/devkit.db"]
    yield project, {name: identity(project / name) for name in watched}


def _assert_untouched(root, identities, what):
    for name, before in identities.items():
        assert identity(root / name) == before, (name, what)
    assert stat.S_ISFIFO(identities["fifo.json"][0]) and stat.S_ISCHR(identities["chardev"][0])


def test_fuzzed_argument_lists_in_process(fuzz_project, rss_growth_bounded):
    root, identities = fuzz_project
    rng = random.Random(_fuzz.SEED)
    codes = set()
    for case in range(ARGV_CASES):
        argv = _fuzz.argv_list(rng)
        write_json(root / "devkit.json", BASELINE)
        code, out, err, elapsed = _timed(root, argv)
        _check_run(code, out, err, elapsed, (case, argv))
        _assert_untouched(root, identities, argv)
        codes.add(code)
    assert {0, 1, 2} <= codes


# The CLI runs under a small wrapper that reports the child's own peak RSS: a child this (large)
# test process starts with vfork counts this process's pages in its peak until it execs.
_MEASURED = """
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
sys.stdout.buffer.write(p.stdout)
sys.stderr.buffer.write(p.stderr)
sys.stderr.write("\\nRSS_KIB %d" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(p.returncode)
"""


def _run_child(root, argv, env):
    """(exit code, stdout, stderr, seconds, peak RSS in bytes) of ``devkit ARGV`` as a real process."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, sys.executable, "-m", "devkit", *argv],
        cwd=str(root),
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=60,
    )
    err, _, rss = proc.stderr.rpartition("\nRSS_KIB ")
    return proc.returncode, proc.stdout, err, time.monotonic() - started, _kib_to_bytes(int(rss))


def test_fuzzed_argument_lists_as_processes(fuzz_project):
    root, identities = fuzz_project
    rng = random.Random(_fuzz.SEED + 1)
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    for case in range(SUBPROCESS_CASES):
        argv = _fuzz.argv_list(rng)
        write_json(root / "devkit.json", BASELINE)
        code, out, err, elapsed, peak = _run_child(root, argv, env)
        # Two real interpreter starts are outside devkit's own deadline: allow them a few seconds more.
        _check_run(code, out, err, elapsed - 5.0, (case, argv))
        _assert_untouched(root, identities, argv)
        assert peak < MAX_RSS_BYTES, (case, argv, peak)

"""`devkit metrics ingest` against hostile input: every bad line is its own error, memory stays bounded."""

import json
import os
import subprocess
import sys

from tests.conftest import REPO_ROOT, clean_env

OK = {"operation": "chat", "model": "m", "duration_ms": 5, "status": "ok", "prompt_tokens": 2}


def _project(tmp_path):
    (tmp_path / "devkit.json").write_text(json.dumps({"metrics": {}}))
    return tmp_path


def _status(run_devkit):
    result = run_devkit("status", "--json")
    assert result.code == 0, result
    return json.loads(result.out)


def _hostile_lines():
    # Written as raw text: a lone surrogate escape, huge numbers, a ms timestamp and deep nesting.
    return [
        json.dumps(OK),
        '{"operation": "bad\\ud800", "duration_ms": 1, "status": "ok"}',
        '{"operation": "x", "model": "\\udfff", "duration_ms": 1, "status": "ok"}',
        '{"operation": "x", "duration_ms": 1, "status": "ok", "prompt_tokens": 100000000000000000000}',
        '{"operation": "x", "duration_ms": 1, "status": "ok", "ts": 1e20}',
        '{"operation": "x", "duration_ms": 1, "status": "ok", "ts": 1732680000000}',
        "[" * 100_000 + "]" * 100_000,
        json.dumps(OK),
    ]


def test_each_hostile_line_is_a_per_line_error_and_the_good_lines_are_stored(run_devkit, tmp_path):
    _project(tmp_path)
    (tmp_path / "bad.jsonl").write_text("\n".join(_hostile_lines()) + "\n")
    result = run_devkit("metrics", "ingest", "bad.jsonl")
    assert result.code == 1, result
    assert result.out.strip() == "bad.jsonl: ingested 2, rejected 6"
    assert [line.split(":")[1] for line in result.err.splitlines()] == ["2", "3", "4", "5", "6", "7"]
    assert "Traceback" not in result.err
    data = _status(run_devkit)
    assert (data["totals"]["requests"], data["totals"]["prompt_tokens"]) == (2, 4)
    assert run_devkit("metrics", "export", "--format", "csv").code == 0


def test_strict_stores_nothing_unless_every_line_is_valid(run_devkit, tmp_path):
    _project(tmp_path)
    lines = [json.dumps(OK)] * 6000 + ['{"operation": "bad\\ud800", "duration_ms": 1, "status": "ok"}']
    (tmp_path / "big.jsonl").write_text("\n".join(lines) + "\n")
    result = run_devkit("metrics", "ingest", "big.jsonl", "--strict")
    assert result.code == 2 and "nothing ingested" in result.out, result
    assert _status(run_devkit)["totals"]["requests"] == 0


def test_a_directory_and_a_missing_file_each_say_so_in_one_line(run_devkit, tmp_path):
    _project(tmp_path)
    (tmp_path / "adir").mkdir()
    directory = run_devkit("metrics", "ingest", "adir")
    missing = run_devkit("metrics", "ingest", "nope.jsonl")
    assert (directory.code, directory.err) == (
        2,
        "devkit: error: adir: is a directory, not a JSON-lines file\n",
    )
    assert (missing.code, missing.err) == (
        2,
        "devkit: error: nope.jsonl: no such file (use - to read stdin)\n",
    )


def test_a_fifo_and_a_dev_fd_pipe_are_read(run_devkit, tmp_path):
    _project(tmp_path)
    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    reader = subprocess.Popen(
        [sys.executable, "-m", "devkit", "metrics", "ingest", "events.fifo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with open(fifo, "w") as writer:
        writer.write(json.dumps(OK) + "\n")
    out, err = reader.communicate(timeout=60)
    assert (reader.returncode, out.strip()) == (0, "events.fifo: ingested 1, rejected 0"), err
    read_end, write_end = os.pipe()
    os.write(write_end, (json.dumps(OK) + "\n").encode())
    os.close(write_end)
    proc = subprocess.run(
        [sys.executable, "-m", "devkit", "metrics", "ingest", f"/dev/fd/{read_end}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        pass_fds=(read_end,),
        timeout=60,
    )
    os.close(read_end)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ingested 1, rejected 0"), proc.stderr
    assert _status(run_devkit)["totals"]["requests"] == 2


def test_an_endless_line_from_dev_zero_is_one_error_in_bounded_memory(tmp_path):
    _project(tmp_path)
    # The line comes from a (sparse) file, not from this process's memory: a forked child's peak RSS
    # counts the parent's pages, so 64 MiB held here would be measured as the child's.
    with open(tmp_path / "zeros", "wb") as handle:
        handle.truncate(64 << 20)
        handle.seek(0, os.SEEK_END)
        handle.write(b"\n")
    code = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run([sys.executable, '-m', 'devkit', 'metrics', 'ingest', '-'],"
        " stdin=open('zeros', 'rb'), capture_output=True)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
        "sys.stderr.write(p.stderr.decode())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=clean_env({"PYTHONPATH": REPO_ROOT}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    exit_code, rss_mib = map(int, proc.stdout.split())
    assert exit_code == 1 and "<stdin>:1: line: longer than 1048576 bytes" in proc.stderr, proc.stderr
    assert rss_mib < 150, rss_mib

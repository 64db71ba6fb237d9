"""The project's house rules, checked on the source tree."""

import importlib.machinery
import importlib.util
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


def _load_house_rules():
    """bin/house-rules is the one implementation; the tests load it as a module."""
    path = os.path.join(REPO_ROOT, "bin", "house-rules")
    loader = importlib.machinery.SourceFileLoader("house_rules", path)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("house_rules", loader))
    loader.exec_module(module)
    return module


RULES = _load_house_rules()


def _problems(check):
    found = []
    for path, tree in RULES.modules(os.path.join(REPO_ROOT, "devkit")):
        found += list(check(os.path.relpath(path, REPO_ROOT), tree))
    return found


@pytest.mark.skipif(not hasattr(sys, "stdlib_module_names"), reason="needs sys.stdlib_module_names (3.10+)")
def test_runtime_imports_only_the_standard_library():
    assert _problems(RULES.non_stdlib_imports) == []


def test_no_function_is_longer_than_the_limit():
    assert _problems(RULES.long_functions) == []


def test_every_public_function_and_class_has_a_docstring():
    assert _problems(RULES.missing_docstrings) == []


@pytest.mark.skipif(not hasattr(sys, "stdlib_module_names"), reason="needs sys.stdlib_module_names (3.10+)")
def test_each_rule_reports_a_violation(tmp_path):
    body = "\n".join(f"    x = {i}" for i in range(41))
    source = (
        f"import requests\n\n\ndef public():\n{body}\n\n\nclass Thing:\n    def method(self):\n        pass\n"
    )
    (tmp_path / "devkit").mkdir()
    (tmp_path / "devkit" / "bad.py").write_text(source)
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "bin", "house-rules"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "devkit/bad.py:1: imports requests, which is not in the standard library",
        "devkit/bad.py:4: public() has 42 lines (limit 40)",
        "devkit/bad.py: module has no docstring",
        "devkit/bad.py:4: public has no docstring",
        "devkit/bad.py:48: Thing has no docstring",
        "devkit/bad.py:49: method has no docstring",
    ]


def test_help_imports_neither_sqlite3_nor_http_server():
    code = (
        "import sys, io\n"
        "from devkit.cli import main\n"
        "from devkit.context import Context\n"
        "main(['--help'], Context(stdout=io.StringIO(), stderr=io.StringIO()))\n"
        "print(','.join(m for m in ('sqlite3', 'http.server', 'urllib.request') if m in sys.modules))\n"
    )
    # Coverage's own subprocess hook imports sqlite3; this check is about devkit alone.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""

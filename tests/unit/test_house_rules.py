"""The project's house rules, checked on the source tree."""

import ast
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = os.path.join(REPO_ROOT, "devkit")
STDLIB = set(getattr(sys, "stdlib_module_names", ())) | {"__future__", "tomllib"}
MAX_FUNCTION_LINES = 40


def _modules():
    for root, _dirs, files in os.walk(PACKAGE):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as handle:
                    yield os.path.relpath(path, REPO_ROOT), ast.parse(handle.read())


def _imported_roots(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield node.lineno, [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, [node.module.split(".")[0]]


@pytest.mark.skipif(not STDLIB - {"__future__", "tomllib"}, reason="needs sys.stdlib_module_names (3.10+)")
def test_runtime_imports_only_the_standard_library():
    bad = []
    for path, tree in _modules():
        for lineno, roots in _imported_roots(tree):
            bad += [f"{path}:{lineno}: {root}" for root in roots if root not in STDLIB and root != "devkit"]
    assert bad == [], "non-stdlib imports in runtime code"


def test_no_function_is_longer_than_the_limit():
    long = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path}:{node.lineno}: {node.name}() has {length} lines")
    assert long == []


def _public_defs(tree):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            yield node
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and not item.name.startswith("_"):
                        yield item


def test_every_public_function_and_class_has_a_docstring():
    missing = []
    for path, tree in _modules():
        if ast.get_docstring(tree) is None:
            missing.append(f"{path}: module")
        missing += [
            f"{path}:{n.lineno}: {n.name}" for n in _public_defs(tree) if ast.get_docstring(n) is None
        ]
    assert missing == []


def test_help_imports_neither_sqlite3_nor_http_server():
    code = (
        "import sys, io\n"
        "from devkit.cli import main\n"
        "from devkit.context import Context\n"
        "main(['--help'], Context(stdout=io.StringIO(), stderr=io.StringIO()))\n"
        "print(','.join(m for m in ('sqlite3', 'http.server', 'urllib.request') if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""

"""docker-compose.yml: its structure, and every devkit command in it is one the CLI accepts.

There is no Docker engine here; the file is read with a small YAML-subset reader and each
``python -m devkit ...`` command line in it is parsed by devkit's own argument parser.
"""

import io
import os
import shlex

import pytest

from devkit.cli import build_parser, find_command
from devkit.context import Context
from devkit.errors import UsageError
from tests.conftest import REPO_ROOT
from tests.unit._yaml_subset import load


@pytest.fixture(scope="module")
def compose():
    with open(os.path.join(REPO_ROOT, "docker-compose.yml"), encoding="utf-8") as handle:
        return load(handle.read())


def _devkit_commands(argv):
    """Each ``python -m devkit ARGS`` in an argv list (or in a ``sh -c`` script), as ARGS lists."""
    if argv[:2] == ["sh", "-c"]:
        words = shlex.split(argv[2].replace(";", " ; ").replace("&&", " && "))
    else:
        words = list(argv)
    commands, current = [], None
    for word in words + [";"]:
        if word in (";", "&&", "||"):
            if current is not None:
                commands.append(current)
            current = None
        elif current is not None:
            current.append(word)
        elif word == "devkit":
            current = []
    return commands


def _accepted(args):
    ctx = Context(stdout=io.StringIO(), stderr=io.StringIO(), env={})
    parser = build_parser(ctx, find_command(args))
    try:
        parser.parse_args(args)
    except UsageError as exc:
        return False, exc.message
    return True, ""


def test_the_server_service(compose):
    service = compose["services"]["devkit"]
    assert service["image"].startswith("python:") and service["image"].endswith("-slim")
    assert service["command"][:4] == ["python", "-m", "devkit", "serve"]
    assert "./:/app:ro" in service["volumes"]
    assert any(v.startswith("devkit-state:") for v in service["volumes"])
    assert service["environment"]["DEVKIT_PROJECT_STATE_DIR"] == "/state"
    # A non-loopback bind needs a token; compose refuses to start without one.
    assert "--host" in service["command"] and service["environment"]["DEVKIT_SERVER_TOKEN"].startswith(
        "${DEVKIT_SERVER_TOKEN:?"
    )
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])
    limits = service["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) > 0 and limits["memory"].endswith("M")


def test_the_healthcheck_uses_the_docker_exit_profile(compose):
    check = compose["services"]["devkit"]["healthcheck"]
    assert check["test"][0] == "CMD"
    assert check["test"][1:] == ["python", "-m", "devkit", "health", "--live", "--exit-profile", "docker"]
    assert {"interval", "timeout", "retries"} <= set(check)


def test_the_maintenance_job_and_the_named_volume(compose):
    job = compose["services"]["maintenance"]
    commands = _devkit_commands(job["command"])
    assert [c[0] for c in commands] == ["backup", "backup", "cleanup"]
    assert "devkit-state" in compose["volumes"]
    assert job["environment"]["DEVKIT_PROJECT_STATE_DIR"] == "/state"


def test_every_devkit_command_in_the_file_is_accepted_by_the_cli(compose):
    found = []
    for service in compose["services"].values():
        argv = service["command"]
        found += _devkit_commands(argv)
        if "healthcheck" in service:
            found += _devkit_commands(service["healthcheck"]["test"][1:])
    assert len(found) == 5
    for args in found:
        ok, err = _accepted(args)
        assert ok, f"devkit {' '.join(args)}: {err}"


def test_the_subset_reader_refuses_what_it_does_not_understand():
    with pytest.raises(ValueError):
        load('a:\n  b: "open\n')

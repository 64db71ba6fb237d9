"""``devkit backup`` and ``devkit restore`` as a user sees them: screens, --json and exit codes."""

import json
import os

import pytest

from devkit.util.lock import storage_lock
from tests.conftest import run_in_process
from tests.integration._backup_helpers import make_tree, read_members, write_members

T0 = 1_800_000_000.0
DAY = 86400.0


@pytest.fixture
def project(tmp_path):
    make_tree(str(tmp_path))
    # JSON, not TOML: the suite runs on Python 3.9 and 3.10 too.
    (tmp_path / "devkit.json").write_text(json.dumps({"project": {"name": "proj", "data_dirs": ["data"]}}))
    return tmp_path


def devkit(project, *argv, now=T0):
    return run_in_process(argv, project, clock=lambda: now)


def test_create_list_verify_screens(project):
    created = devkit(project, "backup", "create", "--label", "v1")
    assert created.code == 0, created.err
    path = project / "backups" / "proj-20270115T080000.000Z-v1.tar.gz"
    lines = created.out.splitlines()
    assert lines[0] == f"created {path}"
    assert lines[1].startswith("13 files, ") and " -> " in lines[1]
    devkit(project, "backup", "create", now=T0 + DAY)
    listing = devkit(project, "backup", "list")
    size_new = os.path.getsize(str(project / "backups" / "proj-20270116T080000.000Z.tar.gz"))
    assert listing.out.splitlines()[0].split() == ["NAME", "CREATED", "(UTC)", "FILES", "SIZE", "VERIFIED"]
    assert listing.out.splitlines()[1].split() == [
        "proj-20270116T080000.000Z.tar.gz",
        "2027-01-16",
        "08:00:00",
        "13",
        f"{size_new / 1024:.1f}",
        "KB",
        "never",
    ]
    verified = devkit(project, "backup", "verify", "--all")
    assert verified.code == 0
    assert verified.out == (
        "ok      proj-20270116T080000.000Z.tar.gz (13 files)\n"
        "ok      proj-20270115T080000.000Z-v1.tar.gz (13 files)\n"
    )
    assert [line.split()[-1] for line in devkit(project, "backup", "list").out.splitlines()] == [
        "VERIFIED",
        "yes",
        "yes",
    ]


def test_verify_failure_names_each_bad_file_and_exits_4(project):
    devkit(project, "backup", "create")
    path = str(project / "backups" / "proj-20270115T080000.000Z.tar.gz")
    write_members(path, [(i, d) for i, d in read_members(path) if i.name != "data/runs/r001.json"])
    result = devkit(project, "backup", "verify")
    assert result.code == 4
    missing = "        data/runs/r001.json: missing from the archive\n"
    assert result.out == "FAILED  proj-20270115T080000.000Z.tar.gz\n" + missing
    assert devkit(project, "backup", "list").out.splitlines()[1].split()[-1] == "FAILED"


def test_json_on_every_action(project):
    created = json.loads(devkit(project, "--json", "backup", "create").out)
    assert created["files"] == 13 and created["warnings"] == [] and created["name"].endswith(".tar.gz")
    listed = json.loads(devkit(project, "backup", "list", "--json").out)
    assert [b["name"] for b in listed["backups"]] == [created["name"]]
    verified = json.loads(devkit(project, "backup", "verify", "--json").out)
    assert verified["ok"] is True and verified["results"][0]["problems"] == []
    restored = json.loads(devkit(project, "restore", created["name"], "--target", "r", "--json").out)
    assert restored["written"] == 13 and restored["target"] == str(project / "r")
    pruned = json.loads(devkit(project, "backup", "prune", "--keep-last", "1", "--json").out)
    assert pruned["plan"][0]["reasons"] == ["one of the last 1", "newest verified backup"]


def test_exit_codes_for_usage_errors_and_a_busy_lock(project):
    assert devkit(project, "backup", "create", "--level", "0").code == 2
    empty = devkit(project, "backup", "prune")
    assert empty.code == 2
    assert empty.err == (
        "devkit: error: prune: empty policy: give at least one keep count "
        "(last, daily, weekly or monthly)\n"
    )
    with storage_lock(str(project / ".devkit"), "cleanup"):
        busy = devkit(project, "backup", "create")
    assert busy.code == 3 and "holds the storage lock" in busy.err
    assert not os.path.exists(str(project / "backups")) or os.listdir(str(project / "backups")) == []


def test_restore_refuses_a_non_empty_target_listing_the_changes(project):
    name = json.loads(devkit(project, "--json", "backup", "create").out)["name"]
    assert devkit(project, "restore", name, "--target", "r").code == 0
    (project / "r" / "data" / "runs" / "r001.json").write_text("changed")
    refused = devkit(project, "backup", "restore", name, "--target", "r")
    assert refused.code == 2
    assert refused.err == (
        "  would replace: data/runs/r001.json\n"
        f"devkit: error: target {project / 'r'}: not empty (1 existing file(s) would be replaced); "
        "rerun with --force to restore over them, or --dry-run to see the plan\n"
    )
    forced = devkit(project, "restore", name, "--target", "r", "--force")
    assert forced.code == 0
    assert forced.out == (
        "  replace: data/runs/r001.json\n"
        f"restored 13 files from {name} into {project / 'r'} (1 replace, 13 unchanged)\n"
    )


def test_prune_shows_then_applies_and_keeps_the_newest_verified(project):
    for day in range(4):
        devkit(project, "backup", "create", now=T0 + day * DAY)
    devkit(project, "backup", "verify", "proj-20270115T080000.000Z.tar.gz")
    shown = devkit(project, "backup", "prune", "--keep-last", "2")
    assert shown.out == (
        "keep   proj-20270118T080000.000Z.tar.gz (one of the last 2)\n"
        "keep   proj-20270117T080000.000Z.tar.gz (one of the last 2)\n"
        "would delete proj-20270116T080000.000Z.tar.gz\n"
        "keep   proj-20270115T080000.000Z.tar.gz (newest verified backup)\n"
        "1 backup(s) would be deleted; rerun with --apply to delete them\n"
    )
    assert len(os.listdir(str(project / "backups"))) == 5
    applied = devkit(project, "backup", "prune", "--keep-last", "2", "--apply")
    assert applied.out.splitlines()[-1] == "deleted 1 backup(s)"
    again = devkit(project, "backup", "prune", "--keep-last", "2", "--apply")
    assert again.out.splitlines()[-1] == "deleted 0 backup(s)"
    assert sorted(os.listdir(str(project / "backups"))) == [
        ".devkit-backups.json",
        "proj-20270115T080000.000Z.tar.gz",
        "proj-20270117T080000.000Z.tar.gz",
        "proj-20270118T080000.000Z.tar.gz",
    ]


def test_prune_daily_weekly_monthly_reasons(project):
    for day in (0, 0.5, 1, 8, 40):
        devkit(project, "backup", "create", now=T0 + day * DAY)
    plan = json.loads(
        devkit(
            project,
            "backup",
            "prune",
            "--keep-daily",
            "2",
            "--keep-weekly",
            "2",
            "--keep-monthly",
            "2",
            "--json",
        ).out
    )["plan"]
    assert [(p["name"][5:20], p["reasons"]) for p in plan] == [
        (
            "20270224T080000",
            ["newest of day 2027-02-24", "newest of week 2027-W08", "newest of month 2027-02"],
        ),
        (
            "20270123T080000",
            ["newest of day 2027-01-23", "newest of week 2027-W03", "newest of month 2027-01"],
        ),
        ("20270116T080000", []),
        ("20270115T200000", []),
        ("20270115T080000", []),
    ]


def test_progress_is_drawn_on_a_terminal_only(project):
    result = run_in_process(["backup", "create"], project, tty=True, clock=lambda: T0)
    assert result.code == 0
    assert result.err.startswith("\rbackup [") and result.err.endswith("100.0% \n")
    assert devkit(project, "backup", "create", now=T0 + 1).err == ""


def test_dry_run_lists_the_plan_and_writes_nothing(project):
    name = json.loads(devkit(project, "--json", "backup", "create").out)["name"]
    result = devkit(project, "restore", name, "--target", "r", "--dry-run", "--only", "data/runs/deep/*")
    assert result.code == 0
    assert result.out.splitlines()[-1] == (
        f"dry run: 6 files would be restored into {project / 'r'} (9 create); nothing written"
    )
    assert result.out.splitlines()[0] == "  create: data"
    assert not (project / "r").exists()


def test_prune_takes_backup_keep_from_the_config_but_not_the_builtin_default(project):
    for day in range(3):
        devkit(project, "backup", "create", now=T0 + day * DAY)
    assert devkit(project, "backup", "prune").code == 2
    config = json.loads((project / "devkit.json").read_text())
    config["backup"] = {"keep": 2}
    (project / "devkit.json").write_text(json.dumps(config))
    applied = devkit(project, "backup", "prune", "--apply")
    assert applied.code == 0
    assert applied.out.splitlines() == [
        "keep   proj-20270117T080000.000Z.tar.gz (one of the last 2)",
        "keep   proj-20270116T080000.000Z.tar.gz (one of the last 2)",
        "delete proj-20270115T080000.000Z.tar.gz",
        "deleted 1 backup(s)",
    ]

"""devkit validate: a checklist that names bad JSON lines and broken SQLite files; exit codes as health."""

import json
import time

from devkit.maintenance.backup import create_backup


def _lines(out):
    return [line.split("  ")[0] for line in out.splitlines()]


def test_clean_project_with_a_verified_backup_is_ok(cli, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.json").write_text('{"ok": true}')
    (tmp_path / "devkit.json").write_text(json.dumps({"project": {"data_dirs": ["data"]}}))
    create_backup(
        [str(tmp_path / "data")],
        str(tmp_path / "backups"),
        str(tmp_path),
        "p",
        time.time(),
        str(tmp_path / ".devkit"),
    )
    done = cli("validate", cwd=tmp_path)
    assert done.code == 0, done
    assert _lines(done.out) == [
        "[ ok ] config",
        "[ ok ] json files",
        "[ ok ] sqlite",
        "[ ok ] models",
        "[ ok ] backup",
        "[ ok ] self-test",
        "validate: OK",
    ]


def test_bad_json_and_a_corrupt_database_are_critical_and_named(cli, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "bad.json").write_text('{\n  "a": 1,\n  oops\n}')
    (data / "broken.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    (tmp_path / "devkit.json").write_text(json.dumps({"project": {"data_dirs": ["data"]}}))
    done = cli("--json", "validate", "--no-self-test", cwd=tmp_path)
    assert done.code == 2, done
    report = json.loads(done.out)
    items = {i["name"]: i for i in report["items"]}
    assert report["status"] == "fail"
    assert items["json files"]["details"] == [
        f"{data / 'bad.json'}: line 3: Expecting property name enclosed in double quotes"
    ]
    assert items["sqlite"]["status"] == "fail" and items["sqlite"]["details"][0].startswith(
        str(data / "broken.db")
    )
    assert items["backup"]["status"] == "warn"


def test_a_missing_backup_alone_is_a_warning(cli, tmp_path):
    done = cli("validate", "--no-self-test", cwd=tmp_path)
    assert done.code == 1, done
    assert f"[WARN] backup      no backup yet in {tmp_path / 'backups'}" in done.out.splitlines()


def test_invalid_config_is_critical(cli, tmp_path):
    (tmp_path / "devkit.json").write_text('{"server": {"port": "x"}}')
    done = cli("validate", cwd=tmp_path)
    assert done.code == 2, done
    assert done.out.splitlines()[0] == "[FAIL] config      1 problem(s) in devkit.json"


def test_unreachable_model_fails_within_the_deadline(cli, tmp_path):
    config = {"models": [{"name": "m", "provider": "ollama", "url": "http://127.0.0.1:9", "timeout": 1}]}
    (tmp_path / "devkit.json").write_text(json.dumps(config))
    done = cli("--json", "validate", "--no-self-test", cwd=tmp_path)
    items = {i["name"]: i for i in json.loads(done.out)["items"]}
    assert done.code == 2
    assert items["models"]["status"] == "fail" and items["models"]["output"] == "0 of 1 reachable"


def test_bad_timeout_is_unknown(cli, tmp_path):
    done = cli("validate", "--timeout", "soon", cwd=tmp_path)
    assert done.code == 3 and done.err.startswith("devkit: error: --timeout:")


def test_validate_leaves_the_store_folder_as_it_was(cli, tmp_path):
    import os

    from devkit.core.records import Batch, OperationRecord
    from devkit.store import Store

    with Store(str(tmp_path / ".devkit" / "devkit.db")) as store:
        store.write_batch(Batch([OperationRecord("op1", time.time(), "chat")]))
    before = sorted(os.listdir(str(tmp_path / ".devkit")))
    done = cli("--json", "validate", "--no-self-test", cwd=tmp_path)
    items = {i["name"]: i for i in json.loads(done.out)["items"]}
    assert items["sqlite"]["output"] == "1 SQLite file(s) pass integrity_check"
    assert sorted(os.listdir(str(tmp_path / ".devkit"))) == before

"""devkit export-data: the experiments CSV reads back whole; metrics, config, report and all are real files."""

import csv
import json
import os

from devkit.maintenance.experiments_csv import flatten


def _record(i):
    return {
        "id": f"run-{i}",
        "model": {"name": "llama3", "params": {"temperature": i % 7 / 10, "top_p": 0.9}},
        "tags": ["a", f"t{i % 3}"],
        "score": i * 0.5,
        "ok": i % 2 == 0,
        "empty": {},
        "notes": 'line one\nsaid "hi", then left' if i % 10 == 0 else None,
        **({"extra": {"only_some": i}} if i % 1000 == 0 else {}),
    }


def _project(tmp_path, records):
    exp = tmp_path / "experiments"
    exp.mkdir()
    for i, record in enumerate(records):
        (exp / f"r{i:05d}.json").write_text(json.dumps(record))
    return tmp_path


def test_ten_thousand_nested_records_read_back_one_row_each_with_no_field_lost(cli, tmp_path):
    records = [_record(i) for i in range(10000)]
    root = _project(tmp_path, records)
    done = cli("export-data", "experiments", "-o", "out.csv", cwd=root)
    assert done.code == 0, done
    with open(root / "out.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 10000
    assert list(rows[0])[:4] == ["_path", "empty", "extra.only_some", "id"]
    for i, (record, row) in enumerate(zip(records, rows)):
        assert row["_path"] == os.path.join("experiments", f"r{i:05d}.json")
        expected = {k: _text(v) for k, v in flatten(record).items()}
        assert {k: v for k, v in row.items() if k != "_path" and (k in expected or v)} == expected
    assert json.loads(rows[1]["tags"]) == ["a", "t1"]
    assert rows[0]["notes"] == 'line one\nsaid "hi", then left'
    assert rows[0]["ok"] == "true" and rows[0]["empty"] == "{}"


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_bad_records_are_named_and_skipped(cli, tmp_path):
    root = _project(tmp_path, [{"a": 1}])
    (root / "experiments" / "broken.json").write_text('{"a":\n  oops}')
    done = cli("export-data", "experiments", cwd=root)
    assert done.code == 0, done
    assert done.out.splitlines() == ["_path,a", os.path.join("experiments", "r00000.json") + ",1"]
    assert (
        done.err
        == f"devkit: warning: skipped {os.path.join('experiments', 'broken.json')}: line 2: Expecting value\n"
    )


def test_config_export_redacts_secrets(cli, tmp_path):
    config = {"models": [{"name": "m", "url": "http://127.0.0.1:9/x?key=sk-live-123", "api_key": "env:K"}]}
    (tmp_path / "devkit.json").write_text(json.dumps(config))
    done = cli("export-data", "config", env={"K": "sk-live-123"}, cwd=tmp_path)
    assert done.code == 0, done
    assert "sk-live-123" not in done.out
    assert json.loads(done.out)["models"][0]["api_key"] == "***"


def test_all_writes_one_timestamped_folder_with_every_kind(cli, tmp_path):
    _project(tmp_path, [{"a": {"b": 1}}])
    done = cli("--json", "export-data", "all", "-o", "dumps", cwd=tmp_path)
    assert done.code == 0, done
    result = json.loads(done.out)
    assert os.listdir(str(tmp_path / "dumps")) == [os.path.basename(result["path"])]
    assert sorted(os.listdir(result["path"])) == [
        "config.json",
        "experiments.csv",
        "metrics.csv",
        "metrics.json",
        "report.md",
    ]
    assert json.loads((tmp_path / result["path"] / "metrics.json").read_text())["totals"]["requests"] == 0
    report = (tmp_path / result["path"] / "report.md").read_text()
    assert "## Experiments\n\n1 records (0 unreadable)." in report and "No backup yet." in report


def test_json_needs_an_output_file(cli, tmp_path):
    done = cli("--json", "export-data", "report", cwd=tmp_path)
    assert done.code == 2 and done.err.startswith("devkit: error: --json: give -o FILE")

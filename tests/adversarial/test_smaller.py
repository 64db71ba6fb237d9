"""Issue 15 item 7 (this side): one bad experiment record, honest hints, URL-encoded secrets redacted."""

import json

import pytest

from tests.adversarial.conftest import run_cli, write_json

SECRET = "Ab/cd+Ef=123"


def _experiments(root):
    folder = root / "experiments"
    folder.mkdir()
    (folder / "good.json").write_text(json.dumps({"id": "good", "ts": 1_700_000_000}))
    (folder / "far.json").write_text(json.dumps({"id": "far", "ts": 1e20}))
    (folder / "nan.json").write_text('{"id": "nan", "ts": NaN}')
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    return folder


def test_one_bad_experiment_record_is_reported_and_the_rest_listed(tmp_path):
    _experiments(tmp_path)
    code, out, err = run_cli(tmp_path, "--json", "config", "experiments")
    assert code == 0, err
    by_id = {e["id"]: e for e in json.loads(out)["experiments"]}
    assert sorted(by_id) == ["deep", "far", "good", "nan"]
    assert by_id["good"]["error"] is None and by_id["good"]["date"] == "2023-11-14T22:13:20Z"
    assert by_id["far"]["error"] == "bad ts: 1e+20 is not a timestamp"
    assert by_id["nan"]["error"] == "bad ts: nan is not a timestamp"
    assert by_id["deep"]["error"] == "invalid JSON: nested too deeply"
    code, out, err = run_cli(tmp_path, "config", "experiments")
    assert code == 0 and "bad ts: 1e+20 is not a timestamp" in out


def test_the_hint_says_the_default_folder_is_missing(tmp_path):
    code, out, _err = run_cli(tmp_path, "config", "experiments")
    assert code == 0
    assert (
        out
        == "no experiment records found: experiments.path is not set and the default folder experiments/ does not exist\n"
    )


def test_the_hint_says_the_configured_path_is_missing(tmp_path):
    write_json(tmp_path / "devkit.json", {"experiments": {"path": "runs"}})
    code, out, _err = run_cli(tmp_path, "config", "experiments")
    assert (
        out
        == f"no experiment records found: experiments.path is set to 'runs', but {tmp_path / 'runs'} does not exist\n"
    )
    (tmp_path / "runs").mkdir()
    code, out, _err = run_cli(tmp_path, "config", "experiments")
    assert out == "no experiment records found: no JSON records match experiments.path 'runs'\n"


@pytest.mark.parametrize("encoded", ["Ab%2Fcd%2BEf%3D123", "Ab%2fcd%2bEf%3d123", "Ab/cd%2BEf=123", SECRET])
@pytest.mark.parametrize(
    "argv",
    [["config", "show"], ["config", "models"], ["--json", "config", "show"], ["--json", "config", "models"]],
)
def test_a_url_encoded_secret_is_redacted(tmp_path, encoded, argv):
    url = f"http://127.0.0.1:9/v1?api_key={encoded}"
    model = {"name": "m", "provider": "openai", "url": url, "api_key": "env:ADV_KEY"}
    write_json(tmp_path / "devkit.json", {"models": [model]})
    code, out, err = run_cli(tmp_path, *argv, env={"ADV_KEY": SECRET})
    assert code == 0, err
    assert encoded not in out and "Ab/cd" not in out and "Ab%2" not in out, out
    assert "api_key=***" in out

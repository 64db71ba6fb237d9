"""list_backups and verify_backup: the interface validate and export-data report rely on."""

import os
import shutil

import pytest

from devkit.maintenance.backup import list_backups, record_verification, verify_backup
from tests.integration._backup_helpers import backup, make_tree, read_members, write_members


@pytest.fixture
def made(tmp_path):
    make_tree(str(tmp_path))
    result = backup(str(tmp_path), str(tmp_path / "backups"))
    return tmp_path, result


def test_list_is_newest_first_with_counts_and_verify_state(made):
    tmp_path, first = made
    second = backup(str(tmp_path), str(tmp_path / "backups"), now=1_800_000_100.0, label="before_run")
    rows = list_backups(str(tmp_path / "backups"))
    assert [r["name"] for r in rows] == [second["name"], first["name"]]
    assert second["name"] == "proj-20270115T080140.000Z-before_run.tar.gz"
    assert rows[0]["created_ts"] == 1_800_000_100.0
    assert rows[0]["files"] == 12 and rows[0]["verified"] is None
    assert rows[0]["size_bytes"] == os.path.getsize(second["path"])
    record_verification(verify_backup(second["path"]), 1_800_000_200.0)
    assert [r["verified"] for r in list_backups(str(tmp_path / "backups"))] == [True, None]


def test_a_verify_result_is_forgotten_when_the_file_changes(made):
    tmp_path, result = made
    record_verification(verify_backup(result["path"]), 1.0)
    with open(result["path"], "ab") as handle:
        handle.write(b"\0")
    assert list_backups(str(tmp_path / "backups"))[0]["verified"] is None


def test_verify_passes_a_complete_backup(made):
    _tmp, result = made
    report = verify_backup(result["path"])
    assert report["ok"] is True and report["problems"] == [] and report["files"] == 12


@pytest.mark.parametrize("cut", range(1, 9))
def test_verify_fails_on_an_archive_cut_short(made, cut):
    _tmp, result = made
    with open(result["path"], "r+b") as handle:
        handle.truncate(os.path.getsize(result["path"]) - cut)
    report = verify_backup(result["path"])
    assert report["ok"] is False
    assert report["problems"] == [f"{result['name']}: the gzip stream ends early (truncated archive)"]


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_verify_fails_on_one_flipped_byte(made, where):
    _tmp, result = made
    size = os.path.getsize(result["path"])
    offset = 10 + int((size - 18) * where)
    with open(result["path"], "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x01]))
    report = verify_backup(result["path"])
    assert report["ok"] is False and len(report["problems"]) >= 1


def _member_ends(path):
    from devkit.maintenance import gzblocks

    with open(path, "rb") as handle:
        raw = handle.read()
    ends, pos = [], 0
    while pos < len(raw):
        pos += gzblocks.HEADER_SIZE + gzblocks.indexed_length(raw[pos : pos + gzblocks.HEADER_SIZE]) + 8
        ends.append(pos)
    return ends


def test_verify_fails_on_a_backup_cut_at_any_gzip_member_boundary(tmp_path):
    # Cut exactly between two gzip members the file is still valid gzip: the tar stream must catch it.
    data = make_tree(str(tmp_path))
    with open(os.path.join(data, "blob.bin"), "wb") as handle:
        handle.write(os.urandom(3 << 20))
    result = backup(str(tmp_path), str(tmp_path / "backups"))
    with open(result["path"], "rb") as handle:
        raw = handle.read()
    ends = _member_ends(result["path"])
    assert len(ends) >= 3 and ends[-1] == len(raw)
    for end in ends[:-1]:
        with open(result["path"], "wb") as handle:
            handle.write(raw[:end])
        report = verify_backup(result["path"])
        assert report["problems"] == [f"{result['name']}: the tar stream ends early (truncated archive)"]


def test_verify_names_a_deleted_member_and_a_changed_one(made, tmp_path):
    _tmp, result = made
    members = read_members(result["path"])
    kept = [(i, d) for i, d in members if i.name != "data/runs/r003.json"]
    for i, (info, data) in enumerate(kept):
        if info.name == "data/runs/r005.json":
            kept[i] = (info, b"X" + data[1:])
    write_members(result["path"], kept)
    report = verify_backup(result["path"])
    assert report["ok"] is False
    assert sorted(report["problems"]) == [
        "data/runs/r003.json: missing from the archive",
        "data/runs/r005.json: content differs from the manifest (sha256 mismatch)",
    ]


def test_verify_reports_a_missing_file_and_a_foreign_archive(tmp_path):
    report = verify_backup(str(tmp_path / "nope.tar.gz"))
    assert report["ok"] is False and "cannot read" in report["problems"][0]
    src = tmp_path / "t"
    src.mkdir()
    (src / "a.txt").write_text("a")
    shutil.make_archive(str(tmp_path / "plain"), "gztar", str(src))
    report = verify_backup(str(tmp_path / "plain.tar.gz"))
    assert report["problems"] == ["MANIFEST.json: missing from the archive"]


def test_list_of_a_missing_folder_is_empty(tmp_path):
    assert list_backups(str(tmp_path / "none")) == []


def test_an_unreadable_file_is_named_and_skipped(tmp_path, monkeypatch):
    data = make_tree(str(tmp_path))
    secret = os.path.join(data, "runs", "r003.json")
    real_open = os.open

    def open_denied(path, *args, **kwargs):
        if path == secret:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_denied)
    result = backup(str(tmp_path), str(tmp_path / "backups"))
    monkeypatch.undo()
    assert result["warnings"] == [f"{secret}: cannot read (Permission denied); skipped"]
    report = verify_backup(result["path"])
    assert report["ok"] is True and report["files"] == 11


def test_verify_stops_at_a_bomb_of_zeros_after_the_archive(made):
    import zlib

    _tmp, result = made
    members = read_members(result["path"])
    write_members(result["path"], members)
    with open(result["path"], "ab") as handle:
        bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
        handle.write(b"".join(bomb.compress(bytes(1 << 20)) for _ in range(8)) + bomb.flush())
    report = verify_backup(result["path"])
    assert report["problems"] == [
        f"{result['name']}: more than 1048576 bytes follow the end of the tar archive"
    ]

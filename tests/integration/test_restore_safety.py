"""Crafted archives: each unsafe member is refused with one clear line and nothing is written.

Every crafted archive carries a MANIFEST.json that lists its members truthfully, so the
refusal comes from the safety checks themselves, not from a missing or mismatched manifest.
"""

import os
import tarfile

import pytest

from devkit.maintenance.restore import restore_backup
from devkit.maintenance.safety import ArchiveRefused
from tests.integration._backup_helpers import manifest_member, member, write_members

OK = member("data/ok.json", b"{}")
CRAFTED = {
    "absolute": ([member("/tmp/evil.txt", b"x")], "/tmp/evil.txt: refused: absolute path"),
    "dotdot": ([member("data/../../evil.txt", b"x")], "data/../../evil.txt: refused: '..' path component"),
    "dot": ([member("./data/x.txt", b"x")], "./data/x.txt: refused: '.' path component"),
    "empty_component": ([member("data//x.txt", b"x")], "data//x.txt: refused: empty path component"),
    "symlink_absolute": (
        [member("data/link", kind=tarfile.SYMTYPE, linkname="/etc")],
        "data/link: refused: symlink to '/etc' points outside the target",
    ),
    "symlink_up": (
        [member("data/link", kind=tarfile.SYMTYPE, linkname="../../outside")],
        "data/link: refused: symlink to '../../outside' points outside the target",
    ),
    "through_symlink": (
        [member("data/link", kind=tarfile.SYMTYPE, linkname="."), member("data/link/x", b"x")],
        "data/link/x: refused: lies under 'data/link', which is not a folder in the archive",
    ),
    "symlink_chain": (
        [
            member("d", kind=tarfile.DIRTYPE, mode=0o755),
            member("d/l1", kind=tarfile.SYMTYPE, linkname=".."),
            member("d/l2", kind=tarfile.SYMTYPE, linkname="l1/.."),
        ],
        "d/l2: refused: symlink to 'l1/..' goes through the symlink 'd/l1'",
    ),
    "hardlink_outside": (
        [member("data/hard", kind=tarfile.LNKTYPE, linkname="/etc/passwd")],
        "data/hard: refused: hardlink to '/etc/passwd', which is not a file earlier in the archive",
    ),
    "hardlink_up": (
        [member("data/hard", kind=tarfile.LNKTYPE, linkname="../outside.txt")],
        "data/hard: refused: hardlink to '../outside.txt', which is not a file earlier in the archive",
    ),
    "char_device": ([member("data/tty", kind=tarfile.CHRTYPE)], "data/tty: refused: is a character device"),
    "block_device": ([member("data/sda", kind=tarfile.BLKTYPE)], "data/sda: refused: is a block device"),
    "fifo": ([member("data/pipe", kind=tarfile.FIFOTYPE)], "data/pipe: refused: is a FIFO"),
    "setuid": (
        [member("data/run.sh", b"#!/bin/sh\n", mode=0o4755)],
        "data/run.sh: refused: setuid/setgid bit set",
    ),
    "setgid": (
        [member("data/run.sh", b"#!/bin/sh\n", mode=0o2755)],
        "data/run.sh: refused: setuid/setgid bit set",
    ),
    "not_nfc": (
        [member("data/cafe\u0301.json", b"{}")],
        "data/cafe\u0301.json: refused: name is not in Unicode NFC form (it would change when normalised)",
    ),
    "case_collision": (
        [member("data/Run.json", b"1"), member("data/run.json", b"2")],
        "data/run.json: refused: collides with 'data/Run.json' (same name ignoring case or Unicode form)",
    ),
    "control_char": (
        [member("data/\x1b[31mred", b"x")],
        "data/\\x1b[31mred: refused: backslash or control character in the name",
    ),
}


def _restore(tmp_path, members, **limits):
    path = str(tmp_path / "crafted.tar.gz")
    write_members(path, [OK] + members + [manifest_member([OK] + members)])
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "target"
    with pytest.raises(ArchiveRefused) as caught:
        restore_backup(path, str(target), str(tmp_path / "state"), **limits)
    return caught.value, outside


def _all_files(root):
    return sorted(
        os.path.relpath(os.path.join(top, n), root)
        for top, dirs, files in os.walk(root)
        for n in dirs + files
    )


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_member_is_refused_and_nothing_is_written(tmp_path, case):
    members, line = CRAFTED[case]
    before = _all_files(str(tmp_path.parent))
    error, outside = _restore(tmp_path, members)
    assert line in error.problems
    assert os.listdir(str(outside)) == []
    assert _all_files(str(tmp_path.parent)) == sorted(before + _all_files_added(tmp_path))


def _all_files_added(tmp_path):
    base = os.path.basename(str(tmp_path))
    return [
        os.path.join(base, n)
        for n in ("crafted.tar.gz", "outside", "state", os.path.join("state", "maintenance.lock"))
    ]


def test_member_count_and_size_caps_stop_a_bomb(tmp_path):
    many = [member(f"data/f{i}", b"") for i in range(5)]
    error, _ = _restore(tmp_path, many, max_members=3)
    assert error.problems == ["crafted.tar.gz: more than the 3 members allowed; not read further"]
    (tmp_path / "b").mkdir()
    error, _ = _restore(tmp_path / "b", [member("data/big", bytes(5000))], max_bytes=4096)
    assert error.problems == ["crafted.tar.gz: more than the 4096 bytes allowed; not read further"]


def test_a_member_the_manifest_does_not_list_is_refused(tmp_path):
    path = str(tmp_path / "sneaky.tar.gz")
    write_members(path, [OK, member("data/extra.sh", b"x"), manifest_member([OK])])
    with pytest.raises(ArchiveRefused) as caught:
        restore_backup(path, str(tmp_path / "t"), str(tmp_path / "state"))
    assert caught.value.problems == ["data/extra.sh: refused: not listed in the manifest"]
    assert not os.path.exists(str(tmp_path / "t"))


def test_content_that_differs_from_the_manifest_leaves_no_partial_tree(tmp_path):
    path = str(tmp_path / "bad.tar.gz")
    good, bad = member("data/a.json", b"{}"), member("data/z.json", b"[1]")
    listed = manifest_member([good, member("data/z.json", b"[2]")])
    write_members(path, [good, bad, listed])
    with pytest.raises(ArchiveRefused) as caught:
        restore_backup(path, str(tmp_path / "t"), str(tmp_path / "state"))
    assert caught.value.problems == [
        "data/z.json: refused: content differs from the manifest (sha256 mismatch)"
    ]
    assert not os.path.exists(str(tmp_path / "t"))


def test_an_archive_without_a_manifest_is_refused(tmp_path):
    path = str(tmp_path / "plain.tar.gz")
    write_members(path, [OK])
    with pytest.raises(ArchiveRefused) as caught:
        restore_backup(path, str(tmp_path / "t"), str(tmp_path / "state"))
    assert str(caught.value) == "plain.tar.gz: refused: no MANIFEST.json, not a devkit backup"


@pytest.mark.skipif(not hasattr(tarfile, "data_filter"), reason="this Python has no tarfile data filter")
def test_tarfiles_data_filter_is_a_second_opinion():
    from devkit.maintenance.safety import filter_problem

    info, _ = member("data/link", kind=tarfile.SYMTYPE, linkname="/etc/passwd")
    assert filter_problem(info).startswith("tarfile's data filter refuses it (")
    assert filter_problem(member("data/ok.json", b"{}")[0]) is None


HOSTILE_NAMES = [
    "/etc/passwd",
    "//x",
    "../x",
    "a/../../x",
    "a/./../../x",
    "./../x",
    "a/b/../../../x",
    "a\\..\\x",
    "..",
    "a/..",
    "x/\x00/y",
    "c:/x",
    "a//../x",
    "/",
    ".",
    "",
    "a/\n../x",
    "a/" + "../" * 50 + "x",
]


@pytest.mark.skipif(not hasattr(tarfile, "data_filter"), reason="this Python has no tarfile data filter")
@pytest.mark.parametrize("kind", [tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE])
def test_our_checks_refuse_every_plain_member_the_data_filter_refuses(kind):
    """Plain files and folders skip the data filter: our own checks must refuse all it refuses."""
    from devkit.maintenance.safety import _FILTER_DEST, MemberChecker

    refused_by_filter = 0
    for name in HOSTILE_NAMES + ["data/ok.json", "data/a..b", "data/.hidden"]:
        info = tarfile.TarInfo(name)
        info.type, info.mode = kind, 0o644
        try:
            tarfile.data_filter(info, _FILTER_DEST)
        except (tarfile.FilterError, ValueError):
            refused_by_filter += 1
            assert MemberChecker({}, 10, 10).check(info, by_manifest=False) is not None, name
    assert refused_by_filter >= 5

"""treewalk never enters another filesystem (checked read-only against the real /dev and /dev/shm mounts)."""

import os

import pytest

from devkit.maintenance import treewalk

_MOUNTED = os.path.isdir("/dev/shm") and os.stat("/dev/shm").st_dev != os.stat("/dev").st_dev
needs_mount = pytest.mark.skipif(not _MOUNTED, reason="needs /dev/shm mounted apart from /dev")


@needs_mount
def test_a_tree_holding_a_mount_point_is_blocked_not_walked():
    info = treewalk.summarize("/dev", "mtime", float("inf"))
    assert info["blocked"] is not None and info["blocked"].endswith("is on another filesystem")


@needs_mount
def test_a_mount_point_itself_is_blocked():
    info = treewalk.summarize("/dev/shm", "mtime", float("inf"))
    assert info["blocked"] == "/dev/shm is on another filesystem"


@needs_mount
def test_file_listing_stays_on_one_filesystem():
    marker = os.path.join("/dev/shm", f"devkit-treewalk-{os.getpid()}.json")
    with open(marker, "w") as handle:
        handle.write("{}")
    try:
        found = list(treewalk.iter_files("/dev", lambda name: name.endswith(".json"), 1000))
        assert marker not in found
        assert marker in list(treewalk.iter_files("/dev/shm", lambda name: name.endswith(".json"), 1000))
    finally:
        os.unlink(marker)


def test_usage_counts_links_as_themselves(tmp_path):
    (tmp_path / "a").write_bytes(b"12345")
    os.symlink("/etc", str(tmp_path / "link"))
    size, files = treewalk.usage(str(tmp_path))
    assert files == 2 and size == 5 + len("/etc")

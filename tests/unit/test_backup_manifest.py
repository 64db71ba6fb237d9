"""MANIFEST.json format 2: entries stored as columns, read back as one dict per entry; format 1 still reads."""

import json

import pytest

from devkit.maintenance.manifest import build_manifest, parse_manifest

ENTRIES = [
    {"path": "data", "type": "dir", "mode": 0o755, "mtime_ns": 1_700_000_000_000_000_001},
    {
        "path": "data/a.json",
        "type": "file",
        "mode": 0o644,
        "mtime_ns": 1_700_000_000_123_456_789,
        "size": 2,
        "sha256": "ab" * 32,
    },
    {
        "path": "data/db.sqlite",
        "type": "file",
        "mode": 0o600,
        "mtime_ns": 5,
        "size": 4096,
        "sha256": "cd" * 32,
        "sqlite_copy": True,
    },
    {"path": "data/latest", "type": "symlink", "mode": 0o777, "mtime_ns": 6, "target": "a.json"},
]


def test_entries_are_written_as_columns_and_read_back_as_entries():
    body = json.dumps(build_manifest(1.5, ["/src"], ENTRIES), separators=(",", ":")).encode()
    stored = json.loads(body)
    assert stored["format"] == 2
    assert list(stored["entries"]) == "path type mode mtime_ns size sha256 target sqlite_copy".split()
    assert stored["entries"]["size"] == [None, 2, 4096, None]
    assert body.count(b'"sha256"') == 1
    assert stored["totals"] == {"files": 2, "bytes": 4098, "entries": 4}
    manifest, by_path = parse_manifest(body)
    assert list(by_path.values()) == ENTRIES


def test_format_1_manifests_still_read():
    body = json.dumps({"format": 1, "entries": ENTRIES}).encode()
    assert list(parse_manifest(body)[1].values()) == ENTRIES


@pytest.mark.parametrize(
    "entries, reason",
    [
        (
            {"path": ["a", "b"], "type": ["file"]},
            "MANIFEST.json has entry columns that are not lists of one length",
        ),
        ({"path": ["a", "a"]}, "MANIFEST.json lists 'a' twice"),
        ({"path": ["a", 7]}, "MANIFEST.json holds an entry without a path"),
        ({"type": ["file"]}, "MANIFEST.json holds an entry without a path"),
        ({"path": "a"}, "MANIFEST.json has entry columns that are not lists of one length"),
    ],
)
def test_broken_columns_are_refused_with_one_line(entries, reason):
    with pytest.raises(ValueError) as caught:
        parse_manifest(json.dumps({"format": 2, "entries": entries}).encode())
    assert str(caught.value) == reason

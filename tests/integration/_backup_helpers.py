"""Shared pieces of the backup tests: a small project tree and archive surgery."""

import gzip
import io
import json
import os
import tarfile

from devkit.maintenance.backup import create_backup


def make_tree(root, files=12):
    """A small project: JSON files in nested folders, an empty folder, a symlink, odd modes and mtimes."""
    data = os.path.join(root, "data")
    os.makedirs(os.path.join(data, "runs", "deep"))
    os.makedirs(os.path.join(data, "empty"))
    for i in range(files):
        folder = os.path.join(data, "runs" if i % 2 else "runs/deep")
        path = os.path.join(folder, f"r{i:03d}.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"run": i, "loss": 1.0 / (i + 1), "notes": "x" * (i * 37)}, handle)
        os.utime(path, ns=(1_700_000_000_123_456_789 + i, 1_700_000_000_123_456_789 + i * 1_000_001))
    os.chmod(os.path.join(data, "runs", "r001.json"), 0o600)
    os.symlink("runs/r001.json", os.path.join(data, "latest.json"))
    return data


def backup(root, dest, now=1_800_000_000.0, **kwargs):
    """Back up ``root/data`` into ``dest``; return the summary."""
    return create_backup(
        [os.path.join(root, "data")], dest, root, "proj", now, os.path.join(root, ".devkit"), **kwargs
    )


def read_members(path):
    """[(TarInfo, bytes or None)] of a .tar.gz."""
    with tarfile.open(path, "r:gz") as tar:
        return [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]


def write_members(path, members):
    """Write [(TarInfo, bytes or None)] as a .tar.gz (no checks: for crafting bad archives)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    with open(path, "wb") as handle:
        handle.write(gzip.compress(raw.getvalue()))


def member(name, data=None, kind=tarfile.REGTYPE, mode=0o644, linkname=""):
    """A TarInfo (with its data) for a crafted archive."""
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname, info.mtime = kind, mode, linkname, 1_700_000_000
    if data is not None:
        info.size = len(data)
    return info, data


def manifest_member(members):
    """A MANIFEST.json member that lists ``members`` exactly (so only the safety checks can refuse them)."""
    import hashlib

    kinds = {
        tarfile.REGTYPE: "file",
        tarfile.DIRTYPE: "dir",
        tarfile.SYMTYPE: "symlink",
        tarfile.LNKTYPE: "hardlink",
    }
    entries = []
    for info, data in members:
        entry = {
            "path": info.name,
            "type": kinds.get(info.type, "other"),
            "mode": info.mode,
            "mtime": info.mtime,
            "mtime_ns": int(info.mtime) * 10**9,
            "size": info.size,
        }
        if data is not None:
            entry["sha256"] = hashlib.sha256(data).hexdigest()
        if info.linkname:
            entry["target"] = info.linkname
        entries.append(entry)
    body = json.dumps(
        {
            "format": 1,
            "entries": entries,
            "sources": [],
            "created": 0,
            "totals": {"files": len(entries), "bytes": 0, "entries": len(entries)},
        }
    ).encode()
    return member("MANIFEST.json", body)

"""Verify a backup: the whole gzip stream to its trailer, and every member against MANIFEST.json."""

import hashlib
import os
import tarfile

from devkit.maintenance.archive import CHUNK, MANIFEST_NAME, GzipReader, open_members
from devkit.maintenance.manifest import MAX_MANIFEST_BYTES, parse_manifest

_TYPES = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir",
          tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink"}  # fmt: skip


def member_type(info):
    """``file``, ``dir``, ``symlink``, ``hardlink``, or the raw tar type for anything else."""
    return _TYPES.get(info.type, f"type {info.type!r}")


def scan_archive(path, hash_data=True):
    """Read ``path`` once to its end: (members, {name: facts}, manifest bytes or None, problems)."""
    members, seen, manifest_bytes, problems = [], {}, None, []
    try:
        with GzipReader(path) as reader:
            with open_members(reader) as tar:
                for info in tar:
                    members.append(info)
                    if info.name == MANIFEST_NAME and info.isfile():
                        manifest_bytes = _read_manifest(tar, info)
                    elif info.name in seen:
                        problems.append(f"{info.name}: appears twice in the archive")
                    else:
                        seen[info.name] = _facts(tar, info, hash_data)
            reader.finish()
    except OSError as exc:
        problems.append(f"{path}: cannot read: {exc.strerror or exc}")
    except (ValueError, EOFError, tarfile.TarError) as exc:
        problems.append(f"{os.path.basename(path)}: {exc}")
    return members, seen, manifest_bytes, problems


def _read_manifest(tar, info):
    if info.size > MAX_MANIFEST_BYTES:
        raise ValueError(f"{MANIFEST_NAME} is {info.size} bytes, more than a manifest may be")
    return tar.extractfile(info).read()


def _facts(tar, info, hash_data):
    facts = {"type": member_type(info), "size": info.size, "mode": info.mode}
    if info.isfile() and hash_data:
        digest, handle = hashlib.sha256(), tar.extractfile(info)
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
        facts["sha256"] = digest.hexdigest()
    return facts


def compare(seen, by_path):
    """One line per member that is missing, extra, or differs from its manifest entry."""
    problems = []
    for path, entry in by_path.items():
        facts = seen.get(path)
        if facts is None:
            problems.append(f"{path}: missing from the archive")
        elif facts["type"] != entry.get("type"):
            problems.append(
                f"{path}: is a {facts['type']} in the archive, the manifest says {entry.get('type')}"
            )
        elif facts["type"] == "file" and facts["size"] != entry.get("size"):
            problems.append(
                f"{path}: {facts['size']} bytes in the archive, the manifest says {entry.get('size')}"
            )
        elif "sha256" in facts and facts["sha256"] != entry.get("sha256"):
            problems.append(f"{path}: content differs from the manifest (sha256 mismatch)")
    problems += [f"{path}: in the archive but not in the manifest" for path in seen if path not in by_path]
    return problems


def verify_backup(path):
    """Check the backup at ``path`` completely; ``{ok, problems, files, name, path}``."""
    _members, seen, manifest_bytes, problems = scan_archive(path, hash_data=True)
    files = 0
    if not problems:
        if manifest_bytes is None:
            problems.append(f"{MANIFEST_NAME}: missing from the archive")
        else:
            try:
                manifest, by_path = parse_manifest(manifest_bytes)
            except ValueError as exc:
                problems.append(str(exc))
            else:
                problems += compare(seen, by_path)
                files = sum(1 for e in by_path.values() if e.get("type") == "file")
    name = os.path.basename(path)
    return {
        "name": name,
        "path": os.path.abspath(path),
        "ok": not problems,
        "problems": problems,
        "files": files,
    }

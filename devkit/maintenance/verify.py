"""Verify a backup: the whole gzip stream to its trailer, and every member against MANIFEST.json."""

import hashlib
import os
import tarfile

from devkit.config.schema import SECTIONS
from devkit.maintenance.archive import CHUNK, MANIFEST_NAME, GzipReader
from devkit.maintenance.manifest import MAX_MANIFEST_BYTES, parse_manifest
from devkit.maintenance.tarstream import TarStream

_TYPES = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
}


def member_type(info):
    """``file``, ``dir``, ``symlink``, ``hardlink``, or the raw tar type for anything else."""
    return _TYPES.get(info.type, f"type {info.type!r}")


def scan_archive(path, hash_data=True, max_members=None, max_bytes=None):
    """Read ``path`` once to its end: (members, {name: facts}, manifest bytes or None, problems).

    Stops early, with a problem, past ``max_members`` members or ``max_bytes`` of file data
    (default: the schema's ``backup.max_members`` and ``backup.max_bytes``): a gzip bomb is not read.
    """
    members, seen, manifest_bytes, problems = [], {}, None, []
    caps = _caps(max_members, max_bytes)
    try:
        with GzipReader(path, threaded=True) as reader:
            stream = TarStream(reader, CHUNK)
            for info in stream:
                members.append(info)
                counted = len(members) - (manifest_bytes is not None or info.name == MANIFEST_NAME)
                caps[2] += info.size if info.isfile() and info.name != MANIFEST_NAME else 0
                if counted > caps[0] or caps[2] > caps[1]:
                    problems.append(_cap_problem(path, counted, caps))
                    return members, seen, manifest_bytes, problems
                if info.name == MANIFEST_NAME and info.isfile():
                    manifest_bytes = _read_manifest(stream, info)
                elif info.name in seen:
                    problems.append(f"{info.name}: appears twice in the archive")
                else:
                    seen[info.name] = _facts(stream, info, hash_data)
            reader.finish()
    except OSError as exc:
        problems.append(f"{path}: cannot read: {exc.strerror or exc}")
    except ValueError as exc:
        problems.append(f"{os.path.basename(path)}: {exc}")
    return members, seen, manifest_bytes, problems


def _caps(max_members, max_bytes):
    fields = SECTIONS["backup"]
    return [
        fields["max_members"].default if max_members is None else max_members,
        fields["max_bytes"].default if max_bytes is None else max_bytes,
        0,
    ]


def _cap_problem(path, count, caps):
    if count > caps[0]:
        return f"{os.path.basename(path)}: more than the {caps[0]} members allowed; not read further"
    return f"{os.path.basename(path)}: more than the {caps[1]} bytes allowed; not read further"


def _read_manifest(stream, info):
    if info.size > MAX_MANIFEST_BYTES:
        raise ValueError(f"{MANIFEST_NAME} is {info.size} bytes, more than a manifest may be")
    return b"".join(stream.chunks(info))


def _facts(stream, info, hash_data):
    facts = {"type": member_type(info), "size": info.size, "mode": info.mode}
    if info.isfile() and hash_data:
        digest = hashlib.sha256()
        for chunk in stream.pieces(info):
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

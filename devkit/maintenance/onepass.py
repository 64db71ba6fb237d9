"""Restore into a new or empty target reading the archive once: check each member, then stage it.

Every header passes the manifest-free checks of ``safety`` before its member is written into
the staging folder; the manifest comes last in the archive, so the comparison with it (type,
size, mode, link target, nothing missing, no symlink chains) and every sha256 are checked at
the end, still before the move. Nothing is visible in the target until then, and a refused
archive removes the staging folder. Any refusal raises ``NeedsFullCheck``: the caller then
runs the two-pass restore, whose checking pass names every problem exactly.
"""

import os

from devkit.maintenance.archive import CHUNK, MANIFEST_NAME, GzipReader
from devkit.maintenance.extract import into_place, mtime_ns, refuse, set_link_mtime, write_member
from devkit.maintenance.manifest import MAX_MANIFEST_BYTES, parse_manifest
from devkit.maintenance.safety import MemberChecker, manifest_mismatch
from devkit.maintenance.tarstream import TarStream


class NeedsFullCheck(Exception):
    """The one-pass restore met something to refuse; nothing was left in the target."""


def restore_in_one_pass(path, target, max_members, max_bytes):
    """Restore every member of ``path`` into ``target`` (new or empty); return (written, names, by_path)."""
    return into_place(target, lambda staging: _stage(path, staging, max_members, max_bytes))


def _stage(path, staging, max_members, max_bytes):
    checker, members, digests, manifest_bytes = MemberChecker({}, max_members, max_bytes), [], {}, None
    try:
        with GzipReader(path, threaded=True) as reader:
            stream = TarStream(reader, CHUNK)
            made = set()
            for info in stream:
                if info.name == MANIFEST_NAME and info.isfile() and manifest_bytes is None:
                    manifest_bytes = _manifest_bytes(stream, info)
                    continue
                if manifest_bytes is not None or checker.check(info, by_manifest=False):
                    raise NeedsFullCheck()
                members.append(info)
                digests[info.name] = write_member(stream, info, staging, None, made)
            reader.finish()
            by_path = parse_manifest(manifest_bytes)[1] if manifest_bytes is not None else None
    except ValueError:
        raise NeedsFullCheck() from None
    if by_path is None or not _matches(checker, members, by_path):
        raise NeedsFullCheck()
    _check_digests(members, digests, by_path)
    _set_mtimes(staging, members, by_path)
    return sum(1 for d in digests.values() if d is not None), [m.name for m in members], by_path


def _manifest_bytes(stream, info):
    if info.size > MAX_MANIFEST_BYTES:
        raise NeedsFullCheck()
    return b"".join(stream.chunks(info))


def _matches(checker, members, by_path):
    checker.by_path = by_path
    if any(manifest_mismatch(info, by_path) for info in members) or checker.missing():
        return False
    return not checker.chained_links(members)


def _check_digests(members, digests, by_path):
    for info in members:
        digest = digests[info.name]
        if digest is not None and digest != by_path[info.name].get("sha256"):
            raise refuse(info.name, "content differs from the manifest (sha256 mismatch)")


def _set_mtimes(staging, members, by_path):
    for info in members:
        dst = os.path.join(staging, *info.name.split("/"))
        if info.isfile():
            value = mtime_ns(by_path[info.name], info)
            os.utime(dst, ns=(value, value))
        elif info.issym():
            set_link_mtime(dst, mtime_ns(by_path[info.name], info))

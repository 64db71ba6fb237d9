"""Extract a checked backup into a staging folder inside the target, then move it into place.

Every header is checked again as it streams past (and by tarfile's ``data`` filter where
present) and every file's sha256 is compared with the manifest before the move; any
failure removes the staging folder, so the target never holds a partial restore.
"""

import hashlib
import os
import shutil
import tarfile
import tempfile

from devkit.errors import OperationError
from devkit.maintenance.archive import CHUNK, MANIFEST_NAME, GzipReader, open_members
from devkit.maintenance.safety import ArchiveRefused, MemberChecker, filter_problem, shown

STAGING_PREFIX = ".devkit-restore-"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def extract_into_place(path, target, wanted, by_path, max_members, max_bytes):
    """Restore the members named in ``wanted`` from ``path`` into ``target``; return files written."""
    made_target = not os.path.exists(target)
    os.makedirs(target, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=target)
    try:
        written = _extract(path, staging, wanted, MemberChecker(by_path, max_members, max_bytes))
        _move_into(staging, target)
        _apply_dir_attributes(target, wanted, by_path)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if made_target:
            shutil.rmtree(target, ignore_errors=True)
        if isinstance(exc, OSError):
            raise OperationError(f"cannot restore into {target}: {exc.strerror or exc}") from None
        raise
    os.rmdir(staging)
    return written


def _refuse(name, problem):
    line = f"{shown(name)}: refused: {problem}"
    return ArchiveRefused(line, [line])


def _extract(path, staging, wanted, checker):
    written = 0
    try:
        with GzipReader(path) as reader:
            with open_members(reader) as tar:
                for info in tar:
                    if info.name == MANIFEST_NAME and info.isfile():
                        continue
                    problem = checker.check(info) or filter_problem(info, staging)
                    if problem:
                        raise _refuse(info.name, problem)
                    if info.name in wanted:
                        written += _write_member(tar, info, staging, checker.by_path[info.name])
            reader.finish()
    except (ValueError, EOFError, tarfile.TarError) as exc:
        raise _refuse(os.path.basename(path), f"cannot be read to its end ({exc})") from None
    missing = [name for name in checker.missing() if name in wanted]
    if missing:
        raise _refuse(missing[0], "listed in the manifest but missing")
    return written


def _write_member(tar, info, staging, entry):
    dst = os.path.join(staging, *info.name.split("/"))
    _make_parents(staging, info.name)
    if info.isdir():
        if not os.path.isdir(dst):
            os.mkdir(dst, 0o700)
        return 0
    if info.issym():
        os.symlink(info.linkname, dst)
        if os.utime in os.supports_follow_symlinks:
            os.utime(dst, ns=(_mtime_ns(entry, info),) * 2, follow_symlinks=False)
        return 0
    if info.islnk():
        os.link(os.path.join(staging, *info.linkname.split("/")), dst)
        return 0
    _write_file(tar, info, dst, entry)
    return 1


def _write_file(tar, info, dst, entry):
    digest, source = hashlib.sha256(), tar.extractfile(info)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb", buffering=0) as out:
        for chunk in iter(lambda: source.read(CHUNK), b""):
            digest.update(chunk)
            out.write(chunk)
        os.fchmod(fd, entry.get("mode", info.mode) & 0o1777)
        os.utime(fd, ns=(_mtime_ns(entry, info),) * 2)
    if digest.hexdigest() != entry.get("sha256"):
        raise _refuse(info.name, "content differs from the manifest (sha256 mismatch)")


def _mtime_ns(entry, info):
    value = entry.get("mtime_ns")
    return value if isinstance(value, int) else int(info.mtime) * 1_000_000_000


def _make_parents(staging, name):
    parts = name.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        folder = os.path.join(staging, *parts[:depth])
        if not os.path.isdir(folder):
            os.mkdir(folder, 0o700)


def _move_into(source, target):
    """Move everything under ``source`` into ``target``, merging folders that exist in both."""
    for name in os.listdir(source):
        src, dst = os.path.join(source, name), os.path.join(target, name)
        if _is_real_dir(src) and _is_real_dir(dst):
            _move_into(src, dst)
            os.rmdir(src)
        else:
            os.replace(src, dst)


def _is_real_dir(path):
    return os.path.isdir(path) and not os.path.islink(path)


def _apply_dir_attributes(target, wanted, by_path):
    folders = [name for name in wanted if by_path[name].get("type") == "dir"]
    for name in sorted(folders, key=lambda n: n.count("/"), reverse=True):
        entry, path = by_path[name], os.path.join(target, *name.split("/"))
        os.chmod(path, entry.get("mode", 0o755) & 0o1777)
        if isinstance(entry.get("mtime_ns"), int):
            os.utime(path, ns=(entry["mtime_ns"],) * 2)

"""Extract a checked backup into a staging folder inside the target, then move it into place.

Each header must be the very one the checking pass accepted, and every file's sha256 is
compared with the manifest as it is written, all before the move; any failure removes
the staging folder, so the target never holds a partial restore.
"""

import hashlib
import os
import shutil
import tempfile

from devkit.errors import OperationError
from devkit.maintenance.archive import CHUNK, MANIFEST_NAME, GzipReader
from devkit.maintenance.safety import ArchiveRefused, shown
from devkit.maintenance.tarstream import TarStream

STAGING_PREFIX = ".devkit-restore-"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def member_key(info):
    """What must be the same in the extracting pass as in the checking pass."""
    return (info.name, info.type, info.size, info.mode, info.linkname)


def extract_into_place(path, target, wanted, by_path, checked):
    """Restore the members named in ``wanted`` from ``path`` into ``target``; return files written.

    ``checked`` holds ``member_key`` of every member the checking pass accepted, in order.
    """
    return into_place(
        target, lambda staging: (_extract(path, staging, wanted, by_path, checked), wanted, by_path)
    )[0]


def into_place(target, fill):
    """Run ``fill(staging)`` -> (written, names, by_path) in a fresh folder inside ``target``, then move
    the tree into place and set folder attributes; any failure removes the folder (and a new target)."""
    made_target = not os.path.exists(target)
    try:
        os.makedirs(target, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=target)
    except OSError as exc:
        raise OperationError(f"cannot restore into {target}: {exc.strerror or exc}") from None
    try:
        result = fill(staging)
        move_into(staging, target)
        apply_dir_attributes(target, result[1], result[2])
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if made_target:
            shutil.rmtree(target, ignore_errors=True)
        if isinstance(exc, OSError):
            raise OperationError(f"cannot restore into {target}: {_failed(exc, staging)}") from None
        raise
    os.rmdir(staging)
    return result


def _failed(exc, staging):
    # The member at fault, named as in the archive, when the error knows which file it was.
    reason, where = exc.strerror or str(exc), exc.filename
    if isinstance(where, str) and where.startswith(staging + os.sep):
        return f"{shown(os.path.relpath(where, staging).replace(os.sep, '/'))}: {reason}"
    return reason


def refuse(name, problem):
    """An ``ArchiveRefused`` for one member (or the archive): ``<name>: refused: <problem>``."""
    line = f"{shown(name)}: refused: {problem}"
    return ArchiveRefused(line, [line])


def _extract(path, staging, wanted, by_path, checked):
    written, index, made = 0, 0, set()
    try:
        with GzipReader(path, threaded=True) as reader:
            stream = TarStream(reader, CHUNK)
            for info in stream:
                if info.name == MANIFEST_NAME and info.isfile():
                    continue
                if index >= len(checked) or member_key(info) != checked[index]:
                    raise refuse(info.name, "the archive changed after it was checked")
                index += 1
                if info.name in wanted:
                    written += _write_checked(stream, info, staging, by_path[info.name], made)
            reader.finish()
    except ValueError as exc:
        raise refuse(os.path.basename(path), f"cannot be read to its end ({exc})") from None
    if index != len(checked):
        raise refuse(os.path.basename(path), "the archive changed after it was checked")
    return written


def _write_checked(stream, info, staging, entry, made):
    digest = write_member(stream, info, staging, entry, made)
    if digest is None:
        return 0
    if digest != entry.get("sha256"):
        raise refuse(info.name, "content differs from the manifest (sha256 mismatch)")
    return 1


def write_member(stream, info, staging, entry, made):
    """Write one checked member under ``staging``; return a file's sha256 (hex), None for others.

    With ``entry`` None (the manifest is not read yet) the header's mode is used and mtimes are left.
    """
    dst = os.path.join(staging, *info.name.split("/"))
    make_parents(staging, info.name, made)
    if info.isdir():
        if info.name not in made:
            os.mkdir(dst, 0o700)
            made.add(info.name)
        return None
    if info.issym():
        os.symlink(info.linkname, dst)
        if entry is not None:
            set_link_mtime(dst, mtime_ns(entry, info))
        return None
    if info.islnk():
        os.link(os.path.join(staging, *info.linkname.split("/")), dst)
        return None
    return _write_file(stream, info, dst, entry)


def set_link_mtime(path, mtime_ns):
    """Set a symlink's own mtime where the platform can."""
    if os.utime in os.supports_follow_symlinks:
        os.utime(path, ns=(mtime_ns, mtime_ns), follow_symlinks=False)


def _write_file(stream, info, dst, entry):
    digest = hashlib.sha256()
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        for chunk in stream.pieces(info):
            digest.update(chunk)
            _write_all(fd, chunk)
        os.fchmod(fd, (info.mode if entry is None else entry.get("mode", info.mode)) & 0o1777)
        if entry is not None:
            os.utime(fd, ns=(mtime_ns(entry, info),) * 2)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, dst) from None  # a write error names no file by itself
    finally:
        os.close(fd)
    return digest.hexdigest()


def _write_all(fd, data):
    # write() may take less than it is given (a file size limit, a disk filling up): go on until all of
    # it is written or write() raises, so a file is never left short while its sha256 says it is whole.
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def mtime_ns(entry, info):
    """The manifest's nanosecond mtime, else the header's whole seconds."""
    value = entry.get("mtime_ns")
    return value if isinstance(value, int) else int(info.mtime) * 1_000_000_000


def make_parents(staging, name, made):
    """Create the folders above ``name`` under ``staging`` (owner-only until moved), once each."""
    parts = name.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        relative = "/".join(parts[:depth])
        if relative not in made:
            os.mkdir(os.path.join(staging, *parts[:depth]), 0o700)
            made.add(relative)


def move_into(source, target):
    """Move everything under ``source`` into ``target``, merging folders that exist in both."""
    for name in os.listdir(source):
        src, dst = os.path.join(source, name), os.path.join(target, name)
        if _is_real_dir(src) and _is_real_dir(dst):
            move_into(src, dst)
            os.rmdir(src)
        else:
            os.replace(src, dst)


def _is_real_dir(path):
    return os.path.isdir(path) and not os.path.islink(path)


def apply_dir_attributes(target, wanted, by_path):
    """Set each restored folder's mode and mtime from the manifest, deepest first."""
    folders = [name for name in wanted if by_path[name].get("type") == "dir"]
    for name in sorted(folders, key=lambda n: n.count("/"), reverse=True):
        entry, path = by_path[name], os.path.join(target, *name.split("/"))
        os.chmod(path, entry.get("mode", 0o755) & 0o1777)
        if isinstance(entry.get("mtime_ns"), int):
            os.utime(path, ns=(entry["mtime_ns"],) * 2)

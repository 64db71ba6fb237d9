"""What restore accepts from an archive: each member is checked before anything is written.

Refused, never rewritten: absolute names, empty/``.``/``..`` components, names that change
under Unicode NFC or collide after case folding, links leading outside the target, device
files and FIFOs, setuid/setgid bits, and archives over the member-count or size caps.
"""

import posixpath
import tarfile
import unicodedata

from devkit.errors import ValidationError
from devkit.maintenance.verify import member_type
from devkit.term import printable

EXIT_REFUSED = 4
MAX_NAME_BYTES = 4096
MAX_COMPONENT_BYTES = 255
_FILTER_DEST = "/nonexistent-devkit-restore-check"
_PLAIN = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE)
_SPECIAL = {
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
    tarfile.FIFOTYPE: "a FIFO",
}


class ArchiveRefused(ValidationError):
    """The archive is damaged, unsafe or does not match its manifest (exit 4); ``problems`` lists why."""

    exit_code = EXIT_REFUSED


def shown(text):
    """``text`` with control characters escaped, safe to put on a terminal (``devkit.term.printable``)."""
    return printable(text)


def name_problem(name):
    """Why ``name`` is not a safe relative member name, or None."""
    if not name:
        return "empty name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if "\\" in name or not name.isprintable():
        return "backslash or control character in the name"
    parts = name.split("/")
    bad = next((p for p in parts if p in ("", ".", "..")), None)
    if bad is not None:
        return f"{bad!r} path component" if bad else "empty path component"
    if unicodedata.normalize("NFC", name) != name:
        return "name is not in Unicode NFC form (it would change when normalised)"
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        return "name too long"
    if any(len(p.encode("utf-8", "surrogateescape")) > MAX_COMPONENT_BYTES for p in parts):
        return "path component too long"
    return None


def member_problem(info, kinds):
    """Why this member may not be restored (type, mode, links), given ``kinds`` of earlier members; or None."""
    problem = name_problem(info.name)
    if problem:
        return problem
    if info.type in _SPECIAL:
        return f"is {_SPECIAL[info.type]}"
    if member_type(info).startswith("type"):
        return f"unsupported member {member_type(info)}"
    if info.mode & 0o6000:
        return "setuid/setgid bit set"
    parents = info.name.split("/")[:-1]
    for depth in range(1, len(parents) + 1):
        if kinds.get("/".join(parents[:depth])) not in (None, "dir"):
            return f"lies under {'/'.join(parents[:depth])!r}, which is not a folder in the archive"
    if info.issym():
        return _symlink_problem(info)
    if info.islnk() and kinds.get(info.linkname) != "file":
        return f"hardlink to {shown(info.linkname)!r}, which is not a file earlier in the archive"
    return None


def _symlink_problem(info):
    link = info.linkname
    if not link or link.startswith("/") or "\0" in link:
        return f"symlink to {shown(link)!r} points outside the target"
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(info.name), link))
    if resolved == ".." or resolved.startswith("../"):
        return f"symlink to {shown(link)!r} points outside the target"
    return None


class MemberChecker:
    """Checks members in archive order, remembering what came before (types, folded names, totals)."""

    def __init__(self, by_path, max_members, max_bytes):
        self.by_path, self.max_members, self.max_bytes = by_path, max_members, max_bytes
        self.kinds, self.folded, self.count, self.total = {}, {}, 0, 0

    def check(self, info, by_manifest=True):
        """Why ``info`` is refused (one line, no name), or None; caps are counted as members pass.

        ``by_manifest=False`` leaves out the comparison with the manifest (``manifest_mismatch``).
        """
        self.count += 1
        self.total += info.size if info.isfile() else 0
        if self.count > self.max_members:
            return f"more than the {self.max_members} members allowed"
        if self.total > self.max_bytes:
            return f"more than the {self.max_bytes} bytes allowed"
        if info.name in self.kinds:
            return "appears twice in the archive"
        problem = member_problem(info, self.kinds) or _collision(info.name, self.folded)
        self.kinds[info.name] = member_type(info)
        if problem:
            return problem
        return (manifest_mismatch(info, self.by_path) if by_manifest else None) or filter_problem(info)

    def missing(self):
        """Manifest entries no member matched."""
        return [p for p in self.by_path if p not in self.kinds]

    def chained_links(self, members):
        """One line per symlink whose target passes through another symlink (resolved lexically, it
        looked inside; followed on disk, it could leave the target). Needs every member's kind."""
        problems = []
        for info in members:
            if info.issym():
                through = _first_link_on_the_way(info, self.kinds)
                if through is not None:
                    problems.append(
                        f"{shown(info.name)}: refused: symlink to {shown(info.linkname)!r} "
                        f"goes through the symlink {shown(through)!r}"
                    )
        return problems


def check_members(members, by_path, max_members, max_bytes):
    """One line per refused member or broken cap; an empty list means every member may be restored."""
    checker, problems = MemberChecker(by_path, max_members, max_bytes), []
    for info in members:
        problem = checker.check(info)
        if problem:
            problems.append(f"{shown(info.name)}: refused: {problem}")
            if checker.count > max_members or checker.total > max_bytes:
                break
    problems += [f"{shown(p)}: refused: listed in the manifest but missing" for p in checker.missing()]
    return problems + checker.chained_links(members)


def _first_link_on_the_way(info, kinds):
    parts = info.name.split("/")[:-1] + info.linkname.split("/")
    stack = []
    for part in parts[:-1]:
        if part == "..":
            if stack:
                stack.pop()
        elif part not in ("", "."):
            stack.append(part)
            if kinds.get("/".join(stack)) == "symlink":
                return "/".join(stack)
    return None


def _collision(name, folded):
    key = unicodedata.normalize("NFC", name).casefold()
    other = folded.setdefault(key, name)
    return (
        None if other == name else f"collides with {shown(other)!r} (same name ignoring case or Unicode form)"
    )


def manifest_mismatch(info, by_path):
    """How ``info`` differs from its manifest entry (type, size, mode, link target), or None."""
    entry = by_path.get(info.name)
    if entry is None:
        return "not listed in the manifest"
    kind = member_type(info)
    if entry.get("type") != kind:
        return f"is a {kind} but the manifest says {entry.get('type')}"
    if kind == "file" and (entry.get("size") != info.size or entry.get("mode") != info.mode):
        return "size or mode differs from the manifest"
    if kind in ("symlink", "hardlink") and entry.get("target") != info.linkname:
        return "link target differs from the manifest"
    return None


def filter_problem(info):
    """A second opinion from tarfile's ``data`` filter where this Python has it; the reason or None.

    It judges links and any unusual member against an empty destination (a path that does not
    exist, which keeps its realpath calls cheap). Plain files and folders are left out for speed:
    for them the filter refuses only absolute names, names leaving the destination and special
    modes, and ``name_problem`` and the setuid/setgid check refuse a superset of those.
    """
    data_filter = getattr(tarfile, "data_filter", None)
    if data_filter is None or info.type in _PLAIN:
        return None
    try:
        data_filter(info, _FILTER_DEST)
    except tarfile.FilterError as exc:
        return f"tarfile's data filter refuses it ({exc})"
    return None

"""Find and read the configuration file, then apply DEVKIT_<SECTION>_<KEY> overrides."""

import difflib
import errno
import json
import os
import stat
import sys

from devkit.config.schema import SECTIONS
from devkit.config.validate import _suggest, clip, coerce
from devkit.errors import ConfigError
from devkit.term import printable

CONFIG_NAMES = ("devkit.toml", "devkit.json", "pyproject.toml")
ENV_CONFIG = "DEVKIT_CONFIG"
MAX_CONFIG_BYTES = 1024 * 1024
"""A config file larger than this (1 MiB) is refused before it is read."""
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def find_config(cwd, env, explicit=None, given_by="--config"):
    """Return the config file to use, or None: --config, then $DEVKIT_CONFIG, then a search upward."""
    if explicit == "":
        raise ConfigError(f"{given_by}: expected a file path, got an empty string")
    chosen = explicit or env.get(ENV_CONFIG) or None
    if chosen:
        source = given_by if explicit else ENV_CONFIG
        path = os.path.join(cwd, os.path.expanduser(chosen))
        _stat_chosen(path, chosen, source)
        if not path.endswith((".json", ".toml")) and not os.path.isdir(path):
            raise ConfigError(
                f"{chosen}: unsupported config file type (use .json or .toml; given by {source})"
            )
        return path
    directory = os.path.abspath(cwd)
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate) and _is_devkit_file(candidate):
                return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _stat_chosen(path, chosen, source):
    shown = printable(chosen)
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(
                f"{shown}: too many levels of symbolic links (a loop?) (given by {source})"
            ) from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise ConfigError(f"{shown}: config file not found (given by {source})") from None
        raise ConfigError(
            f"{shown}: cannot read config file: {exc.strerror or exc} (given by {source})"
        ) from None


def _is_devkit_file(path):
    if os.path.basename(path) != "pyproject.toml":
        return True
    try:
        return "[tool.devkit" in _read_bounded(path, path).decode("utf-8", errors="replace")
    except (OSError, ConfigError):
        return False


def _read_bounded(path, label):
    """The bytes of the regular file at ``path``, refusing FIFOs, devices and files over the size limit."""
    _refuse_unreadable_kind(os.stat(path), label)
    # O_NONBLOCK: should the path become a FIFO after the stat, opening it must not wait for a writer.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        _refuse_unreadable_kind(os.fstat(fd), label)
        chunks, size = [], 0
        while size <= MAX_CONFIG_BYTES:
            chunk = os.read(fd, MAX_CONFIG_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{label}: config file too large (over the 1 MiB limit)")
    return raw


def read_document(path, label):
    """Parse ``path`` (TOML or JSON by extension) into a dict; ConfigError names file and line."""
    text = _read_text(path, label)
    if path.endswith(".json"):
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            where = f"{label}:{exc.lineno}" if hasattr(exc, "lineno") else label
            raise ConfigError(f"{where}: invalid JSON: {getattr(exc, 'msg', exc)}") from None
    data = _parse_toml(text, label)
    if os.path.basename(path) == "pyproject.toml":
        tool = data.get("tool", {})
        return tool.get("devkit", {}) if isinstance(tool, dict) else {}
    return data


def _refuse_unreadable_kind(info, label):
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{label}: is a directory, not a config file")
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{label}: not a regular file (a FIFO, device or socket cannot be a config file)")
    if info.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{label}: config file too large ({info.st_size} bytes; the limit is 1 MiB)")


def _read_text(path, label):
    try:
        raw = _read_bounded(path, label)
    except PermissionError:
        raise ConfigError(f"{label}: cannot read config file: permission denied") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read config file: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text (byte {exc.start})") from None


def _parse_toml(text, label):
    try:
        import tomllib
    except ImportError:
        version = ".".join(map(str, sys.version_info[:2]))
        raise ConfigError(
            f"{label}: TOML config needs Python 3.11+ (this is {version}); use devkit.json instead"
        ) from None
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ConfigError(f"{label}: invalid TOML: {exc}") from None


def env_overrides(env):
    """Return ``(values, sources, problems)`` from DEVKIT_<SECTION>_<KEY> variables."""
    values, sources, problems = {}, {}, []
    for name in sorted(env):
        if not name.startswith("DEVKIT_") or name == ENV_CONFIG:
            continue
        section, _, key = name[len("DEVKIT_") :].lower().partition("_")
        if section not in SECTIONS and section != "models":
            _unknown_section(name, section, problems)
        elif section == "models":
            problems.append(f"env {name}: models cannot be set from the environment; use the config file")
        elif section in SECTIONS and key not in SECTIONS[section]:
            problems.append(f"env {name}: unknown key {section}.{key}{_suggest(key, SECTIONS[section])}")
        elif section in SECTIONS:
            _apply_env(name, env[name], section, key, (values, sources, problems))
    return values, sources, problems


def _unknown_section(name, section, problems):
    # Other tools may own DEVKIT_* names; only a near miss of a real section is surely a typo.
    close = difflib.get_close_matches(section, list(SECTIONS) + ["models"], n=1, cutoff=0.75)
    if close:
        problems.append(f"env {name}: unknown section {section!r} (did you mean {close[0]!r}?)")


def _apply_env(name, text, section, key, out):
    values, sources, problems = out
    field = SECTIONS[section][key]
    raw = _from_env_text(field.kind, text)
    ok, value = coerce(field, raw)
    if ok:
        values.setdefault(section, {})[key] = value
        sources[f"{section}.{key}"] = f"env {name}"
    else:
        shown = "***" if field.kind == "secret" else '"' + printable(clip(text)) + '"'
        problems.append(f"env {name}: expected {field.expectation(raw)}, got {shown}")


def _from_env_text(kind, text):
    text = text.strip()
    if kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    if kind == "bool":
        lowered = text.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else text
    if kind in ("int", "number"):
        try:
            return float(text) if kind == "number" or "." in text else int(text)
        except ValueError:
            return text
    return text

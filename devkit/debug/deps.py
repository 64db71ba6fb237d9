"""What this Python offers devkit: version and build, the stdlib modules it needs, the tools it can use."""

import importlib
import platform
import shutil
import sys

MODULES = (
    ("sqlite3", "sqlite_version", True),
    ("zlib", "ZLIB_RUNTIME_VERSION", True),
    ("ssl", "OPENSSL_VERSION", False),
)
TOOLS = (
    ("git", ("git",)),
    ("chromium", ("chromium", "chromium-browser", "google-chrome")),
    ("tar", ("tar",)),
)


def dependencies(path=None):
    """``{"python", "modules", "tools", "status"}``: status fails when a required module is missing."""
    modules = [_module(name, attr, required) for name, attr, required in MODULES]
    tools = [_tool(name, commands, path) for name, commands in TOOLS]
    missing = [m for m in modules if not m["available"]]
    status = "fail" if any(m["required"] for m in missing) else "warn" if missing else "pass"
    return {"python": _python(), "modules": modules, "tools": tools, "status": status}


def _python():
    build, date = platform.python_build()
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "build": f"{build}, {date}",
        "compiler": platform.python_compiler(),
        "executable": sys.executable,
        "platform": platform.platform(),
    }


def _module(name, attr, required):
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        return {"name": name, "available": False, "version": None, "required": required, "error": str(exc)}
    return {
        "name": name,
        "available": True,
        "version": str(getattr(module, attr, "")),
        "required": required,
        "error": None,
    }


def _tool(name, commands, path):
    for command in commands:
        found = shutil.which(command, path=path)
        if found:
            return {"name": name, "path": found}
    return {"name": name, "path": None}

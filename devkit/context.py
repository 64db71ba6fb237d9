"""The injectable environment every command runs in (streams, TTYs, colour, clock, config)."""

import os
import sys
import time

from devkit import term


class Context:
    """Streams, whether each is a TTY, the colour decision, a clock and the config.

    Tests build one with their own streams and ``env``; nothing below the CLI
    reads ``sys.stdout`` or ``time.time()`` where a test would want control.
    """

    def __init__(
        self,
        stdout=None,
        stderr=None,
        stdin=None,
        env=None,
        cwd=None,
        clock=None,
        stdout_isatty=None,
        stderr_isatty=None,
    ):
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self.stdin = stdin if stdin is not None else sys.stdin
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd or os.getcwd()
        self.clock = clock or time.time
        self.stdout_isatty = term.isatty(self.stdout) if stdout_isatty is None else stdout_isatty
        self.stderr_isatty = term.isatty(self.stderr) if stderr_isatty is None else stderr_isatty
        self.json = False
        self.quiet = False
        self.verbose = 0
        self.no_color = False
        self.config_path = None
        self._config = None

    @property
    def color_stdout(self):
        """Whether to colour what goes to stdout."""
        return not self.no_color and term.wants_color(self.env, self.stdout_isatty)

    @property
    def color_stderr(self):
        """Whether to colour what goes to stderr."""
        return not self.no_color and term.wants_color(self.env, self.stderr_isatty)

    @property
    def width(self):
        """Width tables must fit: $COLUMNS, else the TTY's width (80 when it reports 0); unlimited into a pipe."""
        if not self.stdout_isatty and not self.env.get("COLUMNS", "").isdigit():
            return term.UNLIMITED_WIDTH
        return term.terminal_width(self.env, self.stdout if self.stdout_isatty else None)

    @property
    def config(self):
        """The effective configuration, loaded on first use (may raise ConfigError)."""
        if self._config is None:
            from devkit.config import load_config

            self._config = load_config(explicit=self.config_path, cwd=self.cwd, env=self.env)
        return self._config

    def out(self, text=""):
        """Write one line (or block) to stdout."""
        self.stdout.write(text if text.endswith("\n") else text + "\n")

    def err(self, text):
        """Write one line to stderr."""
        self.stderr.write(text if text.endswith("\n") else text + "\n")

    def info(self, text):
        """Write a progress/notice line to stderr unless ``-q`` was given."""
        if not self.quiet:
            self.err(text)

    def detail(self, text):
        """Write a ``-v`` line (paths, timings, what was skipped and why) to stderr; silent otherwise."""
        if self.verbose and not self.quiet:
            self.err(f"devkit: {text}")

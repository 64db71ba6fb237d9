"""The exceptions devkit raises; each carries a one-line message and an exit code."""

EXIT_FAILED = 1
EXIT_USAGE = 2


class DevkitError(Exception):
    """Base of every error devkit reports to a user as one line."""

    exit_code = EXIT_FAILED

    def __init__(self, message, exit_code=None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self):
        """The one-line text shown after ``devkit: error:``."""
        return str(self).splitlines()[0] if str(self) else type(self).__name__


class UsageError(DevkitError):
    """Bad command-line arguments (exit 2)."""

    exit_code = EXIT_USAGE


class UsageShapeError(UsageError):
    """A model response whose token usage devkit cannot read (an unknown shape or a bad count)."""


class ConfigError(DevkitError):
    """A configuration file or override that cannot be used (exit 2)."""

    exit_code = EXIT_USAGE


class OperationError(DevkitError):
    """An operation that could not be completed (exit 1)."""

    exit_code = EXIT_FAILED


class StoreError(OperationError):
    """The metrics store could not be opened, read or written."""


class LockBusyError(OperationError):
    """Another maintenance run holds the storage lock (exit 3, "try again later")."""

    exit_code = 3


class ValidationError(DevkitError):
    """Input that fails validation; ``problems`` holds one line per problem."""

    exit_code = EXIT_USAGE

    def __init__(self, message, problems=(), exit_code=None):
        super().__init__(message, exit_code)
        self.problems = list(problems)

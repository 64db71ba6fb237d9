"""Health checks: truthful, concurrent and on time.

``devkit.health`` is the module-level :data:`registry`; an app adds its own checks::

    @devkit.health.register("redis", critical=False, timeout_s=1)
    def redis_up():
        return redis.ping()          # True/None pass, False fail, or an Outcome / dict / status

Aggregation (the overall status of a run):

    ===============================================  =======
    results of the checks                            overall
    ===============================================  =======
    a critical check fails                           fail
    else: any check warns or a non-critical fails    warn
    else: every check passes                         pass
    ===============================================  =======

A check that raises is a ``fail`` of that check, never a crash; a check that
does not answer within its timeout (or the run's deadline) is a ``fail`` with
"timed out after X s".
"""

from devkit.health.core import CannotRun, Check, CheckResult, Outcome, aggregate
from devkit.health.suite import Registry

__all__ = [
    "registry",
    "register",
    "unregister",
    "run",
    "checks",
    "Registry",
    "Check",
    "CheckResult",
    "Outcome",
    "CannotRun",
    "aggregate",
]

registry = Registry()
"""The process-wide registry that ``devkit.health`` names."""

# ``import devkit.health`` makes ``devkit.health`` this module rather than the registry, so the
# registry's verbs are also module-level: both spellings reach the same checks.
register = registry.register
unregister = registry.unregister
run = registry.run
checks = registry.checks

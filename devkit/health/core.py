"""The check interface: what a check returns, one check's result, and how results aggregate."""

import time

from devkit.errors import DevkitError

STATUSES = ("pass", "warn", "fail")


EXIT_CANNOT_RUN = 3


class CannotRun(DevkitError):
    """Health could not run at all (no checks, unknown check name): UNKNOWN, exit 3."""

    exit_code = EXIT_CANNOT_RUN


class Outcome:
    """What a check function returns: a status, a one-line output, an observed value and its unit.

    ``perf`` is ``(warn, crit, min, max)`` for the Nagios perfdata of the value (strings or None).
    """

    def __init__(self, status, output="", observed_value=None, observed_unit=None, perf=None):
        if status not in STATUSES:
            raise ValueError(f"health status must be one of {', '.join(STATUSES)}, got {status!r}")
        self.status = status
        self.output = _one_line(output)
        self.observed_value = observed_value
        self.observed_unit = observed_unit
        self.perf = perf


def to_outcome(value):
    """Turn what an app check returned (Outcome, bool, None, status string, dict) into an Outcome."""
    if isinstance(value, Outcome):
        return value
    if value is None or value is True:
        return Outcome("pass", "ok")
    if value is False:
        return Outcome("fail", "check returned False")
    if isinstance(value, str):
        return Outcome(value, value) if value in STATUSES else Outcome("fail", f"unknown status {value!r}")
    if isinstance(value, dict):
        return Outcome(
            value.get("status", "pass"),
            value.get("output", ""),
            value.get("observed_value"),
            value.get("observed_unit"),
        )
    return Outcome("fail", f"check returned {type(value).__name__}, expected Outcome/bool/status/dict")


class CheckResult:
    """One check's finished result: status, output, observed value, duration and wall time."""

    def __init__(self, check, outcome, duration_s, finished_ts):
        self.name = check.name
        self.component_type = check.component_type
        self.component_id = check.component_id
        self.measurement = check.measurement
        self.critical = check.critical
        self.status = outcome.status
        self.output = outcome.output
        self.observed_value = outcome.observed_value
        self.observed_unit = outcome.observed_unit
        self.perf = outcome.perf
        self.duration_s = duration_s
        self.time = finished_ts

    def scrubbed(self, scrub):
        """This result with ``scrub`` applied to its output (secrets never leave a check)."""
        self.output = _one_line(scrub(self.output))
        self.name, self.component_id = scrub(self.name), scrub(self.component_id)
        if isinstance(self.observed_value, str):
            self.observed_value = scrub(self.observed_value)
        return self


class Check:
    """A named check: ``func()`` returns an Outcome (or bool/status/dict); raising means ``fail``."""

    def __init__(
        self,
        name,
        func,
        component_type="component",
        critical=True,
        timeout_s=None,
        measurement=None,
        component_id=None,
        live=False,
    ):
        self.name = name
        self.func = func
        self.component_type = component_type
        self.critical = bool(critical)
        self.timeout_s = timeout_s
        self.measurement = measurement
        self.component_id = component_id or name
        self.live = live

    def check(self, clock=time.time):
        """Run the check once; an exception becomes a ``fail`` naming it, never a crash."""
        started = time.monotonic()
        try:
            outcome = to_outcome(self.func())
        except BaseException as exc:  # noqa: BLE001 - even SystemExit from app code is only a failed check
            outcome = Outcome("fail", f"raised {type(exc).__name__}: {exc}")
        return CheckResult(self, outcome, time.monotonic() - started, clock())

    def timed_out(self, after_s, clock=time.time):
        """The result reported when the check did not answer within ``after_s`` seconds."""
        return CheckResult(self, Outcome("fail", f"timed out after {after_s:g} s"), after_s, clock())


def aggregate(results):
    """Overall status: fail if a critical check fails; warn if any warns or a non-critical one fails."""
    if any(r.status == "fail" and r.critical for r in results):
        return "fail"
    if any(r.status in ("warn", "fail") for r in results):
        return "warn"
    return "pass"


def _one_line(text):
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return " / ".join(lines)


def perf_number(value):
    """A plain decimal for Nagios perfdata (no exponent: 1600000, not 1.6e+06)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"

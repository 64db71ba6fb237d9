"""What a devkit configuration may hold: every section, key, type, default and limit."""

PROVIDERS = ("openai", "ollama", "http")
EXPORT_FORMATS = ("json", "csv", "md", "prom", "openmetrics", "otlp")
AGE_BY = ("mtime", "ctime", "newest")
# Upper bounds keep every value usable downstream: a wait, a date or an SQLite integer never overflows.
HOUR_S = 3600
TEN_YEARS_S = 10 * 365 * 86400
CENTURY_DAYS = 36500
MAX_COUNT = 1_000_000
INT64_MAX = 2**63 - 1


class Field:
    """One configuration key: its kind, default and limits."""

    def __init__(
        self,
        kind,
        default=None,
        minimum=None,
        above=None,
        maximum=None,
        choices=None,
        required=False,
        help="",
        bound=None,
    ):
        self.kind = kind  # str | int | number | bool | list | enum | secret
        self.default = default
        self.minimum = minimum
        self.above = above
        self.maximum = maximum
        self.choices = choices
        self.required = required
        self.help = help
        self.bound = bound  # a sanity cap, named in messages only when a value goes past it

    def expectation(self, value=None):
        """Words for what a valid value looks like; the upper bound is named when ``value`` is above it."""
        words = {
            "str": "a string",
            "secret": "a string (or env:VAR)",
            "bool": "true or false",
            "list": "a list of strings",
            "int": "an integer",
            "number": "a number",
        }
        if self.kind == "enum":
            return "one of " + ", ".join(f'"{c}"' for c in self.choices)
        if self.bound is not None and _past(value, self.bound):
            return f"{words[self.kind]} <= {self.bound:g}"
        limits = []
        if self.above is not None:
            limits.append(f"> {self.above}")
        if self.minimum is not None:
            limits.append(f">= {self.minimum}")
        if self.maximum is not None:
            limits.append(f"<= {self.maximum}")
        return words[self.kind] + (" " + " and ".join(limits) if limits else "")


def _past(value, bound):
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return number and value > bound and value != float("inf")


SECTIONS = {
    "project": {
        "name": Field("str", "", help="project name (default: the root folder's name)"),
        "data_dirs": Field("list", [], help="folders that hold the app's data"),
        "state_dir": Field("str", ".devkit", help="where devkit keeps its store"),
    },
    "storage": {
        "paths": Field("list", [], help="folders checked by the storage health check"),
        "min_free_mb": Field(
            "number", 100, minimum=0, bound=1e12, help="free space below this fails; below 2x warns"
        ),
    },
    "experiments": {
        "path": Field("str", "experiments", help="a folder or glob of JSON experiment records"),
    },
    "backup": {
        "dir": Field("str", "backups", help="where backups are written"),
        "keep": Field("int", 7, minimum=1, bound=MAX_COUNT, help="how many backups to keep"),
        "include": Field("list", [], help="paths to back up (default: data_dirs and the config)"),
        "level": Field(
            "int",
            4,
            minimum=1,
            maximum=9,
            help="gzip level of new backups (4: 0.6x the time of 6, 4-8% larger)",
        ),
        "max_members": Field("int", 1_000_000, minimum=1, help="restore refuses archives with more members"),
        "max_bytes": Field("int", 100 << 30, minimum=1, help="restore refuses archives holding more bytes"),
    },
    "cleanup": {
        "older_than_days": Field(
            "number", 30, minimum=0, bound=CENTURY_DAYS, help="age after which an experiment is removed"
        ),
        "roots": Field("list", [], help="folders searched for temp files and logs (default: data_dirs)"),
        "patterns": Field(
            "list", ["*.tmp", "*.partial", "__pycache__", "*.pyc"], help="temp names to remove"
        ),
        "temp_min_age_hours": Field(
            "number", 1, minimum=0, bound=CENTURY_DAYS * 24, help="younger temp files are left alone"
        ),
        "log_patterns": Field("list", ["*.log"], help="names of log files cleanup archives"),
        "log_days": Field(
            "number",
            7,
            minimum=0,
            bound=CENTURY_DAYS,
            help="logs older than this are gzipped into archive_dir",
        ),
        "archive_dir": Field("str", "logs-archive", help="where archived logs (.gz) are written"),
        "age_by": Field("enum", "newest", choices=AGE_BY, help="what ages a file: mtime, ctime, newest"),
    },
    "export": {
        "dir": Field("str", "exports", help="folder for scheduled exports"),
        "interval_s": Field(
            "number", 0, minimum=0, bound=TEN_YEARS_S, help="scheduled export period; 0 turns it off"
        ),
        "keep": Field("int", 10, minimum=1, bound=MAX_COUNT, help="how many scheduled exports to keep"),
        "format": Field("enum", "json", choices=EXPORT_FORMATS, help="format of scheduled exports"),
    },
    "server": {
        "host": Field("str", "127.0.0.1", help="address the dashboard binds"),
        "port": Field("int", 8765, minimum=0, maximum=65535, help="port the dashboard binds"),
        "token": Field("secret", None, help="bearer token required by the server (env:VAR allowed)"),
    },
    "health": {
        "timeout_s": Field("number", 5, above=0, bound=HOUR_S, help="per-check timeout"),
        "deadline_s": Field("number", 10, above=0, bound=HOUR_S, help="deadline for the whole run"),
        "cache_ttl_pass_s": Field(
            "number", 5, minimum=0, bound=HOUR_S, help="how long a passing result is reused"
        ),
        "cache_ttl_fail_s": Field(
            "number", 1, minimum=0, bound=HOUR_S, help="how long a failing result is reused"
        ),
        "token_budget_24h": Field("int", None, minimum=0, bound=INT64_MAX, help="tokens allowed per 24 h"),
        "cost_budget_24h": Field("number", None, minimum=0, bound=1e15, help="cost allowed per 24 h"),
        "json_sample_limit": Field(
            "int", 100, minimum=0, bound=MAX_COUNT, help="JSON files parsed per storage path"
        ),
        "slow_ms": Field(
            "number", 2000, above=0, bound=HOUR_S * 1000, help="a model answer slower than this warns"
        ),
    },
    "debug": {
        "record_requests": Field("bool", False, help="keep model requests for debug replay (opt-in)"),
        "max_records": Field("int", 1000, minimum=1, help="request records kept (oldest removed first)"),
        "token_tolerance": Field("number", 0.5, above=0, help="allowed gap: reported vs estimated tokens"),
    },
    "metrics": {
        "flush_interval_s": Field(
            "number", 1.0, above=0, bound=HOUR_S, help="how often apps write to the store"
        ),
        "retention_days": Field(
            "number", 7, above=0, bound=CENTURY_DAYS, help="how long raw operations are kept"
        ),
        "recent_limit": Field(
            "int", 100, minimum=1, bound=100_000, help="how many recent operations are shown"
        ),
        "max_label_sets": Field(
            "int", 1000, minimum=1, bound=MAX_COUNT, help="label sets per metric before overflow"
        ),
        "max_series": Field(
            "int", 500, minimum=1, bound=MAX_COUNT, help="(operation, model) series before overflow"
        ),
    },
}

MODEL_FIELDS = {
    "name": Field("str", None, required=True, help="the name devkit and your app use"),
    "provider": Field("enum", "openai", choices=PROVIDERS, help="how to probe it"),
    "url": Field("str", None, required=True, help="base URL of the endpoint"),
    "model": Field("str", None, help="the model id at the provider (default: name)"),
    "timeout": Field("number", 5, above=0, bound=HOUR_S, help="probe timeout in seconds"),
    "price_input_per_1m": Field("number", 0, minimum=0, bound=1e9, help="price per 1M prompt tokens"),
    "price_output_per_1m": Field("number", 0, minimum=0, bound=1e9, help="price per 1M completion tokens"),
    "price_cached_input_per_1m": Field(
        "number",
        None,
        minimum=0,
        bound=1e9,
        help="price per 1M cached prompt tokens (default: the input price)",
    ),
    "critical": Field("bool", True, help="whether its failure fails overall health"),
    "api_key": Field("secret", None, help="API key (use env:VAR)"),
    "expected_status": Field("int", 200, minimum=100, maximum=599, help="status an http probe expects"),
}

SECRET_WORDS = ("key", "token", "secret", "password")


def is_secret_key(name):
    """True for keys named like a credential (key, token, secret, password)."""
    lowered = str(name).lower()
    return any(word in lowered for word in SECRET_WORDS)

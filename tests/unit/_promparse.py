"""A strict parser for Prometheus text 0.0.4 and OpenMetrics 1.0 text, written from the published grammars.

It rejects whatever is off-spec (bad escapes, bad names, duplicate series, metadata after samples,
interleaved families, non-cumulative buckets, missing +Inf, _count != +Inf bucket, missing # EOF, ...)
and is stricter than Prometheus where the specs say SHOULD (buckets in ascending le order).
Timestamps are accepted as the grammar spells them; OpenMetrics exemplars are rejected (devkit
never writes them).
"""

import math
import re

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:Inf|inf)|NaN")
TYPES_PROM = ("counter", "gauge", "histogram", "summary", "untyped")
TYPES_OM = ("counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown")
SUFFIXES_OM = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "unknown": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "stateset": ("",),
}
SUFFIXES_PROM = {
    "counter": ("",),
    "gauge": ("",),
    "untyped": ("",),
    "histogram": ("_bucket", "_count", "_sum"),
    "summary": ("", "_count", "_sum"),
}


class ParseError(ValueError):
    """Input that does not follow the exposition grammar; carries the 1-based line number."""

    def __init__(self, line_no, message):
        super().__init__(f"line {line_no}: {message}")
        self.line_no = line_no


class Family:
    """One parsed metric family."""

    def __init__(self, name, kind):
        self.name = name
        self.type = kind
        self.help = None
        self.unit = None
        self.samples = []  # (sample_name, labels dict, value float)
        self.has_samples = False


def unescape(text, allowed, line_no):
    """Resolve backslash escapes; any escape not in ``allowed`` is an error."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text) or text[i + 1] not in allowed:
                raise ParseError(line_no, f"invalid escape sequence in {text!r}")
            out.append("\n" if text[i + 1] == "n" else text[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse_float(text, line_no):
    """A sample value as the grammar allows it."""
    if not FLOAT.fullmatch(text):
        raise ParseError(line_no, f"invalid number {text!r}")
    return float(text.replace("Inf", "inf"))


def parse_labels(text, pos, line_no, om):
    """Parse ``{a="b",...}`` starting at ``text[pos] == '{'``; return (labels, end position)."""
    labels, pos = {}, pos + 1
    while True:
        if text.startswith("}", pos):
            if labels and text[pos - 1] == "," and om:
                raise ParseError(line_no, "trailing comma in label set")
            return labels, pos + 1
        match = LABEL_NAME.match(text, pos)
        if not match:
            raise ParseError(line_no, f"invalid label name at column {pos + 1}")
        name = match.group(0)
        if name.startswith("__"):
            raise ParseError(line_no, f"reserved label name {name!r}")
        if name in labels:
            raise ParseError(line_no, f"duplicate label {name!r}")
        pos = match.end()
        if not text.startswith('="', pos):
            raise ParseError(line_no, f'expected =" after label {name!r}')
        value, pos = _label_value(text, pos + 2, line_no)
        labels[name] = value
        if text.startswith(",", pos):
            pos += 1
        elif not text.startswith("}", pos):
            raise ParseError(line_no, "expected , or } in label set")


def _label_value(text, pos, line_no):
    end = pos
    while end < len(text) and text[end] != '"':
        end += 2 if text[end] == "\\" else 1
    if end >= len(text):
        raise ParseError(line_no, "unterminated label value")
    return unescape(text[pos:end], 'n"\\', line_no), end + 1


class Parser:
    """Line-by-line parser keeping the state the cross-line rules need."""

    def __init__(self, om):
        self.om = om
        self.families = {}
        self.order = []
        self.current = None
        self.series = set()
        self.closed = set()
        self.sample_owner = {}
        self.eof = False

    def parse(self, text):
        """Parse the whole exposition; return {family name: Family}."""
        if text and not text.endswith("\n"):
            raise ParseError(text.count("\n") + 1, "the last line must end with a line feed")
        lines = text.split("\n")[:-1] if text else []
        for line_no, line in enumerate(lines, 1):
            if self.eof:
                raise ParseError(line_no, "content after # EOF")
            self.line(line, line_no)
        if self.om and not self.eof:
            raise ParseError(len(lines), "missing # EOF")
        for family in self.families.values():
            check_family(family, self.om, len(lines))
        return self.families

    def line(self, line, line_no):
        """Dispatch one line: blank, comment/metadata or sample."""
        if not line.strip() and not self.om:
            return
        if self.om and (not line or line != line.strip(" ")):
            raise ParseError(line_no, "blank line or stray spaces are not allowed in OpenMetrics")
        stripped = line.lstrip(" \t")
        if stripped.startswith("#"):
            self.comment(stripped, line_no)
        else:
            self.sample(line if self.om else stripped, line_no)

    def comment(self, line, line_no):
        """HELP/TYPE/UNIT/EOF lines; other comments are ignored (0.0.4) or invalid (OpenMetrics)."""
        if self.om and line == "# EOF":
            self.eof = True
            return
        parts = line.split(" ", 3) if self.om else re.split(r"[ \t]+", line.rstrip(" \t"), maxsplit=3)
        keyword = parts[1] if len(parts) > 1 else ""
        if keyword not in ("HELP", "TYPE") + (("UNIT",) if self.om else ()):
            if self.om:
                raise ParseError(line_no, f"unknown comment line {line!r}")
            return
        if len(parts) < 3 or not METRIC_NAME.fullmatch(parts[2]):
            raise ParseError(line_no, f"invalid metric name in {keyword} line")
        family = self.metadata_family(parts[2], line_no)
        rest = parts[3] if len(parts) > 3 else ""
        getattr(self, "meta_" + keyword.lower())(family, rest, line_no)

    def metadata_family(self, name, line_no):
        """The family a metadata line describes; it must come before that family's samples."""
        family = self.families.get(name)
        if family is None:
            family = self.start_family(name, None, line_no)
        elif family.has_samples:
            raise ParseError(line_no, f"metadata for {name!r} after its samples")
        elif family is not self.current:
            raise ParseError(line_no, f"metadata for {name!r} is not grouped with it")
        return family

    def start_family(self, name, kind, line_no):
        """Open a new family; a name seen before (interleaving) is an error."""
        if name in self.families or name in self.closed:
            raise ParseError(line_no, f"family {name!r} appears twice (not one group)")
        if self.current is not None:
            self.closed.add(self.current.name)
        family = self.families[name] = Family(name, kind)
        self.order.append(name)
        self.current = family
        return family

    def meta_help(self, family, rest, line_no):
        """Record HELP once, with the escapes the format allows."""
        if family.help is not None:
            raise ParseError(line_no, f"second HELP for {family.name!r}")
        family.help = unescape(rest, 'n"\\' if self.om else "n\\", line_no)

    def meta_type(self, family, rest, line_no):
        """Record TYPE once; the type must be one the format knows."""
        if family.type is not None:
            raise ParseError(line_no, f"second TYPE for {family.name!r}")
        kind = rest if self.om else rest.strip(" \t")
        if kind not in (TYPES_OM if self.om else TYPES_PROM):
            raise ParseError(line_no, f"invalid type {rest!r}")
        family.type = kind

    def meta_unit(self, family, rest, line_no):
        """Record UNIT once; the family name must end with _<unit>."""
        if family.unit is not None:
            raise ParseError(line_no, f"second UNIT for {family.name!r}")
        if rest and not family.name.endswith("_" + rest):
            raise ParseError(line_no, f"unit {rest!r} is not a suffix of {family.name!r}")
        family.unit = rest

    def sample(self, line, line_no):
        """One sample line: name, optional labels, value, optional timestamp (and OM exemplar)."""
        match = METRIC_NAME.match(line)
        if not match:
            raise ParseError(line_no, f"invalid sample line {line!r}")
        name, pos = match.group(0), match.end()
        labels = {}
        if line.startswith("{", pos):
            labels, pos = parse_labels(line, pos, line_no, self.om)
        value, _timestamp = self.value_fields(line[pos:], line_no)
        family = self.family_of(name, line_no)
        if self.sample_owner.setdefault(name, family) is not family:
            raise ParseError(line_no, f"sample name {name!r} used by two families")
        key = (name, tuple(sorted(labels.items())))
        if key in self.series:
            raise ParseError(line_no, f"duplicate series {name}{labels}")
        self.series.add(key)
        family.samples.append((name, labels, value))
        family.has_samples = True

    def value_fields(self, rest, line_no):
        """Split ' value [timestamp]' (single spaces in OpenMetrics, blanks in 0.0.4)."""
        if self.om:
            if " # " in rest:
                raise ParseError(line_no, "exemplars are not expected in devkit output")
            if not rest.startswith(" "):
                raise ParseError(line_no, "expected one space before the value")
            fields = rest[1:].split(" ")
        else:
            if not rest[:1] in (" ", "\t"):
                raise ParseError(line_no, "expected blank before the value")
            fields = rest.split()
        if not 1 <= len(fields) <= 2 or "" in fields:
            raise ParseError(line_no, f"expected value [timestamp], got {rest.strip()!r}")
        value = parse_float(fields[0], line_no)
        stamp = fields[1] if len(fields) == 2 else None
        if stamp is not None and not (FLOAT if self.om else re.compile(r"-?[0-9]+")).fullmatch(stamp):
            raise ParseError(line_no, f"invalid timestamp {stamp!r}")
        return value, stamp

    def family_of(self, name, line_no):
        """The family a sample name belongs to (the current one when its suffix fits)."""
        family = self.current
        if family is not None and family.type is not None:
            table = SUFFIXES_OM if self.om else SUFFIXES_PROM
            for suffix in table[family.type]:
                if name == family.name + suffix:
                    return family
        if family is not None and family.type is None and name == family.name:
            return family
        if name in self.sample_owner:
            raise ParseError(line_no, f"samples of {name!r} are not one group")
        return self.start_family(name, None, line_no)


def check_family(family, om, line_no):
    """Rules across the samples of one family: counters, histograms and summaries."""
    kind = family.type or ("unknown" if om else "untyped")
    if kind == "counter":
        for name, labels, value in family.samples:
            if not name.endswith("_created") and (value < 0 or math.isnan(value)):
                raise ParseError(line_no, f"counter {name} has value {value}")
    elif kind == "histogram":
        check_histogram(family, line_no)
    elif kind == "summary":
        check_summary(family, line_no)


def _groups(family, drop):
    groups = {}
    for name, labels, value in family.samples:
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != drop))
        groups.setdefault(rest, []).append((name, labels, value))
    return groups


def check_histogram(family, line_no):
    """Buckets ascending in le, cumulative, ending at +Inf; _count equals the +Inf bucket."""
    base = family.name
    for rest, samples in _groups(family, "le").items():
        buckets = [(s[1].get("le"), s[2]) for s in samples if s[0] == base + "_bucket"]
        others = {s[0]: s for s in samples if s[0] != base + "_bucket"}
        if any("le" in s[1] for s in others.values()):
            raise ParseError(line_no, f"{base}: le label outside _bucket samples")
        if not buckets or buckets[-1][0] is None or parse_float(buckets[-1][0], line_no) != math.inf:
            raise ParseError(line_no, f'{base}{dict(rest)}: buckets must end with le="+Inf"')
        bounds = [parse_float(le, line_no) for le, _ in buckets]
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise ParseError(line_no, f"{base}{dict(rest)}: le bounds not strictly ascending")
        counts = [v for _, v in buckets]
        if any(b < a for a, b in zip(counts, counts[1:])) or counts[0] < 0:
            raise ParseError(line_no, f"{base}{dict(rest)}: buckets are not cumulative")
        count = others.get(base + "_count")
        if count is None or base + "_sum" not in others:
            raise ParseError(line_no, f"{base}{dict(rest)}: _sum and _count are required")
        if count[2] != counts[-1]:
            raise ParseError(line_no, f"{base}{dict(rest)}: _count {count[2]} != +Inf bucket {counts[-1]}")


def check_summary(family, line_no):
    """Quantile labels in [0, 1] on the base samples only; _sum and _count present, count >= 0."""
    base = family.name
    for rest, samples in _groups(family, "quantile").items():
        names = {s[0] for s in samples}
        if base + "_count" not in names or base + "_sum" not in names:
            raise ParseError(line_no, f"{base}{dict(rest)}: _sum and _count are required")
        for name, labels, value in samples:
            if name == base:
                q = parse_float(labels.get("quantile", "x"), line_no) if "quantile" in labels else None
                if q is None or not 0 <= q <= 1:
                    raise ParseError(line_no, f"{base}: quantile label missing or outside [0, 1]")
            elif "quantile" in labels:
                raise ParseError(line_no, f"{base}: quantile label on {name}")
            elif name == base + "_count" and value < 0:
                raise ParseError(line_no, f"{base}: negative _count")


def parse(text, openmetrics=False):
    """Parse ``text`` strictly; return {family name: Family} or raise ParseError."""
    return Parser(openmetrics).parse(text)

"""Prometheus 0.0.4 and OpenMetrics 1.0 output checked by a strict parser written from the grammars."""

import math

import pytest

from devkit.export.families import LE_BOUNDS, sanitize_label_name, sanitize_metric_name
from devkit.export.promtext import (
    OPENMETRICS_CONTENT_TYPE,
    PROMETHEUS_CONTENT_TYPE,
    escape_label_value,
    negotiate,
    render_openmetrics,
    render_prometheus,
)
from devkit.snapshot import Snapshot
from tests.unit import _promparse
from tests.unit._export_helpers import HOSTILE, breakdown_row, hostile_snapshot


@pytest.fixture(scope="module")
def snapshot():
    return hostile_snapshot()


@pytest.fixture(scope="module")
def prom(snapshot):
    return _promparse.parse("".join(render_prometheus(snapshot)))


@pytest.fixture(scope="module")
def om(snapshot):
    return _promparse.parse("".join(render_openmetrics(snapshot)), openmetrics=True)


def _user_histograms(families):
    return {name: f for name, f in families.items() if name.startswith("app_step_")}


def test_100_histograms_x_10_label_sets_pass_the_strict_parser_in_both_formats(prom, om):
    for families in (prom, om):
        hists = _user_histograms(families)
        assert len(hists) == 100
        for family in hists.values():
            assert family.type == "histogram"
            series = {tuple(sorted((k, v) for k, v in s[1].items() if k != "le")) for s in family.samples}
            assert len(series) == 10


def test_label_values_with_quotes_backslashes_newlines_and_unicode_round_trip(snapshot, prom, om):
    expected = {
        (i["labels"]["route"], i["labels"]["model"]) for i in snapshot.instruments if i["kind"] == "histogram"
    }
    for families in (prom, om):
        seen = set()
        for family in _user_histograms(families).values():
            seen.update((s[1]["route"], s[1]["model"]) for s in family.samples)
        assert seen == expected
    ops = {s[1]["operation"] for s in prom["devkit_operations_total"].samples}
    models = {s[1]["model"] for s in prom["devkit_operations_total"].samples}
    assert ops == {'chat "v2"', "embed\\raw"} and models == {"", "ünï\nmodel"}


def test_bucket_counts_sum_and_count_match_the_observations(snapshot, prom):
    source = next(i for i in snapshot.instruments if i["sketch"] is not None and i["sketch"].count >= 8)
    family = prom[sanitize_metric_name(source["name"])]
    want_labels = source["labels"]
    samples = [s for s in family.samples if all(s[1].get(k) == v for k, v in want_labels.items())]
    buckets = {s[1]["le"]: s[2] for s in samples if s[0].endswith("_bucket")}
    sketch = source["sketch"]
    values = sorted(v for v in _values(sketch))
    for bound in LE_BOUNDS:
        assert buckets[repr(bound)] == sum(1 for v in values if v <= bound)
    assert buckets["+Inf"] == sketch.count
    count = [s[2] for s in samples if s[0].endswith("_count")][0]
    total = [s[2] for s in samples if s[0].endswith("_sum")][0]
    assert count == sketch.count and total == pytest.approx(sketch.sum)


def _values(sketch):
    from devkit.core.sketch import slot_value

    for slot, n in sketch.nonzero():
        yield from [slot_value(slot)] * n


def test_builtin_families_names_types_and_labels(prom):
    assert prom["devkit_operations_total"].type == "counter"
    kinds = {s[1]["kind"] for s in prom["devkit_tokens_total"].samples}
    assert kinds == {"prompt", "completion"}
    assert {tuple(sorted(s[1])) for s in prom["devkit_cost_total"].samples} == {("model", "operation")}
    assert prom["devkit_operation_duration_seconds"].type == "histogram"
    summary = prom["devkit_operation_latency_seconds"]
    assert summary.type == "summary"
    assert {s[1].get("quantile") for s in summary.samples if s[0] == summary.name} == {
        "0.5",
        "0.9",
        "0.95",
        "0.99",
    }
    err = [s for s in prom["devkit_operations_total"].samples if s[1]["status"] == "error"]
    assert err[0][2] == 1
    chat_ok = {
        s[1]["le"]: s[2]
        for s in prom["devkit_operation_duration_seconds"].samples
        if s[0].endswith("_bucket") and s[1]["operation"] == 'chat "v2"' and s[1]["status"] == "ok"
    }
    assert (chat_ok["0.1"], chat_ok["0.25"], chat_ok["0.5"], chat_ok["2.5"], chat_ok["+Inf"]) == (
        0,
        1,
        2,
        3,
        3,
    )


def test_openmetrics_counters_created_unit_and_eof(snapshot, om):
    text = "".join(render_openmetrics(snapshot))
    assert text.endswith("# EOF\n")
    ops = om["devkit_operations"]
    assert ops.type == "counter"
    names = {s[0] for s in ops.samples}
    assert names == {"devkit_operations_total", "devkit_operations_created"}
    assert om["devkit_operation_duration_seconds"].unit == "seconds"
    created = [s for s in om["devkit_operation_duration_seconds"].samples if s[0].endswith("_created")]
    assert created and created[0][2] == 1700000000.0


def test_user_instrument_names_are_sanitized_and_never_clash(prom):
    assert "app_step_0_seconds" in prom
    assert "jobs_total" in prom and prom["jobs_total"].type == "counter"
    gauge = prom["queue_depth"]
    assert gauge.type == "gauge" and set(gauge.samples[0][1]) == {"le", "_meta"}
    assert "devkit_operations_2_total" in prom  # the user counter named devkit_operations moved aside
    assert prom["app_step_0_seconds"].help == 'step 0 "timing"\n\\'


@pytest.mark.parametrize(
    "raw, kind, want",
    [
        ("my.metric-1", None, "my_metric_1"),
        ("1abc", None, "_1abc"),
        ("ok:name_2", None, "ok:name_2"),
        ("", None, "_"),
    ],
)
def test_sanitize_metric_name(raw, kind, want):
    assert sanitize_metric_name(raw) == want


@pytest.mark.parametrize(
    "raw, kind, want",
    [
        ("a-b", "gauge", "a_b"),
        ("__x", "gauge", "_x"),
        ("le", "histogram", "_le"),
        ("quantile", "summary", "_quantile"),
        ("le", "gauge", "le"),
        ("9x", "gauge", "_9x"),
        ("a:b", "gauge", "a_b"),
    ],
)
def test_sanitize_label_name(raw, kind, want):
    assert sanitize_label_name(raw, kind) == want


def test_escape_label_value():
    assert escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'


def test_empty_snapshot_is_still_valid_in_both_formats():
    snapshot = Snapshot(generated_at=1.0)
    prom = _promparse.parse("".join(render_prometheus(snapshot)))
    assert prom["devkit_operations_total"].samples == []
    om = _promparse.parse("".join(render_openmetrics(snapshot)), openmetrics=True)
    assert "devkit_operations" in om


def test_empty_sketch_summary_reports_nan_and_zero_count():
    snapshot = Snapshot(generated_at=1.0, breakdown=[breakdown_row("op", "m", "ok", [])])
    families = _promparse.parse("".join(render_prometheus(snapshot)))
    quantiles = [s[2] for s in families["devkit_operation_latency_seconds"].samples if "quantile" in s[1]]
    assert all(math.isnan(q) for q in quantiles)


@pytest.mark.parametrize(
    "accept, fmt",
    [
        (
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            "openmetrics",
        ),
        ("application/openmetrics-text; version=0.0.1; q=0.75, text/plain; q=0.5", "openmetrics"),
        ("text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5", "prom"),
        ("application/openmetrics-text;version=2.0.0", "prom"),
        ("application/openmetrics-text;q=0", "prom"),
        ("", "prom"),
        (None, "prom"),
        ("*/*", "prom"),
    ],
)
def test_negotiate(accept, fmt):
    got, content_type = negotiate(accept)
    assert got == fmt
    assert content_type == (OPENMETRICS_CONTENT_TYPE if fmt == "openmetrics" else PROMETHEUS_CONTENT_TYPE)


def test_hostile_values_are_all_present_in_the_fixture():
    assert (
        any("\n" in v for v in HOSTILE) and any('"' in v for v in HOSTILE) and any("\\" in v for v in HOSTILE)
    )

"""Counter, Gauge and Histogram: labels, the label-set cap, the registry and thread safety."""

import sys
import threading
import time

import pytest

from devkit.errors import DevkitError, UsageError
from devkit.metrics import api
from devkit.metrics.instruments import OVERFLOW, Counter, Gauge, Histogram, Registry


def _deltas(family):
    return {dict(d.labels).get("route", ""): d for d in family.take()}


def test_counter_counts_per_label_set_whatever_the_argument_order():
    requests = Counter("requests_total", "requests", labels=("route", "code"))
    requests.labels(route="/chat", code="200").inc()
    requests.labels(code="200", route="/chat").inc(2)
    requests.labels("/chat", "200").inc()
    requests.labels(route="/embed", code=500).inc()
    assert requests.labels(route="/chat", code="200").value == 4
    deltas = {d.labels: d.value for d in requests.take()}
    assert deltas == {(("route", "/chat"), ("code", "200")): 4, (("route", "/embed"), ("code", "500")): 1}
    assert requests.take() == []
    requests.labels(route="/chat", code="200").inc()
    assert [d.value for d in requests.take()] == [1]


def test_unlabelled_counter_and_its_delta():
    hits = Counter("hits_total", "cache hits")
    hits.inc()
    hits.inc(2.5)
    assert hits.value == 3.5
    (delta,) = hits.take()
    assert (delta.name, delta.kind, delta.help, delta.labels, delta.value) == (
        "hits_total",
        "counter",
        "cache hits",
        (),
        3.5,
    )


def test_wrong_use_raises_a_usage_error_naming_the_metric():
    requests = Counter("calls_total", labels=("route",))
    with pytest.raises(UsageError, match="calls_total"):
        requests.inc()
    with pytest.raises(UsageError, match="route"):
        requests.labels(path="/x")
    with pytest.raises(UsageError, match="calls_total"):
        requests.labels("/x", "extra")
    with pytest.raises(UsageError, match=">= 0"):
        requests.labels(route="/x").inc(-1)
    with pytest.raises(UsageError, match="metric name"):
        Counter("2bad")
    with pytest.raises(UsageError, match="finite"):
        Counter("inf_total").inc(float("inf"))
    with pytest.raises(UsageError, match="finite"):
        Gauge("nan_gauge").set(float("nan"))


def test_histogram_observe_of_nan_or_infinity_never_raises_and_is_left_out():
    histogram = Histogram("odd_seconds")
    with pytest.warns(RuntimeWarning, match="ignored observe"):
        for value in (float("inf"), float("nan"), float("-inf"), 0.5):
            histogram.observe(value)
    (delta,) = histogram.take()
    assert (delta.sketch.count, delta.sketch.sum) == (1, 0.5)


def test_label_sets_beyond_the_cap_fold_into_one_counted_overflow_series():
    requests = Counter("capped_total", labels=("route",), max_label_sets=3)
    for i in range(5):
        requests.labels(route=f"/r{i}").inc()
    requests.labels(route="/r4").inc()
    requests.labels(route="/r0").inc()
    assert requests.overflowed == 3
    deltas = _deltas(requests)
    assert sorted(deltas) == ["/r0", "/r1", "/r2", OVERFLOW]
    assert deltas[OVERFLOW].value == 3 and deltas["/r0"].value == 2
    assert len(requests.series()) == 4


def test_label_cap_comes_from_the_config(tmp_path, monkeypatch):
    from devkit.metrics import settings

    (tmp_path / "devkit.json").write_text('{"metrics": {"max_label_sets": 2}}')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEVKIT_CONFIG", raising=False)
    settings.forget()
    try:
        gauge = Gauge("configured_cap", labels=("route",))
        for route in "abc":
            gauge.labels(route=route).set(1)
        assert gauge.max_label_sets == 2 and gauge.overflowed == 1
    finally:
        settings.forget()


def test_registry_returns_the_same_instrument_and_refuses_another_kind():
    registry = Registry()
    first = registry.get_or_create("counter", "jobs_total", "jobs", ("queue",))
    assert registry.get_or_create("counter", "jobs_total", labels=["queue"]) is first
    with pytest.raises(UsageError, match="already a counter"):
        registry.get_or_create("gauge", "jobs_total")
    with pytest.raises(DevkitError, match="labels"):
        registry.get_or_create("counter", "jobs_total", labels=("other",))
    assert api.counter("api_registry_total") is api.counter("api_registry_total")


def test_gauge_set_inc_dec_reports_the_last_value_once():
    depth = Gauge("queue_depth", labels=("queue",))
    series = depth.labels(queue="a")
    series.set(5)
    series.inc()
    series.dec(3)
    assert series.value == 3.0
    assert [d.value for d in depth.take()] == [3.0]
    assert depth.take() == []


def test_histogram_time_as_context_manager_and_decorator():
    latency = Histogram("work_seconds")

    @latency.time()
    def work():
        time.sleep(0.01)
        return "done"

    with latency.time():
        time.sleep(0.01)
    assert work() == "done"
    (delta,) = latency.take()
    assert delta.kind == "histogram" and delta.sketch.count == 2
    assert 0.01 <= delta.sketch.min <= delta.sketch.max < 2.5


def _hammer(threads, func):
    # A tiny switch interval makes lost updates likely if an update were not atomic.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        workers = [threading.Thread(target=func) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)


def test_eight_threads_lose_no_increment_and_no_observation():
    n = 20_000
    plain, labelled = Counter("t_plain_total"), Counter("t_labelled_total", labels=("route",))
    latency = Histogram("t_seconds")
    taken = []

    def work():
        for i in range(n):
            plain.inc()
            labelled.labels(route="/x").inc(2)
            latency.observe(0.001 * (i % 7 + 1))
            if i % 5000 == 0:
                taken.extend(plain.take() + latency.take())

    _hammer(8, work)
    taken.extend(plain.take() + latency.take())
    assert sum(d.value for d in taken if d.kind == "counter") == 8 * n == plain.value
    assert sum(d.sketch.count for d in taken if d.kind == "histogram") == 8 * n
    assert labelled.labels(route="/x").value == 16 * n


def test_histogram_hands_over_exactly_the_sketch_of_its_values():
    # Many values land in one bucket, past the point where the series carries counts over.
    from devkit.core.sketch import Sketch

    values = [0.25] * 1000 + [0.001 * (i % 300 + 1) for i in range(5000)] + [0.0, 2e5]
    latency, expected = Histogram("t_exact_seconds"), Sketch()
    for value in values:
        latency.observe(value)
        expected.add(value)
    (delta,) = latency.take()
    assert list(delta.sketch.nonzero()) == list(expected.nonzero())
    assert (delta.sketch.count, delta.sketch.min, delta.sketch.max) == (len(values), 0.0, 2e5)
    assert delta.sketch.sum == pytest.approx(expected.sum)

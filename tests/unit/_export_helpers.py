"""Snapshots with hostile names for the export tests: real Snapshot objects and real Sketches."""

import random

from devkit.core.sketch import Sketch
from devkit.snapshot import Snapshot

HOSTILE = [
    'quote " inside',
    "back\\slash",
    "new\nline",
    "ünïcødé — 日本語",
    'all "\\\n',
    "comma, here",
    "100%",
]
# Values kept away from the fixed le bounds, so exact and sketch bucket counts agree.
SAFE_VALUES = (0.003, 0.007, 0.02, 0.04, 0.07, 0.2, 0.4, 0.7, 2.0, 4.0, 7.0, 20.0, 45.0, 100.0, 500.0)


def sketch_of(values):
    """A Sketch holding ``values``."""
    sketch = Sketch()
    for value in values:
        sketch.add(value)
    return sketch


def breakdown_row(operation, model, status, values, created_ts=1700000000.0, **sums):
    """One Store-API breakdown dict whose sketch holds ``values`` (seconds)."""
    row = {
        "operation": operation,
        "model": model,
        "status": status,
        "count": len(values),
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost": 0.0,
        "cache_hits": 0,
        "cache_misses": 0,
        "sketch": sketch_of(values),
        "created_ts": created_ts,
    }
    row.update(sums)
    return row


def histogram_instruments(families=100, label_sets=10, seed=7):
    """``families`` user histograms x ``label_sets`` label sets with hostile label values."""
    rng = random.Random(seed)
    out = []
    for i in range(families):
        for j in range(label_sets):
            values = [rng.choice(SAFE_VALUES) for _ in range(rng.randint(0, 12))]
            labels = {"route": HOSTILE[(i + j) % len(HOSTILE)] + f" #{j}", "model": HOSTILE[j % len(HOSTILE)]}
            out.append(
                {
                    "name": f"app.step-{i}.seconds",
                    "kind": "histogram",
                    "help": f'step {i} "timing"\n\\',
                    "labels": labels,
                    "value": 0.0,
                    "sketch": sketch_of(values),
                    "created_ts": 1700000000.0 + i,
                }
            )
    return out


def hostile_snapshot(families=100, label_sets=10):
    """Built-in series with hostile operation/model names plus many user histograms, counters and gauges."""
    breakdown = [
        breakdown_row(
            'chat "v2"',
            None,
            "ok",
            [0.2, 0.4, 2.0],
            prompt_tokens=10,
            completion_tokens=5,
            cost=0.25,
            cache_hits=1,
            cache_misses=2,
        ),
        breakdown_row('chat "v2"', None, "error", [7.0], prompt_tokens=1),
        breakdown_row(
            "embed\\raw", "ünï\nmodel", "ok", [0.003, 0.04, 0.04, 500.0], completion_tokens=3, cost=0.5
        ),
    ]
    instruments = histogram_instruments(families, label_sets)
    instruments += [
        {
            "name": "jobs_total",
            "kind": "counter",
            "help": "jobs",
            "labels": {"queue": 'a"b'},
            "value": 4.0,
            "sketch": None,
            "created_ts": 1700000001.0,
        },
        {
            "name": "queue depth",
            "kind": "gauge",
            "help": "",
            "labels": {"le": "x", "__meta": "y"},
            "value": -2.5,
            "sketch": None,
            "created_ts": None,
        },
        {
            "name": "devkit_operations",
            "kind": "counter",
            "help": "clash",
            "labels": {},
            "value": 1.0,
            "sketch": None,
            "created_ts": None,
        },
    ]
    return Snapshot(
        generated_at=1700000500.0,
        since_ts=None,
        breakdown=breakdown,
        instruments=instruments,
        totals={"requests": 8, "errors": 1},
        project="demo",
    )

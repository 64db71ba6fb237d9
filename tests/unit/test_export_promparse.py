"""The strict parser must reject off-spec input; otherwise passing it proves nothing."""

import pytest

from tests.unit import _promparse

GOOD_HIST = (
    "# TYPE h histogram\n" 'h_bucket{le="0.5"} 1\n' 'h_bucket{le="+Inf"} 2\n' "h_sum 3.5\n" "h_count 2\n"
)

BAD_PROM = [
    ('m{a="x\\t"} 1\n', "invalid escape"),
    ('m{a="x"} 1\nm{a="x"} 2\n', "duplicate series"),
    ("m 1\n# TYPE m gauge\n", "after its samples"),
    ("# TYPE m gauge\n# TYPE m counter\nm 1\n", "second TYPE"),
    ("# HELP m a\\tb\nm 1\n", "invalid escape"),
    ("# TYPE m wrong\nm 1\n", "invalid type"),
    ('m 1\nn 1\nm{a="b"} 2\n', "not one group"),
    ("1m 1\n", "invalid sample line"),
    ('m{__a="b"} 1\n', "reserved label"),
    ('m{a="b",a="c"} 1\n', "duplicate label"),
    ('m{a="b} 1\n', "unterminated"),
    ("m 1x\n", "invalid number"),
    ("m 1", "line feed"),
    ("# TYPE c counter\nc -1\n", "counter"),
    ('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', "not cumulative"),
    ('# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', "+Inf"),
    ('# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n', "_count"),
    (
        '# TYPE h histogram\nh_bucket{le="2"} 1\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
        "ascending",
    ),
    ('# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n', "_sum and _count"),
    ('# TYPE s summary\ns{quantile="1.5"} 1\ns_sum 1\ns_count 1\n', "quantile"),
    ("# TYPE s summary\ns 1\ns_sum 1\ns_count 1\n", "quantile"),
]

BAD_OM = [
    ("# TYPE m gauge\nm 1\n", "missing # EOF"),
    ("m 1\n# EOF\nm 2\n", "after # EOF"),
    ("\n# EOF\n", "blank line"),
    ("# just a comment\n# EOF\n", "unknown comment"),
    ('m{a="b",} 1\n# EOF\n', "trailing comma"),
    ("m  1\n# EOF\n", "expected value"),
    ("# TYPE m_seconds gauge\n# UNIT m_seconds bytes\nm_seconds 1\n# EOF\n", "suffix"),
    ('# TYPE c counter\nc_total 1\nd 2\nc_total{a="b"} 1\n# EOF\n', "not one group"),
    ("# TYPE c counter\nc_total 1\n# TYPE c_total gauge\nc_total 2\n# EOF\n", "two families"),
    ('m 1 # {a="b"} 1\n# EOF\n', "exemplars"),
]


@pytest.mark.parametrize("text, message", BAD_PROM)
def test_rejects_off_spec_prometheus_text(text, message):
    with pytest.raises(_promparse.ParseError, match=message.replace("+", r"\+")):
        _promparse.parse(text)


@pytest.mark.parametrize("text, message", BAD_OM)
def test_rejects_off_spec_openmetrics(text, message):
    with pytest.raises(_promparse.ParseError, match=message.replace("+", r"\+")):
        _promparse.parse(text, openmetrics=True)


def test_accepts_valid_input_from_the_grammar():
    text = (
        "# HELP m multi word\\\\ help\\n\n"
        "# TYPE m gauge\n"
        'm{a="x\\"y\\\\z\\n",b=""} -1.5e-3 1700000000000\n'
        "m\t+Inf\n"
        "\n" + GOOD_HIST
    )
    families = _promparse.parse(text)
    assert families["m"].help == "multi word\\ help\n"
    assert families["m"].samples[0][1] == {"a": 'x"y\\z\n', "b": ""}
    assert families["h"].type == "histogram"


def test_accepts_openmetrics_counter_with_created_and_unit():
    text = (
        '# TYPE c_seconds counter\n# UNIT c_seconds seconds\n# HELP c_seconds say \\"hi\\"\n'
        'c_seconds_total{a="b"} 1.0\nc_seconds_created{a="b"} 1700000000.5\n' + GOOD_HIST + "# EOF\n"
    )
    families = _promparse.parse(text, openmetrics=True)
    assert families["c_seconds"].unit == "seconds"
    assert families["c_seconds"].help == 'say "hi"'

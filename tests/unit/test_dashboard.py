"""The dashboard's server-side rendering: exact tables, extra LLM columns, escaping."""

from devkit.server.dashboard import TABLES, render_page, table_html

TOKENS = {t["id"]: t for t in TABLES}["table-tokens"]
RECENT = {t["id"]: t for t in TABLES}["table-recent"]


def _view(**row_extra):
    row = dict(
        {
            "model": "llama3",
            "requests": 1200,
            "prompt_tokens": 5,
            "completion_tokens": 7,
            "total_tokens": 12,
            "cost": 0.5,
        },
        **row_extra,
    )
    return {"tokens": {"by_model": [row]}, "status": {"recent": []}}


def test_the_tokens_table_is_exact():
    assert table_html(TOKENS, _view()) == (
        '<table id="table-tokens"><thead><tr><th scope="col">model</th><th scope="col" class="num">requests</th>'
        '<th scope="col" class="num">prompt</th><th scope="col" class="num">completion</th>'
        '<th scope="col" class="num">total</th><th scope="col" class="num">cost</th></tr></thead><tbody><tr>'
        '<td>llama3</td><td class="num">1,200</td><td class="num">5</td><td class="num">7</td>'
        '<td class="num">12</td><td class="num">$0.5000</td></tr></tbody></table>'
    )


def test_time_to_first_token_and_tokens_per_second_show_when_the_rows_have_them():
    page = table_html(TOKENS, _view(ttft_p50_ms=183.25, output_tokens_per_s=41.0, other=3))
    assert (
        '<th scope="col" class="num">ttft p50 ms</th><th scope="col" class="num">output tokens per s</th>'
        in page
    )
    assert '<td class="num">183.2</td><td class="num">41.0</td></tr>' in page
    assert "other" not in page


def test_recent_operations_escape_text_and_mark_errors():
    view = {
        "status": {
            "recent": [
                {
                    "ts": 0,
                    "operation": "<b>x</b>",
                    "model": None,
                    "status": "error",
                    "duration_ms": 1.25,
                    "prompt_tokens": 1,
                    "completion_tokens": None,
                    "error": "E&F",
                }
            ]
        }
    }
    body = table_html(RECENT, view).split("<tbody>")[1]
    assert body == (
        '<tr class="err"><td>00:00:00</td><td>&lt;b&gt;x&lt;/b&gt;</td><td>-</td><td>error</td>'
        '<td class="num">1.2 ms</td><td class="num">1</td><td>E&amp;F</td></tr></tbody></table>'
    )


def test_the_page_embeds_data_that_cannot_close_its_script_tag():
    status = {
        "now": 0,
        "models": [],
        "history": [],
        "recent": [{"operation": "</script><script>alert(1)"}],
        "totals": {},
        "latency_ms": {},
        "rate_per_min": None,
    }
    page = render_page({"status": status, "tokens": {"by_model": []}}, "NONCE", "p</title>")
    assert "</script><script>alert(1)" not in page and "\\u003c/script\\u003e" in page
    assert "<title>devkit · p&lt;/title&gt;</title>" in page and page.count('nonce="NONCE"') == 2

"""A standard-library token estimator and a check of recorded token counts against it.

The estimate counts each word up to six characters as one token (longer words one more per six
characters, as BPE vocabularies split them) and each punctuation mark as one; a sanity check, not a tokenizer.
"""

import json
import re

_PIECES = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def estimate_tokens(text):
    """An estimate of how many tokens ``text`` takes in a typical BPE model."""
    count = 0
    for piece in _PIECES.findall(text or ""):
        count += 1 + (len(piece) - 1) // 6 if piece[0].isalnum() or piece[0] == "_" else 1
    return count


def prompt_text(body):
    """The prompt text inside a request body: chat ``messages`` contents, or ``prompt`` / ``input``."""
    try:
        doc = json.loads(body) if isinstance(body, str) else body
    except ValueError:
        return body if isinstance(body, str) else ""
    if not isinstance(doc, dict):
        return ""
    messages = doc.get("messages")
    if isinstance(messages, list):
        return "\n".join(
            m["content"] for m in messages if isinstance(m, dict) and isinstance(m.get("content"), str)
        )
    for key in ("prompt", "input"):
        if isinstance(doc.get(key), str):
            return doc[key]
    return ""


def check_records(records, tolerance):
    """One row per recorded count: op_id, field, reported, estimated, relative gap and whether it strays."""
    rows = []
    for record in records:
        response = record.get("response") or {}
        texts = {
            "prompt_tokens": prompt_text((record.get("request") or {}).get("body")),
            "completion_tokens": response.get("text"),
        }
        for field, text in texts.items():
            reported = response.get(field)
            if not isinstance(reported, int) or not text:
                continue
            estimated = estimate_tokens(text)
            gap = abs(reported - estimated) / max(estimated, 1)
            rows.append(
                {
                    "op_id": record.get("op_id"),
                    "field": field,
                    "reported": reported,
                    "estimated": estimated,
                    "gap": round(gap, 3),
                    "flagged": gap > tolerance,
                }
            )
    return rows

#!/bin/sh
# Post LLM-call events to a running `devkit serve` over HTTP, as any language or tool can:
# one JSON list to POST /api/events, all written or (on any bad event) none.
#   examples/post_events.sh [URL]     URL of the server, default http://127.0.0.1:8765
# DEVKIT_TOKEN: the server's token, when it has one (given to curl on stdin, never in argv).
# Needs curl, or wget when curl is missing. Exit 0 when the server accepted the batch.
set -eu

url="${1:-http://127.0.0.1:8765}"
events='[
  {"operation": "chat", "model": "llama3", "duration_ms": 812, "status": "ok",
   "prompt_tokens": 40, "completion_tokens": 200, "labels": {"route": "/ask"}},
  {"operation": "chat", "model": "llama3", "duration_ms": 30000, "status": "error", "error": "TimeoutError"},
  {"operation": "embed", "model": "nomic-embed-text", "duration_ms": 35, "status": "ok", "prompt_tokens": 64}
]'

if command -v curl >/dev/null 2>&1; then
  # The header comes from a config read on stdin: a token in argv would show in `ps`.
  header=""
  [ -z "${DEVKIT_TOKEN:-}" ] || header="header = \"Authorization: Bearer $DEVKIT_TOKEN\""
  printf '%s\n' "$header" | curl -sS --max-time 10 -K - -H 'Content-Type: application/json' \
    --data-binary "$events" -w '\nHTTP %{http_code}\n' "$url/api/events" > "${TMPDIR:-/tmp}/post_events.$$"
elif command -v wget >/dev/null 2>&1; then
  set -- --header='Content-Type: application/json'
  [ -z "${DEVKIT_TOKEN:-}" ] || set -- "$@" --header="Authorization: Bearer $DEVKIT_TOKEN"
  wget -q -T 10 -O - --content-on-error "$@" --post-data="$events" "$url/api/events" \
    > "${TMPDIR:-/tmp}/post_events.$$" && echo "HTTP 202" >> "${TMPDIR:-/tmp}/post_events.$$" || true
else
  echo "post_events.sh: needs curl or wget" >&2
  exit 2
fi

reply="$(cat "${TMPDIR:-/tmp}/post_events.$$")"
rm -f "${TMPDIR:-/tmp}/post_events.$$"
echo "$reply"
if echo "$reply" | grep -q '"accepted": *3' && echo "$reply" | grep -q '^HTTP 202$'; then
  exit 0
fi
echo "post_events.sh: the server did not accept the events" >&2
exit 1

#!/usr/bin/env bash
# Runs the official MCP conformance suite's authorization server scenarios (authorization-server-metadata-endpoint,
# then authorization-code-grant, which reads the metadata the first found: they run together, in one `conformance
# authorization` run) against examples/authorization-server.ts on a free port. The code grant scenario waits for a
# browser to follow its authorization URL to the callback server it opens on 127.0.0.1:3000; the example approves
# every request itself, so following the URL with curl is the whole "browser". .ci/conformance-check.mjs then fails
# the run unless both scenarios ran with no FAILURE, WARNING or SKIPPED check.
set -euo pipefail
cd "$(dirname "$0")/.."

ALPHA=0.2.0-alpha.12
OUT=$(mktemp -d)
PORT=$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })')
ISSUER="http://localhost:${PORT}"

node --import tsx examples/authorization-server.ts --port "$PORT" > "$OUT/server.log" 2>&1 &
SERVER=$!
SUITE=""
cleanup() {
  [ -n "$SUITE" ] && kill "$SUITE" 2>/dev/null || true
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 1 60); do
  curl -sf -o /dev/null "$ISSUER/.well-known/oauth-authorization-server" && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/server.log"; echo "the example exited" >&2; exit 1; }
  sleep 0.5
done
curl -sf -o /dev/null "$ISSUER/.well-known/oauth-authorization-server" || {
  cat "$OUT/server.log"
  echo "the example did not listen on $ISSUER" >&2
  exit 1
}

echo "== conformance ${ALPHA} authorization: authorization-server-metadata-endpoint, authorization-code-grant"
npx -y -p node@22 -p "@modelcontextprotocol/conformance@${ALPHA}" conformance authorization --url "$ISSUER" \
  --client-id conformance-client --client-secret conformance-secret --resource "$ISSUER/mcp" \
  -o "$OUT/results" > "$OUT/suite.log" 2>&1 &
SUITE=$!

# The "browser": follow the authorization URL the suite prints, once, to its callback.
followed=""
while kill -0 "$SUITE" 2>/dev/null; do
  url=$(grep -m1 -o "^${ISSUER}/authorize?[^ ]*" "$OUT/suite.log" || true)
  if [ -n "$url" ] && [ -z "$followed" ]; then
    curl -s -o /dev/null -L --max-time 30 "$url" || true
    followed=yes
  fi
  sleep 0.5
done
wait "$SUITE" || true
SUITE=""
grep -E "^=== Running scenario|Passed:|✓|✗" "$OUT/suite.log" || true

node .ci/conformance-check.mjs "${ALPHA} authorization server" "$OUT/results" 2

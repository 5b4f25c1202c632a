#!/usr/bin/env bash
# Runs the official MCP conformance suite against examples/everything-server.ts over Streamable HTTP.
# Every check of every scenario must be SUCCESS: a FAILURE, WARNING, INFO or SKIPPED check fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

STABLE=0.1.16
ALPHA=0.2.0-alpha.12
PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
URL="http://localhost:${PORT}/mcp"
OUT=$(mktemp -d)

# One process (no npx or tsx wrapper), so that stopping it stops the server.
node --import tsx examples/everything-server.ts --port "$PORT" > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT

node -e '
  const url = process.argv[1]
  const deadline = Date.now() + 60000
  const probe = () => fetch(url, { method: "DELETE", headers: { host: new URL(url).host } })
    .then(() => process.exit(0))
    .catch(() => Date.now() > deadline ? (console.error("server did not start"), process.exit(1)) : setTimeout(probe, 250))
  probe()
' "$URL"

run() {
  local version=$1; shift
  echo "== conformance ${version} $*"
  npx -y -p node@22 -p "@modelcontextprotocol/conformance@${version}" conformance server --url "$URL" "$@" \
    -o "$OUT/${version}" 2>&1 | grep -E '^(✓|✗|Total)' || true
}

run "$STABLE" --suite all
run "$ALPHA" --suite all --spec-version 2025-11-25

node .ci/conformance-check.mjs "$OUT/$STABLE" 32 "$OUT/$ALPHA" 33

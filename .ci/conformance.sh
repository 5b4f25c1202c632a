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

# The 2026-07-28 scenarios served so far (issue 10 is under way: skills are not), each
# of which must pass whole. They run on the stateless 2026-07-28 wire.
MODERN=(
  server-stateless caching http-header-validation http-custom-header-server-validation sep-2164-resource-not-found
  input-required-result-basic-elicitation input-required-result-basic-sampling input-required-result-basic-list-roots
  input-required-result-request-state input-required-result-multiple-input-requests input-required-result-multi-round
  input-required-result-missing-input-response input-required-result-non-tool-request input-required-result-result-type
  input-required-result-unsupported-methods input-required-result-tampered-state input-required-result-capability-check
  input-required-result-ignore-extra-params input-required-result-validate-input
  tasks-capability-negotiation tasks-dispatch-and-envelope tasks-lifecycle tasks-mrtr-input tasks-mrtr-composition
  tasks-request-headers
  tasks-request-state-removal tasks-required-task-error tasks-wire-fields
)
echo "== conformance ${ALPHA} 2026-07-28 scenarios"
for scenario in "${MODERN[@]}"; do
  npx -y -p node@22 -p "@modelcontextprotocol/conformance@${ALPHA}" conformance server --url "$URL" \
    --scenario "$scenario" -o "$OUT/modern" 2>&1 | grep -E '^(✓|✗)' || true
done

node .ci/conformance-check.mjs "$OUT/$STABLE" 32 "$OUT/$ALPHA" 33 "$OUT/modern" "${#MODERN[@]}"

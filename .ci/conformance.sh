#!/usr/bin/env bash
# Runs the official MCP conformance suite against examples/everything-server.ts over Streamable HTTP, three ways, each
# into a folder of its own, then .ci/conformance-check.mjs prints a per-scenario table and fails the run unless every
# scenario ran and no check is FAILURE, WARNING or SKIPPED (one known unconditional skip aside; see the check).
# There is no expected-failures file.
#
#   alpha.12 --suite all                  every scenario of every era and extension; each runs on the wire of its era
#                                         (2025-11-25 for those introduced up to then, 2026-07-28 for the rest and the
#                                         extensions), so it also covers what `--spec-version 2025-11-25` would run.
#   alpha.12 --requirements 2026-07-28    what the 2026-07-28 revision requires (and the extensions and pending
#                                         scenarios it reports unscored), all on the 2026-07-28 wire.
#   0.1.16 --suite all                    the last stable release.
set -euo pipefail
cd "$(dirname "$0")/.."

STABLE=0.1.16
ALPHA=0.2.0-alpha.12
# Scenarios each run produces with the versions above. Pinned, so that a scenario that silently does not run is caught;
# change them together with the versions.
ALPHA_ALL_SCENARIOS=65
ALPHA_2026_SCENARIOS=50
STABLE_ALL_SCENARIOS=32

PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
URL="http://localhost:${PORT}/mcp"
OUT=$(mktemp -d)

# One process (no npx or tsx wrapper), so that stopping it by its PID stops the server.
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

# run NAME VERSION ARGS...: the suite's own output goes to $OUT/NAME.log (its exit status is not the verdict: the check
# reads every checks.json), the results to $OUT/NAME.
run() {
  local name=$1 version=$2; shift 2
  echo "== conformance ${version} $* (${name})"
  local start=$SECONDS
  npx -y -p node@22 -p "@modelcontextprotocol/conformance@${version}" conformance server --url "$URL" "$@" \
    -o "$OUT/${name}" > "$OUT/${name}.log" 2>&1 || true
  grep -E '^(Total|Not scored)' "$OUT/${name}.log" || true
  echo "   ($((SECONDS - start))s)"
  if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "the server stopped during ${name}; its log:" >&2
    tail -n 50 "$OUT/server.log" >&2
    exit 1
  fi
}

run alpha-all "$ALPHA" --suite all
run alpha-2026-07-28 "$ALPHA" --requirements 2026-07-28
run stable-all "$STABLE" --suite all

node .ci/conformance-check.mjs \
  "${ALPHA} --suite all" "$OUT/alpha-all" "$ALPHA_ALL_SCENARIOS" \
  "${ALPHA} --requirements 2026-07-28" "$OUT/alpha-2026-07-28" "$ALPHA_2026_SCENARIOS" \
  "${STABLE} --suite all" "$OUT/stable-all" "$STABLE_ALL_SCENARIOS"

#!/usr/bin/env bash
# Runs the official MCP conformance suite's client scenarios against examples/everything-client.ts, each named (the
# suite has no run of every non-authorization client scenario: `--suite all` and `--requirements` include the auth/
# scenarios, which belong to the authorization work). Each scenario runs on its own era's wire, and the scenarios the
# 2026-07-28 revision also requires run again on its wire. .ci/conformance-check.mjs then prints the table and fails the
# run unless every scenario ran with no FAILURE, WARNING or SKIPPED check. There is no expected-failures file.
set -euo pipefail
cd "$(dirname "$0")/.."

ALPHA=0.2.0-alpha.12
SCENARIOS=(
  initialize tools_call elicitation-sep1034-client-defaults sse-retry request-metadata sep-2322-client-request-state
  http-standard-headers http-custom-headers http-invalid-tool-headers json-schema-ref-no-deref
  json-schema-2020-12-preservation sep-2640-client-no-prefetch sep-2640-client-verify-digest
  sep-2640-client-verify-size sep-2640-client-verify-frontmatter
)
ON_2026=(tools_call json-schema-2020-12-preservation)
CLIENT="node --import tsx examples/everything-client.ts"
OUT=$(mktemp -d)

# run NAME SCENARIO ARGS...: the suite's output goes to $OUT/NAME.log; the verdict is the check's, from checks.json.
run() {
  local name=$1 scenario=$2; shift 2
  npx -y -p node@22 -p "@modelcontextprotocol/conformance@${ALPHA}" conformance client --command "$CLIENT" \
    --scenario "$scenario" -o "$OUT/${name}" "$@" >> "$OUT/${name}.log" 2>&1 || true
}

echo "== conformance ${ALPHA} client scenarios"
for scenario in "${SCENARIOS[@]}"; do run own-era "$scenario"; done
echo "== conformance ${ALPHA} client scenarios --spec-version 2026-07-28"
for scenario in "${ON_2026[@]}"; do run on-2026 "$scenario" --spec-version 2026-07-28; done

node .ci/conformance-check.mjs \
  "${ALPHA} client, each scenario's own era" "$OUT/own-era" "${#SCENARIOS[@]}" \
  "${ALPHA} client --spec-version 2026-07-28" "$OUT/on-2026" "${#ON_2026[@]}"

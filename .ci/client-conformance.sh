#!/usr/bin/env bash
# Runs the official MCP conformance suite's client scenarios against examples/everything-client.ts, each named (the
# suite has no run of every client scenario one at a time: `--suite all` and `--requirements` start them all at
# once). Each scenario runs on its own era's wire, and the scenarios the 2026-07-28 revision also requires run
# again on its wire, the auth/ scenarios of earlier revisions too. The auth/ scenarios sign in through OAuthClient
# with a headless authorization handler (the suite's authorization servers approve at once). The auth/ scenarios of
# `--requirements 2026-07-28` are all here, one at a time on its wire; that run itself is left out, since it starts
# every scenario at once. The extension scenarios (client credentials, workload identity, enterprise-managed
# authorization, DPoP) sign in with the OAuthGrants grants and the Dpop token binding; they are on no spec version's
# timeline, and the suite skips them under --spec-version.
# .ci/conformance-check.mjs then prints the table and fails the run unless every scenario ran with no FAILURE, WARNING
# or SKIPPED check. There is no expected-failures file.
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
# The auth/ scenarios of earlier revisions that 2026-07-28 also requires (`conformance list` shows their versions).
AUTH_ON_2026=(
  metadata-default metadata-var1 metadata-var2 metadata-var3 basic-cimd scope-from-www-authenticate
  scope-from-scopes-supported scope-omitted-when-undefined scope-step-up scope-retry-limit token-endpoint-auth-basic
  token-endpoint-auth-post token-endpoint-auth-none pre-registration
)
AUTH=(
  metadata-default metadata-var1 metadata-var2 metadata-var3 basic-cimd scope-from-www-authenticate
  scope-from-scopes-supported scope-omitted-when-undefined scope-step-up scope-retry-limit token-endpoint-auth-basic
  token-endpoint-auth-post token-endpoint-auth-none pre-registration 2025-03-26-oauth-metadata-backcompat
  2025-03-26-oauth-endpoint-fallback resource-mismatch offline-access-scope offline-access-not-supported
  authorization-server-migration iss-supported iss-not-advertised iss-supported-missing iss-wrong-issuer iss-unexpected
  iss-normalized metadata-issuer-mismatch
)
EXTENSIONS=(
  client-credentials-basic client-credentials-jwt wif-jwt-bearer enterprise-managed-authorization dpop dpop-nonce
)
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
echo "== conformance ${ALPHA} client auth/ scenarios"
# The suite saves an auth/ scenario in <dir>/auth/<name>-<timestamp>.
for scenario in "${AUTH[@]}"; do run auth "auth/$scenario"; done
echo "== conformance ${ALPHA} client extension auth/ scenarios"
for scenario in "${EXTENSIONS[@]}"; do run extensions "auth/$scenario"; done
echo "== conformance ${ALPHA} client scenarios --spec-version 2026-07-28"
for scenario in "${ON_2026[@]}"; do run on-2026 "$scenario" --spec-version 2026-07-28; done
for scenario in "${AUTH_ON_2026[@]}"; do run auth-on-2026 "auth/$scenario" --spec-version 2026-07-28; done

# What the 2026-07-28 revision requires of a client, as the suite runs it (every scenario at once, auth/ and the
# extensions it reports unscored included): 8 scenarios at the top and 31 under auth/.
echo "== conformance ${ALPHA} client --requirements 2026-07-28"
npx -y -p node@22 -p "@modelcontextprotocol/conformance@${ALPHA}" conformance client --command "$CLIENT" \
  --requirements 2026-07-28 -o "$OUT/requirements" >> "$OUT/requirements.log" 2>&1 || true

node .ci/conformance-check.mjs \
  "${ALPHA} client, each scenario's own era" "$OUT/own-era" "${#SCENARIOS[@]}" \
  "${ALPHA} client auth/, each scenario's own era" "$OUT/auth/auth" "${#AUTH[@]}" \
  "${ALPHA} client extension auth/" "$OUT/extensions/auth" "${#EXTENSIONS[@]}" \
  "${ALPHA} client --spec-version 2026-07-28" "$OUT/on-2026" "${#ON_2026[@]}" \
  "${ALPHA} client auth/ --spec-version 2026-07-28" "$OUT/auth-on-2026/auth" "${#AUTH_ON_2026[@]}" \
  "${ALPHA} client --requirements 2026-07-28" "$OUT/requirements" 8 \
  "${ALPHA} client auth/ --requirements 2026-07-28" "$OUT/requirements/auth" 31

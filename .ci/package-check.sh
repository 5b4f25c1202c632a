#!/usr/bin/env bash
# The package as a user gets it: `npm pack`, installed in an empty folder with only the registry's packages, then a
# small server compiled with plain tsc (strict, exactOptionalPropertyTypes; nodenext and bundler resolution, no
# skipLibCheck) and run with plain node, answering a tools/call over stdio. And npm refuses an unsupported effect.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

npm pack --silent --pack-destination "$WORK" > /dev/null
TARBALL=$(ls "$WORK"/mcp-effect-*.tgz)
peer() { node -e "console.log(require('./package.json').peerDependencies['$1'])"; }
EFFECT=$(peer effect)
PLATFORM=$(peer @effect/platform)
PLATFORM_NODE=$(peer @effect/platform-node)

mkdir "$WORK/app" && cd "$WORK/app"
echo '{ "name": "app", "private": true, "type": "module" }' > package.json
cp "$ROOT/.ci/package/server.ts" .
npm install --no-audit --no-fund --silent "$TARBALL" "effect@$EFFECT" "@effect/platform@$PLATFORM" \
  "@effect/platform-node@$PLATFORM_NODE" typescript@5.9 @types/node@20
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true,
  "exactOptionalPropertyTypes": true, "outDir": "out", "types": ["node"] }, "include": ["server.ts"] }
JSON
cat > tsconfig.bundler.json <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "ESNext", "moduleResolution": "bundler", "strict": true,
  "exactOptionalPropertyTypes": true, "noEmit": true, "types": ["node"] }, "include": ["server.ts"] }
JSON
npx tsc -p tsconfig.json
npx tsc -p tsconfig.bundler.json
ANSWER=$(
  {
    echo '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"ci","version":"1"}}}'
    echo '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    echo '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}'
    sleep 3
  } | timeout 30 node out/server.js | grep '"id":2'
)
echo "$ANSWER" | grep -q '"structuredContent":{"result":3}' || { echo "package check: unexpected answer: $ANSWER"; exit 1; }

mkdir "$WORK/old" && cd "$WORK/old"
echo '{ "name": "old", "private": true, "type": "module" }' > package.json
if npm install --no-audit --no-fund --silent --dry-run "$TARBALL" effect@2 > /dev/null 2>&1; then
  echo "package check: npm accepted effect 2 beside mcp-effect"
  exit 1
fi
echo "package check: the packed package compiles (nodenext, bundler) and serves a tools/call; npm refuses effect 2"

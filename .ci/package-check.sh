#!/usr/bin/env bash
# The package as a user gets it: `npm pack`, installed in an empty folder with only the registry's packages, then a
# small server compiled with plain tsc (strict, exactOptionalPropertyTypes; nodenext and bundler resolution, no
# skipLibCheck) and run with plain node, answering a tools/call over stdio; the README's quick start with the
# `mcp-effect` command line. And npm refuses an unsupported effect.
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
SQL=$(peer @effect/sql)
SQL_PG=$(peer @effect/sql-pg)
CLUSTER=$(peer @effect/cluster)
WORKFLOW=$(peer @effect/workflow)

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

# mcp-effect/cluster with its optional peers (the app above has none, and its core entry runs without them; npm adds
# @effect/cluster's and @effect/workflow's own peers): compiled
# (nodenext, bundler) and loaded with plain node. @types/pg because @effect/sql-pg's declarations import pg's types
# without depending on them (a user compiling without skipLibCheck installs it too).
mkdir "$WORK/cluster" && cd "$WORK/cluster"
echo '{ "name": "cluster", "private": true, "type": "module" }' > package.json
cp "$ROOT/.ci/package/cluster.ts" .
npm install --no-audit --no-fund --silent "$TARBALL" "effect@$EFFECT" "@effect/platform@$PLATFORM" \
  "@effect/platform-node@$PLATFORM_NODE" "@effect/sql@$SQL" "@effect/sql-pg@$SQL_PG" "@effect/cluster@$CLUSTER" \
  "@effect/workflow@$WORKFLOW" @types/pg@8 typescript@5.9 @types/node@20
sed 's/server\.ts/cluster.ts/' "$WORK/app/tsconfig.json" > tsconfig.json
sed 's/server\.ts/cluster.ts/' "$WORK/app/tsconfig.bundler.json" > tsconfig.bundler.json
npx tsc -p tsconfig.json
npx tsc -p tsconfig.bundler.json
[ "$(node out/cluster.js)" = "cluster: ok" ] || { echo "package check: mcp-effect/cluster did not load"; exit 1; }

# The README's quick start as a new user follows it: only mcp-effect and effect asked for (npm adds the peers), the
# README's server.ts, and the command line on it: call and list run the .ts file through `mcp-effect run`, and the
# host configuration that install writes starts the server from another working directory.
mkdir "$WORK/quick" && cd "$WORK/quick"
echo '{ "name": "quick", "private": true, "type": "module" }' > package.json
node -e '
  const readme = require("fs").readFileSync(process.argv[1], "utf8")
  const block = /```ts\n\/\/ server\.ts\n([\s\S]*?)```/.exec(readme)
  if (block === null) { console.error("package check: no server.ts block in the README"); process.exit(1) }
  process.stdout.write(block[1])' "$ROOT/README.md" > server.ts
npm install --no-audit --no-fund --silent "$TARBALL" "effect@$EFFECT"
CALLED=$(npx mcp-effect call server.ts add a=1 b=2)
[ "$CALLED" = '{"result":3}' ] || { echo "package check: mcp-effect call printed: $CALLED"; exit 1; }
npx mcp-effect list server.ts | grep -q 'add(a: number, b: number)' || { echo "package check: mcp-effect list"; exit 1; }
mkdir "$WORK/home"
HOME="$WORK/home" XDG_CONFIG_HOME="" npx mcp-effect install server.ts --client claude-desktop
HOSTED=$(cd / && node -e '
  const { spawn } = require("child_process")
  const config = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).mcpServers.server
  const child = spawn(config.command, config.args, { stdio: ["pipe", "pipe", "inherit"] })
  child.stdout.on("data", (d) => process.stdout.write(d))
  child.stdin.end([
    { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "ci", version: "1" } } },
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 2, method: "resources/read", params: { uri: "greeting://CI" } }
  ].map((m) => JSON.stringify(m) + "\n").join(""))' "$WORK/home/.config/Claude/claude_desktop_config.json")
echo "$HOSTED" | grep -q 'Hello, CI!' || { echo "package check: the installed host configuration answered: $HOSTED"; exit 1; }

mkdir "$WORK/old" && cd "$WORK/old"
echo '{ "name": "old", "private": true, "type": "module" }' > package.json
if npm install --no-audit --no-fund --silent --dry-run "$TARBALL" effect@2 > /dev/null 2>&1; then
  echo "package check: npm accepted effect 2 beside mcp-effect"
  exit 1
fi
echo "package check: the packed package compiles (nodenext, bundler) and serves a tools/call; mcp-effect/cluster"
echo "  compiles and loads with its optional peers; the README's quick start"
echo "  runs through the command line (call, list, install); npm refuses effect 2"

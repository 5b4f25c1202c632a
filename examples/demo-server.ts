/**
 * The demo server that `npm start` runs over stdio: a tool, a resource
 * template with completion, a static resource and a prompt.
 *
 *   npm start
 *   npm run cli -- dev examples/demo-server.ts      # with the MCP Inspector
 *   npm run cli -- install examples/demo-server.ts --client claude-desktop
 */
import { Effect, Layer, Schema } from "effect"
import { McpServer, RequestContext } from "mcp-effect"
import { NodeHttp, NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const Add = McpServer.tool("add", {
  description: "Add two numbers",
  parameters: { a: Schema.Number, b: Schema.Number },
  success: Schema.Number,
  annotations: { readOnlyHint: true }
}, ({ a, b }) => Effect.succeed(a + b))

const Countdown = McpServer.tool("countdown", {
  description: "Count down from n, one step a second, reporting progress",
  parameters: { n: Schema.Int.pipe(Schema.between(1, 30)) }
}, ({ n }) =>
  Effect.gen(function*() {
    for (let i = n; i > 0; i--) {
      yield* RequestContext.progress(n - i, n, `${i}...`)
      yield* Effect.sleep("1 second")
    }
    yield* Effect.logInfo("Countdown finished")
    return "Liftoff!"
  }))

const Greeting = McpServer.resource("greeting://{name}", {
  name: "greeting",
  description: "A personalized greeting",
  complete: { name: (value) => Effect.succeed(["Ada", "Grace", "Linus"].filter((n) => n.startsWith(value))) }
}, ({ name }) => Effect.succeed(`Hello, ${name}!`))

const About = McpServer.resource(
  "demo://about",
  { name: "about", mimeType: "text/markdown" },
  () => Effect.succeed("# mcp-effect demo\n\nTools: `add`, `countdown`. Try `greeting://Ada`.")
)

const Review = McpServer.prompt("review_code", {
  description: "Ask for a code review",
  parameters: { code: Schema.String, language: Schema.optional(Schema.String) },
  complete: { language: (value) => Effect.succeed(["python", "rust", "typescript"].filter((l) => l.startsWith(value))) }
}, ({ code, language }) => Effect.succeed(`Please review this ${language ?? ""} code:\n\n${code}`))

export const DemoServer = Layer.mergeAll(Add, Countdown, Greeting, About, Review).pipe(
  Layer.provideMerge(McpServer.layer({
    name: "mcp-effect-demo",
    title: "mcp-effect demo",
    version: "0.1.0",
    instructions: "Use add for arithmetic, countdown to see progress, and read greeting://{name}."
  }))
)

/** The server layer, which `npx mcp-effect run examples/demo-server.ts` serves. */
export default DemoServer

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2)
  if (args.includes("--http")) {
    // npm start -- --http [--port N]: the URL is printed once the server listens.
    const port = args.includes("--port") ? Number(args[args.indexOf("--port") + 1]) : 3000
    NodeHttp.run(DemoServer, { port })
  } else {
    process.stderr.write(
      "mcp-effect demo server on stdio. To connect an MCP host, write its configuration with " +
        "`npm run cli -- install examples/demo-server.ts --client claude-desktop`; to try it, " +
        "`npm run cli -- dev examples/demo-server.ts` (the MCP Inspector) or `npm start -- --http`\n"
    )
    NodeStdio.run(DemoServer)
  }
}

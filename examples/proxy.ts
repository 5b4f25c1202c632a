/**
 * A proxy: one server that re-exposes two others, each spawned over stdio,
 * under prefixes: `interactive_book_table`, `progress_long_task`… What
 * happens during a call goes both ways: the upstream server's progress and
 * logs reach the client of the proxy, cancelling a call cancels it upstream,
 * and the upstream server's elicitation and sampling requests are asked of
 * that client. Served over stdio, or Streamable HTTP with `--http`.
 *
 *   npx tsx examples/proxy.ts            # over stdio
 *   npx tsx examples/proxy.ts --http     # http://127.0.0.1:3000/mcp
 */
import { Layer } from "effect"
import type { McpClients } from "mcp-effect"
import { McpProxy, McpServer } from "mcp-effect"
import { NodeHttp, NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

/** A proxy of `upstreams`, each under its name, served by a server of its own. */
export const proxy = <C extends McpClients.Connections>(upstreams: C) =>
  McpProxy.layer(upstreams).pipe(
    Layer.provideMerge(McpServer.layer({
      name: "proxy",
      version: "1.0.0",
      // Declared whatever the upstream servers serve when a client connects: one may be down then, and come back.
      capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true } }
    }))
  )

/** Two of the examples, each in a process of its own (their stderr stays ours: they log there). */
export const ProxyServer = proxy({
  interactive: NodeStdio.connect({ command: "npx", args: ["tsx", "examples/elicitation-sampling.ts"] }),
  progress: NodeStdio.connect({ command: "npx", args: ["tsx", "examples/progress-logging.ts"] })
})

/** The server layer, which `npx mcp-effect run examples/proxy.ts` serves. */
export default ProxyServer

if (isMain(import.meta.url)) {
  if (process.argv.includes("--http")) NodeHttp.run(ProxyServer, { port: 3000 })
  else NodeStdio.run(ProxyServer)
}

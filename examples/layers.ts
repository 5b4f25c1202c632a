/**
 * Transports as layers: the same server over stdio or Streamable HTTP, composed
 * and launched like any Effect program.
 *
 *   npx tsx examples/layers.ts            # stdio
 *   npx tsx examples/layers.ts --http     # http://127.0.0.1:3002/mcp
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"
import { McpServer } from "mcp-effect"
import { NodeHttp, NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const Shout = McpServer.tool("shout", {
  description: "Upper-cases the text",
  parameters: { text: Schema.String }
}, ({ text }) => Effect.succeed(text.toUpperCase()))

export const LayersServer = Shout.pipe(Layer.provideMerge(McpServer.layer({ name: "Layers", version: "1.0.0" })))

/** The transport is one more layer: pick it, provide the server, launch. */
const Transport = process.argv.includes("--http") ? Layer.discard(NodeHttp.layer({ port: 3002 })) : NodeStdio.layer

/** The server layer, which `npx mcp-effect run examples/layers.ts` serves. */
export default LayersServer

if (isMain(import.meta.url)) {
  Transport.pipe(
    Layer.provide(LayersServer),
    Layer.launch,
    Effect.provide(NodeStdio.layerStderrLogger),
    NodeRuntime.runMain({ disablePrettyLogger: true })
  )
}

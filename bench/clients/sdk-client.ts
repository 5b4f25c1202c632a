/** The client benchmark's official SDK v1 client: `Client` over `StdioClientTransport` or `StreamableHTTPClientTransport`. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import type { Run } from "./harness.js"
import { check, config, fail, loop, serve, TEXT } from "./harness.js"

// Over HTTP the SDK client adds an abort listener per request to one AbortSignal and Node warns past 1,500 of them,
// once per request from then on: those warnings (and only those) are counted, and reported once at the end.
let listenerWarnings = 0
process.removeAllListeners("warning")
process.on("warning", (warning) => {
  if (warning.name === "MaxListenersExceededWarning") listenerWarnings++
  else process.stderr.write(`${warning.name}: ${warning.message}\n`)
})
process.on("exit", () => {
  if (listenerWarnings > 0) {
    process.stderr.write(`official SDK client: ${listenerWarnings} MaxListenersExceededWarning\n`)
  }
})

const main = async () => {
  // The SDK's latest revision is 2025-11-25, the one the bench pins for our client too.
  const client = new Client({ name: "bench-sdk", version: "1" })
  if (config.transport === "stdio") {
    const transport = new StdioClientTransport({ command: config.command, args: [...config.args], stderr: "inherit" })
    await client.connect(transport)
    serve(transport.pid ?? undefined, phase(client), () => client.close())
  } else {
    await client.connect(new StreamableHTTPClientTransport(new URL(config.url)))
    serve(undefined, phase(client), () => client.close())
  }
  if (client.getServerVersion() === undefined) throw new Error("not initialized")
}

const phase = (client: Client) => (run: Run) =>
  loop(run, async () => {
    const result = await client.callTool({ name: "echo", arguments: { text: TEXT } })
    check((result.content as Array<{ text?: string }>)[0]?.text)
  })

main().catch(fail)

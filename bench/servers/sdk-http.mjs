// The HTTP benchmark's official-SDK server: the same `echo` and `echo-progress` tools, one McpServer and transport per session (the
// SDK's documented pattern), JSON or SSE responses by --json, plus /__heap.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js"
import { randomUUID } from "node:crypto"
import { createServer } from "node:http"
import { z } from "zod"

const json = process.argv.includes("--json")
const transports = new Map()

const readBody = (req) =>
  new Promise((resolve) => {
    let data = ""
    req.on("data", (c) => (data += c))
    req.on("end", () => resolve(data ? JSON.parse(data) : undefined))
  })

const server = createServer({ requestTimeout: 0 }, async (req, res) => {
  if (req.url === "/__heap") {
    globalThis.gc?.()
    return res.end(String(process.memoryUsage().heapUsed))
  }
  const body = req.method === "POST" ? await readBody(req) : undefined
  const sessionId = req.headers["mcp-session-id"]
  let transport = sessionId ? transports.get(sessionId) : undefined
  if (!transport && isInitializeRequest(body)) {
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: json,
      onsessioninitialized: (id) => transports.set(id, transport)
    })
    const mcp = new McpServer({ name: "bench-sdk", version: "1.0.0" })
    mcp.registerTool(
      "echo",
      { description: "Echo the text back", inputSchema: { text: z.string() } },
      async ({ text }) => ({
        content: [{ type: "text", text }]
      })
    )
    mcp.registerTool("echo-progress", {
      description: "Report progress, then echo the text back",
      inputSchema: { text: z.string() }
    }, async ({ text }, extra) => {
      const progressToken = extra._meta?.progressToken
      if (progressToken !== undefined) {
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress: 1, total: 1 }
        })
      }
      return { content: [{ type: "text", text }] }
    })
    await mcp.connect(transport)
  }
  if (!transport) {
    res.writeHead(400).end()
    return
  }
  await transport.handleRequest(req, res, body)
})
server.listen(0, "127.0.0.1", () => process.stdout.write(`listening ${server.address().port}\n`))

// The benchmark's official-SDK server: the same `echo` tool over stdio.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { z } from "zod"

const server = new McpServer({ name: "bench-sdk", version: "1.0.0" })
server.registerTool(
  "echo",
  { description: "Echo the text back", inputSchema: { text: z.string() } },
  async ({ text }) => ({
    content: [{ type: "text", text }]
  })
)
await server.connect(new StdioServerTransport())

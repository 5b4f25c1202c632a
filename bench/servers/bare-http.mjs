// A floor for comparison: a bare node:http endpoint that parses, answers and writes, with no sessions or validation.
import { createServer } from "node:http"

const server = createServer((req, res) => {
  let data = ""
  req.on("data", (c) => (data += c))
  req.on("end", () => {
    const message = JSON.parse(data)
    const result = message.method === "initialize"
      ? { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "bare", version: "1" } }
      : { content: [{ type: "text", text: message.params?.arguments?.text ?? "" }] }
    if (message.id === undefined) return res.writeHead(202).end()
    res.writeHead(200, { "content-type": "application/json" })
    res.end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }))
  })
})
server.listen(0, "127.0.0.1", () => process.stdout.write(`listening ${server.address().port}\n`))

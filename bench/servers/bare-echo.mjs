// A floor for comparison: a bare Node loop that parses, answers and writes, with no validation.
import { createInterface } from "node:readline"

const rl = createInterface({ input: process.stdin })
rl.on("line", (line) => {
  const message = JSON.parse(line)
  if (message.id === undefined) return
  const result = message.method === "initialize"
    ? { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "bare", version: "1" } }
    : { content: [{ type: "text", text: message.params?.arguments?.text ?? "" }] }
  process.stdout.write(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }) + "\n")
})

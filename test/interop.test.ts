import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { CreateMessageRequestSchema, ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

/** The official TypeScript SDK client, driving our servers over real stdio. */
const connect = async (example: string, capabilities: Record<string, unknown> = {}) => {
  const client = new Client({ name: "official-sdk", version: "1.0.0" }, { capabilities })
  await client.connect(
    new StdioClientTransport({ command: "node_modules/.bin/tsx", args: [example], stderr: "ignore" })
  )
  return client
}

describe("official TypeScript SDK client", () => {
  let demo: Client
  beforeAll(async () => {
    demo = await connect("examples/demo-server.ts")
  }, 30_000)
  afterAll(() => demo.close())

  it("initializes and reads the server's identity", () => {
    expect(demo.getServerVersion()).toMatchObject({ name: "mcp-effect-demo", version: "0.1.0" })
    expect(demo.getServerCapabilities()).toMatchObject({ tools: { listChanged: true }, prompts: {}, resources: {} })
    expect(demo.getInstructions()).toMatch(/add/)
  })

  it("lists and calls tools, validating structured output against the output schema", async () => {
    const { tools } = await demo.listTools()
    expect(tools.map((t) => t.name)).toEqual(["add", "countdown"])
    const result = await demo.callTool({ name: "add", arguments: { a: 2, b: 40 } })
    expect(result.structuredContent).toEqual({ result: 42 })
  })

  it("receives progress", async () => {
    const progress: Array<number> = []
    const result = await demo.callTool({ name: "countdown", arguments: { n: 2 } }, undefined, {
      onprogress: (p) => progress.push(p.progress)
    })
    expect(result.content).toEqual([{ type: "text", text: "Liftoff!" }])
    expect(progress).toEqual([0, 1])
  })

  it("reads resources and templates, gets prompts and completes", async () => {
    const { resourceTemplates } = await demo.listResourceTemplates()
    expect(resourceTemplates[0]?.uriTemplate).toBe("greeting://{name}")
    const read = await demo.readResource({ uri: "greeting://Ada" })
    expect(read.contents).toEqual([{ uri: "greeting://Ada", mimeType: "text/plain", text: "Hello, Ada!" }])
    const prompt = await demo.getPrompt({ name: "review_code", arguments: { code: "x", language: "rust" } })
    expect(prompt.messages[0]?.content).toMatchObject({ type: "text" })
    const completion = await demo.complete({
      ref: { type: "ref/resource", uri: "greeting://{name}" },
      argument: { name: "name", value: "G" }
    })
    expect(completion.completion.values).toEqual(["Grace"])
    await expect(demo.readResource({ uri: "nope://x" })).rejects.toMatchObject({ code: -32002 })
  })

  it("answers sampling and elicitation requests from our server", async () => {
    const client = await connect("examples/elicitation-sampling.ts", { sampling: {}, elicitation: { form: {} } })
    try {
      client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
        role: "assistant",
        model: "fake",
        content: { type: "text", text: `poem: ${JSON.stringify(request.params.messages[0]?.content)}` }
      }))
      client.setRequestHandler(ElicitRequestSchema, async () => ({
        action: "accept",
        content: { checkAlternative: true, alternativeDate: "2026-12-26" }
      }))
      const poem = await client.callTool({ name: "generate_poem", arguments: { topic: "effects" } })
      expect(JSON.stringify(poem.content)).toMatch(/poem: .*effects/)
      const booking = await client.callTool({ name: "book_table", arguments: { date: "2026-12-25", partySize: 2 } })
      expect(booking.content).toEqual([{ type: "text", text: "Booked for 2 on 2026-12-26" }])
    } finally {
      await client.close()
    }
  }, 30_000)
})

/**
 * Elicitation and sampling: a tool asks the user for structured input (form
 * mode), sends them to a URL (URL mode), and asks the client's model to write
 * something.
 *
 *   npx tsx examples/elicitation-sampling.ts
 */
import { Effect, Layer, Schema } from "effect"
import { McpServer, RequestContext } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const Alternative = Schema.Struct({
  checkAlternative: Schema.Boolean.annotations({ description: "Would you like to check another date?" }),
  alternativeDate: Schema.String.annotations({ description: "Alternative date (YYYY-MM-DD)", default: "2026-12-25" })
})

const BookTable = McpServer.tool("book_table", {
  description: "Book a table, asking for another date if the first is full",
  parameters: { date: Schema.String, partySize: Schema.Int }
}, ({ date, partySize }) =>
  Effect.gen(function*() {
    if (date !== "2026-12-25") return `Booked for ${partySize} on ${date}`
    const answer = yield* RequestContext.elicit(`No tables for ${partySize} on ${date}. Another date?`, Alternative)
    if (answer.action === "accept" && answer.content.checkAlternative) {
      return `Booked for ${partySize} on ${answer.content.alternativeDate}`
    }
    return "No booking made"
  }))

const Connect = McpServer.tool("connect_account", {
  description: "Connect a third-party account (the secret never passes through the client)"
}, () =>
  Effect.map(
    RequestContext.elicitUrl({
      message: "Authorize access to your account",
      url: "https://example.com/oauth/authorize",
      elicitationId: crypto.randomUUID()
    }),
    (result) => `Authorization ${result.action}`
  ))

const Poem = McpServer.tool(
  "generate_poem",
  {
    description: "Write a poem with the client's model",
    parameters: { topic: Schema.String }
  },
  ({ topic }) =>
    Effect.map(RequestContext.sample(`Write a short poem about ${topic}`, { maxTokens: 100 }), (result) => {
      const content = Array.isArray(result.content) ? result.content[0] : result.content
      return content?.type === "text" ? content.text : JSON.stringify(content)
    })
)

export const InteractiveServer = Layer.mergeAll(BookTable, Connect, Poem).pipe(
  Layer.provideMerge(McpServer.layer({ name: "Interactive", version: "1.0.0" }))
)

/** The server layer, which `npx mcp-effect run examples/elicitation-sampling.ts` serves. */
export default InteractiveServer

if (isMain(import.meta.url)) NodeStdio.run(InteractiveServer)

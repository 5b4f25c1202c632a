/**
 * Skills: instructions an agent loads when a task calls for them, served beside
 * the tool they teach it to use. One skill is written here; the others are read
 * from the folder `examples/skills/` (each folder with a SKILL.md is a skill).
 *
 *   npx mcp-effect run examples/skills.ts
 *   npx mcp-effect read examples/skills.ts skill://refund-policy/SKILL.md
 */
import { NodeContext } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"
import { McpServer, Skill } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { fileURLToPath } from "node:url"
import { isMain } from "./internal/isMain.js"

const Refund = McpServer.tool("refund", {
  description: "Refund an order, in full or in part",
  parameters: { order: Schema.String, amount: Schema.Number.pipe(Schema.positive()) },
  success: Schema.Struct({ order: Schema.String, amount: Schema.Number, days: Schema.Number })
}, ({ amount, order }) => Effect.succeed({ order, amount, days: amount > 500 ? 10 : 3 }))

/** A skill written in code: its SKILL.md is made from these fields. */
const RefundPolicy = Skill.make("refund-policy", {
  description: "Decide whether and how much to refund, by the house rules",
  instructions: [
    "# Refund policy",
    "",
    "- Refund in full within 30 days of delivery; after that, only faulty goods.",
    "- Above 500 EUR, ask a second person before you call `refund` (see [limits](references/limits.md)).",
    "- Then write to the customer with the `customer-letters` skill."
  ].join("\n"),
  files: {
    "references/limits.md":
      "| Amount | Approval |\n| --- | --- |\n| ≤ 500 EUR | none |\n| > 500 EUR | a second agent |\n"
  }
})

/** Every skill in the folder beside this file, read once when the server starts. */
const folder = fileURLToPath(new URL("skills", import.meta.url))

export const SkillsServer = Layer.mergeAll(
  Refund,
  McpServer.skills([RefundPolicy]),
  McpServer.skills(Skill.fromDirectory(folder)).pipe(Layer.provide(NodeContext.layer))
).pipe(Layer.provideMerge(McpServer.layer({ name: "support", version: "1.0.0" })))

/** The server layer, which `npx mcp-effect run examples/skills.ts` serves. */
export default SkillsServer

if (isMain(import.meta.url)) NodeStdio.run(SkillsServer)

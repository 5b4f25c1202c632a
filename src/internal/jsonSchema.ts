import { JSONSchema } from "effect"
import type { Schema } from "effect"

export type JsonObject = Record<string, unknown>

const isObject = (u: unknown): u is JsonObject => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * The JSON Schema (dialect 2020-12) of a schema, as MCP carries it: without
 * `$schema` (2020-12 is the default when it is absent, and older validators in
 * clients refuse the 2020-12 URI) and with a top-level `$ref` inlined, so that
 * the root keeps its `type: "object"`.
 */
export const rootJsonSchema = (schema: Schema.Schema.Any): JsonObject => {
  const generated: JsonObject = { ...JSONSchema.make(schema, { target: "jsonSchema2020-12" }) }
  const { $schema: _, ...json } = generated
  const ref = json.$ref
  if (typeof ref !== "string" || !ref.startsWith("#/$defs/")) return json
  const { $defs, $ref: __, ...rest } = json
  const name = ref.slice("#/$defs/".length)
  const defs: JsonObject = isObject($defs) ? { ...$defs } : {}
  const root = defs[name]
  if (!isObject(root)) return json
  // Other definitions may still refer to the root, so keep it in $defs then.
  const stillReferenced = JSON.stringify({ ...defs, [name]: undefined, root }).includes(`"${ref}"`)
  if (!stillReferenced) delete defs[name]
  return { ...rest, ...root, ...(Object.keys(defs).length > 0 ? { $defs: defs } : {}) }
}

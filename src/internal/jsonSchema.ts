import { JSONSchema } from "effect"
import type { Schema } from "effect"
import { isRecord as isObject } from "./guards.js"

export type JsonObject = Record<string, unknown>

const DEFS = "#/$defs/"

/**
 * Replaces `$ref`s to `$defs` by the definitions themselves, since many model
 * clients read references poorly. A recursive definition stays a reference,
 * and then `$defs` keeps what is still referenced.
 */
const inlineRefs = (root: JsonObject): JsonObject => {
  const defs = isObject(root.$defs) ? root.$defs : {}
  const kept = new Set<string>()
  const visit = (node: unknown, inlining: ReadonlySet<string>): unknown => {
    if (Array.isArray(node)) return node.map((item) => visit(item, inlining))
    if (!isObject(node)) return node
    const ref = node.$ref
    if (typeof ref === "string" && ref.startsWith(DEFS)) {
      const name = ref.slice(DEFS.length)
      const target = defs[name]
      if (isObject(target) && !inlining.has(name)) {
        const { $ref: _, ...siblings } = node
        return {
          ...(visit(target, new Set([...inlining, name])) as JsonObject),
          ...visit(siblings, inlining) as JsonObject
        }
      }
      kept.add(name)
      return node
    }
    const out: JsonObject = {}
    for (const [key, value] of Object.entries(node)) {
      if (key !== "$defs") out[key] = visit(value, inlining)
    }
    return out
  }
  const result = visit(root, new Set()) as JsonObject
  if (kept.size === 0) return result
  const remaining: JsonObject = {}
  for (const name of kept) remaining[name] = visit(defs[name], new Set([name]))
  return { ...result, $defs: remaining }
}

/**
 * The JSON Schema (dialect 2020-12) of a schema, as MCP carries it: without
 * `$schema` (2020-12 is the default when it is absent, and older validators in
 * clients refuse the 2020-12 URI) and with references inlined, so that the
 * root keeps its `type: "object"`.
 */
export const rootJsonSchema = (schema: Schema.Schema.Any): JsonObject => {
  const { $schema: _, ...json }: JsonObject = { ...JSONSchema.make(schema, { target: "jsonSchema2020-12" }) }
  return inlineRefs(json)
}

/** `[{ type: "object" }, { type: "array" }]`: how Effect writes the `{}` and `object` types, "any object or array". */
const isObjectOrArray = (branches: ReadonlyArray<unknown>): boolean =>
  branches.length === 2 &&
  branches.every((b, i) => isObject(b) && Object.keys(b).length === 1 && b.type === (i === 0 ? "object" : "array"))

/**
 * A JSON Schema with `type: "object"` at its root, as MCP requires of a tool's
 * input and output schemas, or `undefined` for a schema that does not describe
 * objects. Effect writes an empty struct (and the `object` keyword) as "an
 * object or an array", which becomes an object with any properties; and a
 * union of structs as a bare `anyOf` of objects, which gets the root type.
 */
export const objectRoot = (json: JsonObject): JsonObject | undefined => {
  if (json.type === "object") return json
  if (json.type !== undefined || !Array.isArray(json.anyOf)) return undefined
  if (isObjectOrArray(json.anyOf)) {
    // `$id` is Effect's name for the keyword ("/schemas/{}"), not the user's.
    const { $id: _id, anyOf: _, ...rest } = json
    return { type: "object", properties: {}, ...rest }
  }
  return json.anyOf.every((branch) => isObject(branch) && branch.type === "object")
    ? { type: "object", ...json }
    : undefined
}

/** `{ type: "string", enum: [value], title }`: one titled option as Effect writes a titled literal. */
const titledOption = (u: unknown): { readonly const: unknown; readonly title: string } | undefined => {
  if (!isObject(u) || !Array.isArray(u.enum) || u.enum.length !== 1 || typeof u.title !== "string") return undefined
  return { const: u.enum[0], title: u.title }
}

const titledOptions = (u: unknown) => {
  if (!isObject(u) || !Array.isArray(u.anyOf)) return undefined
  const options = u.anyOf.map(titledOption)
  return options.every((o) => o !== undefined) ? options : undefined
}

/**
 * Rewrites a form field to the enum shapes of SEP-1330: a union of titled
 * literals becomes `oneOf` of `{ const, title }` (single select), and an
 * array of them `items.anyOf` (multiple select). Untitled enums stay `enum`.
 */
export const formField = (field: unknown): JsonObject => {
  if (!isObject(field)) throw new Error("An elicitation form field must be a JSON Schema object")
  const single = titledOptions(field)
  if (single !== undefined) {
    const { anyOf: _, ...rest } = field
    return { type: "string", ...rest, oneOf: single }
  }
  const multiple = field.type === "array" ? titledOptions(field.items) : undefined
  if (multiple !== undefined) return { ...field, items: { anyOf: multiple } }
  return field
}

/**
 * What the client commands print: plain text for people, JSON for scripts.
 */
import type * as McpSchema from "../McpSchema.js"

/** The printable lines of a content block: text as it is, anything else as a one-line summary. */
export const content = (block: McpSchema.ContentBlock): string => {
  switch (block.type) {
    case "text":
      return block.text
    case "image":
    case "audio":
      return `[${block.type} ${block.mimeType}, ${base64Bytes(block.data)} bytes]`
    case "resource_link":
      return `[resource ${block.uri}${block.name ? ` (${block.name})` : ""}]`
    case "resource":
      return resourceContents(block.resource)
  }
}

/** A resource's contents: its text, or a summary of its bytes. */
export const resourceContents = (contents: McpSchema.ResourceContents): string =>
  "text" in contents
    ? contents.text
    : `[blob ${contents.mimeType ?? "application/octet-stream"}, ${base64Bytes(contents.blob)} bytes]`

const base64Bytes = (data: string): number => Buffer.byteLength(data, "base64")

/** A JSON Schema property's type for a signature: `number`, `string | null`, `object`… */
const schemaType = (schema: unknown): string => {
  if (typeof schema !== "object" || schema === null) return "unknown"
  const type = "type" in schema ? schema.type : undefined
  if (typeof type === "string") return type
  if (Array.isArray(type)) return type.join(" | ")
  if ("enum" in schema && Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ")
  return "any"
}

/** `add(a: number, b: number, note?: string)`. */
export const toolSignature = (tool: McpSchema.ToolDefinition): string => {
  const properties = tool.inputSchema.properties
  const required = new Set(Array.isArray(tool.inputSchema.required) ? tool.inputSchema.required : [])
  const params = typeof properties === "object" && properties !== null
    ? Object.entries(properties).map(([name, schema]) =>
      `${name}${required.has(name) ? "" : "?"}: ${schemaType(schema)}`
    )
    : []
  return `${tool.name}(${params.join(", ")})`
}

/** `review_code(code, language?)`. */
export const promptSignature = (prompt: McpSchema.Prompt): string =>
  `${prompt.name}(${(prompt.arguments ?? []).map((a) => `${a.name}${a.required ? "" : "?"}`).join(", ")})`

/** What `list` finds on a server. */
export interface Listing {
  readonly tools?: ReadonlyArray<McpSchema.ToolDefinition>
  readonly resources?: ReadonlyArray<McpSchema.Resource>
  readonly resourceTemplates?: ReadonlyArray<McpSchema.ResourceTemplate>
  readonly prompts?: ReadonlyArray<McpSchema.Prompt>
  readonly skills?: ReadonlyArray<SkillEntry>
}

/** What `list` shows of a skill. */
export interface SkillEntry {
  readonly uri: string
  readonly frontmatter: { readonly name: string; readonly description: string }
}

const summary = (text: string | undefined): string => text === undefined ? "" : `  ${text.split("\n")[0]}`

/** The listing as sections of one line per entry. */
export const listing = (found: Listing): string => {
  const section = <A>(title: string, items: ReadonlyArray<A> | undefined, line: (item: A) => string) =>
    items === undefined ? [] : [`${title} (${items.length})`, ...items.map((item) => `  ${line(item)}`)]
  const lines = [
    section("Tools", found.tools, (t) => `${toolSignature(t)}${summary(t.description)}`),
    section("Resources", found.resources, (r) => `${r.uri}${mime(r.mimeType)}${summary(r.description ?? r.name)}`),
    section(
      "Resource templates",
      found.resourceTemplates,
      (r) => `${r.uriTemplate}${mime(r.mimeType)}${summary(r.description ?? r.name)}`
    ),
    section("Prompts", found.prompts, (p) => `${promptSignature(p)}${summary(p.description)}`),
    section("Skills", found.skills, (s) => `${s.uri}${summary(s.frontmatter.description)}`)
  ].flat()
  return lines.length === 0 ? "The server offers no tools, resources or prompts." : lines.join("\n")
}

const mime = (mimeType: string | undefined) => mimeType === undefined ? "" : ` (${mimeType})`

/** A prompt's messages, each under its role. */
export const promptMessages = (result: McpSchema.GetPromptResult): string =>
  result.messages.map((message) => `[${message.role}]\n${content(message.content)}`).join("\n\n")

/** A progress bar of `width` cells: `[#####.....] 50% message`. */
export const progressBar = (progress: number, total: number | undefined, message: string | undefined, width = 30) => {
  const suffix = message === undefined ? "" : ` ${message}`
  if (total === undefined || total <= 0) return `[${"?".repeat(width)}] ${progress}${suffix}`
  const ratio = Math.min(1, Math.max(0, progress / total))
  const done = Math.round(ratio * width)
  return `[${"#".repeat(done)}${".".repeat(width - done)}] ${Math.round(ratio * 100)}%${suffix}`
}

import * as McpSchema from "../McpSchema.js"

/**
 * What the server sends is written for the newest revision; these functions
 * take out what an older client's revision does not have, so a strict client
 * never meets a field or content type it cannot read.
 */

const V2025_03_26 = "2025-03-26"
const V2025_06_18 = "2025-06-18"

const omit = <A extends object, K extends keyof A>(value: A, keys: ReadonlyArray<K>): A => {
  if (!keys.some((key) => key in value)) return value
  const copy = { ...value }
  for (const key of keys) delete copy[key]
  return copy
}

export const tool = (definition: McpSchema.ToolDefinition, version: string): McpSchema.ToolDefinition => {
  if (McpSchema.versionAtLeast(version, V2025_06_18)) return definition
  return omit(
    definition,
    McpSchema.versionAtLeast(version, V2025_03_26)
      ? ["outputSchema", "title", "icons", "execution"]
      : ["outputSchema", "title", "icons", "execution", "annotations"]
  )
}

export const described = <A extends { readonly title?: string; readonly icons?: unknown }>(
  definition: A,
  version: string
): A => McpSchema.versionAtLeast(version, V2025_06_18) ? definition : omit(definition, ["title", "icons"])

/** Resource links (2025-06-18) become text; audio (2025-03-26) becomes a text note. */
export const content = (block: McpSchema.ContentBlock, version: string): McpSchema.ContentBlock => {
  if (block.type === "resource_link" && !McpSchema.versionAtLeast(version, V2025_06_18)) {
    return { type: "text", text: `Resource: ${block.uri}${block.description ? ` (${block.description})` : ""}` }
  }
  if (block.type === "audio" && !McpSchema.versionAtLeast(version, V2025_03_26)) {
    return { type: "text", text: `[audio content of type ${block.mimeType} is not supported by protocol ${version}]` }
  }
  return block
}

export const callToolResult = (result: McpSchema.CallToolResult, version: string): McpSchema.CallToolResult => {
  if (McpSchema.versionAtLeast(version, V2025_06_18)) return result
  return { ...omit(result, ["structuredContent"]), content: result.content.map((block) => content(block, version)) }
}

export const promptResult = (result: McpSchema.GetPromptResult, version: string): McpSchema.GetPromptResult => {
  if (McpSchema.versionAtLeast(version, V2025_06_18)) return result
  return { ...result, messages: result.messages.map((m) => ({ ...m, content: content(m.content, version) })) }
}

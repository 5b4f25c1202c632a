/**
 * Constructors for content blocks: text, image, audio, resource links and
 * embedded resources, each with optional annotations.
 *
 * @example
 * ```ts
 * import { Content } from "mcp-effect"
 *
 * const blocks = [
 *   Content.text("A red pixel:"),
 *   Content.image(new Uint8Array([137, 80, 78, 71]), "image/png")
 * ]
 * ```
 *
 * @since 0.1.0
 */
import { Encoding } from "effect"
import type * as McpSchema from "./McpSchema.js"

/**
 * Options every content block may carry: annotations and `_meta`.
 *
 * @since 0.1.0
 * @category models
 */
export interface BlockOptions {
  readonly annotations?: McpSchema.Annotations
  readonly _meta?: McpSchema.Meta
}

const withOptions = <A extends object>(block: A, options: BlockOptions | undefined): A =>
  options === undefined ? block : { ...block, ...options }

/**
 * Binary data as base64, for image, audio and blob fields.
 *
 * @since 0.1.0
 * @category combinators
 */
export const base64 = (data: Uint8Array | string): string =>
  typeof data === "string" ? data : Encoding.encodeBase64(data)

/**
 * A text content block.
 *
 * @since 0.1.0
 * @category combinators
 */
export const text = (text: string, options?: BlockOptions): McpSchema.TextContent =>
  withOptions({ type: "text", text }, options)

/**
 * An image from raw bytes or a base64 string.
 *
 * @since 0.1.0
 * @category combinators
 */
export const image = (data: Uint8Array | string, mimeType: string, options?: BlockOptions): McpSchema.ImageContent =>
  withOptions({ type: "image", data: base64(data), mimeType }, options)

/**
 * Audio from raw bytes or a base64 string (protocol 2025-03-26 and later).
 *
 * @since 0.1.0
 * @category combinators
 */
export const audio = (data: Uint8Array | string, mimeType: string, options?: BlockOptions): McpSchema.AudioContent =>
  withOptions({ type: "audio", data: base64(data), mimeType }, options)

/**
 * A link to a resource the client may read (protocol 2025-06-18 and later).
 *
 * @since 0.1.0
 * @category combinators
 */
export const resourceLink = (
  resource: Omit<McpSchema.ResourceLink, "type">
): McpSchema.ResourceLink => ({ type: "resource_link", ...resource })

/**
 * A resource embedded in the content: text when `contents` is a string, a blob otherwise.
 *
 * @since 0.1.0
 * @category combinators
 */
export const embedded = (
  uri: string,
  contents: string | Uint8Array,
  options?: BlockOptions & { readonly mimeType?: string }
): McpSchema.EmbeddedResource => {
  const { mimeType, ...rest } = options ?? {}
  const resource = typeof contents === "string"
    ? { uri, text: contents, ...(mimeType ? { mimeType } : {}) }
    : { uri, blob: base64(contents), ...(mimeType ? { mimeType } : {}) }
  return withOptions({ type: "resource", resource }, rest)
}

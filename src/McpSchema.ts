/**
 * The Model Context Protocol message set (revision 2025-11-25, with the
 * differences of 2024-11-05, 2025-03-26 and 2025-06-18 noted) as Effect
 * Schemas.
 *
 * Every schema decodes the wire form. Fields that newer revisions added are
 * optional, so one schema reads messages from every handshake-era revision.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { McpSchema } from "mcp-effect"
 *
 * const result = Schema.decodeUnknownSync(McpSchema.CallToolResult)({
 *   content: [{ type: "text", text: "hi" }]
 * })
 * ```
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

// ---------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------

/**
 * The newest protocol revision this package speaks.
 *
 * @since 0.1.0
 * @category constants
 */
export const LATEST_PROTOCOL_VERSION = "2025-11-25"

/**
 * Every handshake-era revision, newest first.
 *
 * @since 0.1.0
 * @category constants
 */
export const SUPPORTED_PROTOCOL_VERSIONS: ReadonlyArray<string> = [
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05"
]

/**
 * Revisions compare as ISO dates, so string order is revision order.
 *
 * @since 0.1.0
 * @category constants
 */
export const versionAtLeast = (version: string, minimum: string): boolean => version >= minimum

// ---------------------------------------------------------------------------
// Base types
// ---------------------------------------------------------------------------

/**
 * A JSON-RPC request id: a string or an integer, never null.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RequestId = Schema.Union(Schema.String, Schema.Int)
/**
 * The decoded form of `RequestId`.
 *
 * @since 0.1.0
 * @category models
 */
export type RequestId = typeof RequestId.Type

/**
 * `ProgressToken`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProgressToken = Schema.Union(Schema.String, Schema.Number)
/**
 * The decoded form of `ProgressToken`.
 *
 * @since 0.1.0
 * @category models
 */
export type ProgressToken = typeof ProgressToken.Type

/**
 * `Cursor`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Cursor = Schema.String

/**
 * `_meta`: an open record. Keys with the `io.modelcontextprotocol/` prefix are reserved.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Meta = Schema.Record({ key: Schema.String, value: Schema.Unknown })
/**
 * The decoded form of `Meta`.
 *
 * @since 0.1.0
 * @category models
 */
export type Meta = typeof Meta.Type

const optionalMeta = { _meta: Schema.optional(Meta) }

/**
 * `RequestMeta`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RequestMeta = Schema.Struct(
  { progressToken: Schema.optional(ProgressToken) },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * `Role`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Role = Schema.Literal("user", "assistant")
/**
 * The decoded form of `Role`.
 *
 * @since 0.1.0
 * @category models
 */
export type Role = typeof Role.Type

/**
 * `Icon`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Icon = Schema.Struct({
  src: Schema.String,
  mimeType: Schema.optional(Schema.String),
  sizes: Schema.optional(Schema.Array(Schema.String)),
  theme: Schema.optional(Schema.Literal("light", "dark"))
})
/**
 * The decoded form of `Icon`.
 *
 * @since 0.1.0
 * @category models
 */
export type Icon = typeof Icon.Type

const iconsAndTitle = {
  title: Schema.optional(Schema.String),
  icons: Schema.optional(Schema.Array(Icon))
}

/**
 * `Implementation`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Implementation = Schema.Struct({
  name: Schema.String,
  version: Schema.String,
  ...iconsAndTitle,
  description: Schema.optional(Schema.String),
  websiteUrl: Schema.optional(Schema.String)
})
/**
 * The decoded form of `Implementation`.
 *
 * @since 0.1.0
 * @category models
 */
export type Implementation = typeof Implementation.Type

/**
 * `Annotations`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Annotations = Schema.Struct({
  audience: Schema.optional(Schema.Array(Role)),
  priority: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
  lastModified: Schema.optional(Schema.String)
})
/**
 * The decoded form of `Annotations`.
 *
 * @since 0.1.0
 * @category models
 */
export type Annotations = typeof Annotations.Type

// ---------------------------------------------------------------------------
// Content
// ---------------------------------------------------------------------------

const contentCommon = { annotations: Schema.optional(Annotations), ...optionalMeta }

/**
 * `TextContent`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TextContent = Schema.Struct({ type: Schema.Literal("text"), text: Schema.String, ...contentCommon })
/**
 * The decoded form of `TextContent`.
 *
 * @since 0.1.0
 * @category models
 */
export type TextContent = typeof TextContent.Type

/**
 * `ImageContent`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ImageContent = Schema.Struct({
  type: Schema.Literal("image"),
  data: Schema.String,
  mimeType: Schema.String,
  ...contentCommon
})
/**
 * The decoded form of `ImageContent`.
 *
 * @since 0.1.0
 * @category models
 */
export type ImageContent = typeof ImageContent.Type

/**
 * Audio content; since 2025-03-26.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AudioContent = Schema.Struct({
  type: Schema.Literal("audio"),
  data: Schema.String,
  mimeType: Schema.String,
  ...contentCommon
})
/**
 * The decoded form of `AudioContent`.
 *
 * @since 0.1.0
 * @category models
 */
export type AudioContent = typeof AudioContent.Type

const resourceContentsCommon = {
  uri: Schema.String,
  mimeType: Schema.optional(Schema.String),
  ...optionalMeta
}

/**
 * `TextResourceContents`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TextResourceContents = Schema.Struct({ ...resourceContentsCommon, text: Schema.String })
/**
 * The decoded form of `TextResourceContents`.
 *
 * @since 0.1.0
 * @category models
 */
export type TextResourceContents = typeof TextResourceContents.Type
/**
 * `BlobResourceContents`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BlobResourceContents = Schema.Struct({ ...resourceContentsCommon, blob: Schema.String })
/**
 * The decoded form of `BlobResourceContents`.
 *
 * @since 0.1.0
 * @category models
 */
export type BlobResourceContents = typeof BlobResourceContents.Type
/**
 * `ResourceContents`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResourceContents = Schema.Union(TextResourceContents, BlobResourceContents)
/**
 * The decoded form of `ResourceContents`.
 *
 * @since 0.1.0
 * @category models
 */
export type ResourceContents = typeof ResourceContents.Type

/**
 * `EmbeddedResource`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EmbeddedResource = Schema.Struct({
  type: Schema.Literal("resource"),
  resource: ResourceContents,
  ...contentCommon
})
/**
 * The decoded form of `EmbeddedResource`.
 *
 * @since 0.1.0
 * @category models
 */
export type EmbeddedResource = typeof EmbeddedResource.Type

const resourceFields = {
  uri: Schema.String,
  name: Schema.String,
  ...iconsAndTitle,
  description: Schema.optional(Schema.String),
  mimeType: Schema.optional(Schema.String),
  size: Schema.optional(Schema.Number),
  annotations: Schema.optional(Annotations),
  ...optionalMeta
}

/**
 * A link to a resource; since 2025-06-18.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResourceLink = Schema.Struct({ type: Schema.Literal("resource_link"), ...resourceFields })
/**
 * The decoded form of `ResourceLink`.
 *
 * @since 0.1.0
 * @category models
 */
export type ResourceLink = typeof ResourceLink.Type

/**
 * `ContentBlock`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ContentBlock = Schema.Union(TextContent, ImageContent, AudioContent, ResourceLink, EmbeddedResource)
/**
 * The decoded form of `ContentBlock`.
 *
 * @since 0.1.0
 * @category models
 */
export type ContentBlock = typeof ContentBlock.Type

// ---------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------

const Flag = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const ListChanged = Schema.Struct({ listChanged: Schema.optional(Schema.Boolean) })

/**
 * `ClientCapabilities`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ClientCapabilities = Schema.Struct({
  experimental: Schema.optional(Schema.Record({ key: Schema.String, value: Flag })),
  roots: Schema.optional(ListChanged),
  sampling: Schema.optional(Schema.Struct({ context: Schema.optional(Flag), tools: Schema.optional(Flag) })),
  elicitation: Schema.optional(Schema.Struct({ form: Schema.optional(Flag), url: Schema.optional(Flag) })),
  tasks: Schema.optional(Flag),
  /** 2026-07-28: extensions by id, each with its settings (`{ "io.modelcontextprotocol/tasks": {} }`). */
  extensions: Schema.optional(Schema.Record({ key: Schema.String, value: Flag }))
})
/**
 * The decoded form of `ClientCapabilities`.
 *
 * @since 0.1.0
 * @category models
 */
export type ClientCapabilities = typeof ClientCapabilities.Type

/**
 * `ServerCapabilities`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServerCapabilities = Schema.Struct({
  experimental: Schema.optional(Schema.Record({ key: Schema.String, value: Flag })),
  logging: Schema.optional(Flag),
  completions: Schema.optional(Flag),
  prompts: Schema.optional(ListChanged),
  resources: Schema.optional(
    Schema.Struct({ subscribe: Schema.optional(Schema.Boolean), listChanged: Schema.optional(Schema.Boolean) })
  ),
  tools: Schema.optional(ListChanged),
  tasks: Schema.optional(Flag),
  /** 2026-07-28: extensions by id, each with its settings. */
  extensions: Schema.optional(Schema.Record({ key: Schema.String, value: Flag }))
})
/**
 * The decoded form of `ServerCapabilities`.
 *
 * @since 0.1.0
 * @category models
 */
export type ServerCapabilities = typeof ServerCapabilities.Type

// ---------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------

const requestParams = { _meta: Schema.optional(RequestMeta) }

/**
 * `InitializeRequestParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const InitializeRequestParams = Schema.Struct({
  ...requestParams,
  protocolVersion: Schema.String,
  capabilities: ClientCapabilities,
  clientInfo: Implementation
})
/**
 * The decoded form of `InitializeRequestParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type InitializeRequestParams = typeof InitializeRequestParams.Type

/**
 * `InitializeResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const InitializeResult = Schema.Struct({
  ...optionalMeta,
  protocolVersion: Schema.String,
  capabilities: ServerCapabilities,
  serverInfo: Implementation,
  instructions: Schema.optional(Schema.String)
})
/**
 * The decoded form of `InitializeResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type InitializeResult = typeof InitializeResult.Type

/**
 * `EmptyResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EmptyResult = Schema.Struct({ ...optionalMeta })
/**
 * The decoded form of `EmptyResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type EmptyResult = typeof EmptyResult.Type

/**
 * `PaginatedRequestParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PaginatedRequestParams = Schema.Struct({ ...requestParams, cursor: Schema.optional(Cursor) })
/**
 * The decoded form of `PaginatedRequestParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type PaginatedRequestParams = typeof PaginatedRequestParams.Type

const paginatedResult = { ...optionalMeta, nextCursor: Schema.optional(Cursor) }

// ---------------------------------------------------------------------------
// Notifications shared by both sides
// ---------------------------------------------------------------------------

/**
 * `CancelledNotificationParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CancelledNotificationParams = Schema.Struct({
  ...optionalMeta,
  requestId: Schema.optional(RequestId),
  reason: Schema.optional(Schema.String)
})
/**
 * The decoded form of `CancelledNotificationParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type CancelledNotificationParams = typeof CancelledNotificationParams.Type

/**
 * `ProgressNotificationParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProgressNotificationParams = Schema.Struct({
  ...optionalMeta,
  progressToken: ProgressToken,
  progress: Schema.Number,
  total: Schema.optional(Schema.Number),
  message: Schema.optional(Schema.String)
})
/**
 * The decoded form of `ProgressNotificationParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type ProgressNotificationParams = typeof ProgressNotificationParams.Type

// ---------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------

/**
 * `ToolAnnotations`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolAnnotations = Schema.Struct({
  title: Schema.optional(Schema.String),
  readOnlyHint: Schema.optional(Schema.Boolean),
  destructiveHint: Schema.optional(Schema.Boolean),
  idempotentHint: Schema.optional(Schema.Boolean),
  openWorldHint: Schema.optional(Schema.Boolean)
})
/**
 * The decoded form of `ToolAnnotations`.
 *
 * @since 0.1.0
 * @category models
 */
export type ToolAnnotations = typeof ToolAnnotations.Type

/**
 * `JsonObject`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })
/**
 * The decoded form of `JsonObject`.
 *
 * @since 0.1.0
 * @category models
 */
export type JsonObject = typeof JsonObject.Type

/**
 * `ToolDefinition`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolDefinition = Schema.Struct({
  name: Schema.String,
  ...iconsAndTitle,
  description: Schema.optional(Schema.String),
  inputSchema: JsonObject,
  outputSchema: Schema.optional(JsonObject),
  annotations: Schema.optional(ToolAnnotations),
  execution: Schema.optional(
    Schema.Struct({ taskSupport: Schema.optional(Schema.Literal("forbidden", "optional", "required")) })
  ),
  ...optionalMeta
})
/**
 * The decoded form of `ToolDefinition`.
 *
 * @since 0.1.0
 * @category models
 */
export type ToolDefinition = typeof ToolDefinition.Type

/**
 * `ListToolsResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListToolsResult = Schema.Struct({ ...paginatedResult, tools: Schema.Array(ToolDefinition) })
/**
 * The decoded form of `ListToolsResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type ListToolsResult = typeof ListToolsResult.Type

/**
 * `CallToolRequestParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CallToolRequestParams = Schema.Struct({
  ...requestParams,
  name: Schema.String,
  arguments: Schema.optional(JsonObject)
})
/**
 * The decoded form of `CallToolRequestParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type CallToolRequestParams = typeof CallToolRequestParams.Type

/**
 * `CallToolResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CallToolResult = Schema.Struct({
  ...optionalMeta,
  content: Schema.Array(ContentBlock),
  structuredContent: Schema.optional(JsonObject),
  isError: Schema.optional(Schema.Boolean)
})
/**
 * The decoded form of `CallToolResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type CallToolResult = typeof CallToolResult.Type

// ---------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------

/**
 * `Resource`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Resource = Schema.Struct(resourceFields)
/**
 * The decoded form of `Resource`.
 *
 * @since 0.1.0
 * @category models
 */
export type Resource = typeof Resource.Type

/**
 * `ResourceTemplate`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResourceTemplate = Schema.Struct({
  uriTemplate: Schema.String,
  name: Schema.String,
  ...iconsAndTitle,
  description: Schema.optional(Schema.String),
  mimeType: Schema.optional(Schema.String),
  annotations: Schema.optional(Annotations),
  ...optionalMeta
})
/**
 * The decoded form of `ResourceTemplate`.
 *
 * @since 0.1.0
 * @category models
 */
export type ResourceTemplate = typeof ResourceTemplate.Type

/**
 * `ListResourcesResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListResourcesResult = Schema.Struct({ ...paginatedResult, resources: Schema.Array(Resource) })
/**
 * The decoded form of `ListResourcesResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type ListResourcesResult = typeof ListResourcesResult.Type

/**
 * `ListResourceTemplatesResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListResourceTemplatesResult = Schema.Struct({
  ...paginatedResult,
  resourceTemplates: Schema.Array(ResourceTemplate)
})
/**
 * The decoded form of `ListResourceTemplatesResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type ListResourceTemplatesResult = typeof ListResourceTemplatesResult.Type

/**
 * `ReadResourceRequestParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ReadResourceRequestParams = Schema.Struct({ ...requestParams, uri: Schema.String })
/**
 * The decoded form of `ReadResourceRequestParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type ReadResourceRequestParams = typeof ReadResourceRequestParams.Type

/**
 * A skill's entry in `skills/list` and `skills/get` (the skills extension,
 * SEP-2640): its `SKILL.md` URI, its frontmatter, and its files with their
 * digests and sizes, or `"dynamic"` when the server does not list them.
 *
 * @since 0.2.0
 * @category schemas
 */
export const SkillEntry = Schema.Struct({
  uri: Schema.String,
  frontmatter: Schema.Struct(
    { name: Schema.String, description: Schema.String },
    Schema.Record({ key: Schema.String, value: Schema.Unknown })
  ),
  resources: Schema.Union(
    Schema.Array(Schema.Struct({ uri: Schema.String, digest: Schema.String, size: Schema.Number })),
    Schema.Literal("dynamic")
  )
})
/**
 * The decoded form of `SkillEntry`.
 *
 * @since 0.2.0
 * @category models
 */
export type SkillEntry = typeof SkillEntry.Type

/**
 * `ListSkillsResult` (the skills extension).
 *
 * @since 0.2.0
 * @category schemas
 */
export const ListSkillsResult = Schema.Struct({ ...paginatedResult, skills: Schema.Array(SkillEntry) })
/**
 * The decoded form of `ListSkillsResult`.
 *
 * @since 0.2.0
 * @category models
 */
export type ListSkillsResult = typeof ListSkillsResult.Type

/**
 * `ReadResourceResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ReadResourceResult = Schema.Struct({ ...optionalMeta, contents: Schema.Array(ResourceContents) })
/**
 * The decoded form of `ReadResourceResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type ReadResourceResult = typeof ReadResourceResult.Type

/**
 * The decoded form of `SubscribeRequestParams`.
 *
 * @since 0.1.0
 * @category constants
 */
export const SubscribeRequestParams = ReadResourceRequestParams
/**
 * `ResourceUpdatedNotificationParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResourceUpdatedNotificationParams = Schema.Struct({ ...optionalMeta, uri: Schema.String })
/**
 * The decoded form of `ResourceUpdatedNotificationParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type ResourceUpdatedNotificationParams = typeof ResourceUpdatedNotificationParams.Type

// ---------------------------------------------------------------------------
// Prompts
// ---------------------------------------------------------------------------

/**
 * `PromptArgument`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PromptArgument = Schema.Struct({
  name: Schema.String,
  title: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  required: Schema.optional(Schema.Boolean)
})
/**
 * The decoded form of `PromptArgument`.
 *
 * @since 0.1.0
 * @category models
 */
export type PromptArgument = typeof PromptArgument.Type

/**
 * `Prompt`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Prompt = Schema.Struct({
  name: Schema.String,
  ...iconsAndTitle,
  description: Schema.optional(Schema.String),
  arguments: Schema.optional(Schema.Array(PromptArgument)),
  ...optionalMeta
})
/**
 * The decoded form of `Prompt`.
 *
 * @since 0.1.0
 * @category models
 */
export type Prompt = typeof Prompt.Type

/**
 * `ListPromptsResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListPromptsResult = Schema.Struct({ ...paginatedResult, prompts: Schema.Array(Prompt) })
/**
 * The decoded form of `ListPromptsResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type ListPromptsResult = typeof ListPromptsResult.Type

/**
 * `GetPromptRequestParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GetPromptRequestParams = Schema.Struct({
  ...requestParams,
  name: Schema.String,
  arguments: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
})
/**
 * The decoded form of `GetPromptRequestParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type GetPromptRequestParams = typeof GetPromptRequestParams.Type

/**
 * `PromptMessage`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PromptMessage = Schema.Struct({ role: Role, content: ContentBlock })
/**
 * The decoded form of `PromptMessage`.
 *
 * @since 0.1.0
 * @category models
 */
export type PromptMessage = typeof PromptMessage.Type

/**
 * `GetPromptResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GetPromptResult = Schema.Struct({
  ...optionalMeta,
  description: Schema.optional(Schema.String),
  messages: Schema.Array(PromptMessage)
})
/**
 * The decoded form of `GetPromptResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type GetPromptResult = typeof GetPromptResult.Type

// ---------------------------------------------------------------------------
// Completion
// ---------------------------------------------------------------------------

/**
 * `PromptReference`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PromptReference = Schema.Struct({
  type: Schema.Literal("ref/prompt"),
  name: Schema.String,
  title: Schema.optional(Schema.String)
})
/**
 * `ResourceTemplateReference`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResourceTemplateReference = Schema.Struct({ type: Schema.Literal("ref/resource"), uri: Schema.String })

/**
 * `CompleteRequestParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompleteRequestParams = Schema.Struct({
  ...requestParams,
  ref: Schema.Union(PromptReference, ResourceTemplateReference),
  argument: Schema.Struct({ name: Schema.String, value: Schema.String }),
  context: Schema.optional(
    Schema.Struct({ arguments: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })) })
  )
})
/**
 * The decoded form of `CompleteRequestParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type CompleteRequestParams = typeof CompleteRequestParams.Type

/**
 * `CompleteResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompleteResult = Schema.Struct({
  ...optionalMeta,
  completion: Schema.Struct({
    values: Schema.Array(Schema.String),
    total: Schema.optional(Schema.Number),
    hasMore: Schema.optional(Schema.Boolean)
  })
})
/**
 * The decoded form of `CompleteResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type CompleteResult = typeof CompleteResult.Type

// ---------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------

/**
 * `LoggingLevel`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LoggingLevel = Schema.Literal(
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency"
)
/**
 * The decoded form of `LoggingLevel`.
 *
 * @since 0.1.0
 * @category models
 */
export type LoggingLevel = typeof LoggingLevel.Type

/**
 * Severity order of {@link LoggingLevel}, lowest first.
 *
 * @since 0.1.0
 * @category constants
 */
export const loggingLevelRank: Record<LoggingLevel, number> = {
  debug: 0,
  info: 1,
  notice: 2,
  warning: 3,
  error: 4,
  critical: 5,
  alert: 6,
  emergency: 7
}

/**
 * `SetLevelRequestParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SetLevelRequestParams = Schema.Struct({ ...requestParams, level: LoggingLevel })
/**
 * The decoded form of `SetLevelRequestParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type SetLevelRequestParams = typeof SetLevelRequestParams.Type

/**
 * `LoggingMessageNotificationParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LoggingMessageNotificationParams = Schema.Struct({
  ...optionalMeta,
  level: LoggingLevel,
  logger: Schema.optional(Schema.String),
  data: Schema.Unknown
})
/**
 * The decoded form of `LoggingMessageNotificationParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type LoggingMessageNotificationParams = typeof LoggingMessageNotificationParams.Type

// ---------------------------------------------------------------------------
// Sampling (client feature)
// ---------------------------------------------------------------------------

/**
 * `ToolUseContent`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolUseContent = Schema.Struct({
  type: Schema.Literal("tool_use"),
  id: Schema.String,
  name: Schema.String,
  input: JsonObject,
  ...optionalMeta
})
/**
 * The decoded form of `ToolUseContent`.
 *
 * @since 0.1.0
 * @category models
 */
export type ToolUseContent = typeof ToolUseContent.Type

/**
 * `ToolResultContent`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolResultContent = Schema.Struct({
  type: Schema.Literal("tool_result"),
  toolUseId: Schema.String,
  content: Schema.Array(ContentBlock),
  structuredContent: Schema.optional(JsonObject),
  isError: Schema.optional(Schema.Boolean),
  ...optionalMeta
})
/**
 * The decoded form of `ToolResultContent`.
 *
 * @since 0.1.0
 * @category models
 */
export type ToolResultContent = typeof ToolResultContent.Type

/**
 * `SamplingContent`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SamplingContent = Schema.Union(
  TextContent,
  ImageContent,
  AudioContent,
  ToolUseContent,
  ToolResultContent
)
/**
 * The decoded form of `SamplingContent`.
 *
 * @since 0.1.0
 * @category models
 */
export type SamplingContent = typeof SamplingContent.Type

/**
 * `SamplingMessage`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SamplingMessage = Schema.Struct({
  role: Role,
  content: Schema.Union(SamplingContent, Schema.Array(SamplingContent)),
  ...optionalMeta
})
/**
 * The decoded form of `SamplingMessage`.
 *
 * @since 0.1.0
 * @category models
 */
export type SamplingMessage = typeof SamplingMessage.Type

/**
 * `ModelPreferences`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ModelPreferences = Schema.Struct({
  hints: Schema.optional(Schema.Array(Schema.Struct({ name: Schema.optional(Schema.String) }))),
  costPriority: Schema.optional(Schema.Number),
  speedPriority: Schema.optional(Schema.Number),
  intelligencePriority: Schema.optional(Schema.Number)
})
/**
 * The decoded form of `ModelPreferences`.
 *
 * @since 0.1.0
 * @category models
 */
export type ModelPreferences = typeof ModelPreferences.Type

/**
 * `ToolChoice`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolChoice = Schema.Struct({ mode: Schema.optional(Schema.Literal("auto", "required", "none")) })
/**
 * The decoded form of `ToolChoice`.
 *
 * @since 0.1.0
 * @category models
 */
export type ToolChoice = typeof ToolChoice.Type

/**
 * `CreateMessageRequestParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateMessageRequestParams = Schema.Struct({
  ...requestParams,
  messages: Schema.Array(SamplingMessage),
  modelPreferences: Schema.optional(ModelPreferences),
  systemPrompt: Schema.optional(Schema.String),
  includeContext: Schema.optional(Schema.Literal("none", "thisServer", "allServers")),
  temperature: Schema.optional(Schema.Number),
  maxTokens: Schema.Number,
  stopSequences: Schema.optional(Schema.Array(Schema.String)),
  metadata: Schema.optional(JsonObject),
  tools: Schema.optional(Schema.Array(ToolDefinition)),
  toolChoice: Schema.optional(ToolChoice)
})
/**
 * The decoded form of `CreateMessageRequestParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type CreateMessageRequestParams = typeof CreateMessageRequestParams.Type

/**
 * `CreateMessageResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateMessageResult = Schema.Struct({
  ...optionalMeta,
  role: Role,
  content: Schema.Union(SamplingContent, Schema.Array(SamplingContent)),
  model: Schema.String,
  stopReason: Schema.optional(Schema.String)
})
/**
 * The decoded form of `CreateMessageResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type CreateMessageResult = typeof CreateMessageResult.Type

// ---------------------------------------------------------------------------
// Elicitation (client feature; form mode since 2025-06-18, URL mode since 2025-11-25)
// ---------------------------------------------------------------------------

/**
 * The decoded form of `PrimitiveSchemaDefinition`.
 *
 * @since 0.1.0
 * @category constants
 */
export const PrimitiveSchemaDefinition = JsonObject

/**
 * `ElicitRequestFormParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ElicitRequestFormParams = Schema.Struct({
  ...requestParams,
  mode: Schema.optional(Schema.Literal("form")),
  message: Schema.String,
  requestedSchema: Schema.Struct({
    $schema: Schema.optional(Schema.String),
    type: Schema.Literal("object"),
    properties: Schema.Record({ key: Schema.String, value: PrimitiveSchemaDefinition }),
    required: Schema.optional(Schema.Array(Schema.String))
  })
})
/**
 * The decoded form of `ElicitRequestFormParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type ElicitRequestFormParams = typeof ElicitRequestFormParams.Type

/**
 * `ElicitRequestUrlParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ElicitRequestUrlParams = Schema.Struct({
  ...requestParams,
  mode: Schema.Literal("url"),
  message: Schema.String,
  elicitationId: Schema.String,
  url: Schema.String
})
/**
 * The decoded form of `ElicitRequestUrlParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type ElicitRequestUrlParams = typeof ElicitRequestUrlParams.Type

/**
 * `ElicitRequestParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ElicitRequestParams = Schema.Union(ElicitRequestUrlParams, ElicitRequestFormParams)
/**
 * The decoded form of `ElicitRequestParams`.
 *
 * @since 0.1.0
 * @category models
 */
export type ElicitRequestParams = typeof ElicitRequestParams.Type

/**
 * `ElicitResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ElicitResult = Schema.Struct({
  ...optionalMeta,
  action: Schema.Literal("accept", "decline", "cancel"),
  content: Schema.optional(
    Schema.Record({
      key: Schema.String,
      value: Schema.Union(Schema.String, Schema.Number, Schema.Boolean, Schema.Array(Schema.String))
    })
  )
})
/**
 * The decoded form of `ElicitResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type ElicitResult = typeof ElicitResult.Type

/**
 * `ElicitationCompleteNotificationParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ElicitationCompleteNotificationParams = Schema.Struct({
  ...optionalMeta,
  elicitationId: Schema.String
})

// ---------------------------------------------------------------------------
// Roots (client feature)
// ---------------------------------------------------------------------------

/**
 * `Root`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Root = Schema.Struct({ uri: Schema.String, name: Schema.optional(Schema.String), ...optionalMeta })
/**
 * The decoded form of `Root`.
 *
 * @since 0.1.0
 * @category models
 */
export type Root = typeof Root.Type

/**
 * `ListRootsResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListRootsResult = Schema.Struct({ ...optionalMeta, roots: Schema.Array(Root) })
/**
 * The decoded form of `ListRootsResult`.
 *
 * @since 0.1.0
 * @category models
 */
export type ListRootsResult = typeof ListRootsResult.Type

// ---------------------------------------------------------------------------
// Tasks (experimental in 2025-11-25)
// ---------------------------------------------------------------------------

/**
 * `TaskStatus`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TaskStatus = Schema.Literal("working", "input_required", "completed", "failed", "cancelled")
/**
 * `Task`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Task = Schema.Struct({
  taskId: Schema.String,
  status: TaskStatus,
  statusMessage: Schema.optional(Schema.String),
  createdAt: Schema.String,
  lastUpdatedAt: Schema.String,
  ttl: Schema.NullOr(Schema.Number),
  pollInterval: Schema.optional(Schema.Number)
})
/**
 * The decoded form of `Task`.
 *
 * @since 0.1.0
 * @category models
 */
export type Task = typeof Task.Type
/**
 * `CreateTaskResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateTaskResult = Schema.Struct({ ...optionalMeta, task: Task })
/**
 * `GetTaskRequestParams`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GetTaskRequestParams = Schema.Struct({ ...requestParams, taskId: Schema.String })
/**
 * `ListTasksResult`, as the MCP message set defines it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListTasksResult = Schema.Struct({ ...paginatedResult, tasks: Schema.Array(Task) })

// ---------------------------------------------------------------------------
// Method tables
// ---------------------------------------------------------------------------

/**
 * Requests a client sends to a server, with their params and result schemas.
 *
 * @since 0.1.0
 * @category constants
 */
export const ClientRequests = {
  "initialize": { params: InitializeRequestParams, result: InitializeResult },
  "ping": { params: Schema.Unknown, result: EmptyResult },
  "tools/list": { params: PaginatedRequestParams, result: ListToolsResult },
  "tools/call": { params: CallToolRequestParams, result: CallToolResult },
  "resources/list": { params: PaginatedRequestParams, result: ListResourcesResult },
  "resources/templates/list": { params: PaginatedRequestParams, result: ListResourceTemplatesResult },
  "resources/read": { params: ReadResourceRequestParams, result: ReadResourceResult },
  "resources/subscribe": { params: SubscribeRequestParams, result: EmptyResult },
  "resources/unsubscribe": { params: SubscribeRequestParams, result: EmptyResult },
  "prompts/list": { params: PaginatedRequestParams, result: ListPromptsResult },
  "prompts/get": { params: GetPromptRequestParams, result: GetPromptResult },
  "completion/complete": { params: CompleteRequestParams, result: CompleteResult },
  "logging/setLevel": { params: SetLevelRequestParams, result: EmptyResult },
  "tasks/get": { params: GetTaskRequestParams, result: Task },
  "tasks/list": { params: PaginatedRequestParams, result: ListTasksResult },
  "tasks/cancel": { params: GetTaskRequestParams, result: Task }
} as const

/**
 * Requests a server sends to a client.
 *
 * @since 0.1.0
 * @category constants
 */
export const ServerRequests = {
  "ping": { params: Schema.Unknown, result: EmptyResult },
  "sampling/createMessage": { params: CreateMessageRequestParams, result: CreateMessageResult },
  "elicitation/create": { params: ElicitRequestParams, result: ElicitResult },
  "roots/list": { params: Schema.Unknown, result: ListRootsResult }
} as const

/**
 * Notifications a server sends to a client.
 *
 * @since 0.1.0
 * @category constants
 */
export const ServerNotifications = {
  "notifications/cancelled": CancelledNotificationParams,
  "notifications/progress": ProgressNotificationParams,
  "notifications/message": LoggingMessageNotificationParams,
  "notifications/resources/updated": ResourceUpdatedNotificationParams,
  "notifications/resources/list_changed": EmptyResult,
  "notifications/tools/list_changed": EmptyResult,
  "notifications/prompts/list_changed": EmptyResult,
  "notifications/elicitation/complete": ElicitationCompleteNotificationParams
} as const

/**
 * Notifications a client sends to a server.
 *
 * @since 0.1.0
 * @category constants
 */
export const ClientNotifications = {
  "notifications/initialized": EmptyResult,
  "notifications/cancelled": CancelledNotificationParams,
  "notifications/progress": ProgressNotificationParams,
  "notifications/roots/list_changed": EmptyResult
} as const

/**
 * The decoded form of `ServerNotificationMethod`.
 *
 * @since 0.1.0
 * @category models
 */
export type ServerNotificationMethod = keyof typeof ServerNotifications
/**
 * The decoded form of `ServerNotification`.
 *
 * @since 0.1.0
 * @category models
 */
export type ServerNotification = {
  readonly [M in ServerNotificationMethod]: {
    readonly method: M
    readonly params: (typeof ServerNotifications)[M]["Type"]
  }
}[ServerNotificationMethod]

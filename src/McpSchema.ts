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

/** The newest protocol revision this package speaks. */
export const LATEST_PROTOCOL_VERSION = "2025-11-25"

/** Every handshake-era revision, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: ReadonlyArray<string> = [
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05"
]

/** Revisions compare as ISO dates, so string order is revision order. */
export const versionAtLeast = (version: string, minimum: string): boolean => version >= minimum

// ---------------------------------------------------------------------------
// Base types
// ---------------------------------------------------------------------------

/** A JSON-RPC request id: a string or an integer, never null. */
export const RequestId = Schema.Union(Schema.String, Schema.Int)
export type RequestId = typeof RequestId.Type

export const ProgressToken = Schema.Union(Schema.String, Schema.Number)
export type ProgressToken = typeof ProgressToken.Type

export const Cursor = Schema.String

/** `_meta`: an open record. Keys with the `io.modelcontextprotocol/` prefix are reserved. */
export const Meta = Schema.Record({ key: Schema.String, value: Schema.Unknown })
export type Meta = typeof Meta.Type

const optionalMeta = { _meta: Schema.optional(Meta) }

export const RequestMeta = Schema.Struct(
  { progressToken: Schema.optional(ProgressToken) },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

export const Role = Schema.Literal("user", "assistant")
export type Role = typeof Role.Type

export const Icon = Schema.Struct({
  src: Schema.String,
  mimeType: Schema.optional(Schema.String),
  sizes: Schema.optional(Schema.Array(Schema.String)),
  theme: Schema.optional(Schema.Literal("light", "dark"))
})
export type Icon = typeof Icon.Type

const iconsAndTitle = {
  title: Schema.optional(Schema.String),
  icons: Schema.optional(Schema.Array(Icon))
}

export const Implementation = Schema.Struct({
  name: Schema.String,
  version: Schema.String,
  ...iconsAndTitle,
  description: Schema.optional(Schema.String),
  websiteUrl: Schema.optional(Schema.String)
})
export type Implementation = typeof Implementation.Type

export const Annotations = Schema.Struct({
  audience: Schema.optional(Schema.Array(Role)),
  priority: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
  lastModified: Schema.optional(Schema.String)
})
export type Annotations = typeof Annotations.Type

// ---------------------------------------------------------------------------
// Content
// ---------------------------------------------------------------------------

const contentCommon = { annotations: Schema.optional(Annotations), ...optionalMeta }

export const TextContent = Schema.Struct({ type: Schema.Literal("text"), text: Schema.String, ...contentCommon })
export type TextContent = typeof TextContent.Type

export const ImageContent = Schema.Struct({
  type: Schema.Literal("image"),
  data: Schema.String,
  mimeType: Schema.String,
  ...contentCommon
})
export type ImageContent = typeof ImageContent.Type

/** Audio content; since 2025-03-26. */
export const AudioContent = Schema.Struct({
  type: Schema.Literal("audio"),
  data: Schema.String,
  mimeType: Schema.String,
  ...contentCommon
})
export type AudioContent = typeof AudioContent.Type

const resourceContentsCommon = {
  uri: Schema.String,
  mimeType: Schema.optional(Schema.String),
  ...optionalMeta
}

export const TextResourceContents = Schema.Struct({ ...resourceContentsCommon, text: Schema.String })
export type TextResourceContents = typeof TextResourceContents.Type
export const BlobResourceContents = Schema.Struct({ ...resourceContentsCommon, blob: Schema.String })
export type BlobResourceContents = typeof BlobResourceContents.Type
export const ResourceContents = Schema.Union(TextResourceContents, BlobResourceContents)
export type ResourceContents = typeof ResourceContents.Type

export const EmbeddedResource = Schema.Struct({
  type: Schema.Literal("resource"),
  resource: ResourceContents,
  ...contentCommon
})
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

/** A link to a resource; since 2025-06-18. */
export const ResourceLink = Schema.Struct({ type: Schema.Literal("resource_link"), ...resourceFields })
export type ResourceLink = typeof ResourceLink.Type

export const ContentBlock = Schema.Union(TextContent, ImageContent, AudioContent, ResourceLink, EmbeddedResource)
export type ContentBlock = typeof ContentBlock.Type

// ---------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------

const Flag = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const ListChanged = Schema.Struct({ listChanged: Schema.optional(Schema.Boolean) })

export const ClientCapabilities = Schema.Struct({
  experimental: Schema.optional(Schema.Record({ key: Schema.String, value: Flag })),
  roots: Schema.optional(ListChanged),
  sampling: Schema.optional(Schema.Struct({ context: Schema.optional(Flag), tools: Schema.optional(Flag) })),
  elicitation: Schema.optional(Schema.Struct({ form: Schema.optional(Flag), url: Schema.optional(Flag) })),
  tasks: Schema.optional(Flag)
})
export type ClientCapabilities = typeof ClientCapabilities.Type

export const ServerCapabilities = Schema.Struct({
  experimental: Schema.optional(Schema.Record({ key: Schema.String, value: Flag })),
  logging: Schema.optional(Flag),
  completions: Schema.optional(Flag),
  prompts: Schema.optional(ListChanged),
  resources: Schema.optional(
    Schema.Struct({ subscribe: Schema.optional(Schema.Boolean), listChanged: Schema.optional(Schema.Boolean) })
  ),
  tools: Schema.optional(ListChanged),
  tasks: Schema.optional(Flag)
})
export type ServerCapabilities = typeof ServerCapabilities.Type

// ---------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------

const requestParams = { _meta: Schema.optional(RequestMeta) }

export const InitializeRequestParams = Schema.Struct({
  ...requestParams,
  protocolVersion: Schema.String,
  capabilities: ClientCapabilities,
  clientInfo: Implementation
})
export type InitializeRequestParams = typeof InitializeRequestParams.Type

export const InitializeResult = Schema.Struct({
  ...optionalMeta,
  protocolVersion: Schema.String,
  capabilities: ServerCapabilities,
  serverInfo: Implementation,
  instructions: Schema.optional(Schema.String)
})
export type InitializeResult = typeof InitializeResult.Type

export const EmptyResult = Schema.Struct({ ...optionalMeta })
export type EmptyResult = typeof EmptyResult.Type

export const PaginatedRequestParams = Schema.Struct({ ...requestParams, cursor: Schema.optional(Cursor) })
export type PaginatedRequestParams = typeof PaginatedRequestParams.Type

const paginatedResult = { ...optionalMeta, nextCursor: Schema.optional(Cursor) }

// ---------------------------------------------------------------------------
// Notifications shared by both sides
// ---------------------------------------------------------------------------

export const CancelledNotificationParams = Schema.Struct({
  ...optionalMeta,
  requestId: Schema.optional(RequestId),
  reason: Schema.optional(Schema.String)
})
export type CancelledNotificationParams = typeof CancelledNotificationParams.Type

export const ProgressNotificationParams = Schema.Struct({
  ...optionalMeta,
  progressToken: ProgressToken,
  progress: Schema.Number,
  total: Schema.optional(Schema.Number),
  message: Schema.optional(Schema.String)
})
export type ProgressNotificationParams = typeof ProgressNotificationParams.Type

// ---------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------

export const ToolAnnotations = Schema.Struct({
  title: Schema.optional(Schema.String),
  readOnlyHint: Schema.optional(Schema.Boolean),
  destructiveHint: Schema.optional(Schema.Boolean),
  idempotentHint: Schema.optional(Schema.Boolean),
  openWorldHint: Schema.optional(Schema.Boolean)
})
export type ToolAnnotations = typeof ToolAnnotations.Type

export const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })
export type JsonObject = typeof JsonObject.Type

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
export type ToolDefinition = typeof ToolDefinition.Type

export const ListToolsResult = Schema.Struct({ ...paginatedResult, tools: Schema.Array(ToolDefinition) })
export type ListToolsResult = typeof ListToolsResult.Type

export const CallToolRequestParams = Schema.Struct({
  ...requestParams,
  name: Schema.String,
  arguments: Schema.optional(JsonObject)
})
export type CallToolRequestParams = typeof CallToolRequestParams.Type

export const CallToolResult = Schema.Struct({
  ...optionalMeta,
  content: Schema.Array(ContentBlock),
  structuredContent: Schema.optional(JsonObject),
  isError: Schema.optional(Schema.Boolean)
})
export type CallToolResult = typeof CallToolResult.Type

// ---------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------

export const Resource = Schema.Struct(resourceFields)
export type Resource = typeof Resource.Type

export const ResourceTemplate = Schema.Struct({
  uriTemplate: Schema.String,
  name: Schema.String,
  ...iconsAndTitle,
  description: Schema.optional(Schema.String),
  mimeType: Schema.optional(Schema.String),
  annotations: Schema.optional(Annotations),
  ...optionalMeta
})
export type ResourceTemplate = typeof ResourceTemplate.Type

export const ListResourcesResult = Schema.Struct({ ...paginatedResult, resources: Schema.Array(Resource) })
export type ListResourcesResult = typeof ListResourcesResult.Type

export const ListResourceTemplatesResult = Schema.Struct({
  ...paginatedResult,
  resourceTemplates: Schema.Array(ResourceTemplate)
})
export type ListResourceTemplatesResult = typeof ListResourceTemplatesResult.Type

export const ReadResourceRequestParams = Schema.Struct({ ...requestParams, uri: Schema.String })
export type ReadResourceRequestParams = typeof ReadResourceRequestParams.Type

export const ReadResourceResult = Schema.Struct({ ...optionalMeta, contents: Schema.Array(ResourceContents) })
export type ReadResourceResult = typeof ReadResourceResult.Type

export const SubscribeRequestParams = ReadResourceRequestParams
export const ResourceUpdatedNotificationParams = Schema.Struct({ ...optionalMeta, uri: Schema.String })
export type ResourceUpdatedNotificationParams = typeof ResourceUpdatedNotificationParams.Type

// ---------------------------------------------------------------------------
// Prompts
// ---------------------------------------------------------------------------

export const PromptArgument = Schema.Struct({
  name: Schema.String,
  title: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  required: Schema.optional(Schema.Boolean)
})
export type PromptArgument = typeof PromptArgument.Type

export const Prompt = Schema.Struct({
  name: Schema.String,
  ...iconsAndTitle,
  description: Schema.optional(Schema.String),
  arguments: Schema.optional(Schema.Array(PromptArgument)),
  ...optionalMeta
})
export type Prompt = typeof Prompt.Type

export const ListPromptsResult = Schema.Struct({ ...paginatedResult, prompts: Schema.Array(Prompt) })
export type ListPromptsResult = typeof ListPromptsResult.Type

export const GetPromptRequestParams = Schema.Struct({
  ...requestParams,
  name: Schema.String,
  arguments: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
})
export type GetPromptRequestParams = typeof GetPromptRequestParams.Type

export const PromptMessage = Schema.Struct({ role: Role, content: ContentBlock })
export type PromptMessage = typeof PromptMessage.Type

export const GetPromptResult = Schema.Struct({
  ...optionalMeta,
  description: Schema.optional(Schema.String),
  messages: Schema.Array(PromptMessage)
})
export type GetPromptResult = typeof GetPromptResult.Type

// ---------------------------------------------------------------------------
// Completion
// ---------------------------------------------------------------------------

export const PromptReference = Schema.Struct({
  type: Schema.Literal("ref/prompt"),
  name: Schema.String,
  title: Schema.optional(Schema.String)
})
export const ResourceTemplateReference = Schema.Struct({ type: Schema.Literal("ref/resource"), uri: Schema.String })

export const CompleteRequestParams = Schema.Struct({
  ...requestParams,
  ref: Schema.Union(PromptReference, ResourceTemplateReference),
  argument: Schema.Struct({ name: Schema.String, value: Schema.String }),
  context: Schema.optional(
    Schema.Struct({ arguments: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })) })
  )
})
export type CompleteRequestParams = typeof CompleteRequestParams.Type

export const CompleteResult = Schema.Struct({
  ...optionalMeta,
  completion: Schema.Struct({
    values: Schema.Array(Schema.String),
    total: Schema.optional(Schema.Number),
    hasMore: Schema.optional(Schema.Boolean)
  })
})
export type CompleteResult = typeof CompleteResult.Type

// ---------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------

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
export type LoggingLevel = typeof LoggingLevel.Type

/** Severity order of {@link LoggingLevel}, lowest first. */
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

export const SetLevelRequestParams = Schema.Struct({ ...requestParams, level: LoggingLevel })
export type SetLevelRequestParams = typeof SetLevelRequestParams.Type

export const LoggingMessageNotificationParams = Schema.Struct({
  ...optionalMeta,
  level: LoggingLevel,
  logger: Schema.optional(Schema.String),
  data: Schema.Unknown
})
export type LoggingMessageNotificationParams = typeof LoggingMessageNotificationParams.Type

// ---------------------------------------------------------------------------
// Sampling (client feature)
// ---------------------------------------------------------------------------

export const ToolUseContent = Schema.Struct({
  type: Schema.Literal("tool_use"),
  id: Schema.String,
  name: Schema.String,
  input: JsonObject,
  ...optionalMeta
})
export type ToolUseContent = typeof ToolUseContent.Type

export const ToolResultContent = Schema.Struct({
  type: Schema.Literal("tool_result"),
  toolUseId: Schema.String,
  content: Schema.Array(ContentBlock),
  structuredContent: Schema.optional(JsonObject),
  isError: Schema.optional(Schema.Boolean),
  ...optionalMeta
})
export type ToolResultContent = typeof ToolResultContent.Type

export const SamplingContent = Schema.Union(
  TextContent,
  ImageContent,
  AudioContent,
  ToolUseContent,
  ToolResultContent
)
export type SamplingContent = typeof SamplingContent.Type

export const SamplingMessage = Schema.Struct({
  role: Role,
  content: Schema.Union(SamplingContent, Schema.Array(SamplingContent)),
  ...optionalMeta
})
export type SamplingMessage = typeof SamplingMessage.Type

export const ModelPreferences = Schema.Struct({
  hints: Schema.optional(Schema.Array(Schema.Struct({ name: Schema.optional(Schema.String) }))),
  costPriority: Schema.optional(Schema.Number),
  speedPriority: Schema.optional(Schema.Number),
  intelligencePriority: Schema.optional(Schema.Number)
})
export type ModelPreferences = typeof ModelPreferences.Type

export const ToolChoice = Schema.Struct({ mode: Schema.optional(Schema.Literal("auto", "required", "none")) })
export type ToolChoice = typeof ToolChoice.Type

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
export type CreateMessageRequestParams = typeof CreateMessageRequestParams.Type

export const CreateMessageResult = Schema.Struct({
  ...optionalMeta,
  role: Role,
  content: Schema.Union(SamplingContent, Schema.Array(SamplingContent)),
  model: Schema.String,
  stopReason: Schema.optional(Schema.String)
})
export type CreateMessageResult = typeof CreateMessageResult.Type

// ---------------------------------------------------------------------------
// Elicitation (client feature; form mode since 2025-06-18, URL mode since 2025-11-25)
// ---------------------------------------------------------------------------

export const PrimitiveSchemaDefinition = JsonObject

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
export type ElicitRequestFormParams = typeof ElicitRequestFormParams.Type

export const ElicitRequestUrlParams = Schema.Struct({
  ...requestParams,
  mode: Schema.Literal("url"),
  message: Schema.String,
  elicitationId: Schema.String,
  url: Schema.String
})
export type ElicitRequestUrlParams = typeof ElicitRequestUrlParams.Type

export const ElicitRequestParams = Schema.Union(ElicitRequestUrlParams, ElicitRequestFormParams)
export type ElicitRequestParams = typeof ElicitRequestParams.Type

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
export type ElicitResult = typeof ElicitResult.Type

export const ElicitationCompleteNotificationParams = Schema.Struct({
  ...optionalMeta,
  elicitationId: Schema.String
})

// ---------------------------------------------------------------------------
// Roots (client feature)
// ---------------------------------------------------------------------------

export const Root = Schema.Struct({ uri: Schema.String, name: Schema.optional(Schema.String), ...optionalMeta })
export type Root = typeof Root.Type

export const ListRootsResult = Schema.Struct({ ...optionalMeta, roots: Schema.Array(Root) })
export type ListRootsResult = typeof ListRootsResult.Type

// ---------------------------------------------------------------------------
// Tasks (experimental in 2025-11-25)
// ---------------------------------------------------------------------------

export const TaskStatus = Schema.Literal("working", "input_required", "completed", "failed", "cancelled")
export const Task = Schema.Struct({
  taskId: Schema.String,
  status: TaskStatus,
  statusMessage: Schema.optional(Schema.String),
  createdAt: Schema.String,
  lastUpdatedAt: Schema.String,
  ttl: Schema.NullOr(Schema.Number),
  pollInterval: Schema.optional(Schema.Number)
})
export type Task = typeof Task.Type
export const CreateTaskResult = Schema.Struct({ ...optionalMeta, task: Task })
export const GetTaskRequestParams = Schema.Struct({ ...requestParams, taskId: Schema.String })
export const ListTasksResult = Schema.Struct({ ...paginatedResult, tasks: Schema.Array(Task) })

// ---------------------------------------------------------------------------
// Method tables
// ---------------------------------------------------------------------------

/** Requests a client sends to a server, with their params and result schemas. */
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

/** Requests a server sends to a client. */
export const ServerRequests = {
  "ping": { params: Schema.Unknown, result: EmptyResult },
  "sampling/createMessage": { params: CreateMessageRequestParams, result: CreateMessageResult },
  "elicitation/create": { params: ElicitRequestParams, result: ElicitResult },
  "roots/list": { params: Schema.Unknown, result: ListRootsResult }
} as const

/** Notifications a server sends to a client. */
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

/** Notifications a client sends to a server. */
export const ClientNotifications = {
  "notifications/initialized": EmptyResult,
  "notifications/cancelled": CancelledNotificationParams,
  "notifications/progress": ProgressNotificationParams,
  "notifications/roots/list_changed": EmptyResult
} as const

export type ServerNotificationMethod = keyof typeof ServerNotifications
export type ServerNotification = {
  readonly [M in ServerNotificationMethod]: {
    readonly method: M
    readonly params: (typeof ServerNotifications)[M]["Type"]
  }
}[ServerNotificationMethod]

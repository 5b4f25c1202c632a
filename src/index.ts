/**
 * mcp-effect: the Model Context Protocol for Effect.
 *
 * @since 0.1.0
 */
export * as Completion from "./Completion.js"
export * as Content from "./Content.js"
export * as EventStore from "./EventStore.js"
export * as InMemoryTransport from "./InMemoryTransport.js"
export * as LegacySse from "./LegacySse.js"
export * as McpClient from "./McpClient.js"
export * as McpError from "./McpError.js"
export * as McpSchema from "./McpSchema.js"
export * as McpServer from "./McpServer.js"
export * as McpTest from "./McpTest.js"
export * as Middleware from "./Middleware.js"
export * as Peer from "./Peer.js"
export * as Prompt from "./Prompt.js"
export * as RequestContext from "./RequestContext.js"
export * as Resource from "./Resource.js"
export * as StreamableHttp from "./StreamableHttp.js"
export * as StreamableHttpClient from "./StreamableHttpClient.js"
export * as Tool from "./Tool.js"
export * as Transport from "./Transport.js"
export * as UriTemplate from "./UriTemplate.js"

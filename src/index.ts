/**
 * mcp-effect: the Model Context Protocol for Effect.
 *
 * @since 0.1.0
 */
export * as Completion from "./Completion.js"

/**
 * Constructors for content blocks: text, image, audio, resource links and
 * embedded resources.
 *
 * @since 0.1.0
 */
export * as Content from "./Content.js"

/**
 * Where Streamable HTTP keeps the events it sent on SSE streams, so that a
 * client can resume a stream with `Last-Event-ID`.
 *
 * @since 0.1.0
 */
export * as EventStore from "./EventStore.js"

/**
 * A pair of connected in-memory transports, for tests and for running a client
 * and a server in one process.
 *
 * @since 0.1.0
 */
export * as InMemoryTransport from "./InMemoryTransport.js"

/**
 * The legacy HTTP+SSE transport (protocol 2024-11-05), so that older clients
 * can connect.
 *
 * @since 0.1.0
 */
export * as LegacySse from "./LegacySse.js"

/**
 * The client side of the legacy HTTP+SSE transport (protocol 2024-11-05).
 *
 * @since 0.2.0
 */
export * as LegacySseClient from "./LegacySseClient.js"

/**
 * The MCP client: initializes a session over a transport, then calls the
 * server's tools, resources and prompts.
 *
 * @since 0.1.0
 */
export * as McpClient from "./McpClient.js"

/**
 * Several servers at once: named client connections whose tools, resources
 * and prompts are exposed under prefixed names, each connection failing alone.
 *
 * @since 0.2.0
 */
export * as McpClients from "./McpClients.js"

/**
 * Errors of mcp-effect: `McpError`, the one that crosses the wire, and the
 * typed failures of local operations.
 *
 * @since 0.1.0
 */
export * as McpError from "./McpError.js"

/**
 * A proxy: the server in context re-exposes other servers' tools, resources
 * and prompts, forwarding progress, cancellation, sampling, elicitation and
 * roots both ways.
 *
 * @since 0.2.0
 */
export * as McpProxy from "./McpProxy.js"

/**
 * The Model Context Protocol message set as Effect Schemas.
 *
 * @since 0.1.0
 */
export * as McpSchema from "./McpSchema.js"

/**
 * The MCP server: the registry of tools, resources, resource templates and
 * prompts, and the engine that serves one session per transport connection.
 *
 * @since 0.1.0
 */
export * as McpServer from "./McpServer.js"

/**
 * OpenTelemetry for servers and clients, after the semantic conventions for
 * MCP: a span per request and notification, trace context in
 * `params._meta`, and the duration histograms; free until a tracer is
 * installed.
 *
 * @since 0.2.0
 */
export * as McpTelemetry from "./McpTelemetry.js"

/**
 * The test kit: one call turns a server layer into a connected in-memory
 * client.
 *
 * @since 0.1.0
 */
export * as McpTest from "./McpTest.js"

/**
 * Middleware: an Effect around every request the server answers, or around the
 * requests of some methods only.
 *
 * @since 0.2.0
 */
export * as Middleware from "./Middleware.js"

/**
 * The symmetric JSON-RPC 2.0 engine that both `McpServer` and `McpClient` run
 * on a transport.
 *
 * @since 0.1.0
 */
export * as Peer from "./Peer.js"

/**
 * Prompts: reusable message templates the user picks.
 *
 * @since 0.1.0
 */
export * as Prompt from "./Prompt.js"

/**
 * What a handler knows about the request it serves, and how it talks back to
 * the client.
 *
 * @since 0.1.0
 */
export * as RequestContext from "./RequestContext.js"

/**
 * Resources: data the client can read by URI, and resource templates.
 *
 * @since 0.1.0
 */
export * as Resource from "./Resource.js"

/**
 * Skills (`io.modelcontextprotocol/skills`): folders of instructions and
 * files an agent loads when a task calls for them, defined in code or read
 * from a folder.
 *
 * @since 0.2.0
 */
export * as Skill from "./Skill.js"

/**
 * MCP over Streamable HTTP (protocol 2025-03-26 and later) as an `HttpApp`.
 *
 * @since 0.1.0
 */
export * as StreamableHttp from "./StreamableHttp.js"

/**
 * The client side of Streamable HTTP, on `@effect/platform`'s `HttpClient`.
 *
 * @since 0.1.0
 */
export * as StreamableHttpClient from "./StreamableHttpClient.js"

/**
 * Where 2026-07-28 tasks are kept: in memory by default, or a store of yours.
 *
 * @since 0.2.0
 */
export * as TaskStore from "./TaskStore.js"

/**
 * Where 2026-07-28 tasks run when they must outlive a process: the seam a
 * durable runner (the cluster's) implements.
 *
 * @since 0.2.0
 */
export * as TaskRunner from "./TaskRunner.js"

/**
 * Tools: functions the model can call, with Schema-typed parameters and
 * results.
 *
 * @since 0.1.0
 */
export * as Tool from "./Tool.js"

/**
 * Tools shared as values between a server and its clients: the server
 * implements a toolkit, a client calls it with typed arguments, results and
 * failures.
 *
 * @since 0.2.0
 */
export * as Toolkit from "./Toolkit.js"

/**
 * The boundary between bytes and JSON-RPC messages.
 *
 * @since 0.1.0
 */
export * as Transport from "./Transport.js"

/**
 * RFC 6570 URI templates for resource templates.
 *
 * @since 0.1.0
 */
export * as UriTemplate from "./UriTemplate.js"

/**
 * Authorization for a server over HTTP: the server as an OAuth 2.1 protected
 * resource (RFC 9728 metadata, bearer tokens, per-tool scopes).
 *
 * @since 0.2.0
 */
export * as ProtectedResource from "./ProtectedResource.js"

/**
 * Verifying access tokens: JWT against a JWKS, token introspection, or your
 * own function.
 *
 * @since 0.2.0
 */
export * as TokenVerifier from "./TokenVerifier.js"

/**
 * Where an `OAuthProvider` keeps clients, grants, codes and tokens: in
 * memory by default, or a store of your own (a SQL one) behind the same
 * interface.
 *
 * @since 0.2.0
 */
export * as OAuthStore from "./OAuthStore.js"

/**
 * An OAuth 2.1 authorization server (metadata, authorize with PKCE, token
 * with refresh rotation, registration, client ID metadata documents,
 * revocation, introspection) as `HttpRouter` routes, issuing JWT access
 * tokens for MCP servers.
 *
 * @since 0.2.0
 */
export * as OAuthProvider from "./OAuthProvider.js"

/**
 * Signing in to protected servers from a client: the MCP authorization
 * spec's OAuth flow (discovery, registration, PKCE, refresh, step-up), a
 * token store, and the pieces to plug other grants and token bindings in.
 *
 * @since 0.2.0
 */
export * as OAuthClient from "./OAuthClient.js"

/**
 * OAuth grants without a browser: client credentials (`client_secret_basic`,
 * `client_secret_post`, `private_key_jwt`), the JWT bearer grant of a workload
 * identity, token exchange and enterprise-managed authorization.
 *
 * @since 0.2.0
 */
export * as OAuthGrants from "./OAuthGrants.js"

/**
 * DPoP (RFC 9449): proofs, server nonces, and an `HttpClient` that presents
 * DPoP-bound tokens.
 *
 * @since 0.2.0
 */
export * as Dpop from "./Dpop.js"

/**
 * Where Streamable HTTP keeps what a handshake-era session negotiated, so
 * that another server process can continue it.
 *
 * @since 0.2.0
 */
export * as SessionStore from "./SessionStore.js"

/**
 * How a server's change notifications reach clients connected to other
 * server processes.
 *
 * @since 0.2.0
 */
export * as ChangeFeed from "./ChangeFeed.js"

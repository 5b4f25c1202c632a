/**
 * The request core: one request, given its envelope and its channel back to
 * the client, answered from the registry. It serves the methods every era
 * shares (tools, resources, prompts, completion); the era adapters (the
 * handshake session today) serve their own lifecycle methods around it.
 *
 * Answers are plain values or effects with their whole context
 * (`WithContext`), built without a fiber: the peer starts the one fiber a
 * request runs on.
 */
import { Context, Effect, Either } from "effect"
import type { Schema } from "effect"
import type * as Completion from "../Completion.js"
import { McpError } from "../McpError.js"
import * as McpSchema from "../McpSchema.js"
import type { RequestOptions } from "../Peer.js"
import { RequestContext } from "../RequestContext.js"
import type { ClientChannel, Envelope } from "../RequestContext.js"
import { isRecord, safeDecoder } from "./guards.js"
import type { InternalAnswer, WithContext } from "./peer.js"
import { withContext } from "./peer.js"
import * as ProtocolVersion from "./protocolVersion.js"
import type { Registered, Registry } from "./registry.js"
import { paginate } from "./registry.js"
import type { Request } from "./requestContext.js"
import { RequestContextImpl } from "./requestContext.js"

/** A method's handler: its params (not yet decoded) and the request's context. */
export type Handler = (params: Record<string, unknown> | undefined, ctx: RequestContextImpl) => InternalAnswer

/** Runs a registered handler with its services and the request context, as the fiber's whole context. */
const inContext = (
  registered: Registered<unknown>,
  effect: Effect.Effect<unknown, McpError, unknown>,
  ctx: RequestContextImpl
): WithContext =>
  // The registration erased which services the handler needs; its captured context holds them.
  withContext(effect, Context.add(registered.context, RequestContext, ctx) as Context.Context<unknown>)

/** Decodes params once per method with a compiled decoder; a mismatch answers -32602. */
export const withParams = <A, I>(
  schema: Schema.Schema<A, I>,
  handle: (params: A, ctx: RequestContextImpl) => InternalAnswer
): Handler => {
  const decode = safeDecoder(schema, { errors: "all" })
  return (params, ctx) => {
    const decoded = decode(params ?? {})
    return Either.isLeft(decoded) ? McpError.invalidParams(decoded.left) : handle(decoded.right, ctx)
  }
}

const fromEither = <A>(either: Either.Either<A, McpError>): Effect.Effect<A, McpError> | McpError =>
  Either.isLeft(either) ? either.left : Effect.succeed(either.right)

/** The request core of one server. */
export interface Core {
  /** Answers one request; `undefined` when the core does not serve its method. */
  readonly handle: (request: Request, envelope: Envelope, channel: ClientChannel) => InternalAnswer
  /** Whether the core serves `method`. */
  readonly serves: (method: string) => boolean
}

export const make = (registry: Registry, options: {
  readonly pageSize: number
  readonly clientRequests: RequestOptions | undefined
}): Core => {
  const { pageSize } = options

  const read = (uri: string, ctx: RequestContextImpl): WithContext | McpError => {
    const resource = registry.resources.get(uri)
    if (resource !== undefined) return inContext(resource, resource.value.read(uri), ctx)
    for (const template of registry.templates.values()) {
      const result = template.value.read(uri)
      if (result !== undefined) return inContext(template, result, ctx)
    }
    return McpError.resourceNotFound(uri)
  }

  /** `RequestContext.readResource`: a read from inside a handler, with the reading request's context. */
  const readFromHandler = (uri: string, ctx: RequestContextImpl) => {
    const answer = read(uri, ctx)
    if (answer instanceof McpError) return Effect.fail(answer)
    return Effect.provide(answer.effect, answer.context) as Effect.Effect<McpSchema.ReadResourceResult, McpError>
  }

  const list = <A, B>(key: string, items: () => Iterable<A>, render: (item: A, version: string) => B): Handler =>
    withParams(McpSchema.PaginatedRequestParams, (params, ctx) =>
      fromEither(
        Either.map(paginate(Array.from(items()), params.cursor, pageSize), ({ nextCursor, page }) => ({
          [key]: page.map((item) => render(item, ctx.protocolVersion)),
          ...(nextCursor !== undefined ? { nextCursor } : {})
        }))
      ))

  const complete = (params: McpSchema.CompleteRequestParams, ctx: RequestContextImpl): InternalAnswer => {
    const context: Completion.Context = { arguments: params.context?.arguments ?? {} }
    const { name, value } = params.argument
    if (params.ref.type === "ref/prompt") {
      const prompt = registry.prompts.get(params.ref.name)
      return prompt === undefined
        ? McpError.invalidParams(`Unknown prompt: ${params.ref.name}`)
        : inContext(prompt, prompt.value.complete(name, value, context), ctx)
    }
    const template = registry.templates.get(params.ref.uri)
    if (template !== undefined) return inContext(template, template.value.complete(name, value, context), ctx)
    return registry.resources.has(params.ref.uri)
      ? Effect.succeed({ completion: { values: [], total: 0, hasMore: false } })
      : McpError.invalidParams(`Unknown resource template: ${params.ref.uri}`)
  }

  // The hot path: checked by hand rather than decoded, since the tool's own decoder reads the arguments anyway.
  const callTool: Handler = (params, ctx) => {
    const name = params?.name
    const args = params?.arguments
    if (typeof name !== "string") return McpError.invalidParams("name must be a string")
    if (args !== undefined && !isRecord(args)) return McpError.invalidParams("arguments must be an object")
    const tool = registry.tools.get(name)
    if (tool === undefined) return McpError.invalidParams(`Unknown tool: ${name}`)
    const result = tool.value.call(args)
    return inContext(
      tool,
      ProtocolVersion.hasStructuredContent(ctx.protocolVersion)
        ? result
        : Effect.map(result, (r) => ProtocolVersion.callToolResult(r, ctx.protocolVersion)),
      ctx
    )
  }

  const getPrompt = withParams(McpSchema.GetPromptRequestParams, (params, ctx) => {
    const prompt = registry.prompts.get(params.name)
    if (prompt === undefined) return McpError.invalidParams(`Unknown prompt: ${params.name}`)
    return inContext(
      prompt,
      Effect.map(prompt.value.get(params.arguments), (r) => ProtocolVersion.promptResult(r, ctx.protocolVersion)),
      ctx
    )
  })

  const methods = new Map<string, Handler>([
    ["tools/list", list("tools", () => registry.tools.values(), (t, v) => ProtocolVersion.tool(t.value.definition, v))],
    ["tools/call", callTool],
    [
      "resources/list",
      list("resources", () => registry.resources.values(), (r, v) => ProtocolVersion.described(r.value.definition, v))
    ],
    [
      "resources/templates/list",
      list("resourceTemplates", () => registry.templates.values(), (t, v) => ProtocolVersion.described(t.value.definition, v))
    ],
    ["resources/read", withParams(McpSchema.ReadResourceRequestParams, (params, ctx) => read(params.uri, ctx))],
    ["prompts/list", list("prompts", () => registry.prompts.values(), (p, v) => ProtocolVersion.described(p.value.definition, v))],
    ["prompts/get", getPrompt],
    ["completion/complete", withParams(McpSchema.CompleteRequestParams, complete)]
  ])

  return {
    serves: (method) => methods.has(method),
    handle: (request, envelope, channel) => {
      const handler = methods.get(request.method)
      if (handler === undefined) return undefined
      const ctx = new RequestContextImpl(request, envelope, channel, readFromHandler, options.clientRequests)
      const answer = handler(request.params, ctx)
      return Effect.isEffect(answer) ? withContext(answer, Context.make(RequestContext, ctx)) : answer
    }
  }
}

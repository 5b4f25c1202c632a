/**
 * What a server serves: its tools, resources, resource templates and prompts,
 * each with the services it was registered with, and the capabilities they
 * imply. Lookups by a client-supplied name are own-key `Map` lookups only.
 */
import { Context, Effect, Either, Encoding } from "effect"
import { DefinitionError, McpError } from "../McpError.js"
import type * as McpSchema from "../McpSchema.js"
import type * as Prompt from "../Prompt.js"
import type * as Resource from "../Resource.js"
import * as Tool from "../Tool.js"

/** A registered definition with the services it was registered with. */
export interface Registered<A> {
  readonly value: A
  readonly context: Context.Context<never>
}

/** Which list a change touches: the notification that tells clients. */
export type ListChanged =
  | "notifications/tools/list_changed"
  | "notifications/resources/list_changed"
  | "notifications/prompts/list_changed"

/** Handlers keep the services they were registered with. */
const registered = <A>(value: A): Effect.Effect<Registered<A>> =>
  Effect.map(Effect.context<never>(), (context) => ({ value, context }))

const duplicate = (kind: string, key: string) =>
  new DefinitionError({
    message: `Duplicate ${kind} ${JSON.stringify(key)}: another ${kind} of that name is already registered; remove it first`
  })

export class Registry {
  readonly tools = new Map<string, Registered<Tool.Tool<unknown>>>()
  readonly resources = new Map<string, Registered<Resource.Resource<unknown>>>()
  readonly templates = new Map<string, Registered<Resource.Template<unknown>>>()
  readonly prompts = new Map<string, Registered<Prompt.Prompt<unknown>>>()

  constructor(
    private readonly forced: McpSchema.ServerCapabilities,
    /** Tells clients that a list changed. */
    private readonly changed: (notification: ListChanged) => Effect.Effect<void>
  ) {}

  /** The capabilities declared now: what is registered, and what the options force. */
  capabilities(): McpSchema.ServerCapabilities {
    const forced = this.forced
    const hasResources = this.resources.size > 0 || this.templates.size > 0
    return {
      ...forced,
      logging: {},
      ...(this.tools.size > 0 || forced.tools ? { tools: { listChanged: true } } : {}),
      ...(hasResources || forced.resources ? { resources: { subscribe: true, listChanged: true } } : {}),
      ...(this.prompts.size > 0 || forced.prompts ? { prompts: { listChanged: true } } : {}),
      ...(this.prompts.size > 0 || this.templates.size > 0 || forced.completions ? { completions: {} } : {})
    }
  }

  private add<A>(
    map: Map<string, Registered<A>>,
    kind: string,
    key: string,
    value: A,
    notification: ListChanged
  ): Effect.Effect<void, DefinitionError> {
    return Effect.suspend(() =>
      map.has(key)
        ? Effect.fail(duplicate(kind, key))
        : Effect.flatMap(registered(value), (entry) => {
          map.set(key, entry)
          return this.changed(notification)
        })
    )
  }

  private remove(map: Map<string, unknown>, key: string, notification: ListChanged): Effect.Effect<boolean> {
    return Effect.suspend(() => map.delete(key) ? Effect.as(this.changed(notification), true) : Effect.succeed(false))
  }

  addTool<R>(tool: Tool.Tool<R>): Effect.Effect<void, DefinitionError, R> {
    // Registration erases the tool's requirements: its captured context holds them.
    return Effect.flatMap(Tool.validate(tool), () =>
      this.add(this.tools, "tool", tool.name, tool as Tool.Tool<unknown>, "notifications/tools/list_changed"))
  }

  removeTool(name: string): Effect.Effect<boolean> {
    return this.remove(this.tools, name, "notifications/tools/list_changed")
  }

  addResource<R>(resource: Resource.Resource<R> | Resource.Template<R>): Effect.Effect<void, DefinitionError, R> {
    return resource._tag === "Resource"
      ? this.add(this.resources, "resource", resource.uri, resource as Resource.Resource<unknown>, "notifications/resources/list_changed")
      : this.add(
        this.templates,
        "resource template",
        resource.uriTemplate.template,
        resource as Resource.Template<unknown>,
        "notifications/resources/list_changed"
      )
  }

  removeResource(uri: string): Effect.Effect<boolean> {
    return Effect.zipWith(
      this.remove(this.resources, uri, "notifications/resources/list_changed"),
      this.remove(this.templates, uri, "notifications/resources/list_changed"),
      (a, b) => a || b
    )
  }

  addPrompt<R>(prompt: Prompt.Prompt<R>): Effect.Effect<void, DefinitionError, R> {
    return this.add(this.prompts, "prompt", prompt.name, prompt as Prompt.Prompt<unknown>, "notifications/prompts/list_changed")
  }

  removePrompt(name: string): Effect.Effect<boolean> {
    return this.remove(this.prompts, name, "notifications/prompts/list_changed")
  }
}

// ---------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------

const encodeCursor = (offset: number) => Encoding.encodeBase64Url(`o:${offset}`)

const decodeCursor = (cursor: string): number | undefined => {
  const text = Either.getOrUndefined(Encoding.decodeBase64UrlString(cursor))
  if (text === undefined || !text.startsWith("o:")) return undefined
  const offset = Number(text.slice(2))
  return Number.isSafeInteger(offset) && offset >= 0 ? offset : undefined
}

/** One page of `items` from `cursor`; a cursor this server did not issue is -32602. */
export const paginate = <A>(
  items: ReadonlyArray<A>,
  cursor: string | undefined,
  pageSize: number
): Either.Either<{ readonly page: ReadonlyArray<A>; readonly nextCursor?: string }, McpError> => {
  const offset = cursor === undefined ? 0 : decodeCursor(cursor)
  if (offset === undefined || offset > items.length) return Either.left(McpError.invalidParams(`invalid cursor`))
  const end = offset + pageSize
  const page = items.slice(offset, end)
  return Either.right(end < items.length ? { page, nextCursor: encodeCursor(end) } : { page })
}

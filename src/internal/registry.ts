/**
 * What a server serves: its tools, resources, resource templates and prompts,
 * each with the services it was registered with, and the capabilities they
 * imply; its middlewares and session layers; and the servers mounted into it.
 * Lookups by a client-supplied name are own-key `Map` lookups only.
 *
 * A mount is a live view, not a copy: lists and lookups fall through to the
 * mounted server's registry with the prefix stripped, and its changes reach
 * this registry's listeners with the prefix added.
 */
import { Context, Effect, Either, Encoding, Scope } from "effect"
import type { Layer } from "effect"
import { DefinitionError, McpError } from "../McpError.js"
import type * as McpSchema from "../McpSchema.js"
import type * as Middleware from "../Middleware.js"
import type * as Prompt from "../Prompt.js"
import type * as Resource from "../Resource.js"
import type * as Skill from "../Skill.js"
import * as Tool from "../Tool.js"
import type { Core } from "./dispatch.js"
import { prefixName, prefixUri, unprefixName, unprefixUri, validatePrefix } from "./mount.js"
import * as Skills from "./skills.js"

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

/** Who hears of a registry's changes: its server's sessions, and the registries it is mounted into. */
export interface Listener {
  readonly listChanged: (notification: ListChanged) => Effect.Effect<void>
  readonly resourceUpdated: (uri: string) => Effect.Effect<void>
}

/** A server mounted into another under a prefix. */
export interface Mount {
  readonly prefix: string
  readonly registry: Registry
  readonly core: Core
}

/** A mounted server that has what was asked for, and its own name for it. */
export interface Found {
  readonly mount: Mount
  readonly key: string
}

/** A registered resource's `subscribe` for `uri`, with the services it was registered with. */
const hookOf = (
  registered: Registered<Resource.Resource<unknown> | Resource.Template<unknown>>,
  uri: string
): Effect.Effect<void, never, Scope.Scope> | undefined => {
  const { subscribe } = registered.value
  // Registration erased the hook's requirements: its captured context holds them, and the scope of the layer that
  // registered it, which must not stand in for the subscription's own.
  return subscribe === undefined
    ? undefined
    : Effect.provide(
      // Suspended: a hook that throws rather than returning its effect fails in its own fiber, not in the count.
      Effect.suspend(() => subscribe(uri) as Effect.Effect<void, never, Scope.Scope>),
      Context.omit(Scope.Scope)(registered.context)
    )
}

/** Whether a registry has resources of its own to list or read: resources, templates, or skills' files. */
const hasOwnResources = (r: Registry) => r.resources.size > 0 || r.templates.size > 0 || r.skills.size > 0

/** The lists a registry (with its mounts) has something in: what mounting or unmounting it changes. */
const nonEmptyLists = (registry: Registry): ReadonlyArray<ListChanged> => [
  ...(registry.some((r) => r.tools.size > 0) ? ["notifications/tools/list_changed" as const] : []),
  ...(registry.some(hasOwnResources)
    ? ["notifications/resources/list_changed" as const]
    : []),
  ...(registry.some((r) => r.prompts.size > 0) ? ["notifications/prompts/list_changed" as const] : [])
]

/** Handlers keep the services they were registered with. */
const registered = <A>(value: A): Effect.Effect<Registered<A>> =>
  Effect.map(Effect.context<never>(), (context) => ({ value, context }))

const duplicate = (kind: string, key: string) =>
  new DefinitionError({
    message: `Duplicate ${kind} ${
      JSON.stringify(key)
    }: another ${kind} of that name is already registered; remove it first`
  })

export class Registry {
  readonly tools = new Map<string, Registered<Tool.Tool<unknown>>>()
  readonly resources = new Map<string, Registered<Resource.Resource<unknown>>>()
  readonly templates = new Map<string, Registered<Resource.Template<unknown>>>()
  readonly prompts = new Map<string, Registered<Prompt.Prompt<unknown>>>()
  /** Skills by the URI of their `SKILL.md`. */
  readonly skills = new Map<string, Registered<Skills.Loaded>>()
  /** Every file of those skills, by URI. */
  private readonly skillFiles = new Map<
    string,
    { readonly skill: Registered<Skills.Loaded>; readonly file: Skills.Served }
  >()
  /** In registration order: the first is outermost. */
  readonly middlewares: Array<Registered<Middleware.Middleware<unknown>>> = []
  /** Built per session, in registration order. */
  readonly sessionLayers: Array<Registered<Layer.Layer<never, unknown, unknown>>> = []
  readonly mounts: Array<Mount> = []
  private readonly listeners = new Set<Listener>()

  constructor(private readonly forced: McpSchema.ServerCapabilities) {}

  /** Adds who hears of this registry's changes: its server's own clients (and the feed to other servers'). */
  listen(listener: Listener): void {
    this.listeners.add(listener)
  }

  /** The capabilities declared now: what is registered (mounted servers included), and what the options force. */
  capabilities(): McpSchema.ServerCapabilities {
    const forced = this.forced
    const hasPrompts = this.some((r) => r.prompts.size > 0)
    const hasTemplates = this.some((r) => r.templates.size > 0)
    const hasSkills = this.some((r) => r.skills.size > 0)
    return {
      ...forced,
      logging: {},
      ...(this.some((r) => r.tools.size > 0) || forced.tools ? { tools: { listChanged: true } } : {}),
      ...(this.some(hasOwnResources) || forced.resources
        ? { resources: { subscribe: true, listChanged: true } }
        : {}),
      // Serving skills commits the server to skills/list, skills/get and resources/directory/read.
      ...(hasSkills ? { extensions: { ...forced.extensions, [Skills.EXTENSION]: { directoryRead: true } } } : {}),
      ...(hasPrompts || forced.prompts ? { prompts: { listChanged: true } } : {}),
      ...(hasPrompts || hasTemplates || forced.completions ? { completions: {} } : {})
    }
  }

  /** Whether this registry or one mounted into it (at any depth) satisfies `test`. */
  some(test: (registry: Registry) => boolean): boolean {
    return test(this) || this.mounts.some((mount) => mount.registry.some(test))
  }

  private changed(notification: ListChanged): Effect.Effect<void> {
    return Effect.forEach(this.listeners, (listener) => listener.listChanged(notification), { discard: true })
  }

  /** Tells the sessions subscribed to `uri` (here, and in the servers this one is mounted into) that it changed. */
  resourceUpdated(uri: string): Effect.Effect<void> {
    return Effect.forEach(this.listeners, (listener) => listener.resourceUpdated(uri), { discard: true })
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
    return Effect.flatMap(
      Tool.validate(tool),
      () => this.add(this.tools, "tool", tool.name, tool as Tool.Tool<unknown>, "notifications/tools/list_changed")
    )
  }

  removeTool(name: string): Effect.Effect<boolean> {
    return this.remove(this.tools, name, "notifications/tools/list_changed")
  }

  addResource<R>(resource: Resource.Resource<R> | Resource.Template<R>): Effect.Effect<void, DefinitionError, R> {
    if (resource._tag === "Resource" && this.skillFiles.has(resource.uri)) {
      return Effect.fail(duplicate("resource", resource.uri))
    }
    return resource._tag === "Resource"
      ? this.add(
        this.resources,
        "resource",
        resource.uri,
        resource as Resource.Resource<unknown>,
        "notifications/resources/list_changed"
      )
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
    return this.add(
      this.prompts,
      "prompt",
      prompt.name,
      prompt as Prompt.Prompt<unknown>,
      "notifications/prompts/list_changed"
    )
  }

  removePrompt(name: string): Effect.Effect<boolean> {
    return this.remove(this.prompts, name, "notifications/prompts/list_changed")
  }

  /** Registers a skill: its files become resources, which no other skill or resource may already have. */
  addSkill(skill: Skill.Skill): Effect.Effect<void, DefinitionError> {
    return Effect.flatMap(Skills.load(skill), (loaded) =>
      Effect.suspend(() => {
        const taken = Array.from(loaded.files.keys()).find((uri) => this.skillFiles.has(uri) || this.resources.has(uri))
        if (taken !== undefined) return Effect.fail(duplicate("resource", taken))
        return Effect.flatMap(registered(loaded), (entry) => {
          this.skills.set(loaded.entry.uri, entry)
          for (const [uri, file] of loaded.files) this.skillFiles.set(uri, { skill: entry, file })
          return this.changed("notifications/resources/list_changed")
        })
      }))
  }

  /** Removes a skill by the URI of its `SKILL.md`; `true` when it was there. */
  removeSkill(uri: string): Effect.Effect<boolean> {
    return Effect.suspend(() => {
      const skill = this.skills.get(uri)
      if (skill === undefined) return Effect.succeed(false)
      for (const file of skill.value.files.keys()) this.skillFiles.delete(file)
      return this.remove(this.skills, uri, "notifications/resources/list_changed")
    })
  }

  /** One of this registry's own skill files. */
  skillFile(uri: string) {
    return this.skillFiles.get(uri)
  }

  addMiddleware<R>(middleware: Middleware.Middleware<R>): Effect.Effect<void> {
    return Effect.map(
      registered<Middleware.Middleware<unknown>>(middleware),
      (entry) => void this.middlewares.push(entry)
    )
  }

  /** A layer registered twice (the same value, through two paths of a layer graph) is built once per session. */
  addSessionLayer<ROut, E, RIn>(layer: Layer.Layer<ROut, E, RIn>): Effect.Effect<void> {
    return Effect.suspend(() =>
      this.sessionLayers.some((entry) => entry.value === layer)
        ? Effect.void
        : Effect.map(registered<Layer.Layer<never, unknown, unknown>>(layer), (entry) =>
          void this.sessionLayers.push(entry))
    )
  }

  // -------------------------------------------------------------------------
  // Mounts
  // -------------------------------------------------------------------------

  /** Mounts `child` under `prefix` for the life of the scope; its lists change with it, here. */
  mount(
    prefix: string,
    child: { readonly registry: Registry; readonly core: Core }
  ): Effect.Effect<void, DefinitionError, Scope.Scope> {
    return Either.match(validatePrefix(prefix), {
      onLeft: Effect.fail,
      onRight: () =>
        Effect.suspend(() => {
          if (this.mounts.some((mount) => mount.prefix === prefix)) {
            return Effect.fail(duplicate("mount prefix", prefix))
          }
          if (child.registry.some((registry) => registry === this)) {
            return Effect.fail(
              new DefinitionError({ message: `Cannot mount a server into itself (prefix ${JSON.stringify(prefix)})` })
            )
          }
          const mount: Mount = { prefix, registry: child.registry, core: child.core }
          const listener: Listener = {
            listChanged: (notification) => this.changed(notification),
            resourceUpdated: (uri) => this.resourceUpdated(prefixUri(prefix, uri))
          }
          const changedAll = Effect.suspend(() =>
            Effect.forEach(nonEmptyLists(child.registry), (notification) => this.changed(notification), {
              discard: true
            })
          )
          return Effect.acquireRelease(
            Effect.zipRight(
              Effect.sync(() => {
                this.mounts.push(mount)
                child.registry.listeners.add(listener)
              }),
              changedAll
            ),
            () =>
              Effect.zipRight(
                Effect.sync(() => {
                  this.mounts.splice(this.mounts.indexOf(mount), 1)
                  child.registry.listeners.delete(listener)
                }),
                changedAll
              )
          )
        })
    })
  }

  /** The first mounted server whose own name for `name` passes `has`. */
  private findMounted(
    name: string,
    unprefix: (prefix: string, name: string) => string | undefined,
    has: (registry: Registry, key: string) => boolean
  ): Found | undefined {
    for (const mount of this.mounts) {
      const key = unprefix(mount.prefix, name)
      if (key !== undefined && has(mount.registry, key)) return { mount, key }
    }
    return undefined
  }

  hasTool(name: string): boolean {
    return this.tools.has(name) || this.mountedTool(name) !== undefined
  }

  mountedTool(name: string): Found | undefined {
    return this.mounts.length === 0 ? undefined : this.findMounted(name, unprefixName, (r, key) => r.hasTool(key))
  }

  hasPrompt(name: string): boolean {
    return this.prompts.has(name) || this.mountedPrompt(name) !== undefined
  }

  mountedPrompt(name: string): Found | undefined {
    return this.mounts.length === 0 ? undefined : this.findMounted(name, unprefixName, (r, key) => r.hasPrompt(key))
  }

  /** Whether `uri` names a resource, or a template matches it, here or in a mounted server. */
  hasResource(uri: string): boolean {
    if (this.resources.has(uri) || this.skillFiles.has(uri)) return true
    for (const template of this.templates.values()) if (template.value.uriTemplate.match(uri) !== undefined) return true
    return this.mountedResource(uri) !== undefined
  }

  mountedResource(uri: string): Found | undefined {
    return this.mounts.length === 0 ? undefined : this.findMounted(uri, unprefixUri, (r, key) => r.hasResource(key))
  }

  /** Whether `uri` is a template (or a static resource) a completion may refer to. */
  hasCompletionRef(uri: string): boolean {
    return this.templates.has(uri) || this.resources.has(uri) || this.mountedCompletionRef(uri) !== undefined
  }

  mountedCompletionRef(uri: string): Found | undefined {
    return this.mounts.length === 0
      ? undefined
      : this.findMounted(uri, unprefixUri, (r, key) => r.hasCompletionRef(key))
  }

  // -------------------------------------------------------------------------
  // Scopes: what a verified caller must hold, declared by each definition (a mounted server's by its own).
  // -------------------------------------------------------------------------

  toolScopes(name: string): ReadonlyArray<string> | undefined {
    const own = this.tools.get(name)
    if (own !== undefined) return own.value.scopes
    const found = this.mountedTool(name)
    return found?.mount.registry.toolScopes(found.key)
  }

  promptScopes(name: string): ReadonlyArray<string> | undefined {
    const own = this.prompts.get(name)
    if (own !== undefined) return own.value.scopes
    const found = this.mountedPrompt(name)
    return found?.mount.registry.promptScopes(found.key)
  }

  /**
   * What a read of `uri` would serve here: the resource, or the first matching template; `undefined` for a skill's
   * file (no definition of its own) or nothing here. Else the mounted server that has it, under its own URI.
   */
  private servingOf(
    uri: string
  ): Registered<Resource.Resource<unknown> | Resource.Template<unknown>> | Found | undefined {
    const own = this.resources.get(uri)
    if (own !== undefined) return own
    if (this.skillFiles.has(uri)) return undefined
    for (const template of this.templates.values()) {
      if (template.value.uriTemplate.match(uri) !== undefined) return template
    }
    return this.mountedResource(uri)
  }

  /** A resource's, or the first matching template's: the one a read of `uri` would serve. */
  resourceScopes(uri: string): ReadonlyArray<string> | undefined {
    const serving = this.servingOf(uri)
    if (serving === undefined) return undefined
    return "mount" in serving ? serving.mount.registry.resourceScopes(serving.key) : serving.value.scopes
  }

  /**
   * What runs while clients are subscribed to `uri`: the `subscribe` of the
   * resource, or of the first matching template, that a read of `uri` would
   * serve (a mounted server's, for its prefixed URIs), with its services.
   */
  subscriberOf(uri: string): Effect.Effect<void, never, Scope.Scope> | undefined {
    const serving = this.servingOf(uri)
    if (serving === undefined) return undefined
    return "mount" in serving ? serving.mount.registry.subscriberOf(serving.key) : hookOf(serving, uri)
  }

  /** A template's, by its template string (as listed). */
  templateScopes(template: string): ReadonlyArray<string> | undefined {
    const own = this.templates.get(template)
    if (own !== undefined) return own.value.scopes
    const found = this.mountedCompletionRef(template)
    return found?.mount.registry.templateScopes(found.key)
  }

  // -------------------------------------------------------------------------
  // Lists: own definitions first, then each mount's in mount order, renamed; a name already listed is not repeated.
  // -------------------------------------------------------------------------

  toolDefinitions(): ReadonlyArray<McpSchema.ToolDefinition> {
    return this.withMounted(
      Array.from(this.tools.values(), (tool) => tool.value.definition),
      (registry) => registry.toolDefinitions(),
      (d) => d.name,
      (prefix, d) => ({ ...d, name: prefixName(prefix, d.name) })
    )
  }

  /** Resources, and each skill's `SKILL.md` (its other files are found through it, not listed). */
  resourceDefinitions(): ReadonlyArray<McpSchema.Resource> {
    return this.withMounted(
      [
        ...Array.from(this.resources.values(), (resource) => resource.value.definition),
        ...Array.from(this.skills.values(), (skill) => skill.value.definition)
      ],
      (registry) => registry.resourceDefinitions(),
      (d) => d.uri,
      (prefix, d) => ({ ...d, uri: prefixUri(prefix, d.uri) })
    )
  }

  templateDefinitions(): ReadonlyArray<McpSchema.ResourceTemplate> {
    return this.withMounted(
      Array.from(this.templates.values(), (template) => template.value.definition),
      (registry) => registry.templateDefinitions(),
      (d) => d.uriTemplate,
      (prefix, d) => ({ ...d, uriTemplate: prefixUri(prefix, d.uriTemplate) })
    )
  }

  promptDefinitions(): ReadonlyArray<McpSchema.Prompt> {
    return this.withMounted(
      Array.from(this.prompts.values(), (prompt) => prompt.value.definition),
      (registry) => registry.promptDefinitions(),
      (d) => d.name,
      (prefix, d) => ({ ...d, name: prefixName(prefix, d.name) })
    )
  }

  skillEntries(): ReadonlyArray<Skills.Entry> {
    return this.withMounted(
      Array.from(this.skills.values(), (skill) => skill.value.entry),
      (registry) => registry.skillEntries(),
      (entry) => entry.uri,
      prefixSkill
    )
  }

  /** A skill's entry by the URI of its `SKILL.md`, here or in a mounted server. */
  skillEntry(uri: string): Skills.Entry | undefined {
    const own = this.skills.get(uri)
    if (own !== undefined) return own.value.entry
    for (const mount of this.mounts) {
      const key = unprefixUri(mount.prefix, uri)
      const entry = key === undefined ? undefined : mount.registry.skillEntry(key)
      if (entry !== undefined) return prefixSkill(mount.prefix, entry)
    }
    return undefined
  }

  /** Every skill file as listed, mounted servers' included, for `resources/directory/read`. */
  skillFileListings(): ReadonlyArray<McpSchema.Resource> {
    return this.withMounted(
      Array.from(this.skillFiles.values(), ({ file }) => file.listing),
      (registry) => registry.skillFileListings(),
      (listing) => listing.uri,
      (prefix, listing) => ({ ...listing, uri: prefixUri(prefix, listing.uri) })
    )
  }

  private withMounted<A>(
    own: Array<A>,
    list: (registry: Registry) => ReadonlyArray<A>,
    key: (a: A) => string,
    rename: (prefix: string, a: A) => A
  ): ReadonlyArray<A> {
    if (this.mounts.length === 0) return own
    const seen = new Set(own.map(key))
    for (const mount of this.mounts) {
      for (const item of list(mount.registry)) {
        const renamed = rename(mount.prefix, item)
        if (seen.has(key(renamed))) continue
        seen.add(key(renamed))
        own.push(renamed)
      }
    }
    return own
  }
}

/** A mounted server's skill as its parent serves it: every URI under the prefix. */
const prefixSkill = (prefix: string, entry: Skills.Entry): Skills.Entry => ({
  ...entry,
  uri: prefixUri(prefix, entry.uri),
  resources: entry.resources.map((file) => ({ ...file, uri: prefixUri(prefix, file.uri) }))
})

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

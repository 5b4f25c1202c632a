/**
 * The one-shot client commands: `list`, `call`, `read` and `prompt`.
 */
import { Console, Effect, Fiber, Queue, Schema } from "effect"
import { isRecord } from "../internal/guards.js"
import type * as McpClient from "../McpClient.js"
import type { RequestError } from "../McpError.js"
import type * as McpSchema from "../McpSchema.js"
import * as Skill from "../Skill.js"
import { CliError, describe } from "./CliError.js"
import * as Render from "./render.js"
import { connect, type ConnectOptions } from "./target.js"

/** What every client command takes besides its own arguments. */
export interface ClientOptions extends ConnectOptions {
  readonly server: string
  readonly json: boolean
  readonly logLevel: McpSchema.LoggingLevel | undefined
}

/** Connects, forwards the server's log messages to stderr, runs `use`, and disconnects. */
const withClient = <A, E>(
  options: ClientOptions,
  use: (client: McpClient.Service, status: Status) => Effect.Effect<A, E>
) =>
  Effect.scoped(Effect.gen(function*() {
    const client = yield* connect(options.server, options)
    const status = makeStatus()
    const notifications = yield* client.subscribe
    const show = (notification: McpClient.Notification) => {
      if (notification.method === "notifications/message") status.line(logLine(notification.params))
    }
    const relay = yield* Effect.forkScoped(Effect.forever(Effect.map(Queue.take(notifications), show)))
    // Log messages that arrived before the result are all shown, even those the relay has not taken yet.
    const flush = Fiber.interrupt(relay).pipe(
      Effect.zipRight(Queue.takeAll(notifications)),
      Effect.map((rest) => {
        for (const notification of rest) show(notification)
        status.bar(undefined)
      })
    )
    if (options.logLevel !== undefined && client.serverCapabilities.logging !== undefined) {
      yield* client.setLevel(options.logLevel).pipe(Effect.mapError(requestFailed("logging/setLevel")))
    }
    return yield* use(client, status).pipe(Effect.ensuring(flush))
  }))

const logLine = (params: Record<string, unknown> | undefined): string => {
  const level = typeof params?.level === "string" ? params.level : "info"
  const logger = typeof params?.logger === "string" ? ` ${params.logger}` : ""
  const data = params?.data
  return `[${level}]${logger} ${typeof data === "string" ? data : JSON.stringify(data)}`
}

const requestFailed = (what: string) => (error: { readonly message: string }) =>
  new CliError({ message: `${what} failed: ${error.message}` })

const print = (options: ClientOptions, json: unknown, text: string) =>
  Console.log(options.json ? JSON.stringify(json, null, 2) : text)

const SkillsPage = Schema.Struct({
  skills: Schema.Array(Schema.Struct({
    uri: Schema.String,
    frontmatter: Schema.Struct({ name: Schema.String, description: Schema.String })
  })),
  nextCursor: Schema.optional(Schema.String)
})

/** Every skill (`skills/list`), following cursors. */
const listSkills = (client: McpClient.Service) => {
  const from = (cursor: string | undefined): Effect.Effect<ReadonlyArray<Render.SkillEntry>, RequestError> =>
    Effect.flatMap(
      client.request("skills/list", cursor === undefined ? {} : { cursor }, SkillsPage),
      (page) =>
        page.nextCursor === undefined || page.nextCursor === cursor
          ? Effect.succeed(page.skills)
          : Effect.map(from(page.nextCursor), (rest) => [...page.skills, ...rest])
    )
  return from(undefined)
}

/** `list`: everything the server offers, per the capabilities it declared. */
export const list = (options: ClientOptions) =>
  withClient(options, (client) =>
    Effect.gen(function*() {
      const capabilities = client.serverCapabilities
      const when = <A>(declared: unknown, effect: Effect.Effect<A, { readonly message: string }>, what: string) =>
        declared === undefined ? Effect.succeed(undefined) : Effect.mapError(effect, requestFailed(what))
      const [tools, resources, resourceTemplates, prompts, skills] = yield* Effect.all([
        when(capabilities.tools, client.listTools, "tools/list"),
        when(capabilities.resources, client.listResources, "resources/list"),
        when(capabilities.resources, client.listResourceTemplates, "resources/templates/list"),
        when(capabilities.prompts, client.listPrompts, "prompts/list"),
        when(capabilities.extensions?.[Skill.EXTENSION], listSkills(client), "skills/list")
      ])
      const found: Render.Listing = {
        ...(tools && { tools }),
        ...(resources && { resources }),
        ...(resourceTemplates && { resourceTemplates }),
        ...(prompts && { prompts }),
        ...(skills && { skills })
      }
      yield* print(options, found, Render.listing(found))
    }))

/** `call`: calls a tool; a tool error prints to stderr and fails the command. */
export const call = (
  options: ClientOptions & {
    readonly tool: string
    readonly args: ReadonlyArray<string>
    readonly jsonArgs: string | undefined
  }
) =>
  withClient(options, (client, status) =>
    Effect.gen(function*() {
      const tools = yield* client.listTools.pipe(Effect.mapError(requestFailed("tools/list")))
      const tool = tools.find((t) => t.name === options.tool)
      if (tool === undefined) {
        return yield* new CliError({
          message: `no tool "${options.tool}"; the server has: ${tools.map((t) => t.name).join(", ") || "none"}`
        })
      }
      const args = yield* toolArguments(tool, options.args, options.jsonArgs)
      const onProgress = (p: McpSchema.ProgressNotificationParams) =>
        status.bar(Render.progressBar(p.progress, p.total, p.message))
      const result = yield* client.callTool(tool.name, args, { onProgress }).pipe(
        Effect.ensuring(Effect.sync(() => status.bar(undefined))),
        Effect.mapError(requestFailed(`tools/call ${tool.name}`))
      )
      const text = result.content.map(Render.content).join("\n")
      if (result.isError === true) {
        if (options.json) yield* print(options, result, text)
        return yield* new CliError({ message: `${tool.name} failed: ${text || "(no message)"}` })
      }
      const shown = text.length > 0 || result.structuredContent === undefined
        ? text
        : JSON.stringify(result.structuredContent, null, 2)
      yield* print(options, result, shown)
    }))

/** `read`: reads a resource. */
export const read = (options: ClientOptions & { readonly uri: string }) =>
  withClient(options, (client) =>
    client.readResource(options.uri).pipe(
      Effect.mapError(requestFailed(`resources/read ${options.uri}`)),
      Effect.flatMap((result) => print(options, result, result.contents.map(Render.resourceContents).join("\n")))
    ))

/** `prompt`: gets a prompt with its arguments. */
export const prompt = (options: ClientOptions & { readonly name: string; readonly args: ReadonlyArray<string> }) =>
  withClient(options, (client) =>
    Effect.gen(function*() {
      const args = yield* keyValues(options.args)
      const result = yield* client.getPrompt(options.name, args).pipe(
        Effect.mapError(requestFailed(`prompts/get ${options.name}`))
      )
      yield* print(options, result, Render.promptMessages(result))
    }))

/** `key=value` words as a record; the first `=` splits. */
const keyValues = (words: ReadonlyArray<string>) =>
  Effect.forEach(words, (word) => {
    const at = word.indexOf("=")
    return at <= 0
      ? Effect.fail(new CliError({ message: `expected key=value, got "${word}"` }))
      : Effect.succeed([word.slice(0, at), word.slice(at + 1)] as const)
  }).pipe(Effect.map((entries) => Object.fromEntries(entries)))

/**
 * A tool's arguments from `key=value` words, each value read as its
 * property's JSON Schema type says (numbers, booleans, objects and arrays as
 * JSON; strings as typed), or from `--json-args`.
 */
const toolArguments = (
  tool: McpSchema.ToolDefinition,
  words: ReadonlyArray<string>,
  jsonArgs: string | undefined
) =>
  Effect.gen(function*() {
    const fromJson = jsonArgs === undefined ? {} : yield* parseJsonObject(jsonArgs)
    const pairs = yield* keyValues(words)
    const properties = isRecord(tool.inputSchema.properties) ? tool.inputSchema.properties : {}
    const typed: Record<string, unknown> = { ...fromJson }
    for (const [key, raw] of Object.entries(pairs)) {
      typed[key] = yield* coerce(key, raw, Object.hasOwn(properties, key) ? properties[key] : undefined)
    }
    return typed
  })

const parseJsonObject = (text: string) =>
  Effect.try({
    try: (): unknown => JSON.parse(text),
    catch: (error) => new CliError({ message: `--json-args is not JSON: ${describe(error)}` })
  }).pipe(
    Effect.filterOrFail(isRecord, () => new CliError({ message: "--json-args must be a JSON object" }))
  )

const coerce = (key: string, raw: string, schema: unknown): Effect.Effect<unknown, CliError> => {
  const type = isRecord(schema) ? schema.type : undefined
  const types: ReadonlyArray<unknown> = Array.isArray(type) ? type : [type]
  if (types.includes("string")) return Effect.succeed(raw)
  return Effect.try((): unknown => JSON.parse(raw)).pipe(
    // An untyped property takes what does not parse as JSON as a string.
    Effect.orElse(() =>
      type === undefined
        ? Effect.succeed(raw)
        : Effect.fail(new CliError({ message: `${key}=${raw}: not a valid ${types.join(" or ")}` }))
    )
  )
}

/** What the client commands write to stderr: lines, and a progress bar kept below them on a terminal. */
interface Status {
  readonly line: (text: string) => void
  /** Draws the bar, or with `undefined` erases it; nothing when stderr is not a terminal. */
  readonly bar: (text: string | undefined) => void
}

const makeStatus = (): Status => {
  const tty = process.stderr.isTTY === true
  let shown: string | undefined
  const erase = () => shown === undefined ? "" : "\r\x1b[2K"
  return {
    line: (text) => process.stderr.write(`${erase()}${text}\n${shown ?? ""}`),
    bar: (text) => {
      if (!tty || text === shown) return
      process.stderr.write(`${erase()}${text ?? ""}`)
      shown = text
    }
  }
}

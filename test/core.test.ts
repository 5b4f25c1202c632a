import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Option, Schema } from "effect"
import { McpError, McpServer, RequestContext, Tool } from "mcp-effect"
import type { McpSchema, Transport } from "mcp-effect"
import { ControlSignal, controlSignalOf } from "../src/internal/cause.js"

const bare = McpServer.layer({ name: "core", version: "1" })

/** An envelope with no session, as a 2026-07-28 request's `_meta` would fill it. */
const envelope = (overrides: Partial<RequestContext.Envelope> = {}): RequestContext.Envelope => ({
  protocolVersion: "2025-11-25",
  clientCapabilities: {},
  clientInfo: { name: "probe", version: "0" },
  logLevel: undefined,
  progressToken: undefined,
  auth: undefined,
  extras: undefined,
  sessionId: undefined,
  ...overrides
})

/** A channel that records what the core sends back and answers requests from `answers`. */
const recordingChannel = (answers: Record<string, unknown> = {}) => {
  const sent: Array<{ readonly method: string; readonly params: unknown }> = []
  const channel: RequestContext.ClientChannel = {
    request: (method, params) => {
      sent.push({ method, params })
      return method in answers ? Effect.succeed(answers[method]) : Effect.fail(McpError.McpError.methodNotFound(method))
    },
    notify: (method, params) => void sent.push({ method, params }),
    isActive: () => true,
    closeStream: () => {}
  }
  return { sent, channel }
}

const call = (name: string, args: Record<string, unknown> = {}) => ({
  id: 1,
  method: "tools/call",
  params: { name, arguments: args }
})

class Stop extends ControlSignal {
  readonly _tag = "Stop"
}

const Whoami = McpServer.tool("whoami", {}, () =>
  Effect.map(RequestContext.current, (ctx) =>
    JSON.stringify({
      version: ctx.protocolVersion,
      session: ctx.sessionId ?? null,
      subject: ctx.auth?.subject ?? null,
      agent: ctx.extras?.header?.("user-agent") ?? null,
      remote: ctx.extras?.remoteAddress ?? null
    })))

const Chatty = McpServer.tool("chatty", {}, () =>
  Effect.gen(function*() {
    yield* RequestContext.log("debug", "quiet")
    yield* RequestContext.log("error", "loud")
    yield* RequestContext.progress(1, 2)
    const roots = yield* RequestContext.listRoots
    return roots.map((r) => r.uri).join(",")
  }))

const Signal = McpServer.tool("signal", {}, () => Effect.die(new Stop()))
const SignalPrompt = McpServer.prompt("signal", {}, () => Effect.die(new Stop()))
const SignalResource = McpServer.resource("mem://signal", {}, () => Effect.die(new Stop()))

const Server = Layer.mergeAll(Whoami, Chatty, Signal, SignalPrompt, SignalResource).pipe(Layer.provideMerge(bare))

const text = (result: unknown) => ((result as McpSchema.CallToolResult).content[0] as McpSchema.TextContent).text

describe("the request core", () => {
  it.effect("answers a request with no session, from the envelope and the transport's extras", () =>
    Effect.gen(function*() {
      const server = yield* McpServer.McpServer
      const extras: Transport.MessageExtras = {
        header: (name) => (name === "user-agent" ? "probe/1" : undefined),
        remoteAddress: "127.0.0.1",
        auth: { subject: "ada", scopes: ["read"] }
      }
      const { channel } = recordingChannel()
      const result = yield* server.handle(
        call("whoami"),
        envelope({ protocolVersion: "2025-06-18", extras, auth: extras.auth }),
        channel
      )
      expect(JSON.parse(text(result))).toEqual({
        version: "2025-06-18",
        session: null,
        subject: "ada",
        agent: "probe/1",
        remote: "127.0.0.1"
      })
    }).pipe(Effect.provide(Server)))

  it.effect("talks back through the channel: logs by the envelope's level, progress, and requests by capability", () =>
    Effect.gen(function*() {
      const server = yield* McpServer.McpServer
      const { channel, sent } = recordingChannel({ "roots/list": { roots: [{ uri: "file:///a" }] } })
      const withRoots = envelope({ logLevel: "warning", progressToken: "p", clientCapabilities: { roots: {} } })
      const result = yield* server.handle(call("chatty"), withRoots, channel)
      expect(text(result)).toBe("file:///a")
      expect(sent.map((m) => m.method)).toEqual(["notifications/message", "notifications/progress", "roots/list"])
      expect(sent[0]!.params).toMatchObject({ level: "error", data: "loud" })
      // Without the capability, nothing is sent and the tool reports the missing capability.
      const bareChannel = recordingChannel()
      const refused = yield* server.handle(call("chatty"), envelope(), bareChannel.channel)
      expect((refused as McpSchema.CallToolResult).isError).toBe(true)
      expect(text(refused)).toContain("\"roots\" capability")
      expect(bareChannel.sent.map((m) => m.method)).toEqual(["notifications/message", "notifications/message"])
    }).pipe(Effect.provide(Server)))

  it.effect("fails with -32601 for what only a session serves, and -32602 for an unknown tool", () =>
    Effect.gen(function*() {
      const server = yield* McpServer.McpServer
      const { channel } = recordingChannel()
      const initialize = yield* Effect.flip(
        server.handle({ id: 1, method: "initialize", params: {} }, envelope(), channel)
      )
      expect(initialize.code).toBe(McpError.ErrorCode.MethodNotFound)
      const unknown = yield* Effect.flip(server.handle(call("nope"), envelope(), channel))
      expect(unknown.code).toBe(McpError.ErrorCode.InvalidParams)
    }).pipe(Effect.provide(Server)))

  it.effect("lets a control signal through the error recovery of tools, prompts and resources untouched", () =>
    Effect.gen(function*() {
      const server = yield* McpServer.McpServer
      const { channel } = recordingChannel()
      const requests = [
        call("signal"),
        { id: 2, method: "prompts/get", params: { name: "signal" } },
        { id: 3, method: "resources/read", params: { uri: "mem://signal" } }
      ]
      for (const request of requests) {
        const exit = yield* Effect.exit(server.handle(request, envelope(), channel))
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) {
          const signal = controlSignalOf(exit.cause)
          expect(Option.isSome(signal) && signal.value instanceof Stop).toBe(true)
          expect(Cause.isDie(exit.cause)).toBe(true)
        }
      }
    }).pipe(Effect.provide(Server)))
})

describe("definitions", () => {
  const twice = <E>(layer: Layer.Layer<never, E, McpServer.McpServer>) =>
    Effect.flip(Layer.build(Layer.mergeAll(layer).pipe(Layer.provideMerge(bare))))

  it.scoped("refuse a second tool, prompt, resource or template of the same name", () =>
    Effect.gen(function*() {
      const tool = McpServer.tool("same", {}, () => Effect.succeed("a"))
      const toolError = yield* twice(Layer.merge(tool, McpServer.tool("same", {}, () => Effect.succeed("b"))))
      expect(toolError._tag).toBe("DefinitionError")
      expect(toolError.message).toContain("Duplicate tool \"same\"")
      const prompt = yield* twice(Layer.merge(
        McpServer.prompt("p", {}, () => Effect.succeed("a")),
        McpServer.prompt("p", { parameters: { x: Schema.String } }, () => Effect.succeed("b"))
      ))
      expect(prompt.message).toContain("Duplicate prompt \"p\"")
      const resource = yield* twice(Layer.merge(
        McpServer.resource("mem://r", {}, () => Effect.succeed("a")),
        McpServer.resource("mem://r", {}, () => Effect.succeed("b"))
      ))
      expect(resource.message).toContain("Duplicate resource \"mem://r\"")
      const template = yield* twice(Layer.merge(
        McpServer.resource("mem://{x}", {}, () => Effect.succeed("a")),
        McpServer.resource("mem://{x}", {}, () => Effect.succeed("b"))
      ))
      expect(template.message).toContain("Duplicate resource template \"mem://{x}\"")
    }))

  it.effect("can replace a tool at run time once the old one is removed", () =>
    Effect.gen(function*() {
      const server = yield* McpServer.McpServer
      const again = McpServer.addTool(
        Tool.make("whoami", {}, () => Effect.succeed("new"))
      )
      expect((yield* Effect.flip(again))._tag).toBe("DefinitionError")
      expect(yield* server.removeTool("whoami")).toBe(true)
      yield* again
      const { channel } = recordingChannel()
      expect(text(yield* server.handle(call("whoami"), envelope(), channel))).toBe("new")
    }).pipe(Effect.provide(Server)))
})

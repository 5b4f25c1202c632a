/**
 * Our client against servers: ours over stdio, Streamable HTTP and in memory, in both eras and with detection; the
 * official v1 SDK's (`@modelcontextprotocol/sdk`, test/fixtures/sdk-v1-server.mjs) over Streamable HTTP and stdio;
 * the official v2 SDK's (`@modelcontextprotocol/server`) over Streamable HTTP in both eras; and failures over real
 * HTTP: a malformed body, a timeout, a stream cut and resumed, a server killed mid-call, a forgotten session, a server
 * of the legacy HTTP+SSE transport. Timeouts here are upper bounds only: no test depends on how fast anything is.
 */
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { acceptedContent, createMcpHandler, inputRequired, McpServer as V2Server } from "@modelcontextprotocol/server"
import { Deferred, Effect, Fiber, Layer, Schedule } from "effect"
import type { Scope } from "effect"
import { InMemoryTransport, LegacySseClient, McpClient, McpError, McpServer, StreamableHttpClient } from "mcp-effect"
import type { McpSchema } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { spawn } from "node:child_process"
import { createServer } from "node:http"
import type { IncomingMessage, ServerResponse } from "node:http"
import { resolve } from "node:path"
import { z } from "zod"
import { EverythingServer } from "../examples/everything-server.js"
// @ts-expect-error: a plain JavaScript fixture, run with node as it is imported here
import * as V1 from "./fixtures/sdk-v1-server.mjs"
import { serveHttp } from "./httpHelpers.js"

const V1_FIXTURE = resolve("test/fixtures/sdk-v1-server.mjs")
const HANDSHAKE = "2025-11-25"
const MODERN = "2026-07-28"

interface V1Module {
  readonly serveHttp: () => Promise<{ readonly url: string; readonly close: () => Promise<void> }>
}
const v1 = V1 as V1Module

const textOf = (result: { readonly content: ReadonlyArray<unknown> }) => {
  const first = result.content[0]
  return typeof first === "object" && first !== null && "text" in first ? String(first.text) : ""
}

/** The user behind the client: a model that says hello, and a person called Ada. */
const withHandlers = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.provideService(McpClient.Sampling, {
      createMessage: () =>
        Effect.succeed({ role: "assistant" as const, model: "fake", content: { type: "text" as const, text: "hello" } })
    }),
    Effect.provideService(McpClient.Elicitation, {
      elicit: (params: McpSchema.ElicitRequestParams) =>
        Effect.succeed({
          action: "accept" as const,
          content: params.message === "What is your name?" ? { name: "Ada" } : { username: "ada", email: "a@b.c" }
        })
    })
  )

/** A fresh era cache, so that a test's detection is its own. */
const freshEras = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, StreamableHttpClient.EraCache, StreamableHttpClient.makeEraCache())

/** The same requests on the everything-server in any era: tools, resources, prompts, sampling and elicitation. */
const exerciseOurs = (client: McpClient.Service) =>
  Effect.gen(function*() {
    const tools = (yield* client.listTools).map((tool) => tool.name)
    expect(tools).toContain("test_simple_text")
    expect(textOf(yield* client.callTool("test_simple_text"))).toBe("This is a simple text response for testing.")
    expect(yield* client.readResource("test://static-text")).toMatchObject({
      contents: [{ uri: "test://static-text" }]
    })
    const prompt = yield* client.getPrompt("test_prompt_with_arguments", { arg1: "one", arg2: "two" })
    expect(prompt.messages.length).toBeGreaterThan(0)
    expect(textOf(yield* client.callTool("test_sampling", { prompt: "hi" }))).toBe("LLM response: hello")
    expect(textOf(yield* client.callTool("test_elicitation", { message: "Who?" }))).toMatch(/action=accept/)
  })

const ERAS = [
  { name: "pinned to 2025-11-25", pin: HANDSHAKE, settles: HANDSHAKE },
  { name: "pinned to 2026-07-28", pin: MODERN, settles: MODERN },
  { name: "detecting", pin: undefined, settles: MODERN }
] as const

const pinned = (pin: string | undefined): McpClient.Options => pin === undefined ? {} : { protocolVersion: pin }

describe("our client against our server", () => {
  for (const era of ERAS) {
    it.scopedLive(`in memory, ${era.name}`, () =>
      Effect.gen(function*() {
        const [clientSide, serverSide] = InMemoryTransport.makePair()
        yield* Effect.forkScoped(McpServer.serve(EverythingServer, serverSide))
        const client = yield* withHandlers(McpClient.make(clientSide, pinned(era.pin)))
        expect(client.protocolVersion).toBe(era.settles)
        yield* exerciseOurs(client)
      }))

    it.scopedLive(`over Streamable HTTP, ${era.name}`, () =>
      Effect.gen(function*() {
        const { url } = yield* serveHttp(EverythingServer)
        const client = yield* freshEras(withHandlers(StreamableHttpClient.connect(url, pinned(era.pin))))
        expect(client.protocolVersion).toBe(era.settles)
        yield* exerciseOurs(client)
      }))

    it.scopedLive(`over stdio, ${era.name}`, () =>
      Effect.gen(function*() {
        const client = yield* withHandlers(NodeStdio.connect(
          { command: process.execPath, args: ["--import", "tsx", "examples/everything-server.ts", "--stdio"] },
          { ...pinned(era.pin), requestOptions: { timeout: "30 seconds" } }
        )).pipe(Effect.provide(NodeContext.layer))
        expect(client.protocolVersion).toBe(era.settles)
        yield* exerciseOurs(client)
      }), 30_000)
  }

  it.scopedLive("over Streamable HTTP, a request sent before the handshake's last message is through waits for the GET stream", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(EverythingServer)
      const gate = yield* Deferred.make<void>()
      const sent: Array<string> = []
      // The answer to notifications/initialized is held back; what the client sends meanwhile is recorded in order.
      const http = HttpClient.mapRequestEffect(yield* HttpClient.HttpClient, (request) => {
        const body = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""
        const method = (body.match(/"method":"([^"]+)"/) ?? [])[1] ?? request.method
        sent.push(method)
        return method === "notifications/initialized"
          ? Effect.as(Deferred.await(gate), request)
          : Effect.succeed(request)
      })
      const client = yield* StreamableHttpClient.connect(url, { protocolVersion: "2025-11-25" }).pipe(
        Effect.provideService(HttpClient.HttpClient, http)
      )
      const call = yield* Effect.fork(client.listTools)
      yield* Effect.sleep("50 millis")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(call)
      expect(sent.slice(0, 4)).toEqual(["initialize", "notifications/initialized", "GET", "tools/list"])
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("over legacy HTTP+SSE, directly and as the fallback of a 404 initialize", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(EverythingServer, { legacySse: true })
      const sse = url.replace(/\/mcp$/, "/sse")
      const direct = yield* withHandlers(LegacySseClient.connect(sse))
      expect(direct.protocolVersion).toBe(HANDSHAKE)
      yield* exerciseOurs(direct)
      // POST /sse is 404: discovery and initialize fail there, and the client GETs the URL for an event stream.
      const fallback = yield* freshEras(withHandlers(StreamableHttpClient.connect(sse)))
      expect(fallback.protocolVersion).toBe(HANDSHAKE)
      yield* exerciseOurs(fallback)
    }))
})

/** What every v1 server must do for our client, whatever the transport. */
const exerciseV1 = (client: McpClient.Service) =>
  Effect.gen(function*() {
    // Detection fell back to the handshake: v1 answers server/discover with -32601 (stdio) or a 400 (HTTP).
    expect(client.protocolVersion).toBe(HANDSHAKE)
    expect(client.serverInfo.name).toBe("sdk-v1")
    expect((yield* client.listTools).map((t) => t.name)).toEqual(
      expect.arrayContaining(["add", "sample", "ask_name", "progress", "hang"])
    )
    expect(textOf(yield* client.callTool("add", { a: 2, b: 3 }))).toBe("5")
    expect(yield* client.readResource("test://static")).toMatchObject({ contents: [{ text: "static text" }] })
    expect((yield* client.getPrompt("greet", { name: "Ada" })).messages[0]?.content).toEqual({
      type: "text",
      text: "Hello, Ada"
    })
    expect(textOf(yield* client.callTool("sample"))).toBe("hello")
    expect(textOf(yield* client.callTool("ask_name"))).toBe("Hello, Ada")
    const progress: Array<number> = []
    expect(textOf(yield* client.callTool("progress", {}, { onProgress: (p) => progress.push(p.progress) }))).toBe(
      "done"
    )
    expect(progress).toEqual([1, 2])
    // Cancellation: the call is interrupted once the tool has started (its progress says so).
    const started = yield* Deferred.make<void>()
    const hang = yield* Effect.fork(
      client.callTool("hang", {}, { onProgress: () => Deferred.unsafeDone(started, Effect.void) })
    )
    yield* Deferred.await(started)
    yield* Fiber.interrupt(hang)
    // The server hears the cancel on its own time: asked again until it has (10 s at most).
    const cancelled = yield* client.callTool("cancellations").pipe(
      Effect.map(textOf),
      Effect.filterOrFail((n) => n === "1"),
      Effect.retry(Schedule.spaced("20 millis")),
      Effect.timeout("10 seconds")
    )
    expect(cancelled).toBe("1")
  })

describe("our client against the official v1 SDK server", () => {
  it.scopedLive("over Streamable HTTP, detecting the era", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => v1.serveHttp()), (s) => Effect.promise(s.close))
      const client = yield* freshEras(withHandlers(StreamableHttpClient.connect(server.url)))
      yield* exerciseV1(client)
    }))

  it.scopedLive("over stdio, detecting the era", () =>
    Effect.gen(function*() {
      const client = yield* withHandlers(NodeStdio.connect({ command: process.execPath, args: [V1_FIXTURE] }))
      yield* exerciseV1(client)
    }).pipe(Effect.provide(NodeContext.layer)), 30_000)

  it.scopedLive(
    "a server killed mid-call fails the call at once with ConnectionClosedError",
    () =>
      Effect.gen(function*() {
        const child = yield* Effect.acquireRelease(
          Effect.sync(() => spawn(process.execPath, [V1_FIXTURE, "--http"], { stdio: ["ignore", "ignore", "pipe"] })),
          (child) => Effect.sync(() => child.kill("SIGKILL"))
        )
        const url = yield* Effect.async<string>((resume) => {
          let text = ""
          child.stderr.on("data", (chunk) => {
            text += String(chunk)
            const match = /listening on (\S+)/.exec(text)
            if (match) resume(Effect.succeed(match[1]!))
          })
        })
        const client = yield* freshEras(StreamableHttpClient.connect(url))
        const killed = yield* Deferred.make<void>()
        const error = yield* client.callTool("hang", {}, {
          timeout: "1 hour",
          onProgress: () => {
            child.kill("SIGKILL")
            Deferred.unsafeDone(killed, Effect.void)
          }
        }).pipe(Effect.flip, Effect.timeout("20 seconds"))
        expect(yield* Deferred.isDone(killed)).toBe(true)
        expect(error._tag).toBe("ConnectionClosedError")
      }),
    30_000
  )
})

/** The v2 SDK's server: both eras from one factory, on `node:http` through its web-standard `fetch`. */
const serveV2 = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly close: () => void }>((resume) => {
    const handler = createMcpHandler(() => {
      const server = new V2Server({ name: "sdk-v2", version: "2.4.0" })
      server.registerTool(
        "add",
        { description: "Adds", inputSchema: z.object({ a: z.number(), b: z.number() }) },
        async ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }] })
      )
      server.registerTool("ask_name", { description: "Elicits a name" }, async (ctx) => {
        const answer = acceptedContent(ctx.mcpReq.inputResponses, "name", z.object({ name: z.string() }))
        if (answer !== undefined) return { content: [{ type: "text", text: `Hello, ${answer.name}` }] }
        return inputRequired({
          inputRequests: {
            name: inputRequired.elicit({
              message: "What is your name?",
              requestedSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] }
            })
          }
        })
      })
      return server
    })
    const http = createServer((request, response) => void toFetch(handler.fetch, request, response))
    http.listen(0, "127.0.0.1", () => {
      const address = http.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resume(Effect.succeed({
        url: `http://127.0.0.1:${port}/mcp`,
        close: () => {
          void handler.close()
          http.close()
          http.closeAllConnections()
        }
      }))
    })
  }),
  (server) => Effect.sync(server.close)
)

/** A Node request through a web-standard `fetch` handler, its response streamed back. */
const toFetch = async (
  fetch: (request: Request) => Promise<Response>,
  request: IncomingMessage,
  response: ServerResponse
) => {
  const chunks: Array<Buffer> = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  const headers = new Headers()
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === "string") headers.set(name, value)
  }
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : Buffer.concat(chunks)
  const init = { method: request.method ?? "GET", headers, ...(body === undefined ? {} : { body }) }
  const answer = await fetch(new Request(`http://127.0.0.1${request.url}`, init))
  response.writeHead(answer.status, Object.fromEntries(answer.headers))
  if (answer.body === null) return void response.end()
  for await (const chunk of answer.body) response.write(chunk)
  response.end()
}

describe("our client against the official v2 SDK server", () => {
  for (const era of ERAS) {
    it.scopedLive(`over Streamable HTTP, ${era.name}`, () =>
      Effect.gen(function*() {
        const { url } = yield* serveV2
        const client = yield* freshEras(withHandlers(StreamableHttpClient.connect(url, pinned(era.pin))))
        expect(client.protocolVersion).toBe(era.settles)
        expect(client.serverInfo.name).toBe("sdk-v2")
        expect((yield* client.listTools).map((t) => t.name)).toEqual(["add", "ask_name"])
        expect(textOf(yield* client.callTool("add", { a: 2, b: 3 }))).toBe("5")
        // Modern: an input_required round; the handshake era is served statelessly, where a server cannot ask.
        if (era.settles === MODERN) expect(textOf(yield* client.callTool("ask_name"))).toBe("Hello, Ada")
      }))
  }
})

/**
 * A hand-written Streamable HTTP server on `node:http`: it answers `initialize` (with a session) and notifications
 * itself, refuses the GET stream, and hands every other request to `answer`.
 */
const rawServer = (
  answer: (message: { readonly id: number; readonly method: string }, response: ServerResponse) => void,
  onGet?: (request: IncomingMessage, response: ServerResponse) => void
) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly close: () => void }>((resume) => {
      const http = createServer(async (request, response) => {
        if (request.method === "GET") {
          return onGet === undefined ? void response.writeHead(405).end() : onGet(request, response)
        }
        if (request.method !== "POST") return void response.writeHead(200).end()
        let text = ""
        for await (const chunk of request) text += String(chunk)
        const message = JSON.parse(text)
        if (message.id === undefined) return void response.writeHead(202).end()
        if (message.method === "initialize") {
          return void response.writeHead(200, { "content-type": "application/json", "mcp-session-id": "raw" }).end(
            JSON.stringify({
              jsonrpc: "2.0",
              id: message.id,
              result: {
                protocolVersion: HANDSHAKE,
                capabilities: { tools: {} },
                serverInfo: { name: "raw", version: "1" }
              }
            })
          )
        }
        answer(message, response)
      })
      http.listen(0, "127.0.0.1", () => {
        const address = http.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({
          url: `http://127.0.0.1:${port}/mcp`,
          close: () => {
            http.close()
            http.closeAllConnections()
          }
        }))
      })
    }),
    (server) => Effect.sync(server.close)
  )

const connectRaw = (url: string): Effect.Effect<McpClient.Service, unknown, Scope.Scope> =>
  StreamableHttpClient.connect(url, { protocolVersion: HANDSHAKE, http: { openGetStream: false } })

const Stall = McpServer.tool("stall", { description: "Never answers" }, () => Effect.never)

describe("our client's failures over HTTP", () => {
  it.scopedLive("a malformed JSON body fails the request with a parse error; the next request is served", () =>
    Effect.gen(function*() {
      let calls = 0
      const { url } = yield* rawServer((message, response) => {
        calls++
        const body = calls === 1
          ? "{\"jsonrpc\": \"2.0\", \"id\": "
          : JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { content: [{ type: "text", text: "ok" }] } })
        response.writeHead(200, { "content-type": "application/json" }).end(body)
      })
      const client = yield* connectRaw(url)
      const error = yield* Effect.flip(client.callTool("x", {}, { timeout: "1 hour" }))
      expect(error).toBeInstanceOf(McpError.McpError)
      expect(error).toMatchObject({ code: -32700, message: expect.stringMatching(/malformed JSON/) })
      expect(textOf(yield* client.callTool("x"))).toBe("ok")
    }))

  it.scopedLive("a request that is never answered fails with RequestTimeoutError", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Layer.provideMerge(Stall, EverythingServer))
      const client = yield* freshEras(StreamableHttpClient.connect(url, { protocolVersion: HANDSHAKE }))
      const error = yield* Effect.flip(client.callTool("stall", {}, { timeout: "100 millis" }))
      expect(error).toBeInstanceOf(McpError.RequestTimeoutError)
      expect(error).toMatchObject({ method: "tools/call", timeoutMillis: 100 })
    }))

  it.scopedLive("a stream cut before the answer is resumed with Last-Event-ID, after the server's retry", () =>
    Effect.gen(function*() {
      const resumedWith: Array<string | undefined> = []
      const { url } = yield* rawServer(
        (message, response) => {
          response.writeHead(200, { "content-type": "text/event-stream" })
          // A priming event with an id and a short retry, then the connection is cut before the answer.
          response.write(`id: e1\nretry: 10\ndata: \n\n`)
          response.write(`id: e2\nevent: message\ndata: ${
            JSON.stringify({
              jsonrpc: "2.0",
              method: "notifications/progress",
              params: { progressToken: message.id, progress: 1 }
            })
          }\n\n`)
          pendingId = message.id
          // Cut once what was written has left: the client reads both events, then the connection ends.
          response.write(": cut\n\n", () => response.socket?.destroy())
        },
        (request, response) => {
          resumedWith.push(request.headers["last-event-id"] as string | undefined)
          response.writeHead(200, { "content-type": "text/event-stream" }).end(
            `id: e3\nevent: message\ndata: ${
              JSON.stringify({
                jsonrpc: "2.0",
                id: pendingId,
                result: { content: [{ type: "text", text: "resumed" }] }
              })
            }\n\n`
          )
        }
      )
      let pendingId = 0
      const client = yield* connectRaw(url)
      const progress: Array<number> = []
      const result = yield* client.callTool("x", {}, {
        timeout: "1 hour",
        onProgress: (p) => progress.push(p.progress)
      })
      expect(textOf(result)).toBe("resumed")
      expect(progress).toEqual([1])
      expect(resumedWith).toEqual(["e2"])
    }))

  it.scopedLive("a session the server forgot is re-initialized once, and the request sent again", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(EverythingServer, { sessionIdleTimeout: "200 millis" })
      const client = yield* StreamableHttpClient.connect(url, {
        protocolVersion: HANDSHAKE,
        http: { openGetStream: false }
      })
      expect(textOf(yield* client.callTool("test_simple_text"))).toMatch(/simple text/)
      // The session expires while nothing is sent (as in http.test.ts); the next call finds it gone (404).
      yield* Effect.sleep("1500 millis")
      expect(textOf(yield* client.callTool("test_simple_text"))).toMatch(/simple text/)
    }))

  it.scopedLive("the era a connection settled on is pinned for the origin's next one, and dropped if refused", () =>
    Effect.gen(function*() {
      const eras = StreamableHttpClient.makeEraCache()
      const { url } = yield* serveHttp(EverythingServer)
      const origin = new URL(url).origin
      const connect = StreamableHttpClient.connect(url).pipe(
        Effect.provideService(StreamableHttpClient.EraCache, eras)
      )
      expect((yield* connect).protocolVersion).toBe(MODERN)
      expect(eras.get(origin)).toBe(MODERN)
      // A remembered handshake-era version is pinned: no discovery, initialize at that version.
      eras.set(origin, "2025-06-18")
      expect((yield* connect).protocolVersion).toBe("2025-06-18")
      // A remembered era the server refuses now (a v1 server on the origin, say) is dropped, and detected again.
      const v1Server = yield* Effect.acquireRelease(
        Effect.promise(() => v1.serveHttp()),
        (s) => Effect.promise(s.close)
      )
      const v1Origin = new URL(v1Server.url).origin
      eras.set(v1Origin, MODERN)
      const again = yield* StreamableHttpClient.connect(v1Server.url).pipe(
        Effect.provideService(StreamableHttpClient.EraCache, eras)
      )
      expect(again.protocolVersion).toBe(HANDSHAKE)
      expect(eras.get(v1Origin)).toBe(HANDSHAKE)
    }))
})

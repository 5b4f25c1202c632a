import { describe, expect, it, vi } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Schema, Scope } from "effect"
import { McpServer, RequestContext, Tool } from "mcp-effect"
import { request as httpRequest } from "node:http"
import { TestServer, Unencodable } from "./fixtures.js"
import { initializeBody, JSON_AND_SSE, openSession, promise, raw, serveHttp, sseMessages } from "./httpHelpers.js"

const META = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "modern", version: "1" }
}
const MODERN_HEADERS = { ...JSON_AND_SSE, "mcp-protocol-version": "2026-07-28" }

const Logs = McpServer.tool("logs", {}, () => Effect.as(RequestContext.log("info", "working"), "done"))
const Forecast = McpServer.tool("forecast", {
  parameters: {
    region: Schema.String.pipe(Tool.header("Region")),
    days: Schema.optional(Schema.Int.pipe(Tool.header("Days")))
  }
}, ({ region }) => Effect.succeed(`sun in ${region}`))
const Server = Layer.mergeAll(TestServer, Layer.mergeAll(Logs, Forecast).pipe(Layer.provide(TestServer)))

const post = (url: string, id: number, method: string, params: Record<string, unknown> = {}, options: {
  readonly meta?: object
  readonly headers?: Record<string, string>
} = {}) =>
  promise(() =>
    raw(url, {
      headers: options.headers ?? { ...MODERN_HEADERS, ...standardHeaders(method, params) },
      body: { jsonrpc: "2.0", id, method, params: { ...params, _meta: options.meta ?? META } }
    })
  )

const json = (body: string): any => JSON.parse(body)

/** The `Mcp-Method` and `Mcp-Name` headers a modern client sends. */
const standardHeaders = (method: string, params: Record<string, unknown>): Record<string, string> => {
  const name = method === "resources/read" ? params.uri : params.name
  return { "mcp-method": method, ...(typeof name === "string" ? { "mcp-name": name } : {}) }
}

describe("2026-07-28 over Streamable HTTP", () => {
  it.scoped("serves a modern request with no session, beside handshake-era sessions", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const discover = yield* post(url, 1, "server/discover")
      expect(discover.status).toBe(200)
      expect(discover.headers["mcp-session-id"]).toBeUndefined()
      expect(json(discover.body).result).toMatchObject({ resultType: "complete", supportedVersions: ["2026-07-28"] })
      const called = yield* post(url, 2, "tools/call", { name: "add", arguments: { a: 1, b: 2 } })
      expect(json(called.body).result).toMatchObject({ resultType: "complete", structuredContent: { result: 3 } })
      // An old client on the same endpoint still gets its session.
      const { headers } = yield* promise(() => openSession(url))
      const old = yield* promise(() => raw(url, { headers, body: { jsonrpc: "2.0", id: 3, method: "tools/list" } }))
      expect(json(old.body).result).not.toHaveProperty("resultType")
    }))

  it.scoped("refuses a malformed _meta with 400 and -32602, echoing the request id", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const { "io.modelcontextprotocol/clientCapabilities": _, ...noCapabilities } = META
      const noVersion = { "io.modelcontextprotocol/clientCapabilities": {} }
      for (const [id, params] of [[101, {}], [104, { _meta: noCapabilities }]] as const) {
        const response = yield* promise(() =>
          raw(url, {
            headers: { ...MODERN_HEADERS, "mcp-method": "server/discover" },
            body: { jsonrpc: "2.0", id, method: "server/discover", params }
          })
        )
        expect(response.status).toBe(400)
        expect(json(response.body)).toMatchObject({ id, error: { code: -32602 } })
      }
      const missingVersion = yield* post(url, 102, "server/discover", {}, { meta: noVersion })
      expect(missingVersion.status).toBe(400)
      expect(json(missingVersion.body).error.code).toBe(-32602)
    }))

  it.scoped("answers an unsupported version with 400 and -32022, and a header that disagrees with -32020", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const v999 = { ...META, "io.modelcontextprotocol/protocolVersion": "v999.0.0" }
      const unsupported = yield* post(url, 301, "server/discover", {}, {
        meta: v999,
        headers: { ...MODERN_HEADERS, "mcp-method": "server/discover", "mcp-protocol-version": "v999.0.0" }
      })
      expect(unsupported.status).toBe(400)
      expect(json(unsupported.body)).toMatchObject({
        id: 301,
        error: { code: -32022, data: { supported: ["2026-07-28"], requested: "v999.0.0" } }
      })
      const mismatch = yield* post(url, 302, "server/discover", {}, { meta: v999 })
      expect(mismatch.status).toBe(400)
      expect(json(mismatch.body)).toMatchObject({ id: 302, error: { code: -32020 } })
    }))

  it.scoped("answers removed and unknown methods with 404 and -32601", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      for (const method of ["initialize", "ping", "logging/setLevel", "resources/subscribe", "unknown/method"]) {
        const response = yield* post(url, 7, method, { uri: "greeting://x", level: "info" })
        expect(response.status).toBe(404)
        expect(json(response.body)).toMatchObject({ id: 7, error: { code: -32601 } })
      }
    }))

  it.scoped("gives an error its status also when the client prefers SSE (regression)", () =>
    Effect.gen(function*() {
      // The status was read back from the JSON text, which an SSE body is not.
      const { url } = yield* serveHttp(Server)
      const headers = {
        ...MODERN_HEADERS,
        accept: "text/event-stream, application/json;q=0.5",
        "mcp-method": "tools/call",
        "mcp-name": "nope"
      }
      const response = yield* post(url, 5, "tools/call", { name: "nope" }, { headers })
      expect(response.status).toBe(200)
      const removed = yield* post(url, 6, "ping", {}, { headers: { ...headers, "mcp-method": "ping" } })
      expect(removed.status).toBe(404)
      const body = removed.body.includes("data:") ? sseMessages(removed.body)[0]!.message : json(removed.body)
      expect(body).toMatchObject({ id: 6, error: { code: -32601 } })
    }))

  it.scoped("refuses a modern version header on a body that makes no claim, and GET and DELETE", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const claimless = yield* promise(() =>
        raw(url, { headers: MODERN_HEADERS, body: { jsonrpc: "2.0", id: 1, method: "server/discover", params: {} } })
      )
      expect(claimless.status).toBe(400)
      expect(json(claimless.body).error.code).toBe(-32602)
      const get = yield* promise(() => raw(url, { method: "GET", headers: MODERN_HEADERS }))
      expect(get.status).toBe(405)
      const del = yield* promise(() => raw(url, { method: "DELETE", headers: MODERN_HEADERS }))
      expect(del.status).toBe(405)
    }))

  it.scoped("streams a request's log messages before its response only when it asked, and ends the stream", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const quiet = yield* post(url, 1, "tools/call", { name: "logs" })
      expect(quiet.headers["content-type"]).toBe("application/json")
      expect(json(quiet.body).result.resultType).toBe("complete")
      const loud = yield* post(url, 2, "tools/call", { name: "logs" }, {
        meta: { ...META, "io.modelcontextprotocol/logLevel": "info" }
      })
      expect(loud.headers["content-type"]).toBe("text/event-stream")
      const messages = sseMessages(loud.body).map((m) => m.message)
      expect(messages.map((m) => m.method ?? m.id)).toEqual(["notifications/message", 2])
    }))

  it.scoped("checks Mcp-Method, Mcp-Name and the Mcp-Param headers of marked arguments against the body (400, -32020)", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const headers = (extra: Record<string, string>) => ({ ...MODERN_HEADERS, "mcp-method": "tools/call", ...extra })
      const args = { name: "forecast", arguments: { region: "eu-west", days: 3 } }
      const ok = yield* post(url, 1, "tools/call", args, {
        headers: headers({ "mcp-name": "  forecast ", "mcp-param-region": "eu-west", "mcp-param-days": "3" })
      })
      expect(json(ok.body).result.content[0].text).toBe("sun in eu-west")
      const encoded = yield* post(url, 2, "tools/call", args, {
        headers: headers({
          "mcp-name": `=?base64?${Buffer.from("forecast").toString("base64")}?=`,
          "mcp-param-region": "eu-west",
          "mcp-param-days": "003"
        })
      })
      expect(json(encoded.body).result.resultType).toBe("complete")
      const refused: Array<Record<string, string>> = [
        { "mcp-name": "forecast", "mcp-param-region": "us-east", "mcp-param-days": "3" },
        { "mcp-name": "forecast", "mcp-param-days": "3" },
        { "mcp-name": "other", "mcp-param-region": "eu-west", "mcp-param-days": "3" },
        { "mcp-name": "=?base64?Zm9yZWNhc3Q?=", "mcp-param-region": "eu-west", "mcp-param-days": "3" },
        { "mcp-method": "TOOLS/CALL", "mcp-name": "forecast", "mcp-param-region": "eu-west", "mcp-param-days": "3" }
      ]
      for (const [index, extra] of refused.entries()) {
        const response = yield* post(url, 10 + index, "tools/call", args, { headers: headers(extra) })
        expect(response.status).toBe(400)
        expect(json(response.body)).toMatchObject({ id: 10 + index, error: { code: -32020 } })
      }
    }))

  it.effect("refuses to register a tool whose header marks clients would drop", () =>
    Effect.gen(function*() {
      const Bad = McpServer.tool("bad", { parameters: { ratio: Schema.Number.pipe(Tool.header("Ratio")) } }, () =>
        Effect.succeed("x"))
      const exit = yield* Effect.exit(
        Layer.build(Bad.pipe(Layer.provide(McpServer.layer({ name: "b", version: "1" }))))
      )
      expect(JSON.stringify(exit)).toMatch(/Invalid x-mcp-header in tool \\"bad\\"/)
    }).pipe(Effect.scoped))

  it.scoped("keeps a subscriptions/listen stream open with its acknowledgement and the changes it asked for", () =>
    Effect.gen(function*() {
      // One server, both served and changed here.
      const context = yield* Layer.build(Server)
      const server = Context.get(context, McpServer.McpServer)
      const { url } = yield* serveHttp(Layer.succeedContext(context))
      const listen = openStream(url, 99, "subscriptions/listen", {
        notifications: { toolsListChanged: true, promptsListChanged: false }
      })
      const ack = yield* promise(() => listen.next())
      expect(ack).toEqual({
        jsonrpc: "2.0",
        method: "notifications/subscriptions/acknowledged",
        params: { notifications: { toolsListChanged: true }, _meta: { "io.modelcontextprotocol/subscriptionId": 99 } }
      })
      yield* server.addTool(Tool.make("later", {}, () => Effect.succeed("x")))
      expect(yield* promise(() => listen.next())).toMatchObject({
        method: "notifications/tools/list_changed",
        params: { _meta: { "io.modelcontextprotocol/subscriptionId": 99 } }
      })
      listen.close()
      yield* server.removeTool("later")
      const after = yield* post(url, 1, "tools/list")
      expect(json(after.body).result.tools.map((t: { name: string }) => t.name)).not.toContain("later")
    }))
})

describe("2026-07-28 over Streamable HTTP, without sessions", () => {
  /** A tool that reports progress, then waits until it is interrupted, and says when it was. */
  const hanging = Effect.gen(function*() {
    const started = yield* Deferred.make<void>()
    const interrupted = yield* Deferred.make<void>()
    const Hang = McpServer.tool("hang", {}, () =>
      Deferred.succeed(started, undefined).pipe(
        Effect.zipRight(RequestContext.progress(1, 2)),
        Effect.zipRight(Effect.never),
        Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
      ))
    return { started, interrupted, server: Layer.mergeAll(Server, Hang.pipe(Layer.provide(TestServer))) }
  })

  it.scoped("opens no session for a modern request: the session limit is left to handshake-era clients", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(Server)
      const server = Context.get(context, McpServer.McpServer)
      const connect = vi.spyOn(server, "connect")
      const { url } = yield* serveHttp(Layer.succeedContext(context), { maxSessions: 1 })
      yield* promise(() => openSession(url))
      expect(connect).toHaveBeenCalledTimes(1)
      // Far more modern requests than the one session the server may hold, many at once.
      const calls = yield* Effect.forEach(
        Array.from({ length: 50 }, (_, i) => i),
        (i) => post(url, i, "tools/call", { name: "add", arguments: { a: i, b: 1 } }),
        { concurrency: 25 }
      )
      for (const [i, called] of calls.entries()) {
        expect(called.status).toBe(200)
        expect(called.headers["mcp-session-id"]).toBeUndefined()
        expect(json(called.body).result.structuredContent).toEqual({ result: i + 1 })
      }
      expect(connect).toHaveBeenCalledTimes(1)
      // The one handshake session still holds the limit alone.
      const refused = yield* promise(() => raw(url, { headers: JSON_AND_SSE, body: initializeBody() }))
      expect(refused.status).toBe(503)
    }))

  it.scoped("streams progress before the response, and cancels the request when the client closes its stream", () =>
    Effect.gen(function*() {
      const { interrupted, server } = yield* hanging
      const { url } = yield* serveHttp(server)
      const call = openStream(url, 5, "tools/call", { name: "hang", _meta: { ...META, progressToken: "p" } })
      expect(yield* promise(() => call.next())).toMatchObject({
        method: "notifications/progress",
        params: { progressToken: "p", progress: 1, total: 2 }
      })
      call.close()
      // The handler is interrupted, its finalizers run.
      yield* Deferred.await(interrupted)
    }))

  it.scoped("answers what a handler's fiber ends with as the modern era does: failures, defects, interruption", () =>
    Effect.gen(function*() {
      // The answer is shaped outside the handler's fiber on this path (docs/architecture.md): the same answers.
      const NeedsSampling = McpServer.tool(
        "needs_sampling",
        {},
        () => Effect.as(RequestContext.sample("hi", { maxTokens: 5 }), "sampled")
      )
      const { url } = yield* serveHttp(
        Layer.mergeAll(TestServer, Layer.mergeAll(Unencodable, NeedsSampling).pipe(Layer.provide(TestServer)))
      )
      const call = (id: number, name: string) => post(url, id, "tools/call", { name })
      const failed = yield* call(1, "fail")
      expect(failed.status).toBe(200)
      expect(json(failed.body).result).toMatchObject({ isError: true, resultType: "complete" })
      const died = yield* call(2, "die")
      expect(died.body).not.toContain("secret")
      expect(json(died.body)).toMatchObject({ id: 2, result: { isError: true, resultType: "complete" } })
      const interrupted = yield* call(3, "interrupts")
      expect(json(interrupted.body)).toMatchObject({ id: 3, error: { code: -32603 } })
      const unencodable = yield* call(4, "bigint")
      expect(json(unencodable.body)).toMatchObject({ id: 4, error: { code: -32603 } })
      const missing = yield* call(5, "needs_sampling")
      expect(missing.status).toBe(400)
      expect(json(missing.body)).toMatchObject({
        id: 5,
        error: { code: -32021, data: { requiredCapabilities: { sampling: {} } } }
      })
      const notFound = yield* post(url, 6, "resources/read", { uri: "file:///nowhere.md" })
      expect(json(notFound.body)).toMatchObject({ id: 6, error: { code: -32602 } })
      const read = yield* post(url, 7, "resources/read", { uri: "file:///readme.md" })
      expect(json(read.body).result).toMatchObject({
        resultType: "complete",
        ttlMs: 0,
        cacheScope: "private",
        _meta: { "io.modelcontextprotocol/serverInfo": { name: "test-server" } }
      })
    }))

  it.live("drains modern requests in flight on shutdown, then ends what is left with an error", () =>
    Effect.gen(function*() {
      const { interrupted, server, started } = yield* hanging
      const slowStarted = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const Slow = McpServer.tool(
        "slow",
        {},
        () =>
          Deferred.succeed(slowStarted, undefined).pipe(
            Effect.zipRight(Deferred.await(release)),
            Effect.as("slow done")
          )
      )
      const scope = yield* Scope.make()
      const { url } = yield* serveHttp(Layer.mergeAll(server, Slow.pipe(Layer.provide(TestServer))), {
        shutdownGracePeriod: "1 second"
      }).pipe(Scope.extend(scope))
      const slow = post(url, 1, "tools/call", { name: "slow" }).pipe(Effect.fork)
      const hang = post(url, 2, "tools/call", { name: "hang" }).pipe(Effect.fork)
      const [slowFiber, hangFiber] = yield* Effect.all([slow, hang])
      yield* Deferred.await(slowStarted)
      yield* Deferred.await(started)
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      // Released as the shutdown begins (or just before): either way it answers within the grace period.
      yield* Deferred.succeed(release, undefined)
      const drained = yield* Fiber.join(slowFiber)
      expect(json(drained.body).result.content[0].text).toBe("slow done")
      const cut = yield* Fiber.join(hangFiber)
      expect(json(cut.body)).toMatchObject({ id: 2, error: { message: expect.stringMatching(/shut down/) } })
      yield* Fiber.join(closing)
      expect(yield* Deferred.isDone(interrupted)).toBe(true)
    }))
})

/** A modern request over HTTP whose SSE answer is read one message at a time (`close` leaves). */
const openStream = (url: string, id: number, method: string, params: Record<string, unknown>) => {
  const body = JSON.stringify({ jsonrpc: "2.0", id, method, params: { _meta: META, ...params } })
  const messages: Array<unknown> = []
  const waiting: Array<(message: unknown) => void> = []
  let buffer = ""
  const request = httpRequest(url, {
    method: "POST",
    headers: {
      ...MODERN_HEADERS,
      ...standardHeaders(method, params),
      "content-length": String(Buffer.byteLength(body))
    }
  }, (response) => {
    response.setEncoding("utf8")
    response.on("data", (chunk: string) => {
      buffer += chunk
      const events = buffer.split("\n\n")
      buffer = events.pop() ?? ""
      for (const { message } of sseMessages(events.join("\n\n"))) {
        const waiter = waiting.shift()
        if (waiter) waiter(message)
        else messages.push(message)
      }
    })
  })
  request.on("error", () => {})
  request.end(body)
  return {
    next: () =>
      new Promise<unknown>((resolve) => {
        const message = messages.shift()
        if (message !== undefined) resolve(message)
        else waiting.push(resolve)
      }),
    close: () => request.destroy()
  }
}

import { HttpServer } from "@effect/platform"
import type { HttpMiddleware, HttpRouter } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect } from "effect"
import type { Layer } from "effect"
import type { McpServer } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { spawn } from "node:child_process"
import { createServer, request as httpRequest } from "node:http"
import type { IncomingMessage, ServerResponse } from "node:http"

export interface RawResponse {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly body: string
  /** Whether the server ended the response (rather than `readFor` or `until` stopping the read). */
  readonly ended: boolean
}

export interface RawOptions {
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly body?: string | object
  /** Stop reading after this long (for SSE streams that stay open). */
  readonly readFor?: number
  /** Stop reading once the body contains this. */
  readonly until?: string
  /** Called once the body contains `text`; reading goes on (a test waits for a stream to be open, then acts). */
  readonly seen?: { readonly text: string; readonly then: () => void }
}

/** A request on loopback with full control over headers (Host included), reading at most `readFor` ms. */
export const raw = (url: string, options: RawOptions = {}): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const body = options.body === undefined
      ? undefined
      : typeof options.body === "string"
      ? options.body
      : JSON.stringify(options.body)
    const headers = body === undefined
      ? options.headers
      : { "content-length": String(Buffer.byteLength(body)), ...options.headers }
    const req = httpRequest(url, { method: options.method ?? "POST", headers }, (res) => {
      let text = ""
      let timer: NodeJS.Timeout | undefined
      const done = (ended: boolean) => {
        if (timer) clearTimeout(timer)
        res.destroy()
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, ended })
      }
      res.setEncoding("utf8")
      let seen = options.seen
      res.on("data", (chunk: string) => {
        text += chunk
        if (seen !== undefined && text.includes(seen.text)) {
          seen.then()
          seen = undefined
        }
        if (options.until !== undefined && text.includes(options.until)) done(false)
      })
      res.on("end", () => done(true))
      res.on("error", () => done(false))
      if (options.readFor !== undefined) timer = setTimeout(() => done(false), options.readFor)
    })
    req.on("error", reject)
    if (body !== undefined) req.write(body)
    req.end()
  })

/** Sends a POST (or, without a body, a GET) and drops the connection after `after`, before any answer. */
export const leave = (
  url: string,
  headers: Record<string, string>,
  body: object | undefined,
  /** Milliseconds, or until a promise settles. */
  after: number | Promise<unknown>
): Promise<void> =>
  new Promise((resolve) => {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const req = httpRequest(url, {
      method: text === undefined ? "GET" : "POST",
      headers: text === undefined ? headers : { "content-length": String(Buffer.byteLength(text)), ...headers }
    })
    req.on("error", () => resolve())
    req.end(text)
    const go = () => {
      req.destroy()
      resolve()
    }
    if (typeof after === "number") setTimeout(go, after)
    else after.then(go, go)
  })

/**
 * Sends a POST, reads the response's headers, then nothing for `pause` (milliseconds, or until a promise settles),
 * then the rest: what arrived, and whether the response was complete or cut off.
 */
export const readLate = (
  url: string,
  headers: Record<string, string>,
  body: object,
  pause: number | Promise<unknown>
) =>
  new Promise<{ readonly body: string; readonly complete: boolean }>((resolve) => {
    const text = JSON.stringify(body)
    let received = ""
    const req = httpRequest(url, {
      method: "POST",
      headers: { "content-length": String(Buffer.byteLength(text)), ...headers }
    }, (res) => {
      res.pause()
      res.setEncoding("utf8")
      // Listened to at once (neither starts the flow): the server may cut the response off during the pause.
      res.on("end", () => resolve({ body: received, complete: res.complete }))
      res.on("error", () => resolve({ body: received, complete: false }))
      const resume = () => {
        res.on("data", (chunk: string) => (received += chunk))
        res.resume()
      }
      if (typeof pause === "number") setTimeout(resume, pause)
      else void pause.finally(resume)
    })
    req.on("error", () => resolve({ body: received, complete: false }))
    req.end(text)
  })

export const JSON_AND_SSE = { "content-type": "application/json", accept: "application/json, text/event-stream" }

export const initializeBody = (protocolVersion = "2025-11-25", capabilities: object = {}) => ({
  jsonrpc: "2.0",
  id: "init",
  method: "initialize",
  params: { protocolVersion, capabilities, clientInfo: { name: "raw-http", version: "1" } }
})

/** Initializes a session over raw HTTP and returns its id. */
export const openSession = async (url: string, protocolVersion = "2025-11-25", capabilities: object = {}) => {
  const response = await raw(url, { headers: JSON_AND_SSE, body: initializeBody(protocolVersion, capabilities) })
  const sessionId = response.headers["mcp-session-id"]
  if (typeof sessionId !== "string") throw new Error(`no session: ${response.status} ${response.body}`)
  const headers = { ...JSON_AND_SSE, "mcp-session-id": sessionId, "mcp-protocol-version": protocolVersion }
  await raw(url, { headers, body: { jsonrpc: "2.0", method: "notifications/initialized" } })
  return { sessionId, headers }
}

/** The JSON-RPC messages in an SSE body, with their event ids. */
export const sseMessages = (body: string) =>
  body.split("\n\n").flatMap((block) => {
    const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("")
    const id = block.split("\n").find((l) => l.startsWith("id:"))?.slice(3).trim()
    return data === "" ? [] : [{ id, message: JSON.parse(data) }]
  })

/**
 * Serves a server layer like `serveHttp`, on a Node server of its own around `NodeHttp.makeListener`, and tells
 * when the response to a request sent with an `x-watch: <name>` header closes: whether it had finished, or was cut
 * off. Asked before the request is sent.
 */
export const serveHttpWatching = <E, R>(
  server: Layer.Layer<McpServer.McpServer, E, R>,
  options: Omit<NodeHttp.ServeOptions, "port" | "host"> = {}
) =>
  Effect.gen(function*() {
    const watched = new Map<
      string,
      { readonly closed: Promise<boolean>; readonly settle: (finished: boolean) => void }
    >()
    const watch = (name: string) => {
      const existing = watched.get(name)
      if (existing !== undefined) return existing
      let settle: (finished: boolean) => void = () => {}
      const closed = new Promise<boolean>((resolve) => (settle = resolve))
      const entry = { closed, settle }
      watched.set(name, entry)
      return entry
    }
    let route: (request: IncomingMessage, response: ServerResponse) => void = (_, response) => {
      response.writeHead(503).end()
    }
    const nodeServer = createServer((request, response) => {
      const name = request.headers["x-watch"]
      if (typeof name === "string") {
        // 'finish' comes once all of an ended response went to the socket; never for one destroyed before that.
        let finished = false
        response.once("finish", () => (finished = true))
        response.once("close", () => watch(name).settle(finished))
      }
      route(request, response)
    })
    // Listening first, so that the server closes after the app has ended its sessions, as NodeHttp.serve does.
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => {
        nodeServer.listen(0, "127.0.0.1", () => resume(Effect.void))
      }),
      () =>
        Effect.async<void>((resume) => {
          nodeServer.close(() => resume(Effect.void))
          nodeServer.closeAllConnections()
        })
    )
    route = yield* NodeHttp.makeListener(server, options)
    const address = nodeServer.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    return { url: `http://127.0.0.1:${port}/mcp`, responseClosed: (name: string) => watch(name).closed }
  })

/** Serves a server layer on a free loopback port for the life of the scope. */
export const serveHttp = <E, R>(server: Layer.Layer<McpServer.McpServer, E, R>, options: NodeHttp.ServeOptions = {}) =>
  NodeHttp.serve(server, { port: 0, ...options })

export const promise = <A>(evaluate: () => Promise<A>) => Effect.promise(evaluate)

/**
 * Runs an example in its own process and waits for the URL it prints once it listens; `stop` ends it. Use it in a
 * `try`/`finally`, so that the process never outlives the test.
 */
export const startExample = async (file: string, args: ReadonlyArray<string> = []) => {
  const child = spawn(process.execPath, ["--import", "tsx", file, ...args], { stdio: ["ignore", "ignore", "pipe"] })
  /** Ends the example; resolves once it has exited, so that its port is free again. */
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once("exit", () => resolve())
      child.kill()
    })
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let text = ""
      child.stderr.on("data", (chunk) => {
        text += chunk
        const match = /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(text)
        if (match) resolve(match[1]!.replace(/"$/, ""))
      })
      child.on("exit", () => reject(new Error(`exited: ${text}`)))
    })
    return { url, stop }
  } catch (e) {
    await stop()
    throw e
  }
}

/** Serves a router on the platform's own Node HTTP server (the `HttpApp` path), on a free loopback port. */
export const servePlatform = <E, R>(router: HttpRouter.HttpRouter<E, R>, middleware?: HttpMiddleware.HttpMiddleware) =>
  Effect.gen(function*() {
    const httpServer = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" })
    const serve = middleware === undefined ? HttpServer.serveEffect(router) : HttpServer.serveEffect(router, middleware)
    yield* serve.pipe(Effect.provideService(HttpServer.HttpServer, httpServer))
    return `http://127.0.0.1:${httpServer.address._tag === "TcpAddress" ? httpServer.address.port : 0}`
  })

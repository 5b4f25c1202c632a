import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { McpServer, RequestContext } from "mcp-effect"
import net from "node:net"
import { TestServer } from "./fixtures.js"
import { openSession, promise, raw, serveHttp } from "./httpHelpers.js"

/** Logs, then never answers: its SSE response stays open, carrying keep-alive comments. */
const Hang = McpServer.tool(
  "hang",
  { description: "Logs, then hangs", parameters: { note: Schema.String } },
  ({ note }) => Effect.zipRight(RequestContext.log("info", note), Effect.never)
)

const Server = Layer.provideMerge(Hang, TestServer)

interface Exchange {
  /** Everything the server sent, until it closed the connection. */
  readonly received: string
  /** The error writing our side raised, if any (EPIPE, ECONNRESET). */
  readonly writeError: string | undefined
}

/**
 * Opens a raw TCP connection, writes `chunks` one after another (waiting for
 * each write to be taken), then nothing more, and resolves once the server
 * closes the connection. Nothing here waits on a clock: the test fails by its
 * own timeout if the server never closes.
 */
const rawExchange = (port: number, chunks: ReadonlyArray<string | Buffer>) =>
  new Promise<Exchange>((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    let received = ""
    let writeError: string | undefined
    socket.setEncoding("utf8")
    socket.on("data", (text: string) => (received += text))
    socket.on("error", (e) => (writeError ??= e.message))
    socket.on("close", () => resolve({ received, writeError }))
    const write = (index: number): void => {
      if (index >= chunks.length) return
      socket.write(chunks[index]!, (error) => {
        if (error) writeError ??= error.message
        else write(index + 1)
      })
    }
    write(0)
  })

const head = (lines: ReadonlyArray<string>) =>
  [
    "POST /mcp HTTP/1.1",
    "Host: 127.0.0.1",
    "Content-Type: application/json",
    "Accept: application/json, text/event-stream",
    ...lines
  ]
    .join("\r\n") + "\r\n\r\n"

const portOf = (url: string) => Number(new URL(url).port)

describe("NodeHttp time bounds", () => {
  it.scopedLive("closes a connection whose headers stop coming, with 408", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server, { headersTimeout: "100 millis" })
      const slow = yield* promise(() =>
        rawExchange(portOf(url), ["POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a"])
      )
      expect(slow.received).toMatch(/^HTTP\/1\.1 408/)
      // Nothing at all is a request whose headers never come.
      const silent = yield* promise(() => rawExchange(portOf(url), []))
      expect(silent.received).toMatch(/^(HTTP\/1\.1 408|)/)
    }))

  it.scopedLive("closes a connection whose body stops coming, with 408 and a JSON-RPC error, and lets the body go", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server, { bodyTimeout: "100 millis" })
      const { headers } = yield* promise(() => openSession(url))
      const sessionHeaders = [`Mcp-Session-Id: ${headers["mcp-session-id"]}`, "MCP-Protocol-Version: 2025-11-25"]
      for (
        const chunks of [
          [head([...sessionHeaders, "Content-Length: 100"]), "{\"jsonrpc\":\"2.0\","],
          [head([...sessionHeaders, "Transfer-Encoding: chunked"]), "20\r\n{\"jsonrpc\":\"2.0\","]
        ]
      ) {
        const cut = yield* promise(() => rawExchange(portOf(url), chunks))
        expect(cut.received).toMatch(/^HTTP\/1\.1 408/)
        expect(cut.received).toMatch(/connection: close/i)
        const body = JSON.parse(cut.received.slice(cut.received.indexOf("\r\n\r\n") + 4))
        expect(body.error).toMatchObject({ code: -32000, message: expect.stringMatching(/Request Timeout/) })
      }
      // The session is untouched.
      const ping = yield* promise(() => raw(url, { headers, body: { jsonrpc: "2.0", id: 1, method: "ping" } }))
      expect(JSON.parse(ping.body)).toEqual({ jsonrpc: "2.0", id: 1, result: {} })
    }))

  it.scopedLive("keeps SSE responses open past every timeout: they carry keep-alive comments long after", () =>
    Effect.gen(function*() {
      // The timeouts are a fraction of the keep-alive interval, so a stream that carries two keep-alive comments
      // (which come one interval apart) was open for longer than any of them, however loaded the machine.
      const { url } = yield* serveHttp(Server, {
        headersTimeout: "100 millis",
        bodyTimeout: "100 millis",
        requestTimeout: "300 millis",
        keepAliveInterval: "600 millis",
        // The hanging call is still in flight when the test ends: no need to wait for it.
        shutdownGracePeriod: "0 millis"
      })
      const { headers } = yield* promise(() => openSession(url))
      const twoKeepAlives = /: keep-alive[\s\S]*: keep-alive/
      const [get, post] = yield* promise(() =>
        Promise.all([
          raw(url, {
            method: "GET",
            headers: { ...headers, accept: "text/event-stream" },
            until: ": keep-alive\n\n: keep-alive"
          }),
          raw(url, {
            headers,
            body: {
              jsonrpc: "2.0",
              id: 1,
              method: "tools/call",
              params: { name: "hang", arguments: { note: "working" } }
            },
            until: ": keep-alive\n\n: keep-alive"
          })
        ])
      )
      for (const stream of [get, post]) {
        expect(stream.status).toBe(200)
        expect(stream.ended).toBe(false)
        expect(stream.body).toMatch(twoKeepAlives)
      }
      expect(post.body).toContain("working")
    }))
})

describe("NodeHttp oversized bodies", () => {
  it.scopedLive("answers a body sent in one go past maxBodyBytes with 413 and a JSON-RPC error, then closes", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server, { maxBodyBytes: 1000 })
      const body = Buffer.alloc(2 * 1024 * 1024, "a")
      const cases: Array<ReadonlyArray<string | Buffer>> = [
        // Refused by its Content-Length before it is read; the client asks to close, as a one-shot client does.
        [head(["Connection: close", `Content-Length: ${body.length}`]), body],
        [head([`Content-Length: ${body.length}`]), body],
        // Chunked: refused while it is read, once it passes the limit.
        [
          head(["Connection: close", "Transfer-Encoding: chunked"]),
          `${body.length.toString(16)}\r\n`,
          body,
          "\r\n0\r\n\r\n"
        ]
      ]
      for (const chunks of cases) {
        const answer = yield* promise(() => rawExchange(portOf(url), chunks))
        // The whole body was taken (no EPIPE or reset), and the answer came whole.
        expect(answer.writeError).toBeUndefined()
        expect(answer.received).toMatch(/^HTTP\/1\.1 413/)
        expect(answer.received).toMatch(/connection: close/i)
        const text = answer.received.slice(answer.received.indexOf("\r\n\r\n") + 4)
        expect(JSON.parse(text).error).toMatchObject({
          code: -32000,
          message: expect.stringMatching(/exceeds 1000 bytes/)
        })
      }
      const { headers } = yield* promise(() => openSession(url))
      const ping = yield* promise(() => raw(url, { headers, body: { jsonrpc: "2.0", id: 1, method: "ping" } }))
      expect(ping.status).toBe(200)
    }))
})

import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Queue } from "effect"
import { McpError, McpServer } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { PassThrough } from "node:stream"
import { lineSplitter, makeLineSplitter } from "../src/node/internal/lineSplitter.js"
import { TestServer } from "./fixtures.js"
import { flush } from "./helpers.js"

const MAX = 1024

/**
 * TestServer served on `makeTransport` over a pair of PassThrough streams, with
 * a small message limit: `write` feeds its stdin verbatim, `next` takes the
 * next message it wrote to stdout, `none` checks that nothing more was written.
 */
const serveOnStreams = Effect.gen(function*() {
  const stdin = new PassThrough()
  const stdout = new PassThrough()
  const received = yield* Queue.unbounded<
    { readonly id?: unknown; readonly result?: unknown; readonly error?: unknown }
  >()
  const lines = lineSplitter({
    maxLineBytes: Number.MAX_SAFE_INTEGER,
    onLine: (line) => Queue.unsafeOffer(received, JSON.parse(line)),
    onOversized: () => {}
  })
  stdout.on("data", lines)
  const transport = NodeStdio.makeTransport({ stdin, stdout, maxMessageBytes: MAX })
  yield* Effect.forkScoped(McpServer.serve(TestServer, transport))
  yield* Effect.addFinalizer(() => Effect.sync(() => stdin.end()))
  const write = (data: string | Buffer) =>
    Effect.zipRight(
      Effect.sync(() => stdin.write(data)),
      flush
    )
  const send = (message: unknown) => write(JSON.stringify(message) + "\n")
  const next = Queue.take(received)
  const none = Effect.zipRight(
    flush,
    Effect.flatMap(Queue.size(received), (size) => Effect.sync(() => expect(size).toBe(0)))
  )
  yield* send({
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } }
  })
  expect((yield* next).id).toBe(0)
  yield* send({ jsonrpc: "2.0", method: "notifications/initialized" })
  return { write, send, next, none }
})

const tooLarge = {
  jsonrpc: "2.0",
  id: null,
  error: { code: McpError.ErrorCode.InvalidRequest, message: `Invalid request: the message exceeds ${MAX} bytes` }
}

describe("stdio framing", () => {
  it.scoped("answers a line over maxMessageBytes, sent in chunks, with one error and keeps serving", () =>
    Effect.gen(function*() {
      const { next, none, send, write } = yield* serveOnStreams
      // MAX + 1 bytes in five writes, then its newline.
      const line = "x".repeat(MAX + 1)
      for (let i = 0; i < line.length; i += 250) yield* write(line.slice(i, i + 250))
      yield* write("\n")
      expect(yield* next).toEqual(tooLarge)
      yield* none
      yield* send({ jsonrpc: "2.0", id: 1, method: "ping" })
      expect(yield* next).toEqual({ jsonrpc: "2.0", id: 1, result: {} })
      yield* none
    }))

  it.scoped("answers an oversized line that arrives in one chunk, between valid requests, only once", () =>
    Effect.gen(function*() {
      const { next, none, write } = yield* serveOnStreams
      const ping = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, method: "ping" })
      // Ten times the limit, no newline yet: dropped as it comes, reported once.
      yield* write(ping(1) + "\n" + "y".repeat(MAX * 10))
      expect(yield* next).toEqual({ jsonrpc: "2.0", id: 1, result: {} })
      expect(yield* next).toEqual(tooLarge)
      yield* write("y".repeat(MAX * 10) + "\n" + ping(2) + "\n")
      expect(yield* next).toEqual({ jsonrpc: "2.0", id: 2, result: {} })
      yield* none
    }))

  it.scoped("accepts a message of exactly maxMessageBytes, with a CRLF ending", () =>
    Effect.gen(function*() {
      const { next, none, write } = yield* serveOnStreams
      const head = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" })
      const message = head + " ".repeat(MAX - head.length)
      yield* write(message.slice(0, 100))
      yield* write(message.slice(100) + "\r\n")
      expect(yield* next).toEqual({ jsonrpc: "2.0", id: 1, result: {} })
      yield* none
    }))

  it.scoped("decodes a multi-byte UTF-8 character split across two reads intact", () =>
    Effect.gen(function*() {
      const { next, none, write } = yield* serveOnStreams
      const text = "café 🙂 ünïcödé"
      const bytes = Buffer.from(
        JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text } } }) +
          "\n"
      )
      // Cut inside the é (2 bytes), then inside the emoji (4 bytes).
      const e = bytes.indexOf(Buffer.from("é")) + 1
      const emoji = bytes.indexOf(Buffer.from("🙂")) + 2
      yield* write(bytes.subarray(0, e))
      yield* write(bytes.subarray(e, emoji))
      yield* write(bytes.subarray(emoji))
      expect(yield* next).toEqual({ jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text }] } })
      yield* none
    }))

  it.scoped("ignores blank and whitespace-only lines between messages", () =>
    Effect.gen(function*() {
      const { next, none, send, write } = yield* serveOnStreams
      yield* write("\n\n\r\n   \n\t \r\n")
      yield* write("  ")
      yield* write("\r")
      yield* write("\n")
      yield* none
      yield* send({ jsonrpc: "2.0", id: 1, method: "ping" })
      expect(yield* next).toEqual({ jsonrpc: "2.0", id: 1, result: {} })
      yield* none
    }))
})

/** Feeds `chunks` to a splitter and returns what it delivered: lines, and "oversized" where it reported one. */
const split = (chunks: Iterable<Buffer | string>, maxLineBytes: number) => {
  const out: Array<string> = []
  const onData = lineSplitter({
    maxLineBytes,
    onLine: (line) => out.push(line),
    onOversized: () => out.push("oversized")
  })
  for (const chunk of chunks) onData(chunk)
  return out
}

describe("lineSplitter", () => {
  it("delivers a last line without its newline when ended, within the limit", () => {
    const ended = (chunks: ReadonlyArray<string | Buffer>, maxLineBytes: number) => {
      const out: Array<string> = []
      const splitter = makeLineSplitter({
        maxLineBytes,
        onLine: (line) => out.push(line),
        onOversized: () => out.push("oversized")
      })
      for (const chunk of chunks) splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk)
      splitter.end()
      return out
    }
    expect(ended(["a\nlast", " words"], 100)).toEqual(["a", "last words"])
    expect(ended(["a\n12345\r"], 5)).toEqual(["a", "12345"])
    expect(ended(["a\n123456"], 5)).toEqual(["a", "oversized"])
    expect(ended(["a\n12345678", "9"], 5)).toEqual(["a", "oversized"])
    expect(ended(["a\n", "  "], 5)).toEqual(["a"])
    // A character cut across pushes.
    const e = Buffer.from("\u00e9")
    expect(ended(["t", e.subarray(0, 1), e.subarray(1)], 100)).toEqual(["t\u00e9"])
  })

  it("joins a long line from many chunks once (linear, not rebuilt per chunk)", () => {
    const chunk = Buffer.alloc(64 * 1024, "a")
    const chunks = Array.from({ length: 128 }, () => chunk) // 8 MiB
    const lines = split([...chunks, "\n"], 32 * 1024 * 1024)
    expect(lines.length).toBe(1)
    expect(lines[0]!.length).toBe(8 * 1024 * 1024)
  })

  it("drops an 8 MiB line over a 1 MiB limit without joining it, and reports it once", () => {
    const chunk = Buffer.alloc(64 * 1024, "a")
    const chunks = Array.from({ length: 128 }, () => chunk)
    expect(split([...chunks, "\n{}\n"], 1024 * 1024)).toEqual(["oversized", "{}"])
  })

  it("splits a 1-byte-per-chunk stream", () => {
    const bytes = Buffer.from("{\"a\":\"é🙂\"}\r\n\n[1]\n")
    const chunks = Array.from(bytes, (b) => Buffer.from([b]))
    expect(split(chunks, 100)).toEqual(["{\"a\":\"é🙂\"}", "[1]"])
  })

  it("applies the limit to a line's bytes without its line ending, wherever the chunks are cut", () => {
    // "é" is 2 bytes: the limit counts bytes, not characters.
    const within = "é".repeat(5) // 10 bytes
    const over = "é".repeat(5) + "x" // 11 bytes
    const input = Buffer.from(`${within}\r\n${over}\n${within}\n${over}\r\n${within}`)
    for (let cut = 0; cut <= input.length; cut++) {
      expect(split([input.subarray(0, cut), input.subarray(cut), "\n"], 10)).toEqual([
        within,
        "oversized",
        within,
        "oversized",
        within
      ])
    }
  })

  it("reports a line over the limit as soon as it is, before its newline, and drops the rest of it", () => {
    // One byte over may still be the \r of a \r\n; two cannot.
    expect(split(["x".repeat(11)], 10)).toEqual([])
    expect(split(["x".repeat(12)], 10)).toEqual(["oversized"])
    expect(split(["x".repeat(12), "x".repeat(1000), "x\n{}\n"], 10)).toEqual(["oversized", "{}"])
  })

  it("counts the held start of a line in bytes, not characters", () => {
    // "éééx" is 7 bytes (4 characters); with "yyyy" the line is 11 bytes, over 10.
    expect(split(["{}\néééx", "yyyy\n"], 10)).toEqual(["{}", "oversized"])
    expect(split(["{}\néééx", "yyy\n"], 10)).toEqual(["{}", "éééxyyy"])
  })

  it("delivers the same lines however the bytes are cut into chunks", () =>
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: "grapheme", maxLength: 30 }), fc.constantFrom("", " ", "\r", " \t")), {
          maxLength: 20
        }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        (lines, cuts, crlf) => {
          const clean = lines.map((line) => line.replace(/[\r\n]/g, ""))
          const bytes = Buffer.from(clean.map((line) => line + (crlf ? "\r\n" : "\n")).join(""))
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
          const chunks = [0, ...points].map((from, i) => bytes.subarray(from, points[i] ?? bytes.length))
          const expected = clean.filter((line) => /[^ \t]/.test(line))
          expect(split(chunks, 1000)).toEqual(expected)
        }
      )
    ))

  it("reports exactly the lines over the limit, however the bytes are cut into chunks", () =>
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: "grapheme", maxLength: 12 }), fc.constantFrom("", "  ", "x".repeat(20))), {
          maxLength: 12
        }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 24 }),
        (lines, cuts, crlf, limit) => {
          const clean = lines.map((line) => line.replace(/[\r\n]/g, ""))
          const bytes = Buffer.from(clean.map((line) => line + (crlf ? "\r\n" : "\n")).join(""))
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
          const chunks = [0, ...points].map((from, i) => bytes.subarray(from, points[i] ?? bytes.length))
          const expected = clean.flatMap((line) =>
            Buffer.byteLength(line) > limit ? ["oversized"] : /[^ \t]/.test(line) ? [line] : []
          )
          expect(split(chunks, limit)).toEqual(expected)
        }
      ),
      { numRuns: 500 }
    ))
})

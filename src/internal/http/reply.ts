/**
 * What the Streamable HTTP handler answers: a whole body, or an SSE stream
 * whose text comes through a `Sink`, and the error replies it sends.
 */
import { ErrorCode, McpError } from "../../McpError.js"
import type { RequestId } from "../../McpSchema.js"
import type { Reply, Writer } from "../../StreamableHttp.js"
import * as JsonRpc from "../jsonRpc.js"
import { Backlog } from "./backlog.js"

/**
 * An SSE response's text as it comes: held until the HTTP server attaches a
 * writer, then written straight through. No queue and no fiber per response:
 * what was held goes out as one chunk, with the headers.
 */
export class Sink {
  private held: Array<string> | undefined = []
  /** What is held before a writer attaches is bounded like what a writer holds (see `Backlog`). */
  private readonly backlog: Backlog
  private writer: Writer | undefined
  private ended = false
  /** Seen unattached by a keep-alive round: see the app's keep-alive loop. */
  stale = false

  constructor(maxBuffered: number) {
    this.backlog = new Backlog(maxBuffered, (text) => this.held?.push(text), () => this.end())
  }

  get attached(): boolean {
    return this.writer !== undefined
  }

  /** Ended: by its stream, or because its backlog overflowed before a writer attached. */
  get isEnded(): boolean {
    return this.ended
  }

  write(chunk: string, droppable?: boolean): void {
    if (this.ended) return
    if (this.writer !== undefined) this.writer.write(chunk, droppable)
    else this.backlog.offer(chunk, droppable === true)
  }

  end(): void {
    if (this.ended) return
    this.ended = true
    this.writer?.end()
  }

  /** Writes what was held, then everything that follows; returns whether anything was written at once. */
  attach(writer: Writer): boolean {
    // What was dropped while nothing was attached is counted before what follows.
    if (!this.ended) this.backlog.settle()
    const held = this.held?.join("") ?? ""
    this.held = undefined
    this.writer = writer
    if (held !== "") writer.write(held)
    if (this.ended) writer.end()
    return held !== "" || this.ended
  }
}

export const full = (status: number, body: string, headers: Readonly<Record<string, string>> = {}): Reply => ({
  _tag: "Full",
  status,
  headers,
  body
})

export const jsonText = (text: string, status = 200, headers: Readonly<Record<string, string>> = {}): Reply =>
  full(status, text, { "content-type": "application/json", ...headers })

export const empty = (status: number): Reply => full(status, "")

/** An HTTP refusal with a JSON-RPC error body. */
export const refuse = (status: number, error: McpError, id: RequestId | null = null): Reply =>
  jsonText(JsonRpc.errorText(id, error), status)

/** A refusal of the HTTP request itself (a bad header, a missing session): -32000 and the reason. */
export const httpError = (status: number, message: string, id: RequestId | null = null): Reply =>
  refuse(status, new McpError({ code: ErrorCode.ServerError, message }), id)

/** The session the request names is gone or was never there. */
export const sessionNotFound = (id: RequestId | null = null): Reply =>
  refuse(
    404,
    new McpError({
      code: ErrorCode.SessionNotFound,
      message: "Session not found: it expired or was ended; initialize a new one"
    }),
    id
  )

/** SSE events: one JSON-RPC message each, with the event id to resume from when the store gave one. */
export const sseEvent = (id: string | undefined, text: string) =>
  id === undefined ? `event: message\ndata: ${text}\n\n` : `event: message\nid: ${id}\ndata: ${text}\n\n`

/**
 * The JSON-RPC 2.0 envelope, once: what makes a message valid, the error
 * objects sent back, and the checks on a batch. The peer (stdio, memory,
 * legacy SSE) and the Streamable HTTP handler both classify messages here, so
 * that one input gets one answer whatever carries it.
 */
import { McpError } from "../McpError.js"
import type { RequestId } from "../McpSchema.js"
import { isRecord, isRequestId } from "./guards.js"

/** A JSON-RPC error response. */
export const errorResponse = (id: RequestId | null, error: McpError) => ({
  jsonrpc: "2.0" as const,
  id,
  error: error.data === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, data: error.data }
})

/** A JSON-RPC error response as text. */
export const errorText = (id: RequestId | null, error: McpError): string => JSON.stringify(errorResponse(id, error))

/** Parses one frame: the message, or the -32700 that answers it. */
export const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch (e) {
    return McpError.parseError(e instanceof Error ? e.message : "invalid JSON")
  }
}

/** One message, classified. */
export type Message =
  | { readonly _tag: "Request"; readonly id: RequestId; readonly method: string; readonly params: Params }
  | { readonly _tag: "Notification"; readonly method: string; readonly params: Params }
  | { readonly _tag: "Response"; readonly id: RequestId; readonly message: Record<string, unknown> }
  /** Not a valid message: `answer` says whether it is answered (an invalid notification is not). */
  | { readonly _tag: "Invalid"; readonly id: RequestId | null; readonly error: McpError; readonly answer: boolean }

export type Params = Record<string, unknown> | undefined

const invalid = (id: RequestId | null, detail: string, answer = true): Message => ({
  _tag: "Invalid",
  id,
  error: McpError.invalidRequest(detail),
  answer
})

/** Validates one message's envelope (not a batch: see {@link checkBatch}). */
export const classify = (message: unknown): Message => {
  if (!isRecord(message)) return invalid(null, "a message must be a JSON object")
  const id = message.id
  const hasId = "id" in message
  if (hasId && !isRequestId(id)) return invalid(null, "id must be a string or an integer")
  const replyId = isRequestId(id) ? id : null
  const isCall = "method" in message
  if (message.jsonrpc !== "2.0") return invalid(replyId, "jsonrpc must be \"2.0\"", hasId || !isCall)
  if (!isCall) {
    return replyId !== null && ("result" in message || "error" in message)
      ? { _tag: "Response", id: replyId, message }
      : invalid(replyId, "expected a method, or a result or error")
  }
  const method = message.method
  const params = message.params
  if (typeof method !== "string") return invalid(replyId, "method must be a string", replyId !== null)
  if (params !== undefined && !isRecord(params)) return invalid(replyId, "params must be an object", replyId !== null)
  return replyId === null
    ? { _tag: "Notification", method, params }
    : { _tag: "Request", id: replyId, method, params }
}

/** The id a request in a batch carries, if it is a request with a valid id. */
const requestIdOf = (message: unknown): RequestId | undefined =>
  isRecord(message) && "method" in message && isRequestId(message.id) ? message.id : undefined

/**
 * Checks a batch before any of it runs: an empty batch is one error; an id
 * used twice in the batch, or already in flight, is refused for that entry
 * (the refusals, by entry index), so that no request can take over another's
 * answer. A batch longer than `maxEntries` is one error: it would hold the
 * event loop, and its answer would dwarf it.
 */
export const checkBatch = (
  messages: ReadonlyArray<unknown>,
  inFlight: (id: RequestId) => boolean,
  maxEntries: number
): McpError | Map<number, ReturnType<typeof errorResponse>> => {
  if (messages.length === 0) return McpError.invalidRequest("a batch must not be empty")
  if (messages.length > maxEntries) {
    return McpError.invalidRequest(`a batch may hold at most ${maxEntries} entries; this one has ${messages.length}`)
  }
  const refusals = new Map<number, ReturnType<typeof errorResponse>>()
  const ids = new Set<RequestId>()
  messages.forEach((message, index) => {
    const id = requestIdOf(message)
    if (id === undefined) return
    if (ids.has(id)) {
      refusals.set(
        index,
        errorResponse(id, McpError.invalidRequest(`id ${JSON.stringify(id)} is used twice in the batch`))
      )
    } else if (inFlight(id)) {
      refusals.set(index, errorResponse(id, inFlightError(id)))
    } else ids.add(id)
  })
  return refusals
}

/** The refusal of a request whose id is already used by one in flight. */
export const inFlightError = (id: RequestId): McpError =>
  McpError.invalidRequest(`id ${JSON.stringify(id)} is already used by a request in flight`)

/** The progress token a request's `_meta` carries, if any. */
export const progressTokenOf = (params: Params): string | number | undefined => {
  const meta = params?._meta
  if (!isRecord(meta)) return undefined
  const token = meta.progressToken
  return typeof token === "string" || typeof token === "number" ? token : undefined
}

/**
 * Outgoing messages as JSON text, safely: a handler's result may hold what
 * JSON cannot (a BigInt, a cycle), and a transport that threw while writing
 * would lose the answer, or worse, throw inside the runtime that called it.
 */
import { McpError, MessageEncodingError } from "../McpError.js"
import { isRecord, isRequestId } from "./guards.js"

/** A JSON-RPC response: an id with a result or an error. */
export const isResponse = (u: unknown): u is Record<string, unknown> =>
  isRecord(u) && "id" in u && ("result" in u || "error" in u) && !("method" in u)

/** What answers a request whose response could not be encoded, so that the peer is still answered. */
const unencodable = (id: unknown) => {
  const error = McpError.internal("the response could not be encoded as JSON")
  return { jsonrpc: "2.0", id: isRequestId(id) ? id : null, error: { code: error.code, message: error.message } }
}

/**
 * A message and its JSON text. A response that cannot be encoded is replaced
 * by an internal error for its id; any other message that cannot be encoded
 * throws a `MessageEncodingError`, in the fiber that sent it.
 */
export const encoded = (message: unknown): { readonly message: unknown; readonly text: string } => {
  try {
    return { message, text: JSON.stringify(message) }
  } catch (cause) {
    if (Array.isArray(message)) {
      const items = message.map(encoded)
      return { message: items.map((i) => i.message), text: `[${items.map((i) => i.text).join(",")}]` }
    }
    if (isResponse(message)) {
      const replacement = unencodable(message.id)
      return { message: replacement, text: JSON.stringify(replacement) }
    }
    throw new MessageEncodingError({ detail: cause instanceof Error ? cause.message : String(cause) })
  }
}

/** A message's JSON text, as {@link encoded} makes it. */
export const encode = (message: unknown): string => {
  try {
    return JSON.stringify(message)
  } catch {
    return encoded(message).text
  }
}

/**
 * A value as near as JSON can carry it, for what is best-effort (log data): a
 * BigInt as its digits, a cycle as "[Circular]", whatever else fails as a
 * note saying so.
 */
export const encodable = (value: unknown): unknown => {
  const ancestors: Array<object> = []
  const walk = (value: unknown): unknown => {
    if (typeof value === "bigint") return value.toString()
    if (typeof value !== "object" || value === null) return value
    if (ancestors.includes(value)) return "[Circular]"
    if ("toJSON" in value && typeof value.toJSON === "function") return walk(value.toJSON())
    ancestors.push(value)
    const out = Array.isArray(value)
      ? value.map(walk)
      : Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item)]))
    ancestors.pop()
    return out
  }
  try {
    return walk(value)
  } catch {
    return "[a value JSON cannot encode]"
  }
}

/**
 * Outgoing messages as JSON text, safely: a handler's result may hold what
 * JSON cannot (a BigInt, a cycle), and a transport that threw while writing
 * would lose the answer, or worse, throw inside the runtime that called it.
 */
import { isRecord, isRequestId } from "./guards.js"

/** A JSON-RPC response: an id with a result or an error. */
export const isResponse = (u: unknown): u is Record<string, unknown> =>
  isRecord(u) && "id" in u && ("result" in u || "error" in u) && !("method" in u)

/** What answers a request whose response could not be encoded, so that the peer is still answered. */
const unencodable = (id: unknown) => ({
  jsonrpc: "2.0",
  id: isRequestId(id) ? id : null,
  error: { code: -32603, message: "Internal error: the result could not be encoded as JSON" }
})

/**
 * A message and its JSON text. A response that cannot be encoded is replaced
 * by an internal error for its id; any other message that cannot be encoded
 * throws, in the fiber that sent it.
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
    throw new TypeError(`The message cannot be encoded as JSON: ${cause instanceof Error ? cause.message : String(cause)}`)
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

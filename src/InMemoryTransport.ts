/**
 * A pair of connected in-memory transports, for tests and for running a
 * client and a server in one process.
 *
 * Messages cross as serialized JSON, delivered on a later microtask, so both
 * ends see what they would see on a wire. When either end stops running, the
 * other end's input ends.
 *
 * @example
 * ```ts
 * import { InMemoryTransport } from "mcp-effect"
 *
 * const [clientSide, serverSide] = InMemoryTransport.makePair()
 * ```
 *
 * @since 0.1.0
 */
import { Deferred, Effect, Exit, FiberId } from "effect"
import { encode } from "./internal/encode.js"
import type { RequestId } from "./McpSchema.js"
import type { MessageExtras, Receiver, Transport } from "./Transport.js"

interface End {
  receiver: Receiver | undefined
  readonly buffer: Array<readonly [string, MessageExtras | undefined]>
}

/**
 * An in-memory transport that can also send text verbatim, malformed or not.
 *
 * @since 0.1.0
 * @category models
 */
export interface RawTransport extends Transport {
  readonly sendText: (text: string) => void
}

/**
 * Makes two transports; what one sends, the other receives.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePair = (): readonly [RawTransport, RawTransport] => {
  const closed = Deferred.unsafeMake<void>(FiberId.none)
  let isClosed = false
  const ends: [End, End] = [{ receiver: undefined, buffer: [] }, { receiver: undefined, buffer: [] }]

  // The request a message names as its own travels beside it, as a Streamable HTTP stream would carry it.
  const deliver = (to: End, frame: string, related?: RequestId) => {
    const extras = related === undefined ? undefined : { relatedRequestId: related }
    queueMicrotask(() => {
      if (to.receiver !== undefined) to.receiver.frame(frame, extras)
      else to.buffer.push([frame, extras])
    })
  }

  const make = (self: End, other: End): RawTransport => ({
    run: (receiver) =>
      Effect.suspend(() => {
        self.receiver = receiver
        for (const [frame, extras] of self.buffer.splice(0)) receiver.frame(frame, extras)
        return Deferred.await(closed)
      }).pipe(
        Effect.ensuring(Effect.sync(() => {
          self.receiver = undefined
          isClosed = true
          Deferred.unsafeDone(closed, Exit.void)
        }))
      ),
    send: (message, related) => {
      if (!isClosed) deliver(other, encode(message), related)
    },
    sendText: (text) => {
      if (!isClosed) deliver(other, text)
    }
  })

  return [make(ends[0], ends[1]), make(ends[1], ends[0])]
}

/**
 * Buffers outgoing frames and writes them in one call per microtask: under
 * load many messages share a write (and a syscall), and a lone message is
 * still written before the event loop turns. Used by both sides of stdio.
 */
export const batchedWriter = (write: (data: string) => void): {
  /** Queues a frame: a line without its newline. */
  readonly write: (frame: string) => void
  /** Writes what is queued now (before the output ends). */
  readonly flush: () => void
} => {
  let pending: Array<string> = []
  const flush = () => {
    if (pending.length === 0) return
    const data = pending.join("\n") + "\n"
    pending = []
    write(data)
  }
  return {
    flush,
    write: (frame) => {
      if (pending.push(frame) === 1) queueMicrotask(flush)
    }
  }
}

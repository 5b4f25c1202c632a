/**
 * A bound on what an SSE response holds for a client that does not read:
 * past `max` characters waiting, droppable notifications (logs, progress) are
 * dropped and counted, the count going out as an SSE comment before the next
 * message; past four times `max`, `overflow` ends the response (the stream's
 * events stay in the event store).
 */

/** What an SSE response may hold for a client that does not read, unless configured: 8 MiB. */
export const DEFAULT_MAX_BUFFERED = 8 * 1024 * 1024

/** The SSE comment that tells a client how many notifications it did not keep up with. */
export const droppedComment = (count: number) => `: ${count} notifications dropped: the client was not reading\n\n`

export class Backlog {
  private waiting = 0
  private dropped = 0
  private overflowed = false
  constructor(
    private readonly max: number,
    private readonly push: (text: string) => void,
    private readonly overflow: () => void
  ) {}

  offer(text: string, droppable: boolean): void {
    if (this.overflowed) return
    if (droppable && this.waiting > this.max) {
      this.dropped++
      return
    }
    this.settle()
    this.add(text)
    if (this.waiting > this.max * 4) {
      this.overflowed = true
      this.overflow()
    }
  }

  /** Sends the count of what was dropped since the last message, if anything was. */
  settle(): void {
    if (this.dropped === 0) return
    this.add(droppedComment(this.dropped))
    this.dropped = 0
  }

  /** `text` was taken by the response: it no longer waits. */
  taken(text: string): void {
    this.waiting -= text.length
  }

  private add(text: string) {
    this.waiting += text.length
    this.push(text)
  }
}

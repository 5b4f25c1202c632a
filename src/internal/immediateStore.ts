/**
 * Event stores that answer at once (the memory store), so that Streamable
 * HTTP stores each event without running an effect. Keyed by the service
 * object itself: a copy with an `append` of its own is not one of them.
 */
export interface Immediate {
  readonly append: (streamId: string, message: unknown) => string
  readonly remove: (streamId: string) => void
}

export const immediateStores = new WeakMap<object, Immediate>()

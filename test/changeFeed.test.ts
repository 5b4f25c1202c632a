import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Stream } from "effect"
import { ChangeFeed } from "mcp-effect"

describe("ChangeFeed.makeMemory", () => {
  it.scoped("delivers every change published after a listener started to each listener", () =>
    Effect.gen(function*() {
      const feed = yield* ChangeFeed.makeMemory
      const hear = Effect.flatMap(feed.subscribe, (changes) =>
        Effect.forkScoped(Stream.runCollect(Stream.take(changes, 2))))
      const a = yield* hear
      const b = yield* hear
      yield* feed.publish({ origin: "n1", change: { _tag: "ListChanged", method: "notifications/tools/list_changed" } })
      yield* feed.publish({ origin: "n2", change: { _tag: "ResourceUpdated", uri: "file:///a" } })
      for (const fiber of [a, b]) {
        expect(
          Chunk.toReadonlyArray(yield* Fiber.join(fiber)).map((p) =>
            p.origin
          )
        ).toEqual(["n1", "n2"])
      }
    }))
})

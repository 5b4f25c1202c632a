import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import { SessionStore } from "mcp-effect"

const state: SessionStore.SessionState = {
  protocolVersion: "2025-11-25",
  clientCapabilities: { sampling: {} },
  clientInfo: { name: "c", version: "1" },
  logLevel: "info",
  subscriptions: ["file:///a"]
}

describe("SessionStore.makeMemory", () => {
  it.effect("keeps a session until its time to live passes without a save or a touch", () =>
    Effect.gen(function*() {
      const store = yield* SessionStore.makeMemory({ timeToLive: "10 minutes" })
      yield* store.save("s1", state)
      expect(yield* store.load("s1")).toEqual(Option.some(state))
      yield* TestClock.adjust("9 minutes")
      yield* store.touch("s1")
      yield* TestClock.adjust("9 minutes")
      expect(Option.isSome(yield* store.load("s1"))).toBe(true)
      yield* TestClock.adjust("11 minutes")
      expect(yield* store.load("s1")).toEqual(Option.none())
      // A touch does not revive what has expired.
      yield* store.touch("s1")
      expect(yield* store.load("s1")).toEqual(Option.none())
    }))

  it.effect("forgets a removed session, and keeps the others", () =>
    Effect.gen(function*() {
      const store = yield* SessionStore.makeMemory()
      yield* store.save("a", state)
      yield* store.save("b", { ...state, logLevel: "debug" })
      yield* store.remove("a")
      expect(yield* store.load("a")).toEqual(Option.none())
      expect(Option.map(yield* store.load("b"), (s) => s.logLevel)).toEqual(Option.some("debug"))
    }))
})

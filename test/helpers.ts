import { Effect, TestClock } from "effect"
import type { Duration } from "effect"

/** Lets every queued message cross the in-memory transport. */
export const flush = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Moves the TestClock forward in steps, letting messages cross between steps. */
export const advance = (step: Duration.DurationInput, steps: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < steps; i++) {
      yield* flush
      yield* TestClock.adjust(step)
      yield* flush
    }
  })

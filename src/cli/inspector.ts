import { Effect } from "effect"

export const start = (_url: string) => Effect.void

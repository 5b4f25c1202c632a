/**
 * Token stores: in memory, and in a JSON file that only its owner can read
 * (mode 0600), for command-line clients that sign in once per machine.
 */
import { FileSystem } from "@effect/platform"
import { Effect, Option, Schema } from "effect"
import type { Store } from "./flow.js"
import { OAuthClientError, StoredAuthorization } from "./model.js"

export const memory = (): Store => {
  const entries = new Map<string, StoredAuthorization>()
  return {
    get: (resource) => Effect.sync(() => Option.fromNullable(entries.get(resource))),
    set: (resource, authorization) => Effect.sync(() => void entries.set(resource, authorization)),
    remove: (resource) => Effect.sync(() => void entries.delete(resource))
  }
}

const FileContents = Schema.parseJson(Schema.Record({ key: Schema.String, value: StoredAuthorization }))
const decodeFile = Schema.decodeUnknown(FileContents)
const encodeFile = Schema.encode(FileContents)

/** Says what failed without the file's contents (they are secrets) or its error's stack. */
const storeError = (what: string) => () =>
  new OAuthClientError({ reason: "Store", message: `The token store file could not be ${what}` })

/**
 * A store in the JSON file at `path`, read whole and rewritten whole: a
 * temporary file created with mode 0600 and renamed over it, so the file is
 * never readable by others nor left half-written.
 */
export const file = (path: string): Effect.Effect<Store, never, FileSystem.FileSystem> =>
  Effect.map(FileSystem.FileSystem, (fs) => {
    const lock = Effect.unsafeMakeSemaphore(1)
    const read = Effect.gen(function*() {
      if (!(yield* fs.exists(path))) return {}
      return yield* decodeFile(yield* fs.readFileString(path))
    }).pipe(Effect.mapError(storeError("read")))
    const write = (entries: Readonly<Record<string, StoredAuthorization>>) =>
      Effect.gen(function*() {
        const temporary = `${path}.${process.pid}.tmp`
        yield* fs.writeFileString(temporary, yield* encodeFile(entries), { mode: 0o600 })
        yield* fs.chmod(temporary, 0o600)
        yield* fs.rename(temporary, path)
      }).pipe(Effect.mapError(storeError("written")))
    const update = (f: (entries: Record<string, StoredAuthorization>) => void) =>
      lock.withPermits(1)(Effect.flatMap(read, (entries) => {
        const next = { ...entries }
        f(next)
        return write(next)
      }))
    return {
      get: (resource) => Effect.map(read, (entries) => Option.fromNullable(entries[resource])),
      set: (resource, authorization) => update((entries) => void (entries[resource] = authorization)),
      remove: (resource) => update((entries) => void delete entries[resource])
    }
  })

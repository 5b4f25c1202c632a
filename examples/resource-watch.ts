/**
 * A resource watched only while someone listens: its `subscribe` starts a
 * file watcher with the first subscription (a handshake-era
 * `resources/subscribe`, or a 2026-07-28 `subscriptions/listen` naming it)
 * and closes it with the last, telling subscribers of each change. The
 * `add_note` tool appends to the file, so a subscribed client hears
 * `notifications/resources/updated`.
 *
 *   npx tsx examples/resource-watch.ts [notes-file]
 */
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Effect, Layer, Schema, Stream } from "effect"
import { McpServer } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { isMain } from "./internal/isMain.js"

/** The server, keeping its notes in `file`. */
export const watchServer = (file: string) => {
  const notes = McpServer.resource("notes://current", {
    description: "The notes file; subscribe to hear when it changes",
    mimeType: "text/plain",
    subscribe: (uri) =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const server = yield* McpServer.McpServer
        // A file must exist to be watched.
        yield* Effect.ignore(fs.writeFileString(file, "", { flag: "a" }))
        // Forked into the subscription's scope: the watcher stops when the last subscriber leaves.
        yield* Effect.forkScoped(
          fs.watch(file).pipe(Stream.runForEach(() => server.notifyResourceUpdated(uri)), Effect.ignore)
        )
      })
  }, () => Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(file).pipe(Effect.orElseSucceed(() => ""))))

  const addNote = McpServer.tool(
    "add_note",
    {
      description: "Append a line to the notes file",
      parameters: { text: Schema.String }
    },
    ({ text }) =>
      Effect.flatMap(FileSystem.FileSystem, (fs) =>
        fs.writeFileString(file, `${text}\n`, { flag: "a" }).pipe(
          Effect.as("noted"),
          Effect.orElseSucceed(() => "the notes file could not be written")
        ))
  )

  return Layer.mergeAll(notes, addNote).pipe(
    Layer.provideMerge(McpServer.layer({ name: "resource-watch", version: "1.0.0" })),
    Layer.provide(NodeContext.layer)
  )
}

export const WatchServer = watchServer(join(tmpdir(), "mcp-effect-notes.txt"))

/** The server layer, which `npx mcp-effect run examples/resource-watch.ts` serves. */
export default WatchServer

if (isMain(import.meta.url)) NodeStdio.run(process.argv[2] === undefined ? WatchServer : watchServer(process.argv[2]))

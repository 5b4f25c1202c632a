/**
 * Change notifications across nodes: two servers ("nodes") of one notice
 * board, each on its own port, on one `ChangeFeed`. A client of either node
 * subscribed to the board hears of a notice posted through the other, as
 * `notifications/resources/updated` (handshake sessions) or on its
 * `subscriptions/listen` stream (2026-07-28).
 *
 * Here the feed (and the board) live in this process's memory; across
 * processes, put a shared feed in context instead (`mcp-effect/cluster` has
 * one on Postgres) and keep the board in a database.
 *
 *   npx tsx examples/change-feed.ts           # nodes on http://127.0.0.1:3001/mcp and :3002 (--port N: N, N+1)
 *   npx tsx examples/change-feed.ts --demo    # posts through one node, hears it through the other, exits
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Context, Effect, Layer, Queue, Ref, Schema } from "effect"
import { ChangeFeed, McpServer, StreamableHttpClient } from "mcp-effect"
import { NodeHttp, NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

/** The notices: what every node reads and writes (a database table, in a real deployment). */
class Board extends Context.Tag("example/Board")<Board, Ref.Ref<ReadonlyArray<string>>>() {
  static readonly layer = Layer.effect(Board, Ref.make<ReadonlyArray<string>>([]))
}

const BOARD = "notes://board"

const Read = McpServer.resource(
  BOARD,
  { description: "Every notice", mimeType: "text/plain" },
  () => Effect.map(Effect.flatMap(Board, Ref.get), (notices) => notices.join("\n"))
)

const Post = McpServer.tool("post", {
  description: "Pins a notice to the board; subscribers on every node hear of it",
  parameters: { text: Schema.String },
  success: Schema.Struct({ notices: Schema.Number })
}, ({ text }) =>
  Effect.gen(function*() {
    const notices = yield* Effect.flatMap(Board, (board) => Ref.updateAndGet(board, (all) => [...all, text]))
    // Published to the feed too: the other nodes tell their subscribers.
    yield* McpServer.notifyResourceUpdated(BOARD)
    return { notices: notices.length }
  }))

/** One node's server: the same on every node. It needs the `Board`; the `ChangeFeed` comes from its context. */
const Node = Layer.merge(Read, Post).pipe(
  Layer.provideMerge(McpServer.layer({ name: "notice-board", version: "1.0.0" }))
)

/** A single node with a board of its own, which `npx mcp-effect run examples/change-feed.ts` serves. */
export const NoticeBoardServer = Node.pipe(Layer.provide(Board.layer))

export default NoticeBoardServer

/** Two nodes on one feed and one board, on `port` and the next (any free ones for 0), for the life of the scope. */
const serveTwo = (port: number) =>
  Effect.gen(function*() {
    // Built once and shared: both nodes get the same feed and board (two `Layer.provide`s would make one each).
    const shared = yield* Layer.build(Layer.merge(ChangeFeed.layerMemory, Board.layer))
    const node = (port: number) => NodeHttp.serve(Node.pipe(Layer.provide(Layer.succeedContext(shared))), { port })
    return [yield* node(port), yield* node(port === 0 ? 0 : port + 1)] as const
  })

/** Subscribes through node 2, posts through node 1, and waits for node 2 to tell its client. */
const demo = (first: NodeHttp.Served, second: NodeHttp.Served) =>
  Effect.gen(function*() {
    const reader = yield* StreamableHttpClient.connect(second.url)
    const heard = yield* reader.subscribe
    yield* reader.subscribeResource(BOARD)
    const writer = yield* StreamableHttpClient.connect(first.url)
    yield* writer.callTool("post", { text: "Lunch at noon" })
    const update = yield* Queue.take(heard).pipe(
      Effect.repeat({ until: (n) => n.method === "notifications/resources/updated" })
    )
    yield* Console.log(`Node 2 told its client: ${update.method} ${JSON.stringify(update.params)}`)
    const read = yield* reader.readResource(BOARD)
    yield* Console.log(`The board, read through node 2: ${JSON.stringify(read.contents)}`)
  })

if (isMain(import.meta.url)) {
  NodeRuntime.runMain(
    Effect.gen(function*() {
      const isDemo = process.argv.includes("--demo")
      const port = process.argv.includes("--port")
        ? Number(process.argv[process.argv.indexOf("--port") + 1])
        : isDemo
        ? 0
        : 3001
      const [first, second] = yield* serveTwo(port)
      if (isDemo) return yield* demo(first, second)
      yield* Effect.logInfo(`Nodes listening on ${first.url} and ${second.url}`)
      return yield* Effect.never
    }).pipe(Effect.scoped, Effect.provide(NodeStdio.layerStderrLogger)),
    { disablePrettyLogger: true }
  )
}

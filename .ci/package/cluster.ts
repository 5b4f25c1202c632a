// A user's several-node setup, compiled against the packed package (with the optional peers @effect/sql and
// @effect/sql-pg installed) and loaded with plain node by .ci/package-check.sh. Nothing connects: the layers are built
// only when provided to a program.
import { PgClient } from "@effect/sql-pg"
import { Layer, Redacted } from "effect"
import { PgChangeFeed, PgEventStore, PgSessionStore } from "mcp-effect/cluster"

const Stores = Layer.mergeAll(
  PgEventStore.layer({ timeToLive: "30 minutes" }),
  PgSessionStore.layer({ tablePrefix: "app_" }),
  PgChangeFeed.layer({ channel: "app_changes" })
).pipe(Layer.provide(PgClient.layer({ url: Redacted.make("postgres://mcp@localhost/mcp") })))

console.log(Layer.isLayer(Stores) ? "cluster: ok" : "cluster: not a layer")

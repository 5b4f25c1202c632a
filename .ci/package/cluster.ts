// A user's several-node setup, compiled against the packed package (with the optional peers @effect/sql and
// @effect/sql-pg installed) and loaded with plain node by .ci/package-check.sh. Nothing connects: the layers are built
// only when provided to a program.
import { PgClient } from "@effect/sql-pg"
import { Layer, Redacted } from "effect"
import { McpCluster, PgChangeFeed, PgEventStore, PgSessionStore, PgTaskStore } from "mcp-effect/cluster"

const Stores = Layer.mergeAll(
  PgEventStore.layer({ timeToLive: "30 minutes" }),
  PgSessionStore.layer({ tablePrefix: "app_" }),
  PgChangeFeed.layer({ channel: "app_changes" }),
  PgTaskStore.layer({ tablePrefix: "app_" })
).pipe(Layer.provide(PgClient.layer({ url: Redacted.make("postgres://mcp@localhost/mcp") })))

// All four at once, the database from DATABASE_URL and the signing key checked when built.
const Cluster = McpCluster.layerConfig({ tablePrefix: "app_", channel: "app_changes" })

console.log(Layer.isLayer(Stores) && Layer.isLayer(Cluster) ? "cluster: ok" : "cluster: not a layer")

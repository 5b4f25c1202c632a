/**
 * mcp-effect/cluster: one MCP endpoint on several nodes, sharing their state
 * in Postgres (`@effect/sql`, `@effect/sql-pg`, optional peers of the
 * package, which only this entry point needs).
 *
 * @since 0.2.0
 */
export * as PgEventStore from "./PgEventStore.js"

/**
 * A `SessionStore` on Postgres: handshake-era sessions that any node can
 * continue.
 *
 * @since 0.2.0
 */
export * as PgSessionStore from "./PgSessionStore.js"

/**
 * A `ChangeFeed` on Postgres `LISTEN`/`NOTIFY`: change notifications that
 * reach clients on every node.
 *
 * @since 0.2.0
 */
export * as PgChangeFeed from "./PgChangeFeed.js"

/**
 * A `TaskStore` on Postgres: 2026-07-28 tasks that `tasks/get` reads on any
 * node.
 *
 * @since 0.2.0
 */
export * as PgTaskStore from "./PgTaskStore.js"

/**
 * One layer that switches a server to the Postgres stores, refusing to start
 * without the `requestState` signing key every node must share.
 *
 * @since 0.2.0
 */
export * as McpCluster from "./McpCluster.js"

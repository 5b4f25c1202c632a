/**
 * How a server's change notifications reach clients connected to other
 * server processes. A server publishes each change it makes (a tool, prompt
 * or resource added or removed; `notifyResourceUpdated`) to the feed in
 * context, and tells its own clients of the changes other processes
 * published: `notifications/…/list_changed`, `notifications/resources/updated`
 * and 2026-07-28 `subscriptions/listen` streams then work across nodes.
 *
 * Without a feed in context a server tells only its own clients, as before.
 * `layerMemory` connects the servers of one process (tests, several servers
 * in one program); `mcp-effect/cluster` has one on Postgres.
 *
 * @example
 * ```ts
 * import { ChangeFeed } from "mcp-effect"
 *
 * const Feed = ChangeFeed.layerMemory
 * ```
 *
 * @since 0.2.0
 */
import type { Scope } from "effect"
import { Context, Effect, Layer, PubSub, Stream } from "effect"
import type * as TaskStore from "./TaskStore.js"

/**
 * A change one server made, as every server that hears it tells its clients.
 *
 * @since 0.2.0
 * @category models
 */
export type Change =
  | {
    readonly _tag: "ListChanged"
    /** `notifications/tools/list_changed`, `notifications/prompts/list_changed` or `notifications/resources/list_changed`. */
    readonly method: string
  }
  | { readonly _tag: "ResourceUpdated"; readonly uri: string }
  | {
    /**
     * A 2026-07-28 task's status changed (its record is in the `TaskStore`):
     * for `notifications/tasks` on every node's listens, and so that a
     * cancelled task stops on the node that runs it.
     */
    readonly _tag: "TaskChanged"
    readonly taskId: string
    readonly status: TaskStore.Status
  }

/**
 * A change, and the process that published it (so that it does not hear its
 * own twice).
 *
 * @since 0.2.0
 * @category models
 */
export interface Published {
  readonly origin: string
  readonly change: Change
}

/**
 * A change feed.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /** Publishes a change made by the server `origin` names. */
  readonly publish: (published: Published) => Effect.Effect<void>
  /**
   * Starts listening: every change published from the moment this returns,
   * by any server (its own included: filter by `origin`), for the life of
   * the scope.
   */
  readonly subscribe: Effect.Effect<Stream.Stream<Published>, never, Scope.Scope>
}

/**
 * The change feed servers publish to and hear from.
 *
 * @since 0.2.0
 * @category tags
 */
export class ChangeFeed extends Context.Tag("mcp-effect/ChangeFeed")<ChangeFeed, Service>() {}

/**
 * A feed in this process's memory, connecting the servers built with it.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Service> = Effect.map(PubSub.unbounded<Published>(), (pubsub) => ({
  publish: (published) => Effect.asVoid(PubSub.publish(pubsub, published)),
  subscribe: Effect.map(PubSub.subscribe(pubsub), (queue) => Stream.fromQueue(queue))
}))

/**
 * {@link makeMemory} as a layer.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerMemory: Layer.Layer<ChangeFeed> = Layer.effect(ChangeFeed, makeMemory)

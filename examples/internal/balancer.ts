/**
 * A small load balancer for nodes on loopback (examples/cluster-local.ts, test/slow/cluster.test.ts), as a
 * deployment would run one: a handshake-era session sticks to
 * the node that opened it (learned from the `Mcp-Session-Id` of its answer) while that node lives; everything else
 * goes round robin. A node that refuses a connection is marked down and the request (its body is buffered) goes to
 * the next one, and so does every later request of a session that was on it.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import * as Http from "node:http"

export interface Balancer {
  readonly url: string
  /** Marks a node down at once (as a health check would), without waiting for a refused connection. */
  readonly down: (port: number) => void
  /** Adds a node (a restarted one), which takes its share of new work at once. */
  readonly add: (port: number) => void
  /** Which node each session is on, by port. */
  readonly sessions: ReadonlyMap<string, number>
}

/** A balancer for the nodes on `ports`, listening on `port` (0: a free one). */
export const make = (initial: ReadonlyArray<number>, port = 0): Effect.Effect<Balancer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ server: Http.Server; balancer: Balancer }>((resume) => {
      const ports = [...initial]
      const alive = new Set(ports)
      const sessions = new Map<string, number>()
      let next = 0
      const pick = (): number | undefined => {
        const live = ports.filter((port) => alive.has(port))
        if (live.length === 0) return undefined
        return live[next++ % live.length]
      }
      const agent = new Http.Agent({ keepAlive: true })
      const forward = (
        request: Http.IncomingMessage,
        response: Http.ServerResponse,
        body: Buffer,
        port: number | undefined,
        attempts: number
      ): void => {
        const sessionId = request.headers["mcp-session-id"]
        const session = typeof sessionId === "string" ? sessionId : undefined
        const target = port !== undefined && alive.has(port) ? port : pick()
        if (target === undefined || attempts > ports.length) {
          response.writeHead(502).end()
          return
        }
        if (session !== undefined) sessions.set(session, target)
        const outgoing = Http.request({
          host: "127.0.0.1",
          port: target,
          method: request.method,
          path: request.url,
          headers: request.headers,
          agent
        }, (incoming) => {
          const issued = incoming.headers["mcp-session-id"]
          if (typeof issued === "string") sessions.set(issued, target)
          response.writeHead(incoming.statusCode ?? 502, incoming.headers)
          incoming.pipe(response)
          // The node died mid-answer: the client's connection ends too, as it would behind a real balancer.
          incoming.on("aborted", () => response.destroy())
          incoming.on("error", () => response.destroy())
        })
        outgoing.on("error", () => {
          if (response.headersSent) return void response.destroy()
          alive.delete(target)
          forward(request, response, body, undefined, attempts + 1)
        })
        response.on("close", () => {
          if (!response.writableFinished) outgoing.destroy()
        })
        outgoing.end(body)
      }
      const server = Http.createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          const sessionId = request.headers["mcp-session-id"]
          const port = typeof sessionId === "string" ? sessions.get(sessionId) : undefined
          forward(request, response, Buffer.concat(chunks), port, 0)
        })
      })
      server.listen(port, "127.0.0.1", () => {
        const address = server.address()
        const listening = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({
          server,
          balancer: {
            url: `http://127.0.0.1:${listening}/mcp`,
            down: (node) => void alive.delete(node),
            add: (node) => {
              ports.push(node)
              alive.add(node)
            },
            sessions
          }
        }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ balancer }) => balancer))

/**
 * A deploy tool that asks for confirmation and runs as a task, served to
 * both protocol eras by one definition:
 *
 * - a handshake-era client (initialize, sessions) gets a live
 *   `elicitation/create` request and waits for the result;
 * - a 2026-07-28 client that declares the tasks extension gets a task at
 *   once, sees it `input_required` with the question in `tasks/get`, answers
 *   with `tasks/update`, and reads the result when it is `completed`;
 * - a 2026-07-28 client without tasks gets -32021 (the tool requires them).
 *
 * The build number is reserved in `RequestContext.once`, so that it is taken
 * once even where the handler replays (a tool without `task` serving a
 * 2026-07-28 client runs again after each answer).
 *
 *   npx tsx examples/deploy.ts --port 3000    # Streamable HTTP, both eras
 *   npx mcp-effect call examples/deploy.ts deploy service=api environment=staging
 */
import { Effect, Layer, Ref, Schema } from "effect"
import { McpServer, RequestContext } from "mcp-effect"
import { NodeHttp, NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

/** A build counter, as a lifespan service. */
class Builds extends Effect.Service<Builds>()("examples/Builds", {
  effect: Effect.map(Ref.make(0), (counter) => ({ next: Ref.updateAndGet(counter, (n) => n + 1) }))
}) {}

const Confirmation = Schema.Struct({ confirm: Schema.Boolean })

const Deploy = McpServer.tool("deploy", {
  description: "Deploys a service to an environment, once the user confirms",
  parameters: { service: Schema.String, environment: Schema.Literal("staging", "production") },
  task: "required"
}, ({ environment, service }) =>
  Effect.gen(function*() {
    const builds = yield* Builds
    const build = yield* RequestContext.once("build", builds.next)
    const answer = yield* RequestContext.elicit(
      `Deploy ${service} build #${build} to ${environment}?`,
      Confirmation
    ).pipe(RequestContext.inputKey("confirm"))
    if (answer.action !== "accept" || !answer.content.confirm) return `Deployment of ${service} cancelled`
    yield* RequestContext.progress(1, 2, "rolling out")
    yield* Effect.sleep("2 seconds")
    return `Deployed ${service} build #${build} to ${environment}`
  }))

export const DeployServer = Deploy.pipe(
  Layer.provide(Builds.Default),
  Layer.provideMerge(McpServer.layer({ name: "deployer", version: "1.0.0" }))
)

/** The server layer, which `npx mcp-effect run examples/deploy.ts` serves. */
export default DeployServer

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2)
  if (args.includes("--port")) NodeHttp.run(DeployServer, { port: Number(args[args.indexOf("--port") + 1]) })
  else NodeStdio.run(DeployServer)
}

/**
 * The `mcp-effect` command line: its commands, options and help.
 */
import { Args, Command, Options } from "@effect/cli"
import { Effect, HashMap, Option, Schema } from "effect"
import * as McpSchema from "../McpSchema.js"
import * as Client from "./client.js"
import * as Dev from "./dev.js"
import * as Install from "./install.js"
import * as Run from "./run.js"
import { version } from "./version.js"

const moduleArg = Args.text({ name: "file" }).pipe(
  Args.withDescription(
    "A server module: a .ts or .js file whose default export is the server layer (file.ts:Name for another export)"
  )
)
const port = Options.integer("port").pipe(
  Options.withDefault(3000),
  Options.withDescription("The HTTP port (0 picks a free one)")
)
const host = Options.text("host").pipe(
  Options.withDefault("127.0.0.1"),
  Options.withDescription("The address to listen on")
)
const path = Options.text("path").pipe(
  Options.withSchema(Schema.TemplateLiteral("/", Schema.String)),
  Options.withDefault("/mcp" as const),
  Options.withDescription("Where the MCP endpoint is")
)

const record = (map: Option.Option<HashMap.HashMap<string, string>>): Record<string, string> =>
  Option.match(map, { onNone: () => ({}), onSome: (m) => Object.fromEntries(HashMap.toEntries(m)) })

/** `run`: serves a module over stdio or Streamable HTTP. */
const run = Command.make("run", {
  module: moduleArg,
  http: Options.boolean("http").pipe(Options.withDescription("Serve Streamable HTTP instead of stdio")),
  port,
  host,
  path
}, (options) => Run.run(options)).pipe(
  Command.withDescription("Run a server module over stdio (the default, for MCP hosts) or Streamable HTTP")
)

/** `dev`: restarts a module on change, with the MCP Inspector. */
const dev = (self: string) =>
  Command.make("dev", {
    module: moduleArg,
    port: Options.integer("port").pipe(Options.withDefault(6280), Options.withDescription("The server's HTTP port")),
    host,
    path,
    inspector: Options.boolean("no-inspector").pipe(
      Options.map((off) => !off),
      Options.withDescription("Do not start the MCP Inspector")
    ),
    inspectorPort: Options.integer("inspector-port").pipe(
      Options.withDefault(6274),
      Options.withDescription("The MCP Inspector's web port")
    )
  }, (options) => Dev.dev({ ...options, self })).pipe(
    Command.withDescription(
      "Run a server module over HTTP, restart it when its files change, and open the MCP Inspector on it"
    )
  )

/** `install`: writes an MCP host's configuration entry. */
const install = (self: string) =>
  Command.make("install", {
    module: moduleArg,
    host: Options.choice("client", Install.HOSTS).pipe(Options.withDescription("The MCP host to configure")),
    name: Options.text("name").pipe(
      Options.optional,
      Options.withDescription("The server's name in the host (default: the file's name)")
    ),
    env: Options.keyValueMap("env").pipe(
      Options.optional,
      Options.withDescription("An environment variable for the server, KEY=value (repeatable)")
    ),
    envFile: Options.file("env-file", { exists: "yes" }).pipe(
      Options.optional,
      Options.withDescription("A dotenv file of environment variables for the server")
    ),
    print: Options.boolean("print").pipe(
      Options.withDescription("Print the configuration entry instead of writing it")
    ),
    force: Options.boolean("force").pipe(Options.withDescription("Replace an entry of the same name"))
  }, (options) =>
    Install.install({
      ...options,
      name: Option.getOrUndefined(options.name),
      env: record(options.env),
      envFile: Option.getOrUndefined(options.envFile),
      self
    })).pipe(
      Command.withDescription(
        "Add a server module to the configuration of Claude Desktop, Claude Code, Cursor or VS Code"
      )
    )

/** What every client command takes. */
const clientOptions = {
  server: Args.text({ name: "server" }).pipe(
    Args.withDescription("An http(s):// URL, a server module, or a command that starts a server on stdio (quoted)")
  ),
  json: Options.boolean("json").pipe(Options.withDescription("Print the result as JSON")),
  header: Options.keyValueMap("header").pipe(
    Options.optional,
    Options.withDescription("An HTTP header, Name=value (repeatable)")
  ),
  timeout: Options.integer("timeout").pipe(
    Options.withDefault(60),
    Options.withDescription("Seconds to wait for an answer (progress restarts it)")
  ),
  logLevel: Options.choice("server-log-level", McpSchema.LoggingLevel.literals).pipe(
    Options.optional,
    Options.withDescription("Ask the server for log messages from this level (they go to stderr)")
  )
}

/** The client commands' shared options, as `Client.ClientOptions`. */
const clientOf = (self: string) =>
(options: {
  readonly server: string
  readonly json: boolean
  readonly header: Option.Option<HashMap.HashMap<string, string>>
  readonly timeout: number
  readonly logLevel: Option.Option<McpSchema.LoggingLevel>
}): Client.ClientOptions => ({
  server: options.server,
  json: options.json,
  headers: record(options.header),
  timeoutSeconds: options.timeout,
  logLevel: Option.getOrUndefined(options.logLevel),
  self
})

/** `list`, `call`, `read` and `prompt`: a one-shot client. */
const clientCommands = (self: string) => {
  const client = clientOf(self)
  const list = Command.make("list", clientOptions, (options) => Client.list(client(options))).pipe(
    Command.withDescription("List a server's tools, resources, resource templates and prompts")
  )
  const call = Command.make("call", {
    ...clientOptions,
    tool: Args.text({ name: "tool" }),
    args: Args.text({ name: "key=value" }).pipe(Args.repeated),
    jsonArgs: Options.text("json-args").pipe(
      Options.optional,
      Options.withDescription("The arguments as a JSON object")
    )
  }, (options) =>
    Client.call({
      ...client(options),
      tool: options.tool,
      args: options.args,
      jsonArgs: Option.getOrUndefined(options.jsonArgs)
    })).pipe(Command.withDescription("Call a tool; values are read as the tool's input schema types them"))
  const read = Command.make(
    "read",
    { ...clientOptions, uri: Args.text({ name: "uri" }) },
    (options) => Client.read({ ...client(options), uri: options.uri })
  ).pipe(Command.withDescription("Read a resource"))
  const prompt = Command.make("prompt", {
    ...clientOptions,
    name: Args.text({ name: "name" }),
    args: Args.text({ name: "key=value" }).pipe(Args.repeated)
  }, (options) => Client.prompt({ ...client(options), name: options.name, args: options.args })).pipe(
    Command.withDescription("Get a prompt with its arguments")
  )
  return [list, call, read, prompt] as const
}

/** Builds the command line; `self` is its own entry point, which `install` and module targets run. */
export const make = (self: string) => {
  const root = Command.make("mcp-effect", {}, () => Effect.void).pipe(
    Command.withDescription("Run, develop, install and try Model Context Protocol servers"),
    Command.withSubcommands([run, dev(self), install(self), ...clientCommands(self)])
  )
  return Command.run(root, { name: "mcp-effect", version })
}

/**
 * The client the official conformance suite drives: the suite runs it with the
 * server's URL as its last argument, names the scenario in
 * `MCP_CONFORMANCE_SCENARIO` and the protocol version in
 * `MCP_CONFORMANCE_PROTOCOL_VERSION` (2026-07-28: the stateless revision;
 * anything else: the handshake), and gives some scenarios their inputs in
 * `MCP_CONFORMANCE_CONTEXT`. The `auth/` scenarios sign in with `OAuthClient`: a headless authorization handler
 * (the suite's authorization servers approve at once), the suite's client ID metadata document URL, and the
 * pre-registered credentials of `auth/pre-registration` from `MCP_CONFORMANCE_CONTEXT`. The extension scenarios
 * (client credentials, workload identity, enterprise-managed authorization, DPoP) sign in with the `OAuthGrants`
 * grants and the `Dpop` token binding, from what their contexts give.
 *
 *   npx -p node@22 -p @modelcontextprotocol/conformance@0.2.0-alpha.12 conformance client \
 *     --command "node --import tsx examples/everything-client.ts" --scenario tools_call
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Schema } from "effect"
import { Dpop, McpClient, OAuthClient, OAuthGrants, StreamableHttpClient } from "mcp-effect"
import type { McpSchema } from "mcp-effect"

type Client = McpClient.Service
type Scenario = (client: Client) => Effect.Effect<void, unknown>

const ToolCalls = Schema.Struct({
  toolCalls: Schema.Array(
    Schema.Struct({ name: Schema.String, arguments: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })
  )
})

/** Lists the tools, then calls each with arguments made from its schema. */
const callEveryTool: Scenario = (client) =>
  Effect.flatMap(
    client.listTools,
    (tools) =>
      Effect.forEach(tools, (tool) => client.callTool(tool.name, sampleArguments(tool.inputSchema)), { discard: true })
  )

/** Arguments for a schema's properties: numbers 2, 3… (an adder's), strings, booleans. */
const sampleArguments = (schema: McpSchema.ToolDefinition["inputSchema"]) => {
  const properties = typeof schema.properties === "object" && schema.properties !== null ? schema.properties : {}
  const args: Record<string, unknown> = {}
  let n = 2
  for (const [name, property] of Object.entries(properties)) {
    const type = typeof property === "object" && property !== null && "type" in property ? property.type : undefined
    if (type === "number" || type === "integer") args[name] = n++
    else if (type === "string") args[name] = "us-west1"
    else if (type === "boolean") args[name] = true
  }
  return args
}

/** Loads the first skill: its SKILL.md, checked against the listing, then (only then) its other files. */
const loadFirstSkill: Scenario = (client) =>
  Effect.gen(function*() {
    const [skill] = yield* client.listSkills
    if (skill === undefined) return
    yield* client.readSkillFile(skill)
    if (skill.resources === "dynamic") return
    yield* Effect.forEach(
      skill.resources.filter((file) => file.uri !== skill.uri),
      (file) => client.readSkillFile(skill, file.uri),
      { discard: true }
    )
  })

const scenarios: Record<string, Scenario> = {
  "tools_call": callEveryTool,
  "elicitation-sep1034-client-defaults": callEveryTool,
  "sse-retry": callEveryTool,
  "sep-2322-client-request-state": callEveryTool,
  "http-invalid-tool-headers": callEveryTool,
  "http-standard-headers": (client) =>
    Effect.gen(function*() {
      yield* callEveryTool(client)
      const [resource] = yield* client.listResources
      if (resource !== undefined) yield* client.readResource(resource.uri)
      const prompts = yield* client.listPrompts
      yield* Effect.forEach(prompts, (prompt) => client.getPrompt(prompt.name), { discard: true })
    }),
  "http-custom-headers": (client) =>
    Effect.gen(function*() {
      const { toolCalls } = yield* Schema.decodeUnknown(Schema.parseJson(ToolCalls))(
        process.env.MCP_CONFORMANCE_CONTEXT ?? "{}"
      )
      yield* client.listTools
      yield* Effect.forEach(toolCalls, (call) => client.callTool(call.name, call.arguments), { discard: true })
    }),
  "json-schema-2020-12-preservation": (client) =>
    Effect.gen(function*() {
      const tools = yield* client.listTools
      const focal = tools.find((tool) => tool.name === "json_schema_2020_12_tool")
      if (focal !== undefined) yield* client.callTool("json_schema_echo", { schema: focal.inputSchema })
    }),
  "sep-2640-client-no-prefetch": (client) => Effect.asVoid(client.listSkills),
  "sep-2640-client-verify-digest": loadFirstSkill,
  "sep-2640-client-verify-size": loadFirstSkill,
  "sep-2640-client-verify-frontmatter": loadFirstSkill
}

/** The client ID metadata document URL the suite's authorization servers expect (auth/basic-cimd). */
const CIMD_URL = "https://conformance-test.local/client-metadata.json"

const PreRegistered = Schema.Struct({ client_id: Schema.String, client_secret: Schema.String })

const headless = OAuthClient.layerHeadlessAuthorization("http://127.0.0.1:3000/callback")

/**
 * The extension `auth/` scenarios, each from its context: client credentials
 * (a secret, or a key for `private_key_jwt`), a workload's JWT, an enterprise
 * ID token exchanged at its identity provider, or DPoP-bound tokens.
 */
const extensions: Record<string, (url: string, context: unknown) => Effect.Effect<OAuthClient.Authorization, unknown>> =
  {
    "auth/client-credentials-basic": (url, context) =>
      Effect.flatMap(
        Schema.decodeUnknown(Schema.Struct({ client_id: Schema.String, client_secret: Schema.String }))(context),
        (c) =>
          OAuthClient.makeWithGrant(url, OAuthGrants.clientCredentialsGrant, {
            clientId: c.client_id,
            clientSecret: c.client_secret
          })
      ),
    "auth/client-credentials-jwt": (url, context) =>
      Effect.flatMap(
        Schema.decodeUnknown(Schema.Struct({
          client_id: Schema.String,
          private_key_pem: Schema.String,
          signing_algorithm: Schema.optional(Schema.String)
        }))(context),
        (c) =>
          OAuthClient.makeWithGrant(url, OAuthGrants.clientCredentialsGrant, {
            clientId: c.client_id,
            clientAuthentications: [
              OAuthGrants.privateKeyJwt({ privateKey: c.private_key_pem, algorithm: c.signing_algorithm ?? "ES256" })
            ]
          })
      ),
    "auth/wif-jwt-bearer": (url, context) =>
      Effect.flatMap(
        Schema.decodeUnknown(Schema.Struct({ client_id: Schema.String, valid_jwt: Schema.String }))(context),
        (c) => OAuthClient.makeWithGrant(url, OAuthGrants.jwtBearerGrant(c.valid_jwt), { clientId: c.client_id })
      ),
    "auth/enterprise-managed-authorization": (url, context) =>
      Effect.flatMap(
        Schema.decodeUnknown(Schema.Struct({
          client_id: Schema.String,
          client_secret: Schema.String,
          idp_client_id: Schema.String,
          idp_id_token: Schema.String,
          idp_token_endpoint: Schema.String
        }))(context),
        (c) =>
          OAuthClient.makeWithGrant(
            url,
            OAuthGrants.enterpriseManagedGrant({
              tokenEndpoint: c.idp_token_endpoint,
              idToken: c.idp_id_token,
              client: { method: "none", clientId: c.idp_client_id }
            }),
            { clientId: c.client_id, clientSecret: c.client_secret }
          )
      ),
    "auth/dpop": (url) => dpop(url),
    "auth/dpop-nonce": (url) => dpop(url)
  }

/** The authorization code flow with tokens bound to a fresh DPoP key. */
const dpop = (url: string) =>
  Effect.flatMap(Dpop.make(), (prover) =>
    OAuthClient.make(url, {
      clientName: "mcp-effect-everything-client",
      tokenBinding: Dpop.tokenBinding(prover)
    }).pipe(Effect.provide(headless)))

/**
 * The `auth/` scenarios: an authorization whose handler follows the
 * authorization URL without a browser (the suite's servers approve at once),
 * with the pre-registered credentials the suite hands over when it has some.
 */
const authorizationFor = (url: string, scenario: string) =>
  Effect.gen(function*() {
    if (!scenario.startsWith("auth/")) return undefined
    const context = yield* Schema.decodeUnknown(Schema.parseJson(Schema.Unknown))(
      process.env.MCP_CONFORMANCE_CONTEXT ?? "{}"
    )
    const extension = extensions[scenario]
    if (extension !== undefined) return yield* extension(url, context)
    const preRegistered = Schema.decodeUnknownOption(PreRegistered)(context)
    return yield* OAuthClient.make(url, {
      clientName: "mcp-effect-everything-client",
      clientMetadataUrl: CIMD_URL,
      ...(preRegistered._tag === "Some"
        ? { clientId: preRegistered.value.client_id, clientSecret: preRegistered.value.client_secret }
        : {})
    }).pipe(Effect.provide(headless))
  })

const program = Effect.gen(function*() {
  const url = process.argv.at(-1) ?? ""
  const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? ""
  const version = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION
  const authorization = yield* authorizationFor(url, scenario)
  const client = yield* StreamableHttpClient.connect(url, {
    clientInfo: { name: "mcp-effect-everything-client", version: "0.2.0" },
    ...(version !== undefined ? { protocolVersion: version } : {}),
    // The first request (server/discover on 2026-07-28) carries the whole sign-in: more than its usual 10 s.
    ...(authorization !== undefined ? { http: { authorization }, discoverTimeout: "60 seconds" } : {})
  }).pipe(
    Effect.provideService(McpClient.Elicitation, {
      // Accepting an empty form takes every default the server offered (SEP-1034).
      elicit: () => Effect.succeed({ action: "accept", content: {} })
    }),
    Effect.provideService(McpClient.Sampling, {
      createMessage: () =>
        Effect.succeed({ role: "assistant", model: "everything-client", content: { type: "text", text: "ok" } })
    }),
    Effect.provideService(McpClient.Roots, { list: Effect.succeed([]) })
  )
  // auth/: listing, then a call (a step-up scenario asks more scope of it; a migration moves its server).
  // Anything else (initialize, request-metadata, json-schema-ref-no-deref): connecting and listing is the scenario.
  const fallback: Scenario = scenario.startsWith("auth/") ? callEveryTool : (c) => Effect.asVoid(c.listTools)
  yield* (scenarios[scenario] ?? fallback)(client)
}).pipe(Effect.scoped)

NodeRuntime.runMain(program)

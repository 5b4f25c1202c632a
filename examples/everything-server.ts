/**
 * The "everything" server: every tool, resource, template and prompt the
 * official conformance suite expects, each a short use of the public API.
 *
 *   npx tsx examples/everything-server.ts --port 3000   # http://localhost:3000/mcp
 *   npx tsx examples/everything-server.ts --stdio
 */
import { Effect, Layer, Schema } from "effect"
import { Content, McpError, McpServer, Prompt, RequestContext, Skill, Tool } from "mcp-effect"
import { NodeHttp, NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
const WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

// --- Tools -----------------------------------------------------------------

const SimpleText = McpServer.tool(
  "test_simple_text",
  { description: "Returns simple text" },
  () => Effect.succeed("This is a simple text response for testing.")
)

const Image = McpServer.tool(
  "test_image_content",
  { description: "Returns an image" },
  () => Effect.succeed(Content.image(PNG, "image/png"))
)

const Audio = McpServer.tool(
  "test_audio_content",
  { description: "Returns audio" },
  () => Effect.succeed(Content.audio(WAV, "audio/wav"))
)

const Embedded = McpServer.tool(
  "test_embedded_resource",
  { description: "Returns an embedded resource" },
  () =>
    Effect.succeed(
      Content.embedded("test://embedded-resource", "This is an embedded resource content.", { mimeType: "text/plain" })
    )
)

const Mixed = McpServer.tool(
  "test_multiple_content_types",
  { description: "Returns text, image and a resource" },
  () =>
    Effect.succeed([
      Content.text("Multiple content types test:"),
      Content.image(PNG, "image/png"),
      Content.embedded("test://mixed-content-resource", JSON.stringify({ test: "data", value: 123 }), {
        mimeType: "application/json"
      })
    ])
)

const Logging = McpServer.tool(
  "test_tool_with_logging",
  { description: "Logs while it runs" },
  () =>
    Effect.gen(function*() {
      for (const message of ["Tool execution started", "Tool processing data", "Tool execution completed"]) {
        yield* RequestContext.log("info", message)
        yield* Effect.sleep("50 millis")
      }
      return "Logging test completed"
    })
)

const Failing = McpServer.tool(
  "test_error_handling",
  { description: "Always fails" },
  () => Effect.fail(new Error("This tool intentionally returns an error for testing"))
)

const Progress = McpServer.tool(
  "test_tool_with_progress",
  { description: "Reports progress" },
  () =>
    Effect.gen(function*() {
      for (const done of [0, 50, 100]) {
        yield* RequestContext.progress(done, 100, `${done}% done`)
        yield* Effect.sleep("50 millis")
      }
      return "Progress test completed"
    })
)

const Sampling = McpServer.tool("test_sampling", {
  description: "Asks the client's model",
  parameters: { prompt: Schema.String }
}, ({ prompt }) =>
  Effect.map(RequestContext.sample(prompt, { maxTokens: 100 }), (result) => {
    const content = Array.isArray(result.content) ? result.content[0] : result.content
    return `LLM response: ${content?.type === "text" ? content.text : JSON.stringify(content)}`
  }))

const Elicitation = McpServer.tool("test_elicitation", {
  description: "Asks the user for input",
  parameters: { message: Schema.String }
}, ({ message }) =>
  Effect.map(
    RequestContext.elicit(
      message,
      Schema.Struct({
        username: Schema.String.annotations({ description: "User's response" }),
        email: Schema.String.annotations({ description: "User's email address" })
      })
    ),
    (answer) =>
      `User response: action=${answer.action}, content=${JSON.stringify("content" in answer ? answer.content : {})}`
  ))

const JsonSchema2020 = McpServer.tool("json_schema_2020_12_tool", {
  description: "Takes a raw JSON Schema 2020-12 input schema",
  // Sent byte for byte: the dialect URI, $defs with an $anchor, composition and conditionals all survive.
  parameters: Tool.jsonSchema({
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    $defs: {
      address: {
        $anchor: "addressDef",
        type: "object",
        properties: { street: { type: "string" }, city: { type: "string" } }
      }
    },
    properties: {
      name: { type: "string" },
      address: { $ref: "#/$defs/address" },
      contactMethod: { type: "string", enum: ["phone", "email"] },
      phone: { type: "string" },
      email: { type: "string" }
    },
    allOf: [{ anyOf: [{ required: ["phone"] }, { required: ["email"] }] }],
    if: { properties: { contactMethod: { const: "phone" } }, required: ["contactMethod"] },
    then: { required: ["phone"] },
    else: { required: ["email"] },
    additionalProperties: false
  })
}, (args) => Effect.succeed(`Received: ${JSON.stringify(args)}`))

const Sep1034 = McpServer.tool(
  "test_elicitation_sep1034_defaults",
  { description: "Elicits with defaults" },
  () =>
    Effect.map(
      RequestContext.elicit(
        "Please review your details",
        Schema.Struct({
          name: Schema.String.annotations({ default: "John Doe" }),
          age: Schema.Int.annotations({ default: 30 }),
          score: Schema.Number.annotations({ default: 95.5 }),
          status: Schema.Literal("active", "inactive", "pending").annotations({ default: "active" }),
          verified: Schema.Boolean.annotations({ default: true })
        })
      ),
      (answer) => `Elicitation ${answer.action}`
    )
)

const Sep1330 = McpServer.tool(
  "test_elicitation_sep1330_enums",
  { description: "Elicits every enum shape" },
  () =>
    Effect.map(
      RequestContext.elicitJson("Choose your options", {
        type: "object",
        properties: {
          untitledSingle: { type: "string", enum: ["option1", "option2", "option3"] },
          titledSingle: {
            type: "string",
            oneOf: [{ const: "value1", title: "First" }, { const: "value2", title: "Second" }]
          },
          legacyEnum: { type: "string", enum: ["opt1", "opt2"], enumNames: ["Option One", "Option Two"] },
          untitledMulti: { type: "array", items: { type: "string", enum: ["option1", "option2", "option3"] } },
          titledMulti: {
            type: "array",
            items: { anyOf: [{ const: "value1", title: "First" }, { const: "value2", title: "Second" }] }
          }
        }
      }),
      (answer) => `Elicitation ${answer.action}`
    )
)

const Reconnection = McpServer.tool("test_reconnection", {
  description: "Closes its SSE stream before answering, so the client polls (SEP-1699)"
}, () =>
  Effect.gen(function*() {
    yield* RequestContext.closeStream
    yield* Effect.sleep("100 millis")
    return "Reconnection test completed"
  }))

// --- Resources -------------------------------------------------------------

const StaticText = McpServer.resource("test://static-text", {
  name: "static-text",
  description: "A static text resource",
  mimeType: "text/plain"
}, () => Effect.succeed("This is the content of the static text resource."))

const StaticBinary = McpServer.resource("test://static-binary", {
  name: "static-binary",
  description: "A static PNG",
  mimeType: "image/png"
}, () => Effect.succeed(Buffer.from(PNG, "base64")))

const Watched = McpServer.resource("test://watched-resource", {
  name: "watched-resource",
  description: "A resource to subscribe to",
  mimeType: "text/plain"
}, () => Effect.succeed("Watched resource content"))

const Template = McpServer.resource("test://template/{id}/data", {
  name: "template",
  description: "Data by id",
  mimeType: "application/json"
}, ({ id }) => Effect.succeed(JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` })))

// --- Prompts ---------------------------------------------------------------

const SimplePrompt = McpServer.prompt(
  "test_simple_prompt",
  { description: "A prompt without arguments" },
  () => Effect.succeed("This is a simple prompt for testing.")
)

const ArgsPrompt = McpServer.prompt("test_prompt_with_arguments", {
  description: "A prompt with arguments",
  parameters: { arg1: Schema.String, arg2: Schema.String },
  descriptions: { arg1: "First test argument", arg2: "Second test argument" },
  complete: { arg1: (value) => Effect.succeed(["test1", "test2", "testValue"].filter((v) => v.startsWith(value))) }
}, ({ arg1, arg2 }) => Effect.succeed(`Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`))

const EmbeddedPrompt = McpServer.prompt("test_prompt_with_embedded_resource", {
  description: "A prompt with an embedded resource",
  parameters: { resourceUri: Schema.String }
}, ({ resourceUri }) =>
  Effect.succeed([
    Prompt.user(Content.embedded(resourceUri, "Embedded resource content for testing.", { mimeType: "text/plain" })),
    Prompt.user("Please process the embedded resource above.")
  ]))

const ImagePrompt = McpServer.prompt(
  "test_prompt_with_image",
  { description: "A prompt with an image" },
  () => Effect.succeed([Prompt.user(Content.image(PNG, "image/png")), Prompt.user("Please analyze the image above.")])
)

// --- 2026-07-28: multi-round-trip requests and stateless diagnostics ---------
// The same handlers serve a handshake-era client with live requests. The input keys are the ones the conformance
// scenarios name.

const Name = Schema.Struct({ name: Schema.String })
const Ok = Schema.Struct({ ok: Schema.Boolean })

const askName = RequestContext.elicit("What is your name?", Name).pipe(RequestContext.inputKey("user_name"))
const greeting = (answer: RequestContext.ElicitResult<{ readonly name: string }>) =>
  answer.action === "accept" ? `Hello, ${answer.content.name}!` : `The user chose to ${answer.action}.`

const sampledText = (result: { readonly content: unknown }) => {
  const block = Array.isArray(result.content) ? result.content[0] : result.content
  return typeof block === "object" && block !== null && "text" in block ? String(block.text) : "(no text)"
}

const InputElicitation = McpServer.tool(
  "test_input_required_result_elicitation",
  { description: "Asks the user's name" },
  () => Effect.map(askName, greeting)
)

const InputSampling = McpServer.tool(
  "test_input_required_result_sampling",
  { description: "Asks the client's model a question" },
  () =>
    RequestContext.sample("What is the capital of France?", { maxTokens: 100 }).pipe(
      RequestContext.inputKey("capital_question"),
      Effect.map(sampledText)
    )
)

const InputRoots = McpServer.tool(
  "test_input_required_result_list_roots",
  { description: "Lists the client's roots" },
  () =>
    RequestContext.listRoots.pipe(
      RequestContext.inputKey("client_roots"),
      Effect.map((roots) => `roots: ${roots.map((root) => root.uri).join(", ")}`)
    )
)

const confirm = RequestContext.elicit("Confirm?", Ok).pipe(RequestContext.inputKey("confirm"))
const confirmed = Effect.map(
  confirm,
  (answer) => answer.action === "accept" && answer.content.ok ? "state-ok" : "declined"
)

const InputRequestState = McpServer.tool(
  "test_input_required_result_request_state",
  { description: "Asks for a confirmation" },
  () => confirmed
)

const InputTamperedState = McpServer.tool(
  "test_input_required_result_tampered_state",
  { description: "Asks for a confirmation; a tampered requestState is refused" },
  () => confirmed
)

const InputMultiple = McpServer.tool(
  "test_input_required_result_multiple_inputs",
  { description: "Asks for a name, a completion and the roots at once" },
  () =>
    Effect.all([
      askName,
      RequestContext.sample("Say hello", { maxTokens: 20 }).pipe(RequestContext.inputKey("greeting")),
      RequestContext.listRoots.pipe(RequestContext.inputKey("client_roots"))
    ], { concurrency: "unbounded" }).pipe(
      Effect.map(([name, hello, roots]) => `${greeting(name)} ${sampledText(hello)} (${roots.length} roots)`)
    )
)

const InputMultiRound = McpServer.tool(
  "test_input_required_result_multi_round",
  { description: "Asks for a name, then a color" },
  () =>
    Effect.gen(function*() {
      const name = yield* RequestContext.elicit("What is your name?", Name).pipe(RequestContext.inputKey("step1"))
      const color = yield* RequestContext.elicit("Your favourite color?", Schema.Struct({ color: Schema.String })).pipe(
        RequestContext.inputKey("step2")
      )
      const who = name.action === "accept" ? name.content.name : "someone"
      return color.action === "accept" ? `${who} likes ${color.content.color}` : `${who} kept it secret`
    })
)

const InputCapabilities = McpServer.tool(
  "test_input_required_result_capabilities",
  { description: "Asks only for what the client declared" },
  () =>
    Effect.gen(function*() {
      const { clientCapabilities } = yield* RequestContext.current
      if (clientCapabilities.sampling !== undefined) {
        return sampledText(yield* RequestContext.sample("Say hi", { maxTokens: 10 }))
      }
      if (clientCapabilities.elicitation !== undefined) return greeting(yield* askName)
      return "nothing to ask"
    })
)

const InputPrompt = McpServer.prompt("test_input_required_result_prompt", {
  description: "Asks for context before answering"
}, () =>
  RequestContext.elicit("Any context?", Schema.Struct({ context: Schema.String })).pipe(
    RequestContext.inputKey("user_context"),
    Effect.map((answer) =>
      `Answer with this context: ${answer.action === "accept" ? answer.content.context : "(none)"}`
    )
  ))

const MissingCapability = McpServer.tool(
  "test_missing_capability",
  { description: "Needs sampling: a 2026-07-28 request without it is answered -32021" },
  () => Effect.map(RequestContext.sample("Hi", { maxTokens: 5 }), sampledText)
)

const StreamingElicitation = McpServer.tool(
  "test_streaming_elicitation",
  { description: "Elicits: a round trip, never a request on the response stream" },
  () => Effect.map(askName, greeting)
)

const LoggingTool = McpServer.tool(
  "test_logging_tool",
  { description: "Logs: only a request with a log level gets the messages" },
  () => Effect.as(RequestContext.log("info", "test_logging_tool ran"), "logged")
)

const XMcpHeader = McpServer.tool("test_x_mcp_header", {
  description: "Routes on a region: 2026-07-28 clients mirror it in the Mcp-Param-Region header",
  parameters: {
    region: Schema.optional(Schema.String.pipe(Tool.header("Region"))),
    level: Schema.optional(Schema.Int)
  }
}, ({ level, region }) => Effect.succeed(`region ${region ?? "(none)"}, level ${level ?? 0}`))

// Each call adds or removes a tool (a prompt), so that listeners hear a list change.
const TriggerToolChange = McpServer.tool("test_trigger_tool_change", {
  description: "Adds or removes the tool test_dynamic_tool"
}, () =>
  Effect.gen(function*() {
    const removed = yield* McpServer.removeTool("test_dynamic_tool")
    if (!removed) {
      yield* McpServer.addTool(
        Tool.make("test_dynamic_tool", { description: "Added at run time" }, () => Effect.succeed("dynamic"))
      )
    }
    return removed ? "removed test_dynamic_tool" : "added test_dynamic_tool"
  }))

const TriggerPromptChange = McpServer.tool("test_trigger_prompt_change", {
  description: "Adds or removes the prompt test_dynamic_prompt"
}, () =>
  Effect.gen(function*() {
    const removed = yield* McpServer.removePrompt("test_dynamic_prompt")
    if (!removed) {
      yield* McpServer.addPrompt(
        Prompt.make("test_dynamic_prompt", { description: "Added at run time" }, () => Effect.succeed("dynamic"))
      )
    }
    return removed ? "removed test_dynamic_prompt" : "added test_dynamic_prompt"
  }))

// --- 2026-07-28 tasks (io.modelcontextprotocol/tasks) -----------------------
// A tool declared with `task` answers a client that declared the extension with a task at once.

const Greet = McpServer.tool(
  "greet",
  { description: "Greets at once, never as a task", parameters: { name: Schema.String } },
  ({ name }) => Effect.succeed(`Hello, ${name}!`)
)

const SlowCompute = McpServer.tool("slow_compute", {
  description: "Computes for a few seconds",
  parameters: { seconds: Schema.Number, label: Schema.optional(Schema.String) },
  task: "optional"
}, ({ label, seconds }) => Effect.as(Effect.sleep(`${seconds} seconds`), `${label ?? "computed"} after ${seconds} s`))

const FailingJob = McpServer.tool(
  "failing_job",
  { description: "Fails after a second", task: "required" },
  () => Effect.zipRight(Effect.sleep("1 second"), Effect.fail("the job failed"))
)

const ProtocolErrorJob = McpServer.tool("protocol_error_job", {
  description: "Ends with a protocol error",
  task: "optional"
}, () => Effect.fail(McpError.McpError.internal("the job broke down")))

const ConfirmDelete = McpServer.tool("confirm_delete", {
  description: "Deletes a file once the user confirms",
  parameters: { filename: Schema.String },
  task: "optional"
}, ({ filename }) =>
  Effect.map(
    RequestContext.elicit(`Delete ${filename}?`, Schema.Struct({ confirm: Schema.Boolean })),
    (answer) => answer.action === "accept" && answer.content.confirm ? `deleted ${filename}` : `kept ${filename}`
  ))

const MultiInput = McpServer.tool(
  "multi_input",
  { description: "Asks for two names at once", task: "optional" },
  () =>
    Effect.all([
      RequestContext.elicit("First name?", Name),
      RequestContext.elicit("Second name?", Name)
    ], { concurrency: "unbounded" }).pipe(Effect.map(([first, second]) => `${greeting(first)} ${greeting(second)}`))
)

const ToolWithTask = McpServer.tool("test_tool_with_task", {
  description: "Asks a name in rounds, then runs on as a task",
  task: "required",
  taskStart: "explicit"
}, () =>
  Effect.gen(function*() {
    const answer = yield* askName
    yield* RequestContext.continueAsTask
    return greeting(answer)
  }))

/** A skill with a subdirectory, for the skills scenarios (enumeration, manifest, directory). */
const Skills = McpServer.skills([
  Skill.make("release-notes", {
    description: "Write release notes from a list of merged changes",
    instructions: "# Release notes\n\nGroup the changes as [the template](references/template.md) shows.",
    frontmatter: { license: "MIT", metadata: { audience: "maintainers" } },
    files: {
      "references/template.md": "## Added\n\n## Fixed\n",
      "scripts/collect.sh": "#!/bin/sh\ngit log --oneline \"$1..HEAD\"\n"
    }
  })
])

export const EverythingServer = Layer.mergeAll(
  SimpleText,
  Image,
  Audio,
  Embedded,
  Mixed,
  Logging,
  Failing,
  Progress,
  Sampling,
  Elicitation,
  JsonSchema2020,
  Sep1034,
  Sep1330,
  Reconnection,
  StaticText,
  StaticBinary,
  Watched,
  Template,
  SimplePrompt,
  ArgsPrompt,
  EmbeddedPrompt,
  ImagePrompt,
  InputElicitation,
  InputSampling,
  InputRoots,
  InputRequestState,
  InputTamperedState,
  InputMultiple,
  InputMultiRound,
  InputCapabilities,
  InputPrompt,
  MissingCapability,
  StreamingElicitation,
  LoggingTool,
  XMcpHeader,
  TriggerToolChange,
  TriggerPromptChange,
  Greet,
  SlowCompute,
  FailingJob,
  ProtocolErrorJob,
  ConfirmDelete,
  MultiInput,
  ToolWithTask,
  Skills
).pipe(Layer.provideMerge(McpServer.layer({ name: "mcp-effect-everything", version: "0.1.0" })))

/** The server layer, which `npx mcp-effect run examples/everything-server.ts` serves. */
export default EverythingServer

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2)
  if (args.includes("--stdio")) NodeStdio.run(EverythingServer)
  else {
    const port = args.includes("--port") ? Number(args[args.indexOf("--port") + 1]) : 3000
    NodeHttp.run(EverythingServer, { port, host: "127.0.0.1", legacySse: true })
  }
}

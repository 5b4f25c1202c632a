/**
 * The "everything" server: every tool, resource, template and prompt the
 * official conformance suite expects, each a short use of the public API.
 *
 *   npx tsx examples/everything-server.ts --port 3000   # http://localhost:3000/mcp
 *   npx tsx examples/everything-server.ts --stdio
 */
import { Effect, Layer, Schema } from "effect"
import { Content, McpServer, Prompt, RequestContext, Tool } from "mcp-effect"
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
  ImagePrompt
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

/**
 * The client's check of a tool's structured content against the output
 * schema the tool listed (as the spec asks of clients): each schema compiled
 * once, with Ajv (JSON Schema 2020-12, the revision MCP names), the field's
 * standard validator.
 */
import { Ajv2020 } from "ajv/dist/2020.js"
import type { ValidateFunction } from "ajv/dist/2020.js"
import { ErrorCode, McpError } from "../McpError.js"
import type * as McpSchema from "../McpSchema.js"

export class OutputSchemas {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false })
  private readonly schemas = new Map<string, Record<string, unknown>>()
  private readonly validators = new Map<string, ValidateFunction | undefined>()

  /** Remembers the output schemas of the tools just listed (a relisted tool replaces its own). */
  remember(tools: ReadonlyArray<McpSchema.ToolDefinition>): void {
    for (const tool of tools) {
      this.validators.delete(tool.name)
      if (tool.outputSchema === undefined) this.schemas.delete(tool.name)
      else this.schemas.set(tool.name, tool.outputSchema)
    }
  }

  /** What is wrong with a result of `tool`, if its listed output schema refuses it; nothing for an unlisted tool. */
  check(tool: string, result: McpSchema.CallToolResult): McpError | undefined {
    if (result.isError) return undefined
    const validate = this.validator(tool)
    if (validate === undefined) return undefined
    if (result.structuredContent === undefined) {
      return mismatch(tool, "it has an output schema, and its result has no structuredContent")
    }
    if (validate(result.structuredContent)) return undefined
    const first = validate.errors?.[0]
    return mismatch(
      tool,
      `its structuredContent does not match its output schema${
        first === undefined ? "" : `: ${first.instancePath || "/"} ${first.message ?? "is invalid"}`
      }`
    )
  }

  private validator(tool: string): ValidateFunction | undefined {
    if (this.validators.has(tool)) return this.validators.get(tool)
    const schema = this.schemas.get(tool)
    let validate: ValidateFunction | undefined
    try {
      validate = schema === undefined ? undefined : this.ajv.compile(schema)
    } catch {
      // A schema Ajv cannot compile is the server's problem; the client does not refuse results for it.
      validate = undefined
    }
    this.validators.set(tool, validate)
    return validate
  }
}

const mismatch = (tool: string, problem: string) =>
  new McpError({ code: ErrorCode.InvalidParams, message: `Tool ${JSON.stringify(tool)}: ${problem}` })

/**
 * The request headers of the 2026-07-28 Streamable HTTP transport, checked
 * against the body they mirror: `MCP-Protocol-Version`, `Mcp-Method`,
 * `Mcp-Name`, and the `Mcp-Param-{Name}` headers a tool asks for with
 * `x-mcp-header` in its input schema. Load balancers and gateways route on
 * these headers while the server acts on the body, so a request whose two
 * disagree is refused before anything runs (-32020 HeaderMismatch, HTTP 400):
 * otherwise a request could be routed, rate-limited or audited as one tool
 * call and executed as another.
 *
 * Pure functions: the HTTP handler reads the headers and raises the error.
 * Header names are case-insensitive, so every lookup goes through a
 * {@link HeaderLookup} that is always called with the lower-case name (the
 * handler's own lookup, which Node's lower-cased `IncomingMessage.headers`
 * or a `Headers` object already is).
 */
import { Either } from "effect"
import { isRecord } from "./guards.js"

/**
 * Reads one request header. Always called with the name in lower case, since
 * header names are case-insensitive; `undefined` when the header is absent.
 * A header sent twice arrives as HTTP joins it (`a, b`), which then matches
 * no body value.
 */
export type HeaderLookup = (lowerCaseName: string) => string | undefined

/** Why a request's headers do not mirror its body: the -32020 message. */
export interface HeaderProblem {
  readonly message: string
}

const problem = (message: string): HeaderProblem => ({ message })

// ---------------------------------------------------------------------------
// Quoting values in messages
// ---------------------------------------------------------------------------

/** The most characters of a value a message quotes: a header or argument can be kilobytes long. */
const MAX_QUOTED = 100

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff

/** The first {@link MAX_QUOTED} characters of a longer text, never cut through a surrogate pair. */
const cut = (text: string): string =>
  text.slice(0, isHighSurrogate(text.charCodeAt(MAX_QUOTED - 1)) ? MAX_QUOTED - 1 : MAX_QUOTED)

/** Text for a message, cut to {@link MAX_QUOTED} characters. */
const shorten = (text: string): string => text.length <= MAX_QUOTED ? text : `${cut(text)}…`

/** A value as JSON text for a message, cut to {@link MAX_QUOTED} characters with its full length said. */
const quote = (value: string): string =>
  value.length <= MAX_QUOTED ? JSON.stringify(value) : `${JSON.stringify(cut(value))}… (${value.length} characters)`

// ---------------------------------------------------------------------------
// Header values: OWS, the Base64 sentinel
// ---------------------------------------------------------------------------

const SENTINEL_PREFIX = "=?base64?"
const SENTINEL_SUFFIX = "?="

const isOws = (code: number): boolean => code === 0x20 || code === 0x09

/**
 * Strips optional whitespace (RFC 9110 OWS: spaces and horizontal tabs) from
 * both ends, as HTTP parsing does: a header value's edges carry no meaning.
 * A loop rather than a regular expression, which would backtrack
 * quadratically over a long run of spaces.
 */
export const trimOws = (raw: string): string => {
  let start = 0
  let end = raw.length
  while (start < end && isOws(raw.charCodeAt(start))) start++
  while (end > start && isOws(raw.charCodeAt(end - 1))) end--
  return raw.slice(start, end)
}

/**
 * Whether a (trimmed) value is the sentinel form `=?base64?<payload>?=`. The
 * markers are case-sensitive and must not overlap: `=?base64?=` is a literal.
 */
const isSentinel = (value: string): boolean =>
  value.length >= SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length &&
  value.startsWith(SENTINEL_PREFIX) &&
  value.endsWith(SENTINEL_SUFFIX)

/** What an RFC 9110 field value may hold: visible ASCII, space and horizontal tab. */
const FIELD_VALUE = /^[\t -~]*$/

/**
 * The first character a header value may not hold, described; `undefined`
 * when all are valid. The spec has servers refuse such a value: a client
 * must send anything else Base64-encoded, and what arrives raw (Latin-1
 * `obs-text`, mangled UTF-8) cannot be compared with the body reliably.
 */
const invalidCharacter = (value: string): string | undefined => {
  if (FIELD_VALUE.test(value)) return undefined
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code !== 0x09 && (code < 0x20 || code > 0x7e)) {
      const hex = code.toString(16).toUpperCase().padStart(4, "0")
      return `U+${hex} at index ${i} is not allowed in a header value (non-ASCII and control characters must be sent Base64-encoded as =?base64?…?=)`
    }
  }
  return undefined
}

const BASE64_ALPHABET = /^[A-Za-z0-9+/=]*$/
const BASE64_PADDING = /^[A-Za-z0-9+/]*={0,2}$/

/** Fatal, so that bytes that are not UTF-8 are an error; keeps a leading BOM, which is part of the value. */
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
const utf8Encoder = new TextEncoder()

/**
 * What is wrong with a payload's form as standard Base64 (RFC 4648 §4): the
 * alphabet, `=` only as padding at the end, and a length that is a multiple
 * of 4. `undefined` when it is well-formed. (`atob` alone would accept
 * missing padding and embedded whitespace.)
 */
const base64FormProblem = (payload: string): string | undefined => {
  if (!BASE64_ALPHABET.test(payload)) return "has characters outside the Base64 alphabet"
  if (!BASE64_PADDING.test(payload)) return "has \"=\" padding before its end, or more than two"
  if (payload.length % 4 !== 0) return `is ${payload.length} characters long, not a multiple of 4 (wrong padding)`
  return undefined
}

/**
 * Decodes a sentinel's payload: Base64 of UTF-8 text, or what is wrong with
 * it. The padding bits must be zero too, as every encoder writes them, so
 * that one value has one encoding.
 */
const decodePayload = (payload: string): Either.Either<string, string> => {
  const invalid = base64FormProblem(payload)
  if (invalid !== undefined) return Either.left(`the Base64 value ${quote(payload)} ${invalid}`)
  const binary = atob(payload)
  if (btoa(binary) !== payload) {
    return Either.left(`the Base64 value ${quote(payload)} is not canonical (its padding bits are not zero)`)
  }
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  try {
    return Either.right(utf8Decoder.decode(bytes))
  } catch {
    return Either.left(`the Base64 value ${quote(payload)} does not decode to UTF-8 text`)
  }
}

/**
 * Reads an `Mcp-Name` or `Mcp-Param-*` header value: OWS trimmed at both
 * ends; then the exact, case-sensitive form `=?base64?<payload>?=` is
 * decoded (standard, padded Base64 of UTF-8 text), and any other value is a
 * literal (one lacking the prefix or the suffix included). Right: the value;
 * left: what is wrong with it (a character a header may not hold, bad
 * Base64, bytes that are not UTF-8).
 */
export const decodeHeaderValue = (raw: string): Either.Either<string, string> => {
  const value = trimOws(raw)
  const invalid = invalidCharacter(value)
  if (invalid !== undefined) return Either.left(invalid)
  return isSentinel(value)
    ? decodePayload(value.slice(SENTINEL_PREFIX.length, value.length - SENTINEL_SUFFIX.length))
    : Either.right(value)
}

/** Printable ASCII, spaces included. */
const PRINTABLE = /^[ -~]+$/

/**
 * Whether a value can travel as a plain header value and be read back as
 * itself: printable ASCII, not empty (an empty field is easily dropped on the
 * way), no space at either end (OWS is trimmed), and not of the sentinel's
 * shape (it would be decoded). Tabs are control characters here even though
 * HTTP allows them inside a value.
 */
const isPlainSafe = (value: string): boolean =>
  PRINTABLE.test(value) &&
  !value.startsWith(" ") &&
  !value.endsWith(" ") &&
  !(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX))

/** Standard, padded Base64 of a string's UTF-8 bytes. */
const base64Utf8 = (value: string): string => {
  let binary = ""
  for (const byte of utf8Encoder.encode(value)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/**
 * A value as a client sends it in `Mcp-Name` or `Mcp-Param-*`: as is when it
 * is safe as a plain header value, otherwise as `=?base64?<UTF-8 in
 * Base64>?=` (non-ASCII, control characters, whitespace at either end, the
 * empty string, and a value that looks like the sentinel, which would
 * otherwise be decoded). {@link decodeHeaderValue} reads back the value
 * (a lone surrogate, which UTF-8 cannot hold, comes back as U+FFFD).
 */
export const encodeHeaderValue = (value: string): string =>
  isPlainSafe(value) ? value : `${SENTINEL_PREFIX}${base64Utf8(value)}${SENTINEL_SUFFIX}`

// ---------------------------------------------------------------------------
// Comparing one header with the body
// ---------------------------------------------------------------------------

/** One body value a header must mirror. */
interface Mirrored {
  /** The header's name as messages spell it, e.g. `Mcp-Name`. */
  readonly header: string
  /** The body value, described for messages, e.g. `the body's name "echo"` (only when one is needed). */
  readonly describe: () => string
  /** Whether the header mirrors the body value (Base64 sentinel decoded, when `encoded`). */
  readonly matches: (value: string) => boolean
  /** Whether the header may use the Base64 sentinel (`Mcp-Name`, `Mcp-Param-*`). */
  readonly encoded: boolean
}

/** Checks one required header: present, readable, and mirroring the body. */
const checkMirrored = (header: HeaderLookup, mirrored: Mirrored): HeaderProblem | undefined => {
  const raw = header(mirrored.header.toLowerCase())
  if (raw === undefined) return problem(`${mirrored.header} header is missing: it must mirror ${mirrored.describe()}`)
  const value = mirrored.encoded ? decodeHeaderValue(raw) : Either.right(trimOws(raw))
  if (Either.isLeft(value)) return problem(`${mirrored.header} header is invalid: ${value.left}`)
  return mirrored.matches(value.right)
    ? undefined
    : problem(`${mirrored.header} header ${quote(value.right)} does not match ${mirrored.describe()}`)
}

/** A header that must equal a body string exactly (values are case-sensitive). */
const exactly = (header: string, encoded: boolean, what: string, body: string): Mirrored => ({
  header,
  // Described only when a message needs it: every modern request checks a few headers.
  describe: () => `${what} ${quote(body)}`,
  matches: (value) => value === body,
  encoded
})

// ---------------------------------------------------------------------------
// The standard headers
// ---------------------------------------------------------------------------

const PROTOCOL_VERSION_META = "io.modelcontextprotocol/protocolVersion"

/**
 * The body field `Mcp-Name` mirrors, by method: the core methods that name
 * what they act on, and the tasks extension's methods on one task. A `Map`,
 * so that a method such as `constructor` finds nothing.
 */
const NAME_FIELD: ReadonlyMap<string, string> = new Map([
  ["tools/call", "name"],
  ["prompts/get", "name"],
  ["resources/read", "uri"],
  ["tasks/get", "taskId"],
  ["tasks/update", "taskId"],
  ["tasks/cancel", "taskId"]
])

/** The protocol version a request's body claims in `_meta`, if any: what makes it a modern request. */
const claimedVersion = (params: Record<string, unknown> | undefined): unknown =>
  params !== undefined && isRecord(params._meta) ? params._meta[PROTOCOL_VERSION_META] : undefined

/** `MCP-Protocol-Version` must name the body's version; a claim that is not a string can match no header. */
const versionHeader = (claimed: unknown): Mirrored =>
  typeof claimed === "string"
    ? exactly("MCP-Protocol-Version", false, "the body's protocol version", claimed)
    : {
      header: "MCP-Protocol-Version",
      describe: () => "the body's protocol version, which is not a string",
      matches: () => false,
      encoded: false
    }

/**
 * `Mcp-Name`, for the methods that have it. A body without the field as a
 * string is left to the method's params validation (-32602), which says
 * more than a header mismatch would.
 */
const nameHeader = (method: string, params: Record<string, unknown> | undefined): Mirrored | undefined => {
  const field = NAME_FIELD.get(method)
  const value = field === undefined || params === undefined ? undefined : params[field]
  return typeof value === "string" ? exactly("Mcp-Name", true, `the body's ${field}`, value) : undefined
}

/**
 * A raw header value that is its body value exactly, and could only be read
 * back as itself (no OWS to trim, no character to refuse, not the
 * sentinel's shape), mirrors it whether or not the header may be encoded.
 */
const isPlainCopy = (raw: string | undefined, body: string): boolean => raw === body && isPlainSafe(body)

/**
 * Whether every standard header is a plain copy of its body value: what
 * nearly every modern request sends, checked on the per-request path without
 * the allocations of {@link checkMirrored}, which is left to find and
 * describe whatever else there is (same verdict: a plain copy is always a
 * match there).
 */
const mirrorPlainly = (
  header: HeaderLookup,
  claimed: unknown,
  method: string,
  params: Record<string, unknown> | undefined
): boolean => {
  if (typeof claimed !== "string" || !isPlainCopy(header("mcp-protocol-version"), claimed)) return false
  if (!isPlainCopy(header("mcp-method"), method)) return false
  const field = NAME_FIELD.get(method)
  const name = field === undefined || params === undefined ? undefined : params[field]
  return typeof name !== "string" || isPlainCopy(header("mcp-name"), name)
}

/**
 * Checks the standard headers of a modern request (one whose `_meta` names a
 * protocol version): `MCP-Protocol-Version` equals that version,
 * `Mcp-Method` the method, and, for `tools/call`, `prompts/get`,
 * `resources/read` and the tasks methods, `Mcp-Name` (Base64 sentinel
 * decoded) the name, URI or task id. All are required; values are compared
 * case-sensitively after OWS is trimmed. A legacy request is not checked
 * here: `undefined`, as for a request whose headers are all well. (The
 * revision defines no headers for a notification: whether to check one is
 * the caller's choice.)
 */
export const checkStandardHeaders = (
  header: HeaderLookup,
  message: { readonly method: string; readonly params: Record<string, unknown> | undefined }
): HeaderProblem | undefined => {
  const claimed = claimedVersion(message.params)
  if (claimed === undefined) return undefined
  if (mirrorPlainly(header, claimed, message.method, message.params)) return undefined
  const name = nameHeader(message.method, message.params)
  return checkMirrored(header, versionHeader(claimed)) ??
    checkMirrored(header, exactly("Mcp-Method", false, "the body's method", message.method)) ??
    (name === undefined ? undefined : checkMirrored(header, name))
}

// ---------------------------------------------------------------------------
// x-mcp-header: the tool parameters mirrored in Mcp-Param-* headers
// ---------------------------------------------------------------------------

const X_MCP_HEADER = "x-mcp-header"

/**
 * The most subschemas a walk visits, and the deepest `properties` chain an
 * annotation may end: far past any real input schema. A schema from a peer
 * is walked in bounded time and memory, and one built in code with a cycle
 * (which JSON cannot carry) is not walked forever.
 */
const MAX_SCHEMA_NODES = 100_000
const MAX_CHAIN_DEPTH = 64

/** A path walked down a schema, as a list from its last step back to the root: shared, not copied, at each step. */
interface Steps {
  readonly key: string
  readonly parent: Steps | undefined
  readonly depth: number
}

const step = (parent: Steps | undefined, key: string): Steps => ({ key, parent, depth: (parent?.depth ?? 0) + 1 })

/** The keys of a path, root first. */
const keysOf = (steps: Steps | undefined): Array<string> => {
  const keys: Array<string> = []
  for (let at = steps; at !== undefined; at = at.parent) keys.push(at.key)
  return keys.reverse()
}

/** One `x-mcp-header` annotation: the `{Name}` of `Mcp-Param-{Name}`, and the argument's path through `properties`. */
export interface ParamHeaderBinding {
  readonly name: string
  readonly path: ReadonlyArray<string>
}

/** A schema's `properties`, own keys only. */
const propertiesOf = (schema: Record<string, unknown>): Array<[string, unknown]> =>
  isRecord(schema.properties) ? Object.entries(schema.properties) : []

/**
 * The `x-mcp-header` annotations of an input schema that name a header:
 * those on properties reached from the root through `properties` alone, at
 * any depth (the spec allows nested objects as long as every step is a
 * `properties` key), in breadth-first order. Whether they are valid is
 * {@link xMcpHeaderProblem}'s question: a server registers no tool whose
 * annotations are not.
 */
export const paramHeaderBindings = (inputSchema: unknown): ReadonlyArray<ParamHeaderBinding> => {
  const bindings: Array<ParamHeaderBinding> = []
  if (!isRecord(inputSchema)) return bindings
  const pending: Array<{ readonly schema: Record<string, unknown>; readonly steps: Steps | undefined }> = [
    { schema: inputSchema, steps: undefined }
  ]
  for (let i = 0; i < pending.length; i++) {
    const { schema, steps } = pending[i]
    if ((steps?.depth ?? 0) === MAX_CHAIN_DEPTH) continue
    for (const [key, child] of propertiesOf(schema)) {
      if (!isRecord(child) || pending.length === MAX_SCHEMA_NODES) continue
      const childSteps = step(steps, key)
      const name = child[X_MCP_HEADER]
      if (typeof name === "string") bindings.push({ name, path: keysOf(childSteps) })
      pending.push({ schema: child, steps: childSteps })
    }
  }
  return bindings
}

/** The argument at a path of property names, own keys only (`constructor` is absent, not `Object`). */
const argumentAt = (args: unknown, path: ReadonlyArray<string>): unknown => {
  let value = args
  for (const key of path) {
    if (!isRecord(value) || !Object.hasOwn(value, key)) return undefined
    value = value[key]
  }
  return value
}

/** A decimal number as a client renders an integer; `42.0` is let through, as the spec compares integers numerically. */
const DECIMAL = /^-?[0-9]+(?:\.[0-9]+)?$/

/**
 * How a header mirrors an argument, by the argument's JSON type (the type
 * the client rendered, whatever the schema says: a value of the wrong type is
 * the arguments' validation's to refuse): a string as is, a boolean as
 * `true`/`false`, a number as a decimal compared numerically (`007` and
 * `7.0` are 7). An object or array mirrors nothing: `undefined`.
 */
const mirrorOf = (header: string, what: string, value: unknown): Mirrored | undefined => {
  if (typeof value === "string") return exactly(header, true, what, value)
  if (typeof value === "boolean") return exactly(header, true, what, String(value))
  if (typeof value !== "number") return undefined
  return {
    header,
    describe: () => `${what} ${value}`,
    matches: (text) => DECIMAL.test(text) && Number(text) === value,
    encoded: true
  }
}

/** An integer beyond ±(2^53−1): the spec excludes it, and as a JSON number it cannot be compared exactly. */
const isUnsafeInteger = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value)

/**
 * Checks one annotated argument's header. A null or absent argument expects
 * no header (the client omits it); one sent anyway is refused, since a
 * header claiming a value the body does not have is the disagreement these
 * checks exist to catch.
 */
const checkParam = (
  header: HeaderLookup,
  binding: ParamHeaderBinding,
  args: Record<string, unknown> | undefined
): HeaderProblem | undefined => {
  const name = `Mcp-Param-${binding.name}`
  const what = `the body's arguments.${shorten(binding.path.join("."))}`
  const value = argumentAt(args, binding.path)
  if (value === undefined || value === null) {
    return header(name.toLowerCase()) === undefined
      ? undefined
      : problem(`${name} header is present but ${what} is ${value === null ? "null" : "absent"}`)
  }
  if (isUnsafeInteger(value)) {
    return problem(`${what} ${value} is beyond the safe integer range that ${name} can mirror`)
  }
  const mirrored = mirrorOf(name, what, value)
  return mirrored === undefined ? undefined : checkMirrored(header, mirrored)
}

/**
 * The bindings of a schema checked before, by identity: a tool's input
 * schema is compiled once, and every modern `tools/call` of it is checked.
 */
const bindingsCache = new WeakMap<object, ReadonlyArray<ParamHeaderBinding>>()

const bindingsOf = (inputSchema: unknown): ReadonlyArray<ParamHeaderBinding> => {
  if (!isRecord(inputSchema)) return []
  const cached = bindingsCache.get(inputSchema)
  if (cached !== undefined) return cached
  const bindings = paramHeaderBindings(inputSchema)
  bindingsCache.set(inputSchema, bindings)
  return bindings
}

/**
 * Checks a `tools/call`'s `Mcp-Param-{Name}` headers against its arguments,
 * for each `x-mcp-header` annotation of the tool's input schema: an argument
 * with a value needs its header, `mcp-param-<name in lower case>`, Base64
 * sentinel decoded and equal to the value as rendered (see {@link mirrorOf});
 * a null or absent argument needs none (and refuses one). The first problem,
 * or `undefined`.
 */
export const checkParamHeaders = (
  inputSchema: unknown,
  args: Record<string, unknown> | undefined,
  header: HeaderLookup
): HeaderProblem | undefined => {
  for (const binding of bindingsOf(inputSchema)) {
    const found = checkParam(header, binding, args)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * The `Mcp-Param-*` headers a client sends with a `tools/call`, by lower-case
 * name: one per `x-mcp-header` annotation whose argument has a value (null
 * and absent arguments send none), rendered as {@link checkParamHeaders}
 * reads them back. An object, an array, or an integer beyond the safe range
 * is not mirrored.
 */
export const paramHeadersOf = (inputSchema: unknown, args: unknown): Record<string, string> => {
  const headers: Record<string, string> = {}
  for (const binding of paramHeaderBindings(inputSchema)) {
    const value = argumentAt(args, binding.path)
    const rendered = typeof value === "string"
      ? value
      : typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value) && !isUnsafeInteger(value))
      ? String(value)
      : undefined
    if (rendered !== undefined) headers[`mcp-param-${binding.name.toLowerCase()}`] = encodeHeaderValue(rendered)
  }
  return headers
}

// ---------------------------------------------------------------------------
// Validating a tool's annotations
// ---------------------------------------------------------------------------

/** RFC 9110 §5.6.2 `token` (`1*tchar`): what a header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * The JSON types a header can carry. The spec excludes `number`; a list of
 * types is excluded too, since clients check for one of these three names.
 */
const HEADER_TYPES: ReadonlySet<unknown> = new Set(["string", "integer", "boolean"])

/**
 * The keywords whose subschemas are off the `properties` chain: arrays,
 * composition, conditionals, maps of patterns, definitions. An annotation
 * under any of them makes the tool invalid. (`$ref` is not followed: it
 * points into `$defs` or `definitions`, which are walked.)
 */
const OFF_CHAIN_KEYWORDS = [
  "items",
  "prefixItems",
  "additionalItems",
  "unevaluatedItems",
  "contains",
  "additionalProperties",
  "unevaluatedProperties",
  "patternProperties",
  "propertyNames",
  "dependentSchemas",
  "dependencies",
  "allOf",
  "anyOf",
  "oneOf",
  "not",
  "if",
  "then",
  "else",
  "$defs",
  "definitions"
] as const

/** The keywords whose value is a map from names to subschemas rather than a subschema. */
const MAP_KEYWORDS: ReadonlySet<string> = new Set([
  "patternProperties",
  "dependentSchemas",
  "dependencies",
  "$defs",
  "definitions"
])

/**
 * A schema found in the walk: where it is, and whether it is a property on
 * the chain (reached from the root through `properties` alone).
 */
interface Located {
  readonly schema: Record<string, unknown>
  readonly steps: Steps | undefined
  readonly onChain: boolean
}

/** Where a schema is, as a JSON pointer (RFC 6901), cut for a message. */
const pointerOf = (steps: Steps | undefined): string =>
  shorten(keysOf(steps).map((key) => `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`).join("")) || "the root"

/** The subschemas directly under a schema, with where they are: `properties` continue the chain from the root. */
const childrenOf = (located: Located): Array<Located> => {
  const children: Array<Located> = []
  const add = (value: unknown, steps: Steps, onChain: boolean) => {
    if (isRecord(value)) children.push({ schema: value, steps, onChain })
  }
  const properties = step(located.steps, "properties")
  const continuesChain = located.steps === undefined || located.onChain
  for (const [key, child] of propertiesOf(located.schema)) add(child, step(properties, key), continuesChain)
  for (const keyword of OFF_CHAIN_KEYWORDS) {
    const value = located.schema[keyword]
    const at = step(located.steps, keyword)
    if (Array.isArray(value)) value.forEach((item, i) => add(item, step(at, String(i)), false))
    else if (isRecord(value) && MAP_KEYWORDS.has(keyword)) {
      for (const [key, item] of Object.entries(value)) add(item, step(at, key), false)
    } else add(value, at, false)
  }
  return children
}

/** A schema's `type`, described for a message. */
const describeType = (type: unknown): string =>
  typeof type === "string" ? quote(type) : type === undefined ? "not given" : "not one type name"

/** What is wrong with one annotation, given the names already seen (lower case → where). */
const annotationProblem = (located: Located, seen: Map<string, string>): string | undefined => {
  const name = located.schema[X_MCP_HEADER]
  const at = `x-mcp-header at ${pointerOf(located.steps)}`
  if (!located.onChain) {
    return `${at} is not on a property reached from the root through "properties" alone (not items, composition, conditionals or definitions)`
  }
  // Two steps a level: `properties`, then the property's name.
  if ((located.steps?.depth ?? 0) > 2 * MAX_CHAIN_DEPTH) {
    return `${at} is nested more than ${MAX_CHAIN_DEPTH} properties deep`
  }
  if (typeof name !== "string" || name === "") return `${at} must be a non-empty string`
  if (!TOKEN.test(name)) {
    return `${at}, ${quote(name)}, is not an HTTP token (RFC 9110 tchar: letters, digits, !#$%&'*+-.^_\`|~)`
  }
  if (!HEADER_TYPES.has(located.schema.type)) {
    return `${at} is on a property whose type is ${
      describeType(located.schema.type)
    }; only "string", "integer" and "boolean" can be mirrored`
  }
  const earlier = seen.get(name.toLowerCase())
  if (earlier !== undefined) return `${at}, ${quote(name)}, repeats the name at ${earlier} (names are case-insensitive)`
  seen.set(name.toLowerCase(), pointerOf(located.steps))
  return undefined
}

/**
 * Whether a tool's `x-mcp-header` annotations are valid (spec: server/tools,
 * "x-mcp-header"): each a non-empty RFC 9110 token, unique ignoring case, on
 * a property of type `"string"`, `"integer"` or `"boolean"` reached from the
 * root through `properties` alone. A client drops a tool that breaks any of
 * these from `tools/list`, so a server refuses to register it. Every
 * subschema is walked, breadth-first and without recursion, so that an
 * annotation anywhere else is found too. The first problem, or `undefined`.
 */
export const xMcpHeaderProblem = (inputSchema: unknown): string | undefined => {
  if (!isRecord(inputSchema)) return undefined
  const names = new Map<string, string>()
  const pending: Array<Located> = [{ schema: inputSchema, steps: undefined, onChain: false }]
  for (let i = 0; i < pending.length; i++) {
    if (Object.hasOwn(pending[i].schema, X_MCP_HEADER)) {
      const found = annotationProblem(pending[i], names)
      if (found !== undefined) return found
    }
    for (const child of childrenOf(pending[i])) {
      if (pending.length === MAX_SCHEMA_NODES) {
        return `the input schema has more than ${MAX_SCHEMA_NODES} subschemas to check`
      }
      pending.push(child)
    }
  }
  return undefined
}

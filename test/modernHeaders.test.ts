import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import type { HeaderLookup } from "../src/internal/modernHeaders.js"
import {
  checkParamHeaders,
  checkStandardHeaders,
  decodeHeaderValue,
  encodeHeaderValue,
  paramHeaderBindings,
  xMcpHeaderProblem
} from "../src/internal/modernHeaders.js"

/** Request headers as a server reads them: names case-insensitive, looked up in lower case only. */
const headers = (sent: Record<string, string>): HeaderLookup => {
  const byName = new Map(Object.entries(sent).map(([name, value]) => [name.toLowerCase(), value]))
  return (name) => {
    expect(name).toBe(name.toLowerCase())
    return byName.get(name)
  }
}

const VERSION = "2026-07-28"

/** A modern request's method and params: `_meta` claims the 2026-07-28 revision. */
const modern = (method: string, params: Record<string, unknown> = {}) => ({
  method,
  params: {
    ...params,
    _meta: {
      "io.modelcontextprotocol/protocolVersion": VERSION,
      "io.modelcontextprotocol/clientCapabilities": {}
    }
  }
})

const decoded = (raw: string) => decodeHeaderValue(raw)
const decodeProblem = (raw: string): string => {
  const result = decodeHeaderValue(raw)
  if (Either.isRight(result)) throw new Error(`expected ${JSON.stringify(raw)} to be refused`)
  return result.left
}

describe("decodeHeaderValue", () => {
  it("returns a plain value as it is, OWS trimmed at both ends", () => {
    expect(decoded("list_mortgage_rates")).toEqual(Either.right("list_mortgage_rates"))
    expect(decoded("  tool  ")).toEqual(Either.right("tool"))
    expect(decoded("\t tool \t")).toEqual(Either.right("tool"))
    expect(decoded("two words")).toEqual(Either.right("two words"))
    expect(decoded("a\tb")).toEqual(Either.right("a\tb"))
  })

  it("reads an empty header, or one of spaces only, as the empty string", () => {
    expect(decoded("")).toEqual(Either.right(""))
    expect(decoded("    ")).toEqual(Either.right(""))
    expect(decoded(" \t ")).toEqual(Either.right(""))
  })

  it("decodes the Base64 sentinel as UTF-8 (the spec's and the conformance suite's examples)", () => {
    expect(decoded("=?base64?SGVsbG8=?=")).toEqual(Either.right("Hello"))
    expect(decoded("=?base64?SGVsbG8sIOS4lueVjA==?=")).toEqual(Either.right("Hello, 世界"))
    expect(decoded("=?base64?IHBhZGRlZCA=?=")).toEqual(Either.right(" padded "))
    expect(decoded("=?base64?bGluZTEKbGluZTI=?=")).toEqual(Either.right("line1\nline2"))
    expect(decoded("=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=")).toEqual(Either.right("=?base64?literal?="))
    expect(decoded("=?base64?aMOpbGxv?=")).toEqual(Either.right("héllo"))
  })

  it("trims OWS around the sentinel, and decodes an empty payload to the empty string", () => {
    expect(decoded("  =?base64?SGVsbG8=?=\t")).toEqual(Either.right("Hello"))
    expect(decoded("=?base64??=")).toEqual(Either.right(""))
  })

  it("keeps a leading byte-order mark, which is part of the value", () => {
    expect(decoded("=?base64?77u/YQ==?=")).toEqual(Either.right("\uFEFFa"))
  })

  it("reads a value lacking the prefix or the suffix, or with other markers, as a literal", () => {
    expect(decoded("SGVsbG8=")).toEqual(Either.right("SGVsbG8="))
    expect(decoded("=?base64?SGVsbG8=")).toEqual(Either.right("=?base64?SGVsbG8="))
    expect(decoded("SGVsbG8=?=")).toEqual(Either.right("SGVsbG8=?="))
    expect(decoded("=?BASE64?SGVsbG8=?=")).toEqual(Either.right("=?BASE64?SGVsbG8=?="))
    expect(decoded("=?Base64?SGVsbG8=?=")).toEqual(Either.right("=?Base64?SGVsbG8=?="))
    expect(decoded("=?utf-8?b?SGVsbG8=?=")).toEqual(Either.right("=?utf-8?b?SGVsbG8=?="))
    // The markers may not overlap: "=?base64?" then "?=" needs 11 characters.
    expect(decoded("=?base64?=")).toEqual(Either.right("=?base64?="))
  })

  it("refuses missing or wrong padding", () => {
    expect(decodeProblem("=?base64?SGVsbG8?=")).toMatch(/not a multiple of 4 \(wrong padding\)/)
    expect(decodeProblem("=?base64?SGVsbG8==?=")).toMatch(/not a multiple of 4/)
    expect(decodeProblem("=?base64?SG=sbG8=?=")).toMatch(/padding before its end/)
    expect(decodeProblem("=?base64?S===?=")).toMatch(/or more than two/)
    expect(decodeProblem("=?base64?====?=")).toMatch(/or more than two/)
  })

  it("refuses characters outside the Base64 alphabet, URL-safe Base64 and whitespace included", () => {
    expect(decodeProblem("=?base64?SGVs!!!bG8=?=")).toMatch(/outside the Base64 alphabet/)
    expect(decodeProblem("=?base64?SGVs bG8=?=")).toMatch(/outside the Base64 alphabet/)
    expect(decodeProblem("=?base64?-_-_?=")).toMatch(/outside the Base64 alphabet/)
  })

  it("refuses non-canonical Base64 (padding bits that are not zero)", () => {
    expect(decodeProblem("=?base64?SGVsbG9=?=")).toMatch(/not canonical/)
    expect(decodeProblem("=?base64?QR==?=")).toMatch(/not canonical/)
  })

  it("refuses Base64 whose bytes are not UTF-8", () => {
    expect(decodeProblem("=?base64?/w==?=")).toMatch(/does not decode to UTF-8 text/)
    expect(decodeProblem("=?base64?wCg=?=")).toMatch(/does not decode to UTF-8 text/)
    // A lone surrogate encoded in UTF-8 (CESU style) is not UTF-8 either.
    expect(decodeProblem("=?base64?7aCA?=")).toMatch(/does not decode to UTF-8 text/)
  })

  it("refuses characters a header value may not hold: non-ASCII and control characters sent raw", () => {
    expect(decodeProblem("héllo")).toMatch(/U\+00E9 at index 1 is not allowed/)
    expect(decodeProblem("a\u0000b")).toMatch(/U\+0000 at index 1/)
    expect(decodeProblem("a\nb")).toMatch(/U\+000A/)
    expect(decodeProblem("a\u007fb")).toMatch(/U\+007F/)
    expect(decodeProblem("=?base64?SGVsbG8=?=\r\n")).toMatch(/U\+000D/)
  })

  it("quotes at most about 100 characters of a bad value", () => {
    const problem = decodeProblem(`=?base64?${"!".repeat(100_000)}?=`)
    expect(problem.length).toBeLessThan(300)
    expect(problem).toContain("(100000 characters)")
  })
})

describe("encodeHeaderValue", () => {
  it("sends a plain ASCII value as it is", () => {
    expect(encodeHeaderValue("us-west1")).toBe("us-west1")
    expect(encodeHeaderValue("two words")).toBe("two words")
    expect(encodeHeaderValue("file:///projects/myapp/config.json")).toBe("file:///projects/myapp/config.json")
    expect(encodeHeaderValue("SGVsbG8=")).toBe("SGVsbG8=")
    expect(encodeHeaderValue("=?base64?SGVsbG8=")).toBe("=?base64?SGVsbG8=")
  })

  it("encodes as the spec's examples do", () => {
    expect(encodeHeaderValue("Hello, 世界")).toBe("=?base64?SGVsbG8sIOS4lueVjA==?=")
    expect(encodeHeaderValue(" padded ")).toBe("=?base64?IHBhZGRlZCA=?=")
    expect(encodeHeaderValue("line1\nline2")).toBe("=?base64?bGluZTEKbGluZTI=?=")
    expect(encodeHeaderValue("=?base64?literal?=")).toBe("=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=")
  })

  it("encodes control characters (tabs too), whitespace at either end, the empty string and sentinel look-alikes", () => {
    const encoded = (value: string) => encodeHeaderValue(value).startsWith("=?base64?")
    expect(encoded("a\tb")).toBe(true)
    expect(encoded("a\u007fb")).toBe(true)
    expect(encoded("\u0000")).toBe(true)
    expect(encoded(" x")).toBe(true)
    expect(encoded("x ")).toBe(true)
    expect(encoded("\tx")).toBe(true)
    expect(encoded("")).toBe(true)
    expect(encoded("=?base64?=")).toBe(true)
    expect(encoded("=?base64??=")).toBe(true)
    expect(encoded("é")).toBe(true)
    expect(encoded("😀")).toBe(true)
  })

  /** A plain header value as RFC 9110 has it, with nothing OWS trimming would take. */
  const PLAIN_FIELD = /^(?:[!-~](?:[ -~]*[!-~])?)$/

  it("round-trips with decodeHeaderValue, through OWS added on the way, and always gives a valid header", () => {
    const characters = fc.constantFrom(
      " ",
      "\t",
      "\n",
      "\r",
      "\u0000",
      "=",
      "?",
      "b",
      "a",
      "s",
      "e",
      "6",
      "4",
      "é",
      "世",
      "😀",
      "\uFEFF"
    )
    const values = fc.oneof(
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.string({ unit: characters, maxLength: 20 }),
      fc.string({ maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 12 }).map((payload) => `=?base64?${payload}?=`)
    )
    fc.assert(
      fc.property(values, (value) => {
        const encoded = encodeHeaderValue(value)
        expect(encoded).toMatch(PLAIN_FIELD)
        expect(decodeHeaderValue(encoded)).toEqual(Either.right(value))
        expect(decodeHeaderValue(` \t${encoded} `)).toEqual(Either.right(value))
      }),
      { numRuns: 600 }
    )
  })

  it("turns a lone surrogate, which UTF-8 cannot hold, into U+FFFD", () => {
    expect(decodeHeaderValue(encodeHeaderValue("a\ud800"))).toEqual(Either.right("a\ufffd"))
  })
})

describe("checkStandardHeaders", () => {
  const standard = (method: string, more: Record<string, string> = {}) =>
    headers({ "MCP-Protocol-Version": VERSION, "Mcp-Method": method, ...more })

  it("does not check a legacy request (no protocol version in _meta)", () => {
    expect(checkStandardHeaders(headers({}), { method: "tools/list", params: undefined })).toBeUndefined()
    expect(checkStandardHeaders(headers({}), { method: "tools/call", params: { name: "echo" } })).toBeUndefined()
    expect(checkStandardHeaders(headers({}), { method: "tools/list", params: { _meta: {} } })).toBeUndefined()
    expect(checkStandardHeaders(headers({ "Mcp-Method": "nope" }), { method: "ping", params: { _meta: "x" } }))
      .toBeUndefined()
  })

  it("accepts a request whose headers mirror its body", () => {
    expect(checkStandardHeaders(standard("tools/list"), modern("tools/list"))).toBeUndefined()
    expect(checkStandardHeaders(standard("tools/call", { "Mcp-Name": "echo" }), modern("tools/call", { name: "echo" })))
      .toBeUndefined()
    expect(
      checkStandardHeaders(standard("prompts/get", { "Mcp-Name": "greet" }), modern("prompts/get", { name: "greet" }))
    ).toBeUndefined()
    expect(
      checkStandardHeaders(
        standard("resources/read", { "Mcp-Name": "file:///projects/myapp/config.json" }),
        modern("resources/read", { uri: "file:///projects/myapp/config.json" })
      )
    ).toBeUndefined()
  })

  describe("http-header-validation (conformance)", () => {
    it("refuses tools/list with Mcp-Method: prompts/list", () => {
      expect(checkStandardHeaders(standard("prompts/list"), modern("tools/list"))?.message).toBe(
        "Mcp-Method header \"prompts/list\" does not match the body's method \"tools/list\""
      )
    })

    it("refuses tools/list without Mcp-Method", () => {
      expect(checkStandardHeaders(headers({ "MCP-Protocol-Version": VERSION }), modern("tools/list"))?.message).toBe(
        "Mcp-Method header is missing: it must mirror the body's method \"tools/list\""
      )
    })

    it("refuses tools/call with Mcp-Name: wrong_tool_name", () => {
      const found = checkStandardHeaders(
        standard("tools/call", { "Mcp-Name": "wrong_tool_name" }),
        modern("tools/call", { name: "echo", arguments: {} })
      )
      expect(found?.message).toBe("Mcp-Name header \"wrong_tool_name\" does not match the body's name \"echo\"")
    })

    it("refuses tools/call without Mcp-Name", () => {
      const found = checkStandardHeaders(standard("tools/call"), modern("tools/call", { name: "echo", arguments: {} }))
      expect(found?.message).toBe("Mcp-Name header is missing: it must mirror the body's name \"echo\"")
    })

    it("refuses tools/list with Mcp-Method: TOOLS/LIST (values are case-sensitive)", () => {
      expect(checkStandardHeaders(standard("TOOLS/LIST"), modern("tools/list"))?.message).toMatch(
        /^Mcp-Method header "TOOLS\/LIST" does not match/
      )
    })

    it("accepts header names in any case", () => {
      const request = modern("tools/list")
      expect(checkStandardHeaders(headers({ "mcp-protocol-version": VERSION, "mcp-method": "tools/list" }), request))
        .toBeUndefined()
      expect(checkStandardHeaders(headers({ "MCP-PROTOCOL-VERSION": VERSION, "MCP-METHOD": "tools/list" }), request))
        .toBeUndefined()
    })

    it("accepts Mcp-Name with whitespace around the name", () => {
      expect(
        checkStandardHeaders(standard("tools/call", { "Mcp-Name": "  echo  " }), modern("tools/call", { name: "echo" }))
      ).toBeUndefined()
    })
  })

  it("requires MCP-Protocol-Version, equal to the body's version after OWS is trimmed", () => {
    expect(checkStandardHeaders(headers({ "Mcp-Method": "tools/list" }), modern("tools/list"))?.message).toBe(
      "MCP-Protocol-Version header is missing: it must mirror the body's protocol version \"2026-07-28\""
    )
    expect(
      checkStandardHeaders(
        headers({ "MCP-Protocol-Version": "2025-11-25", "Mcp-Method": "tools/list" }),
        modern("tools/list")
      )?.message
    ).toBe("MCP-Protocol-Version header \"2025-11-25\" does not match the body's protocol version \"2026-07-28\"")
    expect(
      checkStandardHeaders(
        headers({ "MCP-Protocol-Version": ` ${VERSION}\t`, "Mcp-Method": " tools/list " }),
        modern("tools/list")
      )
    ).toBeUndefined()
  })

  it("refuses a protocol version claim that is not a string", () => {
    const request = { method: "tools/list", params: { _meta: { "io.modelcontextprotocol/protocolVersion": 2026 } } }
    expect(checkStandardHeaders(standard("tools/list"), request)?.message).toMatch(
      /^MCP-Protocol-Version header "2026-07-28" does not match the body's protocol version, which is not a string/
    )
  })

  it("checks MCP-Protocol-Version first, then Mcp-Method, then Mcp-Name", () => {
    const request = modern("tools/call", { name: "echo" })
    expect(checkStandardHeaders(headers({}), request)?.message).toMatch(/^MCP-Protocol-Version/)
    expect(checkStandardHeaders(headers({ "MCP-Protocol-Version": VERSION }), request)?.message).toMatch(/^Mcp-Method/)
  })

  it("refuses an empty Mcp-Method, or one of spaces only", () => {
    expect(checkStandardHeaders(standard(""), modern("tools/list"))?.message).toBe(
      "Mcp-Method header \"\" does not match the body's method \"tools/list\""
    )
    expect(checkStandardHeaders(standard("   "), modern("tools/list"))?.message).toMatch(/^Mcp-Method header ""/)
  })

  it("does not decode the Base64 sentinel in Mcp-Method", () => {
    expect(checkStandardHeaders(standard("=?base64?dG9vbHMvbGlzdA==?="), modern("tools/list"))?.message).toMatch(
      /^Mcp-Method header "=\?base64\?dG9vbHMvbGlzdA==\?=" does not match/
    )
  })

  it("decodes Mcp-Name before comparing, and refuses one that is not valid Base64", () => {
    const request = modern("tools/call", { name: "héllo wörld" })
    const encoded = "=?base64?aMOpbGxvIHfDtnJsZA==?="
    expect(checkStandardHeaders(standard("tools/call", { "Mcp-Name": encoded }), request)).toBeUndefined()
    expect(checkStandardHeaders(standard("tools/call", { "Mcp-Name": "=?base64?aMOpbGxv?=" }), request)?.message)
      .toMatch(/^Mcp-Name header "héllo" does not match the body's name "héllo wörld"$/)
    expect(checkStandardHeaders(standard("tools/call", { "Mcp-Name": "=?base64?aMOpbGx?=" }), request)?.message)
      .toMatch(/^Mcp-Name header is invalid: the Base64 value "aMOpbGx" is 7 characters long/)
    expect(checkStandardHeaders(standard("tools/call", { "Mcp-Name": "héllo wörld" }), request)?.message)
      .toMatch(/^Mcp-Name header is invalid: U\+00E9 at index 1 is not allowed/)
  })

  it("mirrors the URI of resources/read, and the task id of the tasks methods", () => {
    const uri = "file:///données/résumé.txt"
    expect(
      checkStandardHeaders(
        standard("resources/read", { "Mcp-Name": encodeHeaderValue(uri) }),
        modern("resources/read", { uri })
      )
    ).toBeUndefined()
    expect(checkStandardHeaders(standard("resources/read"), modern("resources/read", { uri }))?.message).toMatch(
      /^Mcp-Name header is missing: it must mirror the body's uri/
    )
    for (const method of ["tasks/get", "tasks/update", "tasks/cancel"]) {
      const request = modern(method, { taskId: "task-1" })
      expect(checkStandardHeaders(standard(method, { "Mcp-Name": "task-1" }), request)).toBeUndefined()
      expect(checkStandardHeaders(standard(method, { "Mcp-Name": "task-2" }), request)?.message).toBe(
        "Mcp-Name header \"task-2\" does not match the body's taskId \"task-1\""
      )
      expect(checkStandardHeaders(standard(method), request)?.message).toMatch(/^Mcp-Name header is missing/)
    }
  })

  it("requires no Mcp-Name for other methods, and ignores one that is sent", () => {
    expect(checkStandardHeaders(standard("tools/list"), modern("tools/list"))).toBeUndefined()
    expect(checkStandardHeaders(standard("tools/list", { "Mcp-Name": "x" }), modern("tools/list"))).toBeUndefined()
    expect(checkStandardHeaders(standard("server/discover"), modern("server/discover"))).toBeUndefined()
    expect(checkStandardHeaders(standard("constructor"), modern("constructor"))).toBeUndefined()
  })

  it("leaves a name that is not a string to params validation", () => {
    expect(checkStandardHeaders(standard("tools/call"), modern("tools/call", { name: 42 }))).toBeUndefined()
    expect(checkStandardHeaders(standard("tools/call"), modern("tools/call"))).toBeUndefined()
  })

  it("quotes at most about 100 characters of a long header or body value", () => {
    const long = "x".repeat(100_000)
    const found = checkStandardHeaders(standard(long), modern(`${"y".repeat(50_000)}`))
    expect(found?.message.length).toBeLessThan(400)
    expect(found?.message).toContain("(100000 characters)")
    expect(found?.message).toContain("(50000 characters)")
  })
})

describe("checkParamHeaders", () => {
  /** The SDK everything server's fixture, with an integer and a boolean header added. */
  const schema = {
    type: "object",
    properties: {
      region: { type: "string", "x-mcp-header": "Region" },
      level: { type: "integer", "x-mcp-header": "Level" },
      verbose: { type: "boolean", "x-mcp-header": "Verbose" },
      note: { type: "string" }
    }
  }
  const check = (args: Record<string, unknown> | undefined, sent: Record<string, string>) =>
    checkParamHeaders(schema, args, headers(sent))

  describe("http-custom-header-server-validation (conformance)", () => {
    it("accepts a Base64-encoded value", () => {
      expect(check({ region: "Hello" }, { "Mcp-Param-Region": "=?base64?SGVsbG8=?=" })).toBeUndefined()
    })

    it("refuses bad padding", () => {
      expect(check({ region: "Hello" }, { "Mcp-Param-Region": "=?base64?SGVsbG8?=" })?.message).toMatch(
        /^Mcp-Param-Region header is invalid: the Base64 value "SGVsbG8" is 7 characters long, not a multiple of 4/
      )
    })

    it("refuses characters outside the Base64 alphabet", () => {
      expect(check({ region: "Hello" }, { "Mcp-Param-Region": "=?base64?SGVs!!!bG8=?=" })?.message).toMatch(
        /^Mcp-Param-Region header is invalid: .* outside the Base64 alphabet/
      )
    })

    it("reads a value without the prefix as a literal", () => {
      expect(check({ region: "SGVsbG8=" }, { "Mcp-Param-Region": "SGVsbG8=" })).toBeUndefined()
    })

    it("reads a value without the suffix as a literal", () => {
      expect(check({ region: "=?base64?SGVsbG8=" }, { "Mcp-Param-Region": "=?base64?SGVsbG8=" })).toBeUndefined()
    })

    it("refuses a missing header when the body has the value", () => {
      expect(check({ region: "test-value" }, {})?.message).toBe(
        "Mcp-Param-Region header is missing: it must mirror the body's arguments.region \"test-value\""
      )
    })
  })

  it("compares strings exactly, and refuses a mismatch", () => {
    expect(check({ region: "us-west1" }, { "Mcp-Param-Region": "us-west1" })).toBeUndefined()
    expect(check({ region: "us-west1" }, { "Mcp-Param-Region": "US-WEST1" })?.message).toBe(
      "Mcp-Param-Region header \"US-WEST1\" does not match the body's arguments.region \"us-west1\""
    )
    expect(check({ region: "7" }, { "Mcp-Param-Region": "007" })?.message).toMatch(/does not match/)
    expect(check({ region: "Hello, 世界" }, { "Mcp-Param-Region": "=?base64?SGVsbG8sIOS4lueVjA==?=" })).toBeUndefined()
    expect(check({ region: " padded " }, { "Mcp-Param-Region": "=?base64?IHBhZGRlZCA=?=" })).toBeUndefined()
  })

  it("looks the header up by its name in lower case, whatever case the annotation and the request use", () => {
    expect(check({ region: "eu" }, { "MCP-PARAM-REGION": "eu" })).toBeUndefined()
    expect(check({ region: "eu" }, { "mcp-param-region": "eu" })).toBeUndefined()
  })

  it("compares integers numerically", () => {
    for (const sent of ["7", "007", "7.0", "7.000", " 7 ", "=?base64?Nw==?="]) {
      expect(check({ level: 7 }, { "Mcp-Param-Level": sent }), sent).toBeUndefined()
    }
    expect(check({ level: -7 }, { "Mcp-Param-Level": "-7" })).toBeUndefined()
    expect(check({ level: 0 }, { "Mcp-Param-Level": "0" })).toBeUndefined()
    for (const sent of ["7.5", "8", "-7", "0x7", "7e0", "+7", "7.", ".7", "seven", "", "Infinity", "7 7"]) {
      expect(check({ level: 7 }, { "Mcp-Param-Level": sent })?.message, sent).toMatch(
        /^Mcp-Param-Level header ".*" does not match the body's arguments\.level 7$/
      )
    }
  })

  it("refuses an integer beyond the safe range, which no header can mirror exactly", () => {
    expect(check({ level: 2 ** 53 }, { "Mcp-Param-Level": "9007199254740992" })?.message).toBe(
      "the body's arguments.level 9007199254740992 is beyond the safe integer range that Mcp-Param-Level can mirror"
    )
  })

  it("compares booleans as true and false", () => {
    expect(check({ verbose: true }, { "Mcp-Param-Verbose": "true" })).toBeUndefined()
    expect(check({ verbose: false }, { "Mcp-Param-Verbose": "false" })).toBeUndefined()
    for (const sent of ["True", "TRUE", "1", "yes", "false"]) {
      expect(check({ verbose: true }, { "Mcp-Param-Verbose": sent })?.message, sent).toMatch(/does not match/)
    }
  })

  it("expects no header for a null or absent argument, and refuses one sent anyway", () => {
    expect(check({}, {})).toBeUndefined()
    expect(check(undefined, {})).toBeUndefined()
    expect(check({ region: null, level: null }, {})).toBeUndefined()
    expect(check({ note: "x" }, { "Mcp-Param-Note": "x" })).toBeUndefined()
    expect(check({ region: null }, { "Mcp-Param-Region": "eu" })?.message).toBe(
      "Mcp-Param-Region header is present but the body's arguments.region is null"
    )
    expect(check({}, { "Mcp-Param-Region": "eu" })?.message).toBe(
      "Mcp-Param-Region header is present but the body's arguments.region is absent"
    )
  })

  it("checks every annotated argument and reports the first problem", () => {
    const args = { region: "eu", level: 3, verbose: false }
    const all = { "Mcp-Param-Region": "eu", "Mcp-Param-Level": "3", "Mcp-Param-Verbose": "false" }
    expect(check(args, all)).toBeUndefined()
    expect(check(args, { ...all, "Mcp-Param-Verbose": "true" })?.message).toMatch(/^Mcp-Param-Verbose/)
    expect(check(args, { "Mcp-Param-Level": "3" })?.message).toMatch(/^Mcp-Param-Region header is missing/)
  })

  it("leaves an argument of the wrong JSON type to the arguments' validation", () => {
    expect(check({ region: { nested: true } }, {})).toBeUndefined()
    expect(check({ region: ["eu"] }, {})).toBeUndefined()
    // A value of another primitive type is compared as the client renders it.
    expect(check({ level: "7" }, { "Mcp-Param-Level": "7" })).toBeUndefined()
    expect(check({ level: "7" }, { "Mcp-Param-Level": "007" })?.message).toMatch(/does not match/)
  })

  it("follows nested properties, and reads only the arguments' own keys", () => {
    const nested = {
      type: "object",
      properties: {
        location: { type: "object", properties: { region: { type: "string", "x-mcp-header": "Region" } } },
        constructor: { type: "string", "x-mcp-header": "Ctor" }
      }
    }
    expect(checkParamHeaders(nested, { location: { region: "eu" } }, headers({ "Mcp-Param-Region": "eu" })))
      .toBeUndefined()
    expect(checkParamHeaders(nested, { location: { region: "eu" } }, headers({}))?.message).toMatch(
      /^Mcp-Param-Region header is missing: it must mirror the body's arguments.location.region "eu"$/
    )
    expect(checkParamHeaders(nested, { location: null }, headers({}))).toBeUndefined()
    expect(checkParamHeaders(nested, {}, headers({}))).toBeUndefined()
    expect(checkParamHeaders(nested, {}, headers({ "Mcp-Param-Ctor": "x" }))?.message).toBe(
      "Mcp-Param-Ctor header is present but the body's arguments.constructor is absent"
    )
  })

  it("checks nothing for a schema without annotations", () => {
    expect(checkParamHeaders({ type: "object" }, { a: 1 }, headers({}))).toBeUndefined()
    expect(checkParamHeaders({}, undefined, headers({}))).toBeUndefined()
  })
})

describe("paramHeaderBindings", () => {
  it("lists the annotations on the properties chain, breadth-first, with their paths", () => {
    const schema = {
      type: "object",
      properties: {
        a: { type: "object", properties: { b: { type: "string", "x-mcp-header": "B" } } },
        c: { type: "integer", "x-mcp-header": "C" },
        d: { type: "array", items: { type: "string", "x-mcp-header": "D" } }
      }
    }
    expect(paramHeaderBindings(schema)).toEqual([{ name: "C", path: ["c"] }, { name: "B", path: ["a", "b"] }])
    expect(paramHeaderBindings(undefined)).toEqual([])
  })
})

describe("xMcpHeaderProblem", () => {
  const withProperty = (property: Record<string, unknown>) => ({ type: "object", properties: { p: property } })

  it("accepts valid annotations, and a schema without any", () => {
    expect(
      xMcpHeaderProblem({
        type: "object",
        properties: {
          region: { type: "string", "x-mcp-header": "Region" },
          level: { type: "integer", "x-mcp-header": "X-Level_2.v~1" },
          flag: { type: "boolean", "x-mcp-header": "!#$%&'*+-.^_`|~" },
          location: { type: "object", properties: { zone: { type: "string", "x-mcp-header": "Zone" } } }
        },
        required: ["region"]
      })
    ).toBeUndefined()
    expect(xMcpHeaderProblem({ type: "object" })).toBeUndefined()
    expect(xMcpHeaderProblem({ type: "object", properties: { a: true, b: { type: "string" } } })).toBeUndefined()
    expect(xMcpHeaderProblem(undefined)).toBeUndefined()
  })

  it("does not take a property named x-mcp-header, or data, for an annotation", () => {
    expect(xMcpHeaderProblem({ type: "object", properties: { "x-mcp-header": { type: "object" } } })).toBeUndefined()
    expect(xMcpHeaderProblem(withProperty({ type: "object", default: { "x-mcp-header": 1 } }))).toBeUndefined()
    expect(xMcpHeaderProblem(withProperty({ type: "string", examples: [{ "x-mcp-header": "" }] }))).toBeUndefined()
  })

  it("refuses an empty name, or one that is not a string", () => {
    expect(xMcpHeaderProblem(withProperty({ type: "string", "x-mcp-header": "" }))).toBe(
      "x-mcp-header at /properties/p must be a non-empty string"
    )
    expect(xMcpHeaderProblem(withProperty({ type: "string", "x-mcp-header": 5 }))).toMatch(/must be a non-empty string/)
    expect(xMcpHeaderProblem(withProperty({ type: "string", "x-mcp-header": null }))).toMatch(/non-empty string/)
  })

  it("refuses a name that is not an RFC 9110 token", () => {
    for (const name of ["Re gion", "Région", "a:b", "a/b", "a\r\nX-Injected: 1", "(x)", "a\"b", "a@b", " x"]) {
      expect(xMcpHeaderProblem(withProperty({ type: "string", "x-mcp-header": name })), name).toMatch(
        /is not an HTTP token/
      )
    }
  })

  it("refuses a name used twice, ignoring case", () => {
    expect(
      xMcpHeaderProblem({
        type: "object",
        properties: {
          a: { type: "string", "x-mcp-header": "Region" },
          b: { type: "string", "x-mcp-header": "REGION" }
        }
      })
    ).toBe(
      "x-mcp-header at /properties/b, \"REGION\", repeats the name at /properties/a (names are case-insensitive)"
    )
  })

  it("refuses an annotation on a property that is not a string, an integer or a boolean", () => {
    expect(xMcpHeaderProblem(withProperty({ type: "number", "x-mcp-header": "N" }))).toBe(
      "x-mcp-header at /properties/p is on a property whose type is \"number\"; only \"string\", \"integer\" and \"boolean\" can be mirrored"
    )
    expect(xMcpHeaderProblem(withProperty({ type: "object", "x-mcp-header": "N" }))).toMatch(/type is "object"/)
    expect(xMcpHeaderProblem(withProperty({ type: "array", "x-mcp-header": "N" }))).toMatch(/type is "array"/)
    expect(xMcpHeaderProblem(withProperty({ type: "null", "x-mcp-header": "N" }))).toMatch(/type is "null"/)
    expect(xMcpHeaderProblem(withProperty({ "x-mcp-header": "N" }))).toMatch(/type is not given/)
    expect(xMcpHeaderProblem(withProperty({ type: ["string", "null"], "x-mcp-header": "N" }))).toMatch(
      /type is not one type name/
    )
  })

  it("refuses an annotation off the properties chain", () => {
    const offChain: Array<[Record<string, unknown>, string]> = [
      [{ type: "object", "x-mcp-header": "Root" }, "the root"],
      [{ type: "array", items: { type: "string", "x-mcp-header": "X" } }, "/items"],
      [{ prefixItems: [{ type: "string", "x-mcp-header": "X" }] }, "/prefixItems/0"],
      [{ anyOf: [{ type: "object" }, { type: "string", "x-mcp-header": "X" }] }, "/anyOf/1"],
      [{ oneOf: [{ type: "string", "x-mcp-header": "X" }] }, "/oneOf/0"],
      [{ allOf: [{ properties: { a: { type: "string", "x-mcp-header": "X" } } }] }, "/allOf/0/properties/a"],
      [{ not: { type: "string", "x-mcp-header": "X" } }, "/not"],
      [{ if: { type: "string", "x-mcp-header": "X" } }, "/if"],
      [{ then: { type: "string", "x-mcp-header": "X" } }, "/then"],
      [{ else: { type: "string", "x-mcp-header": "X" } }, "/else"],
      [{ $defs: { Region: { type: "string", "x-mcp-header": "X" } } }, "/$defs/Region"],
      [{ definitions: { "a/b~c": { type: "string", "x-mcp-header": "X" } } }, "/definitions/a~1b~0c"],
      [{ additionalProperties: { type: "string", "x-mcp-header": "X" } }, "/additionalProperties"],
      [{ patternProperties: { "^r": { type: "string", "x-mcp-header": "X" } } }, "/patternProperties/^r"],
      [{ dependentSchemas: { a: { type: "string", "x-mcp-header": "X" } } }, "/dependentSchemas/a"],
      [
        {
          properties: { list: { type: "array", items: { properties: { r: { type: "string", "x-mcp-header": "X" } } } } }
        },
        "/properties/list/items/properties/r"
      ]
    ]
    for (const [schema, at] of offChain) {
      expect(xMcpHeaderProblem(schema), at).toBe(
        `x-mcp-header at ${at} is not on a property reached from the root through "properties" alone (not items, composition, conditionals or definitions)`
      )
    }
  })

  it("accepts a chain of properties 64 deep, and refuses one deeper", () => {
    const nest = (depth: number): Record<string, unknown> => {
      let schema: Record<string, unknown> = { type: "string", "x-mcp-header": "Deep" }
      for (let i = 1; i < depth; i++) schema = { type: "object", properties: { a: schema } }
      return { type: "object", properties: { a: schema } }
    }
    expect(xMcpHeaderProblem(nest(64))).toBeUndefined()
    expect(paramHeaderBindings(nest(64))).toEqual([{ name: "Deep", path: Array(64).fill("a") }])
    expect(xMcpHeaderProblem(nest(65))).toMatch(/is nested more than 64 properties deep$/)
    expect(paramHeaderBindings(nest(65))).toEqual([])
  })

  it("quotes at most about 100 characters of a long name or location", () => {
    const long = "p".repeat(10_000)
    const problem = xMcpHeaderProblem({
      properties: { [long]: { type: "string", "x-mcp-header": "a b".repeat(5_000) } }
    })
    expect(problem?.length).toBeLessThan(400)
  })

  it("stops walking a schema built in code with a cycle", () => {
    const cyclic: Record<string, unknown> = { type: "object" }
    cyclic.properties = { self: cyclic, other: cyclic }
    expect(xMcpHeaderProblem(cyclic)).toBe("the input schema has more than 100000 subschemas to check")
    expect(paramHeaderBindings(cyclic)).toEqual([])
  })
})

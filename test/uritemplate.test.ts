import { UriTemplate } from "mcp-effect"
import { describe, expect, it } from "vitest"

describe("UriTemplate", () => {
  it("matches level 1 and the common operators", () => {
    expect(UriTemplate.parse("greeting://{name}").match("greeting://Ada%20L")).toEqual({ name: "Ada L" })
    expect(UriTemplate.parse("greeting://{name}").match("greeting://a/b")).toBeUndefined()
    expect(UriTemplate.parse("file://{+path}").match("file://a/b/c")).toEqual({ path: "a/b/c" })
    expect(UriTemplate.parse("repo://{owner}{/name,branch}").match("repo://o/n/main")).toEqual({
      owner: "o",
      name: "n",
      branch: "main"
    })
    expect(UriTemplate.parse("search://items{?q,limit}").match("search://items?limit=3&q=a%20b")).toEqual({
      q: "a b",
      limit: "3"
    })
    expect(UriTemplate.parse("search://items{?q}").match("search://items")).toEqual({})
    expect(UriTemplate.parse("doc://{id}{#section}").match("doc://7#intro")).toEqual({ id: "7", section: "intro" })
    expect(UriTemplate.parse("img://{name}{.ext}").match("img://cat.png")).toEqual({ name: "cat", ext: "png" })
  })

  it("expands variables", () => {
    const t = UriTemplate.parse("users://{id}/posts{?limit,page}")
    expect(t.expand({ id: "a b", limit: "5" })).toBe("users://a%20b/posts?limit=5")
    expect(UriTemplate.parse("file://{+path}").expand({ path: "a/b c" })).toBe("file://a/b%20c")
    expect(t.variables).toEqual(["id", "limit", "page"])
  })

  it("round-trips expand and match", () => {
    const t = UriTemplate.parse("x://{a}/{b}{?c}")
    const values = { a: "1 2", b: "é/?", c: "&=" }
    expect(t.match(t.expand(values))).toEqual(values)
  })

  it("refuses malformed templates", () => {
    expect(() => UriTemplate.parse("x://{a")).toThrow(/Unclosed/)
    expect(() => UriTemplate.parse("x://{a b}")).toThrow(/Invalid variable/)
    expect(() => UriTemplate.parse("x://{}")).toThrow(/Empty expression/)
    expect(() => UriTemplate.parse("x://{a}/{a*}")).toThrow(/Variable "a" appears more than once/)
    expect(() => UriTemplate.parse("x://a}")).toThrow(/Unmatched "}"/)
  })

  it("takes any brace for template syntax, since a URI cannot hold one", () => {
    expect(UriTemplate.isTemplate("x://{a}")).toBe(true)
    expect(UriTemplate.isTemplate("x://{a")).toBe(true)
    expect(UriTemplate.isTemplate("x://a}")).toBe(true)
    expect(UriTemplate.isTemplate("x://a")).toBe(false)
  })
})

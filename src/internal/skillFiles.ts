/**
 * A client's check of a skill file against the skill's entry: its size and
 * digest as listed, and for `SKILL.md` its frontmatter, field by field. A
 * file that fails is not to be used: the server changed it (or something on
 * the way did) since it listed the skill.
 */
import { Effect, Either, Encoding } from "effect"
import { SkillVerificationError } from "../McpError.js"
import type * as McpSchema from "../McpSchema.js"
import { isRecord } from "./guards.js"
import { parseFrontmatter } from "./skills.js"

const utf8 = new TextEncoder()

const bytesOf = (contents: McpSchema.ResourceContents): Uint8Array | undefined => {
  if ("text" in contents) return utf8.encode(contents.text)
  return Either.getOrUndefined(Encoding.decodeBase64(contents.blob))
}

/** Whether two JSON values are equal, object keys in any order. */
const sameJson = (a: unknown, b: unknown): boolean => {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
  if (isRecord(a)) {
    if (!isRecord(b) || Array.isArray(b)) return false
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]))
  }
  return Object.is(a, b)
}

/** The file `uri` of `skill`, as read, checked against the skill's entry. */
export const verify = (
  skill: McpSchema.SkillEntry,
  uri: string,
  result: McpSchema.ReadResourceResult
): Effect.Effect<McpSchema.ReadResourceResult, SkillVerificationError> =>
  Effect.gen(function*() {
    const fail = (reason: string) => new SkillVerificationError({ uri, reason })
    const contents = result.contents.find((c) => c.uri === uri) ?? result.contents[0]
    const bytes = contents === undefined ? undefined : bytesOf(contents)
    if (contents === undefined || bytes === undefined) return yield* fail("the server returned no readable contents")
    if (skill.resources !== "dynamic") {
      const listed = skill.resources.find((file) => file.uri === uri)
      if (listed === undefined) return yield* fail("the skill's manifest does not list it")
      if (bytes.byteLength !== listed.size) {
        return yield* fail(`it has ${bytes.byteLength} bytes, the manifest says ${listed.size}`)
      }
      const digest = new Uint8Array(yield* Effect.promise(() => crypto.subtle.digest("SHA-256", bytes)))
      const actual = `sha256:${Encoding.encodeHex(digest)}`
      if (actual !== listed.digest) return yield* fail(`its digest is ${actual}, the manifest says ${listed.digest}`)
    }
    if (uri === skill.uri) {
      if (!("text" in contents)) return yield* fail("SKILL.md is not text")
      const frontmatter = yield* Effect.mapError(parseFrontmatter(contents.text, uri), (e) => fail(e.message))
      const differs = [...new Set([...Object.keys(frontmatter), ...Object.keys(skill.frontmatter)])]
        .filter((key) => !sameJson(frontmatter[key], skill.frontmatter[key]))
      if (differs.length > 0) return yield* fail(`its frontmatter differs from the listing in ${differs.join(", ")}`)
    }
    return result
  })

/**
 * How a mounted server's names and URIs appear in its parent: tools and
 * prompts as `prefix_name`; resource URIs and templates with the prefix as
 * the first path segment after the scheme (`scheme://prefix/rest`, or
 * `scheme:prefix/rest` for a URI without an authority). Each rule has an
 * inverse, so that a lookup in the parent strips the prefix and asks the
 * mounted server by its own name.
 */
import { Either } from "effect"
import { DefinitionError } from "../McpError.js"

const PREFIX = /^[A-Za-z0-9_.-]{1,64}$/

/** A prefix is a tool-name fragment, so that prefixed names stay valid tool names and URI path segments. */
export const validatePrefix = (prefix: string): Either.Either<string, DefinitionError> =>
  PREFIX.test(prefix)
    ? Either.right(prefix)
    : Either.left(
      new DefinitionError({
        message: `Invalid mount prefix ${
          JSON.stringify(prefix)
        }: a prefix must be 1 to 64 characters from A-Z, a-z, 0-9, "_", "-" and "."`
      })
    )

export const prefixName = (prefix: string, name: string): string => `${prefix}_${name}`

/** The mounted server's own name for `name`, or `undefined` when `name` is not under `prefix`. */
export const unprefixName = (prefix: string, name: string): string | undefined =>
  name.length > prefix.length + 1 && name.startsWith(prefix) && name.charCodeAt(prefix.length) === 95 /* _ */
    ? name.slice(prefix.length + 1)
    : undefined

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:(\/\/)?/

/** Where the prefix goes: after `scheme://` or `scheme:`; at the start of a URI (or template) with no literal scheme. */
const insertionPoint = (uri: string): number => SCHEME.exec(uri)?.[0].length ?? 0

export const prefixUri = (prefix: string, uri: string): string => {
  const at = insertionPoint(uri)
  return `${uri.slice(0, at)}${prefix}/${uri.slice(at)}`
}

/** The mounted server's own URI (or template) for `uri`, or `undefined` when `uri` is not under `prefix`. */
export const unprefixUri = (prefix: string, uri: string): string | undefined => {
  const at = insertionPoint(uri)
  return uri.startsWith(prefix, at) && uri.charCodeAt(at + prefix.length) === 47 /* / */
    ? uri.slice(0, at) + uri.slice(at + prefix.length + 1)
    : undefined
}

/**
 * RFC 6570 URI templates for resource templates: level 1 (`{x}`) and the
 * common operators `{+x}`, `{#x}`, `{/x}`, `{.x}`, `{;x}`, `{?q,r}` and
 * `{&q}`. A template is compiled once into a matcher that extracts the
 * variables of a concrete URI, and can expand variables back into a URI.
 *
 * @example
 * ```ts
 * import { UriTemplate } from "mcp-effect"
 *
 * const template = UriTemplate.parse("users://{id}/posts{?limit}")
 * template.match("users://42/posts?limit=5") // { id: "42", limit: "5" }
 * template.expand({ id: "7" })               // "users://7/posts"
 * ```
 *
 * @since 0.1.0
 */

type Operator = "" | "+" | "#" | "/" | "." | ";" | "?" | "&"

interface Expression {
  readonly operator: Operator
  readonly names: ReadonlyArray<string>
}

type Part = string | Expression

/**
 * A compiled template.
 *
 * @since 0.1.0
 * @category models
 */
export interface UriTemplate {
  readonly template: string
  /** The variable names, in order of appearance. */
  readonly variables: ReadonlyArray<string>
  /** The variables of `uri`, or `undefined` when it does not match. Absent query variables are left out. */
  readonly match: (uri: string) => Record<string, string> | undefined
  readonly expand: (variables: Readonly<Record<string, string | undefined>>) => string
}

type TrimOperator<S extends string> = S extends `${"+" | "#" | "/" | "." | ";" | "?" | "&"}${infer Rest}` ? Rest : S
type TrimModifier<S extends string> = S extends `${infer Name}*` ? Name : S extends `${infer Name}:${string}` ? Name : S
type SplitNames<S extends string> = S extends `${infer Head},${infer Tail}` ? TrimModifier<Head> | SplitNames<Tail>
  : TrimModifier<S>
type IsQuery<S extends string> = S extends `${"?" | "&"}${string}` ? true : false

/**
 * The variables a template string names, as a type: `"a://{x}{?q}"` gives `{ x: string; q?: string }`.
 *
 * @since 0.1.0
 * @category models
 */
export type Variables<T extends string> = string extends T ? Record<string, string | undefined>
  : Simplify<
    & { readonly [K in RequiredNames<T>]: string }
    & { readonly [K in OptionalNames<T>]?: string | undefined }
  >

type Simplify<A> = { [K in keyof A]: A[K] } & {}

type RequiredNames<T extends string> = T extends `${string}{${infer Expr}}${infer Rest}`
  ? (IsQuery<Expr> extends true ? never : SplitNames<TrimOperator<Expr>>) | RequiredNames<Rest>
  : never

type OptionalNames<T extends string> = T extends `${string}{${infer Expr}}${infer Rest}`
  ? (IsQuery<Expr> extends true ? SplitNames<TrimOperator<Expr>> : never) | OptionalNames<Rest>
  : never

const OPERATORS = new Set(["+", "#", "/", ".", ";", "?", "&"])

const isOperator = (c: string): c is Exclude<Operator, ""> => OPERATORS.has(c)

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

const malformed = (problem: string, template: string) =>
  new Error(`${problem} in URI template ${JSON.stringify(template)}`)

/** A literal part: it may hold no `}`, since a template's braces come in pairs. */
const literal = (text: string, template: string): string => {
  if (text.includes("}")) throw malformed(`Unmatched "}"`, template)
  return text
}

const parseParts = (template: string): Array<Part> => {
  const parts: Array<Part> = []
  const seen = new Set<string>()
  let i = 0
  while (i < template.length) {
    const open = template.indexOf("{", i)
    if (open === -1) {
      parts.push(literal(template.slice(i), template))
      break
    }
    const close = template.indexOf("}", open)
    const nextOpen = template.indexOf("{", open + 1)
    if (close === -1 || (nextOpen !== -1 && nextOpen < close)) {
      throw malformed(`Unclosed expression (a "{" without its "}") at position ${open}`, template)
    }
    if (open > i) parts.push(literal(template.slice(i, open), template))
    const body = template.slice(open + 1, close)
    const first = body.charAt(0)
    const operator: Operator = isOperator(first) ? first : ""
    const list = operator === "" ? body : body.slice(1)
    if (list === "") throw malformed(`Empty expression "{${body}}"`, template)
    const names = list.split(",").map((name) => name.replace(/\*$/, "").replace(/:\d+$/, ""))
    for (const name of names) {
      if (!/^[A-Za-z0-9_.%]+$/.test(name)) throw malformed(`Invalid variable name ${JSON.stringify(name)}`, template)
      // One name, one value: a repeated variable would have to match the same text twice.
      if (seen.has(name)) throw malformed(`Variable ${JSON.stringify(name)} appears more than once`, template)
      seen.add(name)
    }
    parts.push({ operator, names })
    i = close + 1
  }
  return parts
}

/** One regular expression per template; query expressions capture the raw query string. */
const compile = (parts: ReadonlyArray<Part>) => {
  let source = "^"
  const groups: Array<
    { readonly kind: "single"; readonly name: string; readonly reserved: boolean } | {
      readonly kind: "query"
      readonly names: ReadonlyArray<string>
    }
  > = []
  for (const part of parts) {
    if (typeof part === "string") {
      source += escapeRegExp(part)
      continue
    }
    switch (part.operator) {
      case "?":
      case "&": {
        source += `(?:[?&]([^#]*))?`
        groups.push({ kind: "query", names: part.names })
        break
      }
      default: {
        const [prefix, chars, reserved] = part.operator === "+"
          ? ["", "[^?#]", true]
          : part.operator === "#"
          ? ["#", ".", true]
          : part.operator === "/"
          ? ["/", "[^/?#]", false]
          : part.operator === "."
          ? ["\\.", "[^/?#.]", false]
          : part.operator === ";"
          ? [";", "[^/?#;]", false]
          : ["", "[^/?#]", false]
        part.names.forEach((name, index) => {
          const separator = index === 0 ? prefix : part.operator === "" || part.operator === "+" ? "," : prefix
          const value = part.operator === ";" ? `${escapeRegExp(name)}=?(${chars}*)` : `(${chars}+?)`
          source += index === 0 && part.operator !== "/" ? `${separator}${value}` : `(?:${separator}${value})?`
          groups.push({ kind: "single", name, reserved })
        })
      }
    }
  }
  return { regex: new RegExp(source + "$"), groups }
}

const decode = (value: string) => {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

const encodeReserved = (value: string) => encodeURI(value).replace(/%25([0-9A-Fa-f]{2})/g, "%$1")

/**
 * Compiles a template. Throws on a malformed template (an unclosed `{`, an
 * unmatched `}`, an empty expression, a bad or repeated variable name), with
 * a message naming the problem and the template; `Resource.make` turns that
 * into a `DefinitionError`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parse = (template: string): UriTemplate => {
  const parts = parseParts(template)
  const { groups, regex } = compile(parts)
  const variables = parts.flatMap((part) => (typeof part === "string" ? [] : part.names))
  return {
    template,
    variables,
    match: (uri) => {
      const m = regex.exec(uri)
      if (m === null) return undefined
      const result: Record<string, string> = {}
      groups.forEach((group, index) => {
        const raw = m[index + 1]
        if (raw === undefined) return
        if (group.kind === "single") {
          result[group.name] = group.reserved ? raw : decode(raw)
          return
        }
        const query = new URLSearchParams(raw)
        for (const name of group.names) {
          const value = query.get(name)
          if (value !== null) result[name] = value
        }
      })
      return result
    },
    expand: (values) =>
      parts.map((part) => {
        if (typeof part === "string") return part
        const present = part.names.filter((name) => values[name] !== undefined)
        if (present.length === 0) return ""
        const encoded = present.map((name) => {
          const value = values[name] ?? ""
          return part.operator === "+" || part.operator === "#" ? encodeReserved(value) : encodeURIComponent(value)
        })
        switch (part.operator) {
          case "":
            return encoded.join(",")
          case "+":
            return encoded.join(",")
          case "#":
            return "#" + encoded.join(",")
          case "/":
          case ".":
            return part.operator + encoded.join(part.operator)
          case ";":
            return present.map((name, i) => `;${name}=${encoded[i]}`).join("")
          case "?":
          case "&":
            return part.operator + present.map((name, i) => `${name}=${encoded[i]}`).join("&")
        }
      }).join("")
  }
}

/**
 * Whether a URI string is meant as a template: it has a brace, which a URI
 * cannot hold (RFC 3986). `parse` then compiles it, or refuses it when it is
 * malformed, rather than it passing for a static URI.
 *
 * @since 0.1.0
 * @category combinators
 */
export const isTemplate = (uri: string): boolean => uri.includes("{") || uri.includes("}")

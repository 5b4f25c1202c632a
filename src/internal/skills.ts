/**
 * Skills (SEP-2640): a skill as defined (in code, or read from a folder),
 * checked and turned into what the server serves: its files as resources
 * under `skill://`, and its `skills/list` entry with a digest and size for
 * every file. Digests are computed once, at registration.
 */
import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Encoding } from "effect"
import { parse as parseYaml, stringify as stringifyYaml } from "yaml"
import { DefinitionError } from "../McpError.js"
import type * as McpSchema from "../McpSchema.js"
import type * as Skill from "../Skill.js"
import { isRecord } from "./guards.js"

export const EXTENSION = "io.modelcontextprotocol/skills"

/** The mime type of a directory in `resources/directory/read`. */
export const DIRECTORY = "inode/directory"

const SCHEME = "skill://"
const ENTRY = "SKILL.md"
/** Agent Skills naming: lowercase letters, digits and single hyphens, neither first nor last. */
const NAME = /^(?!.*--)[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/
/** What the extension says a skill should not exceed (SHOULD NOT: a warning, not a refusal). */
const MAX_FILES = 512
const MAX_BYTES = 16 * 1024 * 1024

/** A skill's entry in `skills/list` and `skills/get`. */
export interface Entry {
  readonly uri: string
  readonly frontmatter: Skill.Frontmatter
  readonly resources: ReadonlyArray<{ readonly uri: string; readonly digest: string; readonly size: number }>
}

/** One file as served: its listing and its contents. */
export interface Served {
  readonly listing: McpSchema.Resource
  readonly contents: McpSchema.ResourceContents
}

/** A skill checked and ready to serve. */
export interface Loaded {
  readonly entry: Entry
  /** The `SKILL.md` resource, as `resources/list` shows it. */
  readonly definition: McpSchema.Resource
  readonly files: ReadonlyMap<string, Served>
}

// ---------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------

const fileOf = (path: string, content: string | Uint8Array | Skill.File): Skill.File =>
  typeof content === "string" || content instanceof Uint8Array ? { path, content } : { ...content, path }

export const make = (name: string, options: Skill.Options): Skill.Skill => {
  const { description: _, name: __, ...extra } = options.frontmatter ?? {}
  const frontmatter: Skill.Frontmatter = { name, description: options.description, ...extra }
  const text = `---\n${stringifyYaml(frontmatter)}---\n\n${options.instructions}`
  return {
    _tag: "Skill",
    path: options.under === undefined ? name : `${trimSlashes(options.under)}/${name}`,
    frontmatter,
    files: [
      { path: ENTRY, content: text, mimeType: "text/markdown" },
      ...Object.entries(options.files ?? {}).map(([path, content]) => fileOf(path, content))
    ]
  }
}

const trimSlashes = (path: string) => path.replace(/^\/+|\/+$/g, "")

const FRONTMATTER = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/

/** The frontmatter of a `SKILL.md`, parsed; `where` names the file in the error. */
export const parseFrontmatter = (text: string, where: string): Effect.Effect<Skill.Frontmatter, DefinitionError> =>
  Effect.suspend(() => {
    const block = FRONTMATTER.exec(text)
    if (block === null) return Effect.fail(invalid(where, "it does not start with a --- YAML frontmatter block ---"))
    return Effect.try({
      try: (): unknown => parseYaml(block[1]!),
      catch: (e) => invalid(where, `its frontmatter is not YAML (${e instanceof Error ? e.message : String(e)})`)
    }).pipe(Effect.flatMap((value) =>
      isRecord(value) && nonEmpty(value.name) && nonEmpty(value.description)
        ? Effect.succeed({ ...value, name: value.name, description: value.description })
        : Effect.fail(invalid(where, "its frontmatter must be a mapping with a non-empty name and description"))
    ))
  })

const nonEmpty = (value: unknown): value is string => typeof value === "string" && value.trim().length > 0

const invalid = (where: string, problem: string) =>
  new DefinitionError({ message: `Invalid skill ${where}: ${problem}` })

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

/** Checks a skill and computes what is served of it. */
export const load = (skill: Skill.Skill): Effect.Effect<Loaded, DefinitionError> =>
  Effect.gen(function*() {
    const { frontmatter } = skill
    const where = JSON.stringify(skill.path)
    const segments = yield* pathSegments(skill.path, where)
    const name = segments[segments.length - 1]!
    if (!NAME.test(frontmatter.name)) {
      return yield* invalid(
        where,
        `its name ${JSON.stringify(frontmatter.name)} must be 1 to 64 lowercase letters, digits and single hyphens, ` +
          "neither first nor last"
      )
    }
    if (name !== frontmatter.name) {
      return yield* invalid(where, `the last segment of its path must be its name ${JSON.stringify(frontmatter.name)}`)
    }
    if (!nonEmpty(frontmatter.description)) return yield* invalid(where, "its description must not be empty")
    const dir = SCHEME + segments.map(encodeURIComponent).join("/")
    const files = new Map<string, Served>()
    const manifest: Array<Entry["resources"][number]> = []
    let bytes = 0
    for (const file of skill.files) {
      const uri = `${dir}/${
        (yield* pathSegments(file.path, `${where} (file ${JSON.stringify(file.path)})`))
          .map(encodeURIComponent).join("/")
      }`
      if (files.has(uri)) return yield* invalid(where, `it has the file ${JSON.stringify(file.path)} twice`)
      const served = yield* serve(uri, file, frontmatter)
      files.set(uri, served)
      manifest.push({ uri, digest: served.digest, size: served.listing.size ?? 0 })
      bytes += served.listing.size ?? 0
    }
    const uri = `${dir}/${ENTRY}`
    const entryFile = files.get(uri)
    if (entryFile === undefined) return yield* invalid(where, `it has no ${ENTRY}`)
    if (files.size > MAX_FILES || bytes > MAX_BYTES) {
      yield* Effect.logWarning(
        `Skill ${where} has ${files.size} files and ${bytes} bytes; clients may refuse a skill over ` +
          `${MAX_FILES} files or ${MAX_BYTES} bytes`
      )
    }
    return { entry: { uri, frontmatter, resources: manifest }, definition: entryFile.listing, files }
  })

/** A relative path's segments: none empty, none `.` or `..`, no backslash. */
const pathSegments = (path: string, where: string): Effect.Effect<ReadonlyArray<string>, DefinitionError> => {
  const segments = path.split("/")
  return segments.every((s) => s.length > 0 && s !== "." && s !== ".." && !s.includes("\\"))
    ? Effect.succeed(segments)
    : Effect.fail(invalid(where, `${JSON.stringify(path)} is not a relative path of plain segments`))
}

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/** Text when the bytes are UTF-8 without NUL; bytes otherwise. */
const asText = (content: string | Uint8Array): string | undefined => {
  if (typeof content === "string") return content
  try {
    const text = strictUtf8.decode(content)
    return text.includes("\u0000") ? undefined : text
  } catch {
    return undefined
  }
}

const serve = (uri: string, file: Skill.File, frontmatter: Skill.Frontmatter) =>
  Effect.map(
    Effect.promise(() => {
      const data = typeof file.content === "string" ? utf8.encode(file.content) : file.content
      return crypto.subtle.digest("SHA-256", data).then((digest) => ({ data, digest: new Uint8Array(digest) }))
    }),
    ({ data, digest }): Served & { readonly digest: string } => {
      const text = asText(file.content)
      const isEntry = file.path === ENTRY
      const mimeType = file.mimeType ?? (isEntry ? "text/markdown" : mimeTypeOf(file.path, text !== undefined))
      const name = isEntry ? frontmatter.name : file.path.slice(file.path.lastIndexOf("/") + 1)
      return {
        digest: `sha256:${Encoding.encodeHex(digest)}`,
        listing: {
          uri,
          name,
          ...(isEntry ? { description: frontmatter.description } : {}),
          mimeType,
          size: data.byteLength
        },
        contents: text !== undefined ? { uri, mimeType, text } : { uri, mimeType, blob: Encoding.encodeBase64(data) }
      }
    }
  )

const MIME_TYPES: Readonly<Record<string, string>> = {
  md: "text/markdown",
  txt: "text/plain",
  json: "application/json",
  yaml: "application/yaml",
  yml: "application/yaml",
  toml: "application/toml",
  xml: "application/xml",
  html: "text/html",
  css: "text/css",
  csv: "text/csv",
  js: "text/javascript",
  mjs: "text/javascript",
  ts: "text/typescript",
  py: "text/x-python",
  sh: "application/x-sh",
  sql: "application/sql",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  pdf: "application/pdf",
  zip: "application/zip"
}

const mimeTypeOf = (path: string, text: boolean): string => {
  const dot = path.lastIndexOf(".")
  const extension = dot > path.lastIndexOf("/") ? path.slice(dot + 1).toLowerCase() : ""
  if (Object.hasOwn(MIME_TYPES, extension)) return MIME_TYPES[extension]!
  return text ? "text/plain" : "application/octet-stream"
}

// ---------------------------------------------------------------------------
// Directories
// ---------------------------------------------------------------------------

/**
 * The direct children of the directory `uri` among `files` (sorted by URI):
 * files as they are listed, subdirectories as `inode/directory` entries;
 * `undefined` when no file lies under `uri`.
 */
export const directory = (
  uri: string,
  files: ReadonlyArray<McpSchema.Resource>
): ReadonlyArray<McpSchema.Resource> | undefined => {
  const base = uri.endsWith("/") ? uri : `${uri}/`
  const children: Array<McpSchema.Resource> = []
  const directories = new Set<string>()
  for (const file of files) {
    if (!file.uri.startsWith(base)) continue
    const rest = file.uri.slice(base.length)
    const slash = rest.indexOf("/")
    if (slash === -1) {
      children.push(file)
      continue
    }
    const child = base + rest.slice(0, slash)
    if (directories.has(child)) continue
    directories.add(child)
    children.push({ uri: child, name: decodeURIComponent(rest.slice(0, slash)), mimeType: DIRECTORY })
  }
  return children.length === 0 ? undefined : children.sort((a, b) => a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0)
}

// ---------------------------------------------------------------------------
// Folders
// ---------------------------------------------------------------------------

/** Folders this deep are not followed: a symbolic link that loops ends here. */
const MAX_DEPTH = 32

export const fromDirectory = (
  root: string,
  options?: Skill.DirectoryOptions
): Effect.Effect<ReadonlyArray<Skill.Skill>, DefinitionError | PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const under = options?.under === undefined ? [] : trimSlashes(options.under).split("/")
    const base = path.resolve(root)

    /** A folder's visible entries, sorted, split into files and folders. */
    const entries = Effect.fn("Skill.entries")(function*(dir: string) {
      const names = (yield* fs.readDirectory(dir)).filter((n) => !n.startsWith(".")).sort()
      const files: Array<string> = []
      const folders: Array<string> = []
      for (const name of names) {
        const info = yield* fs.stat(path.join(dir, name))
        if (info.type === "File") files.push(name)
        else if (info.type === "Directory") folders.push(name)
      }
      return { files, folders }
    })

    /** The files of a skill's folder, by relative path; nested skills' folders are theirs. */
    const filesOf = (dir: string, prefix: string, depth: number): Effect.Effect<Array<Skill.File>, PlatformError> =>
      Effect.gen(function*() {
        const { files, folders } = yield* entries(dir)
        if (depth > 0 && files.includes(ENTRY)) return []
        const own = yield* Effect.forEach(
          files,
          (name) =>
            Effect.map(fs.readFile(path.join(dir, name)), (content): Skill.File => ({ path: prefix + name, content }))
        )
        if (depth >= MAX_DEPTH) return own
        const nested = yield* Effect.forEach(
          folders,
          (name) => filesOf(path.join(dir, name), `${prefix}${name}/`, depth + 1)
        )
        return [...own, ...nested.flat()]
      })

    const scan = (
      dir: string,
      segments: ReadonlyArray<string>
    ): Effect.Effect<Array<Skill.Skill>, DefinitionError | PlatformError> =>
      Effect.gen(function*() {
        const { files, folders } = yield* entries(dir)
        const own: Array<Skill.Skill> = []
        if (files.includes(ENTRY)) {
          const where = path.join(dir, ENTRY)
          const text = yield* fs.readFileString(where)
          const frontmatter = yield* parseFrontmatter(text, where)
          own.push({
            _tag: "Skill",
            path: [...under, ...(segments.length === 0 ? [path.basename(dir)] : segments)].join("/"),
            frontmatter,
            // SKILL.md as text, exactly as its frontmatter was read.
            files: (yield* filesOf(dir, "", 0)).map((file) => file.path === ENTRY ? { ...file, content: text } : file)
          })
        }
        if (segments.length >= MAX_DEPTH) return own
        const nested = yield* Effect.forEach(folders, (name) => scan(path.join(dir, name), [...segments, name]))
        return [...own, ...nested.flat()]
      })

    return yield* scan(base, [])
  })

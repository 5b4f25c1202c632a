/**
 * Skills (`io.modelcontextprotocol/skills`, SEP-2640): folders of
 * instructions and files an agent loads when a task calls for them. Each
 * skill is a `SKILL.md` (YAML frontmatter with at least `name` and
 * `description`, then Markdown) and the files beside it, served as
 * resources under `skill://<skill path>/<file path>` and listed by
 * `skills/list` with a digest and size for every file.
 *
 * Define skills in code with {@link make}, or read a folder of them with
 * {@link fromDirectory}; serve them with `McpServer.skills`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { McpServer, Skill } from "mcp-effect"
 *
 * const Refunds = Skill.make("refunds", {
 *   description: "Issue a refund by the book: checks, limits and the customer letter",
 *   instructions: "# Refunds\n\nRead [the policy](references/policy.md) first.",
 *   files: { "references/policy.md": "Refunds above 500 EUR need a second approver." }
 * })
 *
 * export const ServerLive = McpServer.skills([Refunds]).pipe(
 *   Layer.provideMerge(McpServer.layer({ name: "support", version: "1.0.0" }))
 * )
 * ```
 *
 * @since 0.2.0
 */
import type { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import type { Effect } from "effect"
import * as internal from "./internal/skills.js"
import type { DefinitionError } from "./McpError.js"

/**
 * A skill's frontmatter: `name` and `description`, and whatever else the
 * author wrote (`license`, `metadata`, `allowed-tools`…), kept verbatim.
 *
 * @since 0.2.0
 * @category models
 */
export interface Frontmatter {
  readonly name: string
  readonly description: string
  readonly [key: string]: unknown
}

/**
 * One file of a skill, by its path inside the skill's folder (`SKILL.md`,
 * `references/policy.md`). Text is served as text, bytes as a blob.
 *
 * @since 0.2.0
 * @category models
 */
export interface File {
  readonly path: string
  readonly content: string | Uint8Array
  /** Default: guessed from the file's extension. */
  readonly mimeType?: string
}

/**
 * A skill as defined, before the server checks it and computes its
 * manifest: where it sits (`path`, whose last segment is its name), its
 * frontmatter, and its files, `SKILL.md` among them.
 *
 * @since 0.2.0
 * @category models
 */
export interface Skill {
  readonly _tag: "Skill"
  /** The skill path: `refunds`, or `acme/billing/refunds` under a prefix. Its last segment is the name. */
  readonly path: string
  readonly frontmatter: Frontmatter
  readonly files: ReadonlyArray<File>
}

/**
 * Options of {@link make}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  readonly description: string
  /** The Markdown body of `SKILL.md`, after its frontmatter. */
  readonly instructions: string
  /** The other files of the skill, by path inside its folder. */
  readonly files?: Readonly<Record<string, string | Uint8Array | File>>
  /** More frontmatter: `license`, `compatibility`, `metadata`, `allowed-tools`… */
  readonly frontmatter?: Readonly<Record<string, unknown>>
  /** Path segments before the skill's name: `acme/billing` serves `skill://acme/billing/<name>/SKILL.md`. */
  readonly under?: string
}

/**
 * A skill defined in code: its `SKILL.md` is written from `name`,
 * `description`, the extra frontmatter and `instructions`. The name must
 * follow Agent Skills naming (lowercase letters, digits and single
 * hyphens, at most 64 characters); the server checks it when it registers
 * the skill.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: (name: string, options: Options) => Skill = internal.make

/**
 * Options of {@link fromDirectory}.
 *
 * @since 0.2.0
 * @category models
 */
export interface DirectoryOptions {
  /** Path segments before every skill's own path, as in {@link Options.under}. */
  readonly under?: string
}

/**
 * Reads the skills in a folder: every folder under `root` (or `root`
 * itself) holding a `SKILL.md` is a skill, whose path is its folder's path
 * below `root` and whose files are everything in it, except hidden files
 * and the folders of nested skills. Files are read once, here; serve a
 * changed folder by reading it again.
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromDirectory: (
  root: string,
  options?: DirectoryOptions
) => Effect.Effect<ReadonlyArray<Skill>, DefinitionError | PlatformError, FileSystem.FileSystem | Path.Path> =
  internal.fromDirectory

/**
 * The extension's id, under which a server that serves skills declares it
 * in `capabilities.extensions`.
 *
 * @since 0.2.0
 * @category constants
 */
export const EXTENSION: "io.modelcontextprotocol/skills" = internal.EXTENSION

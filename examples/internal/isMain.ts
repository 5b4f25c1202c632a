/**
 * Whether the module whose `import.meta.url` is given is the program's entry
 * point (the file `node` or `tsx` was asked to run), so that an example can
 * both run as a server and be imported (by the tests) for its layer.
 *
 * Compares real paths: Node runs the entry point from its real path, so
 * `import.meta.url` names the file behind a symlink (and percent-encodes a
 * space), while `process.argv[1]` is the path as typed.
 *
 * @example
 * ```ts
 * if (isMain(import.meta.url)) NodeStdio.run(ServerLive)
 * ```
 */
import { realpathSync } from "node:fs"
import { resolve } from "node:path"
import { fileURLToPath } from "node:url"

export const isMain = (moduleUrl: string): boolean => {
  const entry = process.argv[1]
  if (entry === undefined || !moduleUrl.startsWith("file:")) return false
  return realPath(fileURLToPath(moduleUrl)) === realPath(entry)
}

/** The real path of a file, or its absolute path when it cannot be resolved (say, named without its extension). */
const realPath = (path: string): string => {
  try {
    return realpathSync(path)
  } catch {
    return resolve(path)
  }
}

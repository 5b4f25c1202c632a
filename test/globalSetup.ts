/**
 * Builds the package once before the tests that run the built command line
 * (`node dist/cli/bin.js`), and only when a source is newer than the build.
 */
import { existsSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { BIN, build } from "./cliHelpers.js"

const newestSource = (folder: string): number =>
  Math.max(
    0,
    ...readdirSync(folder, { withFileTypes: true }).map((entry) => {
      const path = join(folder, entry.name)
      return entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs
    })
  )

export default async function setup() {
  if (!existsSync(BIN) || statSync(BIN).mtimeMs < newestSource("src")) await build()
}

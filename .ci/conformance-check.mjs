// Reads the conformance results and fails unless every scenario ran, each has a SUCCESS verdict, and no check is
// FAILURE, WARNING or SKIPPED. (INFO entries are the suite's wire trace, e.g. in server-sse-polling, not verdicts.)
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const pairs = process.argv.slice(2)
let bad = 0
for (let i = 0; i < pairs.length; i += 2) {
  const dir = pairs[i]
  const expected = Number(pairs[i + 1])
  const scenarios = readdirSync(dir).sort()
  console.log(`\n${dir}: ${scenarios.length} scenarios (expected ${expected})`)
  if (scenarios.length !== expected) bad++
  for (const scenario of scenarios) {
    const checks = JSON.parse(readFileSync(join(dir, scenario, "checks.json"), "utf8"))
    const name = scenario.replace(/^server-/, "").replace(/-\d{4}-\d\d-\d\dT.*$/, "")
    const verdicts = checks.filter((c) => c.status !== "INFO")
    const notOk = verdicts.filter((c) => c.status !== "SUCCESS")
    const ok = notOk.length === 0 && verdicts.length > 0
    console.log(`  ${ok ? "ok  " : "FAIL"} ${name}: ${verdicts.map((c) => `${c.id}=${c.status}`).join(", ")}`)
    if (!ok) bad++
  }
}
if (bad > 0) {
  console.error(`\nconformance: ${bad} problem(s)`)
  process.exit(1)
}
console.log("\nconformance: every verdict SUCCESS, no FAILURE or WARNING")

#!/usr/bin/env node
/**
 * The `mcp-effect` executable. Errors print as one line on stderr with exit
 * code 1; logs go to stderr, so stdout carries only protocol (`run`) or
 * results (the client commands).
 */
import { ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect } from "effect"
import { layerStderrLogger } from "../node/NodeStdio.js"
import { describe } from "./CliError.js"
import * as Commands from "./commands.js"

const self = process.argv[1] ?? "mcp-effect"

Commands.make(self)(process.argv).pipe(
  Effect.tapErrorCause((cause) => {
    if (Cause.isInterruptedOnly(cause)) return Effect.void
    const failure = Cause.failureOption(cause)
    // @effect/cli has printed its own validation errors, with the usage.
    if (failure._tag === "Some" && ValidationError.isValidationError(failure.value)) return Effect.void
    return Console.error(`mcp-effect: ${describe(Cause.squash(cause))}`)
  }),
  Effect.provide(NodeContext.layer),
  Effect.provide(layerStderrLogger),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)

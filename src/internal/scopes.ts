/**
 * OAuth scopes as the request core checks them: what a verified principal
 * holds against what a tool, resource or prompt declares. Shared by the core
 * (its JSON-RPC refusal, its list filtering) and the HTTP endpoint (its 403).
 */
import { ErrorCode, McpError } from "../McpError.js"
import type { AuthInfo } from "../Transport.js"

/** The scopes of `needed` that `auth` does not hold; empty when it holds them all. */
export const missingScopes = (auth: AuthInfo, needed: ReadonlyArray<string> | undefined): ReadonlyArray<string> => {
  if (needed === undefined || needed.length === 0) return []
  return needed.filter((scope) => !auth.scopes.includes(scope))
}

/**
 * The principals whose lists are not filtered by scope: their authorization
 * layer was set up with `filterLists: false`. A set of the `AuthInfo` values
 * rather than a field, so that the public `AuthInfo` stays what a verifier
 * returns.
 */
export const unfiltered = new WeakSet<AuthInfo>()

/** Whether `auth`'s lists show only what it may use. */
export const filtersLists = (auth: AuthInfo | undefined): auth is AuthInfo =>
  auth !== undefined && !unfiltered.has(auth)

/**
 * The JSON-RPC refusal of a request whose principal lacks scopes, where no
 * HTTP status can carry the step-up (a batch entry, a transport other than
 * Streamable HTTP); `data.scopes` names what to ask for.
 */
export const insufficientScope = (needed: ReadonlyArray<string>): McpError =>
  new McpError({
    code: ErrorCode.ServerError,
    message: `Insufficient scope: this request needs the scope${needed.length === 1 ? "" : "s"} ${needed.join(" ")}`,
    data: { error: "insufficient_scope", scopes: needed }
  })

/** DNS-rebinding protection shared by the Streamable HTTP and legacy SSE apps. */

export interface Options {
  /** On by default: only local hosts and origins are served. */
  readonly enabled?: boolean
  /** More hosts to serve, as `host` (any port) or `host:port`. */
  readonly allowedHosts?: ReadonlyArray<string>
  /** More origins to serve, as `scheme://host[:port]`. */
  readonly allowedOrigins?: ReadonlyArray<string>
}

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"])

/** The hostname of a `Host` header: `[::1]:3000` gives `[::1]`, `example.com:80` gives `example.com`. */
const hostnameOf = (host: string): string => {
  if (host.startsWith("[")) {
    const end = host.indexOf("]")
    return end === -1 ? host : host.slice(0, end + 1)
  }
  const colon = host.indexOf(":")
  return colon === -1 ? host : host.slice(0, colon)
}

const hostAllowed = (host: string, allowed: ReadonlyArray<string>) => {
  const hostname = hostnameOf(host).toLowerCase()
  return LOCAL_HOSTS.has(hostname) || allowed.some((entry) => {
    const lower = entry.toLowerCase()
    return lower === host.toLowerCase() || lower === hostname
  })
}

/**
 * Checks `Host` and `Origin`. Returns the reason to refuse the request with
 * 403, or `undefined` to serve it.
 */
export const check = (
  request: { header(name: string): string | undefined },
  options: Options | undefined
): string | undefined => {
  if (options?.enabled === false) return undefined
  const allowedHosts = options?.allowedHosts ?? []
  const host = request.header("host")
  if (host === undefined || !hostAllowed(host, allowedHosts)) {
    return `Host ${JSON.stringify(host ?? "")} is not allowed (DNS-rebinding protection)`
  }
  const origin = request.header("origin")
  if (origin === undefined) return undefined
  if (options?.allowedOrigins?.some((o) => o.toLowerCase() === origin.toLowerCase())) return undefined
  let originHost: string
  try {
    originHost = new URL(origin).host
  } catch {
    return `Origin ${JSON.stringify(origin)} is not a valid origin`
  }
  return hostAllowed(originHost, allowedHosts)
    ? undefined
    : `Origin ${JSON.stringify(origin)} is not allowed (DNS-rebinding protection)`
}

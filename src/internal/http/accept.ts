/**
 * Reading the headers that choose a response's form: `Accept` and
 * `Content-Type`.
 */

export interface AcceptInfo {
  readonly json: boolean
  readonly sse: boolean
  /** SSE ranked above JSON, by q-value and then order: `text/event-stream, application/json` asks for SSE first. */
  readonly prefersSse: boolean
}

const parseAccept = (header: string): AcceptInfo => {
  const ranks = header.split(",").map((part, index) => {
    const [type, ...params] = part.split(";").map((p) => p.trim().toLowerCase())
    const q = params.find((p) => p.startsWith("q="))
    return { type, q: q === undefined ? 1 : Number(q.slice(2)), index }
  })
  const wildcard = ranks.some((r) => r.type === "*/*")
  const sse = ranks.find((r) => r.type === "text/event-stream")
  const json = ranks.find((r) => r.type === "application/json")
  return {
    json: wildcard || json !== undefined,
    sse: wildcard || sse !== undefined,
    prefersSse: sse !== undefined &&
      (json === undefined || (sse.q !== json.q ? sse.q > json.q : sse.index < json.index))
  }
}

/** Clients send the same few Accept headers over and over: each is parsed once. */
const acceptCache = new Map<string, AcceptInfo>()

export const acceptOf = (header: string | undefined): AcceptInfo => {
  const key = header ?? ""
  let info = acceptCache.get(key)
  if (info === undefined) {
    info = parseAccept(key)
    if (acceptCache.size >= 64) acceptCache.clear()
    acceptCache.set(key, info)
  }
  return info
}

/** Whether a `Content-Type` names JSON: its media type, parameters (`; charset=utf-8`) aside, exactly. */
export const isJson = (contentType: string | undefined): boolean => {
  if (contentType === undefined) return false
  const end = contentType.indexOf(";")
  return (end === -1 ? contentType : contentType.slice(0, end)).trim().toLowerCase() === "application/json"
}

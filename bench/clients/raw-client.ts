/**
 * The client benchmark's floor: a hand-written client with no validation, JSON lines over the spawned server's
 * stdio, or `fetch` with the session's headers over HTTP (the transport the SDK's and our HTTP clients use too) or,
 * with `--diagnose`, node:http.
 */
import { spawn } from "node:child_process"
import { Agent, request } from "node:http"
import { check, config, fail, loop, serve, TEXT } from "./harness.js"

const initialize = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "initialize",
  params: { protocolVersion: config.protocolVersion, capabilities: {}, clientInfo: { name: "raw", version: "1" } }
})
const initialized = { jsonrpc: "2.0", method: "notifications/initialized" }
const callParams = { name: "echo", arguments: { text: TEXT } }

const stdio = async (command: string, args: ReadonlyArray<string>) => {
  const child = spawn(command, [...args], { stdio: ["pipe", "pipe", "inherit"] })
  const waiting = new Map<number, (message: any) => void>()
  let buffer = ""
  child.stdout.setEncoding("utf8")
  child.stdout.on("data", (chunk: string) => {
    buffer += chunk
    let newline = buffer.indexOf("\n")
    while (newline !== -1) {
      const message = JSON.parse(buffer.slice(0, newline))
      buffer = buffer.slice(newline + 1)
      newline = buffer.indexOf("\n")
      const resolve = waiting.get(message.id)
      if (resolve !== undefined) {
        waiting.delete(message.id)
        resolve(message)
      }
    }
  })
  let nextId = 0
  const send = (message: (id: number) => unknown) =>
    new Promise<any>((resolve) => {
      const id = nextId++
      waiting.set(id, resolve)
      child.stdin.write(JSON.stringify(message(id)) + "\n")
    })
  await send(initialize)
  child.stdin.write(JSON.stringify(initialized) + "\n")
  serve(
    child.pid,
    (run) =>
      loop(run, async () => {
        const message = await send((id) => ({ jsonrpc: "2.0", id, method: "tools/call", params: callParams }))
        check(message.result.content[0].text)
      }),
    () =>
      new Promise((resolve) => {
        child.on("exit", () => resolve())
        child.stdin.end()
      })
  )
}

interface Reply {
  readonly sessionId: string | null
  readonly json: () => Promise<any>
}

const viaFetch = (url: string) => async (headers: Record<string, string>, body: unknown): Promise<Reply> => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify(body)
  })
  return { sessionId: response.headers.get("mcp-session-id"), json: () => response.json() }
}

/** `--diagnose`: node:http with a keep-alive agent, the floor for a client that does not use fetch. */
const viaNodeHttp = (url: string) => {
  const agent = new Agent({ keepAlive: true })
  return (headers: Record<string, string>, body: unknown) =>
    new Promise<Reply>((resolve, reject) => {
      const text = JSON.stringify(body)
      const req = request(url, {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "content-length": Buffer.byteLength(text),
          ...headers
        }
      }, (res) => {
        let data = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => (data += chunk))
        res.on("end", () => {
          const sessionId = res.headers["mcp-session-id"]
          resolve({
            sessionId: typeof sessionId === "string" ? sessionId : null,
            json: async () => JSON.parse(data)
          })
        })
      })
      req.on("error", reject)
      req.end(text)
    })
}

const http = async (url: string) => {
  const post = config.nodeHttp === true ? viaNodeHttp(url) : viaFetch(url)
  const init = await post({}, initialize(0))
  await init.json()
  const headers = {
    "mcp-session-id": init.sessionId!,
    "mcp-protocol-version": config.protocolVersion
  }
  await post(headers, initialized)
  let nextId = 1
  serve(
    undefined,
    (run) =>
      loop(run, async () => {
        const message: any = await (await post(headers, {
          jsonrpc: "2.0",
          id: nextId++,
          method: "tools/call",
          params: callParams
        })).json()
        check(message.result.content[0].text)
      }),
    async () => {}
  )
}
;(config.transport === "stdio" ? stdio(config.command, config.args) : http(config.url)).catch(fail)

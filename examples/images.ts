/**
 * Images: a tool that returns an image content block from raw bytes.
 *
 *   npx tsx examples/images.ts
 */
import { Effect, Layer, Schema } from "effect"
import { Content, McpServer } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { deflateSync } from "node:zlib"
import { isMain } from "./internal/isMain.js"

/** A solid-colour PNG, made by hand so the example needs no image library. */
const solidPng = (size: number, [r, g, b]: readonly [number, number, number]): Uint8Array => {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  const crc = (data: Buffer) => {
    let c = 0xffffffff
    for (const byte of data) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data])
    const out = Buffer.alloc(body.length + 8)
    out.writeUInt32BE(data.length, 0)
    body.copy(out, 4)
    out.writeUInt32BE(crc(body), body.length + 4)
    return out
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => [r, g, b]).flat())])
  const pixels = deflateSync(Buffer.concat(Array.from({ length: size }, () => row)))
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", header),
    chunk("IDAT", pixels),
    chunk("IEND", Buffer.alloc(0))
  ])
}

const Thumbnail = McpServer.tool("make_thumbnail", {
  description: "Make a 64x64 thumbnail of a colour",
  parameters: { color: Schema.Literal("red", "green", "blue") }
}, ({ color }) => {
  const rgb = { red: [255, 0, 0], green: [0, 160, 0], blue: [0, 0, 255] } as const
  return Effect.succeed([Content.text(`A ${color} square:`), Content.image(solidPng(64, rgb[color]), "image/png")])
})

export const ImageServer = Thumbnail.pipe(Layer.provideMerge(McpServer.layer({ name: "Images", version: "1.0.0" })))

/** The server layer, which `npx mcp-effect run examples/images.ts` serves. */
export default ImageServer

if (isMain(import.meta.url)) NodeStdio.run(ImageServer)

/**
 * Newline-delimited framing for stdio: a byte stream cut into lines.
 *
 * Hand-written, not `readline` or `Stream.splitLines`, because every stdio
 * message passes through it (bench/stdio.ts measures it) and because it must
 * hold up against hostile input:
 *
 * - Linear in the bytes read: only new bytes are scanned for a newline, and a
 *   line that spans chunks is joined once, when its newline arrives. (Joining
 *   and rescanning the whole buffered text on every chunk took 13 s and
 *   1.27 GB for one 50 MB line.)
 * - Bounded: a line longer than the limit is dropped as it arrives, never
 *   buffered whole, and reported once.
 * - A multi-byte UTF-8 character split across two reads arrives intact: bytes
 *   are decoded only up to a character boundary, a newline (0x0A never occurs
 *   inside a multi-byte character) or an ASCII byte.
 * - Blank lines (only spaces, tabs or `\r`) are skipped; a final `\r` (CRLF) is
 *   dropped.
 *
 * The common case, a chunk that ends on an ASCII byte (its newline, usually)
 * with no line in it near the limit, is decoded at once and split as text, the
 * way the naive splitter did; measured, it costs no more CPU per line than that
 * one did on 64 KiB and 16 KiB chunks. Only a chunk that ends inside a
 * character, or lines near the limit, take the slower path that cuts the bytes
 * first.
 */

const LF = 0x0a
const CR = 0x0d

export interface LineSplitterOptions {
  /** The longest line, in bytes without its `\n` or `\r\n`, that is delivered. */
  readonly maxLineBytes: number
  /** Receives each complete line that is not blank, without its line ending. */
  readonly onLine: (line: string) => void
  /** Called once per line longer than `maxLineBytes`, which is dropped. */
  readonly onOversized: () => void
}

/** Whether `text[start, end)` holds only spaces, tabs and carriage returns. */
const isBlank = (text: string, start: number, end: number): boolean => {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c !== 32 && c !== 9 && c !== 13) return false
  }
  return true
}

/** A `data` listener that splits what it receives into lines. */
export const lineSplitter = (options: LineSplitterOptions): (chunk: Buffer | string) => void => {
  const splitter = new LineSplitter(options)
  return (chunk) => splitter.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk)
}

/** A splitter to push bytes into, and to end when the input ends: a last line without its newline is delivered. */
export const makeLineSplitter = (options: LineSplitterOptions): {
  readonly push: (chunk: Uint8Array) => void
  readonly end: () => void
} => {
  const splitter = new LineSplitter(options)
  return {
    push: (chunk) =>
      splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
    end: () => splitter.end()
  }
}

class LineSplitter {
  // The start of a line whose newline has not come yet, `heldBytes` long: `heldText`, decoded (it ends on a
  // character boundary), then `heldChunks`, bytes as they came, decoded once the line is complete.
  private heldText = ""
  private heldChunks: Array<Buffer> = []
  private heldBytes = 0
  // Inside a line over the limit: its bytes are dropped up to the next newline.
  private discarding = false
  private readonly maxLineBytes: number
  private readonly onLine: (line: string) => void
  private readonly onOversized: () => void

  constructor(options: LineSplitterOptions) {
    this.maxLineBytes = options.maxLineBytes
    this.onLine = options.onLine
    this.onOversized = options.onOversized
  }

  push(bytes: Buffer): void {
    const length = bytes.length
    if (length === 0) return
    // The common case: the chunk ends on a character boundary (an ASCII byte, usually its newline), nothing is held
    // as bytes, and no line in it can be over the limit. Decode it at once and split the text, scanning only it.
    if (
      bytes[length - 1] < 0x80 && this.heldChunks.length === 0 && !this.discarding &&
      this.heldBytes + length <= this.maxLineBytes
    ) {
      return this.pushText(bytes, bytes.toString())
    }
    this.splitBytes(bytes)
  }

  /** Delivers the start of a line held when the input ends without its newline. */
  end(): void {
    if (this.discarding) {
      this.discarding = false
      return
    }
    if (this.heldBytes === 0) return
    const line = this.heldChunks.length === 0
      ? this.heldText
      : this.heldText + Buffer.concat(this.heldChunks).toString()
    // Held up to one byte over the limit, for the `\r` of a `\r\n`: without its `\n`, only a `\r` is let off.
    const over = this.heldBytes - (line.endsWith("\r") ? 1 : 0) > this.maxLineBytes
    this.release()
    if (over) return this.onOversized()
    this.deliver(line, 0, line.length)
  }

  private pushText(bytes: Buffer, text: string) {
    const newline = text.indexOf("\n")
    if (newline === -1) {
      this.heldText = this.heldBytes === 0 ? text : this.heldText + text
      this.heldBytes += bytes.length
      return
    }
    let from = 0
    if (this.heldBytes > 0) {
      const line = this.heldText + text.slice(0, newline)
      this.release()
      this.deliver(line, 0, line.length)
      from = newline + 1
    }
    from = this.splitText(text, from)
    if (from < text.length) {
      this.heldText = text.slice(from)
      this.heldBytes = bytes.length - 1 - bytes.lastIndexOf(LF)
    }
  }

  private release() {
    this.heldText = ""
    if (this.heldChunks.length > 0) this.heldChunks = []
    this.heldBytes = 0
  }

  /** Delivers `text[start, end)` less a final `\r`, unless it is blank. */
  private deliver(text: string, start: number, end: number) {
    if (end > start && text.charCodeAt(end - 1) === CR) end--
    // A message starts with `{` or `[`: only a line that starts with whitespace is checked for blank.
    if (end > start && (text.charCodeAt(start) > 32 || !isBlank(text, start, end))) this.onLine(text.slice(start, end))
  }

  /** Delivers the lines of `text` from `from` up to its last `\n`, and returns where the last one ended. */
  private splitText(text: string, from: number): number {
    let newline = text.indexOf("\n", from)
    while (newline !== -1) {
      this.deliver(text, from, newline)
      from = newline + 1
      newline = text.indexOf("\n", from)
    }
    return from
  }

  /** Delivers `bytes[start, end)`, a line without its `\n`, or reports it oversized. */
  private deliverBytes(bytes: Buffer, start: number, end: number) {
    const length = end > start && bytes[end - 1] === CR ? end - start - 1 : end - start
    if (length > this.maxLineBytes) this.onOversized()
    else if (length > 0) {
      const text = bytes.toString("utf8", start, end)
      this.deliver(text, 0, text.length)
    }
  }

  /** Holds `bytes[from, end)`, the start of a line, or drops it (reported once) when the line is over the limit. */
  private hold(bytes: Buffer, from: number) {
    const length = bytes.length - from
    if (this.discarding || length === 0) return
    this.heldBytes += length
    // One byte over is allowed while held: it may be the `\r` of a `\r\n`.
    if (this.heldBytes > this.maxLineBytes + 1) {
      this.release()
      this.discarding = true
      this.onOversized()
    } else if (this.heldChunks.length === 0 && bytes[bytes.length - 1] < 0x80) {
      this.heldText += bytes.toString("utf8", from)
    } else {
      this.heldChunks.push(from === 0 ? bytes : bytes.subarray(from))
    }
  }

  /** The byte before the held line's end at `bytes[newline]`: a `\r` there is not counted. */
  private lastByteBefore(bytes: Buffer, newline: number): number | undefined {
    if (newline > 0) return bytes[newline - 1]
    const last = this.heldChunks.at(-1)
    return last !== undefined ? last[last.length - 1] : this.heldText.charCodeAt(this.heldText.length - 1)
  }

  /** Ends the held line with `bytes[0, newline)`. */
  private completeHeld(bytes: Buffer, newline: number) {
    if (this.discarding) {
      this.discarding = false
      return
    }
    if (this.heldBytes + newline - (this.lastByteBefore(bytes, newline) === CR ? 1 : 0) > this.maxLineBytes) {
      this.release()
      return this.onOversized()
    }
    let line: string
    if (this.heldChunks.length === 0) {
      line = this.heldText + bytes.toString("utf8", 0, newline)
    } else {
      this.heldChunks.push(bytes.subarray(0, newline))
      line = this.heldText + Buffer.concat(this.heldChunks).toString()
    }
    this.release()
    this.deliver(line, 0, line.length)
  }

  /** Cuts at newline bytes first, then decodes: for a chunk that ends inside a character, or lines near the limit. */
  private splitBytes(bytes: Buffer) {
    let start = 0
    if (this.heldBytes > 0 || this.discarding) {
      const newline = bytes.indexOf(LF)
      if (newline === -1) return this.hold(bytes, 0)
      this.completeHeld(bytes, newline)
      start = newline + 1
    }
    const last = bytes.lastIndexOf(LF)
    if (last < start) return this.hold(bytes, start)
    if (last - start <= this.maxLineBytes) {
      this.splitText(bytes.toString("utf8", start, last + 1), 0)
    } else {
      for (let from = start; from <= last;) {
        const newline = bytes.indexOf(LF, from)
        this.deliverBytes(bytes, from, newline)
        from = newline + 1
      }
    }
    this.hold(bytes, last + 1)
  }
}

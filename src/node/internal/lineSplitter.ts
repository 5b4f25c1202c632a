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
  const { maxLineBytes, onLine, onOversized } = options
  // The start of a line whose newline has not come yet, `heldBytes` long: `heldText`, decoded (it ends on a
  // character boundary), then `heldChunks`, bytes as they came, decoded once the line is complete.
  let heldText = ""
  let heldChunks: Array<Buffer> = []
  let heldBytes = 0
  // Inside a line over the limit: its bytes are dropped up to the next newline.
  let discarding = false

  const release = () => {
    heldText = ""
    if (heldChunks.length > 0) heldChunks = []
    heldBytes = 0
  }

  /** Delivers `text[start, end)` less a final `\r`, unless it is blank. */
  const deliver = (text: string, start: number, end: number) => {
    if (end > start && text.charCodeAt(end - 1) === CR) end--
    // A message starts with `{` or `[`: only a line that starts with whitespace is checked for blank.
    if (end > start && (text.charCodeAt(start) > 32 || !isBlank(text, start, end))) onLine(text.slice(start, end))
  }

  /** Delivers the lines of `text` from `from` up to its last `\n`, and returns where the last one ended. */
  const splitText = (text: string, from: number): number => {
    let newline = text.indexOf("\n", from)
    while (newline !== -1) {
      deliver(text, from, newline)
      from = newline + 1
      newline = text.indexOf("\n", from)
    }
    return from
  }

  /** Delivers `bytes[start, end)`, a line without its `\n`, or reports it oversized. */
  const deliverBytes = (bytes: Buffer, start: number, end: number) => {
    const length = end > start && bytes[end - 1] === CR ? end - start - 1 : end - start
    if (length > maxLineBytes) onOversized()
    else if (length > 0) {
      const text = bytes.toString("utf8", start, end)
      deliver(text, 0, text.length)
    }
  }

  /** Holds `bytes[from, end)`, the start of a line, or drops it (reported once) when the line is over the limit. */
  const hold = (bytes: Buffer, from: number) => {
    const length = bytes.length - from
    if (discarding || length === 0) return
    heldBytes += length
    // One byte over is allowed while held: it may be the `\r` of a `\r\n`.
    if (heldBytes > maxLineBytes + 1) {
      release()
      discarding = true
      onOversized()
    } else if (heldChunks.length === 0 && bytes[bytes.length - 1] < 0x80) {
      heldText += bytes.toString("utf8", from)
    } else {
      heldChunks.push(from === 0 ? bytes : bytes.subarray(from))
    }
  }

  /** Ends the held line with `bytes[0, newline)`. */
  const completeHeld = (bytes: Buffer, newline: number) => {
    if (discarding) {
      discarding = false
      return
    }
    const last = heldChunks.length > 0 ? heldChunks[heldChunks.length - 1] : undefined
    const lastByte = newline > 0
      ? bytes[newline - 1]
      : last !== undefined
      ? last[last.length - 1]
      : heldText.charCodeAt(heldText.length - 1)
    if (heldBytes + newline - (lastByte === CR ? 1 : 0) > maxLineBytes) {
      release()
      return onOversized()
    }
    let line: string
    if (last === undefined) {
      line = heldText + bytes.toString("utf8", 0, newline)
    } else {
      heldChunks.push(bytes.subarray(0, newline))
      line = heldText + Buffer.concat(heldChunks).toString()
    }
    release()
    deliver(line, 0, line.length)
  }

  /** Cuts at newline bytes first, then decodes: for a chunk that ends inside a character, or lines near the limit. */
  const splitBytes = (bytes: Buffer) => {
    let start = 0
    if (heldBytes > 0 || discarding) {
      const newline = bytes.indexOf(LF)
      if (newline === -1) return hold(bytes, 0)
      completeHeld(bytes, newline)
      start = newline + 1
    }
    const last = bytes.lastIndexOf(LF)
    if (last < start) return hold(bytes, start)
    if (last - start <= maxLineBytes) {
      splitText(bytes.toString("utf8", start, last + 1), 0)
    } else {
      for (let from = start; from <= last;) {
        const newline = bytes.indexOf(LF, from)
        deliverBytes(bytes, from, newline)
        from = newline + 1
      }
    }
    hold(bytes, last + 1)
  }

  return (chunk) => {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk
    const length = bytes.length
    if (length === 0) return
    // The common case: the chunk ends on a character boundary (an ASCII byte, usually its newline), nothing is held
    // as bytes, and no line in it can be over the limit. Decode it at once and split the text, scanning only it.
    if (bytes[length - 1] < 0x80 && heldChunks.length === 0 && !discarding && heldBytes + length <= maxLineBytes) {
      const text = bytes.toString()
      const newline = text.indexOf("\n")
      if (newline === -1) {
        heldText = heldBytes === 0 ? text : heldText + text
        heldBytes += length
        return
      }
      let from = 0
      if (heldBytes > 0) {
        const line = heldText + text.slice(0, newline)
        release()
        deliver(line, 0, line.length)
        from = newline + 1
      }
      from = splitText(text, from)
      if (from < text.length) {
        heldText = text.slice(from)
        heldBytes = length - 1 - bytes.lastIndexOf(LF)
      }
      return
    }
    splitBytes(bytes)
  }
}

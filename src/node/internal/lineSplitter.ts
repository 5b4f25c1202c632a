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
 * - Bytes are cut at the newline byte before they are decoded, so a multi-byte
 *   UTF-8 character split across two reads arrives intact (0x0A never occurs
 *   inside one).
 * - Blank lines (only spaces, tabs or `\r`) are skipped; a final `\r` (CRLF) is
 *   dropped.
 *
 * The common case, a chunk of whole small lines with nothing held, decodes the
 * chunk once and splits the text, as cheaply as the naive splitter did.
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
  // The start of a line whose newline has not come yet, as the chunks it came in.
  let held: Array<Buffer> = []
  let heldBytes = 0
  // Inside a line over the limit: its bytes are dropped up to the next newline.
  let discarding = false

  /** Delivers `text[start, end)` less a final `\r`, unless it is blank. */
  const deliver = (text: string, start: number, end: number) => {
    if (end > start && text.charCodeAt(end - 1) === CR) end--
    if (end > start && !isBlank(text, start, end)) onLine(text.slice(start, end))
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

  /** Holds the start of a line, or drops it (once reported) when it is already over the limit. */
  const hold = (bytes: Buffer) => {
    if (discarding || bytes.length === 0) return
    heldBytes += bytes.length
    // One byte over is allowed while held: it may be the `\r` of a `\r\n`.
    if (heldBytes > maxLineBytes + 1) {
      held = []
      heldBytes = 0
      discarding = true
      onOversized()
    } else {
      held.push(bytes)
    }
  }

  /** Ends the held line with `bytes[0, newline)`. */
  const completeHeld = (bytes: Buffer, newline: number) => {
    if (discarding) {
      discarding = false
      return
    }
    const length = heldBytes + newline
    held.push(bytes.subarray(0, newline))
    const line = Buffer.concat(held, length)
    held = []
    heldBytes = 0
    deliverBytes(line, 0, length)
  }

  return (chunk) => {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk
    let start = 0
    if (heldBytes > 0 || discarding) {
      const newline = bytes.indexOf(LF)
      if (newline === -1) return hold(bytes)
      completeHeld(bytes, newline)
      start = newline + 1
    }
    // A writer usually writes whole lines: then the last newline is the last byte.
    const last = bytes[bytes.length - 1] === LF ? bytes.length - 1 : bytes.lastIndexOf(LF)
    if (last < start) return hold(start === 0 ? bytes : bytes.subarray(start))
    if (last - start <= maxLineBytes) {
      // No line here can be over the limit: decode the complete lines at once and split the text.
      const text = start === 0 && last === bytes.length - 1 ? bytes.toString() : bytes.toString("utf8", start, last + 1)
      let from = 0
      let newline = text.indexOf("\n")
      while (newline !== -1) {
        const end = newline > from && text.charCodeAt(newline - 1) === CR ? newline - 1 : newline
        // The first character of a message is `{` or `[`: only a line that starts with whitespace is checked for blank.
        if (end > from && (text.charCodeAt(from) > 32 || !isBlank(text, from, end))) onLine(text.slice(from, end))
        from = newline + 1
        newline = text.indexOf("\n", from)
      }
    } else {
      let from = start
      while (from <= last) {
        const newline = bytes.indexOf(LF, from)
        deliverBytes(bytes, from, newline)
        from = newline + 1
      }
    }
    if (last + 1 < bytes.length) hold(bytes.subarray(last + 1))
  }
}

/**
 * Splits what a daemon streams (JSON messages, or `docker build --progress=plain` text) into lines: `write` each
 * chunk as it comes, `end` once the stream ends, which hands on a last line that had no newline (unless blank).
 */
export class LineSplitter {
  private buffer = ''

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: Buffer | string): void {
    this.buffer += chunk.toString()
    let nl: number
    while ((nl = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, nl)
      this.buffer = this.buffer.slice(nl + 1)
      this.onLine(line)
    }
  }

  end(): void {
    const rest = this.buffer
    this.buffer = ''
    if (rest.trim() !== '') this.onLine(rest)
  }
}

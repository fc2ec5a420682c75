import {humanSize} from './byte-size.js'

/**
 * How services talk to the user while they work. Services never write to stdout: the command owns
 * stdout (one JSON object with --json, or the human result). Logs and progress go through this.
 */
export interface Reporter {
  /** A log line (stderr). */
  log(message: string): void
  warn(message: string): void
  /** Progress of long work (hashing, copying); shown only on a terminal. */
  progress(label: string, done: number, total: number): void
  /** Chatty output (a build step's log): one transient line on a terminal, plain lines otherwise (CI logs). */
  status(message: string): void
}

export const silentReporter: Reporter = {
  log() {},
  warn() {},
  progress() {},
  status() {},
}

/** Collects everything; for tests. */
export function memoryReporter(): Reporter & {lines: string[]} {
  const lines: string[] = []
  return {
    lines,
    log: (m) => lines.push(m),
    warn: (m) => lines.push(`warning: ${m}`),
    progress: () => {},
    status: (m) => lines.push(m),
  }
}

export function streamReporter(stream: NodeJS.WriteStream, opts: {quiet?: boolean} = {}): Reporter {
  const tty = Boolean(stream.isTTY)
  let lastDraw = 0
  let drawn = false
  const clear = (): void => {
    if (drawn) {
      stream.write('\r\x1b[2K')
      drawn = false
    }
  }
  return {
    log(m) {
      if (opts.quiet) return
      clear()
      stream.write(`${m}\n`)
    },
    warn(m) {
      clear()
      stream.write(`warning: ${m}\n`)
    },
    status(m) {
      if (opts.quiet) return
      if (!tty) {
        stream.write(`${m}\n`)
        return
      }
      const width = Math.max(20, (stream.columns ?? 80) - 1)
      stream.write(`\r\x1b[2K${m.replace(/\s+/g, ' ').slice(0, width)}`)
      drawn = true
    },
    progress(label, done, total) {
      if (!tty || opts.quiet) return
      const now = Date.now()
      if (done < total && now - lastDraw < 100) return
      lastDraw = now
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100
      stream.write(`\r\x1b[2K${label} ${pct}% (${humanSize(done, {digits: 1})}/${humanSize(total, {digits: 1})})`)
      drawn = true
      if (done >= total) clear()
    },
  }
}

/**
 * Ctrl-C and friends (SIGINT, SIGTERM, SIGHUP), for the whole life of the process (D6, D7, D20):
 *
 * - before the command starts (Node and oclif loading: the first ~0.2 s) nothing has been written: exit 130 at once;
 * - while it runs, the first signal aborts its `AbortSignal`: the service stops at the next check, removes what it
 *   was writing and fails with `E_INTERRUPTED` (exit 130); a second signal removes whatever is still registered in
 *   the `CleanupList` (synchronously) and exits 130 at once;
 * - once the result is printed, a signal ends the process at once with the command's own exit code: the result
 *   stands, nothing is left to clean.
 *
 * Signals are process-wide, so there is one `Interrupts` per process, installed by bin/run.js before oclif loads and
 * found by the commands through `processInterrupts()` (the only process-global object of the tool).
 */
import {CleanupList} from './cleanup.js'
import {exitCodeOf} from './errors.js'

type Phase = 'starting' | 'running' | 'finished'

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
const KEY = Symbol.for('bento-cli.interrupts')

export interface InterruptsOptions {
  /** Default: `process.exit`. */
  exit?: (code: number) => void
  /** Default: stderr. */
  write?: (text: string) => void
  /** Whether the error is printed as `{"error": …}` on stdout too (`--json`). Default: looks at argv. */
  json?: () => boolean
}

export class Interrupts {
  readonly cleanup = new CleanupList()
  private controller = new AbortController()
  private phase: Phase = 'starting'
  private count = 0
  private readonly exit: (code: number) => void
  private readonly write: (text: string) => void
  private readonly json: () => boolean

  constructor(options: InterruptsOptions = {}) {
    this.exit = options.exit ?? ((code) => process.exit(code))
    this.write = options.write ?? ((text) => process.stderr.write(text))
    this.json = options.json ?? (() => process.argv.includes('--json'))
  }

  /** The signal of the running command (aborted by the first SIGINT/SIGTERM/SIGHUP). */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** Handlers for SIGINT, SIGTERM and SIGHUP (from now on, Node no longer exits on them by itself). */
  install(proc: NodeJS.Process = process): this {
    for (const sig of SIGNALS) proc.on(sig, () => this.onSignal(sig))
    return this
  }

  /** The command starts its work: signals now abort it. */
  start(): void {
    if (this.phase === 'running') return
    this.phase = 'running'
    this.controller = new AbortController()
    this.count = 0
  }

  /** The result (or the error) is printed. */
  finish(): void {
    this.phase = 'finished'
  }

  onSignal(sig: string): void {
    this.count++
    if (this.phase === 'starting') {
      this.fail(`Interrupted (${sig}) before the command started; nothing was changed.`)
      return
    }
    if (this.phase === 'finished') {
      this.cleanup.removeAllSync()
      this.exit(typeof process.exitCode === 'number' ? process.exitCode : 0)
      return
    }
    if (this.count === 1) {
      this.write(`\nInterrupted (${sig}): stopping and removing what was being written… (press Ctrl-C again to stop at once)\n`)
      this.controller.abort(new Error(`interrupted by ${sig}`))
      return
    }
    const removed = this.cleanup.removeAllSync()
    this.fail(`Interrupted (${sig}) again: stopped at once${removed.length > 0 ? `; removed ${removed.length} temp path(s)` : ''}; the store is unchanged.`)
  }

  private fail(message: string): void {
    const hint = 'nothing half-written is left; run the command again'
    if (this.json()) {
      process.stdout.write(`${JSON.stringify({error: {code: 'E_INTERRUPTED', exitCode: exitCodeOf('E_INTERRUPTED'), message, hint}}, null, 2)}\n`)
    }
    this.write(`Error [E_INTERRUPTED]: ${message}\n  hint: ${hint}\n`)
    this.exit(exitCodeOf('E_INTERRUPTED'))
  }
}

/** The process's `Interrupts` (created and installed on first use; bin/run.js does that before oclif loads). */
export function processInterrupts(): Interrupts {
  const holder = globalThis as unknown as Record<symbol, Interrupts | undefined>
  let interrupts = holder[KEY]
  if (interrupts === undefined) {
    interrupts = new Interrupts().install()
    holder[KEY] = interrupts
  }
  return interrupts
}

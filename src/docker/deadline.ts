/**
 * Deadlines for the Engine API (issue 15, E9): a daemon that accepts the connection and never answers must not hold
 * bento for ever, and every wait ends at the first Ctrl-C. One `Watchdog` per call: its `signal` goes to docker-modem
 * (`abortSignal`), which destroys the request and its socket when it fires, so the process can exit.
 */
import {UsageError} from '../errors.js'

/** In milliseconds; 0 = no deadline. */
export interface DockerTimeouts {
  /** A short call (version, inspect, list, remove, tag, history): from the request to the whole answer. */
  answerMs: number
  /** A stream (build, import, push): the longest silence, in either direction, from the request to its end. */
  idleMs: number
}

export const ANSWER_TIMEOUT_ENV = 'BENTO_DOCKER_TIMEOUT'
export const IDLE_TIMEOUT_ENV = 'BENTO_DOCKER_IDLE_TIMEOUT'
export const DEFAULT_TIMEOUTS: DockerTimeouts = {answerMs: 30_000, idleMs: 600_000}

/** BENTO_DOCKER_TIMEOUT and BENTO_DOCKER_IDLE_TIMEOUT (seconds, decimals allowed, 0 = none), else the defaults. Pure. */
export function dockerTimeouts(env: Record<string, string | undefined>): DockerTimeouts {
  const read = (name: string, fallback: number): number => {
    const raw = env[name]?.trim()
    if (raw === undefined || raw === '') return fallback
    const seconds = Number(raw)
    if (!/^\d+(\.\d*)?$|^\.\d+$/.test(raw) || !Number.isFinite(seconds)) {
      throw new UsageError(`${name}=${env[name]} is not a number of seconds`, {hint: `e.g. ${name}=120 (0 waits for ever)`})
    }
    return Math.round(seconds * 1000)
  }
  return {answerMs: read(ANSWER_TIMEOUT_ENV, DEFAULT_TIMEOUTS.answerMs), idleMs: read(IDLE_TIMEOUT_ENV, DEFAULT_TIMEOUTS.idleMs)}
}

/** `0.3 s`, `30 s`, `10 min`. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000
  return s >= 60 && s % 60 === 0 ? `${s / 60} min` : `${s} s`
}

/**
 * One call's deadline and its interrupt: `signal` aborts when `ms` pass without `touch()` (0: never), or when one of
 * `outer` aborts (Ctrl-C). `stoppedBy` says which, so the caller can tell a timeout from an interrupt whatever error
 * the aborted request rejected with.
 */
export class Watchdog {
  private readonly controller = new AbortController()
  private timer: NodeJS.Timeout | undefined
  private cause: 'timeout' | 'interrupt' | undefined
  private finished = false
  private readonly unlisten: Array<() => void> = []

  constructor(
    readonly ms: number,
    outer: Array<AbortSignal | undefined>,
  ) {
    for (const s of outer) {
      if (s === undefined) continue
      if (s.aborted) {
        this.stop('interrupt')
        break
      }
      const onAbort = (): void => this.stop('interrupt')
      s.addEventListener('abort', onAbort, {once: true})
      this.unlisten.push(() => s.removeEventListener('abort', onAbort))
    }
    this.touch()
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  get stoppedBy(): 'timeout' | 'interrupt' | undefined {
    return this.cause
  }

  /** Something moved: the silence starts again. */
  touch(): void {
    // After done() nothing restarts the timer: a body still flowing into a refused request would otherwise keep the
    // process alive for the whole idle timeout (a /session 404 once took 10 minutes to exit).
    if (this.cause !== undefined || this.finished || this.ms <= 0) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.stop('timeout'), this.ms)
  }

  /** The call is over (answered or failed): no timer, no listener left. */
  done(): void {
    this.finished = true
    clearTimeout(this.timer)
    for (const f of this.unlisten.splice(0)) f()
  }

  private stop(cause: 'timeout' | 'interrupt'): void {
    if (this.cause !== undefined) return
    this.cause = cause
    this.done()
    this.controller.abort(new Error(cause === 'timeout' ? `no answer within ${formatSeconds(this.ms)}` : 'interrupted'))
  }
}

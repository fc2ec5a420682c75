import {DockerBuildError} from '../errors.js'
import {decodeBuildkitStatus} from './buildkit-status.js'
import type {BuildEvent} from './image-client.js'
import {LineSplitter} from './lines.js'

/** How many lines of the failing step's output a DockerBuildError carries in `data.log`. */
export const ERROR_LOG_LINES = 20

export interface BuildFailure {
  message: string
  /** The failing step, e.g. `Step 9/14 : RUN …` or `[ 9/14] RUN …`. */
  step?: string
  /** Last lines of that step's output. */
  log: string[]
}

export interface BuildOutcome {
  imageId?: string
  failure?: BuildFailure
}

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g
function stripAnsi(s: string): string {
  return s.replace(ANSI, '')
}

const CLASSIC_STEP = /^Step (\d+)\/(\d+) : (.*)$/
const BUILDKIT_STEP = /^\[\s*(?:[\w-]+\s+)?(\d+)\/(\d+)\]/

interface StepState {
  name: string
  lines: string[]
}

/**
 * Incremental parser for the JSON-lines stream of `POST /build`, for both builders:
 * - classic: `{"stream":"Step 3/9 : RUN …\n"}`, `{"aux":{"ID":"sha256:…"}}`, `{"errorDetail":{…},"error":"…"}`;
 * - BuildKit: `{"id":"moby.buildkit.trace","aux":"<base64 StatusResponse>"}`, `{"id":"moby.image.id","aux":{"ID":…}}`.
 *
 * The daemon reports a failed step as an `error` line in a stream that otherwise ends normally, so a build
 * is only successful when an image id was seen and no error was.
 */
export class BuildStreamParser {
  private readonly lines = new LineSplitter((line) => this.line(line))
  private imageId: string | undefined
  private failure: BuildFailure | undefined
  private current: StepState | undefined
  private readonly vertexes = new Map<string, StepState & {started: boolean; cached: boolean; error: string}>()
  private readonly partial = new Map<string, string>()
  private lastVertex: string | undefined
  private readonly recent: string[] = []
  private classicPartial = ''

  constructor(private readonly onEvent: (e: BuildEvent) => void = () => undefined) {}

  /** Feed raw bytes from the daemon. */
  write(chunk: Buffer | string): void {
    this.lines.write(chunk)
  }

  /** The stream ended: the outcome so far. */
  end(): BuildOutcome {
    this.lines.end()
    this.flushClassic()
    return {imageId: this.failure ? undefined : this.imageId, failure: this.failure}
  }

  private remember(step: StepState | undefined, line: string): void {
    this.recent.push(line)
    if (this.recent.length > ERROR_LOG_LINES) this.recent.shift()
    if (step) {
      step.lines.push(line)
      if (step.lines.length > ERROR_LOG_LINES) step.lines.shift()
    }
    this.onEvent({type: 'log', line, step: step?.name})
  }

  private line(raw: string): void {
    const text = raw.trim()
    if (text === '') return
    let msg: Record<string, unknown>
    try {
      msg = JSON.parse(text) as Record<string, unknown>
    } catch {
      this.remember(this.current, text)
      return
    }
    if (msg.error !== undefined || msg.errorDetail !== undefined) {
      const detail = msg.errorDetail as {message?: string} | undefined
      this.fail(String(detail?.message ?? msg.error ?? 'unknown build error'))
      return
    }
    if (msg.id === 'moby.buildkit.trace' && typeof msg.aux === 'string') {
      this.buildkit(msg.aux)
      return
    }
    const aux = msg.aux as {ID?: unknown} | undefined
    if (aux && typeof aux === 'object' && typeof aux.ID === 'string') {
      this.imageId = aux.ID
      this.onEvent({type: 'image', imageId: aux.ID})
      return
    }
    if (typeof msg.stream === 'string') {
      // The classic builder splits lines across messages ("Step 1/4 : FROM x" then "\n"): reassemble them.
      const parts = (this.classicPartial + msg.stream).split('\n')
      this.classicPartial = parts.pop() ?? ''
      for (const l of parts) this.classicLine(l)
      return
    }
    if (typeof msg.status === 'string') {
      // Base image pull progress (classic builder): keep only the lines without a progress bar.
      if (msg.progressDetail && Object.keys(msg.progressDetail as object).length > 0) return
      this.remember(this.current, [msg.id, msg.status].filter((x) => typeof x === 'string').join(': '))
    }
  }

  private classicLine(raw: string): void {
    const l = stripAnsi(raw).replace(/\r$/, '')
    if (l.trim() === '') return
    const m = CLASSIC_STEP.exec(l)
    if (m) {
      this.current = {name: l, lines: []}
      this.onEvent({type: 'step', step: l, index: Number(m[1]), total: Number(m[2])})
      return
    }
    if (l.startsWith(' ---> Using cache')) {
      if (this.current) this.onEvent({type: 'cached', step: this.current.name})
      return
    }
    if (/^ ---> (Running in )?[0-9a-f]{6,}$/.test(l) || /^Removing intermediate container [0-9a-f]+$/.test(l)) return
    this.remember(this.current, l)
  }

  private buildkit(payload: string): void {
    let status
    try {
      status = decodeBuildkitStatus(payload)
    } catch (err) {
      this.onEvent({type: 'warning', message: `undecodable BuildKit status: ${(err as Error).message}`})
      return
    }
    for (const v of status.vertexes) {
      let state = this.vertexes.get(v.digest)
      if (!state) {
        state = {name: v.name, lines: [], started: false, cached: false, error: ''}
        this.vertexes.set(v.digest, state)
      }
      if (v.name) state.name = v.name
      if (v.started && !state.started) {
        state.started = true
        this.lastVertex = v.digest
        const m = BUILDKIT_STEP.exec(state.name)
        this.onEvent(m ? {type: 'step', step: state.name, index: Number(m[1]), total: Number(m[2])} : {type: 'step', step: state.name})
      }
      if (v.cached && !state.cached) {
        state.cached = true
        this.onEvent({type: 'cached', step: state.name})
      }
      if (v.error && !state.error) {
        state.error = v.error
        this.lastVertex = v.digest
      }
    }
    for (const log of status.logs) {
      const state = this.vertexes.get(log.vertex)
      const text = (this.partial.get(log.vertex) ?? '') + log.msg
      const parts = text.split(/\r?\n/)
      this.partial.set(log.vertex, parts.pop() ?? '')
      for (const p of parts) this.remember(state, stripAnsi(p))
    }
    for (const w of status.warnings) this.onEvent({type: 'warning', message: w.short})
  }

  private flushClassic(): void {
    if (this.classicPartial !== '') this.classicLine(this.classicPartial)
    this.classicPartial = ''
  }

  private fail(message: string): void {
    if (this.failure) return
    this.flushClassic()
    // Flush partial BuildKit lines so the log shows the last words of the failing command.
    for (const [vertex, rest] of this.partial) {
      if (rest !== '') this.remember(this.vertexes.get(vertex), rest)
    }
    this.partial.clear()
    let step: StepState | undefined = this.current
    if (this.vertexes.size > 0) {
      const errored = [...this.vertexes.values()].filter((v) => v.error)
      step = errored.at(-1) ?? (this.lastVertex ? this.vertexes.get(this.lastVertex) : undefined)
    }
    this.failure = {message, step: step?.name, log: step && step.lines.length > 0 ? [...step.lines] : [...this.recent]}
  }
}

/** Parse a complete recorded stream (tests, fixtures). */
export function parseBuildStream(stream: string | Buffer): {events: BuildEvent[]; outcome: BuildOutcome} {
  const events: BuildEvent[] = []
  const parser = new BuildStreamParser((e) => events.push(e))
  parser.write(stream)
  return {events, outcome: parser.end()}
}

const BASE_IMAGE_MESSAGE =
  /failed to resolve source metadata|pull access denied|manifest unknown|manifest for \S+ not found|repository does not exist|No such image|dial tcp: lookup|failed to do request/i

/** The base image a failure is about, if it is a base-image failure. */
export function baseImageOfFailure(f: BuildFailure): string | undefined {
  const step = f.step ?? ''
  const fromStep = /^Step \d+\/\d+ : FROM\s+(\S+)/i.exec(step) ?? /^\[[^\]]*\]\s+FROM\s+(\S+)/i.exec(step)
  const meta = /^\[internal\] load metadata for (\S+)/.exec(step)
  const inMessage = /source metadata for (\S+?):\s/.exec(f.message) ?? /pull access denied for (\S+?),/.exec(f.message)
  const image = fromStep?.[1] ?? meta?.[1] ?? inMessage?.[1]
  if (fromStep || meta) return image
  if (BASE_IMAGE_MESSAGE.test(f.message) && image) return image
  return undefined
}

/** What pip, requests, uv, curl, git and apt print when a server's certificate chain is not trusted. */
const UNTRUSTED_CERTIFICATE =
  /CERTIFICATE_VERIFY_FAILED|certificate verify failed|invalid peer certificate|UnknownIssuer|SSL certificate problem|server certificate verification failed|self[- ]signed certificate in certificate chain/i

/** A downloaded file whose sha256 is none of the lock's for its package (`--require-hashes`). */
export interface HashMismatch {
  /** `name==version` as the installer names it. */
  package: string
  /** The lock's hashes for the package (sorted). */
  expected: string[]
  /** The hash of what was downloaded. */
  got: string
}

/**
 * The hash mismatches pip and uv report in a step's output:
 * - pip: `THESE PACKAGES DO NOT MATCH THE HASHES…`, then per package `    attrs==26.1.0 from URL (…):`,
 *   `Expected sha256 H` (`Expected     or H` for more), `Got        H`;
 * - uv: ``Hash mismatch for `attrs==26.1.0` ``, then `Expected:` and `Computed:` each over `sha256:H` lines.
 */
export function hashMismatches(log: readonly string[]): HashMismatch[] {
  const out: HashMismatch[] = []
  let cur: {package: string; expected: string[]; got?: string} | null = null
  let uvSection: 'expected' | 'computed' | null = null
  const done = (): void => {
    if (cur?.got !== undefined && cur.expected.length > 0) out.push({package: cur.package, expected: [...cur.expected].sort(), got: cur.got})
    cur = null
    uvSection = null
  }
  for (const raw of log) {
    const l = raw.trim()
    const pip = /^(\S+==\S+) from \S+/.exec(l)
    const uv = /Hash mismatch for `([^`]+)`/.exec(l)
    if (pip || uv) {
      done()
      cur = {package: (pip?.[1] ?? uv?.[1]) as string, expected: []}
      continue
    }
    if (cur === null) continue
    const expected = /^Expected\s+(?:sha256|or)\s+([0-9a-f]{64})$/.exec(l) ?? /^or\s+([0-9a-f]{64})$/.exec(l)
    const got = /^Got\s+([0-9a-f]{64})$/.exec(l)
    if (expected) cur.expected.push(expected[1] as string)
    else if (got) {
      cur.got = got[1] as string
      done()
    } else if (l === 'Expected:') uvSection = 'expected'
    else if (l === 'Computed:') uvSection = 'computed'
    else {
      const h = /^sha256:([0-9a-f]{64})$/.exec(l)
      if (h && uvSection === 'expected') cur.expected.push(h[1] as string)
      else if (h && uvSection === 'computed') {
        cur.got = h[1] as string
        done()
      }
    }
  }
  return out
}

/** Turn a failed outcome into the user-facing error. */
export function buildFailureError(f: BuildFailure): DockerBuildError {
  const image = baseImageOfFailure(f)
  const data = {step: f.step, log: f.log.join('\n'), daemonMessage: f.message}
  if (image !== undefined) {
    return new DockerBuildError(`The base image ${image} is not available: ${f.message}`, {
      code: 'E_DOCKER_BASE_IMAGE',
      data: {...data, image},
      hint: `build or load ${image} into the local daemon first (e.g. \`docker load -i image.tar\`, or build it from a Dockerfile); \`docker pull ${image}\` only works with registry access. Or set docker.base_image to an image you have (\`docker images\`).`,
    })
  }
  const mismatches = hashMismatches(f.log)
  if (f.step !== undefined && mismatches.length > 0) {
    const what = mismatches.map((m) => `${m.package}: the lock has sha256 ${m.expected.join(' or ')}, the index served ${m.got}`).join('; ')
    return new DockerBuildError(`Docker build failed at ${f.step}: a downloaded file is not the one locked (--require-hashes): ${what}`, {
      code: 'E_DOCKER_BUILD_STEP',
      data: {...data, hashMismatch: mismatches},
      hint: 'the index serves other bytes for that version than when the lock was made (a re-uploaded or tampered file): check the index; if the new file is legitimate, lock again (delete the entry in $BENTOML_HOME/.bento/locks or bento-lock.json, then bento build) and containerize the new Bento',
    })
  }
  if (f.step !== undefined) {
    const tls = [...f.log, f.message].some((l) => UNTRUSTED_CERTIFICATE.test(l))
    return new DockerBuildError(`Docker build failed at ${f.step}: ${f.message}`, {
      code: 'E_DOCKER_BUILD_STEP',
      data: tls ? {...data, untrustedCertificate: true} : data,
      hint: tls
        ? 'the step does not trust the TLS certificate of a server it downloads from (a TLS-inspecting proxy, a private index): pass its CA with --ca-cert FILE (or --ca-cert host for the host\'s bundle)'
        : 'the output of the failing step is in data.log (shown above); fix the requirement or script it names and run containerize again',
    })
  }
  return new DockerBuildError(`Docker build failed: ${f.message}`, {code: 'E_DOCKER_BUILD', data})
}

export function daemonLostError(detail: string, cause?: unknown, hint?: string): DockerBuildError {
  return new DockerBuildError(`The Docker daemon stopped responding during the build: ${detail}`, {
    code: 'E_DOCKER_DAEMON_LOST',
    cause,
    hint: hint ?? 'check that dockerd is still running (`docker info`, `journalctl -u docker`, or its log) and has enough memory and disk, then run containerize again',
  })
}

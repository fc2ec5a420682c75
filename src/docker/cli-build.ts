/**
 * Builds that carry BuildKit secrets (a Bento's `envs` of stage `build`), through the Docker CLI.
 *
 * Why the CLI: the Engine API's `POST /build` receives secrets only from a BuildKit *session* — a gRPC server the
 * client runs over an HTTP/2 connection hijacked from `POST /session`, answering the daemon's
 * `moby.buildkit.secrets.v1.Secrets/GetSecret` calls. dockerode has no session support, and implementing gRPC over
 * a hijacked socket for this one feature would be a large, fragile piece; the Docker CLI implements the session.
 * So only Bentos with build secrets are built with `docker build --secret id=NAME,env=VAR` (BuildKit: the CLI's
 * built-in builder with DOCKER_BUILDKIT=1, or buildx), the context streamed on stdin as for the API build.
 *
 * The secret values travel in the environment of the `docker` child process only (under private variable names,
 * so a secret called PATH or DOCKER_HOST cannot disturb the CLI): never on a command line, never in a file.
 * `--ca-cert` files (not secret, but kept out of the image the same way, see ca-cert.ts) are passed by path.
 */
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'


import {DockerBuildError, DockerUnavailableError, InterruptedError} from '../errors.js'
import {type BuildFailure, buildFailureError, ERROR_LOG_LINES} from './build-stream.js'
import {LineSplitter} from './lines.js'
import type {BuildEvent, BuildOptions, BuildSecret} from './image-client.js'

export interface CliBuildOptions extends BuildOptions {
  secrets: BuildSecret[]
}

/** The command line (without the binary) and the child's extra environment. Pure; exported for tests. */
export function cliBuildArgs(opts: Omit<CliBuildOptions, 'context' | 'onProgress'>, iidFile: string): {args: string[]; env: Record<string, string>} {
  const args = ['build', '--progress=plain', '--file', opts.dockerfile, '--iidfile', iidFile]
  for (const t of opts.tags) args.push('--tag', t)
  for (const [k, v] of Object.entries(opts.labels)) args.push('--label', `${k}=${v}`)
  for (const [k, v] of Object.entries(opts.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`)
  if (opts.noCache) args.push('--no-cache')
  if (opts.platform) args.push('--platform', opts.platform)
  const env: Record<string, string> = {DOCKER_BUILDKIT: '1'}
  opts.secrets.forEach((s, i) => {
    // A file secret (--ca-cert) by its path: the CLI reads it (a CA bundle can pass the 128 KiB a variable may hold).
    if ('file' in s) {
      args.push('--secret', `id=${s.id},src=${s.file}`)
      return
    }
    const v = `BENTO_BUILD_SECRET_${i}`
    env[v] = s.value
    args.push('--secret', `id=${s.id},env=${v}`)
  })
  args.push('-')
  return {args, env}
}

/**
 * Parser for BuildKit's `--progress=plain` output:
 *   `#7 [3/9] RUN …`, `#7 0.512 output`, `#7 CACHED`, `#7 DONE 1.2s`, `#7 ERROR: …`, then a `------` block
 *   with the failing step's last lines and `failed to solve: …` / `error: …`.
 */
export class PlainProgressParser {
  private readonly names = new Map<string, string>()
  private readonly logs = new Map<string, string[]>()
  private readonly announced = new Set<string>()
  private failed: {vertex: string; message: string} | undefined
  private trailer: string[] = []
  private readonly lines = new LineSplitter((line) => this.line(line.replace(/\r$/, '')))

  constructor(private readonly onEvent: (e: BuildEvent) => void = () => undefined) {}

  write(chunk: Buffer | string): void {
    this.lines.write(chunk)
  }

  private line(raw: string): void {
    const m = /^#(\d+) (.*)$/.exec(raw)
    if (m === null) {
      if (raw.trim() !== '') this.trailer.push(raw)
      return
    }
    const [, id = '', rest = ''] = m
    const name = this.names.get(id)
    if (name === undefined) {
      // The first line of a vertex is its name.
      this.names.set(id, rest)
      if (/^\[\s*(?:[\w-]+\s+)?\d+\/\d+\]/.test(rest) && !this.announced.has(rest)) {
        this.announced.add(rest)
        this.onEvent({type: 'step', step: rest})
      }
      return
    }
    if (rest === 'CACHED') {
      this.onEvent({type: 'cached', step: name})
      return
    }
    if (/^(DONE [\d.]+s|sha256:[0-9a-f]+|\.\.\.)$/.test(rest) || /^(transferring|resolve|extracting|exporting|writing|naming)\b/.test(rest)) return
    const err = /^ERROR: (.*)$/.exec(rest)
    if (err) {
      this.failed ??= {vertex: id, message: err[1] ?? ''}
      return
    }
    const text = rest.replace(/^\d+\.\d+ /, '')
    const log = this.logs.get(id) ?? []
    log.push(text)
    if (log.length > 200) log.shift()
    this.logs.set(id, log)
    this.onEvent({type: 'log', line: text, step: name})
  }

  /** The failure (after the process exited non-zero). */
  failure(stderrTail: string): BuildFailure {
    this.lines.end()
    const solve = [...this.trailer].reverse().find((l) => /^(error|failed to solve|ERROR)/i.test(l.trim()))
    const step = this.failed ? this.names.get(this.failed.vertex) : undefined
    const message = (this.failed?.message || solve || stderrTail.trim().split('\n').pop() || 'docker build failed').trim()
    const log = this.failed ? (this.logs.get(this.failed.vertex) ?? []).slice(-ERROR_LOG_LINES) : this.trailer.slice(-ERROR_LOG_LINES)
    return {message, ...(step ? {step} : {}), log}
  }
}

/** Build with `docker build --secret …` (see the module comment). Same contract as `ImageClient.build`. */
export async function buildWithDockerCli(dockerCli: string, environ: Record<string, string | undefined>, opts: CliBuildOptions): Promise<{imageId: string}> {
  const dir = await mkdtemp(join(tmpdir(), 'bento-build-'))
  const iidFile = join(dir, 'iid')
  const {args, env} = cliBuildArgs(opts, iidFile)
  const parser = new PlainProgressParser(opts.onProgress)
  let stderrTail = ''
  // Loaded here, not at the top: execa is ~100 modules, and only builds with secrets go through the CLI.
  const {execa} = await import('execa')
  try {
    const child = execa(dockerCli, args, {
      env: {...environ, ...env},
      extendEnv: false,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      ...(opts.signal ? {cancelSignal: opts.signal} : {}),
    })
    child.stdout?.on('data', (d: Buffer) => parser.write(d))
    child.stderr?.on('data', (d: Buffer) => {
      parser.write(d)
      stderrTail = (stderrTail + d.toString()).slice(-4000)
    })
    child.stdin?.on('error', () => undefined)
    opts.context.pipe(child.stdin as NodeJS.WritableStream)
    const r = await child
    if (opts.signal?.aborted || r.isCanceled) throw new InterruptedError('Build interrupted')
    if ((r as {failed?: boolean; code?: string}).code === 'ENOENT' || /ENOENT/.test(String((r as {message?: string}).message ?? ''))) {
      throw new DockerUnavailableError(`The Docker CLI (${dockerCli}) is needed to build with build-time secrets and was not found`, {
        hint: 'install the docker CLI (BuildKit: DOCKER_BUILDKIT=1 or buildx), or point BENTO_DOCKER_CLI at it',
      })
    }
    if (r.exitCode !== 0) {
      const f = parser.failure(stderrTail)
      if (/Cannot connect to the Docker daemon|error during connect/i.test(f.message)) {
        throw new DockerUnavailableError(`The Docker CLI cannot reach the daemon: ${f.message}`, {hint: 'is dockerd running? check DOCKER_HOST'})
      }
      if (/BuildKit is enabled but the buildx component is missing|unknown flag: --secret/i.test(stderrTail)) {
        throw new DockerBuildError(`${dockerCli} cannot build with BuildKit secrets: ${stderrTail.trim().split('\n').pop() ?? ''}`, {
          code: 'E_DOCKER_BUILD',
          hint: 'install docker buildx, or use a docker CLI with the built-in BuildKit builder (BENTO_DOCKER_CLI)',
        })
      }
      throw buildFailureError(f)
    }
    const imageId = (await readFile(iidFile, 'utf8')).trim()
    if (!imageId) throw new DockerBuildError('docker build reported no image id', {code: 'E_DOCKER_BUILD'})
    opts.onProgress({type: 'image', imageId})
    return {imageId}
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

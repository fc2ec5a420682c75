import {PassThrough} from 'node:stream'

import Docker from 'dockerode'
import tar from 'tar-stream'

import {BentoError, InterruptedError, NotFoundError} from '../errors.js'
import type {ContainerClient, ContainerConfig, ContainerState, CreateContainerOptions, ExecResult} from './container-client.js'
import {ANSWER_TIMEOUT_ENV, type DockerTimeouts, dockerTimeouts, Watchdog} from './deadline.js'
import {type DockerEndpoint, dockerodeOptions, noAnswerError, resolveDockerEndpoint, unavailableError} from './dockerode-endpoint.js'

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'EPERM', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ECONNRESET', 'EPIPE'])

function statusOf(err: unknown): number | undefined {
  const s = (err as {statusCode?: unknown} | null)?.statusCode
  return typeof s === 'number' ? s : undefined
}

/** The largest file `readFile` returns (bento.yaml is a few KB). */
const MAX_READ_BYTES = 16 * 1024 * 1024

/**
 * `ContainerClient` over the Docker Engine API (dockerode). Short calls have the answer deadline of
 * BENTO_DOCKER_TIMEOUT and end at the client's signal (Ctrl-C), except `remove`, which must run after one.
 */
export class DockerodeContainerClient implements ContainerClient {
  readonly endpoint: DockerEndpoint
  readonly timeouts: DockerTimeouts
  private readonly docker: Docker
  private readonly signal: AbortSignal | undefined

  constructor(opts: {env: Record<string, string | undefined>; homeDir?: string; signal?: AbortSignal}) {
    this.signal = opts.signal
    this.timeouts = dockerTimeouts(opts.env)
    this.endpoint = resolveDockerEndpoint(opts.env, opts.homeDir)
    this.docker = new Docker(dockerodeOptions(this.endpoint))
  }

  private async call<T>(request: string, f: (signal: AbortSignal) => Promise<T>, o: {ms?: number; outer?: Array<AbortSignal | undefined>} = {}): Promise<T> {
    const dog = new Watchdog(o.ms ?? this.timeouts.answerMs, o.outer ?? [this.signal])
    try {
      if (dog.stoppedBy === 'interrupt') throw new Error('aborted before the request')
      return await f(dog.signal)
    } catch (err) {
      if (dog.stoppedBy === 'interrupt') throw new InterruptedError(`Interrupted while waiting for the Docker daemon (${request})`, {cause: err})
      if (dog.stoppedBy === 'timeout') throw noAnswerError(this.endpoint, request, dog.ms, ANSWER_TIMEOUT_ENV, err)
      if (err instanceof BentoError) throw err
      const code = (err as {code?: unknown} | null)?.code
      if (typeof code === 'string' && CONNECTION_CODES.has(code)) throw unavailableError(this.endpoint, err)
      throw err
    } finally {
      dog.done()
    }
  }

  async create(opts: CreateContainerOptions): Promise<string> {
    try {
      const c = await this.call('POST /containers/create', (abortSignal) =>
        this.docker.createContainer({
          Image: opts.image,
          name: opts.name,
          Env: opts.env ?? [],
          Labels: opts.labels,
          HostConfig: {NetworkMode: opts.network},
          abortSignal,
        } as Docker.ContainerCreateOptions),
      )
      return c.id
    } catch (err) {
      if (statusOf(err) === 404) {
        throw new NotFoundError(`No image ${opts.image} in the Docker engine`, {
          code: 'E_IMAGE_NOT_FOUND',
          cause: err,
          hint: `build it first (\`bento containerize TAG -t ${opts.image}\`), or pull it`,
        })
      }
      throw err
    }
  }

  async start(id: string): Promise<void> {
    await this.call('POST /containers/start', (abortSignal) => this.docker.getContainer(id).start({abortSignal} as object))
  }

  async state(id: string): Promise<ContainerState> {
    const info = await this.call('GET /containers/json', (abortSignal) => this.docker.getContainer(id).inspect({abortSignal} as object))
    const s = info.State
    return {
      running: s.Running || s.Restarting,
      ...(s.Running ? {} : {exitCode: s.ExitCode}),
      ...(s.Error ? {error: s.Error} : {}),
      oomKilled: s.OOMKilled,
    }
  }

  async config(id: string): Promise<ContainerConfig> {
    const info = await this.call('GET /containers/json', (abortSignal) => this.docker.getContainer(id).inspect({abortSignal} as object))
    const test = (info.Config as {Healthcheck?: {Test?: string[]}}).Healthcheck?.Test
    return {user: info.Config.User ?? '', healthcheck: test && test.length > 0 && test[0] !== 'NONE' ? test : null, env: info.Config.Env ?? []}
  }

  async exec(id: string, cmd: string[], opts: {timeoutMs: number; signal?: AbortSignal}): Promise<ExecResult> {
    return this.call(
      `exec ${cmd[0] ?? ''}`,
      async (abortSignal) => {
        const exec = await this.docker.getContainer(id).exec({Cmd: cmd, AttachStdout: true, AttachStderr: true, abortSignal} as Docker.ExecCreateOptions)
        const stream = await exec.start({hijack: true, stdin: false, abortSignal} as Docker.ExecStartOptions)
        const out = new PassThrough()
        const err = new PassThrough()
        const chunks: {out: Buffer[]; err: Buffer[]} = {out: [], err: []}
        out.on('data', (b: Buffer) => chunks.out.push(b))
        err.on('data', (b: Buffer) => chunks.err.push(b))
        this.docker.modem.demuxStream(stream, out, err)
        await new Promise<void>((resolve, reject) => {
          const onAbort = (): void => {
            ;(stream as unknown as {destroy?: () => void}).destroy?.()
            reject(new Error('aborted'))
          }
          abortSignal.addEventListener('abort', onAbort, {once: true})
          stream.on('end', () => resolve())
          stream.on('close', () => resolve())
          stream.on('error', (e: Error) => reject(e))
        })
        const info = await exec.inspect({abortSignal} as object)
        return {exitCode: info.ExitCode ?? -1, stdout: Buffer.concat(chunks.out).toString('utf8'), stderr: Buffer.concat(chunks.err).toString('utf8')}
      },
      {ms: opts.timeoutMs, outer: [this.signal, opts.signal]},
    )
  }

  async logs(id: string, tail: number): Promise<string[]> {
    const buf = (await this.call('GET /containers/logs', (abortSignal) =>
      this.docker.getContainer(id).logs({stdout: true, stderr: true, tail, follow: false, abortSignal} as Docker.ContainerLogsOptions & {follow: false}),
    )) as Buffer
    return demuxFrames(buf)
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '')
      .slice(-tail)
  }

  async readFile(id: string, path: string): Promise<Buffer | null> {
    let stream: NodeJS.ReadableStream
    try {
      stream = await this.call('GET /containers/archive', (abortSignal) => this.docker.getContainer(id).getArchive({path, abortSignal} as {path: string}))
    } catch (err) {
      if (statusOf(err) === 404) return null
      throw err
    }
    return new Promise((resolve, reject) => {
      const extract = tar.extract()
      let found: Buffer | null = null
      extract.on('entry', (header, entry, next) => {
        const parts: Buffer[] = []
        let size = 0
        entry.on('data', (chunk: unknown) => {
          const b = chunk as Buffer
          size += b.length
          if (found === null && header.type === 'file' && size <= MAX_READ_BYTES) parts.push(b)
        })
        entry.on('end', () => {
          if (found === null && header.type === 'file' && size <= MAX_READ_BYTES) found = Buffer.concat(parts)
          next()
        })
        entry.resume()
      })
      extract.on('finish', () => resolve(found))
      extract.on('error', reject)
      stream.on('error', reject)
      stream.pipe(extract)
    })
  }

  async remove(id: string): Promise<void> {
    try {
      // Not bound to Ctrl-C: this is what runs after one.
      await this.call('DELETE /containers', (abortSignal) => this.docker.getContainer(id).remove({force: true, v: true, abortSignal} as object), {outer: []})
    } catch (err) {
      if (statusOf(err) === 404 || statusOf(err) === 409) return
      throw err
    }
  }
}

/** The logs of a container without a TTY come framed (8-byte headers: stream, 0, 0, 0, size); a TTY's come raw. */
export function demuxFrames(buf: Buffer): string {
  const out: Buffer[] = []
  let i = 0
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2) && buf[i + 1] === 0 && buf[i + 2] === 0 && buf[i + 3] === 0) {
    const size = buf.readUInt32BE(i + 4)
    out.push(buf.subarray(i + 8, i + 8 + size))
    i += 8 + size
  }
  if (i === 0) return buf.toString('utf8')
  return Buffer.concat(out).toString('utf8')
}

import {existsSync, readFileSync} from 'node:fs'
import {Agent} from 'node:https'
import os from 'node:os'
import path from 'node:path'

import Docker from 'dockerode'

import {BentoError, DockerBuildError, DockerPushError, DockerUnavailableError, InterruptedError} from '../errors.js'
import {BuildStreamParser, buildFailureError, daemonLostError} from './build-stream.js'
import {buildWithDockerCli} from './cli-build.js'
import type {
  BuildOptions,
  ImageClient,
  ImageInfo,
  ImageSummary,
  ImportOptions,
  LayerInfo,
  ListFilters,
  PushEvent,
  RegistryAuth,
} from './image-client.js'
import {splitRepoTag} from './image-client.js'
import {LineSplitter} from './lines.js'
import {PushStreamParser} from './push.js'

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock'

/** Where the daemon is, from the environment (the Docker CLI's rules). Pure. */
export type DockerEndpoint =
  | {kind: 'unix'; socketPath: string; display: string}
  | {kind: 'tcp'; host: string; port: number; tls: boolean; verify: boolean; certPath: string; display: string}

export function resolveDockerEndpoint(env: Record<string, string | undefined>, homeDir: string = os.homedir()): DockerEndpoint {
  const host = env.DOCKER_HOST?.trim()
  if (!host) return {kind: 'unix', socketPath: DEFAULT_DOCKER_SOCKET, display: `unix://${DEFAULT_DOCKER_SOCKET} (default)`}
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET
    return {kind: 'unix', socketPath, display: `DOCKER_HOST=${host}`}
  }
  const m = /^(tcp|http|https):\/\/\[?([^\]/]+?)\]?(?::(\d+))?\/?$/.exec(host)
  if (!m) {
    throw new DockerUnavailableError(`DOCKER_HOST=${host} is not supported`, {
      hint: 'use unix:///path/to/docker.sock or tcp://HOST:PORT (ssh:// and npipe:// are not supported); unset DOCKER_HOST to use /var/run/docker.sock',
    })
  }
  const verify = Boolean(env.DOCKER_TLS_VERIFY) && env.DOCKER_TLS_VERIFY !== '0'
  const tls = verify || (Boolean(env.DOCKER_TLS) && env.DOCKER_TLS !== '0') || m[1] === 'https'
  const port = m[3] ? Number(m[3]) : tls ? 2376 : 2375
  const certPath = env.DOCKER_CERT_PATH || path.join(homeDir, '.docker')
  return {kind: 'tcp', host: m[2] as string, port, tls, verify, certPath, display: `DOCKER_HOST=${host}`}
}

function dockerodeOptions(ep: DockerEndpoint): Docker.DockerOptions {
  if (ep.kind === 'unix') return {socketPath: ep.socketPath}
  if (!ep.tls) return {host: ep.host, port: ep.port, protocol: 'http'}
  const read = (name: string): Buffer | undefined => {
    const p = path.join(ep.certPath, name)
    return existsSync(p) ? readFileSync(p) : undefined
  }
  const ca = ep.verify ? read('ca.pem') : undefined
  const cert = read('cert.pem')
  const key = read('key.pem')
  return {
    host: ep.host,
    port: ep.port,
    protocol: 'https',
    ca,
    cert,
    key,
    ...(ep.verify ? {} : {agent: new Agent({rejectUnauthorized: false, cert, key})}),
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'EPERM', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ECONNRESET', 'EPIPE'])

function errnoOf(err: unknown): string | undefined {
  const code = (err as {code?: unknown} | null)?.code
  return typeof code === 'string' ? code : undefined
}

export function unavailableError(ep: DockerEndpoint, err: unknown): DockerUnavailableError {
  const code = errnoOf(err)
  const where = ep.kind === 'unix' ? ep.socketPath : `${ep.host}:${ep.port}`
  const steps = [
    'is dockerd running? (`docker info`, `systemctl status docker`)',
    `the daemon address used is ${ep.display}; set DOCKER_HOST (unix:///path/docker.sock or tcp://host:2376) if it lives elsewhere`,
  ]
  if (ep.kind === 'unix') {
    steps.push(
      code === 'EACCES' || code === 'EPERM'
        ? `permission denied on ${ep.socketPath}: add your user to the socket's group (\`sudo usermod -aG docker $USER\`, then log in again) or use rootless Docker`
        : `check that ${ep.socketPath} exists and is writable by you (\`ls -l ${ep.socketPath}\`)`,
    )
  } else if (ep.tls) {
    steps.push(`TLS is on: certificates are read from ${ep.certPath} (ca.pem, cert.pem, key.pem; DOCKER_CERT_PATH)`)
  }
  return new DockerUnavailableError(`Cannot reach the Docker daemon at ${where}${code ? ` (${code})` : ''}: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
    hint: steps.join('; '),
    data: {dockerHost: ep.display},
  })
}

function isConnectionError(err: unknown): boolean {
  const code = errnoOf(err)
  return code !== undefined && CONNECTION_CODES.has(code)
}

function statusOf(err: unknown): number | undefined {
  const s = (err as {statusCode?: unknown} | null)?.statusCode
  return typeof s === 'number' ? s : undefined
}

function daemonMessage(err: unknown): string {
  const json = (err as {json?: {message?: string}} | null)?.json
  return json?.message ?? (err as Error)?.message ?? String(err)
}

function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return Boolean(signal?.aborted) || (err as Error | null)?.name === 'AbortError'
}

export interface DockerodeClientOptions {
  /**
   * The environment to read DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_BUILDKIT from; also the
   * environment of the `docker` CLI (BENTO_DOCKER_CLI, default `docker` on PATH) that builds with secrets.
   */
  env: Record<string, string | undefined>
  homeDir?: string
}

/** `ImageClient` over the Docker Engine API (dockerode). */
export class DockerodeClient implements ImageClient {
  readonly endpoint: DockerEndpoint
  private readonly docker: Docker
  private readonly env: Record<string, string | undefined>

  constructor(opts: DockerodeClientOptions) {
    this.env = opts.env
    this.endpoint = resolveDockerEndpoint(opts.env, opts.homeDir)
    this.docker = new Docker(dockerodeOptions(this.endpoint))
  }

  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f()
    } catch (err) {
      if (isConnectionError(err)) throw unavailableError(this.endpoint, err)
      throw err
    }
  }

  private pinged?: Promise<{apiVersion: string; buildkit: boolean}>

  /** The daemon's API version and whether it builds with BuildKit; asked once per client (a containerize asks twice). */
  ping(): Promise<{apiVersion: string; buildkit: boolean}> {
    if (this.pinged === undefined) {
      this.pinged = this.askVersion()
      // A failed ask is not remembered: the caller may retry once the daemon answers.
      this.pinged.catch(() => (this.pinged = undefined))
    }
    return this.pinged
  }

  private async askVersion(): Promise<{apiVersion: string; buildkit: boolean}> {
    const v = await this.call(() => this.docker.version())
    const [major = 0, minor = 0] = String(v.ApiVersion).split('.').map(Number)
    const apiOk = major > 1 || (major === 1 && minor >= 39)
    const disabled = this.env.DOCKER_BUILDKIT !== undefined && ['0', 'false'].includes(this.env.DOCKER_BUILDKIT.toLowerCase())
    return {apiVersion: String(v.ApiVersion), buildkit: v.Os === 'linux' && apiOk && !disabled}
  }

  async build(opts: BuildOptions): Promise<{imageId: string}> {
    // Secrets need a BuildKit session, which the Engine API only offers to a gRPC client: the CLI (cli-build.ts).
    if (opts.secrets && opts.secrets.length > 0) {
      return buildWithDockerCli(this.env.BENTO_DOCKER_CLI || 'docker', this.env, {...opts, secrets: opts.secrets})
    }
    const {buildkit} = await this.ping()
    const before = new Map<string, string | null>()
    for (const t of opts.tags) before.set(t, (await this.inspect(t))?.id ?? null)

    const parser = new BuildStreamParser(opts.onProgress)
    let stream: NodeJS.ReadableStream
    try {
      stream = await this.call(() =>
        this.docker.buildImage(opts.context, {
          dockerfile: opts.dockerfile,
          // The API accepts t= once per tag; dockerode serializes arrays as repeated query parameters.
          t: opts.tags,
          labels: opts.labels,
          buildargs: opts.buildArgs ?? {},
          rm: true,
          forcerm: true,
          nocache: opts.noCache ?? false,
          version: buildkit ? '2' : '1',
          abortSignal: opts.signal,
        } as unknown as Docker.ImageBuildOptions),
      )
    } catch (err) {
      if (isAbort(err, opts.signal)) throw new InterruptedError('Build interrupted', {cause: err})
      if (err instanceof BentoError) throw err
      const status = statusOf(err)
      throw new DockerBuildError(`The daemon rejected the build: ${daemonMessage(err)}`, {
        code: 'E_DOCKER_BUILD',
        cause: err,
        data: {status},
        hint: 'the Dockerfile or build options were refused before any step ran; check env/docker/Dockerfile in the build context',
      })
    }

    const outcome = await new Promise<{imageId?: string; error?: Error}>((resolve) => {
      let settled = false
      const finish = (r: {imageId?: string; error?: Error}): void => {
        if (!settled) {
          settled = true
          resolve(r)
        }
      }
      stream.on('data', (chunk: Buffer) => parser.write(chunk))
      stream.on('error', (err: Error) => {
        if (isAbort(err, opts.signal)) finish({error: new InterruptedError('Build interrupted', {cause: err})})
        else finish({error: daemonLostError(err.message, err)})
      })
      stream.on('end', () => {
        const o = parser.end()
        if (o.failure) finish({error: buildFailureError(o.failure)})
        else if (o.imageId) finish({imageId: o.imageId})
        else finish({error: daemonLostError('the build stream ended before the daemon reported an image')})
      })
      opts.signal?.addEventListener('abort', () => finish({error: new InterruptedError('Build interrupted')}), {once: true})
    })

    if (outcome.error) {
      await this.untagPartial(before)
      throw outcome.error
    }
    return {imageId: outcome.imageId as string}
  }

  async importImage(opts: ImportOptions): Promise<{imageId: string}> {
    const {repo, tag} = splitRepoTag(opts.tag)
    // `changes` are Dockerfile instructions; keys and values JSON-quoted (Dockerfile double-quoted strings).
    const changes = Object.entries(opts.labels).map(([k, v]) => `LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`)
    const refused = (err: unknown): DockerBuildError =>
      new DockerBuildError(`The daemon refused the import of ${opts.tag}: ${daemonMessage(err)}`, {
        code: 'E_DOCKER_BUILD',
        cause: err,
        data: {status: statusOf(err)},
        hint: 'check the daemon has enough disk for the model (`docker system df`), then run containerize again',
      })
    let stream: NodeJS.ReadableStream
    try {
      stream = await this.call(() => this.docker.importImage(opts.layer, {repo, tag, changes, abortSignal: opts.signal} as unknown as Record<string, unknown>))
    } catch (err) {
      if (isAbort(err, opts.signal)) throw new InterruptedError('Import interrupted', {cause: err})
      if (err instanceof BentoError) throw err
      throw refused(err)
    }
    // The reply is a JSON stream: progress, then {"status": "sha256:<id>"}, or {"error": …}.
    const outcome = await new Promise<{imageId?: string; error?: Error}>((resolve) => {
      let settled = false
      let imageId: string | undefined
      let failure: string | undefined
      const finish = (r: {imageId?: string; error?: Error}): void => {
        if (!settled) {
          settled = true
          resolve(r)
        }
      }
      const lines = new LineSplitter((text) => {
        if (text.trim() === '') return
        try {
          const msg = JSON.parse(text) as {status?: string; error?: string; errorDetail?: {message?: string}}
          if (msg.error) failure = msg.errorDetail?.message ?? msg.error
          else if (typeof msg.status === 'string' && /^sha256:[0-9a-f]{64}$/.test(msg.status.trim())) imageId = msg.status.trim()
        } catch {
          // Not JSON: ignored, as the CLI does.
        }
      })
      stream.on('data', (chunk: Buffer) => lines.write(chunk))
      stream.on('error', (err: Error) => {
        if (isAbort(err, opts.signal)) finish({error: new InterruptedError('Import interrupted', {cause: err})})
        else finish({error: daemonLostError(err.message, err)})
      })
      stream.on('end', () => {
        lines.end()
        if (failure !== undefined) finish({error: refused(new Error(failure))})
        else if (imageId) finish({imageId})
        else finish({error: daemonLostError('the import stream ended before the daemon reported an image')})
      })
      opts.signal?.addEventListener('abort', () => finish({error: new InterruptedError('Import interrupted')}), {once: true})
    })
    if (outcome.error) throw outcome.error
    return {imageId: outcome.imageId as string}
  }

  /** After a failed build: remove any of our tags that now point somewhere they did not before. */
  private async untagPartial(before: Map<string, string | null>): Promise<void> {
    for (const [tag, id] of before) {
      try {
        const now = await this.inspect(tag)
        if (now && now.id !== id) await this.docker.getImage(tag).remove({noprune: false})
      } catch {
        // Best effort: the daemon may be gone; the original error matters more.
      }
    }
  }

  async inspect(ref: string): Promise<ImageInfo | null> {
    try {
      const i = await this.call(() => this.docker.getImage(ref).inspect())
      return {
        id: i.Id,
        repoTags: i.RepoTags ?? [],
        repoDigests: i.RepoDigests ?? [],
        created: i.Created,
        size: i.Size,
        labels: i.Config?.Labels ?? {},
        user: i.Config?.User ?? '',
        entrypoint: toArray(i.Config?.Entrypoint),
        cmd: toArray(i.Config?.Cmd),
        env: i.Config?.Env ?? [],
        exposedPorts: Object.keys(i.Config?.ExposedPorts ?? {}).sort(),
        architecture: i.Architecture,
        os: i.Os,
      }
    } catch (err) {
      if (statusOf(err) === 404) return null
      throw err
    }
  }

  async history(ref: string): Promise<LayerInfo[]> {
    const h = (await this.call(() => this.docker.getImage(ref).history())) as Array<{Id: string; Created: number; CreatedBy: string; Size: number}>
    return h.map((l) => ({id: l.Id, created: l.Created, createdBy: l.CreatedBy, size: l.Size}))
  }

  async remove(ref: string, opts: {force?: boolean} = {}): Promise<void> {
    try {
      await this.call(() => this.docker.getImage(ref).remove({force: opts.force ?? false}))
    } catch (err) {
      if (statusOf(err) === 404) return
      throw err
    }
  }

  async tag(id: string, repoTag: string): Promise<void> {
    const {repo, tag} = splitRepoTag(repoTag)
    await this.call(() => this.docker.getImage(id).tag({repo, tag}))
  }

  async push(ref: string, opts: {auth?: RegistryAuth; onProgress: (e: PushEvent) => void; signal?: AbortSignal}): Promise<{digest: string}> {
    const {repo, tag} = splitRepoTag(ref)
    let stream: NodeJS.ReadableStream
    try {
      stream = (await this.call(() =>
        this.docker.getImage(repo).push({tag, authconfig: opts.auth ?? {}, abortSignal: opts.signal} as Docker.ImagePushOptions),
      )) as NodeJS.ReadableStream
    } catch (err) {
      if (err instanceof BentoError) throw err
      throw new DockerPushError(`Push of ${ref} was refused: ${daemonMessage(err)}`, {
        cause: err,
        hint: statusOf(err) === 404 ? `no local image ${ref}; build it first` : 'check the image reference and your registry credentials',
      })
    }
    const parser = new PushStreamParser(opts.onProgress)
    return new Promise((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => parser.write(chunk))
      stream.on('error', (err: Error) =>
        reject(isAbort(err, opts.signal) ? new InterruptedError('Push interrupted', {cause: err}) : new DockerPushError(`Push of ${ref} failed: ${err.message}`, {cause: err})),
      )
      stream.on('end', () => {
        try {
          resolve({digest: parser.end(ref)})
        } catch (err) {
          reject(err)
        }
      })
    })
  }

  async list(filters: ListFilters = {}): Promise<ImageSummary[]> {
    const f: Record<string, string[]> = {}
    if (filters.label?.length) f.label = filters.label
    if (filters.reference?.length) f.reference = filters.reference
    if (filters.dangling !== undefined) f.dangling = [String(filters.dangling)]
    const images = await this.call(() => this.docker.listImages({filters: f}))
    return images.map((i) => ({id: i.Id, repoTags: i.RepoTags ?? [], labels: i.Labels ?? {}, created: i.Created, size: i.Size}))
  }
}

function toArray(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String)
  if (typeof v === 'string') return [v]
  return []
}

import {PassThrough, Transform} from 'node:stream'

import type DockerModem from 'docker-modem'
import Docker from 'dockerode'

import {BentoError, DockerBuildError, DockerPushError, DockerUnavailableError, InterruptedError, isBentoError, NotFoundError} from '../errors.js'
import {BuildStreamParser, buildFailureError, daemonLostError} from './build-stream.js'
import {buildWithDockerCli} from './cli-build.js'
import {ANSWER_TIMEOUT_ENV, type DockerTimeouts, dockerTimeouts, formatSeconds, IDLE_TIMEOUT_ENV, Watchdog} from './deadline.js'
import type {
  BuildOptions,
  CommitLayerOptions,
  DaemonInfo,
  ImageClient,
  ImageInfo,
  ImageSummary,
  ImportOptions,
  LayerInfo,
  ListFilters,
  PushEvent,
  PushResult,
  RegistryAuth,
} from './image-client.js'
import {splitRepoTag} from './image-client.js'
import {LineSplitter} from './lines.js'
import {PushStreamParser} from './push.js'
import {
  daemonMessage,
  type DockerEndpoint,
  dockerodeOptions,
  isConnectionError,
  isParseError,
  noAnswerError,
  notADaemonError,
  resolveDockerEndpoint,
  snippet,
  statusOf,
  unavailableError,
} from './dockerode-endpoint.js'

export * from './dockerode-endpoint.js'

/** The request's body, passed on as it is; every chunk the request takes counts as movement for the watchdog. */
function watchedBody(body: NodeJS.ReadableStream, dog: Watchdog): NodeJS.ReadableStream {
  const watched = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      dog.touch()
      callback(null, chunk)
    },
  })
  body.on('error', (err: Error) => watched.destroy(err))
  body.pipe(watched)
  return watched
}

/** The daemon refused a layer's import or commit (`action`: "the import of REF", "the commit of REF", …). */
function layerRefused(action: string, err: unknown): DockerBuildError {
  return new DockerBuildError(`The daemon refused ${action}: ${daemonMessage(err)}`, {
    code: 'E_DOCKER_BUILD',
    cause: err,
    data: {status: statusOf(err)},
    hint: 'check the daemon has enough disk for the model (`docker system df`), then run containerize again',
  })
}

export interface DockerodeClientOptions {
  /**
   * The environment to read DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_BUILDKIT from; also the
   * environment of the `docker` CLI (BENTO_DOCKER_CLI, default `docker` on PATH) that builds with secrets.
   */
  env: Record<string, string | undefined>
  homeDir?: string
  /** Aborts every wait on the daemon (the command's Ctrl-C): the call fails with E_INTERRUPTED. */
  signal?: AbortSignal
  /** Default: BENTO_DOCKER_TIMEOUT / BENTO_DOCKER_IDLE_TIMEOUT of `env` (seconds), else 30 s / 10 min. */
  timeouts?: Partial<DockerTimeouts>
}

/** What a call does with an HTTP error status: hand it to the caller (`pass`), or call the server no daemon. */
interface CallOptions {
  /** Statuses the caller handles (e.g. 404 of an inspect); any other error status is `notADaemonError`. */
  pass?: number[]
  /** What aborts the wait; default: the client's signal. */
  outer?: Array<AbortSignal | undefined>
}

/**
 * `ImageClient` over the Docker Engine API (dockerode). Every call has a deadline and ends at the client's signal
 * (deadline.ts): a short call must be answered whole within `timeouts.answerMs`; a stream (build, import, push) may
 * not be silent, in either direction, for longer than `timeouts.idleMs`. The socket is destroyed when one fires.
 */
export class DockerodeClient implements ImageClient {
  readonly endpoint: DockerEndpoint
  readonly timeouts: DockerTimeouts
  private readonly docker: Docker
  private readonly env: Record<string, string | undefined>
  private readonly signal: AbortSignal | undefined
  /** A short call timed out: the daemon is hung, later short calls fail at once with the same error. */
  private unanswered: DockerUnavailableError | undefined

  constructor(opts: DockerodeClientOptions) {
    this.env = opts.env
    this.signal = opts.signal
    this.timeouts = {...dockerTimeouts(opts.env), ...opts.timeouts}
    this.endpoint = resolveDockerEndpoint(opts.env, opts.homeDir)
    this.docker = new Docker(dockerodeOptions(this.endpoint))
  }

  /** A short call (`request` names it in messages, e.g. `GET /version`): one deadline for the whole answer. */
  private async call<T>(request: string, f: (signal: AbortSignal) => Promise<T>, o: CallOptions = {}): Promise<T> {
    const dog = new Watchdog(this.timeouts.answerMs, o.outer ?? [this.signal])
    try {
      if (dog.stoppedBy === 'interrupt') throw new Error('aborted before the request')
      if (this.unanswered) throw this.unanswered
      return await f(dog.signal)
    } catch (err) {
      const stopped = this.stopped(err, request, dog, ANSWER_TIMEOUT_ENV)
      if (dog.stoppedBy === 'timeout') this.unanswered ??= stopped as DockerUnavailableError
      if (stopped) throw stopped
      const status = statusOf(err)
      if (status !== undefined && !(o.pass ?? []).includes(status)) {
        throw notADaemonError(this.endpoint, request, `HTTP ${status} ${snippet((err as {json?: unknown}).json)}`.trim(), err)
      }
      throw err
    } finally {
      dog.done()
    }
  }

  /**
   * The typed error of a call that failed on its way (interrupted, timed out, no connection, not HTTP), else
   * undefined: the caller decides what an HTTP error status means.
   */
  private stopped(err: unknown, request: string, dog: Watchdog, envVar: string): Error | undefined {
    if (dog.stoppedBy === 'interrupt') return new InterruptedError(`Interrupted while waiting for the Docker daemon (${request})`, {cause: err})
    if (dog.stoppedBy === 'timeout') return noAnswerError(this.endpoint, request, dog.ms, envVar, err)
    if (err instanceof BentoError) return err
    if (isConnectionError(err)) return unavailableError(this.endpoint, err)
    if (isParseError(err)) {
      const raw = (err as {rawPacket?: unknown}).rawPacket
      return notADaemonError(this.endpoint, request, `something that is not HTTP (${snippet(raw) || (err as Error).message})`, err)
    }
    return undefined
  }

  /** A layer request (an import, an archive PUT, a commit) that failed: interrupted (`interrupted`), stopped, or refused. */
  private layerError(err: unknown, request: string, dog: Watchdog, interrupted: string, refused: (err: unknown) => Error): Error {
    const stopped = this.stopped(err, request, dog, IDLE_TIMEOUT_ENV)
    if (stopped) return stopped instanceof InterruptedError ? new InterruptedError(interrupted, {cause: err}) : stopped
    return refused(err)
  }

  /** A request dockerode offers no abort signal for (inspect, history). */
  private dial<T>(o: DockerModem.DialOptions): Promise<T> {
    return new Promise((resolve, reject) => this.docker.modem.dial(o, (err, data) => (err ? reject(err) : resolve(data as T))))
  }

  /** The error of a stream that was stopped after the daemon started answering, or undefined. */
  private silentError(dog: Watchdog, what: string, make: (detail: string, hint: string) => Error, cause?: unknown): Error | undefined {
    if (dog.stoppedBy === 'interrupt') return new InterruptedError(`${what} interrupted`, {cause})
    if (dog.stoppedBy === 'timeout') {
      return make(
        `the daemon was silent for ${formatSeconds(dog.ms)}`,
        `is dockerd hung? (\`docker info\`, \`journalctl -u docker\`); a step that prints nothing for longer needs more: set ${IDLE_TIMEOUT_ENV}=SECONDS (0 waits for ever)`,
      )
    }
    return undefined
  }

  private pinged?: Promise<DaemonInfo>

  /** The daemon's API version and whether it builds with BuildKit; asked once per client (a containerize asks twice). */
  ping(): Promise<DaemonInfo> {
    if (this.pinged === undefined) {
      this.pinged = this.askVersion()
      // A failed ask is not remembered: the caller may retry once the daemon answers.
      this.pinged.catch(() => (this.pinged = undefined))
    }
    return this.pinged
  }

  private async askVersion(): Promise<DaemonInfo> {
    const v: unknown = await this.call('GET /version', (abortSignal) => (this.docker.version.bind(this.docker) as (o: {abortSignal: AbortSignal}) => Promise<unknown>)({abortSignal}))
    const apiVersion = (v as {ApiVersion?: unknown} | null)?.ApiVersion
    if (typeof apiVersion !== 'string' || !/^\d+\.\d+/.test(apiVersion)) {
      throw notADaemonError(this.endpoint, 'GET /version', `HTTP 200 ${snippet(v)}`.trim())
    }
    const [major = 0, minor = 0] = apiVersion.split('.').map(Number)
    const apiOk = major > 1 || (major === 1 && minor >= 39)
    const disabled = this.env.DOCKER_BUILDKIT !== undefined && ['0', 'false'].includes(this.env.DOCKER_BUILDKIT.toLowerCase())
    const components = (v as {Components?: unknown}).Components
    const podman = Array.isArray(components) && components.some((c) => /^podman/i.test(String((c as {Name?: unknown} | null)?.Name ?? '')))
    // Podman builds with buildah, which understands RUN --mount (cache, bind): BuildKit syntax, without a session.
    const arch = (v as {Arch?: unknown}).Arch
    return {apiVersion, buildkit: (v as {Os?: unknown}).Os === 'linux' && apiOk && !disabled, engine: podman ? 'podman' : 'docker', ...(typeof arch === 'string' ? {arch} : {})}
  }

  async build(opts: BuildOptions): Promise<{imageId: string}> {
    // Secrets need a BuildKit session, which the Engine API only offers to a gRPC client: the CLI (cli-build.ts).
    if (opts.secrets && opts.secrets.length > 0) {
      if ((await this.ping()).engine === 'podman') {
        throw new DockerBuildError(
          `Podman's Docker-compatible API has no BuildKit session (POST /session), which build secrets need: this Bento's stage-build envs or --ca-cert cannot reach the build`,
          {
            code: 'E_DOCKER_BUILD',
            data: {engine: 'podman', missingApi: 'POST /session'},
            hint: 'build with Docker (BuildKit), or drop --ca-cert / the stage-build envs; `bento build` then `podman build` of the Bento directory works without bento',
          },
        )
      }
      return buildWithDockerCli(this.env.BENTO_DOCKER_CLI || 'docker', this.env, {...opts, secrets: opts.secrets})
    }
    const {buildkit, engine} = await this.ping()
    // version=2 makes dockerode open a BuildKit session (POST /session) first; Podman has none and builds with
    // buildah through the classic endpoint (which still understands RUN --mount).
    const version = buildkit && engine !== 'podman' ? '2' : '1'
    const before = new Map<string, string | null>()
    for (const t of opts.tags) before.set(t, (await this.inspect(t))?.id ?? null)

    const parser = new BuildStreamParser(opts.onProgress)
    const dog = new Watchdog(this.timeouts.idleMs, [this.signal, opts.signal])
    let stream: NodeJS.ReadableStream
    try {
      stream = await this.docker.buildImage(watchedBody(opts.context, dog), {
        dockerfile: opts.dockerfile,
        // The API accepts t= once per tag; dockerode serializes arrays as repeated query parameters.
        t: opts.tags,
        labels: opts.labels,
        buildargs: opts.buildArgs ?? {},
        rm: true,
        forcerm: true,
        nocache: opts.noCache ?? false,
        ...(opts.platform ? {platform: opts.platform} : {}),
        version,
        abortSignal: dog.signal,
      } as unknown as Docker.ImageBuildOptions)
    } catch (err) {
      dog.done()
      const stopped = this.stopped(err, 'POST /build', dog, IDLE_TIMEOUT_ENV)
      if (stopped) throw stopped instanceof InterruptedError ? new InterruptedError('Build interrupted', {cause: err}) : stopped
      const status = statusOf(err)
      if (version === '2' && status === 404) {
        // dockerode's POST /session comes before POST /build; a daemon with /build but no /session is not BuildKit.
        throw new DockerBuildError(`The daemon has no BuildKit session API: POST /session answered HTTP 404 (${daemonMessage(err)})`, {
          code: 'E_DOCKER_BUILD',
          cause: err,
          data: {status, missingApi: 'POST /session'},
          hint: 'a Docker-compatible engine without BuildKit: set DOCKER_BUILDKIT=0 to build with the classic POST /build (build secrets and --ca-cert need Docker with BuildKit)',
        })
      }
      throw new DockerBuildError(`The daemon rejected the build: ${daemonMessage(err)}`, {
        code: 'E_DOCKER_BUILD',
        cause: err,
        data: {status},
        hint: 'the Dockerfile or build options were refused before any step ran; check env/docker/Dockerfile in the build context',
      })
    }

    const outcome = await this.follow(stream, dog, {
      onData: (chunk) => parser.write(chunk),
      stopped: (cause) => this.silentError(dog, 'Build', (detail, hint) => daemonLostError(detail, cause, hint), cause),
      lost: (err) => daemonLostError(err.message, err),
      end: () => {
        const o = parser.end()
        if (o.failure) return {error: buildFailureError(o.failure)}
        if (o.imageId) return {value: o.imageId}
        return {error: daemonLostError('the build stream ended before the daemon reported an image')}
      },
    })

    if (outcome.error) {
      await this.untagPartial(before)
      throw outcome.error
    }
    return {imageId: outcome.value as string}
  }

  /**
   * Reads a stream the daemon answered with until it ends, fails, or the watchdog stops it (interrupt, or silent
   * longer than its idle timeout): every chunk restarts the silence. The watchdog is done once this settles.
   */
  private follow<T>(
    stream: NodeJS.ReadableStream,
    dog: Watchdog,
    on: {
      onData: (chunk: Buffer) => void
      /** The error when the watchdog stopped the stream (interrupt or silence). */
      stopped: (cause?: unknown) => Error | undefined
      /** The stream failed (the daemon went away). */
      lost: (err: Error) => Error
      end: () => {value?: T; error?: Error}
    },
  ): Promise<{value?: T; error?: Error}> {
    dog.touch()
    return new Promise((resolve) => {
      let settled = false
      const finish = (r: {value?: T; error?: Error}): void => {
        if (settled) return
        settled = true
        dog.done()
        resolve(r)
      }
      stream.on('data', (chunk: Buffer) => {
        dog.touch()
        on.onData(chunk)
      })
      stream.on('error', (err: Error) => finish({error: on.stopped(err) ?? on.lost(err)}))
      stream.on('end', () => finish(on.end()))
      const onStop = (): void => {
        finish({error: on.stopped() ?? on.lost(new Error('aborted'))})
        // docker-modem destroys the request (and its socket) on the signal; the response goes with them.
        ;(stream as {destroy?: () => void}).destroy?.()
      }
      if (dog.signal.aborted) onStop()
      else dog.signal.addEventListener('abort', onStop, {once: true})
    })
  }

  async importImage(opts: ImportOptions): Promise<{imageId: string}> {
    const {repo, tag} = splitRepoTag(opts.tag)
    // `changes` are Dockerfile instructions; keys and values JSON-quoted (Dockerfile double-quoted strings).
    const changes = Object.entries(opts.labels).map(([k, v]) => `LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`)
    const refused = (err: unknown): DockerBuildError => layerRefused(`the import of ${opts.tag}`, err)
    const dog = new Watchdog(this.timeouts.idleMs, [this.signal, opts.signal])
    let stream: NodeJS.ReadableStream
    try {
      stream = await this.docker.importImage(watchedBody(opts.layer, dog), {repo, tag, changes, abortSignal: dog.signal} as unknown as Record<string, unknown>)
    } catch (err) {
      dog.done()
      throw this.layerError(err, 'POST /images/create', dog, 'Import interrupted', refused)
    }
    // The reply is a JSON stream: progress, then {"status": "sha256:<id>"}, or {"error": …}.
    let reported: string | undefined
    let failure: string | undefined
    const lines = new LineSplitter((text) => {
      if (text.trim() === '') return
      try {
        const msg = JSON.parse(text) as {status?: string; error?: string; errorDetail?: {message?: string}}
        if (msg.error) failure = msg.errorDetail?.message ?? msg.error
        else if (typeof msg.status === 'string' && /^sha256:[0-9a-f]{64}$/.test(msg.status.trim())) reported = msg.status.trim()
      } catch {
        // Not JSON: ignored, as the CLI does.
      }
    })
    const outcome = await this.follow(stream, dog, {
      onData: (chunk) => lines.write(chunk),
      stopped: (cause) => this.silentError(dog, 'Import', (detail, hint) => daemonLostError(detail, cause, hint), cause),
      lost: (err) => daemonLostError(err.message, err),
      end: () => {
        lines.end()
        if (failure !== undefined) return {error: refused(new Error(failure))}
        if (reported) return {value: reported}
        return {error: daemonLostError('the import stream ended before the daemon reported an image')}
      },
    })
    if (outcome.error) throw outcome.error
    const imageId = outcome.value as string
    // Podman 4.3's import ignores tag= (the image is REPO:latest): tag it as asked, or COPY --from cannot find it.
    if ((await this.ping()).engine === 'podman') await this.tag(imageId, opts.tag)
    return {imageId}
  }

  async commitLayer(opts: CommitLayerOptions): Promise<{imageId: string}> {
    const named = opts.tag === undefined ? {} : splitRepoTag(opts.tag)
    const what = opts.tag ?? `a layer on ${opts.base}`
    const refused = (step: string, err: unknown): DockerBuildError => layerRefused(`${step} of ${what}`, err)
    const base = await this.call(
      `GET /images/${opts.base}/json`,
      (abortSignal) => this.dial<Docker.ImageInspectInfo>({path: `/images/${opts.base}/json`, method: 'GET', abortSignal, statusCodes: {200: true, 404: 'no such image', 500: 'server error'}}),
      {pass: [404], outer: [this.signal, opts.signal]},
    ).catch((err: unknown) => {
      throw statusOf(err) === 404 ? refused('the layer', new Error(`no such image: ${opts.base}`)) : err
    })
    const config = (base as {Config?: {Cmd?: string[] | null}}).Config ?? {}
    // Never started: its command only names the layer in the history (`docker history`'s CREATED BY). (The base's
    // ArgsEscaped, a Windows-only field, does not survive: Docker 20.10 drops it from a Linux container's config.)
    const created = await this.call('POST /containers/create', (abortSignal) =>
      this.docker.createContainer({Image: opts.base, Cmd: ['/bin/sh', '-c', `#(nop) ${opts.createdBy}`], NetworkDisabled: true, abortSignal} as Docker.ContainerCreateOptions),
      {pass: [400, 404, 409, 500], outer: [this.signal, opts.signal]},
    ).catch((err: unknown) => {
      throw isBentoError(err) ? err : refused('a container for the layer', err)
    })
    const container = this.docker.getContainer(created.id)
    try {
      // The body streams for as long as the layer does: silence, not length, is bounded (like an import).
      const dog = new Watchdog(this.timeouts.idleMs, [this.signal, opts.signal])
      try {
        await container.putArchive(watchedBody(opts.layer, dog), {path: '/', abortSignal: dog.signal})
      } catch (err) {
        throw this.layerError(err, `PUT /containers/${created.id.slice(0, 12)}/archive`, dog, 'Layer commit interrupted', (e) => refused('the layer', e))
      } finally {
        dog.done()
      }
      // The commit answers once the daemon has written the layer (a diff and a sha256 of it): silent meanwhile, so
      // bounded by the idle timeout. The config is the base's: its CMD is put back over the container's.
      const commitDog = new Watchdog(this.timeouts.idleMs, [this.signal, opts.signal])
      let committed: unknown
      try {
        committed = await container.commit({...named, pause: false, changes: `CMD ${JSON.stringify(config.Cmd ?? [])}`, abortSignal: commitDog.signal} as unknown as Record<string, unknown>)
      } catch (err) {
        throw this.layerError(err, 'POST /commit', commitDog, 'Layer commit interrupted', (e) => refused('the commit', e))
      } finally {
        commitDog.done()
      }
      const id = (committed as {Id?: unknown} | null)?.Id
      if (typeof id !== 'string' || id === '') throw daemonLostError(`the commit of ${what} answered without an image id`)
      const imageId = id.startsWith('sha256:') ? id : `sha256:${id}`
      if (opts.tag !== undefined && (await this.ping()).engine === 'podman') await this.tag(imageId, opts.tag)
      return {imageId}
    } finally {
      // Not stopped by the signal: this is the clean-up of an interrupted commit too.
      await this.call(`DELETE /containers/${created.id.slice(0, 12)}`, (abortSignal) => container.remove({force: true, v: true, abortSignal} as Docker.ContainerRemoveOptions), {pass: [404, 409, 500], outer: []}).catch(() => undefined)
    }
  }

  /**
   * After a failed build: remove any of our tags that now point somewhere they did not before. Not stopped by the
   * signal (this is the cleanup of an interrupted build); each call has its deadline.
   */
  private async untagPartial(before: Map<string, string | null>): Promise<void> {
    for (const [tag, id] of before) {
      try {
        const now = await this.inspectOr(tag, [])
        if (now && now.id !== id) await this.call(`DELETE /images/${tag}`, (abortSignal) => this.docker.getImage(tag).remove({noprune: false, abortSignal}), {outer: []})
      } catch {
        // Best effort: the daemon may be gone; the original error matters more.
      }
    }
  }

  async inspect(ref: string): Promise<ImageInfo | null> {
    return this.inspectOr(ref, [this.signal])
  }

  private async inspectOr(ref: string, outer: Array<AbortSignal | undefined>): Promise<ImageInfo | null> {
    const request = `GET /images/${ref}/json`
    try {
      const i = await this.call(
        request,
        (abortSignal) =>
          this.dial<Docker.ImageInspectInfo>({
            path: `/images/${ref}/json`,
            method: 'GET',
            abortSignal,
            statusCodes: {200: true, 404: 'no such image', 500: 'server error'},
          }),
        {pass: [404], outer},
      )
      if (typeof i !== 'object' || i === null || typeof i.Id !== 'string') throw notADaemonError(this.endpoint, request, `HTTP 200 ${snippet(i)}`.trim())
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
        diffIds: i.RootFS?.Layers ?? [],
      }
    } catch (err) {
      if (statusOf(err) === 404) return null
      throw err
    }
  }

  async history(ref: string): Promise<LayerInfo[]> {
    const request = `GET /images/${ref}/history`
    const h = await this.call(
      request,
      (abortSignal) =>
        this.dial<unknown>({path: `/images/${ref}/history`, method: 'GET', abortSignal, statusCodes: {200: true, 404: 'no such image', 500: 'server error'}}),
      {pass: [404]},
    )
    if (!Array.isArray(h)) throw notADaemonError(this.endpoint, request, `HTTP 200 ${snippet(h)}`.trim())
    return (h as Array<{Id: string; Created: number; CreatedBy: string; Size: number}>).map((l) => ({id: l.Id, created: l.Created, createdBy: l.CreatedBy, size: l.Size}))
  }

  async remove(ref: string, opts: {force?: boolean} = {}): Promise<void> {
    try {
      await this.call(`DELETE /images/${ref}`, (abortSignal) => this.docker.getImage(ref).remove({force: opts.force ?? false, abortSignal}), {pass: [404, 409]})
    } catch (err) {
      if (statusOf(err) === 404) return
      throw err
    }
  }

  async tag(id: string, repoTag: string): Promise<void> {
    const {repo, tag} = splitRepoTag(repoTag)
    await this.call(`POST /images/${id}/tag`, (abortSignal) => this.docker.getImage(id).tag({repo, tag, abortSignal}), {pass: [400, 404, 409]})
  }

  async push(ref: string, opts: {auth?: RegistryAuth; onProgress: (e: PushEvent) => void; signal?: AbortSignal}): Promise<PushResult> {
    const {repo, tag} = splitRepoTag(ref)
    const dog = new Watchdog(this.timeouts.idleMs, [this.signal, opts.signal])
    let stream: NodeJS.ReadableStream
    try {
      stream = (await this.docker.getImage(repo).push({tag, authconfig: opts.auth ?? {}, abortSignal: dog.signal} as Docker.ImagePushOptions)) as NodeJS.ReadableStream
    } catch (err) {
      dog.done()
      const stopped = this.stopped(err, `POST /images/${repo}/push`, dog, IDLE_TIMEOUT_ENV)
      if (stopped) throw stopped instanceof InterruptedError ? new InterruptedError('Push interrupted', {cause: err}) : stopped
      throw new DockerPushError(`Push of ${ref} was refused: ${daemonMessage(err)}`, {
        cause: err,
        hint: statusOf(err) === 404 ? `no local image ${ref}; build it first` : 'check the image reference and your registry credentials',
      })
    }
    const parser = new PushStreamParser(opts.onProgress)
    const outcome = await this.follow(stream, dog, {
      onData: (chunk) => parser.write(chunk),
      stopped: (cause) => this.silentError(dog, 'Push', (detail, hint) => new DockerPushError(`Push of ${ref} failed: ${detail}`, {cause, hint}), cause),
      lost: (err) => new DockerPushError(`Push of ${ref} failed: ${err.message}`, {cause: err}),
      end: () => {
        try {
          return {value: parser.end(ref)}
        } catch (err) {
          return {error: err as Error}
        }
      },
    })
    if (outcome.error) throw outcome.error
    return {digest: outcome.value as string, ...parser.upload(), layers: parser.layerOutcomes()}
  }

  async save(ref: string, opts: {signal?: AbortSignal} = {}): Promise<NodeJS.ReadableStream> {
    const request = `GET /images/${ref}/get`
    let stream: NodeJS.ReadableStream & {destroy?: (e?: Error) => void}
    try {
      stream = await this.call(
        request,
        (abortSignal) =>
          this.dial<NodeJS.ReadableStream>({
            path: `/images/${encodeURIComponent(ref)}/get`,
            method: 'GET',
            isStream: true,
            abortSignal,
            statusCodes: {200: true, 404: 'no such image', 500: 'server error'},
          }),
        {pass: [404], outer: [this.signal, opts.signal]},
      )
    } catch (err) {
      if (statusOf(err) === 404) throw new NotFoundError(`No image ${ref} in the Docker engine`, {code: 'E_IMAGE_NOT_FOUND', cause: err})
      throw err
    }
    // The answer came; from here the reader sets the pace. Ctrl-C ends the stream with InterruptedError.
    const out = new PassThrough()
    const abort = (): void => {
      const e = new InterruptedError(`Export of ${ref} interrupted`)
      stream.destroy?.(e)
      out.destroy(e)
    }
    const signals = [this.signal, opts.signal].filter((s): s is AbortSignal => s !== undefined)
    for (const s of signals) s.addEventListener('abort', abort, {once: true})
    const unlisten = (): void => {
      for (const s of signals) s.removeEventListener('abort', abort)
    }
    out.on('close', unlisten)
    stream.on('error', (err: Error) => out.destroy(err instanceof BentoError ? err : new DockerPushError(`The engine's export of ${ref} broke off: ${err.message}`, {cause: err, hint: 'is dockerd still running? run the push again: blobs already sent are skipped'})))
    stream.pipe(out)
    return out
  }

  async list(filters: ListFilters = {}): Promise<ImageSummary[]> {
    const f: Record<string, string[]> = {}
    if (filters.label?.length) f.label = filters.label
    if (filters.reference?.length) f.reference = filters.reference
    if (filters.dangling !== undefined) f.dangling = [String(filters.dangling)]
    const images: unknown = await this.call('GET /images/json', (abortSignal) => this.docker.listImages({filters: f, abortSignal} as Docker.ListImagesOptions))
    if (!Array.isArray(images)) throw notADaemonError(this.endpoint, 'GET /images/json', `HTTP 200 ${snippet(images)}`.trim())
    return (images as Docker.ImageInfo[]).map((i) => ({id: i.Id, repoTags: i.RepoTags ?? [], labels: i.Labels ?? {}, created: i.Created, size: i.Size}))
  }
}

function toArray(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String)
  if (typeof v === 'string') return [v]
  return []
}

/**
 * The narrow interface the rest of bento uses to talk to an image builder. One implementation talks to
 * dockerd through the Engine API (dockerode-client.ts); an in-memory fake (fake-client.ts) serves tests.
 */

/** Progress from a build, already decoded from the daemon's stream (classic or BuildKit). */
export type BuildEvent =
  /** A Dockerfile step started, e.g. `Step 9/14 : RUN …` (classic) or `[ 9/14] RUN …` (BuildKit). */
  | {type: 'step'; step: string; index?: number; total?: number}
  /** A step was satisfied from the layer cache. */
  | {type: 'cached'; step: string}
  /** One line of output of the current step. */
  | {type: 'log'; line: string; step?: string}
  | {type: 'warning'; message: string}
  /** The image was built (before tagging). */
  | {type: 'image'; imageId: string}

export interface BuildOptions {
  /** The build context, a tar stream (see `bentoBuildContext`). */
  context: NodeJS.ReadableStream
  /** Path of the Dockerfile inside the context. */
  dockerfile: string
  tags: string[]
  labels: Record<string, string>
  buildArgs?: Record<string, string>
  onProgress: (e: BuildEvent) => void
  signal?: AbortSignal
  /** Do not use the layer cache. */
  noCache?: boolean
  /**
   * BuildKit secrets (`RUN --mount=type=secret,id=<id>`): a Bento's `envs` of stage `build` (a value), `--ca-cert`
   * files (a path). The content reaches the build steps only; implementations must not put it in a build arg, a
   * label, a file of the context or a log.
   */
  secrets?: BuildSecret[]
  /** BuildKit's target platform (`linux/arm64`); default the daemon's own. A foreign one runs its RUN steps under QEMU. */
  platform?: string
}

/**
 * What `GET /version` says: the API version, whether builds use BuildKit syntax (`RUN --mount`), and the engine —
 * `podman` when a component is "Podman Engine" (Podman's Docker-compatible API: no BuildKit session, `POST /session`).
 */
export interface DaemonInfo {
  apiVersion: string
  buildkit: boolean
  engine?: 'docker' | 'podman'
  /** The daemon's architecture (`Arch`, GOARCH: amd64, arm64): the platform it builds without emulation. */
  arch?: string
}

/** A BuildKit secret: its content given as a value, or as a file the builder reads. */
export type BuildSecret = {id: string; value: string} | {id: string; file: string}

export interface ImportOptions {
  /** The image's only layer: a tar stream of its file system (see `modelLayerTar`). */
  layer: NodeJS.ReadableStream
  /** `repo:tag` the image gets. */
  tag: string
  labels: Record<string, string>
  signal?: AbortSignal
}

export interface CommitLayerOptions {
  /** The image the layer goes on (an id or `repo:tag`). */
  base: string
  /** The layer's entries: a tar stream extracted onto `base`'s file system, owners, modes and mtimes as written. */
  layer: NodeJS.ReadableStream
  /** `repo:tag` the new image gets; untagged when absent (an intermediate of several layers, kept as the next one's parent). */
  tag?: string
  /** What the new layer's history entry says (`docker history`'s CREATED BY). */
  createdBy: string
  signal?: AbortSignal
}

export interface ImageInfo {
  id: string
  repoTags: string[]
  repoDigests: string[]
  created: string
  size: number
  labels: Record<string, string>
  /** `Config.User` of the image, e.g. `bentoml`. */
  user: string
  entrypoint: string[]
  cmd: string[]
  env: string[]
  exposedPorts: string[]
  architecture: string
  os: string
  /** `RootFS.Layers`: the digests of the image's uncompressed layers, base first (the export's layer tars hash to these). */
  diffIds: string[]
}

export interface LayerInfo {
  id: string
  createdBy: string
  size: number
  created: number
}

export interface ImageSummary {
  id: string
  repoTags: string[]
  labels: Record<string, string>
  created: number
  size: number
}

export interface ListFilters {
  /** `key` or `key=value` label filters (all must match). */
  label?: string[]
  /** Image reference filter, e.g. `iris` or `iris:*`. */
  reference?: string[]
  dangling?: boolean
}

export interface RegistryAuth {
  username?: string
  password?: string
  identitytoken?: string
  serveraddress: string
}

export interface PushResult {
  digest: string
  /** See push.ts `PushUpload`. */
  uploadedBytes: number
  layersPushed: number
  layersExisting: number
  /** Per layer, by the engine's 12-digit id of its diff id: uploaded, or already in the registry (push.ts `layerOutcomes`). */
  layers?: Array<{id: string; action: 'pushed' | 'existing'}>
}

export interface PushEvent {
  status: string
  id?: string
  progress?: string
}

export interface ImageClient {
  /**
   * Reachability and capabilities. Throws DockerUnavailableError when the daemon cannot be reached, does not answer in
   * time, or what answers is no Docker daemon. Every method bounds its wait the same way (DockerodeClient: deadline.ts)
   * and rejects with InterruptedError once the client's or the call's signal aborts.
   */
  ping(): Promise<DaemonInfo>
  /**
   * Build an image. Rejects with DockerBuildError (`E_DOCKER_BUILD_STEP`, `E_DOCKER_BASE_IMAGE`,
   * `E_DOCKER_DAEMON_LOST`, `E_DOCKER_BUILD`) or InterruptedError; after a failure none of `tags`
   * points at a partial image.
   */
  build(opts: BuildOptions): Promise<{imageId: string}>
  /**
   * An image of one layer, the tar as given (`docker import`): the daemon unpacks it once, no build step copies it.
   * Rejects with DockerBuildError (`E_DOCKER_BUILD`, `E_DOCKER_DAEMON_LOST`) or InterruptedError; the tag is set
   * only once the whole layer is in.
   */
  importImage(opts: ImportOptions): Promise<{imageId: string}>
  /**
   * `base` plus one layer holding `layer`'s entries, without a build: a container of `base` (never started), the tar
   * extracted into it (`PUT /containers/{id}/archive`), committed (`POST /commit`), the container removed. The daemon
   * unpacks the entries once and writes the layer from its own diff, so the layer's diff ID is a function of the
   * entries alone, not of `base` (docker/model-image.ts). The config stays `base`'s. Rejects with DockerBuildError
   * (`E_DOCKER_BUILD`, `E_DOCKER_DAEMON_LOST`) or InterruptedError; the tag is set only once the layer is committed.
   */
  commitLayer(opts: CommitLayerOptions): Promise<{imageId: string}>
  inspect(ref: string): Promise<ImageInfo | null>
  history(ref: string): Promise<LayerInfo[]>
  remove(ref: string, opts?: {force?: boolean}): Promise<void>
  tag(id: string, repoTag: string): Promise<void>
  /** The pushed manifest's digest, and what went up (push.ts `PushUpload`: uploadedBytes, layersPushed, layersExisting). */
  push(ref: string, opts: {auth?: RegistryAuth; onProgress: (e: PushEvent) => void; signal?: AbortSignal}): Promise<PushResult>
  list(filters?: ListFilters): Promise<ImageSummary[]>
  /**
   * The engine's export of one image (`docker save`, `GET /images/{name}/get`) as a tar stream, read as it comes (a
   * slow reader slows the engine; nothing is buffered). Ends with InterruptedError once a signal aborts; a missing
   * image is NotFoundError(E_IMAGE_NOT_FOUND).
   */
  save(ref: string, opts?: {signal?: AbortSignal}): Promise<NodeJS.ReadableStream>
}

/** Split `repo[:tag]` (a registry port is not a tag). `@digest` references keep the digest in `tag`. */
export function splitRepoTag(ref: string): {repo: string; tag: string} {
  const at = ref.indexOf('@')
  if (at !== -1) return {repo: ref.slice(0, at), tag: ref.slice(at + 1)}
  const slash = ref.lastIndexOf('/')
  const colon = ref.lastIndexOf(':')
  if (colon > slash) return {repo: ref.slice(0, colon), tag: ref.slice(colon + 1)}
  return {repo: ref, tag: 'latest'}
}

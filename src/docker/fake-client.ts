import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {Readable} from 'node:stream'

import tar from 'tar-stream'

import {DockerBuildError, DockerPushError, InterruptedError, NotFoundError} from '../errors.js'
import type {
  BuildEvent,
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

type Op = 'ping' | 'build' | 'import' | 'commit' | 'inspect' | 'history' | 'remove' | 'tag' | 'push' | 'list' | 'save'

/** A scripted failure: an error to throw, or a function of the call's first argument returning one (or nothing). */
export type FakeFailure = Error | ((arg: unknown) => Error | undefined)

export interface FakeImageClientOptions {
  apiVersion?: string
  buildkit?: boolean
  /** Failures per operation; `ping: new DockerUnavailableError(...)` simulates a missing daemon. */
  failures?: Partial<Record<Op, FakeFailure>>
  /** Events emitted by every build before it succeeds. */
  buildEvents?: BuildEvent[]
  /** Images that exist before any build (e.g. the base image). */
  images?: Array<Partial<ImageInfo> & {id: string; repoTags: string[]}>
  /** What `save` streams for an image id: tar entries (name → bytes), e.g. `blobs/sha256/<hex>`. */
  exports?: Record<string, Array<{name: string; data: Buffer}>>
}

/** What a build received: the context's file names and text files (Dockerfile, .dockerignore, …). */
export interface RecordedBuild {
  tags: string[]
  dockerfile: string
  labels: Record<string, string>
  buildArgs: Record<string, string>
  files: string[]
  /** Content of small text entries (< 64 KiB), by path. */
  contents: Record<string, string>
  modes: Record<string, number>
  /** Build secret ids (the values are checked never to appear in what the fake records). */
  secrets: string[]
  /** `BuildOptions.platform`, when given. */
  platform?: string
}

/** What an import received: the layer tar's entries (text ones by content) and the labels. */
export interface RecordedImport {
  tag: string
  labels: Record<string, string>
  files: string[]
  contents: Record<string, string>
  modes: Record<string, number>
}

/** What a layer commit received: the base it went on, the layer tar's entries (text ones by content), the history line. */
export interface RecordedCommit {
  base: string
  tag?: string
  createdBy: string
  files: string[]
  contents: Record<string, string>
  modes: Record<string, number>
}

/** In-memory `ImageClient` for service tests: records calls, keeps images in a map, fails on demand. */
export class FakeImageClient implements ImageClient {
  readonly calls: Array<{op: Op; arg?: unknown}> = []
  readonly builds: RecordedBuild[] = []
  readonly imports: RecordedImport[] = []
  readonly commits: RecordedCommit[] = []
  readonly pushes: Array<{ref: string; auth?: RegistryAuth}> = []
  private readonly images = new Map<string, ImageInfo>()
  private readonly opts: FakeImageClientOptions

  constructor(opts: FakeImageClientOptions = {}) {
    this.opts = opts
    for (const img of opts.images ?? []) this.images.set(img.id, {...emptyInfo(img.id), ...img})
  }

  private check(op: Op, arg?: unknown): void {
    this.calls.push({op, arg})
    const f = this.opts.failures?.[op]
    const err = typeof f === 'function' ? f(arg) : f
    if (err) throw err
  }

  private find(ref: string): ImageInfo | undefined {
    const direct = this.images.get(ref)
    if (direct) return direct
    const want = ref.includes(':') || ref.includes('@') ? ref : `${ref}:latest`
    for (const img of this.images.values()) {
      if (img.repoTags.includes(want) || img.id.startsWith(`sha256:${ref}`)) return img
    }
    return undefined
  }

  async ping(): Promise<DaemonInfo> {
    this.check('ping')
    return {apiVersion: this.opts.apiVersion ?? '1.47', buildkit: this.opts.buildkit ?? true, arch: 'amd64'}
  }

  async build(opts: BuildOptions): Promise<{imageId: string}> {
    const recorded = await readContext(opts.context)
    const build: RecordedBuild = {
      tags: opts.tags,
      dockerfile: opts.dockerfile,
      labels: opts.labels,
      buildArgs: opts.buildArgs ?? {},
      ...recorded,
      secrets: (opts.secrets ?? []).map((x) => x.id),
      ...(opts.platform ? {platform: opts.platform} : {}),
    }
    // What an implementation must never do: carry a secret's value in the context, a build arg or a label.
    for (const sec of opts.secrets ?? []) {
      const value = 'file' in sec ? secretFileBody(sec.file) : sec.value
      const carried = [...Object.values(build.contents), ...Object.values(build.buildArgs), ...Object.values(build.labels)].some((t) => value !== '' && t.includes(value))
      if (carried) throw new Error(`fake docker: the value of build secret ${sec.id} is in the build context, a build arg or a label`)
    }
    this.builds.push(build)
    this.check('build', build)
    if (opts.signal?.aborted) throw new InterruptedError('Build interrupted')
    if (!build.files.includes(opts.dockerfile)) {
      throw new DockerBuildError(`The daemon rejected the build: Cannot locate specified Dockerfile: ${opts.dockerfile}`)
    }
    for (const e of this.opts.buildEvents ?? []) opts.onProgress(e)
    const [os = 'linux', architecture = 'amd64'] = (opts.platform ?? 'linux/amd64').split('/')
    const imageId = this.store(build, opts.tags, {user: 'bentoml', os, architecture})
    opts.onProgress({type: 'image', imageId})
    return {imageId}
  }

  /** An image whose id is a hash of what it received (file names, text contents, labels), under `tags` only. */
  private store(received: Pick<RecordedBuild, 'files' | 'contents' | 'labels'>, tags: string[], info: Partial<ImageInfo> = {}): string {
    const hash = createHash('sha256')
    for (const name of received.files) hash.update(`${name}\0${received.contents[name] ?? ''}\0`)
    hash.update(JSON.stringify(received.labels))
    if ('platform' in received && typeof received.platform === 'string') hash.update(received.platform)
    const imageId = `sha256:${hash.digest('hex')}`
    for (const img of this.images.values()) img.repoTags = img.repoTags.filter((t) => !tags.includes(t))
    this.images.set(imageId, {...emptyInfo(imageId), repoTags: [...tags], labels: {...received.labels}, ...info})
    return imageId
  }

  async importImage(opts: ImportOptions): Promise<{imageId: string}> {
    const recorded = await readContext(opts.layer)
    const imported: RecordedImport = {tag: opts.tag, labels: opts.labels, ...recorded}
    this.imports.push(imported)
    this.check('import', imported)
    if (opts.signal?.aborted) throw new InterruptedError('Import interrupted')
    return {imageId: this.store(imported, [opts.tag])}
  }

  /** The base's image with one more layer (a hash of the entries: the same entries give the same diff ID on any base). */
  async commitLayer(opts: CommitLayerOptions): Promise<{imageId: string}> {
    const recorded = await readContext(opts.layer)
    const commit: RecordedCommit = {base: opts.base, tag: opts.tag, createdBy: opts.createdBy, ...recorded}
    this.commits.push(commit)
    this.check('commit', commit)
    if (opts.signal?.aborted) throw new InterruptedError('Layer commit interrupted')
    const base = this.find(opts.base)
    if (!base) throw new DockerBuildError(`The daemon refused the layer of ${opts.tag ?? 'a layer'}: no such image: ${opts.base}`)
    const layer = createHash('sha256')
    for (const name of recorded.files) layer.update(`${name}\0${recorded.contents[name] ?? ''}\0`)
    const diffId = `sha256:${layer.digest('hex')}`
    const imageId = `sha256:${createHash('sha256').update(`${base.id}\0${diffId}`).digest('hex')}`
    for (const img of this.images.values()) img.repoTags = img.repoTags.filter((t) => t !== opts.tag)
    this.images.set(imageId, {...structuredClone(base), id: imageId, repoTags: opts.tag === undefined ? [] : [opts.tag], repoDigests: [], diffIds: [...base.diffIds, diffId]})
    return {imageId}
  }

  async inspect(ref: string): Promise<ImageInfo | null> {
    this.check('inspect', ref)
    const img = this.find(ref)
    return img ? structuredClone(img) : null
  }

  async history(ref: string): Promise<LayerInfo[]> {
    this.check('history', ref)
    const img = this.find(ref)
    if (!img) throw new NotFoundError(`No such image: ${ref}`, {code: 'E_IMAGE_NOT_FOUND'})
    return [{id: img.id, createdBy: 'fake', size: img.size, created: 0}]
  }

  async remove(ref: string, _opts: {force?: boolean} = {}): Promise<void> {
    this.check('remove', ref)
    const img = this.find(ref)
    if (!img) return
    const want = ref.includes(':') ? ref : `${ref}:latest`
    if (img.repoTags.includes(want) && img.repoTags.length > 1) img.repoTags = img.repoTags.filter((t) => t !== want)
    else this.images.delete(img.id)
  }

  async tag(id: string, repoTag: string): Promise<void> {
    this.check('tag', {id, repoTag})
    const img = this.find(id)
    if (!img) throw new NotFoundError(`No such image: ${id}`, {code: 'E_IMAGE_NOT_FOUND'})
    const {repo, tag} = splitRepoTag(repoTag)
    const full = `${repo}:${tag}`
    for (const other of this.images.values()) other.repoTags = other.repoTags.filter((t) => t !== full)
    img.repoTags.push(full)
  }

  async push(ref: string, opts: {auth?: RegistryAuth; onProgress: (e: PushEvent) => void}): Promise<PushResult> {
    this.check('push', ref)
    const img = this.find(ref)
    if (!img) throw new DockerPushError(`Push of ${ref} was refused: No such image: ${ref}`)
    this.pushes.push({ref, auth: opts.auth})
    opts.onProgress({status: 'Pushed', id: img.id.slice(7, 19)})
    const digest = `sha256:${createHash('sha256').update(img.id).digest('hex')}`
    const first = !img.repoDigests.some((d) => d.startsWith(`${splitRepoTag(ref).repo}@`))
    img.repoDigests = [...img.repoDigests, `${splitRepoTag(ref).repo}@${digest}`]
    // One layer of FAKE_LAYER_BYTES, uploaded the first time the repository gets the image.
    return {digest, uploadedBytes: first ? FAKE_LAYER_BYTES : 0, layersPushed: first ? 1 : 0, layersExisting: first ? 0 : 1}
  }

  async save(ref: string, opts: {signal?: AbortSignal} = {}): Promise<NodeJS.ReadableStream> {
    this.check('save', ref)
    const img = this.find(ref)
    if (!img) throw new NotFoundError(`No image ${ref} in the Docker engine`, {code: 'E_IMAGE_NOT_FOUND'})
    if (opts.signal?.aborted) throw new InterruptedError(`Export of ${ref} interrupted`)
    const pack = tar.pack()
    for (const e of this.opts.exports?.[img.id] ?? []) pack.entry({name: e.name, size: e.data.length}, e.data)
    pack.finalize()
    return Readable.from(pack as unknown as AsyncIterable<Buffer>)
  }

  async list(filters: ListFilters = {}): Promise<ImageSummary[]> {
    this.check('list', filters)
    return [...this.images.values()]
      .filter((img) =>
        (filters.label ?? []).every((l) => {
          const [k, ...v] = l.split('=')
          const have = img.labels[k as string]
          return v.length === 0 ? have !== undefined : have === v.join('=')
        }),
      )
      .filter((img) => (filters.dangling === undefined ? true : filters.dangling === (img.repoTags.length === 0)))
      .filter((img) => (filters.reference ?? []).every((r) => img.repoTags.some((t) => t === r || t.startsWith(`${r}:`))))
      .map((img) => ({id: img.id, repoTags: [...img.repoTags], labels: {...img.labels}, created: Math.floor(Date.parse(img.created) / 1000) || 0, size: img.size}))
  }
}

/** What must not leak of a file secret: its first PEM body line (a copy of any part of a CA starts there), else all of it. */
function secretFileBody(file: string): string {
  const text = readFileSync(file, 'utf8')
  return /-----BEGIN [A-Z ]+-----\r?\n([A-Za-z0-9+/=]{16,})/.exec(text)?.[1] ?? text
}

/** What the fake uploads the first time a repository gets an image (one layer). */
export const FAKE_LAYER_BYTES = 1024

function emptyInfo(id: string): ImageInfo {
  return {
    id,
    repoTags: [],
    repoDigests: [],
    created: '1980-01-01T00:00:00Z',
    size: 0,
    labels: {},
    user: '',
    entrypoint: [],
    cmd: [],
    env: [],
    exposedPorts: [],
    architecture: 'amd64',
    os: 'linux',
    diffIds: [],
  }
}

/** Drain a tar context, recording names, modes and small text contents. */
async function readContext(context: NodeJS.ReadableStream): Promise<Pick<RecordedBuild, 'files' | 'contents' | 'modes'>> {
  const files: string[] = []
  const contents: Record<string, string> = {}
  const modes: Record<string, number> = {}
  const extract = tar.extract()
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = []
      let size = 0
      stream.on('data', (c: unknown) => {
        if (!Buffer.isBuffer(c)) return
        size += c.length
        if (size < 65536) chunks.push(c)
      })
      stream.on('end', () => {
        const name = header.name.replace(/\/$/, '')
        files.push(name)
        modes[name] = header.mode ?? 0
        if (header.type === 'file' && size < 65536) contents[name] = Buffer.concat(chunks).toString('utf8')
        next()
      })
    })
    extract.on('finish', resolve)
    extract.on('error', reject)
    context.on('error', (err: Error) => reject(err))
  })
  context.pipe(extract)
  await done
  return {files, contents, modes}
}


/**
 * `bento push TAG|IMAGE REF` (and `containerize --direct-push`): bento's own OCI distribution client pushes an image
 * of the engine to a registry. Plan: HEAD every blob (config + each layer by diff id) → mount what another repository
 * of the registry has → read the engine's export once for what is still missing, uploading each missing layer as it
 * streams (uncompressed: digest = diff id) → PUT the manifest last. A re-push whose blobs are all there reads nothing
 * from the engine; an interrupted push has written no tag.
 */
import {createHash} from 'node:crypto'

import {humanSize} from '../byte-size.js'
import {formatTag} from '../bentoml/tag.js'
import {type ImageClient, type ImageInfo, OCI_MANIFEST, ociManifest, readImageExport, resolveRegistryAuth} from '../docker/index.js'
import {isBentoError, NotFoundError, RegistryError} from '../errors.js'
import {type HttpTransport, parseReference, RegistryClient, type UploadPolicy} from '../registry/index.js'
import type {Reporter} from '../reporter.js'
import {withBentoReader} from '../store/store.js'

export interface PushOptions {
  home: string
  /** A Bento tag of the store (its image from `bento containerize`: NAME:VERSION) or an image reference. */
  target: string
  /** Where to: `REGISTRY/REPOSITORY[:TAG]`. */
  ref: string
  images: ImageClient
  /** ~/.docker (DOCKER_CONFIG): credentials as `docker push` finds them (config.json, credential helpers). */
  dockerConfigDir: string
  reporter: Reporter
  signal?: AbortSignal
  /** Repositories of the same registry to mount missing blobs from (besides the image's own tags there). */
  mountFrom?: string[]
  policy?: UploadPolicy
  /** For tests: the HTTP transport (default node:http/https). */
  transport?: HttpTransport
}

export interface PushedBlob {
  digest: string
  size: number
  kind: 'config' | 'layer'
  /** `exists`: the registry had it (nothing read, nothing sent); `mounted`: from another repository; `uploaded`. */
  action: 'exists' | 'mounted' | 'uploaded'
  /** Bytes sent for it (resent bytes included; 0 unless uploaded). */
  uploadedBytes: number
  mountedFrom?: string
}

export interface PushResult {
  image: string
  imageId: string
  ref: string
  /** The manifest's digest: pull by `REPOSITORY@DIGEST`. */
  digest: string
  mediaType: string
  blobs: PushedBlob[]
  /** Blob bytes sent in all (0 when the registry had every blob). */
  uploadedBytes: number
  /** Whether the engine's export was read (false when nothing had to be uploaded). */
  exportRead: boolean
  requests: number
  retries: number
  resumes: number
  tokenRefreshes: number
  durationMs: number
}


/** The image of a Bento tag (`bento containerize`'s default NAME:VERSION), else TARGET as an image reference. */
async function resolveImage(opts: PushOptions): Promise<{image: string; info: ImageInfo}> {
  let fromBento: string | undefined
  try {
    fromBento = await withBentoReader(opts.home, opts.target, 'push', async (b) => formatTag(b.tag))
  } catch (error) {
    if (!(isBentoError(error) && ['E_BENTO_NOT_FOUND', 'E_INVALID_TAG', 'E_NOT_FOUND', 'E_AMBIGUOUS_TAG'].includes(error.code))) throw error
  }
  for (const image of fromBento === undefined ? [opts.target] : [fromBento, opts.target]) {
    const info = await opts.images.inspect(image)
    if (info) return {image, info}
  }
  throw new NotFoundError(
    fromBento === undefined ? `"${opts.target}" is neither a Bento in the store nor an image in the Docker engine` : `Bento ${opts.target} has no image ${fromBento} in the Docker engine`,
    {code: 'E_IMAGE_NOT_FOUND', hint: fromBento === undefined ? 'give a Bento tag (`bento list`) or an image reference (`docker images`)' : `build it first: bento containerize ${opts.target}`},
  )
}

export async function push(opts: PushOptions): Promise<PushResult> {
  parseReference(opts.ref) // a bad reference is refused before the engine is asked anything
  const {image, info} = await resolveImage(opts)
  return pushImage({...opts, image, info})
}

/** Push one local image (already inspected) to `target`. Shared by `bento push` and `containerize --direct-push`. */
export async function pushImage(
  opts: Omit<PushOptions, 'target' | 'home'> & {image: string; info: ImageInfo},
): Promise<PushResult> {
  const started = performance.now()
  const {reporter, info} = opts
  const ref = parseReference(opts.ref)
  if (info.diffIds.length === 0) throw new RegistryError(`The engine reports no layers for ${opts.image}`, {code: 'E_PUSH_EXPORT'})
  const auth = await resolveRegistryAuth(`${ref.registry}/${ref.repository}`, {configDir: opts.dockerConfigDir})
  const credentials = auth ? {username: auth.username, password: auth.password, identitytoken: auth.identitytoken} : undefined
  const client = new RegistryClient(ref, credentials, {transport: opts.transport, signal: opts.signal, policy: opts.policy})
  const where = `${ref.registry}/${ref.repository}:${ref.tag}`
  reporter.log(`Pushing ${opts.image} to ${where} (${info.diffIds.length} layers, uncompressed)`)

  // 1. What the registry has: HEAD each blob (the config's digest is the image id).
  const wanted: Array<{digest: string; kind: 'config' | 'layer'}> = [{digest: info.id, kind: 'config'}]
  for (const d of info.diffIds) if (!wanted.some((w) => w.digest === d)) wanted.push({digest: d, kind: 'layer'})
  const blobs = new Map<string, PushedBlob>()
  const missing = new Set<string>()
  for (const w of wanted) {
    const size = await client.blobSize(w.digest)
    if (size === null) missing.add(w.digest)
    else {
      blobs.set(w.digest, {digest: w.digest, size, kind: w.kind, action: 'exists', uploadedBytes: 0})
      reporter.log(`  ${short(w.digest)} ${w.kind}: already there (${humanSize(size, {digits: 1})})`)
    }
  }

  // 2. Cross-repository mounts: the image's other tags on this registry, and --mount-from.
  const sources = new Set(opts.mountFrom ?? [])
  for (const t of info.repoTags) {
    try {
      const other = parseReference(t)
      if (other.registry === ref.registry && other.repository !== ref.repository) sources.add(other.repository)
    } catch {
      // a local-only tag: not a mount source
    }
  }
  for (const from of sources) {
    for (const d of [...missing]) {
      if (!(await client.mount(d, from))) continue
      const size = (await client.blobSize(d)) ?? 0
      missing.delete(d)
      const kind = d === info.id ? 'config' : 'layer'
      blobs.set(d, {digest: d, size, kind, action: 'mounted', uploadedBytes: 0, mountedFrom: from})
      reporter.log(`  ${short(d)} ${kind}: mounted from ${from}`)
    }
  }

  // 3. The rest from the engine's export, uploaded as it streams.
  let exportRead = false
  if (missing.size > 0) {
    exportRead = true
    reporter.log(`Reading the engine's export of ${opts.image} for ${missing.size} blob(s)`)
    const stream = await opts.images.save(opts.image, {signal: opts.signal})
    const handed = await readImageExport(stream, info, (d) => missing.has(d), async (b) => {
      const label = `  ${short(b.digest)} ${b.kind}`
      const sent = await client.uploadBlob(b.digest, b.size, b.stream, (done) => reporter.progress(label, done, b.size))
      missing.delete(b.digest)
      blobs.set(b.digest, {digest: b.digest, size: b.size, kind: b.kind, action: 'uploaded', uploadedBytes: sent})
      reporter.log(`${label}: uploaded ${humanSize(sent, {digits: 1})}`)
    })
    const lost = [...missing].filter((d) => !handed.has(d))
    if (lost.length > 0) {
      throw new RegistryError(`The engine's export of ${opts.image} has no layer for ${lost.map(short).join(', ')}: no tag was written`, {
        code: 'E_PUSH_EXPORT',
        hint: 'the engine names the layers of its export in a way bento does not read; push through the engine instead: `docker push` or `bento containerize --push`',
        data: {missing: lost},
      })
    }
  }

  // 4. The manifest, last: until it is in, the registry has blobs and no tag.
  const sizeOf = (d: string): number => blobs.get(d)?.size ?? 0
  // Uncompressed layers: the export's layer tars are the blobs, their digests the image's diff ids.
  const body = ociManifest({digest: info.id, size: sizeOf(info.id)}, info.diffIds.map((d) => ({digest: d, size: sizeOf(d)})))
  const digest = await client.putManifest(ref.tag, body, OCI_MANIFEST)
  const local = `sha256:${createHash('sha256').update(body).digest('hex')}`
  if (digest !== local) reporter.warn(`the registry names the manifest ${digest}, bento computed ${local}`)
  const list = wanted.map((w) => blobs.get(w.digest) as PushedBlob)
  const uploadedBytes = list.reduce((n, b) => n + b.uploadedBytes, 0)
  reporter.log(`Pushed ${where}@${digest}: ${humanSize(uploadedBytes, {digits: 1})} uploaded, ${list.filter((b) => b.action === 'exists').length} of ${list.length} blobs already there`)
  return {
    image: opts.image,
    imageId: info.id,
    ref: where,
    digest,
    mediaType: OCI_MANIFEST,
    blobs: list,
    uploadedBytes,
    exportRead,
    requests: client.stats.requests,
    retries: client.stats.retries,
    resumes: client.stats.resumes,
    tokenRefreshes: client.tokenRefreshes,
    durationMs: Math.round(performance.now() - started),
  }
}

function short(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12)
}

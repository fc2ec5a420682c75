/**
 * The images a Bento image is built from, other than its base: one per model version (imported from the model's
 * layer tar), the models committed onto the dependency image (big models: docker/model-image.ts, "Committed model
 * layers"), one per Hugging Face model and one per `--wheelhouse` directory. Each is reused when this home — or,
 * by its labels, another home — already has it as it is now; the lease (store/image-leases.ts) keeps `bento prune`
 * off them while a containerize uses them (services/containerize.ts builds the Bento image from them).
 */
import {rm} from 'node:fs/promises'
import {resolve} from 'node:path'
import {PassThrough} from 'node:stream'

import {modelManifest, type ModelManifest, peekModelDigest} from '../bento/model-digest.js'
import {downloadHfModel, type HfModelRef, hfRepoFolder} from '../bento/huggingface/download.js'
import type {LocatedModel} from '../bento/models-of.js'
import {formatTag, splitTag} from '../bentoml/tag.js'
import {humanSize} from '../byte-size.js'
import type {Cleanup} from '../cleanup.js'
import {
  committedModelsRef,
  type ImageClient,
  MODEL_KIND_LABEL,
  modelImageIsCurrent,
  modelImageLabels,
  modelImageRef,
  modelLayerCreatedBy,
  modelLayerTar,
  WHEELHOUSE_DOCKERFILE,
  wheelhouseImageContext,
  wheelhouseImageLabels,
  wheelhouseImageRef,
} from '../docker/index.js'
import {isBentoError, UsageError} from '../errors.js'
import type {Reporter} from '../reporter.js'
import type {ImageLease} from '../store/image-leases.js'
import {makeTempDir} from '../store/store.js'

/** What making these images needs of a containerize (ContainerizeOptions has it). */
export interface ImageJob {
  home: string
  client: ImageClient
  reporter: Reporter
  noCache?: boolean
  signal?: AbortSignal
  cleanup?: Cleanup
  env?: NodeJS.ProcessEnv
}

/**
 * Models of at least this many bytes in all are committed onto the Bento image's dependency image (docker/model-image.ts,
 * "Committed model layers") instead of imported as model images: a cold containerize of a 4 GiB model then passes over
 * it twice in the daemon, not three times. Below it the split costs more than it saves (a second engine build on every
 * containerize, ≈ 0.3 s warm; a container and a commit cold), and the model's extra pass is ≈ 2 s or less.
 */
export const COMMIT_MODELS_FROM = 256 * 2 ** 20

/** BENTO_COMMIT_MODELS_FROM: a byte count (`0`: always commit), with an optional K, M or G (binary). */
export function parseCommitModelsFrom(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const m = /^\s*(\d+)\s*([KMG]?)i?B?\s*$/i.exec(value)
  if (!m) throw new UsageError(`BENTO_COMMIT_MODELS_FROM=${value} is not a size`, {hint: 'a byte count with an optional K, M or G, e.g. 256M (0: commit every model)'})
  return Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase())
}

export interface ModelImageResult {
  model: string
  image: string
  /** False when an up-to-date model image was reused (no model byte read or sent). */
  built: boolean
  /** Bytes of the model image's build context sent to the daemon (0 when reused). */
  contextBytes: number
}

/** A pass-through that counts the bytes that go through it. */
export function counted(stream: NodeJS.ReadableStream): {stream: NodeJS.ReadableStream; bytes: () => number} {
  let n = 0
  const out = new PassThrough()
  stream.on('data', (chunk: Buffer) => {
    n += chunk.length
  })
  stream.on('error', (err: Error) => out.destroy(err))
  stream.pipe(out)
  return {stream: out, bytes: () => n}
}

export interface ImagesOfHome {
  id: string
  lease: ImageLease
}

/**
 * An image this home can use under `ref` without sending a byte: `ref` itself when `current` says it is up to date,
 * else another home's image of the same thing (found by its labels), tagged `ref` here. Null when none is.
 */
export async function reuseImage(
  opts: ImageJob,
  ref: string,
  kind: 'model' | 'wheelhouse',
  labelFilter: string,
  current: (labels: Record<string, string>) => boolean,
): Promise<boolean> {
  if (opts.noCache) return false
  const existing = await opts.client.inspect(ref)
  if (existing && current(existing.labels)) return true
  const others = await opts.client.list({label: [`${MODEL_KIND_LABEL}=${kind}`, labelFilter]})
  for (const other of others) {
    if (!current(other.labels)) continue
    try {
      await opts.client.tag(other.id, ref)
      return true
    } catch (error) {
      // Removed meanwhile (by its home's prune): try the next one, else import.
      if (isBentoError(error) && (error.code === 'E_DOCKER_UNAVAILABLE' || error.code === 'E_INTERRUPTED')) throw error
    }
  }
  return false
}

/**
 * The model image of one model version: reused when an image with its tag holds this model as it is now (same
 * file manifest, or same content digest), or tagged from another home's image of it, else imported from the model
 * directory (its bytes sent once). `manifest` is the model directory's (containerize reads it once per model: it also
 * decides whether the models are committed instead).
 */
export async function ensureModelImage(opts: ImageJob, images: ImagesOfHome, m: LocatedModel & {dir: string}, manifest: ModelManifest): Promise<ModelImageResult> {
  const ref = modelImageRef(m.name, m.version, images.id)
  await images.lease.hold(ref)
  const identity = {
    name: m.name,
    version: m.version,
    manifestKey: manifest.key,
    digest: await peekModelDigest(opts.home, m.name, m.version, manifest.key),
    size: manifest.size,
    homeId: images.id,
  }
  if (await reuseImage(opts, ref, 'model', `dev.bento.model.tag=${formatTag(m)}`, (labels) => modelImageIsCurrent(labels, identity))) {
    opts.reporter.log(`Model ${m.tag}: image ${ref} is up to date`)
    return {model: m.tag, image: ref, built: false, contextBytes: 0}
  }
  opts.reporter.log(`Model ${m.tag}: importing image ${ref} (${humanSize(manifest.size, {digits: 1, unit: 'MiB'})}, once per model version)`)
  const layer = counted(modelLayerTar({name: m.name, version: m.version, dir: m.dir}))
  await opts.client.importImage({layer: layer.stream, tag: ref, labels: modelImageLabels(identity), signal: opts.signal})
  return {model: m.tag, image: ref, built: true, contextBytes: layer.bytes()}
}

/**
 * The dependency image with the models' layers committed onto it, one per model (docker/model-image.ts): reused when
 * this home has it for the same dependency image and models (its tag says so), else each model's layer tar is streamed
 * into a container of the image below and committed. With `--no-cache` it is made again.
 */
export async function ensureCommittedModels(
  opts: ImageJob,
  images: ImagesOfHome,
  depsImage: string,
  models: Array<{m: LocatedModel & {dir: string}; manifest: ModelManifest}>,
): Promise<{ref: string; results: ModelImageResult[]}> {
  const ref = committedModelsRef(images.id, depsImage, models.map(({m, manifest}) => ({name: m.name, version: m.version, manifestKey: manifest.key})))
  await images.lease.hold(ref)
  const existing = await opts.client.inspect(ref)
  if (existing !== null && !opts.noCache) {
    opts.reporter.log(`Models ${models.map(({m}) => m.tag).join(', ')}: committed onto the dependency image already (${ref})`)
    return {ref, results: models.map(({m}) => ({model: m.tag, image: ref, built: false, contextBytes: 0}))}
  }
  const results: ModelImageResult[] = []
  let base = depsImage
  for (const [i, {m, manifest}] of models.entries()) {
    opts.reporter.log(`Model ${m.tag}: committing its layer onto the dependency image (${humanSize(manifest.size, {digits: 1, unit: 'MiB'})}, once per dependency image)`)
    const layer = counted(modelLayerTar({name: m.name, version: m.version, dir: m.dir}))
    const last = i === models.length - 1
    const {imageId} = await opts.client.commitLayer({base, layer: layer.stream, ...(last ? {tag: ref} : {}), createdBy: modelLayerCreatedBy(m), signal: opts.signal})
    base = imageId
    results.push({model: m.tag, image: ref, built: true, contextBytes: layer.bytes()})
  }
  // --no-cache made it again: the image the tag left (its layers stay while a Bento image uses them).
  if (existing !== null && existing.id !== base) await opts.client.remove(existing.id).catch(() => undefined)
  return {ref, results}
}

/** `--wheelhouse DIR` as an image, rebuilt only when the directory's manifest (names, sizes, mtimes) changes. */
export async function ensureWheelhouseImage(opts: ImageJob, images: ImagesOfHome, dir: string): Promise<{image: string; built: boolean; contextBytes: number}> {
  const manifest = await modelManifest(dir)
  const ref = wheelhouseImageRef(manifest.key, images.id)
  await images.lease.hold(ref)
  const source = resolve(dir)
  const current = (labels: Record<string, string>): boolean =>
    labels['dev.bento.wheelhouse.manifest'] === manifest.key && labels['dev.bento.wheelhouse.source'] === source
  if (await reuseImage(opts, ref, 'wheelhouse', `dev.bento.wheelhouse.manifest=${manifest.key}`, current)) return {image: ref, built: false, contextBytes: 0}
  opts.reporter.log(`Wheelhouse ${dir}: building image ${ref} (${humanSize(manifest.size, {digits: 1, unit: 'MiB'})}, once per wheelhouse content)`)
  const context = counted(wheelhouseImageContext(dir))
  await opts.client.build({
    context: context.stream,
    dockerfile: WHEELHOUSE_DOCKERFILE,
    tags: [ref],
    labels: wheelhouseImageLabels({manifestKey: manifest.key, size: manifest.size, dir, homeId: images.id}),
    noCache: opts.noCache,
    signal: opts.signal,
    onProgress: (e) => {
      if (e.type === 'warning') opts.reporter.warn(e.message)
    },
  })
  return {image: ref, built: true, contextBytes: context.bytes()}
}

/** The image of a Hugging Face model: reused by tag (its version is the md5 of model id, commit and patterns), else fetched and built. */
export async function ensureHfModelImage(opts: ImageJob, images: ImagesOfHome, ref: HfModelRef): Promise<ModelImageResult> {
  const {name, version: written} = splitTag(ref.tag)
  const version = written ?? ''
  const image = modelImageRef(name, version, images.id)
  await images.lease.hold(image)
  const identity = {name, version, registry: 'huggingface' as const, manifestKey: '', size: 0, homeId: images.id}
  if (await reuseImage(opts, image, 'model', `dev.bento.model.tag=${formatTag({name, version})}`, (labels) => modelImageIsCurrent(labels, identity))) {
    opts.reporter.log(`Hugging Face model ${ref.modelId}@${ref.revision.slice(0, 12)}: image ${image} is up to date`)
    return {model: ref.tag, image, built: false, contextBytes: 0}
  }
  opts.reporter.log(`Hugging Face model ${ref.modelId}@${ref.revision.slice(0, 12)}: fetching from ${ref.endpoint}, importing image ${image}`)
  const {dir: tmp, forget} = await makeTempDir(opts.home, `hf-${name}`, {kind: 'model', cleanup: opts.cleanup})
  try {
    const dir = await downloadHfModel(ref, tmp, {env: opts.env ?? {}, reporter: opts.reporter, signal: opts.signal})
    const manifest = await modelManifest(dir)
    const layer = counted(modelLayerTar({name, version, dir, hfRepoFolder: hfRepoFolder(ref.modelId)}))
    await opts.client.importImage({
      layer: layer.stream,
      tag: image,
      labels: {...modelImageLabels({...identity, manifestKey: manifest.key, size: manifest.size}), 'dev.bento.model.source': `${ref.endpoint}/${ref.modelId}@${ref.revision}`},
      signal: opts.signal,
    })
    return {model: ref.tag, image, built: true, contextBytes: layer.bytes()}
  } finally {
    await rm(tmp, {recursive: true, force: true})
    forget()
  }
}


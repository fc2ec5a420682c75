/**
 * `bento containerize --output oci:DIR | docker-archive:FILE`: the image the engine built, written by bento as an OCI
 * image layout (`skopeo copy oci:DIR docker://…`, `crane push`) or a docker-archive (`docker load -i FILE`).
 *
 * Every blob comes from the engine's export (`ImageClient.save`, read once by `readImageExport`: Docker's and Podman's
 * `docker save` formats), each layer hashed as it streams and checked against the image's diff id, the config against
 * the image id. Layers stay uncompressed (digest = diff id), as in `bento push`; the engine's image id is the config's
 * digest in both outputs, so `docker load` and a pull of the copied layout give back the image the engine built.
 *
 * Deterministic: the bytes are a function of the engine's image and SOURCE_DATE_EPOCH only (the docker-archive's tar
 * headers carry that mtime, else 0; owners 0, fixed modes; JSON with a fixed key order). Two containerize runs that
 * build the same image (the layer cache) write identical files.
 *
 * Nothing half-written: everything goes to a temp sibling of the target (`.<name>.bento-tmp-<pid>-<random>`), registered
 * with the process's cleanup list, renamed onto the target at the end; a failure or Ctrl-C removes it. An existing
 * target directory that is not empty is refused, never overwritten; an existing docker-archive file is replaced whole.
 */
import {createHash, randomBytes} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import {lstat, mkdir, readdir, rename, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {PassThrough, Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import tar from 'tar-stream'

import type {Cleanup} from '../cleanup.js'
import {drained, type TarHeader} from '../tar-writer.js'
import {ArchiveError, diskFullError, InterruptedError, isBentoError, isDiskFull, UsageError} from '../errors.js'
import {chainIds, type ExportBlob, readImageExport} from './export-layers.js'
import {type ImageClient, type ImageInfo, splitRepoTag} from './image-client.js'

export type OutputKind = 'oci' | 'docker-archive'

export interface OutputTarget {
  kind: OutputKind
  /** Absolute path of the directory (oci) or file (docker-archive). */
  path: string
}

export const OUTPUT_FORMS = 'oci:DIR (an OCI image layout) or docker-archive:FILE (for `docker load -i FILE`)'

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
/** Uncompressed: the export's layer tars are the blobs, their digests the image's diff ids. */
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar'

/** `--output VALUE` → a target, relative paths against `cwd`. A value of no accepted form is E_USAGE. Pure. */
export function parseOutput(value: string, cwd: string): OutputTarget {
  const m = /^(oci|docker-archive):(.+)$/.exec(value)
  if (!m) {
    throw new UsageError(`--output "${value}" is not an output bento writes: use ${OUTPUT_FORMS}`, {
      hint: 'e.g. --output oci:./iris-oci or --output docker-archive:./iris.tar',
      data: {flag: '--output', value, accepted: ['oci:DIR', 'docker-archive:FILE']},
    })
  }
  return {kind: m[1] as OutputKind, path: path.resolve(cwd, m[2] as string)}
}

/**
 * Refuse a target bento must not write over, before anything is built: an `oci:` target that exists and is a
 * non-empty directory or not a directory; a `docker-archive:` target that is a directory.
 */
export async function checkOutputTarget(target: OutputTarget): Promise<void> {
  const st = await lstat(target.path).catch(() => null)
  if (st === null) return
  if (target.kind === 'oci') {
    if (!st.isDirectory()) {
      throw new UsageError(`--output oci:${target.path}: it exists and is not a directory`, {hint: 'name a new or empty directory', data: {flag: '--output', path: target.path}})
    }
    if ((await readdir(target.path)).length > 0) {
      throw new UsageError(`--output oci:${target.path}: the directory exists and is not empty; bento does not overwrite it`, {
        hint: 'name a new or empty directory, or remove this one first',
        data: {flag: '--output', path: target.path},
      })
    }
  } else if (st.isDirectory()) {
    throw new UsageError(`--output docker-archive:${target.path}: it is a directory; a docker-archive is one file`, {
      hint: 'name a file, e.g. docker-archive:./iris.tar',
      data: {flag: '--output', path: target.path},
    })
  }
}

export interface OutputLayer {
  digest: string
  size: number
}

/** What was written. `manifestDigest`: the OCI manifest's (for oci:, also the digest a registry gives it when copied as is). */
export interface OutputResult {
  kind: OutputKind
  path: string
  /** The config's digest: the engine's image id, and the id `docker load` gives. */
  imageId: string
  manifestDigest: string
  layers: OutputLayer[]
  /** Bytes written in all (blobs and metadata). */
  bytes: number
}

/** The OCI image manifest of a config and its layers (in `diffIds` order). Pure. */
export function ociManifest(config: {digest: string; size: number}, layers: OutputLayer[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {mediaType: OCI_CONFIG, digest: config.digest, size: config.size},
      layers: layers.map((l) => ({mediaType: OCI_LAYER, digest: l.digest, size: l.size})),
    }),
  )
}

/**
 * The layout's index.json: one manifest, named by the first image reference (`org.opencontainers.image.ref.name` its
 * tag, as `skopeo copy oci:DIR:TAG` and buildx read it; `io.containerd.image.name` the whole reference). Pure.
 */
export function ociIndex(manifest: Buffer, ref: string | undefined): Buffer {
  const annotations = ref === undefined ? undefined : {'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': splitRepoTag(ref).tag}
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{mediaType: OCI_MANIFEST, digest: sha256(manifest), size: manifest.length, ...(annotations ? {annotations} : {})}],
    }),
  )
}

/** The docker-archive's manifest.json (what `docker load` reads) and its legacy `repositories`. Pure. */
export function dockerArchiveMetadata(imageId: string, diffIds: string[], refs: string[], topChainId: string): {manifest: Buffer; repositories: Buffer} {
  const hex = (d: string): string => d.replace(/^sha256:/, '')
  const manifest = [{Config: `${hex(imageId)}.json`, RepoTags: refs, Layers: diffIds.map((d) => `${hex(d)}.tar`)}]
  const repositories: Record<string, Record<string, string>> = {}
  for (const r of refs) {
    const {repo, tag} = splitRepoTag(r)
    repositories[repo] = {...repositories[repo], [tag]: hex(topChainId)}
  }
  return {manifest: Buffer.from(JSON.stringify(manifest)), repositories: Buffer.from(JSON.stringify(repositories))}
}

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`
}

/** The mtime of every entry bento writes into a docker-archive: SOURCE_DATE_EPOCH, else the epoch. */
export function outputMtime(sourceDateEpoch: string | undefined): Date {
  const n = sourceDateEpoch !== undefined && /^\d+$/.test(sourceDateEpoch.trim()) ? Number(sourceDateEpoch.trim()) : 0
  return new Date(n * 1000)
}

interface Hashing {
  /** A pass-through that hashes and counts what goes through it. */
  transform: Transform
  /** Hash and count a chunk written elsewhere. */
  update: (chunk: Buffer) => void
  digest: () => string
  bytes: () => number
}

function hashing(): Hashing {
  const h = createHash('sha256')
  let n = 0
  let d: string | undefined
  const update = (chunk: Buffer): void => {
    h.update(chunk)
    n += chunk.length
  }
  const transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      update(chunk)
      done(null, chunk)
    },
  })
  return {transform, update, digest: () => (d ??= `sha256:${h.digest('hex')}`), bytes: () => n}
}

function mismatch(what: string, want: string, got: string): ArchiveError {
  return new ArchiveError(`The engine's export of the image has ${what} ${got.slice(0, 19)}… where the image says ${want.slice(0, 19)}…: nothing was written`, {
    hint: 'the image changed during the export (retag, prune); run the command again',
    data: {want, got},
  })
}

export interface WriteOutputOptions {
  target: OutputTarget
  images: ImageClient
  /** The engine's image (by id). */
  image: string
  info: ImageInfo
  /** References the output names the image by (`-t`): index.json's annotation, the docker-archive's RepoTags. */
  refs: string[]
  mtime: Date
  signal?: AbortSignal
  cleanup?: Cleanup
  /** Each layer as it is written. */
  onLayer?: (layer: OutputLayer & {done: number; of: number}) => void
}

/** A temp sibling of `target`: same directory (so the rename is atomic), hidden, unique. */
function tempSibling(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.bento-tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
}

/** Write the image to `opts.target` (see the file's comment). Throws E_USAGE, E_ARCHIVE, E_DISK_FULL, E_INTERRUPTED. */
export async function writeImageOutput(opts: WriteOutputOptions): Promise<OutputResult> {
  const {target, info} = opts
  await checkOutputTarget(target)
  const tmp = tempSibling(target.path)
  const forget = opts.cleanup?.add(tmp) ?? (() => undefined)
  try {
    await mkdir(path.dirname(target.path), {recursive: true})
    const result = target.kind === 'oci' ? await writeOci(opts, tmp) : await writeDockerArchive(opts, tmp)
    opts.signal?.throwIfAborted()
    // Again: the target may have appeared meanwhile. A rename replaces an empty directory or a file, atomically.
    await checkOutputTarget(target)
    await rename(tmp, target.path)
    return {...result, kind: target.kind, path: target.path, imageId: info.id}
  } catch (error) {
    await rm(tmp, {recursive: true, force: true}).catch(() => undefined)
    if (opts.signal?.aborted && !(error instanceof InterruptedError)) throw new InterruptedError(`Interrupted; ${target.path} was not written.`)
    if (isBentoError(error)) throw error
    if (isDiskFull(error)) throw diskFullError(`No space left writing ${target.path}: nothing was written`, error)
    throw new ArchiveError(`Cannot write ${target.path}: ${(error as Error).message}`, {cause: error, hint: 'check the directory is writable'})
  } finally {
    forget()
  }
}

/**
 * Read the export, handing each wanted layer (checked against its diff id) and the config (checked against the image
 * id) to the caller's sinks. Returns the config's bytes and every layer's size.
 */
async function readBlobs(
  opts: WriteOutputOptions,
  layerSink: (blob: ExportBlob, hash: Hashing) => Promise<void>,
): Promise<{config: Buffer; sizes: Map<string, number>}> {
  const {info} = opts
  const want = new Set([info.id, ...info.diffIds])
  const sizes = new Map<string, number>()
  let config: Buffer | undefined
  const stream = await opts.images.save(opts.image, {signal: opts.signal})
  const layerCount = new Set(info.diffIds).size
  const handed = await readImageExport(stream, info, (d) => want.has(d), async (b) => {
    if (b.kind === 'config') {
      const parts: Buffer[] = []
      for await (const c of b.stream) parts.push(c)
      config = Buffer.concat(parts)
      const got = sha256(config)
      if (got !== info.id) throw mismatch('a config', info.id, got)
      return
    }
    const h = hashing()
    await layerSink(b, h)
    if (h.digest() !== b.digest) throw mismatch('a layer', b.digest, h.digest())
    sizes.set(b.digest, h.bytes())
    opts.onLayer?.({digest: b.digest, size: h.bytes(), done: sizes.size, of: layerCount})
  })
  const lost = [...want].filter((d) => !handed.has(d))
  if (config === undefined || lost.length > 0) {
    throw new ArchiveError(`The engine's export of ${opts.image} has no blob for ${lost.map((d) => d.slice(0, 19)).join(', ')}: nothing was written`, {
      hint: 'the engine names the blobs of its export in a way bento does not read; use `docker save` instead',
      data: {missing: lost},
    })
  }
  return {config, sizes}
}

async function writeOci(opts: WriteOutputOptions, dir: string): Promise<Omit<OutputResult, 'kind' | 'path' | 'imageId'>> {
  const blobs = path.join(dir, 'blobs/sha256')
  await mkdir(blobs, {recursive: true})
  const blobFile = (digest: string): string => path.join(blobs, digest.replace(/^sha256:/, ''))
  const {config, sizes} = await readBlobs(opts, async (b, h) => {
    await pipeline(b.stream, h.transform, createWriteStream(blobFile(b.digest)), {signal: opts.signal})
  })
  await writeFile(blobFile(opts.info.id), config)
  const layers = opts.info.diffIds.map((d) => ({digest: d, size: sizes.get(d) ?? 0}))
  const manifest = ociManifest({digest: opts.info.id, size: config.length}, layers)
  const manifestDigest = sha256(manifest)
  await writeFile(blobFile(manifestDigest), manifest)
  const index = ociIndex(manifest, opts.refs[0])
  await writeFile(path.join(dir, 'index.json'), index)
  const layout = Buffer.from(JSON.stringify({imageLayoutVersion: '1.0.0'}))
  await writeFile(path.join(dir, 'oci-layout'), layout)
  const unique = [...sizes.values()].reduce((n, s) => n + s, 0)
  return {manifestDigest, layers, bytes: unique + config.length + manifest.length + index.length + layout.length}
}


/** One tar entry of `size` bytes from `source`, through `h` (hash and count); resolves once the pack has it. */
function packEntry(pack: tar.Pack, header: TarHeader, source: AsyncIterable<Buffer>, h: Hashing, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, (e) => (e ? reject(e) : resolve())) as unknown as NodeJS.WritableStream & {destroyed?: boolean}
    sink.on('error', () => undefined) // reported through the entry's callback
    void (async () => {
      for await (const chunk of source) {
        signal?.throwIfAborted()
        h.update(chunk)
        if (sink.destroyed) throw new Error('the archive stream was closed')
        if (!sink.write(chunk)) await drained(sink)
      }
      sink.end()
    })().catch(reject)
  })
}

async function writeDockerArchive(opts: WriteOutputOptions, file: string): Promise<Omit<OutputResult, 'kind' | 'path' | 'imageId'>> {
  const {info, mtime} = opts
  // tar-stream packs are streamx streams: through a Node PassThrough into the file.
  const pack = tar.pack()
  const through = new PassThrough()
  pack.on('error', (e: Error) => through.destroy(e))
  pack.pipe(through)
  const out = createWriteStream(file)
  const written = pipeline(through, out)
  // A failure of the file (ENOSPC) ends the pack, so the entry being written rejects instead of hanging.
  let fileError: unknown
  written.catch((e: unknown) => {
    fileError = e
    pack.destroy(e as Error)
  })
  const header = (name: string, size: number): TarHeader => ({name, size, mtime, mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', type: 'file'})
  const hex = (d: string): string => d.replace(/^sha256:/, '')
  const add = (name: string, content: Buffer): Promise<void> =>
    new Promise((resolve, reject) => pack.entry(header(name, content.length), content, (e) => (e ? reject(e) : resolve())))
  try {
    const {config, sizes} = await readBlobs(opts, (b, h) => packEntry(pack, header(`${hex(b.digest)}.tar`, b.size), b.stream, h, opts.signal))
    await add(`${hex(info.id)}.json`, config)
    const layers = info.diffIds.map((d) => ({digest: d, size: sizes.get(d) ?? 0}))
    const meta = dockerArchiveMetadata(info.id, info.diffIds, opts.refs, chainIds(info.diffIds).at(-1) ?? info.id)
    await add('manifest.json', meta.manifest)
    await add('repositories', meta.repositories)
    pack.finalize()
    await written
    const manifest = ociManifest({digest: info.id, size: config.length}, layers)
    return {manifestDigest: sha256(manifest), layers, bytes: out.bytesWritten}
  } catch (error) {
    pack.destroy()
    through.destroy()
    await written.catch(() => undefined)
    throw fileError ?? error
  }
}

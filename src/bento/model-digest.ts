import {createHash} from 'node:crypto'
import {mkdir, readdir, readFile, readlink, rename, rm, writeFile} from 'node:fs/promises'
import {lstat} from 'node:fs/promises'
import path from 'node:path'

import {formatTag} from '../bentoml/tag.js'
import type {Reporter} from '../reporter.js'
import {hashFile} from './digest.js'

/**
 * Model identity without re-reading bytes.
 *
 * A store model is immutable by BentoML's contract (name + version), but a file can still be changed by hand, so
 * its content digest (what a Bento version depends on) is computed ONCE per model version and cached, keyed by
 * the model directory's manifest: every entry's relative path, type, size, modification time (ns) and symlink
 * target. A later build (of this or any other project) stats the files, finds the cached digest and reads no
 * model byte; a changed file changes the manifest, so the digest is computed again.
 *
 * The cache lives in `$BENTOML_HOME/.bento/model-digests/<name>/<version>/<manifest key>.json`: beside the model
 * store, not inside it (an extra entry in `models/` would be listed by `bentoml models list`, and a file inside a
 * model directory would become part of the model). BentoML never reads `$BENTOML_HOME/.bento`. Deleting it costs
 * one read of each model at the next build, nothing else. Hard-linked copies (a Bento's `models/<n>/<v>` made by
 * `bento build`) have the same manifest, so they share the entry.
 */

export interface ManifestEntry {
  rel: string
  kind: 'file' | 'dir' | 'link'
  size: number
  /** Modification time in nanoseconds (string: beyond Number precision). */
  mtimeNs: string
  link?: string
  abs: string
}

export interface ModelManifest {
  /** sha256 of the manifest lines: changes when any entry's path, type, size, mtime or link target changes. */
  key: string
  /** Bytes of the regular files. */
  size: number
  entries: ManifestEntry[]
}

async function walk(root: string, rel: string, out: ManifestEntry[]): Promise<void> {
  const dirents = await readdir(path.join(root, rel), {withFileTypes: true})
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const d of dirents) {
    const r = rel ? `${rel}/${d.name}` : d.name
    const abs = path.join(root, r)
    const st = await lstat(abs, {bigint: true})
    if (st.isDirectory()) {
      out.push({rel: r, kind: 'dir', size: 0, mtimeNs: '0', abs})
      await walk(root, r, out)
    } else if (st.isSymbolicLink()) {
      out.push({rel: r, kind: 'link', size: 0, mtimeNs: '0', link: await readlink(abs), abs})
    } else if (st.isFile()) {
      out.push({rel: r, kind: 'file', size: Number(st.size), mtimeNs: String(st.mtimeNs), abs})
    }
  }
}

/** The manifest of a model directory: one `lstat` per entry, no content read. */
export async function modelManifest(dir: string): Promise<ModelManifest> {
  const entries: ManifestEntry[] = []
  await walk(dir, '', entries)
  const h = createHash('sha256')
  for (const e of entries) h.update(`${e.kind}\0${e.rel}\0${e.size}\0${e.mtimeNs}\0${e.link ?? ''}\n`)
  return {key: h.digest('hex'), size: entries.reduce((s, e) => s + e.size, 0), entries}
}

/** Where the digest of `name:version` with manifest `key` is cached. */
export function digestCacheFile(home: string, name: string, version: string, key: string): string {
  return path.join(home, '.bento', 'model-digests', name, version, `${key}.json`)
}

interface CacheRecord {
  format: 1
  tag: string
  digest: string
  size: number
}

/** The cached content digest for this manifest, or null. Reads one small file. */
export async function peekModelDigest(home: string, name: string, version: string, key: string): Promise<string | null> {
  try {
    const rec = JSON.parse(await readFile(digestCacheFile(home, name, version, key), 'utf8')) as Partial<CacheRecord>
    return rec.format === 1 && typeof rec.digest === 'string' && /^[0-9a-f]{64}$/.test(rec.digest) ? rec.digest : null
  } catch {
    return null
  }
}

/**
 * The content digest of a model directory (every file's relative path and sha256, in
 * order; symlinks by target) — from the cache when the manifest matches, else by reading every byte once (then
 * cached). `onRead` counts the model bytes actually read (benchmarks and tests).
 */
export async function modelDigest(
  home: string,
  model: {name: string; version: string; dir: string},
  reporter: Reporter,
  opts: {label?: string; onRead?: (bytes: number) => void} = {},
): Promise<{digest: string; size: number; cached: boolean; manifest: ModelManifest}> {
  const manifest = await modelManifest(model.dir)
  const cached = await peekModelDigest(home, model.name, model.version, manifest.key)
  if (cached !== null) return {digest: cached, size: manifest.size, cached: true, manifest}

  const label = opts.label ?? `Hashing model ${formatTag(model)}`
  const h = createHash('sha256')
  let done = 0
  for (const e of manifest.entries) {
    if (e.kind === 'dir') continue
    const digest =
      e.kind === 'link'
        ? `link:${e.link}`
        : await hashFile(e.abs, (n) => {
            done += n
            opts.onRead?.(n)
            reporter.progress(label, done, manifest.size)
          })
    h.update(`${e.rel}\0${digest}\n`)
  }
  reporter.progress(label, manifest.size, manifest.size)
  const digest = h.digest('hex')
  // A file changed while it was read: do not cache a digest of a moving target.
  const after = await modelManifest(model.dir)
  if (after.key === manifest.key) await writeCache(home, model, manifest.key, {format: 1, tag: formatTag(model), digest, size: manifest.size})
  return {digest, size: manifest.size, cached: false, manifest}
}

async function writeCache(home: string, model: {name: string; version: string}, key: string, rec: CacheRecord): Promise<void> {
  const file = digestCacheFile(home, model.name, model.version, key)
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`
  try {
    await mkdir(path.dirname(file), {recursive: true})
    await writeFile(tmp, `${JSON.stringify(rec)}\n`)
    await rename(tmp, file)
  } catch {
    // The cache is an optimisation: a read-only or full home only costs a re-read next time.
    await rm(tmp, {force: true}).catch(() => undefined)
  }
}

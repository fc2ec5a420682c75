/** Docker helpers for the benchmarks: the provisioned CLI, image sizes, and which layers a rebuild changed. */
import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {Tools} from './env.js'
import {mustRun, run} from './proc.js'

export interface Layer {
  diffId: string
  size: number
  createdBy: string
}

export async function docker(tools: Tools, args: readonly string[]): Promise<string> {
  return (await mustRun(tools.docker, args, {timeoutMs: 30 * 60_000})).stdout.trim()
}

export async function imageSize(tools: Tools, ref: string): Promise<number> {
  return Number(await docker(tools, ['image', 'inspect', '-f', '{{.Size}}', ref]))
}

/**
 * The image's layers with their sizes and the instruction that made them. The Engine API's history cannot
 * tell a 0-byte layer from a metadata-only step, so this reads the daemon's own records (root only): the
 * image config (`rootfs.diff_ids`, `history[].empty_layer`) and the layer store's `size` per chain ID.
 */
export async function imageLayers(tools: Tools, ref: string): Promise<Layer[]> {
  const [root, driver] = (await docker(tools, ['info', '-f', '{{.DockerRootDir}} {{.Driver}}'])).split(' ') as [string, string]
  const id = (await docker(tools, ['image', 'inspect', '-f', '{{.Id}}', ref])).replace(/^sha256:/, '')
  const base = join(root, 'image', driver)
  const config = JSON.parse(await readFile(join(base, 'imagedb/content/sha256', id), 'utf8')) as {
    rootfs: {diff_ids: string[]}
    history?: Array<{created_by?: string; empty_layer?: boolean}>
  }
  const steps = (config.history ?? []).filter((h) => !h.empty_layer)
  const layers: Layer[] = []
  let chain = ''
  for (const [i, diffId] of config.rootfs.diff_ids.entries()) {
    chain = i === 0 ? diffId : `sha256:${createHash('sha256').update(`${chain} ${diffId}`).digest('hex')}`
    const size = Number(await readFile(join(base, 'layerdb/sha256', chain.replace(/^sha256:/, ''), 'size'), 'utf8'))
    const createdBy = (steps[i]?.created_by ?? '?').replace(/^\/bin\/sh -c #\(nop\)\s*/, '').replace(/\s+/g, ' ')
    layers.push({diffId, size, createdBy})
  }
  return layers
}

/** Layers of `next` whose content is not in `prev`: what a rebuild produced anew (and a push would upload). */
export function rebuiltLayers(prev: readonly Layer[], next: readonly Layer[]): Layer[] {
  const had = new Set(prev.map((l) => l.diffId))
  return next.filter((l) => !had.has(l.diffId))
}

/** IDs of the daemon's build cache records. */
export async function buildCacheIds(tools: Tools): Promise<Set<string>> {
  const out = await docker(tools, ['system', 'df', '-v', '--format', '{{json .BuildCache}}'])
  return new Set(((JSON.parse(out || '[]') as Array<{ID: string}> | null) ?? []).map((c) => c.ID))
}

/**
 * Remove the build cache records created since `before` (the benchmark's own: it runs under the docker lock), one
 * by one. Never the whole cache: the daemon is shared. Big contexts (a 4 GiB model) are kept there by BuildKit.
 */
export async function pruneBuildCacheSince(tools: Tools, before: ReadonlySet<string>): Promise<void> {
  for (const id of await buildCacheIds(tools)) {
    if (!before.has(id)) await run(tools.docker, ['builder', 'prune', '-f', '--filter', `id=${id}`])
  }
}

/** `docker system df` sizes ("537MB", "4.29GB", "0B") in bytes. */
function parseSize(s: string): number {
  const m = /^([\d.]+)\s*([kMGT]?B)$/.exec(s.trim())
  if (!m) return 0
  const mult: Record<string, number> = {B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12}
  return Number(m[1]) * (mult[m[2]!] ?? 1)
}

/** The daemon's build cache records: ID, size in bytes, in use. */
export async function buildCacheRecords(tools: Tools): Promise<Array<{id: string; size: number; inUse: boolean; description: string}>> {
  const out = await docker(tools, ['system', 'df', '-v', '--format', '{{json .BuildCache}}'])
  const records = (JSON.parse(out || '[]') as Array<{ID: string; Size: string; InUse: string; Description: string}> | null) ?? []
  return records.map((r) => ({id: r.ID, size: parseSize(r.Size), inUse: r.InUse === 'true', description: r.Description}))
}

/** Remove the records among `ids` at least `minBytes` big and not in use (a tool's model-carrying layers and contexts). */
export async function pruneBigRecords(tools: Tools, ids: ReadonlySet<string>, minBytes: number): Promise<void> {
  for (const r of await buildCacheRecords(tools)) {
    if (ids.has(r.id) && !r.inUse && r.size >= minBytes) await run(tools.docker, ['builder', 'prune', '-f', '--filter', `id=${r.id}`])
  }
}

/**
 * Remove the build contexts the daemon cached since `before` (BuildKit keeps every uploaded or synced context as a
 * cache record, as big as the context: 4 GiB for a Bento with a 4 GiB model). Layers stay cached.
 */
export async function pruneContextsSince(tools: Tools, before: ReadonlySet<string>): Promise<void> {
  const out = await docker(tools, ['system', 'df', '-v', '--format', '{{json .BuildCache}}'])
  const records = (JSON.parse(out || '[]') as Array<{ID: string; Description: string; InUse: string}> | null) ?? []
  for (const r of records) {
    if (before.has(r.ID) || r.InUse === 'true') continue
    if (/^(local source for context|http url http:\/\/build-context-)/.test(r.Description)) {
      await run(tools.docker, ['builder', 'prune', '-f', '--filter', `id=${r.ID}`])
    }
  }
}

export async function removeImages(tools: Tools, refs: readonly string[]): Promise<void> {
  if (refs.length > 0) await run(tools.docker, ['image', 'rm', '-f', ...refs])
}

export async function dockerVersion(tools: Tools): Promise<string> {
  return docker(tools, ['version', '-f', '{{.Server.Version}}']).catch(() => 'unavailable')
}

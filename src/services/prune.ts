import {modelManifest} from '../bento/model-digest.js'
import {type ImageClient, MODEL_KIND_LABEL} from '../docker/index.js'
import {isBentoError} from '../errors.js'
import type {Reporter} from '../reporter.js'
import {STORE_PRUNERS} from './store-pruners.js'

/**
 * `bento prune`: remove what bento made and nothing uses any more. A list of pruners, each finding and removing
 * one kind of leftover; the command runs them all (or `--only` some). Add a pruner to `DEFAULT_PRUNERS` for a
 * new kind of leftover. The store's (temp dirs and locks of killed runs) are in store-pruners.ts.
 *
 * Image pruners talk to Docker only when asked for (`ctx.client()`); an unreachable daemon skips them with a
 * warning instead of failing the store pruners.
 */

export interface PruneItem {
  /** Which pruner found it, e.g. `model-images`. */
  pruner: string
  /** What is removed: an image reference or ID, a path. */
  id: string
  description: string
  bytes: number
}

export interface PruneContext {
  home: string
  /** The image client, created on first use. */
  client: () => ImageClient
  reporter: Reporter
}

export interface Pruner {
  name: string
  summary: string
  find: (ctx: PruneContext) => Promise<PruneItem[]>
  remove: (ctx: PruneContext, item: PruneItem) => Promise<void>
}

/** Model images (`dev.bento.kind=model`) whose model no Bento image lists in its `dev.bento.models` label. */
export const modelImagePruner: Pruner = {
  name: 'model-images',
  summary: 'model images (bento-model/<name>:<version>) that no Bento image uses',
  find: async (ctx) => {
    const client = ctx.client()
    const models = await client.list({label: [`${MODEL_KIND_LABEL}=model`]})
    const bentos = await client.list({label: ['dev.bento.tag']})
    const used = new Set<string>()
    for (const b of bentos) for (const t of (b.labels['dev.bento.models'] ?? '').split(',')) if (t) used.add(t)
    return models
      .filter((m) => !used.has(m.labels['dev.bento.model.tag'] ?? ''))
      .map((m) => ({
        pruner: 'model-images',
        id: m.repoTags[0] ?? m.id,
        description: `model image of ${m.labels['dev.bento.model.tag'] ?? '?'} (no Bento image uses it)`,
        bytes: m.size,
      }))
  },
  remove: async (ctx, item) => ctx.client().remove(item.id),
}

/** Wheelhouse images (`dev.bento.kind=wheelhouse`) whose directory is gone or has changed since. */
export const wheelhouseImagePruner: Pruner = {
  name: 'wheelhouse-images',
  summary: 'wheelhouse images (bento-wheelhouse:<key>) of directories that changed or are gone',
  find: async (ctx) => {
    const images = await ctx.client().list({label: [`${MODEL_KIND_LABEL}=wheelhouse`]})
    const out: PruneItem[] = []
    for (const img of images) {
      const source = img.labels['dev.bento.wheelhouse.source'] ?? ''
      const current = await modelManifest(source).then((m) => m.key).catch(() => null)
      if (current !== null && current === img.labels['dev.bento.wheelhouse.manifest']) continue
      out.push({
        pruner: 'wheelhouse-images',
        id: img.repoTags[0] ?? img.id,
        description: `wheelhouse image of ${source || '?'} (${current === null ? 'directory gone' : 'directory changed'})`,
        bytes: img.size,
      })
    }
    return out
  },
  remove: async (ctx, item) => ctx.client().remove(item.id),
}

/** The store pruners (leftovers of interrupted and killed runs: services/store-pruners.ts) first, then the images. */
export const DEFAULT_PRUNERS: readonly Pruner[] = [...STORE_PRUNERS, modelImagePruner, wheelhouseImagePruner]

export interface PruneOptions {
  home: string
  client: () => ImageClient
  reporter: Reporter
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean
  /** Pruner names to run (default: all). */
  only?: string[]
  pruners?: readonly Pruner[]
}

export interface PruneResult {
  removed: PruneItem[]
  /** With --dry-run: what would be removed. */
  found: PruneItem[]
  bytes: number
  skipped: Array<{pruner: string; reason: string}>
}

export async function prune(opts: PruneOptions): Promise<PruneResult> {
  const pruners = opts.pruners ?? DEFAULT_PRUNERS
  const unknown = (opts.only ?? []).filter((n) => !pruners.some((p) => p.name === n))
  if (unknown.length > 0) {
    const {UsageError} = await import('../errors.js')
    throw new UsageError(`unknown pruner ${unknown.join(', ')}`, {hint: `known: ${pruners.map((p) => p.name).join(', ')}`})
  }
  let client: ImageClient | undefined
  const ctx: PruneContext = {home: opts.home, reporter: opts.reporter, client: () => (client ??= opts.client())}
  const result: PruneResult = {removed: [], found: [], bytes: 0, skipped: []}
  for (const p of pruners) {
    if (opts.only && !opts.only.includes(p.name)) continue
    let items: PruneItem[]
    try {
      items = await p.find(ctx)
    } catch (error) {
      // An unreachable daemon skips the image pruners; anything else is a real error.
      if (isBentoError(error) && error.code === 'E_DOCKER_UNAVAILABLE') {
        opts.reporter.warn(`${p.name}: skipped, ${error.message}`)
        result.skipped.push({pruner: p.name, reason: error.message})
        continue
      }
      throw error
    }
    for (const item of items) {
      result.found.push(item)
      if (opts.dryRun) {
        opts.reporter.log(`would remove ${item.id}: ${item.description}`)
        continue
      }
      await p.remove(ctx, item)
      opts.reporter.log(`removed ${item.id}: ${item.description}`)
      result.removed.push(item)
      result.bytes += item.bytes
    }
  }
  return result
}

import {rm} from 'node:fs/promises'

import {modelManifest} from '../bento/model-digest.js'
import {
  COMMITTED_MODELS_REPO,
  committedModelsRepo,
  HOME_LABEL,
  type ImageClient,
  LEGACY_MODEL_IMAGE_REPO,
  LEGACY_WHEELHOUSE_IMAGE_REPO,
  MODEL_IMAGE_HOST,
  MODEL_KIND_LABEL,
  modelImageNamespace,
  WHEELHOUSE_IMAGE_HOST,
  wheelhouseImageRepo,
} from '../docker/index.js'
import type {Cleanup} from '../cleanup.js'
import {InterruptedError, isBentoError} from '../errors.js'
import type {Reporter} from '../reporter.js'
import {readHomeId, readLeases, withImageGcLock} from '../store/image-leases.js'
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
  /** `--all-homes`: other homes' images (and those made before images carried their home) too. */
  allHomes: boolean
  /** Where a pruner registers what it writes while it exists (removed on a forced exit). */
  cleanup?: Cleanup
}

export interface Pruner {
  name: string
  summary: string
  /** Docker images: found and removed under the home's image-GC lock, so a containerize cannot lease meanwhile. */
  images?: boolean
  find: (ctx: PruneContext) => Promise<PruneItem[]>
  /** Remove the item; a reason string when it was kept after all (e.g. a container uses the image). */
  remove: (ctx: PruneContext, item: PruneItem) => Promise<void | {kept: string}>
}

/** What `docker images` shows as the tags of an untagged image (API ≥ 1.41: `<none>:<none>`; older: none). */
function realTags(tags: string[]): string[] {
  return tags.filter((t) => t !== '<none>:<none>' && t !== '<none>@<none>')
}

/**
 * Which of an image's tags this prune may remove: this home's (under `mine`), and with `--all-homes` every bento
 * namespace (`others`: other homes', and the names of images made before they carried their home).
 */
function prunableTags(tags: string[], mine: string | null, others: string[], allHomes: boolean): string[] {
  const ours = (t: string): boolean => mine !== null && (t.startsWith(`${mine}/`) || t.startsWith(`${mine}:`))
  return tags.filter((t) => ours(t) || (allHomes && others.some((o) => t.startsWith(o))))
}

interface ImageView {
  /** This home's namespace for the kind of image, or null when the home never made one. */
  mine: string | null
  home: string | null
  /** References live containerize runs of this home hold. */
  leased: Set<string>
}

async function imageView(ctx: PruneContext, namespace: (id: string) => string): Promise<ImageView> {
  const home = await readHomeId(ctx.home)
  const leased = new Set<string>()
  for (const lease of await readLeases(ctx.home)) if (lease.alive) for (const r of lease.refs) leased.add(r)
  return {mine: home === null ? null : namespace(home), home, leased}
}

/**
 * Items for one image: every prunable tag that no live lease holds (the bytes counted once, and only when no other
 * tag keeps the image), or the image itself when it has no tag and this home (or `--all-homes`) made it.
 */
function imageItems(
  ctx: PruneContext,
  view: ImageView,
  img: {id: string; repoTags: string[]; labels: Record<string, string>; size: number},
  others: string[],
  pruner: string,
  what: string,
): PruneItem[] {
  const tags = realTags(img.repoTags)
  if (tags.length === 0) {
    const maker = img.labels[HOME_LABEL]
    if (!(ctx.allHomes || (view.home !== null && maker === view.home))) return []
    return [{pruner, id: img.id, description: `untagged ${what} (a newer import or build took its tag)`, bytes: img.size}]
  }
  const selected = prunableTags(tags, view.mine, others, ctx.allHomes).filter((t) => !view.leased.has(t))
  const freesImage = selected.length === tags.length
  return selected.map((t, i) => ({pruner, id: t, description: what, bytes: freesImage && i === selected.length - 1 ? img.size : 0}))
}

async function removeImage(ctx: PruneContext, item: PruneItem): Promise<void | {kept: string}> {
  try {
    await ctx.client().remove(item.id)
  } catch (error) {
    // 409: a container (even a stopped one) uses the image; the daemon keeps it.
    if ((error as {statusCode?: unknown} | null)?.statusCode === 409) return {kept: `the daemon refused: ${(error as Error).message.split('\n')[0]}`}
    throw error
  }
}

/**
 * Model images (`dev.bento.kind=model`) of this home whose model no Bento image lists in its `dev.bento.models`
 * label (a Bento image of any home keeps the model's images) and that no running containerize of this home holds.
 */
export const modelImagePruner: Pruner = {
  name: 'model-images',
  summary: "this home's model images (bento-model.invalid/h<home>/<name>:<version>) that no Bento image uses",
  images: true,
  find: async (ctx) => {
    const client = ctx.client()
    const models = await client.list({label: [`${MODEL_KIND_LABEL}=model`]})
    const bentos = await client.list({label: ['dev.bento.tag']})
    const used = new Set<string>()
    for (const b of bentos) for (const t of (b.labels['dev.bento.models'] ?? '').split(',')) if (t) used.add(t)
    const view = await imageView(ctx, (id) => modelImageNamespace(id))
    const others = [`${MODEL_IMAGE_HOST}/`, `${LEGACY_MODEL_IMAGE_REPO}/`]
    const out: PruneItem[] = []
    for (const m of models) {
      const modelTag = m.labels['dev.bento.model.tag'] ?? '?'
      if (realTags(m.repoTags).length > 0 && used.has(modelTag)) continue
      out.push(...imageItems(ctx, view, m, others, 'model-images', `model image of ${modelTag} (no Bento image uses it)`))
    }
    return out
  },
  remove: removeImage,
}

/**
 * Committed-model images (docker/model-image.ts: a dependency image with big models' layers committed onto it) of this
 * home that no Bento image is built on (its layers are not the start of any Bento image's) and that no running
 * containerize holds. They carry no label (the Bento image would inherit it): found by their repository. Removing one
 * frees only what no Bento image shares.
 */
export const committedModelsPruner: Pruner = {
  name: 'committed-models',
  summary: "this home's committed-model images (bento-model.invalid/h<home>/assembled/models:<key>) no Bento image is built on",
  images: true,
  find: async (ctx) => {
    const client = ctx.client()
    const view = await imageView(ctx, (id) => committedModelsRepo(id))
    const references = ctx.allHomes ? [`${MODEL_IMAGE_HOST}/*/${COMMITTED_MODELS_REPO}`] : view.mine === null ? [] : [view.mine]
    if (references.length === 0) return []
    const committed = await client.list({reference: references})
    if (committed.length === 0) return []
    const bentoLayers: string[][] = []
    for (const b of await client.list({label: ['dev.bento.tag']})) bentoLayers.push((await client.inspect(b.id))?.diffIds ?? [])
    const out: PruneItem[] = []
    for (const img of committed) {
      const layers = (await client.inspect(img.id))?.diffIds ?? []
      const builtOn = layers.length > 0 && bentoLayers.some((l) => l.length >= layers.length && layers.every((d, i) => l[i] === d))
      if (builtOn) continue
      out.push(...imageItems(ctx, view, img, [`${MODEL_IMAGE_HOST}/`], 'committed-models', 'committed-model image (no Bento image is built on it)'))
    }
    return out
  },
  remove: removeImage,
}

/** Wheelhouse images (`dev.bento.kind=wheelhouse`) of this home whose directory is gone or has changed since. */
export const wheelhouseImagePruner: Pruner = {
  name: 'wheelhouse-images',
  summary: "this home's wheelhouse images (bento-wheelhouse.invalid/h<home>:<key>) of directories that changed or are gone",
  images: true,
  find: async (ctx) => {
    const images = await ctx.client().list({label: [`${MODEL_KIND_LABEL}=wheelhouse`]})
    const view = await imageView(ctx, (id) => wheelhouseImageRepo(id))
    const others = [`${WHEELHOUSE_IMAGE_HOST}/`, `${LEGACY_WHEELHOUSE_IMAGE_REPO}:`]
    const out: PruneItem[] = []
    for (const img of images) {
      const source = img.labels['dev.bento.wheelhouse.source'] ?? ''
      const current = await modelManifest(source).then((m) => m.key).catch(() => null)
      if (realTags(img.repoTags).length > 0 && current !== null && current === img.labels['dev.bento.wheelhouse.manifest']) continue
      out.push(...imageItems(ctx, view, img, others, 'wheelhouse-images', `wheelhouse image of ${source || '?'} (${current === null ? 'directory gone' : 'directory changed'})`))
    }
    return out
  },
  remove: removeImage,
}

/** Lease files of containerize runs that are gone (killed): they hold nothing any more. */
export const leasePruner: Pruner = {
  name: 'image-leases',
  summary: 'image leases of bento containerize runs that are gone',
  find: async (ctx) =>
    (await readLeases(ctx.home))
      .filter((l) => !l.alive)
      .map((l) => ({pruner: 'image-leases', id: l.path, description: `image lease of a containerize that is gone (${l.refs.length} image(s))`, bytes: 0})),
  remove: async (_ctx, item) => rm(item.id, {force: true}),
}

/** The store pruners (leftovers of interrupted and killed runs: services/store-pruners.ts) first, then the images. */
export const DEFAULT_PRUNERS: readonly Pruner[] = [...STORE_PRUNERS, leasePruner, modelImagePruner, committedModelsPruner, wheelhouseImagePruner]

export interface PruneOptions {
  home: string
  client: () => ImageClient
  reporter: Reporter
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean
  /** Pruner names to run (default: all). */
  only?: string[]
  /** Other homes' images too (see `PruneContext.allHomes`). */
  allHomes?: boolean
  pruners?: readonly Pruner[]
  /** Ctrl-C: stop before the next pruner or removal (each item is removed whole or left), throw `InterruptedError`. */
  signal?: AbortSignal
  cleanup?: Cleanup
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
  const ctx: PruneContext = {
    home: opts.home,
    reporter: opts.reporter,
    client: () => (client ??= opts.client()),
    allHomes: opts.allHomes ?? false,
    cleanup: opts.cleanup,
  }
  const result: PruneResult = {removed: [], found: [], bytes: 0, skipped: []}
  for (const p of pruners) {
    if (opts.only && !opts.only.includes(p.name)) continue
    stopIfInterrupted(opts.signal, result)
    const run = (): Promise<void> => runPruner(p, ctx, opts, result)
    try {
      // Image pruners decide and remove under the image-GC lock; a dry run changes nothing and takes none.
      await (p.images && !opts.dryRun ? withImageGcLock(opts.home, run) : run())
    } catch (error) {
      // An unreachable daemon skips the image pruners; anything else is a real error.
      if (isBentoError(error) && error.code === 'E_DOCKER_UNAVAILABLE') {
        opts.reporter.warn(`${p.name}: skipped, ${error.message}`)
        result.skipped.push({pruner: p.name, reason: error.message})
        continue
      }
      throw error
    }
  }
  return result
}

/** The first Ctrl-C: stop between removals (what was removed is gone whole, the rest is left as it was). */
function stopIfInterrupted(signal: AbortSignal | undefined, result: PruneResult): void {
  if (!signal?.aborted) return
  throw new InterruptedError(`Interrupted; ${result.removed.length} item(s) were removed, the others are left as they were.`, {
    hint: 'run `bento prune` again to remove the rest',
  })
}

async function runPruner(p: Pruner, ctx: PruneContext, opts: PruneOptions, result: PruneResult): Promise<void> {
  const items = await p.find(ctx)
  for (const item of items) {
    result.found.push(item)
    if (opts.dryRun) {
      opts.reporter.log(`would remove ${item.id}: ${item.description}`)
      continue
    }
    stopIfInterrupted(opts.signal, result)
    const outcome = await p.remove(ctx, item)
    if (outcome && 'kept' in outcome) {
      opts.reporter.warn(`kept ${item.id}: ${outcome.kept}`)
      result.skipped.push({pruner: p.name, reason: `${item.id}: ${outcome.kept}`})
      continue
    }
    opts.reporter.log(`removed ${item.id}: ${item.description}`)
    result.removed.push(item)
    result.bytes += item.bytes
  }
}

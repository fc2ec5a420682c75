/**
 * `bento prune`'s store pruners: what interrupted and killed runs left in BENTOML_HOME. Every command already sweeps
 * what it can prove dead (store/recover.ts); these do the same on demand and look further (every name directory).
 * Only leftovers of processes that provably no longer run are found (same host and pid namespace; the pid gone, or
 * reused by a process that started later); BentoML's own temp files are never touched.
 *
 * They have the shape of services/prune.ts's `Pruner` (that file lists them first in `DEFAULT_PRUNERS`).
 */
import {lstat, readdir, rm} from 'node:fs/promises'
import path from 'node:path'

import type {Cleanup} from '../cleanup.js'
import {dirSize} from '../store/fs-utils.js'
import {OWNER_TOKEN, ownerAlive, ownerFromMatch} from '../store/owner.js'
import {deadLocks} from '../store/recover.js'
import {findScratch} from '../store/scratch.js'
import {Store, type StoreKind} from '../store/store.js'

interface Item {
  pruner: string
  id: string
  description: string
  bytes: number
}

interface Ctx {
  home: string
  /** Where a repair registers the `latest` it rewrites while the temp file exists (removed on a forced exit). */
  cleanup?: Cleanup
}

function storeOf(ctx: Ctx, kind: StoreKind): Store<{creationTime: Date}> {
  const options = {cleanup: ctx.cleanup}
  return kind === 'bentos' ? Store.bentos(ctx.home, options) : Store.models(ctx.home, options)
}

/** Scratch directories and files of dead processes (killed builds, imports, deletes, `latest` updates). */
export const scratchPruner = {
  name: 'store-scratch',
  summary: 'temp directories and files of bento processes that are gone (killed builds, imports, deletes)',
  find: async (ctx: Ctx): Promise<Item[]> =>
    (await findScratch(ctx.home, {sizes: true}))
      .filter((entry) => !entry.alive)
      .map((entry) => ({
        pruner: 'store-scratch',
        id: entry.path,
        description: `${entry.kind === 'lock-seed' ? 'lock seed file' : entry.kind === 'read' ? 'reader mark (export, containerize)' : `${entry.kind} directory`} of pid ${entry.owner.pid}, which is gone`,
        bytes: entry.bytes,
      })),
  remove: async (_ctx: Ctx, item: Item): Promise<void> => rm(item.id, {recursive: true, force: true}),
}

/** Locks of dead processes: removing one repairs its name (`latest`, temp files) as the next mutation would. */
export const lockPruner = {
  name: 'store-locks',
  summary: 'locks left by bento processes that are gone (the name they were changing is repaired)',
  find: async (ctx: Ctx): Promise<Item[]> =>
    (await deadLocks(ctx.home)).map((lock) => ({
      pruner: 'store-locks',
      id: lock.path,
      description: `stale lock of ${lock.kind}/${lock.name} (its process is gone); ${lock.kind}/${lock.name} is repaired`,
      bytes: 0,
    })),
  remove: async (ctx: Ctx, item: Item): Promise<void> => {
    const m = /^(bentos|models)-(.+)\.lock$/.exec(path.basename(item.id))
    if (m === null) return
    await storeOf(ctx, m[1] as StoreKind).recover(m[2] ?? '')
  },
}

const NAME_LEFTOVER = new RegExp(`^(?:latest\\.tmp-|\\.partial-)(?:${OWNER_TOKEN})?`)

/**
 * In every `<store>/<name>/`: `latest.tmp-*` files and `.partial-*` directories (an interrupted `latest` update or
 * cross-device install; a `.partial-*` breaks `bentoml list`), removed under the name's lock, `latest` repaired.
 */
export const nameLeftoverPruner = {
  name: 'store-name-leftovers',
  summary: "latest.tmp-* and .partial-* left in a Bento's or model's name directory by an interrupted update",
  find: async (ctx: Ctx): Promise<Item[]> => {
    const found: Item[] = []
    for (const kind of ['bentos', 'models'] as StoreKind[]) {
      const root = path.join(ctx.home, kind)
      const names = await readdir(root).catch(() => [] as string[])
      for (const name of names.sort()) {
        const entries = await readdir(path.join(root, name)).catch(() => [] as string[])
        for (const entry of entries.sort()) {
          const m = NAME_LEFTOVER.exec(entry)
          if (m === null) continue
          const owner = ownerFromMatch(m)
          if (owner !== null && ownerAlive(owner)) continue
          const full = path.join(root, name, entry)
          let bytes = 0
          try {
            const st = await lstat(full)
            bytes = st.isDirectory() ? await dirSize(full) : st.size
          } catch {
            continue
          }
          found.push({
            pruner: 'store-name-leftovers',
            id: full,
            description: `${entry.startsWith('.partial-') ? 'partial copy' : 'latest temp file'} of ${kind}/${name} left by an interrupted update`,
            bytes,
          })
        }
      }
    }
    return found
  },
  remove: async (ctx: Ctx, item: Item): Promise<void> => {
    const rel = path.relative(ctx.home, item.id).split(path.sep)
    const [kind, name] = rel
    if ((kind !== 'bentos' && kind !== 'models') || name === undefined) return
    // Under the name's lock nobody writes there: what is left is dead; latest is repaired too.
    await storeOf(ctx, kind).repairLocked(name)
  },
}

export const STORE_PRUNERS = [lockPruner, nameLeftoverPruner, scratchPruner] as const

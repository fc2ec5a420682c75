/**
 * Scratch space for store mutations: build and import directories, a deleted item on its way out, `latest` being
 * rewritten. It lives in `$BENTOML_HOME/tmp` (BentoML's own temp dir: no listing reads it) — or, when that is on
 * another file system than the store (a separate mount), in `$BENTOML_HOME/.bento-tmp`, so the last step of every
 * mutation is still one `rename()`. Every name carries its owner (`bento-<pid>-<start>-<host>-<boot>-<kind>-…`,
 * see owner.ts): the next run removes the entries of processes that are provably dead (`sweepScratch`), never
 * those of a live process, never BentoML's own (`bentoml_bento_*`, …).
 */
import {randomBytes} from 'node:crypto'
import {lstat, mkdir, mkdtemp, readdir, rm, stat} from 'node:fs/promises'
import path from 'node:path'

import type {Cleanup} from '../cleanup.js'
import {dirSize} from './fs-utils.js'
import {type Owner, OWNER_TOKEN, ownerAlive, ownerFromMatch, ownerToken} from './owner.js'

export type ScratchKind = 'build' | 'import' | 'model' | 'trash' | 'stage' | 'latest' | 'read'

/** Scratch roots, relative to BENTOML_HOME, in order of preference. */
export const SCRATCH_ROOTS = ['tmp', '.bento-tmp'] as const

const SCRATCH_NAME = new RegExp(`^bento-${OWNER_TOKEN}-(?<kind>[a-z]+)-`)
/** The private file a lock is created from (`<lock>.<owner>.<n>`, see lock.ts). */
const LOCK_SEED = new RegExp(`\\.lock\\.${OWNER_TOKEN}\\.[0-9a-f]+$`)

/** A name fragment that is safe in a file name (tag names are; labels from elsewhere may not be). */
function safeLabel(label: string): string {
  return label.replace(/[^a-z0-9._-]/gi, '_').slice(0, 64)
}

async function device(p: string): Promise<number | null> {
  try {
    return (await stat(p)).dev
  } catch {
    return null
  }
}

/**
 * The scratch root on the same file system as `near` (a store root such as `$BENTOML_HOME/bentos`), created when
 * needed; `$BENTOML_HOME/tmp` when none is (the caller then copies across file systems).
 */
export async function scratchRootFor(home: string, near: string): Promise<{root: string; sameDevice: boolean}> {
  const target = await device(near)
  for (const rel of SCRATCH_ROOTS) {
    const root = path.join(home, rel)
    let dev = await device(root)
    if (dev === null && rel !== 'tmp' && target !== null && (await device(home)) === target) {
      await mkdir(root, {recursive: true})
      dev = await device(root)
    }
    if (dev !== null && dev === target) return {root, sameDevice: true}
  }
  const root = path.join(home, 'tmp')
  await mkdir(root, {recursive: true})
  return {root, sameDevice: false}
}

/** The name prefix of this process's scratch entries of `kind`. */
export function scratchPrefix(kind: ScratchKind, label = ''): string {
  return `bento-${ownerToken()}-${kind}-${label === '' ? '' : `${safeLabel(label)}-`}`
}

/**
 * A fresh scratch directory for `kind` (mode 0700 until the caller opens it up), on the file system of `near`,
 * registered with `cleanup` while it exists.
 */
export async function makeScratchDir(
  home: string,
  kind: ScratchKind,
  options: {label?: string; near: string; cleanup?: Cleanup},
): Promise<{dir: string; sameDevice: boolean; forget: () => void}> {
  const {root, sameDevice} = await scratchRootFor(home, options.near)
  const dir = await mkdtemp(path.join(root, scratchPrefix(kind, options.label)))
  const forget = options.cleanup?.add(dir) ?? (() => undefined)
  return {dir, sameDevice, forget}
}

/** A fresh scratch file name (not created) for `kind`, on the file system of `near`. */
export async function scratchFilePath(home: string, kind: ScratchKind, near: string): Promise<{file: string; sameDevice: boolean}> {
  const {root, sameDevice} = await scratchRootFor(home, near)
  return {file: path.join(root, `${scratchPrefix(kind)}${randomBytes(6).toString('hex')}`), sameDevice}
}

export interface ScratchEntry {
  path: string
  kind: string
  owner: Owner
  /** False when the owner is provably dead. */
  alive: boolean
  bytes: number
}

/** Every owned scratch entry (and lock seed file) under the scratch roots, with whether its owner still runs. */
export async function findScratch(home: string, options: {sizes?: boolean} = {}): Promise<ScratchEntry[]> {
  const found: ScratchEntry[] = []
  for (const rel of SCRATCH_ROOTS) {
    const root = path.join(home, rel)
    let names: string[]
    try {
      names = await readdir(root)
    } catch {
      continue
    }
    for (const name of names.sort()) {
      const scratch = SCRATCH_NAME.exec(name)
      const seed = scratch === null ? LOCK_SEED.exec(name) : null
      const owner = ownerFromMatch(scratch ?? seed)
      if (owner === null) continue
      const full = path.join(root, name)
      let bytes = 0
      if (options.sizes) {
        try {
          const st = await lstat(full)
          bytes = st.isDirectory() ? await dirSize(full) : st.size
        } catch {
          continue
        }
      }
      found.push({path: full, kind: scratch?.groups?.kind ?? 'lock-seed', owner, alive: ownerAlive(owner), bytes})
    }
  }
  return found
}

/** Remove the scratch entries of dead processes (never throws: what cannot be removed now is tried next time). */
export async function sweepScratch(home: string): Promise<ScratchEntry[]> {
  const removed: ScratchEntry[] = []
  for (const entry of await findScratch(home)) {
    if (entry.alive) continue
    try {
      await rm(entry.path, {recursive: true, force: true})
      removed.push(entry)
    } catch {
      // not removable now (permissions, a read-only store): tried again next time
    }
  }
  return removed
}

/**
 * Who owns the images bento makes, and which of them a running `bento containerize` holds (issue 15, E12).
 *
 * - **Home identity**: `$BENTOML_HOME/.bento/home-id` holds 16 random hex digits, made once (created whole: a written
 *   file hard-linked into place, so two first runs agree on one id). Images bento makes for this home are tagged under
 *   it (`bento-model.invalid/h<id>/…`, docker/model-image.ts) and labelled with it (`dev.bento.home`): a prune in
 *   this home touches only those, never another home's or another user's images on a shared daemon.
 * - **Leases**: a containerize records the image references it is about to use in
 *   `$BENTOML_HOME/.bento/image-leases/<owner token>.json` before it looks them up or imports them, and removes the
 *   file when it ends. A prune keeps every reference a live lease names; the lease of a process that provably no
 *   longer runs (store/owner.ts) counts for nothing and is removed.
 * - **The image-GC lock** (`.bento/image-gc.lock`) orders the two: a prune decides and removes while holding it, a
 *   containerize writes its lease while holding it. Either the lease is written before the prune looks (the images are
 *   kept) or after the prune is done (the containerize then finds them gone and imports them again).
 */
import {randomBytes} from 'node:crypto'
import {link, mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {isErrno, writeFileAtomic} from './fs-utils.js'
import {type LockOptions, withLock} from './lock.js'
import {currentOwner, OWNER_TOKEN, ownerAlive, ownerFromMatch, ownerToken} from './owner.js'

const ID = /^[0-9a-f]{16}$/

function bentoDir(home: string): string {
  return path.join(home, '.bento')
}

function homeIdFile(home: string): string {
  return path.join(bentoDir(home), 'home-id')
}

/** This home's identity, or null when it has none yet (no image was ever made for it). */
export async function readHomeId(home: string): Promise<string | null> {
  try {
    const text = (await readFile(homeIdFile(home), 'utf8')).trim()
    return ID.test(text) ? text : null
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return null
    throw error
  }
}

/** This home's identity (16 hex digits), made on first use. */
export async function homeId(home: string): Promise<string> {
  const file = homeIdFile(home)
  const read = (): Promise<string | null> => readHomeId(home)
  const existing = await read()
  if (existing !== null) return existing
  await mkdir(bentoDir(home), {recursive: true})
  const id = randomBytes(8).toString('hex')
  const mine = `${file}.${ownerToken()}.${randomBytes(4).toString('hex')}`
  try {
    await writeFile(mine, `${id}\n`, {flag: 'wx'})
    try {
      await link(mine, file)
      return id
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error
    }
  } finally {
    await rm(mine, {force: true})
  }
  // Another process made it first; a file that is not an id (written by hand) is replaced.
  const theirs = await read()
  if (theirs !== null) return theirs
  await writeFileAtomic(file, `${id}\n`)
  return id
}

function leaseDir(home: string): string {
  return path.join(bentoDir(home), 'image-leases')
}

const LEASE_FILE = new RegExp(`^${OWNER_TOKEN}\\.json$`)

/** Hold the image-GC lock of this home while `fn` runs (prune: deciding and removing; containerize: writing a lease). */
export async function withImageGcLock<T>(home: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  return withLock(path.join(bentoDir(home), 'image-gc.lock'), fn, options)
}

/** The image references a running containerize holds: `hold` before using one, `release` at the end. */
export class ImageLease {
  private readonly refs = new Set<string>()
  private readonly file: string
  private released = false

  constructor(private readonly home: string) {
    this.file = path.join(leaseDir(home), `${ownerToken(currentOwner())}.json`)
  }

  get path(): string {
    return this.file
  }

  /** Record `refs` in the lease (under the image-GC lock) before they are looked up, imported or built from. */
  async hold(...refs: string[]): Promise<void> {
    if (this.released) throw new Error('image lease already released')
    const before = this.refs.size
    for (const r of refs) this.refs.add(r)
    if (this.refs.size === before) return
    await mkdir(leaseDir(this.home), {recursive: true})
    await withImageGcLock(this.home, () => writeFileAtomic(this.file, `${JSON.stringify({refs: [...this.refs].sort()})}\n`))
  }

  async release(): Promise<void> {
    this.released = true
    await rm(this.file, {force: true})
  }
}

export interface LeaseFile {
  path: string
  alive: boolean
  refs: string[]
}

/** Every lease file of this home: the references it holds and whether its process may still run. */
export async function readLeases(home: string): Promise<LeaseFile[]> {
  let names: string[]
  try {
    names = await readdir(leaseDir(home))
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return []
    throw error
  }
  const out: LeaseFile[] = []
  for (const name of names.sort()) {
    const owner = ownerFromMatch(LEASE_FILE.exec(name))
    if (owner === null) continue
    const file = path.join(leaseDir(home), name)
    let refs: string[] = []
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as {refs?: unknown}
      if (Array.isArray(parsed.refs)) refs = parsed.refs.filter((r): r is string => typeof r === 'string')
    } catch (error) {
      if (isErrno(error, 'ENOENT')) continue
      // Unreadable: written whole (rename), so only a hand edit; it holds nothing.
    }
    out.push({path: file, alive: ownerAlive(owner), refs})
  }
  return out
}

/**
 * What the next run does about a killed one (SIGKILL, power loss, a crash): remove the scratch entries of dead
 * processes (build and import directories, items on their way out, `latest` temp files) and repair every name
 * whose lock a dead process left (its `latest` may be stale, a `latest.tmp-*` or `.partial-*` may be left). Every
 * command runs it first; it never fails the command (a read-only store is left as it is).
 */
import {readdir} from 'node:fs/promises'
import path from 'node:path'

import {StoreError} from '../errors.js'
import {parseOwnerRecord, ownerAlive} from './owner.js'
import {type ScratchEntry, sweepScratch} from './scratch.js'
import {Store, type StoreKind} from './store.js'
import {readFile} from 'node:fs/promises'

export interface Recovery {
  /** Scratch entries of dead processes that were removed. */
  swept: ScratchEntry[]
  /** `kind/name` of each name repaired after a dead lock. */
  repaired: string[]
}

const LOCK_FILE = /^(?<kind>bentos|models)-(?<name>.+)\.lock$/

/** Lock files under `$BENTOML_HOME/tmp` whose holder is provably dead. */
export async function deadLocks(home: string): Promise<Array<{kind: StoreKind; name: string; path: string}>> {
  const dir = path.join(home, 'tmp')
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  const dead: Array<{kind: StoreKind; name: string; path: string}> = []
  for (const file of names.sort()) {
    const m = LOCK_FILE.exec(file)
    if (m?.groups === undefined) continue
    let owner
    try {
      owner = parseOwnerRecord(await readFile(path.join(dir, file), 'utf8'))
    } catch {
      continue
    }
    if (owner !== null && ownerAlive(owner)) continue
    dead.push({kind: m.groups.kind as StoreKind, name: m.groups.name ?? '', path: path.join(dir, file)})
  }
  return dead
}

export async function recoverHome(home: string): Promise<Recovery> {
  const recovery: Recovery = {swept: [], repaired: []}
  try {
    recovery.swept = await sweepScratch(home)
    for (const lock of await deadLocks(home)) {
      const store = lock.kind === 'bentos' ? Store.bentos(home) : Store.models(home)
      if (await store.recover(lock.name)) recovery.repaired.push(`${lock.kind}/${lock.name}`)
    }
  } catch (error) {
    // Best effort: a store we cannot write (or read) is reported by the command itself, with its own error.
    if (!(error instanceof StoreError) && !isFsError(error)) throw error
  }
  return recovery
}

function isFsError(error: unknown): boolean {
  return typeof (error as NodeJS.ErrnoException | undefined)?.code === 'string'
}

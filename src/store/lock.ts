import {randomBytes} from 'node:crypto'
import {link, mkdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {StoreError} from '../errors.js'
import {isErrno} from './fs-utils.js'
import {currentOwner, type Owner, ownerAlive, ownerRecord, ownerToken, parseOwnerRecord, pidAlive} from './owner.js'

export {pidAlive}

export interface LockOptions {
  /** Give up after this many milliseconds (default 60 s; 0: one attempt). */
  timeoutMs?: number
  /** Poll interval while waiting (default 25 ms). */
  pollMs?: number
  /** A lock file whose content is not an owner record is treated as stale after this age (default 10 s). */
  unreadableStaleMs?: number
}

export interface Lock {
  path: string
  /**
   * True when this acquisition removed a lock left by a dead process: the mutation that process was making
   * (rename into place, `latest` update) may be half done, and the caller repairs it before doing its own.
   */
  recovered: boolean
  release(): Promise<void>
}

type Holder = Owner | null | 'gone'

async function readHolder(file: string): Promise<Holder> {
  try {
    return parseOwnerRecord(await readFile(file, 'utf8'))
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return 'gone'
    throw error
  }
}

function sameOwner(a: Holder, b: Owner): boolean {
  return typeof a === 'object' && a !== null && a.pid === b.pid && a.start === b.start && a.host === b.host && a.boot === b.boot
}

/** Remove the lock file if its holder is provably dead (or it is garbage and old); true when the caller should retry at once. */
async function breakIfStale(file: string, unreadableStaleMs: number): Promise<'retry' | 'broken' | 'held'> {
  const holder = await readHolder(file)
  if (holder === 'gone') return 'retry'
  if (holder === null) {
    // Lock files are created whole (link of a written file), so an unreadable one is garbage; give it time anyway.
    try {
      const age = Date.now() - (await stat(file)).mtimeMs
      if (age < unreadableStaleMs) return 'held'
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return 'retry'
      throw error
    }
    await rm(file, {force: true})
    return 'broken'
  }
  if (ownerAlive(holder)) return 'held'
  // Re-read just before removing so we do not remove a lock someone else has taken meanwhile.
  // (A small window remains between this read and rm; stale locks only exist after a crash.)
  if (sameOwner(await readHolder(file), holder)) {
    await rm(file, {force: true})
    return 'broken'
  }
  return 'retry'
}

/**
 * Take an exclusive lock file holding the owner record (`<pid> <start> <host> <boot>`), created whole: the record is
 * written to a private file first, then hard-linked to the lock name (fails when it exists). Waits while a live
 * process (or another task of this process) holds it; a lock whose holder is provably dead — no such pid, or the pid
 * reused by a process that started later (D19) — is removed at once and `recovered` is set. Throws `StoreError`
 * `E_STORE_LOCKED` after `timeoutMs`.
 */
export async function acquireLock(file: string, options: LockOptions = {}): Promise<Lock> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const pollMs = options.pollMs ?? 25
  const unreadableStaleMs = options.unreadableStaleMs ?? 10_000
  const deadline = Date.now() + timeoutMs
  await mkdir(path.dirname(file), {recursive: true})
  const me = currentOwner()
  let recovered = false
  for (;;) {
    const mine = `${file}.${ownerToken(me)}.${randomBytes(4).toString('hex')}`
    try {
      await writeFile(mine, ownerRecord(me), {flag: 'wx'})
      await link(mine, file)
      let released = false
      return {
        path: file,
        recovered,
        async release() {
          if (released) return
          released = true
          await rm(file, {force: true})
        },
      }
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error
    } finally {
      await rm(mine, {force: true})
    }
    const state = await breakIfStale(file, unreadableStaleMs)
    if (state === 'broken') recovered = true
    if (state !== 'held') continue
    if (Date.now() >= deadline) {
      const holder = await readHolder(file)
      const pid = typeof holder === 'object' && holder !== null ? holder.pid : undefined
      throw new StoreError(`Timed out waiting for the lock ${file}`, {
        code: 'E_STORE_LOCKED',
        hint:
          `Another bento process${pid === undefined ? '' : ` (pid ${pid})`} is writing to the store. ` +
          'Wait for it to finish; a lock left by a process that no longer runs is removed automatically.',
        data: {path: file, pid},
      })
    }
    await sleep(pollMs)
  }
}

/** Run `fn` while holding the lock file; `fn` learns whether a dead holder's lock was broken (see `Lock.recovered`). */
export async function withLock<T>(file: string, fn: (lock: Lock) => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(file, options)
  try {
    return await fn(lock)
  } finally {
    await lock.release()
  }
}

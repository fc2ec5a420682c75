import {mkdir, open, readFile, rm, stat} from 'node:fs/promises'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {StoreError} from '../errors.js'
import {isErrno} from './fs-utils.js'

export interface LockOptions {
  /** Give up after this many milliseconds (default 60 s). */
  timeoutMs?: number
  /** Poll interval while waiting (default 25 ms). */
  pollMs?: number
  /** A lock file whose content is not a pid is treated as stale after this age (default 10 s). */
  unreadableStaleMs?: number
}

export interface Lock {
  path: string
  release(): Promise<void>
}

/** Whether a process with this pid exists (signal 0; EPERM means it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return isErrno(error, 'EPERM')
  }
}

async function readLockPid(file: string): Promise<number | null | 'gone'> {
  try {
    const text = (await readFile(file, 'utf8')).trim()
    return /^\d+$/.test(text) ? Number(text) : null
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return 'gone'
    throw error
  }
}

/** Remove the lock file if it is stale; true when the caller should retry at once. */
async function breakIfStale(file: string, unreadableStaleMs: number): Promise<boolean> {
  const pid = await readLockPid(file)
  if (pid === 'gone') return true
  if (pid === null) {
    // Being written right now, or garbage. Only garbage gets old.
    try {
      const age = Date.now() - (await stat(file)).mtimeMs
      if (age < unreadableStaleMs) return false
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return true
      throw error
    }
  } else if (pidAlive(pid)) {
    return false
  }
  // Re-read just before removing so we do not remove a lock someone else has taken meanwhile.
  // (A small window remains between this read and rm; stale locks only exist after a crash.)
  if ((await readLockPid(file)) === pid) await rm(file, {force: true})
  return true
}

/**
 * Take an exclusive lock file (`open(…, 'wx')` with the pid inside). Waits while another live process (or
 * another task of this process) holds it; a lock whose pid is dead is removed. Throws `StoreError`
 * `E_STORE_LOCKED` after `timeoutMs`.
 */
export async function acquireLock(file: string, options: LockOptions = {}): Promise<Lock> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const pollMs = options.pollMs ?? 25
  const unreadableStaleMs = options.unreadableStaleMs ?? 10_000
  const deadline = Date.now() + timeoutMs
  await mkdir(path.dirname(file), {recursive: true})
  for (;;) {
    try {
      const handle = await open(file, 'wx')
      try {
        await handle.writeFile(String(process.pid))
      } finally {
        await handle.close()
      }
      let released = false
      return {
        path: file,
        async release() {
          if (released) return
          released = true
          await rm(file, {force: true})
        },
      }
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error
    }
    if (await breakIfStale(file, unreadableStaleMs)) continue
    if (Date.now() >= deadline) {
      const holder = await readLockPid(file)
      throw new StoreError(`Timed out waiting for the lock ${file}`, {
        code: 'E_STORE_LOCKED',
        hint:
          `Another bento process${typeof holder === 'number' ? ` (pid ${holder})` : ''} is writing to the store. ` +
          'Wait for it to finish; if no such process runs, delete the lock file.',
        data: {path: file, pid: typeof holder === 'number' ? holder : undefined},
      })
    }
    await sleep(pollMs)
  }
}

/** Run `fn` while holding the lock file. */
export async function withLock<T>(file: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(file, options)
  try {
    return await fn()
  } finally {
    await lock.release()
  }
}

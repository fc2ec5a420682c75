import {spawnSync} from 'node:child_process'
import {readdir, readFile, utimes, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {pathExists} from './fs-utils.js'
import {acquireLock, pidAlive, withLock} from './lock.js'
import {currentOwner, ownerRecord, processStart} from './owner.js'
import {tempDir} from '../../test/helpers/env.js'

function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '0']).pid
  if (pid === undefined) throw new Error('spawn failed')
  return pid
}

describe('lock files', () => {
  it('writes the owner record (pid, start time, host, boot) and removes the file on release', async () => {
    const file = path.join(await tempDir(), 'tmp', 'bentos-iris.lock')
    const lock = await acquireLock(file)
    expect(await readFile(file, 'utf8')).toBe(ownerRecord(currentOwner()))
    expect(lock.recovered).toBe(false)
    await lock.release()
    expect(await pathExists(file)).toBe(false)
    expect(await readdir(path.dirname(file))).toEqual([]) // no seed file left
  })

  it('serializes holders in the same process', async () => {
    const file = path.join(await tempDir(), 'x.lock')
    const events: string[] = []
    const task = (id: string) =>
      withLock(file, async () => {
        events.push(`start ${id}`)
        await new Promise((resolve) => setTimeout(resolve, 30))
        events.push(`end ${id}`)
      })
    await Promise.all([task('a'), task('b'), task('c')])
    for (let i = 0; i < events.length; i += 2) {
      expect(events[i]?.replace('start', '')).toBe(events[i + 1]?.replace('end', ''))
    }
    expect(await pathExists(file)).toBe(false)
  })

  it('breaks a lock whose process is dead', async () => {
    const file = path.join(await tempDir(), 'x.lock')
    const pid = deadPid()
    expect(pidAlive(pid)).toBe(false)
    await writeFile(file, String(pid)) // an older lock file: the pid only
    const lock = await acquireLock(file, {timeoutMs: 1000})
    expect(await readFile(file, 'utf8')).toBe(ownerRecord(currentOwner()))
    expect(lock.recovered).toBe(true)
    await lock.release()
  })

  it('breaks at once a lock whose pid now belongs to another process (started later: D19)', async () => {
    const file = path.join(await tempDir(), 'x.lock')
    // A live pid (our parent) with another start time: the process that wrote the lock is gone, its pid reused.
    await writeFile(file, ownerRecord({...currentOwner(), pid: process.ppid, start: '1'}))
    const started = Date.now()
    const lock = await acquireLock(file, {timeoutMs: 60_000})
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(lock.recovered).toBe(true)
    await lock.release()
  })

  it('leaves alone a lock from another host or pid namespace (it cannot be checked from here)', async () => {
    const file = path.join(await tempDir(), 'x.lock')
    await writeFile(file, ownerRecord({...currentOwner(), pid: 999_999_999, host: 'ffffffff'}))
    await expect(acquireLock(file, {timeoutMs: 100})).rejects.toMatchObject({code: 'E_STORE_LOCKED'})
  })

  it('breaks an old unreadable lock but waits on a fresh one', async () => {
    const file = path.join(await tempDir(), 'x.lock')
    await writeFile(file, '')
    await expect(acquireLock(file, {timeoutMs: 100, unreadableStaleMs: 60_000})).rejects.toMatchObject({
      code: 'E_STORE_LOCKED',
    })
    const old = new Date(Date.now() - 120_000)
    await utimes(file, old, old)
    const lock = await acquireLock(file, {timeoutMs: 1000, unreadableStaleMs: 60_000})
    await lock.release()
  })

  it('times out on a live holder with E_STORE_LOCKED naming the pid', async () => {
    const file = path.join(await tempDir(), 'x.lock')
    const record = ownerRecord({...currentOwner(), pid: process.ppid, start: processStart(process.ppid) ?? '0'})
    await writeFile(file, record)
    const error = await acquireLock(file, {timeoutMs: 100}).catch((e: unknown) => e)
    expect(error).toMatchObject({code: 'E_STORE_LOCKED', data: {pid: process.ppid}})
    expect((error as Error).message).toContain(file)
    expect(await readFile(file, 'utf8')).toBe(record)
  })
})

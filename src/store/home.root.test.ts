/** ensureHome on a real full file system (a tmpfs mount): needs root, so it is in the "needs-root" vitest project. */
import {execFile} from 'node:child_process'
import {mkdir, rm} from 'node:fs/promises'
import path from 'node:path'
import {promisify} from 'node:util'

import {afterAll, describe, expect, it} from 'vitest'

import {StoreError} from '../errors.js'
import {ensureHome} from './home.js'
import {tempDir} from '../../test/helpers/env.js'

describe('ensureHome', () => {
  describe('on a full file system', () => {
    const mounts: string[] = []
    afterAll(async () => {
      for (const dir of mounts) {
        await promisify(execFile)('umount', ['-l', dir])
        await rm(path.dirname(dir), {recursive: true, force: true})
      }
    })

    it('fails with E_DISK_FULL (exit 5) and a hint to free space when a directory cannot be created', async () => {
      // A real tmpfs with a single inode (its root): the first mkdir inside fails with ENOSPC. Needs root.
      const mnt = path.join(await tempDir(), 'full')
      await mkdir(mnt)
      await promisify(execFile)('mount', ['-t', 'tmpfs', '-o', 'size=64k,nr_inodes=1', 'tmpfs', mnt])
      mounts.push(mnt)
      // home exists (a sub directory cannot be made), and a nested home whose parents are missing too
      // (Node's recursive mkdir reports ENOSPC there as ENOENT).
      for (const [home, failing] of [
        [mnt, path.join(mnt, 'bentos')],
        [path.join(mnt, 'a', 'bentoml'), path.join(mnt, 'a', 'bentoml')],
      ] as const) {
        const error = await ensureHome(home).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(StoreError)
        expect(error).toMatchObject({code: 'E_DISK_FULL', exitCode: 5, data: {path: failing}})
        expect((error as StoreError).message).toMatch(/No space left/)
        expect((error as StoreError).message).toContain(failing)
        expect((error as StoreError).message).not.toMatch(/not writable/)
        expect((error as StoreError).hint).toMatch(/free some disk space/)
      }
    })
  })
})

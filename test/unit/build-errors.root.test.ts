/**
 * `bento build` when the store's file system refuses: read-only, out of space, out of inodes. Real tmpfs mounts,
 * so these need root (the "needs-root" vitest project; `.ci/run` runs as root).
 */
import {mkdir, statfs} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {build, expectError, makeProject, Scratch, sh, snapshot, tmpfs, writeModel} from '../helpers/build-inputs.js'

const scratchDirs = new Scratch()
afterAll(async () => {
  await scratchDirs.cleanup()
})
const scratch = (prefix: string): Promise<string> => scratchDirs.dir(prefix)

describe('bento build: store not writable, disk full', () => {
  it('BENTOML_HOME on a read-only file system: E_STORE_NOT_WRITABLE, exit 5, store unchanged', async () => {
    const base = await scratch('bento-ro-')
    const home = join(base, 'home')
    await tmpfs(scratchDirs, home, 'size=1m')
    await writeModel(home)
    for (const d of ['bentos', 'tmp', 'envs']) await mkdir(join(home, d))
    await sh('mount', ['-o', 'remount,ro', home])
    const project = await makeProject({}, join(base, 'proj'))
    const error = expectError(await build(project, home), 'E_STORE_NOT_WRITABLE', 5, /not writable/)
    expect(error.hint).toMatch(/BENTOML_HOME/)
    expect(await snapshot(home)).toEqual({bentos: [], tmp: []})
  })

  it('disk full while copying: E_DISK_FULL, exit 5, nothing under bentos/, no leftover in tmp/', async () => {
    const base = await scratch('bento-full-')
    const home = join(base, 'home')
    await tmpfs(scratchDirs, home, 'size=2m')
    await writeModel(home)
    // 3 MB of project data cannot fit in a 2 MB BENTOML_HOME (the model itself is hard-linked: it needs no space).
    const project = await makeProject(
      {'bentofile.yaml': 'service: "service:svc"\ninclude: ["*.py", "data/*"]\n', 'data/table.bin': Buffer.alloc(3 * 1024 * 1024, 1)},
      join(base, 'proj'),
    )
    const error = expectError(await build(project, home), 'E_DISK_FULL', 5, /No space left/)
    expect(error.hint).toMatch(/free some disk space/)
    expect(await snapshot(home)).toEqual({bentos: [], tmp: []})
  })

  it('no inode left for the build directory: E_DISK_FULL, exit 5', async () => {
    const base = await scratch('bento-inodes-')
    const home = join(base, 'home')
    await tmpfs(scratchDirs, home, 'size=2m')
    await writeModel(home)
    for (const d of ['bentos', 'tmp', 'envs']) await mkdir(join(home, d))
    // Exactly the inodes in use: the next file or directory created in BENTOML_HOME fails with ENOSPC.
    const fs = await statfs(home)
    await sh('mount', ['-o', `remount,nr_inodes=${fs.files - fs.ffree}`, home])
    expect((await statfs(home)).ffree).toBe(0)
    const project = await makeProject({}, join(base, 'proj'))
    const error = expectError(await build(project, home), 'E_DISK_FULL', 5, /No space left/)
    expect(error.hint).toMatch(/free some disk space/)
    expect(await snapshot(home)).toEqual({bentos: [], tmp: []})
  })
})

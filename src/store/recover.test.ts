/**
 * What a killed process leaves, and how the next run proves it dead and cleans up: scratch directories (D5),
 * `latest` left stale with a `latest.tmp-*` (D8), `.partial-*` staging copies (D4), half-done deletes (D3).
 * The kills themselves (real SIGKILLs at random points) are in test/unit/kill.test.ts.
 */
import {spawnSync} from 'node:child_process'
import {lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {beforeEach, describe, expect, it} from 'vitest'

import {currentOwner, type Owner, ownerRecord, ownerToken, processStart} from './owner.js'
import {deadLocks, recoverHome} from './recover.js'
import {findScratch, sweepScratch} from './scratch.js'
import {makeTempDir, Store} from './store.js'
import {writeTree} from '../../test/helpers/files.js'
import {bentoTree, freshHome} from '../../test/helpers/store-fixtures.js'

const T1 = '2025-01-01T00:00:00+00:00'
const T2 = '2025-02-01T00:00:00+00:00'

let home: string
beforeEach(async () => {
  home = await freshHome()
})

function deadOwner(): Owner {
  const pid = spawnSync(process.execPath, ['-e', '0']).pid ?? 0
  return {...currentOwner(), pid, start: '12345'}
}

function liveOwner(): Owner {
  return {...currentOwner(), pid: process.ppid, start: processStart(process.ppid) ?? '0'}
}

async function seedBentos(): Promise<void> {
  await writeTree(path.join(home, 'bentos', 'iris'), {v1: bentoTree('iris', 'v1', T1), v2: bentoTree('iris', 'v2', T2), latest: 'v1'})
}

describe('sweepScratch (D5)', () => {
  it('removes the scratch entries of dead processes only: live ones, other hosts and BentoML-owned dirs stay', async () => {
    const tmp = path.join(home, 'tmp')
    const dead = `bento-${ownerToken(deadOwner())}-build-iris-aaaaaa`
    const reused = `bento-${ownerToken({...liveOwner(), start: '1'})}-import-archive-bbbbbb` // live pid, other start: dead
    const live = `bento-${ownerToken(liveOwner())}-build-iris-cccccc`
    const elsewhere = `bento-${ownerToken({...deadOwner(), host: 'ffffffff'})}-build-iris-dddddd`
    const seed = `bentos-iris.lock.${ownerToken(deadOwner())}.0a1b`
    for (const d of [dead, reused, live, elsewhere, 'bentoml_bento_irisxyz123']) await writeTree(path.join(tmp, d), bentoTree('iris', 'v9', T1))
    await writeFile(path.join(tmp, seed), 'x')
    const found = await findScratch(home, {sizes: true})
    expect(found.map((e) => [path.basename(e.path), e.alive]).sort()).toEqual(
      [
        [dead, false],
        [reused, false],
        [live, true],
        [elsewhere, true],
        [seed, false],
      ].sort(),
    )
    expect(found.find((e) => e.path.endsWith(dead))?.bytes).toBeGreaterThan(0)
    const swept = await sweepScratch(home)
    expect(swept.map((e) => path.basename(e.path)).sort()).toEqual([dead, reused, seed].sort())
    expect((await readdir(tmp)).sort()).toEqual(['bentoml_bento_irisxyz123', elsewhere, live].sort())
  })
})

describe('recoverHome', () => {
  it('repairs latest left stale by a process killed between the rename and the latest update (D8)', async () => {
    await seedBentos()
    const dead = deadOwner()
    const tmpLatest = path.join(home, 'bentos', 'iris', `latest.tmp-${ownerToken(dead)}`)
    await writeFile(tmpLatest, 'v2')
    await writeFile(Store.bentos(home).lockPath('iris'), ownerRecord(dead))
    expect((await deadLocks(home)).map((l) => l.name)).toEqual(['iris'])
    const recovery = await recoverHome(home)
    expect(recovery.repaired).toEqual(['bentos/iris'])
    expect(await readFile(path.join(home, 'bentos', 'iris', 'latest'), 'utf8')).toBe('v2')
    expect((await readdir(path.join(home, 'bentos', 'iris'))).sort()).toEqual(['latest', 'v1', 'v2'])
    expect(await readdir(path.join(home, 'tmp'))).toEqual([])
  })

  it('removes a .partial-* staging copy and the name of a half-done last delete (D3, D4)', async () => {
    await seedBentos()
    await mkdir(path.join(home, 'bentos', 'iris', `.partial-${ownerToken(deadOwner())}-abcdef`, 'src'), {recursive: true})
    await writeTree(path.join(home, 'bentos', 'rose'), {latest: 'v1'}) // its only version was renamed out, then a kill
    const dead = deadOwner()
    await writeFile(Store.bentos(home).lockPath('iris'), ownerRecord(dead))
    await writeFile(Store.bentos(home).lockPath('rose'), ownerRecord(dead))
    await writeTree(path.join(home, 'tmp', `bento-${ownerToken(dead)}-trash-rose-v1-zzzzzz`), {item: bentoTree('rose', 'v1', T1)})
    const recovery = await recoverHome(home)
    expect(recovery.repaired.sort()).toEqual(['bentos/iris', 'bentos/rose'])
    expect(recovery.swept).toHaveLength(1)
    expect((await readdir(path.join(home, 'bentos'))).sort()).toEqual(['iris'])
    expect((await readdir(path.join(home, 'bentos', 'iris'))).sort()).toEqual(['latest', 'v1', 'v2'])
    expect(await readdir(path.join(home, 'tmp'))).toEqual([])
  })

  it('leaves a live holder and its work alone', async () => {
    await seedBentos()
    const lock = Store.bentos(home).lockPath('iris')
    await writeFile(lock, ownerRecord(liveOwner()))
    await writeFile(path.join(home, 'bentos', 'iris', `latest.tmp-${ownerToken(liveOwner())}`), 'v2')
    expect(await recoverHome(home)).toEqual({swept: [], repaired: []})
    expect(await readFile(path.join(home, 'bentos', 'iris', 'latest'), 'utf8')).toBe('v1')
    expect(await readFile(lock, 'utf8')).toBe(ownerRecord(liveOwner()))
  })

  it('never fails the command on a store it cannot change', async () => {
    expect(await recoverHome(path.join(home, 'does', 'not', 'exist'))).toEqual({swept: [], repaired: []})
  })
})

describe('atomic mutations', () => {
  it('delete renames the item out of the store first, and leaves no scratch behind', async () => {
    await seedBentos()
    const bentos = Store.bentos(home)
    const inode = (await stat(path.join(home, 'bentos', 'iris', 'v2'))).ino
    await bentos.delete('iris:v2')
    expect(await readdir(path.join(home, 'bentos', 'iris'))).toEqual(['latest', 'v1'])
    expect(await readFile(path.join(home, 'bentos', 'iris', 'latest'), 'utf8')).toBe('v1')
    expect(await readdir(path.join(home, 'tmp'))).toEqual([])
    expect(inode).toBeGreaterThan(0)
  })

  it('installs with 0755 item directories, as BentoML (D17)', async () => {
    const {dir} = await makeTempDir(home, 'iris')
    await writeTree(dir, bentoTree('iris', 'v1', T1))
    const item = await Store.bentos(home).install(dir, 'iris:v1')
    expect((await stat(item.path)).mode & 0o777).toBe(0o755)
  })

  it('with tmp/ on another file system: builds and stages next to the store, never in bentos/<name>/ (D4)', async () => {
    const elsewhere = await mkdtemp('/dev/shm/bento-test-tmp-')
    try {
      await rm(path.join(home, 'tmp'), {recursive: true})
      await symlink(elsewhere, path.join(home, 'tmp'))
      expect((await stat(path.join(home, 'tmp'))).dev).not.toBe((await stat(path.join(home, 'bentos'))).dev)
      // A build dir goes to $BENTOML_HOME/.bento-tmp (same file system as bentos/): the install is one rename.
      const {dir} = await makeTempDir(home, 'iris')
      expect(path.dirname(dir)).toBe(path.join(home, '.bento-tmp'))
      await writeTree(dir, bentoTree('iris', 'v1', T1))
      await Store.bentos(home).install(dir, 'iris:v1')
      // A directory from anywhere else is copied into .bento-tmp, then renamed.
      const outside = await mkdtemp('/dev/shm/bento-test-src-')
      await writeTree(outside, bentoTree('iris', 'v2', T2))
      await Store.bentos(home).install(outside, 'iris:v2')
      expect((await readdir(path.join(home, 'bentos', 'iris'))).sort()).toEqual(['latest', 'v1', 'v2'])
      expect(await readdir(path.join(home, '.bento-tmp'))).toEqual([])
      expect(await readdir(elsewhere)).toEqual([])
      await Store.bentos(home).delete('iris:v1')
      expect(await readdir(path.join(home, '.bento-tmp'))).toEqual([])
      expect((await lstat(path.join(home, 'bentos', 'iris', 'v2'))).isDirectory()).toBe(true)
    } finally {
      await rm(elsewhere, {recursive: true, force: true})
    }
  })
})

describe('store problems are typed errors (D9)', () => {
  it('latest that is a directory', async () => {
    await seedBentos()
    await rm(path.join(home, 'bentos', 'iris', 'latest'))
    await mkdir(path.join(home, 'bentos', 'iris', 'latest'))
    const bentos = Store.bentos(home)
    await expect(bentos.get('iris')).rejects.toMatchObject({code: 'E_STORE', message: expect.stringContaining('is a directory')})
    await expect(bentos.delete('iris:v1')).rejects.toMatchObject({code: 'E_STORE'})
    const {dir} = await makeTempDir(home, 'iris')
    await writeTree(dir, bentoTree('iris', 'v3', T2))
    await expect(bentos.install(dir, 'iris:v3')).rejects.toMatchObject({code: 'E_STORE'})
    expect((await readdir(path.join(home, 'bentos', 'iris'))).sort()).toEqual(['latest', 'v1', 'v2']) // nothing moved
    expect((await bentos.get('iris:v1')).tag.version).toBe('v1') // an exact version still works
  })

  it('latest that is a symlink loop', async () => {
    await seedBentos()
    await rm(path.join(home, 'bentos', 'iris', 'latest'))
    await symlink('latest', path.join(home, 'bentos', 'iris', 'latest'))
    const bentos = Store.bentos(home)
    await expect(bentos.delete('iris')).rejects.toMatchObject({code: 'E_STORE', message: expect.stringContaining('symbolic link loop')})
    await expect(bentos.delete('iris:v1')).rejects.toMatchObject({code: 'E_STORE'})
    expect((await readdir(path.join(home, 'bentos', 'iris'))).sort()).toEqual(['latest', 'v1', 'v2'])
  })

  it('bentos/<name> that is a file', async () => {
    await writeFile(path.join(home, 'bentos', 'iris'), 'x')
    const {dir} = await makeTempDir(home, 'iris')
    await writeTree(dir, bentoTree('iris', 'v1', T1))
    await expect(Store.bentos(home).install(dir, 'iris:v1')).rejects.toMatchObject({code: 'E_STORE_NOT_A_DIRECTORY'})
    await expect(Store.bentos(home).get('iris')).rejects.toMatchObject({code: 'E_BENTO_NOT_FOUND'})
    expect(await Store.bentos(home).list()).toEqual([])
  })
})

/**
 * Readers vs delete (E8): `bento export` and `bento containerize` read a stored Bento for seconds to minutes; a
 * `bento delete` of that version meanwhile waits for them (bounded), and a reader left by a killed process never
 * holds it.
 */
import {spawnSync} from 'node:child_process'
import {readdir, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {beforeEach, describe, expect, it} from 'vitest'

import {pathExists} from './fs-utils.js'
import {currentOwner, type Owner, ownerToken} from './owner.js'
import {liveReaders} from './readers.js'
import {recoverHome} from './recover.js'
import {type BentoStore, Store, withBentoReader} from './store.js'
import {writeTree} from '../../test/helpers/files.js'
import {bentoTree, freshHome} from '../../test/helpers/store-fixtures.js'

const T1 = '2025-01-01T00:00:00+00:00'
const T2 = '2025-02-01T00:00:00+00:00'

let home: string
let bentos: BentoStore

beforeEach(async () => {
  home = await freshHome()
  bentos = Store.bentos(home)
  await writeTree(path.join(home, 'bentos', 'iris'), {v1: bentoTree('iris', 'v1', T1), v2: bentoTree('iris', 'v2', T2), latest: 'v2'})
})

function deadOwner(): Owner {
  const pid = spawnSync(process.execPath, ['-e', '0']).pid ?? 0
  return {...currentOwner(), pid, start: '12345'}
}

const exists = (version: string) => pathExists(path.join(home, 'bentos', 'iris', version))

describe('readers vs delete', () => {
  it('delete waits for a reader of that version, then deletes it', async () => {
    const reader = await bentos.openReader('iris:v1', {purpose: 'export'})
    expect(reader.item.tag).toEqual({name: 'iris', version: 'v1'})
    expect((await liveReaders(home, 'bentos', {name: 'iris', version: 'v1'})).map((r) => r.purpose)).toEqual(['export'])
    let deleted = false
    const deleting = bentos.delete('iris:v1', {readers: {timeoutMs: 10_000, pollMs: 10}}).then(() => (deleted = true))
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(deleted).toBe(false)
    expect(await exists('v1')).toBe(true)
    await reader.release()
    await deleting
    expect(await exists('v1')).toBe(false)
    expect(await liveReaders(home, 'bentos', {name: 'iris', version: 'v1'})).toEqual([])
  })

  it('delete gives up with E_STORE_LOCKED naming the reader; the Bento stays whole', async () => {
    const reader = await bentos.openReader('iris:v1', {purpose: 'containerize'})
    await expect(bentos.delete('iris:v1', {readers: {timeoutMs: 100, pollMs: 10}})).rejects.toMatchObject({
      code: 'E_STORE_LOCKED',
      message: expect.stringContaining(`pid ${process.pid}, containerize`) as unknown,
      data: {tag: 'iris:v1', readers: [{pid: process.pid, purpose: 'containerize'}]},
    })
    expect(await exists('v1')).toBe(true)
    expect((await bentos.get('iris:v1')).info.version).toBe('v1')
    await reader.release()
    await bentos.delete('iris:v1', {readers: {timeoutMs: 0}})
    expect(await exists('v1')).toBe(false)
  })

  it('a reader of another version does not hold a delete', async () => {
    const reader = await bentos.openReader('iris:v2', {purpose: 'export'})
    await bentos.delete('iris:v1', {readers: {timeoutMs: 0}})
    expect(await exists('v1')).toBe(false)
    await reader.release()
  })

  it('a reader left by a killed process does not hold a delete, and the next run sweeps it', async () => {
    const file = path.join(home, 'tmp', `bento-${ownerToken(deadOwner())}-read-iris-v1-0a1b2c3d`)
    await writeFile(file, 'bentos iris:v1 export\n')
    expect(await liveReaders(home, 'bentos', {name: 'iris', version: 'v1'})).toEqual([])
    await bentos.delete('iris:v1', {readers: {timeoutMs: 0}})
    expect(await exists('v1')).toBe(false)
    expect((await recoverHome(home)).swept.map((e) => e.path)).toEqual([file])
  })

  it('opening a reader of a version that is gone is E_BENTO_NOT_FOUND, and leaves no reader behind', async () => {
    await bentos.delete('iris:v1')
    await expect(bentos.openReader('iris:v1', {purpose: 'export'})).rejects.toMatchObject({code: 'E_BENTO_NOT_FOUND'})
    expect(await readdir(path.join(home, 'tmp'))).toEqual([])
  })

  it('withBentoReader releases the reader when the work fails, and resolves name:latest once', async () => {
    await expect(
      withBentoReader(home, 'iris', 'containerize', async (bento) => {
        expect(bento.tag.version).toBe('v2')
        expect(await liveReaders(home, 'bentos', bento.tag)).toHaveLength(1)
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await liveReaders(home, 'bentos', {name: 'iris', version: 'v2'})).toEqual([])
    expect(await readdir(path.join(home, 'tmp'))).toEqual([])
  })

  it('a release registered with the cleanup list is forgotten once released', async () => {
    const registered: string[] = []
    const reader = await bentos.openReader('iris:v1', {
      purpose: 'export',
      cleanup: {
        add: (p) => {
          registered.push(p)
          return () => registered.splice(registered.indexOf(p), 1)
        },
      },
    })
    expect(registered).toHaveLength(1)
    expect(registered[0]).toContain('-read-iris-v1-')
    await reader.release()
    expect(registered).toEqual([])
  })
})

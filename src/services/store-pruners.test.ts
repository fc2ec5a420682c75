import {spawnSync} from 'node:child_process'
import {mkdir, readdir, readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {beforeEach, describe, expect, it} from 'vitest'

import {memoryReporter} from '../reporter.js'
import {currentOwner, type Owner, ownerRecord, ownerToken, processStart} from '../store/owner.js'
import {Store} from '../store/store.js'
import {writeTree} from '../../test/helpers/files.js'
import {bentoTree, freshHome} from '../../test/helpers/store-fixtures.js'
import {DEFAULT_PRUNERS, prune} from './prune.js'
import {STORE_PRUNERS} from './store-pruners.js'

const T1 = '2025-01-01T00:00:00+00:00'
const T2 = '2025-02-01T00:00:00+00:00'

let home: string
beforeEach(async () => {
  home = await freshHome()
})

const dead = (): Owner => ({...currentOwner(), pid: spawnSync(process.execPath, ['-e', '0']).pid ?? 0, start: '7'})
const live = (): Owner => ({...currentOwner(), pid: process.ppid, start: processStart(process.ppid) ?? '0'})

/** What killed runs leave: a build dir, a stale lock with latest left behind, a latest.tmp, a .partial copy. */
async function leftovers(): Promise<void> {
  await writeTree(path.join(home, 'bentos', 'iris'), {
    v1: bentoTree('iris', 'v1', T1),
    v2: bentoTree('iris', 'v2', T2),
    latest: 'v1',
    [`latest.tmp-${ownerToken(dead())}`]: 'v2',
    [`.partial-${ownerToken(dead())}-abcdef`]: bentoTree('iris', 'v3', T2),
  })
  await writeFile(Store.bentos(home).lockPath('iris'), ownerRecord(dead()))
  await writeTree(path.join(home, 'tmp', `bento-${ownerToken(dead())}-build-iris-qwerty`), bentoTree('iris', 'v4', T2))
  await writeTree(path.join(home, 'tmp', `bento-${ownerToken(live())}-build-rose-asdfgh`), bentoTree('rose', 'v1', T2))
  await mkdir(path.join(home, 'tmp', 'bentoml_bento_rose1234'), {recursive: true}) // BentoML's own: never touched
}

const noDocker = (): never => {
  throw new Error('the store pruners never talk to Docker')
}

const run = (dryRun: boolean) => prune({home, dryRun, client: noDocker, reporter: memoryReporter(), pruners: STORE_PRUNERS})

describe('store pruners', () => {
  it('come first in bento prune', () => {
    expect(DEFAULT_PRUNERS.map((p) => p.name).slice(0, 3)).toEqual(['store-locks', 'store-name-leftovers', 'store-scratch'])
  })

  it('report in a dry run and change nothing', async () => {
    await leftovers()
    const before = [await readdir(path.join(home, 'tmp')), await readdir(path.join(home, 'bentos', 'iris'))]
    const result = await run(true)
    expect(result.removed).toEqual([])
    expect(result.found.map((i) => i.pruner)).toEqual(['store-locks', 'store-name-leftovers', 'store-name-leftovers', 'store-scratch'])
    expect(result.found.find((i) => i.pruner === 'store-scratch')?.id).toMatch(/-build-iris-qwerty$/)
    expect(result.found.find((i) => i.pruner === 'store-scratch')?.bytes).toBeGreaterThan(0)
    expect([await readdir(path.join(home, 'tmp')), await readdir(path.join(home, 'bentos', 'iris'))]).toEqual(before)
  })

  it('remove what dead processes left, repair latest, keep what a live process owns and BentoML’s own', async () => {
    await leftovers()
    const result = await run(false)
    // The stale lock goes first and its repair takes the name's temp files with it.
    expect(result.removed.map((i) => i.pruner)).toEqual(['store-locks', 'store-scratch'])
    expect((await readdir(path.join(home, 'bentos', 'iris'))).sort()).toEqual(['latest', 'v1', 'v2'])
    expect(await readFile(path.join(home, 'bentos', 'iris', 'latest'), 'utf8')).toBe('v2')
    expect((await readdir(path.join(home, 'tmp'))).sort()).toEqual([`bento-${ownerToken(live())}-build-rose-asdfgh`, 'bentoml_bento_rose1234'].sort())
    expect((await run(false)).found).toEqual([])
  })
})

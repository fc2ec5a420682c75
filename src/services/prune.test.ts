import {rename, rm} from 'node:fs/promises'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {FakeImageClient, type FakeImageClientOptions} from '../docker/fake-client.js'
import type {ImageInfo} from '../docker/image-client.js'
import {modelImageLabels, modelImageRef} from '../docker/model-image.js'
import {wheelhouseImageLabels, wheelhouseImageRef} from '../docker/wheelhouse-image.js'
import {homeId, ImageLease} from '../store/image-leases.js'
import {currentPlace} from '../store/owner.js'
import {DockerUnavailableError} from '../errors.js'
import {memoryReporter} from '../reporter.js'
import {tempDir} from '../../test/helpers/env.js'
import {modelManifest} from '../bento/model-digest.js'
import {prune, type Pruner} from './prune.js'

describe('bento prune', () => {
  let home: string
  let wheels: string
  beforeEach(async () => {
    home = await tempDir('bento-prune-')
    wheels = await tempDir('bento-prune-wheels-')
  })
  afterEach(async () => {
    await rm(home, {recursive: true, force: true})
    await rm(wheels, {recursive: true, force: true})
  })

  // This home's id, another home's, and the namespaces they name images under.
  const OTHER = 'ffffffffffffffff'
  let mine: string
  type Extra = Array<Partial<ImageInfo> & {id: string; repoTags: string[]}>
  const images = async (extra: (mine: string) => Extra = () => [], failures: FakeImageClientOptions['failures'] = {}): Promise<FakeImageClient> => {
    mine = await homeId(home)
    const model = (name: string, homeOf = mine): Record<string, string> => modelImageLabels({name, version: 'v1', manifestKey: 'k', size: 1, homeId: homeOf})
    const wheelhouse = async (source: string, homeOf = mine): Promise<Record<string, string>> =>
      wheelhouseImageLabels({manifestKey: source === wheels ? (await modelManifest(wheels)).key : 'x', size: 1, dir: source, homeId: homeOf})
    return new FakeImageClient({
      images: [
        {id: 'sha256:used', repoTags: [modelImageRef('used', 'v1', mine)], labels: model('used'), size: 100},
        {id: 'sha256:unused', repoTags: [modelImageRef('unused', 'v1', mine)], labels: model('unused'), size: 200},
        {id: 'sha256:bento', repoTags: ['iris:1'], labels: {'dev.bento.tag': 'iris:1', 'dev.bento.models': 'other:v1,used:v1'}, size: 999},
        {id: 'sha256:someone-else', repoTags: ['python:3.11-slim'], labels: {}, size: 50},
        {id: 'sha256:wh-gone', repoTags: [wheelhouseImageRef('gone', mine)], labels: await wheelhouse('/nonexistent/wheels'), size: 300},
        {id: 'sha256:wh-current', repoTags: [wheelhouseImageRef('current', mine)], labels: await wheelhouse(wheels), size: 400},
        ...extra(mine),
      ],
      failures,
    })
  }

  it('Ctrl-C (the signal aborted) stops a prune before its next removal: E_INTERRUPTED, exit 130; each item removed whole or left', async () => {
    const controller = new AbortController()
    const removedIds: string[] = []
    const three: Pruner = {
      name: 'three',
      summary: 'three items',
      find: async () => ['a', 'b', 'c'].map((id) => ({pruner: 'three', id, description: id, bytes: 1})),
      remove: async (_ctx, item) => {
        removedIds.push(item.id)
        controller.abort(new Error('interrupted by SIGINT')) // the first Ctrl-C arrives while `a` is removed
      },
    }
    const never: Pruner = {name: 'never', summary: 'never reached', find: async () => expect.unreachable('the next pruner ran'), remove: async () => undefined}
    const client = await images()
    await expect(prune({home, client: () => client, reporter: memoryReporter(), pruners: [three, never], signal: controller.signal})).rejects.toMatchObject({
      code: 'E_INTERRUPTED',
      exitCode: 130,
    })
    expect(removedIds).toEqual(['a'])
  })

  it('--dry-run finds model images no Bento image uses and stale wheelhouse images, removes nothing', async () => {
    const client = await images()
    const r = await prune({home, client: () => client, reporter: memoryReporter(), dryRun: true})
    expect(r.found.map((i) => i.id)).toEqual([modelImageRef('unused', 'v1', mine), wheelhouseImageRef('gone', mine)])
    expect(r.removed).toEqual([])
    expect((await client.list()).length).toBe(6)
  })

  it('removes them, and only them', async () => {
    const client = await images()
    const r = await prune({home, client: () => client, reporter: memoryReporter()})
    expect(r.removed.map((i) => i.id)).toEqual([modelImageRef('unused', 'v1', mine), wheelhouseImageRef('gone', mine)])
    expect(r.bytes).toBe(500)
    expect((await client.list()).map((i) => i.repoTags[0]).sort()).toEqual(
      [modelImageRef('used', 'v1', mine), wheelhouseImageRef('current', mine), 'iris:1', 'python:3.11-slim'].sort(),
    )
  })

  it("E12: another home's and pre-home (bento-model/…) images are never selected; --all-homes selects them", async () => {
    const theirs = modelImageLabels({name: 'theirs', version: 'v1', manifestKey: 'k', size: 1, homeId: OTHER})
    const legacy = modelImageLabels({name: 'old', version: 'v1', manifestKey: 'k', size: 1})
    const client = await images(() => [
      {id: 'sha256:theirs', repoTags: [modelImageRef('theirs', 'v1', OTHER)], labels: theirs, size: 1024},
      {id: 'sha256:old', repoTags: ['bento-model/old:v1'], labels: legacy, size: 7},
    ])
    const r = await prune({home, client: () => client, reporter: memoryReporter(), dryRun: true, only: ['model-images']})
    expect(r.found.map((i) => i.id)).toEqual([modelImageRef('unused', 'v1', mine)])
    const all = await prune({home, client: () => client, reporter: memoryReporter(), dryRun: true, only: ['model-images'], allHomes: true})
    expect(all.found.map((i) => i.id).sort()).toEqual([modelImageRef('unused', 'v1', mine), modelImageRef('theirs', 'v1', OTHER), 'bento-model/old:v1'].sort())
  })

  it('E12: a model image another home tagged too is untagged here and kept for that home; its bytes count where the last tag goes', async () => {
    const client = await images()
    await client.tag('sha256:unused', modelImageRef('unused', 'v1', OTHER))
    const r = await prune({home, client: () => client, reporter: memoryReporter(), only: ['model-images']})
    expect(r.removed.map((i) => [i.id, i.bytes])).toEqual([[modelImageRef('unused', 'v1', mine), 0]])
    expect((await client.inspect('sha256:unused'))?.repoTags).toEqual([modelImageRef('unused', 'v1', OTHER)])
  })

  it('E12: a model image a running containerize of this home holds (its lease) is kept; a dead run\'s lease holds nothing', async () => {
    const client = await images()
    const lease = new ImageLease(home)
    await lease.hold(modelImageRef('unused', 'v1', mine))
    const held = await prune({home, client: () => client, reporter: memoryReporter(), only: ['model-images']})
    expect(held.removed).toEqual([])
    // A lease file of a process that is gone (pid 1 started at another time: provably not a containerize).
    const leases = path.join(home, '.bento', 'image-leases')
    await rename(lease.path, path.join(leases, `1-1-${currentPlace().host}-${currentPlace().boot}.json`))
    const r = await prune({home, client: () => client, reporter: memoryReporter()})
    expect(r.removed.map((i) => i.id)).toEqual([expect.stringMatching(/image-leases\/1-1-/), modelImageRef('unused', 'v1', mine), wheelhouseImageRef('gone', mine)])
  })

  it("E11: untagged model images (<none>:<none>) of this home are removed by ID; another home's are not", async () => {
    const labels = (homeOf: string): Record<string, string> => modelImageLabels({name: 'unused', version: 'v1', manifestKey: 'old', size: 1, homeId: homeOf})
    const client = await images((me) => [
      // What dockerd 20.10 (API 1.41) lists for an untagged image, and what older APIs list.
      {id: 'sha256:dangling-mine', repoTags: ['<none>:<none>'], labels: labels(me), size: 5},
      {id: 'sha256:dangling-theirs', repoTags: [], labels: labels(OTHER), size: 6},
    ])
    const r = await prune({home, client: () => client, reporter: memoryReporter(), only: ['model-images']})
    expect(r.removed.map((i) => i.id).sort()).toEqual(['sha256:dangling-mine', modelImageRef('unused', 'v1', mine)].sort())
    expect(await client.inspect('sha256:dangling-theirs')).not.toBeNull()
  })

  it('a model image a container uses (the daemon answers 409) is kept with a warning, and the prune goes on', async () => {
    const client = await images(() => [], {
      remove: Object.assign(new Error('conflict: unable to delete (must be forced) - image is being used by stopped container'), {statusCode: 409}),
    })
    const reporter = memoryReporter()
    const r = await prune({home, client: () => client, reporter, only: ['model-images']})
    expect(r.removed).toEqual([])
    expect(r.skipped).toEqual([{pruner: 'model-images', reason: expect.stringContaining('image is being used')}])
  })

  it('a home that never made an image owns none: a prune from an empty home selects nothing', async () => {
    const client = await images()
    const empty = await tempDir('bento-prune-empty-')
    try {
      const r = await prune({home: empty, client: () => client, reporter: memoryReporter(), dryRun: true})
      expect(r.found).toEqual([])
    } finally {
      await rm(empty, {recursive: true, force: true})
    }
  })

  it('an unreachable daemon skips the image pruners (the others still run); --only picks pruners', async () => {
    const ran: string[] = []
    const store: Pruner = {name: 'store-temp', summary: 'x', find: async () => (ran.push('store-temp'), []), remove: async () => undefined}
    const down = new FakeImageClient({failures: {list: new DockerUnavailableError('no daemon')}})
    const r = await prune({home, client: () => down, reporter: memoryReporter(), pruners: [store, {...(await import('./prune.js')).modelImagePruner}]})
    expect(ran).toEqual(['store-temp'])
    expect(r.skipped).toEqual([{pruner: 'model-images', reason: 'no daemon'}])
    await expect(prune({home, client: () => down, reporter: memoryReporter(), only: ['nope']})).rejects.toMatchObject({code: 'E_USAGE'})
  })
})

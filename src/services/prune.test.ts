import {rm} from 'node:fs/promises'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {FakeImageClient} from '../docker/fake-client.js'
import {modelImageLabels} from '../docker/model-image.js'
import {DockerUnavailableError} from '../errors.js'
import {memoryReporter} from '../reporter.js'
import {tempDir} from '../store/testing.js'
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

  const images = async (): Promise<FakeImageClient> => {
    const model = (name: string): Record<string, string> => modelImageLabels({name, version: 'v1', manifestKey: 'k', size: 1})
    return new FakeImageClient({
      images: [
        {id: 'sha256:used', repoTags: ['bento-model/used:v1'], labels: model('used'), size: 100},
        {id: 'sha256:unused', repoTags: ['bento-model/unused:v1'], labels: model('unused'), size: 200},
        {id: 'sha256:bento', repoTags: ['iris:1'], labels: {'dev.bento.tag': 'iris:1', 'dev.bento.models': 'other:v1,used:v1'}, size: 999},
        {id: 'sha256:someone-else', repoTags: ['python:3.11-slim'], labels: {}, size: 50},
        {
          id: 'sha256:wh-gone',
          repoTags: ['bento-wheelhouse:gone'],
          labels: {'dev.bento.kind': 'wheelhouse', 'dev.bento.wheelhouse.source': '/nonexistent/wheels', 'dev.bento.wheelhouse.manifest': 'x'},
          size: 300,
        },
        {
          id: 'sha256:wh-current',
          repoTags: ['bento-wheelhouse:current'],
          labels: {'dev.bento.kind': 'wheelhouse', 'dev.bento.wheelhouse.source': wheels, 'dev.bento.wheelhouse.manifest': (await modelManifest(wheels)).key},
          size: 400,
        },
      ],
    })
  }

  it('--dry-run finds model images no Bento image uses and stale wheelhouse images, removes nothing', async () => {
    const client = await images()
    const r = await prune({home, client: () => client, reporter: memoryReporter(), dryRun: true})
    expect(r.found.map((i) => i.id)).toEqual(['bento-model/unused:v1', 'bento-wheelhouse:gone'])
    expect(r.removed).toEqual([])
    expect((await client.list()).length).toBe(6)
  })

  it('removes them, and only them', async () => {
    const client = await images()
    const r = await prune({home, client: () => client, reporter: memoryReporter()})
    expect(r.removed.map((i) => i.id)).toEqual(['bento-model/unused:v1', 'bento-wheelhouse:gone'])
    expect(r.bytes).toBe(500)
    expect((await client.list()).map((i) => i.repoTags[0]).sort()).toEqual(['bento-model/used:v1', 'bento-wheelhouse:current', 'iris:1', 'python:3.11-slim'])
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

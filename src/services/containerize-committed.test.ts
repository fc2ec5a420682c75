/**
 * Committed model layers (issue 18, P5; docker/model-image.ts): a Bento whose models reach `commitModelsFrom` is built
 * in two engine builds with the model layers committed between them, against the in-memory FakeImageClient. The real
 * engine: test/e2e/big-model.docker.test.ts (its 512 MiB model is above the default) and
 * containerize-platform.docker.test.ts (both platforms, same model layer).
 */
import {readdir, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {FakeImageClient} from '../docker/fake-client.js'
import {memoryReporter} from '../reporter.js'
import {writeModel} from '../../test/helpers/build-inputs.js'
import {containerizeOptions, makeStoredBento, STORED_HOME_ID, storedBentoYaml} from '../../test/helpers/stored-bento.js'
import {COMMIT_MODELS_FROM, containerize, type ContainerizeOptions, parseCommitModelsFrom} from './containerize.js'
import {prune} from './prune.js'

const COMMITTED = new RegExp(`^bento-model\\.invalid/h${STORED_HOME_ID}/assembled/models:[0-9a-f]{32}$`)

describe('containerize: big models committed onto the dependency image (fake image client)', () => {
  let home: string
  let bento: string

  beforeEach(async () => {
    ;({home, bento} = await makeStoredBento('bento-czc-', {setupScript: true, modelBytes: 64}))
  })

  afterEach(async () => {
    await rm(home, {recursive: true, force: true})
  })

  const opts = (client: FakeImageClient, over: Partial<ContainerizeOptions> = {}): ContainerizeOptions =>
    containerizeOptions(home, client, {commitModelsFrom: 1, ...over})

  it('builds the deps stage, commits the model layer onto it, builds code and metadata FROM the result: no model image, no model byte in a context', async () => {
    const client = new FakeImageClient()
    const r = await containerize(opts(client))
    expect(client.imports).toEqual([])
    expect(client.builds).toHaveLength(2)
    const [deps, rest] = client.builds as [(typeof client.builds)[0], (typeof client.builds)[0]]
    // 1. The dependency stage: untagged, unlabelled (the Bento image's labels are its own), up to the Python install.
    expect(deps.tags).toEqual([])
    expect(deps.labels).toEqual({})
    // Each reads its part at .bento-split.Dockerfile; env/docker/Dockerfile, the image's copy, is the whole one.
    expect(deps.dockerfile).toBe('.bento-split.Dockerfile')
    expect(rest.dockerfile).toBe('.bento-split.Dockerfile')
    expect(rest.contents['env/docker/Dockerfile']).toContain('# bento: the model layers are committed here')
    const depsFile = deps.contents['.bento-split.Dockerfile']!
    expect(depsFile).toMatch(/^FROM python:3\.11-slim AS base-container$/m)
    expect(depsFile).toContain('install.sh')
    expect(depsFile).not.toMatch(/ENTRYPOINT|LABEL|\.\/src|setup_script/)
    // 2. The model layer: the model layer tar's entries, committed onto the deps image, tagged for reuse.
    expect(client.commits).toHaveLength(1)
    const commit = client.commits[0]!
    const depsId = (await client.list()).find((i) => i.repoTags.length === 0)?.id
    expect(commit.base).toBe(depsId)
    expect(commit.tag).toMatch(COMMITTED)
    expect(commit.files).toContain('home/bentoml/bento/models/iris_clf/m1/saved_model.pkl')
    expect(commit.files).toContain('home/bentoml/bento/models/iris_clf/latest')
    expect(commit.createdBy).toBe('bento: model iris_clf:m1 in /home/bentoml/bento/models/iris_clf/m1')
    // 3. Code and metadata FROM it, tagged and labelled as the one-build image.
    expect(rest.tags).toEqual(['iris:v1'])
    expect(rest.labels).toMatchObject({'dev.bento.tag': 'iris:v1', 'dev.bento.models': 'iris_clf:m1'})
    const restFile = rest.contents['.bento-split.Dockerfile']!
    expect(restFile).toMatch(new RegExp(`^FROM ${commit.tag!.replaceAll('.', '\\.')}$`, 'm'))
    expect(restFile.match(/^FROM /gm)).toHaveLength(1)
    expect(restFile).not.toContain('install.sh')
    for (const b of [deps, rest]) expect(b.files.filter((f) => f.startsWith('models'))).toEqual([])
    expect(r.modelImages).toEqual([{model: 'iris_clf:m1', image: commit.tag, built: true, contextBytes: expect.any(Number)}])
    expect(r.modelImages[0]!.contextBytes).toBeGreaterThan(64)
    expect(r.contextBytes).toBeGreaterThan(0)
  })

  it('the two Dockerfiles are the one-build Dockerfile split at the models: the same instructions, in the same order', async () => {
    const one = new FakeImageClient()
    await containerize(opts(one, {commitModelsFrom: Number.MAX_SAFE_INTEGER}))
    const whole = one.builds[0]!.contents['env/docker/Dockerfile']!
    const two = new FakeImageClient()
    await containerize(opts(two))
    const [deps, rest] = two.builds.map((b) => b.contents['.bento-split.Dockerfile']!) as [string, string]
    const instructions = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))
    // The one-build file less its model COPY, against deps + rest less rest's FROM.
    expect([...instructions(deps), ...instructions(rest).slice(1)]).toEqual(instructions(whole).filter((l) => !l.startsWith('COPY --from=bento-model.invalid/')))
  })

  it('reuses the committed image for the same deps image and models (nothing committed); a requirements change and --no-cache commit again', async () => {
    const client = new FakeImageClient()
    const first = await containerize(opts(client))
    const again = await containerize(opts(client))
    expect(client.commits).toHaveLength(1)
    expect(again.modelImages).toEqual([{model: 'iris_clf:m1', image: first.modelImages[0]!.image, built: false, contextBytes: 0}])
    expect(client.builds[3]!.contents['.bento-split.Dockerfile']).toContain(`FROM ${first.modelImages[0]!.image}\n`)

    await writeFile(join(bento, 'env/python/requirements.txt'), 'bentoml==1.4.15\nnumpy\n')
    const changed = await containerize(opts(client))
    expect(client.commits).toHaveLength(2)
    expect(changed.modelImages[0]!.built).toBe(true)
    expect(changed.modelImages[0]!.image).not.toBe(first.modelImages[0]!.image)
    // The same entries on another deps image: the same layer (the real daemon's diff ID too: big-model e2e).
    expect(client.commits[1]!.files).toEqual(client.commits[0]!.files)
    const layerOf = async (ref: string): Promise<string | undefined> => (await client.inspect(ref))?.diffIds.at(-1)
    expect(await layerOf(changed.modelImages[0]!.image)).toBe(await layerOf(first.modelImages[0]!.image))

    const fresh = await containerize(opts(client, {noCache: true}))
    expect(fresh.modelImages[0]!.built).toBe(true)
    expect(client.commits).toHaveLength(3)
  })

  it('two models: one layer each, the first untagged under the second, in the order of bento.yaml', async () => {
    await writeModel(home, {name: 'tok', version: 't1', bytes: 32})
    await writeFile(join(bento, 'bento.yaml'), storedBentoYaml({models: ['iris_clf:m1', 'tok:t1'], setupScript: true}))
    const client = new FakeImageClient()
    const r = await containerize(opts(client))
    expect(client.commits.map((c) => c.createdBy)).toEqual([
      'bento: model iris_clf:m1 in /home/bentoml/bento/models/iris_clf/m1',
      'bento: model tok:t1 in /home/bentoml/bento/models/tok/t1',
    ])
    expect(client.commits[0]!.tag).toBeUndefined()
    expect(client.commits[1]!.base).not.toBe(client.commits[0]!.base)
    const top = await client.inspect(client.commits[1]!.tag!)
    expect(top?.diffIds).toHaveLength(2)
    expect(r.modelImages.map((m) => [m.model, m.image])).toEqual([
      ['iris_clf:m1', client.commits[1]!.tag],
      ['tok:t1', client.commits[1]!.tag],
    ])
  })

  it('keeps model images below the threshold (default 256 MiB) and with a docker.dockerfile_template', async () => {
    expect(COMMIT_MODELS_FROM).toBe(256 * 2 ** 20)
    const small = new FakeImageClient()
    await containerize(opts(small, {commitModelsFrom: undefined}))
    expect(small.commits).toEqual([])
    expect(small.imports).toHaveLength(1)
    expect(small.builds).toHaveLength(1)

    await writeFile(join(bento, 'env/docker/Dockerfile.template'), '{% extends bento_base_template %}\n')
    const templated = new FakeImageClient()
    await containerize(opts(templated))
    expect(templated.commits).toEqual([])
    expect(templated.imports).toHaveLength(1)
  })

  it('E12: a prune while the code is built keeps the committed image (lease); once no Bento image is built on it, prune removes it', async () => {
    const client = new FakeImageClient()
    const build = client.build.bind(client)
    let during: string[] | undefined
    client.build = async (o) => {
      if (o.tags.length > 0) during = (await prune({home, client: () => client, reporter: memoryReporter(), only: ['committed-models']})).found.map((i) => i.id)
      return build(o)
    }
    const r = await containerize(opts(client))
    expect(during).toEqual([])
    expect(await readdir(join(home, '.bento/image-leases'))).toEqual([])
    const ref = r.modelImages[0]!.image
    // The fake's Bento image has no layers of its own: nothing is built on the committed image, so prune takes it.
    const after = await prune({home, client: () => client, reporter: memoryReporter(), only: ['committed-models']})
    expect(after.removed.map((i) => i.id)).toEqual([ref])
    expect(await client.inspect(ref)).toBeNull()
  })

  it('BENTO_COMMIT_MODELS_FROM: a byte count with K, M or G; anything else is a usage error', () => {
    expect(parseCommitModelsFrom(undefined)).toBeUndefined()
    expect(parseCommitModelsFrom('0')).toBe(0)
    expect(parseCommitModelsFrom('256M')).toBe(256 * 2 ** 20)
    expect(parseCommitModelsFrom('2GiB')).toBe(2 * 2 ** 30)
    expect(() => parseCommitModelsFrom('lots')).toThrow(/BENTO_COMMIT_MODELS_FROM=lots is not a size/)
  })
})

/**
 * The containerize service against the in-memory FakeImageClient: what reaches the daemon (tags, labels,
 * Dockerfile, context files), model lookup, push and failures — fast, no Docker. The real engine is
 * exercised by test/e2e/containerize.test.ts.
 */
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {DockerBuildError, DockerUnavailableError} from '../errors.js'
import {FakeImageClient} from '../docker/fake-client.js'
import {memoryReporter} from '../reporter.js'
import {containerize, type ContainerizeOptions} from './containerize.js'

const MODEL_YAML = `name: iris_clf
version: m1
module: bentoml.sklearn
labels: {}
options: {}
metadata: {}
context:
  framework_name: sklearn
  framework_versions:
    scikit-learn: 1.5.2
  bentoml_version: 1.4.15
  python_version: 3.11.7
signatures: {}
api_version: v1
creation_time: '2025-05-30T10:11:12.123456+00:00'
`

const bentoYaml = (extraDocker = ''): string => `service: 'service:svc'
name: 'iris'
version: 'v1'
bentoml_version: '1.4.15'
creation_time: '2025-05-30T10:20:30.123456+00:00'
labels:
  owner: 'me'
models:
- tag: 'iris_clf:m1'
  module: 'bentoml.sklearn'
  creation_time: '2025-05-30T10:11:12.123456+00:00'
envs:
- name: 'MODE'
  value: 'prod'
spec: 1
docker:
  distro: 'debian'
  python_version: '3.11'
  cuda_version: null
  env: null
  system_packages: null
  setup_script: null
  base_image: null
  dockerfile_template: null
${extraDocker}`

describe('containerize service (fake image client)', () => {
  let home: string
  let bento: string

  const write = async (rel: string, content: string): Promise<void> => {
    await mkdir(join(rel, '..'), {recursive: true})
    await writeFile(rel, content)
  }

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'bento-cz-'))
    bento = join(home, 'bentos/iris/v1')
    await write(join(bento, 'bento.yaml'), bentoYaml())
    await write(join(bento, 'README.md'), '# Iris\n\nClassifies flowers.\n')
    await write(join(bento, 'src/service.py'), 'import bentoml\n')
    await write(join(bento, 'env/python/requirements.txt'), 'bentoml==1.4.15\n')
    await write(join(bento, 'env/python/install.sh'), '#!/bin/bash\n')
    await write(join(bento, 'env/docker/entrypoint.sh'), '#!/bin/sh\n')
    await write(join(bento, 'apis/openapi.yaml'), '{}\n')
    await write(join(home, 'bentos/iris/latest'), 'v1')
    // The model only in the global store (a Bento from `bentoml build` has no models/ inside).
    await write(join(home, 'models/iris_clf/m1/model.yaml'), MODEL_YAML)
    await write(join(home, 'models/iris_clf/m1/saved_model.pkl'), 'pickle')
    await write(join(home, 'models/iris_clf/latest'), 'm1')
  })

  afterEach(async () => {
    await rm(home, {recursive: true, force: true})
  })

  const opts = (client: FakeImageClient, over: Partial<ContainerizeOptions> = {}): ContainerizeOptions => ({
    home,
    tag: 'iris:latest',
    imageTags: [],
    push: false,
    client,
    dockerConfigDir: join(home, 'no-docker-config'),
    reporter: memoryReporter(),
    ...over,
  })

  it('tags the image NAME:VERSION by default, labels it, and puts models from the global store into the context', async () => {
    const client = new FakeImageClient()
    const r = await containerize(opts(client))
    expect(r.tags).toEqual(['iris:v1'])
    expect(r.bento).toBe('iris:v1')
    const b = client.builds[0]!
    expect(b.tags).toEqual(['iris:v1'])
    expect(b.labels).toMatchObject({
      'dev.bento.tag': 'iris:v1',
      'dev.bento.models': 'iris_clf:m1',
      'dev.bento.labels.owner': 'me',
      'org.opencontainers.image.description': 'Classifies flowers.',
    })
    expect(b.files).toContain('models/iris_clf/m1/saved_model.pkl')
    expect(b.files).toContain('src/service.py')
    expect(b.dockerfile).toBe('env/docker/Dockerfile')
    const dockerfile = b.contents['env/docker/Dockerfile']!
    expect(dockerfile).toMatch(/^FROM python:3\.11-slim AS base-container$/m)
    expect(dockerfile).toMatch(/ENV MODE=/)
    expect(dockerfile).not.toMatch(/build-essential/)
    // models before code: the model layer survives code edits
    expect(dockerfile.indexOf('./models')).toBeLessThan(dockerfile.indexOf('./src'))
  })

  it('offline: the wheelhouse goes into the context and pip gets --no-index', async () => {
    const wheels = join(home, 'wheels')
    await write(join(wheels, 'x-1.0-py3-none-any.whl'), 'whl')
    const client = new FakeImageClient()
    await containerize(opts(client, {wheelhouse: wheels, compilers: true}))
    const b = client.builds[0]!
    expect(b.files).toContain('.bento-wheelhouse/x-1.0-py3-none-any.whl')
    expect(b.contents['env/docker/Dockerfile']).toMatch(/BENTO_PIP_OFFLINE=1/)
    expect(b.contents['env/docker/Dockerfile']).toMatch(/build-essential/)
  })

  it('a model neither in the Bento nor in the store is E_MODEL_NOT_FOUND before any build', async () => {
    await rm(join(home, 'models'), {recursive: true})
    const client = new FakeImageClient()
    await expect(containerize(opts(client))).rejects.toMatchObject({code: 'E_MODEL_NOT_FOUND', exitCode: 4})
    expect(client.builds).toHaveLength(0)
  })

  it('rejects invalid image references and --push without a registry', async () => {
    const client = new FakeImageClient()
    await expect(containerize(opts(client, {imageTags: ['Iris:Dev']}))).rejects.toMatchObject({code: 'E_USAGE'})
    await expect(containerize(opts(client, {imageTags: ['iris:dev'], push: true}))).rejects.toMatchObject({code: 'E_USAGE'})
    expect(client.builds).toHaveLength(0)
  })

  it('refuses distros and conda environments it cannot build, before any build', async () => {
    await writeFile(join(bento, 'bento.yaml'), bentoYaml().replace("distro: 'debian'", "distro: 'alpine'"))
    const client = new FakeImageClient()
    await expect(containerize(opts(client))).rejects.toMatchObject({code: 'E_USAGE', message: expect.stringMatching(/alpine/)})
    await writeFile(join(bento, 'bento.yaml'), `${bentoYaml()}conda:\n  environment_yml: null\n  channels: null\n  dependencies:\n  - 'numpy'\n  pip: null\n`)
    await expect(containerize(opts(client))).rejects.toMatchObject({code: 'E_USAGE', message: expect.stringMatching(/conda/)})
    expect(client.builds).toHaveLength(0)
  })

  it('pushes registry tags and reports the digest', async () => {
    const client = new FakeImageClient()
    const r = await containerize(opts(client, {imageTags: ['127.0.0.1:5000/iris:dev'], push: true}))
    expect(client.pushes.map((p) => p.ref)).toEqual(['127.0.0.1:5000/iris:dev'])
    expect(r.digest).toMatch(/^sha256:/)
    expect(r.pushed).toEqual([{tag: '127.0.0.1:5000/iris:dev', digest: r.digest}])
  })

  it('passes daemon and build failures through as typed errors', async () => {
    const down = new FakeImageClient({failures: {ping: new DockerUnavailableError('no daemon')}})
    await expect(containerize(opts(down))).rejects.toMatchObject({code: 'E_DOCKER_UNAVAILABLE', exitCode: 7})
    const failing = new FakeImageClient({
      failures: {build: new DockerBuildError('RUN failed', {code: 'E_DOCKER_BUILD_STEP', data: {step: 'RUN x'}})},
    })
    await expect(containerize(opts(failing))).rejects.toMatchObject({code: 'E_DOCKER_BUILD_STEP', exitCode: 8})
  })

  it('reports which steps came from the cache', async () => {
    const client = new FakeImageClient({
      buildEvents: [
        {type: 'step', step: '[2/9] RUN install.sh'},
        {type: 'cached', step: '[2/9] RUN install.sh'},
        {type: 'step', step: '[9/9] COPY ./src ./src/'},
      ],
    })
    const r = await containerize(opts(client))
    expect(r.steps).toEqual([
      {step: '[2/9] RUN install.sh', cached: true},
      {step: '[9/9] COPY ./src ./src/', cached: false},
    ])
  })
})
